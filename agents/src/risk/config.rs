//! `risk:` section of `agent_config.yaml`.

use maxx_events::{FixedPoint, RiskLimits};
use serde::{Deserialize, Serialize};

use crate::config::{check_percent, check_range, ConfigError, Validate};

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
    /// Kelly fraction (position size multiplier, `0..=1`) in normal conditions.
    #[serde(with = "crate::config::decimal")]
    pub kelly_fraction: FixedPoint,
    /// Tighter Kelly fraction for the rest of the day once the drawdown passes
    /// `kelly_clamp_drawdown_pct`; at most `kelly_fraction`.
    #[serde(with = "crate::config::decimal")]
    pub kelly_fraction_after_drawdown: FixedPoint,
    /// Intraday drawdown past which the tighter Kelly fraction applies, in percent.
    #[serde(with = "crate::config::decimal")]
    pub kelly_clamp_drawdown_pct: FixedPoint,
}

impl RiskConfig {
    /// The limits as published in every risk state.
    pub fn limits(&self) -> RiskLimits {
        RiskLimits {
            max_trade_risk_pct: self.max_trade_risk_pct,
            daily_drawdown_pct: self.daily_drawdown_pct,
            slippage_limit_pct: self.slippage_limit_pct,
            hard_kill_pct: self.hard_kill_pct,
        }
    }
}

impl Default for RiskConfig {
    fn default() -> Self {
        let hundredths = |raw_hundredths: i64| FixedPoint::from_raw(raw_hundredths * FixedPoint::SCALE / 100);
        Self {
            max_trade_risk_pct: hundredths(30),
            daily_drawdown_pct: hundredths(500),
            slippage_limit_pct: hundredths(20),
            hard_kill_pct: hundredths(700),
            kelly_fraction: hundredths(50),
            kelly_fraction_after_drawdown: hundredths(25),
            kelly_clamp_drawdown_pct: hundredths(250),
        }
    }
}

impl Validate for RiskConfig {
    fn problems(&self) -> Vec<ConfigError> {
        let fraction = |field: &str, value| check_range(field, value, FixedPoint::ZERO, FixedPoint::ONE);
        let mut problems: Vec<ConfigError> = [
            check_percent("risk.max_trade_risk_pct", self.max_trade_risk_pct),
            check_percent("risk.daily_drawdown_pct", self.daily_drawdown_pct),
            check_percent("risk.slippage_limit_pct", self.slippage_limit_pct),
            check_percent("risk.hard_kill_pct", self.hard_kill_pct),
            fraction("risk.kelly_fraction", self.kelly_fraction),
            fraction("risk.kelly_fraction_after_drawdown", self.kelly_fraction_after_drawdown),
            check_percent("risk.kelly_clamp_drawdown_pct", self.kelly_clamp_drawdown_pct),
        ]
        .into_iter()
        .flatten()
        .collect();
        if self.hard_kill_pct < self.daily_drawdown_pct {
            problems.push(ConfigError::new(
                "risk.hard_kill_pct",
                format!("{} is below daily_drawdown_pct {}: the kill must not come before the halt", self.hard_kill_pct, self.daily_drawdown_pct),
            ));
        }
        if self.kelly_fraction_after_drawdown > self.kelly_fraction {
            problems.push(ConfigError::new(
                "risk.kelly_fraction_after_drawdown",
                format!("{} is above kelly_fraction {}: after a drawdown the clamp must tighten", self.kelly_fraction_after_drawdown, self.kelly_fraction),
            ));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(text: &str) -> FixedPoint {
        text.parse().expect("a number")
    }

    #[test]
    fn defaults_are_valid_and_each_problem_names_its_field() {
        assert_eq!(RiskConfig::default().problems(), vec![]);
        let bad = RiskConfig { kelly_fraction: fp("1.5"), kelly_clamp_drawdown_pct: fp("-1"), ..RiskConfig::default() };
        let fields: Vec<String> = bad.problems().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["risk.kelly_fraction", "risk.kelly_clamp_drawdown_pct"]);
    }

    #[test]
    fn the_kill_may_not_come_before_the_halt_and_the_clamp_must_tighten() {
        let equal = RiskConfig { hard_kill_pct: fp("5"), ..RiskConfig::default() };
        assert_eq!(equal.problems(), vec![], "a kill at the halt threshold is allowed");
        let early = RiskConfig { hard_kill_pct: fp("4.99"), ..RiskConfig::default() };
        assert_eq!(early.problems().len(), 1);
        assert_eq!(early.problems()[0].field, "risk.hard_kill_pct");
        let loose = RiskConfig { kelly_fraction_after_drawdown: fp("0.6"), ..RiskConfig::default() };
        assert_eq!(loose.problems()[0].field, "risk.kelly_fraction_after_drawdown");
    }

    #[test]
    fn settings_read_from_yaml_style_decimals_and_unknown_keys_are_refused() {
        let config: RiskConfig = serde_json::from_str(r#"{"kelly_fraction": 0.4, "kelly_clamp_drawdown_pct": "3"}"#).expect("parses");
        assert_eq!((config.kelly_fraction, config.kelly_clamp_drawdown_pct), (fp("0.4"), fp("3")));
        assert!(serde_json::from_str::<RiskConfig>(r#"{"kelly": 0.4}"#).is_err());
    }
}
