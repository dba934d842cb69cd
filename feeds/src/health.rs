//! Per-feed health for `/healthz`: when the feed last delivered anything, when its last tick
//! was, how often it reconnected and why, and what it refused. Written by the feed task,
//! read by the HTTP shell.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use maxx_agents::market_data::{FeedCounters, Venue};
use serde::Serialize;

/// What the HTTP shell shows for one feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedStatus {
    /// The venue.
    pub venue: Venue,
    /// Connected and subscribed now.
    pub connected: bool,
    /// Milliseconds since the feed last delivered a message (tick or venue heartbeat);
    /// `None` before the first one.
    pub staleness_ms: Option<u64>,
    /// Milliseconds since the last tick.
    pub tick_staleness_ms: Option<u64>,
    /// Connections opened.
    pub connects: u64,
    /// Reconnects after a drop, an error or a stall.
    pub reconnects: u64,
    /// Of which: stalls (nothing for the stall timeout).
    pub stalls: u64,
    /// Subscription requests sent (including resubscriptions).
    pub subscriptions: u64,
    /// The normalizer's counters (messages, ticks, duplicates, malformed, unmapped).
    pub counters: FeedCounters,
    /// The last incident, in words.
    pub last_incident: Option<String>,
}

#[derive(Debug, Default)]
struct Inner {
    connected: bool,
    last_message: Option<Instant>,
    last_tick: Option<Instant>,
    connects: u64,
    reconnects: u64,
    stalls: u64,
    subscriptions: u64,
    counters: FeedCounters,
    last_incident: Option<String>,
}

/// The health of one feed, shared between its task and readers.
#[derive(Debug)]
pub struct FeedHealth {
    venue: Venue,
    inner: Mutex<Inner>,
}

impl FeedHealth {
    /// A feed that has not connected yet.
    pub fn new(venue: Venue) -> Self {
        Self { venue, inner: Mutex::default() }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// The venue.
    pub fn venue(&self) -> Venue {
        self.venue
    }

    pub(crate) fn connected(&self) {
        self.with(|i| {
            i.connected = true;
            i.connects += 1;
        });
    }

    pub(crate) fn subscribed(&self) {
        self.with(|i| i.subscriptions += 1);
    }

    pub(crate) fn message(&self, ticks: usize, counters: &FeedCounters) {
        let now = Instant::now();
        self.with(|i| {
            i.last_message = Some(now);
            if ticks > 0 {
                i.last_tick = Some(now);
            }
            i.counters = counters.clone();
        });
    }

    pub(crate) fn refused(&self, counters: &FeedCounters) {
        self.with(|i| i.counters = counters.clone());
    }

    pub(crate) fn incident(&self, stalled: bool, what: String) {
        self.with(|i| {
            i.connected = false;
            i.reconnects += 1;
            if stalled {
                i.stalls += 1;
            }
            i.last_incident = Some(what);
        });
    }

    pub(crate) fn disconnected(&self) {
        self.with(|i| i.connected = false);
    }

    /// How long since the feed last delivered anything (`None`: never).
    pub fn staleness(&self) -> Option<Duration> {
        self.with(|i| i.last_message.map(|at| at.elapsed()))
    }

    /// The status as the HTTP shell shows it.
    pub fn status(&self) -> FeedStatus {
        self.with(|i| FeedStatus {
            venue: self.venue,
            connected: i.connected,
            staleness_ms: i.last_message.map(|at| at.elapsed().as_millis() as u64),
            tick_staleness_ms: i.last_tick.map(|at| at.elapsed().as_millis() as u64),
            connects: i.connects,
            reconnects: i.reconnects,
            stalls: i.stalls,
            subscriptions: i.subscriptions,
            counters: i.counters.clone(),
            last_incident: i.last_incident.clone(),
        })
    }

    /// Healthy when connected and not stale beyond `limit`.
    pub fn is_healthy(&self, limit: Duration) -> bool {
        self.with(|i| i.connected && i.last_message.is_some_and(|at| at.elapsed() <= limit))
    }
}

/// Every feed of a process, for `/healthz`: healthy when each is connected and has
/// delivered something within its limit.
#[derive(Debug, Clone, Default)]
pub struct FeedBoard {
    feeds: Vec<(std::sync::Arc<FeedHealth>, Duration)>,
}

impl FeedBoard {
    /// Adds a feed, unhealthy once silent for longer than `limit`.
    pub fn add(&mut self, feed: std::sync::Arc<FeedHealth>, limit: Duration) {
        self.feeds.push((feed, limit));
    }

    /// Whether every feed is healthy, and each one's status.
    pub fn report(&self) -> (bool, Vec<FeedStatus>) {
        let healthy = self.feeds.iter().all(|(feed, limit)| feed.is_healthy(*limit));
        (healthy, self.feeds.iter().map(|(feed, _)| feed.status()).collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn a_feed_is_healthy_while_connected_and_fresh() {
        let feed = Arc::new(FeedHealth::new(Venue::Bybit));
        let mut board = FeedBoard::default();
        board.add(Arc::clone(&feed), Duration::from_secs(60));
        assert!(!board.report().0, "never connected");
        feed.connected();
        assert!(!board.report().0, "connected, nothing received yet");
        feed.message(1, &FeedCounters { ticks: 1, ..FeedCounters::default() });
        let (healthy, statuses) = board.report();
        assert!(healthy);
        assert_eq!((statuses[0].connects, statuses[0].counters.ticks), (1, 1));
        assert!(statuses[0].staleness_ms.is_some_and(|ms| ms < 60_000) && statuses[0].tick_staleness_ms.is_some());
        feed.incident(true, "no message for 5s".into());
        let (healthy, statuses) = board.report();
        assert!(!healthy, "disconnected after a stall");
        assert_eq!((statuses[0].reconnects, statuses[0].stalls, statuses[0].last_incident.as_deref()), (1, 1, Some("no message for 5s")));
        assert!(!feed.is_healthy(Duration::ZERO));
    }
}
