//! Coinbase Exchange WebSocket feed (not Advanced Trade), `ticker` channel, subscribed with
//! `{"type":"subscribe","product_ids":[…],"channels":["ticker","heartbeat"]}`.
//!
//! - `ticker`: `product_id`, `sequence` (per product, increasing), `price`, `last_size`,
//!   `best_bid`, `best_ask`, `time` (RFC 3339), `trade_id` — one trade tick with the book,
//!   deduplicated by `sequence`;
//! - `heartbeat`: liveness; `subscriptions`: the confirmation; `error`: `message`/`reason`.

use maxx_events::{EventTime, FixedPoint};

use super::error::FeedError;
use super::message::{Fields, VenueMessage, VenueTick};
use super::venue::{StreamKind, Venue};

const VENUE: Venue = Venue::Coinbase;

/// The subscription request for the ticker (and heartbeat) channel of `products`.
pub fn subscribe(products: &[&str]) -> String {
    serde_json::json!({ "type": "subscribe", "product_ids": products, "channels": ["ticker", "heartbeat"] }).to_string()
}

/// Parses one message; `received` stands in for a missing `time`.
///
/// # Errors
/// [`FeedError`] for anything that is not a valid message of these channels.
pub fn parse(text: &str, received: EventTime) -> Result<VenueMessage, FeedError> {
    let value = Fields::parse(VENUE, text)?;
    let fields = Fields::new(VENUE, &value);
    match fields.str("type")? {
        "ticker" => {
            let tick = VenueTick {
                kind: StreamKind::Trade,
                instrument: fields.str("product_id")?.to_owned(),
                time: fields.rfc3339("time")?.unwrap_or(received),
                price: Some(fields.decimal("price")?),
                volume: fields.opt_decimal("last_size")?.unwrap_or(FixedPoint::ZERO),
                bid: fields.opt_decimal("best_bid")?,
                ask: fields.opt_decimal("best_ask")?,
                seq: fields.int("sequence")?,
            };
            Ok(VenueMessage::Ticks(vec![tick]))
        }
        "heartbeat" => Ok(VenueMessage::Heartbeat),
        "subscriptions" => Ok(VenueMessage::Ack),
        "error" => {
            let message = fields.opt_str("message")?.unwrap_or("error");
            let reason = fields.opt_str("reason")?.map(|r| format!(": {r}")).unwrap_or_default();
            Err(FeedError::Venue { venue: VENUE, message: format!("{message}{reason}") })
        }
        other => Err(fields.malformed(format!("unexpected message type {other:?}"))),
    }
}
