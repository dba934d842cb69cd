//! A bounded window of recently seen ids, kept in agent state, so that a fill (or order)
//! delivered twice — a venue replaying it after a reconnect, a reconciliation re-emitting
//! it — is recognised instead of booked twice.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// How many ids the window remembers; older ones are forgotten first.
pub const WINDOW: usize = 1024;

/// The last [`WINDOW`] ids seen, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecentIds(VecDeque<String>);

impl RecentIds {
    /// True when `id` is in the window.
    pub fn contains(&self, id: &str) -> bool {
        self.0.iter().any(|seen| seen == id)
    }

    /// Remembers `id`, forgetting the oldest id when the window is full.
    pub fn insert(&mut self, id: &str) {
        if self.0.len() == WINDOW {
            self.0.pop_front();
        }
        self.0.push_back(id.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_forgets_the_oldest_id_first() {
        let mut recent = RecentIds::default();
        for n in 0..=WINDOW {
            recent.insert(&n.to_string());
        }
        assert!(!recent.contains("0"), "pushed out");
        assert!(recent.contains("1") && recent.contains(&WINDOW.to_string()));
    }
}
