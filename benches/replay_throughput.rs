//! Replay throughput, each figure against a baseline measured in the same run:
//!
//! - **backtest**: ticks/s through Alpha → RiskSentinel → Execution → Portfolio on the
//!   embedded runtime (`maxx_replay::backtest::run`, the report's bookkeeping included),
//!   against the same ticks through an embedded runtime with no agent (queue and event
//!   handling alone);
//! - **audit** (real broker): events/s of `run_audit::audit_agent` for Portfolio — read
//!   committed, decode, fold, digest — against reading the same partitions with the same
//!   reader without decoding (`PartitionReader`, bytes copied and counted); and the growth of
//!   peak RSS during the audit (VmHWM reset through `/proc/self/clear_refs` before it).
//!
//! Run: `KAFKA_PORT=19744 scripts/kafka.sh start`, then
//! `MAXX_BOOTSTRAP=127.0.0.1:19744 cargo bench --bench replay_throughput`
//! (`REPLAY_BENCH_TICKS` backtest ticks, default 500,000; `REPLAY_BENCH_EVENTS` audit ticks,
//! default 300,000, their fills added; without `MAXX_BOOTSTRAP` only the backtest runs).
//! `REPLAY_BENCH_MEMORY_EVENTS=10000000` instead measures the peak memory of an audit over
//! that many ticks (no fills).

use std::sync::Arc;
use std::time::{Duration, Instant};

use maxx_agents::config::AgentConfig;
use maxx_events::{catalog, BusCodec, BusEvent, InMemoryRegistry, Registration, SchemaRegistry};
use maxx_replay::backtest::{self, BacktestSettings};
use maxx_replay::kafka::{self, PartitionReader, Until};
use maxx_replay::run_audit::{self, AsOf, AuditRequest, LogSource};
use maxx_replay::sample::{sample_ticks, SampleSpec};
use maxx_runtime::EmbeddedRuntime;
use maxx_testkit::{client_config, create_topic, send_waiting, unique_name};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn rate(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

fn backtest_bench(n: usize) {
    let ticks = sample_ticks(&SampleSpec { ticks: n, ..SampleSpec::default() });
    let started = Instant::now();
    let mut empty = EmbeddedRuntime::new();
    let mut handled = 0_u64;
    for tick in ticks.iter().cloned() {
        empty.publish(tick);
        while empty.step().is_some() {
            handled += 1;
        }
    }
    let baseline = rate(handled, started.elapsed());
    let config = AgentConfig::default();
    let started = Instant::now();
    let obs = backtest::run(ticks, &config, &BacktestSettings::default(), &mut |_| {}).expect("backtest");
    let elapsed = started.elapsed();
    let chain = rate(obs.ticks, elapsed);
    println!(
        "backtest: {} ticks ({} events, {} fills) in {:.3} s: {:.0} ticks/s through the chain; runtime without agents {:.0} ticks/s; ratio {:.3}",
        obs.ticks,
        obs.events,
        obs.trades.len(),
        elapsed.as_secs_f64(),
        chain,
        baseline,
        chain / baseline
    );
}

fn audit_bench(n: usize) {
    let registry: Arc<dyn SchemaRegistry> = Arc::new(InMemoryRegistry::default());
    for entry in catalog() {
        registry.register(&format!("{}-value", entry.topic), entry.text).expect("register");
    }
    let namespace = format!("{}.", unique_name("replay-bench"));
    create_topic(&format!("{namespace}ticks"), 3);
    create_topic(&format!("{namespace}fills"), 1);
    create_topic(&format!("{namespace}state.portfolio"), 1);
    let codec = BusCodec::new(registry.clone(), &["ticks", "fills"], Registration::LookupOnly).expect("codec");
    let producer: BaseProducer = client_config().set("enable.idempotence", "true").set("linger.ms", "5").create().expect("producer");
    let mut chain = backtest::chain(&AgentConfig::default());
    let mut produced = 0_u64;
    for tick in sample_ticks(&SampleSpec { ticks: n, seed: 11, ..SampleSpec::default() }) {
        chain.publish(tick);
        while let Some((event, _)) = chain.step() {
            if matches!(event, BusEvent::Tick(_) | BusEvent::Fill(_)) {
                let bytes = codec.encode(&event).expect("encode");
                let topic = format!("{namespace}{}", event.topic());
                send_waiting(&producer, BaseRecord::to(&topic).key(event.key()).payload(bytes.as_slice()));
                producer.poll(Duration::ZERO);
                produced += 1;
            }
        }
    }
    producer.flush(Duration::from_secs(120)).expect("flush");
    drop(chain);

    let client = client_config();
    let started = Instant::now();
    let (mut raw, mut bytes) = (0_u64, 0_u64);
    for topic in ["ticks", "fills"] {
        let full = format!("{namespace}{topic}");
        for partition in kafka::partitions(&client, &full).expect("partitions") {
            for record in PartitionReader::open(&client, &full, topic, partition, 0, Until::End).expect("reader") {
                let record = record.expect("record");
                raw += 1;
                bytes += record.value.map_or(0, |v| v.len() as u64);
            }
        }
    }
    let raw_elapsed = started.elapsed();
    let raw_rate = rate(raw, raw_elapsed);

    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = peak_rss_kib();
    let source = LogSource::Broker { client: client.clone(), namespace: namespace.clone(), registry };
    let request = AuditRequest { agents: vec!["portfolio".into()], config: AgentConfig::default(), as_of: AsOf::End, from_offsets: None, check_outputs: false };
    let started = Instant::now();
    let audit = run_audit::audit_agent(&source, "portfolio", &request, &mut |_| {}).expect("audit");
    let elapsed = started.elapsed();
    let after = peak_rss_kib();
    let audit_rate = rate(audit.events, elapsed);
    assert_eq!(audit.events, raw, "the audit replays every record the raw read saw");
    println!(
        "audit: {produced} events produced; raw read {raw} records ({bytes} value bytes) in {:.3} s: {raw_rate:.0}/s; audit decode+fold {} events in {:.3} s: {audit_rate:.0}/s; ratio {:.3}; peak RSS {} KiB before, {} KiB after the audit (VmHWM reset: {reset})",
        raw_elapsed.as_secs_f64(),
        audit.events,
        elapsed.as_secs_f64(),
        audit_rate / raw_rate,
        before.unwrap_or(0),
        after.unwrap_or(0),
    );
}

/// Peak memory of a long audit: `n` ticks (no fills, so the fold is cheap and the run is
/// about reading and decoding) produced in chunks, then audited by Portfolio.
fn memory_bench(n: usize) {
    let registry: Arc<dyn SchemaRegistry> = Arc::new(InMemoryRegistry::default());
    for entry in catalog() {
        registry.register(&format!("{}-value", entry.topic), entry.text).expect("register");
    }
    let namespace = format!("{}.", unique_name("replay-memory"));
    create_topic(&format!("{namespace}ticks"), 3);
    create_topic(&format!("{namespace}state.portfolio"), 1);
    let codec = BusCodec::new(registry.clone(), &["ticks"], Registration::LookupOnly).expect("codec");
    let producer: BaseProducer = client_config().set("enable.idempotence", "true").set("linger.ms", "20").set("compression.type", "none").create().expect("producer");
    let topic = format!("{namespace}ticks");
    let chunk = 100_000;
    let started = Instant::now();
    for c in 0..n.div_ceil(chunk) {
        let spec = SampleSpec { ticks: chunk.min(n - c * chunk), seed: c as u64, start_micros: 1_767_225_600_000_000 + (c * chunk) as i64 * 1_000_000, ..SampleSpec::default() };
        for tick in sample_ticks(&spec) {
            let bytes = codec.encode(&BusEvent::from(tick.clone())).expect("encode");
            send_waiting(&producer, BaseRecord::to(&topic).key(tick.symbol.as_str()).payload(bytes.as_slice()));
            producer.poll(Duration::ZERO);
        }
    }
    producer.flush(Duration::from_secs(300)).expect("flush");
    let produce = started.elapsed();
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = peak_rss_kib();
    let source = LogSource::Broker { client: client_config(), namespace, registry };
    let request = AuditRequest { agents: vec!["portfolio".into()], config: AgentConfig::default(), as_of: AsOf::End, from_offsets: None, check_outputs: false };
    let started = Instant::now();
    let audit = run_audit::audit_agent(&source, "portfolio", &request, &mut |_| {}).expect("audit");
    let elapsed = started.elapsed();
    println!(
        "memory: {n} ticks produced in {:.1} s; audit of {} events in {:.1} s ({:.0}/s); peak RSS {} KiB before, {} KiB after (VmHWM reset: {reset})",
        produce.as_secs_f64(),
        audit.events,
        elapsed.as_secs_f64(),
        rate(audit.events, elapsed),
        before.unwrap_or(0),
        peak_rss_kib().unwrap_or(0),
    );
}

fn main() {
    if let Some(n) = std::env::var("REPLAY_BENCH_MEMORY_EVENTS").ok().and_then(|v| v.parse().ok()) {
        memory_bench(n);
        return;
    }
    backtest_bench(env_or("REPLAY_BENCH_TICKS", 500_000));
    if std::env::var("MAXX_BOOTSTRAP").is_ok_and(|b| !b.trim().is_empty()) {
        audit_bench(env_or("REPLAY_BENCH_EVENTS", 300_000));
    } else {
        println!("audit: skipped (set MAXX_BOOTSTRAP to a broker)");
    }
}
