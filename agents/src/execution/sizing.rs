//! Order sizing: how much a signal may buy or sell.
//!
//! `target = max_trade_risk × kelly_fraction × confidence ÷ price`, rounded DOWN to a multiple
//! of `qty_step` (kelly and confidence clamped to [0, 1], every step floored), so
//! `target × price ≤ max_trade_risk` always holds — the gate's cap cannot be exceeded by a
//! sized order. A signal moves the symbol's exposure (position plus open orders) toward
//! `+target` (BUY) or `−target` (SELL); one order never exceeds the cap either
//! ([`cap_qty`]).

use maxx_events::{FixedPoint, RiskState, Side};

const SCALE: i128 = FixedPoint::SCALE as i128;

/// `qty` rounded down (towards zero) to a multiple of `step`; `step ≤ 0` gives 0.
pub fn floor_to_step(qty: FixedPoint, step: FixedPoint) -> FixedPoint {
    if !step.is_positive() {
        return FixedPoint::ZERO;
    }
    FixedPoint::from_raw(qty.raw() - qty.raw() % step.raw())
}

fn unit(value: FixedPoint) -> i128 {
    i128::from(value.raw()).clamp(0, SCALE)
}

/// `fraction × qty` (fraction clamped to [0, 1]) rounded DOWN to the step grid, from the exact
/// product (no intermediate rounding up).
pub fn floor_fraction(qty: FixedPoint, fraction: FixedPoint, step: FixedPoint) -> FixedPoint {
    let exact = i128::from(qty.raw()) * unit(fraction) / SCALE;
    floor_to_step(FixedPoint::from_raw(i64::try_from(exact).unwrap_or(0)), step)
}

/// Largest quantity of one order at `price` within `risk.max_trade_risk`, on the step grid.
pub fn cap_qty(risk: &RiskState, price: FixedPoint, step: FixedPoint) -> FixedPoint {
    qty_for_notional(i128::from(risk.max_trade_risk.raw()).max(0), price, step)
}

/// The signal's target size (unsigned) at `price`.
pub fn target_qty(risk: &RiskState, confidence: FixedPoint, price: FixedPoint, step: FixedPoint) -> FixedPoint {
    let cap = i128::from(risk.max_trade_risk.raw()).max(0);
    let notional = cap * unit(risk.kelly_fraction) / SCALE * unit(confidence) / SCALE;
    qty_for_notional(notional, price, step)
}

/// Floor of `notional_raw ÷ price` on the step grid (raw units).
fn qty_for_notional(notional_raw: i128, price: FixedPoint, step: FixedPoint) -> FixedPoint {
    if !price.is_positive() {
        return FixedPoint::ZERO;
    }
    let qty = notional_raw * SCALE / i128::from(price.raw());
    floor_to_step(FixedPoint::from_raw(i64::try_from(qty).unwrap_or(i64::MAX)), step)
}

/// The order that moves `exposure` (signed: position plus open orders) toward `target`
/// (signed), only in the direction of `side`, at most `cap`, on the `step` grid: `None` when
/// nothing is to do.
pub fn order_toward(side: Side, target: FixedPoint, exposure: FixedPoint, cap: FixedPoint, step: FixedPoint) -> Option<FixedPoint> {
    let gap = match side {
        Side::Buy => target.checked_sub(exposure)?,
        Side::Sell => exposure.checked_sub(target)?,
    };
    let qty = floor_to_step(gap.min(cap), step);
    qty.is_positive().then_some(qty)
}

#[cfg(test)]
mod tests {
    use maxx_events::{EventId, EventTime, Producer, RiskLimits};
    use proptest::prelude::*;

    use super::*;

    fn fp(text: &str) -> FixedPoint {
        text.parse().expect("a number")
    }

    pub(crate) fn risk(max_trade_risk: FixedPoint, kelly: FixedPoint) -> RiskState {
        let time = EventTime::from_micros(0);
        RiskState {
            event_id: EventId::at(time, [0; 10]),
            event_time: time,
            producer: Producer { agent: "risk".into(), version: "0".into(), instance: "risk-0".into() },
            equity: fp("100000"),
            day_start_equity: fp("100000"),
            drawdown_pct: FixedPoint::ZERO,
            halted: false,
            halt_reason: None,
            killed: false,
            kelly_fraction: kelly,
            max_trade_risk,
            limits: RiskLimits { max_trade_risk_pct: fp("0.3"), daily_drawdown_pct: fp("5"), slippage_limit_pct: fp("0.2"), hard_kill_pct: fp("7") },
        }
    }

    #[test]
    fn sizing_by_hand() {
        // 300 × 0.5 × 0.8 = 120 quote; ÷ 62650.2 = 0.0019153... -> step 0.0001 -> 0.0019.
        assert_eq!(target_qty(&risk(fp("300"), fp("0.5")), fp("0.8"), fp("62650.2"), fp("0.0001")), fp("0.0019"));
        // Cap: 300 ÷ 62650.2 = 0.0047885... -> 0.0047.
        assert_eq!(cap_qty(&risk(fp("300"), fp("0.5")), fp("62650.2"), fp("0.0001")), fp("0.0047"));
        // Kelly above 1 is clamped to 1: 300 × 1 × 1 ÷ 100 = 3.
        assert_eq!(target_qty(&risk(fp("300"), fp("7")), fp("1"), fp("100"), fp("0.0001")), fp("3"));
        assert_eq!(target_qty(&risk(fp("300"), fp("1")), fp("1"), FixedPoint::ZERO, fp("0.0001")), FixedPoint::ZERO);
        assert_eq!(floor_to_step(fp("-1.23456"), fp("0.01")), fp("-1.23"), "towards zero");
        // 1.5 × 0.33333333 = 0.499999995 exactly: floored, never rounded up to 0.5.
        assert_eq!(floor_fraction(fp("1.5"), fp("0.33333333"), fp("0.0001")), fp("0.4999"));
        assert_eq!(floor_fraction(fp("1.5"), fp("0.33333333"), fp("0.00000001")), fp("0.49999999"));
    }

    #[test]
    fn orders_move_exposure_toward_the_target_in_the_signal_direction_only() {
        let (cap, step) = (fp("2"), fp("0.01"));
        assert_eq!(order_toward(Side::Buy, fp("1.5"), fp("0.5"), cap, step), Some(fp("1")));
        assert_eq!(order_toward(Side::Buy, fp("1.5"), fp("0.4999"), cap, step), Some(fp("1")), "1.0001 floored to the step");
        assert_eq!(order_toward(Side::Buy, fp("1.5"), fp("1.5"), cap, step), None, "already there");
        assert_eq!(order_toward(Side::Buy, fp("1.5"), fp("3"), cap, step), None, "a BUY never sells");
        assert_eq!(order_toward(Side::Sell, fp("-1.5"), fp("1"), cap, step), Some(fp("2")), "2.5 capped at 2");
        assert_eq!(order_toward(Side::Sell, fp("-1.5"), fp("-2"), cap, step), None);
    }

    proptest! {
        #[test]
        fn no_sized_order_exceeds_the_risk_cap(
            cap in 0i64..10_000_000 * FixedPoint::SCALE,
            kelly in -FixedPoint::SCALE..3 * FixedPoint::SCALE,
            confidence in -FixedPoint::SCALE..2 * FixedPoint::SCALE,
            price in 1i64..200_000 * FixedPoint::SCALE,
            step in 1i64..FixedPoint::SCALE,
            exposure in -1_000 * FixedPoint::SCALE..1_000 * FixedPoint::SCALE,
            buy in any::<bool>(),
        ) {
            let (cap, price, step) = (FixedPoint::from_raw(cap), FixedPoint::from_raw(price), FixedPoint::from_raw(step));
            let risk = risk(cap, FixedPoint::from_raw(kelly));
            let target = target_qty(&risk, FixedPoint::from_raw(confidence), price, step);
            let max = cap_qty(&risk, price, step);
            prop_assert!(target <= max);
            prop_assert!(target.raw() % step.raw() == 0 && max.raw() % step.raw() == 0);
            let side = if buy { Side::Buy } else { Side::Sell };
            let signed = if buy { target } else { FixedPoint::from_raw(-target.raw()) };
            if let Some(qty) = order_toward(side, signed, FixedPoint::from_raw(exposure), max, step) {
                let notional = qty.checked_mul(price).expect("in range");
                prop_assert!(notional <= cap, "qty {} × price {} = {} > cap {}", qty, price, notional, cap);
                prop_assert!(crate::risk::gate::pre_trade(Some(&risk), notional, false).is_ok());
            }
        }
    }
}
