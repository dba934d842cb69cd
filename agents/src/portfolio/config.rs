//! `portfolio:` section of `agent_config.yaml`.

use maxx_events::FixedPoint;
use serde::{Deserialize, Serialize};

use crate::config::{check_percent, ConfigError, Validate};

/// `portfolio:` — equity and the lockbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PortfolioConfig {
    /// Cash the portfolio starts with (quote currency).
    #[serde(with = "crate::config::decimal")]
    pub starting_cash: FixedPoint,
    /// Share of realized profit swept into the lockbox, in percent.
    #[serde(with = "crate::config::decimal")]
    pub lockbox_pct: FixedPoint,
}

impl Default for PortfolioConfig {
    fn default() -> Self {
        Self { starting_cash: FixedPoint::from_raw(100_000 * FixedPoint::SCALE), lockbox_pct: FixedPoint::from_raw(20 * FixedPoint::SCALE) }
    }
}

impl Validate for PortfolioConfig {
    fn problems(&self) -> Vec<ConfigError> {
        let mut problems: Vec<ConfigError> = check_percent("portfolio.lockbox_pct", self.lockbox_pct).into_iter().collect();
        if !self.starting_cash.is_positive() {
            problems.push(ConfigError::new("portfolio.starting_cash", format!("{} must be above 0", self.starting_cash)));
        }
        problems
    }
}
