//! The Kafka runtime on a real broker: a two-stage pipeline processes ticks with
//! exactly-once transactions (every expected output once, nothing else, per-key order kept,
//! snapshots equal to the state computed without Kafka); bad inputs land in the dead-letter
//! topic while the valid ones are all processed; a second instance with the same
//! transactional identity fences the first, which stops producing; the W3C `traceparent` of
//! an input is carried onto the outputs it caused, hop after hop.

mod support;

use std::time::Duration;

use maxx_agents::DynAgent;
use maxx_events::{BusCodec, BusEvent, DeadLetterKind, Registration};
use maxx_runtime::RuntimeError;
use support::*;

fn sequencer() -> Box<dyn DynAgent> {
    Box::new(Sequencer::default())
}

fn ledger() -> Box<dyn DynAgent> {
    Box::new(Ledger::default())
}

#[test]
fn a_pipeline_produces_every_output_exactly_once_and_snapshots_its_state() {
    let namespace = namespace("eos");
    let ticks: Vec<_> = (0..4_000).map(tick).collect();
    let expected = expected(&ticks);
    let first = spawn(kafka_config(&namespace), sequencer);
    let second = spawn(kafka_config(&namespace), ledger);
    produce_ticks(&namespace, &ticks[..2_000]);
    produce_ticks(&namespace, &ticks[2_000..]);

    let risk_events = decode("risk_events", &read_committed(&namespace, "risk_events", ticks.len(), Duration::from_secs(120)));
    let signals = decode("signals", &read_committed(&namespace, "signals", ticks.len(), Duration::from_secs(30)));
    stop(first);
    stop(second);
    assert_exactly_once("signals", &signals, &expected.signals);
    assert_exactly_once("risk_events", &risk_events, &expected.risk_events);
    assert_eq!(last_snapshot_state(&namespace, "sequencer"), expected.sequencer_state);
    assert_eq!(last_snapshot_state(&namespace, "ledger"), expected.ledger_state);

    // Lifecycle: each agent went Init → Running → Shutdown.
    let states = decode("agent_state", &read_committed(&namespace, "agent_state", 6, Duration::from_secs(30)));
    for agent in ["sequencer", "ledger"] {
        let seen: Vec<_> = states
            .iter()
            .filter_map(|e| match e {
                BusEvent::AgentState(s) if s.producer.agent == agent => Some(s.state),
                _ => None,
            })
            .collect();
        use maxx_events::Lifecycle::*;
        assert_eq!(seen, [Init, Running, Shutdown], "{agent}");
    }
}

#[test]
fn a_restarted_instance_continues_from_its_snapshot_without_loss_or_duplicates() {
    let namespace = namespace("restart");
    let ticks: Vec<_> = (0..3_000).map(tick).collect();
    let expected = expected(&ticks);
    let second = spawn(kafka_config(&namespace), ledger);
    let first = spawn(kafka_config(&namespace), sequencer);
    produce_ticks(&namespace, &ticks[..1_500]);
    read_committed(&namespace, "signals", 1_500, Duration::from_secs(120));
    stop(first);
    produce_ticks(&namespace, &ticks[1_500..]);
    let first = spawn(kafka_config(&namespace), sequencer);

    let risk_events = decode("risk_events", &read_committed(&namespace, "risk_events", ticks.len(), Duration::from_secs(120)));
    stop(first);
    stop(second);
    assert_exactly_once("risk_events", &risk_events, &expected.risk_events);
    assert_eq!(last_snapshot_state(&namespace, "sequencer"), expected.sequencer_state);
}

#[test]
fn bad_inputs_become_dead_letters_and_every_valid_input_is_processed() {
    let namespace = namespace("poison");
    let ticks: Vec<_> = (0..300).map(tick).collect();
    let expected = expected(&ticks.iter().filter(|t| t.price.raw() > 0).cloned().collect::<Vec<_>>());
    let codec = BusCodec::new(registry(), &["ticks", "fills"], Registration::LookupOnly).expect("codec");
    let mut unknown_id = codec.encode(&BusEvent::from(tick(9_999))).expect("encode");
    unknown_id[1..5].copy_from_slice(&4_242_u32.to_be_bytes());
    let mut invalid = tick(10_000);
    invalid.price = maxx_events::FixedPoint::from_raw(-1);
    let invalid = codec.encode(&BusEvent::from(invalid)).expect("encode");
    let garbage: &[u8] = b"\x00\x00\x00\x00\x01\xff\xfe garbage";
    let json: &[u8] = br#"{"symbol":"BTCUSD","price":1}"#;
    let poison: Vec<RawRecord<'_>> = vec![
        (Some(b"BTCUSD"), Some(garbage)),
        (Some(b"ETHUSD"), Some(json)),
        (Some(b"SOLUSD"), Some(&unknown_id)),
        (Some(b"EURUSD"), None),
        (Some(b"BTCUSD"), Some(&invalid)),
    ];
    let first = spawn(kafka_config(&namespace), sequencer);
    produce_ticks(&namespace, &ticks[..150]);
    produce_raw(&namespace, "ticks", &poison);
    produce_ticks(&namespace, &ticks[150..]);

    let signals = decode("signals", &read_committed(&namespace, "signals", ticks.len(), Duration::from_secs(120)));
    let letters = decode("dead_letters", &read_committed(&namespace, "dead_letters", poison.len(), Duration::from_secs(30)));
    stop(first);
    assert_exactly_once("signals", &signals, &expected.signals);

    let mut kinds: Vec<(Option<Vec<u8>>, DeadLetterKind)> = letters
        .iter()
        .map(|e| match e {
            BusEvent::DeadLetter(d) => {
                assert!(d.source_topic == "ticks" && d.source_offset >= 0, "{d:?}");
                assert_eq!(d.producer.agent, "sequencer");
                assert!(!d.reason.is_empty());
                (d.value.clone(), d.error_kind)
            }
            other => panic!("not a dead letter: {other:?}"),
        })
        .collect();
    kinds.sort_by_key(|(v, _)| v.clone());
    let mut want: Vec<(Option<Vec<u8>>, DeadLetterKind)> = vec![
        (Some(garbage.to_vec()), DeadLetterKind::Undecodable),
        (Some(json.to_vec()), DeadLetterKind::Undecodable),
        (Some(unknown_id.clone()), DeadLetterKind::UnknownSchema),
        (None, DeadLetterKind::Undecodable),
        (Some(invalid.clone()), DeadLetterKind::Invalid),
    ];
    want.sort_by_key(|(v, _)| v.clone());
    assert_eq!(kinds, want, "each bad input once, with its original bytes and the right kind");
}

#[test]
fn a_second_instance_with_the_same_identity_fences_the_first() {
    let namespace = namespace("fence");
    let ticks: Vec<_> = (0..2_000).map(tick).collect();
    let expected = expected(&ticks);
    let zombie = spawn(kafka_config(&namespace), sequencer);
    produce_ticks(&namespace, &ticks[..1_000]);
    read_committed(&namespace, "signals", 1_000, Duration::from_secs(120));

    // The successor's init_transactions fences the first instance's producer; the first
    // learns it at its next transaction (the partitions it keeps get new input) and must
    // stop without committing anything.
    let successor = spawn(kafka_config(&namespace), sequencer);
    wait_running(&successor);
    produce_ticks(&namespace, &ticks[1_000..]);
    let fenced = join_within(zombie.thread, Duration::from_secs(60));
    assert!(matches!(fenced, Err(RuntimeError::Fenced(_))), "the first instance must stop as fenced, got {fenced:?}");

    let signals = decode("signals", &read_committed(&namespace, "signals", ticks.len(), Duration::from_secs(120)));
    stop(successor);
    assert_exactly_once("signals", &signals, &expected.signals);
}

#[test]
fn with_static_membership_an_idle_zombie_is_fenced_by_the_group_too() {
    let namespace = namespace("fence-static");
    let ticks: Vec<_> = (0..2_000).map(tick).collect();
    let expected = expected(&ticks);
    let config = || {
        let mut config = kafka_config(&namespace);
        config.static_membership = true;
        config
    };
    let zombie = spawn(config(), sequencer);
    produce_ticks(&namespace, &ticks[..1_000]);
    read_committed(&namespace, "signals", 1_000, Duration::from_secs(120));

    // No input arrives while the successor joins: the idle first instance must learn from
    // the group (its static membership taken over) that it is fenced.
    let successor = spawn(config(), sequencer);
    let fenced = join_within(zombie.thread, Duration::from_secs(60));
    assert!(matches!(fenced, Err(RuntimeError::Fenced(_))), "the first instance must stop as fenced, got {fenced:?}");

    produce_ticks(&namespace, &ticks[1_000..]);
    let signals = decode("signals", &read_committed(&namespace, "signals", ticks.len(), Duration::from_secs(120)));
    stop(successor);
    assert_exactly_once("signals", &signals, &expected.signals);
}

#[test]
fn the_traceparent_of_an_input_is_carried_onto_what_it_caused() {
    let namespace = namespace("trace");
    let ticks: Vec<_> = (0..40).map(tick).collect();
    // Which signal and which risk event each tick causes, from the embedded runtime.
    let mut embedded = maxx_runtime::EmbeddedRuntime::new();
    embedded.add(Sequencer::default(), "sequencer-0").add(Ledger::default(), "ledger-0");
    for t in &ticks {
        embedded.publish(t.clone());
    }
    let mut caused_by = std::collections::HashMap::new();
    while let Some((cause, caused)) = embedded.step() {
        let root = caused_by.get(&cause.event_id()).copied().unwrap_or(cause.event_id());
        for event in caused {
            caused_by.insert(event.event_id(), root);
        }
    }
    // Even ticks carry a trace context of their own, odd ones none.
    let traceparent = |n: usize| format!("00-{:032x}-{:016x}-01", n + 1, n + 1);
    let codec = BusCodec::new(registry(), &["ticks"], Registration::LookupOnly).expect("codec");
    let encoded: Vec<Vec<u8>> = ticks.iter().map(|t| codec.encode(&BusEvent::from(t.clone())).expect("encode")).collect();
    let parents: Vec<Option<String>> = (0..ticks.len()).map(|n| (n % 2 == 0).then(|| traceparent(n))).collect();
    let records: Vec<_> = ticks
        .iter()
        .zip(&encoded)
        .zip(&parents)
        .map(|((t, bytes), parent)| (Some(t.symbol.as_bytes()), Some(bytes.as_slice()), parent.as_deref()))
        .collect();
    let tick_parent: std::collections::HashMap<_, _> = ticks.iter().map(|t| t.event_id).zip(parents.iter().cloned()).collect();

    let first = spawn(kafka_config(&namespace), sequencer);
    let second = spawn(kafka_config(&namespace), ledger);
    produce_with_headers(&namespace, "ticks", &records);
    for topic in ["signals", "risk_events"] {
        let read = read_committed(&namespace, topic, ticks.len(), Duration::from_secs(120));
        let events = decode(topic, &read);
        for (message, event) in read.iter().zip(&events) {
            let carried = message.headers.iter().find(|(k, _)| k == "traceparent").and_then(|(_, v)| v.clone()).map(|v| String::from_utf8(v).expect("utf-8"));
            let root = caused_by[&event.event_id()];
            assert_eq!(carried, tick_parent[&root], "{topic}: the trace context of the tick that caused {}", event.event_id());
        }
    }
    stop(first);
    stop(second);
}
