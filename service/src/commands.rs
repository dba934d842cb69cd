//! What mutating routes do: publish a [`Command`] on the `commands` topic for the target
//! agent to act on when it reads it (so a replay performs the same actions at the same
//! place). The route never changes state itself. The publisher stamps the envelope and the
//! caller's token name (`requested_by`), and returns once the broker has the command.

use std::sync::Arc;
use std::time::Duration;

use maxx_events::{BusCodec, BusEvent, Command, EventId, EventTime, Producer, Registration, SchemaRegistry};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;

use crate::auth::Caller;

/// A command that could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The producer or codec could not be set up.
    #[error("command publisher: {0}")]
    Setup(String),
    /// The command could not be encoded.
    #[error("encode the command: {0}")]
    Encode(String),
    /// The broker did not take it.
    #[error("publish the command: {0}")]
    Broker(String),
}

/// Publishes operator commands for one agent instance.
pub struct CommandPublisher {
    producer: FutureProducer,
    codec: BusCodec,
    topic: String,
    identity: Producer,
}

impl std::fmt::Debug for CommandPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandPublisher").field("topic", &self.topic).field("identity", &self.identity).finish()
    }
}

impl CommandPublisher {
    /// A publisher writing to the broker `topic` (the namespaced `commands`) as `identity`.
    ///
    /// # Errors
    /// When the producer cannot be created or the `commands` schema is not registered.
    pub fn new(client: &ClientConfig, registry: Arc<dyn SchemaRegistry>, registration: Registration, topic: String, identity: Producer) -> Result<Self, PublishError> {
        let producer = client
            .clone()
            .set("enable.idempotence", "true")
            .set("message.timeout.ms", "10000")
            .create()
            .map_err(|e| PublishError::Setup(e.to_string()))?;
        let codec = BusCodec::new(registry, &["commands"], registration).map_err(|e| PublishError::Setup(e.to_string()))?;
        Ok(Self { producer, codec, topic, identity })
    }

    /// Stamps `command` (new event id, the time now, this instance as producer, `caller` as
    /// `requested_by`) and publishes it, keyed by its target.
    ///
    /// # Errors
    /// When it cannot be encoded or the broker does not acknowledge it.
    pub async fn publish(&self, caller: &Caller, mut command: Command) -> Result<Command, PublishError> {
        let micros = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
        command.event_id = EventId::now();
        command.event_time = EventTime::from_micros(micros);
        command.producer = self.identity.clone();
        command.requested_by.clone_from(&caller.0);
        let event = BusEvent::from(command.clone());
        let bytes = self.codec.encode(&event).map_err(|e| PublishError::Encode(e.to_string()))?;
        let record = FutureRecord::to(&self.topic).key(event.key()).payload(&bytes);
        self.producer.send(record, Duration::from_secs(10)).await.map_err(|(e, _)| PublishError::Broker(e.to_string()))?;
        tracing::info!(target_agent = %command.target, kind = ?command.kind, requested_by = %command.requested_by, "command published");
        Ok(command)
    }
}
