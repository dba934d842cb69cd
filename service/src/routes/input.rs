//! What every agent route shares: reading a JSON request body field by field (a bad field is
//! named in the answer), the committed state, publishing a command, and JSON error answers.
//! Money and quantities travel as decimal strings (numbers are accepted on input and read
//! from their exact decimal text, never through binary floating point: fields are kept as
//! raw JSON).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use maxx_events::{Command, CommandKind, EventId, EventTime, FixedPoint, Producer};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::{json, Value};

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

/// A request body: a JSON object whose fields are kept as their raw JSON text, so a number
/// is read from the exact decimal the client wrote (no binary floating point on the way).
#[derive(Debug, Default)]
pub struct Body {
    fields: BTreeMap<String, Box<RawValue>>,
}

impl Body {
    /// The field's raw JSON text, `None` when absent or `null`.
    fn raw(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(|raw| raw.get().trim()).filter(|raw| *raw != "null")
    }

    /// The field as a JSON value, `None` when absent or `null`.
    pub fn value(&self, field: &str) -> Option<Value> {
        self.raw(field).and_then(|raw| serde_json::from_str(raw).ok())
    }

    /// The field, itself an object, as a body; `None` when absent or `null`.
    ///
    /// # Errors
    /// 422 naming `field` when it is not an object.
    pub fn object(&self, field: &str) -> Result<Option<Body>, Problem> {
        match self.raw(field) {
            None => Ok(None),
            Some(raw) => serde_json::from_str(raw).map(|fields| Some(Body { fields })).map_err(|_| Problem::invalid(field, format!("{field} must be an object"))),
        }
    }
}

/// The request body as a JSON object; an empty body is an empty object.
///
/// # Errors
/// 400 naming `body` when it is not JSON or not an object.
pub fn object(body: &[u8]) -> Result<Body, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Body::default());
    }
    match serde_json::from_slice::<BTreeMap<String, Box<RawValue>>>(body) {
        Ok(fields) => Ok(Body { fields }),
        Err(_) if serde_json::from_slice::<Value>(body).is_ok() => Err(Problem::malformed("body", "the body must be a JSON object")),
        Err(e) => Err(Problem::malformed("body", format!("the body is not JSON: {e}"))),
    }
}

/// An optional text field (trimmed; empty counts as absent).
///
/// # Errors
/// 422 when present but not a string.
pub fn text(body: &Body, field: &str) -> Result<Option<String>, Problem> {
    match body.value(field) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Some(_) => Err(Problem::invalid(field, format!("{field} must be a string"))),
    }
}

/// A required, non-empty text field.
///
/// # Errors
/// 422 when missing, empty or not a string.
pub fn required_text(body: &Body, field: &str) -> Result<String, Problem> {
    text(body, field)?.ok_or_else(|| Problem::invalid(field, format!("{field} is required")))
}

/// An optional exact decimal: a string (`"0.5"`) or a JSON number, read from the decimal
/// text as written (`0.5`; an exponent like `1e-5` is refused).
///
/// # Errors
/// 422 when present but not a decimal with at most 8 places in range.
pub fn decimal(body: &Body, field: &str) -> Result<Option<FixedPoint>, Problem> {
    let text = match (body.raw(field), body.value(field)) {
        (None, _) => return Ok(None),
        (Some(_), Some(Value::String(s))) => s.trim().to_owned(),
        (Some(raw), Some(Value::Number(_))) => raw.to_owned(),
        _ => return Err(Problem::invalid(field, format!("{field} must be a decimal number or a decimal string"))),
    };
    text.parse::<FixedPoint>().map(Some).map_err(|e| Problem::invalid(field, format!("{field}: {e}")))
}

/// A required exact decimal.
///
/// # Errors
/// 422 when missing or not a decimal.
pub fn required_decimal(body: &Body, field: &str) -> Result<FixedPoint, Problem> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn body(text: &str) -> Body {
        object(text.as_bytes()).unwrap_or_else(|p| panic!("{p:?}"))
    }

    #[test]
    fn bodies_are_objects_or_empty() {
        assert!(body("").fields.is_empty());
        assert!(body("  \n").fields.is_empty());
        for bad in [&b"{oops"[..], b"[1]", b"\"text\""] {
            let problem = object(bad).expect_err("refused");
            assert_eq!((problem.status, problem.field.as_deref()), (StatusCode::BAD_REQUEST, Some("body")));
        }
        let nested = body(r#"{"w": {"a": 1.5}, "n": 3}"#);
        assert_eq!(decimal(&nested.object("w").expect("an object").expect("present"), "a"), Ok(Some(FixedPoint::from_raw(150_000_000))));
        assert_eq!(nested.object("n").expect_err("not an object").field.as_deref(), Some("n"));
    }

    #[test]
    fn decimals_come_from_strings_or_the_decimal_text_of_numbers() {
        let b = body(r#"{"a": "0.5", "b": 0.5, "c": 12, "d": "1.123456789", "e": true, "f": null, "g": -0.00000001, "h": 1e-5}"#);
        assert_eq!(decimal(&b, "a"), Ok(Some(FixedPoint::from_raw(50_000_000))));
        assert_eq!(decimal(&b, "b"), Ok(Some(FixedPoint::from_raw(50_000_000))));
        assert_eq!(decimal(&b, "c"), Ok(Some(FixedPoint::from_raw(1_200_000_000))));
        assert_eq!(decimal(&b, "g"), Ok(Some(FixedPoint::from_raw(-1))));
        assert_eq!(decimal(&b, "f"), Ok(None));
        assert_eq!(decimal(&b, "missing"), Ok(None));
        for bad in ["d", "e", "h"] {
            let problem = decimal(&b, bad).expect_err(bad);
            assert_eq!((problem.status, problem.field.as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some(bad)));
        }
        assert_eq!(required_decimal(&b, "missing").map_err(|p| p.field), Err(Some("missing".into())));
    }

    #[test]
    fn texts_are_trimmed_and_empty_means_absent() {
        let b = body(r#"{"a": " BTCUSD ", "b": "  ", "c": 3}"#);
        assert_eq!(text(&b, "a"), Ok(Some("BTCUSD".into())));
        assert_eq!(text(&b, "b"), Ok(None));
        assert_eq!(text(&b, "c").map_err(|p| p.field), Err(Some("c".into())));
        assert_eq!(required_text(&b, "b").map_err(|p| p.field), Err(Some("b".into())));
    }

    proptest! {
        /// Every amount reads back exactly, from its decimal string and from a JSON number
        /// written with that text.
        #[test]
        fn every_amount_reads_back_exactly(raw in any::<i64>()) {
            let value = FixedPoint::from_raw(raw);
            let text = value.to_string();
            let as_string = body(&format!(r#"{{"x": "{text}"}}"#));
            prop_assert_eq!(decimal(&as_string, "x"), Ok(Some(value)));
            let as_number = body(&format!(r#"{{"x": {text}}}"#));
            prop_assert_eq!(decimal(&as_number, "x"), Ok(Some(value)));
        }
    }
}
