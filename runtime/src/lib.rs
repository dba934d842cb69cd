//! The shells that run agents: the Kafka runtime (consumer group with `read_committed`, a
//! transactional producer, offsets and state snapshots committed with the outputs in one
//! transaction, dead letters) and the [`embedded`] runtime (the same agents in one process,
//! no broker, deterministic order).

pub mod embedded;
pub mod kafka;

pub use embedded::{EmbeddedRuntime, Runaway};
pub use kafka::{KafkaConfig, KafkaRuntime, RuntimeError};
