//! Events that bring the outside world in: market ticks, sentiment scores and trading
//! session boundaries.

use apache_avro::AvroSchema;
use serde::{Deserialize, Serialize};

use crate::event::impl_event;
use crate::primitives::{EventId, EventTime, FixedPoint, Producer};

/// A normalized market data tick (`ticks`, keyed by symbol).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct Tick {
    /// UUIDv7 of the event.
    pub event_id: EventId,
    /// Exchange time of the tick.
    pub event_time: EventTime,
    /// The MarketData agent instance that normalized it.
    pub producer: Producer,
    /// Normalized symbol, e.g. `BTCUSD`.
    pub symbol: String,
    /// Venue the tick came from.
    pub exchange: String,
    /// Last trade (or mid) price, quote currency per base unit.
    pub price: FixedPoint,
    /// Traded quantity in base units (0 for a quote update).
    pub volume: FixedPoint,
    /// Best bid, when the venue sends one.
    pub bid: Option<FixedPoint>,
    /// Best ask, when the venue sends one.
    pub ask: Option<FixedPoint>,
    /// Venue sequence or trade id, for de-duplication across reconnects.
    pub venue_seq: Option<i64>,
}
impl_event!(Tick, topic = "ticks", version = 1, key = |e| e.symbol.as_str());

/// Sentiment of one news or social item for one symbol (`sentiment_scores`, keyed by symbol).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct SentimentScore {
    /// UUIDv7 of the event.
    pub event_id: EventId,
    /// Publication time of the item.
    pub event_time: EventTime,
    /// The Sentiment agent instance that scored it.
    pub producer: Producer,
    /// Symbol the item was mapped to.
    pub symbol: String,
    /// Score in [-1, 1]; positive is bullish.
    pub score: FixedPoint,
    /// Where the item came from: newsapi, reddit, twitter, file.
    pub source: String,
    /// Id of the item at its source.
    pub item_id: String,
    /// Headline or first line.
    pub title: Option<String>,
}
impl_event!(SentimentScore, topic = "sentiment_scores", version = 1, key = |e| e.symbol.as_str());

/// A regional trading session.
///
/// Symbols (Avro's derive allows no docs on variants, so they are here):
/// - `London`: London.
/// - `NewYork`: New York.
/// - `Tokyo`: Tokyo (Asia).
/// - `Sydney`: Sydney (Asia).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum Session {
    London,
    NewYork,
    Tokyo,
    Sydney,
}

impl Session {
    /// The symbol as on the wire, e.g. `NEW_YORK`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::London => "LONDON",
            Self::NewYork => "NEW_YORK",
            Self::Tokyo => "TOKYO",
            Self::Sydney => "SYDNEY",
        }
    }
}

/// Whether a session opens or closes.
///
/// Symbols (Avro's derive allows no docs on variants, so they are here):
/// - `Open`: The session opens.
/// - `Close`: The session closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum SessionEventKind {
    Open,
    Close,
}

/// A session opening or closing (`session_events`, keyed by session).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "maxx.events")]
pub struct SessionEvent {
    /// UUIDv7 of the event.
    pub event_id: EventId,
    /// When the boundary happens.
    pub event_time: EventTime,
    /// The SessionClock instance.
    pub producer: Producer,
    /// Which session.
    pub session: Session,
    /// Open or close.
    pub event: SessionEventKind,
    /// Start of the session.
    pub start_ts: EventTime,
    /// End of the session.
    pub end_ts: EventTime,
}
impl_event!(SessionEvent, topic = "session_events", version = 1, key = |e| e.session.as_str());
