//! Read views of the MetaGovernor's state for its HTTP routes (`GET /govern`): the blend in
//! force, the attribution totals, the Kelly clamp, the schedule and the last validation.

use serde::Serialize;

use super::attribution::Attribution;
use super::backtest::{BacktestResult, Validation};
use super::govern::current_weights;
use super::learning::as_array;
use super::state::MetaGovernorState;
use crate::config::AgentConfig;
use maxx_events::{BlendWeights, FixedPoint};

/// One number per sub-signal, as exact decimal text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FourView {
    /// Momentum.
    pub momentum: String,
    /// Mean reversion.
    pub mean_reversion: String,
    /// Breakout.
    pub breakout: String,
    /// Sentiment.
    pub sentiment: String,
}

impl FourView {
    fn of([momentum, mean_reversion, breakout, sentiment]: [FixedPoint; 4]) -> Self {
        Self { momentum: momentum.to_string(), mean_reversion: mean_reversion.to_string(), breakout: breakout.to_string(), sentiment: sentiment.to_string() }
    }
}

impl From<&BlendWeights> for FourView {
    fn from(weights: &BlendWeights) -> Self {
        Self::of(as_array(weights))
    }
}

impl From<&Attribution> for FourView {
    fn from(amounts: &Attribution) -> Self {
        Self::of(amounts.as_array())
    }
}

/// The governor at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GovernorView {
    /// The blend in force (`None` only when the configured weights are unusable).
    pub weights: Option<FourView>,
    /// True when the governor published it; false while the configured blend is in force.
    pub published: bool,
    /// Learning is on (`enable_rl`).
    pub learning: bool,
    /// Realized PnL attributed to each sub-signal since the start.
    pub attribution_totals: FourView,
    /// Attributed since the last reweight (the next step's input).
    pub attribution_window: FourView,
    /// Realized PnL that could not be tied to one signal.
    pub unattributed: String,
    /// The Kelly clamp ordered today, if any.
    pub kelly_clamp: Option<String>,
    /// Next scheduled reweight, microseconds since the epoch (event time).
    pub next_reweight_micros: Option<i64>,
    /// Ticks kept for validation.
    pub ticks_kept: usize,
    /// The latest reweight attempt: when, trigger, outcome.
    pub last_reweight: Option<ReweightView>,
    /// The latest validation.
    pub last_validation: Option<ValidationView>,
}

/// A reweight attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReweightView {
    /// Event time, microseconds since the epoch.
    pub at_micros: i64,
    /// `schedule` or `request`.
    pub trigger: String,
    /// A new blend was published.
    pub published: bool,
    /// What happened.
    pub outcome: String,
}

/// A validation verdict with its two runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationView {
    /// Event time, microseconds since the epoch.
    pub at_micros: i64,
    /// Ticks replayed.
    pub ticks: usize,
    /// The blend in force.
    pub current: FourView,
    /// The candidate.
    pub candidate: FourView,
    /// The current blend's run.
    pub current_run: Option<RunView>,
    /// The candidate's run.
    pub candidate_run: Option<RunView>,
    /// The candidate may be published.
    pub accepted: bool,
    /// Why.
    pub reason: String,
}

/// One backtest run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunView {
    /// Starting equity.
    pub start_equity: String,
    /// Final equity.
    pub end_equity: String,
    /// Signals emitted.
    pub signals: u64,
    /// Fills.
    pub fills: u64,
    /// A drawdown halt or kill was raised.
    pub breached: bool,
}

impl From<&BacktestResult> for RunView {
    fn from(run: &BacktestResult) -> Self {
        Self { start_equity: run.start_equity.to_string(), end_equity: run.end_equity.to_string(), signals: run.signals, fills: run.fills, breached: run.breached }
    }
}

/// The view of a validation (also the answer of `POST /govern/validate`).
pub fn validation(v: &Validation) -> ValidationView {
    ValidationView {
        at_micros: v.at.as_micros(),
        ticks: v.ticks,
        current: (&v.current).into(),
        candidate: (&v.candidate).into(),
        current_run: v.current_result.as_ref().map(RunView::from),
        candidate_run: v.candidate_result.as_ref().map(RunView::from),
        accepted: v.accepted,
        reason: v.reason.clone(),
    }
}

/// The governor's view.
pub fn governor(config: &AgentConfig, state: &MetaGovernorState) -> GovernorView {
    GovernorView {
        weights: current_weights(config, state).as_ref().map(FourView::from),
        published: state.published.is_some(),
        learning: config.meta_governor.enable_rl,
        attribution_totals: (&state.attribution_totals).into(),
        attribution_window: (&state.attribution_window).into(),
        unattributed: state.unattributed.to_string(),
        kelly_clamp: state.kelly_clamped.then(|| config.meta_governor.kelly_clamp.to_string()),
        next_reweight_micros: state.next_reweight.map(|t| t.as_micros()),
        ticks_kept: state.ticks.len(),
        last_reweight: state.last_reweight.as_ref().map(|r| ReweightView { at_micros: r.at.as_micros(), trigger: r.trigger.clone(), published: r.published, outcome: r.outcome.clone() }),
        last_validation: state.last_validation.as_ref().map(validation),
    }
}
