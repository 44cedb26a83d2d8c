//! The node's chain database: headers, bodies, justifications, the canonical
//! index, trie nodes with reference counts, and state pruning, over kvdb
//! (RocksDB on disk, kvdb-memorydb in tests); it must not execute blocks,
//! choose forks or know the byte format of trie nodes (that is `qstack-trie`),
//! and it is the only crate that may depend on `kvdb-rocksdb`.
//!
//! # Layout
//!
//! Columns ([`columns`]): `META` (schema version, pruning mode, genesis,
//! best and finalized pointers, pruning progress), `HEADERS` (hash → SCALE
//! header), `BODIES` (hash → SCALE `Vec<OpaqueExtrinsic>`), `JUSTIFICATIONS`
//! (hash → bytes), `STATE` (trie node key → node ++ reference count u32 LE),
//! `CANONICAL` (number as u32 BE → hash of the best-chain block),
//! `CHILDREN` (parent hash ++ child hash → empty, so a height holds any number
//! of forks) and `JOURNAL` (hash → what pruning must undo for that block).
//! Trie node keys are `qstack_trie::MemoryDB`'s (`prefix ++ hash`), so a
//! block's state delta is written key for key.
//!
//! # Atomicity
//!
//! Everything one block changes — header, body, justification, node counts,
//! journal entries, canonical index (including re-pointing it on a reorg),
//! best/finalized pointers and every pruning step the block triggers — goes
//! into one kvdb transaction, which RocksDB applies as one write batch through
//! its write-ahead log. Whatever instant the process dies at, a reopened store
//! sees the chain as of the last complete commit. (kvdb-rocksdb does not
//! fsync each batch, so a power cut may lose the last few commits, but never
//! splits one.) Commits are serialised by a lock; reads need none.
//!
//! # State nodes and pruning
//!
//! A block's state delta (from `TrieBackend::apply_changes` against its
//! parent's state) has `+n` entries for nodes its state gained and `-n`
//! entries for nodes of the parent's state it no longer has. One key can
//! stand for several nodes (identical subtrees, and `prefixed_key` maps an
//! odd path `p` and `p ++ 0` alike), so every STATE cell carries a reference
//! count, and a node is deleted exactly when its count reaches zero.
//!
//! - Commit: every `+n` entry adds `n` to its node's count (inserting it if
//!   new). Under [`PruningMode::KeepLast`] the block's `+n` keys
//!   (`inserted`) and `-n` keys (`removed`) are journaled under its hash;
//!   nothing is released yet, so the parent's state stays readable.
//! - The window: with best block `b` and `KeepLast(n)`, the states of the
//!   best-chain blocks `b-n+1 ..= b` are kept, together with every block that
//!   descends from the oldest of them, `R` (forks included, whether best or
//!   not). `R`'s height is META `prune_next`; it only grows.
//! - When a commit makes `b-n+1` exceed `prune_next`, then for each height
//!   `h` from `prune_next` up to `b-n` in order, with `C_h` the best-chain
//!   block at `h`:
//!   1. every child of `C_h` other than `C_{h+1}`, with all its descendants,
//!      is discarded: the `inserted` counts of its journal are released and
//!      the journal deleted (a fork's `removed` are never applied, since the
//!      best chain never went through them);
//!   2. the `removed` counts of `C_{h+1}`'s journal are released — this is
//!      what deletes the nodes of `C_h`'s state that `C_{h+1}` replaced — and
//!      its journal is emptied (kept, empty, as the mark that its state is
//!      still there);
//!   3. `C_h`'s journal is deleted.
//!
//!   Afterwards the live blocks are exactly `C_{h+1}` and its descendants.
//!   The invariant this keeps: a node's count equals its multiplicity in
//!   `R`'s state plus the number of live blocks other than `R` whose
//!   journal inserted it, so a node is stored iff some live state reaches it.
//!   Hence states inside the window read in full, forks branching inside the
//!   window included, and nothing of a pruned state or discarded fork
//!   lingers.
//! - A block's state is readable iff it has a journal
//!   ([`Store::state_of`] says [`StorageError::StatePruned`] otherwise;
//!   [`Store::state_at`] on a pruned root reports
//!   `TrieError::MissingRoot`/`MissingNode` on read). Committing a child of a
//!   block whose state is gone is refused, so no fork can grow from below the
//!   window and nothing committed can escape pruning. Deepest possible reorg:
//!   to a fork branching at `R`.
//! - [`PruningMode::Archive`] writes no journal and never releases a count.
//!   A database keeps the kind of mode it was created with (archive or
//!   pruned); the window length may change between runs.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod cache;
mod commit;
mod error;
mod pruning;
mod state;

use std::{fmt, num::NonZeroU32, path::Path, sync::Arc};

use codec::{Decode, DecodeAll, Encode};
use kvdb::KeyValueDB;
use parking_lot::Mutex;
use qstack_core::{BlockNumber, H256};
use qstack_runtime_primitives::{Header, OpaqueBlock, OpaqueExtrinsic};
use qstack_trie::{MemoryDB, TrieBackend};

pub use cache::NodeCache;
pub use error::StorageError;
pub use pruning::PruningMode;
pub use state::StateStore;

use pruning::StoredPruning;

/// Column indices of the database. Public so that tools and tests can inspect
/// a database; writing to one directly bypasses every invariant of [`Store`].
pub mod columns {
    /// Schema version, pruning mode, genesis/best/finalized pointers,
    /// pruning progress.
    pub const META: u32 = 0;
    /// Block hash → SCALE-encoded header.
    pub const HEADERS: u32 = 1;
    /// Block hash → SCALE-encoded `Vec<OpaqueExtrinsic>`.
    pub const BODIES: u32 = 2;
    /// Block hash → justification bytes.
    pub const JUSTIFICATIONS: u32 = 3;
    /// Trie node key (`prefix ++ hash`) → node bytes ++ reference count (u32 LE).
    pub const STATE: u32 = 4;
    /// Block number (u32 big-endian) → hash of the best-chain block there.
    pub const CANONICAL: u32 = 5;
    /// Parent hash ++ child hash → empty.
    pub const CHILDREN: u32 = 6;
    /// Block hash → pruning journal of a block whose state is kept.
    pub const JOURNAL: u32 = 7;
    /// Number of columns.
    pub const NUM_COLUMNS: u32 = 8;
}

/// Version of the on-disk format this build reads and writes. Bump it with
/// any change to a column's keys or values.
pub const SCHEMA_VERSION: u32 = 1;

/// Keys of the META column.
mod meta {
    pub(crate) const SCHEMA: &[u8] = b"schema";
    pub(crate) const PRUNING: &[u8] = b"pruning";
    pub(crate) const GENESIS: &[u8] = b"genesis";
    pub(crate) const BEST: &[u8] = b"best";
    pub(crate) const FINALIZED: &[u8] = b"finalized";
    /// Height of the oldest best-chain block whose state is kept.
    pub(crate) const PRUNE_NEXT: &[u8] = b"prune_next";
}

/// Settings of a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreConfig {
    /// How long old states are kept.
    pub pruning: PruningMode,
    /// RocksDB memory (block cache and write buffers) in MiB, shared out
    /// among the columns, half of it to trie nodes.
    pub memory_budget_mb: usize,
    /// Open an existing database with the pruning mode it was created with,
    /// whatever `pruning` says (tools that only read or append blocks).
    pub adopt_stored_pruning: bool,
    /// Trie nodes kept in memory in front of RocksDB
    /// (MiB; 0 disables): see [`NodeCache`].
    pub node_cache_mb: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            pruning: PruningMode::default(),
            memory_budget_mb: 512,
            adopt_stored_pruning: false,
            node_cache_mb: 128,
        }
    }
}

/// Everything one imported block writes, committed atomically by
/// [`Store::commit_block`].
pub struct ImportBatch {
    /// The block header; its hash is the block's key.
    pub header: Header,
    /// The block's extrinsics.
    pub body: Vec<OpaqueExtrinsic>,
    /// Its justification (commit certificate), if it has one yet.
    pub justification: Option<Vec<u8>>,
    /// The change set from the parent's state to this block's, as returned
    /// by `TrieBackend::apply_changes` on the parent's state.
    pub state_delta: MemoryDB,
    /// Whether this block becomes the best block (the head of the
    /// canonical chain).
    pub new_best: bool,
    /// Whether this block is final; requires `new_best`.
    pub finalized: bool,
}

impl fmt::Debug for ImportBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportBatch")
            .field("header", &self.header)
            .field("body_len", &self.body.len())
            .field("justification", &self.justification.as_ref().map(Vec::len))
            .field("state_delta_entries", &self.state_delta.keys().len())
            .field("new_best", &self.new_best)
            .field("finalized", &self.finalized)
            .finish()
    }
}

/// The chain database. Cheap to clone; clones share the database.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: Arc<dyn KeyValueDB>,
    pruning: PruningMode,
    /// Commits read the database to prepare their batch, so only one may
    /// prepare at a time.
    commit_lock: Mutex<()>,
    /// Trie nodes in memory.
    nodes: Arc<NodeCache>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("pruning", &self.inner.pruning)
            .finish_non_exhaustive()
    }
}

/// Creates a new database (with all its column families) in a staging
/// directory beside `path` and renames it into place, so a crash during
/// creation never leaves a database with only some of its columns, which
/// RocksDB would then refuse to open. An existing database is left alone.
fn create_atomically(
    db_config: &kvdb_rocksdb::DatabaseConfig,
    path: &Path,
) -> Result<(), StorageError> {
    if path.join("CURRENT").exists() {
        return Ok(());
    }
    if std::fs::read_dir(path)?.next().is_some() {
        return Err(StorageError::Io(std::io::Error::other(format!(
            "{} is not empty and holds no database; move its contents away",
            path.display()
        ))));
    }
    let mut staging = path.as_os_str().to_owned();
    staging.push(".creating");
    let staging = std::path::PathBuf::from(staging);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    drop(kvdb_rocksdb::Database::open(db_config, &staging)?);
    // rename(2) replaces the empty directory at `path` atomically.
    std::fs::rename(&staging, path)?;
    Ok(())
}

impl Store {
    /// Opens (creating if missing) the RocksDB database in directory `path`.
    pub fn open(path: impl AsRef<Path>, config: StoreConfig) -> Result<Self, StorageError> {
        let path = path.as_ref();
        std::fs::create_dir_all(path)?;
        let mut db_config = kvdb_rocksdb::DatabaseConfig::with_columns(columns::NUM_COLUMNS);
        let budget = config
            .memory_budget_mb
            .max(2 * columns::NUM_COLUMNS as usize);
        let others = budget / 2 / (columns::NUM_COLUMNS as usize - 1);
        for column in 0..columns::NUM_COLUMNS {
            let share = if column == columns::STATE {
                budget / 2
            } else {
                others
            };
            db_config.memory_budget.insert(column, share);
        }
        create_atomically(&db_config, path)?;
        let db = kvdb_rocksdb::Database::open(&db_config, path)?;
        tracing::info!(
            target: "qstack::storage",
            path = %path.display(),
            pruning = %config.pruning,
            "opened chain database"
        );
        Self::with_database(Arc::new(db), config)
    }

    /// A new, empty in-memory store with the default settings.
    pub fn in_memory() -> Result<Self, StorageError> {
        Self::in_memory_with(StoreConfig::default())
    }

    /// A new, empty in-memory store.
    pub fn in_memory_with(config: StoreConfig) -> Result<Self, StorageError> {
        Self::with_database(
            Arc::new(kvdb_memorydb::create(columns::NUM_COLUMNS)),
            config,
        )
    }

    /// A store over any kvdb database with [`columns::NUM_COLUMNS`] columns.
    /// Checks the schema version and pruning mode, and records them in a new
    /// database.
    pub fn with_database(
        db: Arc<dyn KeyValueDB>,
        config: StoreConfig,
    ) -> Result<Self, StorageError> {
        let mut tx = db.transaction();
        match db.get(columns::META, meta::SCHEMA)? {
            Some(bytes) => {
                let found = decode_meta::<u32>(meta::SCHEMA, &bytes)?;
                if found != SCHEMA_VERSION {
                    return Err(StorageError::SchemaMismatch {
                        found,
                        expected: SCHEMA_VERSION,
                    });
                }
            }
            None => {
                if !column_is_empty(&*db, columns::META)?
                    || !column_is_empty(&*db, columns::HEADERS)?
                {
                    return Err(StorageError::SchemaMismatch {
                        found: 0,
                        expected: SCHEMA_VERSION,
                    });
                }
                tx.put_vec(columns::META, meta::SCHEMA, SCHEMA_VERSION.encode());
            }
        }
        let mut requested = StoredPruning::from(config.pruning);
        let mut pruning = config.pruning;
        match db.get(columns::META, meta::PRUNING)? {
            Some(bytes) => {
                let stored = decode_meta::<StoredPruning>(meta::PRUNING, &bytes)?;
                if config.adopt_stored_pruning {
                    requested = stored;
                    pruning = stored.mode();
                }
                let same_kind = matches!(
                    (stored, requested),
                    (StoredPruning::Archive, StoredPruning::Archive)
                        | (StoredPruning::KeepLast(_), StoredPruning::KeepLast(_))
                );
                if !same_kind {
                    return Err(StorageError::PruningModeMismatch {
                        stored: stored.mode(),
                        requested: config.pruning,
                    });
                }
                if stored != requested {
                    tx.put_vec(columns::META, meta::PRUNING, requested.encode());
                }
            }
            None => tx.put_vec(columns::META, meta::PRUNING, requested.encode()),
        }
        if !tx.ops.is_empty() {
            db.write(tx)?;
        }
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                pruning,
                commit_lock: Mutex::new(()),
                nodes: Arc::new(NodeCache::new(config.node_cache_mb << 20)),
            }),
        })
    }

    /// The underlying database, for inspection by tools and tests. Writing to
    /// it bypasses every invariant of this store.
    pub fn database(&self) -> &Arc<dyn KeyValueDB> {
        &self.inner.db
    }

    /// The pruning mode this store runs with.
    pub fn pruning(&self) -> PruningMode {
        self.inner.pruning
    }

    /// The header of block `hash`. Checks that the stored header hashes to
    /// `hash`.
    pub fn header(&self, hash: H256) -> Result<Option<Header>, StorageError> {
        let Some(bytes) = self.inner.db.get(columns::HEADERS, hash.as_ref())? else {
            return Ok(None);
        };
        let header = Header::decode_all(&mut bytes.as_slice()).map_err(|error| {
            StorageError::corrupt(format!("header of block {hash} does not decode: {error}"))
        })?;
        if header.hash() != hash {
            return Err(StorageError::corrupt(format!(
                "header stored under {hash} hashes to {}",
                header.hash()
            )));
        }
        Ok(Some(header))
    }

    /// The extrinsics of block `hash`.
    pub fn body(&self, hash: H256) -> Result<Option<Vec<OpaqueExtrinsic>>, StorageError> {
        let Some(bytes) = self.inner.db.get(columns::BODIES, hash.as_ref())? else {
            return Ok(None);
        };
        Vec::<OpaqueExtrinsic>::decode_all(&mut bytes.as_slice())
            .map(Some)
            .map_err(|error| {
                StorageError::corrupt(format!("body of block {hash} does not decode: {error}"))
            })
    }

    /// Header and body of block `hash`.
    pub fn block(&self, hash: H256) -> Result<Option<OpaqueBlock>, StorageError> {
        let Some(header) = self.header(hash)? else {
            return Ok(None);
        };
        let extrinsics = self.body(hash)?.ok_or_else(|| {
            StorageError::corrupt(format!("block {hash} has a header but no body"))
        })?;
        Ok(Some(OpaqueBlock { header, extrinsics }))
    }

    /// The justification stored with block `hash`.
    pub fn justification(&self, hash: H256) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.inner.db.get(columns::JUSTIFICATIONS, hash.as_ref())?)
    }

    /// Hash of the best-chain block at height `number`.
    pub fn hash_of(&self, number: BlockNumber) -> Result<Option<H256>, StorageError> {
        let Some(bytes) = self
            .inner
            .db
            .get(columns::CANONICAL, &number.to_be_bytes())?
        else {
            return Ok(None);
        };
        let hash: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            StorageError::corrupt(format!(
                "canonical index entry for #{number} is {} bytes, not a hash",
                bytes.len()
            ))
        })?;
        Ok(Some(H256(hash)))
    }

    /// Number and hash of the best block; `None` before genesis.
    pub fn best(&self) -> Result<Option<(BlockNumber, H256)>, StorageError> {
        self.meta(meta::BEST)
    }

    /// Number and hash of the last finalized block; `None` before genesis.
    pub fn finalized(&self) -> Result<Option<(BlockNumber, H256)>, StorageError> {
        self.meta(meta::FINALIZED)
    }

    /// Hash of the genesis block; `None` before it is committed.
    pub fn genesis_hash(&self) -> Result<Option<H256>, StorageError> {
        self.meta(meta::GENESIS)
    }

    /// Hashes of the stored children of block `hash`, in hash order; more
    /// than one where the chain forks.
    pub fn children(&self, hash: H256) -> Result<Vec<H256>, StorageError> {
        children_in(&*self.inner.db, hash)
    }

    /// The state with root `state_root`. Nothing is checked up front: reading
    /// a pruned or unknown state fails with `TrieError::MissingRoot` or
    /// `MissingNode`.
    pub fn state_at(&self, state_root: H256) -> TrieBackend<StateStore> {
        TrieBackend::new(self.state_store(), state_root.0)
    }

    /// The state after block `hash`, if the store still keeps it.
    pub fn state_of(&self, hash: H256) -> Result<TrieBackend<StateStore>, StorageError> {
        let header = self
            .header(hash)?
            .ok_or(StorageError::UnknownBlock { hash })?;
        if !self.state_kept(hash)? {
            return Err(StorageError::StatePruned {
                hash,
                number: header.number,
            });
        }
        Ok(self.state_at(header.state_root))
    }

    /// Whether the state of stored block `hash` is kept (not pruned or
    /// discarded with its fork).
    pub fn has_state(&self, hash: H256) -> Result<bool, StorageError> {
        if !self.inner.db.has_key(columns::HEADERS, hash.as_ref())? {
            return Err(StorageError::UnknownBlock { hash });
        }
        self.state_kept(hash)
    }

    /// The node store that [`Store::state_at`] reads through.
    pub fn state_store(&self) -> StateStore {
        StateStore::new(self.inner.db.clone(), self.inner.nodes.clone())
    }

    /// Whether a stored block's state is kept: always in an archive, else
    /// while its journal exists.
    fn state_kept(&self, hash: H256) -> Result<bool, StorageError> {
        match self.inner.pruning {
            PruningMode::Archive => Ok(true),
            PruningMode::KeepLast(_) => {
                Ok(self.inner.db.has_key(columns::JOURNAL, hash.as_ref())?)
            }
        }
    }

    /// A decoded META value.
    fn meta<T: Decode>(&self, key: &'static [u8]) -> Result<Option<T>, StorageError> {
        match self.inner.db.get(columns::META, key)? {
            Some(bytes) => decode_meta(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The window length, `None` for an archive.
    fn window(&self) -> Option<NonZeroU32> {
        self.inner.pruning.window()
    }
}

/// Decodes a META value, naming the key if it is corrupt.
fn decode_meta<T: Decode>(key: &'static [u8], bytes: &[u8]) -> Result<T, StorageError> {
    T::decode_all(&mut &bytes[..]).map_err(|error| {
        StorageError::corrupt(format!(
            "metadata entry {:?} does not decode: {error}",
            String::from_utf8_lossy(key)
        ))
    })
}

/// Whether column `column` holds no entry.
fn column_is_empty(db: &dyn KeyValueDB, column: u32) -> Result<bool, StorageError> {
    match db.iter(column).next() {
        None => Ok(true),
        Some(Ok(_)) => Ok(false),
        Some(Err(error)) => Err(error.into()),
    }
}

/// The children of `hash` recorded in `db`.
fn children_in(db: &dyn KeyValueDB, hash: H256) -> Result<Vec<H256>, StorageError> {
    db.iter_with_prefix(columns::CHILDREN, hash.as_ref())
        .map(|entry| {
            let (key, _) = entry?;
            key.get(32..)
                .and_then(|child| <[u8; 32]>::try_from(child).ok())
                .map(H256)
                .ok_or_else(|| {
                    StorageError::corrupt(format!(
                        "children index key of {hash} is {} bytes, not two hashes",
                        key.len()
                    ))
                })
        })
        .collect()
}
