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
}

/// The client's runtime at a block, for the runtime's typed API callers.
pub(crate) struct AtBlock<'a>(pub(crate) &'a Client, pub(crate) H256);

/// Why a typed runtime call failed.
#[derive(Debug)]
pub(crate) enum CallError {
    Client(qstack_client::ClientError),
    Output(OutputError),
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
        let at = AtBlock(&self.client, self.best());
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
        let at = AtBlock(&self.client, self.best());
        let view = called(apis::client::QstackAccountApi::account_info(&at, *who))?;
        Ok(AccountInfo {
            nonce: view.nonce,
            free: view.free,
            key: view.key,
            settings: view.settings,
        })
    }
}
