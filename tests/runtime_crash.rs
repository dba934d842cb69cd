//! Crash safety on a real broker: the two-stage pipeline runs as separate agent processes,
//! which are killed with SIGKILL at random moments and restarted while 50,000 ticks flow.
//! A `read_committed` reader then finds every expected output exactly once — nothing lost,
//! nothing duplicated — and the restored states equal the states computed without crashes.
//! And SIGTERM stops an agent process cleanly: transaction finished, group left, exit 0.

mod support;

use std::fs::File;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use maxx_runtime::KafkaRuntime;
use support::*;

const STAGE: &str = "MAXX_TEST_AGENT_STAGE";
const NAMESPACE: &str = "MAXX_TEST_NAMESPACE";

/// The body of the agent processes the crash test spawns (this test binary, run again with
/// `--ignored --exact agent_process`): one stage of the pipeline on the Kafka runtime.
#[test]
#[ignore = "entry point of the agent processes that crash_safety spawns and kills"]
fn agent_process() {
    let stage = std::env::var(STAGE).expect("MAXX_TEST_AGENT_STAGE names the stage");
    let namespace = std::env::var(NAMESPACE).expect("MAXX_TEST_NAMESPACE names the topics");
    let runtime = KafkaRuntime::new(kafka_config(&namespace), registry());
    runtime.stop_on_signals().expect("signal handlers");
    let result = match stage.as_str() {
        "sequencer" => runtime.run(|| Box::new(Sequencer::default())),
        "ledger" => runtime.run(|| Box::new(Ledger::default())),
        other => panic!("no stage {other}"),
    };
    result.expect("the agent stopped with an error");
}

/// An agent process of one stage, running `binary` (see [`scratch`]).
fn spawn_stage(binary: &std::path::Path, stage: &str, namespace: &str, log: &std::path::Path) -> Child {
    let log = File::options().create(true).append(true).open(log).expect("log file");
    Command::new(binary)
        .args(["agent_process", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(STAGE, stage)
        .env(NAMESPACE, namespace)
        .env("MAXX_BOOTSTRAP", maxx_testkit::bootstrap())
        .env("MAXX_SCHEMA_REGISTRY", registry_url())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn an agent process")
}

/// A scratch directory for a test's agent processes: their logs, and a copy of this test
/// binary for them to run (taken now, so that a rebuild during the test cannot pull it away).
fn scratch(namespace: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let logs = std::env::temp_dir().join(format!("{namespace}log"));
    std::fs::create_dir_all(&logs).expect("log dir");
    let binary = logs.join("agent-process");
    std::fs::copy(std::env::current_exe().expect("this test binary"), &binary).expect("copy this test binary");
    (logs, binary)
}

/// A small deterministic generator, so a failing run can be repeated.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn sigkilled_agent_processes_lose_and_duplicate_nothing() {
    let namespace = namespace("crash");
    let (logs, binary) = scratch(&namespace);
    let ticks: Vec<_> = (0..50_000).map(tick).collect();
    let expected = expected(&ticks);
    let stages = ["sequencer", "ledger"];
    let mut children: Vec<Child> = stages.iter().map(|s| spawn_stage(&binary, s, &namespace, &logs.join(s))).collect();

    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut kills = 0;
    for chunk in ticks.chunks(2_500) {
        produce_ticks(&namespace, chunk);
        // Let the stages get some way into the chunk, then kill one mid-stream.
        std::thread::sleep(Duration::from_millis(100 + rng.below(600)));
        let victim = rng.below(2) as usize;
        children[victim].kill().expect("SIGKILL");
        children[victim].wait().expect("reap");
        kills += 1;
        children[victim] = spawn_stage(&binary, stages[victim], &namespace, &logs.join(stages[victim]));
    }
    assert!(kills >= 10, "only {kills} kills");

    let risk_events = decode("risk_events", &read_committed(&namespace, "risk_events", ticks.len(), Duration::from_secs(600)));
    let signals = decode("signals", &read_committed(&namespace, "signals", ticks.len(), Duration::from_secs(60)));
    for child in &mut children {
        child.kill().expect("stop");
        child.wait().expect("reap");
    }
    assert_exactly_once("signals", &signals, &expected.signals);
    assert_exactly_once("risk_events", &risk_events, &expected.risk_events);
    assert_eq!(last_snapshot_state(&namespace, "sequencer"), expected.sequencer_state, "restored sequencer state");
    assert_eq!(last_snapshot_state(&namespace, "ledger"), expected.ledger_state, "restored ledger state");
    let _ = std::fs::remove_dir_all(&logs);
}

#[test]
fn sigterm_finishes_the_transaction_leaves_the_group_and_exits_cleanly() {
    let namespace = namespace("sigterm");
    let (logs, binary) = scratch(&namespace);
    let ticks: Vec<_> = (0..5_000).map(tick).collect();
    let expected = expected(&ticks);

    let mut agent = spawn_stage(&binary, "sequencer", &namespace, &logs.join("first"));
    produce_ticks(&namespace, &ticks);
    read_committed(&namespace, "signals", 500, Duration::from_secs(120));
    let status = Command::new("kill").args(["-TERM", &agent.id().to_string()]).status().expect("kill -TERM");
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let exit = loop {
        if let Some(exit) = agent.try_wait().expect("wait") {
            break exit;
        }
        assert!(std::time::Instant::now() < deadline, "the agent did not exit within 60 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "exit status after SIGTERM: {exit}");

    // It left the group: no member remains (a crashed member would linger for its session).
    let group = format!("{namespace}maxx.sequencer");
    let consumer: rdkafka::consumer::BaseConsumer = maxx_testkit::client_config().create().expect("client");
    let groups = rdkafka::consumer::Consumer::fetch_group_list(&consumer, Some(&group), Duration::from_secs(10)).expect("group list");
    let members: usize = groups.groups().iter().map(|g| g.members().len()).sum();
    assert_eq!(members, 0, "members left in {group}");

    // Its last state is Shutdown, on request; a successor finishes the ticks, none twice.
    let states = decode("agent_state", &read_committed(&namespace, "agent_state", 3, Duration::from_secs(30)));
    let last = states.iter().rev().find_map(|e| match e {
        maxx_events::BusEvent::AgentState(s) => Some((s.state, s.reason.clone())),
        _ => None,
    });
    assert_eq!(last, Some((maxx_events::Lifecycle::Shutdown, "stopped on request".to_owned())));
    let mut successor = spawn_stage(&binary, "sequencer", &namespace, &logs.join("second"));
    let signals = decode("signals", &read_committed(&namespace, "signals", ticks.len(), Duration::from_secs(120)));
    successor.kill().expect("stop");
    successor.wait().expect("reap");
    assert_exactly_once("signals", &signals, &expected.signals);
    let _ = std::fs::remove_dir_all(&logs);
}
