//! MetaGovernor's routes and KPIs: `GET /govern` (blend in force, attribution, schedule, last
//! validation and reweight); `POST /govern/reweight` (authorized) publishes a
//! `GOVERN_REWEIGHT` command — the governor reweights when it reads it, the same step as its
//! schedule's, validated by backtest before anything is published — and answers 202 with the
//! command's id and a preview computed on the committed state; `POST /govern/validate`
//! (authorized, `{"weights": {momentum, mean_reversion, breakout, sentiment}}`) only computes
//! the verdict on the committed state (`govern::validate_weights`) and changes nothing.
//! KPIs `maxx_meta_governor_weight{component}`, attribution totals.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use maxx_agents::meta_governor::govern::{self, Proposal};
use maxx_agents::meta_governor::{views, MetaGovernorState};
use maxx_events::{BlendWeights, Command, CommandKind};
use maxx_runtime::kafka::Stats;
use serde_json::json;

use super::input::{command, committed, object, publish, queued, reply, required_decimal, text, wall_clock, Answer, Body, Problem};
use crate::auth::Caller;
use crate::http::{AgentRoutes, ServiceState};
use crate::metrics::{KpiSource, Sample};
use crate::reload::ConfigStore;

/// The KPI names the MetaGovernor exports.
pub const METRICS: &[&str] = &["maxx_meta_governor_weight", "maxx_meta_governor_attributed_pnl"];

/// What `POST /govern/validate` says about the live blend.
pub const NOT_APPLIED: &str = "computed on the committed state only: the live blend is unchanged";

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

async fn reweight(State(state): State<ServiceState>, Extension(caller): Extension<Caller>, body: Bytes) -> Answer {
    let reason = text(&object(&body)?, "reason")?;
    let governor: MetaGovernorState = committed(&state)?;
    let preview = match govern::propose_reweight(&state.config().current(), &governor, wall_clock()) {
        Proposal::Skipped { reason } => json!({ "outcome": "skipped", "reason": reason }),
        Proposal::Validated(validation) => json!({ "outcome": "validated", "validation": views::validation(&validation) }),
    };
    let published = publish(&state, &caller, Command { reason, ..command("meta_governor", CommandKind::GovernReweight) }).await?;
    queued(&published, json!({ "preview": preview }))
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
