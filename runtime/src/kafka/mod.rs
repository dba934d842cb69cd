//! The Kafka runtime: one agent instance as a consumer-producer with exactly-once
//! transactions — inputs consumed, outputs and the state snapshot produced, input offsets
//! committed, all in one transaction. Bad inputs become dead letters in the same transaction.
//! The loop itself is in [`worker`]; the rest are the pieces it is made of.

pub mod config;
pub mod dead_letter;
pub mod error;
pub mod leader;
pub mod lifecycle;
pub mod snapshot;
pub mod source;
pub mod stats;
pub mod trace;
mod txn;
pub mod worker;

pub use config::KafkaConfig;
pub use error::RuntimeError;
pub use snapshot::Snapshot;
pub use stats::Stats;
pub use worker::KafkaRuntime;
