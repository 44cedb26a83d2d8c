//! The networking shell: one tokio task owns the libp2p swarm and carries
//! out what the sync core and the reputation book decide. Blocks are
//! imported on a dedicated thread, requests are served and gossiped
//! transactions validated on the blocking pool, so the swarm never waits on
//! the runtime or the database.

use crate::codec::FrameCodec;
use crate::consensus::{
    ConsensusCheck, ConsensusInbox, ConsensusMessage, InboxSender, Pending, PendingConsensus,
    Provided,
};
use crate::protocol::{
    decode_capped, fields, BlockAnnounce, BlockData, BlockRequest, Direction, FromBlock, Names,
    Refusal, Request, Response, Status, TransactionBatch, BATCH_FLUSH_BYTES,
    MAX_BATCH_TRANSACTIONS, MAX_BLOCKS_PER_REQUEST, MAX_GOSSIP_BYTES, MAX_REQUEST_BYTES,
    MAX_RESPONSE_BYTES, SOFT_RESPONSE_BYTES,
};
use crate::reputation::{change, Millis, PeerBook, RateLimiter, Verdict};
use crate::sync::{ImportResult, SyncAction, SyncConfig, SyncCore, SyncInput, SyncStatus};
use codec::Encode;
use futures::StreamExt;
use libp2p::swarm::{behaviour::toggle::Toggle, NetworkBehaviour, SwarmEvent};
use libp2p::{
    gossipsub, identify, identity::Keypair, kad, mdns, multiaddr::Protocol, noise,
    request_response, tcp, yamux, Multiaddr, PeerId, StreamProtocol, Swarm,
};
use parking_lot::RwLock;
use qstack_consensus::Verdict as Checked;
use qstack_core::H256;
use qstack_runtime_primitives::Header;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What the network needs from the chain.
pub trait ChainApi: Send + Sync + 'static {
    /// Genesis, best and finalised blocks.
    fn status(&self) -> Status;
    /// Canonical hash at `number`.
    fn hash_of(&self, number: u32) -> Result<Option<H256>, String>;
    /// A stored block with its body and justification.
    fn block(&self, hash: &H256) -> Result<Option<BlockData>, String>;
    /// Imports a block from a peer (executes and checks it).
    fn import(&self, block: BlockData) -> ImportResult;
    /// A transaction from gossip: put it in the pool.
    fn transaction(&self, bytes: Vec<u8>) -> GossipVerdict;
}

/// What became of a gossiped message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GossipVerdict {
    /// Valid and new: forward it.
    Accept,
    /// Known already, or not checkable now: do not forward, blame nobody.
    Ignore,
    /// Invalid: do not forward, lower the sender's score.
    Reject,
}

/// Networking settings.
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    /// The node's identity.
    pub keypair: Keypair,
    /// Addresses to listen on.
    pub listen: Vec<Multiaddr>,
    /// Peers to dial at start and whenever disconnected (`/…/p2p/<id>`).
    pub boot_nodes: Vec<Multiaddr>,
    /// Discover peers on the local network by mDNS.
    pub mdns: bool,
    /// Discover peers through the Kademlia DHT.
    pub kademlia: bool,
    /// Most inbound peers.
    pub in_peers: usize,
    /// Most outbound peers.
    pub out_peers: usize,
    /// Sync requests served per peer per second (bursts up to twice that).
    pub requests_per_second: u32,
    /// The agent string peers see (identify).
    pub agent: String,
    /// Sync tunables.
    pub sync: SyncConfig,
    /// The engine's check of consensus messages, if it takes any: the node
    /// subscribes to their topic and forwards only what passes it.
    pub consensus: Option<ConsensusCheck>,
}

impl NetworkConfig {
    /// Defaults for `keypair` listening on `listen`.
    pub fn new(keypair: Keypair, listen: Vec<Multiaddr>) -> Self {
        NetworkConfig {
            keypair,
            listen,
            boot_nodes: Vec::new(),
            mdns: false,
            kademlia: true,
            in_peers: 25,
            out_peers: 15,
            requests_per_second: 40,
            agent: format!("qstack/{}", env!("CARGO_PKG_VERSION")),
            sync: SyncConfig::default(),
            consensus: None,
        }
    }
}

/// Why the network could not start.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The transport could not be built.
    #[error("transport: {0}")]
    Transport(String),
    /// A listen address could not be bound.
    #[error("cannot listen on {addr}: {why}")]
    Listen {
        /// The address.
        addr: Multiaddr,
        /// Why.
        why: String,
    },
    /// A behaviour could not be built.
    #[error("{0}")]
    Behaviour(String),
}

/// A peer as the RPC shows it.
#[derive(Clone, Debug)]
pub struct PeerSnapshot {
    /// Its id.
    pub peer_id: PeerId,
    /// Whether it dialled us.
    pub inbound: bool,
    /// The address of the connection.
    pub address: Multiaddr,
    /// Its agent string, once identified.
    pub agent: Option<String>,
    /// Its best block, once known.
    pub best: Option<(u32, H256)>,
    /// Its reputation score.
    pub score: i32,
}

/// The network's state, refreshed twice a second.
#[derive(Clone, Debug, Default)]
pub struct NetworkSnapshot {
    /// Addresses we listen on.
    pub listen_addrs: Vec<Multiaddr>,
    /// Addresses others observed us at.
    pub external_addrs: Vec<Multiaddr>,
    /// Connected peers.
    pub peers: Vec<PeerSnapshot>,
    /// Sync progress.
    pub sync: SyncStatus,
    /// Peers banned now.
    pub banned: usize,
}

enum Command {
    PublishTransaction(Vec<u8>),
    Announce(Header),
    Consensus(Vec<u8>),
    LocalBest(u32, H256),
    /// Keep a shared body's message for peers that fetch it.
    Provide(H256, u32, Vec<u8>),
    /// Forget kept bodies at or below this number.
    ForgetProvided(u32),
    /// Ask peers for a body by hash.
    Fetch(H256),
}

/// The node's handle on its network (cheap to clone).
#[derive(Clone)]
pub struct NetworkHandle {
    commands: mpsc::UnboundedSender<Command>,
    snapshot: Arc<RwLock<NetworkSnapshot>>,
    local_peer_id: PeerId,
}

impl NetworkHandle {
    /// Gossips a transaction submitted to this node.
    pub fn publish_transaction(&self, bytes: Vec<u8>) {
        let _ = self.commands.send(Command::PublishTransaction(bytes));
    }

    /// Announces a block this node authored (and tells sync about it).
    pub fn announce_block(&self, header: Header) {
        let _ = self
            .commands
            .send(Command::LocalBest(header.number, header.hash()));
        let _ = self.commands.send(Command::Announce(header));
    }

    /// Gossips a consensus-engine message.
    pub fn broadcast_consensus(&self, bytes: Vec<u8>) {
        let _ = self.commands.send(Command::Consensus(bytes));
    }

    /// Keeps `bytes` (the consensus message carrying block `hash`'s body,
    /// number `number`) for peers that ask for it by hash.
    pub fn provide_consensus(&self, hash: H256, number: u32, bytes: Vec<u8>) {
        let _ = self.commands.send(Command::Provide(hash, number, bytes));
    }

    /// Forgets the bodies kept for blocks at or below `number`.
    pub fn forget_provided(&self, number: u32) {
        let _ = self.commands.send(Command::ForgetProvided(number));
    }

    /// Asks connected peers for block `hash`'s shared body; an answer
    /// arrives as a consensus message, checked like gossip.
    pub fn fetch_consensus(&self, hash: H256) {
        let _ = self.commands.send(Command::Fetch(hash));
    }

    /// The latest snapshot.
    pub fn snapshot(&self) -> NetworkSnapshot {
        self.snapshot.read().clone()
    }

    /// Our peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    /// Our first listen address as a dialable `…/p2p/<peer id>`, waiting up
    /// to `timeout` for the listener to come up.
    pub async fn dial_address(&self, timeout: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(a) = self.snapshot().listen_addrs.first() {
                return Some(format!("{a}/p2p/{}", self.local_peer_id));
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[derive(NetworkBehaviour)]
struct Behaviour {
    identify: identify::Behaviour,
    gossip: gossipsub::Behaviour,
    sync: request_response::Behaviour<FrameCodec>,
    kad: Toggle<kad::Behaviour<kad::store::MemoryStore>>,
    mdns: Toggle<mdns::tokio::Behaviour>,
}

/// Transactions and announcements are identified by content (the same
/// transaction from two nodes is one message); consensus messages by sender
/// and sequence number, because engines re-send their messages on purpose
/// (lossy links) and each re-send must travel.
fn message_id(m: &gossipsub::Message) -> gossipsub::MessageId {
    let h = if m.topic.as_str().ends_with("/consensus/1") {
        let mut bytes = m.source.map(|p| p.to_bytes()).unwrap_or_default();
        bytes.extend_from_slice(&m.sequence_number.unwrap_or(0).to_le_bytes());
        bytes.extend_from_slice(&m.data);
        qstack_io::hashing::blake2_256(&bytes)
    } else {
        qstack_io::hashing::blake2_256(&m.data)
    };
    gossipsub::MessageId::from(h.get(..16).unwrap_or(&h[..]).to_vec())
}

fn build_swarm(cfg: &NetworkConfig, names: &Names) -> Result<Swarm<Behaviour>, NetworkError> {
    let local = cfg.keypair.public().to_peer_id();
    let sync_protocol = StreamProtocol::try_from_owned(names.sync.clone())
        .map_err(|e| NetworkError::Behaviour(e.to_string()))?;
    let kad_protocol = StreamProtocol::try_from_owned(names.kad.clone())
        .map_err(|e| NetworkError::Behaviour(e.to_string()))?;
    let (mdns_on, kad_on) = (cfg.mdns, cfg.kademlia);
    let identify_cfg = identify::Config::new(names.identify.clone(), cfg.keypair.public())
        .with_agent_version(cfg.agent.clone());
    let swarm = libp2p::SwarmBuilder::with_existing_identity(cfg.keypair.clone())
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| NetworkError::Transport(e.to_string()))?
        .with_behaviour(move |key| {
            let gossip_cfg = gossipsub::ConfigBuilder::default()
                .max_transmit_size(MAX_GOSSIP_BYTES)
                .validation_mode(gossipsub::ValidationMode::Strict)
                .validate_messages()
                .message_id_fn(message_id)
                .heartbeat_interval(Duration::from_millis(700))
                .build()
                .map_err(|e| e.to_string())?;
            let gossip = gossipsub::Behaviour::new(
                gossipsub::MessageAuthenticity::Signed(key.clone()),
                gossip_cfg,
            )?;
            let sync = request_response::Behaviour::new(
                [(sync_protocol, request_response::ProtocolSupport::Full)],
                request_response::Config::default()
                    .with_request_timeout(Duration::from_secs(20))
                    .with_max_concurrent_streams(64),
            );
            let kad = kad_on.then(|| {
                let mut k = kad::Behaviour::with_config(
                    local,
                    kad::store::MemoryStore::new(local),
                    kad::Config::new(kad_protocol),
                );
                k.set_mode(Some(kad::Mode::Server));
                k
            });
            let mdns = if mdns_on {
                Some(mdns::tokio::Behaviour::new(mdns::Config::default(), local)?)
            } else {
                None
            };
            Ok(Behaviour {
                identify: identify::Behaviour::new(identify_cfg),
                gossip,
                sync,
                kad: Toggle::from(kad),
                mdns: Toggle::from(mdns),
            })
        })
        .map_err(|e| NetworkError::Behaviour(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    Ok(swarm)
}

/// Starts the network on the current tokio runtime. Returns the handle and
/// the stream of consensus messages from peers.
pub fn start(
    cfg: NetworkConfig,
    chain: Arc<dyn ChainApi>,
) -> Result<(NetworkHandle, ConsensusInbox), NetworkError> {
    let status = chain.status();
    let names = Names::for_genesis(&status.genesis);
    let mut swarm = build_swarm(&cfg, &names)?;
    for addr in &cfg.listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|e| NetworkError::Listen {
                addr: addr.clone(),
                why: e.to_string(),
            })?;
    }
    let topics = Topics {
        transactions: gossipsub::IdentTopic::new(names.transactions.clone()),
        blocks: gossipsub::IdentTopic::new(names.blocks.clone()),
        consensus: gossipsub::IdentTopic::new(names.consensus.clone()),
    };
    let mut subscribe = vec![&topics.transactions, &topics.blocks];
    if cfg.consensus.is_some() {
        subscribe.push(&topics.consensus);
    }
    for t in subscribe {
        swarm
            .behaviour_mut()
            .gossip
            .subscribe(t)
            .map_err(|e| NetworkError::Behaviour(e.to_string()))?;
    }
    let local_peer_id = *swarm.local_peer_id();
    let (commands, command_rx) = mpsc::unbounded_channel();
    let (consensus_tx, consensus_rx) = ConsensusInbox::new();
    let snapshot = Arc::new(RwLock::new(NetworkSnapshot::default()));
    let (import_tx, import_results) = spawn_importer(chain.clone());
    let (work_tx, work_rx) = mpsc::unbounded_channel();
    let boot: Vec<(PeerId, Multiaddr)> = cfg
        .boot_nodes
        .iter()
        .filter_map(|a| match a.iter().last() {
            Some(Protocol::P2p(p)) => Some((p, a.clone())),
            _ => None,
        })
        .collect();
    let limiter = RateLimiter::new(cfg.requests_per_second);
    let consensus_check = cfg.consensus.clone();
    let worker = Worker {
        consensus_check,
        sync: SyncCore::new(cfg.sync.clone(), status.best_number, status.best_hash),
        cfg,
        swarm,
        chain,
        topics,
        genesis: status.genesis,
        book: PeerBook::default(),
        peers: HashMap::new(),
        outbound: HashMap::new(),
        limiter,
        serving: HashMap::new(),
        pending_txs: PendingTransactions::default(),
        outgoing_txs: (Vec::new(), 0),
        boot,
        start: Instant::now(),
        consensus_tx,
        pending_consensus: PendingConsensus::default(),
        provided: Provided::default(),
        import_tx,
        work_tx,
        snapshot: snapshot.clone(),
        external: HashSet::new(),
    };
    tokio::spawn(worker.run(command_rx, import_results, work_rx));
    Ok((
        NetworkHandle {
            commands,
            snapshot,
            local_peer_id,
        },
        consensus_rx,
    ))
}

/// Requests served at once to one peer.
const MAX_SERVING_PER_PEER: u32 = 2;
/// Requests served at once in all.
const MAX_SERVING: u32 = 16;
/// Gossiped transactions waiting for validation; more are ignored (not
/// forwarded, nobody blamed) until the pool catches up.
const MAX_PENDING_TRANSACTIONS: usize = 8192;
/// Bytes of gossiped transactions waiting for validation.
const MAX_PENDING_TRANSACTION_BYTES: usize = 64 << 20;
/// Gossiped transactions one validation job takes from the queue. One job
/// runs at a time: the pool validates under its lock anyway, and a burst of
/// gossip must not take every blocking thread from block import.
const VALIDATION_BATCH: usize = 256;
/// Peers asked at once for a missing shared body.
const FETCH_FROM: usize = 4;
/// Longest a published transaction waits to be gossiped with others.
const TRANSACTION_FLUSH: Duration = Duration::from_millis(20);

struct Topics {
    transactions: gossipsub::IdentTopic,
    blocks: gossipsub::IdentTopic,
    consensus: gossipsub::IdentTopic,
}

struct PeerEntry {
    inbound: bool,
    address: Multiaddr,
    agent: Option<String>,
    status_pending: bool,
}

enum Outbound {
    Status(PeerId),
    Blocks(u64),
    Consensus(H256),
}

struct ImportJob {
    generation: u64,
    peer: PeerId,
    blocks: Vec<BlockData>,
}

struct ImportDone {
    generation: u64,
    peer: PeerId,
    results: Vec<(u32, H256, ImportResult)>,
}

/// Work finished on the blocking pool.
enum Done {
    Served(PeerId, request_response::ResponseChannel<Vec<u8>>, Vec<u8>),
    Transactions(Vec<(gossipsub::MessageId, PeerId, GossipVerdict)>),
    Consensus(Vec<(Pending, Checked)>),
}

/// One gossip message's verdict from its transactions' verdicts: rejected if
/// any is the sender's fault, accepted (forwarded) if any was new and valid,
/// else ignored.
fn batch_verdict(verdicts: impl IntoIterator<Item = GossipVerdict>) -> GossipVerdict {
    let mut out = GossipVerdict::Ignore;
    for v in verdicts {
        match v {
            GossipVerdict::Reject => return GossipVerdict::Reject,
            GossipVerdict::Accept => out = GossipVerdict::Accept,
            GossipVerdict::Ignore => {}
        }
    }
    out
}

/// A gossip message's transactions, waiting for validation.
type PendingBatch = (gossipsub::MessageId, PeerId, Vec<Vec<u8>>);

/// Gossiped transactions waiting for the pool, bounded in count and bytes.
#[derive(Default)]
struct PendingTransactions {
    queue: std::collections::VecDeque<PendingBatch>,
    /// Transactions queued (in all batches).
    count: usize,
    bytes: usize,
    /// Whether a validation job is running.
    busy: bool,
}

impl PendingTransactions {
    /// Queues one message's transactions; `false` (nothing queued) when the
    /// queue is full.
    fn push(&mut self, id: gossipsub::MessageId, from: PeerId, txs: Vec<Vec<u8>>) -> bool {
        let bytes: usize = txs.iter().map(Vec::len).sum();
        if self.count.saturating_add(txs.len()) > MAX_PENDING_TRANSACTIONS
            || self.bytes.saturating_add(bytes) > MAX_PENDING_TRANSACTION_BYTES
        {
            return false;
        }
        self.count += txs.len();
        self.bytes += bytes;
        self.queue.push_back((id, from, txs));
        true
    }

    /// The next messages to validate (at least one, and whole messages up to
    /// [`VALIDATION_BATCH`] transactions), unless a job is running already.
    fn take_batch(&mut self) -> Option<Vec<PendingBatch>> {
        if self.busy || self.queue.is_empty() {
            return None;
        }
        let mut out = Vec::new();
        let mut n = 0;
        while let Some(front) = self.queue.front() {
            if n > 0 && n + front.2.len() > VALIDATION_BATCH {
                break;
            }
            let Some(next) = self.queue.pop_front() else {
                break;
            };
            n += next.2.len();
            self.count = self.count.saturating_sub(next.2.len());
            self.bytes = self.bytes.saturating_sub(next.2.iter().map(Vec::len).sum());
            out.push(next);
        }
        self.busy = true;
        Some(out)
    }
}

/// Imports blocks one batch at a time, in order, on its own thread.
fn spawn_importer(
    chain: Arc<dyn ChainApi>,
) -> (
    std::sync::mpsc::Sender<ImportJob>,
    mpsc::UnboundedReceiver<ImportDone>,
) {
    let (tx, rx) = std::sync::mpsc::channel::<ImportJob>();
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let spawned = std::thread::Builder::new()
        .name("qstack-import".into())
        .spawn(move || {
            while let Ok(job) = rx.recv() {
                let mut results = Vec::with_capacity(job.blocks.len());
                for block in job.blocks {
                    let (number, hash) = (block.header.number, block.header.hash());
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        chain.import(block)
                    }))
                    .unwrap_or_else(|_| ImportResult::Failed("import panicked".into()));
                    let stop = r != ImportResult::Imported;
                    results.push((number, hash, r));
                    if stop {
                        break;
                    }
                }
                let done = ImportDone {
                    generation: job.generation,
                    peer: job.peer,
                    results,
                };
                if done_tx.send(done).is_err() {
                    break;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(target: "qstack::sync", "cannot start the import thread: {e}");
    }
    (tx, done_rx)
}

/// Answers a block request from the chain, trimming to the fields asked for
/// and to the response size caps.
pub fn serve_blocks(chain: &dyn ChainApi, req: &BlockRequest) -> Result<Vec<BlockData>, String> {
    let max = req.max.clamp(1, MAX_BLOCKS_PER_REQUEST);
    let mut hash = match req.from {
        FromBlock::Hash(h) => Some(h),
        FromBlock::Number(n) => chain.hash_of(n)?,
    };
    let mut out = Vec::new();
    let mut bytes = 0usize;
    while let Some(h) = hash {
        if out.len() as u32 >= max || bytes >= SOFT_RESPONSE_BYTES {
            break;
        }
        let Some(mut b) = chain.block(&h)? else { break };
        let next = match req.direction {
            Direction::Descending if b.header.number > 0 => Some(b.header.parent_hash),
            Direction::Descending => None,
            Direction::Ascending => chain.hash_of(b.header.number.saturating_add(1))?,
        };
        if req.fields & fields::BODY == 0 {
            b.body = None;
        }
        if req.fields & fields::JUSTIFICATION == 0 {
            b.justification = None;
        }
        let size = b.encoded_size();
        if !out.is_empty() && bytes.saturating_add(size) > MAX_RESPONSE_BYTES - 1024 {
            break;
        }
        bytes = bytes.saturating_add(size);
        out.push(b);
        hash = next;
    }
    Ok(out)
}

struct Worker {
    cfg: NetworkConfig,
    swarm: Swarm<Behaviour>,
    chain: Arc<dyn ChainApi>,
    topics: Topics,
    genesis: H256,
    sync: SyncCore<PeerId>,
    book: PeerBook<PeerId>,
    peers: HashMap<PeerId, PeerEntry>,
    outbound: HashMap<request_response::OutboundRequestId, Outbound>,
    limiter: RateLimiter<PeerId>,
    /// Requests being served, per peer.
    serving: HashMap<PeerId, u32>,
    /// Gossiped transactions waiting for validation.
    pending_txs: PendingTransactions,
    /// Transactions to gossip at the next flush, and their bytes.
    outgoing_txs: (Vec<Vec<u8>>, usize),
    boot: Vec<(PeerId, Multiaddr)>,
    start: Instant,
    consensus_tx: InboxSender,
    consensus_check: Option<ConsensusCheck>,
    /// Consensus gossip waiting for the check.
    pending_consensus: PendingConsensus,
    /// Shared bodies peers may fetch.
    provided: Provided,
    import_tx: std::sync::mpsc::Sender<ImportJob>,
    work_tx: mpsc::UnboundedSender<Done>,
    snapshot: Arc<RwLock<NetworkSnapshot>>,
    external: HashSet<Multiaddr>,
}

impl Worker {
    fn now(&self) -> Millis {
        self.start.elapsed().as_millis() as Millis
    }

    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut imports: mpsc::UnboundedReceiver<ImportDone>,
        mut work: mpsc::UnboundedReceiver<Done>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        let mut slow = tokio::time::interval(Duration::from_secs(2));
        let mut flush = tokio::time::interval(TRANSACTION_FLUSH);
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        self.dial_boot_nodes();
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm(event),
                cmd = commands.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd),
                    None => break,
                },
                Some(done) = imports.recv() => {
                    let input = SyncInput::Imported { generation: done.generation, peer: done.peer, results: done.results };
                    self.drive(input);
                }
                Some(done) = work.recv() => self.on_done(done),
                _ = tick.tick() => {
                    self.drive(SyncInput::Tick);
                    self.refresh_snapshot();
                }
                _ = slow.tick() => self.housekeeping(),
                _ = flush.tick() => self.flush_transactions(),
            }
        }
        tracing::debug!(target: "qstack::network", "network task stopped");
    }

    fn drive(&mut self, input: SyncInput<PeerId>) {
        let now = self.now();
        let mut queue = self.sync.handle(now, input);
        while !queue.is_empty() {
            let mut next = Vec::new();
            for action in queue {
                match action {
                    SyncAction::Request { peer, id, request } => {
                        if self.peers.contains_key(&peer) {
                            let rid = self
                                .swarm
                                .behaviour_mut()
                                .sync
                                .send_request(&peer, Request::Blocks(request).encode());
                            self.outbound.insert(rid, Outbound::Blocks(id));
                        } else {
                            next.extend(self.sync.handle(now, SyncInput::RequestFailed { id }));
                        }
                    }
                    SyncAction::Import {
                        generation,
                        peer,
                        blocks,
                    } => {
                        if let (Some(f), Some(l)) = (blocks.first(), blocks.last()) {
                            tracing::debug!(target: "qstack::sync", "importing #{}..#{} from {peer}", f.header.number, l.header.number);
                        }
                        if self
                            .import_tx
                            .send(ImportJob {
                                generation,
                                peer,
                                blocks,
                            })
                            .is_err()
                        {
                            tracing::error!(target: "qstack::sync", "the import thread is gone; blocks from peers can no longer be imported");
                        }
                    }
                    SyncAction::Report {
                        peer,
                        delta,
                        reason,
                    } => self.report(peer, delta, &reason),
                }
            }
            queue = next;
        }
    }

    fn report(&mut self, peer: PeerId, delta: i32, reason: &str) {
        if delta < 0 {
            tracing::info!(target: "qstack::network", "peer {peer}: {reason} ({delta})");
        }
        if let Verdict::Ban { until } = self.book.report(&peer, delta, self.now()) {
            tracing::warn!(target: "qstack::network", "banning peer {peer} for {} s: {reason}", (until - self.now()) / 1000);
            let _ = self.swarm.disconnect_peer_id(peer);
        }
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::PublishTransaction(bytes) => {
                if self.outgoing_txs.1 + bytes.len() > BATCH_FLUSH_BYTES {
                    self.flush_transactions();
                }
                self.outgoing_txs.1 += bytes.len();
                self.outgoing_txs.0.push(bytes);
                if self.outgoing_txs.0.len() >= MAX_BATCH_TRANSACTIONS {
                    self.flush_transactions();
                }
            }
            Command::Announce(header) => self.publish(
                self.topics.blocks.clone(),
                BlockAnnounce { header }.encode(),
            ),
            Command::Consensus(bytes) => self.publish(self.topics.consensus.clone(), bytes),
            Command::LocalBest(number, hash) => self.drive(SyncInput::LocalBest { number, hash }),
            Command::Provide(hash, number, bytes) => self.provided.insert(hash, number, bytes),
            Command::ForgetProvided(number) => self.provided.forget_up_to(number),
            Command::Fetch(hash) => self.fetch_consensus(hash),
        }
    }

    /// Asks a few connected peers for a shared body by hash.
    fn fetch_consensus(&mut self, hash: H256) {
        let peers: Vec<PeerId> = self.peers.keys().take(FETCH_FROM).copied().collect();
        for peer in peers {
            let rid = self
                .swarm
                .behaviour_mut()
                .sync
                .send_request(&peer, Request::Consensus(hash).encode());
            self.outbound.insert(rid, Outbound::Consensus(hash));
        }
    }

    /// Queues a consensus message for the check (a gossip one with its id,
    /// a fetched one without); ignored if its peer's queue is full.
    fn queue_consensus(&mut self, p: Pending) {
        let id = p.id.clone();
        let via = p.via;
        if !self.pending_consensus.push(p) {
            if let Some(id) = id {
                self.accept(&id, &via, gossipsub::MessageAcceptance::Ignore);
            }
            tracing::debug!(target: "qstack::network", "consensus queue of {via} full: message dropped");
            return;
        }
        self.validate_pending_consensus();
    }

    /// Checks the next batch of consensus messages on the blocking pool,
    /// unless a batch is being checked.
    fn validate_pending_consensus(&mut self) {
        let Some(check) = self.consensus_check.clone() else {
            return;
        };
        let Some(batch) = self.pending_consensus.take_batch() else {
            return;
        };
        let tx = self.work_tx.clone();
        tokio::task::spawn_blocking(move || {
            let verdicts = batch
                .into_iter()
                .map(|p| {
                    let v = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        check.check(&p.bytes)
                    }))
                    .unwrap_or(Checked::Ignore);
                    (p, v)
                })
                .collect();
            let _ = tx.send(Done::Consensus(verdicts));
        });
    }

    /// Gossips the transactions published since the last flush, as one
    /// message.
    fn flush_transactions(&mut self) {
        let (txs, _) = std::mem::take(&mut self.outgoing_txs);
        if !txs.is_empty() {
            self.publish(
                self.topics.transactions.clone(),
                TransactionBatch(txs).encode(),
            );
        }
    }

    fn publish(&mut self, topic: gossipsub::IdentTopic, bytes: Vec<u8>) {
        if let Err(e) = self
            .swarm
            .behaviour_mut()
            .gossip
            .publish(topic.clone(), bytes)
        {
            tracing::debug!(target: "qstack::network", "not published on {topic}: {e}");
        }
    }

    fn on_done(&mut self, done: Done) {
        match done {
            Done::Served(peer, channel, bytes) => {
                self.serving_done(&peer);
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, bytes);
            }
            Done::Transactions(verdicts) => {
                self.pending_txs.busy = false;
                for (id, peer, verdict) in verdicts {
                    let acceptance = match verdict {
                        GossipVerdict::Accept => gossipsub::MessageAcceptance::Accept,
                        GossipVerdict::Ignore => gossipsub::MessageAcceptance::Ignore,
                        GossipVerdict::Reject => gossipsub::MessageAcceptance::Reject,
                    };
                    self.accept(&id, &peer, acceptance);
                    if verdict == GossipVerdict::Reject {
                        self.report(peer, change::INVALID_TRANSACTION, "invalid transaction");
                    }
                }
                self.validate_pending_transactions();
            }
            Done::Consensus(verdicts) => {
                self.pending_consensus.busy = false;
                for (p, verdict) in verdicts {
                    if let Some(id) = &p.id {
                        let acceptance = match verdict {
                            Checked::Accept => gossipsub::MessageAcceptance::Accept,
                            Checked::Deliver | Checked::Ignore => {
                                gossipsub::MessageAcceptance::Ignore
                            }
                            Checked::Reject(_) => gossipsub::MessageAcceptance::Reject,
                        };
                        self.accept(id, &p.via, acceptance);
                    }
                    if let Checked::Reject(why) = &verdict {
                        self.report(p.via, change::INVALID_CONSENSUS, why);
                        continue;
                    }
                    let msg = ConsensusMessage {
                        from: p.source,
                        bytes: p.bytes,
                    };
                    if !self.consensus_tx.deliver(&verdict, msg) {
                        tracing::warn!(target: "qstack::network", "consensus inbox full ({verdict:?}): a message from {} dropped", p.source);
                    }
                }
                self.validate_pending_consensus();
            }
        }
    }

    /// Starts validating the next batch of gossiped transactions, if no
    /// batch is being validated.
    fn validate_pending_transactions(&mut self) {
        let Some(batch) = self.pending_txs.take_batch() else {
            return;
        };
        let (chain, tx) = (self.chain.clone(), self.work_tx.clone());
        tokio::task::spawn_blocking(move || {
            let verdicts = batch
                .into_iter()
                .map(|(id, from, txs)| {
                    // A panic must not leave the queue marked busy forever.
                    let verdict = batch_verdict(txs.into_iter().map(|data| {
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            chain.transaction(data)
                        }))
                        .unwrap_or(GossipVerdict::Ignore)
                    }));
                    (id, from, verdict)
                })
                .collect();
            let _ = tx.send(Done::Transactions(verdicts));
        });
    }

    fn dial_boot_nodes(&mut self) {
        let outbound = self.peers.values().filter(|p| !p.inbound).count();
        if outbound >= self.cfg.out_peers {
            return;
        }
        let now = self.now();
        for (peer, addr) in self.boot.clone() {
            if peer == *self.swarm.local_peer_id()
                || self.peers.contains_key(&peer)
                || self.book.is_banned(&peer, now)
                || self.swarm.is_connected(&peer)
            {
                continue;
            }
            if let Some(k) = self.swarm.behaviour_mut().kad.as_mut() {
                k.add_address(&peer, addr.clone());
            }
            if let Err(e) = self.swarm.dial(addr.clone()) {
                tracing::debug!(target: "qstack::network", "dialling {addr}: {e}");
            }
        }
    }

    fn housekeeping(&mut self) {
        let now = self.now();
        self.book.prune(now);
        self.dial_boot_nodes();
        // Peers' best blocks, in case announcements were missed.
        let ids: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| !p.status_pending)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.request_status(id);
        }
        if now % 30_000 < 2_000 && !self.peers.is_empty() {
            if let Some(k) = self.swarm.behaviour_mut().kad.as_mut() {
                let _ = k.bootstrap();
            }
        }
    }

    /// Forgets an answered or failed request; a status request's peer may
    /// be asked again.
    fn take_outbound(&mut self, id: &request_response::OutboundRequestId) -> Option<Outbound> {
        let out = self.outbound.remove(id)?;
        if let Outbound::Status(p) = &out {
            if let Some(e) = self.peers.get_mut(p) {
                e.status_pending = false;
            }
        }
        Some(out)
    }

    fn request_status(&mut self, peer: PeerId) {
        let rid = self
            .swarm
            .behaviour_mut()
            .sync
            .send_request(&peer, Request::Status.encode());
        self.outbound.insert(rid, Outbound::Status(peer));
        if let Some(p) = self.peers.get_mut(&peer) {
            p.status_pending = true;
        }
    }

    fn maybe_dial(&mut self, peer: PeerId, addr: Option<Multiaddr>) {
        let outbound = self.peers.values().filter(|p| !p.inbound).count();
        if outbound >= self.cfg.out_peers
            || peer == *self.swarm.local_peer_id()
            || self.swarm.is_connected(&peer)
            || self.book.is_banned(&peer, self.now())
        {
            return;
        }
        let opts = match addr {
            Some(a) => libp2p::swarm::dial_opts::DialOpts::peer_id(peer)
                .addresses(vec![a])
                .build(),
            None => libp2p::swarm::dial_opts::DialOpts::peer_id(peer).build(),
        };
        if let Err(e) = self.swarm.dial(opts) {
            tracing::debug!(target: "qstack::network", "dialling {peer}: {e}");
        }
    }

    fn on_swarm(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                let me = *self.swarm.local_peer_id();
                tracing::info!(target: "qstack::network", "listening on {address}/p2p/{me}");
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                let _ = num_established;
                if self.peers.contains_key(&peer_id) {
                    return;
                }
                let inbound = endpoint.is_listener();
                let count = self.peers.values().filter(|p| p.inbound == inbound).count();
                let cap = if inbound {
                    self.cfg.in_peers
                } else {
                    self.cfg.out_peers
                };
                if self.book.is_banned(&peer_id, self.now()) || count >= cap {
                    tracing::debug!(target: "qstack::network", "refusing {peer_id} (banned or {} peers full)", if inbound { "inbound" } else { "outbound" });
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                let address = endpoint.get_remote_address().clone();
                tracing::info!(target: "qstack::network", "peer connected: {peer_id} ({}, {address})", if inbound { "inbound" } else { "outbound" });
                self.peers.insert(
                    peer_id,
                    PeerEntry {
                        inbound,
                        address,
                        agent: None,
                        status_pending: false,
                    },
                );
                self.request_status(peer_id);
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => self.on_disconnected(peer_id),
            SwarmEvent::ExternalAddrConfirmed { address } => {
                self.external.insert(address);
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                tracing::debug!(target: "qstack::network", "dial to {peer_id:?} failed: {error}");
            }
            SwarmEvent::IncomingConnectionError { error, .. } => {
                tracing::debug!(target: "qstack::network", "incoming connection failed: {error}");
            }
            SwarmEvent::Behaviour(ev) => self.on_behaviour(ev),
            _ => {}
        }
    }

    fn on_disconnected(&mut self, peer_id: PeerId) {
        if self.peers.remove(&peer_id).is_some() {
            tracing::info!(target: "qstack::network", "peer disconnected: {peer_id}");
            self.limiter.forget(&peer_id);
            for p in self.pending_consensus.forget(&peer_id) {
                if let Some(id) = p.id {
                    self.accept(&id, &peer_id, gossipsub::MessageAcceptance::Ignore);
                }
            }
            self.drive(SyncInput::PeerGone(peer_id));
        }
    }

    fn on_behaviour(&mut self, ev: BehaviourEvent) {
        match ev {
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                if let Some(p) = self.peers.get_mut(&peer_id) {
                    p.agent = Some(info.agent_version.clone());
                }
                if let Some(k) = self.swarm.behaviour_mut().kad.as_mut() {
                    for a in info.listen_addrs {
                        k.add_address(&peer_id, a);
                    }
                }
            }
            BehaviourEvent::Kad(kad::Event::RoutingUpdated { peer, .. }) => {
                self.maybe_dial(peer, None);
            }
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                for (peer, addr) in found {
                    if let Some(k) = self.swarm.behaviour_mut().kad.as_mut() {
                        k.add_address(&peer, addr.clone());
                    }
                    self.maybe_dial(peer, Some(addr));
                }
            }
            BehaviourEvent::Gossip(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => self.on_gossip(propagation_source, message_id, message),
            BehaviourEvent::Sync(ev) => self.on_sync(ev),
            _ => {}
        }
    }

    fn validate(&mut self, id: &gossipsub::MessageId, from: &PeerId, ok: bool) {
        let acceptance = if ok {
            gossipsub::MessageAcceptance::Accept
        } else {
            gossipsub::MessageAcceptance::Reject
        };
        self.accept(id, from, acceptance);
    }

    /// Tells gossipsub what became of a message (forward, drop, blame).
    fn accept(
        &mut self,
        id: &gossipsub::MessageId,
        from: &PeerId,
        acceptance: gossipsub::MessageAcceptance,
    ) {
        let _ = self
            .swarm
            .behaviour_mut()
            .gossip
            .report_message_validation_result(id, from, acceptance);
    }

    fn on_gossip(&mut self, from: PeerId, id: gossipsub::MessageId, message: gossipsub::Message) {
        let topic = message.topic;
        if topic == self.topics.transactions.hash() {
            let batch = match TransactionBatch::decode_strict(&message.data) {
                Ok(b) => b,
                Err(e) => {
                    self.validate(&id, &from, false);
                    self.report(from, change::MALFORMED, &format!("transaction batch: {e}"));
                    return;
                }
            };
            if !self.pending_txs.push(id.clone(), from, batch.0) {
                self.accept(&id, &from, gossipsub::MessageAcceptance::Ignore);
                return;
            }
            self.validate_pending_transactions();
        } else if topic == self.topics.blocks.hash() {
            match decode_capped::<BlockAnnounce>(&message.data, MAX_GOSSIP_BYTES) {
                Ok(a) => {
                    self.validate(&id, &from, true);
                    let peer = message.source.unwrap_or(from);
                    let (number, hash) = (a.header.number, a.header.hash());
                    tracing::debug!(target: "qstack::sync", "{peer} announced #{number} ({hash})");
                    self.drive(SyncInput::Announced { peer, number, hash });
                    // The peer that forwarded it is (about to be) there too:
                    // nodes not connected to the author learn of the block
                    // without waiting for a status poll.
                    if from != peer {
                        self.drive(SyncInput::Announced {
                            peer: from,
                            number,
                            hash,
                        });
                    }
                }
                Err(e) => {
                    self.validate(&id, &from, false);
                    self.report(from, change::MALFORMED, &format!("block announcement: {e}"));
                }
            }
        } else if topic == self.topics.consensus.hash() {
            self.queue_consensus(Pending {
                id: Some(id),
                via: from,
                source: message.source.unwrap_or(from),
                bytes: message.data,
            });
        } else {
            self.accept(&id, &from, gossipsub::MessageAcceptance::Ignore);
        }
    }

    /// Admits one more request to serve from `peer`: at most
    /// [`MAX_SERVING_PER_PEER`] at a time per peer and [`MAX_SERVING`] in
    /// all, so slow readers cannot pin responses in memory.
    fn serving_start(&mut self, peer: PeerId) -> bool {
        let total: u32 = self.serving.values().sum();
        let mine = self.serving.entry(peer).or_insert(0);
        if *mine >= MAX_SERVING_PER_PEER || total >= MAX_SERVING {
            return false;
        }
        *mine += 1;
        true
    }

    fn serving_done(&mut self, peer: &PeerId) {
        if let Some(n) = self.serving.get_mut(peer) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.serving.remove(peer);
            }
        }
    }

    fn refuse(&mut self, channel: request_response::ResponseChannel<Vec<u8>>, why: Refusal) {
        let refused = Response::Refused(why).encode();
        let _ = self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(channel, refused);
    }

    fn allow_request(&mut self, peer: PeerId) -> bool {
        let now = self.now();
        self.limiter.allow(&peer, now)
    }

    fn on_sync(&mut self, ev: request_response::Event<Vec<u8>, Vec<u8>>) {
        use request_response::{Event, Message};
        match ev {
            Event::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                if !self.allow_request(peer) {
                    self.report(peer, change::RATE_LIMITED, "too many sync requests");
                    self.refuse(channel, Refusal::RateLimited);
                    return;
                }
                let request = match decode_capped::<Request>(&request, MAX_REQUEST_BYTES) {
                    Ok(r) => r,
                    Err(e) => {
                        self.report(peer, change::MALFORMED, &format!("sync request: {e}"));
                        self.refuse(channel, Refusal::BadRequest);
                        return;
                    }
                };
                if let Request::Consensus(hash) = request {
                    let held = self.provided.get(&hash).map(<[u8]>::to_vec);
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .sync
                        .send_response(channel, Response::Consensus(held).encode());
                    return;
                }
                if !self.serving_start(peer) {
                    self.refuse(channel, Refusal::RateLimited);
                    return;
                }
                let (chain, tx) = (self.chain.clone(), self.work_tx.clone());
                tokio::task::spawn_blocking(move || {
                    let response = match request {
                        Request::Status => Response::Status(chain.status()),
                        Request::Blocks(r) if r.fields & fields::HEADER == 0 => {
                            Response::Refused(Refusal::BadRequest)
                        }
                        Request::Blocks(r) => match serve_blocks(chain.as_ref(), &r) {
                            Ok(blocks) => Response::Blocks(blocks),
                            Err(e) => {
                                tracing::warn!(target: "qstack::sync", "cannot serve {r:?}: {e}");
                                Response::Refused(Refusal::Unavailable)
                            }
                        },
                        Request::Consensus(_) => Response::Consensus(None),
                    };
                    let _ = tx.send(Done::Served(peer, channel, response.encode()));
                });
            }
            Event::Message {
                peer,
                message:
                    Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                let Some(out) = self.take_outbound(&request_id) else {
                    return;
                };
                let decoded = decode_capped::<Response>(&response, MAX_RESPONSE_BYTES);
                match (out, decoded) {
                    (Outbound::Status(p), Ok(Response::Status(s))) => {
                        if s.genesis != self.genesis {
                            self.report(p, change::WRONG_CHAIN, "another chain (genesis differs)");
                            return;
                        }
                        self.drive(SyncInput::PeerStatus {
                            peer: p,
                            best_number: s.best_number,
                            best_hash: s.best_hash,
                        });
                    }
                    (Outbound::Blocks(id), Ok(Response::Blocks(blocks))) => {
                        self.drive(SyncInput::Response { id, blocks })
                    }
                    (Outbound::Status(p), Ok(Response::Refused(r))) => {
                        // Busy or rate-limited: ask again at the next poll.
                        tracing::debug!(target: "qstack::sync", "{p} refused a status request: {r:?}");
                    }
                    (Outbound::Blocks(id), Ok(Response::Refused(r))) => {
                        tracing::debug!(target: "qstack::sync", "{peer} refused a block request: {r:?}");
                        self.drive(SyncInput::RequestFailed { id });
                    }
                    (Outbound::Consensus(hash), Ok(Response::Consensus(held))) => match held {
                        Some(bytes) => self.queue_consensus(Pending {
                            id: None,
                            via: peer,
                            source: peer,
                            bytes,
                        }),
                        None => {
                            tracing::debug!(target: "qstack::network", "{peer} does not have the body of {hash}")
                        }
                    },
                    (Outbound::Consensus(hash), Ok(Response::Refused(r))) => {
                        tracing::debug!(target: "qstack::network", "{peer} refused to send the body of {hash}: {r:?}");
                    }
                    (out, res) => {
                        let why = match res {
                            Err(e) => e.to_string(),
                            Ok(_) => "answer of the wrong kind".into(),
                        };
                        self.report(peer, change::MALFORMED, &format!("sync response: {why}"));
                        match out {
                            Outbound::Blocks(id) => self.drive(SyncInput::RequestFailed { id }),
                            Outbound::Status(_) | Outbound::Consensus(_) => {}
                        }
                    }
                }
            }
            Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                tracing::debug!(target: "qstack::sync", "request to {peer} failed: {error}");
                match self.take_outbound(&request_id) {
                    Some(Outbound::Blocks(id)) => self.drive(SyncInput::RequestFailed { id }),
                    Some(Outbound::Status(_) | Outbound::Consensus(_)) => {}
                    None => {}
                }
            }
            Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(target: "qstack::sync", "request from {peer} failed: {error}");
                if matches!(error, request_response::InboundFailure::Io(_)) {
                    self.report(peer, change::MALFORMED, &format!("sync request: {error}"));
                }
            }
            _ => {}
        }
    }

    fn refresh_snapshot(&mut self) {
        let now = self.now();
        let bests: HashMap<PeerId, (u32, H256)> = self
            .sync
            .peer_bests()
            .into_iter()
            .map(|(p, n, h)| (p, (n, h)))
            .collect();
        let peers = self
            .peers
            .iter()
            .map(|(id, p)| PeerSnapshot {
                peer_id: *id,
                inbound: p.inbound,
                address: p.address.clone(),
                agent: p.agent.clone(),
                best: bests.get(id).copied(),
                score: self.book.score(id, now),
            })
            .collect();
        let snap = NetworkSnapshot {
            listen_addrs: self.swarm.listeners().cloned().collect(),
            external_addrs: self.external.iter().cloned().collect(),
            peers,
            sync: self.sync.status(),
            banned: self.book.banned_count(now),
        };
        *self.snapshot.write() = snap;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: u32) -> gossipsub::MessageId {
        gossipsub::MessageId::new(&i.to_le_bytes())
    }

    #[test]
    fn pending_transactions_are_bounded_and_validated_a_few_messages_at_a_time() {
        let peer = PeerId::random();
        let mut q = PendingTransactions::default();
        assert!(q.take_batch().is_none(), "nothing to validate");
        // Messages of 100 transactions each, up to the count bound.
        let per = 100;
        for i in 0..(MAX_PENDING_TRANSACTIONS / per) as u32 {
            assert!(q.push(id(i), peer, vec![vec![0; 10]; per]));
        }
        assert!(
            !q.push(id(u32::MAX), peer, vec![vec![0; 10]; per]),
            "count bound"
        );
        let batch = q.take_batch().expect("a batch");
        // Whole messages, no more than VALIDATION_BATCH transactions.
        assert_eq!(batch.len(), VALIDATION_BATCH / per);
        assert_eq!(
            batch.first().map(|b| b.0.clone()),
            Some(id(0)),
            "oldest first"
        );
        assert!(q.take_batch().is_none(), "one job at a time");
        q.busy = false;
        let left = (MAX_PENDING_TRANSACTIONS / per - VALIDATION_BATCH / per) * per;
        assert_eq!((q.count, q.bytes), (left, left * 10));
        // One message larger than a job is still taken whole.
        let mut q = PendingTransactions::default();
        assert!(q.push(id(0), peer, vec![vec![0; 1]; VALIDATION_BATCH + 1]));
        assert_eq!(q.take_batch().map(|b| b.len()), Some(1));
        // The byte bound holds whatever the count.
        let mut q = PendingTransactions::default();
        assert!(q.push(
            id(0),
            peer,
            vec![vec![0; MAX_PENDING_TRANSACTION_BYTES - 1]]
        ));
        assert!(!q.push(id(1), peer, vec![vec![0; 2]]), "byte bound");
        assert!(q.push(id(2), peer, vec![vec![0; 1]]));
        assert_eq!(q.take_batch().map(|b| b.len()), Some(2));
        assert_eq!((q.count, q.bytes), (0, 0));
    }

    #[test]
    fn a_batch_is_rejected_for_one_bad_transaction_and_forwarded_for_one_new_one() {
        use GossipVerdict::*;
        assert_eq!(batch_verdict([Ignore, Accept, Ignore]), Accept);
        assert_eq!(batch_verdict([Accept, Reject, Accept]), Reject);
        assert_eq!(batch_verdict([Ignore, Ignore]), Ignore);
        assert_eq!(batch_verdict([]), Ignore);
    }
}
