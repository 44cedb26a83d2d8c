//! The blocks one `chainHead_v1_follow` subscription has told its client
//! about: the finalized block, the non-finalized blocks reported since (a
//! tree rooted at it), and the best block. A pure state machine: the
//! follow task feeds it and turns its answers into events, so the spec's
//! ordering rules hold by construction.
//!
//! What must stay true (the spec's guarantees to clients):
//! - a block is inserted only after its parent (which is the finalized
//!   block or an inserted block), so `newBlock` events are parent-first;
//! - `finalized` lists the path from the old finalized block (excluded) to
//!   the new one, ascending, and prunes exactly the reported blocks that do
//!   not descend from the new finalized block;
//! - the best block is always the finalized block or a live block, so it
//!   is never among the pruned blocks, nor among the finalized ones other
//!   than the last.

use qstack_core::{BlockNumber, H256};
use std::collections::{HashMap, HashSet};

/// See the module documentation.
#[derive(Debug)]
pub(super) struct Tree {
    finalized: H256,
    finalized_number: BlockNumber,
    /// Reported non-finalized blocks: hash → (parent, number).
    blocks: HashMap<H256, (H256, BlockNumber)>,
    best: H256,
}

/// What a move of finality did.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Finality {
    /// The newly finalized blocks, ascending; the last is the new finalized block.
    pub(super) finalized: Vec<H256>,
    /// The reported blocks that no longer descend from the finalized block,
    /// ordered by number then hash.
    pub(super) pruned: Vec<H256>,
    /// The best block had to move (it was pruned, or finalized below the
    /// new finalized block): it is now the new finalized block, and a
    /// `bestBlockChanged` must precede the `finalized` event.
    pub(super) best_moved: bool,
}

impl Tree {
    /// A tree holding only the finalized block `hash` (also best).
    pub(super) fn new(hash: H256, number: BlockNumber) -> Self {
        Tree {
            finalized: hash,
            finalized_number: number,
            blocks: HashMap::new(),
            best: hash,
        }
    }

    /// Whether `hash` is the finalized block or a reported live block.
    pub(super) fn knows(&self, hash: &H256) -> bool {
        *hash == self.finalized || self.blocks.contains_key(hash)
    }

    /// The finalized block's number.
    pub(super) fn finalized_number(&self) -> BlockNumber {
        self.finalized_number
    }

    /// The current best block.
    pub(super) fn best(&self) -> H256 {
        self.best
    }

    /// How many non-finalized blocks are live.
    pub(super) fn len(&self) -> usize {
        self.blocks.len()
    }

    /// Records reported block `hash`; `false`, recording nothing, if it is
    /// already known or its parent is not.
    pub(super) fn insert(&mut self, hash: H256, parent: H256, number: BlockNumber) -> bool {
        if self.knows(&hash) || !self.knows(&parent) {
            return false;
        }
        self.blocks.insert(hash, (parent, number));
        true
    }

    /// Makes known block `hash` the best; `false` if it is not known.
    pub(super) fn set_best(&mut self, hash: H256) -> bool {
        if !self.knows(&hash) {
            return false;
        }
        self.best = hash;
        true
    }

    /// Finalizes live block `hash` (and its ancestors); `None`, changing
    /// nothing, if it is not a live block.
    pub(super) fn finalize(&mut self, hash: H256) -> Option<Finality> {
        let &(_, number) = self.blocks.get(&hash)?;
        let mut path = Vec::new();
        let mut cursor = hash;
        while cursor != self.finalized {
            let &(parent, _) = self.blocks.get(&cursor)?;
            path.push(cursor);
            cursor = parent;
        }
        path.reverse();

        // What survives: `hash` and its descendants.
        let mut children: HashMap<H256, Vec<H256>> = HashMap::new();
        for (child, (parent, _)) in &self.blocks {
            children.entry(*parent).or_default().push(*child);
        }
        let mut kept = HashSet::new();
        let mut todo = vec![hash];
        while let Some(h) = todo.pop() {
            if let Some(cs) = children.get(&h) {
                todo.extend(cs.iter().copied());
            }
            kept.insert(h);
        }
        let finalized_set: HashSet<H256> = path.iter().copied().collect();
        let mut pruned: Vec<(BlockNumber, H256)> = self
            .blocks
            .iter()
            .filter(|(h, _)| !kept.contains(*h) && !finalized_set.contains(*h))
            .map(|(h, (_, n))| (*n, *h))
            .collect();
        pruned.sort_unstable();
        let best_moved = self.best != hash && !kept.contains(&self.best);

        self.blocks.retain(|h, _| kept.contains(h) && *h != hash);
        self.finalized = hash;
        self.finalized_number = number;
        if best_moved {
            self.best = hash;
        }
        Some(Finality {
            finalized: path,
            pruned: pruned.into_iter().map(|(_, h)| h).collect(),
            best_moved,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u8) -> H256 {
        H256([n; 32])
    }

    /// 0 ← 1 ← 2 ← 3, and a fork 1 ← 12 ← 13, and 0 ← 20.
    fn forked() -> Tree {
        let mut t = Tree::new(h(0), 0);
        assert!(t.insert(h(1), h(0), 1));
        assert!(t.insert(h(2), h(1), 2));
        assert!(t.insert(h(3), h(2), 3));
        assert!(t.insert(h(12), h(1), 2));
        assert!(t.insert(h(13), h(12), 3));
        assert!(t.insert(h(20), h(0), 1));
        t
    }

    #[test]
    fn a_block_needs_a_known_parent_and_is_recorded_once() {
        let mut t = Tree::new(h(0), 0);
        assert!(!t.insert(h(2), h(1), 2), "parent never reported");
        assert!(t.insert(h(1), h(0), 1));
        assert!(!t.insert(h(1), h(0), 1), "already reported");
        assert!(!t.insert(h(0), h(9), 0), "the finalized block itself");
        assert_eq!(t.len(), 1);
        assert!(!t.set_best(h(7)));
        assert!(t.set_best(h(1)));
        assert_eq!(t.best(), h(1));
    }

    #[test]
    fn finality_lists_the_path_and_prunes_the_other_branches() {
        let mut t = forked();
        assert!(t.set_best(h(3)));
        let f = t.finalize(h(2)).unwrap();
        assert_eq!(f.finalized, vec![h(1), h(2)]);
        // 20 branches below 1, 12 and 13 off 1: none descends from 2.
        assert_eq!(f.pruned, vec![h(20), h(12), h(13)]);
        assert!(!f.best_moved, "3 descends from 2");
        assert_eq!(t.finalized_number(), 2);
        assert!(t.knows(&h(3)) && t.knows(&h(2)));
        assert!(!t.knows(&h(1)) && !t.knows(&h(12)));
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn a_pruned_or_passed_best_block_moves_to_the_finalized_one() {
        let mut t = forked();
        assert!(t.set_best(h(13)));
        let f = t.finalize(h(3)).unwrap();
        assert!(f.best_moved);
        assert_eq!(t.best(), h(3));

        let mut t = forked();
        assert!(t.set_best(h(1)));
        let f = t.finalize(h(2)).unwrap();
        assert!(f.best_moved, "1 is finalized but not last");
        assert_eq!(t.best(), h(2));
    }

    #[test]
    fn only_live_blocks_can_be_finalized() {
        let mut t = forked();
        assert_eq!(t.finalize(h(0)), None, "already finalized");
        assert_eq!(t.finalize(h(99)), None, "never reported");
        assert_eq!(t.len(), 6, "nothing changed");
    }
}
