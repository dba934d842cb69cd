//! `alpha:` section of `agent_config.yaml`: blend weights, indicator windows, thresholds and
//! warm-up.

use maxx_events::{BlendWeights, FixedPoint};
use serde::{Deserialize, Serialize};

use crate::config::{check_cron, check_range, ConfigError, Validate};

/// `alpha:` — the signal blend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlphaConfig {
    /// When the governor may reweight the blend (cron, five fields, UTC).
    pub reweight_cron: String,
    /// Name of the NLP model (informational: scoring is offline).
    pub nlp_model: String,
    /// Blend weights before any GovernorWeights event: non-negative, not all zero; the blend
    /// divides by their sum, so they need not sum to 1.
    pub weights: WeightsConfig,
    /// Momentum: return over this many ticks.
    pub momentum_window: usize,
    /// Momentum: the return (percent) at which the momentum score saturates at ±1.
    #[serde(with = "crate::config::decimal")]
    pub momentum_full_scale_pct: FixedPoint,
    /// Mean reversion: rolling mean and standard deviation over this many ticks (current included).
    pub mean_reversion_window: usize,
    /// Mean reversion: the z-score at which the score saturates at ∓1.
    #[serde(with = "crate::config::decimal")]
    pub mean_reversion_full_z: FixedPoint,
    /// Breakout: the high/low channel of this many ticks before the current one.
    pub breakout_window: usize,
    /// Sentiment: half-life of a score, in seconds of event time.
    pub sentiment_half_life_sec: u64,
    /// |score| at or above this gives BUY or SELL; below it FLAT.
    #[serde(with = "crate::config::decimal")]
    pub signal_threshold: FixedPoint,
    /// Ticks of a symbol seen before its first signal (warm-up).
    pub min_ticks: u64,
    /// A new signal is emitted only when the side changes, the weights change, or the score
    /// moved at least this much since the last signal of the symbol.
    #[serde(with = "crate::config::decimal")]
    pub min_score_change: FixedPoint,
}

/// Blend weights as written in the config file (plain decimals).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WeightsConfig {
    /// Weight of momentum.
    #[serde(with = "crate::config::decimal")]
    pub momentum: FixedPoint,
    /// Weight of mean reversion.
    #[serde(with = "crate::config::decimal")]
    pub mean_reversion: FixedPoint,
    /// Weight of breakout.
    #[serde(with = "crate::config::decimal")]
    pub breakout: FixedPoint,
    /// Weight of sentiment.
    #[serde(with = "crate::config::decimal")]
    pub sentiment: FixedPoint,
}

impl Default for WeightsConfig {
    /// The spec's defaults: 0.5 / 0.3 / 0.2 / 0.1.
    fn default() -> Self {
        let tenth = |n: i64| FixedPoint::from_raw(n * FixedPoint::SCALE / 10);
        Self { momentum: tenth(5), mean_reversion: tenth(3), breakout: tenth(2), sentiment: tenth(1) }
    }
}

impl From<WeightsConfig> for BlendWeights {
    fn from(w: WeightsConfig) -> Self {
        Self { momentum: w.momentum, mean_reversion: w.mean_reversion, breakout: w.breakout, sentiment: w.sentiment }
    }
}

impl Default for AlphaConfig {
    fn default() -> Self {
        let hundredths = |n: i64| FixedPoint::from_raw(n * FixedPoint::SCALE / 100);
        Self {
            reweight_cron: "10 0 * * *".into(),
            nlp_model: "llama3-lora-trading".into(),
            weights: WeightsConfig::default(),
            momentum_window: 20,
            momentum_full_scale_pct: FixedPoint::ONE,
            mean_reversion_window: 20,
            mean_reversion_full_z: FixedPoint::from_raw(2 * FixedPoint::SCALE),
            breakout_window: 20,
            sentiment_half_life_sec: 1800,
            signal_threshold: hundredths(10),
            min_ticks: 21,
            min_score_change: hundredths(5),
        }
    }
}

impl Validate for AlphaConfig {
    fn problems(&self) -> Vec<ConfigError> {
        let mut problems: Vec<ConfigError> = check_cron("alpha.reweight_cron", &self.reweight_cron).into_iter().collect();
        if let Err(problem) = crate::alpha::blend::check_weights(&self.weights.into()) {
            problems.push(ConfigError::new("alpha.weights", problem));
        }
        for (field, window) in [
            ("alpha.momentum_window", self.momentum_window),
            ("alpha.mean_reversion_window", self.mean_reversion_window),
            ("alpha.breakout_window", self.breakout_window),
        ] {
            if !(2..=10_000).contains(&window) {
                problems.push(ConfigError::new(field, format!("{window} is outside 2..=10000")));
            }
        }
        let tiny = FixedPoint::from_raw(1);
        let big = FixedPoint::from_raw(1_000 * FixedPoint::SCALE);
        problems.extend(check_range("alpha.momentum_full_scale_pct", self.momentum_full_scale_pct, tiny, big));
        problems.extend(check_range("alpha.mean_reversion_full_z", self.mean_reversion_full_z, tiny, big));
        problems.extend(check_range("alpha.signal_threshold", self.signal_threshold, FixedPoint::ZERO, FixedPoint::ONE));
        problems.extend(check_range("alpha.min_score_change", self.min_score_change, FixedPoint::ZERO, FixedPoint::from_raw(2 * FixedPoint::SCALE)));
        if !(1..=30 * 86_400).contains(&self.sentiment_half_life_sec) {
            problems.push(ConfigError::new("alpha.sentiment_half_life_sec", format!("{} is outside 1..=2592000", self.sentiment_half_life_sec)));
        }
        if !(1..=1_000_000).contains(&self.min_ticks) {
            problems.push(ConfigError::new("alpha.min_ticks", format!("{} is outside 1..=1000000", self.min_ticks)));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_match_the_spec_weights() {
        let config = AlphaConfig::default();
        assert_eq!(config.problems(), vec![]);
        assert_eq!(config.weights.momentum.to_string(), "0.5");
        assert_eq!(config.weights.mean_reversion.to_string(), "0.3");
        assert_eq!(config.weights.breakout.to_string(), "0.2");
        assert_eq!(config.weights.sentiment.to_string(), "0.1");
    }

    #[test]
    fn negative_or_all_zero_weights_and_bad_windows_are_refused() {
        let mut config = AlphaConfig::default();
        config.weights.breakout = FixedPoint::from_raw(-1);
        config.momentum_window = 1;
        let fields: Vec<String> = config.problems().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, vec!["alpha.weights".to_string(), "alpha.momentum_window".to_string()]);
        let zero = FixedPoint::ZERO;
        config = AlphaConfig { weights: WeightsConfig { momentum: zero, mean_reversion: zero, breakout: zero, sentiment: zero }, ..AlphaConfig::default() };
        assert_eq!(config.problems().len(), 1);
    }

    #[test]
    fn weights_read_as_decimals_from_the_file() {
        let config: AlphaConfig =
            serde_json::from_str(r#"{"weights": {"momentum": 1, "mean_reversion": "0.25", "breakout": 0, "sentiment": 0.75}}"#).expect("parses");
        assert_eq!(config.weights.mean_reversion, FixedPoint::from_raw(25_000_000));
        assert_eq!(config.weights.sentiment, FixedPoint::from_raw(75_000_000));
        assert!(serde_json::from_str::<AlphaConfig>(r#"{"weights": {"momentum": 1, "volume": 2}}"#).is_err(), "unknown key refused");
    }
}
