//! Committing blocks: one atomic transaction per block, holding its data,
//! its state nodes, the canonical-index and pointer updates, and every
//! pruning step it triggers (the scheme is in the crate documentation).

use std::collections::{BTreeMap, HashMap};

use codec::{DecodeAll, Encode};
use kvdb::DBTransaction;
use qstack_core::{BlockNumber, H256};
use qstack_runtime_primitives::Header;
use qstack_trie::{Blake2Hasher, MemoryDB};

use crate::{
    children_in, columns, meta, pruning::Journal, state::NodeChanges, ImportBatch, StorageError,
    Store,
};

impl Store {
    /// Stores the genesis block (empty body) and its state, which becomes
    /// best and finalized. `state_delta` is the change set that builds the
    /// genesis state from the empty trie.
    pub fn commit_genesis(
        &self,
        header: Header,
        state_delta: MemoryDB,
    ) -> Result<(), StorageError> {
        let _guard = self.inner.commit_lock.lock();
        let hash = header.hash();
        if let Some(existing) = self.genesis_hash()? {
            return Err(StorageError::GenesisExists { existing });
        }
        if header.number != 0 {
            return Err(StorageError::InvalidBatch {
                hash,
                reason: format!("genesis has number {}, not 0", header.number),
            });
        }
        let mut commit = Commit::new(self);
        commit.put_block(&header, hash, &[], None);
        commit.add_state(hash, state_delta)?;
        if self.window().is_some() {
            // Genesis is never discarded, so what it inserted need not be
            // journaled; the empty journal marks its state as kept.
            commit.journals.insert(hash, Some(Journal::default()));
        }
        commit.canon.insert(0, Some(hash));
        let pointer = (0 as BlockNumber, hash).encode();
        commit.tx.put(columns::META, meta::GENESIS, &hash.encode());
        commit.tx.put(columns::META, meta::BEST, &pointer);
        commit.tx.put(columns::META, meta::FINALIZED, &pointer);
        commit.tx.put(
            columns::META,
            meta::PRUNE_NEXT,
            &(0 as BlockNumber).encode(),
        );
        commit.write()?;
        tracing::info!(target: "qstack::storage", %hash, "committed genesis");
        Ok(())
    }

    /// Stores one imported block and its state in one atomic write, making it
    /// best (re-pointing the canonical index back to the common ancestor on a
    /// reorg) and finalized as the batch says, and pruning old states.
    ///
    /// The parent must be stored with its state kept; the block must be new.
    pub fn commit_block(&self, batch: ImportBatch) -> Result<(), StorageError> {
        let _guard = self.inner.commit_lock.lock();
        let ImportBatch {
            header,
            body,
            justification,
            state_delta,
            new_best,
            finalized,
        } = batch;
        let hash = header.hash();
        if self.genesis_hash()?.is_none() {
            return Err(StorageError::NoGenesis);
        }
        if self.inner.db.has_key(columns::HEADERS, hash.as_ref())? {
            return Err(StorageError::BlockExists { hash });
        }
        if finalized && !new_best {
            return Err(StorageError::InvalidBatch {
                hash,
                reason: "finalized but not made best".into(),
            });
        }
        let parent_hash = header.parent_hash;
        let parent = self
            .header(parent_hash)?
            .ok_or(StorageError::UnknownParent {
                hash,
                parent: parent_hash,
            })?;
        if parent.number.checked_add(1) != Some(header.number) {
            return Err(StorageError::InvalidBatch {
                hash,
                reason: format!(
                    "number {} does not follow its parent's {}",
                    header.number, parent.number
                ),
            });
        }
        if !self.state_kept(parent_hash)? {
            return Err(StorageError::StatePruned {
                hash: parent_hash,
                number: parent.number,
            });
        }

        let mut commit = Commit::new(self);
        commit.put_block(&header, hash, &body, justification.as_deref());
        commit.add_state(hash, state_delta)?;
        commit.new_children.push((parent_hash, hash));
        if new_best {
            commit.set_best(&header, hash)?;
            if finalized {
                commit.tx.put(
                    columns::META,
                    meta::FINALIZED,
                    &(header.number, hash).encode(),
                );
            }
            commit.prune(header.number)?;
        }
        let nodes = commit.nodes.len();
        commit.write()?;
        // Postconditions of one atomic write: the block is stored with its
        // state, and a new best is what the store now reports.
        debug_assert!(matches!(self.header(hash), Ok(Some(_))));
        debug_assert!(matches!(self.state_kept(hash), Ok(true)));
        debug_assert!(!new_best || matches!(self.best(), Ok(Some((_, h))) if h == hash));
        tracing::debug!(
            target: "qstack::storage",
            number = header.number,
            %hash,
            new_best,
            finalized,
            nodes,
            "committed block"
        );
        Ok(())
    }

    /// Makes stored block `hash` the best block (a fork choice: PoW's
    /// heaviest chain, a reorganisation): the canonical index follows its
    /// chain back to the common ancestor, and heights that leave the pruning
    /// window go, as when a block is committed as best. Refused if the
    /// block's state is no longer kept or if it would revert finality; a
    /// refusal changes nothing.
    pub fn set_best(&self, hash: H256) -> Result<(), StorageError> {
        let _guard = self.inner.commit_lock.lock();
        let header = self
            .header(hash)?
            .ok_or(StorageError::UnknownBlock { hash })?;
        if !self.state_kept(hash)? {
            return Err(StorageError::StatePruned {
                hash,
                number: header.number,
            });
        }
        let mut commit = Commit::new(self);
        commit.set_best(&header, hash)?;
        commit.prune(header.number)?;
        commit.write()?;
        debug_assert!(matches!(self.best(), Ok(Some((_, h))) if h == hash));
        Ok(())
    }

    /// Marks best-chain block `hash` finalized, storing `justification` with
    /// it if given. Finality never moves back.
    pub fn finalize(&self, hash: H256, justification: Option<Vec<u8>>) -> Result<(), StorageError> {
        let _guard = self.inner.commit_lock.lock();
        let header = self
            .header(hash)?
            .ok_or(StorageError::UnknownBlock { hash })?;
        if self.hash_of(header.number)? != Some(hash) {
            return Err(StorageError::InvalidBatch {
                hash,
                reason: "cannot finalize a block off the best chain".into(),
            });
        }
        let (finalized, _) = self.finalized()?.ok_or(StorageError::NoGenesis)?;
        if header.number < finalized {
            return Err(StorageError::RevertsFinalized {
                hash,
                ancestor: header.number,
                finalized,
            });
        }
        let mut tx = self.inner.db.transaction();
        tx.put(
            columns::META,
            meta::FINALIZED,
            &(header.number, hash).encode(),
        );
        if let Some(justification) = justification {
            tx.put_vec(columns::JUSTIFICATIONS, hash.as_ref(), justification);
        }
        self.inner.db.write(tx)?;
        Ok(())
    }
}

/// One commit being prepared: the transaction, plus the changes that later
/// steps of the same commit must read back (the database does not see them
/// until the transaction is written).
struct Commit<'a> {
    store: &'a Store,
    tx: DBTransaction,
    nodes: NodeChanges,
    /// Canonical index changes; `None` removes the entry.
    canon: BTreeMap<BlockNumber, Option<H256>>,
    /// Journal changes; `None` deletes the journal.
    journals: HashMap<H256, Option<Journal>>,
    /// New (parent, child) links.
    new_children: Vec<(H256, H256)>,
}

impl<'a> Commit<'a> {
    fn new(store: &'a Store) -> Self {
        Self {
            store,
            tx: store.inner.db.transaction(),
            nodes: NodeChanges::default(),
            canon: BTreeMap::new(),
            journals: HashMap::new(),
            new_children: Vec::new(),
        }
    }

    /// Header, body and justification of a block.
    fn put_block(
        &mut self,
        header: &Header,
        hash: H256,
        body: &[qstack_runtime_primitives::OpaqueExtrinsic],
        justification: Option<&[u8]>,
    ) {
        self.tx
            .put_vec(columns::HEADERS, hash.as_ref(), header.encode());
        self.tx
            .put_vec(columns::BODIES, hash.as_ref(), body.encode());
        if let Some(justification) = justification {
            self.tx
                .put(columns::JUSTIFICATIONS, hash.as_ref(), justification);
        }
    }

    /// Adds the `+n` entries of block `hash`'s state delta to the node
    /// counts and, when pruning, journals its `+n` and `-n` keys.
    fn add_state(&mut self, hash: H256, mut delta: MemoryDB) -> Result<(), StorageError> {
        let pruning = self.store.window().is_some();
        let mut journal = Journal::default();
        for (key, (node, count)) in delta.drain() {
            if count > 0 {
                let node_hash = key.len().checked_sub(32).and_then(|at| key.get(at..));
                let valid = node_hash.is_some_and(|node_hash| {
                    node_hash == <Blake2Hasher as hash_db::Hasher>::hash(&node).as_slice()
                });
                if !valid {
                    return Err(StorageError::InvalidBatch {
                        hash,
                        reason: format!(
                            "state delta entry {} is not keyed by its node's hash",
                            crate::state::hex_bytes(&key)
                        ),
                    });
                }
                let count = count.unsigned_abs();
                if pruning {
                    journal.inserted.push((key.clone(), count));
                }
                self.nodes.insert(key, node, count);
            } else if count < 0 && pruning {
                journal.removed.push((key, count.unsigned_abs()));
            }
        }
        if pruning {
            self.journals.insert(hash, Some(journal));
        }
        Ok(())
    }

    /// Makes block `hash` (whose parent is stored) the best block: points the
    /// canonical index at its chain back to the common ancestor with the old
    /// best chain and drops the entries above it.
    fn set_best(&mut self, header: &Header, hash: H256) -> Result<(), StorageError> {
        let (old_best, _) = self
            .store
            .best()?
            .ok_or_else(|| StorageError::corrupt("best block pointer is missing"))?;
        let mut route = vec![(header.number, hash)];
        let mut number = header.number;
        let mut next = header.parent_hash;
        // Walk back until the chain meets the canonical index.
        let ancestor = loop {
            number = number.checked_sub(1).ok_or_else(|| {
                StorageError::corrupt(format!("chain of block {hash} does not reach genesis"))
            })?;
            if self.store.hash_of(number)? == Some(next) {
                break number;
            }
            route.push((number, next));
            let header = self.store.header(next)?.ok_or_else(|| {
                StorageError::corrupt(format!("ancestor {next} of block {hash} is not stored"))
            })?;
            next = header.parent_hash;
        };
        let (finalized, _) = self
            .store
            .finalized()?
            .ok_or_else(|| StorageError::corrupt("finalized block pointer is missing"))?;
        if ancestor < finalized {
            return Err(StorageError::RevertsFinalized {
                hash,
                ancestor,
                finalized,
            });
        }
        if route.len() > 1 {
            tracing::info!(
                target: "qstack::storage",
                number = header.number,
                %hash,
                ancestor,
                retracted = old_best.saturating_sub(ancestor),
                "reorganised best chain"
            );
        }
        for stale in header.number.saturating_add(1)..=old_best {
            self.canon.insert(stale, None);
        }
        for (number, hash) in route {
            self.canon.insert(number, Some(hash));
        }
        self.tx
            .put(columns::META, meta::BEST, &(header.number, hash).encode());
        Ok(())
    }

    /// Prunes every height that leaves the window now that the best block is
    /// at `best` (steps 1–3 of the crate documentation).
    fn prune(&mut self, best: BlockNumber) -> Result<(), StorageError> {
        let Some(window) = self.store.window() else {
            return Ok(());
        };
        let start: BlockNumber = self
            .store
            .meta(meta::PRUNE_NEXT)?
            .ok_or_else(|| StorageError::corrupt("pruning progress is missing"))?;
        let mut height = start;
        while u64::from(height) + u64::from(window.get()) <= u64::from(best) {
            self.prune_height(height)?;
            height += 1;
        }
        if height != start {
            self.tx
                .put(columns::META, meta::PRUNE_NEXT, &height.encode());
            tracing::debug!(
                target: "qstack::storage",
                from = start,
                to = height,
                "pruned states"
            );
        }
        Ok(())
    }

    /// Drops the state of the best-chain block at `height` and the forks
    /// that branch off it.
    fn prune_height(&mut self, height: BlockNumber) -> Result<(), StorageError> {
        let missing = |number| {
            StorageError::corrupt(format!("canonical index has no block #{number} to prune"))
        };
        let pruned = self.canonical(height)?.ok_or_else(|| missing(height))?;
        let kept = self
            .canonical(height + 1)?
            .ok_or_else(|| missing(height + 1))?;
        for child in self.children(pruned)? {
            if child != kept {
                self.discard(child)?;
            }
        }
        let journal = self.journal(kept)?.ok_or_else(|| {
            StorageError::corrupt(format!(
                "journal of kept block #{} {kept} is missing",
                height + 1
            ))
        })?;
        for (key, count) in journal.removed {
            self.nodes.release(key, count);
        }
        self.journals.insert(kept, Some(Journal::default()));
        self.journals.insert(pruned, None);
        Ok(())
    }

    /// Discards block `root` and all its descendants: releases what their
    /// states added and deletes their journals. Headers and bodies stay.
    fn discard(&mut self, root: H256) -> Result<(), StorageError> {
        let mut pending = vec![root];
        while let Some(hash) = pending.pop() {
            if let Some(journal) = self.journal(hash)? {
                for (key, count) in journal.inserted {
                    self.nodes.release(key, count);
                }
                self.journals.insert(hash, None);
                tracing::debug!(target: "qstack::storage", %hash, "discarded fork block state");
            }
            pending.extend(self.children(hash)?);
        }
        Ok(())
    }

    /// The canonical index as this commit leaves it.
    fn canonical(&self, number: BlockNumber) -> Result<Option<H256>, StorageError> {
        match self.canon.get(&number) {
            Some(entry) => Ok(*entry),
            None => self.store.hash_of(number),
        }
    }

    /// A journal as this commit leaves it.
    fn journal(&self, hash: H256) -> Result<Option<Journal>, StorageError> {
        if let Some(entry) = self.journals.get(&hash) {
            return Ok(entry.clone());
        }
        let Some(bytes) = self.store.inner.db.get(columns::JOURNAL, hash.as_ref())? else {
            return Ok(None);
        };
        Journal::decode_all(&mut bytes.as_slice())
            .map(Some)
            .map_err(|error| {
                StorageError::corrupt(format!(
                    "pruning journal of {hash} does not decode: {error}"
                ))
            })
    }

    /// Children of `hash`, including those this commit adds.
    fn children(&self, hash: H256) -> Result<Vec<H256>, StorageError> {
        let mut children = children_in(&*self.store.inner.db, hash)?;
        children.extend(
            self.new_children
                .iter()
                .filter(|(parent, _)| *parent == hash)
                .map(|(_, child)| *child),
        );
        Ok(children)
    }

    /// Writes the whole commit as one transaction.
    fn write(mut self) -> Result<(), StorageError> {
        let db = &*self.store.inner.db;
        let cache_update = self.nodes.write(db, &mut self.tx)?;
        for (number, hash) in &self.canon {
            match hash {
                Some(hash) => self
                    .tx
                    .put(columns::CANONICAL, &number.to_be_bytes(), hash.as_ref()),
                None => self.tx.delete(columns::CANONICAL, &number.to_be_bytes()),
            }
        }
        for (hash, journal) in &self.journals {
            match journal {
                Some(journal) => self
                    .tx
                    .put_vec(columns::JOURNAL, hash.as_ref(), journal.encode()),
                None => self.tx.delete(columns::JOURNAL, hash.as_ref()),
            }
        }
        for (parent, child) in &self.new_children {
            let mut key = Vec::with_capacity(64);
            key.extend_from_slice(parent.as_ref());
            key.extend_from_slice(child.as_ref());
            self.tx.put(columns::CHILDREN, &key, &[]);
        }
        db.write(self.tx)?;
        cache_update.apply(&self.store.inner.nodes);
        Ok(())
    }
}
