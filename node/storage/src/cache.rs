//! A bounded cache of trie nodes in front of the database.
//!
//! Every state read walks the trie from the root, one database lookup per
//! node; the upper levels are shared by every key and read thousands of times
//! a second (pool validation, block building and checking). A node's bytes
//! are fixed by its key (its hash, plus the position prefix the database key
//! carries), so a cached node can never be stale while it is stored: entries
//! are added when read or written, and removed when a commit deletes the node
//! (after the write, so a node pruned from the database is not served from
//! memory either).
//!
//! Eviction is two-generational: new and used entries go to the young map;
//! when it holds half the byte budget it becomes the old one and the previous
//! old one is dropped. A hit in the old map moves the entry back to the young
//! one, so nodes in use survive and cold ones leave within two turns. Every
//! operation is O(1) and the memory held is at most the budget (plus one
//! entry).

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

/// Bytes an entry costs beyond its key and node (map slot, `Arc` header).
const ENTRY_OVERHEAD: usize = 64;
/// Independently locked parts, so concurrent readers rarely wait.
const SHARDS: usize = 16;

#[derive(Default)]
struct Generations {
    young: HashMap<Vec<u8>, Arc<[u8]>>,
    old: HashMap<Vec<u8>, Arc<[u8]>>,
    young_bytes: usize,
}

/// The cache (shared by every reader of one store).
pub struct NodeCache {
    shards: Vec<Mutex<Generations>>,
    /// Bytes one shard's young generation may hold before it turns old.
    shard_half: usize,
}

impl std::fmt::Debug for NodeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeCache")
            .field("budget", &(self.shard_half * 2 * SHARDS))
            .finish_non_exhaustive()
    }
}

fn cost(key: &[u8], node: &[u8]) -> usize {
    key.len() + node.len() + ENTRY_OVERHEAD
}

impl NodeCache {
    /// A cache holding at most about `budget` bytes; 0 disables it.
    pub fn new(budget: usize) -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(Generations::default()))
                .collect(),
            shard_half: budget / SHARDS / 2,
        }
    }

    fn shard(&self, key: &[u8]) -> Option<&Mutex<Generations>> {
        if self.shard_half == 0 {
            return None;
        }
        // Keys start with the node's hash: its first byte spreads them.
        let i = usize::from(key.first().copied().unwrap_or(0)) % SHARDS;
        self.shards.get(i)
    }

    /// The node stored under `key`, if cached.
    pub fn get(&self, key: &[u8]) -> Option<Arc<[u8]>> {
        let mut g = self.shard(key)?.lock();
        if let Some(node) = g.young.get(key) {
            return Some(node.clone());
        }
        let node = g.old.remove(key)?;
        Self::put_young(&mut g, self.shard_half, key.to_vec(), node.clone());
        Some(node)
    }

    /// Caches `node` under `key`.
    pub fn insert(&self, key: &[u8], node: &[u8]) {
        let Some(shard) = self.shard(key) else {
            return;
        };
        if cost(key, node) > self.shard_half {
            return;
        }
        let mut g = shard.lock();
        if g.young.contains_key(key) {
            return;
        }
        g.old.remove(key);
        Self::put_young(&mut g, self.shard_half, key.to_vec(), Arc::from(node));
    }

    /// Forgets `key` (its node was deleted).
    pub fn remove(&self, key: &[u8]) {
        let Some(shard) = self.shard(key) else {
            return;
        };
        let mut g = shard.lock();
        if let Some(node) = g.young.remove(key) {
            g.young_bytes = g.young_bytes.saturating_sub(cost(key, &node));
        }
        g.old.remove(key);
    }

    fn put_young(g: &mut Generations, half: usize, key: Vec<u8>, node: Arc<[u8]>) {
        let c = cost(&key, &node);
        if g.young_bytes.saturating_add(c) > half {
            g.old = std::mem::take(&mut g.young);
            g.young_bytes = 0;
        }
        g.young_bytes += c;
        g.young.insert(key, node);
    }

    /// Bytes held (keys, nodes and overhead), for tests and metrics.
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let g = s.lock();
                g.young_bytes + g.old.iter().map(|(k, n)| cost(k, n)).sum::<usize>()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u32) -> Vec<u8> {
        let mut k = vec![0u8; 33];
        k[..4].copy_from_slice(&i.to_le_bytes());
        k
    }

    #[test]
    fn hit_miss_remove() {
        let c = NodeCache::new(1 << 20);
        assert!(c.get(&key(1)).is_none());
        c.insert(&key(1), b"node one");
        assert_eq!(c.get(&key(1)).as_deref(), Some(&b"node one"[..]));
        c.remove(&key(1));
        assert!(c.get(&key(1)).is_none());
        assert_eq!(c.bytes(), 0);
    }

    #[test]
    fn stays_within_budget_and_keeps_what_is_used() {
        let budget = 256 << 10;
        let c = NodeCache::new(budget);
        c.insert(&key(0), &[7u8; 100]);
        for i in 1..20_000u32 {
            c.insert(&key(i), &[1u8; 100]);
            // Key 0 is read all the time: it must stay.
            assert!(c.get(&key(0)).is_some(), "hot entry evicted at {i}");
            assert!(c.bytes() <= budget + 256, "{} > {budget}", c.bytes());
        }
        // Cold entries from long ago are gone.
        assert!(c.get(&key(1)).is_none());
    }

    #[test]
    fn zero_budget_disables() {
        let c = NodeCache::new(0);
        c.insert(&key(1), b"x");
        assert!(c.get(&key(1)).is_none());
        c.remove(&key(1));
    }
}
