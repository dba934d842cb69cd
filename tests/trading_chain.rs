//! The trading chain end to end: Alpha → RiskSentinel → Execution (paper venue) →
//! Portfolio on a scripted market.
//!
//! - On the embedded runtime, every order, fill, pnl and risk state of the script is
//!   computed by hand below and asserted exactly: a buy, a mark-to-market move, a sell that
//!   realizes PnL (and flips the position), a rally that halts trading past the daily
//!   drawdown, and a later signal the risk gate refuses.
//! - On a real broker (one Kafka runtime per agent, threads of this process), the same script
//!   gives the same orders, acks, fills, pnl and risk states, ids included.
//! - A property test over random markets on the embedded runtime: every pnl satisfies
//!   equity = cash + Σ qty × mark, and no order reaches the venue above the risk cap (or
//!   adding exposure during a halt) of the risk state in force.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use maxx_agents::alpha::{Alpha, AlphaConfig, WeightsConfig};
use maxx_agents::execution::{ExecConfig, Execution, PaperVenueConfig, RISK_GATE_ROUTE};
use maxx_agents::portfolio::{Portfolio, PortfolioConfig};
use maxx_agents::risk::{RiskConfig, RiskSentinel};
use maxx_agents::DynAgent;
use maxx_events::{
    AckStatus, BusCodec, BusEvent, EventId, EventTime, Fill, FixedPoint, Liquidity, Order, OrderAck, OrderType, Pnl, Position, Producer,
    Registration, RiskEvent, RiskEventKind, RiskState, SentimentScore, Session, SessionEvent, SessionEventKind, Severity, Side, Signal,
    SignalSide, Tick,
};
use maxx_runtime::{EmbeddedRuntime, KafkaRuntime, RuntimeError};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------
// Configuration: chosen so that the arithmetic is tractable.
// ---------------------------------------------------------------------------------------

fn fp(text: &str) -> FixedPoint {
    text.parse().expect("a number")
}

/// Only the sentiment weight is non-zero: a signal's score is the sentiment score itself
/// (read at the time it was stamped, so undecayed) and its confidence is 1 (one component
/// always agrees with itself). A signal needs one tick (`min_ticks` 1).
fn alpha_config() -> AlphaConfig {
    let zero = FixedPoint::ZERO;
    AlphaConfig {
        weights: WeightsConfig { momentum: zero, mean_reversion: zero, breakout: zero, sentiment: FixedPoint::ONE },
        momentum_window: 2,
        mean_reversion_window: 2,
        breakout_window: 2,
        // 30 days: a score one or two seconds old has decayed by ~2e-7, far below
        // min_score_change, so ticks after a score emit no new signal.
        sentiment_half_life_sec: 30 * 86_400,
        signal_threshold: fp("0.1"),
        min_ticks: 1,
        min_score_change: fp("0.05"),
        ..AlphaConfig::default()
    }
}

/// Cap 50 % of equity per trade, Kelly 0.4, halt past 5 % intraday drawdown. The hard kill
/// (50 %) and the tighter Kelly (past 100 %) are out of reach; the slippage limit (1 %) is
/// above the script's fills (≤ 0.71 %), so no risk event but the halt is raised.
fn risk_config() -> RiskConfig {
    RiskConfig {
        max_trade_risk_pct: fp("50"),
        daily_drawdown_pct: fp("5"),
        slippage_limit_pct: fp("1"),
        hard_kill_pct: fp("50"),
        kelly_fraction: fp("0.4"),
        kelly_fraction_after_drawdown: fp("0.2"),
        kelly_clamp_drawdown_pct: fp("100"),
    }
}

/// Whole units (`qty_step` 1). Expected edge = |score| × 10 bps ≥ 1 bps for every signal
/// of the script: market orders (taker). The paper venue charges a 10 bps taker fee and,
/// because the script's ticks carry no volume, the maximum slippage of 20 bps.
fn exec_config() -> ExecConfig {
    ExecConfig {
        maker_rebate_threshold_bps: fp("1"),
        fallback_on_reject: false,
        edge_bps_per_score: fp("10"),
        qty_step: FixedPoint::ONE,
        paper: PaperVenueConfig {
            maker_fee_bps: FixedPoint::ZERO,
            taker_fee_bps: fp("10"),
            slippage_bps_at_volume: FixedPoint::ZERO,
            max_slippage_bps: fp("20"),
            min_qty: FixedPoint::ONE,
            reject_rate_bps: 0,
            route_reject_rate_bps: BTreeMap::new(),
        },
        ..ExecConfig::default()
    }
}

/// 10 000 of cash; a pnl at the first input and then on every change (the cadence, one
/// day, does not come due within the script's day).
fn portfolio_config() -> PortfolioConfig {
    PortfolioConfig { starting_cash: fp("10000"), lockbox_pct: fp("20"), pnl_interval_ms: 86_400_000 }
}

const AGENTS: [&str; 4] = ["alpha", "risk_sentinel", "execution", "portfolio"];

fn make(name: &str) -> Box<dyn DynAgent> {
    match name {
        "alpha" => Box::new(Alpha::new(alpha_config())),
        "risk_sentinel" => Box::new(RiskSentinel::new(risk_config())),
        "execution" => Box::new(Execution::new(exec_config())),
        "portfolio" => Box::new(Portfolio::new(portfolio_config())),
        other => panic!("no agent {other}"),
    }
}

/// The four agents in process, stamped as instance 0 (as the Kafka runtime stamps them).
fn embedded() -> EmbeddedRuntime {
    let mut runtime = EmbeddedRuntime::new();
    runtime
        .add(Alpha::new(alpha_config()), "alpha-0")
        .add(RiskSentinel::new(risk_config()), "risk_sentinel-0")
        .add(Execution::new(exec_config()), "execution-0")
        .add(Portfolio::new(portfolio_config()), "portfolio-0");
    runtime
}

// ---------------------------------------------------------------------------------------
// The scripted market.
// ---------------------------------------------------------------------------------------

/// 2026-07-13 10:00:00 UTC.
const T0_US: i64 = 1_783_936_800_000_000;

fn at(second: i64) -> EventTime {
    EventTime::from_micros(T0_US + second * 1_000_000)
}

fn feed(agent: &str) -> Producer {
    Producer { agent: agent.into(), version: "test".into(), instance: format!("{agent}-0") }
}

/// A tick at `second` with last price `price` and a quote of ±0.5 around it (so the mid,
/// the Portfolio's mark, is the price), no volume.
fn tick(second: i64, symbol: &str, price: &str) -> BusEvent {
    let price = fp(price);
    let half = fp("0.5");
    BusEvent::Tick(Tick {
        event_id: EventId::derive(at(second), &[b"tick", symbol.as_bytes()]),
        event_time: at(second),
        producer: feed("market_data"),
        symbol: symbol.into(),
        exchange: "synthetic".into(),
        price,
        volume: FixedPoint::ZERO,
        bid: price.checked_sub(half),
        ask: price.checked_add(half),
        venue_seq: Some(second),
    })
}

fn sentiment(second: i64, symbol: &str, score: &str) -> BusEvent {
    BusEvent::SentimentScore(SentimentScore {
        event_id: EventId::derive(at(second), &[b"sentiment", symbol.as_bytes()]),
        event_time: at(second),
        producer: feed("sentiment"),
        symbol: symbol.into(),
        score: fp(score),
        source: "script".into(),
        item_id: format!("{symbol}-{second}"),
        title: None,
    })
}

/// The script, one input per step. Signals come from sentiment scores, not from price
/// moves: a score is stamped with the time of the tick that follows it, and that tick
/// repeats the previous market of its symbol exactly (price and quote). So a signal's tick
/// moves no mark (no pnl, no risk state in the same step), and Execution sizes and fills the
/// same whether it reads the tick or the signal first; ticks that move the market cause no
/// signal (a pnl and a risk state only). Within a step, the inputs any one agent receives
/// from different topics therefore commute, which is what lets the broker run (below),
/// paced step by step, match this one exactly. (With a breakout signal, the tick that
/// breaks out would reach Execution both directly and through Alpha's signal, and which
/// comes first on the broker is not up to the test.)
fn script() -> Vec<BusEvent> {
    vec![
        tick(0, "BTCUSD", "100"),        // 0: first input: first pnl and first risk state
        tick(1, "ETHUSD", "50"),         // 1: ETHUSD has a market (for step 10)
        sentiment(2, "BTCUSD", "0.8"),   // 2: bullish
        tick(2, "BTCUSD", "100"),        // 3: -> BUY
        tick(3, "BTCUSD", "110"),        // 4: mark to market, up
        sentiment(4, "BTCUSD", "-0.8"),  // 5: bearish
        tick(4, "BTCUSD", "110"),        // 6: -> SELL: closes the long, opens a short
        tick(5, "BTCUSD", "140"),        // 7: rally: 3.875 % drawdown, still trading
        tick(6, "BTCUSD", "160"),        // 8: rally: 7.475 % drawdown, halted
        sentiment(7, "ETHUSD", "0.8"),   // 9: bullish on ETHUSD
        tick(7, "ETHUSD", "50"),         // 10: -> BUY, refused by the risk gate
    ]
}

/// What one step of the script did on the embedded runtime.
struct Step {
    /// Everything the step's input caused, in the runtime's order (the input excluded).
    caused: Vec<BusEvent>,
    /// Each agent's state afterwards (JSON, as its snapshot holds it).
    states: BTreeMap<&'static str, serde_json::Value>,
}

fn state_of(runtime: &EmbeddedRuntime, name: &str) -> serde_json::Value {
    let bytes = runtime.agent(name).expect("agent").snapshot().expect("snapshot");
    serde_json::from_slice(&bytes).expect("json")
}

/// Runs the script one input at a time: each input's consequences are all handled before
/// the next input is published.
fn run_embedded(script: &[BusEvent]) -> Vec<Step> {
    let mut runtime = embedded();
    script
        .iter()
        .map(|input| {
            runtime.publish(input.clone());
            let mut log = runtime.run_until_idle(1_000).expect("the chain comes to rest");
            assert_eq!(log.remove(0), *input);
            let states = AGENTS.iter().map(|name| (*name, state_of(&runtime, name))).collect();
            Step { caused: log, states }
        })
        .collect()
}

fn signals(events: &[BusEvent]) -> Vec<&Signal> {
    events.iter().filter_map(|e| if let BusEvent::Signal(s) = e { Some(s) } else { None }).collect()
}
fn orders(events: &[BusEvent]) -> Vec<&Order> {
    events.iter().filter_map(|e| if let BusEvent::Order(o) = e { Some(o) } else { None }).collect()
}
fn acks(events: &[BusEvent]) -> Vec<&OrderAck> {
    events.iter().filter_map(|e| if let BusEvent::OrderAck(a) = e { Some(a) } else { None }).collect()
}
fn fills(events: &[BusEvent]) -> Vec<&Fill> {
    events.iter().filter_map(|e| if let BusEvent::Fill(f) = e { Some(f) } else { None }).collect()
}
fn pnls(events: &[BusEvent]) -> Vec<&Pnl> {
    events.iter().filter_map(|e| if let BusEvent::Pnl(p) = e { Some(p) } else { None }).collect()
}
fn risk_states(events: &[BusEvent]) -> Vec<&RiskState> {
    events.iter().filter_map(|e| if let BusEvent::RiskState(r) = e { Some(r) } else { None }).collect()
}
fn risk_events(events: &[BusEvent]) -> Vec<&RiskEvent> {
    events.iter().filter_map(|e| if let BusEvent::RiskEvent(r) = e { Some(r) } else { None }).collect()
}
fn topics(events: &[BusEvent]) -> Vec<&'static str> {
    events.iter().map(BusEvent::topic).collect()
}

/// `(equity, cash, realized, unrealized, fees, lockbox)` of a pnl.
fn money(pnl: &Pnl) -> [FixedPoint; 6] {
    [pnl.equity, pnl.cash, pnl.realized, pnl.unrealized, pnl.fees, pnl.lockbox]
}

fn amounts(values: [&str; 6]) -> [FixedPoint; 6] {
    values.map(fp)
}

fn position(symbol: &str, qty: &str, avg: &str, mark: &str, unrealized: &str) -> Position {
    Position { symbol: symbol.into(), qty: fp(qty), avg_price: fp(avg), mark_price: fp(mark), unrealized: fp(unrealized) }
}

/// `(equity, day_start_equity, drawdown_pct, halted, killed, kelly_fraction, max_trade_risk)`.
fn risk_fields(r: &RiskState) -> (FixedPoint, FixedPoint, FixedPoint, bool, bool, FixedPoint, FixedPoint) {
    (r.equity, r.day_start_equity, r.drawdown_pct, r.halted, r.killed, r.kelly_fraction, r.max_trade_risk)
}

fn expect_risk(equity: &str, start: &str, drawdown: &str, halted: bool, max_trade_risk: &str) -> (FixedPoint, FixedPoint, FixedPoint, bool, bool, FixedPoint, FixedPoint) {
    (fp(equity), fp(start), fp(drawdown), halted, false, fp("0.4"), fp(max_trade_risk))
}

fn only<T>(items: Vec<T>, what: &str) -> T {
    assert_eq!(items.len(), 1, "exactly one {what}");
    items.into_iter().next().expect("one")
}

// ---------------------------------------------------------------------------------------
// 1. The embedded run, by hand.
// ---------------------------------------------------------------------------------------

#[test]
fn a_scripted_market_trades_marks_realizes_and_halts_exactly_as_computed_by_hand() {
    let steps = run_embedded(&script());
    let every: Vec<BusEvent> = steps.iter().flat_map(|s| s.caused.clone()).collect();
    assert!(every.iter().all(|e| e.topic() != "dead_letters"), "no input is refused");

    // Step 0, tick BTCUSD 100 (bid 99.5, ask 100.5, mid 100).
    // Alpha: the first tick of BTCUSD, no sentiment yet: score 0, FLAT (Execution ignores it).
    // Portfolio: its first input publishes pnl: equity = cash = 10 000.
    // RiskSentinel: its first pnl publishes the first risk state: day start 10 000,
    // drawdown 0, max_trade_risk = 10 000 × 50 % = 5 000, Kelly 0.4.
    let s = &steps[0].caused;
    assert_eq!(topics(s), ["signals", "pnl", "risk_state"]);
    assert_eq!((signals(s)[0].side, signals(s)[0].score), (SignalSide::Flat, FixedPoint::ZERO));
    let pnl = only(pnls(s), "pnl");
    assert_eq!(money(pnl), amounts(["10000", "10000", "0", "0", "0", "0"]));
    assert!(pnl.positions.is_empty());
    assert_eq!(risk_fields(only(risk_states(s), "risk state")), expect_risk("10000", "10000", "0", false, "5000"));

    // Step 1, tick ETHUSD 50: a FLAT signal; no position is marked, so no pnl.
    assert_eq!(topics(&steps[1].caused), ["signals"]);
    // Step 2, sentiment +0.8 for BTCUSD: Alpha keeps it, nothing is published.
    assert!(steps[2].caused.is_empty());

    // Step 3, tick BTCUSD 100 at the score's time: sentiment 0.8 undecayed, weight 1:
    // score 0.8 ≥ 0.1 -> BUY, confidence 1.
    // Execution: target = floor(max_trade_risk 5 000 × Kelly 0.4 × confidence 1 ÷ price 100)
    //   = floor(20) = 20; cap = floor(5 000 ÷ 100) = 50; exposure 0 -> buy 20.
    //   Edge 0.8 × 10 = 8 bps ≥ 1 -> market order. Gate: notional 20 × 100 = 2 000 ≤ 5 000.
    // Paper venue: ask 100.5 + 20 bps slippage = 100.5 × 1.002 = 100.701;
    //   notional 20 × 100.701 = 2 014.02; taker fee 2 014.02 × 10 bps = 2.01402.
    // Portfolio: cash 10 000 − 2 014.02 − 2.01402 = 7 983.96598; 20 marked at the mid 100:
    //   value 2 000, unrealized 2 000 − 2 014.02 = −14.02;
    //   equity 7 983.96598 + 2 000 = 9 983.96598.
    // RiskSentinel: drawdown (10 000 − 9 983.96598) ÷ 10 000 = 0.16034020 %;
    //   max_trade_risk 9 983.96598 × 50 % = 4 991.98299.
    let s = &steps[3].caused;
    assert_eq!(topics(s), ["signals", "orders", "order_acks", "fills", "pnl", "risk_state"]);
    let buy_signal = only(signals(s), "signal");
    assert_eq!((buy_signal.side, buy_signal.score, buy_signal.confidence), (SignalSide::Buy, fp("0.8"), FixedPoint::ONE));
    let buy = only(orders(s), "order");
    assert_eq!(
        (buy.symbol.as_str(), buy.side, buy.qty, buy.order_type, buy.limit_price, buy.post_only, buy.route.as_str(), buy.signal_id),
        ("BTCUSD", Side::Buy, fp("20"), OrderType::Market, None, false, "paper", Some(buy_signal.event_id))
    );
    let ack = only(acks(s), "ack");
    assert_eq!((ack.order_id.as_str(), ack.status, ack.route.as_str()), (buy.order_id.as_str(), AckStatus::Accepted, "paper"));
    let fill = only(fills(s), "fill");
    assert_eq!(
        (fill.order_id.as_str(), fill.symbol.as_str(), fill.side, fill.qty, fill.price, fill.fee, fill.liquidity, fill.venue.as_str()),
        (buy.order_id.as_str(), "BTCUSD", Side::Buy, fp("20"), fp("100.701"), fp("2.01402"), Liquidity::Taker, "paper")
    );
    let pnl = only(pnls(s), "pnl");
    assert_eq!(money(pnl), amounts(["9983.96598", "7983.96598", "0", "-14.02", "2.01402", "0"]));
    assert_eq!(pnl.positions, [position("BTCUSD", "20", "100.701", "100", "-14.02")]);
    assert_eq!(risk_fields(only(risk_states(s), "risk state")), expect_risk("9983.96598", "10000", "0.1603402", false, "4991.98299"));

    // Step 4, tick BTCUSD 110 (mid 110): the score, 1 s old, moved by ~2e-7: no signal.
    // Portfolio marks 20 at 110: value 2 200, unrealized 2 200 − 2 014.02 = 185.98,
    //   equity 7 983.96598 + 2 200 = 10 183.96598.
    // RiskSentinel: above the day start, drawdown 0; max_trade_risk 5 091.98299.
    let s = &steps[4].caused;
    assert_eq!(topics(s), ["pnl", "risk_state"]);
    let pnl = only(pnls(s), "pnl");
    assert_eq!(money(pnl), amounts(["10183.96598", "7983.96598", "0", "185.98", "2.01402", "0"]));
    assert_eq!(pnl.positions, [position("BTCUSD", "20", "100.701", "110", "185.98")]);
    assert_eq!(risk_fields(only(risk_states(s), "risk state")), expect_risk("10183.96598", "10000", "0", false, "5091.98299"));

    // Step 5, sentiment −0.8: kept, nothing published.
    assert!(steps[5].caused.is_empty());

    // Step 6, tick BTCUSD 110: score −0.8 -> SELL, confidence 1.
    // Execution: target = −floor(5 091.98299 × 0.4 ÷ 110) = −floor(2 036.793196 ÷ 110)
    //   = −floor(18.516…) = −18; cap = floor(5 091.98299 ÷ 110) = floor(46.29…) = 46;
    //   exposure +20 -> sell 20 − (−18) = 38 ≤ 46. Gate: 38 × 110 = 4 180 ≤ 5 091.98299.
    // Paper venue: bid 109.5 − 20 bps = 109.5 × 0.998 = 109.281; notional 38 × 109.281
    //   = 4 152.678; fee 4.152678.
    // Portfolio: the sell closes the 20 long and opens an 18 short.
    //   Closed part: 20 × 109.281 = 2 185.62 − cost 2 014.02 = realized 171.6.
    //   Opened part: 4 152.678 − 2 185.62 = 1 967.058 received for 18: cost −1 967.058,
    //   average 109.281. Cash 7 983.96598 + 4 152.678 − 4.152678 = 12 132.491302;
    //   fees 2.01402 + 4.152678 = 6.166698. Marked at 110: value −1 980,
    //   unrealized −1 980 + 1 967.058 = −12.942; equity 12 132.491302 − 1 980 = 10 152.491302
    //   (= 10 000 + realized 171.6 + unrealized −12.942 − fees 6.166698).
    // RiskSentinel: drawdown 0; max_trade_risk 5 076.245651.
    let s = &steps[6].caused;
    assert_eq!(topics(s), ["signals", "orders", "order_acks", "fills", "pnl", "risk_state"]);
    let sell_signal = only(signals(s), "signal");
    assert_eq!((sell_signal.side, sell_signal.score, sell_signal.confidence), (SignalSide::Sell, fp("-0.8"), FixedPoint::ONE));
    let sell = only(orders(s), "order");
    assert_eq!(
        (sell.symbol.as_str(), sell.side, sell.qty, sell.order_type, sell.route.as_str(), sell.signal_id),
        ("BTCUSD", Side::Sell, fp("38"), OrderType::Market, "paper", Some(sell_signal.event_id))
    );
    assert_eq!(only(acks(s), "ack").status, AckStatus::Accepted);
    let fill = only(fills(s), "fill");
    assert_eq!(
        (fill.order_id.as_str(), fill.side, fill.qty, fill.price, fill.fee, fill.liquidity),
        (sell.order_id.as_str(), Side::Sell, fp("38"), fp("109.281"), fp("4.152678"), Liquidity::Taker)
    );
    let pnl = only(pnls(s), "pnl");
    assert_eq!(money(pnl), amounts(["10152.491302", "12132.491302", "171.6", "-12.942", "6.166698", "0"]));
    assert_eq!(pnl.positions, [position("BTCUSD", "-18", "109.281", "110", "-12.942")]);
    assert_eq!(risk_fields(only(risk_states(s), "risk state")), expect_risk("10152.491302", "10000", "0", false, "5076.245651"));

    // Step 7, tick BTCUSD 140: the short of 18 marked at 140: value −2 520, unrealized
    //   −2 520 + 1 967.058 = −552.942; equity 12 132.491302 − 2 520 = 9 612.491302.
    // RiskSentinel: drawdown 387.508698 ÷ 10 000 = 3.87508698 % ≤ 5 %: still trading;
    //   max_trade_risk 4 806.245651.
    let s = &steps[7].caused;
    assert_eq!(topics(s), ["pnl", "risk_state"]);
    assert_eq!(money(only(pnls(s), "pnl")), amounts(["9612.491302", "12132.491302", "171.6", "-552.942", "6.166698", "0"]));
    assert_eq!(risk_fields(only(risk_states(s), "risk state")), expect_risk("9612.491302", "10000", "3.87508698", false, "4806.245651"));

    // Step 8, tick BTCUSD 160: value −2 880, unrealized −912.942, equity 9 252.491302.
    // RiskSentinel: drawdown 747.508698 ÷ 10 000 = 7.47508698 % > 5 %: HALTED, and a
    //   critical DRAWDOWN_HALT risk event; max_trade_risk 4 626.245651.
    let s = &steps[8].caused;
    assert_eq!(topics(s), ["pnl", "risk_state", "risk_events"]);
    let final_pnl = only(pnls(s), "pnl");
    assert_eq!(money(final_pnl), amounts(["9252.491302", "12132.491302", "171.6", "-912.942", "6.166698", "0"]));
    assert_eq!(final_pnl.positions, [position("BTCUSD", "-18", "109.281", "160", "-912.942")]);
    let halted = only(risk_states(s), "risk state");
    assert_eq!(risk_fields(halted), expect_risk("9252.491302", "10000", "7.47508698", true, "4626.245651"));
    let reason = "daily drawdown 7.47508698 % past 5 %";
    assert_eq!(halted.halt_reason.as_deref(), Some(reason));
    let event = only(risk_events(s), "risk event");
    assert_eq!((event.kind, event.severity, event.value, event.limit), (RiskEventKind::DrawdownHalt, Severity::Critical, Some(fp("7.47508698")), Some(fp("5"))));

    // Step 9, sentiment +0.8 for ETHUSD: kept.
    assert!(steps[9].caused.is_empty());

    // Step 10, tick ETHUSD 50: BUY (score 0.8, confidence 1). Execution sizes it
    //   (floor(4 626.245651 × 0.4 ÷ 50) = floor(37.0099…) = 37, notional 1 850 within the
    //   cap) but it adds exposure while trading is halted: the gate refuses it. Nothing is
    //   routed: no order, no fill; a REJECTED ack on route risk_gate gives the reason.
    let s = &steps[10].caused;
    assert_eq!(topics(s), ["signals", "order_acks"]);
    assert_eq!(only(signals(s), "signal").side, SignalSide::Buy);
    let refused = only(acks(s), "ack");
    assert_eq!((refused.status, refused.route.as_str(), refused.venue_order_id.as_deref()), (AckStatus::Rejected, RISK_GATE_ROUTE, None));
    assert_eq!(refused.reason.as_deref(), Some(format!("risk gate: trading halted: {reason}").as_str()));

    // The whole run: two orders, two fills, and every pnl satisfies the accounting identity
    // realized + unrealized − fees = equity − starting cash (+ lockbox, 0 here).
    assert_eq!(orders(&every).len(), 2);
    assert_eq!(fills(&every).len(), 2);
    for pnl in pnls(&every) {
        let lhs = pnl.realized.checked_add(pnl.unrealized).and_then(|v| v.checked_sub(pnl.fees)).expect("small");
        assert_eq!(lhs, pnl.equity.checked_sub(fp("10000")).and_then(|v| v.checked_add(pnl.lockbox)).expect("small"), "{pnl:?}");
    }
}

#[test]
fn the_halt_lifts_at_the_next_days_session_open_and_the_refused_trade_goes_through() {
    // The script, then (embedded only) the next day: the London open lifts the halt.
    let mut script = script();
    let next_day = 86_400; // seconds after T0: 2026-07-14 10:00:00 UTC
    script.push(BusEvent::SessionEvent(SessionEvent {
        event_id: EventId::derive(at(next_day), &[b"session"]),
        event_time: at(next_day),
        producer: feed("session_clock"),
        session: Session::London,
        event: SessionEventKind::Open,
        start_ts: at(next_day),
        end_ts: at(next_day + 8 * 3_600),
    }));
    script.push(sentiment(next_day + 1, "ETHUSD", "0.9"));
    script.push(tick(next_day + 1, "ETHUSD", "50"));
    let steps = run_embedded(&script);

    // The open (risk_sentinel handles it before portfolio): the halt lifts — a risk state
    // with halted = false (the drawdown still measured from yesterday's start) and a
    // HALT_RESET — then the Portfolio's daily cadence is due: a pnl with nothing changed,
    // which starts the new day for RiskSentinel: day start 9 252.491302, drawdown 0.
    let s = &steps[11].caused;
    assert_eq!(topics(s), ["risk_state", "risk_events", "pnl", "risk_state"]);
    let states = risk_states(s);
    assert_eq!(risk_fields(states[0]), expect_risk("9252.491302", "10000", "7.47508698", false, "4626.245651"));
    assert_eq!(risk_events(s)[0].kind, RiskEventKind::HaltReset);
    assert_eq!(money(pnls(s)[0]), amounts(["9252.491302", "12132.491302", "171.6", "-912.942", "6.166698", "0"]));
    assert_eq!(risk_fields(states[1]), expect_risk("9252.491302", "9252.491302", "0", false, "4626.245651"));

    // Then the next ETHUSD signal (0.9, moved ≥ 0.05) is routed: buy floor(4 626.245651 ×
    // 0.4 ÷ 50) = 37 at 50.5 × 1.002 = 50.601; notional 1 872.237, fee 1.872237.
    let s = &steps[13].caused;
    let order = only(orders(s), "order");
    assert_eq!((order.symbol.as_str(), order.side, order.qty), ("ETHUSD", Side::Buy, fp("37")));
    let fill = only(fills(s), "fill");
    assert_eq!((fill.price, fill.qty, fill.fee), (fp("50.601"), fp("37"), fp("1.872237")));
}

// ---------------------------------------------------------------------------------------
// 2. The same chain on the broker.
// ---------------------------------------------------------------------------------------

/// An agent running on the Kafka runtime, on its own thread.
struct Running {
    name: &'static str,
    shutdown: Arc<std::sync::atomic::AtomicBool>,
    stats: Arc<maxx_runtime::kafka::Stats>,
    thread: JoinHandle<Result<(), RuntimeError>>,
}

fn spawn(namespace: &str, name: &'static str) -> Running {
    let runtime = KafkaRuntime::new(support::kafka_config(namespace), support::registry());
    let (shutdown, stats) = (runtime.shutdown_handle(), runtime.stats());
    Running { name, shutdown, stats, thread: std::thread::spawn(move || runtime.run(|| make(name))) }
}

/// Polls `done` until it holds; fails the test with `what()` after `timeout`.
fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool, what: impl Fn() -> String) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "after {timeout:?}: {}", what());
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn stop(running: Running) {
    running.shutdown.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !running.thread.is_finished() {
        assert!(Instant::now() < deadline, "{} did not stop", running.name);
        std::thread::sleep(Duration::from_millis(20));
    }
    running.thread.join().expect("runtime thread").expect("clean stop");
}

/// Creates, in `namespace`, every topic the four agents read or write (with the shipped
/// topology's partition counts) plus the runtime's own.
fn create_topics(namespace: &str) {
    let topology = maxx_topology::Topology::parse(maxx_topology::TOPICS_YAML).expect("shipped topology");
    let mut names: BTreeSet<String> = ["dead_letters", "agent_state"].map(String::from).into_iter().collect();
    for name in AGENTS {
        let agent = make(name);
        names.extend(agent.inputs().iter().chain(agent.outputs()).map(|t| t.to_string()));
        names.insert(format!("state.{name}"));
    }
    for name in names {
        let partitions = topology.topic(&name).map_or(1, |t| t.partitions);
        maxx_testkit::create_topic(&format!("{namespace}{name}"), partitions);
    }
}

/// Produces one scripted input to its topic (keyed as on the bus), in its own transaction.
fn produce(namespace: &str, input: &BusEvent) {
    let codec = BusCodec::new(support::registry(), &[input.topic()], Registration::LookupOnly).expect("codec");
    let bytes = codec.encode(input).expect("encode");
    support::produce_raw(namespace, input.topic(), &[(Some(input.key().as_bytes()), Some(bytes.as_slice()))]);
}

/// Outputs per agent and topic, cumulated over the embedded steps up to `step`.
fn outputs_by_agent(steps: &[Step], upto: usize) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut counts: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for event in steps[..=upto].iter().flat_map(|s| &s.caused) {
        let producer = match event {
            BusEvent::Signal(e) => &e.producer,
            BusEvent::Order(e) => &e.producer,
            BusEvent::OrderAck(e) => &e.producer,
            BusEvent::Fill(e) => &e.producer,
            BusEvent::Pnl(e) => &e.producer,
            BusEvent::RiskState(e) => &e.producer,
            BusEvent::RiskEvent(e) => &e.producer,
            other => panic!("unexpected output {other:?}"),
        };
        *counts.entry(producer.agent.clone()).or_default().entry(event.topic().to_owned()).or_default() += 1;
    }
    counts
}

/// Reads back a topic of the namespace: exactly `expected.len()` committed events, which
/// must be the expected ones — each once, same content and ids — in the same order per key
/// (Kafka orders a topic only within a partition, i.e. per key).
fn assert_topic(namespace: &str, topic: &str, expected: &[BusEvent]) -> Vec<BusEvent> {
    let read = support::decode(topic, &support::read_committed(namespace, topic, expected.len(), Duration::from_secs(60)));
    support::assert_exactly_once(topic, &read, expected);
    assert_eq!(read.len(), expected.len(), "{topic}: nothing else");
    read
}

#[test]
fn the_same_chain_on_the_broker_gives_the_same_orders_fills_and_pnl() {
    let script = script();
    let steps = run_embedded(&script);
    let namespace = format!("{}.", maxx_testkit::unique_name("trading-chain"));
    create_topics(&namespace);
    let agents: Vec<Running> = AGENTS.iter().map(|name| spawn(&namespace, name)).collect();
    for agent in &agents {
        wait_until(
            Duration::from_secs(60),
            || agent.stats.lifecycle().map(|(state, _)| state) == Some(maxx_events::Lifecycle::Running),
            || format!("{} did not reach Running", agent.name),
        );
    }

    // Pacing. Kafka orders a topic's records only within a partition; an agent reading
    // several topics may see them in any interleaving. So the next input is produced only
    // once the previous one's consequences are all committed: every agent's committed state
    // (the state its last transaction wrote, together with that transaction's outputs) is
    // the state the embedded run reached after the same step, and every agent has committed
    // as many outputs per topic. Waiting on the states, not only on output counts, also
    // covers the steps that publish nothing (a sentiment score only changes Alpha's state)
    // and the next step must not overtake them: a tick read before its score would emit no
    // signal. Within one step, the script makes the inputs an agent receives commute (see
    // `script`): e.g. Execution sizes a signal the same whether it read the signal's tick
    // first or not, since that tick repeats the market it already knew. Hence everything
    // the broker run publishes equals the embedded run's, ids included (ids derive from the
    // ids of the causes, and each event has the same cause in both runs).
    for (n, (input, step)) in script.iter().zip(&steps).enumerate() {
        produce(&namespace, input);
        let outputs = outputs_by_agent(&steps, n);
        for agent in &agents {
            let expected_state = &step.states[agent.name];
            let expected_out = outputs.get(agent.name).cloned().unwrap_or_default();
            let committed = || -> Option<serde_json::Value> { agent.stats.committed_state().and_then(|bytes| serde_json::from_slice(&bytes).ok()) };
            // Outputs on the agent's bus topics (events_out also counts snapshots) and dead letters.
            let bus: Vec<&str> = make(agent.name).outputs().iter().copied().chain(["dead_letters"]).collect();
            let produced = || -> BTreeMap<String, u64> { agent.stats.events_out().into_iter().filter(|(topic, n)| *n > 0 && bus.contains(&topic.as_str())).collect() };
            wait_until(
                Duration::from_secs(60),
                || committed().as_ref() == Some(expected_state) && produced() == expected_out,
                || {
                    format!(
                        "step {n} ({}): {} committed {:?} outputs {:?}, expected {expected_out:?}; state\n{}\nexpected\n{expected_state}",
                        input.topic(),
                        agent.name,
                        agent.stats.committed_state().map(|b| String::from_utf8_lossy(&b).into_owned()),
                        agent.stats.events_out(),
                        committed().map(|s| s.to_string()).unwrap_or_default()
                    )
                },
            );
        }
    }

    // Everything each bus topic holds, against the embedded run: the same events, ids
    // included, each once. What is compared order-insensitively, and why: a topic of several
    // partitions (signals: 6, keyed by symbol) is read back partition by partition, so only
    // the order per key is the production order; events are compared as a set plus the
    // order within each key. orders, order_acks, fills, pnl, risk_state and risk_events have
    // one partition each, so for them that is the total order.
    let embedded: Vec<BusEvent> = steps.iter().flat_map(|s| s.caused.clone()).collect();
    let of = |topic: &str| embedded.iter().filter(|e| e.topic() == topic).cloned().collect::<Vec<_>>();
    let broker_orders = assert_topic(&namespace, "orders", &of("orders"));
    let broker_fills = assert_topic(&namespace, "fills", &of("fills"));
    assert_topic(&namespace, "order_acks", &of("order_acks"));
    let broker_pnl = assert_topic(&namespace, "pnl", &of("pnl"));
    assert_topic(&namespace, "risk_state", &of("risk_state"));
    assert_topic(&namespace, "risk_events", &of("risk_events"));
    assert_topic(&namespace, "signals", &of("signals"));
    assert_topic(&namespace, "dead_letters", &[]);
    for agent in agents {
        stop(agent);
    }

    // Spelled out: the same two orders and fills, and the same final pnl.
    assert_eq!(orders(&broker_orders).iter().map(|o| (o.side, o.qty)).collect::<Vec<_>>(), [(Side::Buy, fp("20")), (Side::Sell, fp("38"))]);
    assert_eq!(fills(&broker_fills).iter().map(|f| (f.price, f.fee)).collect::<Vec<_>>(), [(fp("100.701"), fp("2.01402")), (fp("109.281"), fp("4.152678"))]);
    let last = pnls(&broker_pnl).last().copied().cloned().expect("a pnl");
    assert_eq!(Some(&last), pnls(&embedded).last().copied());
    assert_eq!(money(&last), amounts(["9252.491302", "12132.491302", "171.6", "-912.942", "6.166698", "0"]));
}

// ---------------------------------------------------------------------------------------
// 3. Random markets: the accounting identity and the cap.
// ---------------------------------------------------------------------------------------

/// One random input: a tick moving a symbol's price by `move_bps`, a sentiment score, or a
/// session event, `gap` seconds after the previous input.
#[derive(Debug, Clone)]
enum RandomInput {
    Tick { symbol: usize, move_bps: i64, spread_bps: i64, volume: i64 },
    Sentiment { symbol: usize, hundredths: i64 },
    Session { open: bool },
}

fn random_input() -> impl Strategy<Value = (RandomInput, i64)> {
    let input = prop_oneof![
        6 => (0..2usize, -1500i64..1500, 0i64..40, 0i64..5).prop_map(|(symbol, move_bps, spread_bps, volume)| RandomInput::Tick { symbol, move_bps, spread_bps, volume }),
        3 => (0..2usize, -100i64..=100).prop_map(|(symbol, hundredths)| RandomInput::Sentiment { symbol, hundredths }),
        1 => any::<bool>().prop_map(|open| RandomInput::Session { open }),
    ];
    // Mostly seconds apart, sometimes into the next day (new day start, halt lifting).
    let gap = prop_oneof![8 => 1i64..30, 1 => Just(86_400i64)];
    (input, gap)
}

fn random_agents(max_trade_risk_pct: i64, daily: i64, maker_threshold_bps: i64) -> EmbeddedRuntime {
    let mut runtime = EmbeddedRuntime::new();
    let alpha = AlphaConfig { min_ticks: 2, momentum_window: 3, mean_reversion_window: 3, breakout_window: 3, ..AlphaConfig::default() };
    let risk = RiskConfig {
        max_trade_risk_pct: FixedPoint::from_raw(max_trade_risk_pct * FixedPoint::SCALE),
        daily_drawdown_pct: FixedPoint::from_raw(daily * FixedPoint::SCALE),
        hard_kill_pct: FixedPoint::from_raw((daily + 2) * FixedPoint::SCALE),
        kelly_clamp_drawdown_pct: FixedPoint::from_raw(daily * FixedPoint::SCALE / 2),
        ..RiskConfig::default()
    };
    let exec = ExecConfig {
        maker_rebate_threshold_bps: FixedPoint::from_raw(maker_threshold_bps * FixedPoint::SCALE),
        qty_step: fp("0.001"),
        paper: PaperVenueConfig { min_qty: fp("0.001"), reject_rate_bps: 500, ..PaperVenueConfig::default() },
        ..ExecConfig::default()
    };
    runtime
        .add(Alpha::new(alpha), "alpha-0")
        .add(RiskSentinel::new(risk), "risk_sentinel-0")
        .add(Execution::new(exec), "execution-0")
        .add(Portfolio::new(PortfolioConfig { pnl_interval_ms: 60_000, ..portfolio_config() }), "portfolio-0");
    runtime
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_pnl_balances_and_no_routed_order_exceeds_the_risk_state_in_force(
        inputs in prop::collection::vec(random_input(), 1..60),
        max_trade_risk_pct in 1i64..=60,
        daily in 1i64..=3,
        maker_threshold_bps in 0i64..=8,
    ) {
        let mut runtime = random_agents(max_trade_risk_pct, daily, maker_threshold_bps);
        let symbols = ["BTCUSD", "ETHUSD"];
        let mut prices = [100 * FixedPoint::SCALE, 50 * FixedPoint::SCALE];
        let mut second = 0i64;
        // What Execution knew when it routed each order, in the embedded runtime's order.
        let mut in_force: Option<RiskState> = None;
        let mut last_price: BTreeMap<String, FixedPoint> = BTreeMap::new();
        let mut positions: BTreeMap<String, FixedPoint> = BTreeMap::new();
        let (mut routed, mut priced) = (0usize, 0usize);
        for (n, (input, gap)) in inputs.into_iter().enumerate() {
            second += gap;
            let time = at(second);
            let id = EventId::derive(time, &[b"random", &n.to_be_bytes()]);
            let event = match input {
                RandomInput::Tick { symbol, move_bps, spread_bps, volume } => {
                    prices[symbol] = (prices[symbol] + prices[symbol] / 10_000 * move_bps).max(FixedPoint::SCALE);
                    let price = FixedPoint::from_raw(prices[symbol]);
                    let half = FixedPoint::from_raw(prices[symbol] / 20_000 * spread_bps);
                    BusEvent::Tick(Tick {
                        event_id: id, event_time: time, producer: feed("market_data"), symbol: symbols[symbol].into(), exchange: "random".into(),
                        price, volume: FixedPoint::from_raw(volume * FixedPoint::SCALE),
                        bid: price.checked_sub(half).filter(|b| b.is_positive()), ask: price.checked_add(half), venue_seq: None,
                    })
                }
                RandomInput::Sentiment { symbol, hundredths } => BusEvent::SentimentScore(SentimentScore {
                    event_id: id, event_time: time, producer: feed("sentiment"), symbol: symbols[symbol].into(),
                    score: FixedPoint::from_raw(hundredths * FixedPoint::SCALE / 100), source: "random".into(), item_id: n.to_string(), title: None,
                }),
                RandomInput::Session { open } => BusEvent::SessionEvent(SessionEvent {
                    event_id: id, event_time: time, producer: feed("session_clock"), session: Session::NewYork,
                    event: if open { SessionEventKind::Open } else { SessionEventKind::Close }, start_ts: time, end_ts: time,
                }),
            };
            runtime.publish(event);
            let mut handled = 0;
            while let Some((event, caused)) = runtime.step() {
                handled += 1;
                prop_assert!(handled < 10_000, "the chain comes to rest");
                match &event {
                    // Execution handles each event when the runtime steps it: what it read last is in force.
                    BusEvent::RiskState(state) => in_force = Some(state.clone()),
                    BusEvent::Tick(tick) => { last_price.insert(tick.symbol.clone(), tick.price); }
                    BusEvent::DeadLetter(letter) => prop_assert!(false, "refused input: {}", letter.reason),
                    _ => {}
                }
                for out in &caused {
                    match out {
                        BusEvent::Order(order) => {
                            routed += 1;
                            let risk = in_force.as_ref().expect("no order without a risk state");
                            // The gate's notional: quantity × limit price, or × the last price.
                            let reference = order.limit_price.or_else(|| last_price.get(&order.symbol).copied()).expect("priced");
                            let notional = order.qty.checked_mul(reference).expect("small");
                            prop_assert!(notional <= risk.max_trade_risk, "{order:?}: {notional} > cap {}", risk.max_trade_risk);
                            let held = positions.get(&order.symbol).copied().unwrap_or_default();
                            let reduces = match order.side {
                                Side::Buy => held.is_negative() && order.qty <= held.abs(),
                                Side::Sell => held.is_positive() && order.qty <= held,
                            };
                            prop_assert!(reduces || !(risk.halted || risk.killed), "{order:?} adds exposure while halted: {risk:?}");
                            priced += 1;
                        }
                        BusEvent::OrderAck(ack) if ack.route == RISK_GATE_ROUTE => {
                            // Orders are sized within the cap at the price the gate judges
                            // them at: only a halt or a kill refuses them.
                            let reason = ack.reason.as_deref().unwrap_or_default();
                            prop_assert!(!reason.contains("exceeds the per-trade risk cap"), "{ack:?}");
                        }
                        BusEvent::Fill(fill) => {
                            let held = positions.entry(fill.symbol.clone()).or_default();
                            let signed = if fill.side == Side::Buy { fill.qty } else { FixedPoint::from_raw(-fill.qty.raw()) };
                            *held = held.checked_add(signed).expect("small");
                        }
                        BusEvent::Pnl(pnl) => {
                            // equity = cash + Σ qty × mark (fees already paid out of cash).
                            let marked = pnl.positions.iter().try_fold(pnl.cash, |sum, p| sum.checked_add(p.qty.checked_mul(p.mark_price)?));
                            prop_assert_eq!(Some(pnl.equity), marked, "{:?}", pnl);
                            let unrealized = pnl.positions.iter().try_fold(FixedPoint::ZERO, |sum, p| sum.checked_add(p.unrealized));
                            prop_assert_eq!(Some(pnl.unrealized), unrealized);
                            // And the books balance: realized + unrealized − fees = equity − start + lockbox.
                            let lhs = pnl.realized.checked_add(pnl.unrealized).and_then(|v| v.checked_sub(pnl.fees));
                            let rhs = pnl.equity.checked_sub(fp("10000")).and_then(|v| v.checked_add(pnl.lockbox));
                            prop_assert_eq!(lhs, rhs, "{:?}", pnl);
                        }
                        _ => {}
                    }
                }
            }
        }
        prop_assert_eq!(routed, priced);
    }
}
