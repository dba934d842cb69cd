//! Agent state snapshots on the compacted `state.<agent>` topic.
//!
//! A snapshot is written in the same transaction as the outputs and input offsets it
//! corresponds to, so the latest committed snapshot always matches the group's committed
//! offsets: restoring it and resuming from those offsets loses and repeats nothing. It also
//! records those offsets, which is what an audit compares replayed state against.
//!
//! The value is JSON (`format: 1`): agent states are serde types, and the snapshot topic is
//! the runtime's checkpoint, not a bus stream, so it has no registry subject.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};

use super::error::RuntimeError;

/// The snapshot format version this build writes and reads.
pub const FORMAT: u32 = 1;

/// Where the agent stood in one input partition when the snapshot was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceOffset {
    /// Bus topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The next offset to read: everything before it is in the state.
    pub next_offset: i64,
}

/// A snapshot record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// [`FORMAT`].
    pub format: u32,
    /// Agent name.
    pub agent: String,
    /// Agent version that wrote it.
    pub version: String,
    /// Instance that wrote it.
    pub instance: String,
    /// The input offsets the state corresponds to, sorted by topic and partition.
    pub offsets: Vec<SourceOffset>,
    /// The agent's state (its `Agent::State` as JSON).
    pub state: serde_json::Value,
}

impl Snapshot {
    /// The snapshot's offsets as a map.
    pub fn offset_map(&self) -> BTreeMap<(String, i32), i64> {
        self.offsets.iter().map(|o| ((o.topic.clone(), o.partition), o.next_offset)).collect()
    }

    /// Builds a snapshot from a map of offsets.
    pub fn new(agent: &str, version: &str, instance: &str, offsets: &BTreeMap<(String, i32), i64>, state: serde_json::Value) -> Self {
        Self {
            format: FORMAT,
            agent: agent.to_owned(),
            version: version.to_owned(),
            instance: instance.to_owned(),
            offsets: offsets.iter().map(|((topic, partition), next)| SourceOffset { topic: topic.clone(), partition: *partition, next_offset: *next }).collect(),
            state,
        }
    }
}

/// Reads `topic` to its end (committed records only) and returns the last snapshot stored
/// under `key`, or `None` when there is none (or it was deleted with a tombstone).
///
/// # Errors
/// When the topic is missing, cannot be read to its end within `timeout`, or holds a value
/// that is not a snapshot of this format.
pub fn read_latest(client: &ClientConfig, topic: &str, key: &str, timeout: Duration) -> Result<Option<Snapshot>, RuntimeError> {
    let consumer: BaseConsumer = client
        .clone()
        .set("group.id", format!("{topic}.restore"))
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "true")
        .create()
        .map_err(|e| RuntimeError::kafka("create the snapshot reader", e))?;
    let metadata = consumer
        .fetch_metadata(Some(topic), timeout)
        .map_err(|e| RuntimeError::kafka("read metadata of the snapshot topic", e))?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic && t.error().is_none())
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    if partitions.is_empty() {
        return Err(RuntimeError::MissingTopic(topic.to_owned()));
    }
    let mut assignment = TopicPartitionList::new();
    for partition in &partitions {
        assignment
            .add_partition_offset(topic, *partition, Offset::Beginning)
            .map_err(|e| RuntimeError::kafka("assign the snapshot topic", e))?;
    }
    consumer.assign(&assignment).map_err(|e| RuntimeError::kafka("assign the snapshot topic", e))?;

    let deadline = Instant::now() + timeout;
    let mut at_end = HashSet::new();
    let mut latest: Option<Option<Vec<u8>>> = None;
    while at_end.len() < partitions.len() {
        if Instant::now() > deadline {
            return Err(RuntimeError::Fatal(format!("could not read snapshot topic {topic} to its end within {timeout:?}")));
        }
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                at_end.insert(partition);
            }
            Some(Err(e)) => return Err(RuntimeError::kafka("read the snapshot topic", e)),
            Some(Ok(message)) => {
                at_end.remove(&message.partition());
                if message.key() == Some(key.as_bytes()) {
                    latest = Some(message.payload().map(<[u8]>::to_vec));
                }
            }
        }
    }
    match latest.flatten() {
        None => Ok(None),
        Some(bytes) => {
            let snapshot: Snapshot = serde_json::from_slice(&bytes)
                .map_err(|e| RuntimeError::Fatal(format!("the last snapshot in {topic} is not a snapshot: {e}")))?;
            if snapshot.format != FORMAT {
                return Err(RuntimeError::Fatal(format!("the last snapshot in {topic} has format {}, this build reads {FORMAT}", snapshot.format)));
            }
            Ok(Some(snapshot))
        }
    }
}
