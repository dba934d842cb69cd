//! Read views of Execution's state for its HTTP routes (`GET /quote`, open orders), numbers
//! as exact decimal text.

use maxx_events::{OrderType, Side};
use serde::Serialize;

use crate::execution::ExecutionState;

/// The latest quote of a symbol as Execution sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuoteView {
    /// Symbol.
    pub symbol: String,
    /// Last price.
    pub last: String,
    /// Best bid, when known.
    pub bid: Option<String>,
    /// Best ask, when known.
    pub ask: Option<String>,
    /// Volume of the latest tick.
    pub volume: String,
    /// Event time of the latest tick, microseconds.
    pub time_micros: i64,
    /// Our net position.
    pub position: String,
    /// Route new orders go to.
    pub route: String,
}

/// One open order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenOrderView {
    /// Order id.
    pub order_id: String,
    /// Symbol.
    pub symbol: String,
    /// Side.
    pub side: Side,
    /// Type.
    pub order_type: OrderType,
    /// Original quantity.
    pub qty: String,
    /// Still open.
    pub remaining: String,
    /// Limit price.
    pub limit_price: Option<String>,
    /// Route.
    pub route: String,
    /// Why it was created.
    pub cause: String,
}

/// The quote of `symbol`, if a tick of it was seen, with the active route.
pub fn quote(state: &ExecutionState, symbol: &str) -> Option<QuoteView> {
    let market = state.markets.get(symbol)?;
    Some(QuoteView {
        symbol: symbol.to_string(),
        last: market.price.to_string(),
        bid: market.bid.map(|p| p.to_string()),
        ask: market.ask.map(|p| p.to_string()),
        volume: market.volume.to_string(),
        time_micros: market.time.as_micros(),
        position: state.positions.get(symbol).copied().unwrap_or_default().to_string(),
        route: state.routes.active.clone(),
    })
}

/// Every open order, by order id.
pub fn open_orders(state: &ExecutionState) -> Vec<OpenOrderView> {
    state
        .open_orders
        .values()
        .map(|o| OpenOrderView {
            order_id: o.order_id.clone(),
            symbol: o.symbol.clone(),
            side: o.side,
            order_type: o.order_type,
            qty: o.qty.to_string(),
            remaining: o.remaining.to_string(),
            limit_price: o.limit_price.map(|p| p.to_string()),
            route: o.route.clone(),
            cause: o.cause.clone(),
        })
        .collect()
}
