//! State pruning: the window, fork discarding, archive mode.

use qstack_core::H256;
use qstack_storage::{PruningMode, StorageError, Store};

use crate::common::{
    assert_state, assert_state_column_is, config, is_missing, keep_last, state_column, Chain,
    Changes, State,
};

fn key(i: u32) -> Vec<u8> {
    // Keys share long prefixes, so blocks rewrite branch nodes too.
    format!("pallet/item/{i:03}").into_bytes()
}

fn genesis_state() -> State {
    (0..64)
        .map(|i| (key(i), format!("genesis-{i}").into_bytes()))
        .collect()
}

/// Block `i`: overwrites 16 of the 64 keys, deletes one and re-adds another.
fn changes(i: u32) -> Changes {
    let mut changes: Changes = (0..16)
        .map(|j| {
            (
                key((i * 16 + j) % 64),
                Some(format!("block-{i}-{j}").into_bytes()),
            )
        })
        .collect();
    changes.push((key((i * 5 + 3) % 64), None));
    changes.push((key((i * 5 + 40) % 64), Some(vec![i as u8])));
    changes
}

fn run_keep_last_4(store: Store) {
    let mut chain = Chain::new(store, genesis_state());
    let mut canonical = vec![chain.genesis];
    let mut sizes = Vec::new();
    for i in 1..=20u32 {
        let parent = *canonical.last().unwrap();
        canonical.push(chain.import(parent, &changes(i), true, false).unwrap());
        let best = i as usize;
        // The last four states read in full; every older one is gone.
        for (number, hash) in canonical.iter().enumerate() {
            let model = &chain.blocks[hash];
            if number + 4 > best {
                assert_state(&chain.store.state_of(*hash).unwrap(), &model.state);
            } else {
                assert!(matches!(
                    chain.store.state_of(*hash),
                    Err(StorageError::StatePruned { number: n, .. }) if n as usize == number
                ));
                assert!(is_missing(&chain.store.state_at(model.header.state_root)));
                // Headers and bodies are not pruned.
                assert_eq!(
                    chain.store.header(*hash).unwrap().as_ref(),
                    Some(&model.header)
                );
            }
        }
        let live = canonical
            .iter()
            .skip((best + 1).saturating_sub(4))
            .map(|hash| chain.blocks[hash].header.state_root);
        assert_state_column_is(&chain.store, live);
        sizes.push(state_column(&chain.store).len());
    }
    // Bounded: the column stops growing once the window is full.
    let steady = &sizes[6..];
    let (min, max) = (steady.iter().min().unwrap(), steady.iter().max().unwrap());
    assert!(
        max - min <= min / 4,
        "STATE column keeps growing: {sizes:?}"
    );
}

#[test]
fn keep_last_4_in_memory() {
    run_keep_last_4(Store::in_memory_with(config(keep_last(4))).unwrap());
}

#[test]
fn keep_last_4_rocksdb() {
    let dir = tempfile::tempdir().unwrap();
    run_keep_last_4(Store::open(dir.path(), config(keep_last(4))).unwrap());
}

#[test]
fn archive_keeps_every_state() {
    let mut chain = Chain::new(
        Store::in_memory_with(config(PruningMode::Archive)).unwrap(),
        genesis_state(),
    );
    let mut canonical = vec![chain.genesis];
    for i in 1..=20u32 {
        let parent = *canonical.last().unwrap();
        canonical.push(chain.import(parent, &changes(i), true, false).unwrap());
    }
    // A fork off genesis, long left behind.
    let fork = chain
        .import(chain.genesis, &changes(99), false, false)
        .unwrap();
    for hash in canonical.iter().chain([&fork]) {
        assert_state(
            &chain.store.state_of(*hash).unwrap(),
            &chain.blocks[hash].state,
        );
    }
    let roots: Vec<H256> = chain.blocks.values().map(|b| b.header.state_root).collect();
    assert_state_column_is(&chain.store, roots);
}

#[test]
fn forks_inside_the_window_stay_and_forks_below_it_are_discarded() {
    let mut chain = Chain::new(
        Store::in_memory_with(config(keep_last(3))).unwrap(),
        genesis_state(),
    );
    let g = chain.genesis;
    let a1 = chain.import(g, &changes(1), true, false).unwrap();
    let a2 = chain.import(a1, &changes(2), true, false).unwrap();
    // Forks off genesis and off a1, each two blocks long.
    let f1 = chain.import(g, &changes(101), false, false).unwrap();
    let f2 = chain.import(f1, &changes(102), false, false).unwrap();
    let h2 = chain.import(a1, &changes(201), false, false).unwrap();
    let h3 = chain.import(h2, &changes(202), false, false).unwrap();
    let a3 = chain.import(a2, &changes(3), true, false).unwrap();
    // Best 3, window #1..=#3: genesis is pruned, so is its fork f1-f2; the
    // fork off a1 is inside the window and stays.
    for hash in [g, f1, f2] {
        assert!(matches!(
            chain.store.state_of(hash),
            Err(StorageError::StatePruned { .. })
        ));
    }
    for hash in [a1, a2, a3, h2, h3] {
        assert_state(
            &chain.store.state_of(hash).unwrap(),
            &chain.blocks[&hash].state,
        );
    }
    let live = [a1, a2, a3, h2, h3].map(|h| chain.blocks[&h].header.state_root);
    assert_state_column_is(&chain.store, live);

    // Nothing can be built on a discarded fork.
    let f2_state = chain.blocks[&f2].header.state_root;
    assert!(is_missing(&chain.store.state_at(f2_state)));
    assert!(matches!(
        chain.import(f2, &changes(103), false, false),
        Err(StorageError::StatePruned { .. })
    ));
    assert!(!chain.store.has_state(f2).unwrap());

    // The kept fork can still become best (a reorg within the window).
    let h4 = chain.import(h3, &changes(203), true, false).unwrap();
    assert_eq!(chain.store.hash_of(2).unwrap(), Some(h2));
    // Window #2..=#4 on the new chain: a1 is pruned, and the old branch
    // a2-a3, now a fork branching at a1, is discarded with it.
    for hash in [a1, a2, a3] {
        assert!(matches!(
            chain.store.state_of(hash),
            Err(StorageError::StatePruned { .. })
        ));
    }
    let live = [h2, h3, h4].map(|h| chain.blocks[&h].header.state_root);
    for hash in [h2, h3, h4] {
        assert_state(
            &chain.store.state_of(hash).unwrap(),
            &chain.blocks[&hash].state,
        );
    }
    assert_state_column_is(&chain.store, live);
}

#[test]
fn window_length_may_change_between_runs_but_not_the_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (blocks, genesis) = {
        let store = Store::open(dir.path(), config(keep_last(8))).unwrap();
        let mut chain = Chain::new(store, genesis_state());
        let mut best = chain.genesis;
        for i in 1..=10 {
            best = chain.import(best, &changes(i), true, false).unwrap();
        }
        (chain.blocks, chain.genesis)
    };
    assert!(matches!(
        Store::open(dir.path(), config(PruningMode::Archive)),
        Err(StorageError::PruningModeMismatch { .. })
    ));
    // Shrinking the window prunes the surplus on the next commit.
    let store = Store::open(dir.path(), config(keep_last(2))).unwrap();
    let mut chain = Chain::resume(store, blocks, genesis);
    let (_, best) = chain.store.best().unwrap().unwrap();
    let b11 = chain.import(best, &changes(11), true, false).unwrap();
    let live: Vec<H256> = (10..=11)
        .map(|n| chain.store.hash_of(n).unwrap().unwrap())
        .collect();
    assert_eq!(live[1], b11);
    for n in 0..10 {
        let hash = chain.store.hash_of(n).unwrap().unwrap();
        assert!(!chain.store.has_state(hash).unwrap(), "state #{n} kept");
    }
    assert_state_column_is(
        &chain.store,
        live.iter().map(|h| chain.blocks[h].header.state_root),
    );

    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), config(PruningMode::Archive)).unwrap());
    assert!(matches!(
        Store::open(dir.path(), config(keep_last(4))),
        Err(StorageError::PruningModeMismatch { .. })
    ));
}
