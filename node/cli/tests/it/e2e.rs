//! End-to-end tests of the `qstack` binary: real processes on loopback, free
//! ports, temporary base paths; every node is killed when its test ends.

use crate::common::*;
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn hybrid_pqc_transfer_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &[]);
    let bob = address("//Bob", "sr25519");
    let alice = address("//Alice", "hybrid");
    let before = free_of(&node, &bob);
    assert!(
        node.rpc("account_info", json!([alice]))["key"].is_null(),
        "no key before the first transaction"
    );
    let rpc = format!("ws://127.0.0.1:{}", node.port);
    let (ok, out) = qstack(&[
        "tx",
        "transfer",
        "--from",
        "//Alice",
        "--scheme",
        "hybrid",
        "--to",
        &bob,
        "--amount",
        "777000",
        "--rpc",
        &rpc,
        "--wait-finalized",
    ]);
    assert!(ok, "{out}");
    // The CLI prints the statuses author_submitAndWatchExtrinsic pushed.
    assert!(out.contains("\"ready\""), "{out}");
    assert!(out.contains("inBlock"), "{out}");
    assert!(out.contains("finalized"), "{out}");
    assert_eq!(free_of(&node, &bob), before + 777000);
    let info = node.rpc("account_info", json!([alice]));
    assert_eq!(info["nonce"], 1);
    assert_eq!(info["key"]["scheme"], "hybrid", "{info}");
    // Later transactions refer to the stored key; nonce from system_accountNextIndex.
    let (ok, out) = qstack(&[
        "tx", "transfer", "--from", "//Alice", "--scheme", "hybrid", "--to", &bob, "--amount",
        "1000", "--rpc", &rpc,
    ]);
    assert!(ok, "{out}");
    assert_eq!(free_of(&node, &bob), before + 778000);
    // A transfer the account cannot afford is refused with a clear error, and nothing moves.
    let (ok, out) = qstack(&[
        "tx", "transfer", "--from", "//Nobody", "--scheme", "sr25519", "--to", &bob, "--amount",
        "5", "--rpc", &rpc,
    ]);
    assert!(!ok);
    assert!(
        out.contains("Invalid Transaction") && out.contains("fee"),
        "{out}"
    );
    assert_eq!(free_of(&node, &bob), before + 778000);
}

#[test]
fn bad_rpc_input_gets_errors_and_the_node_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &[]);
    for (method, params) in [
        ("author_submitExtrinsic", json!(["0xzz"])),
        ("author_submitExtrinsic", json!(["0x0102"])),
        ("state_getStorage", json!([12])),
        ("no_such_method", json!([])),
        ("account_info", json!(["qNotAnAddress"])),
    ] {
        let v = node.try_rpc(method, params).expect("an answer");
        assert!(v.get("error").is_some(), "{method}: {v}");
    }
    node.rpc("system_health", json!([]));
}

#[test]
fn restart_resumes_at_the_same_head_and_state() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &[]);
    node.wait_until("block 3", Duration::from_secs(60), |n| n.best().0 >= 3);
    node.interrupt();
    let node = Node::start(dir.path(), &[]);
    // Right after restart (before or after a new block), the old head is still there.
    let (n, hash) = node.best();
    assert!(n >= 3);
    let header = node.rpc("chain_getHeader", json!([hash]));
    assert!(header["stateRoot"].is_string());
    node.wait_until("progress after restart", Duration::from_secs(30), |m| {
        m.best().0 > n
    });
    // Old blocks keep their hashes.
    assert_eq!(
        node.rpc("chain_getBlockHash", json!([n])).as_str().unwrap(),
        hash
    );
}

#[test]
fn kill_9_mid_import_restarts_on_the_last_complete_block() {
    let dir = tempfile::tempdir().unwrap();
    let bob = address("//Bob", "sr25519");
    for round in 0..3u64 {
        let node = Node::start(dir.path(), &["--instant-seal"]);
        let (start, _) = node.best();
        let rpc = format!("ws://127.0.0.1:{}", node.port);
        // Keep blocks coming while we kill the node at an arbitrary moment.
        let sender = Command::new(BIN)
            .args([
                "tx", "transfer", "--from", "//Alice", "--scheme", "sr25519", "--to", &bob,
                "--amount", "1000", "--rpc", &rpc,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(150 + 97 * round));
        node.kill9();
        let mut sender = sender;
        let _ = sender.wait();
        let node = Node::start(dir.path(), &["--instant-seal"]);
        let (n, hash) = node.best();
        assert!(n >= start, "went backwards: {n} < {start}");
        // The head is a complete block: header, body and state all readable.
        let block = node.rpc("chain_getBlock", json!([hash]));
        assert!(block["block"]["extrinsics"].is_array());
        assert!(free_of(&node, &bob) > 0);
        node.rpc("state_getRuntimeVersion", json!([hash]));
        // And it imports again.
        let (ok, out) = qstack(&[
            "tx",
            "transfer",
            "--from",
            "//Alice",
            "--scheme",
            "sr25519",
            "--to",
            &bob,
            "--amount",
            "1000",
            "--rpc",
            &format!("ws://127.0.0.1:{}", node.port),
        ]);
        assert!(ok, "{out}");
        assert!(node.best().0 > n);
    }
}

#[test]
fn export_then_import_blocks_reproduces_the_chain_and_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let bob = address("//Bob", "sr25519");
    let node = Node::start(&src, &["--instant-seal"]);
    let rpc = format!("ws://127.0.0.1:{}", node.port);
    for _ in 0..8 {
        let (ok, out) = qstack(&[
            "tx", "transfer", "--from", "//Alice", "--scheme", "sr25519", "--to", &bob, "--amount",
            "5000", "--rpc", &rpc,
        ]);
        assert!(ok, "{out}");
    }
    let (best, best_hash) = node.best();
    assert!(best >= 8);
    let root = node.rpc("chain_getHeader", json!([best_hash]))["stateRoot"].clone();
    let bob_free = free_of(&node, &bob);
    node.interrupt();

    let file = dir.path().join("chain.blocks");
    let src_s = src.to_str().unwrap();
    let file_s = file.to_str().unwrap();
    let (ok, out) = qstack(&["export-blocks", file_s, "-d", src_s, "--quiet"]);
    assert!(ok, "{out}");
    assert!(out.contains(&format!("#1..=#{best}")), "{out}");

    // kill -9 the importer at arbitrary moments; each restart resumes.
    let dst = dir.path().join("dst");
    let dst_s = dst.to_str().unwrap();
    // Startup (RocksDB creation, genesis) and import both take part of a
    // second in a debug build, so these delays land in every phase.
    for delay_ms in [40u64, 150, 300, 450, 600, 750] {
        let mut importer = Command::new(BIN)
            .args(["import-blocks", file_s, "-d", dst_s, "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = importer.kill();
        let _ = importer.wait();
    }
    let (ok, out) = qstack(&["import-blocks", file_s, "-d", dst_s, "--quiet"]);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("best #{best} ({best_hash})")),
        "{out}"
    );
    let node = Node::start(&dst, &["--instant-seal"]);
    assert_eq!(node.best(), (best, best_hash.clone()));
    assert_eq!(
        node.rpc("chain_getHeader", json!([best_hash]))["stateRoot"],
        root
    );
    assert_eq!(free_of(&node, &bob), bob_free);
    node.interrupt();

    // Bad files are refused with the reason, and nothing imported is lost.
    let (ok, out) = qstack(&["import-blocks", file_s, "--chain", "local", "-d", dst_s]);
    assert!(!ok && out.contains("genesis"), "{out}");
    let bytes = std::fs::read(&file).unwrap();
    let cut = dir.path().join("cut.blocks");
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
    let fresh = dir.path().join("fresh");
    let (ok, out) = qstack(&[
        "import-blocks",
        cut.to_str().unwrap(),
        "-d",
        fresh.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(
        !ok && out.contains(&format!("reading record {best} of {best}")),
        "{out}"
    );
    let node = Node::start(&fresh, &["--instant-seal"]);
    assert_eq!(
        node.best().0,
        best - 1,
        "blocks before the bad record stay imported"
    );
    node.interrupt();
    std::fs::write(&cut, b"not a block file at all").unwrap();
    let (ok, out) = qstack(&["import-blocks", cut.to_str().unwrap(), "-d", dst_s]);
    assert!(!ok && out.contains("bad magic"), "{out}");
}

#[test]
fn benchmark_import_generates_imports_and_reports_every_scheme() {
    let (ok, out) = qstack(&[
        "benchmark",
        "import",
        "--blocks",
        "2",
        "--txs-per-block",
        "20",
        "--senders",
        "4",
        "--db",
        "memory",
        "--json",
    ]);
    assert!(ok, "{out}");
    let v: Value = serde_json::from_str(out.lines().find(|l| l.starts_with('{')).unwrap()).unwrap();
    let results = v["results"].as_array().unwrap();
    let runs: Vec<_> = results
        .iter()
        .map(|r| (r["scheme"].as_str().unwrap(), r["asset"].as_str().unwrap()))
        .collect();
    // Every scheme, each with native and issued-token transfers and AMM
    // swaps (every one of which succeeded: the benchmark checks the events).
    let expected: Vec<_> = ["sr25519", "falcon512", "mldsa44", "hybrid"]
        .into_iter()
        .flat_map(|s| [(s, "native"), (s, "token"), (s, "swap")])
        .collect();
    assert_eq!(runs, expected);
    for r in results {
        assert_eq!(r["transfers"], 40);
        for k in ["import_tps", "import_tps_serial", "verify_per_s_one_core"] {
            assert!(r[k].as_f64().unwrap() > 0.0, "{k} in {r}");
        }
    }
    let (ok, out) = qstack(&["benchmark", "import", "--schemes", "rsa"]);
    assert!(!ok && out.contains("unknown scheme \"rsa\""), "{out}");
    let (ok, out) = qstack(&["benchmark", "import", "--assets", "gold"]);
    assert!(!ok && out.contains("--assets"), "{out}");
}
