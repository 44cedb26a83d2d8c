//! The networking `system_*` methods: Substrate's JSON shapes from the test
//! backend's scripted network, the error when networking is not running, and
//! the [`RpcBackend`] defaults a backend without networking gets.

use crate::common::{hex, post, Node};
use qstack_core::{AccountId, Nonce, H256};
use qstack_rpc::testing::{test_network, TestBackend, TEST_PEER_ID};
use qstack_rpc::{
    AccountInfo, BackendError, BlockData, ChainInfo, PeerInfo, RpcBackend, RpcConfig, SubmitError,
    SyncState, SystemInfo, TxStatus,
};
use qstack_runtime_primitives::{Header, OpaqueExtrinsic, RuntimeVersion};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};

const INTERNAL_ERROR: i64 = -32603;

fn listen_addresses() -> Value {
    json!([
        format!("/ip4/127.0.0.1/tcp/30333/p2p/{TEST_PEER_ID}"),
        format!("/ip6/::1/tcp/30333/p2p/{TEST_PEER_ID}"),
    ])
}

#[tokio::test]
async fn system_peers_in_substrate_shape() {
    let node = Node::start().await;
    let expected = json!([
        {
            "peerId": "12D3KooWQstackTestPeerOne",
            "roles": "FULL",
            "bestHash": hex(&[0x11; 32]),
            "bestNumber": 7,
        },
        {
            "peerId": "12D3KooWQstackTestPeerTwo",
            "roles": "AUTHORITY",
            "bestHash": hex(&[0x22; 32]),
            "bestNumber": 9,
        },
    ]);
    assert_eq!(node.ok("system_peers", json!([])).await, expected);
    assert_eq!(node.ok("system_peers", Value::Null).await, expected);
    assert_eq!(node.ok("system_peers", json!({})).await, expected);

    // Whatever the backend reports, hashes as chain_getBlockHash writes them.
    let mut network = test_network();
    network.peers = vec![PeerInfo {
        peer_id: "p".into(),
        roles: "LIGHT".into(),
        best_hash: node.backend.genesis_hash(),
        best_number: u32::MAX,
    }];
    node.backend.set_network(Some(network));
    let genesis_hash = node.ok("chain_getBlockHash", json!([0])).await;
    assert_eq!(
        node.ok("system_peers", json!([])).await,
        json!([{
            "peerId": "p",
            "roles": "LIGHT",
            "bestHash": genesis_hash,
            "bestNumber": 4_294_967_295u32,
        }])
    );
    let mut network = test_network();
    network.peers.clear();
    node.backend.set_network(Some(network));
    assert_eq!(node.ok("system_peers", json!([])).await, json!([]));
}

#[tokio::test]
async fn system_sync_state_follows_the_best_block() {
    let node = Node::start().await;
    assert_eq!(
        node.ok("system_syncState", json!([])).await,
        json!({"startingBlock": 0, "currentBlock": 0, "highestBlock": 9})
    );
    node.backend.import(vec![], &[]);
    node.backend.import(vec![], &[]);
    assert_eq!(
        node.ok("system_syncState", json!([])).await,
        json!({"startingBlock": 0, "currentBlock": 2, "highestBlock": 9})
    );
    let mut network = test_network();
    network.starting_block = 1;
    network.highest_block = 1;
    node.backend.set_network(Some(network));
    assert_eq!(
        node.ok("system_syncState", json!([])).await,
        json!({"startingBlock": 1, "currentBlock": 2, "highestBlock": 2})
    );
}

#[tokio::test]
async fn local_peer_id_network_state_and_listen_addresses() {
    let node = Node::start().await;
    assert_eq!(
        node.ok("system_localPeerId", json!([])).await,
        json!(TEST_PEER_ID)
    );
    assert_eq!(
        node.ok("system_localListenAddresses", json!([])).await,
        listen_addresses()
    );
    assert_eq!(
        node.ok("system_networkState", json!([])).await,
        json!({
            "peerId": TEST_PEER_ID,
            "listenedAddresses": listen_addresses(),
            "externalAddresses": [],
            "connectedPeers": {
                "12D3KooWQstackTestPeerOne": {"endpoint": "dialing", "bestNumber": 7},
                "12D3KooWQstackTestPeerTwo": {"endpoint": "listening", "bestNumber": 9},
            },
            "notConnectedPeers": {},
        })
    );
}

#[tokio::test]
async fn without_networking_peer_id_and_state_are_errors() {
    let node = Node::start().await;
    node.backend.set_network(None);
    node.backend.import(vec![], &[]);
    for method in ["system_localPeerId", "system_networkState"] {
        assert_eq!(
            node.error_object(method, json!([])).await,
            json!({"code": INTERNAL_ERROR, "message": "networking is not running"}),
            "{method}"
        );
    }
    assert_eq!(node.ok("system_peers", json!([])).await, json!([]));
    assert_eq!(
        node.ok("system_localListenAddresses", json!([])).await,
        json!([])
    );
    assert_eq!(
        node.ok("system_syncState", json!([])).await,
        json!({"startingBlock": 1, "currentBlock": 1, "highestBlock": 1})
    );
    node.assert_alive().await;

    // Turned back on, the same server answers again.
    node.backend.set_network(Some(test_network()));
    assert_eq!(
        node.ok("system_localPeerId", json!([])).await,
        json!(TEST_PEER_ID)
    );
}

/// A backend implementing only the required methods (delegating to a
/// [`TestBackend`]), so the networking methods are the trait's defaults.
struct NoNetworkBackend(TestBackend);

impl RpcBackend for NoNetworkBackend {
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

async fn call(addr: SocketAddr, method: &str) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": []});
    let (status, text) = post(addr, body.to_string().as_bytes()).await;
    assert_eq!(status, 200, "{method}: {text}");
    serde_json::from_str(&text).expect("the response is JSON")
}

#[tokio::test]
async fn trait_defaults_describe_a_node_without_networking() {
    let inner = TestBackend::new();
    for _ in 0..3 {
        inner.import(vec![], &[]);
    }
    let backend = Arc::new(NoNetworkBackend(inner));
    assert_eq!(backend.network_peers(), Vec::<PeerInfo>::new());
    assert_eq!(
        backend.sync_state(),
        SyncState {
            starting_block: 3,
            current_block: 3,
            highest_block: 3,
        }
    );
    assert_eq!(backend.local_peer_id(), None);
    assert_eq!(backend.network_state(), None);
    assert_eq!(backend.local_listen_addresses(), Vec::<String>::new());

    let config = RpcConfig {
        listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..RpcConfig::default()
    };
    let rpc = qstack_rpc::start(config, backend).await.expect("starts");
    let addr = rpc.local_addr();
    assert_eq!(call(addr, "system_peers").await["result"], json!([]));
    assert_eq!(
        call(addr, "system_syncState").await["result"],
        json!({"startingBlock": 3, "currentBlock": 3, "highestBlock": 3})
    );
    assert_eq!(
        call(addr, "system_localListenAddresses").await["result"],
        json!([])
    );
    for method in ["system_localPeerId", "system_networkState"] {
        let response = call(addr, method).await;
        assert!(response.get("result").is_none(), "{method}: {response}");
        assert_eq!(
            response["error"],
            json!({"code": INTERNAL_ERROR, "message": "networking is not running"}),
            "{method}"
        );
    }
    rpc.stop();
}
