//! Sentiment: the latest sentiment score of a symbol, decayed with its age in event time.
//!
//! The decay halves the score per whole half-life elapsed and interpolates linearly within
//! one half-life: with `k` whole half-lives and a fraction `f` of the next one elapsed,
//! `decayed = score × 2^−k × (1 − f/2)`. That matches `score × 2^(−age/half_life)` exactly at
//! every whole half-life and stays within 6.1 % of it between (the chord of a convex curve
//! lies above it); it needs only halving, `×` and `÷`, so it is identical on every machine
//! (no `exp`/`powf`, whose results differ between libm builds).

/// `score` decayed over `age_micros` with a half-life of `half_life_micros`.
///
/// A negative age (a score stamped after the tick) counts as 0. After 64 half-lives the
/// score is 0. A non-positive half-life gives 0.
pub fn decayed(score: f64, age_micros: i64, half_life_micros: i64) -> f64 {
    if half_life_micros <= 0 {
        return 0.0;
    }
    let age = age_micros.max(0);
    let whole = age / half_life_micros;
    if whole >= 64 {
        return 0.0;
    }
    let fraction = (age % half_life_micros) as f64 / half_life_micros as f64;
    let mut value = score;
    for _ in 0..whole {
        value /= 2.0;
    }
    value * (1.0 - fraction / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decay_by_hand() {
        let h = 1_800_000_000; // 30 minutes in microseconds
        assert_eq!(decayed(0.8, 0, h), 0.8, "fresh");
        assert_eq!(decayed(0.8, h, h), 0.4, "one half-life: halved");
        assert_eq!(decayed(0.8, 2 * h, h), 0.2, "two: quartered");
        // Half a half-life: 0.8 × (1 - 0.5/2) = 0.8 × 0.75 = 0.6 (true 2^-0.5 would give 0.5657).
        assert!((decayed(0.8, h / 2, h) - 0.6).abs() < 1e-15);
        // 2.25 half-lives: 0.8 / 4 × (1 - 0.25/2) = 0.2 × 0.875 = 0.175.
        assert!((decayed(0.8, 2 * h + h / 4, h) - 0.175).abs() < 1e-15);
        assert!((decayed(-0.6, h, h) + 0.3).abs() < 1e-15, "negative scores decay towards 0 too");
        assert_eq!(decayed(0.8, -5, h), 0.8, "a score from the future counts as fresh");
        assert_eq!(decayed(0.8, 64 * h, h), 0.0);
        assert_eq!(decayed(0.8, 10, 0), 0.0);
    }
}
