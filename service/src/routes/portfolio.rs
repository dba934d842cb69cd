//! Portfolio's routes and KPIs: `GET /pnl` (equity, cash, realized, unrealized, fees,
//! positions), `GET /balance` (trading equity, lockbox, total, unswept profit), `POST /sweep`
//! (`{"reason"?}`: a SWEEP command; the Portfolio moves the configured share of unswept profit
//! into the lockbox when it handles it). KPIs `maxx_portfolio_*`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Router};
use maxx_agents::portfolio::{views, PortfolioState};
use maxx_events::{Command, CommandKind};
use maxx_runtime::kafka::Stats;
use serde_json::json;

use super::input::{command, committed, dec, object, publish, queued, reply, text, Answer, Problem};
use crate::auth::Caller;
use crate::http::{AgentRoutes, ServiceState};
use crate::metrics::{KpiSource, Sample};

/// The KPI names the Portfolio exports.
pub const METRICS: &[&str] = &[
    "maxx_portfolio_equity",
    "maxx_portfolio_cash",
    "maxx_portfolio_realized_pnl",
    "maxx_portfolio_unrealized_pnl",
    "maxx_portfolio_fees",
    "maxx_portfolio_lockbox",
    "maxx_portfolio_open_positions",
];

/// The Portfolio's routes.
pub fn routes() -> AgentRoutes {
    AgentRoutes::new().read_only(Router::new().route("/pnl", get(pnl)).route("/balance", get(balance))).mutating(Router::new().route("/sweep", post(sweep)))
}

fn overflow(e: impl std::fmt::Display) -> Problem {
    Problem::status(StatusCode::INTERNAL_SERVER_ERROR, format!("the positions cannot be valued: {e}"))
}

async fn pnl(State(state): State<ServiceState>) -> Answer {
    let portfolio: PortfolioState = committed(&state)?;
    let view = views::pnl(&portfolio).map_err(overflow)?;
    let positions: Vec<_> = view
        .positions
        .iter()
        .map(|p| json!({ "symbol": p.symbol, "qty": dec(p.qty), "avg_price": dec(p.avg_price), "mark_price": dec(p.mark_price), "unrealized": dec(p.unrealized) }))
        .collect();
    reply(
        StatusCode::OK,
        json!({
            "equity": dec(view.equity),
            "cash": dec(view.cash),
            "realized": dec(view.realized),
            "unrealized": dec(view.unrealized),
            "fees": dec(view.fees),
            "positions": positions,
        }),
    )
}

async fn balance(State(state): State<ServiceState>) -> Answer {
    let portfolio: PortfolioState = committed(&state)?;
    let view = views::balance(&portfolio).map_err(overflow)?;
    reply(
        StatusCode::OK,
        json!({
            "trading_equity": dec(view.trading_equity),
            "lockbox": dec(view.lockbox),
            "total": dec(view.total),
            "unswept_profit": dec(view.unswept_profit),
        }),
    )
}

async fn sweep(State(state): State<ServiceState>, Extension(caller): Extension<Caller>, body: Bytes) -> Answer {
    let body = object(&body)?;
    let reason = text(&body, "reason")?;
    let published = publish(&state, &caller, Command { reason, ..command("portfolio", CommandKind::Sweep) }).await?;
    queued(&published, json!({}))
}

/// Equity and its parts, the lockbox and the open positions, from the committed state.
#[allow(clippy::cast_precision_loss)] // a count as a Prometheus float
pub fn kpis(stats: Arc<Stats>) -> Arc<dyn KpiSource> {
    Arc::new(move || {
        let Ok(Some(portfolio)) = stats.committed_state_as::<PortfolioState>() else { return Vec::new() };
        let Ok(view) = views::pnl(&portfolio) else { return Vec::new() };
        vec![
            Sample::gauge(METRICS[0], "Trading equity: cash plus marked positions (lockbox excluded).", view.equity.to_f64()),
            Sample::gauge(METRICS[1], "Cash after trades, fees and sweeps.", view.cash.to_f64()),
            Sample::gauge(METRICS[2], "Realized PnL before fees, since the start.", view.realized.to_f64()),
            Sample::gauge(METRICS[3], "Unrealized PnL of the open positions.", view.unrealized.to_f64()),
            Sample::gauge(METRICS[4], "Fees paid since the start (rebates subtract).", view.fees.to_f64()),
            Sample::gauge(METRICS[5], "Profit swept out of trading equity.", portfolio.lockbox.to_f64()),
            Sample::gauge(METRICS[6], "Open positions.", view.positions.len() as f64),
        ]
    })
}
