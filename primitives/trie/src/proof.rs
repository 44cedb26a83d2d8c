//! Read proofs: the trie nodes that show what a root holds under some keys.

use alloc::vec::Vec;
use core::fmt;

use codec::{Decode, DecodeWithMemTracking, Encode};
use hash_db::{HashDB, EMPTY_PREFIX};
use memory_db::HashKey;

use crate::{backend::read_with, error::Hex, Blake2Hasher, TrieError, EMPTY_ROOT};

/// The trie nodes on the paths to some keys, each encoded node once, sorted.
/// Its SCALE encoding is that of Substrate's `StorageProof` (a set of nodes),
/// so `state_getReadProof` clients read it unchanged.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Debug, Default, PartialEq, Eq)]
pub struct StorageProof {
    /// Encoded trie nodes, sorted and deduplicated when built by qstack
    /// (verification accepts any order).
    pub nodes: Vec<Vec<u8>>,
}

impl StorageProof {
    /// A proof of the given nodes, sorted and deduplicated.
    pub fn new(nodes: impl IntoIterator<Item = Vec<u8>>) -> Self {
        let mut nodes: Vec<Vec<u8>> = nodes.into_iter().collect();
        nodes.sort_unstable();
        nodes.dedup();
        Self { nodes }
    }

    /// Whether the proof holds no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Total bytes of its nodes.
    pub fn encoded_nodes_len(&self) -> usize {
        self.nodes.iter().map(Vec::len).sum()
    }
}

/// Why a read proof does not establish the answer for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofError {
    /// No node of the proof hashes to the root: the proof is for another
    /// state, or not a proof.
    RootNotInProof {
        /// The root the proof was checked against.
        root: [u8; 32],
    },
    /// The proof lacks a node on the path to `key`.
    Incomplete {
        /// The key whose path is cut.
        key: Vec<u8>,
        /// Hash of the node needed next.
        missing: [u8; 32],
    },
    /// A node on the path to `key` is malformed.
    Invalid {
        /// The key whose path holds the node.
        key: Vec<u8>,
        /// What is wrong.
        error: TrieError,
    },
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RootNotInProof { root } => {
                write!(
                    f,
                    "no proof node hashes to state root {}: proof is for another state",
                    Hex(root)
                )
            }
            Self::Incomplete { key, missing } => write!(
                f,
                "proof is incomplete for key {}: node {} is missing",
                Hex(key),
                Hex(missing)
            ),
            Self::Invalid { key, error } => {
                write!(f, "proof is invalid for key {}: {error}", Hex(key))
            }
        }
    }
}

impl core::error::Error for ProofError {}

/// The value of each of `keys` under `root` (`None`: proven absent), in the
/// order asked, as established by `proof`.
///
/// Every answer is bound to `root` by the hash chain from it, so a wrong
/// value or a false absence needs a blake2-256 collision. A proof that cannot
/// answer for some key is an error, never a guess. Nodes the lookups do not
/// need are ignored.
#[allow(clippy::type_complexity)] // (key, value) pairs: naming the type would hide it
pub fn verify_read_proof(
    root: &[u8; 32],
    proof: &StorageProof,
    keys: &[&[u8]],
) -> Result<Vec<(Vec<u8>, Option<Vec<u8>>)>, ProofError> {
    // Keyed by hash alone: a proof does not say where its nodes sit.
    let mut db = memory_db::MemoryDB::<Blake2Hasher, HashKey<Blake2Hasher>, Vec<u8>>::default();
    for node in &proof.nodes {
        db.insert(EMPTY_PREFIX, node);
    }
    // With no key asked there is nothing to bind to the root, and an empty
    // proof (what `read_proof(&[])` gives) answers nothing correctly.
    if !keys.is_empty() && *root != EMPTY_ROOT && !db.contains(root, EMPTY_PREFIX) {
        return Err(ProofError::RootNotInProof { root: *root });
    }
    keys.iter()
        .map(|key| match read_with(&db, root, key) {
            Ok(value) => Ok((key.to_vec(), value)),
            Err(TrieError::MissingNode { hash } | TrieError::MissingRoot { root: hash }) => {
                Err(ProofError::Incomplete {
                    key: key.to_vec(),
                    missing: hash,
                })
            }
            Err(error) => Err(ProofError::Invalid {
                key: key.to_vec(),
                error,
            }),
        })
        .collect()
}
