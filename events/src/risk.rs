//! The RiskSentinel's outputs: its state (equity, drawdown, limits, halts) and the risk
//! events it raises.

use apache_avro::AvroSchema;
use serde::{Deserialize, Serialize};

use crate::event::impl_event;
use crate::primitives::{EventId, EventTime, FixedPoint, Producer};

/// The configured risk limits, in percent of equity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct RiskLimits {
    /// Per-trade risk cap.
    pub max_trade_risk_pct: FixedPoint,
    /// Daily drawdown that halts new trades.
    pub daily_drawdown_pct: FixedPoint,
    /// Largest accepted slippage per fill.
    pub slippage_limit_pct: FixedPoint,
    /// Drawdown that flattens everything and stops.
    pub hard_kill_pct: FixedPoint,
}

/// The RiskSentinel's state (`risk_state`, keyed by portfolio name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct RiskState {
    /// UUIDv7 of the event.
    pub event_id: EventId,
    /// Time of the input that changed it.
    pub event_time: EventTime,
    /// The RiskSentinel instance.
    pub producer: Producer,
    /// Latest equity.
    pub equity: FixedPoint,
    /// Equity at the start of the day.
    pub day_start_equity: FixedPoint,
    /// Intraday drawdown in percent.
    pub drawdown_pct: FixedPoint,
    /// New trades halted.
    pub halted: bool,
    /// Why trading is halted.
    pub halt_reason: Option<String>,
    /// Hard kill fired.
    pub killed: bool,
    /// Current Kelly fraction cap.
    pub kelly_fraction: FixedPoint,
    /// Current per-trade risk cap in quote currency.
    pub max_trade_risk: FixedPoint,
    /// Limits in force.
    pub limits: RiskLimits,
}
impl_event!(RiskState, topic = "risk_state", version = 1, key = |_| "portfolio");

/// What a risk event reports.
///
/// Symbols (Avro's derive allows no docs on variants, so they are here):
/// - `OrderBlocked`: An order was refused by a limit.
/// - `DrawdownHalt`: The daily drawdown limit halted new trades.
/// - `HardKill`: The hard kill flattened everything.
/// - `SlippageBreach`: A fill slipped past the slippage limit.
/// - `KellyClamp`: The Kelly clamp tightened.
/// - `RouteSwitch`: Execution switched route (reject ratio).
/// - `ExposureTrim`: Exposure was trimmed on request.
/// - `HaltReset`: A halt was lifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum RiskEventKind {
    OrderBlocked,
    DrawdownHalt,
    HardKill,
    SlippageBreach,
    KellyClamp,
    RouteSwitch,
    ExposureTrim,
    HaltReset,
}

/// How urgent a risk event is.
///
/// Symbols (Avro's derive allows no docs on variants, so they are here):
/// - `Info`: For the record.
/// - `Warning`: Needs attention.
/// - `Critical`: Trading stopped or money at risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// A risk decision or detection (`risk_events`, keyed by symbol or portfolio).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct RiskEvent {
    /// UUIDv7 of the event.
    pub event_id: EventId,
    /// Time of the input that triggered it.
    pub event_time: EventTime,
    /// The raising agent instance.
    pub producer: Producer,
    /// What happened.
    pub kind: RiskEventKind,
    /// How urgent.
    pub severity: Severity,
    /// Symbol concerned.
    pub symbol: Option<String>,
    /// Order concerned.
    pub order_id: Option<String>,
    /// Observed value.
    pub value: Option<FixedPoint>,
    /// Limit it was checked against.
    pub limit: Option<FixedPoint>,
    /// Explanation.
    pub message: String,
}
impl_event!(RiskEvent, topic = "risk_events", version = 1, key = |e| e.symbol.as_deref().unwrap_or("portfolio"));
