//! Duplicate ticks across reconnects and restarts: after a reconnect (or a restart from a
//! snapshot) venues resend recent messages — Coinbase its last ticker, Bybit a tickers
//! snapshot, a replaying server everything. Each stream (venue, symbol, trade or quote)
//! remembers what it already let through, in bounded space:
//!
//! - sequential streams (trade ids, update ids, sequences, times that only increase) keep
//!   their high-water mark: an id at or below it was seen;
//! - streams whose ids are not ordered (Bybit's trade ids) keep the last `window` ids.
//!
//! The state is serde so it lives in snapshots; iteration order is a `BTreeMap`'s.

use std::collections::{BTreeMap, VecDeque};

use maxx_events::Tick;
use serde::{Deserialize, Serialize};

use super::venue::{StreamKind, Venue};

/// What one stream has let through.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamSeen {
    /// Highest id let through (sequential streams).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<i64>,
    /// The most recent ids let through, oldest first (unordered streams).
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pub recent: VecDeque<i64>,
}

/// Duplicate detection for every stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dedupe {
    /// By stream key `venue|symbol|kind`.
    pub streams: BTreeMap<String, StreamSeen>,
}

/// Whether ids of a venue's stream only increase (so a high-water mark is enough).
pub fn is_sequential(exchange: &str, kind: StreamKind) -> bool {
    !(exchange == Venue::Bybit.as_str() && kind == StreamKind::Trade)
}

/// The stream key of a tick.
pub fn stream_key(exchange: &str, symbol: &str, kind: StreamKind) -> String {
    format!("{exchange}|{symbol}|{}", kind.as_str())
}

impl Dedupe {
    /// Lets `seq` of the stream through the first time only; `window` bounds what an
    /// unordered stream remembers.
    pub fn first_time(&mut self, key: &str, seq: i64, sequential: bool, window: usize) -> bool {
        let seen = match self.streams.get_mut(key) {
            Some(seen) => seen,
            None => self.streams.entry(key.to_owned()).or_default(),
        };
        if sequential {
            if seen.high.is_some_and(|high| seq <= high) {
                return false;
            }
            seen.high = Some(seq);
            return true;
        }
        if seen.recent.contains(&seq) {
            return false;
        }
        seen.recent.push_back(seq);
        while seen.recent.len() > window.max(1) {
            seen.recent.pop_front();
        }
        true
    }

    /// The same for a normalized tick, keyed by its exchange, symbol and kind (a tick with
    /// volume 0 is a quote, as the `ticks` schema says). Ticks without a venue sequence
    /// cannot be compared and always pass.
    pub fn admit(&mut self, tick: &Tick, window: usize) -> bool {
        let Some(seq) = tick.venue_seq else { return true };
        let kind = if tick.volume == maxx_events::FixedPoint::ZERO { StreamKind::Quote } else { StreamKind::Trade };
        let key = stream_key(&tick.exchange, &tick.symbol, kind);
        self.first_time(&key, seq, is_sequential(&tick.exchange, kind), window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sequential_streams_drop_anything_at_or_below_the_high_water_mark() {
        let mut dedupe = Dedupe::default();
        assert!(dedupe.first_time("binance|BTCUSD|trade", 10, true, 4));
        assert!(dedupe.first_time("binance|BTCUSD|trade", 11, true, 4));
        assert!(!dedupe.first_time("binance|BTCUSD|trade", 11, true, 4));
        assert!(!dedupe.first_time("binance|BTCUSD|trade", 3, true, 4));
        assert!(dedupe.first_time("binance|BTCUSD|quote", 3, true, 4), "another stream");
    }

    #[test]
    fn unordered_streams_remember_a_bounded_window() {
        let mut dedupe = Dedupe::default();
        for id in [50, 7, 99, 3] {
            assert!(dedupe.first_time("bybit|BTCUSD|trade", id, false, 3));
        }
        assert!(!dedupe.first_time("bybit|BTCUSD|trade", 99, false, 3));
        assert_eq!(dedupe.streams["bybit|BTCUSD|trade"].recent.len(), 3, "bounded");
        assert!(dedupe.first_time("bybit|BTCUSD|trade", 50, false, 3), "forgotten beyond the window");
    }

    proptest! {
        /// Replaying any prefix of a stream after a reconnect lets nothing through twice and
        /// loses nothing new, whatever the order of the unordered ids.
        #[test]
        fn replays_let_each_id_through_once(ids in proptest::collection::btree_set(0i64..1_000_000, 1..60), replay in 0usize..60, sequential: bool) {
            let ids: Vec<i64> = ids.into_iter().collect();
            let mut dedupe = Dedupe::default();
            let mut passed = Vec::new();
            let cut = replay.min(ids.len());
            for id in ids[..cut].iter().chain(&ids[..cut]).chain(&ids[cut..]) {
                if dedupe.first_time("k", *id, sequential, 64) {
                    passed.push(*id);
                }
            }
            prop_assert_eq!(passed, ids);
        }
    }
}
