//! State and extrinsics roots.

use codec::{Compact, Encode};
use proptest::prelude::*;
use qstack_trie::{empty_root, ordered_trie_root, trie_root, TrieBackend, EMPTY_ROOT};

use crate::{build, sample_map};

#[test]
fn empty_trie_has_substrate_empty_root() {
    let expected = hex::decode("03170a2e7597b7b7e3d84c05391d139a62b157e78786d8c082f29dcf4c111314")
        .expect("hex");
    assert_eq!(empty_root().as_slice(), expected.as_slice());
    assert_eq!(EMPTY_ROOT, empty_root());
    assert_eq!(trie_root(Vec::<(&[u8], &[u8])>::new()), empty_root());
    let backend = TrieBackend::new(qstack_trie::MemoryDB::default(), empty_root());
    assert_eq!(backend.storage(b"any").expect("empty trie reads"), None);
    assert_eq!(
        backend.next_storage_key(b"").expect("empty trie iterates"),
        None
    );
}

/// A one-leaf trie whose node bytes follow from the format alone: header
/// 0x7f 0x19 (88 nibbles = 63 + 25), the 44-byte key, Compact(8) = 0x20, the
/// value. Its root is the same vector as used by a third-party Substrate
/// LayoutV1 proof verifier (V0 and V1 agree for values under 33 bytes).
#[test]
fn single_leaf_root_matches_known_vector() {
    let key = hex::decode(
        "01090073636f7265732f76310101010101010101010101010101010101010101010101010101010101010101",
    )
    .expect("hex");
    let value = hex::decode("2a00000000000000").expect("hex");
    let root = trie_root([(&key, &value)]);
    let node = [&[0x7f, 0x19][..], &key, &[0x20], &value].concat();
    assert_eq!(root, qstack_core::hashing::blake2_256(&node));
    assert_eq!(
        hex::encode(root),
        "802e9d7821c66ad0f0747bf287bf46410819ca9f2aa787411522f26577e766bd"
    );
}

#[test]
fn ordered_root_keys_items_by_compact_index() {
    let values: Vec<Vec<u8>> = (0u32..200)
        .map(|i| i.to_le_bytes().repeat(i as usize % 9))
        .collect();
    let by_hand = trie_root(
        values
            .iter()
            .zip(0u32..)
            .map(|(v, i)| (Compact(i).encode(), v)),
    );
    assert_eq!(ordered_trie_root(&values), by_hand);
    // Index 64 encodes as two bytes that sort before index 1's one byte:
    // the root must not depend on that order.
    assert_ne!(ordered_trie_root(&values), ordered_trie_root(&values[1..]));
    assert_eq!(ordered_trie_root(&[] as &[Vec<u8>]), empty_root());
}

#[test]
fn trie_root_agrees_with_apply_changes() {
    let map = sample_map(500);
    let (_, root) = build(&map);
    assert_eq!(root, trie_root(&map));
}

proptest! {
    #[test]
    fn root_is_independent_of_insertion_order(
        entries in prop::collection::btree_map(
            prop::collection::vec(any::<u8>(), 0..=40),
            prop::collection::vec(any::<u8>(), 0..=100),
            0..60,
        ).prop_map(|m| m.into_iter().collect::<Vec<_>>()).prop_shuffle()
    ) {
        let sorted: std::collections::BTreeMap<_, _> = entries.iter().cloned().collect();
        prop_assert_eq!(trie_root(entries.clone()), trie_root(&sorted));
        let empty = TrieBackend::new(qstack_trie::MemoryDB::default(), empty_root());
        let (root, _) = empty
            .apply_changes(entries.iter().map(|(k, v)| (k.as_slice(), Some(v.as_slice()))))
            .expect("apply");
        prop_assert_eq!(root, trie_root(&sorted));
    }
}
