//! The venues MAXX reads, and the two kinds of stream each offers: trades and quotes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A venue MAXX has a connector for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Venue {
    /// Binance spot (WebSocket `trade` and `bookTicker`).
    Binance,
    /// Coinbase Exchange (WebSocket `ticker` channel).
    Coinbase,
    /// Bybit v5 public linear (WebSocket `publicTrade` and `tickers`).
    Bybit,
    /// OANDA v20 (chunked HTTP pricing stream).
    Oanda,
}

impl Venue {
    /// Every venue.
    pub const ALL: [Venue; 4] = [Venue::Binance, Venue::Coinbase, Venue::Bybit, Venue::Oanda];

    /// The name as in configuration and in `Tick.exchange`.
    pub fn as_str(self) -> &'static str {
        match self {
            Venue::Binance => "binance",
            Venue::Coinbase => "coinbase",
            Venue::Bybit => "bybit",
            Venue::Oanda => "oanda",
        }
    }
}

impl fmt::Display for Venue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a known venue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown venue {0:?} (binance, coinbase, bybit, oanda)")]
pub struct UnknownVenue(pub String);

impl FromStr for Venue {
    type Err = UnknownVenue;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Venue::ALL.into_iter().find(|v| v.as_str() == text).ok_or_else(|| UnknownVenue(text.to_owned()))
    }
}

/// Which stream of a venue a tick came from; ids are only comparable within one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamKind {
    /// Trades: a price and a traded quantity.
    Trade,
    /// Best bid/ask updates (volume 0).
    Quote,
}

impl StreamKind {
    /// `trade` or `quote`.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Trade => "trade",
            StreamKind::Quote => "quote",
        }
    }
}
