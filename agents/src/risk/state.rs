//! The RiskSentinel's state: what it remembers between inputs (equity, day start, halt and
//! kill flags, Kelly tightening, governor clamp, last mids, net positions) and the risk
//! fields it derives from them and publishes as `risk_state`.

use std::collections::BTreeMap;

use maxx_events::{EventId, EventTime, FixedPoint, Producer, RiskLimits, RiskState};
use serde::{Deserialize, Serialize};

use super::config::RiskConfig;
use super::rules;
use crate::portfolio::recent::RecentIds;

/// Everything the RiskSentinel's decisions depend on; snapshotted as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RiskSentinelState {
    /// Equity of the latest pnl; `None` before the first one.
    pub equity: Option<FixedPoint>,
    /// UTC day (days since the epoch) `day_start_equity` belongs to.
    pub day: Option<i64>,
    /// Equity at the first pnl of `day`, or at the last reset.
    pub day_start_equity: FixedPoint,
    /// New trades halted (daily drawdown, or hard kill).
    pub halted: bool,
    /// Why trading is halted.
    pub halt_reason: Option<String>,
    /// UTC day the halt started: it lifts at the first session open of a later day.
    pub halted_day: Option<i64>,
    /// Hard kill fired: only a reset lifts it.
    pub killed: bool,
    /// The intraday drawdown passed `kelly_clamp_drawdown_pct` today.
    pub kelly_tightened: bool,
    /// Latest Kelly cap ordered by the MetaGovernor.
    pub governor_kelly_clamp: Option<FixedPoint>,
    /// Last tick mid (or price, without both quotes) per symbol: the slippage reference.
    pub mids: BTreeMap<String, FixedPoint>,
    /// Last tick price per symbol: the reference price of a market order's notional, as
    /// Execution prices it.
    pub last_prices: BTreeMap<String, FixedPoint>,
    /// Net position per symbol from the fills seen (to tell reducing orders apart).
    pub positions: BTreeMap<String, FixedPoint>,
    /// Orders already judged (fills of these no longer need holding back).
    pub judged_orders: RecentIds,
    /// Signed quantity of fills whose order has not been seen on `orders` yet (the two
    /// topics are read independently): an order is judged against the position *before*
    /// its own fills.
    pub fills_ahead_of_order: BTreeMap<String, FixedPoint>,
    /// The fields last published on `risk_state`; `None` before the first pnl.
    pub published: Option<RiskFields>,
}

/// The content of a `risk_state` event, without its envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskFields {
    /// Latest equity.
    pub equity: FixedPoint,
    /// Equity at the start of the day (or at the last reset).
    pub day_start_equity: FixedPoint,
    /// Intraday drawdown in percent (≥ 0, rounded).
    pub drawdown_pct: FixedPoint,
    /// New trades halted.
    pub halted: bool,
    /// Why.
    pub halt_reason: Option<String>,
    /// Hard kill fired.
    pub killed: bool,
    /// Position size multiplier Execution applies (0..1).
    pub kelly_fraction: FixedPoint,
    /// Per-trade cap in quote currency.
    pub max_trade_risk: FixedPoint,
    /// Limits in force.
    pub limits: RiskLimits,
}

impl RiskFields {
    /// The `risk_state` event carrying these fields.
    pub fn to_event(&self, event_id: EventId, event_time: EventTime, producer: Producer) -> RiskState {
        RiskState {
            event_id,
            event_time,
            producer,
            equity: self.equity,
            day_start_equity: self.day_start_equity,
            drawdown_pct: self.drawdown_pct,
            halted: self.halted,
            halt_reason: self.halt_reason.clone(),
            killed: self.killed,
            kelly_fraction: self.kelly_fraction,
            max_trade_risk: self.max_trade_risk,
            limits: self.limits,
        }
    }
}

impl RiskSentinelState {
    /// The Kelly fraction in force: the configured one, the tighter one once today's
    /// drawdown passed its threshold, capped by the governor's clamp.
    pub fn kelly_fraction(&self, config: &RiskConfig) -> FixedPoint {
        let base = if self.kelly_tightened { config.kelly_fraction_after_drawdown } else { config.kelly_fraction };
        self.governor_kelly_clamp.map_or(base, |clamp| base.min(clamp))
    }

    /// The risk fields as of now; `None` before the first pnl.
    pub fn fields(&self, config: &RiskConfig) -> Option<RiskFields> {
        let equity = self.equity?;
        Some(RiskFields {
            equity,
            day_start_equity: self.day_start_equity,
            drawdown_pct: rules::drawdown_pct(self.day_start_equity, equity),
            halted: self.halted,
            halt_reason: self.halt_reason.clone(),
            killed: self.killed,
            kelly_fraction: self.kelly_fraction(config),
            max_trade_risk: rules::max_trade_risk(equity, config.max_trade_risk_pct),
            limits: config.limits(),
        })
    }
}
