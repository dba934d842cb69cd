//! The audit on a real broker: Portfolio and RiskSentinel run live on the Kafka runtime as
//! separate processes, each SIGKILLed once mid-stream and restarted, while ticks, orders and
//! fills flow; then
//! - `maxx replay audit` rebuilds both states from the log and matches every snapshot they
//!   wrote, and `--as-of` a snapshot's offsets gives that snapshot's state;
//! - `maxx archive export` → `import` into a new namespace gives the same records (decoded
//!   equal, original offsets kept) and the same audit digest; so does auditing the archive
//!   directory itself;
//! - the same archive with one fill's price forged, imported into another namespace, audits
//!   with a divergence at the first snapshot past that fill's offset, naming the fields.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use maxx_agents::config::AgentConfig;
use maxx_agents::portfolio::Portfolio;
use maxx_agents::risk::RiskSentinel;
use maxx_events::{BusCodec, BusEvent, FixedPoint, Registration};
use maxx_replay::archive::{ArchiveReader, ArchiveWriter};
use maxx_replay::audit::{diff, interleaving_sensitive, AgentAudit};
use maxx_replay::audit_report::AuditReport;
use maxx_replay::kafka::{self, PartitionReader, Until};
use maxx_replay::run_audit::{self, AsOf, AuditRequest, LogSource};
use maxx_runtime::KafkaRuntime;
use maxx_testkit::{client_config, create_topic, unique_name};
use support::{kafka_config, produce_raw, registry, registry_url};

const AGENT: &str = "MAXX_TEST_AUDIT_AGENT";
const NAMESPACE: &str = "MAXX_TEST_NAMESPACE";

/// Topics of the live run: the two agents' inputs, outputs, lifecycle and snapshots.
const TOPICS: [(&str, i32); 13] = [
    ("ticks", 3),
    ("fills", 1),
    ("orders", 1),
    ("pnl", 1),
    ("risk_state", 1),
    ("risk_events", 1),
    ("session_events", 1),
    ("governor_weights", 1),
    ("commands", 1),
    ("dead_letters", 1),
    ("agent_state", 1),
    ("state.portfolio", 1),
    ("state.risk_sentinel", 1),
];

/// Topics the audit reads (inputs and snapshots), which export and import carry.
const ARCHIVED: &str = "ticks,fills,orders,pnl,session_events,governor_weights,commands,state.portfolio,state.risk_sentinel";

/// The body of the agent processes (this test binary run again with `--ignored --exact
/// audit_agent_process`): one agent on the Kafka runtime.
#[test]
#[ignore = "entry point of the agent processes the audit test spawns and kills"]
fn audit_agent_process() {
    let agent = std::env::var(AGENT).expect("MAXX_TEST_AUDIT_AGENT names the agent");
    let namespace = std::env::var(NAMESPACE).expect("MAXX_TEST_NAMESPACE names the topics");
    let runtime = KafkaRuntime::new(kafka_config(&namespace), registry());
    runtime.stop_on_signals().expect("signal handlers");
    let result = match agent.as_str() {
        "portfolio" => runtime.run(|| Box::new(Portfolio::new(AgentConfig::default().portfolio))),
        "risk_sentinel" => runtime.run(|| Box::new(RiskSentinel::new(AgentConfig::default().risk))),
        other => panic!("no agent {other}"),
    };
    result.expect("the agent stopped with an error");
}

fn spawn_agent(agent: &str, namespace: &str, log: &Path) -> Child {
    let log = std::fs::File::options().create(true).append(true).open(log).expect("log file");
    Command::new(std::env::current_exe().expect("test binary"))
        .args(["audit_agent_process", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(AGENT, agent)
        .env(NAMESPACE, namespace)
        .env("MAXX_SCHEMA_REGISTRY", registry_url())
        .stdout(Stdio::from(log.try_clone().expect("log")))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawn the agent process")
}

fn new_namespace(test: &str) -> String {
    let namespace = format!("{}.", unique_name(test));
    for (topic, partitions) in TOPICS {
        create_topic(&format!("{namespace}{topic}"), partitions);
    }
    namespace
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique_name(name));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The market: the first 1,200 sample ticks run through the backtest chain; its ticks,
/// orders and fills, in rounds of 100 ticks (orders and fills up to the round's last tick).
fn market() -> Vec<Vec<BusEvent>> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample_ticks.csv")).expect("sample ticks");
    let ticks: Vec<_> = maxx_replay::ticks_csv::parse(&text).expect("parses").into_iter().take(1_200).collect();
    let mut chain = maxx_replay::backtest::chain(&AgentConfig::default());
    let mut rounds = Vec::new();
    for round in ticks.chunks(100) {
        let mut events = Vec::new();
        for tick in round {
            chain.publish(tick.clone());
            while let Some((event, _)) = chain.step() {
                if matches!(event, BusEvent::Tick(_) | BusEvent::Order(_) | BusEvent::Fill(_)) {
                    events.push(event);
                }
            }
        }
        rounds.push(events);
    }
    let fills = rounds.iter().flatten().filter(|e| matches!(e, BusEvent::Fill(_))).count();
    assert!(fills > 10, "the market trades ({fills} fills)");
    rounds
}

/// A key and value to produce.
type Kv<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

/// A record read back: partition, offset, key, decoded event (none for snapshots).
type ReadBack = (i32, i64, Option<Vec<u8>>, Option<BusEvent>);

/// Produces one round: each topic's events in one transaction.
fn produce_round(namespace: &str, codec: &BusCodec, events: &[BusEvent]) {
    for topic in ["ticks", "orders", "fills"] {
        let encoded: Vec<(String, Vec<u8>)> =
            events.iter().filter(|e| e.topic() == topic).map(|e| (e.key().to_owned(), codec.encode(e).expect("encode"))).collect();
        if encoded.is_empty() {
            continue;
        }
        let records: Vec<Kv<'_>> = encoded.iter().map(|(k, v)| (Some(k.as_bytes()), Some(v.as_slice()))).collect();
        produce_raw(namespace, topic, &records);
    }
}

/// Waits until `agent`'s last snapshot covers every record of its input partitions (the last
/// offset of a partition is the commit marker of its last transaction).
fn wait_caught_up(namespace: &str, agent: &str, inputs: &[&str]) {
    let client = client_config();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let snapshot = maxx_runtime::kafka::snapshot::read_latest(&client, &format!("{namespace}state.{agent}"), agent, Duration::from_secs(30)).expect("read the snapshot");
        let offsets = snapshot.map(|s| s.offset_map()).unwrap_or_default();
        let mut behind = Vec::new();
        for topic in inputs {
            let full = format!("{namespace}{topic}");
            for partition in kafka::partitions(&client, &full).expect("partitions") {
                let (_, high) = kafka::watermarks(&client, &full, partition).expect("watermarks");
                let next = offsets.get(&((*topic).to_owned(), partition)).copied().unwrap_or(0);
                if high > 0 && next < high - 1 {
                    behind.push(format!("{topic}:{partition} {next}/{}", high - 1));
                }
            }
        }
        if behind.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "{agent} did not catch up within 180 s: {behind:?}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A namespace where Portfolio and RiskSentinel ran live, each killed once, all caught up.
struct LiveRun {
    namespace: String,
}

fn live_run() -> &'static LiveRun {
    static RUN: OnceLock<LiveRun> = OnceLock::new();
    RUN.get_or_init(|| {
        let namespace = new_namespace("audit-live");
        let log = scratch("audit-agents").join("agents.log");
        let codec = BusCodec::new(registry(), &["ticks", "orders", "fills"], Registration::LookupOnly).expect("codec");
        let rounds = market();
        let mut portfolio = spawn_agent("portfolio", &namespace, &log);
        let mut risk = spawn_agent("risk_sentinel", &namespace, &log);
        for round in &rounds[..5] {
            produce_round(&namespace, &codec, round);
        }
        wait_caught_up(&namespace, "portfolio", &["ticks", "fills"]);
        for round in &rounds[5..8] {
            produce_round(&namespace, &codec, round);
        }
        // Crash both mid-stream (SIGKILL: no commit, no goodbye) and restart them.
        portfolio.kill().expect("kill portfolio");
        portfolio.wait().expect("reap portfolio");
        risk.kill().expect("kill risk_sentinel");
        risk.wait().expect("reap risk_sentinel");
        for round in &rounds[8..10] {
            produce_round(&namespace, &codec, round);
        }
        let mut portfolio = spawn_agent("portfolio", &namespace, &log);
        let mut risk = spawn_agent("risk_sentinel", &namespace, &log);
        for round in &rounds[10..] {
            produce_round(&namespace, &codec, round);
        }
        wait_caught_up(&namespace, "portfolio", &["ticks", "fills"]);
        wait_caught_up(&namespace, "risk_sentinel", &["ticks", "fills", "orders", "pnl"]);
        for child in [&mut portfolio, &mut risk] {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let deadline = Instant::now() + Duration::from_secs(60);
            while child.try_wait().expect("wait").is_none() {
                assert!(Instant::now() < deadline, "agent did not stop on SIGTERM; log {}", log.display());
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        LiveRun { namespace }
    })
}

fn broker(namespace: &str) -> LogSource {
    LogSource::Broker { client: client_config(), namespace: namespace.to_owned(), registry: registry() }
}

fn request(as_of: AsOf) -> AuditRequest {
    AuditRequest { agents: vec!["portfolio".into(), "risk_sentinel".into()], config: AgentConfig::default(), as_of, from_offsets: None, check_outputs: true }
}

fn audit(source: &LogSource, as_of: AsOf) -> AuditReport {
    run_audit::audit(source, &request(as_of), None, &mut |_, _| {}).expect("audit")
}

fn agent<'a>(report: &'a AuditReport, name: &str) -> &'a AgentAudit {
    report.agents.iter().find(|a| a.agent == name).expect("agent in the report")
}

fn maxx_cmd() -> Command {
    Command::new(maxx_binary())
}

fn maxx(namespace: &str) -> Command {
    let mut command = Command::new(maxx_binary());
    command.env("MAXX_BOOTSTRAP", maxx_testkit::bootstrap()).env("MAXX_NAMESPACE", namespace).env("MAXX_SCHEMA_REGISTRY", registry_url());
    command
}

fn assert_clean(report: &AuditReport, what: &str) {
    for a in &report.agents {
        assert!(a.checkpoints >= 3, "{what}: {} wrote {} snapshots", a.agent, a.checkpoints);
        assert_eq!((a.checked, a.matched, a.divergence_count), (a.checkpoints, a.checkpoints, 0), "{what}: {}: {:?}", a.agent, a.divergences.first());
        assert!(a.events > 1_000, "{what}: {} replayed {} events", a.agent, a.events);
    }
    let portfolio = agent(report, "portfolio");
    assert!(portfolio.outputs_checked > 10 && portfolio.output_mismatches == 0, "{what}: {:?}", portfolio.first_output_mismatch);
    assert!(report.ok);
}

#[test]
fn a_live_run_with_crashes_matches_the_audit_at_every_checkpoint_and_as_of_a_snapshot() {
    let live = live_run();
    let report = audit(&broker(&live.namespace), AsOf::End);
    assert_clean(&report, "live");
    assert_eq!(report.digest, audit(&broker(&live.namespace), AsOf::End).digest, "the same log, the same digest");

    // The CLI: a table by default, JSON with --json, exit 0 on a match, the same digest.
    let output = maxx(&live.namespace).args(["replay", "audit", "--json"]).output().expect("maxx replay audit");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    assert_eq!(json["ok"], true);
    assert_eq!(json["digest"], report.digest.as_str());

    // --as-of a middle snapshot's offsets: the state there, equal to that snapshot.
    let client = client_config();
    for name in ["portfolio", "risk_sentinel"] {
        let checkpoints = kafka::read_checkpoints(&client, &format!("{}state.{name}", live.namespace), name).expect("checkpoints");
        let middle = &checkpoints[checkpoints.len() / 2];
        let as_of = run_audit::audit_agent(&broker(&live.namespace), name, &request(AsOf::Offsets(middle.offsets.clone())), &mut |_| {}).expect("audit as of");
        assert_eq!(diff(&middle.state, &as_of.state, interleaving_sensitive(name)), vec![], "{name} as of {:?}", middle.offsets);
        assert!(as_of.checked > checkpoints.len() / 2 && as_of.checked == as_of.matched, "{name}: {} checked", as_of.checked);
        assert!(as_of.events < agent(&report, name).events, "{name}: as-of replays a prefix");
    }
    // --from-offsets: start at a middle snapshot; only the later ones are checked, all match.
    let checkpoints = kafka::read_checkpoints(&client, &format!("{}state.portfolio", live.namespace), "portfolio").expect("checkpoints");
    let middle = &checkpoints[checkpoints.len() / 2];
    let from = AuditRequest { from_offsets: Some(middle.offsets.clone()), ..request(AsOf::End) };
    let later = run_audit::audit_agent(&broker(&live.namespace), "portfolio", &from, &mut |_| {}).expect("audit from a snapshot");
    assert_eq!(later.checkpoints, checkpoints.len() - checkpoints.len() / 2 - 1);
    assert_eq!((later.checked, later.matched), (later.checkpoints, later.checkpoints));
    assert!(later.events < agent(&report, "portfolio").events);

    // A quant backtests the live ticks straight from the topic.
    let out = scratch("audit-topic-backtest");
    let summary = run_ok(maxx(&live.namespace).args(["backtest", "--ticks", "topic:ticks", "--out"]).arg(&out), "backtest topic:ticks");
    assert!(summary.starts_with("1200 ticks,"), "{summary}");
    let from_topic = std::fs::read(out.join("report.json")).expect("report");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample_ticks.csv");
    let head: String = std::fs::read_to_string(&sample).expect("sample").lines().take(1_201).map(|l| format!("{l}\n")).collect();
    let csv = scratch("audit-topic-csv").join("head.csv");
    std::fs::write(&csv, head).expect("write");
    let out_csv = scratch("audit-csv-backtest");
    run_ok(maxx_cmd().args(["backtest", "--ticks"]).arg(&csv).arg("--out").arg(&out_csv), "backtest the same ticks from CSV");
    let trades = |bytes: &[u8]| serde_json::from_slice::<serde_json::Value>(bytes).expect("json")["trades"].clone();
    assert_eq!(trades(&from_topic), trades(&std::fs::read(out_csv.join("report.json")).expect("report")), "the same ticks from a topic or a file trade the same");

    let html = scratch("audit-html").join("audit.html");
    let output = maxx(&live.namespace).args(["replay", "audit", "--as-of", "2026-01-01T00:10:00Z", "--html"]).arg(&html).output().expect("maxx replay audit --as-of");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("as of 2026-01-01T00:10:00Z"), "{table}");
    // Broker timestamps are the (later) times the test produced: nothing was logged by then.
    assert!(table.contains("portfolio state after the replay:\n  cash               100000\n"), "{table}");
    let full = run_ok(maxx(&live.namespace).args(["replay", "audit"]), "audit table");
    assert!(full.contains("risk_sentinel state after the replay:") && full.contains("  position BTCUSD"), "{full}");
    assert!(std::fs::read_to_string(&html).expect("html").contains("<h2>portfolio</h2>"));
}

/// Every record of `topic` in `namespace`, decoded (or raw for snapshots), with offsets.
fn records(namespace: &str, topic: &str) -> Vec<ReadBack> {
    let client = client_config();
    let full = format!("{namespace}{topic}");
    let mut codec = BusCodec::new(registry(), &["ticks", "orders", "fills", "pnl"], Registration::LookupOnly).expect("codec");
    let mut out = Vec::new();
    for partition in kafka::partitions(&client, &full).expect("partitions") {
        for record in PartitionReader::open(&client, &full, topic, partition, 0, Until::End).expect("reader") {
            let record = record.expect("record");
            let event = record.value.as_deref().filter(|_| !topic.starts_with("state.")).map(|v| codec.decode(topic, v).expect("decodes"));
            out.push((record.partition, record.offset, record.key, event));
        }
    }
    out
}

fn run_ok(command: &mut Command, what: &str) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(output.status.success(), "{what}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn export_import_keeps_records_and_digest_and_a_forged_fill_diverges_at_its_offset() {
    let live = live_run();
    let original = audit(&broker(&live.namespace), AsOf::End);
    let dir = scratch("audit-archive");
    run_ok(maxx(&live.namespace).args(["archive", "export", "--topics", ARCHIVED, "--out"]).arg(&dir), "export");

    // The archive alone, without a broker, audits the same.
    let from_files = audit(&LogSource::Archive(dir.clone()), AsOf::End);
    assert_clean(&from_files, "archive");
    assert_eq!(from_files.digest, original.digest);

    // A quant backtests the archived ticks without a broker.
    let backtest_out = scratch("audit-backtest");
    let summary = run_ok(maxx_cmd().args(["backtest", "--ticks"]).arg(dir.join("ticks.avro")).arg("--out").arg(&backtest_out), "backtest the archive");
    assert!(summary.starts_with("1200 ticks,"), "{summary}");

    // Imported into a new namespace: the same records, the same audit.
    let copy = new_namespace("audit-copy");
    run_ok(maxx(&copy).args(["archive", "import", "--from"]).arg(&dir), "import");
    for topic in ["ticks", "fills", "orders", "pnl", "state.portfolio"] {
        let (a, b) = (records(&live.namespace, topic), records(&copy, topic));
        assert!(!a.is_empty(), "{topic} is empty");
        assert!(a == b, "{topic}: the imported records differ ({} vs {})", a.len(), b.len());
    }
    let imported = audit(&broker(&copy), AsOf::End);
    assert_clean(&imported, "imported");
    assert_eq!(imported.digest, original.digest, "export → import → audit gives the same digest");

    // Forge one fill in the middle: another price, everything else as it was.
    let forged_dir = scratch("audit-forged");
    for entry in std::fs::read_dir(&dir).expect("archive dir") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, forged_dir.join(path.file_name().expect("name"))).expect("copy");
    }
    let reader = ArchiveReader::open(std::fs::File::open(dir.join("fills.avro")).expect("fills.avro")).expect("archive");
    let schemas = reader.schemas.clone();
    let mut fills: Vec<_> = reader.collect::<Result<_, _>>().expect("records");
    let forged_index = fills.len() / 2;
    let mut codec = BusCodec::new(registry(), &["fills"], Registration::LookupOnly).expect("codec");
    let BusEvent::Fill(mut fill) = codec.decode("fills", fills[forged_index].value.as_deref().expect("value")).expect("decode") else { panic!("a fill") };
    fill.price = fill.price.checked_add(FixedPoint::ONE).expect("price");
    fills[forged_index].value = Some(codec.encode(&fill.into()).expect("encode"));
    let forged_offset = fills[forged_index].offset;
    let mut writer = ArchiveWriter::new(std::fs::File::create(forged_dir.join("fills.avro")).expect("create"), "fills", &schemas).expect("writer");
    for record in &fills {
        writer.append(record).expect("append");
    }
    writer.finish().expect("finish");
    let forged = new_namespace("audit-forged");
    run_ok(maxx(&forged).args(["archive", "import", "--from"]).arg(&forged_dir), "import the forgery");

    let report = audit(&broker(&forged), AsOf::End);
    assert!(!report.ok);
    assert_ne!(report.digest, original.digest);
    let portfolio = agent(&report, "portfolio");
    let first = portfolio.divergences.first().expect("the forgery is found");
    let checkpoints = kafka::read_checkpoints(&client_config(), &format!("{forged}state.portfolio"), "portfolio").expect("checkpoints");
    let expected = checkpoints.iter().position(|cp| cp.offsets.get(&("fills".to_owned(), 0)).copied().unwrap_or(0) > forged_offset).expect("a snapshot past the fill");
    assert_eq!(first.checkpoint, expected, "the first snapshot whose inputs include fill offset {forged_offset}");
    assert_eq!(portfolio.divergence_count, 1, "one forged fill, one divergence (later snapshots are checked from the live one before): {:?}", portfolio.divergences);
    assert_eq!(portfolio.matched, portfolio.checked - 1, "every other snapshot matched");
    let range = first.inputs.iter().find(|r| r.topic == "fills").expect("a fills range");
    assert!(range.from <= forged_offset && forged_offset < range.to, "{range:?} holds offset {forged_offset}");
    let fields: Vec<&str> = first.fields.iter().map(|f| f.path.as_str()).collect();
    assert!(fields.contains(&"cash"), "{fields:?}");
    // The outputs name the forged fill itself: its pnl is the first to differ.
    let mismatch = portfolio.first_output_mismatch.as_ref().expect("an output mismatch");
    assert_eq!((mismatch.topic.as_str(), mismatch.partition, mismatch.offset), ("fills", 0, forged_offset));
    assert!(mismatch.fields.iter().any(|f| f.path == "cash"), "{mismatch:?}");

    // The CLI says so too, with exit status 1 and the offsets in the table.
    let output = maxx(&forged).args(["replay", "audit", "--agents", "portfolio", "--check-outputs"]).output().expect("audit the forgery");
    assert_eq!(output.status.code(), Some(1));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains(&format!("first divergence of portfolio: checkpoint {expected}")), "{table}");
    assert!(table.contains(&format!("inputs fills:0 offsets {}..{}", range.from, range.to)), "{table}");
    assert!(table.contains(&format!("input fills:0 offset {forged_offset} -> pnl")), "{table}");
}

/// The `maxx` binary under test: `MAXX_TEST_BIN` when set (a copy, for checkouts that share
/// a target directory with others building other versions), else the one cargo built.
fn maxx_binary() -> std::path::PathBuf {
    std::env::var_os("MAXX_TEST_BIN").map_or_else(|| env!("CARGO_BIN_EXE_maxx").into(), Into::into)
}
