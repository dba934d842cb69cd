//! Errors of the Kafka runtime, classified by what to do next: restart the instance
//! (recoverable), or stop it for good (fenced, misconfigured).

use maxx_events::{BusCodecError, RegistryError};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

use maxx_agents::SnapshotError;

/// Why an agent instance stopped.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A Kafka call failed.
    #[error("{context}: {source}")]
    Kafka {
        /// What the runtime was doing.
        context: &'static str,
        /// What librdkafka reported.
        #[source]
        source: KafkaError,
    },
    /// Another instance with the same transactional id took over; this one must never
    /// produce again.
    #[error("fenced: another instance took over transactional id {0}; this instance stops")]
    Fenced(String),
    /// A topic the agent needs does not exist.
    #[error("topic {0} does not exist: create the topics first (`maxx topology apply`)")]
    MissingTopic(String),
    /// The codec could not be built (registry down, schemas not registered).
    #[error(transparent)]
    Codec(#[from] BusCodecError),
    /// The registry could not be asked about an input's schema.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The agent's state could not be snapshotted or restored.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// Anything else that stops this incarnation.
    #[error("{0}")]
    Fatal(String),
}

impl RuntimeError {
    pub(crate) fn kafka(context: &'static str, source: KafkaError) -> Self {
        if is_fencing(&source) {
            return Self::Fenced(format!("{context}: {source}"));
        }
        Self::Kafka { context, source }
    }

    /// Whether restarting the instance (a new consumer and producer, state from the last
    /// snapshot) may help: broker or registry trouble, yes; fencing or a missing topic, no.
    pub fn is_recoverable(&self) -> bool {
        match self {
            Self::Kafka { .. } | Self::Registry(_) | Self::Fatal(_) => true,
            Self::Codec(BusCodecError::Registry(RegistryError::Unavailable(_))) => true,
            Self::Fenced(_) | Self::MissingTopic(_) | Self::Codec(_) | Self::Snapshot(_) => false,
        }
    }
}

/// Whether a Kafka error means a newer instance fenced this one.
pub(crate) fn is_fencing(error: &KafkaError) -> bool {
    let code = match error {
        KafkaError::Transaction(e) => e.code(),
        other => match other.rdkafka_error_code() {
            Some(code) => code,
            None => return false,
        },
    };
    is_fencing_code(code)
}

/// Whether an error code says a newer instance with the same identity took over.
pub(crate) fn is_fencing_code(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::Fenced | RDKafkaErrorCode::ProducerFenced | RDKafkaErrorCode::InvalidProducerEpoch | RDKafkaErrorCode::FencedInstanceId
    )
}
