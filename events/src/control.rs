//! Operator commands: what an authorized HTTP call (`POST /sweep`, `/risk/trim`, `/order`, ...)
//! asks an agent to do. The route publishes a [`Command`]; the agent acts on it when it reads
//! it from the log, so a replay performs exactly the same actions in the same place.

use apache_avro::AvroSchema;
use serde::{Deserialize, Serialize};

use crate::event::impl_event;
use crate::primitives::{EventId, EventTime, FixedPoint, Producer};
use crate::trading::{OrderType, Side};

/// What a command asks for.
///
/// Symbols (Avro's derive allows no docs on variants, so they are here):
/// - `Sweep`: Portfolio: move the configured share of realized profit into the lockbox now.
/// - `RiskTrim`: RiskSentinel: reduce exposure by `fraction` (0..1).
/// - `RiskReset`: RiskSentinel: lift a drawdown halt or hard kill before the next session.
/// - `SubmitOrder`: Execution: route a manual order (it still passes the risk gate).
/// - `CancelOrder`: Execution: cancel the open order `order_id`.
/// - `GovernReweight` (v2): MetaGovernor: reweight now — compute, validate by backtest,
///   publish if it passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum CommandKind {
    Sweep,
    RiskTrim,
    RiskReset,
    SubmitOrder,
    CancelOrder,
    GovernReweight,
}

/// An authorized operator command (`commands`, keyed by target agent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct Command {
    /// UUIDv7 of the event.
    pub event_id: EventId,
    /// When the command was accepted by the HTTP route.
    pub event_time: EventTime,
    /// The agent instance whose route accepted it.
    pub producer: Producer,
    /// Agent that must act: portfolio, risk_sentinel, execution or meta_governor.
    pub target: String,
    /// What to do.
    pub kind: CommandKind,
    /// Who asked (the token's name), for audit.
    pub requested_by: String,
    /// Order or symbol the command is about.
    pub symbol: Option<String>,
    /// The order to cancel.
    pub order_id: Option<String>,
    /// Side of a manual order.
    pub side: Option<Side>,
    /// Quantity of a manual order (base units).
    pub qty: Option<FixedPoint>,
    /// Type of a manual order.
    pub order_type: Option<OrderType>,
    /// Limit price of a manual order (quote currency per base unit).
    pub limit_price: Option<FixedPoint>,
    /// Fraction for a trim, 0..1.
    pub fraction: Option<FixedPoint>,
    /// Why, in words.
    pub reason: Option<String>,
}
impl_event!(Command, topic = "commands", version = 2, key = |e| e.target.as_str());
