//! Damaged bytes and foreign formats surface as errors, never as panics.

use std::collections::BTreeMap;

use codec::Encode;
use proptest::prelude::*;
use qstack_storage::{columns, StorageError, Store, StoreConfig, SCHEMA_VERSION};

use crate::common::{config, keep_last, Chain, State};

fn small_chain() -> Chain {
    let state: State = (0..20u8).map(|i| (vec![i; 3], vec![i; 40])).collect();
    // Damage is written behind the store's back: without the node cache,
    // reads see the disk as a freshly started node would.
    let store = Store::in_memory_with(StoreConfig {
        node_cache_mb: 0,
        ..Default::default()
    })
    .unwrap();
    let mut chain = Chain::new(store, state);
    let g = chain.genesis;
    chain
        .import(g, &vec![(vec![1; 3], Some(vec![9; 40]))], true, false)
        .unwrap();
    chain
}

fn put(store: &Store, column: u32, key: &[u8], value: &[u8]) {
    let db = store.database();
    let mut tx = db.transaction();
    tx.put(column, key, value);
    db.write(tx).unwrap();
}

#[test]
fn corrupt_header_body_and_pointers_are_errors() {
    let chain = small_chain();
    let (_, best) = chain.store.best().unwrap().unwrap();
    let store = &chain.store;

    // Bytes that do not decode.
    put(store, columns::HEADERS, best.as_ref(), &[0xff, 0x01]);
    assert!(matches!(
        store.header(best),
        Err(StorageError::Corrupt { .. })
    ));
    assert!(matches!(
        store.state_of(best),
        Err(StorageError::Corrupt { .. })
    ));
    // A valid header, but not the one with this hash.
    let genesis_header = chain.blocks[&chain.genesis].header.encode();
    put(store, columns::HEADERS, best.as_ref(), &genesis_header);
    assert!(matches!(
        store.header(best),
        Err(StorageError::Corrupt { .. })
    ));
    // Trailing bytes after a valid header.
    let mut trailing = chain.blocks[&best].header.encode();
    trailing.push(0);
    put(store, columns::HEADERS, best.as_ref(), &trailing);
    assert!(matches!(
        store.header(best),
        Err(StorageError::Corrupt { .. })
    ));

    put(store, columns::BODIES, best.as_ref(), &[0x10, 0x00]);
    assert!(matches!(
        store.body(best),
        Err(StorageError::Corrupt { .. })
    ));
    put(store, columns::CANONICAL, &1u32.to_be_bytes(), &[1, 2, 3]);
    assert!(matches!(
        store.hash_of(1),
        Err(StorageError::Corrupt { .. })
    ));
    put(store, columns::META, b"best", &[1]);
    assert!(matches!(store.best(), Err(StorageError::Corrupt { .. })));
    put(store, columns::CHILDREN, chain.genesis.as_ref(), &[]);
    assert!(matches!(
        store.children(chain.genesis),
        Err(StorageError::Corrupt { .. })
    ));
}

#[test]
fn corrupt_trie_nodes_are_trie_errors() {
    let chain = small_chain();
    let (_, best) = chain.store.best().unwrap().unwrap();
    let root = chain.blocks[&best].header.state_root;
    // The root node's cell: key = empty prefix ++ root hash.
    let key = root.0.to_vec();
    assert!(chain
        .store
        .database()
        .get(columns::STATE, &key)
        .unwrap()
        .is_some());
    let state = chain.store.state_of(best).unwrap();

    // Too short to hold a reference count: reads as a missing node.
    put(&chain.store, columns::STATE, &key, &[1, 2]);
    assert!(matches!(
        state.storage(&[1; 3]),
        Err(qstack_trie::TrieError::MissingRoot { .. })
    ));
    // Garbage node bytes: a decode error.
    put(
        &chain.store,
        columns::STATE,
        &key,
        &[0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0],
    );
    assert!(state.storage(&[1; 3]).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever bytes sit in a block's cells, reads return, never panic.
    #[test]
    fn random_cell_bytes_never_panic(
        header in prop::collection::vec(any::<u8>(), 0..200),
        body in prop::collection::vec(any::<u8>(), 0..200),
        node in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let chain = small_chain();
        let (_, best) = chain.store.best().unwrap().unwrap();
        let root = chain.blocks[&best].header.state_root;
        let state = chain.store.state_of(best).unwrap();
        put(&chain.store, columns::HEADERS, best.as_ref(), &header);
        put(&chain.store, columns::BODIES, best.as_ref(), &body);
        put(&chain.store, columns::STATE, &root.0, &node);
        let _ = chain.store.header(best);
        let _ = chain.store.body(best);
        let _ = chain.store.block(best);
        let _ = chain.store.state_of(best);
        let _ = state.storage(&[1; 3]);
        let _ = state.keys_with_prefix(&[], None, 100);
    }
}

#[test]
fn schema_mismatch_is_detected_on_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), config(keep_last(4))).unwrap();
        Chain::new(store.clone(), BTreeMap::new());
        put(
            &store,
            columns::META,
            b"schema",
            &(SCHEMA_VERSION + 1).encode(),
        );
    }
    match Store::open(dir.path(), config(keep_last(4))) {
        Err(StorageError::SchemaMismatch { found, expected }) => {
            assert_eq!((found, expected), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("expected a schema mismatch, got {other:?}"),
    }

    // A database with data but no version at all (a foreign or pre-versioned
    // format) is refused too.
    let db = std::sync::Arc::new(kvdb_memorydb::create(columns::NUM_COLUMNS));
    {
        let mut tx = kvdb::KeyValueDB::transaction(&*db);
        tx.put(columns::HEADERS, b"some-hash", b"some-header");
        kvdb::KeyValueDB::write(&*db, tx).unwrap();
    }
    assert!(matches!(
        Store::with_database(db, config(keep_last(4))),
        Err(StorageError::SchemaMismatch { found: 0, .. })
    ));
}
