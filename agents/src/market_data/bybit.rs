//! Bybit v5 public WebSocket (linear), topics `publicTrade.<symbol>` and
//! `tickers.<symbol>`, subscribed with `{"op":"subscribe","args":[…],"req_id":…}`.
//!
//! - publicTrade: `data` is an array of trades with `T` (ms), `s`, `S` side, `v` size, `p`
//!   price, `i` trade id (a string, hashed to a stable `venue_seq`);
//! - tickers: `type` `snapshot` then `delta`s carrying only changed fields (`lastPrice`,
//!   `bid1Price`, `ask1Price`, …); the normalizer fills the rest from the last known book.
//!   `cs` (cross sequence) orders them; `ts` is the time (ms);
//! - `{"op":"subscribe","success":…}` replies, `{"op":"pong"}` keep-alives.

use maxx_events::{EventTime, FixedPoint};

use super::error::FeedError;
use super::message::{id_of, Fields, VenueMessage, VenueTick};
use super::venue::{StreamKind, Venue};

const VENUE: Venue = Venue::Bybit;

/// The subscription request for the trades and tickers of `symbols`.
pub fn subscribe(symbols: &[&str], req_id: u64) -> String {
    let args: Vec<String> = symbols.iter().flat_map(|s| [format!("publicTrade.{s}"), format!("tickers.{s}")]).collect();
    serde_json::json!({ "op": "subscribe", "args": args, "req_id": req_id.to_string() }).to_string()
}

/// The application-level ping Bybit expects every 20 seconds.
pub fn ping() -> String {
    serde_json::json!({ "op": "ping" }).to_string()
}

/// Parses one message.
///
/// # Errors
/// [`FeedError`] for anything that is not a valid message of these topics.
pub fn parse(text: &str, _received: EventTime) -> Result<VenueMessage, FeedError> {
    let value = Fields::parse(VENUE, text)?;
    let fields = Fields::new(VENUE, &value);
    if let Some(op) = fields.opt_str("op")? {
        let success = fields.get("success").and_then(serde_json::Value::as_bool).unwrap_or(true);
        if !success {
            let message = fields.opt_str("ret_msg")?.unwrap_or("refused");
            return Err(FeedError::Venue { venue: VENUE, message: format!("{op}: {message}") });
        }
        return Ok(match op {
            "ping" | "pong" => VenueMessage::Heartbeat,
            _ => VenueMessage::Ack,
        });
    }
    let topic = fields.str("topic")?;
    if topic.starts_with("publicTrade.") {
        let Some(trades) = fields.get("data").and_then(serde_json::Value::as_array) else {
            return Err(fields.malformed("publicTrade without a data array"));
        };
        let mut ticks = Vec::with_capacity(trades.len());
        for trade in trades {
            let trade = Fields::new(VENUE, trade);
            let id = trade.str("i")?;
            ticks.push(VenueTick {
                kind: StreamKind::Trade,
                instrument: trade.str("s")?.to_owned(),
                time: trade.millis("T")?,
                price: Some(trade.decimal("p")?),
                volume: trade.decimal("v")?,
                bid: None,
                ask: None,
                seq: id.parse().unwrap_or_else(|_| id_of(id)),
            });
        }
        Ok(VenueMessage::Ticks(ticks))
    } else if let Some(symbol) = topic.strip_prefix("tickers.") {
        let Some(data) = fields.get("data") else {
            return Err(fields.malformed("tickers without data"));
        };
        let data = Fields::new(VENUE, data);
        let time = fields.millis("ts")?;
        let tick = VenueTick {
            kind: StreamKind::Quote,
            instrument: data.opt_str("symbol")?.unwrap_or(symbol).to_owned(),
            time,
            price: data.opt_decimal("lastPrice")?,
            volume: FixedPoint::ZERO,
            bid: data.opt_decimal("bid1Price")?,
            ask: data.opt_decimal("ask1Price")?,
            seq: fields.opt_int("cs")?.unwrap_or(time.as_micros()),
        };
        Ok(VenueMessage::Ticks(vec![tick]))
    } else {
        Err(fields.malformed(format!("unexpected topic {topic:?}")))
    }
}
