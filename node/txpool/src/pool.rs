//! The pool's state machine.
//!
//! What must stay true after every public call (checked by
//! `Pool::check_invariants` in tests):
//! - each tag has at most one provider in the pool (`providers`);
//! - `requirers` and every transaction's `dependents` count mirror the
//!   `requires` lists (self-requirement is not a dependency);
//! - the ready set is the *least* fixed point of "every required tag is
//!   provided by a ready transaction": so it is acyclic and can be ordered
//!   dependencies first. Removals therefore demote dependents before any
//!   insertion promotes, never the other way round;
//! - counts and bytes stay within `PoolConfig`;
//! - a transaction leaves the pool with exactly one event that `leaves_pool`.

use crate::bounded::{BanList, InBlock, RecentTags};
use crate::error::{bans, describe_invalid, describe_validity};
use crate::ready::ReadyIter;
use crate::{
    PoolConfig, PoolError, PoolStatus, SubmitOutcome, Submitted, TxEvent, TxHash, Validator,
};
use qstack_core::{hashing::blake2_256, H256};
use qstack_runtime_primitives::{
    TransactionSource, TransactionValidity, TransactionValidityError, ValidTransaction,
};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use tracing::{debug, trace, warn};

const TARGET: &str = "qstack::txpool";

/// Reason given to transactions evicted for a higher-priority one.
const EVICTED: &str = "pool full: evicted by higher priority";
/// Reason given to future transactions evicted when too many wait.
const FUTURE_FULL: &str = "future queue full: too many transactions waiting for a lower nonce";

pub(crate) type Tag = Vec<u8>;

/// A transaction held by the pool.
pub(crate) struct Tx {
    pub data: Arc<Vec<u8>>,
    pub source: TransactionSource,
    pub priority: u64,
    /// Sorted, deduplicated, without tags of recently included transactions.
    pub requires: Vec<Tag>,
    /// Sorted, deduplicated.
    pub provides: Vec<Tag>,
    pub longevity: u64,
    /// Last block (pool count) for which its validation holds.
    pub valid_till: u64,
    /// Arrival order, unique; kept when re-validation re-inserts it.
    pub arrival: u64,
    /// Block (pool count) of its last validation.
    pub validated_at: u64,
    pub propagate: bool,
    pub ready: bool,
    /// How many (tag, transaction) pairs in the pool require a tag it provides.
    pub dependents: usize,
}

/// What the pool would hold, while planning evictions.
struct Room {
    count: usize,
    bytes: usize,
    future_count: usize,
    future_bytes: usize,
}

impl Room {
    fn take(&mut self, tx: &Tx) {
        let len = tx.data.len();
        self.count = self.count.saturating_sub(1);
        self.bytes = self.bytes.saturating_sub(len);
        if !tx.ready {
            self.future_count = self.future_count.saturating_sub(1);
            self.future_bytes = self.future_bytes.saturating_sub(len);
        }
    }

    fn over_total(&self, c: &PoolConfig) -> bool {
        self.count > c.max_count || self.bytes > c.max_bytes
    }

    fn over_future(&self, c: &PoolConfig) -> bool {
        self.future_count > c.max_future_count || self.future_bytes > c.max_future_bytes
    }
}

/// Validation answer normalised for the pool.
struct Meta {
    priority: u64,
    requires: Vec<Tag>,
    provides: Vec<Tag>,
    longevity: u64,
    propagate: bool,
}

/// The transaction pool. See the crate documentation for the model.
pub struct Pool {
    config: PoolConfig,
    pub(crate) txs: HashMap<TxHash, Tx>,
    by_arrival: BTreeMap<u64, TxHash>,
    pub(crate) providers: HashMap<Tag, TxHash>,
    pub(crate) requirers: HashMap<Tag, Vec<TxHash>>,
    recent: RecentTags,
    banned: BanList,
    in_block: InBlock,
    /// Blocks seen (`on_block` calls).
    block: u64,
    next_arrival: u64,
    /// Arrival of the last re-validated transaction.
    cursor: u64,
    ready_count: usize,
    future_count: usize,
    bytes: usize,
    future_bytes: usize,
    /// Readiness at the start of the current call, of transactions whose
    /// readiness changed during it.
    flipped: HashMap<TxHash, bool>,
}

impl Default for Pool {
    fn default() -> Self {
        Pool::new(PoolConfig::default())
    }
}

impl Pool {
    /// An empty pool.
    pub fn new(config: PoolConfig) -> Self {
        Pool {
            config,
            txs: HashMap::new(),
            by_arrival: BTreeMap::new(),
            providers: HashMap::new(),
            requirers: HashMap::new(),
            recent: RecentTags::default(),
            banned: BanList::default(),
            in_block: InBlock::default(),
            block: 0,
            next_arrival: 1,
            cursor: 0,
            ready_count: 0,
            future_count: 0,
            bytes: 0,
            future_bytes: 0,
            flipped: HashMap::new(),
        }
    }

    /// The limits it enforces.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// Validates `xt` on top of block `at` and adds it as ready or future.
    ///
    /// A transaction providing a tag that a pending one provides replaces it
    /// only with a strictly higher priority (the old one is `Usurped`). When
    /// the pool is full, the lowest-priority transactions nothing depends on
    /// are evicted if their priority is lower than the new one's.
    pub fn submit(
        &mut self,
        at: H256,
        source: TransactionSource,
        xt: Vec<u8>,
        validator: &dyn Validator,
    ) -> Result<Submitted, PoolError> {
        if xt.len() > self.config.max_tx_bytes {
            return Err(PoolError::TooLarge {
                size: xt.len(),
                max: self.config.max_tx_bytes,
            });
        }
        let hash = H256(blake2_256(&xt));
        if self.txs.contains_key(&hash) {
            return Err(PoolError::AlreadyImported);
        }
        if self.banned.is_banned(&hash, self.block) {
            return Err(PoolError::TemporarilyBanned);
        }
        let valid = match validator.validate(at, source, &xt) {
            Ok(valid) => valid,
            Err(e) => {
                if let TransactionValidityError::Invalid(i) = e {
                    if bans(i) {
                        self.ban(hash);
                    }
                }
                debug!(target: TARGET, ?hash, ?e, "refused at submission");
                return Err(e.into());
            }
        };
        let meta = self.normalise(valid);

        let mut conflicts: Vec<TxHash> = meta
            .provides
            .iter()
            .filter_map(|t| self.providers.get(t).copied())
            .collect();
        conflicts.sort_unstable();
        conflicts.dedup();
        let strongest = conflicts
            .iter()
            .filter_map(|c| self.txs.get(c))
            .map(|c| c.priority)
            .max();
        if let Some(old) = strongest {
            if old >= meta.priority {
                return Err(PoolError::TooLowPriority {
                    old,
                    new: meta.priority,
                });
            }
        }
        let ready = self.would_be_ready(&meta.requires, &conflicts);
        let victims = self.plan_room(&meta, xt.len(), ready, &conflicts)?;

        // Nothing is changed before this point: a refusal leaves the pool as it was.
        self.flipped.clear();
        let mut events = Vec::new();
        conflicts.sort_unstable_by_key(|c| self.txs.get(c).map(|t| t.arrival));
        for c in conflicts {
            if self.remove(&c).is_some() {
                events.push((c, TxEvent::Usurped(hash)));
            }
        }
        for v in victims {
            if self.remove(&v).is_some() {
                events.push((v, TxEvent::Dropped(EVICTED.to_owned())));
            }
        }
        let arrival = self.next_arrival;
        self.next_arrival = self.next_arrival.saturating_add(1);
        self.insert(hash, Arc::new(xt), source, meta, arrival);
        self.enforce_future_limits(Some(hash), &mut events);
        self.take_transitions(Some(hash), &mut events);

        let outcome = match self.txs.get(&hash) {
            Some(tx) if tx.ready => SubmitOutcome::Ready,
            _ => SubmitOutcome::Future,
        };
        debug!(target: TARGET, ?hash, ?outcome, side_effects = events.len(), "imported");
        Ok(Submitted {
            hash,
            outcome,
            events,
        })
    }

    /// Brings the pool up to a new best block `at`:
    ///
    /// 1. `included` transactions leave with `InBlock(at)`; the tags they
    ///    provided count as satisfied, so their successors stay or become ready;
    /// 2. `rejected` ones (found invalid while building or importing the block;
    ///    not those merely left out of a full block) leave with the reason;
    /// 3. transactions whose longevity ended leave `Invalid`;
    /// 4. up to `revalidate_per_block` transactions, rotating in arrival order,
    ///    are validated again on `at`: invalid ones leave with the reason, the
    ///    others take the new priority, tags and longevity (an `Unknown` answer
    ///    keeps the transaction as it was).
    ///
    /// Returns every resulting event, including `Ready`/`Future` transitions.
    pub fn on_block(
        &mut self,
        at: H256,
        included: &[TxHash],
        rejected: &[(TxHash, TransactionValidityError)],
        validator: &dyn Validator,
    ) -> Vec<(TxHash, TxEvent)> {
        let _span = tracing::debug_span!(target: TARGET, "on_block", ?at).entered();
        self.block = self.block.saturating_add(1);
        self.flipped.clear();
        self.banned.expire(self.block);
        self.recent
            .expire(self.block, self.config.recent_tags_blocks);
        let mut events = Vec::new();

        let mut unlocked = Vec::new();
        for hash in included {
            let Some(tx) = self.txs.get(hash) else {
                continue;
            };
            for tag in tx.provides.clone() {
                unlocked.extend(self.strike_tag(&tag));
                self.recent.insert(tag, self.block);
            }
            if self.remove(hash).is_some() {
                self.in_block
                    .insert(*hash, at, self.config.max_in_block_tracked);
                events.push((*hash, TxEvent::InBlock(at)));
            }
        }
        self.promote(unlocked);

        for (hash, e) in rejected {
            if self.remove(hash).is_none() {
                continue;
            }
            let event = match e {
                TransactionValidityError::Invalid(i) => {
                    if bans(*i) {
                        self.ban(*hash);
                    }
                    TxEvent::Invalid(describe_invalid(*i))
                }
                TransactionValidityError::Unknown(_) => TxEvent::Dropped(describe_validity(*e)),
            };
            events.push((*hash, event));
        }

        let now = self.block;
        let expired: Vec<(TxHash, u64)> = self
            .by_arrival
            .values()
            .filter_map(|h| self.txs.get(h).map(|tx| (*h, tx)))
            .filter(|(_, tx)| tx.valid_till < now)
            .map(|(h, tx)| (h, tx.longevity))
            .collect();
        for (hash, longevity) in expired {
            if self.remove(&hash).is_some() {
                self.ban(hash);
                events.push((
                    hash,
                    TxEvent::Invalid(format!(
                        "not included within its validity period of {longevity} blocks \
                         (sign it again)"
                    )),
                ));
            }
        }

        self.revalidate(at, validator, &mut events);
        self.enforce_future_limits(None, &mut events);
        self.take_transitions(None, &mut events);
        debug!(
            target: TARGET,
            included = included.len(),
            events = events.len(),
            ready = self.ready_count,
            future = self.future_count,
            "block processed"
        );
        events
    }

    /// Reports `Finalized(hash)` for the transactions of the finalized block
    /// `hash` that this pool reported `InBlock`.
    pub fn on_finalized(&mut self, hash: H256, included: &[TxHash]) -> Vec<(TxHash, TxEvent)> {
        included
            .iter()
            .filter(|tx| self.in_block.take(tx))
            .map(|tx| (*tx, TxEvent::Finalized(hash)))
            .collect()
    }

    /// Removes transactions the node found invalid (e.g. while building a
    /// block), bans them for a while and returns the resulting events.
    pub fn remove_invalid(&mut self, hashes: &[TxHash]) -> Vec<(TxHash, TxEvent)> {
        self.flipped.clear();
        let mut events = Vec::new();
        for hash in hashes {
            if self.remove(hash).is_some() {
                self.ban(*hash);
                events.push((
                    *hash,
                    TxEvent::Invalid("found invalid by the node".to_owned()),
                ));
            }
        }
        self.enforce_future_limits(None, &mut events);
        self.take_transitions(None, &mut events);
        events
    }

    /// Ready transactions in an order a block can include them: each after
    /// the transactions providing the tags it requires, otherwise highest
    /// priority first, then earliest arrival. Lazy, so a block builder can
    /// stop early and skip dependents of a transaction that failed.
    pub fn ready_iter(&self) -> ReadyIter<'_> {
        ReadyIter::new(self)
    }

    /// [`Pool::ready_iter`], collected.
    pub fn ready(&self) -> Vec<(TxHash, Arc<Vec<u8>>)> {
        self.ready_iter().collect()
    }

    /// Every transaction held, ready and future, in arrival order.
    pub fn pending(&self) -> Vec<Arc<Vec<u8>>> {
        self.by_arrival
            .values()
            .filter_map(|h| self.txs.get(h))
            .map(|tx| Arc::clone(&tx.data))
            .collect()
    }

    /// Whether a transaction held (ready or future) provides `tag`.
    pub fn provides(&self, tag: &[u8]) -> bool {
        self.providers.contains_key(tag)
    }

    /// Whether the pool holds this transaction.
    pub fn contains(&self, hash: &TxHash) -> bool {
        self.txs.contains_key(hash)
    }

    /// Whether the transaction is held and ready.
    pub fn is_ready(&self, hash: &TxHash) -> bool {
        self.txs.get(hash).is_some_and(|tx| tx.ready)
    }

    /// Whether the runtime allows gossiping this transaction (`false` if not held).
    pub fn propagates(&self, hash: &TxHash) -> bool {
        self.txs.get(hash).is_some_and(|tx| tx.propagate)
    }

    /// Counts and size.
    pub fn status(&self) -> PoolStatus {
        PoolStatus {
            ready: self.ready_count,
            future: self.future_count,
            bytes: self.bytes,
        }
    }

    // ---- Building blocks. Each keeps the invariants above, except where noted.

    fn normalise(&self, v: ValidTransaction) -> Meta {
        let mut requires = v.requires;
        requires.sort_unstable();
        requires.dedup();
        // Satisfied by the chain; the answer may come from a state just before.
        requires.retain(|t| !self.recent.contains(t));
        let mut provides = v.provides;
        provides.sort_unstable();
        provides.dedup();
        Meta {
            priority: v.priority,
            requires,
            provides,
            longevity: v.longevity,
            propagate: v.propagate,
        }
    }

    fn ban(&mut self, hash: TxHash) {
        let until = self.block.saturating_add(self.config.ban_blocks);
        self.banned.ban(hash, until, self.config.max_banned);
    }

    fn provider_ready(&self, tag: &[u8]) -> bool {
        self.providers
            .get(tag)
            .and_then(|p| self.txs.get(p))
            .is_some_and(|p| p.ready)
    }

    /// Transactions requiring a tag `tx` provides.
    fn dependents_of(&self, tx: &Tx) -> Vec<TxHash> {
        tx.provides
            .iter()
            .filter_map(|t| self.requirers.get(t))
            .flatten()
            .copied()
            .collect()
    }

    fn set_ready(&mut self, hash: &TxHash, ready: bool) {
        // Ready only when every required tag has a ready provider: the
        // ready set stays closed under "requires".
        debug_assert!(
            !ready
                || self
                    .txs
                    .get(hash)
                    .is_some_and(|tx| tx.requires.iter().all(|t| self.provider_ready(t)))
        );
        let Some(tx) = self.txs.get_mut(hash) else {
            return;
        };
        if tx.ready == ready {
            return;
        }
        self.flipped.entry(*hash).or_insert(tx.ready);
        tx.ready = ready;
        let len = tx.data.len();
        if ready {
            self.ready_count = self.ready_count.saturating_add(1);
            self.future_count = self.future_count.saturating_sub(1);
            self.future_bytes = self.future_bytes.saturating_sub(len);
        } else {
            self.ready_count = self.ready_count.saturating_sub(1);
            self.future_count = self.future_count.saturating_add(1);
            self.future_bytes = self.future_bytes.saturating_add(len);
        }
        // Ready and future partition what the pool holds.
        debug_assert_eq!(
            self.ready_count.saturating_add(self.future_count),
            self.txs.len()
        );
    }

    /// Makes ready every transaction reachable from `work` whose required tags
    /// are all provided by ready transactions.
    fn promote(&mut self, mut work: Vec<TxHash>) {
        while let Some(hash) = work.pop() {
            let Some(tx) = self.txs.get(&hash) else {
                continue;
            };
            if tx.ready || !tx.requires.iter().all(|t| self.provider_ready(t)) {
                continue;
            }
            work.extend(self.dependents_of(tx));
            self.set_ready(&hash, true);
        }
    }

    /// Makes `start` future, and with it everything that depends on it.
    fn demote(&mut self, start: TxHash) {
        let mut work = vec![start];
        while let Some(hash) = work.pop() {
            let Some(tx) = self.txs.get(&hash) else {
                continue;
            };
            if !tx.ready {
                continue;
            }
            // Each tag has one provider: its dependents lose that tag.
            work.extend(self.dependents_of(tx));
            self.set_ready(&hash, false);
        }
    }

    /// Adds a transaction whose provided tags have no provider in the pool,
    /// then promotes it and what it unlocks.
    fn insert(
        &mut self,
        hash: TxHash,
        data: Arc<Vec<u8>>,
        source: TransactionSource,
        meta: Meta,
        arrival: u64,
    ) {
        let mut dependents = 0usize;
        for t in &meta.provides {
            if let Some(rs) = self.requirers.get(t) {
                dependents = dependents.saturating_add(rs.iter().filter(|r| **r != hash).count());
            }
        }
        for t in &meta.requires {
            self.requirers.entry(t.clone()).or_default().push(hash);
            if let Some(p) = self.providers.get(t) {
                if let Some(ptx) = self.txs.get_mut(p) {
                    ptx.dependents = ptx.dependents.saturating_add(1);
                }
            }
        }
        for t in &meta.provides {
            if let Some(old) = self.providers.insert(t.clone(), hash) {
                // The caller removes conflicts first; this would break the ordering.
                warn!(target: TARGET, ?old, ?hash, "tag provided twice");
            }
        }
        let len = data.len();
        self.txs.insert(
            hash,
            Tx {
                data,
                source,
                priority: meta.priority,
                requires: meta.requires,
                provides: meta.provides,
                longevity: meta.longevity,
                valid_till: self.block.saturating_add(meta.longevity),
                arrival,
                validated_at: self.block,
                propagate: meta.propagate,
                ready: false,
                dependents,
            },
        );
        self.by_arrival.insert(arrival, hash);
        self.future_count = self.future_count.saturating_add(1);
        self.future_bytes = self.future_bytes.saturating_add(len);
        self.bytes = self.bytes.saturating_add(len);
        self.promote(vec![hash]);
    }

    /// Takes a transaction out, demoting what depended on it. The caller
    /// reports its event.
    fn remove(&mut self, hash: &TxHash) -> Option<Tx> {
        if self.txs.get(hash)?.ready {
            self.demote(*hash);
        }
        let tx = self.txs.remove(hash)?;
        self.by_arrival.remove(&tx.arrival);
        for t in &tx.requires {
            if let Some(rs) = self.requirers.get_mut(t) {
                rs.retain(|r| r != hash);
                if rs.is_empty() {
                    self.requirers.remove(t);
                }
            }
            if let Some(p) = self.providers.get(t) {
                if let Some(ptx) = self.txs.get_mut(p) {
                    ptx.dependents = ptx.dependents.saturating_sub(1);
                }
            }
        }
        for t in &tx.provides {
            if self.providers.get(t) == Some(hash) {
                self.providers.remove(t);
            }
        }
        let len = tx.data.len();
        self.future_count = self.future_count.saturating_sub(1);
        self.future_bytes = self.future_bytes.saturating_sub(len);
        self.bytes = self.bytes.saturating_sub(len);
        Some(tx)
    }

    /// The chain now provides `tag`: strikes it from every `requires` list and
    /// returns the transactions that required it.
    fn strike_tag(&mut self, tag: &[u8]) -> Vec<TxHash> {
        let Some(requirers) = self.requirers.remove(tag) else {
            return Vec::new();
        };
        let provider = self.providers.get(tag).copied();
        for r in &requirers {
            if let Some(rtx) = self.txs.get_mut(r) {
                rtx.requires.retain(|t| t.as_slice() != tag);
            }
            // A transaction requiring its own tag is not its own dependent.
            let provider = provider.filter(|p| p != r);
            if let Some(ptx) = provider.and_then(|p| self.txs.get_mut(&p)) {
                ptx.dependents = ptx.dependents.saturating_sub(1);
            }
        }
        requirers
    }

    /// Whether a transaction requiring `requires` would be ready once
    /// `conflicts` are removed (their dependents lose their support).
    fn would_be_ready(&self, requires: &[Tag], conflicts: &[TxHash]) -> bool {
        let mut lost: HashSet<TxHash> = HashSet::new();
        let mut work = conflicts.to_vec();
        while let Some(hash) = work.pop() {
            if !lost.insert(hash) {
                continue;
            }
            if let Some(tx) = self.txs.get(&hash) {
                work.extend(
                    self.dependents_of(tx)
                        .into_iter()
                        .filter(|d| self.txs.get(d).is_some_and(|d| d.ready)),
                );
            }
        }
        requires.iter().all(|t| {
            self.providers
                .get(t)
                .is_some_and(|p| !lost.contains(p) && self.txs.get(p).is_some_and(|p| p.ready))
        })
    }

    /// Which transactions to evict so the new one fits, or `PoolFull`. Victims
    /// have no dependents (so evicting them changes no one's readiness) and a
    /// lower priority than the new transaction: lowest first, future before
    /// ready, newest first. A future newcomer only evicts futures, and only
    /// futures are evicted once the overall limits hold.
    fn plan_room(
        &self,
        meta: &Meta,
        len: usize,
        ready: bool,
        conflicts: &[TxHash],
    ) -> Result<Vec<TxHash>, PoolError> {
        let c = &self.config;
        let mut room = Room {
            count: self.txs.len().saturating_add(1),
            bytes: self.bytes.saturating_add(len),
            future_count: self.future_count,
            future_bytes: self.future_bytes,
        };
        if !ready {
            room.future_count = room.future_count.saturating_add(1);
            room.future_bytes = room.future_bytes.saturating_add(len);
        }
        for tx in conflicts.iter().filter_map(|h| self.txs.get(h)) {
            room.take(tx);
        }
        if !room.over_total(c) && !room.over_future(c) {
            return Ok(Vec::new());
        }

        // The new transaction's providers gain a dependent; conflicts go anyway.
        let protected: HashSet<TxHash> = conflicts
            .iter()
            .copied()
            .chain(
                meta.requires
                    .iter()
                    .filter_map(|t| self.providers.get(t).copied()),
            )
            .collect();
        // A future newcomer is not includable yet: it never displaces one that is.
        let eligible = |h: &TxHash, tx: &Tx| {
            !protected.contains(h) && tx.priority < meta.priority && (ready || !tx.ready)
        };
        let key = |h: TxHash, tx: &Tx| Reverse((tx.priority, tx.ready, Reverse(tx.arrival), h));
        let mut heap: BinaryHeap<_> = self
            .txs
            .iter()
            .filter(|(h, tx)| tx.dependents == 0 && eligible(h, tx))
            .map(|(h, tx)| key(*h, tx))
            .collect();
        // Dependents each provider loses to the victims chosen so far.
        let mut lost: HashMap<TxHash, usize> = HashMap::new();
        let mut victims = Vec::new();
        loop {
            let total = room.over_total(c);
            if !total && !room.over_future(c) {
                return Ok(victims);
            }
            let Some(Reverse((_, victim_ready, _, hash))) = heap.pop() else {
                return Err(PoolError::PoolFull);
            };
            if victim_ready && !total {
                continue;
            }
            let Some(tx) = self.txs.get(&hash) else {
                continue;
            };
            victims.push(hash);
            room.take(tx);
            for t in &tx.requires {
                let Some(p) = self.providers.get(t) else {
                    continue;
                };
                let Some(ptx) = self.txs.get(p) else {
                    continue;
                };
                if *p == hash {
                    continue;
                }
                let n = lost.entry(*p).or_default();
                *n = n.saturating_add(1);
                if *n == ptx.dependents && eligible(p, ptx) {
                    heap.push(key(*p, ptx));
                }
            }
        }
    }

    /// Evicts futures (other than `keep`) until their limits hold: those with
    /// no dependents first, then lowest priority, newest first. Removing a
    /// future changes no one's readiness.
    fn enforce_future_limits(&mut self, keep: Option<TxHash>, events: &mut Vec<(TxHash, TxEvent)>) {
        while self.future_count > self.config.max_future_count
            || self.future_bytes > self.config.max_future_bytes
        {
            let victim = self
                .txs
                .iter()
                .filter(|(h, tx)| !tx.ready && Some(**h) != keep)
                .min_by_key(|(_, tx)| (tx.dependents != 0, tx.priority, Reverse(tx.arrival)))
                .map(|(h, _)| *h);
            let Some(victim) = victim else {
                warn!(target: TARGET, "future limits exceeded by the newest transaction alone");
                return;
            };
            if self.remove(&victim).is_some() {
                events.push((victim, TxEvent::Dropped(FUTURE_FULL.to_owned())));
            }
        }
    }

    /// Validates the next `revalidate_per_block` transactions again on `at`.
    fn revalidate(
        &mut self,
        at: H256,
        validator: &dyn Validator,
        events: &mut Vec<(TxHash, TxEvent)>,
    ) {
        let n = self.config.revalidate_per_block.min(self.txs.len());
        if n == 0 {
            return;
        }
        // Only transactions whose last validation is old enough (one that
        // arrived a block ago is most likely included in the next one, and
        // validating it again would double the pool's work at high load) or
        // that would expire before the next block without a renewal.
        let (block, min_age) = (self.block, self.config.revalidate_after_blocks);
        let batch: Vec<(u64, TxHash)> = self
            .by_arrival
            .range(self.cursor.saturating_add(1)..)
            .chain(self.by_arrival.range(..=self.cursor))
            .filter(|(_, h)| {
                self.txs.get(h).is_some_and(|tx| {
                    tx.validated_at.saturating_add(min_age) <= block || tx.valid_till <= block
                })
            })
            .take(n)
            .map(|(a, h)| (*a, *h))
            .collect();
        if let Some((last, _)) = batch.last() {
            self.cursor = *last;
        }
        let answers: Vec<(TxHash, TransactionValidity)> = batch
            .iter()
            .filter_map(|(_, h)| {
                let tx = self.txs.get(h)?;
                Some((*h, validator.validate(at, tx.source, &tx.data)))
            })
            .collect();

        let mut changed = Vec::new();
        for (hash, answer) in answers {
            match answer {
                Err(TransactionValidityError::Invalid(i)) => {
                    if self.remove(&hash).is_some() {
                        if bans(i) {
                            self.ban(hash);
                        }
                        events.push((hash, TxEvent::Invalid(describe_invalid(i))));
                    }
                }
                Err(TransactionValidityError::Unknown(u)) => {
                    trace!(target: TARGET, ?hash, ?u, "validity unknown; kept as it was");
                }
                Ok(valid) => {
                    let meta = self.normalise(valid);
                    let Some(tx) = self.txs.get_mut(&hash) else {
                        continue;
                    };
                    tx.validated_at = block;
                    if tx.requires == meta.requires && tx.provides == meta.provides {
                        tx.priority = meta.priority;
                        tx.longevity = meta.longevity;
                        tx.valid_till = block.saturating_add(meta.longevity);
                        tx.propagate = meta.propagate;
                    } else {
                        changed.push((hash, meta));
                    }
                }
            }
        }

        // Tags changed: take all of them out (demoting) before putting any back.
        let mut back = Vec::new();
        for (hash, meta) in changed {
            if let Some(tx) = self.remove(&hash) {
                back.push((hash, tx, meta));
            }
        }
        for (hash, tx, meta) in back {
            let mut conflicts: Vec<TxHash> = meta
                .provides
                .iter()
                .filter_map(|t| self.providers.get(t).copied())
                .collect();
            conflicts.sort_unstable();
            conflicts.dedup();
            let mine = (meta.priority, Reverse(tx.arrival));
            let winner = conflicts
                .iter()
                .filter_map(|c| {
                    self.txs
                        .get(c)
                        .map(|ctx| ((ctx.priority, Reverse(ctx.arrival)), *c))
                })
                .filter(|(theirs, _)| *theirs >= mine)
                .max();
            if let Some((_, winner)) = winner {
                events.push((hash, TxEvent::Usurped(winner)));
                continue;
            }
            for c in conflicts {
                if self.remove(&c).is_some() {
                    events.push((c, TxEvent::Usurped(hash)));
                }
            }
            self.insert(hash, tx.data, tx.source, meta, tx.arrival);
        }
    }

    /// Appends `Ready`/`Future` for transactions (other than `skip`) whose
    /// readiness differs from the start of the call, in arrival order.
    fn take_transitions(&mut self, skip: Option<TxHash>, events: &mut Vec<(TxHash, TxEvent)>) {
        let flipped = std::mem::take(&mut self.flipped);
        let mut changes: Vec<(u64, TxHash, bool)> = flipped
            .into_iter()
            .filter(|(h, _)| Some(*h) != skip)
            .filter_map(|(h, was)| {
                let tx = self.txs.get(&h)?;
                (tx.ready != was).then_some((tx.arrival, h, tx.ready))
            })
            .collect();
        changes.sort_unstable();
        events.extend(changes.into_iter().map(|(_, h, ready)| {
            (
                h,
                if ready {
                    TxEvent::Ready
                } else {
                    TxEvent::Future
                },
            )
        }));
    }
}

#[cfg(any(test, feature = "test-utils"))]
impl Pool {
    /// Recomputes every derived structure from the transactions and compares
    /// (tests only): tag maps, dependents, least-fixed-point readiness,
    /// counters and limits.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut providers: HashMap<&Tag, TxHash> = HashMap::new();
        let mut requirers: HashMap<&Tag, Vec<TxHash>> = HashMap::new();
        for (h, tx) in &self.txs {
            for t in &tx.provides {
                if let Some(other) = providers.insert(t, *h) {
                    return Err(format!("tag {t:?} provided by {h:?} and {other:?}"));
                }
            }
            for t in &tx.requires {
                requirers.entry(t).or_default().push(*h);
                if self.recent.contains(t) {
                    return Err(format!("{h:?} requires recently included tag {t:?}"));
                }
            }
        }
        if providers.len() != self.providers.len()
            || providers
                .iter()
                .any(|(t, h)| self.providers.get(*t) != Some(h))
        {
            return Err("providers map out of date".into());
        }
        if requirers.len() != self.requirers.len() {
            return Err("requirers map out of date".into());
        }
        for (t, mut hs) in requirers {
            let mut mine = self.requirers.get(t).cloned().unwrap_or_default();
            hs.sort();
            mine.sort();
            if hs != mine {
                return Err(format!("requirers of {t:?} out of date"));
            }
        }
        for (h, tx) in &self.txs {
            let expected: usize = tx
                .provides
                .iter()
                .filter_map(|t| self.requirers.get(t))
                .map(|rs| rs.iter().filter(|r| *r != h).count())
                .sum();
            if expected != tx.dependents {
                return Err(format!(
                    "{h:?} has {} dependents, counted {expected}",
                    tx.dependents
                ));
            }
        }
        // Least fixed point, from scratch.
        let mut ready: HashSet<TxHash> = HashSet::new();
        loop {
            let before = ready.len();
            for (h, tx) in &self.txs {
                if !ready.contains(h)
                    && tx
                        .requires
                        .iter()
                        .all(|t| providers.get(t).is_some_and(|p| ready.contains(p)))
                {
                    ready.insert(*h);
                }
            }
            if ready.len() == before {
                break;
            }
        }
        for (h, tx) in &self.txs {
            if tx.ready != ready.contains(h) {
                return Err(format!(
                    "{h:?} ready = {}, should be {}",
                    tx.ready, !tx.ready
                ));
            }
        }
        let bytes: usize = self.txs.values().map(|t| t.data.len()).sum();
        let future_bytes: usize = self
            .txs
            .values()
            .filter(|t| !t.ready)
            .map(|t| t.data.len())
            .sum();
        let status = (
            ready.len(),
            self.txs.len() - ready.len(),
            bytes,
            future_bytes,
        );
        let counted = (
            self.ready_count,
            self.future_count,
            self.bytes,
            self.future_bytes,
        );
        if status != counted {
            return Err(format!("counters {counted:?}, recomputed {status:?}"));
        }
        if self.by_arrival.len() != self.txs.len() {
            return Err("arrival index out of date".into());
        }
        let c = &self.config;
        if self.txs.len() > c.max_count
            || bytes > c.max_bytes
            || status.1 > c.max_future_count
            || future_bytes > c.max_future_bytes
        {
            return Err(format!("limits exceeded: {status:?}"));
        }
        Ok(())
    }

    /// Banned hashes remembered (tests only).
    pub fn banned_len(&self) -> usize {
        self.banned.len()
    }

    /// Included transactions awaiting `Finalized` (tests only).
    pub fn in_block_len(&self) -> usize {
        self.in_block.len()
    }
}
