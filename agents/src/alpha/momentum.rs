//! Momentum: the return of the price over a lookback window, scaled so that a return of
//! `full_scale` (a fraction, e.g. 0.01 for 1 %) gives ±1, and clamped to [-1, 1].

/// Momentum score of `prices` (oldest first, the last is the current price).
///
/// `r = (p_now − p_base) / p_base` where `p_base` is the price `window` ticks before the
/// current one (or the oldest price held while fewer are known); score `= clamp(r /
/// full_scale, −1, 1)`. Fewer than two prices, a non-positive base or a non-positive scale
/// give 0.
pub fn score(prices: &[f64], window: usize, full_scale: f64) -> f64 {
    let Some((&now, _)) = prices.split_last() else { return 0.0 };
    if prices.len() < 2 || full_scale <= 0.0 {
        return 0.0;
    }
    let back = window.min(prices.len() - 1);
    let base = prices[prices.len() - 1 - back];
    if base <= 0.0 {
        return 0.0;
    }
    clamp_unit((now - base) / base / full_scale)
}

/// `value` clamped to [-1, 1]; NaN gives 0.
pub fn clamp_unit(value: f64) -> f64 {
    if value.is_nan() {
        0.0
    } else {
        value.clamp(-1.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn momentum_by_hand() {
        // Window 3 over [100, 101, 99, 100.5, 102]: base = prices[4 - 3] = 101,
        // r = (102 - 101) / 101 = 0.00990099..., / 0.01 = 0.990099...
        let s = score(&[100.0, 101.0, 99.0, 100.5, 102.0], 3, 0.01);
        assert!((s - 0.990_099_01).abs() < 1e-8, "{s}");
        // Window 4: base = 100, r = 0.02, / 0.01 = 2 -> clamped to 1.
        assert_eq!(score(&[100.0, 101.0, 99.0, 100.5, 102.0], 4, 0.01), 1.0);
        // Falling: base 100, now 99.5: r = -0.005, / 0.01 = -0.5.
        assert!((score(&[100.0, 99.5], 10, 0.01) + 0.5).abs() < 1e-12, "short history uses the oldest price");
        assert_eq!(score(&[100.0], 3, 0.01), 0.0, "one price: no return");
        assert_eq!(score(&[100.0, 1e9], 3, 0.01), 1.0);
        assert_eq!(score(&[100.0, 0.0], 3, 0.01), -1.0);
    }
}
