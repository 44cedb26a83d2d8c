//! The rest of the new JSON-RPC spec over a real WebSocket:
//! `chainSpec_v1_*`, `transaction_v1_*`, the exact `transactionWatch_v1`
//! events, and `archive_v1_*`.

use crate::common::{framed, hex, within, Node, WAIT};
use crate::spec_common::{code, next, ok, quiet, sub_id};
use codec::Encode;
use jsonrpsee::core::client::{Error as ClientError, Subscription, SubscriptionClientT};
use jsonrpsee::rpc_params;
use jsonrpsee_ws_client::WsClient;
use qstack_core::hashing::blake2_256;
use qstack_core::H256;
use qstack_rpc::testing::TestBackend;
use qstack_rpc::{RpcBackend, SubmitError, TxStatus};
use qstack_runtime_primitives::OpaqueExtrinsic;
use serde_json::{json, Value};
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < WAIT, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn chain_spec_methods_answer_from_the_chain_spec() {
    let node = Node::start().await;
    let ws = node.ws().await;
    assert_eq!(
        ok(&ws, "chainSpec_v1_chainName", rpc_params![]).await,
        json!("qstack Test")
    );
    assert_eq!(
        ok(&ws, "chainSpec_v1_genesisHash", rpc_params![]).await,
        json!(hex(node.backend.genesis_hash().as_bytes()))
    );
    assert_eq!(
        ok(&ws, "chainSpec_v1_properties", rpc_params![]).await,
        json!({"tokenSymbol": "QST", "tokenDecimals": 12})
    );
    // The genesis hash does not follow the head.
    node.backend.import(vec![], &[]);
    assert_eq!(
        ok(&ws, "chainSpec_v1_genesisHash", rpc_params![]).await,
        json!(hex(node.backend.genesis_hash().as_bytes()))
    );
    assert_eq!(
        code(&ws, "chainSpec_v1_chainName", rpc_params![1]).await,
        -32602
    );
}

#[tokio::test]
async fn every_new_method_is_listed_and_the_helpers_are_not() {
    let node = Node::start().await;
    let listed = node.ok("rpc_methods", json!([])).await;
    let methods: Vec<&str> = listed["methods"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for name in [
        "chainHead_v1_follow",
        "chainHead_v1_unfollow",
        "chainHead_v1_header",
        "chainHead_v1_body",
        "chainHead_v1_call",
        "chainHead_v1_storage",
        "chainHead_v1_continue",
        "chainHead_v1_stopOperation",
        "chainHead_v1_unpin",
        "chainSpec_v1_chainName",
        "chainSpec_v1_genesisHash",
        "chainSpec_v1_properties",
        "transaction_v1_broadcast",
        "transaction_v1_stop",
        "transactionWatch_v1_submitAndWatch",
        "transactionWatch_v1_unwatch",
        "archive_v1_body",
        "archive_v1_call",
        "archive_v1_finalizedHeight",
        "archive_v1_genesisHash",
        "archive_v1_hashByHeight",
        "archive_v1_header",
        "archive_v1_storage",
        "archive_v1_stopStorage",
    ] {
        assert!(methods.contains(&name), "{name} missing");
    }
    assert!(
        !methods.iter().any(|m| m.contains("jsonrpsee")),
        "internal names listed: {methods:?}"
    );

    // Not an archive: no archive_v1 at all.
    let pruned = TestBackend::new();
    pruned.set_keeps_all_state(false);
    let node = Node::start_with(pruned, |_| {}).await;
    let listed = node.ok("rpc_methods", json!([])).await;
    let names = listed["methods"].as_array().expect("a list");
    assert!(!names
        .iter()
        .any(|m| m.as_str().is_some_and(|m| m.starts_with("archive_"))));
    assert!(names.contains(&json!("chainHead_v1_follow")));
    let (code, _) = node.fails("archive_v1_finalizedHeight", json!([])).await;
    assert_eq!(code, -32601);
}

#[tokio::test]
async fn broadcast_resubmits_and_regossips_until_stopped() {
    let node = Node::start().await;
    let ws = node.ws().await;
    let xt = framed(b"\x04broadcast me");
    let tx = H256(blake2_256(&xt));
    let id = ok(&ws, "transaction_v1_broadcast", rpc_params![hex(&xt)]).await;
    let id = id.as_str().expect("an operation id").to_owned();
    let in_pool = |b: &TestBackend| b.pending_extrinsics().iter().any(|x| x.0 == xt);
    eventually("it is in the pool", || in_pool(&node.backend)).await;

    // Each new best block gossips it again.
    let gossiped = |b: &TestBackend| b.broadcasts().iter().filter(|x| x.0 == xt).count();
    node.backend.import(vec![], &[]);
    eventually("it is gossiped again", || gossiped(&node.backend) == 1).await;
    // Dropped from the pool: back in at the next block.
    assert!(node
        .backend
        .send_status(tx, TxStatus::Dropped("pool full".into())));
    assert!(!in_pool(&node.backend));
    node.backend.import(vec![], &[]);
    eventually("it is submitted again", || in_pool(&node.backend)).await;

    assert_eq!(
        ok(&ws, "transaction_v1_stop", rpc_params![&id]).await,
        Value::Null
    );
    // Stopped: neither gossiped nor submitted again. (Nobody watches it
    // any more; the status only takes it out of the pool.)
    node.backend
        .send_status(tx, TxStatus::Dropped("pool full".into()));
    assert!(!in_pool(&node.backend));
    let before = gossiped(&node.backend);
    node.backend.import(vec![], &[]);
    node.backend.import(vec![], &[]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(gossiped(&node.backend), before);
    assert!(!in_pool(&node.backend));
    // The id is no longer an operation.
    assert_eq!(
        code(&ws, "transaction_v1_stop", rpc_params![&id]).await,
        -32602
    );
    assert_eq!(
        code(&ws, "transaction_v1_stop", rpc_params!["nonsense"]).await,
        -32602
    );
    assert_eq!(
        code(&ws, "transaction_v1_broadcast", rpc_params!["0xzz"]).await,
        -32602
    );
}

#[tokio::test]
async fn broadcasts_per_connection_are_bounded_and_bound_to_it() {
    let node = Node::start_with(TestBackend::new(), |c| {
        c.spec_v2.max_broadcasts = NonZeroU32::new(2).expect("2");
    })
    .await;
    let ws = node.ws().await;
    let mut ids = Vec::new();
    for i in 0u8..2 {
        let id = ok(
            &ws,
            "transaction_v1_broadcast",
            rpc_params![hex(&framed(&[4, i]))],
        )
        .await;
        assert!(id.is_string(), "{id}");
        ids.push(id);
    }
    // Invalid bytes count too (the spec), and the third is refused with null.
    assert_eq!(
        ok(
            &ws,
            "transaction_v1_broadcast",
            rpc_params![hex(&framed(&[4, 9]))]
        )
        .await,
        Value::Null
    );
    // Another connection can neither stop this one's operations nor is it limited by them.
    let other = node.ws().await;
    assert_eq!(
        code(&other, "transaction_v1_stop", rpc_params![&ids[0]]).await,
        -32602
    );
    assert!(ok(
        &other,
        "transaction_v1_broadcast",
        rpc_params![hex(&framed(&[4, 7]))]
    )
    .await
    .is_string());
    // Stopping one makes room.
    assert_eq!(
        ok(&ws, "transaction_v1_stop", rpc_params![&ids[0]]).await,
        Value::Null
    );
    assert!(ok(
        &ws,
        "transaction_v1_broadcast",
        rpc_params![hex(&framed(&[4, 8]))]
    )
    .await
    .is_string());
}

async fn watch(ws: &WsClient, xt: &[u8]) -> Subscription<Value> {
    within(ws.subscribe(
        "transactionWatch_v1_submitAndWatch",
        rpc_params![hex(xt)],
        "transactionWatch_v1_unwatch",
    ))
    .await
    .expect("subscribes")
}

/// Asserts the next event is `want`, with nothing sent in between.
async fn expect(sub: &mut Subscription<Value>, want: Value) {
    assert_eq!(next(sub).await, want);
}

#[tokio::test]
async fn watch_events_have_exactly_the_specs_shapes() {
    let node = Node::start().await;
    let ws = node.ws().await;
    let xt = framed(b"\x04watch me");
    let tx = H256(blake2_256(&xt));
    let mut sub = watch(&ws, &xt).await;
    expect(&mut sub, json!({"event": "validated"})).await;
    // A second validation in a row, and gossip, say nothing (the spec has
    // no `broadcasted` event any more).
    assert!(node.backend.send_status(tx, TxStatus::Future));
    assert!(node
        .backend
        .send_status(tx, TxStatus::Broadcast(vec!["peer".into()])));
    // Included in a block whose body lacks it: skipped, never `index: null`.
    let elsewhere = node.backend.import(vec![], &[]).hash();
    assert!(node.backend.send_status(tx, TxStatus::InBlock(elsewhere)));
    let other = OpaqueExtrinsic::from_encoded(framed(b"\x04first"));
    let mine = OpaqueExtrinsic::from_encoded(xt.clone());
    let block = node.backend.import(vec![other, mine], &[]).hash();
    let block_hex = hex(block.as_bytes());
    assert!(node.backend.send_status(tx, TxStatus::InBlock(block)));
    expect(
        &mut sub,
        json!({"event": "bestChainBlockIncluded", "block": {"hash": block_hex, "index": 1}}),
    )
    .await;
    assert!(node.backend.send_status(tx, TxStatus::Retracted(block)));
    expect(
        &mut sub,
        json!({"event": "bestChainBlockIncluded", "block": null}),
    )
    .await;
    // Back in the pool, validated again.
    assert!(node.backend.send_status(tx, TxStatus::Ready));
    expect(&mut sub, json!({"event": "validated"})).await;
    assert!(node.backend.send_status(tx, TxStatus::Finalized(block)));
    expect(
        &mut sub,
        json!({"event": "finalized", "block": {"hash": block_hex, "index": 1}}),
    )
    .await;
    quiet(&mut sub).await;

    // Finalized in a block that does not hold it: an error, not a null index.
    let xt = framed(b"\x04lost");
    let mut sub = watch(&ws, &xt).await;
    expect(&mut sub, json!({"event": "validated"})).await;
    assert!(node
        .backend
        .send_status(H256(blake2_256(&xt)), TxStatus::Finalized(elsewhere)));
    let ev = next(&mut sub).await;
    assert_eq!(ev["event"], "error", "{ev}");
    assert!(ev["error"].is_string());
    assert_eq!(ev.as_object().map(|o| o.len()), Some(2), "{ev}");

    // Every ending carries its reason.
    for (status, event, reason) in [
        (
            TxStatus::Invalid("Transaction is outdated".into()),
            "invalid",
            "Transaction is outdated",
        ),
        (
            TxStatus::Dropped("pool is full".into()),
            "dropped",
            "pool is full",
        ),
    ] {
        let xt = framed(format!("\x04{event}").as_bytes());
        let mut sub = watch(&ws, &xt).await;
        expect(&mut sub, json!({"event": "validated"})).await;
        assert!(node.backend.send_status(H256(blake2_256(&xt)), status));
        expect(&mut sub, json!({"event": event, "error": reason})).await;
    }
    let xt = framed(b"\x04timeout");
    let mut sub = watch(&ws, &xt).await;
    expect(&mut sub, json!({"event": "validated"})).await;
    assert!(node
        .backend
        .send_status(H256(blake2_256(&xt)), TxStatus::FinalityTimeout(block)));
    let ev = next(&mut sub).await;
    assert_eq!(ev["event"], "dropped");
    assert!(
        ev["error"].as_str().is_some_and(|e| e.contains(&block_hex)),
        "{ev}"
    );
}

#[tokio::test]
async fn watch_turns_bad_bytes_and_refusals_into_events() {
    let node = Node::start().await;
    let ws = node.ws().await;
    // Valid hex, not a transaction: an `invalid` event, not an error.
    let mut sub = watch(&ws, &[0x00]).await;
    let ev = next(&mut sub).await;
    assert_eq!(ev["event"], "invalid", "{ev}");
    assert!(
        ev["error"].as_str().is_some_and(|e| e.contains("empty")),
        "{ev}"
    );
    // Bad hex is the spec's -32602.
    let bad = within(ws.subscribe::<Value, _>(
        "transactionWatch_v1_submitAndWatch",
        rpc_params!["0xnothex"],
        "transactionWatch_v1_unwatch",
    ))
    .await;
    assert!(
        matches!(&bad, Err(ClientError::Call(e)) if e.code() == -32602),
        "{bad:?}"
    );
    // A full pool drops; anything else the pool refuses is invalid.
    node.backend.refuse_submissions(Some(
        SubmitError::new(1016, "Immediately Dropped").with_data("pool is full"),
    ));
    let mut sub = watch(&ws, &framed(b"\x04full")).await;
    assert_eq!(
        next(&mut sub).await,
        json!({"event": "dropped", "error": "Immediately Dropped: pool is full"})
    );
    node.backend.refuse_submissions(Some(
        SubmitError::new(1010, "Invalid Transaction").with_data("Inability to pay some fees"),
    ));
    let mut sub = watch(&ws, &framed(b"\x04poor")).await;
    assert_eq!(
        next(&mut sub).await,
        json!({"event": "invalid", "error": "Invalid Transaction: Inability to pay some fees"})
    );
}

#[tokio::test]
async fn unwatch_answers_null_and_errs_on_an_unknown_subscription() {
    // One subscription per connection: the second watch below only fits if
    // unwatch really ended the first.
    let node = Node::start_with(TestBackend::new(), |c| {
        c.max_subscriptions_per_connection = NonZeroU32::MIN;
    })
    .await;
    let ws = node.ws().await;
    let xt = framed(b"\x04unwatch me");
    let mut sub = watch(&ws, &xt).await;
    assert_eq!(next(&mut sub).await, json!({"event": "validated"}));
    let id = sub_id(&sub);
    assert_eq!(
        ok(&ws, "transactionWatch_v1_unwatch", rpc_params![&id]).await,
        Value::Null
    );
    // Still in the pool: unwatching does not cancel the submission.
    assert!(node.backend.pending_extrinsics().iter().any(|x| x.0 == xt));
    let mut second = watch(&ws, &framed(b"\x04second")).await;
    assert_eq!(next(&mut second).await, json!({"event": "validated"}));
    drop(second);
    assert_eq!(
        code(&ws, "transactionWatch_v1_unwatch", rpc_params![&id]).await,
        -32602
    );
    assert_eq!(
        code(&ws, "transactionWatch_v1_unwatch", rpc_params!["nonsense"]).await,
        -32602
    );
}

#[tokio::test]
async fn archive_serves_any_block_by_hash_and_height() {
    let backend = TestBackend::with_genesis(vec![
        (b"a".to_vec(), b"1".to_vec()),
        (b"p1".to_vec(), b"x".to_vec()),
        (b"p2".to_vec(), b"y".to_vec()),
        (b"p3".to_vec(), b"z".to_vec()),
    ]);
    let node = Node::start_with(backend, |_| {}).await;
    let ws = node.ws().await;
    let genesis = node.backend.genesis_hash();
    let xt = OpaqueExtrinsic::from_encoded(vec![8, 1, 2]);
    let b1 = node
        .backend
        .import(vec![xt], &[(b"a".to_vec(), Some(b"2".to_vec()))]);
    let b2 = node.backend.import(vec![], &[]).hash();
    let fork = node
        .backend
        .import_on(b1.hash(), vec![], &[])
        .expect("fork")
        .hash();
    node.backend.finalize(b1.hash());
    let hx = |h: &H256| json!(hex(h.as_bytes()));

    assert_eq!(
        ok(&ws, "archive_v1_genesisHash", rpc_params![]).await,
        hx(&genesis)
    );
    assert_eq!(
        ok(&ws, "archive_v1_finalizedHeight", rpc_params![]).await,
        json!(1)
    );
    assert_eq!(
        ok(&ws, "archive_v1_hashByHeight", rpc_params![0]).await,
        json!([hx(&genesis)])
    );
    assert_eq!(
        ok(&ws, "archive_v1_hashByHeight", rpc_params![1]).await,
        json!([hx(&b1.hash())])
    );
    // Above finality: every block at that height, forks included.
    let mut at2 = [b2, fork];
    at2.sort_unstable();
    assert_eq!(
        ok(&ws, "archive_v1_hashByHeight", rpc_params![2]).await,
        json!(at2.iter().map(hx).collect::<Vec<_>>())
    );
    assert_eq!(
        ok(&ws, "archive_v1_hashByHeight", rpc_params![9]).await,
        json!([])
    );
    assert_eq!(
        ok(&ws, "archive_v1_hashByHeight", rpc_params![u64::MAX]).await,
        json!([])
    );
    assert_eq!(
        code(&ws, "archive_v1_hashByHeight", rpc_params!["0x1"]).await,
        -32602
    );

    assert_eq!(
        ok(&ws, "archive_v1_header", rpc_params![hx(&b1.hash())]).await,
        json!(hex(&b1.encode()))
    );
    assert_eq!(
        ok(&ws, "archive_v1_body", rpc_params![hx(&b1.hash())]).await,
        json!(["0x080102"])
    );
    let unknown = json!(hex(&[7; 32]));
    assert_eq!(
        ok(&ws, "archive_v1_header", rpc_params![&unknown]).await,
        Value::Null
    );
    assert_eq!(
        ok(&ws, "archive_v1_body", rpc_params![&unknown]).await,
        Value::Null
    );

    node.backend.set_call("Test_echo", Ok(vec![0xcd]));
    assert_eq!(
        ok(
            &ws,
            "archive_v1_call",
            rpc_params![hx(&genesis), "Test_echo", "0x01"]
        )
        .await,
        json!({"success": true, "value": "0xcd"})
    );
    let failed = ok(
        &ws,
        "archive_v1_call",
        rpc_params![hx(&genesis), "Nope_nothing", "0x"],
    )
    .await;
    assert_eq!(failed["success"], false, "{failed}");
    assert!(failed["error"]
        .as_str()
        .is_some_and(|e| e.contains("Nope_nothing")));
    assert_eq!(
        ok(
            &ws,
            "archive_v1_call",
            rpc_params![&unknown, "Test_echo", "0x"]
        )
        .await,
        Value::Null
    );
    assert_eq!(
        code(
            &ws,
            "archive_v1_call",
            rpc_params![hx(&genesis), "Core_execute_block", "0x"]
        )
        .await,
        -32602
    );

    // Storage at genesis, not at the head: "a" is still 1 there.
    let items = json!([
        {"key": hex(b"a"), "type": "value"},
        {"key": hex(b"a"), "type": "hash"},
        {"key": hex(b"p"), "type": "descendantsValues", "paginationStartKey": hex(b"p1")},
        {"key": hex(b"nothing"), "type": "value"},
    ]);
    let mut sub: Subscription<Value> = within(ws.subscribe(
        "archive_v1_storage",
        rpc_params![hx(&genesis), items, Value::Null],
        "archive_v1_stopStorage",
    ))
    .await
    .expect("subscribes");
    let mut events = Vec::new();
    loop {
        let ev = next(&mut sub).await;
        if ev["event"] == "storageDone" {
            break;
        }
        events.push(ev);
    }
    assert_eq!(
        events,
        vec![
            json!({"event": "storage", "key": hex(b"a"), "value": hex(b"1")}),
            json!({"event": "storage", "key": hex(b"a"), "hash": hex(&blake2_256(b"1"))}),
            // Strictly after the pagination start key.
            json!({"event": "storage", "key": hex(b"p2"), "value": hex(b"y")}),
            json!({"event": "storage", "key": hex(b"p3"), "value": hex(b"z")}),
        ]
    );
    quiet(&mut sub).await;

    // An unknown block is a storageError event.
    let mut sub: Subscription<Value> = within(ws.subscribe(
        "archive_v1_storage",
        rpc_params![
            &unknown,
            json!([{"key": "0x00", "type": "value"}]),
            Value::Null
        ],
        "archive_v1_stopStorage",
    ))
    .await
    .expect("subscribes");
    let ev = next(&mut sub).await;
    assert_eq!(ev["event"], "storageError", "{ev}");
    // stopStorage answers null, known id or not.
    assert_eq!(
        ok(&ws, "archive_v1_stopStorage", rpc_params![sub_id(&sub)]).await,
        Value::Null
    );
    assert_eq!(
        ok(&ws, "archive_v1_stopStorage", rpc_params!["nonsense"]).await,
        Value::Null
    );
    // paginationStartKey belongs to the descendants queries only.
    let bad = within(ws.subscribe::<Value, _>(
        "archive_v1_storage",
        rpc_params![
            hx(&genesis),
            json!([{"key": "0x00", "type": "value", "paginationStartKey": "0x01"}]),
            Value::Null
        ],
        "archive_v1_stopStorage",
    ))
    .await;
    assert!(
        matches!(&bad, Err(ClientError::Call(e)) if e.code() == -32602),
        "{bad:?}"
    );
}

#[tokio::test]
async fn archive_storage_queries_per_connection_are_bounded() {
    let keys: Vec<(Vec<u8>, Vec<u8>)> = (0u16..600)
        .map(|i| (i.to_be_bytes().to_vec(), vec![1]))
        .collect();
    let node = Node::start_with(TestBackend::with_genesis(keys), |c| {
        c.spec_v2.max_archive_storage = NonZeroU32::MIN;
        // Small buffers: the long query below stays in progress while unread.
        c.message_buffer_capacity = NonZeroU32::MIN;
    })
    .await;
    let ws = node.ws().await;
    let g = json!(hex(node.backend.genesis_hash().as_bytes()));
    let all = json!([{"key": "0x", "type": "descendantsValues"}]);
    let mut first: Subscription<Value> = within(ws.subscribe(
        "archive_v1_storage",
        rpc_params![&g, all.clone(), Value::Null],
        "archive_v1_stopStorage",
    ))
    .await
    .expect("subscribes");
    assert_eq!(next(&mut first).await["event"], "storage");
    let second = within(ws.subscribe::<Value, _>(
        "archive_v1_storage",
        rpc_params![&g, all.clone(), Value::Null],
        "archive_v1_stopStorage",
    ))
    .await;
    assert!(
        matches!(&second, Err(ClientError::Call(e)) if e.code() == -32800),
        "{second:?}"
    );
    // Stopped, it frees its place.
    assert_eq!(
        ok(&ws, "archive_v1_stopStorage", rpc_params![sub_id(&first)]).await,
        Value::Null
    );
    drop(first);
    let start = Instant::now();
    loop {
        let again = within(ws.subscribe::<Value, _>(
            "archive_v1_storage",
            rpc_params![&g, json!([{"key": "0x0000", "type": "value"}]), Value::Null],
            "archive_v1_stopStorage",
        ))
        .await;
        match again {
            Ok(mut sub) => {
                assert_eq!(next(&mut sub).await["event"], "storage");
                break;
            }
            Err(e) => assert!(start.elapsed() < WAIT, "never freed: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
