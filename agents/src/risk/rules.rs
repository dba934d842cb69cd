//! The RiskSentinel's arithmetic, pure and exact: UTC days, drawdown, "strictly past a
//! percentage" comparisons, adverse slippage and the per-trade cap.
//!
//! Threshold comparisons never round: "`part` is more than `pct` % of `whole`" is decided
//! in `i128` as `part × 100 × 10⁸ > pct × whole` on the raw scaled integers, so a drawdown
//! of 5.000000001 % halts at a 5 % limit although it would print as 5. Only the values
//! *published* (drawdown_pct, slippage percent, max_trade_risk) are rounded, half away
//! from zero to 8 decimals.

use maxx_events::{EventTime, FixedPoint, Side};

/// Microseconds in a day.
const DAY_US: i64 = 86_400_000_000;

/// 100 as a fixed-point number.
const HUNDRED: FixedPoint = FixedPoint::from_raw(100 * FixedPoint::SCALE);

/// The UTC day number (days since the Unix epoch) of `time`.
pub fn utc_day(time: EventTime) -> i64 {
    time.as_micros().div_euclid(DAY_US)
}

/// True when `part` is strictly more than `pct` % of `whole` (`whole` > 0), decided exactly.
pub fn exceeds_pct(part: FixedPoint, whole: FixedPoint, pct: FixedPoint) -> bool {
    i128::from(part.raw()) * 100 * i128::from(FixedPoint::SCALE) > i128::from(pct.raw()) * i128::from(whole.raw())
}

/// `part ÷ whole × 100`, rounded; `None` when `whole` is zero or on overflow.
pub fn percent_of(part: FixedPoint, whole: FixedPoint) -> Option<FixedPoint> {
    part.checked_mul_div(HUNDRED, whole)
}

/// The intraday loss from `day_start` to `equity` (zero when equity is higher).
pub fn loss(day_start: FixedPoint, equity: FixedPoint) -> FixedPoint {
    day_start.checked_sub(equity).map_or(FixedPoint::ZERO, |loss| loss.max(FixedPoint::ZERO))
}

/// True when the drawdown from `day_start` to `equity` is strictly past `pct`. A day that
/// starts with no positive equity has nothing left to lose: every limit below 100 % is past.
pub fn drawdown_past(day_start: FixedPoint, equity: FixedPoint, pct: FixedPoint) -> bool {
    if !day_start.is_positive() {
        return pct < HUNDRED;
    }
    exceeds_pct(loss(day_start, equity), day_start, pct)
}

/// The published drawdown: `(day_start − equity) ÷ day_start × 100`, at least 0, rounded;
/// 100 when the day started without positive equity.
pub fn drawdown_pct(day_start: FixedPoint, equity: FixedPoint) -> FixedPoint {
    if !day_start.is_positive() {
        return HUNDRED;
    }
    percent_of(loss(day_start, equity), day_start).unwrap_or(HUNDRED)
}

/// The adverse move of a fill at `price` from the reference `mid`: what a buy paid above
/// it, or a sell received below it; zero for a price improvement.
pub fn adverse_slippage(side: Side, price: FixedPoint, mid: FixedPoint) -> FixedPoint {
    let adverse = match side {
        Side::Buy => price.checked_sub(mid),
        Side::Sell => mid.checked_sub(price),
    };
    adverse.map_or(FixedPoint::ZERO, |a| a.max(FixedPoint::ZERO))
}

/// The per-trade cap: `equity × pct ÷ 100`, rounded; zero when equity is not positive.
pub fn max_trade_risk(equity: FixedPoint, pct: FixedPoint) -> FixedPoint {
    if !equity.is_positive() {
        return FixedPoint::ZERO;
    }
    equity.checked_mul_div(pct, HUNDRED).unwrap_or(FixedPoint::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(text: &str) -> FixedPoint {
        text.parse().expect("a number")
    }

    #[test]
    fn past_means_strictly_past_and_is_decided_without_rounding() {
        let start = fp("100000");
        assert!(!drawdown_past(start, fp("95010"), fp("5")), "4.99 %");
        assert!(!drawdown_past(start, fp("95000"), fp("5")), "exactly 5 % is not past");
        assert!(drawdown_past(start, fp("94999.99999999"), fp("5")), "5.00000000001 % is past");
        assert_eq!(drawdown_pct(start, fp("94999.99999999")), fp("5"), "although it prints as 5");
        assert!(drawdown_past(start, fp("94990"), fp("5")), "5.01 %");
        assert_eq!(drawdown_pct(start, fp("101000")), FixedPoint::ZERO, "a gain is no drawdown");
        assert!(drawdown_past(FixedPoint::ZERO, FixedPoint::ZERO, fp("7")));
    }

    #[test]
    fn slippage_counts_only_the_adverse_side() {
        assert_eq!(adverse_slippage(Side::Buy, fp("100.3"), fp("100")), fp("0.3"));
        assert_eq!(adverse_slippage(Side::Buy, fp("99"), fp("100")), FixedPoint::ZERO);
        assert_eq!(adverse_slippage(Side::Sell, fp("99.5"), fp("100")), fp("0.5"));
        assert_eq!(adverse_slippage(Side::Sell, fp("101"), fp("100")), FixedPoint::ZERO);
    }

    #[test]
    fn utc_days_split_at_midnight_and_before_the_epoch() {
        assert_eq!(utc_day(EventTime::from_micros(DAY_US - 1)), 0);
        assert_eq!(utc_day(EventTime::from_micros(DAY_US)), 1);
        assert_eq!(utc_day(EventTime::from_micros(-1)), -1);
    }

    #[test]
    fn the_cap_is_a_rounded_share_of_positive_equity() {
        assert_eq!(max_trade_risk(fp("100000"), fp("0.3")), fp("300"));
        assert_eq!(max_trade_risk(fp("0.00000005"), fp("10")), fp("0.00000001"), "half rounds away from zero");
        assert_eq!(max_trade_risk(fp("-5"), fp("0.3")), FixedPoint::ZERO);
    }
}
