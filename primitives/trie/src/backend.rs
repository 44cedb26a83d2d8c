//! Reading a trie out of a node store, computing the change set of a block,
//! and recording read proofs.

use alloc::{boxed::Box, collections::BTreeSet, sync::Arc, vec::Vec};

use hash_db::{AsHashDB, HashDB, HashDBRef, Prefix};
use trie_db::{
    DBValue, Recorder, Trie, TrieDBBuilder, TrieDBKeyIterator, TrieDBMutBuilder, TrieIterator,
    TrieMut,
};

use crate::{
    Blake2Hasher, Layout, MemoryDB, NodeDecodeError, StorageProof, TrieError, EMPTY_NODE,
    EMPTY_ROOT,
};

/// Where trie nodes live: the node's database, or a [`MemoryDB`].
///
/// `prefix` is the nibble path from the root to the node. A store may key
/// nodes by `prefix ++ hash` ([`memory_db::prefixed_key`], as [`MemoryDB`]
/// does: identical subtrees at different paths stay separate entries, and
/// nodes of one subtree sit together on disk) or by hash alone. Either way it
/// must reference-count: a hash key is shared by identical nodes anywhere, and
/// `prefixed_key` writes an odd path `p` and the path `p ++ 0` alike. The empty
/// trie's root never needs storing: it is answered before the store is asked.
pub trait NodeStore: Send + Sync {
    /// The encoded node with this hash at this path, if the store has it.
    fn get(&self, hash: &[u8; 32], prefix: Prefix) -> Option<Vec<u8>>;
}

impl NodeStore for MemoryDB {
    fn get(&self, hash: &[u8; 32], prefix: Prefix) -> Option<Vec<u8>> {
        HashDB::get(self, hash, prefix)
    }
}

impl<T: NodeStore + ?Sized> NodeStore for Arc<T> {
    fn get(&self, hash: &[u8; 32], prefix: Prefix) -> Option<Vec<u8>> {
        (**self).get(hash, prefix)
    }
}

impl<T: NodeStore + ?Sized> NodeStore for &T {
    fn get(&self, hash: &[u8; 32], prefix: Prefix) -> Option<Vec<u8>> {
        (**self).get(hash, prefix)
    }
}

/// What trie-db's operations return.
type TrieDbResult<T> = Result<T, Box<trie_db::TrieError<[u8; 32], NodeDecodeError>>>;

/// A node from `store`, answering the empty trie's root itself.
fn fetch<S: NodeStore + ?Sized>(store: &S, hash: &[u8; 32], prefix: Prefix) -> Option<Vec<u8>> {
    if *hash == EMPTY_ROOT {
        return Some(EMPTY_NODE.to_vec());
    }
    store.get(hash, prefix)
}

/// A [`NodeStore`] seen through trie-db's read interface.
struct ReadOnly<'a, S: ?Sized>(&'a S);

impl<S: NodeStore + ?Sized> HashDBRef<Blake2Hasher, DBValue> for ReadOnly<'_, S> {
    fn get(&self, hash: &[u8; 32], prefix: Prefix) -> Option<DBValue> {
        fetch(self.0, hash, prefix)
    }

    fn contains(&self, hash: &[u8; 32], prefix: Prefix) -> bool {
        HashDBRef::get(self, hash, prefix).is_some()
    }
}

/// Reads from the store, writes into `changes`: how a trie is modified
/// without touching its store.
struct Overlay<'a, S: ?Sized> {
    store: &'a S,
    changes: MemoryDB,
}

impl<S: NodeStore + ?Sized> HashDB<Blake2Hasher, DBValue> for Overlay<'_, S> {
    fn get(&self, hash: &[u8; 32], prefix: Prefix) -> Option<DBValue> {
        HashDB::get(&self.changes, hash, prefix).or_else(|| fetch(self.store, hash, prefix))
    }

    fn contains(&self, hash: &[u8; 32], prefix: Prefix) -> bool {
        HashDB::get(self, hash, prefix).is_some()
    }

    fn insert(&mut self, prefix: Prefix, value: &[u8]) -> [u8; 32] {
        self.changes.insert(prefix, value)
    }

    fn emplace(&mut self, hash: [u8; 32], prefix: Prefix, value: DBValue) {
        self.changes.emplace(hash, prefix, value)
    }

    fn remove(&mut self, hash: &[u8; 32], prefix: Prefix) {
        self.changes.remove(hash, prefix)
    }
}

impl<S: NodeStore + ?Sized> AsHashDB<Blake2Hasher, DBValue> for Overlay<'_, S> {
    fn as_hash_db(&self) -> &dyn HashDB<Blake2Hasher, DBValue> {
        self
    }

    fn as_hash_db_mut<'b>(&'b mut self) -> &'b mut (dyn HashDB<Blake2Hasher, DBValue> + 'b) {
        self
    }
}

/// One state of the chain: a root and the store holding its nodes.
/// Reads never modify the store; neither does [`TrieBackend::apply_changes`],
/// which returns the new nodes for the caller to commit.
#[derive(Debug, Clone)]
pub struct TrieBackend<S: NodeStore> {
    store: S,
    root: [u8; 32],
}

impl<S: NodeStore> TrieBackend<S> {
    /// The state with root `root`, whose nodes are in `store`.
    pub fn new(store: S, root: [u8; 32]) -> Self {
        Self { store, root }
    }

    /// The state root.
    pub fn root(&self) -> &[u8; 32] {
        &self.root
    }

    /// The node store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The node store, giving up the backend.
    pub fn into_store(self) -> S {
        self.store
    }

    /// trie-db's error in ours. trie-db calls the first node of every lookup
    /// "the state root", mid-trie ones included, so only this root is one.
    fn map_err<T>(&self, result: TrieDbResult<T>) -> Result<T, TrieError> {
        result.map_err(|error| TrieError::from_trie_db(*error, &self.root))
    }

    /// The value at `key`, `None` if there is none.
    pub fn storage(&self, key: &[u8]) -> Result<Option<Vec<u8>>, TrieError> {
        let db = ReadOnly(&self.store);
        let trie = TrieDBBuilder::<Layout>::new(&db, &self.root).build();
        self.map_err(trie.get(key))
    }

    /// The first key strictly greater than `key` in lexicographic byte order.
    pub fn next_storage_key(&self, key: &[u8]) -> Result<Option<Vec<u8>>, TrieError> {
        let db = ReadOnly(&self.store);
        let trie = TrieDBBuilder::<Layout>::new(&db, &self.root).build();
        let next = || -> TrieDbResult<Option<Vec<u8>>> {
            let mut keys = TrieDBKeyIterator::new(&trie)?;
            keys.seek(key)?;
            for next in keys {
                let next = next?;
                // `seek` lands on `key` itself when it exists.
                if next.as_slice() > key {
                    return Ok(Some(next));
                }
            }
            Ok(None)
        };
        self.map_err(next())
    }

    /// Up to `limit` keys starting with `prefix`, in order, beginning after
    /// `start_after` (exclusive) when given: one page of `state_getKeysPaged`.
    pub fn keys_with_prefix(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, TrieError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let db = ReadOnly(&self.store);
        let trie = TrieDBBuilder::<Layout>::new(&db, &self.root).build();
        let page = || -> TrieDbResult<Vec<Vec<u8>>> {
            let mut page = Vec::new();
            let mut keys = TrieDBKeyIterator::new(&trie)?;
            let seek_to = match start_after {
                Some(after) if after > prefix => after,
                _ => prefix,
            };
            keys.seek(seek_to)?;
            for key in keys {
                let key = key?;
                // Keys with the prefix are contiguous and none sorts below it.
                if !key.starts_with(prefix) {
                    break;
                }
                if start_after.is_some_and(|after| key.as_slice() <= after) {
                    continue;
                }
                page.push(key);
                if page.len() >= limit {
                    break;
                }
            }
            Ok(page)
        };
        self.map_err(page())
    }

    /// The root after applying `changes` in order (`Some` sets, `None`
    /// deletes; an empty value is a value, not a deletion), and the change
    /// set that turns this state's store into one that also holds the new
    /// state. The store itself is not touched.
    ///
    /// The change set is a [`MemoryDB`] whose entries, keyed like the store
    /// (`prefix ++ hash`), carry a reference count:
    /// - `+1`: a node of the new trie that this trie has not at that path;
    /// - `-1` (with an empty value): a node of this trie at a path the new
    ///   trie no longer has it at — what pruning may delete once this state
    ///   is no longer wanted; an archive keeps it;
    /// - `0`: a node both removed and re-added (a write that restored the
    ///   old value); nothing to do.
    ///
    /// [`MemoryDB::consolidate`] into a copy of the store applies exactly
    /// that, after which the new state reads back and the old one may not.
    pub fn apply_changes<'a>(
        &self,
        changes: impl IntoIterator<Item = (&'a [u8], Option<&'a [u8]>)>,
    ) -> Result<([u8; 32], MemoryDB), TrieError> {
        let mut overlay = Overlay {
            store: &self.store,
            changes: MemoryDB::default(),
        };
        let mut root = self.root;
        let mut trie = TrieDBMutBuilder::<Layout>::from_existing(&mut overlay, &mut root)
            .disable_commit_on_drop()
            .build();
        let apply = || -> TrieDbResult<()> {
            for (key, value) in changes {
                match value {
                    Some(value) => {
                        trie.insert(key, value)?;
                    }
                    // trie-db 0.32 mis-handles removing an absent key that
                    // ends inside a branch's partial key: it deletes that
                    // branch's value, i.e. another key's (paritytech/trie#217;
                    // a panic in debug builds). Removing an absent key changes
                    // nothing, so only present keys reach `remove`.
                    None => {
                        if trie.get(key)?.is_some() {
                            trie.remove(key)?;
                        }
                    }
                }
            }
            trie.commit();
            Ok(())
        };
        let applied = apply();
        drop(trie);
        self.map_err(applied)?;
        Ok((root, overlay.changes))
    }

    /// The nodes a verifier needs to learn the value (or absence) of each
    /// of `keys` under this root; see [`crate::verify_read_proof`].
    pub fn read_proof(&self, keys: &[&[u8]]) -> Result<StorageProof, TrieError> {
        let db = ReadOnly(&self.store);
        let mut recorder = Recorder::<Layout>::new();
        let trie = TrieDBBuilder::<Layout>::new(&db, &self.root)
            .with_recorder(&mut recorder)
            .build();
        let read = keys.iter().try_for_each(|key| trie.get(key).map(drop));
        self.map_err(read)?;
        let nodes: BTreeSet<Vec<u8>> = recorder
            .drain()
            .into_iter()
            .map(|record| record.data)
            // The verifier knows the empty trie without being told.
            .filter(|node| node.as_slice() != EMPTY_NODE)
            .collect();
        Ok(StorageProof {
            nodes: nodes.into_iter().collect(),
        })
    }
}

/// Used by the proof verifier, which reads a trie out of a hash-keyed
/// [`memory_db::MemoryDB`].
pub(crate) fn read_with(
    db: &dyn HashDBRef<Blake2Hasher, DBValue>,
    root: &[u8; 32],
    key: &[u8],
) -> Result<Option<Vec<u8>>, TrieError> {
    TrieDBBuilder::<Layout>::new(db, root)
        .build()
        .get(key)
        .map_err(|error| TrieError::from_trie_db(*error, root))
}
