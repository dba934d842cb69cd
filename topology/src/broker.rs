//! The topology against a live broker: [`observe`] reads what the broker has, [`plan`] says
//! what would make it match the file, [`apply`] carries that out, and [`drift`] lists every
//! disagreement for `maxx topology check`.
//!
//! Safety: nothing that deletes data happens without `allow_delete` — deleting a topic the
//! file no longer has, shortening a retention, or turning a `delete` topic into a compacted
//! one (compaction drops older records per key). Partitions can only grow (Kafka cannot
//! shrink them), and replication factors are reported, not changed (that needs a partition
//! reassignment). Only `cleanup.policy` and `retention.ms` are managed: altering a topic's
//! configuration sets those two and returns its other dynamic settings to broker defaults.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, AlterConfig, NewPartitions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;

use crate::model::{Cleanup, TopicSpec, Topology};

/// A broker that could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// A Kafka client call failed.
    #[error("{action}: {source}")]
    Kafka {
        /// What was being done.
        action: String,
        /// What librdkafka said.
        #[source]
        source: KafkaError,
    },
    /// The broker refused some changes.
    #[error("the broker refused:\n  - {}", .0.join("\n  - "))]
    Refused(Vec<String>),
    /// No async runtime could be started for the admin client.
    #[error("cannot start the admin client's runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

fn kafka(action: impl Into<String>) -> impl FnOnce(KafkaError) -> BrokerError {
    let action = action.into();
    move |source| BrokerError::Kafka { action, source }
}

/// One topic as the broker has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// Number of partitions.
    pub partitions: i32,
    /// Replicas of its first partition.
    pub replication: i32,
    /// `cleanup.policy`.
    pub cleanup_policy: String,
    /// `retention.ms`.
    pub retention_ms: i64,
}

/// The broker's topics (by full name) and its number of brokers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrokerView {
    /// Topics by name, internal ones (`__*`) excluded.
    pub topics: BTreeMap<String, Observed>,
    /// Brokers in the cluster.
    pub brokers: usize,
}

/// One change to the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Create the topic.
    Create {
        /// Full topic name.
        topic: String,
        /// Partitions.
        partitions: i32,
        /// Replication factor.
        replication: i32,
        /// `cleanup.policy`.
        cleanup: Cleanup,
        /// `retention.ms`.
        retention_ms: i64,
    },
    /// Grow the topic to `partitions`.
    AddPartitions {
        /// Full topic name.
        topic: String,
        /// From.
        from: i32,
        /// To.
        partitions: i32,
    },
    /// Set `cleanup.policy` and `retention.ms`.
    Configure {
        /// Full topic name.
        topic: String,
        /// New policy.
        cleanup: Cleanup,
        /// New retention.
        retention_ms: i64,
        /// What it was, in words.
        was: String,
    },
    /// Delete a topic the file does not have.
    Delete {
        /// Full topic name.
        topic: String,
    },
}

impl Change {
    /// Whether carrying it out can lose records.
    pub fn deletes_data(&self, view: &BrokerView) -> bool {
        match self {
            Self::Create { .. } | Self::AddPartitions { .. } => false,
            Self::Delete { .. } => true,
            Self::Configure { topic, cleanup, retention_ms, .. } => view.topics.get(topic).is_some_and(|old| {
                let compacts_now = *cleanup == Cleanup::Compact && !old.cleanup_policy.contains("compact");
                let shorter = *cleanup == Cleanup::Delete && *retention_ms != -1 && (old.retention_ms == -1 || *retention_ms < old.retention_ms);
                compacts_now || shorter
            }),
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Create { topic, partitions, replication, cleanup, retention_ms } => write!(
                f,
                "create {topic} ({partitions} partitions, replication {replication}, {}, retention.ms {retention_ms})",
                cleanup.policy()
            ),
            Self::AddPartitions { topic, from, partitions } => write!(f, "grow {topic} from {from} to {partitions} partitions"),
            Self::Configure { topic, cleanup, retention_ms, was } => {
                write!(f, "configure {topic}: cleanup.policy={}, retention.ms={retention_ms} (was {was})", cleanup.policy())
            }
            Self::Delete { topic } => write!(f, "delete {topic} (not in the topology)"),
        }
    }
}

/// What [`plan`] found: the changes to make, and disagreements no change can fix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Changes that would make the broker match the file, in order.
    pub changes: Vec<Change>,
    /// Disagreements left alone (shrinking partitions, replication factors, extra topics
    /// kept without `allow_delete`).
    pub notes: Vec<String>,
}

/// What to compare: the file, the namespace prefix of topic names, and an optional
/// replication factor that replaces the file's (`1` for a single-node broker).
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The topology.
    pub topology: &'a Topology,
    /// Prefix of every topic name (`MAXX_NAMESPACE`), usually empty.
    pub namespace: &'a str,
    /// Replication factor for every topic instead of the file's.
    pub replication: Option<i32>,
}

impl Target<'_> {
    fn full_name(&self, topic: &TopicSpec) -> String {
        format!("{}{}", self.namespace, topic.name)
    }

    fn replication_of(&self, topic: &TopicSpec) -> i32 {
        self.replication.unwrap_or_else(|| self.topology.replication_of(topic))
    }

    /// Whether `name` is a topic this topology could own: in the namespace, and not a
    /// broker-internal or registry topic (names starting with `_`).
    fn owns(&self, name: &str) -> bool {
        name.strip_prefix(self.namespace).is_some_and(|rest| !rest.is_empty() && !rest.starts_with('_'))
    }
}

/// The changes that make `view` match `target`.
pub fn plan(target: &Target<'_>, view: &BrokerView, allow_delete: bool) -> Plan {
    let mut plan = Plan::default();
    for spec in &target.topology.topics {
        let topic = target.full_name(spec);
        let Some(observed) = view.topics.get(&topic) else {
            plan.changes.push(Change::Create {
                topic,
                partitions: spec.partitions,
                replication: target.replication_of(spec),
                cleanup: spec.cleanup,
                retention_ms: spec.retention_ms,
            });
            continue;
        };
        if observed.partitions < spec.partitions {
            plan.changes.push(Change::AddPartitions { topic: topic.clone(), from: observed.partitions, partitions: spec.partitions });
        } else if observed.partitions > spec.partitions {
            plan.notes.push(format!("{topic}: has {} partitions, the file says {} (Kafka cannot shrink a topic)", observed.partitions, spec.partitions));
        }
        if observed.replication != target.replication_of(spec) {
            plan.notes.push(format!(
                "{topic}: replication {} on the broker, {} wanted (change it with a partition reassignment)",
                observed.replication,
                target.replication_of(spec)
            ));
        }
        let retention_matters = spec.cleanup == Cleanup::Delete;
        if observed.cleanup_policy != spec.cleanup.policy() || (retention_matters && observed.retention_ms != spec.retention_ms) {
            plan.changes.push(Change::Configure {
                topic,
                cleanup: spec.cleanup,
                retention_ms: spec.retention_ms,
                was: format!("cleanup.policy={}, retention.ms={}", observed.cleanup_policy, observed.retention_ms),
            });
        }
    }
    for name in view.topics.keys() {
        let known = target.topology.topics.iter().any(|spec| target.full_name(spec) == *name);
        if !known && target.owns(name) {
            if allow_delete {
                plan.changes.push(Change::Delete { topic: name.clone() });
            } else {
                plan.notes.push(format!("{name}: on the broker but not in the topology (kept; --allow-delete deletes it)"));
            }
        }
    }
    plan
}

/// Every disagreement between the broker and the file, in words (empty: they agree).
pub fn drift(target: &Target<'_>, view: &BrokerView) -> Vec<String> {
    let plan = plan(target, view, false);
    let mut problems: Vec<String> = plan.changes.iter().map(|change| format!("broker differs: would {change}")).collect();
    problems.extend(plan.notes.into_iter().filter(|note| !note.contains("not in the topology")).map(|note| format!("broker differs: {note}")));
    problems
}

/// An admin client for `client`'s broker.
fn admin(client: &ClientConfig) -> Result<AdminClient<DefaultClientContext>, BrokerError> {
    client.create().map_err(kafka("create an admin client"))
}

fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, BrokerError> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(future))
}

/// Reads every topic's partitions, replication, cleanup policy and retention.
///
/// # Errors
/// When the broker cannot be reached within `timeout` or refuses to describe a topic.
pub fn observe(client: &ClientConfig, timeout: Duration) -> Result<BrokerView, BrokerError> {
    let admin = admin(client)?;
    let metadata = admin.inner().fetch_metadata(None, timeout).map_err(kafka("read the broker's metadata"))?;
    let mut partitions = BTreeMap::new();
    for topic in metadata.topics().iter().filter(|t| !t.name().starts_with("__")) {
        let replication = topic.partitions().first().map_or(0, |p| p.replicas().len());
        partitions.insert(topic.name().to_owned(), (i32::try_from(topic.partitions().len()).unwrap_or(i32::MAX), i32::try_from(replication).unwrap_or(i32::MAX)));
    }
    let specifiers: Vec<ResourceSpecifier<'_>> = partitions.keys().map(|name| ResourceSpecifier::Topic(name.as_str())).collect();
    let options = AdminOptions::new().request_timeout(Some(timeout));
    let described = if specifiers.is_empty() {
        Vec::new()
    } else {
        block_on(admin.describe_configs(specifiers.iter(), &options))?.map_err(kafka("describe the topics' configuration"))?
    };
    let mut view = BrokerView { topics: BTreeMap::new(), brokers: metadata.brokers().len() };
    let mut refused = Vec::new();
    for (result, (name, (count, replication))) in described.into_iter().zip(partitions) {
        match result {
            Ok(resource) => {
                let value = |key: &str| resource.get(key).and_then(|entry| entry.value.clone());
                let retention_ms = value("retention.ms").and_then(|v| v.parse().ok()).unwrap_or(-1);
                let cleanup_policy = value("cleanup.policy").unwrap_or_else(|| "delete".into());
                view.topics.insert(name, Observed { partitions: count, replication, cleanup_policy, retention_ms });
            }
            Err(code) => refused.push(format!("describe {name}: {code}")),
        }
    }
    if refused.is_empty() {
        Ok(view)
    } else {
        Err(BrokerError::Refused(refused))
    }
}

/// Carries out `changes` on the broker, in order. Returns what was done.
///
/// # Errors
/// When the broker cannot be reached or refuses a change (every refusal is listed; changes
/// before it stay done — each is idempotent, so running apply again finishes the job).
pub fn apply(client: &ClientConfig, changes: &[Change], timeout: Duration) -> Result<Vec<String>, BrokerError> {
    let admin = admin(client)?;
    let options = AdminOptions::new().operation_timeout(Some(timeout)).request_timeout(Some(timeout));
    let mut done = Vec::new();
    let mut refused = Vec::new();
    for change in changes {
        let outcome: Result<(), String> = match change {
            Change::Create { topic, partitions, replication, cleanup, retention_ms } => {
                let retention = retention_ms.to_string();
                let mut new = NewTopic::new(topic, *partitions, TopicReplication::Fixed(*replication)).set("cleanup.policy", cleanup.policy());
                if *cleanup == Cleanup::Delete {
                    new = new.set("retention.ms", &retention);
                }
                first_error(block_on(admin.create_topics([&new], &options))?.map_err(kafka(format!("create {topic}")))?)
            }
            Change::AddPartitions { topic, partitions, .. } => {
                let grow = NewPartitions::new(topic, usize::try_from(*partitions).unwrap_or(0));
                first_error(block_on(admin.create_partitions([&grow], &options))?.map_err(kafka(format!("grow {topic}")))?)
            }
            Change::Configure { topic, cleanup, retention_ms, .. } => {
                let retention = retention_ms.to_string();
                let mut alter = AlterConfig::new(ResourceSpecifier::Topic(topic)).set("cleanup.policy", cleanup.policy());
                if *cleanup == Cleanup::Delete {
                    alter = alter.set("retention.ms", &retention);
                }
                let results = block_on(admin.alter_configs([&alter], &options))?.map_err(kafka(format!("configure {topic}")))?;
                results.into_iter().find_map(Result::err).map_or(Ok(()), |(_, code)| Err(code.to_string()))
            }
            Change::Delete { topic } => first_error(block_on(admin.delete_topics(&[topic.as_str()], &options))?.map_err(kafka(format!("delete {topic}")))?),
        };
        match outcome {
            Ok(()) => done.push(change.to_string()),
            Err(reason) => refused.push(format!("{change}: {reason}")),
        }
    }
    if refused.is_empty() {
        Ok(done)
    } else {
        Err(BrokerError::Refused(refused))
    }
}

/// The first failure among per-topic results, in words.
fn first_error(results: Vec<Result<String, (String, rdkafka::types::RDKafkaErrorCode)>>) -> Result<(), String> {
    results.into_iter().find_map(Result::err).map_or(Ok(()), |(_, code)| Err(code.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "replication: 3\ntopics:\n  - {name: ticks, partitions: 6, cleanup: delete, retention_ms: 1000, subject: ticks-value, key: symbol}\n  - {name: state.alpha, partitions: 1, cleanup: compact, format: snapshot, key: agent}\n";

    fn observed(partitions: i32, policy: &str, retention_ms: i64) -> Observed {
        Observed { partitions, replication: 1, cleanup_policy: policy.into(), retention_ms }
    }

    #[test]
    fn an_empty_broker_gets_every_topic_with_the_replication_override() {
        let topology = Topology::parse(FILE).expect("valid");
        let target = Target { topology: &topology, namespace: "t.", replication: Some(1) };
        let plan = plan(&target, &BrokerView::default(), false);
        assert_eq!(plan.changes.len(), 2);
        assert_eq!(plan.changes[0], Change::Create { topic: "t.ticks".into(), partitions: 6, replication: 1, cleanup: Cleanup::Delete, retention_ms: 1000 });
    }

    #[test]
    fn a_matching_broker_needs_nothing_and_has_no_drift() {
        let topology = Topology::parse(FILE).expect("valid");
        let target = Target { topology: &topology, namespace: "", replication: Some(1) };
        let view = BrokerView {
            topics: [("ticks".to_owned(), observed(6, "delete", 1000)), ("state.alpha".to_owned(), observed(1, "compact", 604_800_000))].into(),
            brokers: 1,
        };
        assert_eq!(plan(&target, &view, true), Plan::default());
        assert!(drift(&target, &view).is_empty());
    }

    #[test]
    fn growth_config_changes_and_extra_topics_are_planned_and_data_loss_is_flagged() {
        let topology = Topology::parse(FILE).expect("valid");
        let target = Target { topology: &topology, namespace: "", replication: Some(1) };
        let view = BrokerView {
            topics: [
                ("ticks".to_owned(), observed(3, "delete", -1)),
                ("state.alpha".to_owned(), observed(2, "delete", -1)),
                ("old".to_owned(), observed(1, "delete", -1)),
                ("_schemas".to_owned(), observed(1, "compact", -1)),
            ]
            .into(),
            brokers: 1,
        };
        let kept = plan(&target, &view, false);
        assert!(kept.changes.contains(&Change::AddPartitions { topic: "ticks".into(), from: 3, partitions: 6 }));
        assert!(kept.notes.iter().any(|n| n.contains("state.alpha: has 2 partitions")));
        assert!(kept.notes.iter().any(|n| n.starts_with("old: on the broker")));
        assert!(!kept.changes.iter().any(|c| matches!(c, Change::Delete { .. })), "no deletes without allow_delete");
        let shorten = kept.changes.iter().find(|c| matches!(c, Change::Configure { topic, .. } if topic == "ticks")).expect("ticks reconfigured");
        assert!(shorten.deletes_data(&view), "-1 -> 1000 ms deletes old records");
        let compact = kept.changes.iter().find(|c| matches!(c, Change::Configure { topic, .. } if topic == "state.alpha")).expect("state.alpha reconfigured");
        assert!(compact.deletes_data(&view), "delete -> compact drops older records per key");
        let deleting = plan(&target, &view, true);
        assert!(deleting.changes.contains(&Change::Delete { topic: "old".into() }));
        assert!(!deleting.changes.contains(&Change::Delete { topic: "_schemas".into() }), "registry and internal topics are never ours");
        assert_eq!(drift(&target, &view).len(), 3 + 1, "{:?}", drift(&target, &view));
    }
}
