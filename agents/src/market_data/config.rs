//! `market_data:` section of `agent_config.yaml`: which venues to connect to, where, which
//! of their instruments map to which MAXX symbols, how reconnects behave, and the seeded
//! synthetic market used by demos and tests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::synthetic::SyntheticConfig;
use super::venue::Venue;
use crate::config::{looks_like_url, ConfigError, Validate};

/// `market_data:` — exchange feeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketDataConfig {
    /// First reconnect delay after a feed drops, doubled per failed attempt (milliseconds).
    pub retry_backoff_ms: u64,
    /// Longest reconnect delay the doubling reaches (milliseconds).
    pub max_backoff_ms: u64,
    /// Resubscribe to every stream this often (seconds).
    pub resubscribe_sec: u64,
    /// A feed that delivers nothing (no tick, no venue heartbeat) for this long is stalled:
    /// it is dropped and reconnected (milliseconds).
    pub stall_timeout_ms: u64,
    /// Venues to connect to: binance, coinbase, bybit, oanda.
    pub feeds: Vec<String>,
    /// Recent non-sequential ids remembered per stream to drop duplicates across reconnects
    /// (sequential ids need only their high-water mark).
    pub dedupe_window: usize,
    /// Binance spot: `trade` and `bookTicker` streams.
    pub binance: VenueConfig,
    /// Coinbase Exchange: the `ticker` channel.
    pub coinbase: VenueConfig,
    /// Bybit v5 public (linear): `publicTrade` and `tickers`.
    pub bybit: VenueConfig,
    /// OANDA v20 pricing stream.
    pub oanda: OandaConfig,
    /// The seeded synthetic market (demos, tests).
    pub synthetic: SyntheticConfig,
}

/// Where a venue is and which of its instruments to follow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VenueConfig {
    /// Streaming endpoint (`wss://…`; tests point it at a local server).
    pub endpoint: String,
    /// The venue's own instrument name → MAXX symbol, e.g. `BTCUSDT: BTCUSD`.
    pub symbols: BTreeMap<String, String>,
}

/// The OANDA v20 pricing stream: a chunked HTTP response of newline-delimited JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OandaConfig {
    /// Stream host, e.g. `https://stream-fxtrade.oanda.com`.
    pub endpoint: String,
    /// The v20 account whose prices are streamed.
    pub account_id: String,
    /// Name of the environment variable holding the API token (never the token itself).
    pub token_env: String,
    /// OANDA instrument (`EUR_USD`) → MAXX symbol (`EURUSD`).
    pub symbols: BTreeMap<String, String>,
    /// Stall timeout of this feed (milliseconds). OANDA sends a HEARTBEAT every 5 s on a
    /// quiet market, so the common 5 s would end healthy streams; it must be above 5 s.
    pub stall_timeout_ms: u64,
}

fn symbols(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(venue, maxx)| ((*venue).to_owned(), (*maxx).to_owned())).collect()
}

impl Default for MarketDataConfig {
    fn default() -> Self {
        Self {
            retry_backoff_ms: 250,
            max_backoff_ms: 30_000,
            resubscribe_sec: 300,
            stall_timeout_ms: 5_000,
            // OANDA is opt-in: it needs an account id (and a token) that no default can give.
            feeds: ["binance", "coinbase", "bybit"].map(String::from).to_vec(),
            dedupe_window: 256,
            binance: VenueConfig {
                endpoint: "wss://stream.binance.com:9443/ws".into(),
                symbols: symbols(&[("BTCUSDT", "BTCUSD"), ("ETHUSDT", "ETHUSD"), ("SOLUSDT", "SOLUSD")]),
            },
            coinbase: VenueConfig {
                endpoint: "wss://ws-feed.exchange.coinbase.com".into(),
                symbols: symbols(&[("BTC-USD", "BTCUSD"), ("ETH-USD", "ETHUSD"), ("SOL-USD", "SOLUSD")]),
            },
            bybit: VenueConfig {
                endpoint: "wss://stream.bybit.com/v5/public/linear".into(),
                symbols: symbols(&[("BTCUSDT", "BTCUSD"), ("ETHUSDT", "ETHUSD"), ("SOLUSDT", "SOLUSD")]),
            },
            oanda: OandaConfig::default(),
            synthetic: SyntheticConfig::default(),
        }
    }
}

impl Default for OandaConfig {
    fn default() -> Self {
        Self {
            endpoint: "https://stream-fxtrade.oanda.com".into(),
            account_id: String::new(),
            token_env: "OANDA_TOKEN".into(),
            symbols: symbols(&[("EUR_USD", "EURUSD"), ("GBP_USD", "GBPUSD"), ("USD_JPY", "USDJPY")]),
            stall_timeout_ms: 10_000,
        }
    }
}

impl MarketDataConfig {
    /// The venue's instrument → MAXX symbol map.
    pub fn symbols(&self, venue: Venue) -> &BTreeMap<String, String> {
        match venue {
            Venue::Binance => &self.binance.symbols,
            Venue::Coinbase => &self.coinbase.symbols,
            Venue::Bybit => &self.bybit.symbols,
            Venue::Oanda => &self.oanda.symbols,
        }
    }

    /// The venue's streaming endpoint.
    pub fn endpoint(&self, venue: Venue) -> &str {
        match venue {
            Venue::Binance => &self.binance.endpoint,
            Venue::Coinbase => &self.coinbase.endpoint,
            Venue::Bybit => &self.bybit.endpoint,
            Venue::Oanda => &self.oanda.endpoint,
        }
    }

    /// The stall timeout of a venue's feed (milliseconds).
    pub fn stall_timeout_ms(&self, venue: Venue) -> u64 {
        match venue {
            Venue::Oanda => self.oanda.stall_timeout_ms,
            _ => self.stall_timeout_ms,
        }
    }

    /// The configured venues that are known (unknown names are reported by validation).
    pub fn venues(&self) -> Vec<Venue> {
        self.feeds.iter().filter_map(|name| name.parse().ok()).collect()
    }
}

impl Validate for MarketDataConfig {
    fn problems(&self) -> Vec<ConfigError> {
        let mut problems = Vec::new();
        if !(10..=60_000).contains(&self.retry_backoff_ms) {
            problems.push(ConfigError::new("market_data.retry_backoff_ms", format!("{} is outside 10..=60000", self.retry_backoff_ms)));
        }
        if self.max_backoff_ms < self.retry_backoff_ms || self.max_backoff_ms > 600_000 {
            problems.push(ConfigError::new(
                "market_data.max_backoff_ms",
                format!("{} is outside retry_backoff_ms ({})..=600000", self.max_backoff_ms, self.retry_backoff_ms),
            ));
        }
        if !(1..=86_400).contains(&self.resubscribe_sec) {
            problems.push(ConfigError::new("market_data.resubscribe_sec", format!("{} is outside 1..=86400", self.resubscribe_sec)));
        }
        if !(100..=600_000).contains(&self.stall_timeout_ms) {
            problems.push(ConfigError::new("market_data.stall_timeout_ms", format!("{} is outside 100..=600000", self.stall_timeout_ms)));
        }
        if !(1..=100_000).contains(&self.dedupe_window) {
            problems.push(ConfigError::new("market_data.dedupe_window", format!("{} is outside 1..=100000", self.dedupe_window)));
        }
        for (i, feed) in self.feeds.iter().enumerate() {
            if feed.parse::<Venue>().is_err() {
                problems.push(ConfigError::new(format!("market_data.feeds[{i}]"), format!("unknown venue {feed:?} (binance, coinbase, bybit, oanda)")));
            }
        }
        for venue in self.venues() {
            let endpoint = self.endpoint(venue);
            if !looks_like_url(endpoint) {
                problems.push(ConfigError::new(format!("market_data.{venue}.endpoint"), format!("{endpoint:?} is not a URL (scheme://host…)")));
            }
            if self.symbols(venue).is_empty() {
                problems.push(ConfigError::new(format!("market_data.{venue}.symbols"), "no instrument to follow; map at least one"));
            }
            for (instrument, symbol) in self.symbols(venue) {
                if instrument.trim().is_empty() || symbol.trim().is_empty() {
                    problems.push(ConfigError::new(format!("market_data.{venue}.symbols"), format!("{instrument:?} → {symbol:?}: names must not be empty")));
                }
            }
        }
        if !(5_001..=600_000).contains(&self.oanda.stall_timeout_ms) {
            problems.push(ConfigError::new(
                "market_data.oanda.stall_timeout_ms",
                format!("{} is outside 5001..=600000 (OANDA's heartbeats come every 5 s)", self.oanda.stall_timeout_ms),
            ));
        }
        if self.venues().contains(&Venue::Oanda) && self.oanda.account_id.trim().is_empty() {
            problems.push(ConfigError::new("market_data.oanda.account_id", "the OANDA feed needs the v20 account id"));
        }
        problems.extend(self.synthetic.problems());
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(config: &MarketDataConfig) -> Vec<String> {
        config.problems().into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn defaults_without_oanda_are_valid_and_oanda_needs_an_account() {
        let mut config = MarketDataConfig::default();
        assert_eq!(fields(&config), Vec::<String>::new(), "the defaults need no credentials");
        config.feeds.push("oanda".into());
        assert_eq!(fields(&config), ["market_data.oanda.account_id"]);
        config.oanda.account_id = "101-001-1-001".into();
        assert_eq!(fields(&config), Vec::<String>::new());
    }

    #[test]
    fn out_of_range_values_and_unknown_venues_are_named() {
        let mut config = MarketDataConfig { retry_backoff_ms: 5, stall_timeout_ms: 50, feeds: vec!["binance".into(), "kraken".into()], ..MarketDataConfig::default() };
        config.binance.endpoint = "stream.binance.com".into();
        config.binance.symbols.clear();
        config.oanda.stall_timeout_ms = 5_000;
        assert_eq!(
            fields(&config),
            [
                "market_data.retry_backoff_ms",
                "market_data.stall_timeout_ms",
                "market_data.feeds[1]",
                "market_data.binance.endpoint",
                "market_data.binance.symbols",
                "market_data.oanda.stall_timeout_ms"
            ]
        );
        assert_eq!((config.stall_timeout_ms(Venue::Binance), config.stall_timeout_ms(Venue::Oanda)), (50, 5_000));
    }

    #[test]
    fn the_original_keys_still_read() {
        let config: MarketDataConfig =
            serde_json::from_str(r#"{"retry_backoff_ms": 400, "resubscribe_sec": 60, "feeds": ["bybit"]}"#).expect("the three original keys");
        assert_eq!((config.retry_backoff_ms, config.resubscribe_sec, config.venues()), (400, 60, vec![Venue::Bybit]));
        assert_eq!(config.stall_timeout_ms, 5_000, "stall timeout defaults to 5 s");
    }
}
