//! `scripts/local-testnet.sh`: three nodes of the local chain spec on
//! loopback, the followers syncing from the validator, and everything gone
//! after SIGTERM.

use crate::common::{free_port, BIN};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const NODES: u16 = 3;

/// One JSON-RPC call over HTTP to 127.0.0.1:port; `None` if nothing answers.
fn try_rpc(port: u16, method: &str, params: Value) -> Option<Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let v: Value = serde_json::from_str(resp.split("\r\n\r\n").nth(1)?).ok()?;
    v.get("result").cloned()
}

/// Whether ports `base .. base + NODES` are all free on 127.0.0.1 and 0.0.0.0.
fn range_free(base: u16) -> bool {
    (0..NODES).all(|i| {
        base.checked_add(i).is_some_and(|p| {
            TcpListener::bind(("127.0.0.1", p)).is_ok() && TcpListener::bind(("0.0.0.0", p)).is_ok()
        })
    })
}

/// A base port with `NODES` free ports from it, outside `avoid`'s range.
fn free_base(avoid: Option<u16>) -> u16 {
    for _ in 0..200 {
        let base = free_port();
        let clash = avoid.is_some_and(|a| base < a + NODES && a < base + NODES);
        if !clash && base <= u16::MAX - NODES && range_free(base) {
            return base;
        }
    }
    panic!("no {NODES} consecutive free ports found");
}

/// The script's process; SIGTERMed (then killed) if the test fails early.
struct Testnet {
    child: Child,
    output: PathBuf,
}

impl Testnet {
    fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status();
    }

    fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Polls `f` until it holds; fails with the script's output on timeout
    /// or if the script exited.
    fn wait_until(&mut self, what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
        let start = Instant::now();
        while !f() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the script exited ({status}) while waiting for {what}:\n{}",
                    self.output()
                );
            }
            assert!(
                start.elapsed() < timeout,
                "timed out after {timeout:?} waiting for {what}; script output:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Testnet {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.signal("-TERM");
            if self.wait_exit(Duration::from_secs(25)).is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/local-testnet.sh")
}

#[test]
fn three_node_local_testnet_syncs_and_stops_on_sigterm() {
    let started = Instant::now();
    let tmp = tempfile::Builder::new()
        .prefix("qstack-local-testnet-")
        .tempdir()
        .unwrap();
    let rpc_base = free_base(None);
    let p2p_base = free_base(Some(rpc_base));
    let rpc: Vec<u16> = (0..NODES).map(|i| rpc_base + i).collect();
    let p2p: Vec<u16> = (0..NODES).map(|i| p2p_base + i).collect();

    let output = tmp.path().join("script.out");
    let log = std::fs::File::create(&output).unwrap();
    let child = Command::new("bash")
        .arg(script())
        .arg(NODES.to_string())
        .env("QSTACK_BIN", BIN)
        .env("QSTACK_TESTNET_DIR", tmp.path().join("net"))
        .env("QSTACK_TESTNET_RPC_BASE", rpc_base.to_string())
        .env("QSTACK_TESTNET_P2P_BASE", p2p_base.to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("run scripts/local-testnet.sh");
    let mut net = Testnet { child, output };

    // Every node answers RPC, and the script printed the table.
    net.wait_until("every node's RPC", Duration::from_secs(60), || {
        rpc.iter()
            .all(|&p| try_rpc(p, "system_health", json!([])).is_some())
    });
    net.wait_until("the script's node table", Duration::from_secs(10), || {
        net_output_has(&tmp.path().join("script.out"), "Press Ctrl-C")
    });
    let out = net.output();
    for (i, &port) in rpc.iter().enumerate() {
        let peer_id = try_rpc(port, "system_localPeerId", json!([])).expect("peer id");
        let peer_id = peer_id.as_str().unwrap();
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("node-{i} ")))
            .unwrap_or_else(|| panic!("node-{i} missing from the script's output:\n{out}"));
        assert!(
            line.contains(&format!("http://127.0.0.1:{port}")) && line.contains(peer_id),
            "node-{i}: expected port {port} and peer id {peer_id} in {line:?}"
        );
        assert!(line.contains(&format!("node-{i}.log")), "{line}");
        let role = if i == 0 { "validator" } else { "follower" };
        assert!(line.contains(role), "{line}");
    }

    // The followers are connected and follow the validator's chain to #2.
    net.wait_until(
        "followers with peers at the validator's block #2",
        Duration::from_secs(40),
        || {
            let Some(h2) = try_rpc(rpc[0], "chain_getBlockHash", json!([2]))
                .and_then(|v| v.as_str().map(str::to_string))
            else {
                return false;
            };
            rpc[1..].iter().all(|&p| {
                let peers = try_rpc(p, "system_peers", json!([]))
                    .and_then(|v| v.as_array().map(Vec::len))
                    .unwrap_or(0);
                let hash = try_rpc(p, "chain_getBlockHash", json!([2]));
                peers >= 1 && hash.as_ref().and_then(Value::as_str) == Some(h2.as_str())
            })
        },
    );
    let synced = started.elapsed();

    // SIGTERM: the script stops every node and exits 0.
    net.signal("-TERM");
    let stop = Instant::now();
    let status = net.wait_exit(Duration::from_secs(20)).unwrap_or_else(|| {
        panic!(
            "the script did not exit within 20 s of SIGTERM:\n{}",
            net.output()
        )
    });
    let out = net.output();
    assert!(status.success(), "script exited with {status}:\n{out}");
    assert!(out.contains("all nodes stopped"), "{out}");
    assert!(!out.contains("killing"), "a node needed SIGKILL:\n{out}");
    for &port in rpc.iter().chain(&p2p) {
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "something still listens on {port} after the testnet stopped:\n{out}"
        );
    }
    for i in 0..NODES {
        let log = std::fs::read_to_string(tmp.path().join(format!("net/node-{i}.log"))).unwrap();
        assert!(log.contains("shutting down"), "node-{i} log:\n{log}");
    }
    eprintln!(
        "synced in {synced:?}, stopped in {:?}, total {:?}",
        stop.elapsed(),
        started.elapsed()
    );
}

fn net_output_has(path: &Path, what: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|s| s.contains(what))
}
