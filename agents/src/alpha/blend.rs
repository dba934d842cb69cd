//! The blend: weights × component scores into one score, a confidence and a side.
//!
//! - `score = Σ wᵢ·sᵢ / Σ wᵢ` (weights normalized by their sum; they need not sum to 1).
//! - `confidence = |Σ wᵢ·sᵢ| / Σ wᵢ·|sᵢ|`: the agreement of the weighted components, 1 when
//!   every component with a weight points the same way, 0 when they cancel out (and 0 when
//!   all are 0). It says how unanimous the score is, not how large.
//! - side: BUY when `score ≥ threshold`, SELL when `score ≤ −threshold`, else FLAT.
//!
//! Everything is exact fixed-point arithmetic on the wire values (i128 intermediates, one
//! rounding per division, ties away from zero).

use maxx_events::{BlendWeights, FixedPoint, SignalComponents, SignalSide};

/// The blended score, its confidence and its side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blend {
    /// Score in [-1, 1].
    pub score: FixedPoint,
    /// Confidence in [0, 1].
    pub confidence: FixedPoint,
    /// Side from the score and the threshold.
    pub side: SignalSide,
}

/// Checks that weights are usable: none negative, not all zero.
///
/// # Errors
/// The problem in words.
pub fn check_weights(weights: &BlendWeights) -> Result<(), String> {
    let all = [weights.momentum, weights.mean_reversion, weights.breakout, weights.sentiment];
    if all.iter().any(|w| w.is_negative()) {
        return Err(format!("weights must not be negative (momentum {}, mean_reversion {}, breakout {}, sentiment {})", all[0], all[1], all[2], all[3]));
    }
    if all.iter().all(|w| *w == FixedPoint::ZERO) {
        return Err("weights must not all be zero".into());
    }
    Ok(())
}

/// Blends `components` with `weights` (assumed checked by [`check_weights`]; unusable weights
/// give a zero, FLAT blend).
pub fn blend(components: &SignalComponents, weights: &BlendWeights, threshold: FixedPoint) -> Blend {
    let pairs = [
        (weights.momentum, components.momentum),
        (weights.mean_reversion, components.mean_reversion),
        (weights.breakout, components.breakout),
        (weights.sentiment, components.sentiment),
    ];
    let weight_sum: i128 = pairs.iter().map(|(w, _)| i128::from(w.raw())).sum();
    let weighted: i128 = pairs.iter().map(|(w, s)| i128::from(w.raw()) * i128::from(s.raw())).sum();
    let agreement_base: i128 = pairs.iter().map(|(w, s)| i128::from(w.raw()) * i128::from(s.raw()).abs()).sum();
    if check_weights(weights).is_err() || weight_sum <= 0 {
        return Blend { score: FixedPoint::ZERO, confidence: FixedPoint::ZERO, side: SignalSide::Flat };
    }
    let to_fixed = |raw: i128| FixedPoint::from_raw(i64::try_from(raw).unwrap_or(0));
    let score = to_fixed(round_div(weighted, weight_sum).clamp(-i128::from(FixedPoint::SCALE), i128::from(FixedPoint::SCALE)));
    let confidence = if agreement_base == 0 {
        FixedPoint::ZERO
    } else {
        to_fixed(round_div(weighted.abs() * i128::from(FixedPoint::SCALE), agreement_base).min(i128::from(FixedPoint::SCALE)))
    };
    let side = if score >= threshold && score.is_positive() {
        SignalSide::Buy
    } else if score.checked_neg().is_some_and(|neg| neg >= threshold) && score.is_negative() {
        SignalSide::Sell
    } else {
        SignalSide::Flat
    };
    Blend { score, confidence, side }
}

/// `n ÷ d` rounded to the nearest integer, ties away from zero (`d > 0`).
fn round_div(n: i128, d: i128) -> i128 {
    let (q, r) = (n / d, n % d);
    if r.abs() * 2 >= d {
        q + n.signum()
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(text: &str) -> FixedPoint {
        text.parse().expect("a number")
    }

    fn components(m: &str, r: &str, b: &str, s: &str) -> SignalComponents {
        SignalComponents { momentum: fp(m), mean_reversion: fp(r), breakout: fp(b), sentiment: fp(s) }
    }

    fn weights(m: &str, r: &str, b: &str, s: &str) -> BlendWeights {
        BlendWeights { momentum: fp(m), mean_reversion: fp(r), breakout: fp(b), sentiment: fp(s) }
    }

    #[test]
    fn blend_normalizes_by_the_weight_sum() {
        // Spec weights sum to 1.1: (0.5×0.4 + 0.3×(−0.2) + 0.2×1 + 0.1×0.5) / 1.1
        // = (0.2 − 0.06 + 0.2 + 0.05) / 1.1 = 0.39 / 1.1 = 0.35454545(45) -> 0.35454545.
        let b = blend(&components("0.4", "-0.2", "1", "0.5"), &weights("0.5", "0.3", "0.2", "0.1"), fp("0.1"));
        assert_eq!(b.score, fp("0.35454545"));
        assert_eq!(b.side, SignalSide::Buy);
        // Confidence: |0.39| / (0.2 + 0.06 + 0.2 + 0.05) = 0.39 / 0.51 = 0.76470588(2) -> 0.76470588.
        assert_eq!(b.confidence, fp("0.76470588"));
        // Scaling all weights by 10 changes nothing.
        assert_eq!(blend(&components("0.4", "-0.2", "1", "0.5"), &weights("5", "3", "2", "1"), fp("0.1")), b);
    }

    #[test]
    fn confidence_is_one_when_components_agree_and_zero_when_they_cancel() {
        let agree = blend(&components("-0.5", "-0.1", "0", "-1"), &weights("1", "1", "1", "1"), fp("0.1"));
        // (−0.5 − 0.1 + 0 − 1) / 4 = −0.4.
        assert_eq!((agree.score, agree.confidence, agree.side), (fp("-0.4"), FixedPoint::ONE, SignalSide::Sell));
        let cancel = blend(&components("0.5", "-0.5", "0", "0"), &weights("1", "1", "0", "0"), fp("0.1"));
        assert_eq!((cancel.score, cancel.confidence, cancel.side), (FixedPoint::ZERO, FixedPoint::ZERO, SignalSide::Flat));
    }

    #[test]
    fn the_threshold_is_inclusive_on_both_sides() {
        let w = weights("1", "0", "0", "0");
        assert_eq!(blend(&components("0.1", "0", "0", "0"), &w, fp("0.1")).side, SignalSide::Buy);
        assert_eq!(blend(&components("0.09999999", "0", "0", "0"), &w, fp("0.1")).side, SignalSide::Flat);
        assert_eq!(blend(&components("-0.1", "0", "0", "0"), &w, fp("0.1")).side, SignalSide::Sell);
        assert_eq!(blend(&components("-0.09999999", "0", "0", "0"), &w, fp("0.1")).side, SignalSide::Flat);
        assert_eq!(blend(&components("0", "0", "0", "0"), &w, FixedPoint::ZERO).side, SignalSide::Flat, "zero is never a side");
    }

    #[test]
    fn negative_or_all_zero_weights_are_refused() {
        assert!(check_weights(&weights("0.5", "-0.1", "0", "0")).is_err());
        assert!(check_weights(&weights("0", "0", "0", "0")).is_err());
        assert!(check_weights(&weights("0", "0", "0", "0.1")).is_ok());
        let b = blend(&components("1", "1", "1", "1"), &weights("0", "0", "0", "0"), fp("0.1"));
        assert_eq!(b.side, SignalSide::Flat);
    }
}
