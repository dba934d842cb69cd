//! SessionClock: emits London, New York, Tokyo and Sydney opens and closes from a calendar
//! with time zones (DST-correct) and holidays ([`calendar`] states the rules).
//!
//! Singleton. In the embedded runtime and in backtests it is driven by event time: every
//! tick is its clock. On an input at time `now` it emits, in calendar order, every boundary
//! after the latest time it has already been advanced to (its watermark) and at or before
//! `now`, then moves the watermark to `now`. So each boundary is emitted exactly once
//! however the ticks are spaced, and a tick older than the watermark (out of order across
//! symbols) emits nothing. On the very first input it emits only boundaries exactly at
//! `now` and learns from the calendar which sessions are already open. A gap longer than
//! [`MAX_CATCH_UP_DAYS`] is not replayed: only its last [`MAX_CATCH_UP_DAYS`] days are.
//!
//! A live shell drives the same code from a wall clock through [`SessionClock::advance`],
//! or asks the pure [`Calendar`] directly.
//!
//! **Emitted events**: `event_time` is the boundary's own time (the schema's "when the
//! boundary happens"), not the time of the tick that revealed it, and `event_id` is derived
//! from the boundary ([`boundary_id`]): the same boundary has the same id whichever input
//! caused it — a backtest, the live shell, or a replica taking over — so consumers can
//! de-duplicate it. The producer is stamped by the [`Emitter`].

pub mod calendar;
mod config;
pub mod views;

#[cfg(test)]
mod tests;

use maxx_events::{BusEvent, EventId, EventTime, SessionEvent, SessionEventKind};
use serde::{Deserialize, Serialize};

pub use calendar::{Boundary, Calendar, CalendarError, OpenSession};
pub use config::{SessionClockConfig, SessionSpec};

use crate::config::{AgentConfig, ConfigError};
use crate::contract::{Agent, Emitter, Invalid};

/// How far back one input makes the clock catch up, in days.
pub const MAX_CATCH_UP_DAYS: i64 = 366;

/// How far ahead the clock looks for its next boundary, in days.
const LOOKAHEAD_DAYS: i64 = 14;

/// Everything the SessionClock's decisions depend on besides its calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClockState {
    /// Latest time the clock was advanced to: every boundary at or before it has been
    /// emitted. `None` before the first input.
    pub watermark: Option<EventTime>,
    /// The last boundary emitted.
    pub last: Option<Boundary>,
    /// Sessions open at the watermark, in session order.
    pub open: Vec<OpenSession>,
    /// No boundary lies after the watermark and before this time: inputs before it only
    /// move the watermark, without asking the calendar. `None`: not known.
    #[serde(default)]
    pub quiet_until: Option<EventTime>,
}

/// The SessionClock agent.
#[derive(Debug, Clone)]
pub struct SessionClock {
    calendar: Calendar,
    state: SessionClockState,
}

impl SessionClock {
    /// A clock over the calendar of `config`.
    ///
    /// # Errors
    /// The configuration's problems when it does not compile.
    pub fn new(config: &SessionClockConfig) -> Result<Self, Vec<ConfigError>> {
        Ok(Self { calendar: Calendar::new(config)?, state: SessionClockState::default() })
    }

    /// The calendar in use.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// Advances the clock to `out.now()` and emits the boundaries passed (see the module
    /// doc); returns them. On error the state is unchanged and nothing is emitted.
    ///
    /// # Errors
    /// [`CalendarError::OutOfRange`] for a time the calendar cannot represent.
    pub fn advance(&mut self, out: &mut Emitter<'_>) -> Result<Vec<Boundary>, CalendarError> {
        let now = out.now();
        // The fast paths (nearly every input) change at most the watermark: no copy.
        match self.state.watermark {
            Some(watermark) if now <= watermark => return Ok(Vec::new()),
            Some(_) if self.state.quiet_until.is_some_and(|quiet| now < quiet) => {
                self.state.watermark = Some(now);
                return Ok(Vec::new());
            }
            _ => {}
        }
        // A boundary may lie ahead: work on a copy (a few open sessions), kept only on success.
        let mut next = self.state.clone();
        let boundaries = match next.watermark {
            Some(watermark) => {
                let floor = now.as_micros().saturating_sub(MAX_CATCH_UP_DAYS * calendar::DAY_US);
                let from = watermark.as_micros().saturating_add(1).max(floor);
                let boundaries = self.calendar.events_between(EventTime::from_micros(from), after(now))?;
                if from == floor {
                    next.open = self.calendar.open_at(now)?;
                } else {
                    boundaries.iter().for_each(|b| apply(&mut next.open, b));
                }
                boundaries
            }
            None => {
                next.open = self.calendar.open_at(now)?;
                self.calendar.events_between(now, after(now))?
            }
        };
        next.watermark = Some(now);
        next.quiet_until = Some(self.next_boundary_after(now)?);
        if let Some(last) = boundaries.last() {
            next.last = Some(*last);
        }
        for boundary in &boundaries {
            let producer = out.envelope().producer;
            out.emit(SessionEvent {
                event_id: boundary_id(boundary),
                event_time: boundary.time,
                producer,
                session: boundary.session,
                event: boundary.event,
                start_ts: boundary.start_ts,
                end_ts: boundary.end_ts,
            });
        }
        self.state = next;
        Ok(boundaries)
    }
}

impl SessionClock {
    /// The time of the first boundary after `time`, or [`LOOKAHEAD_DAYS`] later when there
    /// is none before then.
    fn next_boundary_after(&self, time: EventTime) -> Result<EventTime, CalendarError> {
        let from = after(time);
        let horizon = EventTime::from_micros(from.as_micros().saturating_add(LOOKAHEAD_DAYS * calendar::DAY_US));
        Ok(self.calendar.events_between(from, horizon)?.first().map_or(horizon, |b| b.time))
    }
}

/// The id of the event announcing `boundary`: derived from the boundary alone (time,
/// session, open/close, trading-day start), so it is the same whoever emits it.
pub fn boundary_id(boundary: &Boundary) -> EventId {
    let kind: &[u8] = match boundary.event {
        SessionEventKind::Open => b"OPEN",
        SessionEventKind::Close => b"CLOSE",
    };
    EventId::derive(
        boundary.time,
        &[<SessionClock as Agent>::NAME.as_bytes(), boundary.session.as_str().as_bytes(), kind, &boundary.start_ts.as_micros().to_be_bytes()],
    )
}

/// One microsecond after `time`: the exclusive end that includes `time`.
fn after(time: EventTime) -> EventTime {
    EventTime::from_micros(time.as_micros().saturating_add(1))
}

/// Updates the open sessions with a boundary.
fn apply(open: &mut Vec<OpenSession>, boundary: &Boundary) {
    open.retain(|o| o.session != boundary.session);
    if boundary.event == SessionEventKind::Open {
        open.push(OpenSession { session: boundary.session, start_ts: boundary.start_ts, end_ts: boundary.end_ts });
        open.sort_by_key(|o| calendar::rank(o.session));
    }
}

impl Agent for SessionClock {
    type State = SessionClockState;
    const NAME: &'static str = "session_clock";
    const INPUTS: &'static [&'static str] = &["ticks"];
    const OUTPUTS: &'static [&'static str] = &["session_events"];

    fn state(&self) -> &SessionClockState {
        &self.state
    }

    fn restore(&mut self, state: SessionClockState) {
        self.state = state;
    }

    fn handle(&mut self, event: &BusEvent, out: &mut Emitter<'_>) -> Result<(), Invalid> {
        if !matches!(event, BusEvent::Tick(_)) {
            return Ok(());
        }
        self.advance(out).map(|_| ()).map_err(|e| Invalid::new(format!("session clock at {}: {e}", out.now().as_micros())))
    }

    /// Takes the new calendar; the open sessions are re-read from it at the watermark, and
    /// boundaries already passed are not re-emitted. A calendar that does not compile (the
    /// shell validates first, so only in error) leaves the old one in use.
    fn reconfigure(&mut self, config: &AgentConfig) {
        let Ok(calendar) = Calendar::new(&config.session_clock) else {
            return;
        };
        if let Some(open) = self.state.watermark.and_then(|w| calendar.open_at(w).ok()) {
            self.state.open = open;
        }
        self.state.quiet_until = None;
        self.calendar = calendar;
    }
}
