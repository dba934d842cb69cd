//! Reading `agent_config.yaml`: the file (YAML, into `maxx_agents::config::AgentConfig`),
//! then environment overrides `MAXX__<SECTION>__<KEY>=value`, then validation — every problem
//! listed, none silently fixed.
//!
//! Overrides name a key that exists in the schema (`MAXX__RISK__DAILY_DRAWDOWN_PCT=2.5`,
//! `MAXX__SERVICE__MAX_LAG=500`; deeper keys add segments); names are case-insensitive. The
//! value is read as a YAML scalar or flow collection (`true`, `0.3`, `[binance, oanda]`),
//! except for keys whose value is text, which take it verbatim.

use std::path::{Path, PathBuf};

use maxx_agents::config::{AgentConfig, ConfigError, Validate};
use serde_json::Value;

/// Where containers mount the file.
pub const DEFAULT_PATH: &str = "/config/agent_config.yaml";

/// Prefix of the environment variables that override keys of the file.
pub const ENV_PREFIX: &str = "MAXX__";

/// Which file to read, and whether it was asked for explicitly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSource {
    /// The file.
    pub path: PathBuf,
    /// Named by `--config` or `MAXX_CONFIG`: a missing file is an error. The default path
    /// may be missing, which means all defaults.
    pub explicit: bool,
}

impl ConfigSource {
    /// `path` when one was given, else [`DEFAULT_PATH`].
    pub fn new(path: Option<PathBuf>) -> Self {
        match path {
            Some(path) => Self { path, explicit: true },
            None => Self { path: PathBuf::from(DEFAULT_PATH), explicit: false },
        }
    }
}

/// Why a configuration was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// What the operating system said.
        reason: String,
    },
    /// The file is not YAML of the schema (syntax, unknown key, wrong type).
    #[error("{path}: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// What the parser said, with the position when it knows it.
        reason: String,
    },
    /// An override names no key of the schema.
    #[error("{var}: the configuration has no key {key}")]
    UnknownOverride {
        /// The variable.
        var: String,
        /// The dotted key it names.
        key: String,
    },
    /// An override's value does not fit its key.
    #[error("{var}={value}: {reason}")]
    BadOverride {
        /// The variable.
        var: String,
        /// Its value.
        value: String,
        /// Why it does not fit.
        reason: String,
    },
    /// Values out of range or malformed.
    #[error("{} invalid value(s): {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<ConfigError>),
}

impl LoadError {
    /// Every problem, one per entry (for an HTTP body or a list on the terminal).
    pub fn problems(&self) -> Vec<String> {
        match self {
            Self::Invalid(problems) => problems.iter().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        }
    }
}

/// The effective configuration: `source` (or defaults), then the `MAXX__` variables among
/// `env`, then validation.
///
/// # Errors
/// [`LoadError`] — the first I/O, syntax or override problem, or every invalid value.
pub fn load(source: &ConfigSource, env: &[(String, String)]) -> Result<AgentConfig, LoadError> {
    let text = match std::fs::read_to_string(&source.path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !source.explicit => String::new(),
        Err(e) => return Err(LoadError::Read { path: source.path.display().to_string(), reason: e.to_string() }),
    };
    let config = parse(&source.path, &text, env)?;
    let problems = config.problems();
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(LoadError::Invalid(problems))
    }
}

/// Parses YAML `text` (read from `path`) and applies the overrides among `env`, without
/// validating the values.
///
/// # Errors
/// [`LoadError::Parse`], [`LoadError::UnknownOverride`] or [`LoadError::BadOverride`].
pub fn parse(path: &Path, text: &str, env: &[(String, String)]) -> Result<AgentConfig, LoadError> {
    let parse_error = |reason: String| LoadError::Parse { path: path.display().to_string(), reason };
    let blank = text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    // Typed first: the parser's errors then carry the line and the key.
    let typed: AgentConfig = if blank { AgentConfig::default() } else { serde_saphyr::from_str(text).map_err(|e| parse_error(e.to_string()))? };
    let mut overrides: Vec<&(String, String)> = env.iter().filter(|(k, _)| k.starts_with(ENV_PREFIX)).collect();
    if overrides.is_empty() {
        return Ok(typed);
    }
    overrides.sort();
    let mut tree = serde_json::to_value(&typed).map_err(|e| parse_error(e.to_string()))?;
    let mut config = typed;
    for (var, value) in overrides {
        let keys: Vec<String> = var[ENV_PREFIX.len()..].split("__").map(str::to_ascii_lowercase).collect();
        let key = keys.join(".");
        if keys.len() < 2 || keys.iter().any(String::is_empty) {
            return Err(LoadError::UnknownOverride { var: var.clone(), key });
        }
        let Some(slot) = keys.iter().try_fold(&mut tree, |node, k| node.as_object_mut()?.get_mut(k)) else {
            return Err(LoadError::UnknownOverride { var: var.clone(), key });
        };
        *slot = override_value(slot, value);
        config = serde_json::from_value(tree.clone())
            .map_err(|e| LoadError::BadOverride { var: var.clone(), value: value.clone(), reason: e.to_string() })?;
    }
    Ok(config)
}

/// The value of an override for a key whose current value is `current`.
fn override_value(current: &Value, text: &str) -> Value {
    if current.is_string() {
        return Value::String(text.to_owned());
    }
    match serde_saphyr::from_str::<Value>(text) {
        Ok(Value::Null) if !text.trim().is_empty() && !["null", "~"].contains(&text.trim()) => Value::String(text.to_owned()),
        Ok(value) => value,
        Err(_) => Value::String(text.to_owned()),
    }
}

/// The configuration as YAML (what `maxx config check` prints).
///
/// # Errors
/// When it cannot be serialized (a defect of the schema types).
pub fn to_yaml(config: &AgentConfig) -> Result<String, LoadError> {
    serde_saphyr::to_string(config).map_err(|e| LoadError::Parse { path: "(effective configuration)".into(), reason: e.to_string() })
}

/// The process's environment as pairs, for [`load`].
pub fn process_env() -> Vec<(String, String)> {
    std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Feeds that need no credentials, so files are valid without secrets.
    pub(crate) const FEEDS: &str = "market_data:\n  feeds: [binance]\n";

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn parse_text(text: &str, vars: &[(&str, &str)]) -> Result<AgentConfig, LoadError> {
        parse(Path::new("agent_config.yaml"), text, &env(vars))
    }

    #[test]
    fn an_empty_file_is_all_defaults() {
        assert_eq!(parse_text("", &[]), Ok(AgentConfig::default()));
        assert_eq!(parse_text("# nothing yet\n\n", &[]), Ok(AgentConfig::default()));
    }

    #[test]
    fn the_file_sets_values_and_keeps_defaults_for_the_rest() {
        let config = parse_text("service:\n  max_lag: 42\n  log_format: json\n", &[]).expect("parses");
        assert_eq!((config.service.max_lag, config.service.log_format.as_str()), (42, "json"));
        assert_eq!(config.service.max_commit_latency_ms, AgentConfig::default().service.max_commit_latency_ms);
        assert_eq!(config.market_data, AgentConfig::default().market_data);
    }

    #[test]
    fn unknown_keys_and_wrong_types_in_the_file_are_refused() {
        let unknown = parse_text("service:\n  max_lagg: 500\n", &[]).expect_err("typo");
        assert!(matches!(&unknown, LoadError::Parse { reason, .. } if reason.contains("max_lagg")), "{unknown}");
        let section = parse_text("marketdata: {}\n", &[]).expect_err("unknown section");
        assert!(matches!(section, LoadError::Parse { .. }));
        let typed = parse_text("service:\n  max_lag: lots\n", &[]).expect_err("not a number");
        assert!(matches!(typed, LoadError::Parse { .. }));
    }

    #[test]
    fn environment_overrides_take_precedence_over_the_file() {
        let config = parse_text(
            "service:\n  max_lag: 500\n",
            &[
                ("MAXX__SERVICE__MAX_LAG", "750"),
                ("MAXX__market_data__feeds", "[binance, coinbase]"),
                ("MAXX__META_GOVERNOR__RETRAIN_CRON", "*/5 * * * *"),
                ("MAXX__META_GOVERNOR__ENABLE_RL", "false"),
                ("MAXX__SENTIMENT__SCORE_FEED", "risingwave://scores"),
                ("MAXX_BOOTSTRAP", "ignored:9092"),
            ],
        )
        .expect("overrides apply");
        assert_eq!(config.service.max_lag, 750);
        assert_eq!(config.market_data.feeds, ["binance", "coinbase"]);
        assert_eq!(config.meta_governor.retrain_cron, "*/5 * * * *");
        assert!(!config.meta_governor.enable_rl);
        assert_eq!(config.sentiment.score_feed.as_deref(), Some("risingwave://scores"));
    }

    #[test]
    fn overrides_of_unknown_keys_or_with_bad_values_are_typed_errors() {
        assert_eq!(
            parse_text("", &[("MAXX__SERVICE__MAX", "1")]),
            Err(LoadError::UnknownOverride { var: "MAXX__SERVICE__MAX".into(), key: "service.max".into() })
        );
        assert!(matches!(parse_text("", &[("MAXX__NOPE__X", "1")]), Err(LoadError::UnknownOverride { .. })));
        assert!(matches!(parse_text("", &[("MAXX__SERVICE", "1")]), Err(LoadError::UnknownOverride { .. })));
        assert!(matches!(parse_text("", &[("MAXX__SERVICE__MAX_LAG__DEEPER", "1")]), Err(LoadError::UnknownOverride { .. })));
        let bad = parse_text("", &[("MAXX__SERVICE__MAX_LAG", "many")]).expect_err("not a number");
        assert!(matches!(&bad, LoadError::BadOverride { var, value, .. } if var == "MAXX__SERVICE__MAX_LAG" && value == "many"), "{bad}");
    }

    #[test]
    fn every_invalid_value_is_listed() {
        let dir = std::env::temp_dir().join(format!("maxx-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("invalid.yaml");
        std::fs::write(&path, format!("{FEEDS}service:\n  max_lag: 0\n  max_commit_latency_ms: 0\n  log_format: xml\n")).expect("write");
        let source = ConfigSource { path: path.clone(), explicit: true };
        let error = load(&source, &[]).expect_err("invalid");
        let problems = error.problems();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("service.max_commit_latency_ms")));
        assert!(problems.iter().any(|p| p.starts_with("service.max_lag")));
        assert!(problems.iter().any(|p| p.starts_with("service.log_format")));
        // The environment can repair what the file got wrong, and the result is valid.
        let repaired = load(
            &source,
            &env(&[("MAXX__SERVICE__MAX_COMMIT_LATENCY_MS", "100"), ("MAXX__SERVICE__MAX_LAG", "5"), ("MAXX__SERVICE__LOG_FORMAT", "json")]),
        )
        .expect("valid");
        assert_eq!(repaired.service.max_lag, 5);
        std::fs::remove_file(&path).expect("clean up");
    }

    #[test]
    fn a_missing_default_file_means_defaults_but_a_missing_named_file_is_an_error() {
        let missing = std::env::temp_dir().join("maxx-config-test-does-not-exist.yaml");
        let empty = std::env::temp_dir().join(format!("maxx-config-test-empty-{}.yaml", std::process::id()));
        std::fs::write(&empty, "").expect("write");
        // The defaults, validated like any file.
        assert_eq!(load(&ConfigSource { path: missing.clone(), explicit: false }, &[]), load(&ConfigSource { path: empty.clone(), explicit: true }, &[]));
        std::fs::remove_file(&empty).expect("clean up");
        assert!(matches!(load(&ConfigSource { path: missing, explicit: true }, &[]), Err(LoadError::Read { .. })));
    }

    #[test]
    fn the_printed_yaml_reads_back_as_the_same_configuration() {
        let config = parse_text("service:\n  max_lag: 321\n", &[("MAXX__SERVICE__OTEL_ENDPOINT", "http://collector:4317")]).expect("parses");
        let yaml = to_yaml(&config).expect("prints");
        assert_eq!(parse_text(&yaml, &[]).expect("reads back"), config);
    }
}
