//! [`BusCodec`]: encodes and decodes [`BusEvent`]s by topic, with schema ids from a
//! [`SchemaRegistry`]. Built once per agent process for the topics it reads and writes.
//!
//! Its errors keep apart what the message is to blame for ([`BusDecodeError::Message`]: file
//! it as a dead letter) from what the registry is to blame for
//! ([`BusDecodeError::Registry`]: retry; a good message must never be dead-lettered because
//! the registry was briefly away).

use std::collections::HashMap;
use std::sync::Arc;

use apache_avro::Schema;

use crate::bus::{BusEvent, BusVariant};
use crate::codec::{split_frame, Codec, DecodeError, EncodeError};
use crate::registry::{RegistryError, SchemaRegistry};
use crate::Event;

/// Why bytes read from a topic did not become a [`BusEvent`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusDecodeError {
    /// The message is bad: dead-letter it.
    #[error(transparent)]
    Message(#[from] DecodeError),
    /// The registry could not answer: retry later.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The topic carries no known event type (a wiring error, not the message's fault).
    #[error("no event type is bound to topic {0:?}")]
    UnknownTopic(String),
}

/// Whether a codec registers the schemas it writes, or only looks them up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// Register missing schemas (embedded runtime, tests, development).
    Register,
    /// Only look them up: production, where `maxx schemas register` governs what is registered.
    LookupOnly,
}

/// Why a [`BusCodec`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusCodecError {
    /// The registry could not answer or refused.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A schema this build writes is not registered (and registration was not asked for).
    #[error("schema version {version} of topic {topic} is not registered under subject {subject}: run `maxx schemas register`")]
    NotRegistered {
        /// The topic.
        topic: &'static str,
        /// Its subject.
        subject: String,
        /// The schema version this build uses.
        version: u32,
    },
    /// The topic carries no known event type.
    #[error("no event type is bound to topic {0:?}")]
    UnknownTopic(String),
    /// An embedded schema could not be prepared (a build defect).
    #[error(transparent)]
    Schema(#[from] EncodeError),
}

/// One topic's codec with the event type erased.
trait TopicCodec: Send + Sync {
    fn encode(&self, event: &BusEvent) -> Option<Result<Vec<u8>, EncodeError>>;
    fn decode(&self, bytes: &[u8]) -> Result<BusEvent, DecodeError>;
    fn accept_writer(&mut self, id: u32, schema: Arc<Schema>);
}

impl<T: BusVariant> TopicCodec for Codec<T> {
    fn encode(&self, event: &BusEvent) -> Option<Result<Vec<u8>, EncodeError>> {
        T::from_bus(event).map(|e| Codec::encode(self, e))
    }
    fn decode(&self, bytes: &[u8]) -> Result<BusEvent, DecodeError> {
        Codec::decode(self, bytes).map(Into::into)
    }
    fn accept_writer(&mut self, id: u32, schema: Arc<Schema>) {
        Codec::accept_writer(self, id, schema);
    }
}

fn codec_for<T: BusVariant>(registry: &dyn SchemaRegistry, registration: Registration) -> Result<Box<dyn TopicCodec>, BusCodecError> {
    let subject = T::subject();
    let id = match registration {
        Registration::Register => registry.register(&subject, T::SCHEMA_TEXT)?,
        Registration::LookupOnly => registry.lookup(&subject, T::SCHEMA_TEXT)?.ok_or(BusCodecError::NotRegistered {
            topic: T::TOPIC,
            subject,
            version: T::SCHEMA_VERSION,
        })?,
    };
    Ok(Box::new(Codec::<T>::new(id)?))
}

/// Encodes and decodes the events of a set of topics.
pub struct BusCodec {
    registry: Arc<dyn SchemaRegistry>,
    codecs: HashMap<&'static str, Box<dyn TopicCodec>>,
}

impl std::fmt::Debug for BusCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusCodec").field("topics", &self.codecs.keys().collect::<Vec<_>>()).finish()
    }
}

impl BusCodec {
    /// A codec for `topics`, resolving each topic's schema id in `registry`.
    ///
    /// # Errors
    /// When a topic is unknown, the registry cannot answer, or a schema is not registered.
    pub fn new(registry: Arc<dyn SchemaRegistry>, topics: &[&str], registration: Registration) -> Result<Self, BusCodecError> {
        let mut codecs = HashMap::new();
        for topic in topics {
            let topic = BusEvent::TOPICS.iter().find(|t| *t == topic).ok_or_else(|| BusCodecError::UnknownTopic((*topic).to_owned()))?;
            if codecs.contains_key(topic) {
                continue;
            }
            let mut codec = None;
            macro_rules! build {
                ($t:ty) => {
                    if codec.is_none() && <$t as Event>::TOPIC == *topic {
                        codec = Some(codec_for::<$t>(registry.as_ref(), registration)?);
                    }
                };
            }
            crate::for_each_event!(build);
            let codec = codec.ok_or_else(|| BusCodecError::UnknownTopic((*topic).to_owned()))?;
            codecs.insert(*topic, codec);
        }
        Ok(Self { registry, codecs })
    }

    /// Encodes `event` for its topic.
    ///
    /// # Errors
    /// When this codec was not built for the event's topic, or the event does not fit its schema.
    pub fn encode(&self, event: &BusEvent) -> Result<Vec<u8>, EncodeError> {
        let not_built = || EncodeError { schema: event.topic().to_owned(), reason: "this codec was not built for the topic".into() };
        let codec = self.codecs.get(event.topic()).ok_or_else(not_built)?;
        codec.encode(event).ok_or_else(not_built)?
    }

    /// Decodes a message read from `topic`. A schema id this codec has not met yet is looked
    /// up in the registry once and remembered.
    ///
    /// # Errors
    /// [`BusDecodeError::Message`] for a bad message, [`BusDecodeError::Registry`] when the
    /// registry could not be asked about an unfamiliar id.
    pub fn decode(&mut self, topic: &str, bytes: &[u8]) -> Result<BusEvent, BusDecodeError> {
        let codec = self.codecs.get_mut(topic).ok_or_else(|| BusDecodeError::UnknownTopic(topic.to_owned()))?;
        match codec.decode(bytes) {
            Err(DecodeError::UnknownSchemaId { id, expected }) => {
                let unknown = || DecodeError::UnknownSchemaId { id, expected: expected.clone() };
                let text = self.registry.schema_by_id(id)?.ok_or_else(unknown)?;
                // A registry handing out an unparsable schema is the registry's defect; the
                // message itself cannot be read either way, so it is filed as unknown.
                let schema = Schema::parse_str(&text).map_err(|_| unknown())?;
                codec.accept_writer(id, Arc::new(schema));
                Ok(codec.decode(bytes)?)
            }
            other => Ok(other?),
        }
    }

    /// The schema id a framed message claims, if it is framed at all.
    pub fn schema_id_of(bytes: &[u8]) -> Option<u32> {
        split_frame(bytes).ok().map(|(id, _)| id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::InMemoryRegistry;
    use crate::{EventId, EventTime, FixedPoint, Producer, Tick};

    fn tick() -> Tick {
        let time = EventTime::from_micros(1_000_000);
        Tick {
            event_id: EventId::at(time, [0; 10]),
            event_time: time,
            producer: Producer { agent: "a".into(), version: "1".into(), instance: "a-0".into() },
            symbol: "BTCUSD".into(),
            exchange: "synthetic".into(),
            price: FixedPoint::ONE,
            volume: FixedPoint::ZERO,
            bid: None,
            ask: None,
            venue_seq: None,
        }
    }

    struct DownRegistry;
    impl SchemaRegistry for DownRegistry {
        fn register(&self, _: &str, _: &str) -> Result<u32, RegistryError> {
            Ok(1)
        }
        fn lookup(&self, _: &str, _: &str) -> Result<Option<u32>, RegistryError> {
            Ok(Some(1))
        }
        fn schema_by_id(&self, _: u32) -> Result<Option<String>, RegistryError> {
            Err(RegistryError::Unavailable("connection refused".into()))
        }
    }

    #[test]
    fn bus_events_round_trip_by_topic() {
        let registry = Arc::new(InMemoryRegistry::default());
        let mut codec = BusCodec::new(registry, &["ticks", "fills"], Registration::Register).expect("codec");
        let event = BusEvent::from(tick());
        let bytes = codec.encode(&event).expect("encode");
        assert_eq!(codec.decode("ticks", &bytes), Ok(event));
        let mut unknown = bytes.clone();
        unknown[1..5].copy_from_slice(&999_u32.to_be_bytes());
        assert!(matches!(codec.decode("ticks", &unknown), Err(BusDecodeError::Message(DecodeError::UnknownSchemaId { id: 999, .. }))));
        assert!(matches!(codec.decode("nope", &bytes), Err(BusDecodeError::UnknownTopic(_))));
    }

    #[test]
    fn a_schema_id_registered_later_is_learned_from_the_registry() {
        let registry = Arc::new(InMemoryRegistry::default());
        let mut reader = BusCodec::new(registry.clone(), &["fills"], Registration::Register).expect("reader");
        let writer = BusCodec::new(registry, &["ticks"], Registration::Register).expect("writer");
        let bytes = writer.encode(&tick().into()).expect("encode");
        // The id is a tick schema: known to the registry, but the wrong record for fills.
        assert!(matches!(reader.decode("fills", &bytes), Err(BusDecodeError::Message(DecodeError::WrongSchema { .. }))));
    }

    #[test]
    fn a_registry_outage_is_not_blamed_on_the_message() {
        let mut codec = BusCodec::new(Arc::new(DownRegistry), &["ticks"], Registration::LookupOnly).expect("codec");
        let mut bytes = codec.encode(&tick().into()).expect("encode");
        bytes[1..5].copy_from_slice(&7_u32.to_be_bytes());
        assert!(matches!(codec.decode("ticks", &bytes), Err(BusDecodeError::Registry(_))));
    }

    #[test]
    fn lookup_only_refuses_unregistered_schemas_with_the_fix() {
        let err = BusCodec::new(Arc::new(InMemoryRegistry::default()), &["ticks"], Registration::LookupOnly).expect_err("not registered");
        assert!(err.to_string().contains("maxx schemas register"), "{err}");
    }
}
