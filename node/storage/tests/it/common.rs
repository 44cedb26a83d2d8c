//! A chain builder with an in-memory model of every block's state, and the
//! oracles the tests check the store against.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::Mutex,
};

use codec::Encode;
use hash_db::Prefix;
use qstack_core::H256;
use qstack_runtime_primitives::{extrinsics_root, Digest, DigestItem, Header, OpaqueExtrinsic};
use qstack_storage::{
    columns, ImportBatch, PruningMode, StateStore, StorageError, Store, StoreConfig,
};
use qstack_trie::{Blake2Hasher, MemoryDB, NodeStore, TrieBackend, TrieError, EMPTY_ROOT};

/// Key → value of one state.
pub type State = BTreeMap<Vec<u8>, Vec<u8>>;
/// Writes of one block: `Some` sets, `None` deletes.
pub type Changes = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// What the model knows of a block.
#[derive(Clone, Debug)]
pub struct Block {
    pub header: Header,
    pub body: Vec<OpaqueExtrinsic>,
    pub justification: Option<Vec<u8>>,
    pub state: State,
}

/// A store plus the model of what it should hold.
pub struct Chain {
    pub store: Store,
    pub blocks: HashMap<H256, Block>,
    pub genesis: H256,
    salt: u64,
}

pub fn config(pruning: PruningMode) -> StoreConfig {
    StoreConfig {
        pruning,
        memory_budget_mb: 64,
        ..Default::default()
    }
}

pub fn keep_last(n: u32) -> PruningMode {
    PruningMode::KeepLast(std::num::NonZeroU32::new(n).expect("window > 0"))
}

/// The change set building `state` from the empty trie.
pub fn genesis_delta(state: &State) -> ([u8; 32], MemoryDB) {
    TrieBackend::new(MemoryDB::default(), EMPTY_ROOT)
        .apply_changes(
            state
                .iter()
                .map(|(k, v)| (k.as_slice(), Some(v.as_slice()))),
        )
        .expect("genesis delta")
}

/// A body of `n` extrinsics, distinct per `salt`.
pub fn body(salt: u64, n: usize) -> Vec<OpaqueExtrinsic> {
    (0..n)
        .map(|i| OpaqueExtrinsic::from_encoded(format!("xt-{salt}-{i}").into_bytes().encode()))
        .collect()
}

/// The state after applying `changes` to `state`.
pub fn apply(state: &State, changes: &Changes) -> State {
    let mut state = state.clone();
    for (key, value) in changes {
        match value {
            Some(value) => state.insert(key.clone(), value.clone()),
            None => state.remove(key),
        };
    }
    state
}

impl Chain {
    /// Commits a genesis holding `state` into `store`.
    pub fn new(store: Store, state: State) -> Self {
        let (root, delta) = genesis_delta(&state);
        let header = Header::genesis(H256(root));
        let genesis = header.hash();
        store
            .commit_genesis(header.clone(), delta)
            .expect("genesis");
        let mut blocks = HashMap::new();
        blocks.insert(
            genesis,
            Block {
                header,
                body: Vec::new(),
                justification: None,
                state,
            },
        );
        Self {
            store,
            blocks,
            genesis,
            salt: 0,
        }
    }

    /// A model for a store that already holds `blocks`.
    pub fn resume(store: Store, blocks: HashMap<H256, Block>, genesis: H256) -> Self {
        let salt = blocks.len() as u64 * 1_000_003;
        Self {
            store,
            blocks,
            genesis,
            salt,
        }
    }

    /// Builds a child of `parent` writing `changes` (computing the delta with
    /// `apply_changes` on the parent's stored state), commits it, and records
    /// it in the model if the store accepts it.
    pub fn import(
        &mut self,
        parent: H256,
        changes: &Changes,
        new_best: bool,
        finalized: bool,
    ) -> Result<H256, StorageError> {
        self.salt += 1;
        let salt = self.salt;
        let parent_block = self.blocks.get(&parent).expect("parent in model").clone();
        let backend = self.store.state_of(parent)?;
        let (root, delta) = backend
            .apply_changes(changes.iter().map(|(k, v)| (k.as_slice(), v.as_deref())))
            .map_err(StorageError::Trie)?;
        let body = body(salt, (salt % 3) as usize);
        let header = Header {
            parent_hash: parent,
            number: parent_block.header.number + 1,
            state_root: H256(root),
            extrinsics_root: extrinsics_root(&body),
            digest: Digest {
                logs: vec![DigestItem::Other(salt.to_le_bytes().to_vec())],
            },
        };
        let hash = header.hash();
        let justification = finalized.then(|| format!("just-{salt}").into_bytes());
        self.store.commit_block(ImportBatch {
            header: header.clone(),
            body: body.clone(),
            justification: justification.clone(),
            state_delta: delta,
            new_best,
            finalized,
        })?;
        let state = apply(&parent_block.state, changes);
        assert_eq!(
            root,
            qstack_trie::trie_root(state.iter()),
            "model and trie disagree"
        );
        self.blocks.insert(
            hash,
            Block {
                header,
                body,
                justification,
                state,
            },
        );
        Ok(hash)
    }

    /// The model's best chain from genesis to `best`, by walking parents.
    pub fn chain_to(&self, best: H256) -> Vec<H256> {
        let mut chain = vec![best];
        let mut at = best;
        while at != self.genesis {
            at = self.blocks[&at].header.parent_hash;
            chain.push(at);
        }
        chain.reverse();
        chain
    }

    /// Whether `ancestor` is `block` or one of its ancestors.
    pub fn descends(&self, block: H256, ancestor: H256) -> bool {
        let mut at = block;
        loop {
            if at == ancestor {
                return true;
            }
            if at == self.genesis {
                return false;
            }
            at = self.blocks[&at].header.parent_hash;
        }
    }
}

/// Checks that `backend` holds exactly `state`: every value, and no other
/// key.
pub fn assert_state(backend: &TrieBackend<StateStore>, state: &State) {
    for (key, value) in state {
        assert_eq!(
            backend.storage(key).expect("readable state").as_ref(),
            Some(value),
            "value of key {key:?}"
        );
    }
    let keys = backend
        .keys_with_prefix(&[], None, usize::MAX)
        .expect("iterable state");
    assert_eq!(
        keys,
        state.keys().cloned().collect::<Vec<_>>(),
        "key set of the state"
    );
}

/// Whether reading `backend` fails for lack of nodes (a pruned state).
pub fn is_missing(backend: &TrieBackend<StateStore>) -> bool {
    matches!(
        backend.keys_with_prefix(&[], None, usize::MAX),
        Err(TrieError::MissingRoot { .. } | TrieError::MissingNode { .. })
    )
}

/// Records the STATE key of every node a read asks for.
struct Recording<'a> {
    inner: &'a StateStore,
    seen: Mutex<BTreeSet<Vec<u8>>>,
}

impl NodeStore for Recording<'_> {
    fn get(&self, hash: &[u8; 32], prefix: Prefix) -> Option<Vec<u8>> {
        let key = memory_db::prefixed_key::<Blake2Hasher>(hash, prefix);
        self.seen.lock().expect("lock").insert(key);
        self.inner.get(hash, prefix)
    }
}

/// The STATE keys of every node of the state with `root` (by visiting
/// every key, which walks every node).
pub fn reachable_keys(store: &Store, root: H256) -> BTreeSet<Vec<u8>> {
    let state_store = store.state_store();
    let recording = Recording {
        inner: &state_store,
        seen: Mutex::new(BTreeSet::new()),
    };
    let backend = TrieBackend::new(&recording, root.0);
    backend
        .keys_with_prefix(&[], None, usize::MAX)
        .expect("reachable state");
    recording.seen.into_inner().expect("lock")
}

/// Every key of the STATE column.
pub fn state_column(store: &Store) -> BTreeSet<Vec<u8>> {
    store
        .database()
        .iter(columns::STATE)
        .map(|entry| entry.expect("iterate STATE").0.to_vec())
        .collect()
}

/// Checks that the STATE column holds exactly the nodes reachable from the
/// given roots: nothing readable is missing, nothing unreachable is left.
pub fn assert_state_column_is(store: &Store, live_roots: impl IntoIterator<Item = H256>) {
    let mut expected = BTreeSet::new();
    for root in live_roots {
        expected.extend(reachable_keys(store, root));
    }
    let actual = state_column(store);
    let leaked: Vec<_> = actual.difference(&expected).collect();
    let missing: Vec<_> = expected.difference(&actual).collect();
    assert!(
        leaked.is_empty() && missing.is_empty(),
        "STATE column: {} leaked nodes, {} missing nodes",
        leaked.len(),
        missing.len()
    );
}
