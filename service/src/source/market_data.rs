//! `maxx agent market_data`: ticks from the configured venues (through the `maxx-feeds`
//! runners), the seeded synthetic market (paced by `--speed`) or a CSV file, published to
//! `ticks` by the source shell. `/healthz` reports every feed's staleness and is 500 while a
//! feed is silent past its stall timeout; `/metrics` adds per-feed staleness, reconnects,
//! malformed messages and duplicates.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use maxx_agents::config::AgentConfig;
use maxx_agents::market_data::{csv, MarketData, SyntheticConfig, SyntheticMarket, Venue};
use maxx_events::{BusEvent, Producer, Tick};
use maxx_feeds::{FeedHealth, FeedSettings, Shutdown};
use maxx_runtime::kafka::source::{SourceAgent, SourceReport};
use maxx_runtime::RuntimeError;
use serde_json::{json, Value};

use super::{SourceHealth, SourceService};
use crate::http::AgentRoutes;
use crate::metrics::Sample;
use crate::run::ServiceError;

/// Where the ticks come from.
#[derive(Debug, Clone, PartialEq)]
pub enum TickSource {
    /// The venues of `market_data.feeds`, live.
    Live,
    /// The seeded synthetic market of `market_data.synthetic`, `speed` times faster than its
    /// event time (0: as fast as the broker takes them).
    Synthetic {
        /// Pace multiplier.
        speed: f64,
    },
    /// A CSV file (`ts,symbol,price,volume,bid,ask,exchange`) or an archive of the ticks topic
    /// (`*.avro`, from `maxx archive export`); the process ends after it.
    File(PathBuf),
}

impl std::str::FromStr for TickSource {
    type Err = String;

    /// `live`, `synthetic` or `file:PATH` (speed is set separately).
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "live" => Ok(Self::Live),
            "synthetic" => Ok(Self::Synthetic { speed: 1.0 }),
            other => match other.strip_prefix("file:") {
                Some(path) if !path.is_empty() => Ok(Self::File(PathBuf::from(path))),
                _ => Err(format!("{other:?}: expected live, synthetic or file:PATH")),
            },
        }
    }
}

/// Ticks waiting for the shell at most (the feeds wait when it is behind).
const QUEUE: usize = 4_096;

/// A local feed (synthetic market, file): when it last delivered, how much.
#[derive(Debug)]
struct LocalFeed {
    name: &'static str,
    last: Mutex<Option<Instant>>,
    ticks: AtomicU64,
    refused: AtomicU64,
    finished: AtomicBool,
    limit: Duration,
}

impl LocalFeed {
    fn new(name: &'static str, limit: Duration) -> Self {
        Self { name, last: Mutex::new(None), ticks: AtomicU64::new(0), refused: AtomicU64::new(0), finished: AtomicBool::new(false), limit }
    }
    fn delivered(&self) {
        self.ticks.fetch_add(1, Ordering::Relaxed);
        *self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
    }
    fn staleness(&self) -> Option<Duration> {
        self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner).map(|at| at.elapsed())
    }
}

/// Every feed of the process, for `/healthz` and `/metrics`.
#[derive(Default)]
struct Feeds {
    venues: Vec<(Arc<FeedHealth>, Duration)>,
    local: Vec<Arc<LocalFeed>>,
    /// Ticks the shell dropped as already published (restart, reconnect).
    republished: Arc<AtomicU64>,
}

fn millis(duration: Option<Duration>) -> Option<u64> {
    duration.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl SourceHealth for Feeds {
    fn check(&self) -> (Vec<String>, Value) {
        let mut reasons = Vec::new();
        let mut feeds = Vec::new();
        for (feed, limit) in &self.venues {
            let status = feed.status();
            let healthy = feed.is_healthy(*limit);
            if !healthy {
                let why = match (status.connected, status.staleness_ms) {
                    (_, None) => "nothing received yet".to_owned(),
                    (false, Some(ms)) => format!("disconnected, last message {ms} ms ago ({})", status.last_incident.clone().unwrap_or_default()),
                    (true, Some(ms)) => format!("stale: last message {ms} ms ago"),
                };
                reasons.push(format!("feed {} unhealthy: {why} (stall timeout {} ms)", status.venue, limit.as_millis()));
            }
            let mut value = serde_json::to_value(&status).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut value {
                map.insert("feed".into(), json!(status.venue.as_str()));
                map.insert("healthy".into(), json!(healthy));
                map.insert("stall_timeout_ms".into(), json!(limit.as_millis()));
            }
            feeds.push(value);
        }
        for feed in &self.local {
            let staleness = feed.staleness();
            let finished = feed.finished.load(Ordering::SeqCst);
            let healthy = finished || staleness.is_some_and(|s| s <= feed.limit);
            if !healthy {
                let why = millis(staleness).map_or_else(|| "nothing delivered yet".to_owned(), |ms| format!("stale: last tick {ms} ms ago"));
                reasons.push(format!("feed {} unhealthy: {why} (stall timeout {} ms)", feed.name, feed.limit.as_millis()));
            }
            feeds.push(json!({
                "feed": feed.name,
                "healthy": healthy,
                "finished": finished,
                "staleness_ms": millis(staleness),
                "stall_timeout_ms": feed.limit.as_millis(),
                "ticks": feed.ticks.load(Ordering::Relaxed),
                "refused": feed.refused.load(Ordering::Relaxed),
            }));
        }
        (reasons, json!({ "feeds": feeds }))
    }
}

#[allow(clippy::cast_precision_loss)] // counters as Prometheus floats
impl Feeds {
    fn samples(&self) -> Vec<Sample> {
        const STALENESS: &str = "maxx_market_data_feed_staleness_seconds";
        const STALENESS_HELP: &str = "Seconds since the feed last delivered a message (absent before the first).";
        let mut samples = Vec::new();
        for (feed, _) in &self.venues {
            let status = feed.status();
            let name = status.venue.as_str();
            if let Some(ms) = status.staleness_ms {
                samples.push(Sample::gauge(STALENESS, STALENESS_HELP, ms as f64 / 1_000.0).label("feed", name));
            }
            samples.push(Sample::gauge("maxx_market_data_feed_connected", "1 while the feed is connected and subscribed.", if status.connected { 1.0 } else { 0.0 }).label("feed", name));
            samples.push(Sample::counter("maxx_market_data_feed_reconnects_total", "Reconnects after a drop, an error or a stall.", status.reconnects as f64).label("feed", name));
            samples.push(Sample::counter("maxx_market_data_feed_stalls_total", "Reconnects because nothing arrived for the stall timeout.", status.stalls as f64).label("feed", name));
            samples.push(Sample::counter("maxx_market_data_malformed_total", "Venue messages refused as malformed.", status.counters.malformed as f64).label("feed", name));
            samples.push(Sample::counter("maxx_market_data_duplicates_total", "Ticks dropped as already seen.", status.counters.duplicates as f64).label("feed", name));
            samples.push(Sample::counter("maxx_market_data_ticks_total", "Ticks normalized by the feed.", status.counters.ticks as f64).label("feed", name));
        }
        for feed in &self.local {
            if let Some(staleness) = feed.staleness() {
                samples.push(Sample::gauge(STALENESS, STALENESS_HELP, staleness.as_secs_f64()).label("feed", feed.name));
            }
            samples.push(Sample::counter("maxx_market_data_malformed_total", "Venue messages refused as malformed.", feed.refused.load(Ordering::Relaxed) as f64).label("feed", feed.name));
            samples.push(Sample::counter("maxx_market_data_ticks_total", "Ticks normalized by the feed.", feed.ticks.load(Ordering::Relaxed) as f64).label("feed", feed.name));
        }
        samples.push(Sample::counter("maxx_market_data_republished_dropped_total", "Ticks the source shell dropped as published before (restarts, venue resends).", self.republished.load(Ordering::Relaxed) as f64));
        samples
    }
}

/// MarketData counting what the shell drops as already published.
struct Counted {
    inner: MarketData,
    dropped: Arc<AtomicU64>,
}

impl SourceAgent for Counted {
    type Item = Tick;
    type Outcome = bool;
    type State = <MarketData as SourceAgent>::State;
    const NAME: &'static str = <MarketData as SourceAgent>::NAME;
    const VERSION: &'static str = <MarketData as SourceAgent>::VERSION;
    const OUTPUTS: &'static [&'static str] = <MarketData as SourceAgent>::OUTPUTS;

    fn state(&self) -> &Self::State {
        SourceAgent::state(&self.inner)
    }
    fn restore(&mut self, state: Self::State) {
        SourceAgent::restore(&mut self.inner, state);
    }
    fn admit(&mut self, tick: &Tick, out: &mut Vec<BusEvent>) -> bool {
        let new = SourceAgent::admit(&mut self.inner, tick, out);
        if !new {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        new
    }
    fn reconfigure(&mut self, config: &AgentConfig) {
        SourceAgent::reconfigure(&mut self.inner, config);
    }
}

/// Runs MarketData on `source` until SIGTERM (or, for a file, its end).
///
/// # Errors
/// When the server, the feeds or the source shell fail.
pub fn run(service: SourceService, listener: std::net::TcpListener, source: TickSource) -> Result<SourceReport, ServiceError> {
    let config = service.config().current();
    let instance = service.identity().instance.clone();
    let producer = Producer { agent: "market_data".into(), version: <MarketData as maxx_agents::Agent>::VERSION.into(), instance };
    let mut feeds = Feeds::default();
    let market_data = &config.market_data;
    let (ticks, receiver) = sync_channel::<Tick>(QUEUE);
    let shutdown = service.shutdown_handle();
    // Live venues: their health handles exist now (the board is complete before the first
    // scrape); their tasks start on the server's runtime inside `serve`.
    let mut live = Vec::new();
    let mut live_ticks = None;
    match &source {
        TickSource::Live => {
            for venue in market_data.venues() {
                let health = Arc::new(FeedHealth::new(venue));
                feeds.venues.push((Arc::clone(&health), Duration::from_millis(market_data.stall_timeout_ms(venue))));
                let token = (venue == Venue::Oanda).then(|| std::env::var(&market_data.oanda.token_env).ok()).flatten();
                live.push((FeedSettings::from_config(market_data, venue, producer.clone(), token), health));
            }
            live_ticks = Some(ticks);
        }
        TickSource::Synthetic { speed } => {
            let synthetic = market_data.synthetic.clone();
            let interval = pace(&synthetic, *speed);
            let stall = Duration::from_millis(market_data.stall_timeout_ms);
            let feed = Arc::new(LocalFeed::new("synthetic", (interval * 10).max(stall)));
            feeds.local.push(Arc::clone(&feed));
            let (producer, shutdown) = (producer.clone(), Arc::clone(&shutdown));
            std::thread::Builder::new()
                .name("maxx-synthetic".into())
                .spawn(move || synthetic_market(synthetic, producer, interval, &ticks, &feed, &shutdown))
                .map_err(ServiceError::Http)?;
        }
        TickSource::File(path) => {
            let unreadable = |e: std::io::Error| ServiceError::Http(std::io::Error::new(e.kind(), format!("{}: {e}", path.display())));
            let feed = Arc::new(LocalFeed::new("file", Duration::from_millis(market_data.stall_timeout_ms)));
            feeds.local.push(Arc::clone(&feed));
            let parsed = if path.extension().is_some_and(|e| e == "avro") {
                // An archive of the ticks topic (`maxx archive export`): decoded with the
                // schemas it carries, in event-time order. A bad archive stops the start.
                let bytes = std::fs::read(path).map_err(unreadable)?;
                maxx_replay::archive::archived_ticks(&bytes)
                    .map_err(|e| ServiceError::Http(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))))?
            } else {
                let text = std::fs::read_to_string(path).map_err(unreadable)?;
                let (parsed, errors) = csv::parse(&text, &producer);
                for error in &errors {
                    tracing::warn!(file = %path.display(), %error, "tick row refused");
                }
                feed.refused.store(errors.len() as u64, Ordering::Relaxed);
                parsed
            };
            std::thread::Builder::new()
                .name("maxx-file".into())
                .spawn(move || {
                    for tick in parsed {
                        if ticks.send(tick).is_err() {
                            break;
                        }
                        feed.delivered();
                    }
                    feed.finished.store(true, Ordering::SeqCst);
                })
                .map_err(ServiceError::Http)?;
        }
    }
    let dropped = Arc::clone(&feeds.republished);
    let feeds = Arc::new(feeds);
    let kpis = Arc::clone(&feeds);
    let service = service.with_kpis(Arc::new(move || kpis.samples()));
    let health: Arc<dyn SourceHealth> = feeds;
    let agent = Counted { inner: MarketData::new(market_data), dropped };
    service.serve(listener, AgentRoutes::new(), Some(health), move |runtime, shell| {
        let (trigger, stop) = Shutdown::new();
        if let Some(ticks) = live_ticks {
            let (out, mut from_feeds) = tokio::sync::mpsc::channel::<Tick>(QUEUE);
            for (settings, health) in live {
                tracing::info!(venue = %settings.venue, endpoint = %settings.endpoint, "starting the feed");
                runtime.spawn(maxx_feeds::run_feed(settings, out.clone(), health, stop.clone()));
            }
            drop(out);
            // The shell's queue is bounded: wait for it on a thread of its own.
            std::thread::Builder::new()
                .name("maxx-feeds-bridge".into())
                .spawn(move || {
                    while let Some(tick) = from_feeds.blocking_recv() {
                        if ticks.send(tick).is_err() {
                            break;
                        }
                    }
                })
                .map_err(|e| RuntimeError::Fatal(format!("start the feed bridge: {e}")))?;
        }
        let report = shell.run_source(agent, &receiver);
        let _ = trigger.send(true);
        report
    })
}

/// Time between two synthetic ticks at `speed` (0: no pause).
fn pace(config: &SyntheticConfig, speed: f64) -> Duration {
    if speed <= 0.0 {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(config.tick_interval_ms.max(1) as f64 / 1_000.0 / speed)
}

/// Generates the synthetic market into `ticks`, paced, until shutdown or the shell is gone.
fn synthetic_market(config: SyntheticConfig, producer: Producer, interval: Duration, ticks: &SyncSender<Tick>, feed: &LocalFeed, shutdown: &AtomicBool) {
    let mut market = SyntheticMarket::new(config, producer);
    let mut next = Instant::now();
    while !shutdown.load(Ordering::SeqCst) {
        if !interval.is_zero() {
            next += interval;
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            } else if now - next > interval * 100 {
                next = now; // far behind (the shell was slow): do not burst
            }
        }
        let Some(tick) = market.next_tick() else { break };
        if ticks.send(tick).is_err() {
            break;
        }
        feed.delivered();
    }
    feed.finished.store(true, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_and_the_synthetic_pace_follows_the_speed() {
        assert_eq!("live".parse(), Ok(TickSource::Live));
        assert_eq!("synthetic".parse(), Ok(TickSource::Synthetic { speed: 1.0 }));
        assert_eq!("file:/data/ticks.csv".parse(), Ok(TickSource::File(PathBuf::from("/data/ticks.csv"))));
        assert!("file:".parse::<TickSource>().is_err());
        assert!("kafka".parse::<TickSource>().is_err());
        let config = SyntheticConfig { tick_interval_ms: 100, ..SyntheticConfig::default() };
        assert_eq!(pace(&config, 1.0), Duration::from_millis(100));
        assert_eq!(pace(&config, 4.0), Duration::from_millis(25));
        assert_eq!(pace(&config, 0.0), Duration::ZERO, "0: as fast as the shell takes them");
    }

    #[test]
    fn a_local_feed_is_unhealthy_before_its_first_tick_and_when_stale_but_not_once_finished() {
        let feed = Arc::new(LocalFeed::new("synthetic", Duration::from_millis(50)));
        let feeds = Feeds { local: vec![Arc::clone(&feed)], ..Feeds::default() };
        let (reasons, details) = feeds.check();
        assert!(reasons.len() == 1 && reasons[0].contains("feed synthetic") && reasons[0].contains("nothing delivered yet"), "{reasons:?}");
        assert_eq!(details["feeds"][0]["healthy"], false);
        feed.delivered();
        let (reasons, details) = feeds.check();
        assert!(reasons.is_empty(), "{reasons:?}");
        assert_eq!((details["feeds"][0]["ticks"].as_u64(), details["feeds"][0]["healthy"].as_bool()), (Some(1), Some(true)));
        std::thread::sleep(Duration::from_millis(60)); // past the 50 ms limit: stale by construction
        let (reasons, _) = feeds.check();
        assert!(reasons.len() == 1 && reasons[0].contains("stale") && reasons[0].contains("stall timeout 50 ms"), "{reasons:?}");
        feed.finished.store(true, Ordering::SeqCst);
        assert!(feeds.check().0.is_empty(), "a finished file is not a stalled feed");
        let samples = feeds.samples();
        assert!(samples.iter().any(|s| s.name == "maxx_market_data_feed_staleness_seconds" && s.value >= 0.05), "{samples:?}");
    }

    #[test]
    fn a_venue_feed_that_never_connected_is_unhealthy_and_named() {
        let health = Arc::new(FeedHealth::new(Venue::Binance));
        let feeds = Feeds { venues: vec![(health, Duration::from_secs(5))], ..Feeds::default() };
        let (reasons, details) = feeds.check();
        assert_eq!(reasons, ["feed binance unhealthy: nothing received yet (stall timeout 5000 ms)"]);
        assert_eq!((details["feeds"][0]["feed"].as_str(), details["feeds"][0]["connected"].as_bool()), (Some("binance"), Some(false)));
        assert!(feeds.samples().iter().all(|s| s.name != "maxx_market_data_feed_staleness_seconds"), "no staleness before the first message");
    }
}
