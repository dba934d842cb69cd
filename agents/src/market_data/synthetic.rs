//! A seeded synthetic market for demos and tests: per symbol a random walk whose character
//! shifts between regimes — calm, trending, volatile — with spreads that widen with
//! volatility. Everything is integer arithmetic on [`FixedPoint`] driven by a SplitMix64
//! generator kept in the state, so a seed gives the same ticks on every machine.
//!
//! Symbols take turns: tick `n` is for symbol `n mod count`, at `start + n × interval`.

use maxx_events::{EventId, EventTime, FixedPoint, Producer, Tick};
use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, Validate};

/// One synthetic instrument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntheticSymbol {
    /// MAXX symbol.
    pub symbol: String,
    /// Price of the first tick.
    #[serde(with = "crate::config::decimal")]
    pub start_price: FixedPoint,
    /// Typical bid-ask spread in a calm market, in basis points of the price.
    #[serde(with = "crate::config::decimal")]
    pub spread_bps: FixedPoint,
}

/// `market_data.synthetic:`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyntheticConfig {
    /// The seed: same seed, same market.
    pub seed: u64,
    /// Event time of the first tick (epoch milliseconds).
    pub start_ms: i64,
    /// Event time between two ticks (milliseconds).
    pub tick_interval_ms: u64,
    /// Average length of a regime, in ticks of one symbol.
    pub mean_regime_ticks: u64,
    /// The instruments.
    pub symbols: Vec<SyntheticSymbol>,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        let symbol = |symbol: &str, price: i64, spread_hundredths_bp: i64| SyntheticSymbol {
            symbol: symbol.into(),
            start_price: FixedPoint::from_raw(price * FixedPoint::SCALE),
            spread_bps: FixedPoint::from_raw(spread_hundredths_bp * FixedPoint::SCALE / 100),
        };
        Self {
            seed: 1,
            start_ms: 1_767_225_600_000, // 2026-01-01T00:00:00Z
            tick_interval_ms: 100,
            mean_regime_ticks: 500,
            symbols: vec![symbol("BTCUSD", 90_000, 100), symbol("ETHUSD", 3_000, 150), symbol("EURUSD", 1, 80)],
        }
    }
}

impl Validate for SyntheticConfig {
    fn problems(&self) -> Vec<ConfigError> {
        let mut problems = Vec::new();
        if self.symbols.is_empty() {
            problems.push(ConfigError::new("market_data.synthetic.symbols", "at least one symbol"));
        }
        if !(1..=3_600_000).contains(&self.tick_interval_ms) {
            problems.push(ConfigError::new("market_data.synthetic.tick_interval_ms", format!("{} is outside 1..=3600000", self.tick_interval_ms)));
        }
        if self.mean_regime_ticks == 0 {
            problems.push(ConfigError::new("market_data.synthetic.mean_regime_ticks", "must be at least 1"));
        }
        for (i, s) in self.symbols.iter().enumerate() {
            if !s.start_price.is_positive() || s.spread_bps.is_negative() || s.spread_bps > FixedPoint::from_raw(1_000 * FixedPoint::SCALE) {
                problems.push(ConfigError::new(format!("market_data.synthetic.symbols[{i}]"), "start_price must be above 0 and spread_bps within 0..=1000"));
            }
        }
        problems
    }
}

/// The character of a symbol's market for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Regime {
    /// Small moves, tight spreads.
    Calm,
    /// A steady drift up (`true`) or down, moderate moves.
    Trending(bool),
    /// Large moves, wide spreads.
    Volatile,
}

impl Regime {
    /// Scale of a step (basis points ≈ 1.7 standard deviations).
    fn step_bps(self) -> i64 {
        match self {
            Regime::Calm => 1,
            Regime::Trending(_) => 2,
            Regime::Volatile => 8,
        }
    }
    /// Drift per step in hundred-millionths of the price.
    fn drift(self) -> i64 {
        match self {
            Regime::Trending(true) => 3_000,
            Regime::Trending(false) => -3_000,
            _ => 0,
        }
    }
    /// Spread multiplier in tenths.
    fn spread_tenths(self) -> i64 {
        match self {
            Regime::Calm => 10,
            Regime::Trending(_) => 15,
            Regime::Volatile => 40,
        }
    }
}

/// SplitMix64: tiny, fast, and the same everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..bound` (`bound` > 0; the tiny modulo bias does not matter here).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }
    /// Uniform in `-half..=half`.
    pub fn symmetric(&mut self, half: i64) -> i64 {
        self.below(2 * half.unsigned_abs() + 1) as i64 - half
    }
}

/// Where one symbol stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolState {
    /// Current mid.
    pub mid: FixedPoint,
    /// Current regime.
    pub regime: Regime,
}

/// The synthetic market's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyntheticState {
    /// The generator.
    pub rng: SplitMix64,
    /// Ticks made so far.
    pub count: u64,
    /// Per configured symbol, in order.
    pub symbols: Vec<SymbolState>,
}

/// The synthetic market.
#[derive(Debug, Clone)]
pub struct SyntheticMarket {
    config: SyntheticConfig,
    producer: Producer,
    state: SyntheticState,
}

impl SyntheticMarket {
    /// A market at its first tick.
    pub fn new(config: SyntheticConfig, producer: Producer) -> Self {
        let symbols = config.symbols.iter().map(|s| SymbolState { mid: s.start_price, regime: Regime::Calm }).collect();
        let state = SyntheticState { rng: SplitMix64(config.seed), count: 0, symbols };
        Self { config, producer, state }
    }

    /// The state (to snapshot).
    pub fn state(&self) -> &SyntheticState {
        &self.state
    }

    /// Continues from a snapshot.
    pub fn restore(&mut self, state: SyntheticState) {
        self.state = state;
    }

    /// The next tick, or `None` when no symbol is configured.
    pub fn next_tick(&mut self) -> Option<Tick> {
        let count = self.state.count;
        let index = (count % self.config.symbols.len() as u64) as usize;
        let spec = self.config.symbols.get(index)?;
        let rng = &mut self.state.rng;
        let current = self.state.symbols.get_mut(index)?;

        if rng.below(self.config.mean_regime_ticks) == 0 {
            current.regime = match rng.below(10) {
                0..=4 => Regime::Calm,
                5..=7 => Regime::Trending(rng.below(2) == 0),
                _ => Regime::Volatile,
            };
        }
        // A step: the sum of four uniforms (close to normal), scaled to the regime.
        let noise: i64 = (0..4).map(|_| rng.symmetric(10_000)).sum::<i64>() / 2;
        let step = noise * current.regime.step_bps() + current.regime.drift();
        let factor = FixedPoint::from_raw(FixedPoint::SCALE + step);
        let floor = FixedPoint::from_raw((spec.start_price.raw() / 10_000).max(1_000));
        current.mid = current.mid.checked_mul_div(factor, FixedPoint::ONE).unwrap_or(current.mid).max(floor);

        // Spread: the calm spread times the regime's multiplier, jittered by up to +50 %.
        let tenths = current.regime.spread_tenths() * (20 + rng.below(11) as i64) / 20;
        let spread_bps = FixedPoint::from_raw(spec.spread_bps.raw().saturating_mul(tenths) / 10);
        let half = current
            .mid
            .checked_mul_div(spread_bps, FixedPoint::from_raw(20_000 * FixedPoint::SCALE))
            .unwrap_or(FixedPoint::ZERO)
            .max(FixedPoint::from_raw(1));
        let bid = current.mid.checked_sub(half).filter(|b| b.is_positive()).unwrap_or(FixedPoint::from_raw(1));
        let ask = current.mid.checked_add(half).unwrap_or(current.mid).max(FixedPoint::from_raw(bid.raw() + 1));
        let buyer_takes = rng.below(2) == 0;
        let price = if buyer_takes { ask } else { bid };
        // Sizes from 0.001 to 2 units, larger when volatile.
        let size_raw = (100_000 + rng.below(200_000_000) as i64) * if current.regime == Regime::Volatile { 2 } else { 1 };

        let time = EventTime::from_micros(self.config.start_ms.saturating_mul(1_000).saturating_add((count as i64).saturating_mul(self.config.tick_interval_ms as i64 * 1_000)));
        self.state.count += 1;
        Some(Tick {
            event_id: EventId::derive(time, &[b"synthetic", &self.config.seed.to_be_bytes(), &count.to_be_bytes()]),
            event_time: time,
            producer: self.producer.clone(),
            symbol: spec.symbol.clone(),
            exchange: "synthetic".into(),
            price,
            volume: FixedPoint::from_raw(size_raw),
            bid: Some(bid),
            ask: Some(ask),
            venue_seq: Some(count as i64),
        })
    }

    /// The regime a symbol is in (for the demo's view).
    pub fn regime(&self, symbol: &str) -> Option<Regime> {
        let index = self.config.symbols.iter().position(|s| s.symbol == symbol)?;
        self.state.symbols.get(index).map(|s| s.regime)
    }
}

impl Iterator for SyntheticMarket {
    type Item = Tick;
    fn next(&mut self) -> Option<Tick> {
        self.next_tick()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// Whatever the seed and spread, books are never crossed or empty and prices stay
        /// positive.
        #[test]
        fn books_are_positive_and_uncrossed_for_any_seed(seed: u64, spread_hundredths in 0i64..2_000, start in 1i64..1_000_000) {
            let config = SyntheticConfig {
                seed,
                mean_regime_ticks: 20,
                symbols: vec![SyntheticSymbol {
                    symbol: "X".into(),
                    start_price: FixedPoint::from_raw(start * FixedPoint::SCALE / 100),
                    spread_bps: FixedPoint::from_raw(spread_hundredths * FixedPoint::SCALE / 100),
                }],
                ..SyntheticConfig::default()
            };
            let producer = Producer { agent: "market_data".into(), version: "t".into(), instance: "t".into() };
            for tick in SyntheticMarket::new(config, producer).take(500) {
                let (bid, ask) = (tick.bid.unwrap_or_default(), tick.ask.unwrap_or_default());
                prop_assert!(bid.is_positive() && ask > bid && tick.price.is_positive(), "{:?}", tick);
            }
        }
    }
}
