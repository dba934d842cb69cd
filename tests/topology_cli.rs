//! `maxx topology apply|check|graph` against a real broker, as ops run them: apply creates
//! every topic and is idempotent, check passes on a matching broker and names each drift,
//! growth and reconfiguration are applied, and nothing is deleted without --allow-delete.

use std::process::{Command, Output};
use std::time::Duration;

use maxx_testkit::{bootstrap, client_config, create_topic, unique_name};
use maxx_topology::broker::{observe, BrokerView};

/// Runs `maxx topology <args>` in `namespace`; returns success and stdout + stderr.
fn maxx(namespace: &str, args: &[&str]) -> (bool, String) {
    let Output { status, stdout, stderr } = Command::new(env!("CARGO_BIN_EXE_maxx"))
        .arg("topology")
        .args(args)
        .env("MAXX_BOOTSTRAP", bootstrap())
        .env("MAXX_NAMESPACE", namespace)
        .output()
        .expect("run maxx");
    (status.success(), format!("{}{}", String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr)))
}

fn broker() -> BrokerView {
    observe(&client_config(), Duration::from_secs(30)).expect("describe the broker")
}

/// Sets `retention.ms` of `topic` behind the topology's back.
fn set_retention(topic: &str, retention_ms: &str) {
    use rdkafka::admin::{AdminClient, AdminOptions, AlterConfig, ResourceSpecifier};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> = client_config().create().expect("admin client");
    let alter = AlterConfig::new(ResourceSpecifier::Topic(topic)).set("cleanup.policy", "delete").set("retention.ms", retention_ms);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let results = runtime.block_on(admin.alter_configs([&alter], &AdminOptions::new())).expect("alter configs");
    assert!(results.iter().all(Result::is_ok), "{results:?}");
}

#[test]
fn apply_creates_every_topic_once_and_check_then_agrees() {
    let namespace = format!("{}.", unique_name("topo"));
    let (ok, before) = maxx(&namespace, &["check", "--replication", "1"]);
    assert!(!ok, "an empty namespace disagrees with the file:\n{before}");
    assert!(before.contains(&format!("would create {namespace}ticks (6 partitions")), "{before}");

    let (ok, out) = maxx(&namespace, &["apply", "--replication", "1"]);
    assert!(ok, "{out}");
    let topology = maxx_topology::Topology::parse(maxx_topology::TOPICS_YAML).expect("shipped topology");
    let view = broker();
    for spec in &topology.topics {
        let observed = view.topics.get(&format!("{namespace}{}", spec.name)).unwrap_or_else(|| panic!("{} was not created", spec.name));
        assert_eq!(observed.partitions, spec.partitions, "{}", spec.name);
        assert_eq!(observed.cleanup_policy, spec.cleanup.policy(), "{}", spec.name);
        if spec.cleanup == maxx_topology::Cleanup::Delete {
            assert_eq!(observed.retention_ms, spec.retention_ms, "{}", spec.name);
        }
    }

    let (ok, again) = maxx(&namespace, &["apply", "--replication", "1"]);
    assert!(ok && again.contains("already matches"), "second apply changes nothing:\n{again}");
    let (ok, checked) = maxx(&namespace, &["check", "--replication", "1"]);
    assert!(ok && checked.contains("broker agrees"), "{checked}");
}

#[test]
fn drift_is_reported_and_only_safe_repairs_happen_without_allow_delete() {
    let namespace = format!("{}.", unique_name("topo"));
    assert!(maxx(&namespace, &["apply", "--replication", "1"]).0);
    let stray = format!("{namespace}stray");
    create_topic(&stray, 1);
    // Someone made `fills` keep 1 hour instead of forever: restoring "forever" loses nothing.
    set_retention(&format!("{namespace}fills"), "3600000");
    // ...and `ticks` keep forever where the file says 7 days: the repair would delete data.
    set_retention(&format!("{namespace}ticks"), "-1");

    let (ok, out) = maxx(&namespace, &["check", "--replication", "1"]);
    assert!(!ok, "{out}");
    assert!(out.contains(&format!("configure {namespace}fills")), "{out}");
    assert!(out.contains(&format!("configure {namespace}ticks")), "{out}");

    let (ok, out) = maxx(&namespace, &["apply", "--replication", "1"]);
    assert!(ok, "{out}");
    assert!(out.contains(&format!("skipped (deletes data; --allow-delete to do it): configure {namespace}ticks")), "shortening a retention waits for --allow-delete:\n{out}");
    assert!(out.contains(&format!("{stray}: on the broker but not in the topology (kept")), "{out}");
    let view = broker();
    assert_eq!(view.topics[&format!("{namespace}fills")].retention_ms, -1, "the safe repair was applied");
    assert_eq!(view.topics[&format!("{namespace}ticks")].retention_ms, -1, "the unsafe one was not");
    assert!(view.topics.contains_key(&stray), "nothing deleted without --allow-delete");

    let (ok, out) = maxx(&namespace, &["apply", "--replication", "1", "--allow-delete"]);
    assert!(ok, "{out}");
    let view = broker();
    assert_eq!(view.topics[&format!("{namespace}ticks")].retention_ms, 604_800_000);
    assert!(!view.topics.contains_key(&stray), "--allow-delete removes the stray topic");
    assert!(maxx(&namespace, &["check", "--replication", "1"]).0);
}

#[test]
fn apply_refuses_a_replication_the_cluster_cannot_hold() {
    let (ok, out) = maxx(&format!("{}.", unique_name("topo")), &["apply"]);
    assert!(!ok);
    assert!(out.contains("wants replication 3") && out.contains("--replication 1"), "{out}");
}

#[test]
fn graph_prints_mermaid_and_dot() {
    let (ok, mermaid) = maxx("", &["graph"]);
    assert!(ok && mermaid.starts_with("flowchart LR") && mermaid.contains("agent_execution --> topic_orders"), "{mermaid}");
    let (ok, dot) = maxx("", &["graph", "--format", "dot"]);
    assert!(ok && dot.starts_with("digraph maxx {") && dot.contains("topic_fills -> agent_portfolio;"), "{dot}");
}

#[test]
fn offline_check_compares_the_file_with_the_agents_built_into_the_binary() {
    let (ok, out) = maxx("", &["check", "--offline"]);
    assert!(ok, "the shipped topology agrees with the agents' code:\n{out}");
    // A copy where Alpha no longer consumes ticks and nobody produces signals.
    let edited = maxx_topology::TOPICS_YAML
        .replace("consumers: [session_clock, alpha, risk_sentinel,", "consumers: [session_clock, risk_sentinel,")
        .replace("producers: [alpha]\n", "producers: []\n");
    assert_ne!(edited, maxx_topology::TOPICS_YAML, "the edit must change the file");
    let path = std::env::temp_dir().join(format!("{}.yaml", unique_name("topology")));
    std::fs::write(&path, edited).expect("write scratch topology");
    let (ok, out) = maxx("", &["check", "--offline", "--file", path.to_str().expect("utf-8")]);
    assert!(!ok, "{out}");
    assert!(out.contains("alpha consumes ticks, but the topology does not list it as a consumer"), "{out}");
    assert!(out.contains("signals: consumed by execution, meta_governor but no agent produces it"), "{out}");
    let _ = std::fs::remove_file(path);
}
