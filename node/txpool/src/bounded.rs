//! The pool's bounded memories: banned hashes, tags of recently included
//! transactions, and where included transactions went (for `Finalized`).
//! Each forgets its oldest entry first, so none grows with the chain.

use crate::TxHash;
use qstack_core::H256;
use std::collections::{HashMap, VecDeque};

/// Hashes refused without validation until a block number.
#[derive(Default)]
pub(crate) struct BanList {
    until: HashMap<TxHash, u64>,
    /// Ban order; each banned hash appears once.
    order: VecDeque<TxHash>,
}

impl BanList {
    /// Bans `hash` until block `until` (exclusive), extending an existing ban.
    pub fn ban(&mut self, hash: TxHash, until: u64, cap: usize) {
        match self.until.get_mut(&hash) {
            Some(u) => *u = (*u).max(until),
            None => {
                self.until.insert(hash, until);
                self.order.push_back(hash);
            }
        }
        while self.order.len() > cap {
            if let Some(old) = self.order.pop_front() {
                self.until.remove(&old);
            }
        }
    }

    /// Whether `hash` is banned at block `now`.
    pub fn is_banned(&self, hash: &TxHash, now: u64) -> bool {
        self.until.get(hash).is_some_and(|u| now < *u)
    }

    /// Forgets bans that ended, oldest first (a ban extended later may hold
    /// back the ones behind it; they are still reported unbanned).
    pub fn expire(&mut self, now: u64) {
        while let Some(front) = self.order.front() {
            if self.is_banned(front, now) {
                break;
            }
            self.until.remove(front);
            self.order.pop_front();
        }
    }

    #[cfg(any(test, feature = "test-utils"))]
    pub fn len(&self) -> usize {
        self.until.len()
    }
}

/// Tags provided by transactions included in recent blocks.
#[derive(Default)]
pub(crate) struct RecentTags {
    at: HashMap<Vec<u8>, u64>,
    order: VecDeque<(u64, Vec<u8>)>,
}

impl RecentTags {
    pub fn insert(&mut self, tag: Vec<u8>, block: u64) {
        self.at.insert(tag.clone(), block);
        self.order.push_back((block, tag));
    }

    pub fn contains(&self, tag: &[u8]) -> bool {
        self.at.contains_key(tag)
    }

    /// Forgets tags recorded `keep` or more blocks before `now`.
    pub fn expire(&mut self, now: u64, keep: u64) {
        while let Some((block, _)) = self.order.front() {
            if block.saturating_add(keep) > now {
                break;
            }
            if let Some((block, tag)) = self.order.pop_front() {
                // Only if not recorded again since.
                if self.at.get(&tag) == Some(&block) {
                    self.at.remove(&tag);
                }
            }
        }
    }
}

/// Transactions reported `InBlock`, awaiting `Finalized`.
#[derive(Default)]
pub(crate) struct InBlock {
    block: HashMap<TxHash, H256>,
    order: VecDeque<TxHash>,
}

impl InBlock {
    pub fn insert(&mut self, hash: TxHash, at: H256, cap: usize) {
        if self.block.insert(hash, at).is_none() {
            self.order.push_back(hash);
        }
        while self.order.len() > cap {
            if let Some(old) = self.order.pop_front() {
                self.block.remove(&old);
            }
        }
    }

    /// Takes `hash` out if it was reported `InBlock`. Its slot in `order` is
    /// left behind and skipped when it reaches the front.
    pub fn take(&mut self, hash: &TxHash) -> bool {
        let found = self.block.remove(hash).is_some();
        // Keep `order` from filling with taken entries.
        while let Some(front) = self.order.front() {
            if self.block.contains_key(front) {
                break;
            }
            self.order.pop_front();
        }
        found
    }

    #[cfg(any(test, feature = "test-utils"))]
    pub fn len(&self) -> usize {
        self.block.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u8) -> TxHash {
        H256([n; 32])
    }

    #[test]
    fn bans_end_and_are_bounded() {
        let mut b = BanList::default();
        b.ban(h(1), 10, 2);
        b.ban(h(2), 12, 2);
        assert!(b.is_banned(&h(1), 9));
        assert!(!b.is_banned(&h(1), 10));
        b.ban(h(3), 12, 2); // over the cap: the oldest (h1) is forgotten
        assert!(!b.is_banned(&h(1), 0));
        assert!(b.is_banned(&h(3), 11));
        b.expire(12);
        assert_eq!(b.len(), 0);
    }

    #[test]
    fn recent_tags_expire_after_keep_blocks_unless_recorded_again() {
        let mut r = RecentTags::default();
        r.insert(vec![1], 1);
        r.insert(vec![2], 1);
        r.insert(vec![1], 2);
        r.expire(3, 2);
        assert!(r.contains(&[1]));
        assert!(!r.contains(&[2]));
        r.expire(4, 2);
        assert!(!r.contains(&[1]));
    }

    #[test]
    fn in_block_is_bounded_and_taken_once() {
        let mut t = InBlock::default();
        t.insert(h(1), h(9), 2);
        t.insert(h(2), h(9), 2);
        t.insert(h(3), h(9), 2);
        assert!(!t.take(&h(1)));
        assert!(t.take(&h(2)));
        assert!(!t.take(&h(2)));
        assert_eq!(t.len(), 1);
    }
}
