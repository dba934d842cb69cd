//! A seeded synthetic market for the sample tick file and benchmarks: per symbol a random walk
//! whose drift changes regime every few hundred ticks (so trend and mean-reversion signals
//! both get something to do), quoted with a one-basis-point spread. Integer arithmetic only
//! (splitmix64 and fixed point): the same seed gives the same ticks on every machine.
//!
//! `data/sample_ticks.csv` is `sample_ticks(&SampleSpec::default())` written with
//! [`crate::ticks_csv::write`] (`maxx backtest --generate-sample FILE` writes it again).

use maxx_agents::market_data::synthetic::SplitMix64;
use maxx_events::{EventId, EventTime, FixedPoint, Tick};

use crate::ticks_csv::file_producer;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleSpec {
    /// Seed of the generator.
    pub seed: u64,
    /// Number of ticks in all.
    pub ticks: usize,
    /// Symbols and starting prices (whole quote units); ticks go round-robin over them.
    pub symbols: Vec<(String, i64)>,
    /// Time of the first tick (µs since the epoch).
    pub start_micros: i64,
    /// Time between two ticks (µs).
    pub step_micros: i64,
    /// Ticks of one symbol between drift regime changes.
    pub regime_ticks: usize,
}

impl Default for SampleSpec {
    fn default() -> Self {
        Self {
            seed: 8,
            ticks: 4_000,
            symbols: vec![("BTCUSD".into(), 60_000), ("ETHUSD".into(), 3_000)],
            start_micros: 1_767_225_600_000_000, // 2026-01-01T00:00:00Z
            step_micros: 1_000_000,
            regime_ticks: 250,
        }
    }
}

/// The ticks of `spec`.
pub fn sample_ticks(spec: &SampleSpec) -> Vec<Tick> {
    let mut rng = SplitMix64(spec.seed);
    let producer = file_producer();
    let mut prices: Vec<i64> = spec.symbols.iter().map(|(_, p)| p.saturating_mul(FixedPoint::SCALE)).collect();
    let mut drifts: Vec<i64> = vec![0; spec.symbols.len()];
    let mut ticks = Vec::with_capacity(spec.ticks);
    for n in 0..spec.ticks {
        let s = n % spec.symbols.len().max(1);
        let Some((symbol, _)) = spec.symbols.get(s) else { break };
        let per_symbol = n / spec.symbols.len().max(1);
        if per_symbol.is_multiple_of(spec.regime_ticks.max(1)) {
            // Drift in tenths of a basis point per tick: -3.0 .. +3.0 bp.
            drifts[s] = rng.symmetric(30);
        }
        // Noise: -6.0 .. +6.0 bp per tick; move = price × (drift + noise) / 100 000.
        let tenth_bps = drifts[s] + rng.symmetric(60);
        let price = prices[s];
        let next = (price + price / 100_000 * tenth_bps).max(FixedPoint::SCALE);
        prices[s] = next;
        let half_spread = (next / 20_000).max(1); // half of 1 bp
        let volume = (1 + (rng.next_u64() % 40)) as i64 * FixedPoint::SCALE / 10;
        let time = EventTime::from_micros(spec.start_micros + i64::try_from(n).unwrap_or(i64::MAX) * spec.step_micros);
        let seq = i64::try_from(n).unwrap_or(i64::MAX);
        ticks.push(Tick {
            event_id: EventId::derive(time, &[b"sample/tick", &seq.to_be_bytes()]),
            event_time: time,
            producer: producer.clone(),
            symbol: symbol.clone(),
            exchange: "sample".into(),
            price: FixedPoint::from_raw(next),
            volume: FixedPoint::from_raw(volume),
            bid: Some(FixedPoint::from_raw(next - half_spread)),
            ask: Some(FixedPoint::from_raw(next + half_spread)),
            venue_seq: Some(seq),
        });
    }
    ticks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_market_and_another_seed_another() {
        let spec = SampleSpec { ticks: 500, ..SampleSpec::default() };
        let a = sample_ticks(&spec);
        assert_eq!(a.len(), 500);
        assert_eq!(a, sample_ticks(&spec));
        assert_ne!(a, sample_ticks(&SampleSpec { seed: 9, ..spec }));
        assert!(a.iter().all(|t| t.bid < t.ask && t.price.is_positive()));
        assert!(a.windows(2).all(|w| w[0].event_time < w[1].event_time));
    }
}
