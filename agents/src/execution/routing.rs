//! Routing decisions: maker or taker, which route is active, and the rolling reject ratio
//! that switches it.
//!
//! - Maker vs taker: the expected edge of a signal is `|score| × edge_bps_per_score` bps;
//!   below `maker_rebate_threshold_bps` the order is a post-only limit at the touch (it earns
//!   the maker fee/rebate and waits), at or above it a market order (the edge is worth paying
//!   the spread and the taker fee).
//! - Reject ratio: each venue ack (accepted or rejected; risk-gate refusals and cancels are
//!   not venue acks) is recorded in a window of the last `reject_window` acks; the ratio is
//!   `rejects ÷ reject_window` (a window not yet full counts its empty slots as accepted, so
//!   3 rejects in the first 10 acks of a 100-ack window are 3 %). When the ratio exceeds
//!   `reject_ratio_limit_pct` the active route switches to the other one (primary ↔
//!   fallback) and the window starts empty.

use std::collections::VecDeque;

use maxx_events::FixedPoint;
use serde::{Deserialize, Serialize};

use crate::execution::ExecConfig;

/// How an order takes or provides liquidity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Post-only limit at the touch.
    Maker,
    /// Market order.
    Taker,
}

/// Maker when `|score| × edge_bps_per_score < maker_rebate_threshold_bps`, else taker.
pub fn style_for(score: FixedPoint, config: &ExecConfig) -> Style {
    let edge = score.abs().checked_mul(config.edge_bps_per_score).unwrap_or(FixedPoint::from_raw(i64::MAX));
    if edge < config.maker_rebate_threshold_bps {
        Style::Maker
    } else {
        Style::Taker
    }
}

/// The active route and the recent venue acks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteState {
    /// Route new orders go to; empty means the configured primary.
    pub active: String,
    /// The last venue acks, oldest first: `true` for a reject.
    pub recent: VecDeque<bool>,
}

/// A route switch caused by the reject ratio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSwitch {
    /// The route left.
    pub from: String,
    /// The route taken.
    pub to: String,
    /// Reject ratio that triggered it, percent.
    pub ratio_pct: FixedPoint,
}

impl RouteState {
    /// The route new orders go to.
    pub fn active<'a>(&'a self, config: &'a ExecConfig) -> &'a str {
        if self.active.is_empty() {
            &config.primary_route
        } else {
            &self.active
        }
    }

    /// The reject ratio of the window, percent.
    pub fn ratio_pct(&self, config: &ExecConfig) -> FixedPoint {
        let rejects = self.recent.iter().filter(|r| **r).count();
        let window = i64::try_from(config.reject_window.max(1)).unwrap_or(i64::MAX);
        let rejects = i64::try_from(rejects).unwrap_or(i64::MAX);
        FixedPoint::from_raw(rejects.saturating_mul(100 * FixedPoint::SCALE) / window)
    }

    /// Records one venue ack; returns the switch when the ratio now exceeds the limit.
    pub fn record(&mut self, rejected: bool, config: &ExecConfig) -> Option<RouteSwitch> {
        self.recent.push_back(rejected);
        while self.recent.len() > config.reject_window.max(1) {
            self.recent.pop_front();
        }
        let ratio_pct = self.ratio_pct(config);
        if ratio_pct <= config.reject_ratio_limit_pct {
            return None;
        }
        let from = self.active(config).to_string();
        let to = other_route(&from, config).to_string();
        self.active = to.clone();
        self.recent.clear();
        Some(RouteSwitch { from, to, ratio_pct })
    }
}

/// The route to retry on or switch to from `route`: the fallback, or the primary when
/// `route` is the fallback.
pub fn other_route<'a>(route: &str, config: &'a ExecConfig) -> &'a str {
    if route == config.fallback_route {
        &config.primary_route
    } else {
        &config.fallback_route
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(text: &str) -> FixedPoint {
        text.parse().expect("a number")
    }

    #[test]
    fn maker_below_the_threshold_taker_at_and_above() {
        // Default: 5 bps of edge per unit score, threshold 1 bp: the boundary is |score| = 0.2.
        let config = ExecConfig::default();
        assert_eq!(style_for(fp("0.19999999"), &config), Style::Maker, "0.99999995 bps < 1");
        assert_eq!(style_for(fp("0.2"), &config), Style::Taker, "exactly 1 bp is not below");
        assert_eq!(style_for(fp("-0.19999999"), &config), Style::Maker, "by the absolute score");
        assert_eq!(style_for(fp("-0.5"), &config), Style::Taker);
        let never_maker = ExecConfig { maker_rebate_threshold_bps: FixedPoint::ZERO, ..ExecConfig::default() };
        assert_eq!(style_for(FixedPoint::ZERO, &never_maker), Style::Taker);
    }

    #[test]
    fn the_route_switches_above_two_percent_not_at_it() {
        // Window 100, limit 2 %: 2 rejects are 2 % (stay), the 3rd is 3 % (switch).
        let config = ExecConfig::default();
        let mut routes = RouteState::default();
        for i in 0..50 {
            assert_eq!(routes.record(i == 10 || i == 20, &config), None);
        }
        assert_eq!(routes.ratio_pct(&config), fp("2"));
        assert_eq!(routes.active(&config), "paper");
        let switch = routes.record(true, &config).expect("3 % > 2 %");
        assert_eq!(switch, RouteSwitch { from: "paper".into(), to: "paper-fallback".into(), ratio_pct: fp("3") });
        assert_eq!(routes.active(&config), "paper-fallback");
        assert!(routes.recent.is_empty(), "the window starts over on the new route");
        // Rejects sliding out of the window no longer count: 100 accepts push them out.
        for _ in 0..2 {
            routes.record(true, &config);
        }
        for _ in 0..100 {
            routes.record(false, &config);
        }
        assert_eq!(routes.ratio_pct(&config), FixedPoint::ZERO);
        // And from the fallback a switch goes back to the primary.
        let switch = (0..3).find_map(|_| routes.record(true, &config)).expect("switches back");
        assert_eq!((switch.from.as_str(), switch.to.as_str()), ("paper-fallback", "paper"));
    }
}
