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
    /// Each sub-signal's score.
    pub components: FourView,
    /// Weights of the blend in force.
    pub weights: FourView,
    /// Version of the Alpha that produced it.
    pub version: String,
}

/// One number per sub-signal, as decimal text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FourView {
    /// Momentum.
    pub momentum: String,
    /// Mean reversion.
    pub mean_reversion: String,
    /// Breakout.
    pub breakout: String,
    /// Sentiment.
    pub sentiment: String,
}

/// The last signal emitted for `symbol`, if any.
pub fn latest_signal(state: &AlphaState, symbol: &str) -> Option<SignalView> {
    state.symbols.get(symbol)?.last_signal.as_ref().map(view)
}

fn view(signal: &Signal) -> SignalView {
    let c = &signal.components;
    let w = &signal.weights;
    SignalView {
        symbol: signal.symbol.clone(),
        event_id: signal.event_id.to_string(),
        event_time_micros: signal.event_time.as_micros(),
        score: signal.score.to_string(),
        side: signal.side,
        confidence: signal.confidence.to_string(),
        components: FourView { momentum: c.momentum.to_string(), mean_reversion: c.mean_reversion.to_string(), breakout: c.breakout.to_string(), sentiment: c.sentiment.to_string() },
        weights: FourView { momentum: w.momentum.to_string(), mean_reversion: w.mean_reversion.to_string(), breakout: w.breakout.to_string(), sentiment: w.sentiment.to_string() },
        version: signal.producer.version.clone(),
    }
}
