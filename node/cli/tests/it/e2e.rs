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

/// `key inspect` in JSON: (q… address, SS58 address) at `prefix`.
fn both_forms(suri: &str, prefix: u16) -> (String, String) {
    let out = qstack_ok(&[
        "key",
        "inspect",
        suri,
        "--output",
        "json",
        "--ss58-prefix",
        &prefix.to_string(),
    ]);
    let v = json_line(&out);
    assert_eq!(v["ss58Prefix"], prefix, "{v}");
    (
        v["address"].as_str().unwrap().to_string(),
        v["ss58Address"].as_str().unwrap().to_string(),
    )
}

#[test]
fn ss58_addresses_read_everywhere_with_the_chains_prefix_only() {
    // The dev spec with its own SS58 prefix (42, not qstack's default 59),
    // and Bob's genesis balance written as an SS58 address of that prefix.
    let dir = tempfile::tempdir().unwrap();
    let (bob_q, bob_42) = both_forms("//Bob", 42);
    let (_, bob_59) = both_forms("//Bob", 59);
    assert!(
        bob_42.starts_with('5') && bob_59.starts_with('6'),
        "{bob_42} {bob_59}"
    );
    let mut spec: Value =
        serde_json::from_str(include_str!("../../../../chain-specs/dev.json")).unwrap();
    spec["properties"]["ss58Format"] = 42.into();
    let balances = spec["genesis"]["runtimeGenesis"]["patch"]["balances"]["balances"]
        .as_array_mut()
        .unwrap();
    let genesis_bob = balances
        .iter_mut()
        .find(|e| e[0] == bob_q.as_str())
        .expect("the dev spec endows //Bob");
    genesis_bob[0] = bob_42.as_str().into();
    let endowed: u128 = genesis_bob[1].as_str().unwrap().parse().unwrap();
    let path = dir.path().join("ss58.json");
    std::fs::write(&path, spec.to_string()).unwrap();
    let node = Node::start_with(
        dir.path(),
        &[
            "--chain",
            path.to_str().unwrap(),
            "--validator",
            "--no-mdns",
        ],
    );
    assert_eq!(node.rpc("system_properties", json!([]))["ss58Format"], 42);
    // RPC: the q… and the chain's SS58 form are the same account.
    assert_eq!(free_of(&node, &bob_42), endowed);
    assert_eq!(free_of(&node, &bob_q), endowed);
    assert_eq!(node.rpc("system_accountNextIndex", json!([bob_42])), 0);
    // CLI: --to in the chain's SS58 form (the CLI takes the prefix from
    // the node before reading its arguments).
    let rpc = format!("ws://127.0.0.1:{}", node.port);
    let send = |to: &str| {
        qstack(&[
            "tx", "transfer", "--from", "//Alice", "--to", to, "--amount", "1000", "--rpc", &rpc,
        ])
    };
    let (ok, out) = send(&bob_42);
    assert!(ok, "{out}");
    assert_eq!(free_of(&node, &bob_q), endowed + 1000);
    // Another chain's prefix, a mistyped SS58 address, a mistyped q…
    // address: each its own error, and nothing moves.
    let (ok, out) = send(&bob_59);
    assert!(
        !ok && out.contains("SS58 address of another chain: prefix 59, this chain's is 42"),
        "{out}"
    );
    let mut typo: Vec<char> = bob_42.chars().collect();
    typo[10] = if typo[10] == 'a' { 'b' } else { 'a' };
    let typo: String = typo.into_iter().collect();
    let (ok, out) = send(&typo);
    assert!(
        !ok && out.contains("SS58 address checksum mismatch"),
        "{out}"
    );
    let mut typo: Vec<char> = bob_q.chars().collect();
    typo[10] = if typo[10] == 'a' { 'b' } else { 'a' };
    let typo: String = typo.into_iter().collect();
    let (ok, out) = send(&typo);
    assert!(!ok && out.contains("address checksum mismatch"), "{out}");
    let (ok, out) = send("5GrwvaEF5zXb26Fz9rcQpDW");
    assert!(!ok && out.contains("address decodes to"), "{out}");
    assert_eq!(free_of(&node, &bob_q), endowed + 1000);
    // RPC refuses another chain's address with the same words.
    let polkadot = node
        .try_rpc("account_info", json!([bob_59]))
        .expect("an answer");
    assert!(
        polkadot["error"].to_string().contains("another chain"),
        "{polkadot}"
    );
}

#[test]
fn key_inspect_prints_what_the_readme_shows() {
    // README "Accounts and addresses": the //Alice block, line for line.
    let readme = include_str!("../../../../README.md");
    let start = readme
        .find("```sh\nqstack key inspect //Alice\n")
        .expect("the README shows `qstack key inspect //Alice`");
    let block = &readme[start..];
    let block = &block[..block[6..].find("```").unwrap() + 6];
    let shown: Vec<&str> = block.lines().filter_map(|l| l.strip_prefix("# ")).collect();
    let out = qstack_ok(&["key", "inspect", "//Alice"]);
    let printed: Vec<&str> = out.lines().take(shown.len()).collect();
    assert_eq!(printed, shown);
}
