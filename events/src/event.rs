//! The [`Event`] trait: what every message type on the bus has — its topic, the `.avsc` file
//! it was written against, and the envelope fields (id, time, producer).

use std::fmt::Debug;

use apache_avro::{AvroSchema, Schema};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::primitives::{EventId, EventTime, Producer};

/// A message type of the bus, bound to one topic and one schema version under `schemas/`.
pub trait Event:
    Serialize + DeserializeOwned + AvroSchema + Clone + Debug + PartialEq + Send + Sync + 'static
{
    /// The Kafka topic the events are published on.
    const TOPIC: &'static str;
    /// The version of `schemas/<topic>/v<N>.avsc` this type reads and writes.
    const SCHEMA_VERSION: u32;
    /// The text of that `.avsc` file, embedded at build time.
    const SCHEMA_TEXT: &'static str;

    /// The parsed `.avsc` schema, parsed once per process.
    fn schema() -> &'static Schema;

    /// The schema registry subject (TopicNameStrategy: `<topic>-value`).
    fn subject() -> String {
        format!("{}-value", Self::TOPIC)
    }

    /// The Kafka message key: what per-key order is kept for (see `topology/topics.yaml`).
    fn key(&self) -> &str;
    /// The event's UUIDv7.
    fn event_id(&self) -> EventId;
    /// When the event happened.
    fn event_time(&self) -> EventTime;
    /// The agent that produced it.
    fn producer(&self) -> &Producer;
}

/// Implements [`Event`] for a struct with the envelope fields `event_id`, `event_time` and
/// `producer`, binding it to `schemas/<topic>/v<version>.avsc`.
macro_rules! impl_event {
    ($type:ty, topic = $topic:literal, version = $version:literal, key = $key:expr) => {
        impl $crate::event::Event for $type {
            const TOPIC: &'static str = $topic;
            const SCHEMA_VERSION: u32 = $version;
            const SCHEMA_TEXT: &'static str =
                include_str!(concat!("../../schemas/", $topic, "/v", $version, ".avsc"));

            fn schema() -> &'static ::apache_avro::Schema {
                static SCHEMA: ::std::sync::OnceLock<::apache_avro::Schema> =
                    ::std::sync::OnceLock::new();
                SCHEMA.get_or_init(|| {
                    ::apache_avro::Schema::parse_str(Self::SCHEMA_TEXT)
                        .expect(concat!("schemas/", $topic, "/v", $version, ".avsc is valid Avro (checked by the schema tests)"))
                })
            }

            fn key(&self) -> &str {
                $crate::event::key_with(self, $key)
            }
            fn event_id(&self) -> $crate::primitives::EventId {
                self.event_id
            }
            fn event_time(&self) -> $crate::primitives::EventTime {
                self.event_time
            }
            fn producer(&self) -> &$crate::primitives::Producer {
                &self.producer
            }
        }
    };
}
pub(crate) use impl_event;

/// Applies a key accessor; a function rather than a direct call so the closure's lifetimes
/// are inferred from the signature.
pub(crate) fn key_with<'a, T>(event: &'a T, key: impl FnOnce(&'a T) -> &'a str) -> &'a str {
    key(event)
}

/// The full name (`namespace.name`) of a named schema, or its type name for an unnamed one.
pub fn schema_name(schema: &Schema) -> String {
    match schema {
        Schema::Record(record) => record.name.fullname(None),
        Schema::Enum(schema) => schema.name.fullname(None),
        Schema::Fixed(schema) => schema.name.fullname(None),
        other => format!("{:?}", apache_avro::schema::SchemaKind::from(other)),
    }
}

/// What the catalog knows of one event type: its topic and the schema version it is bound to.
#[derive(Debug, Clone, Copy)]
pub struct EventSchema {
    /// Topic of the events.
    pub topic: &'static str,
    /// Version of `schemas/<topic>/v<N>.avsc` the Rust type reads and writes.
    pub version: u32,
    /// Text of that file.
    pub text: &'static str,
    /// The parsed schema.
    pub schema: fn() -> &'static Schema,
}

impl EventSchema {
    /// The catalog entry of `T`.
    pub fn of<T: Event>() -> Self {
        Self { topic: T::TOPIC, version: T::SCHEMA_VERSION, text: T::SCHEMA_TEXT, schema: T::schema }
    }
}

/// Calls `$m!(Type)` once for every event type of the bus. The one list of them; add a new
/// event type here.
#[macro_export]
macro_rules! for_each_event {
    ($m:ident) => {
        $m!($crate::Tick);
        $m!($crate::SentimentScore);
        $m!($crate::SessionEvent);
        $m!($crate::Signal);
        $m!($crate::Order);
        $m!($crate::OrderAck);
        $m!($crate::Fill);
        $m!($crate::Pnl);
        $m!($crate::RiskState);
        $m!($crate::RiskEvent);
        $m!($crate::GovernorWeights);
        $m!($crate::Command);
        $m!($crate::AgentState);
        $m!($crate::DeadLetter);
    };
}

/// The catalog entry of every event type, in the order of [`for_each_event!`].
pub fn catalog() -> Vec<EventSchema> {
    let mut entries = Vec::new();
    macro_rules! push {
        ($t:ty) => {
            entries.push(EventSchema::of::<$t>())
        };
    }
    for_each_event!(push);
    entries
}
