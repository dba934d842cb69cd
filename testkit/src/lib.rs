//! Test support for integration tests that need a real Kafka broker.
//!
//! [`bootstrap`] finds the broker: `MAXX_BOOTSTRAP` when it is set (a Redpanda or Kafka the
//! developer or CI already runs — nothing is started), otherwise the single-node broker of
//! `scripts/kafka.sh` on `KAFKA_PORT` (default 9092), started on first use and left running
//! for the next test run (`scripts/kafka.sh stop` ends it). Tests share the broker and keep
//! out of each other's way with [`unique_name`] topics, groups and transactional ids.
//!
//! A test binary that must restart its broker takes a [`DedicatedBroker`] instead: a broker
//! of its own on a free port, stopped (and its data removed) when the handle drops.

pub mod otlp;
mod read;
mod send;

pub use read::{read_committed, Record};
pub use send::{send_waiting, Enqueue};

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::types::RDKafkaErrorCode;

/// The broker address for tests: `MAXX_BOOTSTRAP`, or the script's broker (started if needed).
///
/// # Panics
/// When no broker is configured and the script cannot start one: an integration test cannot
/// run without a real broker, and the message says how to provide one.
pub fn bootstrap() -> String {
    BOOTSTRAP
        .get_or_init(|| match std::env::var("MAXX_BOOTSTRAP") {
            Ok(addr) if !addr.trim().is_empty() => addr.trim().to_owned(),
            _ => start_script_broker(),
        })
        .clone()
}

/// The broker of this test process, chosen once.
static BOOTSTRAP: OnceLock<String> = OnceLock::new();

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/kafka.sh")
}

/// Runs `scripts/kafka.sh <command>` with `port` (or the script's default) and returns what
/// it printed: the bootstrap address for start and restart.
fn run_script(command: &str, port: Option<u16>) -> String {
    let mut invocation = Command::new("bash");
    invocation.arg(script()).arg(command);
    if let Some(port) = port {
        invocation.env("KAFKA_PORT", port.to_string());
    }
    let output = invocation.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", script().display()));
    assert!(
        output.status.success(),
        "no Kafka broker for the integration tests: MAXX_BOOTSTRAP is unset and `{} {command}` failed:\n{}",
        script().display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn start_script_broker() -> String {
    run_script("start", None)
}

/// A broker of this test process alone, started by `scripts/kafka.sh` on a free port. Every
/// helper of this crate uses it once it is taken. Dropping it stops the broker and removes
/// its data.
#[derive(Debug)]
pub struct DedicatedBroker {
    port: u16,
    address: String,
}

impl DedicatedBroker {
    /// Starts the broker and makes it the one [`bootstrap`] returns.
    ///
    /// # Panics
    /// When the broker cannot start, or another broker was already chosen in this process.
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
            .expect("a free port for the dedicated broker");
        let address = run_script("start", Some(port));
        assert!(BOOTSTRAP.set(address.clone()).is_ok(), "a broker was already chosen for this test process; take the dedicated broker first");
        Self { port, address }
    }

    /// The broker's bootstrap address.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Stops the broker and starts it again on the same data: topics, committed offsets and
    /// transactions survive. Returns once it serves requests again.
    pub fn restart(&self) {
        run_script("restart", Some(self.port));
    }
}

impl Drop for DedicatedBroker {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(script()).arg("stop").env("KAFKA_PORT", self.port.to_string()).output();
    }
}

/// A name no other test (or earlier run) uses: `<prefix>-<uuid>`.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
}

/// A client config for the test broker.
pub fn client_config() -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap());
    config
}

/// Creates `name` with `partitions` partitions (replication 1) and waits until it exists.
///
/// # Panics
/// When the broker refuses: the test cannot go on without its topic.
pub fn create_topic(name: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> =
        client_config().create().expect("admin client for the test broker");
    let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the admin client");
    let results = runtime
        .block_on(admin.create_topics([&topic], &options))
        .unwrap_or_else(|e| panic!("create topic {name}: {e}"));
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => panic!("create topic {topic}: {code}"),
        }
    }
}
