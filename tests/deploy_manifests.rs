//! The deployment files keep the spec's security and scaling rules (§2, §9): every agent runs
//! non-root on a read-only root filesystem with no capabilities, no privilege escalation and
//! its own service account without API rights; singletons have standby replicas; Alpha,
//! Execution and Sentiment scale by their metrics; the namespace denies by default and checks
//! image signatures; compose runs all eight agents the same way. A manifest that drifts from
//! a rule fails here, long before a cluster refuses it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

const AGENTS: [&str; 8] = ["market_data", "sentiment", "session_clock", "alpha", "risk_sentinel", "execution", "portfolio", "meta_governor"];
const SINGLETONS: [&str; 4] = ["risk_sentinel", "portfolio", "session_clock", "meta_governor"];

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_multiple::<Value>(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

/// Every Kubernetes object of deploy/base, with the file it came from.
fn objects() -> Vec<(String, Value)> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(deploy().join("base")).expect("deploy/base") {
        let path = entry.expect("entry").path();
        let file = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        all.extend(documents(&path).into_iter().filter(|d| !d.is_null()).map(|d| (file.clone(), d)));
    }
    all
}

fn of_kind<'a>(objects: &'a [(String, Value)], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|(_, o)| o["kind"] == kind).map(|(_, o)| o).collect()
}

fn named(name: &str) -> String {
    format!("maxx-{}", name.replace('_', "-"))
}

#[test]
fn every_agent_runs_locked_down_with_its_own_service_account() {
    let objects = objects();
    let sets = of_kind(&objects, "StatefulSet");
    let accounts = of_kind(&objects, "ServiceAccount");
    for agent in AGENTS {
        let name = named(agent);
        let set = sets.iter().find(|s| s["metadata"]["name"] == name.as_str()).unwrap_or_else(|| panic!("no StatefulSet for {agent}"));
        let pod = &set["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{agent}");
        assert_eq!(pod["serviceAccountName"], name.as_str(), "{agent}: its own service account");
        assert_eq!(pod["automountServiceAccountToken"], false, "{agent}: no API token in the pod");
        let account = accounts.iter().find(|a| a["metadata"]["name"] == name.as_str()).unwrap_or_else(|| panic!("no ServiceAccount for {agent}"));
        assert_eq!(account["automountServiceAccountToken"], false, "{agent}");
        let containers = pod["containers"].as_array().expect("containers");
        for container in containers {
            let security = &container["securityContext"];
            assert_eq!(security["readOnlyRootFilesystem"], true, "{agent}");
            assert_eq!(security["allowPrivilegeEscalation"], false, "{agent}");
            assert!(security["capabilities"]["drop"].as_array().is_some_and(|d| d.iter().any(|c| c == "ALL")), "{agent}: drop ALL");
            assert_eq!(container["args"], serde_json::json!(["agent", agent]), "{agent}: runs maxx agent {agent}");
            for probe in ["readinessProbe", "livenessProbe"] {
                assert_eq!(container[probe]["httpGet"]["path"], "/healthz", "{agent}: {probe}");
            }
            let mounts = container["volumeMounts"].as_array().expect("mounts");
            assert!(mounts.iter().any(|m| m["mountPath"] == "/config" && m["readOnly"] == true), "{agent}: config mounted read-only");
        }
        let replicas = set["spec"]["replicas"].as_u64().expect("replicas");
        if SINGLETONS.contains(&agent) {
            assert!(replicas >= 2, "{agent}: a singleton keeps a standby replica");
            let env = containers[0]["env"].as_array().expect("env");
            assert!(env.iter().any(|e| e["name"] == "MAXX_LEADER_ELECTION"), "{agent}: only the elected leader runs");
        }
    }
    assert_eq!(sets.len(), AGENTS.len(), "one StatefulSet per agent and no other");
    let bindings: Vec<_> = objects.iter().filter(|(_, o)| o["kind"] == "RoleBinding" || o["kind"] == "ClusterRoleBinding").collect();
    assert!(bindings.is_empty(), "no agent gets Kubernetes API rights: {bindings:?}");
}

#[test]
fn scaling_follows_the_spec() {
    let objects = objects();
    let hpas = of_kind(&objects, "HorizontalPodAutoscaler");
    let metric_of = |agent: &str| -> Value {
        let hpa = hpas.iter().find(|h| h["spec"]["scaleTargetRef"]["name"] == named(agent).as_str()).unwrap_or_else(|| panic!("no HPA for {agent}"));
        hpa["spec"]["metrics"][0].clone()
    };
    assert_eq!(metric_of("alpha")["resource"]["name"], "cpu");
    assert_eq!(metric_of("alpha")["resource"]["target"]["averageUtilization"], 60, "spec §2: CPU > 60 %");
    assert_eq!(metric_of("execution")["pods"]["metric"]["name"], "maxx_execution_pending_orders");
    assert!(metric_of("sentiment")["pods"]["metric"]["name"].as_str().is_some_and(|m| m.starts_with("maxx_sentiment_")));
    for singleton in SINGLETONS {
        assert!(!hpas.iter().any(|h| h["spec"]["scaleTargetRef"]["name"] == named(singleton).as_str()), "{singleton} must not autoscale");
    }
}

#[test]
fn the_namespace_denies_by_default_and_requires_signed_images() {
    let objects = objects();
    let policies = of_kind(&objects, "NetworkPolicy");
    let deny = policies.iter().find(|p| p["metadata"]["name"] == "default-deny").expect("default-deny policy");
    assert_eq!(deny["spec"]["podSelector"], serde_json::json!({}));
    assert_eq!(deny["spec"]["policyTypes"], serde_json::json!(["Ingress", "Egress"]));
    let egress_ports: BTreeSet<u64> = policies
        .iter()
        .filter(|p| p["spec"]["policyTypes"] == serde_json::json!(["Egress"]))
        .flat_map(|p| p["spec"]["egress"].as_array().cloned().unwrap_or_default())
        .flat_map(|rule| rule["ports"].as_array().cloned().unwrap_or_default())
        .filter_map(|port| port["port"].as_u64())
        .collect();
    assert_eq!(egress_ports, [53, 443, 4317, 8081, 9093].into(), "DNS, venues (TLS), collector, registry, brokers — nothing else");
    let namespace = of_kind(&objects, "Namespace")[0];
    assert_eq!(namespace["metadata"]["labels"]["policy.sigstore.dev/include"], "true");
    assert_eq!(of_kind(&objects, "ClusterImagePolicy").len(), 1);
}

#[test]
fn kustomization_lists_every_manifest() {
    let kustomization = &documents(&deploy().join("kustomization.yaml"))[0];
    let listed: BTreeSet<String> = kustomization["resources"].as_array().expect("resources").iter().filter_map(|r| r.as_str()).map(str::to_owned).collect();
    let files: BTreeSet<String> = std::fs::read_dir(deploy().join("base"))
        .expect("base")
        .map(|e| format!("base/{}", e.expect("entry").file_name().to_string_lossy()))
        .collect();
    assert_eq!(listed, files);
}

#[test]
fn compose_runs_all_eight_agents_locked_down() {
    let compose = &documents(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docker-compose.yml"))[0];
    let services = compose["services"].as_object().expect("services");
    for name in ["redpanda", "console", "setup", "otel-collector", "prometheus"] {
        assert!(services.contains_key(name), "compose lacks {name}");
    }
    for agent in AGENTS {
        let service = &services[&agent.replace('_', "-")];
        assert_eq!(service["command"], serde_json::json!(["agent", agent]));
        // The YAML merge key (<<: *agent) carries the shared settings; serde_json sees it as a
        // "<<" entry when the parser keeps merges literal, so look in both places.
        let shared = if service["read_only"].is_null() { &service["<<"] } else { service };
        assert_eq!(shared["read_only"], true, "{agent}: read-only root filesystem");
        assert!(shared["cap_drop"].as_array().is_some_and(|c| c.iter().any(|v| v == "ALL")), "{agent}");
        assert!(shared["volumes"].as_array().is_some_and(|v| v.iter().any(|m| m.as_str().is_some_and(|m| m.ends_with(":/config/agent_config.yaml:ro")))), "{agent}");
        assert!(!shared["healthcheck"]["test"].is_null(), "{agent}: health check");
        assert_eq!(shared["restart"], "unless-stopped", "{agent}");
    }
}

#[test]
fn the_shipped_agent_config_is_valid() {
    let path = deploy().join("config/agent_config.yaml");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_maxx"))
        .args(["config", "check", "--no-env", path.to_str().expect("utf-8")])
        .output()
        .expect("run maxx config check");
    assert!(output.status.success(), "{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let effective = String::from_utf8_lossy(&output.stdout);
    assert!(effective.contains("daily_drawdown_pct: 5"), "the file's values are in force:\n{effective}");
}
