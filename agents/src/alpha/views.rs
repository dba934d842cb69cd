//! Read views of Alpha's state for its HTTP routes (`GET /signal/{symbol}`).

use maxx_events::{Signal, SignalSide};
use serde::Serialize;

use crate::alpha::AlphaState;

/// The latest signal of a symbol, with its numbers as exact decimal text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignalView {
    /// Symbol.
    pub symbol: String,
    /// The signal's event id.
    pub event_id: String,
    /// Its event time, microseconds since the epoch.
    pub event_time_micros: i64,
    /// Blended score.
    pub score: String,
    /// BUY, SELL or FLAT.
    pub side: SignalSide,
    /// Confidence in [0, 1].
    pub confidence: String,
    /// Momentum, mean reversion, breakout, sentiment scores.
    pub components: [(String, String); 4],
    /// Weights of the blend in force.
    pub weights: [(String, String); 4],
    /// Version of the Alpha that produced it.
    pub version: String,
}

/// The last signal emitted for `symbol`, if any.
pub fn latest_signal(state: &AlphaState, symbol: &str) -> Option<SignalView> {
    state.symbols.get(symbol)?.last_signal.as_ref().map(view)
}

fn view(signal: &Signal) -> SignalView {
    let c = &signal.components;
    let w = &signal.weights;
    let named = |values: [maxx_events::FixedPoint; 4]| {
        let names = ["momentum", "mean_reversion", "breakout", "sentiment"];
        [0, 1, 2, 3].map(|i| (names[i].to_string(), values[i].to_string()))
    };
    SignalView {
        symbol: signal.symbol.clone(),
        event_id: signal.event_id.to_string(),
        event_time_micros: signal.event_time.as_micros(),
        score: signal.score.to_string(),
        side: signal.side,
        confidence: signal.confidence.to_string(),
        components: named([c.momentum, c.mean_reversion, c.breakout, c.sentiment]),
        weights: named([w.momentum, w.mean_reversion, w.breakout, w.sentiment]),
        version: signal.producer.version.clone(),
    }
}
