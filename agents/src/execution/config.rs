//! `exec:` section of `agent_config.yaml`: maker/taker choice, sizing step, routes, reject
//! ratio, and the paper venue's fees, slippage and rejects.

use std::collections::BTreeMap;

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
    /// Expected edge model: `edge_bps = |score| × edge_bps_per_score`.
    #[serde(with = "crate::config::decimal")]
    pub edge_bps_per_score: FixedPoint,
    /// Order quantities are rounded down to a multiple of this (base units).
    #[serde(with = "crate::config::decimal")]
    pub qty_step: FixedPoint,
    /// The route orders go to first.
    pub primary_route: String,
    /// The route used on retry after a reject, and after a route switch.
    pub fallback_route: String,
    /// The rolling reject ratio counts the last this many venue acks.
    pub reject_window: usize,
    /// Reject ratio (percent of `reject_window`) above which the route is switched.
    #[serde(with = "crate::config::decimal")]
    pub reject_ratio_limit_pct: FixedPoint,
    /// The simulated venue.
    pub paper: PaperVenueConfig,
}

/// `exec.paper:` — the simulated venue every route goes to by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaperVenueConfig {
    /// Maker fee in basis points of notional; negative is a rebate.
    #[serde(with = "crate::config::decimal")]
    pub maker_fee_bps: FixedPoint,
    /// Taker fee in basis points of notional.
    #[serde(with = "crate::config::decimal")]
    pub taker_fee_bps: FixedPoint,
    /// Slippage of a market order whose quantity equals the latest tick's volume (bps);
    /// proportional to quantity ÷ volume.
    #[serde(with = "crate::config::decimal")]
    pub slippage_bps_at_volume: FixedPoint,
    /// Largest slippage of a market order (bps); also the slippage when the tick has no volume.
    #[serde(with = "crate::config::decimal")]
    pub max_slippage_bps: FixedPoint,
    /// Orders below this quantity are rejected (base units).
    #[serde(with = "crate::config::decimal")]
    pub min_qty: FixedPoint,
    /// Share of orders the venue rejects, in basis points (0..=10000), chosen by a stable
    /// hash of (route, order id): deterministic.
    pub reject_rate_bps: u32,
    /// Per-route override of `reject_rate_bps`.
    pub route_reject_rate_bps: BTreeMap<String, u32>,
}

impl Default for ExecConfig {
    fn default() -> Self {
        Self {
            maker_rebate_threshold_bps: FixedPoint::ONE,
            fallback_on_reject: true,
            edge_bps_per_score: FixedPoint::from_raw(5 * FixedPoint::SCALE),
            qty_step: FixedPoint::from_raw(10_000),
            primary_route: "paper".into(),
            fallback_route: "paper-fallback".into(),
            reject_window: 100,
            reject_ratio_limit_pct: FixedPoint::from_raw(2 * FixedPoint::SCALE),
            paper: PaperVenueConfig::default(),
        }
    }
}

impl Default for PaperVenueConfig {
    fn default() -> Self {
        Self {
            maker_fee_bps: FixedPoint::from_raw(-FixedPoint::SCALE),
            taker_fee_bps: FixedPoint::from_raw(5 * FixedPoint::SCALE),
            slippage_bps_at_volume: FixedPoint::from_raw(10 * FixedPoint::SCALE),
            max_slippage_bps: FixedPoint::from_raw(20 * FixedPoint::SCALE),
            min_qty: FixedPoint::from_raw(10_000),
            reject_rate_bps: 0,
            route_reject_rate_bps: BTreeMap::new(),
        }
    }
}

impl PaperVenueConfig {
    /// The reject rate of `route` in basis points.
    pub fn reject_rate_for(&self, route: &str) -> u32 {
        self.route_reject_rate_bps.get(route).copied().unwrap_or(self.reject_rate_bps)
    }
}

impl Validate for ExecConfig {
    fn problems(&self) -> Vec<ConfigError> {
        let bps = |n: i64| FixedPoint::from_raw(n * FixedPoint::SCALE);
        let mut problems: Vec<ConfigError> = Vec::new();
        problems.extend(check_range("exec.maker_rebate_threshold_bps", self.maker_rebate_threshold_bps, FixedPoint::ZERO, bps(10_000)));
        problems.extend(check_range("exec.edge_bps_per_score", self.edge_bps_per_score, FixedPoint::ZERO, bps(10_000)));
        problems.extend(check_range("exec.qty_step", self.qty_step, FixedPoint::from_raw(1), bps(1_000_000)));
        problems.extend(check_range("exec.reject_ratio_limit_pct", self.reject_ratio_limit_pct, FixedPoint::ZERO, bps(100)));
        if self.primary_route.is_empty() || self.fallback_route.is_empty() {
            problems.push(ConfigError::new("exec.primary_route", "routes must not be empty"));
        } else if self.primary_route == self.fallback_route {
            problems.push(ConfigError::new("exec.fallback_route", format!("{:?} is also the primary route", self.fallback_route)));
        }
        if !(1..=100_000).contains(&self.reject_window) {
            problems.push(ConfigError::new("exec.reject_window", format!("{} is outside 1..=100000", self.reject_window)));
        }
        let p = &self.paper;
        problems.extend(check_range("exec.paper.maker_fee_bps", p.maker_fee_bps, bps(-100), bps(100)));
        problems.extend(check_range("exec.paper.taker_fee_bps", p.taker_fee_bps, bps(-100), bps(100)));
        problems.extend(check_range("exec.paper.slippage_bps_at_volume", p.slippage_bps_at_volume, FixedPoint::ZERO, bps(10_000)));
        problems.extend(check_range("exec.paper.max_slippage_bps", p.max_slippage_bps, FixedPoint::ZERO, bps(10_000)));
        problems.extend(check_range("exec.paper.min_qty", p.min_qty, FixedPoint::ZERO, bps(1_000_000)));
        for (route, rate) in std::iter::once(("*", &p.reject_rate_bps)).chain(p.route_reject_rate_bps.iter().map(|(r, v)| (r.as_str(), v))) {
            if *rate > 10_000 {
                problems.push(ConfigError::new("exec.paper.reject_rate_bps", format!("{rate} for route {route} is above 10000")));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        assert_eq!(ExecConfig::default().problems(), vec![]);
        let mut config = ExecConfig { fallback_route: "paper".into(), reject_window: 0, ..ExecConfig::default() };
        config.paper.route_reject_rate_bps.insert("paper".into(), 10_001);
        let fields: Vec<String> = config.problems().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["exec.fallback_route", "exec.reject_window", "exec.paper.reject_rate_bps"]);
    }

    #[test]
    fn the_paper_venue_reads_from_the_file() {
        let config: ExecConfig = serde_json::from_str(r#"{"qty_step": "0.001", "paper": {"maker_fee_bps": -2.5, "route_reject_rate_bps": {"b": 10000}}}"#).expect("parses");
        assert_eq!(config.qty_step, FixedPoint::from_raw(100_000));
        assert_eq!(config.paper.maker_fee_bps, FixedPoint::from_raw(-250_000_000));
        assert_eq!((config.paper.reject_rate_for("b"), config.paper.reject_rate_for("a")), (10_000, 0));
    }
}
