//! `risk:` section of `agent_config.yaml`.

use maxx_events::FixedPoint;
use serde::{Deserialize, Serialize};

use crate::config::{check_percent, ConfigError, Validate};

/// `risk:` — the limits every order passes. Percentages are of equity, `0..=100`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskConfig {
    /// Largest risk one trade may take, in percent of equity.
    #[serde(with = "crate::config::decimal")]
    pub max_trade_risk_pct: FixedPoint,
    /// Intraday drawdown past which all new trades halt, in percent of the day's start equity.
    #[serde(with = "crate::config::decimal")]
    pub daily_drawdown_pct: FixedPoint,
    /// Largest slippage of a fill from its reference price, in percent.
    #[serde(with = "crate::config::decimal")]
    pub slippage_limit_pct: FixedPoint,
    /// Drawdown at which positions are flattened and trading stops, in percent.
    #[serde(with = "crate::config::decimal")]
    pub hard_kill_pct: FixedPoint,
}

impl Default for RiskConfig {
    fn default() -> Self {
        let pct = |raw_hundredths: i64| FixedPoint::from_raw(raw_hundredths * FixedPoint::SCALE / 100);
        Self { max_trade_risk_pct: pct(30), daily_drawdown_pct: pct(500), slippage_limit_pct: pct(20), hard_kill_pct: pct(700) }
    }
}

impl Validate for RiskConfig {
    fn problems(&self) -> Vec<ConfigError> {
        [
            check_percent("risk.max_trade_risk_pct", self.max_trade_risk_pct),
            check_percent("risk.daily_drawdown_pct", self.daily_drawdown_pct),
            check_percent("risk.slippage_limit_pct", self.slippage_limit_pct),
            check_percent("risk.hard_kill_pct", self.hard_kill_pct),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}
