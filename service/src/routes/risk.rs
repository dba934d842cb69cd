//! RiskSentinel's routes and KPIs: `GET /risk/state`; `POST /risk/trim` (`{"fraction": "0.5",
//! "symbol"?: "BTCUSD", "reason"?}`, 0 < fraction ≤ 1) publishes RISK_TRIM and
//! `POST /risk/reset` (`{"reason"?}`) publishes RISK_RESET, both for `risk_sentinel`, answered
//! 202 with the command's event id. KPIs: `maxx_risk_sentinel_*` drawdown, halted, killed,
//! Kelly fraction, equity and per-trade cap.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Router};
use maxx_agents::risk::{views, RiskFields, RiskSentinelState};
use maxx_events::{CommandKind, FixedPoint};
use maxx_runtime::kafka::Stats;
use serde_json::{json, Value};

use super::input::{command, committed, dec, object, publish, queued, reply, required_decimal, text, Answer, Problem};
use crate::auth::Caller;
use crate::http::{AgentRoutes, ServiceState};
use crate::metrics::{KpiSource, Sample};

/// The agent the commands go to.
const TARGET: &str = "risk_sentinel";

/// The KPI names the RiskSentinel exports.
pub const METRICS: &[&str] = &[
    "maxx_risk_sentinel_drawdown_pct",
    "maxx_risk_sentinel_halted",
    "maxx_risk_sentinel_killed",
    "maxx_risk_sentinel_kelly_fraction",
    "maxx_risk_sentinel_equity",
    "maxx_risk_sentinel_max_trade_risk",
];

/// The RiskSentinel's routes.
pub fn routes() -> AgentRoutes {
    AgentRoutes::new()
        .read_only(Router::new().route("/risk/state", get(risk_state)))
        .mutating(Router::new().route("/risk/trim", post(trim)).route("/risk/reset", post(reset)))
}

fn fields(risk: &RiskFields) -> Value {
    json!({
        "equity": dec(risk.equity),
        "day_start_equity": dec(risk.day_start_equity),
        "drawdown_pct": dec(risk.drawdown_pct),
        "halted": risk.halted,
        "halt_reason": risk.halt_reason,
        "killed": risk.killed,
        "kelly_fraction": dec(risk.kelly_fraction),
        "max_trade_risk": dec(risk.max_trade_risk),
        "limits": {
            "max_trade_risk_pct": dec(risk.limits.max_trade_risk_pct),
            "daily_drawdown_pct": dec(risk.limits.daily_drawdown_pct),
            "slippage_limit_pct": dec(risk.limits.slippage_limit_pct),
            "hard_kill_pct": dec(risk.limits.hard_kill_pct),
        },
    })
}

async fn risk_state(State(state): State<ServiceState>) -> Answer {
    let sentinel: RiskSentinelState = committed(&state)?;
    let view = views::state(&sentinel);
    let positions: serde_json::Map<String, Value> = view.positions.iter().map(|(s, q)| (s.clone(), Value::String(dec(*q)))).collect();
    reply(
        StatusCode::OK,
        json!({
            "risk": view.risk.as_ref().map(fields),
            "halted_day": view.halted_day,
            "kelly_tightened": view.kelly_tightened,
            "governor_kelly_clamp": view.governor_kelly_clamp.map(dec),
            "positions": positions,
        }),
    )
}

async fn trim(State(state): State<ServiceState>, Extension(caller): Extension<Caller>, body: Bytes) -> Answer {
    let body = object(&body)?;
    let fraction = required_decimal(&body, "fraction")?;
    if !fraction.is_positive() || fraction > FixedPoint::ONE {
        return Err(Problem::invalid("fraction", format!("fraction must be above 0 and at most 1, not {fraction}")));
    }
    let symbol = text(&body, "symbol")?;
    let reason = text(&body, "reason")?;
    let published = publish(&state, &caller, maxx_events::Command { fraction: Some(fraction), symbol: symbol.clone(), reason, ..command(TARGET, CommandKind::RiskTrim) }).await?;
    queued(&published, json!({ "fraction": dec(fraction), "symbol": symbol }))
}

async fn reset(State(state): State<ServiceState>, Extension(caller): Extension<Caller>, body: Bytes) -> Answer {
    let body = object(&body)?;
    let reason = text(&body, "reason")?;
    let published = publish(&state, &caller, maxx_events::Command { reason, ..command(TARGET, CommandKind::RiskReset) }).await?;
    queued(&published, json!({}))
}

/// The published risk state's numbers, from the committed state.
pub fn kpis(stats: Arc<Stats>) -> Arc<dyn KpiSource> {
    Arc::new(move || {
        let Ok(Some(sentinel)) = stats.committed_state_as::<RiskSentinelState>() else { return Vec::new() };
        let Some(risk) = sentinel.published else { return Vec::new() };
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        vec![
            Sample::gauge(METRICS[0], "Intraday drawdown, percent of the day's starting equity.", risk.drawdown_pct.to_f64()),
            Sample::gauge(METRICS[1], "1 while new trades are halted.", flag(risk.halted)),
            Sample::gauge(METRICS[2], "1 after the hard kill, until an authorized reset.", flag(risk.killed)),
            Sample::gauge(METRICS[3], "Kelly fraction Execution applies to position sizes (0..1).", risk.kelly_fraction.to_f64()),
            Sample::gauge(METRICS[4], "Equity the risk state is computed from.", risk.equity.to_f64()),
            Sample::gauge(METRICS[5], "Per-trade risk cap, quote currency.", risk.max_trade_risk.to_f64()),
        ]
    })
}
