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
