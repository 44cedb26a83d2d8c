//! Operator conveniences Substrate users expect: `--tmp` (a chain in a
//! temporary directory, gone when the node stops), `purge-chain --dev`, and
//! `-l/--log target=level` log filters with a clear error for a bad one.

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
