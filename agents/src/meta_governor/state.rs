//! The MetaGovernor's state: the blend it published, what it knows of positions and
//! signals for attribution, the attribution totals, the tick window for validation, the
//! reweight schedule, the day's start equity for the Kelly clamp, and the last verdicts.

use std::collections::{BTreeMap, VecDeque};

use maxx_events::{BlendWeights, EventTime, FixedPoint, Tick};
use serde::{Deserialize, Serialize};

use super::attribution::{Attribution, SignalRecord};
use super::backtest::Validation;

/// Everything the MetaGovernor's decisions depend on besides its configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetaGovernorState {
    /// The blend last published; `None` until the first publication (the configured
    /// `alpha.weights`, normalized to sum 1, are then in force).
    pub published: Option<BlendWeights>,
    /// Latest signal per symbol.
    pub latest_signals: BTreeMap<String, SignalRecord>,
    /// Per symbol with an open position: the signal in force when it was last opened or
    /// increased.
    pub entry_signals: BTreeMap<String, SignalRecord>,
    /// Net position per symbol at the last pnl.
    pub positions: BTreeMap<String, FixedPoint>,
    /// Realized PnL (before fees) at the last pnl; `None` before the first.
    pub realized: Option<FixedPoint>,
    /// Realized PnL attributed to each sub-signal since the start.
    pub attribution_totals: Attribution,
    /// Realized PnL attributed since the last reweight: the learning step's input.
    pub attribution_window: Attribution,
    /// Realized PnL that could not be tied to one signal, since the start.
    pub unattributed: FixedPoint,
    /// The newest ticks (all symbols), oldest first, for the validation backtest.
    pub ticks: VecDeque<Tick>,
    /// Event time of the latest input.
    pub last_input: Option<EventTime>,
    /// The reweight schedule `next_reweight` was computed for.
    pub schedule: String,
    /// The next reweight fire time; `None` before the first input or when the schedule never fires.
    pub next_reweight: Option<EventTime>,
    /// The latest reweight attempt and its outcome.
    pub last_reweight: Option<ReweightRecord>,
    /// The latest validation backtest.
    pub last_validation: Option<Validation>,
    /// The UTC day (days since the epoch) of the latest pnl.
    pub day: Option<i64>,
    /// Equity of the first pnl of that day.
    pub day_start_equity: FixedPoint,
    /// Equity of the latest pnl.
    pub equity: Option<FixedPoint>,
    /// The tighter Kelly clamp was ordered today.
    pub kelly_clamped: bool,
}

/// A reweight attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReweightRecord {
    /// Event time of the attempt.
    pub at: EventTime,
    /// What started it: `schedule` or `request`.
    pub trigger: String,
    /// A new blend was published.
    pub published: bool,
    /// What happened, in words.
    pub outcome: String,
}
