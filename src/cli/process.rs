//! What every agent process sets up around its work, agents and sources alike: logs (JSON or
//! human, the level following config reloads), trace export, and the bearer tokens of the
//! mutating routes.

use std::sync::Arc;

use anyhow::Context as _;
use maxx_service::auth::Tokens;
use maxx_service::logs;
use maxx_service::reload::ConfigStore;
use maxx_service::telemetry::{self, TelemetryConfig, TelemetryGuard};

/// Keeps trace export alive for the process; dropping it flushes.
pub(super) struct Observed {
    /// The trace exporter, when traces are exported.
    pub(super) tracing: Option<TelemetryGuard>,
    /// The tokens mutating routes accept.
    pub(super) tokens: Tokens,
}

/// Sets up logs, traces and tokens for the agent `name` (instance `instance`) whose
/// configuration is in `store`.
///
/// # Errors
/// A log, tracing or token configuration that cannot be used.
pub(super) fn observe(name: &str, instance: &str, store: &Arc<ConfigStore>) -> anyhow::Result<Observed> {
    let config = store.current();
    let log = logs::init(name, &config.service.log_level, &config.service.log_format).context("setting up logs")?;
    store.on_reload(move |config| {
        if let Err(error) = log.set_config_level(&config.service.log_level) {
            tracing::warn!(%error, "log level of the reloaded configuration not applied");
        }
    });
    let otel_endpoint = config.service.otel_endpoint.clone();
    let tracing_config = TelemetryConfig::from_vars(format!("maxx-{name}"), |var| {
        let value = std::env::var(var).ok().filter(|v| !v.is_empty());
        if var == "OTEL_EXPORTER_OTLP_ENDPOINT" { value.or_else(|| otel_endpoint.clone()) } else { value }
    })
    .context("tracing configuration (OTEL_* variables)")?
    .with_instance(instance.to_owned());
    // Tracing never stops an agent: without it, spans are no-ops.
    let tracing = telemetry::init(&tracing_config).map_err(|error| tracing::warn!(%error, "traces are not exported")).ok();
    let tokens = Tokens::from_env().context("MAXX_TOKEN_FILE / MAXX_API_TOKEN")?;
    if tokens.is_empty() {
        tracing::warn!("no bearer token configured (MAXX_TOKEN_FILE, MAXX_API_TOKEN): mutating routes refuse every request");
    }
    Ok(Observed { tracing, tokens })
}
