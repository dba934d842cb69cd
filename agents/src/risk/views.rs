//! Read view of the RiskSentinel's state for `GET /risk/state`: a pure function of the
//! state, serde-serializable.

use std::collections::BTreeMap;

use maxx_events::FixedPoint;
use serde::{Deserialize, Serialize};

use super::state::{RiskFields, RiskSentinelState};

/// `GET /risk/state`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskStateView {
    /// The risk state as last published (`None` before the first pnl: nothing may trade).
    pub risk: Option<RiskFields>,
    /// UTC day (days since the epoch) the current halt started.
    pub halted_day: Option<i64>,
    /// The tighter Kelly fraction applies for the rest of the day.
    pub kelly_tightened: bool,
    /// Latest Kelly cap from the MetaGovernor.
    pub governor_kelly_clamp: Option<FixedPoint>,
    /// Net position per symbol as seen in fills.
    pub positions: BTreeMap<String, FixedPoint>,
}

/// The view of `state`.
pub fn state(state: &RiskSentinelState) -> RiskStateView {
    RiskStateView {
        risk: state.published.clone(),
        halted_day: state.halted_day,
        kelly_tightened: state.kelly_tightened,
        governor_kelly_clamp: state.governor_kelly_clamp,
        positions: state.positions.clone(),
    }
}
