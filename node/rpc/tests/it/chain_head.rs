//! `chainHead_v1_*` over a real WebSocket: the follow events as the test
//! backend imports, forks and finalises blocks, the operations on pinned
//! blocks, pinning, the limits, and bad subscription ids.

use crate::common::{hex, within, Node, WAIT};
use crate::spec_common::{call, code, next, ok, quiet, sub_id};
use codec::Encode;
use jsonrpsee::core::client::{Error as ClientError, Subscription, SubscriptionClientT};
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::rpc_params;
use jsonrpsee_ws_client::WsClient;
use qstack_core::hashing::blake2_256;
use qstack_core::H256;
use qstack_rpc::testing::{test_runtime_version, RequiredOnly, TestBackend};
use qstack_rpc::{RpcBackend, RpcConfig};
use qstack_runtime_primitives::OpaqueExtrinsic;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

/// blake2-64 of "Core" and "Metadata": the ids the spec's own example
/// lists, so the `apis` object is checked against an outside oracle.
const CORE_API: &str = "0xdf6acb689907609b";
const METADATA_API: &str = "0x37e397fc7c91f5e4";

fn h(hash: &H256) -> Value {
    json!(hex(hash.as_bytes()))
}

async fn follow(ws: &WsClient, with_runtime: bool) -> (Subscription<Value>, String) {
    let sub: Subscription<Value> = within(ws.subscribe(
        "chainHead_v1_follow",
        rpc_params![with_runtime],
        "chainHead_v1_unfollow",
    ))
    .await
    .expect("follows");
    let id = sub_id(&sub);
    (sub, id)
}

/// Starts an operation; its id.
async fn started(ws: &WsClient, method: &str, params: ArrayParams) -> String {
    let answer = ok(ws, method, params).await;
    assert_eq!(answer["result"], "started", "{method}: {answer}");
    answer["operationId"]
        .as_str()
        .unwrap_or_else(|| panic!("{method}: no operationId in {answer}"))
        .to_owned()
}

/// Reads `initialized` and the events up to the first `bestBlockChanged`.
async fn initial_events(sub: &mut Subscription<Value>) -> (Value, Vec<Value>, Value) {
    let init = next(sub).await;
    assert_eq!(init["event"], "initialized", "{init}");
    let mut blocks = Vec::new();
    loop {
        let ev = next(sub).await;
        match ev["event"].as_str() {
            Some("newBlock") => blocks.push(ev),
            Some("bestBlockChanged") => return (init, blocks, ev),
            _ => panic!("unexpected {ev}"),
        }
    }
}

fn with_limits(f: impl FnOnce(&mut qstack_rpc::SpecV2Limits)) -> impl FnOnce(&mut RpcConfig) {
    move |c| f(&mut c.spec_v2)
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).expect("not zero")
}

#[tokio::test]
async fn follow_reports_blocks_best_runtime_changes_and_finality() {
    let node = Node::start().await;
    let genesis = node.backend.genesis_hash();
    let ws = node.ws().await;
    let (mut sub, _) = follow(&ws, true).await;

    let (init, blocks, best) = initial_events(&mut sub).await;
    assert_eq!(init["finalizedBlockHashes"], json!([h(&genesis)]));
    let runtime = &init["finalizedBlockRuntime"];
    assert_eq!(runtime["type"], "valid", "{init}");
    let want = test_runtime_version();
    assert_eq!(
        runtime["spec"],
        json!({
            "specName": want.spec_name,
            "implName": want.impl_name,
            "specVersion": want.spec_version,
            "implVersion": want.impl_version,
            "transactionVersion": want.transaction_version,
            "apis": { CORE_API: 5, METADATA_API: 2 },
        })
    );
    assert!(blocks.is_empty(), "only genesis: {blocks:?}");
    assert_eq!(
        best,
        json!({"event": "bestBlockChanged", "bestBlockHash": h(&genesis)})
    );

    let b1 = node.backend.import(vec![], &[]).hash();
    assert_eq!(
        next(&mut sub).await,
        json!({"event": "newBlock", "blockHash": h(&b1), "parentBlockHash": h(&genesis), "newRuntime": null})
    );
    assert_eq!(
        next(&mut sub).await,
        json!({"event": "bestBlockChanged", "bestBlockHash": h(&b1)})
    );

    let mut upgraded = test_runtime_version();
    upgraded.spec_version = 101;
    node.backend.set_runtime_version(upgraded);
    let b2 = node.backend.import(vec![], &[]).hash();
    let ev = next(&mut sub).await;
    assert_eq!(ev["event"], "newBlock");
    assert_eq!(ev["blockHash"], h(&b2));
    assert_eq!(ev["newRuntime"]["type"], "valid");
    assert_eq!(ev["newRuntime"]["spec"]["specVersion"], 101);
    assert_eq!(next(&mut sub).await["bestBlockHash"], h(&b2));

    node.backend.finalize(b2);
    assert_eq!(
        next(&mut sub).await,
        json!({"event": "finalized", "finalizedBlockHashes": [h(&b1), h(&b2)], "prunedBlockHashes": []})
    );
    quiet(&mut sub).await;
}

#[tokio::test]
async fn without_runtime_there_is_no_runtime_field() {
    let node = Node::start().await;
    let ws = node.ws().await;
    let (mut sub, _) = follow(&ws, false).await;
    let (init, _, _) = initial_events(&mut sub).await;
    assert!(init.get("finalizedBlockRuntime").is_none(), "{init}");
    let mut upgraded = test_runtime_version();
    upgraded.spec_version = 200;
    node.backend.set_runtime_version(upgraded);
    node.backend.import(vec![], &[]);
    let ev = next(&mut sub).await;
    assert_eq!(ev["event"], "newBlock");
    assert!(ev.get("newRuntime").is_none(), "{ev}");
}

#[tokio::test]
async fn the_first_events_report_every_fork_parent_first() {
    let node = Node::start().await;
    let genesis = node.backend.genesis_hash();
    let b1 = node.backend.import(vec![], &[]).hash();
    let b2 = node.backend.import(vec![], &[]).hash();
    let f1 = node
        .backend
        .import_on(genesis, vec![], &[])
        .expect("fork")
        .hash();
    let f2 = node
        .backend
        .import_on(f1, vec![], &[])
        .expect("fork")
        .hash();
    let ws = node.ws().await;
    let (mut sub, _) = follow(&ws, false).await;
    let (init, blocks, best) = initial_events(&mut sub).await;
    assert_eq!(init["finalizedBlockHashes"], json!([h(&genesis)]));
    let mut seen: HashSet<Value> = HashSet::from([h(&genesis)]);
    for ev in &blocks {
        assert!(
            seen.contains(&ev["parentBlockHash"]),
            "parent after child: {blocks:?}"
        );
        assert!(
            seen.insert(ev["blockHash"].clone()),
            "reported twice: {blocks:?}"
        );
    }
    let reported: HashSet<Value> = blocks.iter().map(|e| e["blockHash"].clone()).collect();
    assert_eq!(reported, HashSet::from([h(&b1), h(&b2), h(&f1), h(&f2)]));
    assert_eq!(best["bestBlockHash"], h(&b2));
}

#[tokio::test]
async fn forks_are_reported_and_pruned_at_finality() {
    let node = Node::start().await;
    let genesis = node.backend.genesis_hash();
    let ws = node.ws().await;
    let (mut sub, _) = follow(&ws, false).await;
    initial_events(&mut sub).await;

    let b1 = node.backend.import(vec![], &[]).hash();
    assert_eq!(next(&mut sub).await["blockHash"], h(&b1));
    assert_eq!(next(&mut sub).await["bestBlockHash"], h(&b1));
    let f1 = node
        .backend
        .import_on(genesis, vec![], &[])
        .expect("fork")
        .hash();
    assert_eq!(
        next(&mut sub).await,
        json!({"event": "newBlock", "blockHash": h(&f1), "parentBlockHash": h(&genesis)})
    );
    let f2 = node
        .backend
        .import_on(f1, vec![], &[])
        .expect("fork")
        .hash();
    assert_eq!(next(&mut sub).await["parentBlockHash"], h(&f1));
    // The fork becomes best: a side-chain block needs no new announcement.
    assert!(node.backend.set_best(f2));
    assert_eq!(
        next(&mut sub).await,
        json!({"event": "bestBlockChanged", "bestBlockHash": h(&f2)})
    );
    // Finality on the other branch: the best block moves off the pruned
    // fork before the finalized event that prunes it.
    node.backend.finalize(b1);
    assert_eq!(
        next(&mut sub).await,
        json!({"event": "bestBlockChanged", "bestBlockHash": h(&b1)})
    );
    let fin = next(&mut sub).await;
    assert_eq!(fin["event"], "finalized");
    assert_eq!(fin["finalizedBlockHashes"], json!([h(&b1)]));
    let pruned: HashSet<Value> = fin["prunedBlockHashes"]
        .as_array()
        .expect("a list")
        .iter()
        .cloned()
        .collect();
    assert_eq!(pruned, HashSet::from([h(&f1), h(&f2)]));
    quiet(&mut sub).await;
    // Pruned blocks stay pinned until unpinned.
    let header = ok(
        &ws,
        "chainHead_v1_header",
        rpc_params![sub_id(&sub), hex(f2.as_bytes())],
    )
    .await;
    assert!(header.is_string(), "{header}");
}

#[tokio::test]
async fn a_block_whose_ancestors_were_never_announced_comes_after_them() {
    let backend = Arc::new(TestBackend::new());
    let genesis = backend.genesis_hash();
    let b1 = backend.import(vec![], &[]).hash();
    // The default fork index finds only the best chain.
    assert_eq!(
        RequiredOnly(backend.clone()).block_children(genesis),
        Ok(vec![b1])
    );
    assert!(!RequiredOnly(backend.clone()).keeps_all_state());
    let rpc = qstack_rpc::start(
        RpcConfig {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..RpcConfig::default()
        },
        Arc::new(RequiredOnly(backend.clone())),
    )
    .await
    .expect("starts");
    let ws = jsonrpsee_ws_client::WsClientBuilder::default()
        .request_timeout(WAIT)
        .build(format!("ws://{}", rpc.local_addr()))
        .await
        .expect("connects");
    let (mut sub, _) = follow(&ws, true).await;
    let (_, blocks, best) = initial_events(&mut sub).await;
    assert_eq!(blocks.len(), 1);
    assert_eq!(best["bestBlockHash"], h(&b1));

    // A three-block fork off genesis, announced only when its tip becomes
    // best: all three come, parents first, then the best change.
    let f1 = backend
        .import_on(genesis, vec![], &[])
        .expect("fork")
        .hash();
    let f2 = backend.import_on(f1, vec![], &[]).expect("fork").hash();
    let f3 = backend.import_on(f2, vec![], &[]).expect("fork").hash();
    quiet(&mut sub).await;
    assert!(backend.set_best(f3));
    for (block, parent) in [(f1, genesis), (f2, f1), (f3, f2)] {
        assert_eq!(
            next(&mut sub).await,
            json!({"event": "newBlock", "blockHash": h(&block), "parentBlockHash": h(&parent), "newRuntime": null})
        );
    }
    assert_eq!(next(&mut sub).await["bestBlockHash"], h(&f3));
    // Archive methods are not served: this backend does not keep all state.
    let e = call(&ws, "archive_v1_genesisHash", rpc_params![]).await;
    assert_eq!(e.map_err(|e| e.code()), Err(-32601));
}

#[tokio::test]
async fn header_body_and_call_on_pinned_blocks() {
    let node = Node::start().await;
    let ws = node.ws().await;
    let (mut sub, id) = follow(&ws, true).await;
    initial_events(&mut sub).await;
    let x1 = OpaqueExtrinsic::from_encoded(vec![8, 1, 2]);
    let x2 = OpaqueExtrinsic::from_encoded(vec![4, 3]);
    let b1 = node.backend.import(vec![x1, x2], &[]).hash();
    next(&mut sub).await;
    next(&mut sub).await;
    let b1_hex = hex(b1.as_bytes());

    let header = node.backend.header(b1).unwrap().unwrap();
    assert_eq!(
        ok(&ws, "chainHead_v1_header", rpc_params![&id, &b1_hex]).await,
        json!(hex(&header.encode()))
    );

    let op = started(&ws, "chainHead_v1_body", rpc_params![&id, &b1_hex]).await;
    assert_eq!(
        next(&mut sub).await,
        json!({"event": "operationBodyDone", "operationId": op, "value": ["0x080102", "0x0403"]})
    );

    node.backend.set_call("Test_echo", Ok(vec![0xaa, 0xbb]));
    let op = started(
        &ws,
        "chainHead_v1_call",
        rpc_params![&id, &b1_hex, "Test_echo", "0x0102"],
    )
    .await;
    assert_eq!(
        next(&mut sub).await,
        json!({"event": "operationCallDone", "operationId": op, "output": "0xaabb"})
    );
    assert_eq!(
        node.backend.call_log().last(),
        Some(&(b1, "Test_echo".to_owned(), vec![1, 2]))
    );
    let op = started(
        &ws,
        "chainHead_v1_call",
        rpc_params![&id, &b1_hex, "Nope_nothing", ""],
    )
    .await;
    let ev = next(&mut sub).await;
    assert_eq!(ev["event"], "operationError", "{ev}");
    assert_eq!(ev["operationId"], op);
    assert!(
        ev["error"]
            .as_str()
            .is_some_and(|e| e.contains("Nope_nothing")),
        "{ev}"
    );

    // What state_call refuses, chainHead_v1_call refuses.
    for refused in ["Core_execute_block", "BlockBuilder_apply_extrinsic"] {
        assert_eq!(
            code(
                &ws,
                "chainHead_v1_call",
                rpc_params![&id, &b1_hex, refused, "0x"]
            )
            .await,
            -32602,
            "{refused}"
        );
    }
    assert_eq!(
        code(
            &ws,
            "chainHead_v1_call",
            rpc_params![&id, &b1_hex, "Test_echo", "0xzz"]
        )
        .await,
        -32602
    );
    // Unknown block: -32801.
    let unknown = hex(&[9; 32]);
    for (method, params) in [
        ("chainHead_v1_header", rpc_params![&id, &unknown]),
        ("chainHead_v1_body", rpc_params![&id, &unknown]),
        (
            "chainHead_v1_call",
            rpc_params![&id, &unknown, "Test_echo", "0x"],
        ),
        (
            "chainHead_v1_storage",
            rpc_params![
                &id,
                &unknown,
                json!([{"key": "0x00", "type": "value"}]),
                Value::Null
            ],
        ),
    ] {
        assert_eq!(code(&ws, method, params).await, -32801, "{method}");
    }

    // A subscription without the runtime cannot call it.
    let (mut plain, plain_id) = follow(&ws, false).await;
    initial_events(&mut plain).await;
    assert_eq!(
        code(
            &ws,
            "chainHead_v1_call",
            rpc_params![&plain_id, &b1_hex, "Test_echo", "0x"]
        )
        .await,
        -32802
    );
}

#[tokio::test]
async fn storage_items_are_paged_and_resumed_with_continue() {
    let mut genesis: Vec<(Vec<u8>, Vec<u8>)> = (0u8..5).map(|i| (vec![b'p', i], vec![i])).collect();
    genesis.push((b"a".to_vec(), b"1".to_vec()));
    let node = Node::start_with(
        TestBackend::with_genesis(genesis),
        with_limits(|l| {
            l.storage_items_per_page = nz(2);
        }),
    )
    .await;
    let g = hex(node.backend.genesis_hash().as_bytes());
    let ws = node.ws().await;
    let (mut sub, id) = follow(&ws, true).await;
    initial_events(&mut sub).await;

    let items = json!([
        {"key": hex(b"a"), "type": "value"},
        {"key": hex(b"a"), "type": "hash"},
        {"key": hex(b"missing"), "type": "value"},
        {"key": hex(b"p"), "type": "descendantsValues"},
        {"key": hex(b"p"), "type": "descendantsHashes"},
        {"key": hex(b"p"), "type": "closestDescendantMerkleValue"},
    ]);
    let answer = ok(
        &ws,
        "chainHead_v1_storage",
        rpc_params![&id, &g, items, Value::Null],
    )
    .await;
    assert_eq!(answer["result"], "started");
    assert_eq!(answer["discardedItems"], 0);
    let op = answer["operationId"].clone();

    let mut found = Vec::new();
    let mut pauses = 0;
    loop {
        let ev = next(&mut sub).await;
        assert_eq!(ev["operationId"], op, "{ev}");
        match ev["event"].as_str() {
            Some("operationStorageItems") => {
                let page = ev["items"].as_array().expect("items").clone();
                assert!(!page.is_empty() && page.len() <= 2, "{ev}");
                found.extend(page);
            }
            Some("operationWaitingForContinue") => {
                pauses += 1;
                assert_eq!(
                    ok(
                        &ws,
                        "chainHead_v1_continue",
                        rpc_params![&id, op.as_str().unwrap()]
                    )
                    .await,
                    Value::Null
                );
            }
            Some("operationStorageDone") => break,
            _ => panic!("unexpected {ev}"),
        }
    }
    // 1 value + 1 hash + 5 values + 5 hashes + 1 Merkle value, two a page.
    assert_eq!(found.len(), 13, "{found:?}");
    assert_eq!(pauses, 6);
    assert!(found.contains(&json!({"key": hex(b"a"), "value": hex(b"1")})));
    assert!(found.contains(&json!({"key": hex(b"a"), "hash": hex(&blake2_256(b"1"))})));
    for i in 0u8..5 {
        let key = hex(&[b'p', i]);
        assert!(
            found.contains(&json!({"key": key, "value": hex(&[i])})),
            "{key}"
        );
        assert!(
            found.contains(&json!({"key": key, "hash": hex(&blake2_256(&[i]))})),
            "{key}"
        );
    }
    assert!(!found.iter().any(|f| f["key"] == hex(b"missing")));
    let merkle: Vec<&Value> = found
        .iter()
        .filter(|f| f.get("closestDescendantMerkleValue").is_some())
        .collect();
    assert_eq!(merkle.len(), 1);
    assert_eq!(merkle[0]["key"], hex(b"p"));

    // A child trie holds nothing here: done at once.
    let op = started(
        &ws,
        "chainHead_v1_storage",
        rpc_params![
            &id,
            &g,
            json!([{"key": hex(b"a"), "type": "value"}]),
            hex(b"child")
        ],
    )
    .await;
    assert_eq!(
        next(&mut sub).await,
        json!({"event": "operationStorageDone", "operationId": op})
    );
    // Bad items are parameter errors.
    for bad in [
        json!([{"key": "0x00", "type": "everything"}]),
        json!([{"key": "0xz", "type": "value"}]),
        json!([{"type": "value"}]),
        json!({"key": "0x00"}),
    ] {
        assert_eq!(
            code(
                &ws,
                "chainHead_v1_storage",
                rpc_params![&id, &g, bad.clone(), Value::Null]
            )
            .await,
            -32602,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn operations_are_bounded_stoppable_and_continue_is_checked() {
    let genesis: Vec<(Vec<u8>, Vec<u8>)> = (0u8..4).map(|i| (vec![i], vec![i])).collect();
    let node = Node::start_with(
        TestBackend::with_genesis(genesis),
        with_limits(|l| {
            l.max_operations = nz(3);
            l.storage_items_per_page = nz(1);
        }),
    )
    .await;
    let g = hex(node.backend.genesis_hash().as_bytes());
    let ws = node.ws().await;
    let (mut sub, id) = follow(&ws, true).await;
    initial_events(&mut sub).await;
    let values = |keys: &[u8]| {
        Value::Array(
            keys.iter()
                .map(|k| json!({"key": hex(&[*k]), "type": "value"}))
                .collect(),
        )
    };

    // Two items, one a page: it waits for continue, holding two slots.
    let first = started(
        &ws,
        "chainHead_v1_storage",
        rpc_params![&id, &g, values(&[0, 1]), Value::Null],
    )
    .await;
    assert_eq!(next(&mut sub).await["event"], "operationStorageItems");
    assert_eq!(next(&mut sub).await["event"], "operationWaitingForContinue");
    // One slot left: of three items two are discarded.
    let answer = ok(
        &ws,
        "chainHead_v1_storage",
        rpc_params![&id, &g, values(&[2, 3, 0]), Value::Null],
    )
    .await;
    assert_eq!(answer["result"], "started", "{answer}");
    assert_eq!(answer["discardedItems"], 2);
    let second = answer["operationId"].clone();
    node.backend.pause_calls();
    // The second finishes its one item; then a paused call holds its slot.
    let ev = next(&mut sub).await;
    assert_eq!(
        (ev["event"].as_str(), &ev["operationId"]),
        (Some("operationStorageItems"), &second)
    );
    assert_eq!(ev["items"], json!([{"key": "0x02", "value": "0x02"}]));
    assert_eq!(next(&mut sub).await["event"], "operationStorageDone");
    let running = started(
        &ws,
        "chainHead_v1_call",
        rpc_params![&id, &g, "Metadata_metadata", "0x"],
    )
    .await;
    // All three slots are taken.
    for (method, params) in [
        ("chainHead_v1_body", rpc_params![&id, &g]),
        (
            "chainHead_v1_call",
            rpc_params![&id, &g, "Metadata_metadata", "0x"],
        ),
        (
            "chainHead_v1_storage",
            rpc_params![&id, &g, values(&[0]), Value::Null],
        ),
    ] {
        assert_eq!(
            ok(&ws, method, params).await,
            json!({"result": "limitReached"}),
            "{method}"
        );
    }
    // A running call is not waiting for continue.
    assert_eq!(
        code(&ws, "chainHead_v1_continue", rpc_params![&id, &running]).await,
        -32803
    );
    // Stopping the waiting storage frees its two slots: nothing more comes from it.
    assert_eq!(
        ok(&ws, "chainHead_v1_stopOperation", rpc_params![&id, &first]).await,
        Value::Null
    );
    assert_eq!(
        ok(&ws, "chainHead_v1_continue", rpc_params![&id, &first]).await,
        Value::Null,
        "gone: no effect"
    );
    let body = started(&ws, "chainHead_v1_body", rpc_params![&id, &g]).await;
    let ev = next(&mut sub).await;
    assert_eq!(
        ev,
        json!({"event": "operationBodyDone", "operationId": body, "value": []})
    );
    node.backend.resume_calls();
    let ev = next(&mut sub).await;
    assert_eq!(
        (ev["event"].as_str(), ev["operationId"].as_str()),
        (Some("operationCallDone"), Some(running.as_str()))
    );
    quiet(&mut sub).await;
}

#[tokio::test]
async fn unpin_is_all_or_nothing() {
    let node = Node::start().await;
    let ws = node.ws().await;
    let (mut sub, id) = follow(&ws, false).await;
    initial_events(&mut sub).await;
    let b1 = hex(node.backend.import(vec![], &[]).hash().as_bytes());
    let b2 = hex(node.backend.import(vec![], &[]).hash().as_bytes());
    for _ in 0..4 {
        next(&mut sub).await;
    }
    assert_eq!(
        ok(&ws, "chainHead_v1_unpin", rpc_params![&id, &b1]).await,
        Value::Null
    );
    assert_eq!(
        code(&ws, "chainHead_v1_header", rpc_params![&id, &b1]).await,
        -32801
    );
    assert_eq!(
        code(&ws, "chainHead_v1_unpin", rpc_params![&id, &b1]).await,
        -32801,
        "unpinned already"
    );
    assert_eq!(
        code(
            &ws,
            "chainHead_v1_unpin",
            rpc_params![&id, json!([&b2, &b2])]
        )
        .await,
        -32804
    );
    assert_eq!(
        code(
            &ws,
            "chainHead_v1_unpin",
            rpc_params![&id, json!([&b2, &b1])]
        )
        .await,
        -32801
    );
    // Neither failure unpinned b2.
    assert!(ok(&ws, "chainHead_v1_header", rpc_params![&id, &b2])
        .await
        .is_string());
    let genesis = hex(node.backend.genesis_hash().as_bytes());
    assert_eq!(
        ok(
            &ws,
            "chainHead_v1_unpin",
            rpc_params![&id, json!([&b2, &genesis])]
        )
        .await,
        Value::Null
    );
    assert_eq!(
        code(&ws, "chainHead_v1_body", rpc_params![&id, &b2]).await,
        -32801
    );
    assert_eq!(
        code(&ws, "chainHead_v1_unpin", rpc_params![&id, 7]).await,
        -32602
    );
    assert_eq!(
        code(&ws, "chainHead_v1_unpin", rpc_params![&id, json!(["0x01"])]).await,
        -32602
    );
}

#[tokio::test]
async fn too_many_pinned_finalized_blocks_stop_the_subscription() {
    let node = Node::start_with(
        TestBackend::new(),
        with_limits(|l| {
            l.max_pinned_blocks = nz(2);
        }),
    )
    .await;
    let ws = node.ws().await;
    let genesis = hex(node.backend.genesis_hash().as_bytes());
    let (mut lazy, lazy_id) = follow(&ws, false).await;
    let (mut tidy, tidy_id) = follow(&ws, false).await;
    initial_events(&mut lazy).await;
    initial_events(&mut tidy).await;
    // Non-finalized blocks do not count, however many.
    let mut blocks = Vec::new();
    for _ in 0..3 {
        blocks.push(node.backend.import(vec![], &[]).hash());
    }
    for sub in [&mut lazy, &mut tidy] {
        for _ in 0..6 {
            assert_ne!(next(sub).await["event"], "stop");
        }
    }
    // The tidy client unpins what it no longer needs; the lazy one does not.
    let unpin = json!([genesis, hex(blocks[0].as_bytes())]);
    assert_eq!(
        ok(&ws, "chainHead_v1_unpin", rpc_params![&tidy_id, unpin]).await,
        Value::Null
    );
    node.backend.finalize(blocks[1]);
    // Lazy: genesis, 1 and 2 finalized and pinned is one too many.
    assert_eq!(next(&mut lazy).await, json!({"event": "stop"}));
    quiet(&mut lazy).await;
    // Its blocks are gone with it.
    assert_eq!(
        ok(&ws, "chainHead_v1_header", rpc_params![&lazy_id, &genesis]).await,
        Value::Null
    );
    // Tidy: 2 finalized blocks pinned, within the limit.
    let fin = next(&mut tidy).await;
    assert_eq!(fin["event"], "finalized", "{fin}");
    let b2 = hex(blocks[1].as_bytes());
    assert!(ok(&ws, "chainHead_v1_header", rpc_params![&tidy_id, &b2])
        .await
        .is_string());
}

#[tokio::test]
async fn follow_subscriptions_per_connection_are_bounded_and_unfollow_frees_one() {
    let node = Node::start_with(
        TestBackend::new(),
        with_limits(|l| {
            l.max_follow_subscriptions = nz(2);
        }),
    )
    .await;
    let ws = node.ws().await;
    let (mut a, a_id) = follow(&ws, false).await;
    let (_b, _) = follow(&ws, true).await;
    initial_events(&mut a).await;
    let third = within(ws.subscribe::<Value, _>(
        "chainHead_v1_follow",
        rpc_params![false],
        "chainHead_v1_unfollow",
    ))
    .await;
    assert!(
        matches!(&third, Err(ClientError::Call(e)) if e.code() == -32800),
        "{third:?}"
    );
    // Another connection has its own allowance.
    let other = node.ws().await;
    let (_c, _) = follow(&other, false).await;

    // unfollow answers null, ends the subscription, frees its place.
    assert_eq!(
        ok(&ws, "chainHead_v1_unfollow", rpc_params![&a_id]).await,
        Value::Null
    );
    quiet(&mut a).await;
    assert_eq!(
        ok(&ws, "chainHead_v1_unfollow", rpc_params![&a_id]).await,
        Value::Null,
        "no effect"
    );
    assert_eq!(
        ok(&ws, "chainHead_v1_unfollow", rpc_params!["nonsense"]).await,
        Value::Null
    );
    let (mut d, _) = follow(&ws, false).await;
    initial_events(&mut d).await;
    // withRuntime is required and a boolean.
    for params in [rpc_params![], rpc_params!["yes"]] {
        let bad = within(ws.subscribe::<Value, _>(
            "chainHead_v1_follow",
            params,
            "chainHead_v1_unfollow",
        ))
        .await;
        assert!(
            matches!(&bad, Err(ClientError::Call(e)) if e.code() == -32602),
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn bad_or_foreign_subscription_ids_get_the_specs_answers() {
    let node = Node::start().await;
    let g = hex(node.backend.genesis_hash().as_bytes());
    let ws = node.ws().await;
    let (mut sub, id) = follow(&ws, true).await;
    initial_events(&mut sub).await;
    let other = node.ws().await;
    let items = json!([{"key": "0x00", "type": "value"}]);
    for (ws, sub) in [(&ws, "not-a-subscription"), (&other, id.as_str())] {
        assert_eq!(
            ok(ws, "chainHead_v1_header", rpc_params![sub, &g]).await,
            Value::Null
        );
        let limit = json!({"result": "limitReached"});
        assert_eq!(
            ok(ws, "chainHead_v1_body", rpc_params![sub, &g]).await,
            limit
        );
        assert_eq!(
            ok(
                ws,
                "chainHead_v1_call",
                rpc_params![sub, &g, "Metadata_metadata", "0x"]
            )
            .await,
            limit
        );
        assert_eq!(
            ok(
                ws,
                "chainHead_v1_storage",
                rpc_params![sub, &g, items.clone(), Value::Null]
            )
            .await,
            limit
        );
        assert_eq!(
            ok(ws, "chainHead_v1_unpin", rpc_params![sub, &g]).await,
            Value::Null
        );
        assert_eq!(
            ok(ws, "chainHead_v1_continue", rpc_params![sub, "0"]).await,
            Value::Null
        );
        assert_eq!(
            ok(ws, "chainHead_v1_stopOperation", rpc_params![sub, "0"]).await,
            Value::Null
        );
        assert_eq!(
            ok(ws, "chainHead_v1_unfollow", rpc_params![sub]).await,
            Value::Null
        );
    }
    // None of that touched the real subscription on its own connection.
    assert!(ok(&ws, "chainHead_v1_header", rpc_params![&id, &g])
        .await
        .is_string());
    let b1 = node.backend.import(vec![], &[]).hash();
    assert_eq!(next(&mut sub).await["blockHash"], h(&b1));
    // Malformed parameters are -32602 whatever the subscription.
    assert_eq!(
        code(&ws, "chainHead_v1_header", rpc_params![&id, "0x1234"]).await,
        -32602
    );
    assert_eq!(
        code(&ws, "chainHead_v1_body", rpc_params![&id]).await,
        -32602
    );
    assert_eq!(
        code(&ws, "chainHead_v1_header", rpc_params![7, &g]).await,
        -32602
    );
}
