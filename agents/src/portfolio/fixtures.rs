//! Test fixtures shared by the Portfolio and RiskSentinel tests: event builders with
//! deterministic ids and a driver that runs one input through an agent.

use maxx_events::{
    BusEvent, Command, CommandKind, EventId, EventTime, Fill, FixedPoint, GovernorWeights, BlendWeights, Liquidity, Order, OrderType, Pnl,
    Producer, Session, SessionEvent, SessionEventKind, Side, Tick,
};

use crate::contract::{Agent, Emitter, Invalid};

/// A decimal literal.
pub fn fp(text: &str) -> FixedPoint {
    text.parse().expect("a decimal literal")
}

/// Microseconds in a day.
pub const DAY_US: i64 = 86_400_000_000;

/// A producer for test inputs.
pub fn producer(agent: &str) -> Producer {
    Producer { agent: agent.into(), version: "0".into(), instance: format!("{agent}-0") }
}

fn id(time_us: i64, tag: u8) -> EventId {
    let mut entropy = [tag; 10];
    entropy[..8].copy_from_slice(&time_us.to_be_bytes());
    EventId::at(EventTime::from_micros(time_us), entropy)
}

/// A fill at `time_us`.
pub fn fill(time_us: i64, symbol: &str, side: Side, qty: &str, price: &str, fee: &str) -> BusEvent {
    let time = EventTime::from_micros(time_us);
    Fill {
        event_id: id(time_us, 1),
        event_time: time,
        producer: producer("execution"),
        fill_id: format!("f-{time_us}"),
        order_id: format!("o-{time_us}"),
        symbol: symbol.into(),
        side,
        price: fp(price),
        qty: fp(qty),
        fee: fp(fee),
        liquidity: if fee.starts_with('-') { Liquidity::Maker } else { Liquidity::Taker },
        venue: "paper".into(),
    }
    .into()
}

/// A tick at `time_us` with a last price and optional bid/ask.
pub fn tick(time_us: i64, symbol: &str, price: &str, bid_ask: Option<(&str, &str)>) -> BusEvent {
    let time = EventTime::from_micros(time_us);
    Tick {
        event_id: id(time_us, 2),
        event_time: time,
        producer: producer("market_data"),
        symbol: symbol.into(),
        exchange: "paper".into(),
        price: fp(price),
        volume: FixedPoint::ZERO,
        bid: bid_ask.map(|(bid, _)| fp(bid)),
        ask: bid_ask.map(|(_, ask)| fp(ask)),
        venue_seq: None,
    }
    .into()
}

/// A session boundary at `time_us`.
pub fn session(time_us: i64, event: SessionEventKind) -> BusEvent {
    let time = EventTime::from_micros(time_us);
    SessionEvent {
        event_id: id(time_us, 3),
        event_time: time,
        producer: producer("session_clock"),
        session: Session::London,
        event,
        start_ts: time,
        end_ts: time,
    }
    .into()
}

/// An operator command at `time_us` for `target`.
pub fn command(time_us: i64, target: &str, kind: CommandKind, fraction: Option<&str>) -> BusEvent {
    let time = EventTime::from_micros(time_us);
    Command {
        event_id: id(time_us, 4),
        event_time: time,
        producer: producer("service"),
        target: target.into(),
        kind,
        requested_by: "operator".into(),
        symbol: None,
        order_id: None,
        side: None,
        qty: None,
        order_type: None,
        limit_price: None,
        fraction: fraction.map(fp),
        reason: None,
    }
    .into()
}

/// A pnl at `time_us` reporting `equity` (other fields are not read by RiskSentinel).
pub fn pnl(time_us: i64, equity: &str) -> BusEvent {
    let time = EventTime::from_micros(time_us);
    Pnl {
        event_id: id(time_us, 5),
        event_time: time,
        producer: producer("portfolio"),
        equity: fp(equity),
        cash: fp(equity),
        realized: FixedPoint::ZERO,
        unrealized: FixedPoint::ZERO,
        fees: FixedPoint::ZERO,
        lockbox: FixedPoint::ZERO,
        positions: Vec::new(),
    }
    .into()
}

/// An order at `time_us`.
pub fn order(time_us: i64, symbol: &str, side: Side, qty: &str, limit_price: Option<&str>) -> BusEvent {
    let time = EventTime::from_micros(time_us);
    Order {
        event_id: id(time_us, 6),
        event_time: time,
        producer: producer("execution"),
        order_id: format!("o-{time_us}"),
        symbol: symbol.into(),
        side,
        qty: fp(qty),
        order_type: if limit_price.is_some() { OrderType::Limit } else { OrderType::Market },
        limit_price: limit_price.map(fp),
        post_only: false,
        route: "paper".into(),
        signal_id: None,
        meta: Default::default(),
    }
    .into()
}

/// Governor weights at `time_us` with an optional Kelly clamp.
pub fn governor(time_us: i64, kelly_clamp: Option<&str>) -> BusEvent {
    let time = EventTime::from_micros(time_us);
    let quarter = fp("0.25");
    GovernorWeights {
        event_id: id(time_us, 7),
        event_time: time,
        producer: producer("meta_governor"),
        weights: BlendWeights { momentum: quarter, mean_reversion: quarter, breakout: quarter, sentiment: quarter },
        kelly_clamp: kelly_clamp.map(fp),
        reason: "test".into(),
    }
    .into()
}

/// Runs one input through `agent`, returning what it emitted.
pub fn run<A: Agent>(agent: &mut A, event: &BusEvent) -> Result<Vec<BusEvent>, Invalid> {
    let producer = producer(A::NAME);
    let mut outputs = Vec::new();
    let mut out = Emitter::new(A::NAME, &producer, event.event_id(), event.event_time(), &mut outputs);
    crate::contract::DynAgent::handle(agent, event, &mut out)?;
    Ok(outputs)
}

/// Runs an input that must be accepted.
pub fn accept<A: Agent>(agent: &mut A, event: &BusEvent) -> Vec<BusEvent> {
    run(agent, event).expect("input accepted")
}

/// Runs `inputs` through the agent `make` builds and checks the refusal contract: every
/// refused input leaves `state()` equal to before — as a value and as its snapshot JSON —
/// and leaves no trace at all: a fresh agent fed only the accepted inputs emits the same
/// outputs and ends in the same state (JSON included). Returns how many were refused.
pub fn refusals_leave_no_trace<A: Agent>(make: impl Fn() -> A, inputs: &[BusEvent]) -> Result<usize, proptest::test_runner::TestCaseError> {
    use proptest::prop_assert_eq;
    let json = |state: &A::State| serde_json::to_string(state).expect("state serializes");
    let mut agent = make();
    let (mut accepted, mut outputs, mut refused) = (Vec::new(), Vec::new(), 0);
    for input in inputs {
        let before = agent.state().clone();
        let before_json = json(&before);
        match run(&mut agent, input) {
            Ok(out) => {
                accepted.push(input.clone());
                outputs.push(out);
            }
            Err(_) => {
                refused += 1;
                prop_assert_eq!(agent.state(), &before, "a refused {:?} changed the state", input);
                prop_assert_eq!(json(agent.state()), before_json);
            }
        }
    }
    let mut fresh = make();
    for (input, expected) in accepted.iter().zip(&outputs) {
        let out = run(&mut fresh, input).expect("an input accepted once is accepted again without the refused ones");
        prop_assert_eq!(&out, expected);
    }
    prop_assert_eq!(fresh.state(), agent.state());
    prop_assert_eq!(json(fresh.state()), json(agent.state()));
    Ok(refused)
}
