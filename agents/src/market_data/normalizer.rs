//! Venue messages to MAXX ticks: parse with the venue's parser, map the venue's instrument
//! name to the MAXX symbol, fill quotes from the last known book, drop duplicates, stamp a
//! deterministic envelope — and count everything that was refused.
//!
//! Pure: the receipt time is passed in (for venues whose messages carry none), and the same
//! messages give the same ticks, ids included.

use std::collections::BTreeMap;

use maxx_events::{EventId, FixedPoint, Producer, Tick};
use serde::{Deserialize, Serialize};

use super::dedupe::{is_sequential, stream_key, Dedupe};
use super::error::FeedError;
use super::message::{VenueMessage, VenueTick};
use super::venue::Venue;
use super::{binance, bybit, coinbase, oanda};
use maxx_events::EventTime;

/// The last known book of an instrument (what a delta or a book update leaves out).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Book {
    /// Best bid.
    pub bid: Option<FixedPoint>,
    /// Best ask.
    pub ask: Option<FixedPoint>,
    /// Last price.
    pub last: Option<FixedPoint>,
}

/// What a feed has seen, for metrics and `/healthz`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedCounters {
    /// Messages received.
    pub messages: u64,
    /// Ticks emitted.
    pub ticks: u64,
    /// Ticks dropped as already seen.
    pub duplicates: u64,
    /// Messages refused (any [`FeedError`]).
    pub malformed: u64,
    /// Ticks of instruments not in the configured symbol map.
    pub unmapped: u64,
}

/// Everything the normalizer's output depends on besides its configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormalizerState {
    /// What each stream already let through.
    pub dedupe: Dedupe,
    /// Last known book by `venue|symbol`.
    pub books: BTreeMap<String, Book>,
    /// Counters.
    pub counters: FeedCounters,
}

/// The result of one message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ingested {
    /// New ticks, in message order.
    pub ticks: Vec<Tick>,
    /// Ticks dropped as duplicates.
    pub duplicates: usize,
    /// Whether the message was a heartbeat or control reply (alive, no data).
    pub control: bool,
}

/// Normalizes the messages of one venue.
#[derive(Debug, Clone)]
pub struct Normalizer {
    venue: Venue,
    symbols: BTreeMap<String, String>,
    window: usize,
    producer: Producer,
    state: NormalizerState,
}

impl Normalizer {
    /// A normalizer for `venue` with its instrument → symbol map, the dedupe window for
    /// unordered ids, and the producer stamped on ticks.
    pub fn new(venue: Venue, symbols: BTreeMap<String, String>, window: usize, producer: Producer) -> Self {
        Self { venue, symbols, window, producer, state: NormalizerState::default() }
    }

    /// The venue.
    pub fn venue(&self) -> Venue {
        self.venue
    }

    /// The state (dedupe, books, counters).
    pub fn state(&self) -> &NormalizerState {
        &self.state
    }

    /// Replaces the state (restored from a snapshot).
    pub fn restore(&mut self, state: NormalizerState) {
        self.state = state;
    }

    /// Parses one venue message without touching the state.
    ///
    /// # Errors
    /// [`FeedError`] when the message is not valid.
    pub fn parse(&self, text: &str, received: EventTime) -> Result<VenueMessage, FeedError> {
        match self.venue {
            Venue::Binance => binance::parse(text, received),
            Venue::Coinbase => coinbase::parse(text, received),
            Venue::Bybit => bybit::parse(text, received),
            Venue::Oanda => oanda::parse(text, received),
        }
    }

    /// Handles one message received at `received`.
    ///
    /// # Errors
    /// [`FeedError`] when the message is not valid; it is counted in `malformed` and the
    /// state is otherwise unchanged.
    pub fn ingest(&mut self, text: &str, received: EventTime) -> Result<Ingested, FeedError> {
        self.state.counters.messages += 1;
        let parsed = self.parse(text, received).and_then(|message| self.validate(message));
        let message = match parsed {
            Ok(message) => message,
            Err(error) => {
                self.state.counters.malformed += 1;
                return Err(error);
            }
        };
        let mut result = Ingested::default();
        let VenueMessage::Ticks(ticks) = message else {
            result.control = true;
            return Ok(result);
        };
        for tick in ticks {
            let Some(symbol) = self.symbols.get(&tick.instrument).cloned() else {
                self.state.counters.unmapped += 1;
                continue;
            };
            let key = stream_key(self.venue.as_str(), &symbol, tick.kind);
            if !self.state.dedupe.first_time(&key, tick.seq, is_sequential(self.venue.as_str(), tick.kind), self.window) {
                self.state.counters.duplicates += 1;
                result.duplicates += 1;
                continue;
            }
            let book = self.state.books.entry(format!("{}|{symbol}", self.venue)).or_default();
            book.bid = tick.bid.or(book.bid);
            book.ask = tick.ask.or(book.ask);
            if tick.price.is_some() {
                book.last = tick.price;
            }
            let Some(price) = tick.price.or(book.last).or_else(|| mid(book.bid, book.ask)) else {
                // Only possible for a first delta without any price: nothing to publish yet.
                continue;
            };
            let (bid, ask) = (book.bid, book.ask);
            result.ticks.push(self.tick(&tick, symbol, price, bid, ask));
        }
        self.state.counters.ticks += result.ticks.len() as u64;
        Ok(result)
    }

    /// Refuses prices that cannot be real.
    fn validate(&self, message: VenueMessage) -> Result<VenueMessage, FeedError> {
        if let VenueMessage::Ticks(ticks) = &message {
            for tick in ticks {
                let bad = [tick.price, tick.bid, tick.ask].into_iter().flatten().any(|p| !p.is_positive());
                if bad || tick.volume.is_negative() {
                    return Err(FeedError::Implausible { venue: self.venue, detail: format!("{}: a price at or below zero, or a negative size", tick.instrument) });
                }
            }
        }
        Ok(message)
    }

    fn tick(&self, tick: &VenueTick, symbol: String, price: FixedPoint, bid: Option<FixedPoint>, ask: Option<FixedPoint>) -> Tick {
        Tick {
            event_id: tick_id(self.venue, tick),
            event_time: tick.time,
            producer: self.producer.clone(),
            symbol,
            exchange: self.venue.as_str().to_owned(),
            price,
            volume: tick.volume,
            bid,
            ask,
            venue_seq: Some(tick.seq),
        }
    }
}

/// The id of a venue tick: the same venue message always gives the same id.
pub fn tick_id(venue: Venue, tick: &VenueTick) -> EventId {
    EventId::derive(tick.time, &[b"tick", venue.as_str().as_bytes(), tick.instrument.as_bytes(), tick.kind.as_str().as_bytes(), &tick.seq.to_be_bytes()])
}

/// The mid of a two-sided book; one side when only one is known.
pub fn mid(bid: Option<FixedPoint>, ask: Option<FixedPoint>) -> Option<FixedPoint> {
    match (bid, ask) {
        (Some(bid), Some(ask)) => bid.checked_add(ask).map(|sum| FixedPoint::from_raw(sum.raw() / 2)),
        (one, other) => one.or(other),
    }
}
