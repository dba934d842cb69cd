//! Execution as an agent, with hand-computed orders, fills and fees: sizing from signals,
//! maker vs taker, the risk gate, rejects and fallback, route switch, kill, trim, commands,
//! determinism, snapshots and reconciliation.

use maxx_events::{
    AckStatus, BusEvent, Command, CommandKind, EventId, EventTime, Fill, FixedPoint, Liquidity, Order, OrderAck, OrderType, Producer, RiskEvent,
    RiskEventKind, RiskLimits, RiskState, Severity, Side, Signal, SignalComponents, SignalSide, Tick, BlendWeights,
};

use super::*;
use crate::contract::DynAgent;

fn fp(text: &str) -> FixedPoint {
    text.parse().expect("a number")
}

fn producer() -> Producer {
    Producer { agent: "maxx-test".into(), version: "0".into(), instance: "t-0".into() }
}

fn time(seconds: i64) -> EventTime {
    EventTime::from_micros(1_764_000_000_000_000 + seconds * 1_000_000)
}

fn id(seconds: i64, what: &str) -> EventId {
    EventId::derive(time(seconds), &[what.as_bytes()])
}

fn tick(seconds: i64, symbol: &str, price: &str, quote: Option<(&str, &str)>, volume: &str) -> BusEvent {
    BusEvent::Tick(Tick {
        event_id: id(seconds, &format!("tick {symbol} {price}")),
        event_time: time(seconds),
        producer: producer(),
        symbol: symbol.into(),
        exchange: "synthetic".into(),
        price: fp(price),
        volume: fp(volume),
        bid: quote.map(|q| fp(q.0)),
        ask: quote.map(|q| fp(q.1)),
        venue_seq: None,
    })
}

fn risk(seconds: i64, max_trade_risk: &str, kelly: &str, halted: bool, killed: bool) -> BusEvent {
    BusEvent::RiskState(RiskState {
        event_id: id(seconds, &format!("risk {max_trade_risk} {kelly} {halted} {killed}")),
        event_time: time(seconds),
        producer: producer(),
        equity: fp("100000"),
        day_start_equity: fp("100000"),
        drawdown_pct: FixedPoint::ZERO,
        halted,
        halt_reason: halted.then(|| "daily drawdown 5.01% > 5%".to_string()),
        killed,
        kelly_fraction: fp(kelly),
        max_trade_risk: fp(max_trade_risk),
        limits: RiskLimits { max_trade_risk_pct: fp("0.3"), daily_drawdown_pct: fp("5"), slippage_limit_pct: fp("0.2"), hard_kill_pct: fp("7") },
    })
}

fn signal(seconds: i64, symbol: &str, side: SignalSide, score: &str, confidence: &str) -> BusEvent {
    let zero = FixedPoint::ZERO;
    BusEvent::Signal(Signal {
        event_id: id(seconds, &format!("signal {symbol} {score}")),
        event_time: time(seconds),
        producer: producer(),
        symbol: symbol.into(),
        score: fp(score),
        side,
        confidence: fp(confidence),
        components: SignalComponents { momentum: fp(score), mean_reversion: zero, breakout: zero, sentiment: zero },
        weights: BlendWeights { momentum: FixedPoint::ONE, mean_reversion: zero, breakout: zero, sentiment: zero },
    })
}

fn command(seconds: i64, kind: CommandKind) -> Command {
    Command {
        event_id: id(seconds, &format!("command {kind:?}")),
        event_time: time(seconds),
        producer: producer(),
        target: "execution".into(),
        kind,
        requested_by: "ops".into(),
        symbol: None,
        order_id: None,
        side: None,
        qty: None,
        order_type: None,
        limit_price: None,
        fraction: None,
        reason: None,
    }
}

fn submit(seconds: i64, symbol: &str, side: Side, qty: &str, limit: Option<&str>) -> BusEvent {
    BusEvent::Command(Command {
        symbol: Some(symbol.into()),
        side: Some(side),
        qty: Some(fp(qty)),
        order_type: Some(if limit.is_some() { OrderType::Limit } else { OrderType::Market }),
        limit_price: limit.map(fp),
        event_id: id(seconds, &format!("submit {symbol} {qty} {limit:?}")),
        ..command(seconds, CommandKind::SubmitOrder)
    })
}

fn cancel(seconds: i64, order_id: &str) -> BusEvent {
    BusEvent::Command(Command { order_id: Some(order_id.into()), ..command(seconds, CommandKind::CancelOrder) })
}

fn trim(seconds: i64, fraction: &str, symbol: Option<&str>) -> BusEvent {
    BusEvent::RiskEvent(RiskEvent {
        event_id: id(seconds, &format!("trim {fraction} {symbol:?}")),
        event_time: time(seconds),
        producer: producer(),
        kind: RiskEventKind::ExposureTrim,
        severity: Severity::Warning,
        symbol: symbol.map(String::from),
        order_id: None,
        value: Some(fp(fraction)),
        limit: None,
        message: "trim".into(),
    })
}

/// Feeds `events`; returns every output. Panics when an input is refused.
fn feed(execution: &mut Execution, events: &[BusEvent]) -> Vec<BusEvent> {
    let producer = producer();
    let mut all = Vec::new();
    for event in events {
        let mut outputs = Vec::new();
        let mut out = Emitter::new("execution", &producer, event.event_id(), event.event_time(), &mut outputs);
        DynAgent::handle(execution, event, &mut out).expect("input accepted");
        all.extend(outputs);
    }
    all
}

fn orders(outputs: &[BusEvent]) -> Vec<&Order> {
    outputs.iter().filter_map(|e| if let BusEvent::Order(o) = e { Some(o) } else { None }).collect()
}

fn acks(outputs: &[BusEvent]) -> Vec<&OrderAck> {
    outputs.iter().filter_map(|e| if let BusEvent::OrderAck(a) = e { Some(a) } else { None }).collect()
}

fn fills(outputs: &[BusEvent]) -> Vec<&Fill> {
    outputs.iter().filter_map(|e| if let BusEvent::Fill(f) = e { Some(f) } else { None }).collect()
}

fn risk_events(outputs: &[BusEvent]) -> Vec<&RiskEvent> {
    outputs.iter().filter_map(|e| if let BusEvent::RiskEvent(r) = e { Some(r) } else { None }).collect()
}

fn position(execution: &Execution, symbol: &str) -> FixedPoint {
    execution.state().positions.get(symbol).copied().unwrap_or_default()
}

#[test]
fn a_taker_signal_is_sized_from_risk_and_filled_at_the_ask_plus_slippage() {
    let mut execution = Execution::new(ExecConfig::default());
    let out = feed(
        &mut execution,
        &[risk(0, "300", "0.5", false, false), tick(1, "BTCUSD", "62650.2", Some(("62650", "62650.4")), "1"), signal(2, "BTCUSD", SignalSide::Buy, "0.5", "0.8")],
    );
    // Size: 300 × 0.5 × 0.8 = 120 ÷ 62650.2 = 0.00191539 -> step 0.0001 -> 0.0019.
    // Edge 0.5 × 5 = 2.5 bps ≥ 1 bp: taker (market).
    let o = orders(&out);
    assert_eq!(o.len(), 1);
    assert_eq!((o[0].side, o[0].qty, o[0].order_type, o[0].post_only, o[0].route.as_str()), (Side::Buy, fp("0.0019"), OrderType::Market, false, "paper"));
    assert_eq!(o[0].meta.get("cause").map(String::as_str), Some("signal"));
    // Slippage 10 bps × 0.0019 / 1 = 0.019 bps on the ask: 62650.4 × 1.0000019 = 62650.51903576.
    // Fee 62650.51903576 × 0.0019 × 5 bps = 0.059517993 -> 0.05951799.
    let f = fills(&out);
    assert_eq!((f[0].price, f[0].qty, f[0].fee, f[0].liquidity), (fp("62650.51903576"), fp("0.0019"), fp("0.05951799"), Liquidity::Taker));
    assert_eq!(f[0].order_id, o[0].order_id);
    assert_eq!(acks(&out).iter().map(|a| a.status).collect::<Vec<_>>(), vec![AckStatus::Accepted]);
    assert_eq!(position(&execution, "BTCUSD"), fp("0.0019"));
    // The same signal again: exposure is at the target, nothing more to buy.
    let again = feed(&mut execution, &[signal(3, "BTCUSD", SignalSide::Buy, "0.5", "0.8")]);
    assert!(orders(&again).is_empty(), "{again:?}");
    // FLAT does nothing.
    assert!(feed(&mut execution, &[signal(4, "BTCUSD", SignalSide::Flat, "0", "1")]).is_empty());
}

#[test]
fn maker_below_the_edge_threshold_taker_at_it() {
    let setup = [risk(0, "1000", "1", false, false), tick(1, "BTCUSD", "100", Some(("99.9", "100.1")), "5")];
    // 0.19999999 × 5 bps = 0.99999995 bps < 1: post-only limit at the bid (a buy joins the bid).
    let mut execution = Execution::new(ExecConfig::default());
    feed(&mut execution, &setup);
    let out = feed(&mut execution, &[signal(2, "BTCUSD", SignalSide::Buy, "0.19999999", "1")]);
    let o = orders(&out);
    assert_eq!((o[0].order_type, o[0].limit_price, o[0].post_only), (OrderType::Limit, Some(fp("99.9")), true));
    assert!(fills(&out).is_empty(), "rests");
    assert_eq!(views::open_orders(execution.state()).len(), 1);
    // Exactly 1 bp is not below the threshold: market.
    let mut execution = Execution::new(ExecConfig::default());
    feed(&mut execution, &setup);
    let out = feed(&mut execution, &[signal(2, "BTCUSD", SignalSide::Sell, "-0.2", "1")]);
    assert_eq!(orders(&out)[0].order_type, OrderType::Market);
    // Sell at the bid 99.9 less slippage 10 × 10 / 5 = 20 bps (the cap): 99.9 × 0.998 = 99.7002.
    assert_eq!(fills(&out)[0].price, fp("99.7002"));
    assert_eq!(position(&execution, "BTCUSD"), fp("-10"), "1000 × 1 × 1 ÷ 100 = 10");
}

#[test]
fn resting_limits_fill_on_crossing_ticks_partially_with_the_maker_rebate() {
    let mut execution = Execution::new(ExecConfig::default());
    feed(&mut execution, &[risk(0, "1000", "1", false, false), tick(1, "BTCUSD", "100", Some(("99.9", "100.1")), "5")]);
    // Confidence 0.4: post-only at the bid 99.9, sized at that limit: 1000 × 0.4 ÷ 99.9
    // = 4.004004… -> 4.004.
    let out = feed(&mut execution, &[signal(2, "BTCUSD", SignalSide::Buy, "0.1", "0.4")]);
    let order_id = orders(&out)[0].order_id.clone();
    assert_eq!(orders(&out)[0].qty, fp("4.004"));
    // At the limit: no fill. Through it with volume 1.5: 1.5 at 99.9, rebate 99.9 × 1.5 × −1 bp = −0.014985.
    assert!(fills(&feed(&mut execution, &[tick(3, "BTCUSD", "99.9", None, "9")])).is_empty());
    let out = feed(&mut execution, &[tick(4, "BTCUSD", "99.85", None, "1.5")]);
    let f = fills(&out);
    assert_eq!((f[0].order_id.as_str(), f[0].price, f[0].qty, f[0].fee, f[0].liquidity), (order_id.as_str(), fp("99.9"), fp("1.5"), fp("-0.014985"), Liquidity::Maker));
    assert_eq!(position(&execution, "BTCUSD"), fp("1.5"));
    assert_eq!(views::open_orders(execution.state())[0].remaining, "2.504");
    // A new signal replaces the resting remainder: canceled, and only the gap is ordered:
    // target at the limit, the last price 99.85: 400 ÷ 99.85 = 4.00600901 -> 4.006; − position 1.5 = 2.506.
    let out = feed(&mut execution, &[signal(5, "BTCUSD", SignalSide::Buy, "0.1", "0.4")]);
    assert_eq!(acks(&out).iter().map(|a| a.status).collect::<Vec<_>>(), vec![AckStatus::Canceled, AckStatus::Accepted]);
    assert_eq!(acks(&out)[0].order_id, order_id);
    assert_eq!(orders(&out)[0].limit_price, Some(fp("99.85")), "no quote on the last tick: joins at the last price");
    assert_eq!(orders(&out)[0].qty, fp("2.506"));
    let out = feed(&mut execution, &[tick(6, "BTCUSD", "90", None, "100")]);
    assert_eq!(fills(&out)[0].qty, fp("2.506"));
    assert_eq!(position(&execution, "BTCUSD"), fp("4.006"));
    assert!(views::open_orders(execution.state()).is_empty());
}

#[test]
fn the_risk_gate_refuses_before_any_venue_with_a_reasoned_reject() {
    let mut execution = Execution::new(ExecConfig::default());
    feed(&mut execution, &[tick(1, "BTCUSD", "100", None, "5")]);
    // No risk state yet.
    let out = feed(&mut execution, &[signal(2, "BTCUSD", SignalSide::Buy, "0.5", "1")]);
    assert!(orders(&out).is_empty());
    assert_eq!(acks(&out)[0].route, RISK_GATE_ROUTE);
    assert!(acks(&out)[0].reason.as_deref().is_some_and(|r| r.contains("no risk state")));
    // Over the cap: a manual order of 3.01 × 100 = 301 > 300.
    let out = feed(&mut execution, &[risk(3, "300", "1", false, false), submit(4, "BTCUSD", Side::Buy, "3.01", None)]);
    assert!(orders(&out).is_empty());
    assert!(acks(&out)[0].reason.as_deref().is_some_and(|r| r.contains("exceeds the per-trade risk cap")), "{out:?}");
    assert_eq!(execution.state().venue.next_seq, 0, "nothing reached the venue");
    // Exactly the cap passes: 3 × 100 = 300.
    let out = feed(&mut execution, &[submit(5, "BTCUSD", Side::Buy, "3", None)]);
    assert_eq!(orders(&out).len(), 1);
    // Halted: a new buy is refused, a sell that reduces the long passes.
    let out = feed(&mut execution, &[risk(6, "300", "1", true, false), submit(7, "BTCUSD", Side::Buy, "1", None), submit(8, "BTCUSD", Side::Sell, "1", None)]);
    let o = orders(&out);
    assert_eq!(o.len(), 1);
    assert_eq!((o[0].side, o[0].qty), (Side::Sell, fp("1")));
    assert!(acks(&out)[0].reason.as_deref().is_some_and(|r| r.contains("halted")));
}

#[test]
fn a_venue_reject_is_retried_once_on_the_fallback_and_rejects_above_two_percent_switch_the_route() {
    let mut config = ExecConfig::default();
    config.paper.route_reject_rate_bps.insert("paper".into(), 10_000);
    let mut execution = Execution::new(config.clone());
    feed(&mut execution, &[risk(0, "1000", "1", false, false), tick(1, "BTCUSD", "100", None, "100")]);
    let mut routes = Vec::new();
    for n in 0..3 {
        let out = feed(&mut execution, &[submit(2 + n, "BTCUSD", Side::Buy, "1", None)]);
        let o = orders(&out);
        assert_eq!(o.len(), 2, "original and one retry");
        assert_eq!((o[0].route.as_str(), o[1].route.as_str()), ("paper", "paper-fallback"));
        assert_eq!(o[1].meta.get("cause").map(String::as_str), Some("retry"));
        assert_ne!(o[0].order_id, o[1].order_id);
        assert_eq!(acks(&out).iter().map(|a| a.status).collect::<Vec<_>>(), vec![AckStatus::Rejected, AckStatus::Accepted]);
        assert_eq!(fills(&out)[0].order_id, o[1].order_id);
        routes.push(risk_events(&out).into_iter().map(|r| (r.kind, r.value)).collect::<Vec<_>>());
    }
    // Window 100: rejects 1 % and 2 % keep the route; the third (3 %) switches it.
    assert_eq!(routes, vec![vec![], vec![], vec![(RiskEventKind::RouteSwitch, Some(fp("3")))]]);
    assert_eq!(views::quote(execution.state(), "BTCUSD").map(|q| q.route), Some("paper-fallback".into()));
    let out = feed(&mut execution, &[submit(10, "BTCUSD", Side::Buy, "1", None)]);
    assert_eq!(orders(&out).iter().map(|o| o.route.as_str()).collect::<Vec<_>>(), vec!["paper-fallback"]);
    assert_eq!(position(&execution, "BTCUSD"), fp("4"));

    // Without fallback_on_reject: no retry.
    let mut execution = Execution::new(ExecConfig { fallback_on_reject: false, ..config });
    feed(&mut execution, &[risk(0, "1000", "1", false, false), tick(1, "BTCUSD", "100", None, "100")]);
    let out = feed(&mut execution, &[submit(2, "BTCUSD", Side::Buy, "1", None)]);
    assert_eq!((orders(&out).len(), acks(&out)[0].status), (1, AckStatus::Rejected));
    // A rule reject (below min_qty) is not retried either way.
    let mut execution = Execution::new(ExecConfig::default());
    feed(&mut execution, &[risk(0, "1000", "1", false, false), tick(1, "BTCUSD", "100", None, "100")]);
    let out = feed(&mut execution, &[submit(2, "BTCUSD", Side::Buy, "0.00001", None)]);
    assert_eq!((orders(&out).len(), acks(&out)[0].status), (1, AckStatus::Rejected));
}

#[test]
fn a_halt_cancels_resting_orders_that_add_exposure_and_keeps_reducing_ones() {
    let mut execution = Execution::new(ExecConfig::default());
    let out = feed(
        &mut execution,
        &[
            risk(0, "1000", "1", false, false),
            tick(1, "BTCUSD", "100", None, "100"),
            submit(2, "BTCUSD", Side::Buy, "2", None),
            submit(3, "BTCUSD", Side::Buy, "1", Some("90")),
            submit(4, "BTCUSD", Side::Sell, "1", Some("110")),
        ],
    );
    let (adding, reducing) = (orders(&out)[1].order_id.clone(), orders(&out)[2].order_id.clone());
    let out = feed(&mut execution, &[risk(5, "1000", "1", true, false)]);
    assert_eq!(acks(&out).iter().map(|a| (a.order_id.clone(), a.status)).collect::<Vec<_>>(), vec![(adding, AckStatus::Canceled)]);
    assert_eq!(views::open_orders(execution.state()).iter().map(|o| o.order_id.clone()).collect::<Vec<_>>(), vec![reducing]);
}

#[test]
fn a_hard_kill_cancels_everything_and_flattens_in_chunks_within_the_cap() {
    let mut execution = Execution::new(ExecConfig::default());
    feed(
        &mut execution,
        &[
            risk(0, "1000", "1", false, false),
            tick(1, "BTCUSD", "100", None, "100"),
            tick(1, "ETHUSD", "10", None, "100"),
            submit(2, "BTCUSD", Side::Buy, "5", None),
            submit(3, "ETHUSD", Side::Sell, "2", None),
            submit(4, "BTCUSD", Side::Buy, "1", Some("90")),
        ],
    );
    assert_eq!((position(&execution, "BTCUSD"), position(&execution, "ETHUSD")), (fp("5"), fp("-2")));
    assert_eq!(views::open_orders(execution.state()).len(), 1);
    // Killed with a cap of 300: BTC 5 at 100 = 500 goes in chunks of 3 and 2; ETH buys back 2.
    let out = feed(&mut execution, &[risk(5, "300", "1", false, true)]);
    assert_eq!(acks(&out)[0].status, AckStatus::Canceled);
    let o: Vec<(String, Side, FixedPoint, &str)> =
        orders(&out).iter().map(|o| (o.symbol.clone(), o.side, o.qty, o.meta.get("cause").map_or("", String::as_str))).collect();
    assert_eq!(
        o,
        vec![
            ("BTCUSD".to_string(), Side::Sell, fp("3"), "kill"),
            ("BTCUSD".to_string(), Side::Sell, fp("2"), "kill"),
            ("ETHUSD".to_string(), Side::Buy, fp("2"), "kill"),
        ]
    );
    assert!(orders(&out).iter().all(|o| o.order_type == OrderType::Market));
    assert_eq!((position(&execution, "BTCUSD"), position(&execution, "ETHUSD")), (FixedPoint::ZERO, FixedPoint::ZERO));
    assert!(views::open_orders(execution.state()).is_empty());
    // While killed nothing new is routed.
    let out = feed(&mut execution, &[signal(6, "BTCUSD", SignalSide::Buy, "0.9", "1")]);
    assert!(orders(&out).is_empty());
    assert!(acks(&out)[0].reason.as_deref().is_some_and(|r| r.contains("hard kill")));
}

#[test]
fn an_exposure_trim_reduces_each_position_by_the_fraction() {
    let mut execution = Execution::new(ExecConfig::default());
    feed(
        &mut execution,
        &[
            risk(0, "1000", "1", false, false),
            tick(1, "BTCUSD", "100", None, "100"),
            tick(1, "ETHUSD", "10", None, "100"),
            submit(2, "BTCUSD", Side::Buy, "2", None),
            submit(3, "ETHUSD", Side::Sell, "3", None),
        ],
    );
    // 0.25 of BTC 2 = 0.5 sold; of ETH −3 = 0.75 bought.
    let out = feed(&mut execution, &[trim(4, "0.25", None)]);
    let o: Vec<(Side, FixedPoint)> = orders(&out).iter().map(|o| (o.side, o.qty)).collect();
    assert_eq!(o, vec![(Side::Sell, fp("0.5")), (Side::Buy, fp("0.75"))]);
    assert_eq!((position(&execution, "BTCUSD"), position(&execution, "ETHUSD")), (fp("1.5"), fp("-2.25")));
    // One symbol only: 1/3 of 1.5 = 0.5; a fraction outside (0, 1] is refused.
    let out = feed(&mut execution, &[trim(5, "0.33333333", Some("BTCUSD"))]);
    assert_eq!(orders(&out).iter().map(|o| (o.symbol.as_str(), o.qty)).collect::<Vec<_>>(), vec![("BTCUSD", fp("0.4999"))], "1.5 × 0.33333333 = 0.499999995 floored to 0.4999");
    let producer = producer();
    let bad = trim(6, "1.5", None);
    let mut outputs = Vec::new();
    let mut emitter = Emitter::new("execution", &producer, bad.event_id(), bad.event_time(), &mut outputs);
    assert!(DynAgent::handle(&mut execution, &bad, &mut emitter).is_err());
}

#[test]
fn cancel_commands_and_invalid_commands() {
    let mut execution = Execution::new(ExecConfig::default());
    let out = feed(&mut execution, &[risk(0, "1000", "1", false, false), tick(1, "BTCUSD", "100", None, "100"), submit(2, "BTCUSD", Side::Buy, "1", Some("95"))]);
    let order_id = orders(&out)[0].order_id.clone();
    let BusEvent::Command(submitted) = submit(2, "BTCUSD", Side::Buy, "1", Some("95")) else { unreachable!() };
    assert_eq!(manual_order_id(&submitted), order_id, "the route can name the order in advance");
    let out = feed(&mut execution, &[cancel(3, &order_id)]);
    assert_eq!((acks(&out)[0].status, acks(&out)[0].order_id.as_str()), (AckStatus::Canceled, order_id.as_str()));
    assert!(execution.state().venue.book.is_empty(), "gone from the venue book too");
    let out = feed(&mut execution, &[cancel(4, &order_id)]);
    assert_eq!((acks(&out)[0].status, acks(&out)[0].route.as_str()), (AckStatus::Rejected, EXECUTION_ROUTE));
    // A limit order without a price, or a command for another agent.
    let producer = producer();
    let bad = BusEvent::Command(Command { symbol: Some("BTCUSD".into()), side: Some(Side::Buy), qty: Some(FixedPoint::ONE), order_type: Some(OrderType::Limit), ..command(5, CommandKind::SubmitOrder) });
    let before = execution.state().clone();
    let mut outputs = Vec::new();
    let mut emitter = Emitter::new("execution", &producer, bad.event_id(), bad.event_time(), &mut outputs);
    assert!(DynAgent::handle(&mut execution, &bad, &mut emitter).is_err());
    assert_eq!(execution.state(), &before);
    let other = BusEvent::Command(Command { target: "portfolio".into(), ..command(6, CommandKind::SubmitOrder) });
    assert!(feed(&mut execution, &[other]).is_empty());
}

/// A scenario touching every path: signals both ways, resting and market orders, partial
/// fills, rejects with retries, a trim and a kill.
fn scenario() -> Vec<BusEvent> {
    let mut events = vec![risk(0, "500", "0.8", false, false)];
    for i in 0..30 {
        let price = format!("{}", 100 + (i * 37 % 11) - 5);
        let bid = format!("{}.9", 100 + (i * 37 % 11) - 6);
        let ask = format!("{}.1", 100 + (i * 37 % 11) - 5);
        events.push(tick(1 + i * 10, "BTCUSD", &price, Some((&bid, &ask)), &format!("{}", 1 + i % 4)));
        let (side, score) = match i % 5 {
            0 => (SignalSide::Buy, "0.1"),
            1 => (SignalSide::Buy, "0.6"),
            2 => (SignalSide::Sell, "-0.15"),
            3 => (SignalSide::Sell, "-0.7"),
            _ => (SignalSide::Flat, "0"),
        };
        events.push(signal(2 + i * 10, "BTCUSD", side, score, "0.9"));
        if i == 12 {
            events.push(trim(3 + i * 10, "0.5", None));
        }
    }
    events.push(risk(400, "500", "0.8", false, true));
    events
}

fn scenario_config() -> ExecConfig {
    let mut config = ExecConfig::default();
    config.paper.reject_rate_bps = 3_000;
    config
}

#[test]
fn same_inputs_give_identical_outputs_and_ids() {
    let run = || feed(&mut Execution::new(scenario_config()), &scenario());
    let first = run();
    assert_eq!(first, run());
    assert!(fills(&first).iter().any(|f| f.liquidity == Liquidity::Maker) && fills(&first).iter().any(|f| f.liquidity == Liquidity::Taker), "both styles exercised");
    assert!(acks(&first).iter().any(|a| a.status == AckStatus::Rejected), "rejects exercised");
    let ids: std::collections::BTreeSet<&str> = orders(&first).iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(ids.len(), orders(&first).len(), "order ids are unique");
    let fill_ids: std::collections::BTreeSet<&str> = fills(&first).iter().map(|f| f.fill_id.as_str()).collect();
    assert_eq!(fill_ids.len(), fills(&first).len(), "fill ids are unique");
}

#[test]
fn a_restored_snapshot_continues_identically() {
    let events = scenario();
    let whole = feed(&mut Execution::new(scenario_config()), &events);
    for cut in [5, 23, 40] {
        let mut first = Execution::new(scenario_config());
        let mut outputs = feed(&mut first, &events[..cut]);
        let snapshot = DynAgent::snapshot(&first).expect("snapshot");
        let mut resumed = Execution::new(scenario_config());
        DynAgent::restore_snapshot(&mut resumed, &snapshot).expect("restore");
        assert_eq!(resumed.state(), first.state());
        outputs.extend(feed(&mut resumed, &events[cut..]));
        assert_eq!(outputs, whole, "cut at {cut}");
    }
}

#[test]
fn reconciliation_publishes_missing_fills_once_and_cancels_unknown_orders() {
    let mut execution = Execution::new(ExecConfig::default());
    let out = feed(
        &mut execution,
        &[risk(0, "1000", "1", false, false), tick(1, "BTCUSD", "100", None, "100"), submit(2, "BTCUSD", Side::Buy, "2", Some("95")), submit(3, "BTCUSD", Side::Sell, "1", Some("105"))],
    );
    let (buy, sell) = (orders(&out)[0].order_id.clone(), orders(&out)[1].order_id.clone());
    let venue_fill = |n: u32, qty: &str| VenueFill {
        fill_id: format!("ext-{n}"),
        order_id: buy.clone(),
        symbol: "BTCUSD".into(),
        side: Side::Buy,
        price: fp("95"),
        qty: fp(qty),
        fee: fp("-0.01"),
        liquidity: Liquidity::Maker,
        route: "paper".into(),
    };
    // The venue filled 0.5 + 0.5 of the buy while we were down, still has 1 open; the sell is gone.
    let venue_orders = [VenueOpenOrder { order_id: buy.clone(), remaining: fp("1") }, VenueOpenOrder { order_id: "someone-else".into(), remaining: fp("1") }];
    let venue_fills = [venue_fill(1, "0.5"), venue_fill(2, "0.5")];
    let producer = producer();
    let mut outputs = Vec::new();
    let mut emitter = Emitter::new("execution", &producer, id(10, "reconcile"), time(10), &mut outputs);
    let report = reconcile(&mut execution.state, &venue_orders, &venue_fills, &mut emitter);
    assert_eq!(report.fills_added, vec!["ext-1".to_string(), "ext-2".to_string()]);
    assert_eq!(report.orders_canceled, vec![sell.clone()]);
    assert_eq!(report.unknown_venue_orders, vec!["someone-else".to_string()]);
    assert_eq!(fills(&outputs).len(), 2);
    assert_eq!((acks(&outputs)[0].order_id.as_str(), acks(&outputs)[0].status), (sell.as_str(), AckStatus::Canceled));
    assert_eq!(position(&execution, "BTCUSD"), fp("1"));
    assert_eq!(views::open_orders(execution.state()).iter().map(|o| (o.order_id.clone(), o.remaining.clone())).collect::<Vec<_>>(), vec![(buy.clone(), "1".to_string())]);

    // Again, with an overlapping report plus one new fill: only the new fill goes out.
    let mut outputs = Vec::new();
    let mut emitter = Emitter::new("execution", &producer, id(11, "reconcile"), time(11), &mut outputs);
    let report = reconcile(&mut execution.state, &[], &[venue_fill(1, "0.5"), venue_fill(2, "0.5"), venue_fill(3, "1")], &mut emitter);
    assert_eq!(report.fills_added, vec!["ext-3".to_string()]);
    assert_eq!(fills(&outputs).len(), 1);
    assert!(acks(&outputs).is_empty(), "the buy completed by its fills, nothing left to cancel");
    assert_eq!(position(&execution, "BTCUSD"), fp("2"), "2 bought in total: nothing lost, nothing doubled");
    assert!(execution.state().open_orders.is_empty());
}

#[test]
fn alpha_signals_drive_execution_within_the_cap() {
    use crate::alpha::{Alpha, AlphaConfig};
    let producer = producer();
    let mut alpha = Alpha::new(AlphaConfig { min_ticks: 5, momentum_window: 3, mean_reversion_window: 4, breakout_window: 3, ..AlphaConfig::default() });
    let mut execution = Execution::new(ExecConfig::default());
    let mut outputs = feed(&mut execution, &[risk(0, "250", "0.6", false, false)]);
    for i in 0..60i64 {
        let cents = 10_000 + (i * 53 % 41) * 7 - 140 + i * 3;
        let (price, bid, ask) = (format!("{}.{:02}", cents / 100, cents % 100), format!("{}.{:02}", (cents - 1) / 100, (cents - 1) % 100), format!("{}.{:02}", (cents + 1) / 100, (cents + 1) % 100));
        let tick = tick(1 + i, "BTCUSD", &price, Some((&bid, &ask)), "3");
        let mut signals = Vec::new();
        let mut out = Emitter::new("alpha", &producer, tick.event_id(), tick.event_time(), &mut signals);
        DynAgent::handle(&mut alpha, &tick, &mut out).expect("tick accepted");
        outputs.extend(feed(&mut execution, &[tick]));
        let traded = feed(&mut execution, &signals);
        for order in orders(&traded) {
            // The gate's notional: qty × (limit price, or the last price for market orders).
            let reference = order.limit_price.unwrap_or(fp(&price));
            assert!(order.qty.checked_mul(reference).expect("small") <= fp("250"), "{order:?} at {price}");
            assert!(order.signal_id.is_some());
        }
        outputs.extend(traded);
    }
    assert!(orders(&outputs).len() >= 3, "the series trades: {} orders", orders(&outputs).len());
    assert!(!fills(&outputs).is_empty());
}

#[test]
fn a_full_size_maker_sell_is_sized_at_its_limit_and_passes_the_gate() {
    // Cap 1 000, Kelly 1, confidence 1; last price 100, quote 99 / 101. Score −0.15: edge
    // 0.75 bps < 1 -> post-only limit at the ask, 101. Sized at the last price it would be
    // floor(1 000 ÷ 100) = 10, notional at the limit 10 × 101 = 1 010 > 1 000: the gate would
    // refuse the signal's own order. Sized at the limit: 1 000 ÷ 101 = 9.90099… -> 9.9009
    // (step 0.0001), notional 9.9009 × 101 = 999.9909 ≤ 1 000.
    let mut execution = Execution::new(ExecConfig::default());
    feed(&mut execution, &[risk(0, "1000", "1", false, false), tick(1, "BTCUSD", "100", Some(("99", "101")), "5")]);
    let out = feed(&mut execution, &[signal(2, "BTCUSD", SignalSide::Sell, "-0.15", "1")]);
    let o = orders(&out);
    assert_eq!(o.len(), 1, "{out:?}");
    assert_eq!((o[0].side, o[0].qty, o[0].order_type, o[0].limit_price), (Side::Sell, fp("9.9009"), OrderType::Limit, Some(fp("101"))));
    assert_eq!(acks(&out).iter().map(|a| (a.status, a.route.as_str())).collect::<Vec<_>>(), [(AckStatus::Accepted, "paper")]);
    // A maker buy rests at the bid, 99: 1 000 ÷ 99 = 10.10101… -> 10.101, notional 999.999.
    let out = feed(&mut execution, &[signal(3, "ETHUSD", SignalSide::Buy, "0.15", "1")]);
    assert_eq!(acks(&out)[0].route, EXECUTION_ROUTE, "no ETHUSD market yet");
    feed(&mut execution, &[tick(4, "ETHUSD", "100", Some(("99", "101")), "5")]);
    let out = feed(&mut execution, &[signal(5, "ETHUSD", SignalSide::Buy, "0.15", "1")]);
    assert_eq!(orders(&out).iter().map(|o| (o.qty, o.limit_price)).collect::<Vec<_>>(), [(fp("10.101"), Some(fp("99")))]);
}

#[test]
fn ack_counts_follow_every_published_ack_by_status_and_survive_a_restore() {
    let mut execution = Execution::new(ExecConfig::default());
    // No market data (rejected), a resting limit (accepted), its cancel (canceled), a second
    // cancel of the same order (rejected), a market buy (accepted and filled).
    let mut out = feed(&mut execution, &[risk(0, "1000", "1", false, false), submit(1, "ETHUSD", Side::Buy, "1", None), tick(2, "BTCUSD", "100", Some(("99", "101")), "100")]);
    out.extend(feed(&mut execution, &[submit(3, "BTCUSD", Side::Buy, "1", Some("95"))]));
    let resting = orders(&out).last().expect("a resting order").order_id.clone();
    out.extend(feed(&mut execution, &[cancel(4, &resting), cancel(5, &resting), submit(6, "BTCUSD", Side::Buy, "1", None)]));
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for ack in acks(&out) {
        *expected.entry(ack_status_name(ack.status).to_string()).or_default() += 1;
    }
    assert_eq!(expected.get("REJECTED"), Some(&2), "{expected:?}");
    assert_eq!(expected.get("CANCELED"), Some(&1), "{expected:?}");
    assert_eq!(expected.get("ACCEPTED"), Some(&2), "{expected:?}");
    assert_eq!(execution.state().ack_counts, expected);
    // A snapshot written before the counters existed restores with none.
    let mut json = serde_json::to_value(execution.state()).expect("state as JSON");
    json.as_object_mut().expect("an object").remove("ack_counts");
    let old: ExecutionState = serde_json::from_value(json).expect("an older snapshot restores");
    assert!(old.ack_counts.is_empty());
}

#[test]
fn published_fill_ids_are_bounded_forgetting_the_smallest_first() {
    let mut execution = Execution::new(ExecConfig::default());
    let producer = producer();
    // Zero-padded ids sort as they were made, like the paper venue's UUIDv7 ids.
    let venue_fill = |n: usize| VenueFill {
        fill_id: format!("ext-{n:06}"),
        order_id: "gone".into(),
        symbol: "BTCUSD".into(),
        side: if n.is_multiple_of(2) { Side::Buy } else { Side::Sell },
        price: fp("100"),
        qty: fp("0.001"),
        fee: FixedPoint::ZERO,
        liquidity: Liquidity::Taker,
        route: "paper".into(),
    };
    let all: Vec<VenueFill> = (0..SEEN_FILLS_KEPT + 10).map(venue_fill).collect();
    let mut outputs = Vec::new();
    let mut emitter = Emitter::new("execution", &producer, id(1, "reconcile"), time(1), &mut outputs);
    let report = reconcile(&mut execution.state, &[], &all, &mut emitter);
    assert_eq!(report.fills_added.len(), SEEN_FILLS_KEPT + 10, "every fill published once");
    let seen = &execution.state().seen_fills;
    assert_eq!(seen.len(), SEEN_FILLS_KEPT, "the set stops growing at its bound");
    assert_eq!(seen.first().map(String::as_str), Some("ext-000010"), "the 10 smallest ids were forgotten");
    // A report overlapping the kept ids publishes nothing again.
    let mut outputs = Vec::new();
    let mut emitter = Emitter::new("execution", &producer, id(2, "reconcile"), time(2), &mut outputs);
    let report = reconcile(&mut execution.state, &[], &all[10..], &mut emitter);
    assert!(report.fills_added.is_empty() && fills(&outputs).is_empty(), "{:?}", report.fills_added);
}
