//! RiskSentinel tests: every rule at and around its threshold, halts lifting on the next
//! UTC day's session open (not the same day), resets, trims, the second-line order check,
//! refused inputs, snapshot restore, and property tests that no order passing the gate
//! exceeds the cap.

use maxx_events::{BusEvent, CommandKind, FixedPoint, RiskEvent, RiskEventKind, RiskState, SessionEventKind, Severity, Side};
use proptest::prelude::*;

use super::{gate, views, RiskConfig, RiskSentinel, RiskSentinelState, REFERENCE_PRICE_META};
use crate::config::AgentConfig;
use crate::contract::Agent;
use crate::portfolio::fixtures::{accept, command, fill, fp, governor, order, pnl, refusals_leave_no_trace, run, session, tick, DAY_US};

const T0: i64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
const HOUR: i64 = 3_600_000_000;

fn sentinel() -> RiskSentinel {
    RiskSentinel::new(RiskConfig::default())
}

fn states(outputs: &[BusEvent]) -> Vec<&RiskState> {
    outputs.iter().filter_map(|e| if let BusEvent::RiskState(s) = e { Some(s) } else { None }).collect()
}

fn events(outputs: &[BusEvent]) -> Vec<&RiskEvent> {
    outputs.iter().filter_map(|e| if let BusEvent::RiskEvent(r) = e { Some(r) } else { None }).collect()
}

fn kinds(outputs: &[BusEvent]) -> Vec<RiskEventKind> {
    events(outputs).iter().map(|e| e.kind).collect()
}

fn published(s: &RiskSentinel) -> RiskState {
    let fields = s.state().published.clone().expect("a state was published");
    let time = maxx_events::EventTime::from_micros(T0);
    fields.to_event(maxx_events::EventId::at(time, [0; 10]), time, crate::portfolio::fixtures::producer("risk_sentinel"))
}

/// A sentinel that saw a day start at 100 000 and then `equity`.
fn after_drawdown(equity: &str) -> (RiskSentinel, Vec<BusEvent>) {
    let mut s = sentinel();
    accept(&mut s, &pnl(T0 + HOUR, "100000"));
    let outputs = accept(&mut s, &pnl(T0 + 2 * HOUR, equity));
    (s, outputs)
}

#[test]
fn the_first_pnl_publishes_the_state_and_inputs_that_change_nothing_publish_nothing() {
    let mut s = sentinel();
    assert!(accept(&mut s, &tick(T0, "BTCUSD", "100", None)).is_empty(), "no state before the first pnl");
    let outputs = accept(&mut s, &pnl(T0 + 1, "100000"));
    let [state] = states(&outputs)[..] else { panic!("one state: {outputs:?}") };
    assert_eq!(
        (state.equity, state.day_start_equity, state.drawdown_pct, state.halted, state.killed, state.kelly_fraction, state.max_trade_risk),
        (fp("100000"), fp("100000"), FixedPoint::ZERO, false, false, fp("0.5"), fp("300"))
    );
    assert_eq!(state.limits, RiskConfig::default().limits());
    assert!(accept(&mut s, &pnl(T0 + 2, "100000")).is_empty(), "same fields");
    assert!(accept(&mut s, &tick(T0 + 3, "BTCUSD", "101", None)).is_empty());
    let moved = accept(&mut s, &pnl(T0 + 4, "99000"));
    assert_eq!(states(&moved)[0].drawdown_pct, fp("1"));
    assert_eq!(states(&moved)[0].max_trade_risk, fp("297"));
}

#[test]
fn a_drawdown_of_4_99_or_exactly_5_percent_trades_and_5_01_halts() {
    for (equity, halts) in [("95010", false), ("95000", false), ("94999.99999999", true), ("94990", true)] {
        let (s, outputs) = after_drawdown(equity);
        let state = published(&s);
        assert_eq!(state.halted, halts, "equity {equity}");
        assert_eq!(kinds(&outputs).contains(&RiskEventKind::DrawdownHalt), halts, "equity {equity}");
        assert_eq!(gate::pre_trade(Some(&state), fp("10"), false).is_ok(), !halts, "new trades at {equity}");
        assert!(gate::pre_trade(Some(&state), fp("10"), true).is_ok(), "reducing trades always pass");
        assert!(!state.killed);
    }
    let (_, outputs) = after_drawdown("94990");
    let halt = events(&outputs)[0];
    assert_eq!((halt.severity, halt.value, halt.limit), (Severity::Critical, Some(fp("5.01")), Some(fp("5"))));
    assert!(matches!(outputs[0], BusEvent::RiskState(_)), "the state goes out before the events");
}

#[test]
fn the_hard_kill_fires_strictly_past_its_limit_and_stops_all_but_reducing_orders() {
    for (equity, kills) in [("93010", false), ("93000", false), ("92990", true)] {
        let (s, outputs) = after_drawdown(equity);
        let state = published(&s);
        assert!(state.halted, "past 5 % anyway");
        assert_eq!(state.killed, kills, "equity {equity}");
        // The Kelly clamp tightens too (past 2.5 %), reported once the state is known.
        let expected = if kills {
            vec![RiskEventKind::DrawdownHalt, RiskEventKind::HardKill, RiskEventKind::KellyClamp]
        } else {
            vec![RiskEventKind::DrawdownHalt, RiskEventKind::KellyClamp]
        };
        assert_eq!(kinds(&outputs), expected, "equity {equity}");
    }
    let (s, _) = after_drawdown("92990");
    let state = published(&s);
    assert_eq!(gate::pre_trade(Some(&state), fp("1"), false), Err(gate::Blocked::Killed));
    assert_eq!(gate::pre_trade(Some(&state), fp("1"), true), Ok(()));
}

#[test]
fn slippage_at_the_limit_passes_and_past_it_is_a_warning() {
    let mut s = sentinel();
    accept(&mut s, &pnl(T0, "100000"));
    assert!(accept(&mut s, &fill(T0 + 1, "BTCUSD", Side::Buy, "1", "150", "0")).is_empty(), "no tick yet: no reference");
    accept(&mut s, &tick(T0 + 2, "BTCUSD", "100.05", Some(("99.9", "100.1")))); // mid 100, limit 0.2 %
    for (side, price, breach) in [
        (Side::Buy, "100.2", false),
        (Side::Buy, "100.20000001", true),
        (Side::Sell, "99.8", false),
        (Side::Sell, "99.79999999", true),
        (Side::Buy, "99", false),
        (Side::Sell, "101", false),
    ] {
        let outputs = accept(&mut s, &fill(T0 + 3, "BTCUSD", side, "0.1", price, "0"));
        assert_eq!(kinds(&outputs) == [RiskEventKind::SlippageBreach], breach, "{side:?} at {price}");
    }
    let outputs = accept(&mut s, &fill(T0 + 4, "BTCUSD", Side::Buy, "0.1", "100.5", "0"));
    let breach = events(&outputs)[0];
    assert_eq!(
        (breach.severity, breach.value, breach.limit, breach.symbol.as_deref(), breach.order_id.as_deref()),
        (Severity::Warning, Some(fp("0.5")), Some(fp("0.2")), Some("BTCUSD"), Some(format!("o-{}", T0 + 4).as_str()))
    );
}

#[test]
fn kelly_tightens_past_its_drawdown_for_the_rest_of_the_day_and_the_governor_caps_it() {
    let mut s = sentinel();
    accept(&mut s, &pnl(T0, "100000"));
    assert!(accept(&mut s, &pnl(T0 + 1, "97500")).iter().all(|e| !matches!(e, BusEvent::RiskEvent(_))), "exactly 2.5 %: no clamp");
    assert_eq!(published(&s).kelly_fraction, fp("0.5"));
    let outputs = accept(&mut s, &pnl(T0 + 2, "97499.99"));
    assert_eq!(published(&s).kelly_fraction, fp("0.25"));
    let clamp = events(&outputs)[0];
    assert_eq!((clamp.kind, clamp.value, clamp.limit), (RiskEventKind::KellyClamp, Some(fp("0.25")), Some(fp("0.5"))));
    accept(&mut s, &pnl(T0 + 3, "100000"));
    assert_eq!(published(&s).kelly_fraction, fp("0.25"), "stays tight for the day after a recovery");
    accept(&mut s, &pnl(T0 + DAY_US, "100000"));
    assert_eq!(published(&s).kelly_fraction, fp("0.5"), "a new day starts loose");
    let outputs = accept(&mut s, &governor(T0 + DAY_US + 1, Some("0.1")));
    assert_eq!((published(&s).kelly_fraction, kinds(&outputs)), (fp("0.1"), vec![RiskEventKind::KellyClamp]));
    assert!(accept(&mut s, &governor(T0 + DAY_US + 2, None)).is_empty(), "None leaves the clamp");
    let outputs = accept(&mut s, &governor(T0 + DAY_US + 3, Some("0.9")));
    assert_eq!((published(&s).kelly_fraction, kinds(&outputs)), (fp("0.5"), vec![]), "the governor only caps; loosening is no event");
}

#[test]
fn a_halt_lifts_at_a_session_open_of_a_later_utc_day_not_the_same_day() {
    let (mut s, _) = after_drawdown("94000");
    assert!(published(&s).halted);
    assert!(accept(&mut s, &session(T0 + 20 * HOUR, SessionEventKind::Open)).is_empty(), "same day open");
    assert!(published(&s).halted);
    let next_day = accept(&mut s, &pnl(T0 + DAY_US + HOUR, "94000"));
    assert_eq!((published(&s).halted, published(&s).drawdown_pct, published(&s).day_start_equity), (true, FixedPoint::ZERO, fp("94000")), "{next_day:?}");
    assert!(accept(&mut s, &session(T0 + DAY_US + 2 * HOUR, SessionEventKind::Close)).is_empty(), "a close lifts nothing");
    let opened = accept(&mut s, &session(T0 + DAY_US + 3 * HOUR, SessionEventKind::Open));
    assert_eq!(kinds(&opened), [RiskEventKind::HaltReset]);
    assert!(!states(&opened)[0].halted && states(&opened)[0].halt_reason.is_none());
    assert_eq!(gate::pre_trade(Some(&published(&s)), fp("10"), false), Ok(()));
}

#[test]
fn a_halt_renewed_by_a_new_days_drawdown_waits_for_the_following_day() {
    let (mut s, _) = after_drawdown("94000");
    accept(&mut s, &pnl(T0 + DAY_US, "94000")); // day 2 starts at 94 000
    accept(&mut s, &pnl(T0 + DAY_US + HOUR, "89000")); // 5.3 % down again on day 2
    assert!(accept(&mut s, &session(T0 + DAY_US + 2 * HOUR, SessionEventKind::Open)).is_empty(), "day 2 is not later than day 2");
    assert!(published(&s).halted);
    let opened = accept(&mut s, &session(T0 + 2 * DAY_US + HOUR, SessionEventKind::Open));
    assert_eq!(kinds(&opened), [RiskEventKind::HaltReset]);
}

#[test]
fn a_hard_kill_survives_the_next_day_and_only_a_reset_lifts_it() {
    let (mut s, _) = after_drawdown("90000");
    accept(&mut s, &pnl(T0 + DAY_US, "90000"));
    assert!(accept(&mut s, &session(T0 + DAY_US + HOUR, SessionEventKind::Open)).is_empty());
    assert!(published(&s).killed && published(&s).halted);
    assert!(accept(&mut s, &command(T0 + DAY_US + 2 * HOUR, "execution", CommandKind::RiskReset, None)).is_empty(), "not for us");
    let reset = accept(&mut s, &command(T0 + DAY_US + 3 * HOUR, "risk_sentinel", CommandKind::RiskReset, None));
    assert_eq!(kinds(&reset), [RiskEventKind::HaltReset]);
    let state = published(&s);
    assert_eq!((state.killed, state.halted, state.day_start_equity, state.drawdown_pct), (false, false, fp("90000"), FixedPoint::ZERO));
    // The reset rebased the day: a further 5.01 % from 90 000 halts again.
    let outputs = accept(&mut s, &pnl(T0 + DAY_US + 4 * HOUR, "85491"));
    assert_eq!(kinds(&outputs), [RiskEventKind::DrawdownHalt, RiskEventKind::KellyClamp]);
}

#[test]
fn a_reset_also_lifts_a_plain_halt_the_same_day() {
    let (mut s, _) = after_drawdown("94000");
    let reset = accept(&mut s, &command(T0 + 3 * HOUR, "risk_sentinel", CommandKind::RiskReset, None));
    assert_eq!(kinds(&reset), [RiskEventKind::HaltReset]);
    assert!(!published(&s).halted);
}

#[test]
fn a_trim_raises_an_exposure_trim_and_bad_fractions_are_refused() {
    let mut s = sentinel();
    accept(&mut s, &pnl(T0, "100000"));
    let outputs = accept(&mut s, &command(T0 + 1, "risk_sentinel", CommandKind::RiskTrim, Some("0.5")));
    let trim = events(&outputs)[0];
    assert_eq!((trim.kind, trim.value, trim.symbol.clone()), (RiskEventKind::ExposureTrim, Some(fp("0.5")), None));
    assert!(states(&outputs).is_empty(), "a trim changes no risk field");
    assert_eq!(kinds(&accept(&mut s, &command(T0 + 2, "risk_sentinel", CommandKind::RiskTrim, Some("1")))), [RiskEventKind::ExposureTrim]);
    let before = s.state().clone();
    for fraction in [None, Some("0"), Some("1.00000001"), Some("-0.5")] {
        assert!(run(&mut s, &command(T0 + 3, "risk_sentinel", CommandKind::RiskTrim, fraction)).is_err(), "{fraction:?}");
    }
    assert!(run(&mut s, &command(T0 + 3, "risk_sentinel", CommandKind::Sweep, None)).is_err());
    assert_eq!(s.state(), &before);
}

#[test]
fn routed_orders_that_fail_the_gate_are_reported() {
    let mut s = sentinel();
    let blind = accept(&mut s, &order(T0, "BTCUSD", Side::Buy, "1", Some("1")));
    assert_eq!(kinds(&blind), [RiskEventKind::OrderBlocked], "no risk state yet");
    accept(&mut s, &pnl(T0 + 1, "100000")); // cap 300
    accept(&mut s, &tick(T0 + 2, "BTCUSD", "100", Some(("101", "103"))));
    assert!(accept(&mut s, &order(T0 + 3, "BTCUSD", Side::Buy, "3", None)).is_empty(), "300 at the last price (not the mid 102): at the cap");
    let over = accept(&mut s, &order(T0 + 4, "BTCUSD", Side::Buy, "3.00000001", None));
    let blocked = events(&over)[0];
    assert_eq!((blocked.kind, blocked.severity, blocked.value, blocked.limit), (RiskEventKind::OrderBlocked, Severity::Critical, Some(fp("300.000001")), Some(fp("300"))));
    assert_eq!(kinds(&accept(&mut s, &order(T0 + 5, "BTCUSD", Side::Buy, "1", Some("300.01")))), [RiskEventKind::OrderBlocked], "limit price is the reference");
    let mut priced = order(T0 + 6, "BTCUSD", Side::Buy, "2", Some("100"));
    if let BusEvent::Order(o) = &mut priced {
        o.meta.insert(REFERENCE_PRICE_META.into(), "151".into());
    }
    assert_eq!(kinds(&accept(&mut s, &priced)), [RiskEventKind::OrderBlocked], "Execution's reference price wins");
    // Halted: a new order is reported, an order reducing the long the fills built is not.
    accept(&mut s, &fill(T0 + 7, "BTCUSD", Side::Buy, "2", "100", "0"));
    accept(&mut s, &pnl(T0 + 8, "94000"));
    assert_eq!(kinds(&accept(&mut s, &order(T0 + 9, "BTCUSD", Side::Buy, "1", None))), [RiskEventKind::OrderBlocked]);
    assert!(accept(&mut s, &order(T0 + 10, "BTCUSD", Side::Sell, "2", None)).is_empty(), "reduce-only passes a halt");
    assert_eq!(kinds(&accept(&mut s, &order(T0 + 11, "BTCUSD", Side::Sell, "2.5", None))), [RiskEventKind::OrderBlocked], "past flat is not reducing");
}

#[test]
fn a_flattening_order_read_after_its_own_fill_still_counts_as_reducing() {
    let mut s = sentinel();
    accept(&mut s, &pnl(T0, "100000"));
    accept(&mut s, &tick(T0 + 1, "BTCUSD", "100", None));
    let BusEvent::Order(buy) = order(T0 + 2, "BTCUSD", Side::Buy, "2", None) else { unreachable!() };
    accept(&mut s, &buy.clone().into());
    accept(&mut s, &fill(T0 + 2, "BTCUSD", Side::Buy, "2", "100", "0")); // same order id o-<T0+2>
    accept(&mut s, &pnl(T0 + 3, "90000")); // hard kill
    // Execution flattens with order o-<T0+4>; its fill is read before the order.
    accept(&mut s, &fill(T0 + 4, "BTCUSD", Side::Sell, "2", "100", "0"));
    assert!(accept(&mut s, &order(T0 + 4, "BTCUSD", Side::Sell, "2", None)).is_empty(), "judged against the position before its fill");
    assert!(s.state().fills_ahead_of_order.is_empty(), "nothing left held back");
    assert!(accept(&mut s, &buy.into()).is_empty(), "an order delivered twice is judged once");
    assert_eq!(kinds(&accept(&mut s, &order(T0 + 5, "BTCUSD", Side::Sell, "1", None))), [RiskEventKind::OrderBlocked], "flat now: a sell opens a short");
}

#[test]
fn invalid_inputs_are_refused_and_leave_the_state_unchanged() {
    let mut s = sentinel();
    accept(&mut s, &pnl(T0, "100000"));
    accept(&mut s, &tick(T0 + 1, "BTCUSD", "100", None));
    let before = s.state().clone();
    let mut bad_meta = order(T0 + 2, "BTCUSD", Side::Buy, "1", None);
    if let BusEvent::Order(o) = &mut bad_meta {
        o.meta.insert(REFERENCE_PRICE_META.into(), "cheap".into());
    }
    for event in [
        fill(T0 + 2, "BTCUSD", Side::Buy, "0", "100", "0"),
        fill(T0 + 2, "BTCUSD", Side::Buy, "1", "-100", "0"),
        tick(T0 + 2, "BTCUSD", "0", None),
        order(T0 + 2, "BTCUSD", Side::Buy, "0", None),
        order(T0 + 2, "BTCUSD", Side::Buy, "1", Some("0")),
        bad_meta,
        governor(T0 + 2, Some("1.5")),
        governor(T0 + 2, Some("-0.1")),
    ] {
        assert!(run(&mut s, &event).is_err(), "{event:?} should be refused");
        assert_eq!(s.state(), &before);
    }
}

#[test]
fn new_limits_take_effect_and_are_published_at_the_next_input() {
    let mut s = sentinel();
    accept(&mut s, &pnl(T0, "100000"));
    let mut config = AgentConfig::default();
    config.risk.max_trade_risk_pct = fp("1");
    Agent::reconfigure(&mut s, &config);
    let outputs = accept(&mut s, &tick(T0 + 1, "BTCUSD", "100", None));
    assert_eq!((states(&outputs)[0].max_trade_risk, states(&outputs)[0].limits.max_trade_risk_pct), (fp("1000"), fp("1")));
}

#[test]
fn a_restored_snapshot_continues_identically_and_the_view_reflects_it() {
    let inputs = [
        pnl(T0, "100000"),
        tick(T0 + 1, "BTCUSD", "100", Some(("99", "101"))),
        fill(T0 + 2, "BTCUSD", Side::Buy, "1", "100.5", "0"),
        pnl(T0 + 3, "97000"),
        governor(T0 + 4, Some("0.2")),
        pnl(T0 + 5, "94000"),
        order(T0 + 6, "BTCUSD", Side::Buy, "1", None),
        session(T0 + 7, SessionEventKind::Open),
        pnl(T0 + DAY_US, "94500"),
        session(T0 + DAY_US + 1, SessionEventKind::Open),
        fill(T0 + DAY_US + 2, "BTCUSD", Side::Sell, "1", "99", "0"),
        order(T0 + DAY_US + 3, "BTCUSD", Side::Buy, "9", None),
    ];
    let mut whole = sentinel();
    let all: Vec<BusEvent> = inputs.iter().flat_map(|e| accept(&mut whole, e)).collect();
    let mut first = sentinel();
    let mut outputs: Vec<BusEvent> = inputs[..6].iter().flat_map(|e| accept(&mut first, e)).collect();
    let snapshot = serde_json::to_string(first.state()).expect("serializes");
    let mut second = sentinel();
    second.restore(serde_json::from_str::<RiskSentinelState>(&snapshot).expect("deserializes"));
    outputs.extend(inputs[6..].iter().flat_map(|e| accept(&mut second, e)));
    assert_eq!(outputs, all);
    assert_eq!(second.state(), whole.state());
    let view = views::state(whole.state());
    let risk = view.risk.expect("published");
    assert_eq!((risk.halted, risk.kelly_fraction, view.governor_kelly_clamp), (false, fp("0.2"), Some(fp("0.2"))));
    assert!(serde_json::to_string(&views::state(whole.state())).expect("serializes").contains("\"kelly_tightened\":false"));
    assert!(kinds(&all).contains(&RiskEventKind::HaltReset) && kinds(&all).contains(&RiskEventKind::SlippageBreach));
}

/// `notional ≤ equity × pct ÷ 100`, up to the half-unit the published cap is rounded by,
/// decided in `i128` independently of the code under test.
fn within_cap(notional: FixedPoint, equity: FixedPoint, pct: FixedPoint) -> bool {
    let scale = i128::from(FixedPoint::SCALE);
    // notional ≤ equity·pct/100 + 0.5 ulp  ⇔  2·notional·100·scale ≤ 2·equity·pct + 100·scale
    2 * i128::from(notional.abs().raw()) * 100 * scale <= 2 * i128::from(equity.raw()) * i128::from(pct.raw()) + 100 * scale
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the state, an order the gate lets through is within the cap, and only a
    /// reducing order passes a halt or a kill.
    #[test]
    fn the_gate_never_passes_an_order_over_the_cap(
        equity in 1..1_000_000_000_000_000i64,
        pct in 0..10_000_000_000i64,
        notional in -1_000_000_000_000_000i64..1_000_000_000_000_000,
        halted in any::<bool>(), killed in any::<bool>(), reduces in any::<bool>(),
    ) {
        let (equity, pct, notional) = (FixedPoint::from_raw(equity), FixedPoint::from_raw(pct), FixedPoint::from_raw(notional));
        let mut s = RiskSentinel::new(RiskConfig { max_trade_risk_pct: pct, ..RiskConfig::default() });
        accept(&mut s, &pnl(T0, &equity.to_string()));
        let mut risk = published(&s);
        risk.halted = halted;
        risk.killed = killed;
        if gate::pre_trade(Some(&risk), notional, reduces).is_ok() {
            prop_assert!(within_cap(notional, equity, pct));
            prop_assert!(reduces || !(halted || killed));
        }
    }

    /// Over random equities and orders, the sentinel reports exactly the orders that fail
    /// the gate against the state it last published, and every order it does not report is
    /// within the cap of the latest equity.
    #[test]
    fn the_sentinel_reports_exactly_the_orders_over_the_cap(
        steps in proptest::collection::vec((any::<bool>(), 90_000i64..110_000, 1..1_000_000_000i64), 1..40),
    ) {
        let mut s = sentinel();
        accept(&mut s, &tick(T0, "BTCUSD", "100", None));
        let mut equity = None;
        for (n, (is_pnl, units, qty)) in steps.into_iter().enumerate() {
            let time = T0 + 1 + n as i64;
            if is_pnl {
                equity = Some(FixedPoint::from_raw(units * FixedPoint::SCALE));
                accept(&mut s, &pnl(time, &units.to_string()));
                continue;
            }
            let qty = FixedPoint::from_raw(qty);
            let risk = s.state().published.clone();
            let outputs = accept(&mut s, &order(time, "BTCUSD", Side::Buy, &qty.to_string(), None));
            let reported = kinds(&outputs) == [RiskEventKind::OrderBlocked];
            let notional = qty.checked_mul(fp("100")).expect("small");
            let risk_event = risk.map(|f| f.to_event(maxx_events::EventId::at(maxx_events::EventTime::from_micros(time), [0; 10]), maxx_events::EventTime::from_micros(time), crate::portfolio::fixtures::producer("r")));
            prop_assert_eq!(reported, gate::pre_trade(risk_event.as_ref(), notional, false).is_err());
            if !reported {
                let equity = equity.expect("nothing passes before the first pnl");
                let halted = risk_event.is_some_and(|r| r.halted);
                prop_assert!(!halted);
                prop_assert!(within_cap(notional, equity, RiskConfig::default().max_trade_risk_pct));
            }
        }
    }
}

/// Portfolio's pnl fed straight into the sentinel: 10 bought at 1 000 out of 100 000, then
/// marks that lose 4 999 (4.999 %: trades) and 5 001 (5.001 %: halts).
#[test]
fn portfolio_pnl_drives_the_halt_at_the_threshold() {
    use crate::portfolio::{Portfolio, PortfolioConfig};
    let mut portfolio = Portfolio::new(PortfolioConfig { starting_cash: fp("100000"), ..PortfolioConfig::default() });
    let mut s = sentinel();
    let mut feed = |event: BusEvent| -> Vec<BusEvent> {
        accept(&mut portfolio, &event).iter().flat_map(|pnl| accept(&mut s, pnl)).collect()
    };
    feed(fill(T0, "BTCUSD", Side::Buy, "10", "1000", "0"));
    let trades = feed(tick(T0 + 1, "BTCUSD", "500.1", None));
    assert_eq!((states(&trades)[0].equity, states(&trades)[0].drawdown_pct, states(&trades)[0].halted), (fp("95001"), fp("4.999"), false));
    let halts = feed(tick(T0 + 2, "BTCUSD", "499.9", None));
    assert_eq!((states(&halts)[0].equity, states(&halts)[0].drawdown_pct, states(&halts)[0].halted), (fp("94999"), fp("5.001"), true));
    assert!(kinds(&halts).contains(&RiskEventKind::DrawdownHalt));
}

/// One input of the refusal property test, with order ids from a small pool shared by fills
/// and orders (fills ahead of their order, orders judged twice) and values that are refused
/// outright or overflow only after earlier checks passed.
#[derive(Debug, Clone)]
enum Hostile {
    Pnl { hours: i64, equity: i64 },
    Fill { order: u8, buy: bool, qty: i64, price: i64 },
    Order { order: u8, buy: bool, qty: i64, limit: Option<i64>, reference: Option<Option<i64>> },
    Tick { price: i64, quotes: Option<(i64, i64)> },
    Open { days: i64 },
    Governor { clamp: Option<i64> },
    Command { kind: u8, fraction: Option<i64> },
}

fn magnitude() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => 1..20_000_000_000_000i64,
        1 => (i64::MAX / 2)..i64::MAX,
        1 => i64::MIN..i64::MIN / 2,
        1 => -3..=0i64,
    ]
}

fn hostile() -> impl Strategy<Value = Hostile> {
    prop_oneof![
        2 => (0..72i64, 1..20_000_000_000_000i64).prop_map(|(hours, equity)| Hostile::Pnl { hours, equity }),
        3 => (0..6u8, any::<bool>(), magnitude(), magnitude()).prop_map(|(order, buy, qty, price)| Hostile::Fill { order, buy, qty, price }),
        3 => (0..6u8, any::<bool>(), magnitude(), proptest::option::of(magnitude()), proptest::option::of(proptest::option::of(magnitude())))
            .prop_map(|(order, buy, qty, limit, reference)| Hostile::Order { order, buy, qty, limit, reference }),
        3 => (magnitude(), proptest::option::of((magnitude(), magnitude()))).prop_map(|(price, quotes)| Hostile::Tick { price, quotes }),
        1 => (0..3i64).prop_map(|days| Hostile::Open { days }),
        1 => proptest::option::of(-50_000_000..150_000_000i64).prop_map(|clamp| Hostile::Governor { clamp }),
        1 => (0..4u8, proptest::option::of(-50_000_000..150_000_000i64)).prop_map(|(kind, fraction)| Hostile::Command { kind, fraction }),
    ]
}

fn hostile_event(n: i64, step: &Hostile) -> BusEvent {
    let time = T0 + n;
    let raw = FixedPoint::from_raw;
    let side = |buy: bool| if buy { Side::Buy } else { Side::Sell };
    match step {
        Hostile::Pnl { hours, equity } => pnl(time + hours * HOUR, &raw(*equity).to_string()),
        Hostile::Fill { order, buy, qty, price } => {
            let mut event = fill(time, "BTCUSD", side(*buy), "1", "1", "0");
            if let BusEvent::Fill(f) = &mut event {
                f.order_id = format!("o-{order}");
                (f.qty, f.price) = (raw(*qty), raw(*price));
            }
            event
        }
        Hostile::Order { order: id, buy, qty, limit, reference } => {
            let mut event = order(time, "BTCUSD", side(*buy), "1", None);
            if let BusEvent::Order(o) = &mut event {
                o.order_id = format!("o-{id}");
                o.qty = raw(*qty);
                o.limit_price = limit.map(raw);
                match reference {
                    Some(Some(price)) => o.meta.insert(REFERENCE_PRICE_META.into(), raw(*price).to_string()),
                    Some(None) => o.meta.insert(REFERENCE_PRICE_META.into(), "not a price".into()),
                    None => None,
                };
            }
            event
        }
        Hostile::Tick { price, quotes } => {
            let mut event = tick(time, "BTCUSD", "1", None);
            if let BusEvent::Tick(t) = &mut event {
                t.price = raw(*price);
                (t.bid, t.ask) = (quotes.map(|q| raw(q.0)), quotes.map(|q| raw(q.1)));
            }
            event
        }
        Hostile::Open { days } => session(time + days * DAY_US, SessionEventKind::Open),
        Hostile::Governor { clamp } => {
            let mut event = governor(time, None);
            if let BusEvent::GovernorWeights(g) = &mut event {
                g.kelly_clamp = clamp.map(raw);
            }
            event
        }
        Hostile::Command { kind, fraction } => {
            let kind = [CommandKind::RiskReset, CommandKind::RiskTrim, CommandKind::Sweep, CommandKind::SubmitOrder][usize::from(*kind)];
            let mut event = command(time, "risk_sentinel", kind, None);
            if let BusEvent::Command(c) = &mut event {
                c.fraction = fraction.map(raw);
            }
            event
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The state is changed in place, not on a copy: a refused input — invalid, or one that
    /// overflows after earlier checks passed — must leave `state()` exactly as it was and
    /// leave no trace (the accepted inputs alone give the same outputs and state).
    #[test]
    fn a_refused_input_leaves_the_state_as_it_was(steps in proptest::collection::vec(hostile(), 1..80)) {
        let inputs: Vec<BusEvent> = steps.iter().enumerate().map(|(n, s)| hostile_event(n as i64, s)).collect();
        refusals_leave_no_trace(sentinel, &inputs)?;
    }
}

#[test]
fn a_fill_whose_pending_quantity_overflows_is_refused_before_its_position_moves() {
    let mut s = sentinel();
    // Sells of an order not seen yet accumulate as fills ahead of it; a buy of another
    // order brings the position back near zero, so only the pending quantity overflows.
    let mut first = fill(T0, "BTCUSD", Side::Sell, "1", "1", "0");
    let mut offset = fill(T0 + 1, "BTCUSD", Side::Buy, "1", "1", "0");
    let mut second = fill(T0 + 2, "BTCUSD", Side::Sell, "1", "1", "0");
    let big = FixedPoint::from_raw(i64::MAX / 2 + 10);
    for (event, order_id) in [(&mut first, "o-a"), (&mut offset, "o-b"), (&mut second, "o-a")] {
        if let BusEvent::Fill(f) = event {
            f.order_id = order_id.into();
            f.qty = big;
        }
    }
    accept(&mut s, &first);
    accept(&mut s, &offset);
    let before = s.state().clone();
    let error = run(&mut s, &second).expect_err("the quantity ahead of o-a overflows");
    assert!(error.reason.contains("quantity overflows"), "{error}");
    assert_eq!(s.state(), &before, "the position must not have moved");
}
