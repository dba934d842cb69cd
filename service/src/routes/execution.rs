//! Execution's routes and KPIs. `POST /order` (`{"symbol", "side": BUY|SELL, "qty",
//! "type"?: MARKET|LIMIT, "limit_price"? (LIMIT only), "reason"?}`) publishes SUBMIT_ORDER and
//! answers 202 with the order id the agent will give the order (`manual_order_id`);
//! `POST /cancel` (`{"order_id", "reason"?}`) publishes CANCEL_ORDER; `GET /quote/{symbol}` and
//! `GET /orders` read the committed state. KPIs: open orders (the HPA's metric), acks by
//! status, the rolling reject ratio, net positions.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Router};
use maxx_agents::execution::{ack_status_name, manual_order_id, views, ExecutionState};
use maxx_events::{AckStatus, Command, CommandKind, FixedPoint, OrderType, Side};
use maxx_runtime::kafka::Stats;
use serde_json::json;

use super::input::{command, committed, decimal, object, publish, queued, reply, required_decimal, required_text, text, Answer, Body, Problem};
use crate::auth::Caller;
use crate::http::{AgentRoutes, ServiceState};
use crate::metrics::{KpiSource, Sample};

/// The agent the commands go to.
pub const TARGET: &str = "execution";

/// The KPI names Execution exports.
pub const METRICS: &[&str] = &["maxx_execution_pending_orders", "maxx_execution_order_acks_total", "maxx_execution_reject_ratio", "maxx_execution_position"];

/// Execution's routes.
pub fn routes() -> AgentRoutes {
    AgentRoutes::new()
        .read_only(Router::new().route("/quote/{symbol}", get(quote)).route("/orders", get(orders)))
        .mutating(Router::new().route("/order", post(order)).route("/cancel", post(cancel)))
}

/// A manual order as asked for, checked; the same rules as the agent's (so a request the
/// agent would refuse is refused here, before anything is published).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest {
    /// Symbol.
    pub symbol: String,
    /// Side.
    pub side: Side,
    /// Quantity, > 0.
    pub qty: FixedPoint,
    /// Market or limit.
    pub order_type: OrderType,
    /// Limit price (> 0) of a limit order.
    pub limit_price: Option<FixedPoint>,
    /// Why.
    pub reason: Option<String>,
}

impl OrderRequest {
    /// Checks the parts of a request (`field` names point at the request's fields).
    ///
    /// # Errors
    /// A [`Problem`] naming the first bad field.
    pub fn new(symbol: String, side: Side, qty: FixedPoint, order_type: OrderType, limit_price: Option<FixedPoint>, reason: Option<String>) -> Result<Self, Problem> {
        if symbol.is_empty() || symbol.chars().any(char::is_whitespace) {
            return Err(Problem::invalid("symbol", "symbol must be a non-empty name without spaces"));
        }
        if !qty.is_positive() {
            return Err(Problem::invalid("qty", format!("qty must be above 0, not {qty}")));
        }
        match (order_type, limit_price) {
            (OrderType::Limit, None) => return Err(Problem::invalid("limit_price", "a LIMIT order needs a limit_price")),
            (OrderType::Limit, Some(p)) if !p.is_positive() => return Err(Problem::invalid("limit_price", format!("limit_price must be above 0, not {p}"))),
            (OrderType::Market, Some(_)) => return Err(Problem::invalid("limit_price", "a MARKET order takes no limit_price")),
            _ => {}
        }
        Ok(Self { symbol, side, qty, order_type, limit_price, reason })
    }

    /// The SUBMIT_ORDER command asking for it.
    pub fn command(&self) -> Command {
        Command {
            symbol: Some(self.symbol.clone()),
            side: Some(self.side),
            qty: Some(self.qty),
            order_type: Some(self.order_type),
            limit_price: self.limit_price,
            reason: self.reason.clone(),
            ..command(TARGET, CommandKind::SubmitOrder)
        }
    }
}

/// `BUY` or `SELL`, any case.
///
/// # Errors
/// 422 naming `side`.
pub fn side(text: &str) -> Result<Side, Problem> {
    match text.to_ascii_uppercase().as_str() {
        "BUY" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        _ => Err(Problem::invalid("side", format!("side must be BUY or SELL, not {text:?}"))),
    }
}

/// `MARKET` or `LIMIT`, any case.
///
/// # Errors
/// 422 naming `type`.
pub fn order_type(text: &str) -> Result<OrderType, Problem> {
    match text.to_ascii_uppercase().as_str() {
        "MARKET" => Ok(OrderType::Market),
        "LIMIT" => Ok(OrderType::Limit),
        _ => Err(Problem::invalid("type", format!("type must be MARKET or LIMIT, not {text:?}"))),
    }
}

fn order_request(body: &Body) -> Result<OrderRequest, Problem> {
    let symbol = required_text(body, "symbol")?;
    let side = side(&required_text(body, "side")?)?;
    let qty = required_decimal(body, "qty")?;
    let kind = match text(body, "type")? {
        Some(kind) => order_type(&kind)?,
        None => OrderType::Market,
    };
    let limit_price = decimal(body, "limit_price")?;
    OrderRequest::new(symbol, side, qty, kind, limit_price, text(body, "reason")?)
}

async fn order(State(state): State<ServiceState>, Extension(caller): Extension<Caller>, body: Bytes) -> Answer {
    let request = order_request(&object(&body)?)?;
    let published = publish(&state, &caller, request.command()).await?;
    queued(&published, json!({ "order_id": manual_order_id(&published) }))
}

/// The CANCEL_ORDER command for `order_id`.
pub fn cancel_command(order_id: String, reason: Option<String>) -> Command {
    Command { order_id: Some(order_id), reason, ..command(TARGET, CommandKind::CancelOrder) }
}

async fn cancel(State(state): State<ServiceState>, Extension(caller): Extension<Caller>, body: Bytes) -> Answer {
    let body = object(&body)?;
    let order_id = required_text(&body, "order_id")?;
    let published = publish(&state, &caller, cancel_command(order_id.clone(), text(&body, "reason")?)).await?;
    queued(&published, json!({ "order_id": order_id }))
}

async fn quote(State(state): State<ServiceState>, Path(symbol): Path<String>) -> Answer {
    let execution: ExecutionState = committed(&state)?;
    match views::quote(&execution, &symbol) {
        Some(view) => reply(StatusCode::OK, json!(view)),
        None => Err(Problem { status: StatusCode::NOT_FOUND, field: Some("symbol".into()), message: format!("no tick of {symbol} seen yet") }),
    }
}

async fn orders(State(state): State<ServiceState>) -> Answer {
    let execution: ExecutionState = committed(&state)?;
    reply(StatusCode::OK, json!({ "orders": views::open_orders(&execution) }))
}

/// Open orders, acks by status, the reject ratio of the rolling window, positions.
#[allow(clippy::cast_precision_loss)] // counts as Prometheus floats
pub fn kpis(stats: Arc<Stats>) -> Arc<dyn KpiSource> {
    Arc::new(move || {
        let Ok(Some(execution)) = stats.committed_state_as::<ExecutionState>() else { return Vec::new() };
        let mut samples = vec![Sample::gauge(METRICS[0], "Orders resting at a venue, not yet filled or canceled.", execution.open_orders.len() as f64)];
        for status in [AckStatus::Accepted, AckStatus::Rejected, AckStatus::Canceled] {
            let name = ack_status_name(status);
            let count = execution.ack_counts.get(name).copied().unwrap_or(0);
            samples.push(Sample::counter(METRICS[1], "Order acks published, by status.", count as f64).label("status", name));
        }
        let recent = &execution.routes.recent;
        let rejects = recent.iter().filter(|r| **r).count();
        let ratio = if recent.is_empty() { 0.0 } else { rejects as f64 / recent.len() as f64 };
        samples.push(Sample::gauge(METRICS[2], "Share of venue rejects among the recent acks of the rolling window (0..1).", ratio));
        for (symbol, qty) in &execution.positions {
            samples.push(Sample::gauge(METRICS[3], "Net position from our fills, base units, by symbol.", qty.to_f64()).label("symbol", symbol));
        }
        samples
    })
}
