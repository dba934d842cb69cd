//! SessionClock's routes and KPIs: `GET /now` (sessions open now as the clock's committed
//! state knows them; "now" is the shell's wall clock — a read-only route, not the agent) and
//! `GET /calendar?from=&to=` (RFC 3339 instants; default: from now, 7 days; at most 366
//! days) from the configuration in force. Times are answered as RFC 3339 UTC text plus
//! microseconds. KPIs `maxx_session_clock_session_open{session}` (each configured session, 0
//! or 1) and `maxx_session_clock_open_sessions`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use maxx_agents::session_clock::{views, SessionClockState};
use maxx_events::{EventTime, Session};
use maxx_runtime::kafka::Stats;
use serde_json::{json, Value};

use super::input::{committed, reply, wall_clock, Answer, Problem};
use crate::http::{AgentRoutes, ServiceState};
use crate::metrics::{KpiSource, Sample};
use crate::reload::ConfigStore;

/// The KPI names the SessionClock exports.
pub const METRICS: &[&str] = &["maxx_session_clock_session_open", "maxx_session_clock_open_sessions"];

/// Default length of `GET /calendar`.
const DEFAULT_DAYS: i64 = 7;
/// Longest range `GET /calendar` answers.
const MAX_DAYS: i64 = 366;
const DAY_MICROS: i64 = 86_400_000_000;

/// The SessionClock's routes (all read-only).
pub fn routes() -> AgentRoutes {
    AgentRoutes::new().read_only(Router::new().route("/now", get(now)).route("/calendar", get(calendar)))
}

/// `time` as RFC 3339 UTC text (empty for a time outside what RFC 3339 can write).
pub fn rfc3339(time: EventTime) -> String {
    jiff::Timestamp::from_microsecond(time.as_micros()).map(|t| t.to_string()).unwrap_or_default()
}

/// An RFC 3339 instant (with its offset) as an event time.
///
/// # Errors
/// 400 naming `field`.
pub fn parse_time(field: &str, text: &str) -> Result<EventTime, Problem> {
    let time: jiff::Timestamp = text.trim().parse().map_err(|e| Problem::malformed(field, format!("{field} must be an RFC 3339 instant like 2026-11-25T08:00:00Z: {e}")))?;
    Ok(EventTime::from_micros(time.as_microsecond()))
}

fn time(time: EventTime) -> Value {
    json!({ "utc": rfc3339(time), "micros": time.as_micros() })
}

async fn now(State(state): State<ServiceState>) -> Answer {
    let clock: SessionClockState = committed(&state)?;
    let view = views::now(&clock, wall_clock());
    let open: Vec<Value> = view.open.iter().map(|o| json!({ "session": o.session, "start": time(o.start_ts), "end": time(o.end_ts) })).collect();
    reply(StatusCode::OK, json!({ "time": time(view.time), "watermark": view.watermark.map(time), "open": open }))
}

async fn calendar(State(state): State<ServiceState>, Query(query): Query<BTreeMap<String, String>>) -> Answer {
    let from = match query.get("from") {
        Some(text) => parse_time("from", text)?,
        None => wall_clock(),
    };
    let to = match query.get("to") {
        Some(text) => parse_time("to", text)?,
        None => EventTime::from_micros(from.as_micros().saturating_add(DEFAULT_DAYS * DAY_MICROS)),
    };
    if to <= from {
        return Err(Problem::invalid("to", "to must be after from"));
    }
    if to.as_micros().saturating_sub(from.as_micros()) > MAX_DAYS * DAY_MICROS {
        return Err(Problem::invalid("to", format!("the range may span at most {MAX_DAYS} days")));
    }
    let config = state.config().current();
    let view = views::calendar(&config.session_clock, from, to).map_err(|e| Problem::invalid("from", e.to_string()))?;
    let events: Vec<Value> = view
        .events
        .iter()
        .map(|b| json!({ "time": time(b.time), "local": b.local, "session": b.session, "event": b.event, "start": time(b.start_ts), "end": time(b.end_ts) }))
        .collect();
    reply(StatusCode::OK, json!({ "from": time(view.from), "to": time(view.to), "events": events }))
}

/// Per configured session, 1 while it is open at the clock's watermark (else 0), and how
/// many are open (from the committed state and the configuration in force).
#[allow(clippy::cast_precision_loss)] // a count as a Prometheus float
pub fn kpis(stats: Arc<Stats>, config: Arc<ConfigStore>) -> Arc<dyn KpiSource> {
    Arc::new(move || {
        let Ok(Some(clock)) = stats.committed_state_as::<SessionClockState>() else { return Vec::new() };
        let current = config.current();
        let sessions = &current.session_clock;
        let configured = [(Session::London, sessions.london.is_some()), (Session::NewYork, sessions.new_york.is_some()), (Session::Tokyo, sessions.tokyo.is_some()), (Session::Sydney, sessions.sydney.is_some())];
        let mut samples: Vec<Sample> = configured
            .iter()
            .filter(|(_, on)| *on)
            .map(|(session, _)| {
                let open = clock.open.iter().any(|o| o.session == *session);
                Sample::gauge(METRICS[0], "1 while the session is open at the clock's watermark, by session.", if open { 1.0 } else { 0.0 }).label("session", session.as_str())
            })
            .collect();
        samples.push(Sample::gauge(METRICS[1], "Sessions open at the clock's watermark.", clock.open.len() as f64));
        samples
    })
}
