//! Blocks, the canonical index, forks and reopening.

use std::collections::BTreeMap;

use qstack_core::H256;
use qstack_runtime_primitives::Header;
use qstack_storage::{ImportBatch, PruningMode, StorageError, Store};
use qstack_trie::MemoryDB;

use crate::common::{assert_state, body, config, keep_last, Chain, Changes, State};

fn key(i: u32) -> Vec<u8> {
    format!("key-{i:04}").into_bytes()
}

fn genesis_state() -> State {
    (0..50).map(|i| (key(i), vec![i as u8; 8])).collect()
}

/// Block `i` of a test chain: overwrites ten keys, deletes one, adds one.
fn changes(i: u32) -> Changes {
    let mut changes: Changes = (0..10)
        .map(|j| {
            (
                key((i * 7 + j) % 50),
                Some(format!("v{i}-{j}").into_bytes()),
            )
        })
        .collect();
    changes.push((key((i * 13) % 50), None));
    changes.push((key(1000 + i), Some(vec![])));
    changes
}

/// Commits `n` blocks on top of the best block, each best.
fn extend(chain: &mut Chain, n: u32) -> Vec<H256> {
    let mut hashes = Vec::new();
    for _ in 0..n {
        let (number, best) = chain.store.best().unwrap().unwrap();
        let hash = chain
            .import(best, &changes(number + 1), true, false)
            .unwrap();
        hashes.push(hash);
    }
    hashes
}

/// Checks every stored fact about `hash` against the model.
fn assert_block(chain: &Chain, hash: H256) {
    let model = &chain.blocks[&hash];
    assert_eq!(
        chain.store.header(hash).unwrap().as_ref(),
        Some(&model.header)
    );
    assert_eq!(chain.store.body(hash).unwrap().as_ref(), Some(&model.body));
    assert_eq!(
        chain.store.justification(hash).unwrap(),
        model.justification
    );
    let block = chain.store.block(hash).unwrap().unwrap();
    assert_eq!(block.header, model.header);
    assert_eq!(block.extrinsics, model.body);
    assert_state(&chain.store.state_of(hash).unwrap(), &model.state);
}

fn run_chain_reads(store: Store) {
    let mut chain = Chain::new(store, genesis_state());
    assert_eq!(chain.store.genesis_hash().unwrap(), Some(chain.genesis));
    assert_eq!(chain.store.best().unwrap(), Some((0, chain.genesis)));
    assert_eq!(chain.store.finalized().unwrap(), Some((0, chain.genesis)));
    let hashes = extend(&mut chain, 10);
    assert_eq!(chain.store.best().unwrap(), Some((10, hashes[9])));
    assert_eq!(chain.store.hash_of(0).unwrap(), Some(chain.genesis));
    for (i, hash) in hashes.iter().enumerate() {
        assert_eq!(chain.store.hash_of(i as u32 + 1).unwrap(), Some(*hash));
        assert_block(&chain, *hash);
    }
    assert_block(&chain, chain.genesis);
    assert_eq!(chain.store.hash_of(11).unwrap(), None);
    assert_eq!(chain.store.children(hashes[3]).unwrap(), vec![hashes[4]]);
    assert_eq!(chain.store.children(hashes[9]).unwrap(), vec![]);
    assert_eq!(chain.store.header(H256([9; 32])).unwrap(), None);
    assert!(matches!(
        chain.store.state_of(H256([9; 32])),
        Err(StorageError::UnknownBlock { .. })
    ));

    // A finalized block with its justification.
    let best = hashes[9];
    let fin = chain.import(best, &changes(11), true, true).unwrap();
    assert_eq!(chain.store.finalized().unwrap(), Some((11, fin)));
    assert_block(&chain, fin);
}

#[test]
fn chain_reads_in_memory() {
    run_chain_reads(Store::in_memory().unwrap());
}

#[test]
fn chain_reads_rocksdb() {
    let dir = tempfile::tempdir().unwrap();
    run_chain_reads(Store::open(dir.path(), config(PruningMode::default())).unwrap());
}

#[test]
fn reopened_rocksdb_store_has_the_same_chain() {
    let dir = tempfile::tempdir().unwrap();
    let (blocks, genesis, best) = {
        let store = Store::open(dir.path(), config(keep_last(8))).unwrap();
        let mut chain = Chain::new(store, genesis_state());
        extend(&mut chain, 12);
        let best = chain.store.best().unwrap().unwrap();
        (chain.blocks, chain.genesis, best)
    };
    let store = Store::open(dir.path(), config(keep_last(8))).unwrap();
    assert_eq!(store.best().unwrap(), Some(best));
    assert_eq!(store.genesis_hash().unwrap(), Some(genesis));
    let mut chain = Chain::resume(store, blocks, genesis);
    for number in 5..=12 {
        let hash = chain.store.hash_of(number).unwrap().unwrap();
        assert_block(&chain, hash);
    }
    // It keeps working after the reopen.
    let hashes = extend(&mut chain, 2);
    assert_block(&chain, hashes[1]);
}

fn run_forks(store: Store) {
    let mut chain = Chain::new(store, genesis_state());
    let g = chain.genesis;
    let a1 = chain.import(g, &changes(1), true, false).unwrap();
    let a2 = chain.import(a1, &changes(2), true, false).unwrap();
    // Two more children of genesis and of a1: several blocks per height.
    let b1 = chain.import(g, &changes(101), false, false).unwrap();
    let c2 = chain.import(a1, &changes(202), false, false).unwrap();
    let b2 = chain.import(b1, &changes(102), false, false).unwrap();
    assert_eq!(chain.store.best().unwrap(), Some((2, a2)));
    assert_eq!(chain.store.hash_of(1).unwrap(), Some(a1));
    let mut children = chain.store.children(g).unwrap();
    children.sort();
    let mut expected = vec![a1, b1];
    expected.sort();
    assert_eq!(children, expected);
    assert_eq!(chain.store.children(a1).unwrap().len(), 2);

    // The fork overtakes: the canonical index follows it back to genesis.
    let b3 = chain.import(b2, &changes(103), true, false).unwrap();
    assert_eq!(chain.store.best().unwrap(), Some((3, b3)));
    for (number, hash) in [(0, g), (1, b1), (2, b2), (3, b3)] {
        assert_eq!(chain.store.hash_of(number).unwrap(), Some(hash));
    }
    // Switching back to a shorter chain drops index entries above it.
    chain.import(a1, &changes(302), false, false).unwrap();
    let c3 = chain.import(c2, &changes(203), false, false).unwrap();
    let a3 = chain.import(a2, &changes(3), false, false).unwrap();
    let c4 = chain.import(c3, &changes(204), true, false).unwrap();
    for (number, hash) in [(0, g), (1, a1), (2, c2), (3, c3), (4, c4)] {
        assert_eq!(chain.store.hash_of(number).unwrap(), Some(hash));
    }
    let a4 = chain.import(a3, &changes(4), false, false).unwrap();
    let a5 = chain.import(a4, &changes(5), false, false).unwrap();
    // new_best on a block whose number is lower than the current best's.
    let a2b = chain.import(a1, &changes(402), true, false).unwrap();
    assert_eq!(chain.store.best().unwrap(), Some((2, a2b)));
    assert_eq!(chain.store.hash_of(3).unwrap(), None);
    assert_eq!(chain.store.hash_of(4).unwrap(), None);
    assert_eq!(chain.store.hash_of(2).unwrap(), Some(a2b));
    // Every fork's state is readable.
    for hash in chain.blocks.keys().copied().collect::<Vec<_>>() {
        assert_block(&chain, hash);
    }
    let _ = a5;
}

#[test]
fn forks_in_memory() {
    run_forks(Store::in_memory().unwrap());
}

#[test]
fn forks_rocksdb() {
    let dir = tempfile::tempdir().unwrap();
    run_forks(Store::open(dir.path(), config(PruningMode::Archive)).unwrap());
}

#[test]
fn invalid_commits_are_refused_and_change_nothing() {
    let store = Store::in_memory().unwrap();
    let header = Header::genesis(H256(qstack_trie::EMPTY_ROOT));
    let orphan = ImportBatch {
        header: Header {
            parent_hash: header.hash(),
            number: 1,
            ..header.clone()
        },
        body: body(1, 1),
        justification: None,
        state_delta: MemoryDB::default(),
        new_best: true,
        finalized: false,
    };
    assert!(matches!(
        store.commit_block(orphan),
        Err(StorageError::NoGenesis)
    ));

    let mut chain = Chain::new(store, BTreeMap::new());
    let g = chain.genesis;
    assert!(matches!(
        chain.store.commit_genesis(header, MemoryDB::default()),
        Err(StorageError::GenesisExists { existing }) if existing == g
    ));
    let a1 = chain.import(g, &changes(1), true, true).unwrap();
    let before = chain.store.best().unwrap();

    let template = chain.blocks[&a1].header.clone();
    let batch = |header: Header, new_best, finalized| ImportBatch {
        header,
        body: vec![],
        justification: None,
        state_delta: MemoryDB::default(),
        new_best,
        finalized,
    };
    // Unknown parent.
    let unknown = Header {
        parent_hash: H256([7; 32]),
        ..template.clone()
    };
    assert!(matches!(
        chain.store.commit_block(batch(unknown, true, false)),
        Err(StorageError::UnknownParent { .. })
    ));
    // Already stored.
    assert!(matches!(
        chain
            .store
            .commit_block(batch(template.clone(), true, false)),
        Err(StorageError::BlockExists { .. })
    ));
    // Number that does not follow the parent.
    let skip = Header {
        parent_hash: a1,
        number: 5,
        ..template.clone()
    };
    assert!(matches!(
        chain.store.commit_block(batch(skip, true, false)),
        Err(StorageError::InvalidBatch { .. })
    ));
    // Finalized but not best.
    let side = Header {
        parent_hash: a1,
        number: 2,
        ..template.clone()
    };
    assert!(matches!(
        chain.store.commit_block(batch(side, false, true)),
        Err(StorageError::InvalidBatch { .. })
    ));
    // A delta entry not keyed by its node's hash.
    let mut bogus = MemoryDB::default();
    hash_db::HashDB::emplace(&mut bogus, [1; 32], hash_db::EMPTY_PREFIX, b"node".to_vec());
    let bad_delta = ImportBatch {
        state_delta: bogus,
        ..batch(
            Header {
                parent_hash: a1,
                number: 2,
                ..template.clone()
            },
            true,
            false,
        )
    };
    assert!(matches!(
        chain.store.commit_block(bad_delta),
        Err(StorageError::InvalidBatch { .. })
    ));
    // A reorg below the finalized block a1.
    let fork = chain.import(g, &changes(9), false, false).unwrap();
    let fork2 = Header {
        parent_hash: fork,
        number: 2,
        ..template.clone()
    };
    assert!(matches!(
        chain.store.commit_block(batch(fork2, true, false)),
        Err(StorageError::RevertsFinalized {
            ancestor: 0,
            finalized: 1,
            ..
        })
    ));
    assert_eq!(chain.store.best().unwrap(), before);
    assert_eq!(chain.store.hash_of(2).unwrap(), None);
}

#[test]
fn finalize_moves_forward_on_the_best_chain_only() {
    let mut chain = Chain::new(Store::in_memory().unwrap(), genesis_state());
    let g = chain.genesis;
    let hashes = extend(&mut chain, 3);
    let side = chain.import(g, &changes(50), false, false).unwrap();
    assert!(matches!(
        chain.store.finalize(side, None),
        Err(StorageError::InvalidBatch { .. })
    ));
    chain
        .store
        .finalize(hashes[1], Some(b"cert".to_vec()))
        .unwrap();
    assert_eq!(chain.store.finalized().unwrap(), Some((2, hashes[1])));
    assert_eq!(
        chain.store.justification(hashes[1]).unwrap(),
        Some(b"cert".to_vec())
    );
    assert!(matches!(
        chain.store.finalize(hashes[0], None),
        Err(StorageError::RevertsFinalized { .. })
    ));
    assert!(matches!(
        chain.store.finalize(H256([3; 32]), None),
        Err(StorageError::UnknownBlock { .. })
    ));
}

#[test]
fn set_best_moves_the_canonical_chain_and_never_below_finality() {
    let mut chain = Chain::new(Store::in_memory().unwrap(), genesis_state());
    let g = chain.genesis;
    let a1 = chain.import(g, &changes(1), true, false).unwrap();
    let a2 = chain.import(a1, &changes(2), true, false).unwrap();
    let b1 = chain.import(g, &changes(101), false, false).unwrap();
    let b2 = chain.import(b1, &changes(102), false, false).unwrap();
    assert_eq!(chain.store.best().unwrap(), Some((2, a2)));
    // A fork choice moves the best block to the other chain of equal height.
    chain.store.set_best(b2).unwrap();
    assert_eq!(chain.store.best().unwrap(), Some((2, b2)));
    for (number, hash) in [(0, g), (1, b1), (2, b2)] {
        assert_eq!(chain.store.hash_of(number).unwrap(), Some(hash));
    }
    // And back, to a lower block: entries above it go.
    chain.store.set_best(a1).unwrap();
    assert_eq!(chain.store.best().unwrap(), Some((1, a1)));
    assert_eq!(chain.store.hash_of(2).unwrap(), None);
    // Late finality on the chosen chain, then no choice can revert it.
    chain.store.set_best(a2).unwrap();
    chain.store.finalize(a2, None).unwrap();
    let before = (chain.store.best().unwrap(), chain.store.hash_of(1).unwrap());
    assert!(matches!(
        chain.store.set_best(b2),
        Err(StorageError::RevertsFinalized { .. })
    ));
    assert_eq!(
        (chain.store.best().unwrap(), chain.store.hash_of(1).unwrap()),
        before,
        "a refused choice changes nothing"
    );
    assert!(matches!(
        chain.store.set_best(H256([7; 32])),
        Err(StorageError::UnknownBlock { .. })
    ));
    for hash in [a1, a2, b1, b2] {
        assert_block(&chain, hash);
    }
}
