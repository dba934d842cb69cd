//! The HTTP control plane of one agent process: `GET /healthz`, `GET /metrics`,
//! `GET /state`, `POST /reload`, and the agent's own routes on the same server.
//!
//! Read-only routes are open and see the agent's state as of its last commit
//! ([`ServiceState::committed_state`]). Mutating routes require `Authorization: Bearer
//! <token>` (see [`crate::auth`]): without a valid one they answer 401 with a JSON error and
//! nothing runs. They change nothing themselves: they publish a command
//! ([`ServiceState::publish`]) that the agent acts on.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use maxx_events::Command;
use maxx_runtime::kafka::Stats;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::auth::{Caller, Tokens};
use crate::commands::{CommandPublisher, PublishError};
use crate::health::{evaluate, HealthBounds, HealthInputs, HealthReport};
use crate::metrics::{self, Identity, KpiSource};
use crate::reload::ConfigStore;

/// What every handler can reach.
#[derive(Clone)]
pub struct ServiceState {
    inner: Arc<Inner>,
}

struct Inner {
    identity: Identity,
    started: Instant,
    stats: Arc<Stats>,
    config: Arc<ConfigStore>,
    tokens: Tokens,
    kpis: Vec<Arc<dyn KpiSource>>,
    commands: Option<CommandPublisher>,
}

impl std::fmt::Debug for ServiceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceState").field("identity", &self.inner.identity).field("tokens", &self.inner.tokens).finish()
    }
}

impl ServiceState {
    /// The state of an agent instance's HTTP server.
    pub fn new(
        identity: Identity,
        stats: Arc<Stats>,
        config: Arc<ConfigStore>,
        tokens: Tokens,
        kpis: Vec<Arc<dyn KpiSource>>,
        commands: Option<CommandPublisher>,
    ) -> Self {
        Self { inner: Arc::new(Inner { identity, started: Instant::now(), stats, config, tokens, kpis, commands }) }
    }

    /// The runtime's counters.
    pub fn stats(&self) -> &Arc<Stats> {
        &self.inner.stats
    }

    /// The configuration store (current configuration, reloads).
    pub fn config(&self) -> &Arc<ConfigStore> {
        &self.inner.config
    }

    /// The agent's state as of its last commit, typed as the agent's `Agent::State`;
    /// `None` before the agent started.
    ///
    /// # Errors
    /// When the state is not a `T`.
    pub fn committed_state<T: DeserializeOwned>(&self) -> Result<Option<T>, serde_json::Error> {
        self.inner.stats.committed_state_as()
    }

    /// Publishes `command` on behalf of `caller` (a mutating route's [`Caller`] extension).
    ///
    /// # Errors
    /// When this process has no command publisher or the broker refuses the command.
    pub async fn publish(&self, caller: &Caller, command: Command) -> Result<Command, PublishError> {
        match &self.inner.commands {
            Some(publisher) => publisher.publish(caller, command).await,
            None => Err(PublishError::Setup("this process publishes no commands".into())),
        }
    }

    /// The health report and whether it is healthy.
    pub fn health(&self) -> HealthReport {
        let stats = &self.inner.stats;
        let config = &self.inner.config;
        let inputs = HealthInputs {
            uptime: self.inner.started.elapsed(),
            lifecycle: stats.lifecycle(),
            lag: stats.lag(),
            last_commit: stats.last_commit_latency(),
            broker_problem: stats.broker_problem(),
            refused_reload: config.refused(),
            config_generation: config.generation(),
            standby: stats.standby(),
        };
        evaluate(&inputs, HealthBounds::from(&config.current().service))
    }
}

/// An agent's own routes, added to the shell's server.
#[derive(Default)]
pub struct AgentRoutes {
    read_only: Router<ServiceState>,
    mutating: Router<ServiceState>,
}

impl std::fmt::Debug for AgentRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AgentRoutes")
    }
}

impl AgentRoutes {
    /// No routes of the agent's own.
    pub fn new() -> Self {
        Self::default()
    }

    /// Open routes (GET): they read [`ServiceState::committed_state`] or the stats.
    #[must_use]
    pub fn read_only(mut self, routes: Router<ServiceState>) -> Self {
        self.read_only = self.read_only.merge(routes);
        self
    }

    /// Routes that ask for a change: behind the bearer token; handlers get the
    /// [`Caller`] as a request extension (`Extension<Caller>`) and publish a command.
    #[must_use]
    pub fn mutating(mut self, routes: Router<ServiceState>) -> Self {
        self.mutating = self.mutating.merge(routes);
        self
    }
}

/// An error answer: `{"error": message}` (plus `problems` when there is a list).
fn error(status: StatusCode, message: &str, problems: Option<Vec<String>>) -> Response {
    let body = match problems {
        Some(problems) => json!({ "error": message, "problems": problems }),
        None => json!({ "error": message }),
    };
    (status, Json(body)).into_response()
}

/// Refuses requests without a valid bearer token (401, nothing runs); passes the caller on.
async fn require_token(State(state): State<ServiceState>, mut request: Request, next: Next) -> Response {
    let header = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match state.inner.tokens.authorize(header) {
        Some(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        None => {
            tracing::warn!(path = %request.uri().path(), "mutating request without a valid bearer token refused");
            let mut response = error(StatusCode::UNAUTHORIZED, "a valid bearer token is required (Authorization: Bearer <token>)", None);
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            response
        }
    }
}

async fn healthz(State(state): State<ServiceState>) -> Response {
    let report = state.health();
    let status = if report.healthy { StatusCode::OK } else { StatusCode::INTERNAL_SERVER_ERROR };
    (status, Json(report)).into_response()
}

async fn metrics_text(State(state): State<ServiceState>) -> Response {
    let inner = &state.inner;
    let text = metrics::render(&metrics::Inputs {
        identity: &inner.identity,
        stats: &inner.stats,
        process: crate::process::read(),
        config_generation: inner.config.generation(),
        reload_refused: inner.config.refused().is_some(),
        kpis: &inner.kpis,
    });
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

async fn committed_state(State(state): State<ServiceState>) -> Response {
    match state.inner.stats.committed_state() {
        Some(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes.to_vec()).into_response(),
        None => error(StatusCode::SERVICE_UNAVAILABLE, "the agent has not started yet", None),
    }
}

/// `POST /reload`: like SIGHUP. 200 `{generation}` when accepted (the agent applies it
/// between two transactions), 422 `{error, problems}` when refused.
async fn reload(State(state): State<ServiceState>) -> Response {
    let store = Arc::clone(&state.inner.config);
    match tokio::task::spawn_blocking(move || store.reload()).await {
        Ok(Ok(accepted)) => (StatusCode::OK, Json(json!({ "status": "accepted", "generation": accepted.generation }))).into_response(),
        Ok(Err(refused)) => error(StatusCode::UNPROCESSABLE_ENTITY, "configuration refused; the previous one stays in force", Some(refused.problems())),
        Err(join) => error(StatusCode::INTERNAL_SERVER_ERROR, &format!("reload failed: {join}"), None),
    }
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such route", None)
}

/// The whole server: the shell's routes and the agent's.
pub fn router(state: ServiceState, routes: AgentRoutes) -> Router {
    let mutating = Router::new()
        .route("/reload", post(reload))
        .merge(routes.mutating)
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/state", get(committed_state))
        .merge(routes.read_only)
        .merge(mutating)
        .fallback(not_found)
        .with_state(state)
}
