//! What the Kafka runtime needs to know besides the agent: where the broker is, which
//! instance this is, and how big and how old a transaction may grow — and the cell through
//! which a new agent configuration reaches a running instance (hot reload).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use maxx_agents::config::AgentConfig;

/// Configuration of one agent instance on a broker.
#[derive(Debug, Clone)]
pub struct KafkaConfig {
    /// Bootstrap servers (`MAXX_BOOTSTRAP`).
    pub bootstrap: String,
    /// Ordinal of this instance. The transactional id is `<group>-<instance>`: stable across
    /// restarts, so a restarted instance fences its predecessor.
    pub instance: u32,
    /// Prepended to every topic and group name: empty in production; lets tests share a
    /// broker without sharing topics.
    pub namespace: String,
    /// Most inputs handled in one transaction. A transaction also ends as soon as no more
    /// input is waiting (group commit), so this caps batches under a backlog.
    pub batch_size: usize,
    /// Oldest a transaction may get before it is committed, even while input keeps coming.
    pub commit_interval: Duration,
    /// The broker aborts a transaction left open this long (a crashed instance's).
    pub transaction_timeout: Duration,
    /// A member silent this long is out of the group and its partitions move on.
    pub session_timeout: Duration,
    /// Static group membership (KIP-345) with the transactional id as `group.instance.id`.
    ///
    /// On: a restarted instance takes its partitions back at once, without a rebalance, and
    /// a second live instance with the same identity fences the first's consumer as well, so
    /// even an idle zombie stops at its next poll. But a static member does not leave the
    /// group when it stops: its partitions wait for its return or its session timeout.
    /// Off (default): SIGTERM leaves the group at once; a zombie stops at its next
    /// transaction, since the newer instance's `init_transactions` fenced its producer.
    pub static_membership: bool,
    /// How often the consumer reports statistics, from which lag and broker reachability
    /// are taken ([`crate::kafka::Stats::lag`]).
    pub statistics_interval: Duration,
    /// Extra librdkafka settings for both clients, applied last.
    pub overrides: Vec<(String, String)>,
}

impl KafkaConfig {
    /// Defaults for `bootstrap`, chosen by the `eos_hop` benchmark (BENCHMARKS.md): group
    /// commit capped at 5,000 inputs or 100 ms. Smaller caps cost throughput under a
    /// backlog (each transaction costs ~10 ms of broker round trips) and buy no latency at
    /// a light load, where group commit already keeps transactions small.
    pub fn new(bootstrap: impl Into<String>) -> Self {
        Self {
            bootstrap: bootstrap.into(),
            instance: 0,
            namespace: String::new(),
            batch_size: 5_000,
            commit_interval: Duration::from_millis(100),
            transaction_timeout: Duration::from_secs(30),
            session_timeout: Duration::from_secs(10),
            static_membership: false,
            statistics_interval: Duration::from_secs(1),
            overrides: Vec::new(),
        }
    }

    /// The broker topic of a bus topic.
    pub fn topic(&self, logical: &str) -> String {
        format!("{}{logical}", self.namespace)
    }

    /// The bus topic of a broker topic, when it is in this namespace.
    pub fn logical<'t>(&self, topic: &'t str) -> Option<&'t str> {
        topic.strip_prefix(self.namespace.as_str())
    }

    /// The consumer group of an agent: one group per agent, all instances in it.
    pub fn group(&self, agent: &str) -> String {
        format!("{}maxx.{agent}", self.namespace)
    }

    /// The compacted topic holding the agent's state snapshots.
    pub fn state_topic(&self, agent: &str) -> String {
        format!("{}state.{agent}", self.namespace)
    }

    /// The transactional id of this instance of `agent`.
    pub fn transactional_id(&self, agent: &str) -> String {
        format!("{}-{}", self.group(agent), self.instance)
    }

    /// The name of this instance, as stamped on its outputs: `<agent>-<instance>`.
    pub fn instance_name(&self, agent: &str) -> String {
        format!("{agent}-{}", self.instance)
    }
}

/// A new agent configuration waiting to be applied: the shell puts one, the runtime takes it
/// between two transactions and hands it to `DynAgent::reconfigure` — never inside one, so
/// every transaction's outputs come from one configuration, and no input is skipped.
///
/// Only the latest one counts: a configuration put before the previous was taken replaces it.
#[derive(Debug, Default)]
pub struct PendingConfig {
    next: Mutex<Option<(u64, Arc<AgentConfig>)>>,
}

impl PendingConfig {
    /// Asks the runtime to apply `config`, numbered `generation` (increasing; the runtime
    /// reports the last applied one in `Stats::config_generation`).
    pub fn put(&self, generation: u64, config: Arc<AgentConfig>) {
        *self.next.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((generation, config));
    }

    /// The configuration to apply, if one is waiting.
    pub fn take(&self) -> Option<(u64, Arc<AgentConfig>)> {
        self.next.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_latest_pending_config_is_applied_once() {
        let pending = PendingConfig::default();
        assert!(pending.take().is_none());
        let mut second = AgentConfig::default();
        second.meta_governor.enable_rl = false;
        pending.put(1, Arc::new(AgentConfig::default()));
        pending.put(2, Arc::new(second.clone()));
        let (generation, config) = pending.take().expect("one waits");
        assert_eq!((generation, &*config), (2, &second));
        assert!(pending.take().is_none(), "taken once");
    }

    #[test]
    fn names_derive_from_namespace_agent_and_instance() {
        let mut config = KafkaConfig::new("127.0.0.1:9092");
        config.namespace = "t1.".into();
        config.instance = 2;
        assert_eq!(config.topic("ticks"), "t1.ticks");
        assert_eq!(config.logical("t1.ticks"), Some("ticks"));
        assert_eq!(config.logical("ticks"), None);
        assert_eq!(config.group("alpha"), "t1.maxx.alpha");
        assert_eq!(config.state_topic("alpha"), "t1.state.alpha");
        assert_eq!(config.transactional_id("alpha"), "t1.maxx.alpha-2");
        assert_eq!(config.instance_name("alpha"), "alpha-2");
    }
}
