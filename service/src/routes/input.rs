//! What every agent route shares: reading a JSON request body field by field (a bad field is
//! named in the answer), the committed state, publishing a command, and JSON error answers.
//! Money and quantities travel as decimal strings (numbers are accepted on input and read
//! from their exact decimal text, never through binary floating point).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use maxx_events::{Command, CommandKind, EventId, EventTime, FixedPoint, Producer};
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use crate::auth::Caller;
use crate::http::ServiceState;

/// A refused request or a failure: answered as `{"error": message, "field": field}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// HTTP status.
    pub status: StatusCode,
    /// The request field at fault, if one is.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    /// 422: a well-formed request whose `field` has an unusable value.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self { status: StatusCode::UNPROCESSABLE_ENTITY, field: Some(field.to_owned()), message: message.into() }
    }

    /// 400: a request that cannot be read at all (`field` is `body` or the field's name).
    pub fn malformed(field: &str, message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, field: Some(field.to_owned()), message: message.into() }
    }

    /// Any other status, no field.
    pub fn status(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, field: None, message: message.into() }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = match self.field {
            Some(field) => json!({ "error": self.message, "field": field }),
            None => json!({ "error": self.message }),
        };
        (self.status, Json(body)).into_response()
    }
}

/// A handler's result: a JSON answer or a [`Problem`].
pub type Answer = Result<Response, Problem>;

/// A JSON answer with `status`.
pub fn reply(status: StatusCode, body: Value) -> Answer {
    Ok((status, Json(body)).into_response())
}

/// The request body as a JSON object; an empty body is an empty object.
///
/// # Errors
/// 400 naming `body` when it is not JSON or not an object.
pub fn object(body: &[u8]) -> Result<Map<String, Value>, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Problem::malformed("body", "the body must be a JSON object")),
        Err(e) => Err(Problem::malformed("body", format!("the body is not JSON: {e}"))),
    }
}

/// An optional text field (trimmed; empty counts as absent).
///
/// # Errors
/// 422 when present but not a string.
pub fn text(body: &Map<String, Value>, field: &str) -> Result<Option<String>, Problem> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Some(_) => Err(Problem::invalid(field, format!("{field} must be a string"))),
    }
}

/// A required, non-empty text field.
///
/// # Errors
/// 422 when missing, empty or not a string.
pub fn required_text(body: &Map<String, Value>, field: &str) -> Result<String, Problem> {
    text(body, field)?.ok_or_else(|| Problem::invalid(field, format!("{field} is required")))
}

/// An optional exact decimal: a string (`"0.5"`) or a JSON number read from its decimal text.
///
/// # Errors
/// 422 when present but not a decimal with at most 8 places in range.
pub fn decimal(body: &Map<String, Value>, field: &str) -> Result<Option<FixedPoint>, Problem> {
    let text = match body.get(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(Problem::invalid(field, format!("{field} must be a decimal number or a decimal string"))),
    };
    text.parse::<FixedPoint>().map(Some).map_err(|e| Problem::invalid(field, format!("{field}: {e}")))
}

/// A required exact decimal.
///
/// # Errors
/// 422 when missing or not a decimal.
pub fn required_decimal(body: &Map<String, Value>, field: &str) -> Result<FixedPoint, Problem> {
    decimal(body, field)?.ok_or_else(|| Problem::invalid(field, format!("{field} is required")))
}

/// The agent's state as of its last commit.
///
/// # Errors
/// 503 before the agent's first commit; 500 when the state is not a `T`.
pub fn committed<T: DeserializeOwned>(state: &ServiceState) -> Result<T, Problem> {
    match state.committed_state::<T>() {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(Problem::status(StatusCode::SERVICE_UNAVAILABLE, "the agent has not committed a state yet")),
        Err(e) => Err(Problem::status(StatusCode::INTERNAL_SERVER_ERROR, format!("the committed state cannot be read: {e}"))),
    }
}

/// A command of `kind` for `target` with every optional field empty; the publisher stamps
/// id, time, producer and caller.
pub fn command(target: &str, kind: CommandKind) -> Command {
    Command {
        event_id: EventId::now(),
        event_time: EventTime::from_micros(0),
        producer: Producer { agent: String::new(), version: String::new(), instance: String::new() },
        target: target.to_owned(),
        kind,
        requested_by: String::new(),
        symbol: None,
        order_id: None,
        side: None,
        qty: None,
        order_type: None,
        limit_price: None,
        fraction: None,
        reason: None,
    }
}

/// Publishes `command` for `caller`; the published command (with its id and time).
///
/// # Errors
/// 503 when it could not be published.
pub async fn publish(state: &ServiceState, caller: &Caller, command: Command) -> Result<Command, Problem> {
    state.publish(caller, command).await.map_err(|e| Problem::status(StatusCode::SERVICE_UNAVAILABLE, format!("the command was not published: {e}")))
}

/// The usual 202 answer of a published command, plus `extra` fields.
pub fn queued(command: &Command, extra: Value) -> Answer {
    let mut body = json!({
        "status": "queued",
        "event_id": command.event_id.to_string(),
        "target": command.target,
        "kind": command.kind,
        "requested_by": command.requested_by,
    });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    reply(StatusCode::ACCEPTED, body)
}

/// `value` as decimal text.
pub fn dec(value: FixedPoint) -> String {
    value.to_string()
}

/// The wall clock as an event time (read-only routes only: "now" of the shell, not the agent).
pub fn wall_clock() -> EventTime {
    let micros = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    EventTime::from_micros(micros)
}
