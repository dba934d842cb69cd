//! The embedded runtime delivers events in one deterministic order, routes them by topic,
//! files invalid inputs as dead letters, and restores agent snapshots.

use maxx_agents::{Agent, Emitter, Invalid};
use maxx_events::{BusEvent, EventId, EventTime, FixedPoint, Producer, SignalComponents, BlendWeights, Signal, SignalSide, Tick};
use maxx_runtime::EmbeddedRuntime;
use serde::{Deserialize, Serialize};

/// Counts ticks per run and turns each into a signal whose score is the running count.
#[derive(Default)]
struct Counter {
    state: CounterState,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct CounterState {
    ticks: i64,
}

impl Agent for Counter {
    type State = CounterState;
    const NAME: &'static str = "counter";
    const INPUTS: &'static [&'static str] = &["ticks"];
    const OUTPUTS: &'static [&'static str] = &["signals"];

    fn state(&self) -> &CounterState {
        &self.state
    }
    fn restore(&mut self, state: CounterState) {
        self.state = state;
    }
    fn handle(&mut self, event: &BusEvent, out: &mut Emitter<'_>) -> Result<(), Invalid> {
        let BusEvent::Tick(tick) = event else { return Ok(()) };
        if tick.price <= FixedPoint::ZERO {
            return Err(Invalid::new(format!("price {} is not positive", tick.price)));
        }
        self.state.ticks += 1;
        let envelope = out.envelope();
        let zero = FixedPoint::ZERO;
        out.emit(Signal {
            event_id: envelope.event_id,
            event_time: envelope.event_time,
            producer: envelope.producer,
            symbol: tick.symbol.clone(),
            score: FixedPoint::from_raw(self.state.ticks),
            side: SignalSide::Flat,
            confidence: zero,
            components: SignalComponents { momentum: zero, mean_reversion: zero, breakout: zero, sentiment: zero },
            weights: BlendWeights { momentum: zero, mean_reversion: zero, breakout: zero, sentiment: zero },
        });
        Ok(())
    }
}

/// Counts the signals it sees (a second stage).
#[derive(Default)]
struct SignalTally {
    state: i64,
}

impl Agent for SignalTally {
    type State = i64;
    const NAME: &'static str = "tally";
    const INPUTS: &'static [&'static str] = &["signals"];
    const OUTPUTS: &'static [&'static str] = &[];
    fn state(&self) -> &i64 {
        &self.state
    }
    fn restore(&mut self, state: i64) {
        self.state = state;
    }
    fn handle(&mut self, _: &BusEvent, _: &mut Emitter<'_>) -> Result<(), Invalid> {
        self.state += 1;
        Ok(())
    }
}

fn tick(n: i64, price: i64) -> Tick {
    let time = EventTime::from_micros(1_000_000 + n);
    Tick {
        event_id: EventId::at(time, [n as u8; 10]),
        event_time: time,
        producer: Producer { agent: "feed".into(), version: "0".into(), instance: "feed-0".into() },
        symbol: if n % 2 == 0 { "BTCUSD".into() } else { "ETHUSD".into() },
        exchange: "synthetic".into(),
        price: FixedPoint::from_raw(price),
        volume: FixedPoint::ZERO,
        bid: None,
        ask: None,
        venue_seq: Some(n),
    }
}

fn runtime() -> EmbeddedRuntime {
    let mut runtime = EmbeddedRuntime::new();
    runtime.add(Counter::default(), "counter-0").add(SignalTally::default(), "tally-0");
    runtime
}

#[test]
fn events_flow_through_the_stages_in_a_deterministic_order() {
    let run = || {
        let mut runtime = runtime();
        for n in 0..5 {
            runtime.publish(tick(n, 100));
        }
        runtime.run_until_idle(1_000).expect("idle")
    };
    let log = run();
    let topics: Vec<&str> = log.iter().map(BusEvent::topic).collect();
    assert_eq!(topics, [["ticks"; 5].as_slice(), ["signals"; 5].as_slice()].concat(), "FIFO: inputs first, then what they caused");
    assert_eq!(log, run(), "the same inputs give the same log, ids included");
    let BusEvent::Signal(last) = &log[9] else { panic!("a signal") };
    assert_eq!(last.score, FixedPoint::from_raw(5));
    assert_eq!(last.producer.instance, "counter-0");
}

#[test]
fn an_invalid_input_becomes_a_dead_letter_and_the_rest_goes_on() {
    let mut runtime = runtime();
    runtime.publish(tick(0, 100)).publish(tick(1, -5)).publish(tick(2, 100));
    let log = runtime.run_until_idle(1_000).expect("idle");
    let dead: Vec<_> = log.iter().filter_map(|e| match e { BusEvent::DeadLetter(d) => Some(d), _ => None }).collect();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].source_topic.as_str(), dead[0].source_offset), ("ticks", 1));
    assert!(dead[0].reason.contains("not positive"), "{}", dead[0].reason);
    assert_eq!(log.iter().filter(|e| e.topic() == "signals").count(), 2);
}

#[test]
fn a_restored_snapshot_continues_where_the_original_left_off() {
    let mut first = runtime();
    for n in 0..3 {
        first.publish(tick(n, 100));
    }
    first.run_until_idle(1_000).expect("idle");
    let snapshot = first.agent("counter").expect("counter").snapshot().expect("snapshot");

    let mut second = runtime();
    second.agent_mut("counter").expect("counter").restore_snapshot(&snapshot).expect("restore");
    second.publish(tick(3, 100));
    let log = second.run_until_idle(1_000).expect("idle");
    let BusEvent::Signal(signal) = &log[1] else { panic!("a signal") };
    assert_eq!(signal.score, FixedPoint::from_raw(4), "the count went on from the snapshot");
    assert!(second.agent_mut("counter").expect("counter").restore_snapshot(b"{not json").is_err());
}

#[test]
fn agents_that_feed_each_other_forever_are_stopped() {
    let mut runtime = EmbeddedRuntime::new();
    runtime.add(Echo, "echo-0");
    runtime.publish(tick(0, 1));
    assert!(runtime.run_until_idle(100).is_err());
}

/// Turns every tick into another tick: a runaway loop.
struct Echo;
impl Agent for Echo {
    type State = ();
    const NAME: &'static str = "echo";
    const INPUTS: &'static [&'static str] = &["ticks"];
    const OUTPUTS: &'static [&'static str] = &["ticks"];
    fn state(&self) -> &() {
        &()
    }
    fn restore(&mut self, _: ()) {}
    fn handle(&mut self, event: &BusEvent, out: &mut Emitter<'_>) -> Result<(), Invalid> {
        let BusEvent::Tick(tick) = event else { return Ok(()) };
        let envelope = out.envelope();
        out.emit(Tick { event_id: envelope.event_id, event_time: envelope.event_time, producer: envelope.producer, ..tick.clone() });
        Ok(())
    }
}
