//! Leader election for singleton agents (RiskSentinel, Portfolio, SessionClock,
//! MetaGovernor) with standby replicas, using nothing but the broker: every replica joins the
//! consumer group `<ns>maxx.<agent>.leader` on the single-partition topic `<ns>leader.<agent>`,
//! and the member the group assigns partition 0 to is the leader. Only the leader runs the
//! agent; standbys wait. When the leader stops or dies, the group (after its session
//! timeout) hands the partition to a standby.
//!
//! Split brain cannot produce twice: every replica of a singleton runs as instance 0, so all
//! share one transactional id, and a new leader's `init_transactions` fences the old one's
//! producer before the new one writes anything. The election needs no Kubernetes API rights.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::ClientContext;

use super::error::RuntimeError;
use super::KafkaConfig;

/// The election's view of the group: whether this member holds partition 0.
#[derive(Default)]
struct ElectionContext {
    leading: Arc<AtomicBool>,
}

impl ClientContext for ElectionContext {}

impl ConsumerContext for ElectionContext {
    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Error(error) = rebalance {
            tracing::warn!(%error, "leader election: rebalance failed");
        }
        // Cooperative rebalances report only what changed: ask for the whole assignment.
        let leading = consumer.assignment().is_ok_and(|assignment| assignment.count() > 0);
        if self.leading.swap(leading, Ordering::SeqCst) != leading {
            tracing::info!(leading, "leader election: leadership changed");
        }
    }
}

/// This replica's membership in its agent's election.
pub struct Election {
    consumer: BaseConsumer<ElectionContext>,
    leading: Arc<AtomicBool>,
    agent: String,
}

impl std::fmt::Debug for Election {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Election").field("agent", &self.agent).field("leading", &self.is_leader()).finish()
    }
}

/// The election topic of `agent`: one partition, never written.
pub fn election_topic(config: &KafkaConfig, agent: &str) -> String {
    config.topic(&format!("leader.{agent}"))
}

impl Election {
    /// Joins the election of `agent` on `config`'s broker. The election topic must exist
    /// (`maxx topology apply` creates it).
    ///
    /// # Errors
    /// When the consumer cannot be created or cannot subscribe.
    pub fn join(config: &KafkaConfig, agent: &str) -> Result<Self, RuntimeError> {
        let mut client = ClientConfig::new();
        client
            .set("bootstrap.servers", &config.bootstrap)
            .set("group.id", format!("{}.leader", config.group(agent)))
            .set("enable.auto.commit", "false")
            .set("session.timeout.ms", config.session_timeout.as_millis().to_string())
            .set("heartbeat.interval.ms", (config.session_timeout.as_millis() / 5).max(100).to_string())
            // Sticky: a replica joining (or coming back) does not take the partition from a
            // live leader.
            .set("partition.assignment.strategy", "cooperative-sticky")
            // A leader whose process stalls (no poll) loses the election after this long.
            .set("max.poll.interval.ms", (config.session_timeout.as_millis() * 2).max(10_000).to_string());
        for (key, value) in &config.overrides {
            client.set(key, value);
        }
        let leading = Arc::new(AtomicBool::new(false));
        let context = ElectionContext { leading: Arc::clone(&leading) };
        let consumer: BaseConsumer<ElectionContext> = client.create_with_context(context).map_err(|e| RuntimeError::kafka("creating the leader-election consumer", e))?;
        consumer.subscribe(&[election_topic(config, agent).as_str()]).map_err(|e| RuntimeError::kafka("joining the leader election", e))?;
        Ok(Self { consumer, leading, agent: agent.to_owned() })
    }

    /// Whether this replica holds the leadership now.
    pub fn is_leader(&self) -> bool {
        self.leading.load(Ordering::SeqCst)
    }

    /// Takes part in the group for `duration`: rebalances, and so changes of leadership,
    /// happen while polling.
    pub fn take_part(&self, duration: Duration) {
        let deadline = Instant::now() + duration;
        while Instant::now() < deadline {
            // The topic is never written: polling only drives the group protocol.
            if let Some(Err(error)) = self.consumer.poll(Duration::from_millis(50)) {
                tracing::warn!(%error, agent = %self.agent, "leader election: poll failed");
            }
        }
    }

    /// Waits until this replica is the leader, or until `stop` is set (returns false).
    pub fn wait_for_leadership(&self, stop: &AtomicBool) -> bool {
        while !stop.load(Ordering::SeqCst) {
            if self.is_leader() {
                return true;
            }
            self.take_part(Duration::from_millis(100));
        }
        false
    }

    /// Keeps the membership alive on a thread while the agent runs, and sets `lost` when the
    /// leadership goes (the runtime watching `lost` then stops cleanly). The thread ends when
    /// `lost` or `stop` is set; it returns the election for the next round.
    pub fn hold(self, lost: Arc<AtomicBool>, stop: Arc<AtomicBool>) -> JoinHandle<Self> {
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) && !lost.load(Ordering::SeqCst) {
                self.take_part(Duration::from_millis(100));
                if !self.is_leader() {
                    tracing::warn!(agent = %self.agent, "leader election: leadership lost; stopping the agent");
                    lost.store(true, Ordering::SeqCst);
                }
            }
            self
        })
    }
}
