//! [`Error`]: every way a registry request can fail, each with the HTTP status and the
//! Confluent `error_code` its JSON body carries, so clients written for Confluent's registry
//! (and for Redpanda's, which copies it) tell the cases apart the same way.

use axum::http::StatusCode;

use crate::compat::Violation;

/// Why a registry request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// 40401: no live version under the subject.
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),
    /// 40402: the subject has no such version.
    #[error("Version {version} not found.")]
    VersionNotFound {
        /// The subject.
        subject: String,
        /// The version asked for.
        version: String,
    },
    /// 40403: no schema with that id, or the schema is not registered under the subject.
    #[error("{0}")]
    SchemaNotFound(String),
    /// 40404: the subject was soft-deleted and the request needs it live.
    #[error("Subject '{0}' was soft deleted. Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),
    /// 40405: a permanent delete of a subject that was not soft-deleted first.
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),
    /// 40406: the version was soft-deleted already.
    #[error("Subject '{subject}' Version {version} was soft deleted. Set permanent=true to delete permanently")]
    VersionSoftDeleted {
        /// The subject.
        subject: String,
        /// The version.
        version: u32,
    },
    /// 40407: a permanent delete of a version that was not soft-deleted first.
    #[error("Subject '{subject}' Version {version} was not deleted first before being permanently deleted")]
    VersionNotSoftDeleted {
        /// The subject.
        subject: String,
        /// The version.
        version: u32,
    },
    /// 40408: the subject has no compatibility level of its own.
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    SubjectLevelNotConfigured(String),
    /// 409: the schema breaks the subject's compatibility level.
    #[error("Schema being registered is incompatible with an earlier schema for subject \"{subject}\" under compatibility level {level}, details: {}", violations.iter().map(ToString::to_string).collect::<Vec<_>>().join(" | "))]
    Incompatible {
        /// The subject.
        subject: String,
        /// Its level.
        level: String,
        /// What breaks.
        violations: Vec<Violation>,
    },
    /// 42201: not a valid schema (not JSON, not Avro, an unsupported schema type, references).
    #[error("Invalid schema: {0}")]
    InvalidSchema(String),
    /// 42202: not a version number nor `latest`.
    #[error("The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"")]
    InvalidVersion(String),
    /// 42203: not a compatibility level.
    #[error("Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive (got {0:?})")]
    InvalidCompatibilityLevel(String),
    /// 400: the request body is not JSON, or a path or query parameter is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 422: the body is JSON of the wrong shape.
    #[error("{0}")]
    Unprocessable(String),
    /// 404: no such route.
    #[error("HTTP 404 Not Found")]
    NotFound,
    /// 405: the route exists, the method does not.
    #[error("HTTP 405 Method Not Allowed")]
    MethodNotAllowed,
    /// 413: the body is larger than the registry accepts.
    #[error("Request body larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
    /// 50001: the backing Kafka topic could not be read or written.
    #[error("Error in the backend data store: {0}")]
    Store(String),
    /// 50002: the backing store did not answer in time.
    #[error("Operation timed out: {0}")]
    Timeout(String),
}

impl Error {
    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::SubjectNotFound(_)
            | Error::VersionNotFound { .. }
            | Error::SchemaNotFound(_)
            | Error::SubjectSoftDeleted(_)
            | Error::SubjectNotSoftDeleted(_)
            | Error::VersionSoftDeleted { .. }
            | Error::VersionNotSoftDeleted { .. }
            | Error::SubjectLevelNotConfigured(_)
            | Error::NotFound => StatusCode::NOT_FOUND,
            Error::Incompatible { .. } => StatusCode::CONFLICT,
            Error::InvalidSchema(_) | Error::InvalidVersion(_) | Error::InvalidCompatibilityLevel(_) | Error::Unprocessable(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Store(_) | Error::Timeout(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Confluent's `error_code`.
    pub fn code(&self) -> u32 {
        match self {
            Error::SubjectNotFound(_) => 40401,
            Error::VersionNotFound { .. } => 40402,
            Error::SchemaNotFound(_) => 40403,
            Error::SubjectSoftDeleted(_) => 40404,
            Error::SubjectNotSoftDeleted(_) => 40405,
            Error::VersionSoftDeleted { .. } => 40406,
            Error::VersionNotSoftDeleted { .. } => 40407,
            Error::SubjectLevelNotConfigured(_) => 40408,
            Error::Incompatible { .. } => 409,
            Error::InvalidSchema(_) => 42201,
            Error::InvalidVersion(_) => 42202,
            Error::InvalidCompatibilityLevel(_) => 42203,
            Error::BadRequest(_) => 400,
            Error::Unprocessable(_) => 422,
            Error::NotFound => 404,
            Error::MethodNotAllowed => 405,
            Error::PayloadTooLarge(_) => 413,
            Error::Store(_) => 50001,
            Error::Timeout(_) => 50002,
        }
    }
}
