//! Live counters of one runtime instance, shared with whoever reports on it (the agent's HTTP
//! shell reads them for `/healthz` and `/metrics`). Updated by the runtime loop only.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use maxx_events::Lifecycle;

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
    lifecycle: Mutex<Option<(Lifecycle, String)>>,
}

/// How many commit durations are kept for [`Stats::take_commit_durations`].
const KEPT_COMMIT_DURATIONS: usize = 100_000;

fn bump(map: &Mutex<BTreeMap<String, u64>>, topic: &str, by: u64) {
    let mut map = map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    *map.entry(topic.to_owned()).or_default() += by;
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
        self.commits.fetch_add(1, Ordering::Relaxed);
        let mut kept = self.commit_micros.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if kept.len() < KEPT_COMMIT_DURATIONS {
            kept.push(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
        }
    }
    pub(crate) fn aborted(&self) {
        self.aborts.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn rebalanced(&self) {
        self.rebalances.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn set_lifecycle(&self, state: Lifecycle, reason: &str) {
        *self.lifecycle.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((state, reason.to_owned()));
    }

    /// Inputs read so far, by bus topic.
    pub fn events_in(&self) -> BTreeMap<String, u64> {
        self.events_in.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
    /// Outputs committed so far, by bus topic (dead letters and snapshots included).
    pub fn events_out(&self) -> BTreeMap<String, u64> {
        self.events_out.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
    /// Inputs filed as dead letters.
    pub fn dead_letters(&self) -> u64 {
        self.dead_letters.load(Ordering::Relaxed)
    }
    /// Transactions committed.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
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
        std::mem::take(&mut *self.commit_micros.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
    /// The lifecycle state and why it was entered.
    pub fn lifecycle(&self) -> Option<(Lifecycle, String)> {
        self.lifecycle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}
