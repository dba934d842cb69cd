//! Each connector against a local server that plays the venue's recorded messages in the
//! venue's protocol: a full session normalizes to what the pure normalizer makes of it; a
//! connection dropped mid-stream is reconnected and resubscribed, and the replayed messages
//! are not emitted again; a silent feed is dropped after the stall timeout and reconnected;
//! subscriptions are renewed every `resubscribe`.

mod support;

use std::time::Duration;

use maxx_agents::market_data::Venue;
use support::{expected, fixture, marker, without_markers, After, Feed, Plan, VenueServer};

const LONG: Duration = Duration::from_secs(3_600);
const LIMIT: Duration = Duration::from_secs(15);

/// Connection 0 gets the first half of the session and is dropped; connection 1 gets the
/// whole session again (as a venue resends recent data) and a marker.
async fn dropped_connection(venue: Venue) {
    let lines = fixture(venue);
    let half = lines.len() / 2;
    let mut server = VenueServer::start(venue, move |connection| match connection {
        0 => Plan { lines: lines[..half].to_vec(), after: After::Close },
        n => Plan { lines: lines.iter().cloned().chain([marker(venue, n)]).collect(), after: After::Silent },
    })
    .await;
    let mut feed = Feed::start(&server, Duration::from_secs(10), LONG);
    let ticks = feed.until_markers(1, LIMIT).await;
    assert_eq!(without_markers(&ticks), expected(venue), "{venue}: every tick once, in order, across the drop");
    server.wait_for("two connections", LIMIT, |seen| seen.connections == 2).await;
    let requests = server.requests();
    assert_eq!(requests.iter().map(|(c, _)| *c).collect::<Vec<_>>(), [0, 1], "{venue}: subscribed on both connections: {requests:?}");
    assert_eq!(requests[0].1, requests[1].1, "{venue}: the same subscription again");
    let status = feed.health.status();
    assert_eq!((status.connects, status.reconnects, status.stalls), (2, 1, 0), "{venue}: {status:?}");
    assert!(status.last_incident.as_deref().is_some_and(|i| i.starts_with("closed") || i.starts_with("error")), "{status:?}");
    assert_eq!(status.counters.malformed, 1, "{venue}: the bad message (second half: sent once) counted, the feed went on");
    assert!(status.counters.duplicates > 0, "{venue}: the replay was recognized");
    assert!(status.connected && status.staleness_ms.is_some_and(|ms| ms < 10_000));
    feed.stop().await;
}

/// Connection 0 plays the session and goes silent; after the stall timeout the connector
/// reconnects; connection 1 replays the session and a marker.
async fn stalled_feed(venue: Venue) {
    let lines = fixture(venue);
    let mut server = VenueServer::start(venue, move |connection| match connection {
        0 => Plan { lines: lines.clone(), after: After::Silent },
        n => Plan { lines: lines.iter().cloned().chain([marker(venue, n)]).collect(), after: After::Silent },
    })
    .await;
    let stall = Duration::from_millis(500);
    let mut feed = Feed::start(&server, stall, LONG);
    let ticks = feed.until_markers(1, LIMIT).await;
    assert_eq!(without_markers(&ticks), expected(venue), "{venue}: nothing lost or repeated across the stall");
    server.wait_for("a reconnect after the stall", LIMIT, |seen| seen.connections >= 2).await;
    let status = feed.health.status();
    assert!(status.stalls >= 1 && status.reconnects >= 1, "{venue}: {status:?}");
    assert!(status.last_incident.as_deref().is_some_and(|i| i.contains("no message for 500ms")), "{status:?}");
    feed.stop().await;
}

/// With a short `resubscribe`, the subscription is renewed on the open connection (OANDA:
/// the stream request is reopened), and that is no incident.
async fn resubscribes(venue: Venue) {
    let lines = fixture(venue);
    let mut server = VenueServer::start(venue, move |_| Plan { lines: lines.clone(), after: After::Silent }).await;
    let feed = Feed::start(&server, Duration::from_secs(10), Duration::from_millis(300));
    server.wait_for("three subscriptions", LIMIT, |seen| seen.requests.len() >= 3).await;
    let requests = server.requests();
    if venue == Venue::Oanda {
        assert!(requests.iter().all(|(_, r)| r == "101-001-0000001-001?instruments=EUR_USD%2CGBP_USD%2CUSD_JPY Bearer test-token"), "{requests:?}");
    } else {
        assert!(requests.iter().all(|(connection, _)| *connection == 0), "{venue}: resubscribed on the same connection: {requests:?}");
    }
    let status = feed.health.status();
    assert_eq!(status.reconnects, 0, "{venue}: resubscribing is no incident: {status:?}");
    assert!(status.subscriptions >= 2, "{status:?}");
    feed.stop().await;
}

macro_rules! venue_tests {
    ($($name:ident: $venue:expr;)*) => {
        mod dropped_connection {
            use super::*;
            $(#[tokio::test] async fn $name() { dropped_connection($venue).await })*
        }
        mod stalled_feed {
            use super::*;
            $(#[tokio::test] async fn $name() { stalled_feed($venue).await })*
        }
        mod resubscribe {
            use super::*;
            $(#[tokio::test] async fn $name() { resubscribes($venue).await })*
        }
    };
}

venue_tests! {
    binance: Venue::Binance;
    coinbase: Venue::Coinbase;
    bybit: Venue::Bybit;
    oanda: Venue::Oanda;
}
