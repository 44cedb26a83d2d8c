//! The running node: opens the database, builds the client, runs the pool,
//! serves RPC, and drives the consensus engine's actions. Everything here is
//! wiring; the logic lives in the crates it wires.

pub mod bft;

use crate::chain_spec::{ChainSpec, ChainType as SpecChainType, ConsensusSpec};
use anyhow::{Context, Result};
use codec::Encode;
use parking_lot::Mutex;
use qstack_client::{Client, ImportOutcome};
use qstack_consensus::dev::{DevEngine, SealMode};
use qstack_consensus::{Action, Engine, Input};
use qstack_core::{AccountId, Nonce, H256};
use qstack_executor::{Executor, ExecutorConfig};
use qstack_network::sync::ImportResult;
use qstack_network::GossipVerdict;
use qstack_rpc::{
    AccountInfo, BackendError, BlockData, ChainInfo, ChainType, RpcBackend, SubmitError,
    SystemInfo, TxStatus,
};
use qstack_runtime_primitives::{
    Digest, Header, OpaqueExtrinsic, RuntimeVersion, TransactionSource, TransactionValidity,
    TransactionValidityError, UnknownTransaction,
};
use qstack_storage::{PruningMode, Store, StoreConfig};
use qstack_txpool::{Pool, PoolConfig, PoolError, TxEvent, TxHash, Validator};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{broadcast, mpsc, Notify};

/// What `qstack` runs with.
pub struct NodeConfig {
    /// The chain.
    pub spec: ChainSpec,
    /// Database folder.
    pub db_path: PathBuf,
    /// State pruning.
    pub pruning: PruningMode,
    /// RPC listen address.
    pub rpc_addr: std::net::SocketAddr,
    /// Node name.
    pub name: String,
    /// Seal mode override (`--instant-seal`).
    pub instant_seal: bool,
    /// Named as author in every block this node authors (`--author`).
    pub author: Option<AccountId>,
    /// Whether this node authors blocks (`--validator`, implied by `--dev`).
    pub validator: bool,
    /// Peer-to-peer networking.
    pub network: qstack_network::NetworkConfig,
}

/// Validates through the runtime at the best block.
struct RuntimeValidator<'a>(&'a Client);

impl Validator for RuntimeValidator<'_> {
    fn validate(&self, at: H256, source: TransactionSource, xt: &[u8]) -> TransactionValidity {
        self.0.validate_transaction(&at, source, xt).unwrap_or(Err(
            TransactionValidityError::Unknown(UnknownTransaction::CannotLookup),
        ))
    }
}

/// The pool, its watchers and the wake-up for the author.
pub struct TxPool {
    pool: Mutex<Pool>,
    watchers: Mutex<HashMap<TxHash, mpsc::Sender<TxStatus>>>,
    ready: Notify,
}

fn status_of(e: &TxEvent) -> TxStatus {
    match e {
        TxEvent::Future => TxStatus::Future,
        TxEvent::Ready => TxStatus::Ready,
        TxEvent::InBlock(h) => TxStatus::InBlock(*h),
        TxEvent::Finalized(h) => TxStatus::Finalized(*h),
        TxEvent::Usurped(h) => TxStatus::Usurped(*h),
        TxEvent::Dropped(r) => TxStatus::Dropped(r.clone()),
        TxEvent::Invalid(r) => TxStatus::Invalid(r.clone()),
    }
}

impl Default for TxPool {
    fn default() -> Self {
        Self::new()
    }
}

impl TxPool {
    /// An empty pool with the default limits.
    pub fn new() -> Self {
        TxPool {
            pool: Mutex::new(Pool::new(PoolConfig::default())),
            watchers: Mutex::new(HashMap::new()),
            ready: Notify::new(),
        }
    }

    /// Validates `xt` against `client`'s best block and adds it (a
    /// transaction from outside the node, e.g. a benchmark's load).
    pub fn submit_external(&self, client: &Client, xt: Vec<u8>) -> Result<TxHash, PoolError> {
        let at = client.info().map(|i| i.best_hash).unwrap_or_default();
        let s = self.pool.lock().submit(
            at,
            TransactionSource::External,
            xt,
            &RuntimeValidator(client),
        )?;
        self.notify(&s.events);
        self.ready.notify_one();
        Ok(s.hash)
    }

    /// Pool upkeep after block `hash` (holding `included`, having refused
    /// `rejected`) became best, and final if `finalized`: included
    /// transactions leave, the rest are re-validated, watchers hear of it.
    fn on_imported(
        &self,
        client: &Client,
        hash: H256,
        included: &[TxHash],
        rejected: &[(TxHash, TransactionValidityError)],
        finalized: bool,
    ) {
        let events = {
            let mut pool = self.pool.lock();
            let mut events = pool.on_block(hash, included, rejected, &RuntimeValidator(client));
            if finalized {
                events.extend(pool.on_finalized(hash, included));
            }
            events
        };
        self.notify(&events);
    }

    fn notify(&self, events: &[(TxHash, TxEvent)]) {
        let mut watchers = self.watchers.lock();
        for (hash, event) in events {
            tracing::debug!(target: "qstack::txpool", "{hash}: {event:?}");
            if let Some(tx) = watchers.get(hash) {
                let _ = tx.try_send(status_of(event));
                if event.is_final() {
                    watchers.remove(hash);
                }
            }
        }
    }
}

/// The node's implementation of the RPC backend.
pub struct Node {
    client: Arc<Client>,
    txpool: Arc<TxPool>,
    spec: ChainSpec,
    network: qstack_network::NetworkHandle,
}

/// The chain's info, or zeros if the database cannot be read (the RPC and
/// the network answer something rather than fail).
fn info_or_zero(client: &Client) -> qstack_client::ChainInfo {
    client.info().unwrap_or(qstack_client::ChainInfo {
        genesis_hash: H256::zero(),
        best_hash: H256::zero(),
        best_number: 0,
        finalized_hash: H256::zero(),
        finalized_number: 0,
    })
}

/// The chain as the network sees it: status, blocks to serve, imports from
/// peers (with pool upkeep) and gossiped transactions into the pool.
pub struct NetChain {
    /// The client.
    pub client: Arc<Client>,
    /// The pool (none: a node that takes no transactions, e.g. a benchmark).
    pub txpool: Option<Arc<TxPool>>,
    /// Blocks from peers are final at once (engines with instant finality).
    pub finalize_on_import: bool,
    /// Checks a block's justification before import (BFT: its commit
    /// certificate); a block that fails is bad.
    pub justify: Option<Justify>,
}

/// A justification check: header, justification → ok or why not.
pub type Justify = Arc<dyn Fn(&Header, Option<&[u8]>) -> Result<(), String> + Send + Sync>;

impl qstack_network::ChainApi for NetChain {
    fn status(&self) -> qstack_network::protocol::Status {
        let i = info_or_zero(&self.client);
        qstack_network::protocol::Status {
            genesis: i.genesis_hash,
            best_number: i.best_number,
            best_hash: i.best_hash,
            finalized_number: i.finalized_number,
            finalized_hash: i.finalized_hash,
        }
    }

    fn hash_of(&self, number: u32) -> Result<Option<H256>, String> {
        self.client.hash_of(number).map_err(|e| e.to_string())
    }

    fn block(&self, hash: &H256) -> Result<Option<qstack_network::protocol::BlockData>, String> {
        Ok(self
            .client
            .block(hash)
            .map_err(|e| e.to_string())?
            .map(|(b, justification)| qstack_network::protocol::BlockData {
                header: b.header,
                body: Some(b.extrinsics),
                justification,
            }))
    }

    fn import(&self, block: qstack_network::protocol::BlockData) -> ImportResult {
        use qstack_client::ImportError;
        let Some(extrinsics) = block.body else {
            return ImportResult::Bad("no body".into());
        };
        if let Some(justify) = &self.justify {
            if let Err(why) = justify(&block.header, block.justification.as_deref()) {
                return ImportResult::Bad(why);
            }
        }
        let hash = block.header.hash();
        let included: Vec<TxHash> = extrinsics
            .iter()
            .map(|x| qstack_client::extrinsic_hash(&x.0))
            .collect();
        let block_ = qstack_runtime_primitives::OpaqueBlock {
            header: block.header,
            extrinsics,
        };
        match self
            .client
            .import_block(block_, block.justification, self.finalize_on_import)
        {
            Ok(ImportOutcome::Imported { best }) => {
                if let (true, Some(txpool)) = (best, &self.txpool) {
                    txpool.on_imported(&self.client, hash, &included, &[], self.finalize_on_import);
                }
                ImportResult::Imported
            }
            Ok(ImportOutcome::AlreadyKnown) => ImportResult::Imported,
            Err(ImportError::UnknownParent(_)) => ImportResult::UnknownParent,
            Err(ImportError::Client(
                e @ (qstack_client::ClientError::Storage(_) | qstack_client::ClientError::State(_)),
            )) => ImportResult::Failed(e.to_string()),
            Err(e) => ImportResult::Bad(e.to_string()),
        }
    }

    fn transaction(&self, bytes: Vec<u8>) -> GossipVerdict {
        let Some(txpool) = &self.txpool else {
            return GossipVerdict::Ignore;
        };
        let at = self.client.info().map(|i| i.best_hash).unwrap_or_default();
        // Bytes that are no extrinsic of this runtime are the sender's fault
        // (and cost a runtime call if validated): refuse them up front. After
        // a runtime upgrade the native decoder may not know new calls, so
        // only the native spec version judges.
        if qstack_runtime::Extrinsic::decode_strict(&bytes, qstack_runtime::RuntimeCall::is_known)
            .is_err()
        {
            let native = self
                .client
                .runtime_version(&at)
                .is_ok_and(|v| v.spec_version == qstack_runtime::VERSION.spec_version);
            return if native {
                GossipVerdict::Reject
            } else {
                GossipVerdict::Ignore
            };
        }
        let submitted = txpool.pool.lock().submit(
            at,
            TransactionSource::External,
            bytes,
            &RuntimeValidator(&self.client),
        );
        match submitted {
            Ok(s) => {
                txpool.notify(&s.events);
                txpool.ready.notify_one();
                GossipVerdict::Accept
            }
            Err(PoolError::Invalid(_)) => GossipVerdict::Reject,
            Err(_) => GossipVerdict::Ignore,
        }
    }
}

fn backend_err(e: qstack_client::ClientError) -> BackendError {
    match e {
        qstack_client::ClientError::UnknownBlock(h) => BackendError::UnknownBlock(h),
        qstack_client::ClientError::Executor(e) => BackendError::Call(e.to_string()),
        other => BackendError::Other(other.to_string()),
    }
}

fn submit_error(e: PoolError) -> SubmitError {
    use qstack_rpc::error::codes;
    match e {
        PoolError::Invalid(i) => SubmitError::new(codes::POOL_INVALID_TX, "Invalid Transaction")
            .with_data(qstack_txpool::describe_invalid(i)),
        PoolError::Unknown(u) => {
            SubmitError::new(codes::POOL_UNKNOWN_VALIDITY, "Unknown Transaction Validity")
                .with_data(qstack_txpool::describe_unknown(u))
        }
        PoolError::AlreadyImported => {
            SubmitError::new(codes::POOL_ALREADY_IMPORTED, "Transaction Already Imported")
        }
        PoolError::TooLowPriority { .. } => {
            SubmitError::new(codes::POOL_TOO_LOW_PRIORITY, "Priority is too low")
                .with_data(e.to_string())
        }
        other => SubmitError::new(codes::POOL_IMMEDIATELY_DROPPED, "Immediately Dropped")
            .with_data(other.to_string()),
    }
}

impl Node {
    fn best(&self) -> H256 {
        self.client.info().map(|i| i.best_hash).unwrap_or_default()
    }

    fn submit(
        &self,
        xt: OpaqueExtrinsic,
        watch: Option<mpsc::Sender<TxStatus>>,
    ) -> Result<H256, SubmitError> {
        let at = self.best();
        let bytes = xt.0.clone();
        let submitted = {
            let mut pool = self.txpool.pool.lock();
            pool.submit(
                at,
                TransactionSource::Local,
                xt.0,
                &RuntimeValidator(&self.client),
            )
            .map_err(submit_error)?
        };
        if let Some(w) = watch {
            let _ = w.try_send(status_of(&submitted.outcome.event()));
            self.txpool.watchers.lock().insert(submitted.hash, w);
        }
        self.txpool.notify(&submitted.events);
        self.txpool.ready.notify_one();
        self.network.publish_transaction(bytes);
        Ok(submitted.hash)
    }
}

impl RpcBackend for Node {
    fn chain_info(&self) -> ChainInfo {
        let i = info_or_zero(&self.client);
        ChainInfo {
            genesis_hash: i.genesis_hash,
            best_hash: i.best_hash,
            best_number: i.best_number,
            finalized_hash: i.finalized_hash,
            finalized_number: i.finalized_number,
        }
    }

    fn header(&self, hash: H256) -> Result<Option<Header>, BackendError> {
        self.client.header(&hash).map_err(backend_err)
    }

    fn block(&self, hash: H256) -> Result<Option<BlockData>, BackendError> {
        Ok(self
            .client
            .block(&hash)
            .map_err(backend_err)?
            .map(|(b, j)| BlockData {
                header: b.header,
                extrinsics: b.extrinsics,
                justifications: j
                    .map(|encoded| {
                        vec![qstack_rpc::Justification {
                            engine_id: *b"DEV0",
                            encoded,
                        }]
                    })
                    .unwrap_or_default(),
            }))
    }

    fn block_hash(&self, number: u32) -> Result<Option<H256>, BackendError> {
        self.client.hash_of(number).map_err(backend_err)
    }

    fn storage(&self, at: H256, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        self.client.storage(&at, key).map_err(backend_err)
    }

    fn storage_keys_paged(
        &self,
        at: H256,
        prefix: &[u8],
        count: u32,
        start_key: Option<&[u8]>,
    ) -> Result<Vec<Vec<u8>>, BackendError> {
        let state = self.client.state_at(&at).map_err(backend_err)?;
        state
            .keys_with_prefix(prefix, start_key, count as usize)
            .map_err(|e| BackendError::Other(e.to_string()))
    }

    fn read_proof(&self, at: H256, keys: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, BackendError> {
        let state = self.client.state_at(&at).map_err(backend_err)?;
        let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        Ok(state
            .read_proof(&keys)
            .map_err(|e| BackendError::Other(e.to_string()))?
            .nodes)
    }

    fn call(&self, at: H256, method: &str, input: &[u8]) -> Result<Vec<u8>, BackendError> {
        self.client.call_at(&at, method, input).map_err(backend_err)
    }

    fn runtime_version(&self, at: H256) -> Result<RuntimeVersion, BackendError> {
        self.client.runtime_version(&at).map_err(backend_err)
    }

    fn submit_extrinsic(&self, extrinsic: OpaqueExtrinsic) -> Result<H256, SubmitError> {
        self.submit(extrinsic, None)
    }

    fn submit_and_watch(
        &self,
        extrinsic: OpaqueExtrinsic,
    ) -> Result<(H256, mpsc::Receiver<TxStatus>), SubmitError> {
        let (tx, rx) = mpsc::channel(16);
        let hash = self.submit(extrinsic, Some(tx))?;
        Ok((hash, rx))
    }

    fn pending_extrinsics(&self) -> Vec<OpaqueExtrinsic> {
        self.txpool
            .pool
            .lock()
            .pending()
            .into_iter()
            .map(|b| OpaqueExtrinsic::from_encoded(b.to_vec()))
            .collect()
    }

    fn subscribe_new_heads(&self) -> broadcast::Receiver<Header> {
        self.client.subscribe_best()
    }

    fn subscribe_finalized_heads(&self) -> broadcast::Receiver<Header> {
        self.client.subscribe_finalized()
    }

    fn system_info(&self) -> SystemInfo {
        SystemInfo {
            name: "qstack".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            chain: self.spec.name.clone(),
            chain_type: match self.spec.chain_type {
                SpecChainType::Development => ChainType::Development,
                SpecChainType::Local => ChainType::Local,
                SpecChainType::Live => ChainType::Live,
            },
            properties: self.spec.properties.clone(),
            peers: self.network.snapshot().peers.len(),
            is_syncing: self.network.snapshot().sync.major_syncing,
            should_have_peers: self.spec.chain_type != SpecChainType::Development,
        }
    }

    fn network_peers(&self) -> Vec<qstack_rpc::PeerInfo> {
        self.network
            .snapshot()
            .peers
            .into_iter()
            .map(|p| {
                let (best_number, best_hash) = p.best.unwrap_or_default();
                qstack_rpc::PeerInfo {
                    peer_id: p.peer_id.to_string(),
                    roles: "FULL".into(),
                    best_hash,
                    best_number,
                }
            })
            .collect()
    }

    fn sync_state(&self) -> qstack_rpc::SyncState {
        let s = self.network.snapshot().sync;
        let best = self.chain_info().best_number;
        qstack_rpc::SyncState {
            starting_block: s.starting_block,
            current_block: best,
            highest_block: s.highest_block.max(best),
        }
    }

    fn local_peer_id(&self) -> Option<String> {
        Some(self.network.local_peer_id().to_string())
    }

    fn local_listen_addresses(&self) -> Vec<String> {
        let me = self.network.local_peer_id();
        self.network
            .snapshot()
            .listen_addrs
            .iter()
            .map(|a| format!("{a}/p2p/{me}"))
            .collect()
    }

    fn network_state(&self) -> Option<serde_json::Value> {
        let snap = self.network.snapshot();
        let peers: serde_json::Map<String, serde_json::Value> = snap
            .peers
            .iter()
            .map(|p| {
                (
                    p.peer_id.to_string(),
                    serde_json::json!({
                        "endpoint": if p.inbound {
                            serde_json::json!({ "listening": { "sendBackAddr": p.address.to_string() } })
                        } else {
                            serde_json::json!({ "dialing": p.address.to_string() })
                        },
                        "versionString": p.agent,
                        "reputation": p.score,
                        "bestNumber": p.best.map(|b| b.0),
                        "bestHash": p.best.map(|b| format!("{:?}", b.1)),
                    }),
                )
            })
            .collect();
        Some(serde_json::json!({
            "peerId": self.network.local_peer_id().to_string(),
            "listenedAddresses": snap.listen_addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            "externalAddresses": snap.external_addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            "connectedPeers": peers,
            "bannedPeers": snap.banned,
            "sync": {
                "startingBlock": snap.sync.starting_block,
                "currentBlock": snap.sync.current_block,
                "highestBlock": snap.sync.highest_block,
                "queuedBlocks": snap.sync.queued_blocks,
                "majorSyncing": snap.sync.major_syncing,
            },
        }))
    }

    fn account_nonce(&self, who: &AccountId) -> Result<Nonce, BackendError> {
        let out = self
            .client
            .call_at(&self.best(), "AccountNonceApi_account_nonce", &who.encode())
            .map_err(backend_err)?;
        let onchain = <Nonce as codec::Decode>::decode(&mut &out[..])
            .map_err(|e| BackendError::Call(e.to_string()))?;
        // Advance past this sender's transactions already in the pool.
        let mut pooled: Vec<(Option<Nonce>, Nonce)> = self
            .txpool
            .pool
            .lock()
            .pending()
            .iter()
            .filter_map(|raw| {
                let xt = qstack_runtime::Extrinsic::decode_strict(
                    raw,
                    qstack_runtime::RuntimeCall::is_known,
                )
                .ok()?;
                let (address, _, extra) = xt.signature?;
                let signer = match address {
                    qstack_runtime_primitives::MultiAddress::Id(id) => id,
                    qstack_runtime_primitives::MultiAddress::Key(pk) => pk.account_id(),
                };
                if signer != *who {
                    return None;
                }
                // `create_tickets(n)` moves the nonce past n more numbers.
                let reserved = match &xt.function {
                    qstack_runtime::RuntimeCall::Accounts(
                        qstack_runtime::accounts::Call::CreateTickets { count },
                    ) => (*count).min(qstack_runtime::accounts::MAX_TICKETS),
                    _ => 0,
                };
                // Transactions spending tickets leave the nonce alone (those
                // creating tickets with a ticket move it from where it is).
                Some(match extra.ticket {
                    None => (Some(extra.nonce), reserved),
                    Some(_) => (None, reserved),
                })
            })
            .collect();
        pooled.sort_unstable();
        let mut next = onchain;
        // Ticket-spending ticket creators first: they move the nonce at once.
        for (n, reserved) in &pooled {
            if n.is_none() {
                next = next.saturating_add(*reserved);
            }
        }
        for (n, reserved) in pooled {
            if n == Some(next) {
                next = next.saturating_add(1).saturating_add(reserved);
            }
        }
        Ok(next)
    }

    fn account_info(&self, who: &AccountId) -> Result<AccountInfo, BackendError> {
        let out = self
            .client
            .call_at(&self.best(), "QstackAccountApi_account_info", &who.encode())
            .map_err(backend_err)?;
        let view = <qstack_runtime::apis::AccountView as codec::Decode>::decode(&mut &out[..])
            .map_err(|e| BackendError::Call(e.to_string()))?;
        Ok(AccountInfo {
            nonce: view.nonce,
            free: view.free,
            key: view.key,
            settings: view.settings,
        })
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The timestamp for a block on `parent`: wall clock, but never earlier than
/// the parent's time plus the runtime's minimum period.
fn block_time(client: &Client, parent: &H256) -> u64 {
    now_ms().max(
        parent_time(client, parent).saturating_add(qstack_runtime::timestamp::MINIMUM_PERIOD_MS),
    )
}

/// The timestamp of block `parent` (`Timestamp.Now` in its state; 0 for genesis).
fn parent_time(client: &Client, parent: &H256) -> u64 {
    let key = qstack_runtime_primitives::storage::item_prefix("Timestamp", "Now");
    client
        .storage(parent, &key)
        .ok()
        .flatten()
        .and_then(|v| <u64 as codec::Decode>::decode(&mut &v[..]).ok())
        .unwrap_or(0)
}

/// Authors one block on the best block with the ready transactions; the
/// header names `author` (a `PreRuntime` item, `AUTHOR_ENGINE_ID`) so the
/// runtime pays it the author's share of fees.
/// A block the dev engine built, with what became of the pool's transactions.
struct Authored {
    built: qstack_client::BuiltBlock,
    included: Vec<TxHash>,
    rejected: Vec<(TxHash, TransactionValidityError)>,
}

/// Builds a block on the best block from the pool's ready transactions.
fn build_dev_block(
    client: &Client,
    txpool: &TxPool,
    author: Option<&AccountId>,
) -> Result<Authored> {
    let best = client.info()?.best_hash;
    let ready = txpool.pool.lock().ready();
    let txs: Vec<Arc<Vec<u8>>> = ready.iter().map(|(_, b)| b.clone()).collect();
    let mut inherents = BTreeMap::new();
    inherents.insert(
        qstack_runtime::timestamp::INHERENT_IDENTIFIER,
        block_time(client, &best).encode(),
    );
    let digest = author.map(Digest::with_author).unwrap_or_default();
    let built = client.build_block(&best, &inherents, digest, &txs)?;
    let included: Vec<TxHash> = built
        .included
        .iter()
        .filter_map(|i| ready.get(*i).map(|(h, _)| *h))
        .collect();
    let rejected: Vec<(TxHash, TransactionValidityError)> = built
        .rejected
        .iter()
        .filter_map(|(i, e)| ready.get(*i).map(|(h, _)| (*h, *e)))
        .collect();
    Ok(Authored {
        built,
        included,
        rejected,
    })
}

/// Stores a built dev block (final: nobody else decides) and updates the pool.
fn import_dev_block(client: &Client, txpool: &TxPool, authored: Authored) -> Result<Header> {
    let Authored {
        built,
        included,
        rejected,
    } = authored;
    let header = built.block.header.clone();
    let hash = header.hash();
    match client.commit_built(built, None, true)? {
        ImportOutcome::Imported { .. } | ImportOutcome::AlreadyKnown => {}
    }
    txpool.on_imported(client, hash, &included, &rejected, true);
    tracing::info!(target: "qstack::author", "authored #{} ({hash}) with {} transactions", header.number, included.len());
    Ok(header)
}

/// Opens the chain's database at `db_path` and the client over it, writing
/// genesis on first use. `pruning: None` keeps an existing database's mode
/// (default mode for a new one).
pub fn open_client(
    spec: &ChainSpec,
    db_path: &Path,
    pruning: Option<PruningMode>,
) -> Result<Client> {
    std::fs::create_dir_all(db_path).with_context(|| format!("creating {}", db_path.display()))?;
    let store = Store::open(
        db_path,
        StoreConfig {
            pruning: pruning.unwrap_or_default(),
            adopt_stored_pruning: pruning.is_none(),
            ..Default::default()
        },
    )
    .with_context(|| {
        format!(
            "opening the database at {} (is another qstack process using this base path?)",
            db_path.display()
        )
    })?;
    let executor = Arc::new(Executor::new(ExecutorConfig::default())?);
    Ok(Client::new(
        Arc::new(store),
        executor,
        &spec.genesis_source()?,
    )?)
}

/// Runs the node until Ctrl-C.
pub async fn run(config: NodeConfig) -> Result<()> {
    let client = Arc::new(open_client(
        &config.spec,
        &config.db_path,
        Some(config.pruning),
    )?);
    let info = client.info()?;
    tracing::info!(target: "qstack", "chain {} ({}), genesis {}, best #{} ({})", config.spec.name, config.spec.id, info.genesis_hash, info.best_number, info.best_hash);
    let txpool = Arc::new(TxPool::new());
    let bft_set = config.spec.consensus.bft_validators()?;
    let justify: Option<Justify> = bft_set.clone().map(|set| {
        let genesis = info.genesis_hash;
        Arc::new(move |h: &Header, j: Option<&[u8]>| {
            bft::verify_justification(&genesis, &set, h, j)
        }) as Justify
    });
    let (network, consensus_messages) = qstack_network::start(
        config.network,
        Arc::new(NetChain {
            client: client.clone(),
            txpool: Some(txpool.clone()),
            // Dev blocks are final as authored; BFT blocks once their certificate checks.
            finalize_on_import: true,
            justify,
        }),
    )?;
    tracing::info!(target: "qstack", "local peer id: {}", network.local_peer_id());
    let node = Arc::new(Node {
        client: client.clone(),
        txpool: txpool.clone(),
        spec: config.spec.clone(),
        network: network.clone(),
    });
    tracing::info!(target: "qstack", "node name: {}{}", config.name, if config.validator { " (authoring)" } else { " (following)" });
    let rpc = qstack_rpc::start(
        qstack_rpc::RpcConfig {
            listen_addr: config.rpc_addr,
            ..Default::default()
        },
        node.clone(),
    )
    .await?;
    tracing::info!(target: "qstack", "JSON-RPC listening on {}", rpc.local_addr());

    let mode = match &config.spec.consensus {
        ConsensusSpec::Dev { block_time_ms } if *block_time_ms > 0 && !config.instant_seal => {
            SealMode::Interval(*block_time_ms)
        }
        ConsensusSpec::Dev { .. } => SealMode::Instant,
        ConsensusSpec::Bft {
            block_time_ms,
            timeouts,
            ..
        } => {
            let set = bft_set.context("a bft spec has validators")?;
            let chain_dir = config
                .db_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| config.db_path.clone());
            let key = if config.validator {
                Some(crate::keystore::load(
                    &chain_dir.join("keystore").join("validator.json"),
                )?)
            } else {
                None
            };
            let params = bft::BftParams {
                set,
                config: timeouts.config(),
                block_time_ms: *block_time_ms,
                key,
                dir: chain_dir.join("bft"),
                author: config.author,
            };
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            let result = bft::run(
                client,
                txpool,
                network,
                consensus_messages,
                params,
                shutdown,
            )
            .await;
            tracing::info!(target: "qstack", "shutting down");
            rpc.stop();
            rpc.stopped().await;
            return result;
        }
    };
    let mut engine = DevEngine::new(mode);
    let start = Instant::now();
    let now = move || start.elapsed().as_millis() as u64;
    let mut wake = tokio::time::Instant::now();
    let shutdown = tokio::signal::ctrl_c();
    tokio::pin!(shutdown);
    // The block built and not yet imported.
    let mut pending: Option<Authored> = None;
    let mut queue: std::collections::VecDeque<Action> = engine.start(now()).into();
    loop {
        while let Some(action) = queue.pop_front() {
            let reply = match action {
                Action::BuildBlock { request, .. } if !config.validator => {
                    vec![Input::BuildFailed { request }]
                }
                Action::BuildBlock { request, .. } => {
                    let (client, txpool) = (client.clone(), txpool.clone());
                    let author = config.author;
                    match tokio::task::spawn_blocking(move || {
                        build_dev_block(&client, &txpool, author.as_ref())
                    })
                    .await?
                    {
                        Ok(authored) => {
                            let header = &authored.built.block.header;
                            let (hash, number) = (header.hash(), header.number);
                            pending = Some(authored);
                            vec![Input::Built {
                                request,
                                hash,
                                number,
                            }]
                        }
                        Err(e) => {
                            tracing::error!(target: "qstack::author", "could not author a block: {e:#}");
                            vec![Input::BuildFailed { request }]
                        }
                    }
                }
                Action::ImportBlock { hash, .. } => match pending.take() {
                    Some(authored) if authored.built.block.header.hash() == hash => {
                        let (client, txpool) = (client.clone(), txpool.clone());
                        match tokio::task::spawn_blocking(move || {
                            import_dev_block(&client, &txpool, authored)
                        })
                        .await?
                        {
                            Ok(header) => {
                                let (number, parent) = (header.number, header.parent_hash);
                                network.announce_block(header);
                                vec![Input::BlockImported {
                                    hash,
                                    number,
                                    parent,
                                    best: true,
                                    own: true,
                                }]
                            }
                            Err(e) => {
                                tracing::error!(target: "qstack::author", "could not import our block: {e:#}");
                                Vec::new()
                            }
                        }
                    }
                    _ => Vec::new(),
                },
                Action::WakeAt(at) => {
                    wake = tokio::time::Instant::from_std(start + Duration::from_millis(at));
                    Vec::new()
                }
                // Imported final already; the dev engine asks for nothing else.
                Action::Finalize(_)
                | Action::CheckBlock { .. }
                | Action::SetBest(_)
                | Action::Broadcast(_)
                | Action::Persist(_)
                | Action::Report(_) => Vec::new(),
            };
            for input in reply {
                queue.extend(engine.handle(now(), input));
            }
        }
        let input = tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep_until(wake), if matches!(mode, SealMode::Interval(_)) => Input::Tick,
            _ = txpool.ready.notified() => Input::TransactionsReady { count: txpool.pool.lock().status().ready },
        };
        queue.extend(engine.handle(now(), input));
    }
    tracing::info!(target: "qstack", "shutting down");
    rpc.stop();
    rpc.stopped().await;
    Ok(())
}
