//! A bounded window of recently seen ids, kept in agent state, so that a fill (or order)
//! delivered twice — a venue replaying it after a reconnect, a reconciliation re-emitting
//! it — is recognised instead of booked twice.
//!
//! Cost per id is independent of history: the window is a ring (`VecDeque`, oldest first)
//! plus an index from each id's 64-bit FNV-1a hash to how many ids in the window have that
//! hash, so `contains` is one hash and, only on a hash hit, a scan that confirms the exact
//! string (a hash collision can never make two ids equal). The index is derived data: it is
//! not serialized — a snapshot is the JSON list of ids, oldest first, exactly as before —
//! and is rebuilt when a snapshot is read, so it never changes what is compared or audited.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How many ids the window remembers; older ones are forgotten first.
pub const WINDOW: usize = 1024;

/// The last [`WINDOW`] ids seen, oldest first.
#[derive(Debug, Clone, Default)]
pub struct RecentIds {
    ids: VecDeque<String>,
    /// Hash of an id → how many ids of the window have it. Lookup only, never iterated.
    index: HashMap<u64, u32>,
}

/// 64-bit FNV-1a of `id` (stable across runs and machines; only an index key).
fn fnv1a(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3))
}

impl RecentIds {
    /// True when `id` is in the window.
    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(&fnv1a(id)) && self.ids.iter().any(|seen| seen == id)
    }

    /// Remembers `id`, forgetting the oldest id when the window is full.
    pub fn insert(&mut self, id: &str) {
        if self.ids.len() == WINDOW {
            self.pop_oldest();
        }
        self.ids.push_back(id.to_owned());
        *self.index.entry(fnv1a(id)).or_default() += 1;
    }

    /// How many ids the window holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the window holds no id.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn pop_oldest(&mut self) {
        let Some(oldest) = self.ids.pop_front() else { return };
        let key = fnv1a(&oldest);
        if let Some(count) = self.index.get_mut(&key) {
            *count -= 1;
            if *count == 0 {
                self.index.remove(&key);
            }
        }
    }

    fn from_ids(ids: VecDeque<String>) -> Self {
        let mut index: HashMap<u64, u32> = HashMap::with_capacity(ids.len());
        for id in &ids {
            *index.entry(fnv1a(id)).or_default() += 1;
        }
        Self { ids, index }
    }
}

impl PartialEq for RecentIds {
    fn eq(&self, other: &Self) -> bool {
        self.ids == other.ids
    }
}

impl Eq for RecentIds {}

impl Serialize for RecentIds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.ids.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RecentIds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        VecDeque::<String>::deserialize(deserializer).map(Self::from_ids)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_window_forgets_the_oldest_id_first() {
        let mut recent = RecentIds::default();
        for n in 0..=WINDOW {
            recent.insert(&n.to_string());
        }
        assert!(!recent.contains("0"), "pushed out");
        assert!(recent.contains("1") && recent.contains(&WINDOW.to_string()));
        assert_eq!(recent.len(), WINDOW);
    }

    #[test]
    fn a_snapshot_is_the_plain_list_of_ids_oldest_first() {
        let mut recent = RecentIds::default();
        recent.insert("b");
        recent.insert("a");
        assert_eq!(serde_json::to_string(&recent).expect("serialize"), r#"["b","a"]"#);
        let back: RecentIds = serde_json::from_str(r#"["x","y"]"#).expect("deserialize");
        assert!(back.contains("x") && back.contains("y") && !back.contains("b"));
    }

    proptest! {
        /// The indexed window answers exactly like a plain scan of the last WINDOW ids, also
        /// after a JSON round trip, with ids drawn from a small alphabet so repeats are common.
        #[test]
        fn contains_matches_a_plain_scan(ids in proptest::collection::vec("[a-c]{1,2}", 0..(WINDOW + 300)), probes in proptest::collection::vec("[a-d]{1,2}", 1..20)) {
            let mut recent = RecentIds::default();
            let mut plain: VecDeque<String> = VecDeque::new();
            for id in &ids {
                recent.insert(id);
                if plain.len() == WINDOW {
                    plain.pop_front();
                }
                plain.push_back(id.clone());
            }
            let back: RecentIds = serde_json::from_str(&serde_json::to_string(&recent).expect("serialize")).expect("deserialize");
            prop_assert_eq!(&back, &recent);
            for probe in &probes {
                let expected = plain.iter().any(|s| s == probe);
                prop_assert_eq!(recent.contains(probe), expected);
                prop_assert_eq!(back.contains(probe), expected);
            }
        }
    }
}
