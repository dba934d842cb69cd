//! Mean reversion: the negative z-score of the current price against the rolling mean and
//! (population) standard deviation of the window, divided by `full_z` and clamped to [-1, 1]:
//! a price far above its mean scores towards −1 (expect it to fall back).

use crate::alpha::momentum::clamp_unit;

/// Mean-reversion score of `prices` (oldest first, last = current) over the last `window`
/// prices (current included): `clamp(−(p − mean) / sd / full_z, −1, 1)`; 0 with fewer than two
/// prices or a zero deviation. Uses only `+ − × ÷` and `sqrt`, so it is bit-for-bit the same
/// on every machine.
pub fn score(prices: &[f64], window: usize, full_z: f64) -> f64 {
    let n = window.min(prices.len());
    if n < 2 || full_z <= 0.0 {
        return 0.0;
    }
    let recent = &prices[prices.len() - n..];
    let count = n as f64;
    let mean = recent.iter().sum::<f64>() / count;
    let variance = recent.iter().map(|p| (p - mean) * (p - mean)).sum::<f64>() / count;
    let sd = variance.sqrt();
    if sd <= 0.0 {
        return 0.0;
    }
    let now = recent[n - 1];
    clamp_unit(-(now - mean) / sd / full_z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_reversion_by_hand() {
        // Window 4 of [50, 10, 12, 8, 14] -> [10, 12, 8, 14]: mean = 44 / 4 = 11,
        // deviations -1, 1, -3, 3 -> squares 1 + 1 + 9 + 9 = 20, variance 5, sd = sqrt 5 = 2.2360680,
        // z = (14 - 11) / 2.2360680 = 1.3416408, score = -z / 2 = -0.6708204.
        let s = score(&[50.0, 10.0, 12.0, 8.0, 14.0], 4, 2.0);
        assert!((s + 0.670_820_39).abs() < 1e-8, "{s}");
        // Below the mean: [10, 12, 8] -> mean 10, var (0 + 4 + 4) / 3 = 8/3, sd = 1.6329932,
        // z = (8 - 10) / 1.6329932 = -1.2247449, / full_z 1 = 1.2247 -> clamped to 1.
        assert_eq!(score(&[10.0, 12.0, 8.0], 3, 1.0), 1.0);
        assert_eq!(score(&[7.0, 7.0, 7.0], 3, 2.0), 0.0, "no deviation, no signal");
        assert_eq!(score(&[7.0], 3, 2.0), 0.0);
    }
}
