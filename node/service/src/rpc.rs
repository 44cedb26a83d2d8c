//! The node's [`RpcBackend`]: chain, state and runtime calls through the
//! client, submissions into the pool (and out to the network), system and
//! network state from the network handle.

use crate::chain_spec::{ChainSpec, ChainType as SpecChainType};
use crate::net::info_or_zero;
use crate::txpool::{status_of, RuntimeValidator, TxPool};
use codec::Encode;
use qstack_client::Client;
use qstack_core::{AccountId, Nonce, H256};
use qstack_rpc::{
    AccountInfo, BackendError, BlockData, ChainInfo, ChainType, RpcBackend, SubmitError,
    SystemInfo, TxStatus,
};
use qstack_runtime::apis;
use qstack_runtime_primitives::{Header, OpaqueExtrinsic, RuntimeVersion, TransactionSource};
use qstack_support::apis::{OutputError, RuntimeCaller};
use qstack_txpool::PoolError;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};

/// The node's implementation of the RPC backend.
pub struct Node {
    /// The client.
    pub client: Arc<Client>,
    /// The pool submissions go to.
    pub txpool: Arc<TxPool>,
    /// The chain spec (name, type and properties for `system_*`).
    pub spec: ChainSpec,
    /// The network (peers, sync state; submissions are gossiped).
    pub network: qstack_network::NetworkHandle,
    /// The runtime calls RPC may run at once.
    pub calls: Arc<CallGate>,
}

/// The JSON-RPC server on a runtime of its own (one worker thread, a few
/// blocking threads): however hard RPC is hammered, its tasks never queue
/// in front of the network's and the consensus shell's, and it can take at
/// most about two threads' worth of the machine.
pub struct RpcServer {
    handle: Option<qstack_rpc::RpcHandle>,
    runtime: Option<tokio::runtime::Runtime>,
}

/// Blocking threads of the RPC runtime (database and runtime reads).
const RPC_BLOCKING_THREADS: usize = 8;

impl RpcServer {
    /// Starts the server on its own runtime (call from any tokio runtime).
    pub async fn start(
        config: qstack_rpc::RpcConfig,
        backend: Arc<dyn qstack_rpc::RpcBackend>,
    ) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(RPC_BLOCKING_THREADS)
            .thread_name("qstack-rpc")
            .enable_all()
            .build()?;
        let handle = runtime.spawn(qstack_rpc::start(config, backend)).await??;
        Ok(Self {
            handle: Some(handle),
            runtime: Some(runtime),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.handle.as_ref().map_or_else(
            || std::net::SocketAddr::from(([0, 0, 0, 0], 0)),
            |h| h.local_addr(),
        )
    }

    /// Stops the server and its runtime.
    pub async fn stop(mut self) {
        if let Some(h) = self.handle.take() {
            h.stop();
            h.stopped().await;
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for RpcServer {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.stop();
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Runtime calls (queries, pool validation of submissions) RPC may run at
/// once, at most: the executor's other instances and the blocking pool stay
/// free for block import and consensus however hard RPC is hammered.
pub const RPC_RUNTIME_CALLS: usize = 4;

/// The RPC runtime slots for this machine: half its cores (at least one, at
/// most [`RPC_RUNTIME_CALLS`]), so a storm of queries leaves the other half
/// to import and consensus.
pub fn rpc_runtime_slots() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    (cores / 2).clamp(1, RPC_RUNTIME_CALLS)
}
/// Fuel one RPC runtime query may burn (block execution may use 25 times
/// as much): a query that loops is cut off in about a second.
pub const RPC_CALL_FUEL: u64 = 2_000_000_000;
/// How long an RPC call waits for a free slot before it is told the node
/// is busy.
pub const RPC_CALL_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A counting gate on RPC's runtime calls ([`RPC_RUNTIME_CALLS`]).
#[derive(Debug)]
pub struct CallGate {
    max: usize,
    used: parking_lot::Mutex<usize>,
    freed: parking_lot::Condvar,
}

impl CallGate {
    /// A gate letting `max` calls through at once.
    pub fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            used: parking_lot::Mutex::new(0),
            freed: parking_lot::Condvar::new(),
        }
    }

    /// Waits up to `wait` for a slot; `Busy` if none frees.
    pub fn enter(&self, wait: std::time::Duration) -> Result<GateSlot<'_>, BackendError> {
        let deadline = std::time::Instant::now() + wait;
        let mut used = self.used.lock();
        while *used >= self.max {
            if self.freed.wait_until(&mut used, deadline).timed_out() && *used >= self.max {
                return Err(BackendError::Busy(format!(
                    "all {} runtime call slots RPC may use are taken",
                    self.max
                )));
            }
        }
        *used += 1;
        Ok(GateSlot(self))
    }

    /// Slots taken now.
    pub fn in_use(&self) -> usize {
        *self.used.lock()
    }
}

/// A slot of a [`CallGate`], given back when dropped.
#[derive(Debug)]
pub struct GateSlot<'a>(&'a CallGate);

impl Drop for GateSlot<'_> {
    fn drop(&mut self) {
        let mut used = self.0.used.lock();
        *used = used.saturating_sub(1);
        self.0.freed.notify_one();
    }
}

/// The client's runtime at a block for RPC: a slot of the gate and the
/// smaller fuel budget.
pub(crate) struct RpcAt<'a>(pub(crate) &'a Node, pub(crate) H256);

impl RuntimeCaller for RpcAt<'_> {
    type Error = CallError;
    fn call_runtime(&self, method: &str, args: &[u8]) -> Result<Vec<u8>, CallError> {
        let _slot = self.0.calls.enter(RPC_CALL_WAIT).map_err(CallError::Busy)?;
        self.0
            .client
            .call_at_with_fuel(&self.1, method, args, RPC_CALL_FUEL)
            .map_err(CallError::Client)
    }
}

/// The client's runtime at a block, for the runtime's typed API callers.
pub(crate) struct AtBlock<'a>(pub(crate) &'a Client, pub(crate) H256);

/// Why a typed runtime call failed.
#[derive(Debug)]
pub(crate) enum CallError {
    Client(qstack_client::ClientError),
    Output(OutputError),
    Busy(BackendError),
}

impl From<OutputError> for CallError {
    fn from(e: OutputError) -> Self {
        CallError::Output(e)
    }
}

impl RuntimeCaller for AtBlock<'_> {
    type Error = CallError;
    fn call_runtime(&self, method: &str, args: &[u8]) -> Result<Vec<u8>, CallError> {
        self.0
            .call_at(&self.1, method, args)
            .map_err(CallError::Client)
    }
}

/// A typed runtime call's answer, or the backend error for its failure.
fn called<T>(r: Result<T, CallError>) -> Result<T, BackendError> {
    r.map_err(|e| match e {
        CallError::Client(e) => backend_err(e),
        CallError::Output(e) => BackendError::Call(e.to_string()),
        CallError::Busy(e) => e,
    })
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
        // Validation is a runtime call: it takes one of RPC's slots.
        let _slot = self.calls.enter(RPC_CALL_WAIT).map_err(|e| {
            SubmitError::new(qstack_rpc::error::codes::BUSY, "Node busy").with_data(e.to_string())
        })?;
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
        let _slot = self.calls.enter(RPC_CALL_WAIT)?;
        self.client
            .call_at_with_fuel(&at, method, input, RPC_CALL_FUEL)
            .map_err(backend_err)
    }

    fn runtime_version(&self, at: H256) -> Result<RuntimeVersion, BackendError> {
        // Computed once per block; only that first call takes a slot.
        let _slot = match self.client.version_cached(&at) {
            true => None,
            false => Some(self.calls.enter(RPC_CALL_WAIT)?),
        };
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

    // `subscribe_all_blocks` keeps the trait's default (best heads): the
    // client announces no import that does not become best, so a side
    // chain is reported by `chainHead_v1_follow` once it becomes best.

    fn block_children(&self, hash: H256) -> Result<Vec<H256>, BackendError> {
        self.client
            .store()
            .children(hash)
            .map_err(|e| BackendError::Other(e.to_string()))
    }

    /// Block bodies are never pruned; states are kept for ever only by an
    /// archive store (`--state-pruning archive`).
    fn keeps_all_state(&self) -> bool {
        self.client.store().pruning() == qstack_storage::PruningMode::Archive
    }

    fn broadcast_extrinsic(&self, extrinsic: &OpaqueExtrinsic) {
        self.network.publish_transaction(extrinsic.0.clone());
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
        let at = RpcAt(self, self.best());
        let onchain = called(apis::client::AccountNonceApi::account_nonce(&at, *who))?;
        // Past the sender's transactions already in the pool, as Substrate's
        // `system_accountNextIndex`: while a pooled transaction provides the
        // runtime's nonce tag `(account, nonce)`, the next one is taken. The
        // runtime's tags already account for every way a transaction moves
        // the nonce (tickets reserve theirs), so the node needs to know none.
        let pool = self.txpool.pool.lock();
        let mut next = onchain;
        while pool.provides(&(*who, next).encode()) {
            next = next.saturating_add(1);
        }
        Ok(next)
    }

    fn account_info(&self, who: &AccountId) -> Result<AccountInfo, BackendError> {
        let at = RpcAt(self, self.best());
        let view = called(apis::client::QstackAccountApi::account_info(&at, *who))?;
        Ok(AccountInfo {
            nonce: view.nonce,
            free: view.free,
            key: view.key,
            settings: view.settings,
            owned: view.owned,
            reserve: view.reserve,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn the_gate_lets_its_slots_through_then_says_busy() {
        let gate = CallGate::new(2);
        let a = gate.enter(Duration::ZERO).unwrap();
        let _b = gate.enter(Duration::ZERO).unwrap();
        assert_eq!(gate.in_use(), 2);
        let start = Instant::now();
        let err = gate.enter(Duration::from_millis(50)).unwrap_err();
        assert!(start.elapsed() >= Duration::from_millis(50));
        assert!(matches!(err, BackendError::Busy(_)), "{err:?}");
        // A slot given back lets a waiting call in.
        std::thread::scope(|s| {
            let waiter = s.spawn(|| gate.enter(Duration::from_secs(10)).map(|_| ()));
            std::thread::sleep(Duration::from_millis(20));
            drop(a);
            waiter.join().unwrap().expect("the freed slot");
        });
        assert_eq!(gate.in_use(), 1);
        assert!((1..=RPC_RUNTIME_CALLS).contains(&rpc_runtime_slots()));
    }

    #[test]
    fn rpc_runtime_calls_run_on_a_smaller_fuel_budget() {
        let spec = ChainSpec::load("dev").unwrap();
        let executor = Arc::new(
            qstack_executor::Executor::new(qstack_executor::ExecutorConfig::default()).unwrap(),
        );
        let client = crate::client_on(&executor, &spec.genesis_source().unwrap(), None).unwrap();
        let best = client.info().unwrap().best_hash;
        // Ordinary queries fit the RPC budget.
        client
            .call_at_with_fuel(&best, "Metadata_metadata", &[], RPC_CALL_FUEL)
            .unwrap();
        // A call past its budget stops with the budget named, and the
        // budget never exceeds the executor's own.
        let err = client
            .call_at_with_fuel(&best, "Metadata_metadata", &[], 10_000)
            .unwrap_err();
        assert!(
            err.to_string().contains("ran out of fuel (10000 units)"),
            "{err}"
        );
        let err = client
            .call_at_with_fuel(&best, "Metadata_metadata", &[], 1)
            .unwrap_err();
        assert!(err.to_string().contains("(1 units)"), "{err}");
        assert!(RPC_CALL_FUEL < qstack_executor::ExecutorConfig::default().fuel_per_call);
    }
}
