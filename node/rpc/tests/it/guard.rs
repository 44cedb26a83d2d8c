//! What guards the port: `--rpc-methods safe`, `--rpc-cors` (HTTP and the
//! WebSocket handshake) and `--rpc-rate-limit`, against real sockets.

use crate::common::*;
use jsonrpsee::core::client::ClientT;
use qstack_rpc::testing::TestBackend;
use qstack_rpc::{Cors, RpcMethods};
use serde_json::{json, Value};
use std::num::NonZeroU32;

/// A raw HTTP request with `headers`, for the origin checks.
fn request(addr: std::net::SocketAddr, method: &str, headers: &[&str], body: &str) -> Vec<u8> {
    let mut head = format!("{method} / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    head.into_bytes()
}

/// The response head (status line and headers, lower-cased) of `raw`.
async fn head_of(addr: std::net::SocketAddr, raw: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    within(async {
        let mut s = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connects");
        s.write_all(raw).await.expect("sends");
        // Up to the end of the head (an upgraded WebSocket stays open).
        let mut out = Vec::new();
        let mut buf = [0u8; 1024];
        while !out.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).await.expect("reads");
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&out).to_ascii_lowercase();
        text.split("\r\n\r\n").next().unwrap_or_default().to_owned()
    })
    .await
}

const CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"system_name","params":[]}"#;

#[tokio::test]
async fn only_allowed_origins_may_call() {
    let node = Node::start().await;
    let addr = node.addr();
    // No Origin header (curl, CLI tools, node clients): always served.
    let (status, _) = post(addr, CALL.as_bytes()).await;
    assert_eq!(status, 200);
    // A localhost page on any port: served, with the CORS header.
    let ok = head_of(
        addr,
        &request(addr, "POST", &["Origin: http://localhost:3000"], CALL),
    )
    .await;
    assert!(ok.starts_with("http/1.1 200"), "{ok}");
    assert!(
        ok.contains("access-control-allow-origin: http://localhost:3000"),
        "{ok}"
    );
    // Any other site: 403, and the method never runs.
    let evil = head_of(
        addr,
        &request(addr, "POST", &["Origin: https://evil.example"], CALL),
    )
    .await;
    assert!(evil.starts_with("http/1.1 403"), "{evil}");
    // The browser's preflight is answered for allowed origins only.
    let pre = head_of(
        addr,
        &request(addr, "OPTIONS", &["Origin: https://polkadot.js.org"], ""),
    )
    .await;
    assert!(pre.contains("access-control-allow-methods"), "{pre}");
    let pre = head_of(
        addr,
        &request(addr, "OPTIONS", &["Origin: https://evil.example"], ""),
    )
    .await;
    assert!(pre.starts_with("http/1.1 403"), "{pre}");
    // A page on another site cannot open a WebSocket either.
    let upgrade = [
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ];
    let mut headers = upgrade.to_vec();
    headers.push("Origin: https://evil.example");
    let ws = head_of(addr, &request(addr, "GET", &headers, "")).await;
    assert!(ws.starts_with("http/1.1 403"), "{ws}");
    let mut headers = upgrade.to_vec();
    headers.push("Origin: http://127.0.0.1:8080");
    let ws = head_of(addr, &request(addr, "GET", &headers, "")).await;
    assert!(ws.starts_with("http/1.1 101"), "{ws}");
    node.assert_alive().await;

    // `--rpc-cors all` serves any origin; an explicit list only its own.
    let all = Node::start_with(TestBackend::new(), |c| c.cors = Cors::All).await;
    let any = head_of(
        all.addr(),
        &request(all.addr(), "POST", &["Origin: https://evil.example"], CALL),
    )
    .await;
    assert!(any.starts_with("http/1.1 200"), "{any}");
    let listed = Node::start_with(TestBackend::new(), |c| {
        c.cors = Cors::List(vec!["https://wallet.example".into()])
    })
    .await;
    let a = listed.addr();
    let mine = head_of(
        a,
        &request(a, "POST", &["Origin: https://wallet.example"], CALL),
    )
    .await;
    assert!(mine.starts_with("http/1.1 200"), "{mine}");
    let local = head_of(
        a,
        &request(a, "POST", &["Origin: http://localhost:3000"], CALL),
    )
    .await;
    assert!(local.starts_with("http/1.1 403"), "{local}");
}

#[tokio::test]
async fn safe_mode_refuses_operator_methods_and_serves_the_rest() {
    let node = Node::start_with(TestBackend::new(), |c| c.methods = RpcMethods::Safe).await;
    for method in qstack_rpc::UNSAFE_METHODS {
        let (code, message) = node.fails(method, json!([])).await;
        assert_eq!(code, -32601, "{method}");
        assert_eq!(message, "RPC call is unsafe to be called externally");
    }
    // Still listed in rpc_methods, as Substrate does; the rest work.
    let listed = node.ok("rpc_methods", json!([])).await;
    assert!(listed["methods"]
        .as_array()
        .unwrap()
        .contains(&json!("system_peers")));
    node.ok("system_health", json!([])).await;
    node.ok("chain_getHeader", json!([])).await;
    // The default serves them.
    let open = Node::start().await;
    assert!(open.ok("system_peers", json!([])).await.is_array());
}

#[tokio::test]
async fn a_connection_past_its_rate_limit_is_refused_and_others_are_not() {
    let node = Node::start_with(TestBackend::new(), |c| c.rate_limit = NonZeroU32::new(30)).await;
    let client = node.ws().await;
    let mut refused = 0;
    let mut served = 0;
    for _ in 0..40 {
        match client
            .request::<Value, _>("system_name", jsonrpsee::rpc_params![])
            .await
        {
            Ok(_) => served += 1,
            Err(jsonrpsee::core::ClientError::Call(e)) => {
                assert_eq!(e.code(), -32005, "{e:?}");
                refused += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    // 30 a minute: the bucket holds 30 (a few more refill while it runs).
    assert!((30..=32).contains(&served), "served {served}");
    assert_eq!(served + refused, 40);
    // A batch counts each call: past the limit its calls answer the error.
    let batch: Vec<Value> = two_call_batch(&client).await;
    assert!(
        batch.iter().all(|r| r["error"]["code"] == -32005),
        "{batch:?}"
    );
    // Another connection has its own bucket.
    let other = node.ws().await;
    let name: Value = other
        .request("system_name", jsonrpsee::rpc_params![])
        .await
        .expect("a fresh connection is served");
    assert_eq!(name, json!("qstack"));
}

/// A batch of two `system_name` calls over `client`'s connection (a fresh
/// HTTP connection would have a fresh bucket).
async fn two_call_batch(client: &jsonrpsee_ws_client::WsClient) -> Vec<Value> {
    let mut batch = jsonrpsee::core::params::BatchRequestBuilder::new();
    batch
        .insert("system_name", jsonrpsee::rpc_params![])
        .unwrap();
    batch
        .insert("system_name", jsonrpsee::rpc_params![])
        .unwrap();
    let out = client
        .batch_request::<Value>(batch)
        .await
        .expect("the batch is answered");
    out.into_iter()
        .map(|r| match r {
            Ok(v) => json!({ "result": v }),
            Err(e) => json!({ "error": { "code": e.code(), "message": e.message() } }),
        })
        .collect()
}
