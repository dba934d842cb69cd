//! MarketData, the pure part: venue messages (Binance, Coinbase Exchange, Bybit v5, OANDA
//! v20) parsed and normalized to [`maxx_events::Tick`]s, duplicates across reconnects and
//! restarts dropped by venue sequence in bounded state, bad messages refused as typed
//! [`FeedError`]s (counted, never a panic); the CSV file source; and a seeded synthetic
//! market.
//!
//! The I/O — WebSockets, the OANDA HTTP stream, reconnects, staleness — lives in the
//! `maxx-feeds` crate; the Kafka source shell that publishes ticks with the [`Dedupe`] state
//! snapshotted in the same transaction lives in `maxx-runtime` (`kafka::source`).
//!
//! [`MarketData`] is the agent as the runtimes see it: a source (no inputs) that writes
//! `ticks`, whose state is the [`Dedupe`] the source shell snapshots to `state.market_data`.

pub mod binance;
pub mod bybit;
pub mod coinbase;
pub mod config;
pub mod csv;
pub mod dedupe;
pub mod error;
pub mod message;
pub mod normalizer;
pub mod oanda;
pub mod synthetic;
pub mod time;
pub mod venue;

#[cfg(test)]
mod tests;

pub use config::{MarketDataConfig, OandaConfig, VenueConfig};
pub use dedupe::Dedupe;
pub use error::FeedError;
pub use message::{VenueMessage, VenueTick};
pub use normalizer::{FeedCounters, Ingested, Normalizer, NormalizerState};
pub use synthetic::{SyntheticConfig, SyntheticMarket};
pub use venue::{StreamKind, Venue};

use maxx_events::{BusEvent, Tick};

use crate::config::AgentConfig;
use crate::contract::{Agent, Emitter, Invalid};

/// The MarketData agent: a source of `ticks`. It consumes nothing; its state is what the
/// source shell has already published, so that a restart does not publish it again.
#[derive(Debug, Clone, Default)]
pub struct MarketData {
    window: usize,
    state: Dedupe,
}

impl MarketData {
    /// The agent with its configuration.
    pub fn new(config: &MarketDataConfig) -> Self {
        Self { window: config.dedupe_window, state: Dedupe::default() }
    }

    /// Whether `tick` is new (and remembers it): the source shell publishes only those.
    pub fn admit(&mut self, tick: &Tick) -> bool {
        self.state.admit(tick, self.window)
    }
}

impl Agent for MarketData {
    type State = Dedupe;
    const NAME: &'static str = "market_data";
    const INPUTS: &'static [&'static str] = &[];
    const OUTPUTS: &'static [&'static str] = &["ticks"];

    fn state(&self) -> &Dedupe {
        &self.state
    }

    fn restore(&mut self, state: Dedupe) {
        self.state = state;
    }

    /// A source has no inputs: anything delivered is ignored.
    fn handle(&mut self, _event: &BusEvent, _out: &mut Emitter<'_>) -> Result<(), Invalid> {
        Ok(())
    }

    fn reconfigure(&mut self, config: &AgentConfig) {
        self.window = config.market_data.dedupe_window;
    }
}
