//! Integration tests of qstack-trie: roots, the backend, proofs and the node
//! codec, through the public API only.

mod backend;
mod codec;
mod proof;
mod roots;

use std::collections::BTreeMap;

use qstack_trie::{empty_root, MemoryDB, TrieBackend};

/// A key-value map, the oracle every trie answer is checked against.
pub type Map = BTreeMap<Vec<u8>, Vec<u8>>;

/// The store and root of a trie holding `map`, built through `apply_changes`.
pub fn build(map: &Map) -> (MemoryDB, [u8; 32]) {
    let empty = TrieBackend::new(MemoryDB::default(), empty_root());
    let (root, changes) = empty
        .apply_changes(map.iter().map(|(k, v)| (k.as_slice(), Some(v.as_slice()))))
        .expect("building from the empty trie needs no stored node");
    let mut store = MemoryDB::default();
    store.consolidate(changes);
    (store, root)
}

/// A deterministic pseudo-random 32-byte string.
pub fn h(seed: impl AsRef<[u8]>) -> [u8; 32] {
    qstack_core::hashing::blake2_256(seed.as_ref())
}

/// `n` entries with pseudo-random keys of varied length sharing prefixes.
pub fn sample_map(n: u32) -> Map {
    (0..n)
        .map(|i| {
            let key = h(i.to_le_bytes());
            let key_len = 1 + (i as usize % 8) * 4;
            // Half of the keys under one prefix, so branches get deep.
            let mut k = if i % 2 == 0 {
                b"pre".to_vec()
            } else {
                Vec::new()
            };
            k.extend_from_slice(&key[..key_len]);
            let value = h(key)[..(i as usize % 33)].to_vec();
            (k, value)
        })
        .collect()
}
