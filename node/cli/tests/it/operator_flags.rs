//! Operator conveniences Substrate users expect: `--tmp` (a chain in a
//! temporary directory, gone when the node stops), `purge-chain --dev`, and
//! `-l/--log target=level` log filters with a clear error for a bad one,
//! Prometheus metrics on `--prometheus-port` and a periodic status line.

use crate::common::{free_port, qstack, rpc_at, BIN};
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn tmp_chain_is_deleted_on_exit_and_log_filters_apply() {
    let logs = tempfile::tempdir().unwrap();
    let log_path = logs.path().join("node.log");
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(["--dev", "--tmp", "-l", "qstack::storage=warn", "--rpc-port"])
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while rpc_at(port, "system_health", json!([])).is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "RPC never came up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = std::fs::read_to_string(&log_path).unwrap();
    let dir = log
        .lines()
        .find_map(|l| l.strip_prefix("Temporary base path "))
        .and_then(|l| l.strip_suffix(" (deleted on exit)"))
        .unwrap_or_else(|| panic!("no temporary base path in the log:\n{log}"))
        .to_string();
    assert!(std::path::Path::new(&dir).join("chains/dev/db").exists());
    // `-l qstack::storage=warn` silences the storage's info line about
    // the genesis commit; every other target keeps the default `info`.
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(!log.contains("committed genesis"), "{log}");
    assert!(log.contains("INFO") && log.contains("JSON-RPC"), "{log}");
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "node did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!std::path::Path::new(&dir).exists(), "{dir} left behind");

    // `--tmp` and `--base-path` are two answers to one question.
    let (ok, out) = qstack(&["--dev", "--tmp", "-d", "/tmp/x"]);
    assert!(!ok && out.contains("--tmp"), "{out}");
    // A bad filter is refused by name.
    let (ok, out) = qstack(&["-l", "qstack=loud", "key", "inspect", "//Alice"]);
    assert!(!ok && out.contains("-l/--log"), "{out}");
}

#[test]
fn purge_chain_takes_dev() {
    let base = tempfile::tempdir().unwrap();
    let db = base.path().join("chains/dev/db");
    std::fs::create_dir_all(&db).unwrap();
    std::fs::write(db.join("CURRENT"), b"x").unwrap();
    let b = base.path().to_str().unwrap();
    let (ok, out) = qstack(&["purge-chain", "--dev", "-d", b, "-y"]);
    assert!(ok && out.contains("removed"), "{out}");
    assert!(!db.exists());
    let (ok, out) = qstack(&["purge-chain", "--dev", "-d", b, "-y"]);
    assert!(ok && out.contains("nothing to purge"), "{out}");
    let (ok, out) = qstack(&["purge-chain", "--dev", "--chain", "local", "-d", b]);
    assert!(!ok && out.contains("--chain"), "{out}");
}

/// `GET /metrics` on `port`: the body of the answer.
fn scrape(port: u16) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("metrics port");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(head.contains("application/openmetrics-text"), "{head}");
    body.to_string()
}

/// Every sample line `name{labels} value` of an OpenMetrics text, parsed.
fn samples(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').expect("name value");
            (
                name.to_string(),
                value.parse().unwrap_or_else(|_| panic!("{l}")),
            )
        })
        .collect()
}

#[test]
fn prometheus_metrics_and_a_status_line_instead_of_a_line_per_block() {
    use crate::common::{qstack_ok, Node};
    let base = tempfile::tempdir().unwrap();
    let metrics_port = free_port();
    let node = Node::start(
        base.path(),
        &[
            "--prometheus-port",
            &metrics_port.to_string(),
            "--listen-addr",
            "/ip4/127.0.0.1/tcp/0",
            "--no-mdns",
        ],
    );
    let out = qstack_ok(&[
        "tx",
        "transfer",
        "--to",
        &crate::common::address("//Bob", "sr25519"),
        "--amount",
        "1000000000000",
        "--from",
        "//Alice",
        "--rpc",
        &node.ws(),
    ]);
    assert!(out.contains("In block"), "{out}");
    let mut found = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        found = samples(&scrape(metrics_port));
        let get = |n: &str| found.iter().find(|(k, _)| k == n).map(|(_, v)| *v);
        if get("qstack_block_height{status=\"best\"}").is_some_and(|b| b >= 1.0) {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let get = |n: &str| {
        found
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("{n} missing from {found:?}"))
    };
    assert!(get("qstack_block_height{status=\"best\"}") >= 1.0);
    assert_eq!(get("qstack_finality_lag"), 0.0, "dev blocks are final");
    assert_eq!(get("qstack_sync_peers"), 0.0);
    assert!(get("qstack_block_build_seconds_count") >= 1.0);
    for name in [
        "qstack_txpool_ready",
        "qstack_txpool_future",
        "qstack_is_major_syncing",
    ] {
        get(name);
    }
    // A status line every 5 s; no line per imported block at `info`.
    let log_path = base.path().join(format!("node-{}.log", node.port));
    let start = Instant::now();
    loop {
        let log = std::fs::read_to_string(&log_path).unwrap();
        if log.contains("Idle (0 peers), best: #") {
            assert!(!log.contains("imported #"), "{log}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no status line:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // Another path is not found; a busy port costs the metrics, not the node.
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", metrics_port)).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 404"), "{out}");
    let other = tempfile::tempdir().unwrap();
    let second = Node::start(
        other.path(),
        &[
            "--prometheus-port",
            &metrics_port.to_string(),
            "--listen-addr",
            "/ip4/127.0.0.1/tcp/0",
            "--no-mdns",
        ],
    );
    let log =
        std::fs::read_to_string(other.path().join(format!("node-{}.log", second.port))).unwrap();
    assert!(log.contains("metrics disabled"), "{log}");
}
