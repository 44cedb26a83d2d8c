//! The networking `system_*` methods: Substrate's JSON shapes from the test
//! backend's scripted network, the error when networking is not running, and
//! the [`RpcBackend`] defaults a backend without networking gets.

use crate::common::{hex, post, Node};
use qstack_rpc::testing::{test_network, RequiredOnly, TestBackend, TEST_PEER_ID};
use qstack_rpc::{PeerInfo, RpcBackend, RpcConfig, SyncState};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;

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
    let backend = Arc::new(RequiredOnly(Arc::new(inner)));
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
