//! The pure functions behind `POST /govern/reweight` and `POST /govern/validate`: what a
//! reweight would propose now, and the verdict on given weights, both from the governor's
//! state without changing it.
//!
//! A route may answer with them directly. Applying a reweight (publishing the blend) goes
//! through the log like every mutating route; `commands` v1 has no governor kinds, so that
//! needs a `GOVERN_REWEIGHT` symbol (see the module docs of `meta_governor`).

use maxx_events::{BlendWeights, EventTime};
use serde::{Deserialize, Serialize};

use super::backtest::{validate, Validation};
use super::learning::{self, StepParams};
use super::state::MetaGovernorState;
use crate::config::AgentConfig;

/// What a reweight does now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Proposal {
    /// No candidate: learning is off, nothing was attributed, or the step changes nothing.
    Skipped {
        /// Why.
        reason: String,
    },
    /// A candidate was backtested; it is published when the validation accepted it.
    Validated(Validation),
}

/// The blend in force: the last published one, else the configured `alpha.weights`
/// normalized to sum 1 (`None` only for unusable configured weights).
pub fn current_weights(config: &AgentConfig, state: &MetaGovernorState) -> Option<BlendWeights> {
    state.published.or_else(|| learning::normalized(&config.alpha.weights.into()))
}

/// The learning step's parameters from the configuration.
pub fn step_params(config: &AgentConfig) -> StepParams {
    let governor = &config.meta_governor;
    StepParams { learning_rate: governor.learning_rate, max_step: governor.max_step, min_weight: governor.min_weight }
}

/// What a reweight at `now` would do (`POST /govern/reweight` without publishing).
pub fn propose_reweight(config: &AgentConfig, state: &MetaGovernorState, now: EventTime) -> Proposal {
    let skipped = |reason: &str| Proposal::Skipped { reason: reason.to_string() };
    if !config.meta_governor.enable_rl {
        return skipped("learning is off (meta_governor.enable_rl: false)");
    }
    let Some(current) = current_weights(config, state) else {
        return skipped("the configured alpha.weights are unusable");
    };
    let Some(candidate) = learning::step(&current, &state.attribution_window, &step_params(config)) else {
        return skipped("no realized PnL attributed since the last reweight");
    };
    if candidate == current {
        return skipped("the learning step leaves the blend unchanged");
    }
    Proposal::Validated(validate(config, &current, &candidate, &state.ticks, now))
}

/// The verdict on `candidate` against the blend in force (`POST /govern/validate`). The
/// candidate need not sum to 1: it is normalized first (Alpha's blend is scale-free).
pub fn validate_weights(config: &AgentConfig, state: &MetaGovernorState, candidate: &BlendWeights, now: EventTime) -> Validation {
    let current = current_weights(config, state).unwrap_or(*candidate);
    match learning::normalized(candidate) {
        Some(normalized) => validate(config, &current, &normalized, &state.ticks, now),
        None => Validation {
            at: now,
            ticks: state.ticks.len(),
            current,
            candidate: *candidate,
            current_result: None,
            candidate_result: None,
            accepted: false,
            reason: "refused: weights must be non-negative and not all zero".into(),
        },
    }
}
