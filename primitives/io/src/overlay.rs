//! Pending state changes over a trie backend, with nested transactions.
//!
//! One implementation serves both the native runtime in tests and the node's
//! executor, so a block executed natively and in Wasm computes its root with
//! the very same code.

use crate::{ClearPrefixResult, Externalities};
use qstack_trie::{MemoryDB, NodeStore, TrieBackend, TrieError};
use std::collections::BTreeMap;
use std::ops::Bound;

/// A key's pending value: `Some` set, `None` deleted.
pub type Change = Option<Vec<u8>>;

/// Storage changes not yet committed to the backend, in layers: layer 0 holds
/// committed changes of the block, each open transaction adds a layer.
#[derive(Clone, Debug)]
pub struct OverlayedChanges {
    layers: Vec<BTreeMap<Vec<u8>, Change>>,
}

impl Default for OverlayedChanges {
    fn default() -> Self {
        Self {
            layers: vec![BTreeMap::new()],
        }
    }
}

impl OverlayedChanges {
    /// The pending change for `key`: `None` if untouched, `Some(None)` if deleted.
    pub fn get(&self, key: &[u8]) -> Option<&Change> {
        self.layers.iter().rev().find_map(|l| l.get(key))
    }

    /// Records a change in the innermost layer.
    pub fn set(&mut self, key: &[u8], value: Change) {
        if let Some(top) = self.layers.last_mut() {
            top.insert(key.to_vec(), value);
        }
    }

    /// Number of open transactions.
    pub fn transaction_depth(&self) -> usize {
        self.layers.len().saturating_sub(1)
    }

    /// Opens a transaction.
    pub fn start_transaction(&mut self) {
        self.layers.push(BTreeMap::new());
    }

    /// Merges the innermost transaction into its parent; no-op without one.
    pub fn commit_transaction(&mut self) {
        if self.layers.len() > 1 {
            if let Some(top) = self.layers.pop() {
                if let Some(parent) = self.layers.last_mut() {
                    parent.extend(top);
                }
            }
        }
    }

    /// Drops the innermost transaction; no-op without one.
    pub fn rollback_transaction(&mut self) {
        if self.layers.len() > 1 {
            self.layers.pop();
        }
    }

    /// The smallest touched key strictly after `key`, with its change.
    fn next_after(&self, key: &[u8]) -> Option<(&[u8], &Change)> {
        let k = self
            .layers
            .iter()
            .filter_map(|l| {
                l.range::<[u8], _>((Bound::Excluded(key), Bound::Unbounded))
                    .next()
            })
            .map(|(k, _)| k)
            .min()?;
        self.get(k).map(|c| (k.as_slice(), c))
    }

    /// All pending changes, innermost layer winning, in key order.
    pub fn changes(&self) -> BTreeMap<Vec<u8>, Change> {
        let mut all = BTreeMap::new();
        for l in &self.layers {
            for (k, v) in l {
                all.insert(k.clone(), v.clone());
            }
        }
        all
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        *self = Self::default();
    }
}

/// [`Externalities`] over an overlay and a trie backend. A backend error
/// (missing trie node: a corrupt or pruned database) is recorded and reads
/// return `None`; the executor checks [`OverlayExt::take_error`] after each
/// call and fails the call, so such an error never becomes a silent result.
pub struct OverlayExt<'a, S: NodeStore> {
    overlay: &'a mut OverlayedChanges,
    backend: &'a TrieBackend<S>,
    error: Option<TrieError>,
}

impl<'a, S: NodeStore> OverlayExt<'a, S> {
    /// Wraps an overlay and the backend it applies to.
    pub fn new(overlay: &'a mut OverlayedChanges, backend: &'a TrieBackend<S>) -> Self {
        Self {
            overlay,
            backend,
            error: None,
        }
    }

    /// The pending change of `key` in this execution (`None`: untouched,
    /// `Some(None)`: deleted), without reading the backend.
    pub fn pending(&self, key: &[u8]) -> Option<&Change> {
        self.overlay.get(key)
    }

    /// The first backend error seen, if any.
    pub fn take_error(&mut self) -> Option<TrieError> {
        self.error.take()
    }

    fn note<T>(&mut self, r: Result<T, TrieError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                if self.error.is_none() {
                    self.error = Some(e);
                }
                None
            }
        }
    }

    /// Root and new trie nodes after applying all pending changes.
    pub fn root_and_changes(&mut self) -> Option<([u8; 32], MemoryDB)> {
        let changes = self.overlay.changes();
        let r = self
            .backend
            .apply_changes(changes.iter().map(|(k, v)| (k.as_slice(), v.as_deref())));
        self.note(r)
    }
}

impl<S: NodeStore> Externalities for OverlayExt<'_, S> {
    fn storage(&mut self, key: &[u8]) -> Option<Vec<u8>> {
        if let Some(c) = self.overlay.get(key) {
            return c.clone();
        }
        let r = self.backend.storage(key);
        self.note(r).flatten()
    }

    fn set_storage(&mut self, key: &[u8], value: &[u8]) {
        self.overlay.set(key, Some(value.to_vec()));
    }

    fn clear_storage(&mut self, key: &[u8]) {
        self.overlay.set(key, None);
    }

    fn clear_prefix(&mut self, prefix: &[u8], limit: Option<u32>) -> ClearPrefixResult {
        let mut removed = 0u32;
        let mut cursor = prefix.to_vec();
        // `prefix` itself is a key with the prefix too.
        let mut next = if self.exists_storage(prefix) {
            Some(prefix.to_vec())
        } else {
            self.next_storage_key(&cursor)
        };
        while let Some(k) = next {
            if !k.starts_with(prefix) {
                return ClearPrefixResult {
                    removed,
                    more: false,
                };
            }
            if limit.is_some_and(|l| removed >= l) {
                return ClearPrefixResult {
                    removed,
                    more: true,
                };
            }
            self.clear_storage(&k);
            removed = removed.saturating_add(1);
            cursor = k;
            next = self.next_storage_key(&cursor);
        }
        ClearPrefixResult {
            removed,
            more: false,
        }
    }

    fn next_storage_key(&mut self, key: &[u8]) -> Option<Vec<u8>> {
        let mut cursor = key.to_vec();
        loop {
            let r = self.backend.next_storage_key(&cursor);
            let from_backend = self.note(r).flatten();
            let from_overlay = self
                .overlay
                .next_after(&cursor)
                .map(|(k, c)| (k.to_vec(), c.is_some()));
            match (from_backend, from_overlay) {
                (None, None) => return None,
                (Some(b), None) => {
                    // Untouched in the overlay (next_after found nothing ≤ b).
                    return Some(b);
                }
                (b, Some((o, live))) => {
                    if let Some(b) = b {
                        if b < o {
                            return Some(b);
                        }
                    }
                    // Overlay key is first (or equal to the backend's): its
                    // change decides; a deletion hides the backend key too.
                    if live {
                        return Some(o);
                    }
                    cursor = o;
                }
            }
        }
    }

    fn storage_root(&mut self) -> [u8; 32] {
        match self.root_and_changes() {
            Some((root, _)) => root,
            None => *self.backend.root(),
        }
    }

    fn start_transaction(&mut self) {
        self.overlay.start_transaction()
    }

    fn commit_transaction(&mut self) {
        self.overlay.commit_transaction()
    }

    fn rollback_transaction(&mut self) {
        self.overlay.rollback_transaction()
    }

    fn take_backend_error(&mut self) -> Option<String> {
        self.take_error().map(|e| e.to_string())
    }
}

/// Self-contained externalities for tests and genesis building: an in-memory
/// trie plus an overlay. `execute_with` installs it for native runtime code.
pub struct TestExternalities {
    /// Pending changes.
    pub overlay: OverlayedChanges,
    /// The committed state.
    pub backend: TrieBackend<MemoryDB>,
}

impl Default for TestExternalities {
    fn default() -> Self {
        Self::new()
    }
}

impl TestExternalities {
    /// Empty state.
    pub fn new() -> Self {
        Self {
            overlay: OverlayedChanges::default(),
            backend: TrieBackend::new(MemoryDB::default(), qstack_trie::empty_root()),
        }
    }

    /// State holding exactly `pairs`.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>) -> Self {
        let mut ext = Self::new();
        for (k, v) in pairs {
            ext.overlay.set(&k, Some(v));
        }
        ext.commit_all();
        ext
    }

    /// Runs native runtime code against this state.
    pub fn execute_with<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let mut ext = OverlayExt::new(&mut self.overlay, &self.backend);
        crate::set_and_run_with_externalities(&mut ext, f)
    }

    /// Applies pending changes to the backend; returns the new root.
    pub fn commit_all(&mut self) -> [u8; 32] {
        let changes = self.overlay.changes();
        match self
            .backend
            .apply_changes(changes.iter().map(|(k, v)| (k.as_slice(), v.as_deref())))
        {
            Ok((root, delta)) => {
                let mut db = self.backend.store().clone();
                db.consolidate(delta);
                self.backend = TrieBackend::new(db, root);
                self.overlay.clear();
                root
            }
            // The in-memory backend holds every node it ever wrote.
            Err(_) => *self.backend.root(),
        }
    }

    /// Root including pending changes.
    pub fn root(&mut self) -> [u8; 32] {
        OverlayExt::new(&mut self.overlay, &self.backend).storage_root()
    }

    /// Every key/value of the committed state plus pending changes.
    pub fn pairs(&mut self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out = Vec::new();
        let mut ext = OverlayExt::new(&mut self.overlay, &self.backend);
        let mut k = Vec::new();
        if let Some(v) = ext.storage(&k) {
            out.push((k.clone(), v));
        }
        while let Some(next) = ext.next_storage_key(&k) {
            if let Some(v) = ext.storage(&next) {
                out.push((next.clone(), v));
            }
            k = next;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage;

    #[test]
    fn transactions_nest_and_roll_back() {
        let mut t = TestExternalities::from_pairs([(b"a".to_vec(), b"1".to_vec())]);
        t.execute_with(|| {
            storage::start_transaction();
            storage::set(b"b", b"2");
            storage::start_transaction();
            storage::clear(b"a");
            assert_eq!(storage::get(b"a"), None);
            storage::rollback_transaction();
            assert_eq!(storage::get(b"a"), Some(b"1".to_vec()));
            storage::commit_transaction();
            assert_eq!(storage::get(b"b"), Some(b"2".to_vec()));
        });
    }

    #[test]
    fn next_key_merges_overlay_and_backend() {
        let mut t =
            TestExternalities::from_pairs([b"a", b"c", b"e"].map(|k| (k.to_vec(), b"x".to_vec())));
        t.execute_with(|| {
            storage::set(b"b", b"y");
            storage::clear(b"c");
            storage::clear(b"d"); // deleting an absent key hides nothing
            assert_eq!(storage::next_key(b""), Some(b"a".to_vec()));
            assert_eq!(storage::next_key(b"a"), Some(b"b".to_vec()));
            assert_eq!(storage::next_key(b"b"), Some(b"e".to_vec()));
            assert_eq!(storage::next_key(b"e"), None);
        });
    }

    #[test]
    fn clear_prefix_respects_limit() {
        let mut t = TestExternalities::from_pairs(
            (0u8..5)
                .map(|i| (vec![b'p', i], vec![i]))
                .chain([(b"q".to_vec(), vec![])]),
        );
        t.execute_with(|| {
            storage::set(b"p\x09", b"new");
            let r = storage::clear_prefix(b"p", Some(4));
            assert_eq!(
                r,
                ClearPrefixResult {
                    removed: 4,
                    more: true
                }
            );
            let r = storage::clear_prefix(b"p", None);
            assert_eq!(
                r,
                ClearPrefixResult {
                    removed: 2,
                    more: false
                }
            );
            assert_eq!(storage::next_key(b""), Some(b"q".to_vec()));
        });
    }

    #[test]
    fn root_matches_committed_root_and_read_api() {
        let mut t = TestExternalities::new();
        let empty = t.root();
        t.execute_with(|| {
            storage::set(b"k", b"hello world");
            let mut buf = [0u8; 4];
            assert_eq!(storage::read(b"k", &mut buf, 6), Some(11));
            assert_eq!(&buf, b"worl");
            assert_eq!(storage::read(b"nope", &mut buf, 0), None);
        });
        let pending = t.root();
        assert_ne!(pending, empty);
        assert_eq!(t.commit_all(), pending);
        assert_eq!(t.root(), pending);
        assert_eq!(t.pairs(), vec![(b"k".to_vec(), b"hello world".to_vec())]);
    }
}
