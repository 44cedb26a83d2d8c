//! Random block trees against a model: every state the store keeps reads
//! exactly as the model says, pruned ones are gone without a trace, and the
//! canonical index follows the best block.

use std::collections::BTreeSet;

use proptest::prelude::*;
use qstack_core::H256;
use qstack_storage::{PruningMode, StorageError, Store};

use crate::common::{
    assert_state, assert_state_column_is, config, is_missing, keep_last, Chain, Changes, State,
};

/// Keys of one, two and three bytes, so nodes sit at odd and even paths.
fn key(i: u8) -> Vec<u8> {
    match i % 3 {
        0 => vec![i],
        1 => vec![i / 3, i],
        _ => vec![0xab, i / 5, i],
    }
}

#[derive(Debug, Clone)]
struct Step {
    /// Build on a random kept block instead of the best one.
    fork: bool,
    /// Which kept block, when forking.
    parent: prop::sample::Index,
    /// Whether a fork block becomes best (blocks on the best chain always do).
    new_best: bool,
    writes: Vec<(u8, Option<Vec<u8>>)>,
}

fn step() -> impl Strategy<Value = Step> {
    (
        prop::bool::weighted(0.3),
        any::<prop::sample::Index>(),
        prop::bool::weighted(0.4),
        prop::collection::vec(
            (
                0u8..24,
                prop::option::weighted(0.8, prop::collection::vec(any::<u8>(), 0..40)),
            ),
            0..8,
        ),
    )
        .prop_map(|(fork, parent, new_best, writes)| Step {
            fork,
            parent,
            new_best,
            writes,
        })
}

fn pruning() -> impl Strategy<Value = PruningMode> {
    prop_oneof![Just(PruningMode::Archive), (1u32..5).prop_map(keep_last)]
}

/// The model's view of which blocks keep their state.
struct Model {
    chain: Chain,
    best: H256,
    /// Height of the oldest best-chain block whose state is kept.
    prune_next: u32,
}

impl Model {
    fn number(&self, hash: H256) -> u32 {
        self.chain.blocks[&hash].header.number
    }

    fn live(&self) -> BTreeSet<H256> {
        let root = self.chain.chain_to(self.best)[self.prune_next as usize];
        self.chain
            .blocks
            .keys()
            .copied()
            .filter(|hash| self.chain.descends(*hash, root))
            .collect()
    }

    fn check(&self) {
        let store = &self.chain.store;
        let best_number = self.number(self.best);
        assert_eq!(store.best().unwrap(), Some((best_number, self.best)));
        for (number, hash) in self.chain.chain_to(self.best).into_iter().enumerate() {
            assert_eq!(store.hash_of(number as u32).unwrap(), Some(hash));
        }
        assert_eq!(store.hash_of(best_number + 1).unwrap(), None);

        let live = self.live();
        let live_roots: BTreeSet<H256> = live
            .iter()
            .map(|hash| self.chain.blocks[hash].header.state_root)
            .collect();
        for (hash, block) in &self.chain.blocks {
            assert_eq!(store.header(*hash).unwrap().as_ref(), Some(&block.header));
            assert_eq!(store.body(*hash).unwrap().as_ref(), Some(&block.body));
            if live.contains(hash) {
                assert_state(&store.state_of(*hash).unwrap(), &block.state);
            } else {
                assert!(matches!(
                    store.state_of(*hash),
                    Err(StorageError::StatePruned { .. })
                ));
                if !live_roots.contains(&block.header.state_root)
                    && block.header.state_root.0 != qstack_trie::EMPTY_ROOT
                {
                    assert!(is_missing(&store.state_at(block.header.state_root)));
                }
            }
        }
        assert_state_column_is(store, live_roots);
    }
}

fn run(pruning: PruningMode, genesis: State, steps: Vec<Step>) {
    let store = Store::in_memory_with(config(pruning)).unwrap();
    let chain = Chain::new(store, genesis);
    let mut model = Model {
        best: chain.genesis,
        chain,
        prune_next: 0,
    };
    for step in steps {
        let (parent, new_best) = if step.fork {
            let live: Vec<H256> = model.live().into_iter().collect();
            (*step.parent.get(&live), step.new_best)
        } else {
            (model.best, true)
        };
        let changes: Changes = step.writes.into_iter().map(|(k, v)| (key(k), v)).collect();
        let hash = model
            .chain
            .import(parent, &changes, new_best, false)
            .unwrap();
        if new_best {
            model.best = hash;
            if let Some(window) = pruning.window() {
                while model.prune_next + window.get() <= model.number(hash) {
                    model.prune_next += 1;
                }
            }
        }
        model.check();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_block_trees_read_back(
        pruning in pruning(),
        genesis in prop::collection::btree_map(
            (0u8..24).prop_map(key),
            prop::collection::vec(any::<u8>(), 0..40),
            0..16,
        ),
        steps in prop::collection::vec(step(), 1..30),
    ) {
        run(pruning, genesis, steps);
    }
}
