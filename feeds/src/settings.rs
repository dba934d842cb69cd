//! What one feed task needs, taken from the `market_data:` configuration (plus the process
//! identity and, for OANDA, the token read from the environment by the caller).

use std::collections::BTreeMap;
use std::time::Duration;

use maxx_agents::market_data::{MarketDataConfig, Venue};
use maxx_events::Producer;

/// Settings of one feed.
#[derive(Debug, Clone)]
pub struct FeedSettings {
    /// The venue.
    pub venue: Venue,
    /// Streaming endpoint (`ws://`/`wss://`, or `http://`/`https://` for OANDA).
    pub endpoint: String,
    /// Venue instrument → MAXX symbol.
    pub symbols: BTreeMap<String, String>,
    /// First reconnect delay.
    pub backoff: Duration,
    /// Longest reconnect delay.
    pub max_backoff: Duration,
    /// Resubscribe (OANDA: reopen the stream) this often.
    pub resubscribe: Duration,
    /// Nothing received for this long: reconnect.
    pub stall_timeout: Duration,
    /// Unordered ids remembered per stream.
    pub dedupe_window: usize,
    /// Bybit wants an application ping this often.
    pub ping_interval: Duration,
    /// OANDA account id.
    pub oanda_account: String,
    /// OANDA bearer token (none: no `Authorization` header, as against a local server).
    pub oanda_token: Option<String>,
    /// Stamped on every tick.
    pub producer: Producer,
}

impl FeedSettings {
    /// The settings of `venue` from the configuration. The OANDA token is read by the caller
    /// from the variable named by `oanda.token_env`.
    pub fn from_config(config: &MarketDataConfig, venue: Venue, producer: Producer, oanda_token: Option<String>) -> Self {
        Self {
            venue,
            endpoint: config.endpoint(venue).to_owned(),
            symbols: config.symbols(venue).clone(),
            backoff: Duration::from_millis(config.retry_backoff_ms),
            max_backoff: Duration::from_millis(config.max_backoff_ms),
            resubscribe: Duration::from_secs(config.resubscribe_sec),
            stall_timeout: Duration::from_millis(config.stall_timeout_ms(venue)),
            dedupe_window: config.dedupe_window,
            ping_interval: Duration::from_secs(20),
            oanda_account: config.oanda.account_id.clone(),
            oanda_token,
            producer,
        }
    }

    /// The venue's instrument names, sorted.
    pub fn instruments(&self) -> Vec<&str> {
        self.symbols.keys().map(String::as_str).collect()
    }
}
