//! MetaGovernor's routes and KPIs: `GET /govern` (blend in force, attribution, schedule, last
//! validation); `POST /govern/reweight` and `POST /govern/validate` (`{"weights": {momentum,
//! mean_reversion, breakout, sentiment}}`) are authorized and compute with the pure functions
//! (`govern::propose_reweight`, `govern::validate_weights`) on the committed state, answering
//! 200 with the proposal or verdict and `"applied": false`.
//!
//! They do NOT change the live blend: the commands schema (v1) has no governor kinds, so there
//! is nothing the agent could be asked through the log; only the governor's own schedule
//! publishes weights. KPIs `maxx_meta_governor_weight{component}`, attribution totals.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use maxx_agents::meta_governor::govern::{self, Proposal};
use maxx_agents::meta_governor::{views, MetaGovernorState};
use maxx_events::BlendWeights;
use maxx_runtime::kafka::Stats;
use serde_json::json;

use super::input::{committed, object, reply, required_decimal, wall_clock, Answer, Body, Problem};
use crate::http::{AgentRoutes, ServiceState};
use crate::metrics::{KpiSource, Sample};
use crate::reload::ConfigStore;

/// The KPI names the MetaGovernor exports.
pub const METRICS: &[&str] = &["maxx_meta_governor_weight", "maxx_meta_governor_attributed_pnl"];

/// What the answers of the computing routes say about the live blend.
pub const NOT_APPLIED: &str = "computed on the committed state only: the live blend is unchanged (the v1 commands schema has no governor command)";

/// The MetaGovernor's routes.
pub fn routes() -> AgentRoutes {
    AgentRoutes::new()
        .read_only(Router::new().route("/govern", get(governor)))
        .mutating(Router::new().route("/govern/reweight", post(reweight)).route("/govern/validate", post(validate)))
}

async fn governor(State(state): State<ServiceState>) -> Answer {
    let governor: MetaGovernorState = committed(&state)?;
    reply(StatusCode::OK, json!(views::governor(&state.config().current(), &governor)))
}

async fn reweight(State(state): State<ServiceState>) -> Answer {
    let governor: MetaGovernorState = committed(&state)?;
    let proposal = match govern::propose_reweight(&state.config().current(), &governor, wall_clock()) {
        Proposal::Skipped { reason } => json!({ "outcome": "skipped", "reason": reason }),
        Proposal::Validated(validation) => json!({ "outcome": "validated", "validation": views::validation(&validation) }),
    };
    reply(StatusCode::OK, json!({ "applied": false, "note": NOT_APPLIED, "proposal": proposal }))
}

/// The four weights of `body` (under `weights`, or at the top level).
fn weights(body: &Body) -> Result<BlendWeights, Problem> {
    let inner = body.object("weights")?;
    let (weights, prefix) = match &inner {
        Some(inner) => (inner, "weights."),
        None => (body, ""),
    };
    let one = |name: &str| {
        required_decimal(weights, name).map_err(|mut p| {
            p.field = Some(format!("{prefix}{name}"));
            p
        })
    };
    Ok(BlendWeights { momentum: one("momentum")?, mean_reversion: one("mean_reversion")?, breakout: one("breakout")?, sentiment: one("sentiment")? })
}

async fn validate(State(state): State<ServiceState>, body: Bytes) -> Answer {
    let candidate = weights(&object(&body)?)?;
    let governor: MetaGovernorState = committed(&state)?;
    let validation = govern::validate_weights(&state.config().current(), &governor, &candidate, wall_clock());
    reply(StatusCode::OK, json!({ "applied": false, "note": NOT_APPLIED, "validation": views::validation(&validation) }))
}

/// The blend in force per component and the attribution totals.
pub fn kpis(stats: Arc<Stats>, config: Arc<ConfigStore>) -> Arc<dyn KpiSource> {
    Arc::new(move || {
        let Ok(Some(governor)) = stats.committed_state_as::<MetaGovernorState>() else { return Vec::new() };
        let mut samples = Vec::new();
        if let Some(w) = govern::current_weights(&config.current(), &governor) {
            for (component, value) in [("momentum", w.momentum), ("mean_reversion", w.mean_reversion), ("breakout", w.breakout), ("sentiment", w.sentiment)] {
                samples.push(Sample::gauge(METRICS[0], "Weight of each sub-signal in the blend in force.", value.to_f64()).label("component", component));
            }
        }
        let totals = governor.attribution_totals.as_array();
        for (component, value) in ["momentum", "mean_reversion", "breakout", "sentiment"].into_iter().zip(totals) {
            samples.push(Sample::gauge(METRICS[1], "Realized PnL attributed to each sub-signal since the start.", value.to_f64()).label("component", component));
        }
        samples
    })
}
