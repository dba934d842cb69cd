//! The broker edge of replay: reading one partition as a lazy stream of
//! [`ArchivedRecord`]s (committed records only, as live agents read them), reading every
//! snapshot of `state.<agent>` as audit checkpoints, and producing archived records back into
//! a (namespaced) broker.
//!
//! **Offsets of imported records.** A broker gives imported records offsets of its own
//! (transaction markers of the original log take offsets too). Import therefore adds a
//! header [`SOURCE_OFFSET_HEADER`] with the original offset, and every reader here reports
//! that offset when the header is present: snapshots imported beside the data keep referring
//! to the right events, and an export of an imported topic gives back the original offsets.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};

use crate::archive::ArchivedRecord;
use crate::audit::Checkpoint;
use crate::error::ReplayError;

/// Header carrying an imported record's offset in the log it was exported from.
pub const SOURCE_OFFSET_HEADER: &str = "maxx-archive-offset";

/// How long a metadata or watermark request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A client configuration for `bootstrap`.
pub fn client(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    config
}

/// Where a replay of one partition stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Until {
    /// The end of the partition as it was when reading started.
    End,
    /// Before the first record at or past this (logical) offset.
    Offset(i64),
    /// Before the first record whose broker timestamp (ms) is past this.
    TimeMs(i64),
}

/// The partitions of `topic`, or none when the topic does not exist.
///
/// # Errors
/// [`ReplayError::Kafka`] when the broker cannot be asked.
pub fn partitions(client: &ClientConfig, topic: &str) -> Result<Vec<i32>, ReplayError> {
    let consumer: BaseConsumer = client.create().map_err(|e| ReplayError::kafka("create a metadata client", e))?;
    let metadata = consumer.fetch_metadata(Some(topic), REQUEST_TIMEOUT).map_err(|e| ReplayError::kafka(format!("metadata of {topic}"), e))?;
    let mut found: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic && t.error().is_none())
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    found.sort_unstable();
    Ok(found)
}

/// Low and high watermarks of a partition.
///
/// # Errors
/// [`ReplayError::Kafka`].
pub fn watermarks(client: &ClientConfig, topic: &str, partition: i32) -> Result<(i64, i64), ReplayError> {
    let consumer: BaseConsumer = client.create().map_err(|e| ReplayError::kafka("create a metadata client", e))?;
    consumer.fetch_watermarks(topic, partition, REQUEST_TIMEOUT).map_err(|e| ReplayError::kafka(format!("watermarks of {topic}/{partition}"), e))
}

/// One partition read lazily, in offset order, committed records only.
pub struct PartitionReader {
    consumer: BaseConsumer,
    logical_topic: String,
    partition: i32,
    /// Broker offset at which the partition ended when reading started.
    high: i64,
    until: Until,
    /// Records before this logical offset are skipped.
    from: i64,
    done: bool,
}

impl std::fmt::Debug for PartitionReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartitionReader").field("topic", &self.logical_topic).field("partition", &self.partition).field("high", &self.high).finish()
    }
}

impl PartitionReader {
    /// Reads `topic` (its full name on the broker) partition `partition`, reporting records
    /// under `logical_topic`, from logical offset `from` until `until`.
    ///
    /// # Errors
    /// [`ReplayError::Kafka`] when the consumer cannot be set up.
    pub fn open(client: &ClientConfig, topic: &str, logical_topic: &str, partition: i32, from: i64, until: Until) -> Result<Self, ReplayError> {
        let (_, high) = watermarks(client, topic, partition)?;
        let consumer: BaseConsumer = client
            .clone()
            .set("group.id", "maxx-replay")
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed")
            .set("enable.partition.eof", "true")
            .set("queued.max.messages.kbytes", "16384")
            .create()
            .map_err(|e| ReplayError::kafka("create a reader", e))?;
        let mut assignment = TopicPartitionList::new();
        assignment.add_partition_offset(topic, partition, Offset::Beginning).map_err(|e| ReplayError::kafka("assign", e))?;
        consumer.assign(&assignment).map_err(|e| ReplayError::kafka(format!("assign {topic}/{partition}"), e))?;
        Ok(Self { consumer, logical_topic: logical_topic.to_owned(), partition, high, until, from, done: high == 0 })
    }

    fn next_record(&mut self) -> Result<Option<ArchivedRecord>, ReplayError> {
        loop {
            if self.done {
                return Ok(None);
            }
            match self.consumer.poll(Duration::from_millis(500)) {
                None => continue,
                Some(Err(KafkaError::PartitionEOF(_))) => {
                    self.done = true;
                    return Ok(None);
                }
                Some(Err(e)) => return Err(ReplayError::kafka(format!("read {}/{}", self.logical_topic, self.partition), e)),
                Some(Ok(message)) => {
                    if message.offset() + 1 >= self.high {
                        self.done = true;
                    }
                    let mut headers = Vec::new();
                    let mut source_offset = None;
                    if let Some(list) = message.headers() {
                        for header in list.iter() {
                            if header.key == SOURCE_OFFSET_HEADER {
                                source_offset = header.value.and_then(|v| std::str::from_utf8(v).ok()).and_then(|v| v.parse::<i64>().ok());
                            } else {
                                headers.push((header.key.to_owned(), header.value.map(<[u8]>::to_vec)));
                            }
                        }
                    }
                    let record = ArchivedRecord {
                        topic: self.logical_topic.clone(),
                        partition: self.partition,
                        offset: source_offset.unwrap_or(message.offset()),
                        timestamp: message.timestamp().to_millis(),
                        key: message.key().map(<[u8]>::to_vec),
                        value: message.payload().map(<[u8]>::to_vec),
                        headers,
                    };
                    let past = match self.until {
                        Until::End => false,
                        Until::Offset(limit) => record.offset >= limit,
                        Until::TimeMs(limit) => record.timestamp.is_some_and(|t| t > limit),
                    };
                    if past {
                        self.done = true;
                        return Ok(None);
                    }
                    if record.offset < self.from {
                        continue;
                    }
                    return Ok(Some(record));
                }
            }
        }
    }
}

impl Iterator for PartitionReader {
    type Item = Result<ArchivedRecord, ReplayError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_record() {
            Ok(Some(record)) => Some(Ok(record)),
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Every snapshot of `agent` in `state_topic`, in the order written, as checkpoints.
///
/// # Errors
/// [`ReplayError`] when the topic cannot be read or holds something that is not a snapshot.
pub fn read_checkpoints(client: &ClientConfig, state_topic: &str, agent: &str) -> Result<Vec<Checkpoint>, ReplayError> {
    let mut checkpoints = Vec::new();
    for partition in partitions(client, state_topic)? {
        for record in PartitionReader::open(client, state_topic, state_topic, partition, 0, Until::End)? {
            let record = record?;
            if record.key.as_deref() != Some(agent.as_bytes()) {
                continue;
            }
            let Some(value) = record.value else { continue };
            checkpoints.push(checkpoint_from_bytes(record.offset, &value)?);
        }
    }
    Ok(checkpoints)
}

/// A checkpoint from a snapshot record's value.
///
/// # Errors
/// [`ReplayError::Snapshot`] when the bytes are not a snapshot of the format this build reads.
pub fn checkpoint_from_bytes(position: i64, value: &[u8]) -> Result<Checkpoint, ReplayError> {
    let snapshot: maxx_runtime::kafka::snapshot::Snapshot =
        serde_json::from_slice(value).map_err(|e| ReplayError::Snapshot(format!("record {position} is not a snapshot: {e}")))?;
    if snapshot.format != maxx_runtime::kafka::snapshot::FORMAT {
        return Err(ReplayError::Snapshot(format!("record {position} has snapshot format {}", snapshot.format)));
    }
    Ok(Checkpoint { position, instance: snapshot.instance.clone(), offsets: snapshot.offset_map(), state: snapshot.state })
}

/// Counts deliveries the broker did not acknowledge.
#[derive(Debug, Default, Clone)]
struct DeliveryCount {
    failed: Arc<AtomicU64>,
}

impl ClientContext for DeliveryCount {}

impl ProducerContext for DeliveryCount {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if result.is_err() {
            self.failed.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Produces archived records into `topic` (full name), each to its original partition, with
/// its key, value, timestamp and headers, plus [`SOURCE_OFFSET_HEADER`]. Idempotent
/// producer: order per partition is kept. Returns the number of records produced.
///
/// # Errors
/// [`ReplayError`] when the topic lacks a partition or the broker refuses.
pub fn produce(client: &ClientConfig, topic: &str, records: impl Iterator<Item = Result<ArchivedRecord, ReplayError>>) -> Result<u64, ReplayError> {
    let available = partitions(client, topic)?;
    if available.is_empty() {
        return Err(ReplayError::Usage(format!("topic {topic} does not exist: create it first (maxx topology apply with MAXX_NAMESPACE)")));
    }
    let deliveries = DeliveryCount::default();
    let producer: ThreadedProducer<DeliveryCount> = client
        .clone()
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .create_with_context(deliveries.clone())
        .map_err(|e| ReplayError::kafka("create a producer", e))?;
    let mut produced = 0_u64;
    for record in records {
        let record = record?;
        if !available.contains(&record.partition) {
            return Err(ReplayError::Usage(format!("topic {topic} has no partition {} (it has {})", record.partition, available.len())));
        }
        let offset_text = record.offset.to_string();
        let mut headers = OwnedHeaders::new();
        for (key, value) in &record.headers {
            headers = headers.insert(Header { key, value: value.as_deref() });
        }
        headers = headers.insert(Header { key: SOURCE_OFFSET_HEADER, value: Some(offset_text.as_bytes()) });
        let mut base: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic).partition(record.partition).headers(headers);
        base.key = record.key.as_deref();
        base.payload = record.value.as_deref();
        if let Some(ms) = record.timestamp {
            base = base.timestamp(ms);
        }
        let mut pending = base;
        loop {
            match producer.send(pending) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull), back)) => {
                    pending = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(ReplayError::kafka(format!("produce to {topic}"), e)),
            }
        }
        produced += 1;
    }
    producer.flush(Duration::from_secs(120)).map_err(|e| ReplayError::kafka(format!("flush {topic}"), e))?;
    let failed = deliveries.failed.load(Ordering::SeqCst);
    if failed > 0 {
        return Err(ReplayError::kafka(format!("produce to {topic}"), format!("{failed} of {produced} records were not delivered")));
    }
    Ok(produced)
}

/// Next offsets written in a snapshot-like map, as `topic:partition` strings.
pub fn offsets_by_name(offsets: &BTreeMap<(String, i32), i64>) -> BTreeMap<String, i64> {
    offsets.iter().map(|((t, p), o)| (format!("{t}:{p}"), *o)).collect()
}
