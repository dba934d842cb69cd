//! Performance figures from an equity series: per-period returns, the Sharpe ratio, and
//! drawdowns for charts.
//!
//! **Sharpe**: total equity (equity + lockbox) is sampled on a fixed event-time grid (every
//! `grid_secs`, the last pnl at or before each grid point); returns are `eᵢ ÷ eᵢ₋₁ − 1`;
//! Sharpe = mean ÷ sample standard deviation (n − 1) × √(periods per year), with a year of
//! 365 days of 86 400 s (markets that trade around the clock) and no risk-free rate. It is
//! undefined (reported as null) with fewer than two returns or no variation. Computed in
//! `f64` with `+ − × ÷ √` only, which IEEE 754 rounds exactly, so every machine prints the
//! same digits.

use maxx_events::FixedPoint;

/// Seconds in the year the Sharpe ratio is annualized to.
pub const SECONDS_PER_YEAR: f64 = 365.0 * 86_400.0;

/// Per-period simple returns of a series (empty for fewer than two points or a zero level).
pub fn returns(series: &[FixedPoint]) -> Vec<f64> {
    series
        .windows(2)
        .filter(|w| !w[0].is_negative() && w[0] != FixedPoint::ZERO)
        .map(|w| w[1].to_f64() / w[0].to_f64() - 1.0)
        .collect()
}

/// The annualized Sharpe ratio of `returns` sampled every `grid_secs`.
pub fn sharpe(returns: &[f64], grid_secs: i64) -> Option<f64> {
    if returns.len() < 2 || grid_secs < 1 {
        return None;
    }
    let n = returns.len() as f64;
    let mean = returns.iter().sum::<f64>() / n;
    let variance = returns.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / (n - 1.0);
    let deviation = variance.sqrt();
    if deviation <= 0.0 || !deviation.is_finite() {
        return None;
    }
    Some(mean / deviation * (SECONDS_PER_YEAR / grid_secs as f64).sqrt())
}

/// Drawdown (percent below the running peak, ≥ 0) at each point of a series.
pub fn drawdowns_pct(series: &[FixedPoint]) -> Vec<f64> {
    let mut peak = f64::MIN;
    series
        .iter()
        .map(|v| {
            let v = v.to_f64();
            peak = peak.max(v);
            if peak > 0.0 {
                (peak - v) / peak * 100.0
            } else {
                0.0
            }
        })
        .collect()
}

/// Fixed formatting of a figure that is not money: six decimals, `-0` shown as `0`.
pub fn fmt_f64(value: f64) -> String {
    let text = format!("{value:.6}");
    if text.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
        "0.000000".into()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn fp(text: &str) -> FixedPoint {
        text.parse().expect("decimal")
    }

    #[test]
    fn sharpe_of_a_known_series() {
        // Returns +10 %, −10 %... e: 100, 110, 99, 108.9 — mean 3.333..%, sd = 11.547 %.
        let r = returns(&[fp("100"), fp("110"), fp("99"), fp("108.9")]);
        assert_eq!(r.len(), 3);
        let s = sharpe(&r, 86_400).expect("defined");
        let mean = (0.1 - 0.1 + 0.1) / 3.0;
        let sd = ((2.0 * (0.1 - mean) * (0.1 - mean) + (-0.1 - mean) * (-0.1 - mean)) / 2.0_f64).sqrt();
        assert!((s - mean / sd * 365.0_f64.sqrt()).abs() < 1e-9, "{s}");
        assert_eq!(sharpe(&[0.01, 0.01, 0.01], 60), None, "no variation: undefined");
        assert_eq!(sharpe(&[0.01], 60), None);
    }

    #[test]
    fn drawdowns_follow_the_running_peak() {
        let d = drawdowns_pct(&[fp("100"), fp("120"), fp("90"), fp("130")]);
        assert_eq!(d.iter().map(|x| fmt_f64(*x)).collect::<Vec<_>>(), ["0.000000", "0.000000", "25.000000", "0.000000"]);
        assert_eq!(fmt_f64(-0.0), "0.000000");
    }

    proptest! {
        #[test]
        fn drawdowns_are_between_0_and_100(values in proptest::collection::vec(1_i64..1_000_000_000_000, 1..50)) {
            let series: Vec<FixedPoint> = values.into_iter().map(FixedPoint::from_raw).collect();
            for d in drawdowns_pct(&series) {
                prop_assert!((0.0..100.0).contains(&d));
            }
        }
    }
}
