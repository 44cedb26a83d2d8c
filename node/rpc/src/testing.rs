//! An in-memory [`RpcBackend`] for tests (feature `test-utils`): a chain
//! with a full state copy per block, forks the test grows and reorganises
//! onto ([`TestBackend::import_on`], [`TestBackend::set_best`]), scripted
//! runtime-call answers, a pool that accepts or refuses on command, and
//! transaction watchers the test drives with [`TestBackend::send_status`],
//! and scripted networking ([`TestNetwork`]; [`TestBackend::set_network`]
//! with `None` turns it off).

use crate::backend::{
    AccountInfo, BackendError, BlockData, ChainInfo, ChainType, Justification, PeerInfo,
    RpcBackend, SubmitError, SyncState, SystemInfo, TxStatus,
};
use crate::error::codes;
use codec::Encode;
use qstack_core::{hashing::blake2_256, AccountId, BlockNumber, Nonce, H256};
use qstack_runtime_primitives::version::apis;
use qstack_runtime_primitives::{
    extrinsics_root, Digest, DigestItem, Header, OpaqueExtrinsic, RuntimeVersion,
};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

struct Stored {
    block: BlockData,
    state: State,
    version: RuntimeVersion,
}

struct Inner {
    blocks: HashMap<H256, Stored>,
    /// Canonical hashes by number.
    canonical: Vec<H256>,
    finalized: BlockNumber,
    /// Version given to blocks imported from now on.
    next_version: RuntimeVersion,
    calls: HashMap<String, Result<Vec<u8>, String>>,
    call_log: Vec<(H256, String, Vec<u8>)>,
    accounts: BTreeMap<AccountId, AccountInfo>,
    pool: Vec<(H256, OpaqueExtrinsic)>,
    watchers: HashMap<H256, mpsc::Sender<TxStatus>>,
    refuse: Option<SubmitError>,
    system: SystemInfo,
    network: Option<TestNetwork>,
    /// Whether the backend says it keeps every state (it does).
    archive: bool,
    /// Every `broadcast_extrinsic` call, in order.
    broadcasts: Vec<OpaqueExtrinsic>,
    /// Makes sibling forks' headers differ.
    forks: u32,
}

/// What the test backend's networking reports.
#[derive(Clone, Debug, PartialEq)]
pub struct TestNetwork {
    /// This node's peer id.
    pub local_peer_id: String,
    /// The addresses it listens on.
    pub listen_addresses: Vec<String>,
    /// The connected peers.
    pub peers: Vec<PeerInfo>,
    /// The `system_networkState` object.
    pub state: serde_json::Value,
    /// `startingBlock` of the sync state (`currentBlock` is the best block).
    pub starting_block: BlockNumber,
    /// `highestBlock` of the sync state, raised to the best block if below it.
    pub highest_block: BlockNumber,
}

/// The peer id a fresh [`TestBackend`] reports.
pub const TEST_PEER_ID: &str = "12D3KooWQstackTestNodeLocal";

/// The networking a fresh [`TestBackend`] reports: two peers, two listen
/// addresses, a sync target of block 9.
pub fn test_network() -> TestNetwork {
    let listen_addresses = vec![
        format!("/ip4/127.0.0.1/tcp/30333/p2p/{TEST_PEER_ID}"),
        format!("/ip6/::1/tcp/30333/p2p/{TEST_PEER_ID}"),
    ];
    let peers = vec![
        PeerInfo {
            peer_id: "12D3KooWQstackTestPeerOne".into(),
            roles: "FULL".into(),
            best_hash: H256([0x11; 32]),
            best_number: 7,
        },
        PeerInfo {
            peer_id: "12D3KooWQstackTestPeerTwo".into(),
            roles: "AUTHORITY".into(),
            best_hash: H256([0x22; 32]),
            best_number: 9,
        },
    ];
    let state = serde_json::json!({
        "peerId": TEST_PEER_ID,
        "listenedAddresses": listen_addresses,
        "externalAddresses": [],
        "connectedPeers": {
            "12D3KooWQstackTestPeerOne": {"endpoint": "dialing", "bestNumber": 7},
            "12D3KooWQstackTestPeerTwo": {"endpoint": "listening", "bestNumber": 9},
        },
        "notConnectedPeers": {},
    });
    TestNetwork {
        local_peer_id: TEST_PEER_ID.into(),
        listen_addresses,
        peers,
        state,
        starting_block: 0,
        highest_block: 9,
    }
}

/// The in-memory backend. Cheap to share behind an `Arc`.
pub struct TestBackend {
    inner: Mutex<Inner>,
    new_heads: broadcast::Sender<Header>,
    finalized_heads: broadcast::Sender<Header>,
    all_blocks: broadcast::Sender<Header>,
    /// While true, runtime calls wait (see [`TestBackend::pause_calls`]).
    paused: Mutex<bool>,
    resumed: Condvar,
}

/// Longest a runtime call waits on [`TestBackend::pause_calls`], so a test
/// that forgets to resume fails instead of hanging.
const LONGEST_PAUSE: Duration = Duration::from_secs(30);

/// The runtime version a fresh [`TestBackend`] reports.
pub fn test_runtime_version() -> RuntimeVersion {
    RuntimeVersion {
        spec_name: Cow::Borrowed("qstack-test"),
        impl_name: Cow::Borrowed("qstack-test-node"),
        authoring_version: 1,
        spec_version: 100,
        impl_version: 0,
        apis: Cow::Owned(apis(&[("Core", 5), ("Metadata", 2)])),
        transaction_version: 1,
        system_version: 1,
    }
}

/// The metadata bytes `Metadata_metadata` returns (SCALE `Vec<u8>` around them).
pub const TEST_METADATA: &[u8] = b"meta\x0ftest-metadata";

impl Default for TestBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl TestBackend {
    /// A chain with an empty genesis state.
    pub fn new() -> Self {
        Self::with_genesis(Vec::new())
    }

    /// A chain whose genesis state holds `storage`.
    pub fn with_genesis(storage: Vec<(Vec<u8>, Vec<u8>)>) -> Self {
        let state: State = storage.into_iter().collect();
        let genesis = Header::genesis(state_root(&state));
        let hash = genesis.hash();
        let version = test_runtime_version();
        let mut blocks = HashMap::new();
        blocks.insert(
            hash,
            Stored {
                block: BlockData {
                    header: genesis,
                    extrinsics: Vec::new(),
                    justifications: Vec::new(),
                },
                state,
                version: version.clone(),
            },
        );
        let mut calls = HashMap::new();
        calls.insert(
            "Metadata_metadata".to_owned(),
            Ok(TEST_METADATA.to_vec().encode()),
        );
        let (new_heads, _) = broadcast::channel(64);
        let (finalized_heads, _) = broadcast::channel(64);
        let (all_blocks, _) = broadcast::channel(64);
        TestBackend {
            inner: Mutex::new(Inner {
                blocks,
                canonical: vec![hash],
                finalized: 0,
                next_version: version,
                calls,
                call_log: Vec::new(),
                accounts: BTreeMap::new(),
                pool: Vec::new(),
                watchers: HashMap::new(),
                refuse: None,
                system: SystemInfo {
                    name: "qstack".into(),
                    version: "0.1.0-test".into(),
                    chain: "qstack Test".into(),
                    chain_type: ChainType::Development,
                    properties: serde_json::json!({"tokenSymbol": "QST", "tokenDecimals": 12})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                    peers: 0,
                    is_syncing: false,
                    should_have_peers: false,
                },
                network: Some(test_network()),
                archive: true,
                broadcasts: Vec::new(),
                forks: 0,
            }),
            new_heads,
            finalized_heads,
            all_blocks,
            paused: Mutex::new(false),
            resumed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A test that panicked while holding the lock has failed already.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hash of block 0.
    pub fn genesis_hash(&self) -> H256 {
        self.lock().canonical.first().copied().unwrap_or_default()
    }

    /// Hash of the best block.
    pub fn best_hash(&self) -> H256 {
        self.lock().canonical.last().copied().unwrap_or_default()
    }

    /// Imports a child of the best block holding `extrinsics`, whose state is
    /// the parent's with `changes` applied (`None` deletes), and announces it
    /// as the new best head. Returns its header.
    pub fn import(
        &self,
        extrinsics: Vec<OpaqueExtrinsic>,
        changes: &[(Vec<u8>, Option<Vec<u8>>)],
    ) -> Header {
        let header = {
            let mut inner = self.lock();
            let parent = inner.canonical.last().copied().unwrap_or_default();
            let header = Self::store_child(&mut inner, parent, extrinsics, changes, None);
            inner.canonical.push(header.hash());
            header
        };
        let _no_subscribers = self.all_blocks.send(header.clone());
        let _no_subscribers = self.new_heads.send(header.clone());
        header
    }

    /// Imports a child of block `parent` (any stored block) as [`Self::import`]
    /// does, but on a side chain: it is announced as imported, not as best
    /// (see [`Self::set_best`]). Its header differs from any sibling's.
    /// `None` if `parent` is unknown.
    pub fn import_on(
        &self,
        parent: H256,
        extrinsics: Vec<OpaqueExtrinsic>,
        changes: &[(Vec<u8>, Option<Vec<u8>>)],
    ) -> Option<Header> {
        let header = {
            let mut inner = self.lock();
            if !inner.blocks.contains_key(&parent) {
                return None;
            }
            inner.forks = inner.forks.wrapping_add(1);
            let nonce = inner.forks;
            Self::store_child(&mut inner, parent, extrinsics, changes, Some(nonce))
        };
        let _no_subscribers = self.all_blocks.send(header.clone());
        Some(header)
    }

    /// Makes stored block `hash` the best block (the best chain becomes its
    /// ancestry) and announces it as the new best head; `false` if unknown.
    pub fn set_best(&self, hash: H256) -> bool {
        let header = {
            let mut inner = self.lock();
            if !Self::reorg_to(&mut inner, hash) {
                return false;
            }
            inner.blocks.get(&hash).map(|s| s.block.header.clone())
        };
        if let Some(header) = header {
            let _no_subscribers = self.new_heads.send(header);
        }
        true
    }

    /// Points the canonical index at `hash`'s ancestry.
    fn reorg_to(inner: &mut Inner, hash: H256) -> bool {
        let mut chain = Vec::new();
        let mut cursor = hash;
        loop {
            let Some(stored) = inner.blocks.get(&cursor) else {
                return false;
            };
            chain.push(cursor);
            if stored.block.header.number == 0 {
                break;
            }
            cursor = stored.block.header.parent_hash;
        }
        chain.reverse();
        inner.canonical = chain;
        true
    }

    fn store_child(
        inner: &mut Inner,
        parent_hash: H256,
        extrinsics: Vec<OpaqueExtrinsic>,
        changes: &[(Vec<u8>, Option<Vec<u8>>)],
        fork: Option<u32>,
    ) -> Header {
        {
            let number = inner
                .blocks
                .get(&parent_hash)
                .map_or(0, |p| p.block.header.number.saturating_add(1));
            let mut state = inner
                .blocks
                .get(&parent_hash)
                .map(|s| s.state.clone())
                .unwrap_or_default();
            for (k, v) in changes {
                match v {
                    Some(v) => state.insert(k.clone(), v.clone()),
                    None => state.remove(k),
                };
            }
            let mut digest = Digest::default();
            digest.push(DigestItem::PreRuntime(*b"TEST", number.encode()));
            if let Some(nonce) = fork {
                digest.push(DigestItem::PreRuntime(*b"FORK", nonce.encode()));
            }
            let header = Header {
                parent_hash,
                number,
                state_root: state_root(&state),
                extrinsics_root: extrinsics_root(&extrinsics),
                digest,
            };
            let hash = header.hash();
            let version = inner.next_version.clone();
            inner.blocks.insert(
                hash,
                Stored {
                    block: BlockData {
                        header: header.clone(),
                        extrinsics,
                        justifications: Vec::new(),
                    },
                    state,
                    version,
                },
            );
            header
        }
    }

    /// Marks block `hash` (and its ancestors) final and announces it. A
    /// block off the best chain becomes best first (announced as such).
    pub fn finalize(&self, hash: H256) {
        let (header, reorged) = {
            let mut inner = self.lock();
            let Some(stored) = inner.blocks.get(&hash) else {
                return;
            };
            let header = stored.block.header.clone();
            let canonical = inner.canonical.get(header.number as usize) == Some(&hash);
            if !canonical && !Self::reorg_to(&mut inner, hash) {
                return;
            }
            inner.finalized = header.number;
            (header, !canonical)
        };
        if reorged {
            let _no_subscribers = self.new_heads.send(header.clone());
        }
        let _no_subscribers = self.finalized_heads.send(header);
    }

    /// Whether [`RpcBackend::keeps_all_state`] says yes (the default): set
    /// before starting a server, which decides once.
    pub fn set_keeps_all_state(&self, archive: bool) {
        self.lock().archive = archive;
    }

    /// Every extrinsic [`RpcBackend::broadcast_extrinsic`] was given, in order.
    pub fn broadcasts(&self) -> Vec<OpaqueExtrinsic> {
        self.lock().broadcasts.clone()
    }

    /// Stores a justification beside block `hash`.
    pub fn add_justification(&self, hash: H256, justification: Justification) {
        if let Some(stored) = self.lock().blocks.get_mut(&hash) {
            stored.block.justifications.push(justification);
        }
    }

    /// The runtime version of blocks imported from now on.
    pub fn set_runtime_version(&self, version: RuntimeVersion) {
        self.lock().next_version = version;
    }

    /// What runtime API `method` answers from now on (at every block).
    pub fn set_call(&self, method: &str, answer: Result<Vec<u8>, String>) {
        self.lock().calls.insert(method.to_owned(), answer);
    }

    /// Holds every runtime call from now on until [`Self::resume_calls`]
    /// (at most 30 s), so a test can see an operation while it runs.
    pub fn pause_calls(&self) {
        *self.paused.lock().unwrap_or_else(|e| e.into_inner()) = true;
    }

    /// Lets held and future runtime calls run.
    pub fn resume_calls(&self) {
        *self.paused.lock().unwrap_or_else(|e| e.into_inner()) = false;
        self.resumed.notify_all();
    }

    fn wait_while_paused(&self) {
        let paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        let _resumed = self
            .resumed
            .wait_timeout_while(paused, LONGEST_PAUSE, |p| *p)
            .unwrap_or_else(|e| e.into_inner());
    }

    /// Every runtime call made so far: (block, method, input).
    pub fn call_log(&self) -> Vec<(H256, String, Vec<u8>)> {
        self.lock().call_log.clone()
    }

    /// Sets an account's nonce, balance and key.
    pub fn set_account(&self, who: AccountId, info: AccountInfo) {
        self.lock().accounts.insert(who, info);
    }

    /// Refuses every submission with `error` from now on (`None` accepts again).
    pub fn refuse_submissions(&self, error: Option<SubmitError>) {
        self.lock().refuse = error;
    }

    /// Pushes `status` to the watcher of transaction `tx`; `false` if nobody
    /// watches it (any more). A final status removes the transaction from the pool.
    pub fn send_status(&self, tx: H256, status: TxStatus) -> bool {
        let mut inner = self.lock();
        if status.is_final() {
            inner.pool.retain(|(h, _)| *h != tx);
        }
        let Some(watcher) = inner.watchers.get(&tx) else {
            return false;
        };
        // The sender is kept after a final status: ending the subscription
        // then is the server's job, and the tests check it does.
        let sent = watcher.try_send(status).is_ok();
        if !sent {
            inner.watchers.remove(&tx);
        }
        sent
    }

    /// Changes the node information `system_*` reports.
    pub fn update_system(&self, f: impl FnOnce(&mut SystemInfo)) {
        f(&mut self.lock().system);
    }

    /// Replaces the networking the `system_*` network methods report; `None`
    /// behaves as a node whose networking is not running.
    pub fn set_network(&self, network: Option<TestNetwork>) {
        self.lock().network = network;
    }

    fn add_to_pool(&self, xt: OpaqueExtrinsic) -> Result<H256, SubmitError> {
        let mut inner = self.lock();
        if let Some(e) = &inner.refuse {
            return Err(e.clone());
        }
        let hash = H256(blake2_256(&xt.0));
        if inner.pool.iter().any(|(h, _)| *h == hash) {
            return Err(SubmitError::new(
                codes::POOL_ALREADY_IMPORTED,
                "Transaction Already Imported",
            )
            .with_data(format!("{hash:?}")));
        }
        inner.pool.push((hash, xt));
        Ok(hash)
    }

    fn stored<T>(&self, at: H256, f: impl FnOnce(&Stored) -> T) -> Result<T, BackendError> {
        self.lock()
            .blocks
            .get(&at)
            .map(f)
            .ok_or(BackendError::UnknownBlock(at))
    }
}

/// A stand-in state root (the test backend keeps no trie).
fn state_root(state: &State) -> H256 {
    H256(blake2_256(&state.encode()))
}

impl RpcBackend for TestBackend {
    fn chain_info(&self) -> ChainInfo {
        let inner = self.lock();
        let at = |n: usize| inner.canonical.get(n).copied().unwrap_or_default();
        let best_number = inner.canonical.len().saturating_sub(1);
        ChainInfo {
            genesis_hash: at(0),
            best_hash: at(best_number),
            best_number: BlockNumber::try_from(best_number).unwrap_or(BlockNumber::MAX),
            finalized_hash: at(inner.finalized as usize),
            finalized_number: inner.finalized,
        }
    }

    fn header(&self, hash: H256) -> Result<Option<Header>, BackendError> {
        Ok(self.stored(hash, |s| s.block.header.clone()).ok())
    }

    fn block(&self, hash: H256) -> Result<Option<BlockData>, BackendError> {
        Ok(self.stored(hash, |s| s.block.clone()).ok())
    }

    fn block_hash(&self, number: BlockNumber) -> Result<Option<H256>, BackendError> {
        Ok(self.lock().canonical.get(number as usize).copied())
    }

    fn storage(&self, at: H256, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        self.stored(at, |s| s.state.get(key).cloned())
    }

    fn storage_keys_paged(
        &self,
        at: H256,
        prefix: &[u8],
        count: u32,
        start_key: Option<&[u8]>,
    ) -> Result<Vec<Vec<u8>>, BackendError> {
        self.stored(at, |s| {
            s.state
                .range(prefix.to_vec()..)
                .map(|(k, _)| k)
                .take_while(|k| k.starts_with(prefix))
                .filter(|k| start_key.is_none_or(|start| k.as_slice() > start))
                .take(count as usize)
                .cloned()
                .collect()
        })
    }

    /// Not a trie proof: one "node" per present key, its `(key, value)` encoding.
    fn read_proof(&self, at: H256, keys: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, BackendError> {
        self.stored(at, |s| {
            keys.iter()
                .filter_map(|k| s.state.get(k).map(|v| (k, v).encode()))
                .collect()
        })
    }

    fn call(&self, at: H256, method: &str, input: &[u8]) -> Result<Vec<u8>, BackendError> {
        self.wait_while_paused();
        let mut inner = self.lock();
        if !inner.blocks.contains_key(&at) {
            return Err(BackendError::UnknownBlock(at));
        }
        inner.call_log.push((at, method.to_owned(), input.to_vec()));
        match inner.calls.get(method) {
            Some(Ok(out)) => Ok(out.clone()),
            Some(Err(e)) => Err(BackendError::Call(e.clone())),
            None => Err(BackendError::Call(format!(
                "the runtime has no method {method:?}"
            ))),
        }
    }

    fn runtime_version(&self, at: H256) -> Result<RuntimeVersion, BackendError> {
        self.stored(at, |s| s.version.clone())
    }

    fn submit_extrinsic(&self, extrinsic: OpaqueExtrinsic) -> Result<H256, SubmitError> {
        self.add_to_pool(extrinsic)
    }

    /// Sends `Ready` at once, as a pool does on import; the test sends the rest.
    fn submit_and_watch(
        &self,
        extrinsic: OpaqueExtrinsic,
    ) -> Result<(H256, mpsc::Receiver<TxStatus>), SubmitError> {
        let hash = self.add_to_pool(extrinsic)?;
        let (tx, rx) = mpsc::channel(16);
        let _fits = tx.try_send(TxStatus::Ready);
        self.lock().watchers.insert(hash, tx);
        Ok((hash, rx))
    }

    fn pending_extrinsics(&self) -> Vec<OpaqueExtrinsic> {
        self.lock().pool.iter().map(|(_, x)| x.clone()).collect()
    }

    fn subscribe_new_heads(&self) -> broadcast::Receiver<Header> {
        self.new_heads.subscribe()
    }

    fn subscribe_finalized_heads(&self) -> broadcast::Receiver<Header> {
        self.finalized_heads.subscribe()
    }

    fn subscribe_all_blocks(&self) -> broadcast::Receiver<Header> {
        self.all_blocks.subscribe()
    }

    fn block_children(&self, hash: H256) -> Result<Vec<H256>, BackendError> {
        let mut children: Vec<H256> = self
            .lock()
            .blocks
            .iter()
            .filter(|(h, s)| s.block.header.parent_hash == hash && **h != hash)
            .map(|(h, _)| *h)
            .collect();
        children.sort_unstable();
        Ok(children)
    }

    fn keeps_all_state(&self) -> bool {
        self.lock().archive
    }

    /// A stand-in (the test backend keeps no trie): the blake2-256 hash of
    /// every `(key, value)` under `key`, so it changes exactly when
    /// something under `key` does.
    fn closest_descendant_merkle_value(
        &self,
        at: H256,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, BackendError> {
        self.stored(at, |s| {
            let under: Vec<(&Vec<u8>, &Vec<u8>)> = s
                .state
                .range(key.to_vec()..)
                .take_while(|(k, _)| k.starts_with(key))
                .collect();
            (!under.is_empty()).then(|| blake2_256(&under.encode()).to_vec())
        })
    }

    fn broadcast_extrinsic(&self, extrinsic: &OpaqueExtrinsic) {
        self.lock().broadcasts.push(extrinsic.clone());
    }

    fn system_info(&self) -> SystemInfo {
        self.lock().system.clone()
    }

    fn account_nonce(&self, who: &AccountId) -> Result<Nonce, BackendError> {
        Ok(self.lock().accounts.get(who).map_or(0, |a| a.nonce))
    }

    fn account_info(&self, who: &AccountId) -> Result<AccountInfo, BackendError> {
        Ok(self.lock().accounts.get(who).cloned().unwrap_or_default())
    }

    fn network_peers(&self) -> Vec<PeerInfo> {
        self.lock()
            .network
            .as_ref()
            .map(|n| n.peers.clone())
            .unwrap_or_default()
    }

    /// Starting and highest block from the [`TestNetwork`], current block the
    /// best; without networking, the best block three times.
    fn sync_state(&self) -> SyncState {
        let best = self.chain_info().best_number;
        let (starting_block, highest_block) = self
            .lock()
            .network
            .as_ref()
            .map_or((best, best), |n| (n.starting_block, n.highest_block));
        SyncState {
            starting_block,
            current_block: best,
            highest_block: highest_block.max(best),
        }
    }

    fn local_peer_id(&self) -> Option<String> {
        self.lock()
            .network
            .as_ref()
            .map(|n| n.local_peer_id.clone())
    }

    fn network_state(&self) -> Option<serde_json::Value> {
        self.lock().network.as_ref().map(|n| n.state.clone())
    }

    fn local_listen_addresses(&self) -> Vec<String> {
        self.lock()
            .network
            .as_ref()
            .map(|n| n.listen_addresses.clone())
            .unwrap_or_default()
    }
}

/// A [`TestBackend`] behind only the trait's required methods: every
/// provided method (networking, the fork index, archive, broadcast) is the
/// trait's default, as for a backend that offers nothing more.
pub struct RequiredOnly(pub std::sync::Arc<TestBackend>);

impl RpcBackend for RequiredOnly {
    fn chain_info(&self) -> ChainInfo {
        self.0.chain_info()
    }
    fn header(&self, hash: H256) -> Result<Option<Header>, BackendError> {
        self.0.header(hash)
    }
    fn block(&self, hash: H256) -> Result<Option<BlockData>, BackendError> {
        self.0.block(hash)
    }
    fn block_hash(&self, number: u32) -> Result<Option<H256>, BackendError> {
        self.0.block_hash(number)
    }
    fn storage(&self, at: H256, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        self.0.storage(at, key)
    }
    fn storage_keys_paged(
        &self,
        at: H256,
        prefix: &[u8],
        count: u32,
        start_key: Option<&[u8]>,
    ) -> Result<Vec<Vec<u8>>, BackendError> {
        self.0.storage_keys_paged(at, prefix, count, start_key)
    }
    fn read_proof(&self, at: H256, keys: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, BackendError> {
        self.0.read_proof(at, keys)
    }
    fn call(&self, at: H256, method: &str, input: &[u8]) -> Result<Vec<u8>, BackendError> {
        self.0.call(at, method, input)
    }
    fn runtime_version(&self, at: H256) -> Result<RuntimeVersion, BackendError> {
        self.0.runtime_version(at)
    }
    fn submit_extrinsic(&self, extrinsic: OpaqueExtrinsic) -> Result<H256, SubmitError> {
        self.0.submit_extrinsic(extrinsic)
    }
    fn submit_and_watch(
        &self,
        extrinsic: OpaqueExtrinsic,
    ) -> Result<(H256, mpsc::Receiver<TxStatus>), SubmitError> {
        self.0.submit_and_watch(extrinsic)
    }
    fn pending_extrinsics(&self) -> Vec<OpaqueExtrinsic> {
        self.0.pending_extrinsics()
    }
    fn subscribe_new_heads(&self) -> broadcast::Receiver<Header> {
        self.0.subscribe_new_heads()
    }
    fn subscribe_finalized_heads(&self) -> broadcast::Receiver<Header> {
        self.0.subscribe_finalized_heads()
    }
    fn system_info(&self) -> SystemInfo {
        self.0.system_info()
    }
    fn account_nonce(&self, who: &AccountId) -> Result<Nonce, BackendError> {
        self.0.account_nonce(who)
    }
    fn account_info(&self, who: &AccountId) -> Result<AccountInfo, BackendError> {
        self.0.account_info(who)
    }
}
