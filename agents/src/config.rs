//! The schema of `agent_config.yaml` (spec §5): one section per agent, typed, with defaults,
//! unknown keys rejected (`deny_unknown_fields`) and values range-checked by [`Validate`].
//!
//! Each agent takes its own section; the service shell reads the file, applies environment
//! overrides and hot-reloads it. Reading files and the environment is the shell's business:
//! this module only says what a valid configuration is.

use maxx_events::FixedPoint;
use serde::{Deserialize, Serialize};

/// A configuration value that is out of range or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ConfigError {
    /// Dotted path of the offending key, e.g. `risk.daily_drawdown_pct`.
    pub field: String,
    /// What is wrong with it and what is allowed, in words.
    pub problem: String,
}

impl ConfigError {
    /// `field` is wrong because of `problem`.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self { field: field.into(), problem: problem.into() }
    }
}

/// A section (or the whole file) that can check its own values.
pub trait Validate {
    /// Every problem found, each with the dotted path of its key; empty when valid.
    fn problems(&self) -> Vec<ConfigError>;
}

/// `value` must lie in `min..=max`; returns the problem otherwise.
pub fn check_range(field: &str, value: FixedPoint, min: FixedPoint, max: FixedPoint) -> Option<ConfigError> {
    (value < min || value > max).then(|| ConfigError::new(field, format!("{value} is outside {min}..={max}")))
}

/// A percentage in `0..=100`.
pub fn check_percent(field: &str, value: FixedPoint) -> Option<ConfigError> {
    check_range(field, value, FixedPoint::ZERO, FixedPoint::from_raw(100 * FixedPoint::SCALE))
}

/// Serde for [`FixedPoint`] config values written as plain decimals (`0.3`, `5`, `"0.3"`)
/// rather than the raw scaled integer the wire and snapshots use. Use with
/// `#[serde(with = "crate::config::decimal")]`.
pub mod decimal {
    use maxx_events::FixedPoint;
    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    /// Writes the value as a number (its nearest `f64`, which prints as the decimal).
    pub fn serialize<S: Serializer>(value: &FixedPoint, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(value.to_f64())
    }

    /// Reads a number or a decimal string, rounded to 8 decimals.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<FixedPoint, D::Error> {
        struct Decimal;
        impl Visitor<'_> for Decimal {
            type Value = FixedPoint;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a decimal number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FixedPoint, E> {
                FixedPoint::from_int(v).ok_or_else(|| E::custom(format!("{v} is out of range")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FixedPoint, E> {
                i64::try_from(v).ok().and_then(FixedPoint::from_int).ok_or_else(|| E::custom(format!("{v} is out of range")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<FixedPoint, E> {
                FixedPoint::from_f64(v).ok_or_else(|| E::custom(format!("{v} is not a finite number in range")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FixedPoint, E> {
                v.trim().parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Decimal)
    }
}

/// The whole `agent_config.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentConfig {
    /// MarketData.
    pub market_data: MarketDataConfig,
    /// Alpha.
    pub alpha: crate::alpha::AlphaConfig,
    /// RiskSentinel.
    pub risk: crate::risk::RiskConfig,
    /// Execution.
    pub exec: crate::execution::ExecConfig,
    /// Portfolio.
    pub portfolio: crate::portfolio::PortfolioConfig,
    /// Sentiment.
    pub sentiment: crate::sentiment::SentimentConfig,
    /// SessionClock.
    pub session_clock: crate::session_clock::SessionClockConfig,
    /// MetaGovernor.
    pub meta_governor: crate::meta_governor::MetaGovernorConfig,
    /// The service shell around every agent: health bounds, logs, traces.
    pub service: ServiceConfig,
}

impl Validate for AgentConfig {
    fn problems(&self) -> Vec<ConfigError> {
        let mut problems = self.market_data.problems();
        problems.extend(self.alpha.problems());
        problems.extend(self.risk.problems());
        problems.extend(self.exec.problems());
        problems.extend(self.portfolio.problems());
        problems.extend(self.sentiment.problems());
        problems.extend(self.session_clock.problems());
        problems.extend(self.meta_governor.problems());
        problems.extend(self.service.problems());
        problems
    }
}

pub use crate::market_data::MarketDataConfig;

/// `service:` — the shell every agent process has: when `/healthz` turns unhealthy, how it
/// logs, where it sends traces. Environment variables (`MAXX_LOG`, `MAXX_LOG_FORMAT`,
/// `OTEL_EXPORTER_OTLP_ENDPOINT`) take precedence over the log and trace settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceConfig {
    /// Consumer lag (events, summed over the assigned partitions) above which the agent is
    /// unhealthy.
    pub max_lag: u64,
    /// Transaction commit latency (milliseconds, the last commit) above which the agent is
    /// unhealthy.
    pub max_commit_latency_ms: u64,
    /// Log filter: a level (`trace`, `debug`, `info`, `warn`, `error`, `off`) or
    /// `tracing` directives such as `info,maxx_runtime=debug`.
    pub log_level: String,
    /// Log format: `auto` (human on a terminal, JSON lines otherwise), `json` or `human`.
    pub log_format: String,
    /// OTLP/gRPC endpoint for traces, e.g. `http://otel-collector:4317`; none: no export.
    pub otel_endpoint: Option<String>,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self { max_lag: 10_000, max_commit_latency_ms: 5_000, log_level: "info".into(), log_format: "auto".into(), otel_endpoint: None }
    }
}

impl Validate for ServiceConfig {
    fn problems(&self) -> Vec<ConfigError> {
        let mut problems = Vec::new();
        if self.max_lag == 0 {
            problems.push(ConfigError::new("service.max_lag", "0 would make every instance unhealthy; use 1 or more"));
        }
        if !(1..=600_000).contains(&self.max_commit_latency_ms) {
            problems.push(ConfigError::new("service.max_commit_latency_ms", format!("{} is outside 1..=600000", self.max_commit_latency_ms)));
        }
        const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
        let directive_ok = |d: &str| {
            let level = d.rsplit_once('=').map_or(d, |(target, level)| if target.is_empty() { "" } else { level });
            LEVELS.contains(&level.trim().to_ascii_lowercase().as_str())
        };
        if self.log_level.trim().is_empty() || !self.log_level.split(',').all(directive_ok) {
            problems.push(ConfigError::new("service.log_level", format!("{:?} is not a level ({}) or target=level list", self.log_level, LEVELS.join(", "))));
        }
        if !["auto", "json", "human"].contains(&self.log_format.as_str()) {
            problems.push(ConfigError::new("service.log_format", format!("{:?} is not auto, json or human", self.log_format)));
        }
        if let Some(url) = &self.otel_endpoint {
            if !looks_like_url(url) {
                problems.push(ConfigError::new("service.otel_endpoint", format!("{url:?} is not a URL (e.g. http://collector:4317)")));
            }
        }
        problems
    }
}

/// A cron expression of five fields (minute hour day-of-month month day-of-week), each `*`, a
/// number in range, a range `a-b`, a list `a,b` or a step `*/n`.
pub fn check_cron(field: &str, expression: &str) -> Option<ConfigError> {
    const RANGES: [(u32, u32, &str); 5] = [(0, 59, "minute"), (0, 23, "hour"), (1, 31, "day of month"), (1, 12, "month"), (0, 7, "day of week")];
    let parts: Vec<&str> = expression.split_whitespace().collect();
    if parts.len() != 5 {
        return Some(ConfigError::new(field, format!("{expression:?} has {} fields; cron needs 5 (minute hour day month weekday)", parts.len())));
    }
    for (part, (min, max, name)) in parts.iter().zip(RANGES) {
        let ok = part.split(',').all(|item| {
            let (base, step) = match item.split_once('/') {
                Some((base, step)) => (base, Some(step)),
                None => (item, None),
            };
            let step_ok = step.is_none_or(|s| s.parse::<u32>().is_ok_and(|n| n > 0 && n <= max));
            let in_range = |text: &str| text.parse::<u32>().is_ok_and(|n| (min..=max).contains(&n));
            let base_ok = base == "*"
                || match base.split_once('-') {
                    Some((from, to)) => in_range(from) && in_range(to) && from.parse::<u32>().ok() <= to.parse::<u32>().ok(),
                    None => in_range(base),
                };
            step_ok && base_ok
        });
        if !ok {
            return Some(ConfigError::new(field, format!("{expression:?}: {part:?} is not a valid {name} ({min}-{max}, *, a-b, a,b or */n)")));
        }
    }
    None
}

/// `scheme://rest` with a non-empty scheme of letters, digits, `+`, `-` or `.`.
pub fn looks_like_url(text: &str) -> bool {
    text.split_once("://").is_some_and(|(scheme, rest)| {
        !scheme.is_empty() && !rest.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_expressions_are_range_checked() {
        for good in ["10 0 * * *", "5 1 * * *", "*/15 9-17 * * 1-5", "0 0 1,15 * 0"] {
            assert_eq!(check_cron("f", good), None, "{good}");
        }
        for bad in ["10 0 * *", "60 0 * * *", "0 24 * * *", "0 0 0 * *", "*/0 * * * *", "a b c d e", "5-1 * * * *"] {
            assert!(check_cron("f", bad).is_some(), "{bad} should be refused");
        }
    }

    #[test]
    fn service_settings_are_checked() {
        assert!(ServiceConfig::default().problems().is_empty());
        let bad = ServiceConfig {
            max_lag: 0,
            max_commit_latency_ms: 0,
            log_level: "loud".into(),
            log_format: "xml".into(),
            otel_endpoint: Some("collector".into()),
        };
        let fields: Vec<String> = bad.problems().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["service.max_lag", "service.max_commit_latency_ms", "service.log_level", "service.log_format", "service.otel_endpoint"]);
        let directives = ServiceConfig { log_level: "info,maxx_runtime=debug".into(), ..ServiceConfig::default() };
        assert!(directives.problems().is_empty());
    }

    #[test]
    fn urls_need_a_scheme() {
        assert!(looks_like_url("risingwave://sentiment_30m"));
        assert!(looks_like_url("http://127.0.0.1:4317"));
        assert!(!looks_like_url("sentiment_30m"));
        assert!(!looks_like_url("://x"));
    }

    #[test]
    fn percentages_outside_0_to_100_are_refused() {
        let p = |s: &str| s.parse::<FixedPoint>().expect("number");
        assert_eq!(check_percent("risk.x", p("100")), None);
        assert_eq!(check_percent("risk.x", p("0")), None);
        assert!(check_percent("risk.x", p("100.00000001")).is_some());
        assert!(check_percent("risk.x", p("-0.1")).is_some());
    }
}
