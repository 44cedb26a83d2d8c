//! Errors of trie reads and writes.

use alloc::vec::Vec;
use core::fmt;

use crate::NodeDecodeError;

/// Why a trie operation failed. Each case means the node store does not hold
/// the trie the root promises: the state is unknown or pruned, or the store is
/// corrupt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrieError {
    /// The root node is not in the store: the state is unknown or pruned.
    MissingRoot {
        /// The state root.
        root: [u8; 32],
    },
    /// A node the trie references is not in the store.
    MissingNode {
        /// Hash of the missing node.
        hash: [u8; 32],
    },
    /// A stored node does not decode.
    InvalidNode {
        /// Hash of the node (of its parent for an inline node).
        hash: [u8; 32],
        /// What is wrong with it.
        error: NodeDecodeError,
    },
    /// A node refers to a child by something that is not a 32-byte hash.
    InvalidChildReference {
        /// Hash of the referring node.
        parent: [u8; 32],
        /// Length of the reference.
        len: usize,
    },
    /// A value sits at a path that is not a whole number of bytes.
    ValueAtIncompleteKey {
        /// The whole bytes of the path.
        key: Vec<u8>,
    },
}

impl fmt::Display for TrieError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingRoot { root } => {
                write!(
                    f,
                    "state root {} is not in the node store (unknown or pruned state)",
                    Hex(root)
                )
            }
            Self::MissingNode { hash } => {
                write!(f, "trie node {} is missing from the node store", Hex(hash))
            }
            Self::InvalidNode { hash, error } => {
                write!(f, "trie node {} is corrupt: {error}", Hex(hash))
            }
            Self::InvalidChildReference { parent, len } => {
                write!(
                    f,
                    "trie node {} refers to a child by {len} bytes, not a hash",
                    Hex(parent)
                )
            }
            Self::ValueAtIncompleteKey { key } => {
                write!(
                    f,
                    "trie value at a path of odd nibble length after {}",
                    Hex(key)
                )
            }
        }
    }
}

impl core::error::Error for TrieError {}

impl TrieError {
    /// trie-db's error for a trie with root `root`. trie-db reports a missing
    /// first node of any lookup as a missing state root, even mid-trie (as
    /// `TrieDBMut` lookups start), so that case is told apart by the hash.
    pub(crate) fn from_trie_db(
        error: trie_db::TrieError<[u8; 32], NodeDecodeError>,
        root: &[u8; 32],
    ) -> Self {
        use trie_db::TrieError as E;
        match error {
            E::InvalidStateRoot(hash) if hash == *root => Self::MissingRoot { root: hash },
            E::InvalidStateRoot(hash) | E::IncompleteDatabase(hash) => Self::MissingNode { hash },
            E::DecoderError(hash, error) => Self::InvalidNode { hash, error },
            E::InvalidHash(parent, reference) => Self::InvalidChildReference {
                parent,
                len: reference.len(),
            },
            E::ValueAtIncompleteKey(key, _) => Self::ValueAtIncompleteKey { key },
        }
    }
}

/// `0x`-prefixed lowercase hex, without allocating.
pub(crate) struct Hex<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}
