//! Trie nodes in the STATE column: the cell format, reference-counted
//! updates, and the [`NodeStore`] that state reads go through.

use std::{collections::HashMap, sync::Arc};

use hash_db::Prefix;
use kvdb::{DBTransaction, KeyValueDB};
use qstack_trie::NodeStore;

use crate::{columns, NodeCache, StorageError};

/// Bytes of the reference count that ends every STATE cell.
const COUNT_LEN: usize = 4;

/// A STATE cell: the encoded node followed by its reference count (u32 LE).
/// Keeping the count in the node's own cell costs one read and one write per
/// touched node, where a separate count column would cost two writes.
pub(crate) fn encode_cell(node: &[u8], count: u32) -> Vec<u8> {
    let mut cell = Vec::with_capacity(node.len() + COUNT_LEN);
    cell.extend_from_slice(node);
    cell.extend_from_slice(&count.to_le_bytes());
    cell
}

/// The node and reference count of a STATE cell; `None` if it is too short
/// to hold a count.
pub(crate) fn decode_cell(cell: &[u8]) -> Option<(&[u8], u32)> {
    let split = cell.len().checked_sub(COUNT_LEN)?;
    let (node, count) = cell.split_at(split);
    let count: [u8; COUNT_LEN] = count.try_into().ok()?;
    Some((node, u32::from_le_bytes(count)))
}

/// Reads trie nodes out of the STATE column. Cheap to clone (one `Arc`);
/// any number of readers may use it while blocks are committed.
///
/// A node that cannot be read (pruned, or a database error, or a damaged
/// cell) is reported as absent, which the trie turns into
/// [`qstack_trie::TrieError::MissingNode`]; database errors and damaged
/// cells are also logged, since [`NodeStore`] has no error channel.
#[derive(Clone)]
pub struct StateStore {
    db: Arc<dyn KeyValueDB>,
    cache: Arc<NodeCache>,
}

impl std::fmt::Debug for StateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateStore").finish_non_exhaustive()
    }
}

impl StateStore {
    pub(crate) fn new(db: Arc<dyn KeyValueDB>, cache: Arc<NodeCache>) -> Self {
        Self { db, cache }
    }
}

impl NodeStore for StateStore {
    fn get(&self, hash: &[u8; 32], prefix: Prefix) -> Option<Vec<u8>> {
        let key = memory_db::prefixed_key::<qstack_trie::Blake2Hasher>(hash, prefix);
        if let Some(node) = self.cache.get(&key) {
            return Some(node.to_vec());
        }
        match self.db.get(columns::STATE, &key) {
            Ok(Some(mut cell)) => {
                let Some((node, _)) = decode_cell(&cell) else {
                    tracing::error!(
                        target: "qstack::storage",
                        key = %hex_bytes(&key),
                        len = cell.len(),
                        "corrupt trie node cell: too short for its reference count"
                    );
                    return None;
                };
                let len = node.len();
                cell.truncate(len);
                self.cache.insert(&key, &cell);
                Some(cell)
            }
            Ok(None) => None,
            Err(error) => {
                tracing::error!(
                    target: "qstack::storage",
                    key = %hex_bytes(&key),
                    %error,
                    "reading a trie node failed"
                );
                None
            }
        }
    }
}

/// Lowercase hex for log fields.
pub(crate) fn hex_bytes(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::from("0x"), |mut out, byte| {
        // Writing to a String cannot fail.
        let _ = write!(out, "{byte:02x}");
        out
    })
}

/// One node's pending change within a commit.
#[derive(Default)]
struct NodeChange {
    /// The node bytes, known when some entry of the commit inserts it.
    node: Option<Vec<u8>>,
    /// Net change of its reference count.
    delta: i64,
}

/// Every reference-count change of one commit, merged per key before any is
/// written: the database is read once per key and written once, so several
/// changes to one node (a block inserts it while pruning releases it) land
/// together in the one atomic batch.
#[derive(Default)]
pub(crate) struct NodeChanges {
    changes: HashMap<Vec<u8>, NodeChange>,
}

impl NodeChanges {
    /// `count` more references to `key`, whose node is `node`.
    pub(crate) fn insert(&mut self, key: Vec<u8>, node: Vec<u8>, count: u32) {
        let change = self.changes.entry(key).or_default();
        change.node = Some(node);
        change.delta += i64::from(count);
    }

    /// `count` fewer references to `key`.
    pub(crate) fn release(&mut self, key: Vec<u8>, count: u32) {
        self.changes.entry(key).or_default().delta -= i64::from(count);
    }

    /// Number of distinct nodes touched.
    pub(crate) fn len(&self) -> usize {
        self.changes.len()
    }

    /// Reads the current counts and adds the resulting puts and deletes to
    /// `tx`. A count reaching zero deletes the node.
    pub(crate) fn write(
        self,
        db: &dyn KeyValueDB,
        tx: &mut DBTransaction,
    ) -> Result<CacheUpdate, StorageError> {
        let mut update = CacheUpdate::default();
        for (key, change) in self.changes {
            if change.delta == 0 {
                continue;
            }
            let stored = db.get(columns::STATE, &key)?;
            let (node, count) = match &stored {
                Some(cell) => {
                    let (node, count) = decode_cell(cell).ok_or_else(|| {
                        StorageError::corrupt(format!(
                            "trie node cell {} is too short for its reference count",
                            hex_bytes(&key)
                        ))
                    })?;
                    (Some(node), i64::from(count))
                }
                None => (None, 0),
            };
            let new_count = count + change.delta;
            if new_count <= 0 {
                if new_count < 0 {
                    // More releases than references: a bug or damage, but
                    // deleting is still what every release asked for.
                    tracing::warn!(
                        target: "qstack::storage",
                        key = %hex_bytes(&key),
                        count,
                        delta = change.delta,
                        "trie node released more often than referenced"
                    );
                }
                if stored.is_some() {
                    tx.delete(columns::STATE, &key);
                    update.deleted.push(key);
                }
                continue;
            }
            let new_count = u32::try_from(new_count).map_err(|_| {
                StorageError::corrupt(format!(
                    "reference count of trie node {} overflows",
                    hex_bytes(&key)
                ))
            })?;
            match (node, change.node) {
                (Some(node), _) => tx.put_vec(columns::STATE, &key, encode_cell(node, new_count)),
                // New in the database: the next block reads it from memory.
                (None, Some(node)) => {
                    tx.put_vec(columns::STATE, &key, encode_cell(&node, new_count));
                    update.inserted.push((key, node));
                }
                (None, None) => {
                    // Released less often than referenced, but never stored
                    // and not inserted now: nothing to keep.
                    tracing::warn!(
                        target: "qstack::storage",
                        key = %hex_bytes(&key),
                        "reference to a trie node that is not stored"
                    );
                }
            }
        }
        Ok(update)
    }
}

/// What a commit changes in the node cache, applied once the commit is
/// written: new nodes are read by the next block, deleted ones must go.
#[derive(Default)]
pub(crate) struct CacheUpdate {
    inserted: Vec<(Vec<u8>, Vec<u8>)>,
    deleted: Vec<Vec<u8>>,
}

impl CacheUpdate {
    pub(crate) fn apply(self, cache: &NodeCache) {
        for key in &self.deleted {
            cache.remove(key);
        }
        for (key, node) in &self.inserted {
            cache.insert(key, node);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_round_trip_and_short_cells() {
        let cell = encode_cell(b"node", 7);
        assert_eq!(decode_cell(&cell), Some((&b"node"[..], 7)));
        assert_eq!(decode_cell(&[1, 2, 3]), None);
        assert_eq!(decode_cell(&encode_cell(b"", 1)), Some((&b""[..], 1)));
    }
}
