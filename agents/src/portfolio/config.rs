//! `portfolio:` section of `agent_config.yaml`.

use maxx_events::FixedPoint;
use serde::{Deserialize, Serialize};

use crate::config::{check_percent, ConfigError, Validate};

/// Shortest and longest accepted `pnl_interval_ms` (10 ms .. 1 day).
const PNL_INTERVAL_MS: std::ops::RangeInclusive<u64> = 10..=86_400_000;

/// `portfolio:` — equity and the lockbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PortfolioConfig {
    /// Cash the portfolio starts with (quote currency). Read once, when the agent starts
    /// without a snapshot; later changes do not move money.
    #[serde(with = "crate::config::decimal")]
    pub starting_cash: FixedPoint,
    /// Share of realized profit swept into the lockbox, in percent.
    #[serde(with = "crate::config::decimal")]
    pub lockbox_pct: FixedPoint,
    /// A pnl is published at least this often in event time (milliseconds), even when
    /// nothing changed, so that consumers see the portfolio is alive.
    pub pnl_interval_ms: u64,
}

impl Default for PortfolioConfig {
    fn default() -> Self {
        Self {
            starting_cash: FixedPoint::from_raw(100_000 * FixedPoint::SCALE),
            lockbox_pct: FixedPoint::from_raw(20 * FixedPoint::SCALE),
            pnl_interval_ms: 1000,
        }
    }
}

impl Validate for PortfolioConfig {
    fn problems(&self) -> Vec<ConfigError> {
        let mut problems: Vec<ConfigError> = check_percent("portfolio.lockbox_pct", self.lockbox_pct).into_iter().collect();
        if !self.starting_cash.is_positive() {
            problems.push(ConfigError::new("portfolio.starting_cash", format!("{} must be above 0", self.starting_cash)));
        }
        if !PNL_INTERVAL_MS.contains(&self.pnl_interval_ms) {
            problems.push(ConfigError::new(
                "portfolio.pnl_interval_ms",
                format!("{} is outside {}..={}", self.pnl_interval_ms, PNL_INTERVAL_MS.start(), PNL_INTERVAL_MS.end()),
            ));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_out_of_range_values_are_named() {
        assert_eq!(PortfolioConfig::default().problems(), vec![]);
        let bad = PortfolioConfig { starting_cash: FixedPoint::ZERO, lockbox_pct: FixedPoint::from_raw(101 * FixedPoint::SCALE), pnl_interval_ms: 5 };
        let fields: Vec<String> = bad.problems().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["portfolio.lockbox_pct", "portfolio.starting_cash", "portfolio.pnl_interval_ms"]);
    }
}
