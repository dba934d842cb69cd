//! Test support for integration tests that need a real Kafka broker.
//!
//! [`bootstrap`] finds the broker: `MAXX_BOOTSTRAP` when it is set (a Redpanda or Kafka the
//! developer or CI already runs — nothing is started), otherwise the single-node broker of
//! `scripts/kafka.sh` on `KAFKA_PORT` (default 9092), started on first use and left running
//! for the next test run (`scripts/kafka.sh stop` ends it). Tests share the broker and keep
//! out of each other's way with [`unique_name`] topics, groups and transactional ids.

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
    static BOOTSTRAP: OnceLock<String> = OnceLock::new();
    BOOTSTRAP
        .get_or_init(|| match std::env::var("MAXX_BOOTSTRAP") {
            Ok(addr) if !addr.trim().is_empty() => addr.trim().to_owned(),
            _ => start_script_broker(),
        })
        .clone()
}

fn start_script_broker() -> String {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/kafka.sh");
    let output = Command::new("bash")
        .arg(&script)
        .arg("start")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        output.status.success(),
        "no Kafka broker for the integration tests: MAXX_BOOTSTRAP is unset and `{} start` failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
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
