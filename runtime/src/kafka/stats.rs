//! Live counters of one runtime instance, shared with whoever reports on it (the agent's HTTP
//! shell reads them for `/healthz` and `/metrics`), and the agent's state as of its last
//! commit (for the agent's read-only routes). Updated by the runtime loop only.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use maxx_events::Lifecycle;
use rdkafka::statistics::Statistics;
use serde::de::DeserializeOwned;

/// Upper bounds of the commit latency histogram, in seconds (Prometheus `le` labels).
pub const COMMIT_LATENCY_BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Counters and the current lifecycle state of a runtime instance.
#[derive(Debug, Default)]
pub struct Stats {
    /// Inputs read, by bus topic.
    events_in: Mutex<BTreeMap<String, u64>>,
    /// Outputs committed, by bus topic.
    events_out: Mutex<BTreeMap<String, u64>>,
    dead_letters: AtomicU64,
    commits: AtomicU64,
    aborts: AtomicU64,
    rebalances: AtomicU64,
    /// Duration of every commit, in microseconds, for latency histograms (kept bounded).
    commit_micros: Mutex<Vec<u64>>,
    /// Commits per histogram bucket (not cumulative; the last slot is `+Inf`).
    commit_buckets: [AtomicU64; COMMIT_LATENCY_BUCKETS.len() + 1],
    commit_micros_sum: AtomicU64,
    last_commit_micros: AtomicU64,
    lifecycle: Mutex<Option<(Lifecycle, String)>>,
    /// Consumer lag in events over the assigned partitions; `None` until first measured.
    lag: Mutex<Option<u64>>,
    /// Why no broker is reachable; `None` while one is (or before the first report).
    broker_problem: Mutex<Option<String>>,
    broker_reported: AtomicBool,
    /// The agent's state (JSON) as of the last commit that changed it.
    committed_state: Mutex<Option<Arc<[u8]>>>,
    /// Generation of the last agent configuration the runtime applied (0: the initial one).
    config_generation: AtomicU64,
    /// A standby replica waiting for the leadership of a singleton (`leader` module).
    standby: AtomicBool,
}

/// The commit latency histogram at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyHistogram {
    /// `(upper bound in seconds, commits at or below it)`, cumulative, ascending; `+Inf` last.
    pub buckets: Vec<(f64, u64)>,
    /// Sum of all commit durations, in seconds.
    pub sum_seconds: f64,
    /// Number of commits observed.
    pub count: u64,
}

/// How many commit durations are kept for [`Stats::take_commit_durations`].
const KEPT_COMMIT_DURATIONS: usize = 100_000;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn bump(map: &Mutex<BTreeMap<String, u64>>, topic: &str, by: u64) {
    *lock(map).entry(topic.to_owned()).or_default() += by;
}

impl Stats {
    pub(crate) fn input(&self, topic: &str) {
        bump(&self.events_in, topic, 1);
    }
    pub(crate) fn outputs(&self, counts: &BTreeMap<String, u64>) {
        for (topic, n) in counts {
            bump(&self.events_out, topic, *n);
        }
    }
    pub(crate) fn dead_letter(&self) {
        self.dead_letters.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn committed(&self, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let seconds = took.as_secs_f64();
        let slot = COMMIT_LATENCY_BUCKETS.iter().position(|le| seconds <= *le).unwrap_or(COMMIT_LATENCY_BUCKETS.len());
        self.commit_buckets[slot].fetch_add(1, Ordering::Relaxed);
        self.commit_micros_sum.fetch_add(micros, Ordering::Relaxed);
        self.last_commit_micros.store(micros, Ordering::SeqCst);
        // Counted last: whoever sees the commit sees its duration.
        self.commits.fetch_add(1, Ordering::SeqCst);
        let mut kept = lock(&self.commit_micros);
        if kept.len() < KEPT_COMMIT_DURATIONS {
            kept.push(micros);
        }
    }
    pub(crate) fn aborted(&self) {
        self.aborts.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn rebalanced(&self) {
        self.rebalances.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn set_lifecycle(&self, state: Lifecycle, reason: &str) {
        *lock(&self.lifecycle) = Some((state, reason.to_owned()));
    }
    pub(crate) fn set_committed_state(&self, state: &[u8]) {
        *lock(&self.committed_state) = Some(Arc::from(state));
    }
    pub(crate) fn set_config_generation(&self, generation: u64) {
        self.config_generation.store(generation, Ordering::SeqCst);
    }

    /// Takes the consumer's librdkafka statistics: lag over the assigned partitions and
    /// whether any broker is reachable.
    pub(crate) fn consumer_statistics(&self, statistics: &Statistics) {
        *lock(&self.lag) = Some(lag_of(statistics));
        *lock(&self.broker_problem) = broker_problem(statistics);
        self.broker_reported.store(true, Ordering::SeqCst);
    }

    /// Inputs read so far, by bus topic.
    pub fn events_in(&self) -> BTreeMap<String, u64> {
        lock(&self.events_in).clone()
    }
    /// Outputs committed so far, by bus topic (dead letters and snapshots included).
    pub fn events_out(&self) -> BTreeMap<String, u64> {
        lock(&self.events_out).clone()
    }
    /// Inputs filed as dead letters.
    pub fn dead_letters(&self) -> u64 {
        self.dead_letters.load(Ordering::Relaxed)
    }
    /// Transactions committed.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::SeqCst)
    }
    /// Transactions aborted.
    pub fn aborts(&self) -> u64 {
        self.aborts.load(Ordering::Relaxed)
    }
    /// Rebalances this instance took part in.
    pub fn rebalances(&self) -> u64 {
        self.rebalances.load(Ordering::Relaxed)
    }
    /// The commit durations recorded since the last call, in microseconds.
    pub fn take_commit_durations(&self) -> Vec<u64> {
        std::mem::take(&mut *lock(&self.commit_micros))
    }
    /// Every commit so far, as a histogram over [`COMMIT_LATENCY_BUCKETS`].
    pub fn commit_latency(&self) -> LatencyHistogram {
        let mut cumulative = 0;
        let mut buckets = Vec::with_capacity(COMMIT_LATENCY_BUCKETS.len() + 1);
        for (slot, count) in self.commit_buckets.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            buckets.push((COMMIT_LATENCY_BUCKETS.get(slot).copied().unwrap_or(f64::INFINITY), cumulative));
        }
        let sum_micros = self.commit_micros_sum.load(Ordering::Relaxed);
        #[allow(clippy::cast_precision_loss)] // seconds for a report, not money
        let sum_seconds = sum_micros as f64 / 1e6;
        LatencyHistogram { buckets, sum_seconds, count: cumulative }
    }
    /// How long the last commit took; `None` before the first.
    pub fn last_commit_latency(&self) -> Option<Duration> {
        (self.commits() > 0).then(|| Duration::from_micros(self.last_commit_micros.load(Ordering::SeqCst)))
    }
    /// Marks this instance as a standby replica waiting for leadership (or not).
    pub fn set_standby(&self, standby: bool) {
        self.standby.store(standby, Ordering::SeqCst);
    }
    /// Whether this instance is a standby replica waiting for leadership.
    pub fn standby(&self) -> bool {
        self.standby.load(Ordering::SeqCst)
    }
    /// The lifecycle state and why it was entered.
    pub fn lifecycle(&self) -> Option<(Lifecycle, String)> {
        lock(&self.lifecycle).clone()
    }
    /// Consumer lag in events, summed over the assigned partitions: the last stable offset
    /// (what `read_committed` may read) minus the position. `None` until the consumer's first
    /// statistics report (every `KafkaConfig::statistics_interval`).
    pub fn lag(&self) -> Option<u64> {
        *lock(&self.lag)
    }
    /// `Some(reason)` when the last statistics report showed no reachable broker.
    pub fn broker_problem(&self) -> Option<String> {
        lock(&self.broker_problem).clone()
    }
    /// Whether the consumer has reported statistics yet (before that, broker reachability is
    /// unknown).
    pub fn broker_reported(&self) -> bool {
        self.broker_reported.load(Ordering::SeqCst)
    }
    /// The agent's state as of its last commit, as the JSON its snapshot holds; `None` before
    /// the agent started.
    pub fn committed_state(&self) -> Option<Arc<[u8]>> {
        lock(&self.committed_state).clone()
    }
    /// The agent's state as of its last commit, typed (the agent's `Agent::State`).
    ///
    /// # Errors
    /// When the JSON is not a `T` (the wrong type was asked for).
    pub fn committed_state_as<T: DeserializeOwned>(&self) -> Result<Option<T>, serde_json::Error> {
        self.committed_state().map(|bytes| serde_json::from_slice(&bytes)).transpose()
    }
    /// Generation of the last configuration applied to the agent (see
    /// `KafkaRuntime::reconfigure`); 0 while the agent runs with the one it was built with.
    pub fn config_generation(&self) -> u64 {
        self.config_generation.load(Ordering::SeqCst)
    }
}

/// Lag of the partitions assigned to a consumer, from its statistics: per partition, the end
/// it may read (last stable offset under `read_committed`, else the high watermark) minus its
/// position (the offset after the last message handed to the application; before any, the
/// committed offset, else the low watermark).
pub fn lag_of(statistics: &Statistics) -> u64 {
    let mut lag = 0u64;
    for topic in statistics.topics.values() {
        for partition in topic.partitions.values() {
            let assigned = partition.partition >= 0 && !matches!(partition.fetch_state.as_str(), "none" | "stopping" | "stopped");
            if !assigned {
                continue;
            }
            let end = if partition.ls_offset >= 0 { partition.ls_offset } else { partition.hi_offset };
            let position = [partition.app_offset, partition.committed_offset, partition.lo_offset].into_iter().find(|o| *o >= 0);
            if let (true, Some(position)) = (end >= 0, position) {
                lag = lag.saturating_add(u64::try_from(end.saturating_sub(position)).unwrap_or(0));
            }
        }
    }
    lag
}

/// Why no broker is reachable, when none of the learned brokers is up.
pub fn broker_problem(statistics: &Statistics) -> Option<String> {
    let learned: Vec<_> = statistics.brokers.values().filter(|b| b.nodeid >= 0).collect();
    if learned.iter().any(|b| matches!(b.state.as_str(), "UP" | "UPDATE")) {
        return None;
    }
    if learned.is_empty() {
        let bootstrap: Vec<_> = statistics.brokers.values().map(|b| format!("{} {}", b.nodename, b.state)).collect();
        return Some(format!("no broker reachable (bootstrap: {})", bootstrap.join(", ")));
    }
    let states: Vec<_> = learned.iter().map(|b| format!("{} {}", b.nodename, b.state)).collect();
    Some(format!("no broker reachable ({})", states.join(", ")))
}

#[cfg(test)]
mod tests {
    use rdkafka::statistics::{Broker, Partition, Topic};

    use super::*;

    fn partition(id: i32, fetch_state: &str, app: i64, committed: i64, lo: i64, ls: i64) -> Partition {
        Partition { partition: id, fetch_state: fetch_state.into(), app_offset: app, committed_offset: committed, lo_offset: lo, hi_offset: ls + 3, ls_offset: ls, ..Partition::default() }
    }

    fn statistics(partitions: Vec<Partition>, brokers: &[(i32, &str)]) -> Statistics {
        let mut stats = Statistics::default();
        let topic = Topic { topic: "ticks".into(), partitions: partitions.into_iter().map(|p| (p.partition, p)).collect(), ..Topic::default() };
        stats.topics.insert("ticks".into(), topic);
        for (id, state) in brokers {
            stats.brokers.insert(format!("b{id}"), Broker { nodeid: *id, nodename: format!("host:{id}"), state: (*state).into(), ..Broker::default() });
        }
        stats
    }

    #[test]
    fn lag_sums_last_stable_offset_minus_position_over_assigned_partitions() {
        let stats = statistics(
            vec![
                partition(0, "active", 90, 80, 0, 100),     // 10 behind the position
                partition(1, "active", -1001, 40, 0, 45),   // nothing read yet: from committed
                partition(2, "active", -1001, -1001, 5, 8), // nothing committed: from the low mark
                partition(3, "none", 0, 0, 0, 1_000),       // not assigned
                partition(-1, "active", 0, 0, 0, 1_000),    // librdkafka's internal partition
            ],
            &[],
        );
        assert_eq!(lag_of(&stats), 10 + 5 + 3);
        assert_eq!(lag_of(&statistics(vec![partition(0, "active", 100, 100, 0, 100)], &[])), 0);
        // A position ahead of a stale watermark counts as no lag, never as negative.
        assert_eq!(lag_of(&statistics(vec![partition(0, "active", 120, 100, 0, 100)], &[])), 0);
    }

    #[test]
    fn a_broker_is_unreachable_only_when_none_is_up() {
        assert_eq!(broker_problem(&statistics(vec![], &[(-1, "DOWN"), (1, "UP"), (2, "CONNECT")])), None);
        let problem = broker_problem(&statistics(vec![], &[(1, "DOWN"), (2, "CONNECT")])).expect("none up");
        assert!(problem.contains("host:1 DOWN") && problem.contains("host:2 CONNECT"), "{problem}");
        assert!(broker_problem(&statistics(vec![], &[(-1, "TRY_CONNECT")])).is_some());
    }

    #[test]
    fn the_histogram_is_cumulative_and_counts_every_commit() {
        let stats = Stats::default();
        for ms in [0, 3, 3, 40, 20_000, 60_000] {
            stats.committed(Duration::from_millis(ms));
        }
        let histogram = stats.commit_latency();
        assert_eq!(histogram.count, 6);
        let at = |le: f64| histogram.buckets.iter().find(|(b, _)| *b == le).map(|(_, n)| *n);
        assert_eq!(at(0.001), Some(1));
        assert_eq!(at(0.005), Some(3));
        assert_eq!(at(0.05), Some(4));
        assert_eq!(at(10.0), Some(4));
        assert_eq!(at(30.0), Some(5));
        assert_eq!(at(f64::INFINITY), Some(6));
        assert!((histogram.sum_seconds - 80.046).abs() < 1e-9);
        assert_eq!(stats.last_commit_latency(), Some(Duration::from_secs(60)));
    }
}
