//! The topology file's model: [`Topology`] and its [`TopicSpec`]s, parsed from YAML with
//! unknown keys refused, and validated (names, partitions, retention, agents).

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The agents that may appear as producers or consumers (`Agent::NAME`s), and `registry`.
pub const AGENTS: &[&str] =
    &["market_data", "sentiment", "session_clock", "alpha", "risk_sentinel", "execution", "portfolio", "meta_governor", "registry"];

/// How a topic keeps its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cleanup {
    /// Records older than `retention_ms` are deleted (`-1`: never).
    Delete,
    /// The latest record per key is kept forever.
    Compact,
}

impl Cleanup {
    /// The value of the topic's `cleanup.policy`.
    pub fn policy(self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::Compact => "compact",
        }
    }
}

/// What a topic's values are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Avro events in the Confluent wire format, schema under `schemas/<topic>/`.
    #[default]
    Avro,
    /// An agent's JSON state snapshots (`state.<agent>`): the runtime's own format.
    Snapshot,
    /// The schema registry's own store (`_schemas`).
    Registry,
    /// A singleton agent's leader election (`leader.<agent>`): one partition, never written;
    /// the replica its consumer group assigns the partition to is the leader.
    Election,
}

/// One topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    /// Topic name (before any namespace prefix).
    pub name: String,
    /// Number of partitions.
    pub partitions: i32,
    /// Replication factor; the file's default when absent.
    #[serde(default)]
    pub replication: Option<i32>,
    /// Delete or compact.
    pub cleanup: Cleanup,
    /// `retention.ms` for `delete` topics; `-1` keeps everything.
    #[serde(default = "keep_forever")]
    pub retention_ms: i64,
    /// What the values are.
    #[serde(default)]
    pub format: Format,
    /// Schema subject of the values (TopicNameStrategy: `<topic>-value`), for Avro topics.
    #[serde(default)]
    pub subject: Option<String>,
    /// What the records are keyed by, in words.
    pub key: String,
    /// Agents that write it.
    #[serde(default)]
    pub producers: Vec<String>,
    /// Agents that read it.
    #[serde(default)]
    pub consumers: Vec<String>,
}

fn keep_forever() -> i64 {
    -1
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// Replication factor of topics that do not set one (production: 3).
    pub replication: i32,
    /// Every topic.
    pub topics: Vec<TopicSpec>,
}

/// A topology file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not YAML of the expected shape.
    #[error("not a topology file: {0}")]
    Parse(String),
    /// Parsed, but some values are wrong.
    #[error("invalid topology:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}

impl Topology {
    /// Reads and validates the file at `path`.
    ///
    /// # Errors
    /// When it cannot be read, parsed or validated.
    pub fn load(path: &Path) -> Result<Self, TopologyError> {
        let text = std::fs::read_to_string(path).map_err(|source| TopologyError::Read { path: path.display().to_string(), source })?;
        Self::parse(&text)
    }

    /// Parses and validates YAML text.
    ///
    /// # Errors
    /// When it cannot be parsed or validated.
    pub fn parse(text: &str) -> Result<Self, TopologyError> {
        let topology: Self = serde_saphyr::from_str(text).map_err(|e| TopologyError::Parse(e.to_string()))?;
        let problems = topology.problems();
        if problems.is_empty() {
            Ok(topology)
        } else {
            Err(TopologyError::Invalid(problems))
        }
    }

    /// The topic called `name`.
    pub fn topic(&self, name: &str) -> Option<&TopicSpec> {
        self.topics.iter().find(|t| t.name == name)
    }

    /// The replication factor of `topic`.
    pub fn replication_of(&self, topic: &TopicSpec) -> i32 {
        topic.replication.unwrap_or(self.replication)
    }

    /// Topics `agent` consumes, in file order.
    pub fn consumed_by(&self, agent: &str) -> Vec<&str> {
        self.topics.iter().filter(|t| t.consumers.iter().any(|c| c == agent)).map(|t| t.name.as_str()).collect()
    }

    /// Topics `agent` produces, in file order.
    pub fn produced_by(&self, agent: &str) -> Vec<&str> {
        self.topics.iter().filter(|t| t.producers.iter().any(|p| p == agent)).map(|t| t.name.as_str()).collect()
    }

    /// Values that are wrong on their own: names, counts, agents, duplicates.
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.replication < 1 {
            problems.push(format!("replication: {} must be at least 1", self.replication));
        }
        let mut seen = BTreeSet::new();
        for topic in &self.topics {
            let name = &topic.name;
            if !seen.insert(name.as_str()) {
                problems.push(format!("{name}: declared twice"));
            }
            if name.is_empty() || name.len() > 249 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
                problems.push(format!("{name:?}: a Kafka topic name is 1-249 of [a-zA-Z0-9._-]"));
            }
            if topic.partitions < 1 {
                problems.push(format!("{name}: partitions {} must be at least 1", topic.partitions));
            }
            if topic.replication.is_some_and(|r| r < 1) {
                problems.push(format!("{name}: replication must be at least 1"));
            }
            if topic.retention_ms < -1 || topic.retention_ms == 0 {
                problems.push(format!("{name}: retention_ms {} must be -1 (forever) or positive", topic.retention_ms));
            }
            for agent in topic.producers.iter().chain(&topic.consumers) {
                if !AGENTS.contains(&agent.as_str()) {
                    problems.push(format!("{name}: unknown agent {agent:?} (known: {})", AGENTS.join(", ")));
                }
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_topology_parses() {
        let topology = Topology::parse(crate::TOPICS_YAML).expect("topology/topics.yaml is valid");
        assert!(topology.topic("ticks").is_some());
        assert!(topology.consumed_by("alpha").contains(&"ticks"));
        assert!(topology.produced_by("execution").contains(&"orders"));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_every_problem() {
        let unknown = "replication: 1\ntopics:\n  - {name: a, partitions: 1, cleanup: delete, key: k, colour: red}\n";
        assert!(matches!(Topology::parse(unknown), Err(TopologyError::Parse(m)) if m.contains("colour")));
        let bad = "replication: 0\ntopics:\n  - {name: 'a:b', partitions: 0, cleanup: delete, key: k, retention_ms: 0, producers: [bob]}\n  - {name: 'a:b', partitions: 1, cleanup: compact, key: k}\n";
        let Err(TopologyError::Invalid(problems)) = Topology::parse(bad) else { panic!("should be invalid") };
        for expected in ["replication: 0", "declared twice", "topic name", "partitions 0", "retention_ms 0", "unknown agent \"bob\""] {
            assert!(problems.iter().any(|p| p.contains(expected)), "missing {expected:?} in {problems:?}");
        }
    }
}
