//! Events of the decision chain: signals from Alpha, and the orders, acknowledgements and
//! fills of Execution.

use std::collections::HashMap;

use apache_avro::AvroSchema;
use serde::{Deserialize, Serialize};

use crate::event::impl_event;
use crate::primitives::{EventId, EventTime, FixedPoint, Producer};

/// Direction the blended alpha score points to.
///
/// Symbols (Avro's derive allows no docs on variants, so they are here):
/// - `Buy`: Favour buying.
/// - `Sell`: Favour selling.
/// - `Flat`: Inside the dead band: no trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum SignalSide {
    Buy,
    Sell,
    Flat,
}

/// Score of each alpha sub-signal before weighting, each in [-1, 1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct SignalComponents {
    /// Momentum.
    pub momentum: FixedPoint,
    /// Mean reversion.
    pub mean_reversion: FixedPoint,
    /// Breakout.
    pub breakout: FixedPoint,
    /// Sentiment.
    pub sentiment: FixedPoint,
}

/// Weights of the alpha blend: non-negative, summing to 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct BlendWeights {
    /// Weight of momentum.
    pub momentum: FixedPoint,
    /// Weight of mean reversion.
    pub mean_reversion: FixedPoint,
    /// Weight of breakout.
    pub breakout: FixedPoint,
    /// Weight of sentiment.
    pub sentiment: FixedPoint,
}

/// A blended trading signal (`signals`, keyed by symbol).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct Signal {
    /// UUIDv7 of the event.
    pub event_id: EventId,
    /// Time of the tick that produced it.
    pub event_time: EventTime,
    /// The Alpha instance, whose version the spec requires on every signal.
    pub producer: Producer,
    /// Symbol.
    pub symbol: String,
    /// Blended score in [-1, 1].
    pub score: FixedPoint,
    /// Direction.
    pub side: SignalSide,
    /// Confidence in [0, 1].
    pub confidence: FixedPoint,
    /// Each sub-signal's score.
    pub components: SignalComponents,
    /// The blend weights in force.
    pub weights: BlendWeights,
}
impl_event!(Signal, topic = "signals", version = 1, key = |e| e.symbol.as_str());

/// Direction of an order or fill.
///
/// Symbols (Avro's derive allows no docs on variants, so they are here):
/// - `Buy`: Buy.
/// - `Sell`: Sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum Side {
    Buy,
    Sell,
}

/// How an order executes.
///
/// Symbols (Avro's derive allows no docs on variants, so they are here):
/// - `Market`: Take liquidity at the best available price.
/// - `Limit`: Rest at a limit price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum OrderType {
    Market,
    Limit,
}

/// An order routed to a venue after passing the risk limits (`orders`, keyed by order id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct Order {
    /// UUIDv7 of the event.
    pub event_id: EventId,
    /// Time of the signal that caused it.
    pub event_time: EventTime,
    /// The Execution instance.
    pub producer: Producer,
    /// Deterministic order id.
    pub order_id: String,
    /// Symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// Quantity in base units, > 0.
    pub qty: FixedPoint,
    /// Market or limit.
    pub order_type: OrderType,
    /// Limit price for limit orders.
    pub limit_price: Option<FixedPoint>,
    /// Maker-only.
    pub post_only: bool,
    /// Venue route.
    pub route: String,
    /// The signal that caused it.
    pub signal_id: Option<EventId>,
    /// Annotations for audit.
    #[avro(default = "{}")]
    pub meta: HashMap<String, String>,
}
impl_event!(Order, topic = "orders", version = 1, key = |e| e.order_id.as_str());

/// Outcome of an order request.
///
/// Symbols (Avro's derive allows no docs on variants, so they are here):
/// - `Accepted`: The venue took the order.
/// - `Rejected`: The venue or the risk gate refused it.
/// - `Canceled`: The order was canceled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum AckStatus {
    Accepted,
    Rejected,
    Canceled,
}

/// A venue's answer to an order (`order_acks`, keyed by order id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct OrderAck {
    /// UUIDv7 of the event.
    pub event_id: EventId,
    /// When the venue answered.
    pub event_time: EventTime,
    /// The Execution instance.
    pub producer: Producer,
    /// The order answered.
    pub order_id: String,
    /// Accepted, rejected or canceled.
    pub status: AckStatus,
    /// Route that answered.
    pub route: String,
    /// The venue's id for the order.
    pub venue_order_id: Option<String>,
    /// Why it was rejected or canceled.
    pub reason: Option<String>,
}
impl_event!(OrderAck, topic = "order_acks", version = 1, key = |e| e.order_id.as_str());

/// Whether a fill added or removed liquidity.
///
/// Symbols (Avro's derive allows no docs on variants, so they are here):
/// - `Maker`: Rested on the book.
/// - `Taker`: Crossed the spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum Liquidity {
    Maker,
    Taker,
}

/// An execution of an order (`fills`, keyed by order id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct Fill {
    /// UUIDv7 of the event.
    pub event_id: EventId,
    /// Execution time.
    pub event_time: EventTime,
    /// The Execution instance.
    pub producer: Producer,
    /// Deterministic fill id.
    pub fill_id: String,
    /// The filled order.
    pub order_id: String,
    /// Symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// Execution price.
    pub price: FixedPoint,
    /// Executed quantity, > 0.
    pub qty: FixedPoint,
    /// Fee in quote currency; negative for a rebate.
    pub fee: FixedPoint,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// Venue that executed it.
    pub venue: String,
}
impl_event!(Fill, topic = "fills", version = 1, key = |e| e.order_id.as_str());
