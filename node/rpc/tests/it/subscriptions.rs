//! WebSocket subscriptions: what the backend announces reaches the client.

use crate::common::{framed, hex, within, Node};
use jsonrpsee::core::client::{ClientT, Error as ClientError, Subscription, SubscriptionClientT};
use jsonrpsee::rpc_params;
use jsonrpsee_ws_client::WsClient;
use qstack_core::hashing::blake2_256;
use qstack_core::H256;
use qstack_rpc::testing::{test_runtime_version, TestBackend};
use qstack_rpc::{SubmitError, TxStatus};
use serde_json::{json, Value};
use std::num::NonZeroU32;

async fn next(sub: &mut Subscription<Value>) -> Value {
    within(sub.next())
        .await
        .expect("the subscription is open")
        .expect("a JSON notification")
}

#[tokio::test]
async fn new_heads_start_with_the_best_then_follow_imports() {
    let node = Node::start().await;
    let ws = node.ws().await;
    for (subscribe, unsubscribe) in [
        ("chain_subscribeNewHeads", "chain_unsubscribeNewHeads"),
        ("chain_subscribeNewHead", "chain_unsubscribeNewHead"),
    ] {
        let mut sub: Subscription<Value> =
            within(ws.subscribe(subscribe, rpc_params![], unsubscribe))
                .await
                .expect("subscribes");
        let first = next(&mut sub).await;
        let best = node.backend.best_hash();
        let expected_number = if best == node.backend.genesis_hash() {
            "0x0"
        } else {
            "0x1"
        };
        assert_eq!(first["number"], expected_number, "{subscribe}");
        let imported = node.backend.import(vec![], &[]);
        let pushed = next(&mut sub).await;
        assert_eq!(pushed["number"], json!(format!("0x{:x}", imported.number)));
        assert_eq!(
            pushed["parentHash"],
            json!(hex(imported.parent_hash.as_bytes()))
        );
        assert_eq!(
            pushed["stateRoot"],
            json!(hex(imported.state_root.as_bytes()))
        );
        within(sub.unsubscribe()).await.expect("unsubscribes");
    }
}

#[tokio::test]
async fn all_heads_follow_imports_without_an_initial_header() {
    let node = Node::start().await;
    let ws = node.ws().await;
    let mut sub: Subscription<Value> = within(ws.subscribe(
        "chain_subscribeAllHeads",
        rpc_params![],
        "chain_unsubscribeAllHeads",
    ))
    .await
    .expect("subscribes");
    node.backend.import(vec![], &[]);
    // The first notification is block 1, not the genesis it started from.
    assert_eq!(next(&mut sub).await["number"], "0x1");
}

#[tokio::test]
async fn finalized_heads_follow_finality() {
    let node = Node::start().await;
    let ws = node.ws().await;
    let mut sub: Subscription<Value> = within(ws.subscribe(
        "chain_subscribeFinalizedHeads",
        rpc_params![],
        "chain_unsubscribeFinalizedHeads",
    ))
    .await
    .expect("subscribes");
    assert_eq!(next(&mut sub).await["number"], "0x0");
    let h1 = node.backend.import(vec![], &[]);
    let h2 = node.backend.import(vec![], &[]);
    node.backend.finalize(h2.hash());
    let finalized = next(&mut sub).await;
    assert_eq!(finalized["number"], "0x2");
    assert_eq!(finalized["parentHash"], json!(hex(h1.hash().as_bytes())));
}

#[tokio::test]
async fn runtime_version_is_sent_at_once_and_on_change() {
    let node = Node::start().await;
    let ws = node.ws().await;
    let mut sub: Subscription<Value> = within(ws.subscribe(
        "state_subscribeRuntimeVersion",
        rpc_params![],
        "state_unsubscribeRuntimeVersion",
    ))
    .await
    .expect("subscribes");
    assert_eq!(next(&mut sub).await["specVersion"], 100);
    // Same version: nothing is sent for this block ...
    node.backend.import(vec![], &[]);
    let mut upgraded = test_runtime_version();
    upgraded.spec_version = 101;
    node.backend.set_runtime_version(upgraded);
    node.backend.import(vec![], &[]);
    // ... so the next notification is the upgrade.
    let changed = next(&mut sub).await;
    assert_eq!(changed["specVersion"], 101);
    assert_eq!(changed["specName"], "qstack-test");
}

#[tokio::test]
async fn storage_subscription_reports_changed_keys() {
    let node = Node::start_with(
        TestBackend::with_genesis(vec![(b"a".to_vec(), b"1".to_vec())]),
        |_| {},
    )
    .await;
    let ws = node.ws().await;
    let (a, b) = (hex(b"a"), hex(b"b"));
    let mut sub: Subscription<Value> = within(ws.subscribe(
        "state_subscribeStorage",
        rpc_params![vec![a.clone(), b.clone()]],
        "state_unsubscribeStorage",
    ))
    .await
    .expect("subscribes");
    let genesis = hex(node.backend.genesis_hash().as_bytes());
    assert_eq!(
        next(&mut sub).await,
        json!({ "block": genesis, "changes": [[a, hex(b"1")], [b, null]] })
    );
    node.backend.import(vec![], &[]); // touches neither key
    let h2 = node
        .backend
        .import(vec![], &[(b"b".to_vec(), Some(b"2".to_vec()))]);
    assert_eq!(
        next(&mut sub).await,
        json!({ "block": hex(h2.hash().as_bytes()), "changes": [[b, hex(b"2")]] })
    );

    let refused = within(ws.subscribe::<Value, _>(
        "state_subscribeStorage",
        rpc_params![Vec::<String>::new()],
        "state_unsubscribeStorage",
    ))
    .await;
    assert!(
        matches!(&refused, Err(ClientError::Call(e)) if e.code() == -32602),
        "{refused:?}"
    );
}

async fn watch(ws: &WsClient, xt: &[u8]) -> Subscription<Value> {
    within(ws.subscribe(
        "author_submitAndWatchExtrinsic",
        rpc_params![hex(xt)],
        "author_unwatchExtrinsic",
    ))
    .await
    .expect("subscribes")
}

#[tokio::test]
async fn watched_extrinsic_goes_ready_in_block_finalized_then_ends() {
    // One subscription per connection: the second watch below only fits if
    // the server ended the first after its final status.
    let node = Node::start_with(TestBackend::new(), |c| {
        c.max_subscriptions_per_connection = NonZeroU32::MIN;
    })
    .await;
    let ws = node.ws().await;
    let xt = framed(b"\x04watch me");
    let tx = H256(blake2_256(&xt));
    let mut sub = watch(&ws, &xt).await;
    assert_eq!(next(&mut sub).await, json!("ready"));

    let block = node.backend.import(vec![], &[]).hash();
    let block_hex = hex(block.as_bytes());
    assert!(node.backend.send_status(tx, TxStatus::InBlock(block)));
    assert_eq!(next(&mut sub).await, json!({ "inBlock": block_hex }));
    assert!(node.backend.send_status(tx, TxStatus::Finalized(block)));
    assert_eq!(next(&mut sub).await, json!({ "finalized": block_hex }));

    let mut second = watch(&ws, &framed(b"\x04next")).await;
    assert_eq!(next(&mut second).await, json!("ready"));
}

#[tokio::test]
async fn watched_extrinsic_dropped_is_unit_shaped_and_final() {
    let node = Node::start_with(TestBackend::new(), |c| {
        c.max_subscriptions_per_connection = NonZeroU32::MIN;
    })
    .await;
    let ws = node.ws().await;
    let xt = framed(b"\x04drop me");
    let tx = H256(blake2_256(&xt));
    let mut sub = watch(&ws, &xt).await;
    assert_eq!(next(&mut sub).await, json!("ready"));
    node.backend
        .send_status(tx, TxStatus::Dropped("pool is full".into()));
    assert_eq!(next(&mut sub).await, json!("dropped"));
    let mut second = watch(&ws, &framed(b"\x04next")).await;
    assert_eq!(next(&mut second).await, json!("ready"));
}

#[tokio::test]
async fn refused_submission_rejects_the_subscription() {
    let node = Node::start().await;
    node.backend.refuse_submissions(Some(
        SubmitError::new(1010, "Invalid Transaction").with_data("Transaction is outdated"),
    ));
    let ws = node.ws().await;
    let refused = within(ws.subscribe::<Value, _>(
        "author_submitAndWatchExtrinsic",
        rpc_params![hex(&framed(b"\x04late"))],
        "author_unwatchExtrinsic",
    ))
    .await;
    match refused {
        Err(ClientError::Call(e)) => {
            assert_eq!(e.code(), 1010);
            assert_eq!(e.message(), "Invalid Transaction");
        }
        other => panic!("expected a 1010 error, got {other:?}"),
    }
    let bad_hex = within(ws.subscribe::<Value, _>(
        "author_submitAndWatchExtrinsic",
        rpc_params!["0xnothex"],
        "author_unwatchExtrinsic",
    ))
    .await;
    assert!(
        matches!(&bad_hex, Err(ClientError::Call(e)) if e.code() == -32602),
        "{bad_hex:?}"
    );
    // The connection is still good.
    let name: String = within(ws.request("system_name", rpc_params![]))
        .await
        .expect("answers");
    assert_eq!(name, "qstack");
}

async fn watch_v1(ws: &WsClient, xt: &[u8]) -> Subscription<Value> {
    within(ws.subscribe(
        "transactionWatch_v1_submitAndWatch",
        rpc_params![hex(xt)],
        "transactionWatch_v1_unwatch",
    ))
    .await
    .expect("subscribes")
}

#[tokio::test]
async fn transaction_watch_v1_reports_blocks_with_index_and_every_reason() {
    let node = Node::start_with(TestBackend::new(), |c| {
        c.max_subscriptions_per_connection = NonZeroU32::MIN;
    })
    .await;
    let ws = node.ws().await;
    let xt = framed(b"\x04watch me");
    let tx = H256(blake2_256(&xt));
    let mut sub = watch_v1(&ws, &xt).await;
    assert_eq!(next(&mut sub).await, json!({"event": "validated"}));
    let other = qstack_runtime_primitives::OpaqueExtrinsic::from_encoded(framed(b"\x04first"));
    let mine = qstack_runtime_primitives::OpaqueExtrinsic::from_encoded(xt.clone());
    let block = node.backend.import(vec![other, mine], &[]).hash();
    let block_hex = hex(block.as_bytes());
    assert!(node.backend.send_status(tx, TxStatus::InBlock(block)));
    assert_eq!(
        next(&mut sub).await,
        json!({"event": "bestChainBlockIncluded", "block": {"hash": block_hex, "index": 1}})
    );
    assert!(node.backend.send_status(tx, TxStatus::Retracted(block)));
    assert_eq!(
        next(&mut sub).await,
        json!({"event": "bestChainBlockIncluded", "block": null})
    );
    assert!(node.backend.send_status(tx, TxStatus::Finalized(block)));
    assert_eq!(
        next(&mut sub).await,
        json!({"event": "finalized", "block": {"hash": block_hex, "index": 1}})
    );

    // Drops and invalidations carry their reason, and end the stream.
    let xt = framed(b"\x04drop me");
    let mut sub = watch_v1(&ws, &xt).await;
    assert_eq!(next(&mut sub).await, json!({"event": "validated"}));
    node.backend.send_status(
        H256(blake2_256(&xt)),
        TxStatus::Invalid("Transaction is outdated".into()),
    );
    assert_eq!(
        next(&mut sub).await,
        json!({"event": "invalid", "error": "Transaction is outdated"})
    );

    // A refused submission is an `invalid` event with the pool's reason.
    node.backend.refuse_submissions(Some(
        SubmitError::new(1010, "Invalid Transaction").with_data("Inability to pay some fees"),
    ));
    let mut sub = watch_v1(&ws, &framed(b"\x04poor")).await;
    assert_eq!(
        next(&mut sub).await,
        json!({"event": "invalid", "error": "Invalid Transaction: Inability to pay some fees"})
    );
}
