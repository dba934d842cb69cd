//! The archive format: one Avro Object Container file per topic, so history can be handed to
//! an auditor or a quant without a broker.
//!
//! Each record of the file is an [`ArchivedRecord`] (schema [`WRAPPER_SCHEMA`], embedded in
//! the file's header as Avro requires): where the message came from — topic (without the
//! namespace), partition, offset, broker timestamp — and the message itself — key, headers
//! and value — byte for byte as it was on the topic (Confluent-framed Avro for bus topics,
//! JSON for `state.<agent>` snapshots). Keeping the value's bytes rather than re-encoding
//! the event keeps import exact, and keeps the replay digest of an imported log equal to the
//! original's. The file's metadata carries the writer schemas those values reference
//! (`maxx.schemas`: JSON object from registry id to schema text), so the file decodes without
//! a registry. Records are written partition by partition, each in offset order.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use apache_avro::types::Value;
use apache_avro::{Reader, Schema, Writer};
use sha2::{Digest, Sha256};

/// Schema of each record of an archive file.
pub const WRAPPER_SCHEMA: &str = r#"{
  "type": "record",
  "name": "ArchivedRecord",
  "namespace": "maxx.archive",
  "doc": "One Kafka message with where it came from; the value is kept byte for byte.",
  "fields": [
    {"name": "topic", "type": "string", "doc": "Source topic without the namespace prefix, e.g. fills."},
    {"name": "partition", "type": "int", "doc": "Source partition."},
    {"name": "offset", "type": "long", "doc": "Offset in the source partition (what snapshots and audits refer to)."},
    {"name": "timestamp", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}], "default": null, "doc": "Broker timestamp of the message."},
    {"name": "key", "type": ["null", "bytes"], "default": null, "doc": "Message key."},
    {"name": "value", "type": ["null", "bytes"], "default": null, "doc": "Message value as on the topic (Confluent-framed Avro, or JSON for snapshots); null for a tombstone."},
    {"name": "headers", "type": {"type": "array", "items": {
      "type": "record", "name": "ArchivedHeader",
      "fields": [
        {"name": "key", "type": "string"},
        {"name": "value", "type": ["null", "bytes"], "default": null}
      ]}}, "default": [], "doc": "Message headers in order."}
  ]
}"#;

/// Metadata key: the topic the file holds.
pub const META_TOPIC: &str = "maxx.topic";
/// Metadata key: writer schemas of the values, JSON `{"<id>": "<schema>"}`.
pub const META_SCHEMAS: &str = "maxx.schemas";
/// Metadata key: archive format version.
pub const META_FORMAT: &str = "maxx.format";
/// The archive format this build writes and reads.
pub const FORMAT: &str = "1";

/// A message with where it came from: what archives hold and replays read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedRecord {
    /// Topic without the namespace.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset in the source partition.
    pub offset: i64,
    /// Broker timestamp (ms since the epoch).
    pub timestamp: Option<i64>,
    /// Key.
    pub key: Option<Vec<u8>>,
    /// Value (`None`: tombstone).
    pub value: Option<Vec<u8>>,
    /// Headers in order.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// Why an archive could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Avro reported an error.
    #[error("avro: {0}")]
    Avro(#[from] apache_avro::Error),
    /// The file is an Avro container but not an archive of this format.
    #[error("not a MAXX archive: {0}")]
    NotAnArchive(String),
}

/// The parsed wrapper schema, parsed once (the writer borrows it for its whole life).
fn wrapper() -> Result<&'static Schema, ArchiveError> {
    static PARSED: std::sync::OnceLock<Result<Schema, String>> = std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| Schema::parse_str(WRAPPER_SCHEMA).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| ArchiveError::NotAnArchive(format!("the wrapper schema does not parse: {e}")))
}

fn optional_bytes(value: &Option<Vec<u8>>) -> Value {
    match value {
        None => Value::Union(0, Box::new(Value::Null)),
        Some(bytes) => Value::Union(1, Box::new(Value::Bytes(bytes.clone()))),
    }
}

fn to_value(record: &ArchivedRecord) -> Value {
    Value::Record(vec![
        ("topic".into(), Value::String(record.topic.clone())),
        ("partition".into(), Value::Int(record.partition)),
        ("offset".into(), Value::Long(record.offset)),
        (
            "timestamp".into(),
            match record.timestamp {
                None => Value::Union(0, Box::new(Value::Null)),
                Some(ms) => Value::Union(1, Box::new(Value::TimestampMillis(ms))),
            },
        ),
        ("key".into(), optional_bytes(&record.key)),
        ("value".into(), optional_bytes(&record.value)),
        (
            "headers".into(),
            Value::Array(
                record
                    .headers
                    .iter()
                    .map(|(k, v)| Value::Record(vec![("key".into(), Value::String(k.clone())), ("value".into(), optional_bytes(v))]))
                    .collect(),
            ),
        ),
    ])
}

fn from_value(value: Value) -> Result<ArchivedRecord, ArchiveError> {
    let bad = |what: &str| ArchiveError::NotAnArchive(format!("record field {what} has an unexpected type"));
    let Value::Record(fields) = value else { return Err(bad("(record)")) };
    let mut record = ArchivedRecord { topic: String::new(), partition: 0, offset: 0, timestamp: None, key: None, value: None, headers: Vec::new() };
    let bytes = |v: Value, name: &str| -> Result<Option<Vec<u8>>, ArchiveError> {
        match v {
            Value::Union(_, inner) => match *inner {
                Value::Null => Ok(None),
                Value::Bytes(b) => Ok(Some(b)),
                _ => Err(bad(name)),
            },
            Value::Null => Ok(None),
            Value::Bytes(b) => Ok(Some(b)),
            _ => Err(bad(name)),
        }
    };
    for (name, v) in fields {
        match (name.as_str(), v) {
            ("topic", Value::String(s)) => record.topic = s,
            ("partition", Value::Int(p)) => record.partition = p,
            ("offset", Value::Long(o)) => record.offset = o,
            ("timestamp", Value::Union(_, inner)) => {
                record.timestamp = match *inner {
                    Value::Null => None,
                    Value::TimestampMillis(ms) | Value::Long(ms) => Some(ms),
                    _ => return Err(bad("timestamp")),
                }
            }
            ("key", v) => record.key = bytes(v, "key")?,
            ("value", v) => record.value = bytes(v, "value")?,
            ("headers", Value::Array(items)) => {
                for item in items {
                    let Value::Record(pair) = item else { return Err(bad("headers")) };
                    let mut key = String::new();
                    let mut value = None;
                    for (n, v) in pair {
                        match (n.as_str(), v) {
                            ("key", Value::String(s)) => key = s,
                            ("value", v) => value = bytes(v, "headers.value")?,
                            _ => return Err(bad("headers")),
                        }
                    }
                    record.headers.push((key, value));
                }
            }
            (other, _) => return Err(bad(other)),
        }
    }
    Ok(record)
}

/// Writes one topic's archive file. Feed records with [`ArchiveWriter::append`], then
/// [`ArchiveWriter::finish`].
pub struct ArchiveWriter<W: Write> {
    inner: Writer<'static, W>,
}

impl<W: Write> std::fmt::Debug for ArchiveWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchiveWriter").finish_non_exhaustive()
    }
}

impl<W: Write> ArchiveWriter<W> {
    /// A writer of `topic`'s archive; `schemas` are the writer schemas (by registry id) its
    /// values reference. The sync marker derives from the topic (the header's metadata map
    /// has no fixed order, so files are equal in content, not byte for byte).
    ///
    /// # Errors
    /// [`ArchiveError`] when the header cannot be prepared.
    pub fn new(out: W, topic: &str, schemas: &BTreeMap<u32, String>) -> Result<Self, ArchiveError> {
        let schema = wrapper()?;
        let digest = Sha256::digest(format!("maxx.archive/{topic}").as_bytes());
        let mut marker = [0_u8; 16];
        marker.copy_from_slice(&digest[..16]);
        let mut inner = Writer::builder().schema(schema).writer(out).marker(marker).build()?;
        let schemas_json = serde_json::to_string(&schemas.iter().map(|(id, text)| (id.to_string(), text.clone())).collect::<BTreeMap<_, _>>())
            .map_err(|e| ArchiveError::NotAnArchive(e.to_string()))?;
        inner.add_user_metadata(META_FORMAT.into(), FORMAT)?;
        inner.add_user_metadata(META_TOPIC.into(), topic)?;
        inner.add_user_metadata(META_SCHEMAS.into(), schemas_json)?;
        Ok(Self { inner })
    }

    /// Appends one record.
    ///
    /// # Errors
    /// [`ArchiveError`] from Avro or the output.
    pub fn append(&mut self, record: &ArchivedRecord) -> Result<(), ArchiveError> {
        self.inner.append_value_ref(&to_value(record))?;
        Ok(())
    }

    /// Flushes and returns the output.
    ///
    /// # Errors
    /// [`ArchiveError`] from the output.
    pub fn finish(self) -> Result<W, ArchiveError> {
        Ok(self.inner.into_inner()?)
    }
}

/// An archive file being read.
pub struct ArchiveReader<R: Read> {
    /// Topic the file holds.
    pub topic: String,
    /// Writer schemas of the values by registry id.
    pub schemas: BTreeMap<u32, String>,
    inner: Reader<'static, R>,
}

impl<R: Read> std::fmt::Debug for ArchiveReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchiveReader").field("topic", &self.topic).field("schemas", &self.schemas.keys()).finish()
    }
}

impl<R: Read> ArchiveReader<R> {
    /// Opens an archive and reads its header.
    ///
    /// # Errors
    /// [`ArchiveError`] when the input is not an Avro container or not an archive.
    pub fn open(input: R) -> Result<Self, ArchiveError> {
        let inner = Reader::new(input)?;
        let meta = inner.user_metadata();
        let text = |key: &str| meta.get(key).map(|v| String::from_utf8_lossy(v).into_owned());
        if text(META_FORMAT).as_deref() != Some(FORMAT) {
            return Err(ArchiveError::NotAnArchive(format!("metadata {META_FORMAT} is {:?}, this build reads {FORMAT}", text(META_FORMAT))));
        }
        let expected = wrapper()?;
        if inner.writer_schema() != expected {
            return Err(ArchiveError::NotAnArchive("the records are not ArchivedRecord".into()));
        }
        let topic = text(META_TOPIC).ok_or_else(|| ArchiveError::NotAnArchive(format!("no {META_TOPIC} metadata")))?;
        let raw: BTreeMap<String, String> = serde_json::from_str(&text(META_SCHEMAS).unwrap_or_else(|| "{}".into()))
            .map_err(|e| ArchiveError::NotAnArchive(format!("{META_SCHEMAS}: {e}")))?;
        let mut schemas = BTreeMap::new();
        for (id, schema) in raw {
            let id: u32 = id.parse().map_err(|_| ArchiveError::NotAnArchive(format!("{META_SCHEMAS}: id {id:?}")))?;
            schemas.insert(id, schema);
        }
        Ok(Self { topic, schemas, inner })
    }
}

impl<R: Read> Iterator for ArchiveReader<R> {
    type Item = Result<ArchivedRecord, ArchiveError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|value| from_value(value?))
    }
}

/// The writer schemas of an archive as a [`maxx_events::SchemaRegistry`], so its values decode without
/// a registry service. A schema this build uses but the archive lacks gets an id no archive
/// value carries (values are then read with their own writer schema and resolved).
#[derive(Debug, Default)]
pub struct ArchiveSchemas {
    schemas: std::sync::Mutex<BTreeMap<u32, String>>,
}

impl ArchiveSchemas {
    /// The schemas of one or more archives.
    pub fn new(schemas: BTreeMap<u32, String>) -> Self {
        Self { schemas: std::sync::Mutex::new(schemas) }
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, BTreeMap<u32, String>> {
        self.schemas.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn same_schema(a: &str, b: &str) -> bool {
    match (serde_json::from_str::<serde_json::Value>(a), serde_json::from_str::<serde_json::Value>(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

impl maxx_events::SchemaRegistry for ArchiveSchemas {
    fn register(&self, _subject: &str, schema: &str) -> Result<u32, maxx_events::RegistryError> {
        let mut schemas = self.locked();
        if let Some((id, _)) = schemas.iter().find(|(_, text)| same_schema(text, schema)) {
            return Ok(*id);
        }
        let id = schemas.keys().next_back().copied().unwrap_or(0).saturating_add(1_000_000);
        schemas.insert(id, schema.to_owned());
        Ok(id)
    }

    fn lookup(&self, subject: &str, schema: &str) -> Result<Option<u32>, maxx_events::RegistryError> {
        self.register(subject, schema).map(Some)
    }

    fn schema_by_id(&self, id: u32) -> Result<Option<String>, maxx_events::RegistryError> {
        Ok(self.locked().get(&id).cloned())
    }
}

/// The ticks of an archive file of the `ticks` topic, decoded with the schemas the file
/// carries (no registry needed), in event-time order: partitions merged, ties in file order.
///
/// # Errors
/// [`crate::ReplayError::Archive`] when the file is not an archive,
/// [`crate::ReplayError::Usage`] when it holds another topic, a tombstone or a record that
/// is not a tick (with its partition and offset).
pub fn archived_ticks(bytes: &[u8]) -> Result<Vec<maxx_events::Tick>, crate::ReplayError> {
    use maxx_events::{BusCodec, BusEvent, Registration};
    let reader = ArchiveReader::open(bytes)?;
    if reader.topic != "ticks" {
        return Err(crate::ReplayError::Usage(format!("the archive holds topic {}, not ticks", reader.topic)));
    }
    let registry = std::sync::Arc::new(ArchiveSchemas::new(reader.schemas.clone()));
    let mut codec = BusCodec::new(registry, &["ticks"], Registration::Register)?;
    let mut ticks = Vec::new();
    for record in reader {
        let record = record?;
        let at = format!("partition {} offset {}", record.partition, record.offset);
        let value = record.value.ok_or_else(|| crate::ReplayError::Usage(format!("{at}: a tombstone is not a tick")))?;
        match codec.decode("ticks", &value) {
            Ok(BusEvent::Tick(tick)) => ticks.push(tick),
            Ok(_) => return Err(crate::ReplayError::Usage(format!("{at}: not a tick"))),
            Err(e) => return Err(crate::ReplayError::Usage(format!("{at}: {e}"))),
        }
    }
    ticks.sort_by_key(|t| t.event_time);
    Ok(ticks)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn record(offset: i64) -> ArchivedRecord {
        ArchivedRecord {
            topic: "fills".into(),
            partition: 2,
            offset,
            timestamp: Some(1_767_225_600_000 + offset),
            key: Some(b"order-1".to_vec()),
            value: if offset % 3 == 0 { None } else { Some(vec![0, 0, 0, 0, 7, offset as u8]) },
            headers: vec![("traceparent".into(), Some(b"00-abc".to_vec())), ("empty".into(), None)],
        }
    }

    #[test]
    fn records_and_schemas_survive_a_round_trip() {
        let schemas = BTreeMap::from([(7, r#"{"type":"string"}"#.to_owned())]);
        let write = || {
            let mut writer = ArchiveWriter::new(Vec::new(), "fills", &schemas).expect("writer");
            for offset in 0..10 {
                writer.append(&record(offset)).expect("append");
            }
            writer.finish().expect("finish")
        };
        let bytes = write();
        let reader = ArchiveReader::open(bytes.as_slice()).expect("open");
        assert_eq!(reader.topic, "fills");
        assert_eq!(reader.schemas, schemas);
        let back: Vec<ArchivedRecord> = reader.collect::<Result<_, _>>().expect("read");
        assert_eq!(back, (0..10).map(record).collect::<Vec<_>>());
    }

    #[test]
    fn a_container_of_something_else_is_refused() {
        let schema = Schema::parse_str(r#"{"type":"long"}"#).expect("schema");
        let mut writer = Writer::new(&schema, Vec::new()).expect("writer");
        writer.append_value(Value::Long(1)).expect("append");
        let bytes = writer.into_inner().expect("bytes");
        assert!(matches!(ArchiveReader::open(bytes.as_slice()), Err(ArchiveError::NotAnArchive(_))));
        assert!(ArchiveReader::open(&b"not avro"[..]).is_err());
    }

    proptest! {
        #[test]
        fn any_message_round_trips(key in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
                                   value in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..200)),
                                   offset in 0_i64..i64::MAX, partition in 0_i32..1000) {
            let r = ArchivedRecord { topic: "t".into(), partition, offset, timestamp: None, key, value, headers: vec![] };
            let mut writer = ArchiveWriter::new(Vec::new(), "t", &BTreeMap::new()).expect("writer");
            writer.append(&r).expect("append");
            let bytes = writer.finish().expect("finish");
            let back: Vec<_> = ArchiveReader::open(bytes.as_slice()).expect("open").collect::<Result<_, _>>().expect("read");
            prop_assert_eq!(back, vec![r]);
        }
    }
}
