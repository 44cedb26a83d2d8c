//! A server on 127.0.0.1 with a fresh [`TestBackend`], and clients for it:
//! raw HTTP (to see exact JSON and status codes) and jsonrpsee's WebSocket client.

use jsonrpsee_ws_client::{WsClient, WsClientBuilder};
use qstack_rpc::testing::TestBackend;
use qstack_rpc::{RpcConfig, RpcHandle};
use serde_json::{json, Value};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Every wait in these tests is bounded by this.
pub const WAIT: Duration = Duration::from_secs(20);

/// Awaits `f`, failing the test if it takes longer than [`WAIT`].
pub async fn within<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, f)
        .await
        .expect("timed out waiting for the server")
}

pub struct Node {
    pub backend: Arc<TestBackend>,
    pub rpc: RpcHandle,
}

impl Node {
    pub async fn start() -> Node {
        Self::start_with(TestBackend::new(), |_| {}).await
    }

    pub async fn start_with(backend: TestBackend, configure: impl FnOnce(&mut RpcConfig)) -> Node {
        let mut config = RpcConfig {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..RpcConfig::default()
        };
        configure(&mut config);
        let backend = Arc::new(backend);
        let rpc = qstack_rpc::start(config, backend.clone())
            .await
            .expect("the server starts");
        Node { backend, rpc }
    }

    pub fn addr(&self) -> SocketAddr {
        self.rpc.local_addr()
    }

    /// The whole JSON-RPC response to one call made over raw HTTP.
    pub async fn call(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let (status, text) = post(self.addr(), body.to_string().as_bytes()).await;
        assert_eq!(status, 200, "{method}: HTTP {status}: {text}");
        let response: Value = serde_json::from_str(&text).expect("the response is JSON");
        assert_eq!(response["jsonrpc"], "2.0");
        assert_eq!(response["id"], 1);
        response
    }

    /// The result of a call that must succeed.
    pub async fn ok(&self, method: &str, params: Value) -> Value {
        let response = self.call(method, params).await;
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    /// The (code, message) of a call that must fail.
    pub async fn fails(&self, method: &str, params: Value) -> (i64, String) {
        let response = self.call(method, params).await;
        assert!(
            response.get("result").is_none(),
            "{method} should fail: {response}"
        );
        let e = &response["error"];
        (
            e["code"].as_i64().expect("an error code"),
            e["message"].as_str().expect("an error message").to_owned(),
        )
    }

    /// The full error object of a call that must fail.
    pub async fn error_object(&self, method: &str, params: Value) -> Value {
        let response = self.call(method, params).await;
        assert!(response.get("result").is_none(), "{method}: {response}");
        response["error"].clone()
    }

    /// Asserts the server still answers an ordinary call.
    pub async fn assert_alive(&self) {
        assert_eq!(self.ok("system_name", json!([])).await, json!("qstack"));
    }

    pub async fn ws(&self) -> WsClient {
        within(
            WsClientBuilder::default()
                .request_timeout(WAIT)
                .build(format!("ws://{}", self.addr())),
        )
        .await
        .expect("WebSocket connects")
    }
}

/// POSTs `body` as JSON; returns the status and body of the response.
pub async fn post(addr: SocketAddr, body: &[u8]) -> (u16, String) {
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    exchange(addr, &request).await
}

/// Sends `request` bytes as they are; returns the status and body of the response.
pub async fn exchange(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    within(async {
        let mut stream = TcpStream::connect(addr).await.expect("connects");
        stream.write_all(request).await.expect("sends");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("reads");
        parse_response(&raw)
    })
    .await
}

fn parse_response(raw: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

/// `0x`-hex, written independently of the crate under test.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::from("0x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// An extrinsic with a correct compact length prefix around `body` (< 64 bytes).
pub fn framed(body: &[u8]) -> Vec<u8> {
    assert!(body.len() < 64);
    let mut xt = vec![(body.len() as u8) << 2];
    xt.extend_from_slice(body);
    xt
}
