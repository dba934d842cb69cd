//! Logs of an agent process, on stderr: JSON lines (`level, ts, msg, agent`, then context
//! fields such as `order_id`, `symbol`, `trace_id` from the event and its enclosing spans) for
//! collectors, or a human format for terminals.
//!
//! Format: `MAXX_LOG_FORMAT=json|human`, else the config's `service.log_format`; `auto`
//! picks human when stderr is a terminal. Level: `MAXX_LOG`, else `RUST_LOG`, else the
//! config's `service.log_level` — which a hot reload changes when no variable is set.

use std::fmt;
use std::io::IsTerminal as _;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{reload, EnvFilter, Registry};

/// Variable choosing the format.
pub const FORMAT_ENV: &str = "MAXX_LOG_FORMAT";
/// Variable setting the level (takes precedence over `RUST_LOG`).
pub const LEVEL_ENV: &str = "MAXX_LOG";

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Aligned text, coloured on a terminal.
    Human,
}

/// A logging setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// Not json, human or auto.
    #[error("log format {0:?} is not json, human or auto")]
    Format(String),
    /// Not a level or filter directives.
    #[error("log level {value:?}: {reason}")]
    Level {
        /// The value.
        value: String,
        /// What the filter parser said.
        reason: String,
    },
    /// A global logger is already installed.
    #[error("a logger is already installed in this process")]
    AlreadyInstalled,
}

/// The format from the variable (if set) or the config, `auto` resolved by `terminal`.
///
/// # Errors
/// An unknown format name.
pub fn choose_format(env: Option<&str>, config: &str, terminal: bool) -> Result<LogFormat, LogError> {
    let chosen = env.map(str::trim).filter(|v| !v.is_empty()).unwrap_or(config);
    match chosen.to_ascii_lowercase().as_str() {
        "json" => Ok(LogFormat::Json),
        "human" => Ok(LogFormat::Human),
        "auto" => Ok(if terminal { LogFormat::Human } else { LogFormat::Json }),
        _ => Err(LogError::Format(chosen.to_owned())),
    }
}

/// The filter directives: `MAXX_LOG`, else `RUST_LOG`, else the config's level. Returns
/// whether they came from the environment (then reloads leave them alone).
pub fn choose_level(maxx_log: Option<&str>, rust_log: Option<&str>, config: &str) -> (String, bool) {
    match maxx_log.or(rust_log).map(str::trim).filter(|v| !v.is_empty()) {
        Some(env) => (env.to_owned(), true),
        None => (config.to_owned(), false),
    }
}

fn filter(directives: &str) -> Result<EnvFilter, LogError> {
    EnvFilter::try_new(directives).map_err(|e| LogError::Level { value: directives.to_owned(), reason: e.to_string() })
}

/// Changes the level of the installed logger (on config reload).
#[derive(Clone)]
pub struct LogHandle {
    handle: reload::Handle<EnvFilter, Registry>,
    from_env: bool,
}

impl std::fmt::Debug for LogHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogHandle").field("from_env", &self.from_env).finish()
    }
}

impl LogHandle {
    /// Applies the config's level, unless the level was set by an environment variable.
    ///
    /// # Errors
    /// When the directives do not parse.
    pub fn set_config_level(&self, directives: &str) -> Result<(), LogError> {
        if self.from_env {
            return Ok(());
        }
        let new = filter(directives)?;
        self.handle.reload(new).map_err(|e| LogError::Level { value: directives.to_owned(), reason: e.to_string() })
    }
}

/// Installs the process's logger, for `agent`, from the environment and the config's
/// `service.log_level` and `service.log_format`.
///
/// # Errors
/// A bad format or level, or a logger already installed.
pub fn init(agent: &str, config_level: &str, config_format: &str) -> Result<LogHandle, LogError> {
    let terminal = std::io::stderr().is_terminal();
    let format = choose_format(std::env::var(FORMAT_ENV).ok().as_deref(), config_format, terminal)?;
    let (directives, from_env) = choose_level(std::env::var(LEVEL_ENV).ok().as_deref(), std::env::var("RUST_LOG").ok().as_deref(), config_level);
    let (filter_layer, handle) = reload::Layer::new(filter(&directives)?);
    let registry = tracing_subscriber::registry().with(filter_layer);
    let installed = match format {
        LogFormat::Json => registry
            .with(tracing_subscriber::fmt::layer().event_format(JsonLines::new(agent)).fmt_fields(JsonFields).with_writer(std::io::stderr))
            .try_init(),
        LogFormat::Human => registry.with(tracing_subscriber::fmt::layer().with_ansi(terminal).with_writer(std::io::stderr)).try_init(),
    };
    installed.map_err(|_| LogError::AlreadyInstalled)?;
    Ok(LogHandle { handle, from_env })
}

/// The JSON-lines event format.
#[derive(Debug, Clone)]
pub struct JsonLines {
    agent: String,
}

impl JsonLines {
    /// Lines stamped with `agent`.
    pub fn new(agent: &str) -> Self {
        Self { agent: agent.to_owned() }
    }
}

/// Collects fields into a JSON object; `message` becomes `msg`.
struct Collect<'m>(&'m mut Map<String, Value>);

impl Collect<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        let name = if field.name() == "message" { "msg" } else { field.name() };
        self.0.insert(name.to_owned(), value);
    }
}

impl Visit for Collect<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::from(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::from(format!("{value:?}")));
    }
}

/// Span fields stored as a JSON object, so events can merge them into their line.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonFields;

impl<'w> FormatFields<'w> for JsonFields {
    fn format_fields<R: tracing_subscriber::field::RecordFields>(&self, mut writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut map = Map::new();
        fields.record(&mut Collect(&mut map));
        write!(writer, "{}", Value::Object(map))
    }

    fn add_fields(&self, current: &'w mut FormattedFields<Self>, fields: &tracing::span::Record<'_>) -> fmt::Result {
        let mut map = match serde_json::from_str(&current.fields) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        fields.record(&mut Collect(&mut map));
        current.fields = Value::Object(map).to_string();
        Ok(())
    }
}

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let meta = event.metadata();
        let mut line = Map::new();
        line.insert("level".into(), Value::from(meta.level().as_str()));
        line.insert("ts".into(), Value::from(rfc3339_now()));
        line.insert("msg".into(), Value::from(""));
        line.insert("agent".into(), Value::from(self.agent.as_str()));
        // Context from the enclosing spans, outermost first, so inner spans win.
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                if let Some(Ok(Value::Object(fields))) = extensions.get::<FormattedFields<N>>().map(|f| serde_json::from_str::<Value>(&f.fields)) {
                    line.extend(fields);
                }
            }
        }
        event.record(&mut Collect(&mut line));
        line.insert("target".into(), Value::from(meta.target()));
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// The time now as RFC 3339 UTC with microseconds, e.g. `2026-11-25T11:42:34.123456Z`.
pub fn rfc3339_now() -> String {
    let micros = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    rfc3339(micros)
}

/// `micros` since the Unix epoch as RFC 3339 UTC.
pub fn rfc3339(micros: i64) -> String {
    maxx_events::EventTime::from_micros(micros).to_rfc3339()
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("buffer").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_lines_carry_level_time_message_agent_and_context() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer().event_format(JsonLines::new("risk_sentinel")).fmt_fields(JsonFields).with_writer(move || writer.clone()),
        );
        tracing::subscriber::with_default(subscriber, || {
            let outer = tracing::info_span!("batch", trace_id = "4bf92f3577b34da6a3ce929d0e0e4736");
            let _outer = outer.enter();
            let inner = tracing::info_span!("order", order_id = "o-17", symbol = tracing::field::Empty);
            inner.record("symbol", "ETHUSD");
            let _inner = inner.enter();
            tracing::warn!(symbol = "BTCUSD", qty = 3, "order rejected");
        });
        let text = String::from_utf8(buffer.0.lock().expect("buffer").clone()).expect("utf-8");
        let line: Value = serde_json::from_str(text.trim()).expect("one JSON line");
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["msg"], "order rejected");
        assert_eq!(line["agent"], "risk_sentinel");
        assert_eq!(line["order_id"], "o-17", "from the enclosing span");
        assert_eq!(line["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736", "from the outer span");
        assert_eq!(line["symbol"], "BTCUSD", "the event's own field wins over the span's");
        assert_eq!(line["qty"], 3);
        let ts = line["ts"].as_str().expect("ts");
        assert!(ts.len() == 27 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T', "{ts}");
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(rfc3339(951_782_400_000_001), "2000-02-29T00:00:00.000001Z");
        assert_eq!(rfc3339(1_795_606_954_123_456), "2026-11-25T11:42:34.123456Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999999Z");
    }

    #[test]
    fn format_and_level_follow_env_then_config() {
        assert_eq!(choose_format(Some("json"), "human", true), Ok(LogFormat::Json));
        assert_eq!(choose_format(None, "auto", true), Ok(LogFormat::Human));
        assert_eq!(choose_format(None, "auto", false), Ok(LogFormat::Json));
        assert_eq!(choose_format(Some(""), "human", false), Ok(LogFormat::Human));
        assert!(choose_format(Some("xml"), "auto", false).is_err());
        assert_eq!(choose_level(Some("debug"), Some("warn"), "info"), ("debug".into(), true));
        assert_eq!(choose_level(None, Some("warn"), "info"), ("warn".into(), true));
        assert_eq!(choose_level(None, None, "info"), ("info".into(), false));
        assert!(filter("info,maxx_runtime=debug").is_ok());
    }
}
