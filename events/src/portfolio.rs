//! The Portfolio agent's output: equity, PnL, fees, lockbox and open positions.

use apache_avro::AvroSchema;
use serde::{Deserialize, Serialize};

use crate::event::impl_event;
use crate::primitives::{EventId, EventTime, FixedPoint, Producer};

/// An open position in one symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct Position {
    /// Symbol.
    pub symbol: String,
    /// Signed quantity: positive long, negative short.
    pub qty: FixedPoint,
    /// Average entry price.
    pub avg_price: FixedPoint,
    /// Price the position is marked at.
    pub mark_price: FixedPoint,
    /// Unrealized PnL of the position.
    pub unrealized: FixedPoint,
}

/// Profit and loss of the portfolio (`pnl`, keyed by portfolio name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct Pnl {
    /// UUIDv7 of the event.
    pub event_id: EventId,
    /// Time of the fill or tick that changed it.
    pub event_time: EventTime,
    /// The Portfolio instance.
    pub producer: Producer,
    /// Cash plus marked positions (lockbox excluded).
    pub equity: FixedPoint,
    /// Cash after fees and sweeps.
    pub cash: FixedPoint,
    /// Realized PnL before fees.
    pub realized: FixedPoint,
    /// Unrealized PnL of open positions.
    pub unrealized: FixedPoint,
    /// Total fees paid.
    pub fees: FixedPoint,
    /// Profit swept out of trading equity.
    pub lockbox: FixedPoint,
    /// Open positions sorted by symbol.
    pub positions: Vec<Position>,
}
impl_event!(Pnl, topic = "pnl", version = 1, key = |_| "portfolio");
