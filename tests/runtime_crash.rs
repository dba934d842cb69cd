//! Crash safety on a real broker: the two-stage pipeline runs as separate agent processes,
//! which are killed with SIGKILL at random moments and restarted while 50,000 ticks flow.
//! A `read_committed` reader then finds every expected output exactly once — nothing lost,
//! nothing duplicated — and the restored states equal the states computed without crashes.

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
    let result = match stage.as_str() {
        "sequencer" => runtime.run(|| Box::new(Sequencer::default())),
        "ledger" => runtime.run(|| Box::new(Ledger::default())),
        other => panic!("no stage {other}"),
    };
    result.expect("the agent stopped with an error");
}

/// An agent process of one stage, running `binary` (a copy of this test binary, taken at the
/// start so that a rebuild during the test cannot pull it away).
fn spawn_stage(binary: &std::path::Path, stage: &str, namespace: &str, log: &std::path::Path) -> Child {
    let log = File::options().create(true).append(true).open(log).expect("log file");
    Command::new(binary)
        .args(["agent_process", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(STAGE, stage)
        .env(NAMESPACE, namespace)
        .env("MAXX_BOOTSTRAP", maxx_testkit::bootstrap())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn an agent process")
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
    let logs = std::env::temp_dir().join(format!("{}log", namespace));
    std::fs::create_dir_all(&logs).expect("log dir");
    let binary = logs.join("agent-process");
    std::fs::copy(std::env::current_exe().expect("this test binary"), &binary).expect("copy this test binary");
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
