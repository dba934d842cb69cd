//! Alpha's routes and KPIs: `GET /signal/{symbol}` (the latest signal with its components and
//! weights, 404 for a symbol without one) and `maxx_alpha_signal_score{symbol}`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use maxx_agents::alpha::{views, AlphaState};
use maxx_runtime::kafka::Stats;
use serde_json::json;

use super::input::{committed, reply, Answer, Problem};
use crate::http::{AgentRoutes, ServiceState};
use crate::metrics::{KpiSource, Sample};

/// The KPI names Alpha exports.
pub const METRICS: &[&str] = &["maxx_alpha_signal_score", "maxx_alpha_signal_confidence"];

/// Alpha's routes (all read-only).
pub fn routes() -> AgentRoutes {
    AgentRoutes::new().read_only(Router::new().route("/signal/{symbol}", get(signal)))
}

async fn signal(State(state): State<ServiceState>, Path(symbol): Path<String>) -> Answer {
    let alpha: AlphaState = committed(&state)?;
    match views::latest_signal(&alpha, &symbol) {
        Some(view) => reply(StatusCode::OK, json!(view)),
        None => Err(Problem { status: StatusCode::NOT_FOUND, field: Some("symbol".into()), message: format!("no signal for {symbol} yet") }),
    }
}

/// The latest score and confidence per symbol, from the committed state.
pub fn kpis(stats: Arc<Stats>) -> Arc<dyn KpiSource> {
    Arc::new(move || {
        let Ok(Some(alpha)) = stats.committed_state_as::<AlphaState>() else { return Vec::new() };
        let mut samples = Vec::new();
        for (symbol, s) in &alpha.symbols {
            if let Some(signal) = &s.last_signal {
                samples.push(Sample::gauge(METRICS[0], "Score of the latest signal (-1..1), by symbol.", signal.score.to_f64()).label("symbol", symbol));
                samples.push(Sample::gauge(METRICS[1], "Confidence of the latest signal (0..1), by symbol.", signal.confidence.to_f64()).label("symbol", symbol));
            }
        }
        samples
    })
}
