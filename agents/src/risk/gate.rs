//! The pre-trade gate: the rule every order passes before it reaches a venue, judged against
//! the latest risk state RiskSentinel published. Execution calls it; RiskSentinel applies the
//! same rule to the orders it sees, so an order that slipped past would be reported.

use maxx_events::{FixedPoint, RiskState};

/// Why an order may not be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Blocked {
    /// No risk state has been published yet: nothing trades blind.
    #[error("no risk state yet: orders wait for RiskSentinel")]
    NoRiskState,
    /// Trading is halted (daily drawdown); only orders that reduce a position pass.
    #[error("trading halted: {0}")]
    Halted(String),
    /// Hard kill: only orders that reduce a position pass.
    #[error("hard kill: trading stopped")]
    Killed,
    /// The order risks more than one trade may.
    #[error("order notional {notional} exceeds the per-trade risk cap {cap}")]
    OverCap {
        /// Quantity × reference price.
        notional: FixedPoint,
        /// `RiskState::max_trade_risk`.
        cap: FixedPoint,
    },
}

/// Checks an order of `notional` (quantity × reference price, quote currency) against `risk`.
///
/// The risk of a trade is its notional: one order may not exceed `max_trade_risk`
/// (`max_trade_risk_pct` of equity). Orders that only reduce an existing position
/// (`reduces_position`) pass a halt or a kill — that is how positions are flattened — but not
/// the cap.
///
/// # Errors
/// [`Blocked`] with the rule that refused the order.
pub fn pre_trade(risk: Option<&RiskState>, notional: FixedPoint, reduces_position: bool) -> Result<(), Blocked> {
    let risk = risk.ok_or(Blocked::NoRiskState)?;
    if !reduces_position {
        if risk.killed {
            return Err(Blocked::Killed);
        }
        if risk.halted {
            return Err(Blocked::Halted(risk.halt_reason.clone().unwrap_or_else(|| "daily drawdown".into())));
        }
    }
    if notional.abs() > risk.max_trade_risk {
        return Err(Blocked::OverCap { notional: notional.abs(), cap: risk.max_trade_risk });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use maxx_events::{EventId, EventTime, Producer, RiskLimits};

    use super::*;

    fn fp(text: &str) -> FixedPoint {
        text.parse().expect("a number")
    }

    fn state(halted: bool, killed: bool) -> RiskState {
        let time = EventTime::from_micros(0);
        RiskState {
            event_id: EventId::at(time, [0; 10]),
            event_time: time,
            producer: Producer { agent: "maxx-risk".into(), version: "0".into(), instance: "risk-0".into() },
            equity: fp("100000"),
            day_start_equity: fp("100000"),
            drawdown_pct: FixedPoint::ZERO,
            halted,
            halt_reason: None,
            killed,
            kelly_fraction: FixedPoint::ONE,
            max_trade_risk: fp("300"),
            limits: RiskLimits { max_trade_risk_pct: fp("0.3"), daily_drawdown_pct: fp("5"), slippage_limit_pct: fp("0.2"), hard_kill_pct: fp("7") },
        }
    }

    #[test]
    fn the_cap_is_inclusive_and_a_cent_over_is_blocked() {
        let risk = state(false, false);
        assert_eq!(pre_trade(Some(&risk), fp("300"), false), Ok(()));
        assert_eq!(pre_trade(Some(&risk), fp("300.01"), false), Err(Blocked::OverCap { notional: fp("300.01"), cap: fp("300") }));
    }

    #[test]
    fn halts_and_kills_let_only_reducing_orders_through() {
        for risk in [state(true, false), state(false, true)] {
            assert!(pre_trade(Some(&risk), fp("10"), false).is_err());
            assert_eq!(pre_trade(Some(&risk), fp("10"), true), Ok(()));
        }
        assert_eq!(pre_trade(None, fp("10"), true), Err(Blocked::NoRiskState));
    }
}
