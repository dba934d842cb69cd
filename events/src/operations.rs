//! Events about the agents themselves rather than the market: lifecycle transitions and
//! dead letters (inputs an agent could not process, kept whole).

use apache_avro::AvroSchema;
use serde::{Deserialize, Serialize};

use crate::event::impl_event;
use crate::primitives::{EventId, EventTime, Producer};

/// Lifecycle states of an agent (spec §3).
///
/// Symbols (Avro's derive allows no docs on variants, so they are here):
/// - `Init`: Starting: restoring state, joining the group.
/// - `Running`: Processing events.
/// - `Recycling`: Draining before a restart.
/// - `Shutdown`: Stopped.
/// - `CrashLoop`: Failing repeatedly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum Lifecycle {
    Init,
    Running,
    Recycling,
    Shutdown,
    CrashLoop,
}

/// A lifecycle transition (`agent_state`, keyed by agent instance). The agent is the
/// producer; the time is `event_time`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct AgentState {
    /// UUIDv7 of the event.
    pub event_id: EventId,
    /// When the transition happened.
    pub event_time: EventTime,
    /// The agent instance that changed state.
    pub producer: Producer,
    /// State entered.
    pub state: Lifecycle,
    /// State left.
    pub previous: Option<Lifecycle>,
    /// Why.
    pub reason: String,
}
impl_event!(AgentState, topic = "agent_state", version = 1, key = |e| e.producer.instance.as_str());

/// A Kafka message header, kept byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct Header {
    /// Header name.
    pub key: String,
    /// Header value.
    #[serde(with = "apache_avro::serde::bytes_opt")]
    #[avro(with, default = "null")]
    pub value: Option<Vec<u8>>,
}

/// Why an input became a dead letter.
///
/// Symbols (Avro's derive allows no docs on variants, so they are here):
/// - `Undecodable`: Not a framed Avro message, or a payload that does not decode.
/// - `UnknownSchema`: Framed with a schema id nobody knows.
/// - `WrongSchema`: A valid message of another event type.
/// - `Invalid`: Decoded, but failed validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum DeadLetterKind {
    Undecodable,
    UnknownSchema,
    WrongSchema,
    Invalid,
}

/// An input an agent could not process (`dead_letters`, keyed by source topic).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct DeadLetter {
    /// UUIDv7 of the event.
    pub event_id: EventId,
    /// When the agent gave up on the input.
    pub event_time: EventTime,
    /// The agent instance that read it.
    pub producer: Producer,
    /// Topic it was read from.
    pub source_topic: String,
    /// Partition it was read from.
    pub source_partition: i32,
    /// Offset in that partition.
    pub source_offset: i64,
    /// Kafka timestamp of the input.
    pub source_timestamp: Option<EventTime>,
    /// Key bytes, unchanged.
    #[serde(with = "apache_avro::serde::bytes_opt")]
    #[avro(with, default = "null")]
    pub key: Option<Vec<u8>>,
    /// Value bytes, unchanged.
    #[serde(with = "apache_avro::serde::bytes_opt")]
    #[avro(with, default = "null")]
    pub value: Option<Vec<u8>>,
    /// Headers in order, unchanged.
    pub headers: Vec<Header>,
    /// Class of failure.
    pub error_kind: DeadLetterKind,
    /// What was wrong.
    pub reason: String,
}
impl_event!(DeadLetter, topic = "dead_letters", version = 1, key = |e| e.source_topic.as_str());
