//! Reads, iteration and change sets of `TrieBackend`.

use std::sync::Arc;

use proptest::prelude::*;
use qstack_trie::{empty_root, trie_root, MemoryDB, TrieBackend, TrieError};

use crate::{build, h, sample_map, Map};

#[test]
fn reads_every_key_and_nothing_else() {
    let map = sample_map(300);
    let (store, root) = build(&map);
    let backend = TrieBackend::new(store, root);
    for (key, value) in &map {
        assert_eq!(backend.storage(key).expect("read").as_ref(), Some(value));
    }
    for i in 0u32..100 {
        let absent = h(i.to_be_bytes());
        assert_eq!(backend.storage(&absent).expect("read"), None);
    }
}

#[test]
fn apply_changes_leaves_store_untouched_and_merged_store_reads_new_state() {
    let old_map = sample_map(400);
    let (store, old_root) = build(&old_map);
    let backend = TrieBackend::new(Arc::new(store.clone()), old_root);

    let mut new_map = old_map.clone();
    let mut changes: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
    for (i, key) in old_map.keys().enumerate() {
        match i % 4 {
            0 => changes.push((key.clone(), None)),
            1 => changes.push((key.clone(), Some(b"updated".to_vec()))),
            // An empty value is a value, not a deletion.
            2 => changes.push((key.clone(), Some(Vec::new()))),
            _ => {}
        }
    }
    for i in 0u32..150 {
        changes.push((h(i.to_le_bytes())[..20].to_vec(), Some(vec![i as u8; 40])));
    }
    // Deleting a key that is not there changes nothing.
    changes.push((b"never-there".to_vec(), None));
    for (key, value) in &changes {
        match value {
            Some(v) => new_map.insert(key.clone(), v.clone()),
            None => new_map.remove(key),
        };
    }

    let (new_root, delta) = backend
        .apply_changes(changes.iter().map(|(k, v)| (k.as_slice(), v.as_deref())))
        .expect("apply");
    assert_eq!(new_root, trie_root(&new_map));
    assert_ne!(new_root, old_root);

    // The old state is untouched and still fully readable.
    for (key, value) in &old_map {
        assert_eq!(
            backend.storage(key).expect("old read").as_ref(),
            Some(value)
        );
    }

    // The change set holds new nodes (+1) and nodes the new trie dropped (-1).
    let counts: Vec<i32> = delta.keys().values().copied().collect();
    assert!(counts.iter().any(|rc| *rc > 0));
    assert!(counts.iter().any(|rc| *rc < 0));

    let mut merged = store;
    merged.consolidate(delta);
    let after = TrieBackend::new(&merged, new_root);
    for (key, value) in &new_map {
        assert_eq!(
            after.storage(key).expect("new read").as_ref(),
            Some(value),
            "key {key:?}"
        );
    }
    for (key, _) in changes.iter().filter(|(_, v)| v.is_none()) {
        assert_eq!(after.storage(key).expect("new read"), None);
    }
    let all = after
        .keys_with_prefix(b"", None, usize::MAX)
        .expect("iterate");
    assert_eq!(all, new_map.keys().cloned().collect::<Vec<_>>());
}

/// Deleting an absent key that is a strict prefix of present keys, ending
/// inside a branch's partial key, must change nothing. Plain trie-db 0.32
/// deletes the branch's value instead (paritytech/trie#217).
#[test]
fn deleting_an_absent_prefix_key_changes_nothing() {
    let cases: [(&[&[u8]], &[u8]); 3] = [
        // Found by `incremental_apply_matches_trie_root`.
        (&[&[1, 0], &[1, 0, 0], &[0]], &[1]),
        // The root branch has partial key 0x12 and the value of key 0x12.
        (&[&[0x12], &[0x12, 0x34], &[0x12, 0x35]], &[]),
        // From the trie-db issue.
        (
            &[&[0xff, 0xff], &[0xfe, 0xff, 0xe9], &[0xff, 0xff, 0xff]],
            &[0xff],
        ),
    ];
    for (keys, absent) in cases {
        let map: Map = keys.iter().map(|k| (k.to_vec(), k.repeat(2))).collect();
        let (store, root) = build(&map);
        let backend = TrieBackend::new(store, root);
        let (new_root, _) = backend.apply_changes([(absent, None)]).expect("apply");
        assert_eq!(
            new_root, root,
            "deleting absent {absent:?} changed the trie"
        );
    }
}

#[test]
fn deleting_everything_gives_the_empty_root() {
    let map = sample_map(50);
    let (store, root) = build(&map);
    let backend = TrieBackend::new(store, root);
    let (root, _) = backend
        .apply_changes(map.keys().map(|k| (k.as_slice(), None)))
        .expect("apply");
    assert_eq!(root, empty_root());
}

#[test]
fn next_storage_key_walk_equals_btreemap_range() {
    let map = sample_map(300);
    let (store, root) = build(&map);
    let backend = TrieBackend::new(store, root);
    let mut walked = Vec::new();
    let mut cursor = Vec::new();
    while let Some(next) = backend.next_storage_key(&cursor).expect("next") {
        walked.push(next.clone());
        cursor = next;
    }
    assert_eq!(walked, map.keys().cloned().collect::<Vec<_>>());

    // From keys that are absent, present, prefixes and past the end.
    let probes: Vec<Vec<u8>> = map
        .keys()
        .flat_map(|k| {
            let mut longer = k.clone();
            longer.push(0);
            [k.clone(), k[..k.len() / 2].to_vec(), longer]
        })
        .chain([vec![], vec![0xff; 50], b"pre".to_vec(), b"prf".to_vec()])
        .collect();
    for probe in probes {
        use std::ops::Bound::{Excluded, Unbounded};
        let expected = map
            .range::<Vec<u8>, _>((Excluded(&probe), Unbounded))
            .next()
            .map(|(k, _)| k.clone());
        assert_eq!(
            backend.next_storage_key(&probe).expect("next"),
            expected,
            "after {probe:?}"
        );
    }
}

#[test]
fn keys_with_prefix_pages_like_btreemap() {
    let map = sample_map(300);
    let (store, root) = build(&map);
    let backend = TrieBackend::new(store, root);
    for prefix in [
        &b""[..],
        b"pre",
        b"pr",
        b"prex",
        &map.keys().nth(7).expect("key")[..4],
    ] {
        let expected: Vec<Vec<u8>> = map
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        // Page through with varied page sizes.
        for limit in [1, 7, 1000] {
            let mut got = Vec::new();
            let mut start_after: Option<Vec<u8>> = None;
            loop {
                let page = backend
                    .keys_with_prefix(prefix, start_after.as_deref(), limit)
                    .expect("page");
                assert!(page.len() <= limit);
                let Some(last) = page.last().cloned() else {
                    break;
                };
                got.extend(page);
                start_after = Some(last);
            }
            assert_eq!(got, expected, "prefix {prefix:?} limit {limit}");
        }
        assert!(backend
            .keys_with_prefix(prefix, None, 0)
            .expect("page")
            .is_empty());
    }
    // A start key below the prefix starts at the prefix; one above ends it.
    let pre: Vec<Vec<u8>> = map
        .keys()
        .filter(|k| k.starts_with(b"pre"))
        .cloned()
        .collect();
    assert_eq!(
        backend
            .keys_with_prefix(b"pre", Some(b"a"), 5)
            .expect("page"),
        pre[..5].to_vec()
    );
    assert!(backend
        .keys_with_prefix(b"pre", Some(b"prf"), 5)
        .expect("page")
        .is_empty());
}

#[test]
fn missing_nodes_are_errors_naming_the_node() {
    let map = sample_map(200);
    let (store, root) = build(&map);

    let unknown_root = h(b"unknown");
    let backend = TrieBackend::new(MemoryDB::default(), unknown_root);
    let err = backend.storage(b"k").expect_err("no root");
    assert_eq!(err, TrieError::MissingRoot { root: unknown_root });
    assert!(
        err.to_string().contains(&hex::encode(unknown_root)),
        "{err}"
    );

    // Drop each non-root node in turn: reads through it fail, naming its
    // hash; others still answer. `PrefixedKey` keys are the path bytes (a
    // padded last nibble is a byte too) then the hash; the root's path is
    // empty.
    let mut victims: Vec<Vec<u8>> = store.keys().into_keys().filter(|k| k.len() > 32).collect();
    victims.sort();
    assert!(victims.len() > 20);
    for victim_key in victims.iter().step_by(victims.len() / 20) {
        let (prefix, hash) = victim_key.split_at(victim_key.len() - 32);
        let victim_hash: [u8; 32] = hash.try_into().expect("hash");
        let mut pruned = store.clone();
        assert!(pruned
            .remove_and_purge(&victim_hash, (prefix, None))
            .is_some());
        let backend = TrieBackend::new(pruned, root);
        let missing = TrieError::MissingNode { hash: victim_hash };
        let mut saw_missing = false;
        for key in map.keys() {
            match backend.storage(key) {
                Ok(value) => assert_eq!(value.as_ref(), map.get(key)),
                Err(err) => {
                    assert_eq!(err, missing);
                    saw_missing = true;
                }
            }
        }
        assert!(saw_missing);
        let err = backend
            .keys_with_prefix(b"", None, usize::MAX)
            .expect_err("iteration");
        assert_eq!(err, missing);
        let Err(err) = backend.apply_changes(map.keys().map(|k| (k.as_slice(), None))) else {
            panic!("deleting everything visits every node");
        };
        assert_eq!(err, missing);
        let Err(err) = backend.read_proof(&map.keys().map(Vec::as_slice).collect::<Vec<_>>())
        else {
            panic!("proving every key visits every node");
        };
        assert_eq!(err, missing);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Applying a map in two batches (with updates and deletions in the
    /// second) gives trie_root of the final map, and the merged store reads it
    /// back.
    #[test]
    fn incremental_apply_matches_trie_root(
        initial in map_strategy(),
        second in prop::collection::vec((key_strategy(), prop::option::of(value_strategy())), 0..60),
        touched in prop::collection::vec((any::<prop::sample::Index>(), prop::option::of(value_strategy())), 0..30),
    ) {
        let (store, root) = build(&initial);
        prop_assert_eq!(root, trie_root(&initial));
        let mut changes = second;
        if !initial.is_empty() {
            let keys: Vec<&Vec<u8>> = initial.keys().collect();
            for (index, value) in touched {
                changes.push(((*index.get(&keys)).clone(), value));
            }
        }
        let mut expected = initial.clone();
        for (key, value) in &changes {
            match value {
                Some(v) => expected.insert(key.clone(), v.clone()),
                None => expected.remove(key),
            };
        }
        let backend = TrieBackend::new(store.clone(), root);
        let (new_root, delta) = backend
            .apply_changes(changes.iter().map(|(k, v)| (k.as_slice(), v.as_deref())))
            .expect("apply");
        prop_assert_eq!(new_root, trie_root(&expected));
        let mut merged = store;
        merged.consolidate(delta);
        let after = TrieBackend::new(merged, new_root);
        for (key, value) in &expected {
            let read = after.storage(key).expect("read");
            prop_assert_eq!(read.as_ref(), Some(value));
        }
        let keys = after.keys_with_prefix(b"", None, usize::MAX).expect("iterate");
        prop_assert_eq!(keys, expected.keys().cloned().collect::<Vec<_>>());
    }
}

/// Keys of 0–40 bytes: half over a 3-letter alphabet so they share prefixes
/// and nest (a key being a prefix of another), half arbitrary.
pub fn key_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(0u8..3, 0..=40),
        prop::collection::vec(any::<u8>(), 0..=40),
    ]
}

/// Values of 0–100 bytes.
pub fn value_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=100)
}

/// Maps of up to 80 entries.
pub fn map_strategy() -> impl Strategy<Value = Map> {
    prop::collection::btree_map(key_strategy(), value_strategy(), 0..80)
}
