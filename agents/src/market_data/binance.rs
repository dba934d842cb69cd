//! Binance spot WebSocket streams: `<symbol>@trade` and `<symbol>@bookTicker`, subscribed
//! with `{"method":"SUBSCRIBE","params":[…],"id":n}` on the raw `/ws` endpoint (combined
//! `{"stream":…,"data":…}` wrappers are unwrapped too).
//!
//! - trade: `e` = `trade`, `s` symbol, `t` trade id, `p` price, `q` quantity, `T` trade time
//!   (ms) — one trade tick, deduplicated by trade id;
//! - bookTicker: `u` update id, `s`, `b`/`B` best bid and size, `a`/`A` best ask and size —
//!   no time in spot messages, so receipt time is used; deduplicated by update id;
//! - `{"result":null,"id":n}` acknowledges a request; `{"code":…,"msg":…}` is an error;
//!   `serverShutdown` announces a disconnection (the reconnect follows the drop).

use maxx_events::{EventTime, FixedPoint};

use super::error::FeedError;
use super::message::{Fields, VenueMessage, VenueTick};
use super::venue::{StreamKind, Venue};

const VENUE: Venue = Venue::Binance;

/// The subscription request for the trade and book ticker streams of `instruments`.
pub fn subscribe(instruments: &[&str], id: u64) -> String {
    let params: Vec<String> = instruments
        .iter()
        .flat_map(|i| {
            let lower = i.to_ascii_lowercase();
            [format!("{lower}@trade"), format!("{lower}@bookTicker")]
        })
        .collect();
    serde_json::json!({ "method": "SUBSCRIBE", "params": params, "id": id }).to_string()
}

/// Parses one message; `received` stands in for the time messages without one.
///
/// # Errors
/// [`FeedError`] for anything that is not a valid Binance message of these streams.
pub fn parse(text: &str, received: EventTime) -> Result<VenueMessage, FeedError> {
    let value = Fields::parse(VENUE, text)?;
    let outer = Fields::new(VENUE, &value);
    let fields = match outer.get("data") {
        Some(data) if outer.has("stream") => Fields::new(VENUE, data),
        _ => outer,
    };
    if fields.has("id") && fields.value.get("result").is_some() && !fields.has("e") {
        return Ok(VenueMessage::Ack);
    }
    // Errors come as `{"code":…,"msg":…}` or wrapped in `{"error":{…},"id":…}`.
    let error = fields.get("error").map_or(fields, |inner| Fields::new(VENUE, inner));
    if error.has("code") && error.has("msg") {
        return Err(FeedError::Venue { venue: VENUE, message: format!("{} (code {})", error.str("msg")?, error.int("code")?) });
    }
    match fields.opt_str("e")? {
        Some("trade") => {
            let tick = VenueTick {
                kind: StreamKind::Trade,
                instrument: fields.str("s")?.to_owned(),
                time: fields.millis("T")?,
                price: Some(fields.decimal("p")?),
                volume: fields.decimal("q")?,
                bid: None,
                ask: None,
                seq: fields.int("t")?,
            };
            Ok(VenueMessage::Ticks(vec![tick]))
        }
        Some("bookTicker") | None if fields.has("u") && fields.has("b") && fields.has("a") => {
            let time = if fields.has("T") { fields.millis("T")? } else if fields.has("E") { fields.millis("E")? } else { received };
            let tick = VenueTick {
                kind: StreamKind::Quote,
                instrument: fields.str("s")?.to_owned(),
                time,
                price: None,
                volume: FixedPoint::ZERO,
                bid: Some(fields.decimal("b")?),
                ask: Some(fields.decimal("a")?),
                seq: fields.int("u")?,
            };
            Ok(VenueMessage::Ticks(vec![tick]))
        }
        Some("serverShutdown") => Ok(VenueMessage::Ack),
        Some(other) => Err(fields.malformed(format!("unexpected event type {other:?}"))),
        None => Err(fields.malformed("neither a trade, a book ticker nor a reply")),
    }
}
