//! The one shell every consensus engine runs in: [`Shell<E>`] carries out an
//! [`Engine`]'s actions with the node's client, pool and network, in order,
//! and feeds back what happened. Engines are pure ([`qstack_consensus`]); all
//! I/O is here, the same for every engine:
//!
//! - `BuildBlock`: off the async loop, on the named parent (else the best
//!   block), from the named pool transactions (else all ready ones), with
//!   the timestamp, the engine's inherent data and the parent's stored
//!   justification (`*b"parjust0"`: on BFT the parent's commit certificate,
//!   Tendermint's `LastCommit`, so the runtime learns who signed it),
//!   naming our author; paced so a block's time is at least the parent's
//!   plus `pace_ms`. Answered with `Built`/`BuildFailed`; the block is kept
//!   until imported.
//! - `ShareBlock`: gossips a block's body on the consensus topic with the
//!   engine's proof (the signed proposal naming it), and keeps it for peers
//!   that fetch it by hash. Peers' bodies arrive checked by the network
//!   ([`wire_check`]: the body matches its header's extrinsics root and the
//!   engine accepts the proof), are kept once (never overwritten) and
//!   served to others in turn.
//! - `CheckBlock`: executes a peer's block off the loop without storing it
//!   (once its body is here: a missing body is fetched by hash from peers,
//!   again every [`REFETCH_MS`] until it comes) and answers `Checked`; the
//!   result is kept, so importing it later does not execute it again.
//! - `ImportBlock`: stores a kept block with its justification (final at
//!   once under instant finality), updates the pool, announces it and tells
//!   the engine `BlockImported`.
//! - `SetBest`, `Finalize`: the client's fork choice and finality.
//! - `Broadcast`: gossips an engine message; `Persist`: writes through the
//!   engine's [`Durable`] store and completes before any later action, so
//!   nothing is sent that a crash could make the engine forget (a
//!   `Persist::Block` hands it the block's body; the bodies it kept come
//!   back when the shell starts, checked like a peer's).
//! - `Report`: logs the offence (the engine keeps evidence for its blocks).
//! - `WakeAt`: a tick then; with none due, a tick every `idle_tick_ms`.
//!
//! Inputs besides the answers: peers' consensus messages (with the real
//! peer id), blocks that arrive by sync (from the client's best-block
//! notifications) and the pool's "transactions ready".

use crate::clock::{block_time, now_ms, parent_time};
use crate::rpc::AtBlock;
use crate::TxPool;
use anyhow::{Context, Result};
use codec::{Decode, Encode};
use qstack_client::{BuiltBlock, Client};
use qstack_consensus::{
    Action, Durable, Engine, Finality, GossipCheck, InherentItem, Input, Peer, Persist, Verdict,
};
use qstack_consensus_primitives::PARENT_JUSTIFICATION_INHERENT;
use qstack_core::{AccountId, H256};
use qstack_network::protocol::{decode_capped, MAX_GOSSIP_BYTES};
use qstack_network::{ConsensusCheck, ConsensusInbox, ConsensusMessage, NetworkHandle};
use qstack_runtime_primitives::{Digest, OpaqueBlock, TransactionValidityError};
use qstack_txpool::TxHash;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What travels on the consensus topic, for every engine.
#[derive(Encode, Decode)]
pub enum Wire {
    /// An engine message (engine-defined bytes).
    #[codec(index = 0)]
    Msg(Vec<u8>),
    /// The body of a block an engine shared, with the engine's proof that
    /// it was proposed.
    #[codec(index = 1)]
    Block {
        /// The block.
        block: OpaqueBlock,
        /// The engine's proof ([`Action::ShareBlock`]).
        proof: Vec<u8>,
    },
}

/// The network's check of the consensus topic for an engine's `check`:
/// strict decoding under the gossip cap, then an engine message goes to
/// the engine's check; a block body must match its header's extrinsics root
/// (else it is a bad copy: rejected, never stored) and carry a proof the
/// engine accepts.
pub fn wire_check(check: Arc<dyn GossipCheck>) -> ConsensusCheck {
    ConsensusCheck(Arc::new(move |bytes: &[u8]| {
        match decode_capped::<Wire>(bytes, MAX_GOSSIP_BYTES) {
            Err(e) => Verdict::Reject(format!("consensus message: {e}")),
            Ok(Wire::Msg(m)) => check.message(&m),
            Ok(Wire::Block { block, proof }) => {
                if !block.body_matches_header() {
                    return Verdict::Reject(format!(
                        "block body of #{} ({}) does not match its header",
                        block.header.number,
                        block.header.hash()
                    ));
                }
                check.block(&block.header.hash(), u64::from(block.header.number), &proof)
            }
        }
    }))
}

/// How the shell runs an engine.
#[derive(Clone, Debug)]
pub struct ShellConfig {
    /// Whether this node may build blocks (else `BuildBlock` fails at once).
    pub author: bool,
    /// Named in the blocks we build (paid the author's share of fees).
    pub author_account: Option<AccountId>,
    /// Least time between a parent's timestamp and its child's build (ms).
    pub pace_ms: u64,
    /// Tick interval when the engine asked for no wake-up (ms).
    pub idle_tick_ms: u64,
    /// A peer's block whose timestamp is more than this ahead of our clock
    /// (ms) is checked invalid (`None`: no bound).
    pub max_future_ms: Option<u64>,
    /// Seal the blocks we build with this key (the dev engine's author
    /// seal, [`crate::dev::seal`]).
    pub seal: Option<qstack_core::Pair>,
}

impl Default for ShellConfig {
    fn default() -> Self {
        Self {
            author: true,
            author_account: None,
            pace_ms: 0,
            idle_tick_ms: 200,
            max_future_ms: None,
            seal: None,
        }
    }
}

/// Peers' blocks kept at most for checking (per final block they extend).
/// Only bodies an engine's proof binds to a proposer get here (a few per
/// round), so this is a memory bound, not a slot anyone can fill.
const MAX_SHARED_BLOCKS: usize = 256;
/// How often a body still missing is asked for again (ms).
pub const REFETCH_MS: u64 = 1_000;
/// Blocks built or checked kept at most (the oldest go first).
const MAX_READY: usize = 64;
/// Own imports remembered, so their best-block notification is not taken
/// for a synced block.
const RECENT_OWN: usize = 16;

/// A block built or checked here, ready to store without running again.
struct Ready {
    built: BuiltBlock,
    /// Pool transactions it refused (they leave the pool on import).
    rejected: Vec<(TxHash, TransactionValidityError)>,
}

/// Work done off the loop.
enum Done {
    Built(u64, Box<Ready>),
    BuildFailed(u64),
    Checked(H256, Option<Box<BuiltBlock>>),
}

/// The generic shell.
pub struct Shell<E: Engine> {
    client: Arc<Client>,
    txpool: Arc<TxPool>,
    network: NetworkHandle,
    engine: E,
    durable: Box<dyn Durable>,
    config: ShellConfig,
    start: Instant,
    wake: Option<u64>,
    /// Peers' shared blocks, by hash.
    shared: HashMap<H256, OpaqueBlock>,
    /// When each missing body was last asked of peers.
    fetched: HashMap<H256, u64>,
    /// Blocks built or checked, by hash, and their order of arrival.
    ready: HashMap<H256, Ready>,
    ready_order: VecDeque<H256>,
    /// `CheckBlock` asked before the body arrived.
    waiting: HashSet<H256>,
    /// `Finalize` of a block not stored yet (it is finalised when it is).
    finalize_after: HashSet<H256>,
    recent_own: VecDeque<H256>,
    /// The runtime's consensus configuration last handed to the engine.
    last_config: Option<Vec<u8>>,
    done_tx: mpsc::UnboundedSender<Done>,
    done_rx: mpsc::UnboundedReceiver<Done>,
}

impl<E: Engine> Shell<E> {
    /// A shell for `engine`, persisting through `durable`.
    pub fn new(
        client: Arc<Client>,
        txpool: Arc<TxPool>,
        network: NetworkHandle,
        engine: E,
        durable: Box<dyn Durable>,
        config: ShellConfig,
    ) -> Self {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        Self {
            client,
            txpool,
            network,
            engine,
            durable,
            config,
            start: Instant::now(),
            wake: None,
            shared: HashMap::new(),
            fetched: HashMap::new(),
            ready: HashMap::new(),
            ready_order: VecDeque::new(),
            waiting: HashSet::new(),
            finalize_after: HashSet::new(),
            recent_own: VecDeque::new(),
            last_config: None,
            done_tx,
            done_rx,
        }
    }

    /// Keeps a built or checked block, dropping the oldest past the bound.
    fn keep_ready(&mut self, hash: H256, ready: Ready) {
        while self.ready_order.len() >= MAX_READY {
            if let Some(old) = self.ready_order.pop_front() {
                self.ready.remove(&old);
            }
        }
        if self.ready.insert(hash, ready).is_none() {
            self.ready_order.push_back(hash);
        }
    }

    /// A block built or checked here, or a peer's shared one.
    fn held(&self, hash: &H256) -> Option<&OpaqueBlock> {
        self.ready
            .get(hash)
            .map(|r| &r.built.block)
            .or_else(|| self.shared.get(hash))
    }

    /// Forgets blocks at or below final block `number`: no proposals any more.
    fn prune(&mut self, number: u32) {
        self.shared.retain(|_, b| b.header.number > number);
        self.fetched.clear();
        self.network.forget_provided(number);
        self.ready
            .retain(|_, r| r.built.block.header.number > number);
        let ready = &self.ready;
        self.ready_order.retain(|h| ready.contains_key(h));
        self.waiting.clear();
    }

    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Runs until `shutdown` resolves (or a durable write fails: the engine
    /// must not go on after losing what it asked to keep).
    pub async fn run(
        mut self,
        mut messages: ConsensusInbox,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<()> {
        // The configuration in force at the height the engine resumes (from
        // the block below the final one) and the next (from the final one),
        // before it starts, so a restart never runs on a stale set.
        let info = self.client.info()?;
        let mut before = Vec::new();
        if info.finalized_number >= 1 {
            if let Some(below) = self.client.hash_of(info.finalized_number - 1)? {
                before.extend(self.config_input(below, info.finalized_number - 1));
            }
        }
        before.extend(self.config_input(info.finalized_hash, info.finalized_number));
        for input in before {
            let out = self.engine.handle(self.now(), input);
            debug_assert!(
                out.is_empty(),
                "a configuration before start acts on nothing"
            );
        }
        self.restore_kept_blocks(info.finalized_hash);
        let started = self.engine.start(self.now());
        self.act(started).await?;
        let mut best = self.client.subscribe_best();
        tokio::pin!(shutdown);
        loop {
            let now = self.now();
            let next = match self.wake {
                Some(w) if w > now => w,
                _ => now.saturating_add(self.config.idle_tick_ms),
            };
            let deadline = tokio::time::Instant::from_std(self.start + Duration::from_millis(next));
            let actions = tokio::select! {
                _ = &mut shutdown => break,
                Some(msg) = messages.recv() => self.on_wire(msg),
                Some(done) = self.done_rx.recv() => self.on_done(done),
                head = best.recv() => match head {
                    Ok(head) => self.on_best(head),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::debug!(target: "qstack::shell", "missed {n} best-block notifications");
                        let info = self.client.info()?;
                        match self.client.header(&info.best_hash)? {
                            Some(h) => self.on_best(h),
                            None => Vec::new(),
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
                _ = self.txpool.ready.notified() => {
                    let count = self.txpool.pool.lock().status().ready;
                    self.engine.handle(self.now(), Input::TransactionsReady { count })
                }
                _ = tokio::time::sleep_until(deadline) => {
                    if self.wake.is_some_and(|w| w <= self.now()) {
                        self.wake = None;
                    }
                    self.refetch();
                    self.engine.handle(self.now(), Input::Tick)
                }
            };
            self.act(actions).await?;
        }
        Ok(())
    }

    /// Takes back the bodies the engine's store kept for this height (a
    /// restart): they are checked as a peer's would be (body matches
    /// header, on the final block) and kept for `CheckBlock`/`ImportBlock`.
    fn restore_kept_blocks(&mut self, finalized: H256) {
        for bytes in self.durable.kept_blocks() {
            match <OpaqueBlock as codec::DecodeAll>::decode_all(&mut &bytes[..]) {
                Ok(block)
                    if block.body_matches_header() && block.header.parent_hash == finalized =>
                {
                    let hash = block.header.hash();
                    tracing::info!(target: "qstack::shell", "restored the body of #{} ({hash}) kept before the restart", block.header.number);
                    self.shared.insert(hash, block);
                }
                Ok(block) => {
                    tracing::warn!(target: "qstack::shell", "a kept body ({}) is not of this height or does not match its header: skipped", block.header.hash())
                }
                Err(e) => {
                    tracing::warn!(target: "qstack::shell", "a kept body does not decode: {e}")
                }
            }
        }
    }

    /// The runtime's consensus configuration in block `hash`'s state (number
    /// `number`) as an input, if it changed since the last one handed over;
    /// it is in force from `number + 2`, as in Tendermint, so every node has
    /// it before it matters. A runtime without the API has none.
    fn config_input(&mut self, hash: H256, number: u32) -> Option<Input> {
        if !self.engine.wants_config() {
            return None;
        }
        // A runtime call: off the async worker's other tasks (RPC) while it runs.
        let client = &self.client;
        let call = || qstack_runtime::apis::client::Consensus::config(&AtBlock(client, hash));
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        let read = if multi_thread {
            tokio::task::block_in_place(call)
        } else {
            call()
        };
        let config = match read {
            Ok(c) => c?,
            Err(e) => {
                tracing::debug!(target: "qstack::shell", "no consensus configuration at #{number}: {e:?}");
                return None;
            }
        };
        if self.last_config.as_ref() == Some(&config) {
            return None;
        }
        self.last_config = Some(config.clone());
        Some(Input::Config {
            number: u64::from(number).saturating_add(2),
            config,
        })
    }

    /// A new best block: ours (already told) or one sync imported.
    fn on_best(&mut self, head: qstack_runtime_primitives::Header) -> Vec<Action> {
        let hash = head.hash();
        if self.recent_own.contains(&hash) {
            return Vec::new();
        }
        if let Ok(info) = self.client.info() {
            self.prune(info.finalized_number);
        }
        if u64::from(head.number) > 0 {
            tracing::debug!(target: "qstack::shell", "synced #{} ({hash})", head.number);
        }
        let mut out = Vec::new();
        if let Some(config) = self.config_input(hash, head.number) {
            out.extend(self.engine.handle(self.now(), config));
        }
        out.extend(self.engine.handle(
            self.now(),
            Input::BlockImported {
                hash,
                number: head.number,
                parent: head.parent_hash,
                best: true,
                own: false,
            },
        ));
        out
    }

    /// Asks peers for the missing bodies the engine waits for, at most once
    /// per [`REFETCH_MS`] each.
    fn refetch(&mut self) {
        let now = self.now();
        for hash in &self.waiting {
            let due = self
                .fetched
                .get(hash)
                .is_none_or(|at| now >= at.saturating_add(REFETCH_MS));
            if due {
                tracing::debug!(target: "qstack::shell", "asking peers for the body of {hash}");
                self.network.fetch_consensus(*hash);
                self.fetched.insert(*hash, now);
            }
        }
    }

    /// A message from the consensus inbox (checked by [`wire_check`]).
    fn on_wire(&mut self, msg: ConsensusMessage) -> Vec<Action> {
        let wire = match decode_capped::<Wire>(&msg.bytes, MAX_GOSSIP_BYTES) {
            Ok(w) => w,
            Err(e) => {
                tracing::debug!(target: "qstack::shell", "undecodable consensus message from {}: {e}", msg.from);
                return Vec::new();
            }
        };
        match wire {
            Wire::Msg(bytes) => self.engine.handle(
                self.now(),
                Input::Message {
                    from: Peer(msg.from.to_bytes()),
                    bytes,
                },
            ),
            Wire::Block { block, .. } => {
                self.keep_shared(block, msg.bytes);
                Vec::new()
            }
        }
    }

    /// Keeps a peer's block that extends the final chain (once: a copy
    /// never replaces it), bounded, serves it to peers that ask, and checks
    /// it if the engine is waiting for it. The inbox carries only what
    /// passed [`wire_check`], so the body matches its header already.
    fn keep_shared(&mut self, block: OpaqueBlock, wire: Vec<u8>) {
        let Ok(info) = self.client.info() else {
            return;
        };
        let hash = block.header.hash();
        if block.header.parent_hash != info.finalized_hash
            || self.shared.len() >= MAX_SHARED_BLOCKS
            || self.shared.contains_key(&hash)
            || self.ready.contains_key(&hash)
        {
            return;
        }
        self.network
            .provide_consensus(hash, block.header.number, wire);
        self.shared.insert(hash, block.clone());
        self.fetched.remove(&hash);
        if self.waiting.remove(&hash) {
            self.check(hash, block);
        }
    }

    fn check(&self, hash: H256, block: OpaqueBlock) {
        let (client, tx) = (self.client.clone(), self.done_tx.clone());
        let max_future = self.config.max_future_ms;
        tokio::task::spawn_blocking(move || {
            if let Some(ahead) = max_future.and_then(|d| ahead_of_clock(&block, now_ms(), d)) {
                tracing::info!(target: "qstack::shell", "block {hash} is dated {ahead} ms ahead of our clock: invalid");
                let _ = tx.send(Done::Checked(hash, None));
                return;
            }
            let checked = match client.check_block(block) {
                Ok(b) => Some(Box::new(b)),
                Err(e) => {
                    tracing::info!(target: "qstack::shell", "block {hash} is invalid: {e}");
                    None
                }
            };
            let _ = tx.send(Done::Checked(hash, checked));
        });
    }

    fn build(
        &self,
        request: u64,
        parent: Option<H256>,
        named: Option<Vec<H256>>,
        extra: Vec<InherentItem>,
    ) {
        let (client, txpool, tx) = (
            self.client.clone(),
            self.txpool.clone(),
            self.done_tx.clone(),
        );
        let (pace, author) = (self.config.pace_ms, self.config.author_account);
        let seal = self.config.seal.clone();
        tokio::spawn(async move {
            let parent = match parent {
                Some(p) => p,
                None => match client.info() {
                    Ok(i) => i.best_hash,
                    Err(_) => return,
                },
            };
            // Pace blocks: not before the parent's time + the pace.
            let prev = parent_time(&client, &parent);
            let due = prev.saturating_add(pace);
            let now = now_ms();
            if pace > 0 && due > now && prev > 0 {
                tokio::time::sleep(Duration::from_millis((due - now).min(pace))).await;
            }
            let built = tokio::task::spawn_blocking(move || {
                let mut ready = build_block(&client, &txpool, parent, named, extra, author)?;
                if let Some(pair) = &seal {
                    let genesis = client.info()?.genesis_hash;
                    crate::dev::seal(pair, &genesis, &mut ready.built.block.header);
                }
                Ok::<_, anyhow::Error>(ready)
            })
            .await;
            let done = match built {
                Ok(Ok(b)) => Done::Built(request, Box::new(b)),
                Ok(Err(e)) => {
                    tracing::error!(target: "qstack::shell", "cannot build a block: {e:#}");
                    Done::BuildFailed(request)
                }
                Err(e) => {
                    tracing::error!(target: "qstack::shell", "block builder failed: {e}");
                    Done::BuildFailed(request)
                }
            };
            let _ = tx.send(done);
        });
    }

    fn on_done(&mut self, done: Done) -> Vec<Action> {
        match done {
            Done::Built(request, ready) => {
                let header = &ready.built.block.header;
                let (hash, number) = (header.hash(), header.number);
                self.keep_ready(hash, *ready);
                self.engine.handle(
                    self.now(),
                    Input::Built {
                        request,
                        hash,
                        number,
                    },
                )
            }
            Done::BuildFailed(request) => self
                .engine
                .handle(self.now(), Input::BuildFailed { request }),
            Done::Checked(hash, checked) => {
                let valid = checked.is_some();
                if let Some(b) = checked {
                    self.keep_ready(
                        hash,
                        Ready {
                            built: *b,
                            rejected: Vec::new(),
                        },
                    );
                }
                self.engine
                    .handle(self.now(), Input::Checked { hash, valid })
            }
        }
    }

    /// Stores a kept block (or a peer's shared one) with its proof; `None`
    /// if it is not here (sync will bring it).
    async fn import(&mut self, hash: H256, justification: Option<Vec<u8>>) -> Result<Vec<Input>> {
        let finalized = matches!(self.engine.finality(), Finality::Instant)
            || self.finalize_after.remove(&hash);
        let client = self.client.clone();
        let (block, rejected, outcome) = match self.ready.remove(&hash) {
            Some(Ready { built, rejected }) => {
                self.ready_order.retain(|h| *h != hash);
                let block = built.block.clone();
                let outcome = tokio::task::spawn_blocking(move || {
                    client.commit_built(built, justification, finalized)
                })
                .await??;
                (block, rejected, outcome)
            }
            None => match self.shared.remove(&hash) {
                Some(b) => {
                    let block = b.clone();
                    let outcome = tokio::task::spawn_blocking(move || {
                        client.import_block(b, justification, finalized)
                    })
                    .await??;
                    (block, Vec::new(), outcome)
                }
                None => {
                    tracing::warn!(target: "qstack::shell", "block {hash} to import is not here; sync will fetch it");
                    return Ok(Vec::new());
                }
            },
        };
        let best = match outcome {
            qstack_client::ImportOutcome::Imported { best } => best,
            qstack_client::ImportOutcome::AlreadyKnown => return Ok(Vec::new()),
        };
        let header = block.header;
        tracing::debug!(target: "qstack::shell", "imported #{} ({hash}) with {} extrinsics", header.number, block.extrinsics.len());
        let included: Vec<TxHash> = block
            .extrinsics
            .iter()
            .map(|x| qstack_client::extrinsic_hash(&x.0))
            .collect();
        if best {
            self.txpool
                .on_imported(&self.client, hash, &included, &rejected, finalized);
        }
        if self.recent_own.len() >= RECENT_OWN {
            self.recent_own.pop_front();
        }
        self.recent_own.push_back(hash);
        if finalized {
            self.prune(header.number);
        }
        let (number, parent) = (header.number, header.parent_hash);
        self.network.announce_block(header);
        let mut inputs: Vec<Input> = self.config_input(hash, number).into_iter().collect();
        inputs.push(Input::BlockImported {
            hash,
            number,
            parent,
            best,
            own: true,
        });
        // Transactions that became ready while this block was built or
        // imported announced themselves then, to a busy engine, and no later
        // arrival may come to wake it: tell it again now that it is free.
        let count = self.txpool.pool.lock().status().ready;
        if count > 0 {
            inputs.push(Input::TransactionsReady { count });
        }
        Ok(inputs)
    }

    /// Finalises a stored block (later than its import: PoW's depth rule);
    /// one not stored yet is finalised when it is.
    fn finalize(&mut self, hash: H256) -> Result<()> {
        let info = self.client.info()?;
        let Some(header) = self.client.header(&hash)? else {
            self.finalize_after.insert(hash);
            return Ok(());
        };
        if header.number <= info.finalized_number {
            return Ok(());
        }
        self.client
            .finalize(hash, None)
            .with_context(|| format!("finalising #{} ({hash})", header.number))?;
        let included: Vec<TxHash> = match self.client.block(&hash)? {
            Some((b, _)) => b
                .extrinsics
                .iter()
                .map(|x| qstack_client::extrinsic_hash(&x.0))
                .collect(),
            None => Vec::new(),
        };
        self.txpool.on_finalized(hash, &included);
        Ok(())
    }

    /// Carries out actions in order; an answer known at once goes to the
    /// engine right after its action, and the engine's reply joins the end
    /// of the queue.
    async fn act(&mut self, actions: Vec<Action>) -> Result<()> {
        let mut queue: VecDeque<Action> = actions.into();
        while let Some(action) = queue.pop_front() {
            let reply = match action {
                Action::BuildBlock { request, .. } if !self.config.author => {
                    vec![Input::BuildFailed { request }]
                }
                Action::BuildBlock {
                    request,
                    parent,
                    transactions,
                    inherents,
                } => {
                    self.build(request, parent, transactions, inherents);
                    Vec::new()
                }
                Action::ShareBlock { hash, proof } => {
                    match self.held(&hash) {
                        Some(block) => {
                            let number = block.header.number;
                            let wire = Wire::Block {
                                block: block.clone(),
                                proof,
                            }
                            .encode();
                            self.network.provide_consensus(hash, number, wire.clone());
                            self.network.broadcast_consensus(wire);
                        }
                        None => {
                            tracing::warn!(target: "qstack::shell", "the engine shares block {hash}, which is not here (peers fetch it from who has it)")
                        }
                    }
                    Vec::new()
                }
                Action::CheckBlock { hash } => {
                    if self.ready.contains_key(&hash) {
                        // Built or checked here already.
                        vec![Input::Checked { hash, valid: true }]
                    } else {
                        match self.shared.get(&hash) {
                            Some(b) => self.check(hash, b.clone()),
                            None => {
                                self.waiting.insert(hash);
                                self.refetch();
                            }
                        }
                        Vec::new()
                    }
                }
                Action::ImportBlock {
                    hash,
                    justification,
                } => self.import(hash, justification).await?,
                Action::SetBest(hash) => {
                    if let Err(e) = self.client.set_best(hash) {
                        tracing::warn!(target: "qstack::shell", "cannot make {hash} the best block: {e}");
                    }
                    Vec::new()
                }
                Action::Finalize(hash) => {
                    self.finalize(hash)?;
                    Vec::new()
                }
                Action::Broadcast(bytes) => {
                    self.network.broadcast_consensus(Wire::Msg(bytes).encode());
                    Vec::new()
                }
                Action::Persist(Persist::Block(hash)) => {
                    match self.held(&hash) {
                        Some(block) => self
                            .durable
                            .keep_block(&hash, &block.encode())
                            .map_err(anyhow::Error::msg)
                            .context("a durable write failed; refusing to go on")?,
                        None => {
                            tracing::debug!(target: "qstack::shell", "the engine keeps block {hash}, whose body is not here (checked before a restart)")
                        }
                    }
                    Vec::new()
                }
                Action::Persist(p) => {
                    self.durable
                        .persist(&p)
                        .map_err(anyhow::Error::msg)
                        .context("a durable write failed; refusing to go on")?;
                    Vec::new()
                }
                Action::Report(bytes) => {
                    tracing::warn!(target: "qstack::shell", "offence reported by the engine ({} bytes): it goes on chain in our next blocks", bytes.len());
                    Vec::new()
                }
                Action::WakeAt(at) => {
                    self.wake = Some(at);
                    Vec::new()
                }
            };
            for input in reply {
                let more = self.engine.handle(self.now(), input);
                queue.extend(more);
            }
        }
        Ok(())
    }
}

/// The time block `block` says it was made (its timestamp inherent).
pub fn block_timestamp(block: &OpaqueBlock) -> Option<u64> {
    use qstack_runtime::{timestamp, RuntimeCall};
    block.extrinsics.iter().find_map(|x| {
        let xt = qstack_runtime::Extrinsic::decode_strict(&x.0, RuntimeCall::is_known).ok()?;
        match (xt.signature, xt.function) {
            (None, RuntimeCall::Timestamp(timestamp::Call::Set { now })) => Some(now),
            _ => None,
        }
    })
}

/// How far (ms) `block`'s timestamp is ahead of `now`, if by more than
/// `drift`: such a block is not valid here yet (a proposer cannot push the
/// chain's clock into the future). A block without a timestamp is left to
/// the runtime, which refuses it.
pub fn ahead_of_clock(block: &OpaqueBlock, now: u64, drift: u64) -> Option<u64> {
    let ahead = block_timestamp(block)?.checked_sub(now)?;
    (ahead > drift).then_some(ahead)
}

/// The inherent data of a block built on `parent`: the engine's `extra`
/// items, the parent's justification exactly as stored (under
/// [`PARENT_JUSTIFICATION_INHERENT`], unless the engine passed an item under
/// that id: the engine's word wins; none for a parent without one, such as
/// genesis or a dev block), and the timestamp (always the shell's).
pub(crate) fn inherent_data(
    client: &Client,
    parent: &H256,
    extra: Vec<InherentItem>,
) -> Result<BTreeMap<[u8; 8], Vec<u8>>> {
    let mut inherents: BTreeMap<[u8; 8], Vec<u8>> = extra.into_iter().collect();
    // The store's own read: the parent's body is not needed.
    let justification = client
        .store()
        .justification(*parent)
        .with_context(|| format!("reading the justification of the parent {parent}"))?;
    if let Some(j) = justification {
        inherents.entry(PARENT_JUSTIFICATION_INHERENT).or_insert(j);
    }
    inherents.insert(
        qstack_runtime::timestamp::INHERENT_IDENTIFIER,
        block_time(client, parent).encode(),
    );
    Ok(inherents)
}

/// Builds a block on `parent` from the named pool transactions (else all
/// ready ones), with the timestamp, the parent's justification and `extra`
/// inherent data ([`inherent_data`]).
fn build_block(
    client: &Client,
    txpool: &TxPool,
    parent: H256,
    named: Option<Vec<H256>>,
    extra: Vec<InherentItem>,
    author: Option<AccountId>,
) -> Result<Ready> {
    let ready = txpool.pool.lock().ready();
    let chosen: Vec<(TxHash, Arc<Vec<u8>>)> = match named {
        None => ready,
        Some(hashes) => {
            let by_hash: HashMap<TxHash, Arc<Vec<u8>>> = ready.into_iter().collect();
            hashes
                .iter()
                .map(|h| {
                    by_hash
                        .get(h)
                        .map(|b| (*h, b.clone()))
                        .with_context(|| format!("transaction {h} is not ready in the pool"))
                })
                .collect::<Result<_>>()?
        }
    };
    let txs: Vec<Arc<Vec<u8>>> = chosen.iter().map(|(_, b)| b.clone()).collect();
    let inherents = inherent_data(client, &parent, extra)?;
    let digest = author.as_ref().map(Digest::with_author).unwrap_or_default();
    let started = std::time::Instant::now();
    let built = client.build_block(&parent, &inherents, digest, &txs)?;
    crate::metrics::global()
        .build
        .observe(started.elapsed().as_secs_f64());
    let rejected = built
        .rejected
        .iter()
        .filter_map(|(i, e)| chosen.get(*i).map(|(h, _)| (*h, *e)))
        .collect();
    Ok(Ready { built, rejected })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain_spec::ChainSpec;
    use qstack_core::{KeyScheme, Pair};
    use qstack_executor::{Executor, ExecutorConfig};
    use qstack_runtime::signing::{sign, ChainContext, TxOptions};
    use qstack_runtime::{tokens, RuntimeCall};

    fn transfer(from: &str, ctx: &ChainContext) -> Vec<u8> {
        let pair = Pair::from_suri(KeyScheme::Sr25519, from).unwrap();
        let call = RuntimeCall::Tokens(tokens::Call::Transfer {
            dest: qstack_core::AccountId([9; 32]),
            value: 1_000_000,
            dest_tag: None,
        });
        let opts = TxOptions {
            include_key: true,
            ..TxOptions::nonce(0)
        };
        sign(&pair, call, ctx, &opts).encode()
    }

    #[test]
    fn a_block_built_from_named_transactions_holds_exactly_those() {
        let spec = ChainSpec::load("dev").unwrap();
        let executor = Arc::new(Executor::new(ExecutorConfig::default()).unwrap());
        let client = crate::client_on(&executor, &spec.genesis_source().unwrap(), None).unwrap();
        let info = client.info().unwrap();
        let ctx = ChainContext::new(info.genesis_hash);
        let txpool = TxPool::new();
        let alice = txpool
            .submit_external(&client, transfer("//Alice", &ctx))
            .unwrap();
        let bob = txpool
            .submit_external(&client, transfer("//Bob", &ctx))
            .unwrap();
        let hashes = |r: &Ready| -> Vec<H256> {
            r.built
                .block
                .extrinsics
                .iter()
                .map(|x| qstack_client::extrinsic_hash(&x.0))
                .collect()
        };
        let parent = info.best_hash;
        // Everything ready when none are named.
        let all = build_block(&client, &txpool, parent, None, Vec::new(), None).unwrap();
        assert!(hashes(&all).contains(&alice) && hashes(&all).contains(&bob));
        // Only Bob's when only Bob's is named (inherents aside).
        let named =
            build_block(&client, &txpool, parent, Some(vec![bob]), Vec::new(), None).unwrap();
        assert!(hashes(&named).contains(&bob));
        assert!(!hashes(&named).contains(&alice));
        assert_eq!(named.built.included, vec![0]);
        // A transaction the pool does not have fails the build, naming it.
        let missing = H256([5; 32]);
        let err = build_block(
            &client,
            &txpool,
            parent,
            Some(vec![bob, missing]),
            Vec::new(),
            None,
        )
        .err()
        .expect("refused");
        assert!(format!("{err:#}").contains(&missing.to_string()), "{err:#}");
        // (The engine's own inherent data reaching the runtime is shown by
        // `bft::tests`: caught double signs are recorded on chain.)
    }

    #[test]
    fn a_block_built_on_a_parent_with_a_justification_passes_it_as_inherent_data() {
        use qstack_runtime::timestamp::INHERENT_IDENTIFIER as TIMESTAMP;
        let spec = ChainSpec::load("dev").unwrap();
        let executor = Arc::new(Executor::new(ExecutorConfig::default()).unwrap());
        let client = crate::client_on(&executor, &spec.genesis_source().unwrap(), None).unwrap();
        let txpool = TxPool::new();
        let genesis = client.info().unwrap().best_hash;
        // Genesis (like every dev block) has no justification: none is passed.
        let on_genesis = inherent_data(&client, &genesis, Vec::new()).unwrap();
        assert_eq!(
            on_genesis.keys().copied().collect::<Vec<_>>(),
            vec![TIMESTAMP]
        );
        // Block 1, stored with a justification (on BFT: its certificate).
        let one = build_block(&client, &txpool, genesis, None, Vec::new(), None).unwrap();
        let hash = one.built.block.header.hash();
        let certificate = b"the commit certificate of #1".to_vec();
        client
            .commit_built(one.built, Some(certificate.clone()), true)
            .unwrap();
        let on_one = inherent_data(&client, &hash, Vec::new()).unwrap();
        assert_eq!(
            on_one.get(&PARENT_JUSTIFICATION_INHERENT),
            Some(&certificate),
            "the bytes exactly as stored"
        );
        assert!(on_one.contains_key(&TIMESTAMP));
        // An item the engine passed under the same id is not overwritten;
        // the engine's other items go through.
        let engine_items = vec![
            (PARENT_JUSTIFICATION_INHERENT, vec![7]),
            (*b"proposer", 2u32.encode()),
        ];
        let theirs = inherent_data(&client, &hash, engine_items).unwrap();
        assert_eq!(theirs.get(&PARENT_JUSTIFICATION_INHERENT), Some(&vec![7]));
        assert_eq!(theirs.get(b"proposer"), Some(&2u32.encode()));
        // Today's runtime ignores the item: the block on #1 builds.
        let two = build_block(&client, &txpool, hash, None, Vec::new(), None).unwrap();
        assert_eq!(two.built.block.header.number, 2);
    }

    #[test]
    fn a_block_dated_beyond_the_drift_bound_is_not_valid_yet() {
        let spec = ChainSpec::load("dev").unwrap();
        let executor = Arc::new(Executor::new(ExecutorConfig::default()).unwrap());
        let client = crate::client_on(&executor, &spec.genesis_source().unwrap(), None).unwrap();
        let parent = client.info().unwrap().best_hash;
        let now = now_ms();
        let dated = |t: u64| {
            let inherents =
                BTreeMap::from([(qstack_runtime::timestamp::INHERENT_IDENTIFIER, t.encode())]);
            client
                .build_block(&parent, &inherents, Digest::default(), &[])
                .unwrap()
                .block
        };
        let on_time = dated(now);
        assert_eq!(block_timestamp(&on_time), Some(now));
        assert_eq!(ahead_of_clock(&on_time, now, 5_000), None);
        // Within the bound: fine; beyond it: refused, saying by how much.
        assert_eq!(ahead_of_clock(&dated(now + 4_000), now, 5_000), None);
        assert_eq!(
            ahead_of_clock(&dated(now + 3_600_000), now, 5_000),
            Some(3_600_000)
        );
        // A block with no timestamp is the runtime's to refuse.
        let mut bare = on_time.clone();
        bare.extrinsics.clear();
        assert_eq!(ahead_of_clock(&bare, now, 0), None);
    }
}
