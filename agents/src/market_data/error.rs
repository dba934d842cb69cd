//! What can be wrong with a venue message. A bad message is counted and skipped; it never
//! stops the feed, and parsing never panics.

use super::venue::Venue;

/// A venue message that could not be turned into ticks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// Not JSON, or JSON of an unexpected shape.
    #[error("{venue}: malformed message: {detail}")]
    Malformed {
        /// The venue.
        venue: Venue,
        /// What the parser reported.
        detail: String,
    },
    /// A price, quantity or id that is not a number MAXX can hold exactly.
    #[error("{venue}: {field} {value:?} is not a valid number")]
    BadNumber {
        /// The venue.
        venue: Venue,
        /// The field.
        field: &'static str,
        /// Its text.
        value: String,
    },
    /// A timestamp that could not be read.
    #[error("{venue}: {value:?} is not a valid time")]
    BadTime {
        /// The venue.
        venue: Venue,
        /// Its text.
        value: String,
    },
    /// A price that is zero or negative, or a crossed/empty book.
    #[error("{venue}: {detail}")]
    Implausible {
        /// The venue.
        venue: Venue,
        /// What is wrong.
        detail: String,
    },
    /// The venue reported an error (e.g. a refused subscription).
    #[error("{venue} reported an error: {message}")]
    Venue {
        /// The venue.
        venue: Venue,
        /// Its message.
        message: String,
    },
}

impl FeedError {
    /// The venue concerned.
    pub fn venue(&self) -> Venue {
        match self {
            FeedError::Malformed { venue, .. }
            | FeedError::BadNumber { venue, .. }
            | FeedError::BadTime { venue, .. }
            | FeedError::Implausible { venue, .. }
            | FeedError::Venue { venue, .. } => *venue,
        }
    }

    /// A short stable label for metrics: `malformed`, `bad_number`, `bad_time`,
    /// `implausible` or `venue_error`.
    pub fn kind(&self) -> &'static str {
        match self {
            FeedError::Malformed { .. } => "malformed",
            FeedError::BadNumber { .. } => "bad_number",
            FeedError::BadTime { .. } => "bad_time",
            FeedError::Implausible { .. } => "implausible",
            FeedError::Venue { .. } => "venue_error",
        }
    }
}
