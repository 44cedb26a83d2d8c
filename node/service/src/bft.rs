//! The BFT engine's shell: drives [`BftEngine`] (the pure Tendermint core
//! behind the [`Engine`] trait) with the node's client, pool and network,
//! carrying out its actions in order. Proposals carry their block over
//! gossip; `CheckBlock` executes the block without storing it;
//! `ImportBlock` commits it with its commit certificate as justification,
//! final at once. `Persist` writes the signer's high-water mark and the WAL
//! before anything after it is sent; a restart replays the WAL. `Report`ed
//! double signs are checked and put in the next blocks this node proposes
//! (inherent data `evidence`), where the runtime records them.

use crate::clock::{block_time, now_ms, parent_time};
use crate::TxPool;
use anyhow::{Context, Result};
use codec::{Decode, Encode};
use qstack_client::{BuiltBlock, Client};
use qstack_consensus::bft::store::{SignerStore, Wal, WalRecord};
use qstack_consensus::bft::{
    BftConfig, BftEngine, CommitCertificate, Evidence, SignerState, ValidatorSet,
};
use qstack_consensus::{Action, Engine, Input, Persist};
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

/// Starts a BFT node's network on a free loopback port, for benchmarks and
/// tests that run several validators in one process: the consensus topic on,
/// no Kademlia, no mDNS, `boot` dialled, synced blocks checked against `set`.
/// Returns the handle, the consensus messages and the node's dial address.
pub async fn loopback_network(
    client: Arc<Client>,
    txpool: Arc<TxPool>,
    set: &ValidatorSet,
    boot: Option<&str>,
) -> Result<(NetworkHandle, mpsc::Receiver<ConsensusMessage>, String)> {
    let mut cfg = qstack_network::NetworkConfig::new(
        qstack_network::node_key::generate(),
        vec!["/ip4/127.0.0.1/tcp/0".parse()?],
    );
    cfg.kademlia = false;
    cfg.mdns = false;
    cfg.consensus_messages = true;
    cfg.boot_nodes = boot.iter().map(|b| b.parse()).collect::<Result<_, _>>()?;
    let (chain, set) = (client.info()?.genesis_hash, set.clone());
    let justify: crate::Justify = Arc::new(move |h, j| verify_justification(&chain, &set, h, j));
    let (net, msgs) = qstack_network::start(
        cfg,
        Arc::new(crate::NetChain {
            client,
            txpool: Some(txpool),
            finalize_on_import: true,
            justify: Some(justify),
        }),
    )?;
    let address = net
        .dial_address(Duration::from_secs(10))
        .await
        .context("the node did not start listening")?;
    Ok((net, msgs, address))
}

/// Results of work done off the loop.
enum Done {
    Built(u64, Box<BuiltBlock>),
    BuildFailed(u64),
    Checked(H256, Option<Box<BuiltBlock>>),
}

/// Double signs kept to offer to the chain at most (oldest dropped first).
const MAX_PENDING_EVIDENCE: usize = 64;

struct Shell {
    client: Arc<Client>,
    txpool: Arc<TxPool>,
    network: NetworkHandle,
    params: BftParams,
    engine: BftEngine,
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
    /// Checked double signs to put in the blocks we build, with their height.
    evidence: Vec<(u64, Evidence)>,
    done_tx: mpsc::UnboundedSender<Done>,
}

const MAX_BLOCKS_PER_HEIGHT: usize = 32;

impl Shell {
    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Starts the WAL of `height` and drops the blocks of the height before.
    fn forget_height(&mut self, height: u64) -> Result<()> {
        self.wal.truncate_for(height)?;
        self.blocks.clear();
        self.ready.clear();
        self.waiting.clear();
        Ok(())
    }

    fn on_wire(&mut self, msg: ConsensusMessage) -> Vec<Action> {
        let wire = match decode_capped::<Wire>(&msg.bytes, MAX_GOSSIP_BYTES) {
            Ok(w) => w,
            Err(e) => {
                tracing::debug!(target: "qstack::bft", "undecodable consensus message from {}: {e}", msg.from);
                return Vec::new();
            }
        };
        match wire {
            Wire::Msg(bytes) => self
                .engine
                .handle(self.now(), Input::Message { from: 0, bytes }),
            Wire::Block(block) => {
                let info = match self.client.info() {
                    Ok(i) => i,
                    Err(_) => return Vec::new(),
                };
                let hash = block.header.hash();
                if u64::from(block.header.number) != self.engine.height()
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

    fn build(&self, request: u64) {
        let (client, txpool, tx) = (
            self.client.clone(),
            self.txpool.clone(),
            self.done_tx.clone(),
        );
        let evidence: Vec<Evidence> = self.evidence.iter().map(|(_, e)| e.clone()).collect();
        let (wait, author) = (self.params.block_time_ms, self.params.author);
        tokio::spawn(async move {
            let parent = match client.info() {
                Ok(i) => i.finalized_hash,
                Err(_) => return,
            };
            // Pace blocks: not before the parent's time + block time.
            let prev = parent_time(&client, &parent);
            let due = prev.saturating_add(wait);
            let now = now_ms();
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
                if !evidence.is_empty() {
                    // The runtime keeps what is new and valid (at most 16).
                    inherents.insert(
                        qstack_runtime::evidence::INHERENT_IDENTIFIER,
                        evidence.encode(),
                    );
                }
                let digest = author.as_ref().map(Digest::with_author).unwrap_or_default();
                Ok(client.build_block(&parent, &inherents, digest, &txs)?)
            })
            .await;
            let done = match built {
                Ok(Ok(b)) => Done::Built(request, Box::new(b)),
                Ok(Err(e)) => {
                    tracing::error!(target: "qstack::bft", "cannot build a block: {e:#}");
                    Done::BuildFailed(request)
                }
                Err(e) => {
                    tracing::error!(target: "qstack::bft", "block builder failed: {e}");
                    Done::BuildFailed(request)
                }
            };
            let _ = tx.send(done);
        });
    }

    fn on_done(&mut self, done: Done) -> Vec<Action> {
        match done {
            Done::Built(request, built) => {
                let hash = built.block.header.hash();
                let number = built.block.header.number;
                let block = built.block.clone();
                self.ready.insert(hash, *built);
                self.network
                    .broadcast_consensus(Wire::Block(block.clone()).encode());
                self.blocks.insert(hash, block);
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
                    self.ready.insert(hash, *b);
                }
                self.engine
                    .handle(self.now(), Input::Checked { hash, valid })
            }
        }
    }

    /// Keeps a double sign the engine caught (the core verified both
    /// messages) for the blocks we propose; the runtime checks it again and
    /// keeps only what is new and valid, so nothing is checked here.
    fn keep_evidence(&mut self, bytes: &[u8]) {
        let height = self.engine.height();
        if let Ok(e) = <Evidence as codec::DecodeAll>::decode_all(&mut &bytes[..]) {
            tracing::warn!(target: "qstack::bft", "double signing by validator {} at height {height}: reporting it on chain", e.offender());
            if !self.evidence.iter().any(|(_, k)| *k == e) {
                if self.evidence.len() >= MAX_PENDING_EVIDENCE {
                    self.evidence.remove(0);
                }
                self.evidence.push((height, e));
            }
        }
        // What the chain would refuse as too old goes.
        let age = qstack_runtime::evidence::MAX_EVIDENCE_AGE;
        self.evidence
            .retain(|(h, _)| h.saturating_add(age) >= height);
    }

    /// Commits the decided block (final, with its certificate).
    async fn commit(&mut self, hash: H256, justification: Option<Vec<u8>>) -> Result<()> {
        let cert = justification
            .as_deref()
            .and_then(|j| <CommitCertificate as codec::DecodeAll>::decode_all(&mut &j[..]).ok());
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
            if let Some(cert) = &cert {
                tracing::info!(target: "qstack::bft", "committed #{} ({hash}) in round {} with {} signatures", block.header.number, cert.round, cert.precommits.len());
            }
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
    async fn act(&mut self, actions: Vec<Action>) -> Result<()> {
        let mut queue: std::collections::VecDeque<Action> = actions.into();
        while let Some(action) = queue.pop_front() {
            match action {
                Action::BuildBlock { request, .. } => self.build(request),
                Action::CheckBlock { hash } => match self.blocks.get(&hash) {
                    Some(b) => self.check(hash, b.clone()),
                    None => {
                        self.waiting.insert(hash);
                    }
                },
                Action::Persist(Persist::State(bytes)) => {
                    let state = <SignerState as codec::DecodeAll>::decode_all(&mut &bytes[..])
                        .context("the engine's signer state does not decode")?;
                    self.signer
                        .persist(&state)
                        .context("persisting the BFT signer state (refusing to sign on)")?
                }
                Action::Persist(Persist::Append(bytes)) => {
                    let record = <WalRecord as codec::DecodeAll>::decode_all(&mut &bytes[..])
                        .context("the engine's WAL record does not decode")?;
                    self.wal
                        .append(&record)
                        .context("writing to the WAL before acting on it")?;
                }
                Action::Persist(Persist::NewLog(height)) => self.forget_height(height)?,
                Action::Broadcast(bytes) => {
                    self.network.broadcast_consensus(Wire::Msg(bytes).encode());
                }
                Action::ImportBlock {
                    hash,
                    justification,
                } => self.commit(hash, justification).await?,
                // Imported final (instant finality): nothing more to do.
                Action::Finalize(_) => {}
                Action::SetBest(hash) => {
                    tracing::warn!(target: "qstack::bft", "the BFT engine never reorganises; ignoring SetBest({hash})")
                }
                Action::Report(bytes) => self.keep_evidence(&bytes),
                Action::WakeAt(at) => self.wake = Some(at),
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
    let replay = if contents.height == Some(height) {
        tracing::info!(target: "qstack::bft", "replaying {} WAL records at height {height}", contents.records.len());
        contents.records
    } else {
        Vec::new()
    };
    let stale_wal = contents.height != Some(height);
    let engine = BftEngine::new(
        params.config.clone(),
        info.genesis_hash,
        params.set.clone(),
        params.key.clone(),
        height,
        stored.unwrap_or_default(),
        replay,
    );
    let mut shell = Shell {
        client: client.clone(),
        txpool,
        network,
        engine,
        signer,
        wal,
        start: Instant::now(),
        wake: None,
        blocks: HashMap::new(),
        ready: HashMap::new(),
        waiting: HashSet::new(),
        evidence: Vec::new(),
        done_tx,
        params,
    };
    if stale_wal {
        shell.wal.truncate_for(height)?;
    }
    let actions = shell.engine.start(shell.now());
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
                // Sync imported blocks past the core's height: the engine
                // catches up (ours, one below its height, change nothing).
                if u64::from(head.number) >= shell.engine.height() {
                    tracing::info!(target: "qstack::bft", "synced to #{}; consensus moves to #{}", head.number, head.number + 1);
                }
                let input = Input::BlockImported {
                    hash: head.hash(),
                    number: head.number,
                    parent: head.parent_hash,
                    best: true,
                    own: false,
                };
                shell.engine.handle(shell.now(), input)
            }
            _ = tokio::time::sleep_until(deadline) => shell.engine.handle(shell.now(), Input::Tick),
        };
        shell.act(actions).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Four validators in one process (each with its own database, pool,
    //! libp2p network on loopback and BFT shell), and a fifth node that
    //! gossips two conflicting prevotes signed by validator 2: the
    //! validators see the double sign, the next proposer puts it in a block
    //! and the runtime records it.

    use super::*;
    use crate::chain_spec::{BftSpec, ChainSpec, ConsensusSpec, LOCAL_BFT_KEYS as KEYS};
    use crate::client_on;
    use qstack_consensus::bft::{Message, SignedVote, Vote, VoteKind};
    use qstack_core::KeyScheme;
    use qstack_executor::{Executor, ExecutorConfig};

    fn offences(client: &Client) -> u32 {
        let Ok(info) = client.info() else { return 0 };
        let key = qstack_runtime::evidence::OffenceCount::key();
        client
            .storage(&info.finalized_hash, &key)
            .ok()
            .flatten()
            .and_then(|b| u32::decode(&mut &b[..]).ok())
            .unwrap_or(0)
    }

    #[test]
    fn a_double_sign_seen_on_the_network_is_recorded_on_chain() {
        let spec = ChainSpec::load("local-bft").unwrap();
        let ConsensusSpec::Bft(BftSpec { timeouts, .. }) = &spec.consensus else {
            panic!("local-bft is a bft spec")
        };
        let config = timeouts.config();
        let set = spec.consensus.bft_validators().unwrap().unwrap();
        let genesis = spec.genesis_source().unwrap();
        let executor = Arc::new(Executor::new(ExecutorConfig::default()).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let clients: Vec<Arc<Client>> = (0..5)
            .map(|i| {
                Arc::new(
                    client_on(
                        &executor,
                        &genesis,
                        Some(&dir.path().join(format!("n{i}/db"))),
                    )
                    .unwrap(),
                )
            })
            .collect();
        let chain = clients[0].info().unwrap().genesis_hash;
        let rt = tokio::runtime::Runtime::new().unwrap();
        let base = dir.path().to_path_buf();
        let recorded = rt.block_on(async move {
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let mut boot: Option<String> = None;
            let mut nets = Vec::new();
            for (i, client) in clients.iter().enumerate() {
                let txpool = Arc::new(TxPool::new());
                let (net, msgs, address) =
                    loopback_network(client.clone(), txpool.clone(), &set, boot.as_deref())
                        .await
                        .unwrap();
                boot.get_or_insert(address);
                nets.push(net.clone());
                if i == 4 {
                    // The fifth node only gossips; drain what it receives.
                    let mut msgs = msgs;
                    tokio::spawn(async move { while msgs.recv().await.is_some() {} });
                    continue;
                }
                let (suri, scheme) = KEYS[i];
                let params = BftParams {
                    set: set.clone(),
                    config: config.clone(),
                    // Long heights: the forged votes land in the height they name.
                    block_time_ms: 2000,
                    key: Some(Pair::from_suri(scheme, suri).unwrap()),
                    dir: base.join(format!("n{i}/bft")),
                    author: None,
                };
                let mut stop = stop_rx.clone();
                tokio::spawn(run(client.clone(), txpool, net, msgs, params, async move {
                    let _ = stop.changed().await;
                }));
            }
            let charlie = Pair::from_suri(KeyScheme::Sr25519, "//Charlie").unwrap();
            let index = set.index_of(&charlie.public()).unwrap();
            let deadline = Instant::now() + Duration::from_secs(120);
            let mut forged = 0u32;
            while Instant::now() < deadline {
                if clients[..4].iter().all(|c| offences(c) > 0) {
                    break;
                }
                let height = u64::from(clients[0].info().unwrap().finalized_number) + 1;
                if height > 1 {
                    for value in [H256([1; 32]), H256([2; 32])] {
                        let vote = Vote {
                            height,
                            round: 0,
                            kind: VoteKind::Prevote,
                            value: Some(value),
                            validator: index,
                        };
                        let m = Message::Vote(SignedVote::sign(&charlie, &chain, vote));
                        nets[4].broadcast_consensus(Wire::Msg(m.encode()).encode());
                    }
                    forged += 1;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let counts: Vec<u32> = clients[..4].iter().map(|c| offences(c)).collect();
            let heights: Vec<u32> = clients
                .iter()
                .map(|c| c.info().unwrap().finalized_number)
                .collect();
            let _ = stop_tx.send(true);
            (counts, heights, forged)
        });
        rt.shutdown_timeout(Duration::from_secs(5));
        let (counts, heights, forged) = recorded;
        assert!(
            counts.iter().all(|c| *c > 0),
            "offences recorded per validator {counts:?} after {forged} forged pairs; heights {heights:?}"
        );
        // The chain went on deciding blocks.
        assert!(heights[..4].iter().all(|h| *h >= 2), "{heights:?}");
    }
}
