//! Breakout: where the current price sits against the high/low channel of the previous
//! `window` prices: +1 above the high, −1 below the low, and inside the channel its position
//! from the middle scaled to [−1, 1] (`(p − mid) / half_width`).

/// Breakout score of `prices` (oldest first, last = current) against the channel of up to
/// `window` prices before the current one; 0 without history or inside a zero-width channel.
pub fn score(prices: &[f64], window: usize) -> f64 {
    let Some((&now, before)) = prices.split_last() else { return 0.0 };
    let n = window.min(before.len());
    if n == 0 {
        return 0.0;
    }
    let channel = &before[before.len() - n..];
    let high = channel.iter().copied().fold(f64::MIN, f64::max);
    let low = channel.iter().copied().fold(f64::MAX, f64::min);
    if now > high {
        1.0
    } else if now < low {
        -1.0
    } else if high == low {
        0.0
    } else {
        let mid = (high + low) / 2.0;
        let half = (high - low) / 2.0;
        ((now - mid) / half).clamp(-1.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakout_by_hand() {
        // Channel of the 3 before the last in [1, 10, 12, 8, x]: [10, 12, 8] -> high 12, low 8,
        // mid 10, half-width 2.
        assert_eq!(score(&[1.0, 10.0, 12.0, 8.0, 12.5], 3), 1.0, "above the high");
        assert_eq!(score(&[1.0, 10.0, 12.0, 8.0, 7.9], 3), -1.0, "below the low");
        // 11: (11 - 10) / 2 = 0.5.
        assert_eq!(score(&[1.0, 10.0, 12.0, 8.0, 11.0], 3), 0.5);
        // 8.5: (8.5 - 10) / 2 = -0.75.
        assert_eq!(score(&[1.0, 10.0, 12.0, 8.0, 8.5], 3), -0.75);
        // Window 4 includes the 1: low 1, high 12, mid 6.5, half 5.5; 11: 4.5 / 5.5 = 0.8181...
        assert!((score(&[1.0, 10.0, 12.0, 8.0, 11.0], 4) - 4.5 / 5.5).abs() < 1e-15);
        assert_eq!(score(&[5.0, 5.0, 5.0], 5), 0.0, "flat channel");
        assert_eq!(score(&[5.0], 5), 0.0, "no history");
    }
}
