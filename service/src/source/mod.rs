//! The process shell of the two *source* agents — MarketData and Sentiment — whose inputs
//! are exchange feeds and news, not topics: the source shell of `maxx_runtime`
//! ([`KafkaSource`]) on the calling thread, and around it the same HTTP control plane as
//! every agent (`/healthz`, `/metrics`, `/state`, `POST /reload` with a bearer token, the
//! agent's own routes) on a small tokio runtime, which also runs the feeds. SIGHUP reloads
//! the configuration; SIGTERM/SIGINT stop (the open transaction is committed, the server
//! closed, the process exits 0).
//!
//! `/healthz` is the shell's (lifecycle, broker reachability, refused reload) plus the
//! source's own [`SourceHealth`] — per-feed staleness for MarketData — in one answer.
//! The agents themselves are in [`market_data`] and [`sentiment`].

pub mod market_data;
pub mod sentiment;

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Json;
use maxx_events::SchemaRegistry;
use maxx_runtime::kafka::source::{KafkaSource, SourceReport};
use maxx_runtime::kafka::Stats;
use maxx_runtime::{KafkaConfig, RuntimeError};
use serde_json::{json, Value};

use crate::auth::Tokens;
use crate::config::ConfigSource;
use crate::http::{router, AgentRoutes, ServiceState};
use crate::metrics::{Identity, KpiSource};
use crate::reload::ConfigStore;
use crate::server::Server;
use crate::run::ServiceError;


/// What a source adds to `/healthz`.
pub trait SourceHealth: Send + Sync {
    /// Why the source is unhealthy (empty: it is not), and its details for the answer
    /// (e.g. `{"feeds": [...]}`), merged into the body.
    fn check(&self) -> (Vec<String>, Value);
}

/// A source agent process, ready to run.
pub struct SourceService {
    source: KafkaSource,
    store: Arc<ConfigStore>,
    identity: Identity,
    tokens: Tokens,
    kpis: Vec<Arc<dyn KpiSource>>,
    signals: bool,
}

impl std::fmt::Debug for SourceService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceService").field("identity", &self.identity).field("source", &self.source).finish()
    }
}

impl SourceService {
    /// The process of source agent `agent` (`market_data` or `sentiment`), with its
    /// configuration from `source` plus the `MAXX__` overrides among `env`.
    ///
    /// # Errors
    /// When the configuration is not valid.
    pub fn new(agent: &str, kafka: KafkaConfig, registry: Arc<dyn SchemaRegistry>, source: ConfigSource, env: Vec<(String, String)>) -> Result<Self, ServiceError> {
        let shell = KafkaSource::new(kafka, registry).publishing_lifecycle();
        let store = Arc::new(ConfigStore::open(source, env, shell.pending_config())?);
        let identity = Identity { agent: agent.to_owned(), instance: shell.config().instance_name(agent) };
        Ok(Self { source: shell, store, identity, tokens: Tokens::default(), kpis: Vec::new(), signals: false })
    }

    /// Registers missing schemas instead of refusing to start (development and tests).
    #[must_use]
    pub fn registering_schemas(mut self) -> Self {
        self.source = self.source.registering_schemas();
        self
    }

    /// The tokens mutating routes accept (none: every mutating request gets 401).
    #[must_use]
    pub fn with_tokens(mut self, tokens: Tokens) -> Self {
        self.tokens = tokens;
        self
    }

    /// Adds a source of KPIs to `/metrics`.
    #[must_use]
    pub fn with_kpis(mut self, source: Arc<dyn KpiSource>) -> Self {
        self.kpis.push(source);
        self
    }

    /// SIGHUP reloads the configuration; SIGTERM and SIGINT stop. For a real process only.
    #[must_use]
    pub fn handling_signals(mut self) -> Self {
        self.signals = true;
        self
    }

    /// The configuration store.
    pub fn config(&self) -> Arc<ConfigStore> {
        Arc::clone(&self.store)
    }

    /// The source shell's counters.
    pub fn stats(&self) -> Arc<Stats> {
        self.source.stats()
    }

    /// Set it to stop the process.
    pub fn shutdown_handle(&self) -> Arc<AtomicBool> {
        self.source.shutdown_handle()
    }

    /// Who this process is.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Serves HTTP on `listener` with the agent's `routes` and `health`, and runs `work` —
    /// which starts the agent's inputs on the runtime it is given and runs the source shell —
    /// on the calling thread until it returns.
    ///
    /// # Errors
    /// When the server cannot start, signal handlers cannot be installed, or the source
    /// shell stops with an error.
    pub fn serve(
        self,
        listener: TcpListener,
        routes: AgentRoutes,
        health: Option<Arc<dyn SourceHealth>>,
        work: impl FnOnce(&tokio::runtime::Handle, &KafkaSource) -> Result<SourceReport, RuntimeError>,
    ) -> Result<SourceReport, ServiceError> {
        let shutdown = self.source.shutdown_handle();
        if self.signals {
            for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
                signal_hook::flag::register(signal, Arc::clone(&shutdown)).map_err(ServiceError::Signals)?;
            }
        }
        let state = ServiceState::new(self.identity.clone(), self.source.stats(), Arc::clone(&self.store), self.tokens, self.kpis, None);
        let app = router(state.clone(), routes).layer(middleware::from_fn_with_state(HealthLayer { state, health }, source_healthz));
        let server = Server::start(listener, app, "maxx-source", self.signals.then(|| Arc::clone(&self.store)))?;
        let result = work(server.handle(), &self.source);
        shutdown.store(true, Ordering::SeqCst);
        let served = server.stop();
        let report = result?;
        served.map(|()| report)
    }
}

/// What `/healthz` of a source reads.
#[derive(Clone)]
struct HealthLayer {
    state: ServiceState,
    health: Option<Arc<dyn SourceHealth>>,
}

/// Answers `GET /healthz` with the shell's report plus the source's; passes the rest on.
async fn source_healthz(State(layer): State<HealthLayer>, request: Request, next: Next) -> Response {
    if request.uri().path() != "/healthz" || request.method() != axum::http::Method::GET {
        return next.run(request).await;
    }
    let report = layer.state.health();
    let (reasons, details) = layer.health.as_ref().map_or_else(|| (Vec::new(), Value::Null), |h| h.check());
    let mut all: Vec<String> = if report.healthy { Vec::new() } else { vec![report.reason.clone()] };
    all.extend(reasons);
    let healthy = all.is_empty();
    let mut body = json!({
        "uptime": report.uptime,
        "lag": report.lag,
        "reason": if healthy { "ok".to_owned() } else { all.join("; ") },
        "state": report.state,
        "config_generation": report.config_generation,
        "healthy": healthy,
    });
    if let (Value::Object(body), Value::Object(details)) = (&mut body, details) {
        body.extend(details);
    }
    let status = if healthy { StatusCode::OK } else { StatusCode::INTERNAL_SERVER_ERROR };
    (status, Json(body)).into_response()
}
