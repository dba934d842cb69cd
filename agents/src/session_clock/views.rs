//! Read views for `GET /now` (which sessions are open, from the clock's state) and
//! `GET /calendar` (the boundaries of a range, from the configured calendar): pure,
//! serde-serializable.

use maxx_events::{EventTime, Session, SessionEventKind};
use serde::{Deserialize, Serialize};

use super::calendar::{Calendar, CalendarError, OpenSession};
use super::{SessionClockConfig, SessionClockState};
use crate::config::ConfigError;

/// `GET /now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NowView {
    /// The time asked about.
    pub time: EventTime,
    /// How far the clock has been advanced (boundaries after it are not reflected yet).
    pub watermark: Option<EventTime>,
    /// Sessions open at `time` as the clock knows them, in session order.
    pub open: Vec<OpenSession>,
}

/// The sessions of `state` open at `time`: opened at or before it and closing after it.
pub fn now(state: &SessionClockState, time: EventTime) -> NowView {
    let open = state.open.iter().filter(|o| o.start_ts <= time && time < o.end_ts).copied().collect();
    NowView { time, watermark: state.watermark, open }
}

/// `GET /calendar`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarView {
    /// Start of the range (included).
    pub from: EventTime,
    /// End of the range (excluded).
    pub to: EventTime,
    /// Boundaries in the range, in order.
    pub events: Vec<BoundaryView>,
}

/// One boundary as `GET /calendar` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundaryView {
    /// When it happens.
    pub time: EventTime,
    /// The same on the session's wall clock, RFC 3339 with its offset.
    pub local: String,
    /// Which session.
    pub session: Session,
    /// Open or close.
    pub event: SessionEventKind,
    /// Open of its trading day.
    pub start_ts: EventTime,
    /// Close of its trading day.
    pub end_ts: EventTime,
}

/// Why a calendar view could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarViewError {
    /// The configuration does not compile.
    #[error("invalid session_clock configuration: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Config(Vec<ConfigError>),
    /// The range cannot be answered.
    #[error(transparent)]
    Range(#[from] CalendarError),
}

/// The boundaries of `config`'s calendar at or after `from` and before `to`.
///
/// # Errors
/// [`CalendarViewError`].
pub fn calendar(config: &SessionClockConfig, from: EventTime, to: EventTime) -> Result<CalendarView, CalendarViewError> {
    let calendar = Calendar::new(config).map_err(CalendarViewError::Config)?;
    let events = calendar
        .events_between(from, to)?
        .into_iter()
        .map(|b| BoundaryView {
            time: b.time,
            local: calendar.local_time(b.session, b.time).unwrap_or_default(),
            session: b.session,
            event: b.event,
            start_ts: b.start_ts,
            end_ts: b.end_ts,
        })
        .collect();
    Ok(CalendarView { from, to, events })
}
