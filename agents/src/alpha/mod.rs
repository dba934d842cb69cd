//! Alpha: per symbol, four sub-signals (momentum, mean reversion, breakout, sentiment) from
//! ticks and sentiment scores, blended by weights into signals.
//!
//! Each tick of a symbol appends its price to that symbol's rolling history (as exact
//! fixed-point, so a snapshot restores it bit for bit); once `min_ticks` ticks were seen the
//! four indicators are computed (f64 with `+ − × ÷ sqrt` only), converted to fixed point and
//! blended ([`blend`]). A signal is emitted only when it changes materially: the first one
//! after warm-up, a change of side, a change of the weights in force, or a score that moved
//! by at least `min_score_change` since the symbol's last signal. Sentiment scores and
//! governor weights update the state; they emit nothing by themselves (the next tick does).

mod blend;
pub mod breakout;
mod config;
pub mod mean_reversion;
pub mod momentum;
pub mod sentiment;
pub mod views;

use std::collections::{BTreeMap, VecDeque};

use maxx_events::{BlendWeights, BusEvent, EventTime, FixedPoint, GovernorWeights, SentimentScore, Signal, SignalComponents, Tick};
use serde::{Deserialize, Serialize};

pub use blend::{blend, check_weights, Blend};
pub use config::{AlphaConfig, WeightsConfig};

use crate::config::AgentConfig;
use crate::contract::{Agent, Emitter, Invalid};

/// The Alpha agent.
#[derive(Debug, Clone)]
pub struct Alpha {
    config: AlphaConfig,
    state: AlphaState,
}

/// Everything Alpha's signals depend on besides its configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlphaState {
    /// Per symbol, in symbol order.
    pub symbols: BTreeMap<String, SymbolState>,
    /// The last GovernorWeights blend; it replaces the configured weights while present.
    pub governor_weights: Option<BlendWeights>,
}

/// One symbol's rolling state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SymbolState {
    /// The latest prices, oldest first (as long as the longest window needs).
    pub prices: VecDeque<FixedPoint>,
    /// Ticks seen (for the warm-up).
    pub ticks: u64,
    /// The newest sentiment score and its event time.
    pub sentiment: Option<SentimentReading>,
    /// The last signal emitted.
    pub last_signal: Option<Signal>,
}

/// A sentiment score and when it was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentimentReading {
    /// Score in [-1, 1].
    pub score: FixedPoint,
    /// Its event time.
    pub time: EventTime,
}

impl Alpha {
    /// An Alpha with `config` and an empty state.
    pub fn new(config: AlphaConfig) -> Self {
        Self { config, state: AlphaState::default() }
    }

    /// The weights in force: the governor's when it sent some, else the configured ones.
    pub fn weights(&self) -> BlendWeights {
        self.state.governor_weights.unwrap_or_else(|| self.config.weights.into())
    }

    fn history_len(&self) -> usize {
        (self.config.momentum_window + 1).max(self.config.mean_reversion_window).max(self.config.breakout_window + 1)
    }

    fn on_tick(&mut self, tick: &Tick, out: &mut Emitter<'_>) -> Result<(), Invalid> {
        if !tick.price.is_positive() {
            return Err(Invalid::new(format!("tick {} for {}: price {} is not positive", tick.event_id, tick.symbol, tick.price)));
        }
        if tick.symbol.is_empty() {
            return Err(Invalid::new(format!("tick {} has no symbol", tick.event_id)));
        }
        let keep = self.history_len();
        let weights = self.weights();
        let config = &self.config;
        if !self.state.symbols.contains_key(tick.symbol.as_str()) {
            // The symbol's key is allocated once, not on every tick.
            self.state.symbols.insert(tick.symbol.clone(), SymbolState::default());
        }
        let Some(entry) = self.state.symbols.get_mut(tick.symbol.as_str()) else { return Ok(()) };
        entry.prices.push_back(tick.price);
        while entry.prices.len() > keep {
            entry.prices.pop_front();
        }
        entry.ticks = entry.ticks.saturating_add(1);
        if entry.ticks < config.min_ticks {
            return Ok(());
        }
        let components = components(config, entry, out.now());
        let blended = blend(&components, &weights, config.signal_threshold);
        let material = match &entry.last_signal {
            None => true,
            Some(last) => {
                last.side != blended.side
                    || last.weights != weights
                    || blended.score.checked_sub(last.score).is_none_or(|d| d.abs() >= config.min_score_change)
            }
        };
        if !material {
            return Ok(());
        }
        let envelope = out.envelope();
        let signal = Signal {
            event_id: envelope.event_id,
            event_time: envelope.event_time,
            producer: envelope.producer,
            symbol: tick.symbol.clone(),
            score: blended.score,
            side: blended.side,
            confidence: blended.confidence,
            components,
            weights,
        };
        entry.last_signal = Some(signal.clone());
        out.emit(signal);
        Ok(())
    }

    fn on_sentiment(&mut self, score: &SentimentScore) -> Result<(), Invalid> {
        if score.score.abs() > FixedPoint::ONE {
            return Err(Invalid::new(format!("sentiment {} for {}: score {} is outside [-1, 1]", score.event_id, score.symbol, score.score)));
        }
        let entry = self.state.symbols.entry(score.symbol.clone()).or_default();
        // Keep the newest by event time: a late, older item does not replace a newer one.
        if entry.sentiment.is_none_or(|s| s.time <= score.event_time) {
            entry.sentiment = Some(SentimentReading { score: score.score, time: score.event_time });
        }
        Ok(())
    }

    fn on_governor(&mut self, governor: &GovernorWeights) -> Result<(), Invalid> {
        check_weights(&governor.weights).map_err(|problem| Invalid::new(format!("governor weights {}: {problem}", governor.event_id)))?;
        self.state.governor_weights = Some(governor.weights);
        Ok(())
    }
}

/// The four component scores of `symbol` at `now`, as fixed point in [-1, 1].
fn components(config: &AlphaConfig, symbol: &SymbolState, now: EventTime) -> SignalComponents {
    let prices: Vec<f64> = symbol.prices.iter().map(|p| p.to_f64()).collect();
    let momentum = momentum::score(&prices, config.momentum_window, config.momentum_full_scale_pct.to_f64() / 100.0);
    let reversion = mean_reversion::score(&prices, config.mean_reversion_window, config.mean_reversion_full_z.to_f64());
    let breakout = breakout::score(&prices, config.breakout_window);
    let half_life = i64::try_from(config.sentiment_half_life_sec).unwrap_or(i64::MAX / 1_000_000).saturating_mul(1_000_000);
    let sentiment = symbol
        .sentiment
        .map_or(0.0, |s| sentiment::decayed(s.score.to_f64(), now.as_micros().saturating_sub(s.time.as_micros()), half_life));
    let fixed = |v: f64| FixedPoint::from_f64(momentum::clamp_unit(v)).unwrap_or(FixedPoint::ZERO);
    SignalComponents { momentum: fixed(momentum), mean_reversion: fixed(reversion), breakout: fixed(breakout), sentiment: fixed(sentiment) }
}

impl Agent for Alpha {
    type State = AlphaState;
    const NAME: &'static str = "alpha";
    const INPUTS: &'static [&'static str] = &["ticks", "sentiment_scores", "governor_weights"];
    const OUTPUTS: &'static [&'static str] = &["signals"];

    fn state(&self) -> &AlphaState {
        &self.state
    }

    fn restore(&mut self, state: AlphaState) {
        self.state = state;
    }

    fn handle(&mut self, event: &BusEvent, out: &mut Emitter<'_>) -> Result<(), Invalid> {
        match event {
            BusEvent::Tick(tick) => self.on_tick(tick, out),
            BusEvent::SentimentScore(score) => self.on_sentiment(score),
            BusEvent::GovernorWeights(governor) => self.on_governor(governor),
            _ => Ok(()),
        }
    }

    fn reconfigure(&mut self, config: &AgentConfig) {
        self.config = config.alpha.clone();
    }
}

#[cfg(test)]
mod tests;
