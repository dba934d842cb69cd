//! `meta_governor:` section of `agent_config.yaml`: the reweight schedule, the learning
//! rule's rate, step bound and floor, the validation backtest's window and margin, and the
//! Kelly clamp ordered after a drawdown.

use maxx_events::FixedPoint;
use serde::{Deserialize, Serialize};

use crate::config::{check_cron, check_percent, check_range, ConfigError, Validate};

/// Largest accepted `validation_ticks`.
const MAX_VALIDATION_TICKS: usize = 100_000;

/// `meta_governor:` — reweighting of the alpha blend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetaGovernorConfig {
    /// Learn and publish new weights; off keeps the configured blend (`alpha.weights`).
    pub enable_rl: bool,
    /// Reserved for refitting an offline model (cron, five fields, UTC); validated but unused
    /// in this build: the online rule runs on `reweight_cron`.
    pub retrain_cron: String,
    /// When the governor reweights the blend (cron, five fields, UTC, in event time): the
    /// learning step, the validation backtest and, if it passes, the publication.
    pub reweight_cron: String,
    /// η of the update `wᵢ ← wᵢ × (1 + η × rᵢ)`, in `(0, 1]` (so no weight turns negative).
    #[serde(with = "crate::config::decimal")]
    pub learning_rate: FixedPoint,
    /// Largest change of any one weight per reweight, in `(0, 1]`.
    #[serde(with = "crate::config::decimal")]
    pub max_step: FixedPoint,
    /// Floor every learned weight is pulled to (by mixing with the uniform blend), in
    /// `0..=0.25`, so that a sub-signal that lost for a while can still earn weight back.
    #[serde(with = "crate::config::decimal")]
    pub min_weight: FixedPoint,
    /// Ticks (all symbols, newest) kept for the validation backtest.
    pub validation_ticks: usize,
    /// Fewer ticks than this in the window: no candidate is validated (nor published).
    pub min_validation_ticks: usize,
    /// A candidate may end the backtest at most this much (percent of the starting equity)
    /// below the current blend and still be published.
    #[serde(with = "crate::config::decimal")]
    pub validation_margin_pct: FixedPoint,
    /// Kelly fraction cap ordered for the rest of the UTC day after an intraday drawdown
    /// strictly past `risk.daily_drawdown_pct`, in `0..=1`.
    #[serde(with = "crate::config::decimal")]
    pub kelly_clamp: FixedPoint,
}

impl Default for MetaGovernorConfig {
    fn default() -> Self {
        let hundredths = |n: i64| FixedPoint::from_raw(n * FixedPoint::SCALE / 100);
        Self {
            enable_rl: true,
            retrain_cron: "5 1 * * *".into(),
            reweight_cron: "10 0 * * *".into(),
            learning_rate: hundredths(50),
            max_step: hundredths(10),
            min_weight: hundredths(2),
            validation_ticks: 1_000,
            min_validation_ticks: 100,
            validation_margin_pct: hundredths(10),
            kelly_clamp: hundredths(25),
        }
    }
}

impl Validate for MetaGovernorConfig {
    fn problems(&self) -> Vec<ConfigError> {
        let tiny = FixedPoint::from_raw(1);
        let quarter = FixedPoint::from_raw(FixedPoint::SCALE / 4);
        let mut problems: Vec<ConfigError> = [
            check_cron("meta_governor.retrain_cron", &self.retrain_cron),
            check_cron("meta_governor.reweight_cron", &self.reweight_cron),
            check_range("meta_governor.learning_rate", self.learning_rate, tiny, FixedPoint::ONE),
            check_range("meta_governor.max_step", self.max_step, tiny, FixedPoint::ONE),
            check_range("meta_governor.min_weight", self.min_weight, FixedPoint::ZERO, quarter),
            check_percent("meta_governor.validation_margin_pct", self.validation_margin_pct),
            check_range("meta_governor.kelly_clamp", self.kelly_clamp, FixedPoint::ZERO, FixedPoint::ONE),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !(1..=MAX_VALIDATION_TICKS).contains(&self.validation_ticks) {
            problems.push(ConfigError::new("meta_governor.validation_ticks", format!("{} is outside 1..={MAX_VALIDATION_TICKS}", self.validation_ticks)));
        }
        if self.min_validation_ticks == 0 || self.min_validation_ticks > self.validation_ticks {
            problems.push(ConfigError::new(
                "meta_governor.min_validation_ticks",
                format!("{} is outside 1..=validation_ticks ({})", self.min_validation_ticks, self.validation_ticks),
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
        assert_eq!(MetaGovernorConfig::default().problems(), vec![]);
        let bad = MetaGovernorConfig {
            reweight_cron: "61 * * * *".into(),
            learning_rate: FixedPoint::ZERO,
            max_step: fp("1.1"),
            min_weight: fp("0.26"),
            kelly_clamp: fp("-0.1"),
            validation_ticks: 50,
            min_validation_ticks: 51,
            ..MetaGovernorConfig::default()
        };
        let fields: Vec<String> = bad.problems().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "meta_governor.reweight_cron",
                "meta_governor.learning_rate",
                "meta_governor.max_step",
                "meta_governor.min_weight",
                "meta_governor.kelly_clamp",
                "meta_governor.min_validation_ticks"
            ]
        );
    }

    #[test]
    fn the_spec_keys_still_read_and_unknown_keys_are_refused() {
        let config: MetaGovernorConfig = serde_json::from_str(r#"{"enable_rl": false, "retrain_cron": "5 1 * * *", "max_step": "0.05"}"#).expect("parses");
        assert!(!config.enable_rl);
        assert_eq!(config.max_step, fp("0.05"));
        assert!(serde_json::from_str::<MetaGovernorConfig>(r#"{"retrain": "5 1 * * *"}"#).is_err());
    }
}
