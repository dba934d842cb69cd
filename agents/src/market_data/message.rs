//! What a venue parser makes of one message, before symbols are mapped and duplicates
//! dropped: ticks in the venue's own instrument names, a heartbeat, or a control reply. Also
//! the field readers the parsers share, which turn every surprise into a [`FeedError`].

use maxx_events::{EventTime, FixedPoint};
use serde_json::Value;

use super::error::FeedError;
use super::time;
use super::venue::{StreamKind, Venue};

/// One price update as the venue sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueTick {
    /// Trade or quote stream.
    pub kind: StreamKind,
    /// The venue's instrument name, e.g. `BTCUSDT`, `BTC-USD`, `EUR_USD`.
    pub instrument: String,
    /// Exchange time (or receipt time when the venue sends none).
    pub time: EventTime,
    /// Last trade price; `None` when the message carries no price (a book update, a ticker
    /// delta without one) and it is taken from the last known one or the mid.
    pub price: Option<FixedPoint>,
    /// Traded quantity; zero for quotes.
    pub volume: FixedPoint,
    /// Best bid, when the message has one.
    pub bid: Option<FixedPoint>,
    /// Best ask, when the message has one.
    pub ask: Option<FixedPoint>,
    /// Venue sequence or trade id within the (instrument, kind) stream.
    pub seq: i64,
}

/// One venue message, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VenueMessage {
    /// Price updates.
    Ticks(Vec<VenueTick>),
    /// A venue heartbeat or pong: the connection is alive, no data.
    Heartbeat,
    /// A reply to a request (subscription confirmed).
    Ack,
}

/// Reads the fields of a JSON object, reporting missing or bad ones as [`FeedError`]s.
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a> {
    pub venue: Venue,
    pub value: &'a Value,
}

impl<'a> Fields<'a> {
    pub fn parse(venue: Venue, text: &str) -> Result<Value, FeedError> {
        serde_json::from_str(text).map_err(|e| FeedError::Malformed { venue, detail: e.to_string() })
    }

    pub fn new(venue: Venue, value: &'a Value) -> Self {
        Self { venue, value }
    }

    pub fn malformed(&self, detail: impl Into<String>) -> FeedError {
        FeedError::Malformed { venue: self.venue, detail: detail.into() }
    }

    pub fn has(&self, field: &str) -> bool {
        self.value.get(field).is_some_and(|v| !v.is_null())
    }

    pub fn get(&self, field: &str) -> Option<&'a Value> {
        self.value.get(field).filter(|v| !v.is_null())
    }

    pub fn opt_str(&self, field: &str) -> Result<Option<&'a str>, FeedError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.malformed(format!("{field} is {other}, not a string"))),
        }
    }

    pub fn str(&self, field: &str) -> Result<&'a str, FeedError> {
        self.opt_str(field)?.ok_or_else(|| self.malformed(format!("{field} is missing")))
    }

    /// An integer sent as a JSON number or a numeric string.
    pub fn opt_int(&self, field: &'static str) -> Result<Option<i64>, FeedError> {
        let bad = |value: String| FeedError::BadNumber { venue: self.venue, field, value };
        match self.get(field) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| bad(n.to_string())),
            Some(Value::String(s)) => s.parse().map(Some).map_err(|_| bad(s.clone())),
            Some(other) => Err(bad(other.to_string())),
        }
    }

    pub fn int(&self, field: &'static str) -> Result<i64, FeedError> {
        self.opt_int(field)?.ok_or_else(|| self.malformed(format!("{field} is missing")))
    }

    /// An exact decimal sent as a string (venues quote prices as strings) or a number.
    pub fn opt_decimal(&self, field: &'static str) -> Result<Option<FixedPoint>, FeedError> {
        let text = match self.get(field) {
            None => return Ok(None),
            Some(Value::String(s)) if s.is_empty() => return Ok(None),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(other) => return Err(FeedError::BadNumber { venue: self.venue, field, value: other.to_string() }),
        };
        decimal(self.venue, field, &text).map(Some)
    }

    pub fn decimal(&self, field: &'static str) -> Result<FixedPoint, FeedError> {
        self.opt_decimal(field)?.ok_or_else(|| self.malformed(format!("{field} is missing")))
    }

    /// Epoch milliseconds.
    pub fn millis(&self, field: &'static str) -> Result<EventTime, FeedError> {
        let millis = self.int(field)?;
        time::from_millis(millis).ok_or(FeedError::BadTime { venue: self.venue, value: millis.to_string() })
    }

    /// RFC 3339 text.
    pub fn rfc3339(&self, field: &'static str) -> Result<Option<EventTime>, FeedError> {
        match self.opt_str(field)? {
            None => Ok(None),
            Some(text) => time::parse_rfc3339(text).map(Some).ok_or_else(|| FeedError::BadTime { venue: self.venue, value: text.to_owned() }),
        }
    }
}

/// A decimal in venue text; also accepts an exponent-free number with more than eight
/// decimals only when the extra digits are zeros.
pub(crate) fn decimal(venue: Venue, field: &'static str, text: &str) -> Result<FixedPoint, FeedError> {
    let bad = || FeedError::BadNumber { venue, field, value: text.to_owned() };
    let trimmed = match text.split_once('.') {
        Some((int, frac)) if frac.len() > 8 && frac.bytes().skip(8).all(|b| b == b'0') && frac.is_char_boundary(8) => format!("{int}.{}", &frac[..8]),
        _ => text.to_owned(),
    };
    trimmed.parse().map_err(|_| bad())
}

/// A stable 63-bit id for a venue id that is not a number (FNV-1a), so it fits `venue_seq`.
pub fn id_of(text: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash >> 1) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact_and_bad_ones_are_typed() {
        assert_eq!(decimal(Venue::Binance, "p", "25.35190000"), Ok(FixedPoint::from_raw(2_535_190_000)));
        assert_eq!(decimal(Venue::Oanda, "price", "1.1000000000"), Ok(FixedPoint::from_raw(110_000_000)));
        assert!(matches!(decimal(Venue::Binance, "p", "1.000000001"), Err(FeedError::BadNumber { field: "p", .. })));
        assert!(matches!(decimal(Venue::Binance, "p", "abc"), Err(FeedError::BadNumber { .. })));
        // Found by the fuzz test: a multi-byte character past the eighth decimal.
        assert!(matches!(decimal(Venue::Binance, "p", "1.0000000\u{fffd}0"), Err(FeedError::BadNumber { .. })));
    }

    #[test]
    fn text_ids_hash_stably_and_non_negative() {
        assert_eq!(id_of("2290000000036455162"), id_of("2290000000036455162"));
        assert_ne!(id_of("a"), id_of("b"));
        assert!(id_of("anything at all") >= 0);
    }
}
