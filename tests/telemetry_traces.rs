//! Traces across two agents on a real broker, exported to a real OTLP/gRPC receiver: the
//! sequencer (A) handles ticks and produces signals, the ledger (B) handles the signals and
//! produces risk events. A tick with a `traceparent` starts nothing new: A's `handle` span
//! is its child, B's `handle` span is the child of A's, all in the tick's trace, and every
//! output carries the `traceparent` of the span that produced it. A tick without one (or
//! with a malformed one) starts a trace of its own that B's span still joins. Spans carry
//! the agent, topic, partition, offset, event type and symbol; each `handle` span links to
//! its transaction, whose `commit` span is its child.
//!
//! One test per file: the tracer provider is process-wide.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use maxx_events::{BusCodec, BusEvent, Registration};
use maxx_service::telemetry::{self, TelemetryConfig};
use maxx_testkit::otlp::{OtlpReceiver, ReceivedSpan};
use support::*;

fn header(record: &maxx_testkit::Record, name: &str) -> Option<String> {
    record.headers.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.clone()).map(|v| String::from_utf8(v).expect("utf-8"))
}

/// The `handle` span of `agent` for the input with event id `event` whose outputs were
/// committed: the one the output's `traceparent` names. (An input handled in a transaction
/// that was aborted is handled again, under a new span; the outputs of the aborted try
/// were never visible.)
fn handle_span<'s>(spans: &'s [ReceivedSpan], agent: &str, event: &str, output_traceparent: Option<&str>) -> &'s ReceivedSpan {
    let output_traceparent = output_traceparent.unwrap_or_else(|| panic!("the output of {event} carries a traceparent"));
    let found: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "handle" && s.attribute("maxx.agent") == Some(agent) && s.attribute("maxx.event.id") == Some(event))
        .collect();
    assert!(!found.is_empty(), "a handle span of {agent} for {event}");
    let committed = found.iter().find(|s| output_traceparent == format!("00-{}-{}-01", s.trace_id, s.span_id));
    committed.unwrap_or_else(|| panic!("{output_traceparent}: the output's traceparent names a handle span of {agent} for {event}, one of {found:#?}"))
}

#[test]
fn one_trace_runs_through_two_agents_with_parent_and_child_spans() {
    let receiver = OtlpReceiver::start();
    let mut config = TelemetryConfig::new("maxx-telemetry-test").with_instance("test-0");
    config.endpoint = receiver.endpoint();
    config.scheduled_delay = Duration::from_millis(100);
    let guard = telemetry::init(&config).expect("tracing starts");
    assert!(guard.is_enabled());

    let namespace = namespace("telemetry");
    let ticks: Vec<_> = (0..12).map(tick).collect();
    // Ticks 0..4 carry a traceparent each, 4..8 a malformed one, 8..12 none.
    let traceparent = |n: usize| format!("00-{:032x}-{:016x}-01", 0xabc0_0000 + n, 0x5150 + n);
    let parents: Vec<Option<String>> = (0..ticks.len())
        .map(|n| match n {
            0..4 => Some(traceparent(n)),
            4..8 => Some(format!("00-{:032X}-{:016x}-01", 0xabc0_0000 + n, 0x5150 + n)),
            _ => None,
        })
        .collect();
    let codec = BusCodec::new(registry(), &["ticks"], Registration::LookupOnly).expect("codec");
    let encoded: Vec<Vec<u8>> = ticks.iter().map(|t| codec.encode(&BusEvent::from(t.clone())).expect("encode")).collect();
    let records: Vec<_> = ticks
        .iter()
        .zip(&encoded)
        .zip(&parents)
        .map(|((t, bytes), parent)| (Some(t.symbol.as_bytes()), Some(bytes.as_slice()), parent.as_deref()))
        .collect();

    let a = spawn(kafka_config(&namespace), || Box::new(Sequencer::default()));
    let b = spawn(kafka_config(&namespace), || Box::new(Ledger::default()));
    produce_with_headers(&namespace, "ticks", &records);
    let signal_records = read_committed(&namespace, "signals", ticks.len(), Duration::from_secs(120));
    let risk_records = read_committed(&namespace, "risk_events", ticks.len(), Duration::from_secs(120));
    let signals = decode("signals", &signal_records);
    let risk_events = decode("risk_events", &risk_records);

    let wanted = |spans: &[ReceivedSpan]| {
        let handled = |agent: &str| spans.iter().filter(|s| s.name == "handle" && s.attribute("maxx.agent") == Some(agent)).count();
        handled("sequencer") >= ticks.len() && handled("ledger") >= ticks.len()
    };
    receiver.wait_until(Duration::from_secs(60), wanted);
    stop(a);
    stop(b);
    drop(guard); // flushes the transaction and commit spans still queued
    let spans = receiver.spans();
    assert!(wanted(&spans), "every input's handle span arrived: {} spans", spans.len());

    // What each event caused, from the embedded runtime (event ids are derived from the
    // cause, so they are the same on the broker).
    let mut embedded = maxx_runtime::EmbeddedRuntime::new();
    embedded.add(Sequencer::default(), "sequencer-0").add(Ledger::default(), "ledger-0");
    for t in &ticks {
        embedded.publish(t.clone());
    }
    let mut caused: HashMap<String, String> = HashMap::new();
    while let Some((cause, outputs)) = embedded.step() {
        // Ticks cause one signal, signals one risk event, risk events nothing.
        if let [output] = outputs.as_slice() {
            caused.insert(cause.event_id().to_string(), output.event_id().to_string());
        }
    }
    let carried = |events: &[BusEvent], records: &[maxx_testkit::Record]| -> HashMap<String, Option<String>> {
        events.iter().zip(records).map(|(e, r)| (e.event_id().to_string(), header(r, "traceparent"))).collect()
    };
    let signals = carried(&signals, &signal_records);
    let risk_events = carried(&risk_events, &risk_records);

    let span_by_id: HashMap<&str, &ReceivedSpan> = spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
    for (n, tick) in ticks.iter().enumerate() {
        // The signal A produced carries A's span (the test's central claim, checked inside).
        let signal = &caused[&tick.event_id.to_string()];
        let a_span = handle_span(&spans, "sequencer", &tick.event_id.to_string(), signals[signal].as_deref());
        // A's handle span: child of a valid traceparent, a root otherwise.
        match n {
            0..4 => {
                assert_eq!(a_span.trace_id, format!("{:032x}", 0xabc0_0000 + n), "tick {n}: the traceparent's trace");
                assert_eq!(a_span.parent_span_id, Some(format!("{:016x}", 0x5150 + n)), "tick {n}: the traceparent's span is the parent");
            }
            _ => assert_eq!(a_span.parent_span_id, None, "tick {n}: no (valid) traceparent, a root"),
        }
        for (key, value) in [
            ("maxx.agent", "sequencer"),
            ("maxx.instance", "sequencer-0"),
            ("messaging.destination.name", "ticks"),
            ("maxx.event.type", "Tick"),
            ("maxx.symbol", tick.symbol.as_str()),
            ("maxx.outputs", "1"),
        ] {
            assert_eq!(a_span.attribute(key), Some(value), "tick {n}: {key} of {a_span:#?}");
        }
        let partition: i32 = a_span.attribute("messaging.destination.partition.id").expect("partition").parse().expect("a number");
        let offset: i64 = a_span.attribute("messaging.kafka.offset").expect("offset").parse().expect("a number");
        assert!((0..PARTITIONS).contains(&partition) && offset >= 0, "tick {n}: partition {partition}, offset {offset}");
        assert_eq!(a_span.kind, 5, "tick {n}: a consumer span");
        assert_eq!(a_span.resource.get("service.name").map(String::as_str), Some("maxx-telemetry-test"));

        // B's handle span is the child of A's; B's output carries B's span.
        let b_span = handle_span(&spans, "ledger", signal, risk_events[&caused[signal]].as_deref());
        assert_eq!(b_span.trace_id, a_span.trace_id, "tick {n}: B joins A's trace");
        assert_eq!(b_span.parent_span_id.as_deref(), Some(a_span.span_id.as_str()), "tick {n}: B's parent is A's span");
        for (key, value) in [
            ("maxx.agent", "ledger"),
            ("messaging.destination.name", "signals"),
            ("maxx.event.type", "Signal"),
            ("maxx.symbol", tick.symbol.as_str()),
        ] {
            assert_eq!(b_span.attribute(key), Some(value), "tick {n}: {key} of {b_span:#?}");
        }

        // Each handle span links to its transaction, which has a commit span as child.
        for span in [a_span, b_span] {
            let [(link_trace, link_span)] = span.links.as_slice() else { panic!("one link: {span:#?}") };
            let transaction = span_by_id.get(link_span.as_str()).unwrap_or_else(|| panic!("the linked transaction span arrived: {span:#?}"));
            assert_eq!((transaction.name.as_str(), &transaction.trace_id), ("transaction", link_trace));
            let inputs: u64 = transaction.attribute("maxx.inputs").expect("the transaction counts its inputs").parse().expect("a number");
            assert!(inputs >= 1 && !transaction.error, "a committed transaction with inputs: {transaction:#?}");
            assert!(spans.iter().any(|s| s.name == "commit" && s.parent_span_id.as_deref() == Some(transaction.span_id.as_str())), "a commit span under {transaction:#?}");
        }
    }
}

