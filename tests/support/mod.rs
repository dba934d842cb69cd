//! Shared support of the runtime's integration tests: a two-stage pipeline of agents whose
//! outputs depend only on the per-symbol order of their inputs (which Kafka keeps), so a run
//! on the broker must produce exactly what the embedded runtime produces from the same ticks.

#![allow(dead_code)] // each test file uses a part of this module

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use maxx_agents::{Agent, Emitter, Invalid};
use maxx_events::{
    catalog, BlendWeights, BusCodec, BusEvent, EventId, EventTime, FixedPoint, Producer, Registration, RiskEvent,
    RiskEventKind, SchemaRegistry, Severity, Signal, SignalComponents, SignalSide, Tick,
};
use maxx_registry::api;
use maxx_registry::client::HttpRegistry;
use maxx_registry::store::{KafkaStore, StoreConfig};
use maxx_runtime::{EmbeddedRuntime, KafkaConfig};
use maxx_testkit::{client_config, create_topic, send_waiting, unique_name, Record};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer as _, ThreadedProducer};
use rdkafka::util::Timeout;
use serde::{Deserialize, Serialize};

pub const SYMBOLS: [&str; 5] = ["BTCUSD", "ETHUSD", "SOLUSD", "EURUSD", "GBPUSD"];
pub const PARTITIONS: i32 = 3;

/// Stage 1: per symbol, counts ticks and sums prices; emits a signal per tick.
#[derive(Default)]
pub struct Sequencer {
    state: BTreeMap<String, (i64, i64)>,
}

impl Agent for Sequencer {
    type State = BTreeMap<String, (i64, i64)>;
    const NAME: &'static str = "sequencer";
    const INPUTS: &'static [&'static str] = &["ticks"];
    const OUTPUTS: &'static [&'static str] = &["signals"];

    fn state(&self) -> &Self::State {
        &self.state
    }
    fn restore(&mut self, state: Self::State) {
        self.state = state;
    }
    fn handle(&mut self, event: &BusEvent, out: &mut Emitter<'_>) -> Result<(), Invalid> {
        let BusEvent::Tick(tick) = event else { return Ok(()) };
        if tick.price <= FixedPoint::ZERO {
            return Err(Invalid::new(format!("price {} is not positive", tick.price)));
        }
        let entry = self.state.entry(tick.symbol.clone()).or_default();
        entry.0 += 1;
        entry.1 = entry.1.wrapping_add(tick.price.raw());
        let (count, sum) = *entry;
        let envelope = out.envelope();
        let zero = FixedPoint::ZERO;
        out.emit(Signal {
            event_id: envelope.event_id,
            event_time: envelope.event_time,
            producer: envelope.producer,
            symbol: tick.symbol.clone(),
            score: FixedPoint::from_raw(count),
            side: if count % 2 == 0 { SignalSide::Buy } else { SignalSide::Sell },
            confidence: FixedPoint::from_raw(sum),
            components: SignalComponents { momentum: zero, mean_reversion: zero, breakout: zero, sentiment: zero },
            weights: BlendWeights { momentum: zero, mean_reversion: zero, breakout: zero, sentiment: zero },
        });
        Ok(())
    }
}

/// Stage 2: per symbol, counts signals and checks they arrive in sequence; emits a risk
/// event per signal.
#[derive(Default)]
pub struct Ledger {
    state: BTreeMap<String, LedgerEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub signals: i64,
    pub out_of_order: i64,
}

impl Agent for Ledger {
    type State = BTreeMap<String, LedgerEntry>;
    const NAME: &'static str = "ledger";
    const INPUTS: &'static [&'static str] = &["signals"];
    const OUTPUTS: &'static [&'static str] = &["risk_events"];

    fn state(&self) -> &Self::State {
        &self.state
    }
    fn restore(&mut self, state: Self::State) {
        self.state = state;
    }
    fn handle(&mut self, event: &BusEvent, out: &mut Emitter<'_>) -> Result<(), Invalid> {
        let BusEvent::Signal(signal) = event else { return Ok(()) };
        let entry = self.state.entry(signal.symbol.clone()).or_default();
        entry.signals += 1;
        if signal.score.raw() != entry.signals {
            entry.out_of_order += 1;
        }
        let envelope = out.envelope();
        out.emit(RiskEvent {
            event_id: envelope.event_id,
            event_time: envelope.event_time,
            producer: envelope.producer,
            kind: RiskEventKind::ExposureTrim,
            severity: Severity::Info,
            symbol: Some(signal.symbol.clone()),
            order_id: None,
            value: Some(FixedPoint::from_raw(entry.signals)),
            limit: Some(signal.confidence),
            message: format!("signal {} of {}", entry.signals, signal.symbol),
        });
        Ok(())
    }
}

/// The `n`-th tick of a run.
pub fn tick(n: i64) -> Tick {
    let time = EventTime::from_micros(1_752_400_000_000_000 + n * 1_000);
    Tick {
        event_id: EventId::derive(time, &[b"tick", &n.to_be_bytes()]),
        event_time: time,
        producer: Producer { agent: "market_data".into(), version: "test".into(), instance: "market_data-0".into() },
        symbol: SYMBOLS[(n.unsigned_abs() as usize * 7 + (n as usize / 3)) % SYMBOLS.len()].into(),
        exchange: "synthetic".into(),
        price: FixedPoint::from_raw(6_000_000_000_000 + (n % 977) * 1_000_000),
        volume: FixedPoint::from_raw(1_000_000),
        bid: None,
        ask: None,
        venue_seq: Some(n),
    }
}

/// The schema registry of this test process: a real `maxx registry serve` (the same server,
/// in process) over HTTP on loopback, storing in a topic of its own on the test broker, with
/// every schema of the tree registered. Agent processes that a test spawns reach the same
/// server through `MAXX_SCHEMA_REGISTRY` (see [`registry_url`]).
pub fn registry() -> Arc<dyn SchemaRegistry> {
    let registry = HttpRegistry::new(&registry_url()).expect("registry client");
    Arc::new(registry)
}

/// The URL of this process's registry: `MAXX_SCHEMA_REGISTRY` when the test was started as
/// a child of another test, otherwise a server started on first use.
pub fn registry_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("MAXX_SCHEMA_REGISTRY") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => start_registry(),
    })
    .clone()
}

fn start_registry() -> String {
    let (ready, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
        runtime.block_on(async move {
            let mut config = StoreConfig::new(maxx_testkit::bootstrap(), unique_name("maxx-test-schemas"));
            config.replication_factor = 1;
            let store = KafkaStore::open(config).await.expect("open the registry's topic");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let url = format!("http://{}", listener.local_addr().expect("address"));
            ready.send(url).expect("report the address");
            api::serve(listener, Arc::new(store), api::DEFAULT_MAX_BODY_BYTES, std::future::pending()).await.expect("serve");
        });
    });
    let url = address.recv_timeout(Duration::from_secs(90)).expect("the registry started");
    let client = HttpRegistry::new(&url).expect("client");
    for entry in catalog() {
        client.register(&format!("{}-value", entry.topic), entry.text).expect("register the tree's schemas");
    }
    url
}

/// A namespace of topics for one test, with every topic the pipeline uses created. Also
/// turns on the runtime's logs for the test when `RUST_LOG` is set.
pub fn namespace(test: &str) -> String {
    let _ = tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).with_test_writer().try_init();
    let namespace = format!("{}.", unique_name(test));
    for (topic, partitions) in [
        ("ticks", PARTITIONS),
        ("signals", PARTITIONS),
        ("risk_events", PARTITIONS),
        ("dead_letters", 1),
        ("agent_state", 1),
        ("state.sequencer", 1),
        ("state.ledger", 1),
    ] {
        create_topic(&format!("{namespace}{topic}"), partitions);
    }
    namespace
}

pub fn kafka_config(namespace: &str) -> KafkaConfig {
    let mut config = KafkaConfig::new(maxx_testkit::bootstrap());
    config.namespace = namespace.to_owned();
    config.session_timeout = Duration::from_secs(6);
    if let Ok(overrides) = std::env::var("MAXX_TEST_RDKAFKA") {
        for pair in overrides.split(',').filter(|p| !p.is_empty()) {
            if let Some((k, v)) = pair.split_once('=') {
                config.overrides.push((k.to_owned(), v.to_owned()));
            }
        }
    }
    config
}

/// Produces `ticks` to the namespace's ticks topic, keyed by symbol, in one transaction.
pub fn produce_ticks(namespace: &str, ticks: &[Tick]) {
    let codec = BusCodec::new(registry(), &["ticks"], Registration::LookupOnly).expect("codec");
    let payloads: Vec<(String, Vec<u8>)> =
        ticks.iter().map(|t| (t.symbol.clone(), codec.encode(&BusEvent::from(t.clone())).expect("encode"))).collect();
    produce_raw(namespace, "ticks", &payloads.iter().map(|(k, v)| (Some(k.as_bytes()), Some(v.as_slice()))).collect::<Vec<_>>());
}

/// A record as raw bytes: key and value, either possibly absent.
pub type RawRecord<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

/// A raw record with an optional `traceparent` header.
pub type TracedRecord<'a> = (Option<&'a [u8]>, Option<&'a [u8]>, Option<&'a str>);

/// Produces raw key/value pairs to a topic of the namespace in one transaction.
pub fn produce_raw(namespace: &str, topic: &str, records: &[RawRecord<'_>]) {
    let with_headers: Vec<_> = records.iter().map(|(k, v)| (*k, *v, None)).collect();
    produce_with_headers(namespace, topic, &with_headers);
}

/// Produces raw records, each with an optional `traceparent` header, in one transaction.
pub fn produce_with_headers(namespace: &str, topic: &str, records: &[TracedRecord<'_>]) {
    let producer: ThreadedProducer<DefaultProducerContext> = client_config()
        .set("transactional.id", unique_name("feeder"))
        .create()
        .expect("producer");
    producer.init_transactions(Duration::from_secs(60)).expect("init");
    producer.begin_transaction().expect("begin");
    let topic = format!("{namespace}{topic}");
    for (key, value, traceparent) in records {
        let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(&topic);
        record.key = *key;
        record.payload = *value;
        if let Some(traceparent) = traceparent {
            record = record.headers(rdkafka::message::OwnedHeaders::new().insert(rdkafka::message::Header { key: "traceparent", value: Some(*traceparent) }));
        }
        send_waiting(&producer, record);
    }
    producer.commit_transaction(Timeout::Never).expect("commit");
}

/// Reads `topic` of the namespace back, committed records only (see
/// [`maxx_testkit::read_committed`]).
pub fn read_committed(namespace: &str, topic: &str, expected: usize, timeout: Duration) -> Vec<Record> {
    maxx_testkit::read_committed(&format!("{namespace}{topic}"), expected, timeout)
}

/// Decodes messages read from a bus topic.
pub fn decode(topic: &str, read: &[Record]) -> Vec<BusEvent> {
    let mut codec = BusCodec::new(registry(), &[topic], Registration::LookupOnly).expect("codec");
    read.iter().map(|r| codec.decode(topic, r.value.as_deref().expect("value")).expect("decodes")).collect()
}

/// What the pipeline must produce from `ticks`: the embedded runtime's run, with the
/// producer instances the Kafka runtime stamps (instance 0 of each agent).
pub struct Expected {
    pub signals: Vec<BusEvent>,
    pub risk_events: Vec<BusEvent>,
    pub sequencer_state: serde_json::Value,
    pub ledger_state: serde_json::Value,
}

pub fn expected(ticks: &[Tick]) -> Expected {
    let mut runtime = EmbeddedRuntime::new();
    runtime.add(Sequencer::default(), "sequencer-0").add(Ledger::default(), "ledger-0");
    for t in ticks {
        runtime.publish(t.clone());
    }
    let log = runtime.run_until_idle(usize::MAX).expect("idle");
    let of = |topic: &str| log.iter().filter(|e| e.topic() == topic).cloned().collect::<Vec<_>>();
    let state = |name: &str| serde_json::from_slice(&runtime.agent(name).expect("agent").snapshot().expect("snapshot")).expect("json");
    Expected { signals: of("signals"), risk_events: of("risk_events"), sequencer_state: state("sequencer"), ledger_state: state("ledger") }
}

/// Checks that `actual` holds exactly the `expected` events — each once, none other — and in
/// the same order per key.
pub fn assert_exactly_once(what: &str, actual: &[BusEvent], expected: &[BusEvent]) {
    let mut seen = HashSet::new();
    let duplicates: Vec<_> = actual.iter().filter(|e| !seen.insert(e.event_id())).map(BusEvent::event_id).collect();
    assert!(duplicates.is_empty(), "{what}: {} duplicates, e.g. {:?}", duplicates.len(), &duplicates[..duplicates.len().min(3)]);
    let expected_ids: HashSet<EventId> = expected.iter().map(BusEvent::event_id).collect();
    let missing = expected.iter().filter(|e| !seen.contains(&e.event_id())).count();
    let unexpected = actual.iter().filter(|e| !expected_ids.contains(&e.event_id())).count();
    assert_eq!((missing, unexpected), (0, 0), "{what}: missing and unexpected events");
    let by_key = |events: &[BusEvent]| {
        let mut keys: BTreeMap<String, Vec<BusEvent>> = BTreeMap::new();
        for e in events {
            keys.entry(e.key().to_owned()).or_default().push(e.clone());
        }
        keys
    };
    assert!(by_key(actual) == by_key(expected), "{what}: events differ in content or per-key order");
}

/// The last snapshot of `agent` in the namespace, as JSON state.
pub fn last_snapshot_state(namespace: &str, agent: &str) -> serde_json::Value {
    let snapshot = maxx_runtime::kafka::snapshot::read_latest(&client_config(), &format!("{namespace}state.{agent}"), agent, Duration::from_secs(30))
        .expect("read the snapshot")
        .expect("a snapshot exists");
    snapshot.state
}

/// An agent running on the Kafka runtime in a thread of the test process.
pub struct Running {
    pub shutdown: Arc<std::sync::atomic::AtomicBool>,
    pub stats: Arc<maxx_runtime::kafka::Stats>,
    pub thread: std::thread::JoinHandle<Result<(), maxx_runtime::RuntimeError>>,
}

/// Starts `agent` on its own thread.
pub fn spawn(config: KafkaConfig, agent: fn() -> Box<dyn maxx_agents::DynAgent>) -> Running {
    let runtime = maxx_runtime::KafkaRuntime::new(config, registry());
    let (shutdown, stats) = (runtime.shutdown_handle(), runtime.stats());
    Running { shutdown, stats, thread: std::thread::spawn(move || runtime.run(agent)) }
}

/// Waits until the agent is Running: its producer initialized (so any predecessor with the
/// same identity is fenced) and its consumer subscribed.
pub fn wait_running(running: &Running) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while running.stats.lifecycle().map(|(state, _)| state) != Some(maxx_events::Lifecycle::Running) {
        assert!(std::time::Instant::now() < deadline, "the agent did not reach Running within 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asks the agent to stop and waits for a clean stop (no error) within 60 s.
pub fn stop(running: Running) {
    running.shutdown.store(true, std::sync::atomic::Ordering::SeqCst);
    join_within(running.thread, Duration::from_secs(60)).expect("clean shutdown");
}

/// Joins a runtime thread, failing the test if it has not ended within `timeout`.
pub fn join_within(
    thread: std::thread::JoinHandle<Result<(), maxx_runtime::RuntimeError>>,
    timeout: Duration,
) -> Result<(), maxx_runtime::RuntimeError> {
    let deadline = std::time::Instant::now() + timeout;
    while !thread.is_finished() {
        assert!(std::time::Instant::now() < deadline, "the runtime did not stop within {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    thread.join().expect("runtime thread")
}

