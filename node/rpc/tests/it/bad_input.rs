//! Bad input gets a JSON-RPC (or HTTP) error naming the problem, and the
//! server goes on answering.

use crate::common::{exchange, framed, hex, post, within, Node};
use codec::{Compact, Encode};
use jsonrpsee::core::client::{ClientT, SubscriptionClientT};
use jsonrpsee::rpc_params;
use jsonrpsee_http_client::HttpClientBuilder;
use jsonrpsee_ws_client::WsClientBuilder;
use qstack_rpc::testing::TestBackend;
use serde_json::{json, Value};
use std::num::NonZeroU32;
use std::time::Duration;

#[tokio::test]
async fn malformed_json_is_a_parse_error() {
    let node = Node::start().await;
    for body in [
        &br#"{"jsonrpc":"2.0","id":1,"method":"system_name""#[..],
        b"not json at all",
        b"\xff\xfe\x00",
    ] {
        let (status, text) = post(node.addr(), body).await;
        let response: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("HTTP {status}: not JSON: {text}"));
        assert_eq!(response["error"]["code"], -32700, "{text}");
        assert_eq!(response["id"], Value::Null);
        node.assert_alive().await;
    }
}

#[tokio::test]
async fn json_that_is_not_a_request_is_refused() {
    let node = Node::start().await;
    // jsonrpsee's (and so Substrate's) answers: a request with an id but no
    // method is invalid; anything it cannot read as a request is a parse error.
    for (body, code) in [
        (json!({"jsonrpc": "2.0", "id": 1}), -32600),
        (json!({"foo": 1}), -32700),
        (json!(7), -32700),
    ] {
        let (_, text) = post(node.addr(), body.to_string().as_bytes()).await;
        let response: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(response["error"]["code"], code, "{body}: {text}");
    }
    node.assert_alive().await;
}

#[tokio::test]
async fn unknown_method_is_method_not_found() {
    let node = Node::start().await;
    let (code, _) = node.fails("chain_getNothing", json!([])).await;
    assert_eq!(code, -32601);
    node.assert_alive().await;
}

#[tokio::test]
async fn wrong_params_are_invalid_params_naming_the_problem() {
    let node = Node::start().await;
    let cases: &[(&str, Value, &str)] = &[
        (
            "chain_getHeader",
            json!(["0x1234"]),
            "expected 32 bytes, got 2",
        ),
        (
            "chain_getHeader",
            json!([42]),
            "expected a 0x-prefixed 32-byte hex string, got a number",
        ),
        (
            "chain_getHeader",
            json!("0xab"),
            "params must be a JSON array or object",
        ),
        (
            "chain_getHeader",
            json!({"hsah": null}),
            "unknown param `hsah`",
        ),
        (
            "chain_getBlock",
            json!([hex(&[1; 32]), 5]),
            "too many params",
        ),
        ("chain_getBlockHash", json!(["12"]), "0x-prefixed hex"),
        (
            "chain_getBlockHash",
            json!([4_294_967_296u64]),
            "above the maximum",
        ),
        ("chain_getBlockHash", json!([-1]), "non-negative integer"),
        ("chain_getBlockHash", json!([[0, {}]]), "got an object"),
        ("state_getStorage", json!([]), "missing `key`"),
        ("state_getStorage", json!([123]), "`key` (param 0)"),
        (
            "state_getStorage",
            json!(["0xzz"]),
            "invalid hex character 'z'",
        ),
        (
            "state_getStorage",
            json!(["0xabc"]),
            "odd number of hex digits",
        ),
        (
            "state_getKeysPaged",
            json!(["0x", "ten"]),
            "`count` (param 1)",
        ),
        (
            "state_getKeysPaged",
            json!(["0x", 1.5]),
            "`count` (param 1)",
        ),
        (
            "state_call",
            json!(["Core_version", "0x", "0x00"]),
            "`hash` (param 2)",
        ),
        ("state_call", json!(["", "0x"]), "`name` (param 0)"),
        (
            "state_call",
            json!(["Core_execute_block", "0x00"]),
            "builds or executes blocks",
        ),
        (
            "state_call",
            json!(["GenesisBuilder_build_state", "0x00"]),
            "builds or executes blocks",
        ),
        (
            "state_getReadProof",
            json!(["0x00"]),
            "expected an array of hex strings",
        ),
        ("state_queryStorageAt", json!([["0x00", 7]]), "entry 1"),
        (
            "system_accountNextIndex",
            json!(["qbad"]),
            "`account` (param 0)",
        ),
        ("system_accountNextIndex", json!([]), "missing `account`"),
        (
            "account_info",
            json!(["0x1234"]),
            "an account id is 32 bytes, got 2",
        ),
        (
            "author_submitExtrinsic",
            json!(["0xzz"]),
            "`extrinsic` (param 0)",
        ),
        ("author_submitExtrinsic", json!([["0x00"]]), "got an array"),
        ("payment_queryInfo", json!([false]), "got a boolean"),
        ("system_name", json!([1]), "too many params"),
        ("system_peers", json!([1]), "too many params"),
        (
            "system_peers",
            json!({"verbose": true}),
            "unknown param `verbose`",
        ),
        ("system_syncState", json!(["0x00"]), "too many params"),
        ("system_localPeerId", json!([true]), "too many params"),
        ("system_networkState", json!([{}]), "too many params"),
        (
            "system_localListenAddresses",
            json!([[]]),
            "too many params",
        ),
    ];
    for (method, params, fragment) in cases {
        let (code, message) = node.fails(method, params.clone()).await;
        assert_eq!(code, -32602, "{method} {params}: {message}");
        assert!(
            message.contains(fragment),
            "{method} {params}: {message:?} lacks {fragment:?}"
        );
    }
    node.assert_alive().await;
}

#[tokio::test]
async fn badly_framed_extrinsic_is_bad_format() {
    let node = Node::start().await;
    // Length prefix says 3 bytes, 2 follow.
    assert_eq!(
        node.fails("author_submitExtrinsic", json!(["0x0c0102"]))
            .await,
        (
            1001,
            "Extrinsic has invalid format: length prefix says 3 bytes but 2 follow".to_owned()
        )
    );
    assert_eq!(
        node.fails("author_submitExtrinsic", json!(["0x"])).await.0,
        1001
    );
    assert_eq!(node.fails("payment_queryInfo", json!(["0x00"])).await.0, 2);
    assert!(node
        .ok("author_pendingExtrinsics", json!([]))
        .await
        .as_array()
        .is_some_and(|p| p.is_empty()));
    // The same bytes, framed, go through.
    node.ok("author_submitExtrinsic", json!([hex(&framed(&[1, 2]))]))
        .await;
}

#[tokio::test]
async fn oversized_request_is_refused_with_413() {
    let node = Node::start().await;
    // Announce a body one byte over the limit; the server refuses on the header.
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        node.addr(),
        (16 << 20) + 1
    );
    let (status, text) = exchange(node.addr(), head.as_bytes()).await;
    assert_eq!(status, 413, "{text}");
    node.assert_alive().await;
}

#[tokio::test]
async fn oversized_bodies_fail_over_http_and_ws_and_the_server_survives() {
    let node = Node::start_with(TestBackend::new(), |c| {
        c.max_request_size = NonZeroU32::new(1 << 20).expect("non-zero");
    })
    .await;
    // A well-framed extrinsic the pool would take, 1.2 MB as hex.
    let body = vec![7u8; 600 * 1024];
    let mut xt = Compact(body.len() as u32).encode();
    xt.extend_from_slice(&body);
    let big = hex(&xt);
    let url = format!("http://{}", node.addr());
    let http = HttpClientBuilder::default()
        .max_request_size(64 << 20)
        .request_timeout(Duration::from_secs(10))
        .build(&url)
        .expect("client");
    let sent: Result<Value, _> =
        within(http.request("author_submitExtrinsic", rpc_params![big.clone()])).await;
    assert!(sent.is_err(), "an oversized HTTP request went through");
    node.assert_alive().await;

    let ws = WsClientBuilder::default()
        .max_request_size(64 << 20)
        .request_timeout(Duration::from_secs(5))
        .build(format!("ws://{}", node.addr()))
        .await
        .expect("connects");
    let sent: Result<Value, _> =
        within(ws.request("author_submitExtrinsic", rpc_params![big])).await;
    assert!(sent.is_err(), "an oversized WebSocket message went through");
    let fresh = node.ws().await;
    let name: String = within(fresh.request("system_name", rpc_params![]))
        .await
        .expect("answers");
    assert_eq!(name, "qstack");
    assert!(node
        .ok("author_pendingExtrinsics", json!([]))
        .await
        .as_array()
        .is_some_and(|p| p.is_empty()));
}

#[tokio::test]
async fn subscriptions_per_connection_are_capped() {
    let node = Node::start_with(TestBackend::new(), |c| {
        c.max_subscriptions_per_connection = NonZeroU32::new(2).expect("non-zero");
    })
    .await;
    let ws = node.ws().await;
    let subscribe = || {
        ws.subscribe::<Value, _>(
            "chain_subscribeNewHeads",
            rpc_params![],
            "chain_unsubscribeNewHeads",
        )
    };
    let first = within(subscribe()).await.expect("first");
    let _second = within(subscribe()).await.expect("second");
    assert!(within(subscribe()).await.is_err(), "a third was accepted");
    within(first.unsubscribe()).await.expect("unsubscribes");
    // The freed slot can be used again.
    let _third = within(subscribe()).await.expect("after unsubscribing");
    let name: String = within(ws.request("system_name", rpc_params![]))
        .await
        .expect("the connection still answers");
    assert_eq!(name, "qstack");
}
