//! Block-building order over the ready set: Kahn's topological sort with a
//! best-first choice (highest priority, then earliest arrival) among the
//! transactions whose dependencies were all yielded.

use crate::pool::Pool;
use crate::TxHash;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

/// Ready transactions, dependencies first, otherwise best first. From
/// [`Pool::ready_iter`].
pub struct ReadyIter<'a> {
    pool: &'a Pool,
    /// Ready transactions with required tags whose providers were not yielded yet.
    waiting: HashMap<TxHash, usize>,
    best: BinaryHeap<(u64, Reverse<u64>, TxHash)>,
    /// Its dependents are released on the next call, unless reported invalid.
    last: Option<TxHash>,
    invalid: HashSet<TxHash>,
}

impl<'a> ReadyIter<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        let mut waiting = HashMap::new();
        let mut best = BinaryHeap::new();
        for (hash, tx) in pool.txs.iter().filter(|(_, tx)| tx.ready) {
            // A ready transaction's required tags are each provided by one
            // ready transaction (tags of included ones are struck).
            if tx.requires.is_empty() {
                best.push((tx.priority, Reverse(tx.arrival), *hash));
            } else {
                waiting.insert(*hash, tx.requires.len());
            }
        }
        ReadyIter {
            pool,
            waiting,
            best,
            last: None,
            invalid: HashSet::new(),
        }
    }

    /// Reports that a yielded transaction could not be included: nothing that
    /// depends on it, directly or not, is yielded afterwards.
    pub fn report_invalid(&mut self, hash: &TxHash) {
        self.invalid.insert(*hash);
    }

    fn release_dependents_of(&mut self, hash: &TxHash) {
        let Some(tx) = self.pool.txs.get(hash) else {
            return;
        };
        for tag in &tx.provides {
            for r in self.pool.requirers.get(tag).into_iter().flatten() {
                let Some(left) = self.waiting.get_mut(r) else {
                    continue;
                };
                *left = left.saturating_sub(1);
                if *left == 0 {
                    self.waiting.remove(r);
                    if let Some(rtx) = self.pool.txs.get(r) {
                        self.best.push((rtx.priority, Reverse(rtx.arrival), *r));
                    }
                }
            }
        }
    }
}

impl Iterator for ReadyIter<'_> {
    type Item = (TxHash, Arc<Vec<u8>>);

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(last) = self.last.take() {
            if !self.invalid.contains(&last) {
                self.release_dependents_of(&last);
            }
        }
        while let Some((_, _, hash)) = self.best.pop() {
            let Some(tx) = self.pool.txs.get(&hash) else {
                continue;
            };
            // Released before its provider was reported invalid.
            let after_invalid = !self.invalid.is_empty()
                && tx.requires.iter().any(|t| {
                    self.pool
                        .providers
                        .get(t)
                        .is_some_and(|p| self.invalid.contains(p))
                });
            if after_invalid {
                self.invalid.insert(hash);
                continue;
            }
            self.last = Some(hash);
            return Some((hash, Arc::clone(&tx.data)));
        }
        None
    }
}
