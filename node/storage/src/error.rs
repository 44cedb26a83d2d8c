//! The storage error type.

use qstack_core::{BlockNumber, H256};
use qstack_trie::TrieError;

use crate::PruningMode;

/// Why a storage operation failed. Reads and writes report these instead of
/// panicking, whatever bytes the database holds.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database itself failed (disk full, permissions, RocksDB error).
    #[error("database I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Stored bytes do not decode or contradict each other. The database was
    /// damaged outside this store; restore it from a backup or resync.
    #[error("corrupt database: {what}")]
    Corrupt {
        /// What was being read and what is wrong with it.
        what: String,
    },
    /// The database was written by a different format version of this store.
    #[error(
        "database format version {found} is not the supported version {expected} \
         (0 means none was recorded); use a matching node release or resync into a new directory"
    )]
    SchemaMismatch {
        /// The version recorded in the database.
        found: u32,
        /// The version this build reads and writes.
        expected: u32,
    },
    /// The database was created with a pruning mode that cannot change to the
    /// requested one (an archive cannot become pruned, nor a pruned database
    /// an archive).
    #[error(
        "database was created with pruning {stored}, cannot open it with pruning {requested}; \
         keep the original setting or resync into a new directory"
    )]
    PruningModeMismatch {
        /// The mode recorded in the database.
        stored: PruningMode,
        /// The mode asked for.
        requested: PruningMode,
    },
    /// No block with this hash is stored.
    #[error("unknown block {hash}")]
    UnknownBlock {
        /// The block hash asked for.
        hash: H256,
    },
    /// A block's parent is not stored.
    #[error("parent {parent} of block {hash} is not stored")]
    UnknownParent {
        /// The block being committed.
        hash: H256,
        /// Its parent hash.
        parent: H256,
    },
    /// The block is already stored; committing it again would count its state
    /// nodes twice.
    #[error("block {hash} is already stored")]
    BlockExists {
        /// The block hash.
        hash: H256,
    },
    /// The state of this block was pruned (or discarded with its fork), so it
    /// can neither be read nor built upon.
    #[error("state of block #{number} {hash} is pruned")]
    StatePruned {
        /// The block hash.
        hash: H256,
        /// The block number.
        number: BlockNumber,
    },
    /// Making this block the best would revert the finalized block.
    #[error(
        "block {hash} forks from the best chain at #{ancestor}, below finalized block #{finalized}"
    )]
    RevertsFinalized {
        /// The block that was to become best.
        hash: H256,
        /// Height of its last common ancestor with the best chain.
        ancestor: BlockNumber,
        /// Height of the finalized block.
        finalized: BlockNumber,
    },
    /// A genesis block is already stored.
    #[error("genesis {existing} is already stored")]
    GenesisExists {
        /// The stored genesis hash.
        existing: H256,
    },
    /// No genesis block is stored yet; commit one first.
    #[error("no genesis block is stored")]
    NoGenesis,
    /// The batch contradicts itself or the chain (wrong number, finalized
    /// but not best, a state node not matching its hash).
    #[error("invalid import batch for block {hash}: {reason}")]
    InvalidBatch {
        /// The block being committed.
        hash: H256,
        /// What is wrong.
        reason: String,
    },
    /// Reading a state failed (a pruned or missing trie node, a corrupt node).
    #[error("state read failed: {0}")]
    Trie(#[from] TrieError),
}

impl StorageError {
    /// A [`StorageError::Corrupt`] from a description.
    pub(crate) fn corrupt(what: impl Into<String>) -> Self {
        Self::Corrupt { what: what.into() }
    }
}
