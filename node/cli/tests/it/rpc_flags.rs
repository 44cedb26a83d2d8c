//! The RPC server's guards from the command line: `--rpc-methods`,
//! `--rpc-cors`, `--rpc-rate-limit` and the size and count limits.

use crate::common::*;
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;

/// The status line of a POST from a page at `origin`.
fn status_from(port: u16, origin: &str) -> String {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"system_name","params":[]}"#;
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    write!(s, "POST / HTTP/1.1\r\nHost: localhost\r\nOrigin: {origin}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp.lines().next().unwrap_or_default().to_string()
}

/// POSTs `body`; the status line and the body.
fn http_post(port: u16, body: &str) -> (String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let _ = write!(
        s,
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out.lines().next().unwrap_or_default().to_string();
    (status, out)
}

#[test]
fn rpc_flags_limit_methods_origins_and_rates() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(
        dir.path(),
        &[
            "--rpc-methods",
            "safe",
            "--rpc-cors",
            "https://wallet.example",
            "--rpc-rate-limit",
            "1000",
        ],
    );
    let refused = node.try_rpc("system_peers", json!([])).unwrap();
    assert_eq!(refused["error"]["code"], -32601, "{refused}");
    assert!(node.rpc("system_health", json!([])).is_object());
    assert!(status_from(node.port, "https://wallet.example").contains("200"));
    assert!(status_from(node.port, "http://localhost:3000").contains("403"));
    node.interrupt();

    // Bad values are refused before anything starts, saying why.
    let d = dir.path().to_str().unwrap();
    let (ok, out) = qstack(&["--dev", "-d", d, "--rpc-cors", "wallet.example"]);
    assert!(
        !ok && out.contains("--rpc-cors") && out.contains("not an origin"),
        "{out}"
    );
    let (ok, out) = qstack(&["--dev", "-d", d, "--rpc-methods", "some"]);
    assert!(!ok && out.contains("--rpc-methods"), "{out}");
    let (ok, out) = qstack(&["--dev", "-d", d, "--rpc-rate-limit", "0"]);
    assert!(!ok && out.contains("--rpc-rate-limit"), "{out}");

    let (ok, out) = qstack(&["--dev", "-d", d, "--rpc-max-request-size", "5000"]);
    assert!(!ok && out.contains("--rpc-max-request-size"), "{out}");

    // Size and count limits (Substrate's flags): a batch of three against
    // a limit of two is refused whole; a 2 MB request against 1 MB gets 413.
    let node = Node::start(
        dir.path(),
        &[
            "--rpc-max-batch-request-len",
            "2",
            "--rpc-max-request-size",
            "1",
        ],
    );
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "system_name", "params": []});
    let (_, body) = http_post(node.port, &json!([call, call, call]).to_string());
    assert!(
        body.contains("-32010") || body.to_lowercase().contains("batch"),
        "{body}"
    );
    let (_, body) = http_post(node.port, &json!([call, call]).to_string());
    assert!(body.contains("qstack"), "{body}");
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"system_name","params":[],"x":"{}"}}"#,
        "a".repeat(2 << 20)
    );
    let (status, _) = http_post(node.port, &big);
    assert!(status.contains("413"), "{status}");
    node.interrupt();

    // (`--rpc-external` binds every interface, which tests do not: its
    // `auto` policy and warning are unit-tested in qstack-service.)
}
