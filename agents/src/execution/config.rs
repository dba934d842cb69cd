//! `exec:` section of `agent_config.yaml`.

use maxx_events::FixedPoint;
use serde::{Deserialize, Serialize};

use crate::config::{check_range, ConfigError, Validate};

/// `exec:` — order routing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExecConfig {
    /// Below this expected edge (basis points) orders are post-only limits (maker), else taken.
    #[serde(with = "crate::config::decimal")]
    pub maker_rebate_threshold_bps: FixedPoint,
    /// Retry a rejected order once on the fallback route.
    pub fallback_on_reject: bool,
}

impl Default for ExecConfig {
    fn default() -> Self {
        Self { maker_rebate_threshold_bps: FixedPoint::ONE, fallback_on_reject: true }
    }
}

impl Validate for ExecConfig {
    fn problems(&self) -> Vec<ConfigError> {
        let max = FixedPoint::from_raw(10_000 * FixedPoint::SCALE);
        check_range("exec.maker_rebate_threshold_bps", self.maker_rebate_threshold_bps, FixedPoint::ZERO, max).into_iter().collect()
    }
}
