//! The life of one feed: connect, subscribe, deliver ticks, and on a drop, an error or a
//! stall log the incident, wait the backoff and start again — until shutdown. The
//! normalizer (and so its duplicate detection) outlives connections.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use maxx_agents::market_data::{MarketDataConfig, Normalizer, Venue};
use maxx_events::{EventTime, Producer, Tick};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::backoff::Backoff;
use crate::health::FeedHealth;
use crate::settings::FeedSettings;
use crate::{oanda, tls, ws};

/// Why a feed could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The TLS configuration could not be built.
    #[error("tls: {0}")]
    Tls(#[from] rustls::Error),
}

/// Tells feed tasks to stop: they close their connection and return.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// A trigger (send `true`, or drop it) and the handle tasks wait on.
    pub fn new() -> (watch::Sender<bool>, Shutdown) {
        let (trigger, receiver) = watch::channel(false);
        (trigger, Shutdown(receiver))
    }

    /// Completes once shutdown is requested (or the trigger is gone).
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Whether shutdown was requested.
    pub fn requested(&self) -> bool {
        *self.0.borrow()
    }
}

/// How a connection ended.
#[derive(Debug)]
pub(crate) enum End {
    /// Shutdown requested, or nobody reads the ticks any more.
    Shutdown,
    /// Nothing received for the stall timeout.
    Stalled,
    /// The server closed the connection or the stream.
    Closed(String),
    /// Connecting, subscribing, reading or the venue failed.
    Error(String),
    /// OANDA: time to reopen the stream (its form of resubscription).
    Resubscribe,
}

/// What a connection works with.
pub(crate) struct Context<'a> {
    pub settings: &'a FeedSettings,
    pub normalizer: &'a mut Normalizer,
    pub health: &'a FeedHealth,
    pub out: &'a mpsc::Sender<Tick>,
    pub tls: &'a Arc<rustls::ClientConfig>,
    /// Whether this connection delivered any valid message (resets the backoff).
    pub delivered: bool,
}

/// Wall-clock time as an event time: the receipt time of messages without their own.
fn now() -> EventTime {
    let micros = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros());
    EventTime::from_micros(i64::try_from(micros).unwrap_or(i64::MAX))
}

impl Context<'_> {
    /// Normalizes one venue message and sends its ticks; a bad message is logged and
    /// counted, never fatal.
    pub async fn deliver(&mut self, text: &str) -> Result<(), End> {
        let venue = self.settings.venue;
        match self.normalizer.ingest(text, now()) {
            Ok(ingested) => {
                self.delivered = true;
                let count = ingested.ticks.len();
                for tick in ingested.ticks {
                    if self.out.send(tick).await.is_err() {
                        return Err(End::Shutdown);
                    }
                }
                self.health.message(count, &self.normalizer.state().counters);
            }
            Err(error) => {
                tracing::warn!(%venue, kind = error.kind(), %error, "venue message refused");
                self.health.refused(&self.normalizer.state().counters);
            }
        }
        Ok(())
    }
}

/// Runs one feed until shutdown, sending its ticks to `out`.
///
/// # Errors
/// Only when it cannot start (TLS configuration); connection trouble is retried forever.
pub async fn run_feed(settings: FeedSettings, out: mpsc::Sender<Tick>, health: Arc<FeedHealth>, mut shutdown: Shutdown) -> Result<(), StartError> {
    let tls = tls::client_config()?;
    let venue = settings.venue;
    let mut normalizer = Normalizer::new(venue, settings.symbols.clone(), settings.dedupe_window, settings.producer.clone());
    let mut backoff = Backoff::new(settings.backoff, settings.max_backoff);
    loop {
        if shutdown.requested() {
            return Ok(());
        }
        let mut context = Context { settings: &settings, normalizer: &mut normalizer, health: &health, out: &out, tls: &tls, delivered: false };
        let end = match venue {
            Venue::Oanda => oanda::session(&mut context, &mut shutdown).await,
            _ => ws::session(&mut context, &mut shutdown).await,
        };
        let delivered = context.delivered;
        health.disconnected();
        let (stalled, incident) = match end {
            End::Shutdown => return Ok(()),
            End::Resubscribe => {
                tracing::debug!(%venue, "reopening the stream to resubscribe");
                continue;
            }
            End::Stalled => (true, format!("no message for {:?}", settings.stall_timeout)),
            End::Closed(reason) => (false, format!("closed: {reason}")),
            End::Error(reason) => (false, format!("error: {reason}")),
        };
        if delivered {
            backoff.reset();
        }
        let delay = backoff.next_delay();
        tracing::warn!(%venue, endpoint = %settings.endpoint, %incident, retry_in = ?delay, "feed incident: reconnecting");
        health.incident(stalled, incident);
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shutdown.wait() => return Ok(()),
        }
    }
}

/// A running feed: its health, and its task.
pub type RunningFeed = (Arc<FeedHealth>, JoinHandle<Result<(), StartError>>);

/// Starts a task per configured venue on the current runtime. The OANDA token is read from
/// the environment variable named by `oanda.token_env`.
pub fn spawn_feeds(config: &MarketDataConfig, producer: &Producer, out: &mpsc::Sender<Tick>, shutdown: &Shutdown) -> Vec<RunningFeed> {
    config
        .venues()
        .into_iter()
        .map(|venue| {
            let token = (venue == Venue::Oanda).then(|| std::env::var(&config.oanda.token_env).ok()).flatten();
            let settings = FeedSettings::from_config(config, venue, producer.clone(), token);
            let health = Arc::new(FeedHealth::new(venue));
            let task = tokio::spawn(run_feed(settings, out.clone(), Arc::clone(&health), shutdown.clone()));
            (health, task)
        })
        .collect()
}

/// Sleeps until `deadline`, for `select!` arms.
pub(crate) async fn until(deadline: tokio::time::Instant) {
    tokio::time::sleep_until(deadline).await;
}

/// `now + period`, for the first tick of an interval that must not fire at once.
pub(crate) fn after(period: Duration) -> tokio::time::Instant {
    tokio::time::Instant::now() + period
}
