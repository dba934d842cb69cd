//! The agent lifecycle of spec §3 — Init → Running → Recycling → Shutdown, and CrashLoop —
//! as an explicit machine, and its publication on the `agent_state` topic.

use std::sync::Arc;
use std::time::{Duration, Instant};

use maxx_events::{AgentState, BusCodec, BusEvent, EventId, EventTime, Lifecycle, Producer, Registration, SchemaRegistry};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer as _, ThreadedProducer};
use rdkafka::ClientConfig;

use super::error::RuntimeError;
use super::stats::Stats;

/// Restarts of an instance within a sliding window: 3 within 15 minutes are a crash loop
/// (spec §8), after which the instance gives up instead of restarting again.
#[derive(Debug, Clone)]
pub struct RestartHistory {
    window: Duration,
    limit: usize,
    restarts: Vec<Instant>,
}

impl Default for RestartHistory {
    fn default() -> Self {
        Self::new(Duration::from_secs(15 * 60), 3)
    }
}

impl RestartHistory {
    /// `limit` restarts within `window` make a crash loop.
    pub fn new(window: Duration, limit: usize) -> Self {
        Self { window, limit, restarts: Vec::new() }
    }

    /// Records a restart at `now`; returns whether the instance is now in a crash loop.
    pub fn record(&mut self, now: Instant) -> bool {
        self.restarts.retain(|at| now.saturating_duration_since(*at) < self.window);
        self.restarts.push(now);
        self.restarts.len() >= self.limit
    }

    /// Restarts within the window as of the last record.
    pub fn recent(&self) -> usize {
        self.restarts.len()
    }
}

/// Whether the lifecycle may move from `from` (`None`: the process just started) to `to`.
pub fn allowed(from: Option<Lifecycle>, to: Lifecycle) -> bool {
    use Lifecycle::{CrashLoop, Init, Recycling, Running, Shutdown};
    matches!(
        (from, to),
        (None, Init)
            | (Some(Init), Running | Shutdown | CrashLoop)
            | (Some(Running), Recycling | Shutdown | CrashLoop)
            | (Some(Recycling), Running | Shutdown | CrashLoop)
            | (Some(CrashLoop), Shutdown)
    )
}

/// The current lifecycle state, published on every transition. Publication is best effort
/// on its own (non-transactional) producer: a lifecycle record is no agent output, and an
/// instance that was fenced may still say that it stops.
pub struct LifecyclePublisher {
    current: Option<Lifecycle>,
    producer: ThreadedProducer<DefaultProducerContext>,
    codec: BusCodec,
    topic: String,
    identity: Producer,
    stats: Arc<Stats>,
}

impl std::fmt::Debug for LifecyclePublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LifecyclePublisher").field("current", &self.current).field("topic", &self.topic).finish()
    }
}

impl LifecyclePublisher {
    /// A publisher for `identity`, writing to `topic`.
    ///
    /// # Errors
    /// When the producer or the codec cannot be created.
    pub fn new(
        client: &ClientConfig,
        registry: Arc<dyn SchemaRegistry>,
        registration: Registration,
        topic: String,
        identity: Producer,
        stats: Arc<Stats>,
    ) -> Result<Self, RuntimeError> {
        let producer = client
            .clone()
            .set("enable.idempotence", "true")
            .set("message.timeout.ms", "10000")
            .create()
            .map_err(|e| RuntimeError::kafka("create the lifecycle producer", e))?;
        let codec = BusCodec::new(registry, &["agent_state"], registration)?;
        Ok(Self { current: None, producer, codec, topic, identity, stats })
    }

    /// The current state.
    pub fn current(&self) -> Option<Lifecycle> {
        self.current
    }

    /// Moves to `to` and publishes the transition. An illegal transition is a runtime defect
    /// and is refused (logged, state unchanged).
    pub fn transition(&mut self, to: Lifecycle, reason: &str) {
        if !allowed(self.current, to) {
            tracing::error!(from = ?self.current, to = ?to, reason, "illegal lifecycle transition refused");
            return;
        }
        let now = EventTime::from_micros(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX)),
        );
        let event = AgentState { event_id: EventId::now(), event_time: now, producer: self.identity.clone(), state: to, previous: self.current, reason: reason.to_owned() };
        tracing::info!(agent = %self.identity.agent, instance = %self.identity.instance, from = ?self.current, to = ?to, reason, "lifecycle");
        self.current = Some(to);
        self.stats.set_lifecycle(to, reason);
        let event = BusEvent::from(event);
        match self.codec.encode(&event) {
            Ok(bytes) => {
                let record = BaseRecord::to(&self.topic).key(event.key()).payload(&bytes);
                if let Err((e, _)) = self.producer.send(record) {
                    tracing::warn!(error = %e, "could not publish the lifecycle transition");
                }
                if let Err(e) = self.producer.flush(Duration::from_secs(5)) {
                    tracing::warn!(error = %e, "lifecycle transition not confirmed by the broker");
                }
            }
            Err(e) => tracing::error!(error = %e, "could not encode the lifecycle transition"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Lifecycle::{CrashLoop, Init, Recycling, Running, Shutdown};

    #[test]
    fn three_restarts_within_fifteen_minutes_are_a_crash_loop() {
        let start = Instant::now();
        let minutes = |m: u64| start + Duration::from_secs(m * 60);
        let mut history = RestartHistory::default();
        assert!(!history.record(minutes(0)));
        assert!(!history.record(minutes(10)));
        assert!(history.record(minutes(14)), "third within 15 minutes");

        let mut spread = RestartHistory::default();
        assert!(!spread.record(minutes(0)));
        assert!(!spread.record(minutes(10)));
        assert!(!spread.record(minutes(16)), "the first fell out of the window");
        assert_eq!(spread.recent(), 2);
        assert!(spread.record(minutes(20)));
    }

    #[test]
    fn the_machine_allows_exactly_the_spec_transitions() {
        let states = [Init, Running, Recycling, Shutdown, CrashLoop];
        let allowed_pairs: Vec<(Option<Lifecycle>, Lifecycle)> = std::iter::once(None)
            .chain(states.iter().copied().map(Some))
            .flat_map(|from| states.iter().map(move |to| (from, *to)))
            .filter(|(from, to)| allowed(*from, *to))
            .collect();
        assert_eq!(
            allowed_pairs,
            vec![
                (None, Init),
                (Some(Init), Running),
                (Some(Init), Shutdown),
                (Some(Init), CrashLoop),
                (Some(Running), Recycling),
                (Some(Running), Shutdown),
                (Some(Running), CrashLoop),
                (Some(Recycling), Running),
                (Some(Recycling), Shutdown),
                (Some(Recycling), CrashLoop),
                (Some(CrashLoop), Shutdown),
            ]
        );
    }
}
