//! The online learning rule: one multiplicative step of the blend weights from the PnL
//! attributed to each sub-signal since the last reweight.
//!
//! 1. **Rewards**: `rᵢ = Aᵢ ÷ Σⱼ|Aⱼ|` (so `rᵢ ∈ [−1, 1]`; only the shares matter, not the
//!    amount of money). No attribution at all: no step.
//! 2. **Multiplicative update** (an exponentiated-gradient step without `exp`):
//!    `uᵢ = wᵢ × (1 + η·rᵢ)`, with `η ∈ (0, 1]` so `uᵢ ≥ 0`, then normalized to sum 1.
//! 3. **Floor**: mixed with the uniform blend, `tᵢ = (1 − 4m)·uᵢ + m`, so every weight is at
//!    least `m = min_weight` and a sub-signal can earn weight back.
//! 4. **Bounded step**: when some `|tᵢ − wᵢ|` exceeds `max_step`, the whole move is scaled
//!    down so the largest change is exactly `max_step`: `wᵢ + (tᵢ − wᵢ) × max_step ÷ maxⱼ|tⱼ − wⱼ|`
//!    (a convex combination of two valid blends, hence valid).
//!
//! Every normalization is exact: the shares are computed as rationals in `i128` and rounded
//! to 8 decimals by the largest-remainder rule (each share rounded down, then the missing
//! units of 1e-8 go to the shares with the largest remainders, lowest index on ties), so the
//! weights always sum to exactly 1, stay non-negative, and each one is the floor or ceiling
//! of its exact value — which keeps every change within `max_step`.

use maxx_events::{BlendWeights, FixedPoint};

use super::attribution::Attribution;

const SCALE: i128 = FixedPoint::SCALE as i128;

/// The parameters of one learning step (from the governor's configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepParams {
    /// η in `(0, 1]`.
    pub learning_rate: FixedPoint,
    /// Largest change of one weight, `(0, 1]`.
    pub max_step: FixedPoint,
    /// Floor `m`, `0..=0.25`.
    pub min_weight: FixedPoint,
}

/// The weights in blend order.
pub fn as_array(weights: &BlendWeights) -> [FixedPoint; 4] {
    [weights.momentum, weights.mean_reversion, weights.breakout, weights.sentiment]
}

/// Weights from four values in blend order.
pub fn from_array([momentum, mean_reversion, breakout, sentiment]: [FixedPoint; 4]) -> BlendWeights {
    BlendWeights { momentum, mean_reversion, breakout, sentiment }
}

/// True when the weights are non-negative and sum to exactly 1.
pub fn is_valid(weights: &BlendWeights) -> bool {
    let all = as_array(weights);
    all.iter().all(|w| !w.is_negative()) && all.iter().map(|w| i128::from(w.raw())).sum::<i128>() == SCALE
}

/// Shares of 1 proportional to `parts` (non-negative, not all zero), rounded by the largest
/// remainder so that they sum to exactly 1; `None` otherwise or on overflow.
pub fn apportion(parts: [i128; 4]) -> Option<[FixedPoint; 4]> {
    if parts.iter().any(|p| *p < 0) {
        return None;
    }
    let total: i128 = parts.iter().try_fold(0i128, |sum, p| sum.checked_add(*p))?;
    if total == 0 {
        return None;
    }
    let mut shares = [0i128; 4];
    let mut remainders = [0i128; 4];
    for i in 0..4 {
        let scaled = parts[i].checked_mul(SCALE)?;
        shares[i] = scaled / total;
        remainders[i] = scaled % total;
    }
    let missing = SCALE - shares.iter().sum::<i128>(); // Σ remainders ÷ total: 0..=3
    let mut order = [0usize, 1, 2, 3];
    order.sort_by(|a, b| remainders[*b].cmp(&remainders[*a]).then(a.cmp(b)));
    for &i in order.iter().take(usize::try_from(missing).ok()?) {
        shares[i] += 1;
    }
    let fixed = |raw: i128| i64::try_from(raw).ok().map(FixedPoint::from_raw);
    Some([fixed(shares[0])?, fixed(shares[1])?, fixed(shares[2])?, fixed(shares[3])?])
}

/// `weights` scaled to sum to exactly 1; `None` when negative or all zero.
pub fn normalized(weights: &BlendWeights) -> Option<BlendWeights> {
    apportion(as_array(weights).map(|w| i128::from(w.raw()))).map(from_array)
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

/// One learning step from the valid blend `current` with the attribution `window`; `None`
/// when nothing was attributed (or `current` is not a valid blend).
pub fn step(current: &BlendWeights, window: &Attribution, params: &StepParams) -> Option<BlendWeights> {
    if !is_valid(current) {
        return None;
    }
    let weights = as_array(current).map(|w| i128::from(w.raw()));
    let amounts = window.as_array().map(|a| i128::from(a.raw()));
    let magnitude: i128 = amounts.iter().map(|a| a.abs()).sum();
    if magnitude == 0 {
        return None;
    }
    let eta = i128::from(params.learning_rate.raw()).clamp(0, SCALE);
    // 1 + η·rᵢ with rᵢ = Aᵢ ÷ Σ|Aⱼ|, as raw fixed point (≥ 0 since η ≤ 1 and |rᵢ| ≤ 1).
    let factors = amounts.map(|a| (SCALE + round_div(eta * round_div(a * SCALE, magnitude), SCALE)).max(0));
    let updated = apportion([0, 1, 2, 3].map(|i| weights[i] * factors[i])).unwrap_or(as_array(current));
    // Floor: (1 − 4m)·uᵢ + m, as parts of SCALE².
    let floor = i128::from(params.min_weight.raw()).clamp(0, SCALE / 4);
    let target = apportion(updated.map(|u| i128::from(u.raw()) * (SCALE - 4 * floor) + floor * SCALE))?;
    let target = target.map(|t| i128::from(t.raw()));
    let moves: [i128; 4] = [0, 1, 2, 3].map(|i| target[i] - weights[i]);
    let largest = moves.iter().map(|m| m.abs()).max().unwrap_or(0);
    let bound = i128::from(params.max_step.raw()).clamp(1, SCALE);
    if largest <= bound {
        return apportion(target).map(from_array);
    }
    // wᵢ + Δᵢ × bound ÷ largest, as parts of SCALE × largest.
    apportion([0, 1, 2, 3].map(|i| weights[i] * largest + moves[i] * bound)).map(from_array)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn fp(text: &str) -> FixedPoint {
        text.parse().expect("a number")
    }

    fn weights(values: [&str; 4]) -> BlendWeights {
        from_array(values.map(fp))
    }

    fn params(eta: &str, max_step: &str, floor: &str) -> StepParams {
        StepParams { learning_rate: fp(eta), max_step: fp(max_step), min_weight: fp(floor) }
    }

    #[test]
    fn apportioned_shares_sum_to_exactly_one() {
        assert_eq!(apportion([1, 1, 1, 0]), Some([fp("0.33333334"), fp("0.33333333"), fp("0.33333333"), FixedPoint::ZERO]));
        assert_eq!(normalized(&weights(["0.5", "0.3", "0.2", "0.1"])), Some(weights(["0.45454546", "0.27272727", "0.18181818", "0.09090909"])));
        assert_eq!(apportion([0, 0, 0, 0]), None);
        assert_eq!(apportion([1, -1, 1, 1]), None);
    }

    #[test]
    fn a_winning_sub_signal_gains_weight_by_the_multiplicative_rule() {
        // r = (1, −1, 0, 0) ÷ 2 = (0.5, −0.5, 0, 0); η = 0.2: factors 1.1, 0.9, 1, 1.
        // u = (0.275, 0.225, 0.25, 0.25), already summing to 1; no floor, no bound hit.
        let window = Attribution { momentum: fp("100"), mean_reversion: fp("-100"), ..Attribution::default() };
        let next = step(&weights(["0.25", "0.25", "0.25", "0.25"]), &window, &params("0.2", "1", "0")).expect("a step");
        assert_eq!(next, weights(["0.275", "0.225", "0.25", "0.25"]));
    }

    #[test]
    fn the_step_is_bounded_and_the_floor_applies() {
        // η = 1, r = (1, 0, 0, 0): factors (2, 1, 1, 1), u = (0.5, 0.25, 0.25, 0.25) ÷ 1.25
        // = (0.4, 0.2, 0.2, 0.2); floor 0.05: t = 0.8·u + 0.05 = (0.37, 0.21, 0.21, 0.21).
        // The moves (+0.12, −0.04 ×3) exceed max_step 0.1: scaled by 0.1 ÷ 0.12 to
        // (+0.1, −0.0333… ×3) -> 0.35 and 0.21666666(6) ×3, whose two missing 1e-8 go to the
        // lowest indices among the equal remainders.
        let window = Attribution { momentum: fp("7"), ..Attribution::default() };
        let next = step(&weights(["0.25", "0.25", "0.25", "0.25"]), &window, &params("1", "0.1", "0.05")).expect("a step");
        assert_eq!(next, weights(["0.35", "0.21666667", "0.21666667", "0.21666666"]));
        // Without the bound the floor keeps a losing sub-signal at 0.05: r = (0, 0, 0, −1).
        let losing = Attribution { sentiment: fp("-3"), ..Attribution::default() };
        let next = step(&weights(["0.3", "0.3", "0.3", "0.1"]), &losing, &params("1", "1", "0.05")).expect("a step");
        assert_eq!(next, weights(["0.31666667", "0.31666667", "0.31666666", "0.05"]));
        assert_eq!(step(&weights(["0.25", "0.25", "0.25", "0.25"]), &Attribution::default(), &params("1", "0.1", "0")), None, "nothing attributed");
        assert_eq!(step(&weights(["0.5", "0.5", "0.5", "0"]), &window, &params("1", "0.1", "0")), None, "current must be a valid blend");
    }

    fn valid_blend() -> impl Strategy<Value = BlendWeights> {
        proptest::array::uniform4(0i128..1_000_000).prop_filter_map("not all zero", |parts| apportion(parts).map(from_array))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn weights_stay_valid_and_steps_stay_bounded(
            start in valid_blend(),
            windows in proptest::collection::vec(proptest::array::uniform4(-1_000_000_000_000_000i64..1_000_000_000_000_000), 1..12),
            eta in 1i64..=FixedPoint::SCALE,
            max_step in 1i64..=FixedPoint::SCALE,
            floor in 0i64..=FixedPoint::SCALE / 4,
        ) {
            let params = StepParams { learning_rate: FixedPoint::from_raw(eta), max_step: FixedPoint::from_raw(max_step), min_weight: FixedPoint::from_raw(floor) };
            let mut current = start;
            for window in windows {
                let window = Attribution::from_array(window.map(FixedPoint::from_raw));
                let Some(next) = step(&current, &window, &params) else {
                    prop_assert!(window.is_zero());
                    continue;
                };
                prop_assert!(is_valid(&next), "{next:?}");
                for (before, after) in as_array(&current).into_iter().zip(as_array(&next)) {
                    prop_assert!(after.checked_sub(before).expect("small").abs() <= params.max_step, "{current:?} -> {next:?}");
                }
                current = next;
            }
        }
    }
}
