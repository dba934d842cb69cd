//! OANDA v20 pricing stream: `GET /v3/accounts/{account}/pricing/stream?instruments=…`
//! answers with a chunked HTTP body of newline-delimited JSON objects.
//!
//! - `PRICE`: `instrument`, `time` (RFC 3339 with nanoseconds, or UNIX seconds with a
//!   fraction), `bids`/`asks` lists of `{price, liquidity}` (best first, either may be empty),
//!   `tradeable` — one quote tick at the mid, deduplicated by its time;
//! - `HEARTBEAT`: `time`, every few seconds — liveness only;
//! - `{"errorMessage": …}`: an error reply.

use maxx_events::{EventTime, FixedPoint};

use super::error::FeedError;
use super::message::{decimal, Fields, VenueMessage, VenueTick};
use super::time;
use super::venue::{StreamKind, Venue};

const VENUE: Venue = Venue::Oanda;

/// The path and query of the stream for `instruments` of `account`.
pub fn stream_path(account: &str, instruments: &[&str]) -> String {
    format!("/v3/accounts/{account}/pricing/stream?instruments={}", instruments.join("%2C"))
}

fn parse_time(text: &str) -> Option<EventTime> {
    if let Some(time) = time::parse_rfc3339(text) {
        return Some(time);
    }
    // UNIX format: seconds with up to nine decimals.
    let (seconds, fraction) = text.split_once('.').unwrap_or((text, ""));
    if seconds.is_empty() || !seconds.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let micros: i64 = format!("{:0<6}", fraction.get(..fraction.len().min(6))?).parse().ok()?;
    seconds.parse::<i64>().ok()?.checked_mul(1_000_000)?.checked_add(micros).map(EventTime::from_micros)
}

fn best(fields: &Fields<'_>, side: &'static str) -> Result<Option<FixedPoint>, FeedError> {
    let Some(buckets) = fields.get(side) else { return Ok(None) };
    let Some(buckets) = buckets.as_array() else {
        return Err(fields.malformed(format!("{side} is not a list")));
    };
    match buckets.first() {
        None => Ok(None),
        Some(bucket) => {
            let bucket = Fields::new(VENUE, bucket);
            let price = bucket.str("price")?;
            decimal(VENUE, side, price).map(Some)
        }
    }
}

/// Parses one line of the stream (without its newline).
///
/// # Errors
/// [`FeedError`] for anything that is not a valid line of the pricing stream.
pub fn parse(line: &str, _received: EventTime) -> Result<VenueMessage, FeedError> {
    let value = Fields::parse(VENUE, line)?;
    let fields = Fields::new(VENUE, &value);
    if let Some(message) = fields.opt_str("errorMessage")? {
        return Err(FeedError::Venue { venue: VENUE, message: message.to_owned() });
    }
    let time_text = fields.str("time")?;
    let time = parse_time(time_text).ok_or_else(|| FeedError::BadTime { venue: VENUE, value: time_text.to_owned() })?;
    match fields.opt_str("type")?.unwrap_or("PRICE") {
        "HEARTBEAT" => Ok(VenueMessage::Heartbeat),
        "PRICE" => {
            let bid = best(&fields, "bids")?.or(fields.opt_decimal("closeoutBid")?);
            let ask = best(&fields, "asks")?.or(fields.opt_decimal("closeoutAsk")?);
            if bid.is_none() && ask.is_none() {
                return Err(FeedError::Implausible { venue: VENUE, detail: "a price with neither bids nor asks".into() });
            }
            Ok(VenueMessage::Ticks(vec![VenueTick {
                kind: StreamKind::Quote,
                instrument: fields.str("instrument")?.to_owned(),
                time,
                price: None,
                volume: FixedPoint::ZERO,
                bid,
                ask,
                seq: time.as_micros(),
            }]))
        }
        other => Err(fields.malformed(format!("unexpected line type {other:?}"))),
    }
}
