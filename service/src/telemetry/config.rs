//! What tracing needs to know: on or off, where the OTLP/gRPC collector is, how long an
//! export may take and how many spans may wait for one — from code or from the standard
//! OpenTelemetry environment variables.

use std::time::Duration;

use super::TelemetryError;

/// The collector address when nothing else is said (the spec's `:4317`, on this host).
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:4317";

/// How spans of an agent process are exported.
///
/// Defaults: on, [`DEFAULT_ENDPOINT`], a 3 s export timeout, at most 2,048 spans queued
/// (more are dropped, never waited for), batches of up to 512 sent every second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// Export spans at all. Off: no tracer provider is installed, spans cost next to nothing
    /// and record nothing, and outputs carry their input's `traceparent` unchanged.
    pub enabled: bool,
    /// The OTLP/gRPC collector, e.g. `http://otel-collector:4317` (`http` only: the exporter
    /// is built without TLS).
    pub endpoint: String,
    /// The `service.name` resource attribute, e.g. `maxx-alpha`.
    pub service_name: String,
    /// The `service.instance.id` resource attribute, e.g. `alpha-0`, when known.
    pub service_instance: Option<String>,
    /// Longest one export (with its retries) may take; the exporting thread gives up after.
    pub export_timeout: Duration,
    /// Most finished spans waiting for export; past it, new spans are dropped.
    pub max_queue_size: usize,
    /// Most spans sent in one export.
    pub max_export_batch_size: usize,
    /// How often the queue is exported.
    pub scheduled_delay: Duration,
}

impl TelemetryConfig {
    /// The defaults, with `service_name` as the `service.name` resource attribute.
    pub fn new(service_name: impl Into<String>) -> Self {
        Self {
            enabled: true,
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            service_name: service_name.into(),
            service_instance: None,
            export_timeout: Duration::from_secs(3),
            max_queue_size: 2_048,
            max_export_batch_size: 512,
            scheduled_delay: Duration::from_secs(1),
        }
    }

    /// Tracing off: [`init`](super::init) installs nothing.
    pub fn disabled(service_name: impl Into<String>) -> Self {
        Self { enabled: false, ..Self::new(service_name) }
    }

    /// The defaults, overridden by the process environment; see [`TelemetryConfig::from_vars`].
    ///
    /// # Errors
    /// When a variable is set to a value that does not parse.
    pub fn from_env(service_name: impl Into<String>) -> Result<Self, TelemetryError> {
        Self::from_vars(service_name, |name| std::env::var(name).ok())
    }

    /// The defaults, overridden by these variables as `var` reports them (empty counts as
    /// unset):
    ///
    /// | variable | effect |
    /// | --- | --- |
    /// | `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` | tracing off |
    /// | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` | collector |
    /// | `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT` (ms) | export timeout |
    /// | `OTEL_SERVICE_NAME` | `service.name` |
    /// | `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, `OTEL_BSP_SCHEDULE_DELAY` (ms) | queue and batching |
    ///
    /// # Errors
    /// When a variable is set to a value that does not parse (a typo should not silently
    /// turn tracing into something else).
    pub fn from_vars(service_name: impl Into<String>, var: impl Fn(&str) -> Option<String>) -> Result<Self, TelemetryError> {
        let var = |name: &str| var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut config = Self::new(service_name);
        if let Some(disabled) = var("OTEL_SDK_DISABLED") {
            config.enabled = !parse_bool("OTEL_SDK_DISABLED", &disabled)?;
        }
        if let Some(exporter) = var("OTEL_TRACES_EXPORTER") {
            match exporter.as_str() {
                "none" => config.enabled = false,
                "otlp" => {}
                other => return Err(TelemetryError::Config(format!("OTEL_TRACES_EXPORTER={other}: only otlp and none are supported"))),
            }
        }
        if let Some(endpoint) = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT")) {
            config.endpoint = endpoint;
        }
        for name in ["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"] {
            if let Some(ms) = var(name) {
                config.export_timeout = Duration::from_millis(parse_number(name, &ms)?);
                break;
            }
        }
        if let Some(name) = var("OTEL_SERVICE_NAME") {
            config.service_name = name;
        }
        if let Some(size) = var("OTEL_BSP_MAX_QUEUE_SIZE") {
            config.max_queue_size = usize::try_from(parse_number("OTEL_BSP_MAX_QUEUE_SIZE", &size)?).unwrap_or(usize::MAX);
        }
        if let Some(size) = var("OTEL_BSP_MAX_EXPORT_BATCH_SIZE") {
            config.max_export_batch_size = usize::try_from(parse_number("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", &size)?).unwrap_or(usize::MAX);
        }
        if let Some(ms) = var("OTEL_BSP_SCHEDULE_DELAY") {
            config.scheduled_delay = Duration::from_millis(parse_number("OTEL_BSP_SCHEDULE_DELAY", &ms)?);
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks the values: an `http://` endpoint with a host, sizes and durations above zero.
    ///
    /// # Errors
    /// Which value is wrong, and why.
    pub fn validate(&self) -> Result<(), TelemetryError> {
        if !self.enabled {
            return Ok(());
        }
        let Some(rest) = self.endpoint.strip_prefix("http://") else {
            return Err(TelemetryError::Config(format!(
                "endpoint {:?}: must be http://host:port (the OTLP exporter is built without TLS)",
                self.endpoint
            )));
        };
        if rest.is_empty() || rest.starts_with('/') || rest.starts_with(':') {
            return Err(TelemetryError::Config(format!("endpoint {:?}: no host", self.endpoint)));
        }
        if self.max_queue_size == 0 || self.max_export_batch_size == 0 {
            return Err(TelemetryError::Config("queue and batch sizes must be above zero".into()));
        }
        if self.export_timeout.is_zero() || self.scheduled_delay.is_zero() {
            return Err(TelemetryError::Config("export timeout and schedule delay must be above zero".into()));
        }
        Ok(())
    }
}

fn parse_bool(name: &str, value: &str) -> Result<bool, TelemetryError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(TelemetryError::Config(format!("{name}={value}: expected true or false"))),
    }
}

fn parse_number(name: &str, value: &str) -> Result<u64, TelemetryError> {
    value.parse().map_err(|_| TelemetryError::Config(format!("{name}={value}: expected a whole number")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> Result<TelemetryConfig, TelemetryError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        TelemetryConfig::from_vars("maxx-alpha", |name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_point_at_the_local_collector() {
        let config = from(&[]).expect("defaults");
        assert_eq!(config, TelemetryConfig::new("maxx-alpha"));
        assert!(config.enabled);
        assert_eq!(config.endpoint, "http://127.0.0.1:4317");
    }

    #[test]
    fn the_environment_overrides_the_defaults() {
        let config = from(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4317"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4317"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "900"),
            ("OTEL_SERVICE_NAME", "custom"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "10"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "5"),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ])
        .expect("valid");
        assert_eq!(config.endpoint, "http://traces:4317", "the traces variable wins");
        assert_eq!(config.export_timeout, Duration::from_millis(900));
        assert_eq!(config.service_name, "custom");
        assert_eq!((config.max_queue_size, config.max_export_batch_size), (10, 5));
        assert_eq!(config.scheduled_delay, Duration::from_millis(50));
        assert_eq!(from(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4317")]).expect("valid").endpoint, "http://generic:4317");
    }

    #[test]
    fn tracing_can_be_turned_off() {
        assert!(!from(&[("OTEL_SDK_DISABLED", "true")]).expect("valid").enabled);
        assert!(from(&[("OTEL_SDK_DISABLED", "false")]).expect("valid").enabled);
        assert!(!from(&[("OTEL_TRACES_EXPORTER", "none")]).expect("valid").enabled);
        assert!(!from(&[("OTEL_TRACES_EXPORTER", "none"), ("OTEL_EXPORTER_OTLP_ENDPOINT", "nonsense")]).expect("off: not checked").enabled);
    }

    #[test]
    fn bad_values_are_refused_with_the_variable_named() {
        for (vars, named) in [
            (vec![("OTEL_SDK_DISABLED", "maybe")], "OTEL_SDK_DISABLED"),
            (vec![("OTEL_TRACES_EXPORTER", "zipkin")], "OTEL_TRACES_EXPORTER"),
            (vec![("OTEL_EXPORTER_OTLP_TIMEOUT", "2s")], "OTEL_EXPORTER_OTLP_TIMEOUT"),
            (vec![("OTEL_BSP_MAX_QUEUE_SIZE", "-1")], "OTEL_BSP_MAX_QUEUE_SIZE"),
            (vec![("OTEL_EXPORTER_OTLP_ENDPOINT", "https://secure:4317")], "https://secure:4317"),
            (vec![("OTEL_EXPORTER_OTLP_ENDPOINT", "http://:4317")], "no host"),
            (vec![("OTEL_BSP_MAX_QUEUE_SIZE", "0")], "above zero"),
            (vec![("OTEL_BSP_SCHEDULE_DELAY", "0")], "above zero"),
        ] {
            let error = from(&vars).expect_err("refused").to_string();
            assert!(error.contains(named), "{vars:?}: {error}");
        }
    }
}
