//! Tracing on with no working collector — a closed loopback port (refused at once), then a
//! port that accepts connections and never answers (each export runs into its timeout): the
//! agents still handle every input exactly once and stop cleanly, spans are still made and
//! their trace context still travels on the outputs; the failed exports are counted and
//! dropped, and shutting tracing down does not hang.
//!
//! One test per file: the tracer provider is process-wide.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use maxx_events::{BusCodec, BusEvent, Registration};
use maxx_service::telemetry::{self, TelemetryConfig};
use support::*;

/// A loopback port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// A loopback port that accepts connections and never reads or answers, until the test ends.
fn silent_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

#[test]
fn agents_work_on_when_the_collector_is_down_or_hangs() {
    // One after the other: the tracer provider is process-wide.
    agents_work_on_with_a_collector_at(&format!("http://127.0.0.1:{}", closed_port()), "refused");
    agents_work_on_with_a_collector_at(&format!("http://127.0.0.1:{}", silent_port()), "silent");
}

fn agents_work_on_with_a_collector_at(endpoint: &str, case: &str) {
    let mut config = TelemetryConfig::new("maxx-collector-down-test");
    config.endpoint = endpoint.to_owned();
    config.scheduled_delay = Duration::from_millis(20);
    config.export_timeout = Duration::from_millis(500);
    // A small queue, so that it overflows too: spans beyond it are dropped, not waited for.
    config.max_queue_size = 64;
    config.max_export_batch_size = 16;
    let guard = telemetry::init(&config).expect("tracing starts without a collector");

    let namespace = namespace(&format!("collector-{case}"));
    let ticks: Vec<_> = (0..2_000).map(tick).collect();
    let expected = expected(&ticks);
    let traceparent = |n: usize| format!("00-{:032x}-{:016x}-01", 0xd0_0000 + n, 0x77 + n);
    let codec = BusCodec::new(registry(), &["ticks"], Registration::LookupOnly).expect("codec");
    let encoded: Vec<Vec<u8>> = ticks.iter().map(|t| codec.encode(&BusEvent::from(t.clone())).expect("encode")).collect();
    let parents: Vec<String> = (0..ticks.len()).map(traceparent).collect();
    let records: Vec<_> = ticks
        .iter()
        .zip(&encoded)
        .zip(&parents)
        .map(|((t, bytes), parent)| (Some(t.symbol.as_bytes()), Some(bytes.as_slice()), Some(parent.as_str())))
        .collect();

    let a = spawn(kafka_config(&namespace), || Box::new(Sequencer::default()));
    let b = spawn(kafka_config(&namespace), || Box::new(Ledger::default()));
    produce_with_headers(&namespace, "ticks", &records);
    let risk_records = read_committed(&namespace, "risk_events", ticks.len(), Duration::from_secs(180));
    let signal_records = read_committed(&namespace, "signals", ticks.len(), Duration::from_secs(30));
    stop(a);
    stop(b);

    let risk_events = decode("risk_events", &risk_records);
    assert_exactly_once("risk_events", &risk_events, &expected.risk_events);
    assert_exactly_once("signals", &decode("signals", &signal_records), &expected.signals);

    // Spans were still made: every output is in its tick's trace, under a new span.
    let tick_trace: HashMap<String, String> = (0..ticks.len()).map(|n| (format!("{:032x}", 0xd0_0000 + n), parents[n].clone())).collect();
    for record in signal_records.iter().chain(&risk_records) {
        let carried = record.headers.iter().find(|(k, _)| k == "traceparent").and_then(|(_, v)| v.clone()).expect("a traceparent on every output");
        let carried = String::from_utf8(carried).expect("utf-8");
        let trace_id = carried.split('-').nth(1).expect("a trace id").to_owned();
        let input = tick_trace.get(&trace_id).unwrap_or_else(|| panic!("{carried}: not the trace of any tick"));
        assert_ne!(&carried, input, "a span of the agent, not the input's span");
    }

    // The exporter tried, failed and dropped; the agents never noticed.
    let counts = guard.export_counts();
    assert!(counts.failed_exports >= 1, "{case}: exports were attempted and failed: {counts:?}");
    assert_eq!(counts.exported_spans, 0, "{case}: nothing can have been delivered: {counts:?}");
    // Shutting down is bounded by the export timeout: it returns although nothing answers.
    let dropping_since = Instant::now();
    let dropping = std::thread::spawn(move || drop(guard));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !dropping.is_finished() {
        assert!(Instant::now() < deadline, "{case}: dropping the telemetry guard hangs");
        std::thread::sleep(Duration::from_millis(20));
    }
    dropping.join().expect("the guard dropped");
    eprintln!("{case}: {counts:?}; guard dropped in {:?}", dropping_since.elapsed());
}
