//! [`ReplayError`]: why a replay (audit, export, import) could not go on.

use maxx_events::{BusCodecError, RegistryError};

use crate::archive::ArchiveError;

/// Why a replay could not go on.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The broker failed or refused.
    #[error("kafka: {context}: {message}")]
    Kafka {
        /// What was being done.
        context: String,
        /// What the client said.
        message: String,
    },
    /// An archive file could not be read or written.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// The registry could not answer (retry later: the log itself is not to blame).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The decoder could not be built.
    #[error(transparent)]
    Codec(#[from] BusCodecError),
    /// A snapshot could not be read or restored.
    #[error("snapshot: {0}")]
    Snapshot(String),
    /// Wrong usage (an unknown agent, offsets that do not parse).
    #[error("{0}")]
    Usage(String),
}

impl ReplayError {
    /// A broker error while doing `context`.
    pub fn kafka(context: impl Into<String>, error: impl std::fmt::Display) -> Self {
        Self::Kafka { context: context.into(), message: error.to_string() }
    }
}
