//! The state trie: its layout and node codec, state and extrinsics roots, the
//! read-only/delta backend over a node store, and read proofs. It owns the
//! byte format of trie nodes; it does not own where nodes are stored (that is
//! the node's `storage` crate behind [`NodeStore`]) nor the overlay of pending
//! writes (that is the externalities in `qstack-io`).
//!
//! The format is meant to be Substrate's `LayoutV0` trie byte for byte (a
//! radix-16 Patricia-Merkle trie without extension nodes, blake2-256 node
//! hashes, values always inline), so that Substrate tooling (smoldot, subxt,
//! polkadot.js) computes the same roots and verifies our proofs. The golden
//! tests pin that format; changing them changes every state root.
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

extern crate alloc;

mod backend;
mod error;
mod hasher;
mod node_codec;
mod proof;

use alloc::vec::Vec;
use codec::{Compact, Encode};
use trie_db::{trie_visit, TrieLayout, TrieRoot};

pub use backend::{NodeStore, TrieBackend};
pub use error::TrieError;
pub use hasher::{Blake2Hasher, Hash256StdHasher};
pub use node_codec::{NodeCodec, NodeDecodeError};
pub use proof::{verify_read_proof, ProofError, StorageProof};

/// The trie layout of qstack state: no extension nodes (branches carry the
/// partial key), empty values allowed and distinct from absence, and values
/// always stored inline in their node (Substrate's `LayoutV0`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Layout;

impl TrieLayout for Layout {
    const USE_EXTENSION: bool = false;
    const ALLOW_EMPTY: bool = true;
    const MAX_INLINE_VALUE: Option<u32> = None;
    type Hash = Blake2Hasher;
    type Codec = NodeCodec;
}

/// Trie nodes in memory, keyed by node path prefix + hash
/// ([`memory_db::PrefixedKey`]), with reference counts. It is both a test
/// node store and the change set [`TrieBackend::apply_changes`] returns; its
/// keys are the keys the node's database uses for trie nodes.
pub type MemoryDB =
    memory_db::MemoryDB<Blake2Hasher, memory_db::PrefixedKey<Blake2Hasher>, Vec<u8>>;

/// Encoding of the empty trie: a single null-header byte.
pub const EMPTY_NODE: [u8; 1] = [0];

/// Root of the empty trie, `blake2_256([0x00])`.
pub const EMPTY_ROOT: [u8; 32] = [
    0x03, 0x17, 0x0a, 0x2e, 0x75, 0x97, 0xb7, 0xb7, 0xe3, 0xd8, 0x4c, 0x05, 0x39, 0x1d, 0x13, 0x9a,
    0x62, 0xb1, 0x57, 0xe7, 0x87, 0x86, 0xd8, 0xc0, 0x82, 0xf2, 0x9d, 0xcf, 0x4c, 0x11, 0x13, 0x14,
];

/// Root of the empty trie (see [`EMPTY_ROOT`]).
pub fn empty_root() -> [u8; 32] {
    EMPTY_ROOT
}

/// Root of the trie holding exactly `iter`'s pairs. Input order does not
/// matter; when a key repeats, its last value wins.
pub fn trie_root<I, K, V>(iter: I) -> [u8; 32]
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<[u8]>,
    V: AsRef<[u8]>,
{
    let mut items: Vec<(K, V)> = iter.into_iter().collect();
    // Stable: among equal keys the input order survives, so "last wins" below
    // keeps the last one written.
    items.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
    let mut sorted: Vec<(&[u8], &[u8])> = Vec::with_capacity(items.len());
    for (key, value) in &items {
        let (key, value) = (key.as_ref(), value.as_ref());
        match sorted.last_mut() {
            Some(last) if last.0 == key => last.1 = value,
            _ => sorted.push((key, value)),
        }
    }
    sorted_trie_root(sorted)
}

/// Root of the trie mapping `Compact<u32>(i).encode()` to `values[i]`:
/// Substrate's extrinsics-root rule. Items past index `u32::MAX` are ignored
/// (no block gets near that).
pub fn ordered_trie_root(values: &[impl AsRef<[u8]>]) -> [u8; 32] {
    trie_root(
        values
            .iter()
            .zip(0u32..)
            .map(|(value, i)| (Compact(i).encode(), value)),
    )
}

/// Root of strictly ascending, duplicate-free pairs (`trie_visit`'s contract).
fn sorted_trie_root<'a>(sorted: Vec<(&'a [u8], &'a [u8])>) -> [u8; 32] {
    let mut builder = TrieRoot::<Layout>::default();
    trie_visit::<Layout, _, _, _, _>(sorted, &mut builder);
    // `trie_visit` always reports a root, if only the empty node's.
    builder.root.unwrap_or(EMPTY_ROOT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_constant_is_hash_of_empty_node() {
        assert_eq!(qstack_core::hashing::blake2_256(&EMPTY_NODE), EMPTY_ROOT);
        assert_eq!(trie_root(Vec::<(Vec<u8>, Vec<u8>)>::new()), EMPTY_ROOT);
        assert_eq!(ordered_trie_root(&[] as &[Vec<u8>]), EMPTY_ROOT);
    }

    #[test]
    fn trie_root_last_duplicate_wins() {
        let a = trie_root([(b"k".as_ref(), b"1".as_ref()), (b"k", b"2")]);
        let b = trie_root([(b"k".as_ref(), b"2".as_ref())]);
        assert_eq!(a, b);
    }
}
