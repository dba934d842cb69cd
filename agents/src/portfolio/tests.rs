//! Portfolio tests: PnL by hand through buy, add, partial sell, close and flip with fees and
//! rebates; marks; cadence; lockbox sweeps; refused inputs; snapshot restore; and property
//! tests of the accounting identities over random fills and ticks.

use maxx_events::{BusEvent, CommandKind, FixedPoint, Pnl, SessionEventKind, Side};
use proptest::prelude::*;

use super::fixtures::{accept, command, fill, fp, refusals_leave_no_trace, run, session, tick};
use super::{views, Portfolio, PortfolioConfig, PortfolioState};
use crate::contract::Agent;

const SEC: i64 = 1_000_000;
const T0: i64 = 1_767_225_600 * SEC; // 2026-01-01T00:00:00Z

fn portfolio(starting_cash: &str) -> Portfolio {
    Portfolio::new(PortfolioConfig { starting_cash: fp(starting_cash), ..PortfolioConfig::default() })
}

fn only_pnl(outputs: Vec<BusEvent>) -> Pnl {
    match outputs.as_slice() {
        [BusEvent::Pnl(pnl)] => pnl.clone(),
        other => panic!("expected one pnl, got {other:?}"),
    }
}

/// (equity, cash, realized, unrealized, fees)
fn figures(pnl: &Pnl) -> [FixedPoint; 5] {
    [pnl.equity, pnl.cash, pnl.realized, pnl.unrealized, pnl.fees]
}

fn fps<const N: usize>(texts: [&str; N]) -> [FixedPoint; N] {
    texts.map(fp)
}

#[test]
fn pnl_by_hand_through_buy_add_partial_sell_and_close_with_fees_and_a_rebate() {
    let mut p = portfolio("10000");
    // Buy 1 @ 100, fee 0.1; no tick yet: marked at the fill price.
    let a = only_pnl(accept(&mut p, &fill(T0, "BTCUSD", Side::Buy, "1", "100", "0.1")));
    assert_eq!(figures(&a), fps(["9999.9", "9899.9", "0", "0", "0.1"]));
    // A tick at 110 marks it up.
    let b = only_pnl(accept(&mut p, &tick(T0 + 1, "BTCUSD", "110", None)));
    assert_eq!(figures(&b), fps(["10009.9", "9899.9", "0", "10", "0.1"]));
    // Add 1 @ 110, fee 0.11: cost 210, average 105, still marked at 110.
    let c = only_pnl(accept(&mut p, &fill(T0 + 2, "BTCUSD", Side::Buy, "1", "110", "0.11")));
    assert_eq!(figures(&c), fps(["10009.79", "9789.79", "0", "10", "0.21"]));
    assert_eq!((c.positions[0].qty, c.positions[0].avg_price, c.positions[0].mark_price), (fp("2"), fp("105"), fp("110")));
    // Sell 0.5 @ 120 as maker, rebate 0.012: realizes 60 − 52.5 = 7.5.
    let d = only_pnl(accept(&mut p, &fill(T0 + 3, "BTCUSD", Side::Sell, "0.5", "120", "-0.012")));
    assert_eq!(figures(&d), fps(["10014.802", "9849.802", "7.5", "7.5", "0.198"]));
    // Close 1.5 @ 90, fee 0.135: realizes 135 − 157.5 = −22.5; flat.
    let e = only_pnl(accept(&mut p, &fill(T0 + 4, "BTCUSD", Side::Sell, "1.5", "90", "0.135")));
    assert_eq!(figures(&e), fps(["9984.667", "9984.667", "-15", "0", "0.333"]));
    assert!(e.positions.is_empty());
    // realized + unrealized − fees = equity − starting cash (no lockbox yet).
    assert_eq!(fp("-15.333"), fp("9984.667").checked_sub(fp("10000")).expect("in range"));
}

#[test]
fn a_flip_from_long_to_short_realizes_the_long_and_marks_the_short_at_the_mid() {
    let mut p = portfolio("10000");
    accept(&mut p, &fill(T0, "ETHUSD", Side::Buy, "2", "100", "0"));
    // Sell 5 @ 120: realizes 2 × 20 = 40, opens 3 short at 120.
    let flip = only_pnl(accept(&mut p, &fill(T0 + 1, "ETHUSD", Side::Sell, "5", "120", "0.6")));
    assert_eq!(figures(&flip), fps(["10039.4", "10399.4", "40", "0", "0.6"]));
    assert_eq!((flip.positions[0].qty, flip.positions[0].avg_price), (fp("-3"), fp("120")));
    // Bid 109 / ask 111: mid 110, the short gains 3 × 10.
    let marked = only_pnl(accept(&mut p, &tick(T0 + 2, "ETHUSD", "112", Some(("109", "111")))));
    assert_eq!(figures(&marked), fps(["10069.4", "10399.4", "40", "30", "0.6"]));
    assert_eq!(marked.positions[0].mark_price, fp("110"));
}

#[test]
fn the_mid_rounds_half_away_from_zero_and_one_sided_quotes_use_the_price() {
    let mark = |bid_ask| match tick(T0, "X", "7", bid_ask) {
        BusEvent::Tick(t) => super::tick_mark(&t).expect("valid"),
        _ => unreachable!(),
    };
    assert_eq!(mark(Some(("1", "1.00000001"))), fp("1.00000001"));
    assert_eq!(mark(None), fp("7"));
}

#[test]
fn ticks_publish_only_when_they_move_a_held_mark_or_the_cadence_is_due() {
    let mut p = portfolio("1000");
    assert_eq!(accept(&mut p, &tick(T0, "BTCUSD", "10", None)).len(), 1, "the first input publishes (cadence due)");
    assert!(accept(&mut p, &tick(T0 + 1, "ETHUSD", "5", None)).is_empty(), "not held, cadence not due");
    accept(&mut p, &fill(T0 + 2, "BTCUSD", Side::Buy, "1", "10", "0"));
    assert!(accept(&mut p, &tick(T0 + 3, "BTCUSD", "10", None)).is_empty(), "same mark");
    assert_eq!(accept(&mut p, &tick(T0 + 4, "BTCUSD", "11", None)).len(), 1, "held mark moved");
    assert!(accept(&mut p, &tick(T0 + SEC - 1, "ETHUSD", "6", None)).is_empty(), "still inside the first second");
    let due = only_pnl(accept(&mut p, &tick(T0 + SEC, "ETHUSD", "7", None)));
    assert_eq!(due.equity, fp("1001"), "cadence pnl without change");
    assert!(accept(&mut p, &tick(T0 + 2 * SEC - 1, "ETHUSD", "8", None)).is_empty());
    assert_eq!(accept(&mut p, &tick(T0 + 5 * SEC, "ETHUSD", "9", None)).len(), 1, "a gap publishes once");
}

#[test]
fn a_session_close_sweeps_the_configured_share_of_new_realized_profit_into_the_lockbox() {
    let mut p = portfolio("10000"); // lockbox_pct 20
    accept(&mut p, &fill(T0, "BTCUSD", Side::Buy, "1", "100", "0"));
    accept(&mut p, &fill(T0 + 1, "BTCUSD", Side::Sell, "1", "200", "1")); // +100 realized, −1 fee
    let swept = only_pnl(accept(&mut p, &session(T0 + 2, SessionEventKind::Close)));
    // 20 % of 99 = 19.8 leaves trading equity.
    assert_eq!((swept.lockbox, swept.cash, swept.equity), (fp("19.8"), fp("10079.2"), fp("10079.2")));
    assert_eq!(fp("99"), fp("10079.2").checked_sub(fp("10000")).and_then(|x| x.checked_add(fp("19.8"))).expect("in range"), "identity with the lockbox");
    assert!(accept(&mut p, &session(T0 + 3, SessionEventKind::Close)).is_empty(), "nothing new to sweep");
    assert!(accept(&mut p, &session(T0 + 4, SessionEventKind::Open)).is_empty(), "an open sweeps nothing");
    // A loss of 50 carries forward; 80 of profit later leaves 30 to sweep: 6.
    accept(&mut p, &fill(T0 + 5, "BTCUSD", Side::Buy, "1", "100", "0"));
    accept(&mut p, &fill(T0 + 6, "BTCUSD", Side::Sell, "1", "50", "0"));
    assert!(accept(&mut p, &session(T0 + 7, SessionEventKind::Close)).is_empty(), "a loss sweeps nothing");
    accept(&mut p, &fill(T0 + 8, "BTCUSD", Side::Buy, "1", "100", "0"));
    accept(&mut p, &fill(T0 + 9, "BTCUSD", Side::Sell, "1", "180", "0"));
    let second = only_pnl(accept(&mut p, &session(T0 + 10, SessionEventKind::Close)));
    assert_eq!(second.lockbox, fp("25.8"));
    let balance = views::balance(p.state()).expect("valued");
    assert_eq!((balance.trading_equity, balance.lockbox, balance.total), (fp("10103.2"), fp("25.8"), fp("10129")));
}

#[test]
fn a_sweep_command_for_the_portfolio_sweeps_and_others_are_ignored_or_refused() {
    let mut p = portfolio("10000");
    accept(&mut p, &fill(T0, "BTCUSD", Side::Buy, "1", "100", "0"));
    accept(&mut p, &fill(T0 + 1, "BTCUSD", Side::Sell, "1", "150", "0"));
    assert!(accept(&mut p, &command(T0 + 2, "risk_sentinel", CommandKind::RiskReset, None)).is_empty(), "another agent's command");
    let before = p.state().clone();
    assert!(run(&mut p, &command(T0 + 3, "portfolio", CommandKind::RiskTrim, Some("0.5"))).is_err());
    assert_eq!(p.state(), &before);
    let swept = only_pnl(accept(&mut p, &command(T0 + 4, "portfolio", CommandKind::Sweep, None)));
    assert_eq!((swept.lockbox, swept.equity), (fp("10"), fp("10040")));
}

#[test]
fn invalid_fills_and_ticks_are_refused_and_leave_the_state_unchanged() {
    let mut p = portfolio("10000");
    accept(&mut p, &fill(T0, "BTCUSD", Side::Buy, "1", "100", "0.1"));
    let before = p.state().clone();
    let mut bad = vec![
        fill(T0 + 1, "BTCUSD", Side::Buy, "0", "100", "0"),
        fill(T0 + 2, "BTCUSD", Side::Sell, "-1", "100", "0"),
        fill(T0 + 3, "BTCUSD", Side::Buy, "1", "0", "0"),
        fill(T0 + 4, "BTCUSD", Side::Buy, "1", "-5", "0"),
        fill(T0 + 5, "", Side::Buy, "1", "100", "0"),
        fill(T0 + 6, "BTCUSD", Side::Buy, "90000000000", "2", "0"),
        tick(T0 + 7, "BTCUSD", "0", None),
        tick(T0 + 8, "BTCUSD", "100", Some(("-1", "101"))),
        tick(T0 + 9, "", "100", None),
    ];
    if let BusEvent::Fill(f) = &mut bad[0] {
        f.fill_id.clear();
        f.qty = fp("1");
    }
    for event in &bad {
        assert!(run(&mut p, event).is_err(), "{event:?} should be refused");
        assert_eq!(p.state(), &before, "{event:?} changed the state");
    }
}

#[test]
fn a_fill_delivered_twice_is_booked_once() {
    let mut p = portfolio("10000");
    let buy = fill(T0, "BTCUSD", Side::Buy, "1", "100", "0.1");
    accept(&mut p, &buy);
    let before = p.state().clone();
    let error = run(&mut p, &buy).expect_err("a duplicate is refused");
    assert!(error.reason.contains("already booked"), "{error}");
    assert_eq!(p.state(), &before);
}

#[test]
fn a_restored_snapshot_continues_identically() {
    let inputs = [
        fill(T0, "BTCUSD", Side::Buy, "0.3", "62650.2", "3.75"),
        tick(T0 + 10, "BTCUSD", "62700", Some(("62690", "62710.5"))),
        fill(T0 + 20, "ETHUSD", Side::Sell, "2", "3000", "-0.3"),
        session(T0 + 30, SessionEventKind::Close),
        fill(T0 + 2 * SEC, "BTCUSD", Side::Sell, "0.5", "62800", "0.5"),
        tick(T0 + 3 * SEC, "ETHUSD", "2950", None),
        command(T0 + 4 * SEC, "portfolio", CommandKind::Sweep, None),
        fill(T0 + 5 * SEC, "ETHUSD", Side::Buy, "2", "2900", "0.2"),
    ];
    let mut whole = portfolio("100000");
    let all: Vec<BusEvent> = inputs.iter().flat_map(|e| accept(&mut whole, e)).collect();
    let mut first = portfolio("100000");
    let mut outputs: Vec<BusEvent> = inputs[..4].iter().flat_map(|e| accept(&mut first, e)).collect();
    let snapshot = serde_json::to_string(first.state()).expect("serializes");
    let mut second = portfolio("1"); // the snapshot, not the config, carries the money
    second.restore(serde_json::from_str::<PortfolioState>(&snapshot).expect("deserializes"));
    outputs.extend(inputs[4..].iter().flat_map(|e| accept(&mut second, e)));
    assert_eq!(outputs, all);
    assert_eq!(second.state(), whole.state());
    assert!(second.state().lockbox.is_positive() && !second.state().holdings.is_empty(), "the run exercised sweeps and positions");
}

/// One random input of the property tests.
#[derive(Debug, Clone)]
enum Step {
    Fill { symbol: usize, buy: bool, qty: i64, price: i64, fee: i64 },
    Tick { symbol: usize, price: i64, spread: Option<i64> },
    Sweep,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..3usize, any::<bool>(), 1..5_000_000_000i64, 1..20_000_000_000_000i64, -1_000_000..5_000_000i64)
            .prop_map(|(symbol, buy, qty, price, fee)| Step::Fill { symbol, buy, qty, price, fee }),
        3 => (0..3usize, 1..20_000_000_000_000i64, proptest::option::of(0..10_000_000i64))
            .prop_map(|(symbol, price, spread)| Step::Tick { symbol, price, spread }),
        1 => Just(Step::Sweep),
    ]
}

const SYMBOLS: [&str; 3] = ["BTCUSD", "ETHUSD", "EURUSD"];

fn event(n: i64, step: &Step) -> BusEvent {
    let raw = |v: i64| FixedPoint::from_raw(v).to_string();
    match step {
        Step::Fill { symbol, buy, qty, price, fee } => {
            fill(T0 + n, SYMBOLS[*symbol], if *buy { Side::Buy } else { Side::Sell }, &raw(*qty), &raw(*price), &raw(*fee))
        }
        Step::Tick { symbol, price, spread } => {
            let quotes = spread.map(|s| (raw(*price), raw(price + s)));
            tick(T0 + n, SYMBOLS[*symbol], &raw(*price), quotes.as_ref().map(|(b, a)| (b.as_str(), a.as_str())))
        }
        Step::Sweep => command(T0 + n, "portfolio", CommandKind::Sweep, None),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// After every input: equity = cash + Σ qty × mark, recomputed here in i128 with the
    /// same per-position rounding; realized + unrealized − fees = equity − starting cash +
    /// lockbox; and cash = starting cash − Σ signed notional − Σ fees − lockbox, from the
    /// fills alone.
    #[test]
    fn accounting_identities_hold_exactly(steps in proptest::collection::vec(step(), 1..60)) {
        let start = fp("1000000");
        let mut p = Portfolio::new(PortfolioConfig { starting_cash: start, ..PortfolioConfig::default() });
        let mut flows: i128 = 0;
        for (n, step) in steps.iter().enumerate() {
            let input = event(n as i64, step);
            let outputs = accept(&mut p, &input);
            if let Step::Fill { buy, qty, price, fee, .. } = step {
                let notional = round_div(i128::from(*qty) * i128::from(*price), i128::from(FixedPoint::SCALE));
                flows += if *buy { -notional } else { notional } - i128::from(*fee);
            }
            let s = p.state();
            let view = views::pnl(s).expect("valued");
            let marked: i128 = s.holdings.values()
                .map(|h| round_div(i128::from(h.qty.raw()) * i128::from(h.mark.raw()), i128::from(FixedPoint::SCALE)))
                .sum();
            prop_assert_eq!(i128::from(view.equity.raw()), i128::from(s.cash.raw()) + marked);
            prop_assert_eq!(
                i128::from(view.realized.raw()) + i128::from(view.unrealized.raw()) - i128::from(view.fees.raw()),
                i128::from(view.equity.raw()) - i128::from(start.raw()) + i128::from(s.lockbox.raw())
            );
            prop_assert_eq!(i128::from(s.cash.raw()), i128::from(start.raw()) + flows - i128::from(s.lockbox.raw()));
            if let Some(BusEvent::Pnl(pnl)) = outputs.last() {
                prop_assert_eq!((pnl.equity, pnl.unrealized, &pnl.positions), (view.equity, view.unrealized, &view.positions));
            }
        }
    }
}

/// Round half away from zero, as `FixedPoint` does (independent re-implementation).
fn round_div(numerator: i128, denominator: i128) -> i128 {
    let half = denominator / 2;
    if numerator >= 0 {
        (numerator + half) / denominator
    } else {
        -((-numerator + half) / denominator)
    }
}

/// One input of the refusal property test: ordinary, refused outright, or large enough that
/// booking or valuing it overflows after part of the state would have changed.
#[derive(Debug, Clone)]
enum Hostile {
    /// A fill with id `f-<id>` (a small pool, so duplicates are common).
    Fill { id: u8, symbol: usize, buy: bool, qty: i64, price: i64, fee: i64 },
    /// A tick; `price` or a quote may be 0 or negative (refused), or huge (valuation overflows).
    Tick { symbol: usize, price: i64, quotes: Option<(i64, i64)> },
    /// A sweep command, a session close, or a command the portfolio refuses.
    Sweep,
    Close,
    BadCommand,
}

fn magnitude() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => 1..20_000_000_000_000i64,
        1 => (i64::MAX / 4)..i64::MAX,
        1 => -5..=0i64,
    ]
}

fn hostile() -> impl Strategy<Value = Hostile> {
    prop_oneof![
        4 => (0..12u8, 0..2usize, any::<bool>(), magnitude(), magnitude(), -1_000_000..5_000_000i64)
            .prop_map(|(id, symbol, buy, qty, price, fee)| Hostile::Fill { id, symbol, buy, qty, price, fee }),
        4 => (0..2usize, magnitude(), proptest::option::of((magnitude(), magnitude())))
            .prop_map(|(symbol, price, quotes)| Hostile::Tick { symbol, price, quotes }),
        1 => Just(Hostile::Sweep),
        1 => Just(Hostile::Close),
        1 => Just(Hostile::BadCommand),
    ]
}

fn hostile_event(n: i64, step: &Hostile) -> BusEvent {
    let time = T0 + n * SEC;
    match step {
        Hostile::Fill { id, symbol, buy, qty, price, fee } => {
            let mut event = fill(time, SYMBOLS[*symbol], if *buy { Side::Buy } else { Side::Sell }, "1", "1", "0");
            if let BusEvent::Fill(f) = &mut event {
                f.fill_id = format!("f-{id}");
                (f.qty, f.price, f.fee) = (FixedPoint::from_raw(*qty), FixedPoint::from_raw(*price), FixedPoint::from_raw(*fee));
            }
            event
        }
        Hostile::Tick { symbol, price, quotes } => {
            let mut event = tick(time, SYMBOLS[*symbol], "1", None);
            if let BusEvent::Tick(t) = &mut event {
                t.price = FixedPoint::from_raw(*price);
                (t.bid, t.ask) = (quotes.map(|q| FixedPoint::from_raw(q.0)), quotes.map(|q| FixedPoint::from_raw(q.1)));
            }
            event
        }
        Hostile::Sweep => command(time, "portfolio", CommandKind::Sweep, None),
        Hostile::Close => session(time, SessionEventKind::Close),
        Hostile::BadCommand => command(time, "portfolio", CommandKind::RiskReset, None),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The state is changed in place, not on a copy: a refused input — invalid, a duplicate,
    /// or one whose booking or valuation overflows half-way — must still leave `state()`
    /// exactly as it was and leave no trace (the accepted inputs alone give the same outputs
    /// and state).
    #[test]
    fn a_refused_input_leaves_the_state_as_it_was(steps in proptest::collection::vec(hostile(), 1..80)) {
        let inputs: Vec<BusEvent> = steps.iter().enumerate().map(|(n, s)| hostile_event(n as i64, s)).collect();
        refusals_leave_no_trace(|| portfolio("1000000"), &inputs)?;
    }
}

#[test]
fn a_tick_whose_valuation_overflows_is_refused_and_its_mark_taken_back() {
    let mut p = portfolio("1000000");
    accept(&mut p, &tick(T0, "BTCUSD", "100", None));
    accept(&mut p, &fill(T0 + 1, "BTCUSD", Side::Buy, "1000", "100", "0"));
    accept(&mut p, &tick(T0 + 2, "ETHUSD", "5", None));
    let before = p.state().clone();
    // 1000 × 90,000,000,000 overflows the fixed point range: the valuation fails after the
    // mark was set, so the mark (of a held symbol) must be restored.
    let error = run(&mut p, &tick(T0 + 3, "BTCUSD", "90000000000", None)).expect_err("valuation overflows");
    assert!(error.reason.contains("valuation"), "{error}");
    assert_eq!(p.state(), &before);
    assert_eq!(p.state().holdings["BTCUSD"].mark, fp("100"));
}
