//! The BFT engine's shell: drives the pure Tendermint core
//! (`qstack_consensus::bft`) with the node's client, pool and network.
//! Proposals carry their block over gossip; `valid(v)` executes the block
//! without storing it; a decision commits the block with its commit
//! certificate as justification, final at once. The signer's high-water mark
//! is persisted before anything it signed is sent, and every proposal and
//! vote, ours and received, goes to a WAL first; a restart replays it.

use super::{block_time, parent_time, TxPool};
use anyhow::{Context, Result};
use codec::{Decode, Encode};
use qstack_client::{BuiltBlock, Client};
use qstack_consensus::bft::store::{SignerStore, Wal, WalRecord};
use qstack_consensus::bft::{
    BftAction, BftConfig, BftInput, CommitCertificate, Message, Tendermint, ValidatorSet,
};
use qstack_core::{AccountId, Pair, H256};
use qstack_network::protocol::{decode_capped, MAX_GOSSIP_BYTES};
use qstack_network::{ConsensusMessage, NetworkHandle};
use qstack_runtime_primitives::{Digest, Header, OpaqueBlock};
use qstack_txpool::TxHash;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What travels on the consensus topic.
#[derive(Encode, Decode)]
enum Wire {
    /// A Tendermint message (proposal, vote, certificate, status).
    #[codec(index = 0)]
    Msg(Vec<u8>),
    /// The block a proposal names.
    #[codec(index = 1)]
    Block(OpaqueBlock),
}

/// Everything the BFT shell runs with.
pub struct BftParams {
    /// The validator set (from the chain spec until staking lands).
    pub set: ValidatorSet,
    /// Timeouts.
    pub config: BftConfig,
    /// Least time between blocks (ms).
    pub block_time_ms: u64,
    /// Our consensus key, if we are a validator.
    pub key: Option<Pair>,
    /// Where the signer state and the WAL live.
    pub dir: PathBuf,
    /// Named as author in our blocks.
    pub author: Option<AccountId>,
}

/// Checks a BFT justification: a commit certificate for exactly this block,
/// signed by > 2/3 of the set's power.
pub fn verify_justification(
    genesis: &H256,
    set: &ValidatorSet,
    header: &Header,
    justification: Option<&[u8]>,
) -> Result<(), String> {
    let bytes = justification.ok_or("no commit certificate")?;
    let cert = <CommitCertificate as codec::DecodeAll>::decode_all(&mut &bytes[..])
        .map_err(|e| format!("commit certificate does not decode: {e}"))?;
    if cert.value != header.hash() || cert.height != u64::from(header.number) {
        return Err(format!(
            "commit certificate is for #{} {}, not this block",
            cert.height, cert.value
        ));
    }
    cert.verify(genesis, set)
        .map_err(|e| format!("commit certificate: {e:?}"))
}

/// Results of work done off the loop.
enum Done {
    Built(u64, u32, Box<BuiltBlock>),
    Checked(H256, Option<Box<BuiltBlock>>),
}

struct Shell {
    client: Arc<Client>,
    txpool: Arc<TxPool>,
    network: NetworkHandle,
    params: BftParams,
    genesis: H256,
    core: Tendermint,
    signer: SignerStore,
    wal: Wal,
    start: Instant,
    wake: Option<u64>,
    /// Proposed blocks seen for the current height, by hash.
    blocks: HashMap<H256, OpaqueBlock>,
    /// Blocks built or checked, ready to commit without running again.
    ready: HashMap<H256, BuiltBlock>,
    /// `valid(v)` asked before the block arrived.
    waiting: HashSet<H256>,
    done_tx: mpsc::UnboundedSender<Done>,
}

const MAX_BLOCKS_PER_HEIGHT: usize = 32;

impl Shell {
    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn new_core(&self, height: u64) -> Tendermint {
        Tendermint::new(
            self.params.config.clone(),
            self.genesis,
            self.params.set.advanced(height.saturating_sub(1)),
            self.params.key.clone(),
            height,
            self.signer.stored(),
        )
    }

    /// Moves to `height` (when sync imported past us).
    fn enter(&mut self, height: u64) -> Result<Vec<BftAction>> {
        self.core = self.new_core(height);
        self.forget_height(height)?;
        Ok(self.core.start(self.now()))
    }

    /// Starts the WAL of `height` and drops the blocks of the height before.
    fn forget_height(&mut self, height: u64) -> Result<()> {
        self.wal.truncate_for(height)?;
        self.blocks.clear();
        self.ready.clear();
        self.waiting.clear();
        Ok(())
    }

    fn on_wire(&mut self, msg: ConsensusMessage) -> Vec<BftAction> {
        let wire = match decode_capped::<Wire>(&msg.bytes, MAX_GOSSIP_BYTES) {
            Ok(w) => w,
            Err(e) => {
                tracing::debug!(target: "qstack::bft", "undecodable consensus message from {}: {e}", msg.from);
                return Vec::new();
            }
        };
        match wire {
            Wire::Msg(bytes) => {
                match Message::decode_strict(&bytes) {
                    Some(m @ (Message::Proposal(_) | Message::Vote(_))) => {
                        if let Err(e) = self.wal.append(&WalRecord::Received(m)) {
                            tracing::warn!(target: "qstack::bft", "WAL: {e}");
                        }
                    }
                    Some(_) => {}
                    None => return Vec::new(),
                }
                self.core.handle(self.now(), BftInput::Message(bytes))
            }
            Wire::Block(block) => {
                let info = match self.client.info() {
                    Ok(i) => i,
                    Err(_) => return Vec::new(),
                };
                let hash = block.header.hash();
                if u64::from(block.header.number) != self.core.height()
                    || block.header.parent_hash != info.finalized_hash
                    || self.blocks.len() >= MAX_BLOCKS_PER_HEIGHT
                {
                    return Vec::new();
                }
                self.blocks.insert(hash, block.clone());
                if self.waiting.remove(&hash) {
                    self.check(hash, block);
                }
                Vec::new()
            }
        }
    }

    fn check(&self, hash: H256, block: OpaqueBlock) {
        let (client, tx) = (self.client.clone(), self.done_tx.clone());
        tokio::task::spawn_blocking(move || {
            let checked = match client.check_block(block) {
                Ok(b) => Some(Box::new(b)),
                Err(e) => {
                    tracing::info!(target: "qstack::bft", "proposed block {hash} is invalid: {e}");
                    None
                }
            };
            let _ = tx.send(Done::Checked(hash, checked));
        });
    }

    fn build(&self, height: u64, round: u32) {
        let (client, txpool, tx) = (
            self.client.clone(),
            self.txpool.clone(),
            self.done_tx.clone(),
        );
        let (wait, author) = (self.params.block_time_ms, self.params.author);
        tokio::spawn(async move {
            let parent = match client.info() {
                Ok(i) => i.finalized_hash,
                Err(_) => return,
            };
            // Pace blocks: not before the parent's time + block time.
            let prev = parent_time(&client, &parent);
            let due = prev.saturating_add(wait);
            let now = super::now_ms();
            if due > now && prev > 0 {
                tokio::time::sleep(Duration::from_millis((due - now).min(wait))).await;
            }
            let built = tokio::task::spawn_blocking(move || -> Result<BuiltBlock> {
                let ready = txpool.pool.lock().ready();
                let txs: Vec<Arc<Vec<u8>>> = ready.iter().map(|(_, b)| b.clone()).collect();
                let mut inherents = BTreeMap::new();
                inherents.insert(
                    qstack_runtime::timestamp::INHERENT_IDENTIFIER,
                    block_time(&client, &parent).encode(),
                );
                let digest = author.as_ref().map(Digest::with_author).unwrap_or_default();
                Ok(client.build_block(&parent, &inherents, digest, &txs)?)
            })
            .await;
            match built {
                Ok(Ok(b)) => {
                    let _ = tx.send(Done::Built(height, round, Box::new(b)));
                }
                Ok(Err(e)) => tracing::error!(target: "qstack::bft", "cannot build a block: {e:#}"),
                Err(e) => tracing::error!(target: "qstack::bft", "block builder failed: {e}"),
            }
        });
    }

    fn on_done(&mut self, done: Done) -> Vec<BftAction> {
        match done {
            Done::Built(height, round, built) => {
                let hash = built.block.header.hash();
                let block = built.block.clone();
                self.ready.insert(hash, *built);
                self.network
                    .broadcast_consensus(Wire::Block(block.clone()).encode());
                self.blocks.insert(hash, block);
                self.core.handle(
                    self.now(),
                    BftInput::Value {
                        height,
                        round,
                        value: hash,
                    },
                )
            }
            Done::Checked(hash, checked) => {
                let valid = checked.is_some();
                if let Some(b) = checked {
                    self.ready.insert(hash, *b);
                }
                self.core
                    .handle(self.now(), BftInput::Validity { value: hash, valid })
            }
        }
    }

    /// Commits the decided block (final, with its certificate).
    async fn commit(&mut self, cert: CommitCertificate) -> Result<()> {
        let hash = cert.value;
        let justification = Some(cert.encode());
        let client = self.client.clone();
        let block = match self.ready.remove(&hash) {
            Some(b) => {
                let header = b.block.header.clone();
                let extrinsics = b.block.extrinsics.clone();
                tokio::task::spawn_blocking(move || client.commit_built(b, justification, true))
                    .await??;
                Some(OpaqueBlock { header, extrinsics })
            }
            None => match self.blocks.remove(&hash) {
                Some(b) => {
                    let block = b.clone();
                    tokio::task::spawn_blocking(move || {
                        client.import_block(b, justification, true)
                    })
                    .await??;
                    Some(block)
                }
                None => {
                    tracing::warn!(target: "qstack::bft", "decided block {hash} is not here; sync will fetch it");
                    None
                }
            },
        };
        if let Some(block) = block {
            tracing::info!(target: "qstack::bft", "committed #{} ({hash}) in round {} with {} signatures", block.header.number, cert.round, cert.precommits.len());
            let included: Vec<TxHash> = block
                .extrinsics
                .iter()
                .map(|x| qstack_client::extrinsic_hash(&x.0))
                .collect();
            self.txpool
                .on_imported(&self.client, hash, &included, &[], true);
            self.network.announce_block(block.header);
        }
        Ok(())
    }

    /// Carries out actions in order (persisting before sending).
    async fn act(&mut self, actions: Vec<BftAction>) -> Result<()> {
        let mut queue: std::collections::VecDeque<BftAction> = actions.into();
        while let Some(action) = queue.pop_front() {
            match action {
                BftAction::RequestValue { height, round } => self.build(height, round),
                BftAction::CheckValue { value, .. } => match self.blocks.get(&value) {
                    Some(b) => self.check(value, b.clone()),
                    None => {
                        self.waiting.insert(value);
                    }
                },
                BftAction::PersistSigner(state) => self
                    .signer
                    .persist(&state)
                    .context("persisting the BFT signer state (refusing to sign on)")?,
                BftAction::Broadcast(bytes) => {
                    if let Some(m @ (Message::Proposal(_) | Message::Vote(_))) =
                        Message::decode_strict(&bytes)
                    {
                        self.wal
                            .append(&WalRecord::Sent(m))
                            .context("writing our message to the WAL before sending it")?;
                    }
                    self.network.broadcast_consensus(Wire::Msg(bytes).encode());
                }
                BftAction::Commit(cert) => {
                    let next = cert.height.saturating_add(1);
                    self.commit(cert).await?;
                    // The core is at the next height already.
                    self.forget_height(next)?;
                }
                BftAction::Evidence(e) => {
                    tracing::warn!(target: "qstack::bft", "double signing by validator {}: {e:?}", e.offender());
                }
                BftAction::WakeAt(at) => self.wake = Some(at),
            }
        }
        Ok(())
    }
}

/// Runs the BFT engine until `shutdown` resolves.
pub async fn run(
    client: Arc<Client>,
    txpool: Arc<TxPool>,
    network: NetworkHandle,
    mut messages: mpsc::Receiver<ConsensusMessage>,
    params: BftParams,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    std::fs::create_dir_all(&params.dir)
        .with_context(|| format!("creating {}", params.dir.display()))?;
    let info = client.info()?;
    let (signer, stored) = SignerStore::open(params.dir.join("signer"))?;
    let (wal, contents) = Wal::open(params.dir.join("wal"))?;
    let height = u64::from(info.finalized_number) + 1;
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    if let Some(k) = &params.key {
        match params.set.index_of(&k.public()) {
            Some(i) => {
                tracing::info!(target: "qstack::bft", "validator #{i} of {}", params.set.len())
            }
            None => {
                tracing::warn!(target: "qstack::bft", "--validator: our key is not in the validator set; observing only")
            }
        }
    }
    let core = Tendermint::new(
        params.config.clone(),
        info.genesis_hash,
        params.set.advanced(height.saturating_sub(1)),
        params.key.clone(),
        height,
        stored.unwrap_or_default(),
    );
    let mut shell = Shell {
        client: client.clone(),
        txpool,
        network,
        genesis: info.genesis_hash,
        core,
        signer,
        wal,
        start: Instant::now(),
        wake: None,
        blocks: HashMap::new(),
        ready: HashMap::new(),
        waiting: HashSet::new(),
        done_tx,
        params,
    };
    let mut actions = shell.core.start(shell.now());
    if contents.height == Some(height) {
        tracing::info!(target: "qstack::bft", "replaying {} WAL records at height {height}", contents.records.len());
        for r in contents.records {
            let (WalRecord::Received(m) | WalRecord::Sent(m)) = r;
            actions.extend(
                shell
                    .core
                    .handle(shell.now(), BftInput::Message(m.encode())),
            );
        }
    } else {
        shell.wal.truncate_for(height)?;
    }
    shell.act(actions).await?;
    let mut finalized = client.subscribe_finalized();
    tokio::pin!(shutdown);
    loop {
        // The core announces a wake-up time only when it changes, so the
        // shell keeps it; once it is past, it ticks every 200 ms until the
        // core names the next one.
        let now = shell.now();
        let next = match shell.wake {
            Some(w) if w > now => w,
            _ => now + 200,
        };
        let deadline = tokio::time::Instant::from_std(shell.start + Duration::from_millis(next));
        let actions = tokio::select! {
            _ = &mut shutdown => break,
            Some(msg) = messages.recv() => shell.on_wire(msg),
            Some(done) = done_rx.recv() => shell.on_done(done),
            Ok(head) = finalized.recv() => {
                // Sync imported blocks past the core's height: catch up.
                let number = u64::from(head.number);
                if number >= shell.core.height() {
                    tracing::info!(target: "qstack::bft", "synced to #{number}; consensus moves to #{}", number + 1);
                    shell.enter(number + 1)?
                } else {
                    Vec::new()
                }
            }
            _ = tokio::time::sleep_until(deadline) => shell.core.handle(shell.now(), BftInput::Tick),
        };
        shell.act(actions).await?;
    }
    Ok(())
}
