//! A forkless runtime upgrade on a real BFT network of processes on
//! loopback: four validators run the shipped runtime (v1); a critical
//! governance proposal authorising the next runtime (v2: a new
//! `Notary.revoke` call, a storage migration of every note) passes with a
//! delegator voting against its validator; anyone submits the code in
//! chunks; every node switches at the same block without a restart; the
//! new call works from the CLI; the migration ran once; a fresh node
//! syncs from genesis, re-executing old blocks with v1 and new ones with
//! v2. And on a development chain, the sudo path and the CLI's refusals.

use crate::common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const QS: u128 = 1_000_000_000_000;

fn write_wasm(dir: &Path, name: &str, code: &[u8]) -> String {
    assert!(!code.is_empty(), "the {name} runtime was built");
    let path = dir.join(name);
    std::fs::write(&path, code).unwrap();
    path.to_str().unwrap().to_string()
}

fn spec_version_at(node: &Node, hash: &str) -> u64 {
    node.rpc("state_getRuntimeVersion", json!([hash]))["specVersion"]
        .as_u64()
        .expect("specVersion")
}

fn number_of(node: &Node, hash: &str) -> u64 {
    let h = node.rpc("chain_getHeader", json!([hash]));
    u64::from_str_radix(h["number"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// The System events of block `hash`, decoded by the node's own types.
fn events_at(node: &Node, hash: &str) -> Vec<qstack_runtime::RuntimeEvent> {
    use codec::Decode;
    let key = format!("0x{}", hex::encode(qstack_runtime::system::events_key()));
    let raw = node.rpc("state_getStorage", json!([key, hash]));
    let bytes = hex::decode(raw.as_str().unwrap_or("0x").trim_start_matches("0x")).unwrap();
    Vec::<qstack_runtime::EventRecord>::decode(&mut &bytes[..])
        .map(|v| v.into_iter().map(|r| r.event).collect())
        .unwrap_or_default()
}

fn tx(node: &Node, args: &[&str]) -> String {
    let mut all: Vec<&str> = vec!["tx"];
    all.extend_from_slice(args);
    let ws = node.ws();
    all.extend_from_slice(&["--rpc", &ws]);
    let out = qstack_ok(&all);
    assert!(out.contains("In block"), "{out}");
    out
}

fn proposal(node: &Node, id: u64) -> Value {
    node.rpc("gov_proposal", json!([id]))
}

#[test]
fn governance_upgrades_a_bft_network_without_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: &Path = tmp.path();
    let next = write_wasm(dir, "next.wasm", qstack_runtime_next::WASM_BINARY);
    let net = {
        let mut net = BftNet::new_with(dir, |spec| {
            let patch = &mut spec["genesis"]["runtimeGenesis"]["patch"];
            patch["staking"]["params"] = json!({
                "votingStatusLen": 10000, "votingStatusLeast": 1,
                "unbondPeriod": 10, "delegatorIncomePeriod": 5,
            });
            let level = json!({
                "minDeposit": (10 * QS).to_string(),
                "maxDepositPeriod": 200,
                "votingPeriod": 40,
            });
            patch["governance"] = json!({
                "normal": level, "important": level, "critical": level,
            });
        });
        net.boot = None;
        net
    };
    let v0 = net.start(0);
    let net = BftNet {
        boot: Some(v0.p2p_addr()),
        ..net
    };
    let others: Vec<Node> = (1..4).map(|i| net.start(i)).collect();
    v0.wait_until("blocks are final", Duration::from_secs(90), |n| {
        n.finalized() >= 3
    });
    let owners: Vec<String> = BFT_KEYS.iter().map(|(s, k)| address(s, k)).collect();

    // Before the upgrade: a note in the old layout, and Eve's delegation to
    // Alice's validator.
    let note = format!("0x{}", "ab".repeat(32));
    tx(
        &v0,
        &[
            "call",
            "Notary",
            "notarise",
            &format!(r#"{{"hash": "{note}"}}"#),
            "--from",
            "//Ferdie",
        ],
    );
    tx(
        &v0,
        &[
            "staking",
            "delegate",
            "--validator",
            &owners[0],
            "--amount",
            &QS.to_string(),
            "--from",
            "//Eve",
        ],
    );
    // The new call does not exist yet.
    let (ok, out) = qstack(&[
        "tx",
        "call",
        "Notary",
        "revoke",
        &format!(r#"{{"hash": "{note}"}}"#),
        "--from",
        "//Ferdie",
        "--rpc",
        &v0.ws(),
    ]);
    assert!(!ok && out.contains("revoke"), "{out}");

    // The proposal, and the votes: three validators for, Eve against for
    // the tokens she delegated to Alice (overriding Alice's vote for them).
    let ws = v0.ws();
    let out = qstack_ok(&[
        "upgrade",
        "propose",
        "--wasm",
        &next,
        "--deposit",
        &(10 * QS).to_string(),
        "--description",
        "v2: Notary.revoke",
        "--from",
        "//Ferdie",
        "--rpc",
        &ws,
    ]);
    assert!(out.contains("In block"), "{out}");
    let p = proposal(&v0, 0);
    assert_eq!(p["status"], "voting", "{p}");
    assert_eq!(p["level"], "critical");
    for (suri, scheme) in &BFT_KEYS[..3] {
        tx(
            &v0,
            &[
                "gov", "vote", "--id", "0", "--option", "yes", "--from", suri, "--scheme", scheme,
            ],
        );
    }
    tx(
        &v0,
        &[
            "gov", "vote", "--id", "0", "--option", "no", "--from", "//Eve",
        ],
    );
    let t = v0.rpc("gov_tally", json!([0]));
    assert_eq!(
        t["tally"]["no"],
        QS.to_string(),
        "Eve's own vote counts her delegation: {t}"
    );
    assert_eq!(t["passes"], true, "{t}");
    let alice = v0.rpc("staking_validator", json!([owners[0]]));
    let alice_tokens: u128 = alice["tokens"].as_str().unwrap().parse().unwrap();
    let dave = v0.rpc("staking_validator", json!([owners[3]]));
    let dave_tokens: u128 = dave["tokens"].as_str().unwrap().parse().unwrap();
    let yes: u128 = t["tally"]["yes"].as_str().unwrap().parse().unwrap();
    let total: u128 = t["tally"]["total"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        total - yes - QS,
        dave_tokens,
        "yes is every voting validator's tokens less Eve's delegation (Alice has {alice_tokens})"
    );
    v0.wait_until("the proposal passes", Duration::from_secs(120), |n| {
        proposal(n, 0)["status"] == "passed"
    });

    // Anyone applies it, in chunks.
    let out = qstack_ok(&[
        "upgrade",
        "apply",
        "--wasm",
        &next,
        "--chunk-size",
        "200000",
        "--from",
        "//Ferdie",
        "--rpc",
        &ws,
    ]);
    assert!(out.contains("upload chunk 1/"), "{out}");
    let upgraded = block_hash_of(out.lines().rfind(|l| l.starts_with("In block")).unwrap());
    let n = number_of(&v0, &upgraded);
    v0.wait_until(
        "the next block is final",
        Duration::from_secs(180),
        |node| node.finalized() >= n + 3,
    );
    // A version "at" a block is that of the code in its state: the code
    // that executes its child. Block N (which set the code) ran on v1, its
    // child N+1 on v2.
    let before = v0.hash_at(n - 1).unwrap();
    let first_v2 = v0.hash_at(n + 1).unwrap();
    for node in std::iter::once(&v0).chain(others.iter()) {
        // Under load a validator may lag: each compiles the new code when it
        // first checks the upgrade block.
        node.wait_until("the node has the block", Duration::from_secs(180), |x| {
            x.finalized() > n
        });
        assert_eq!(
            node.hash_at(n + 1).as_deref(),
            Some(first_v2.as_str()),
            "one chain"
        );
        assert_eq!(spec_version_at(node, &before), 1, "block N ran on v1");
        assert_eq!(
            spec_version_at(node, &upgraded),
            2,
            "every node runs v2 from N+1"
        );
    }
    // The migration ran once: in N+1, and never again.
    let migrated = |hash: &str| {
        events_at(&v0, hash)
            .into_iter()
            .filter(|e| {
                matches!(
                    e,
                    qstack_runtime::RuntimeEvent::System(
                        qstack_runtime::system::Event::Migrated { .. }
                    )
                )
            })
            .count()
    };
    assert_eq!(migrated(&first_v2), 1);
    for k in n + 2..=n + 3 {
        assert_eq!(migrated(&v0.hash_at(k).unwrap()), 0, "block {k}");
    }
    let version_key = format!(
        "0x{}",
        hex::encode(qstack_runtime_primitives::storage::item_prefix(
            "Notary",
            ":__STORAGE_VERSION__:"
        ))
    );
    assert_eq!(
        v0.rpc("state_getStorage", json!([version_key])),
        json!("0x0100")
    );

    // The new call, from the CLI (its metadata comes from the running v2).
    tx(
        &v0,
        &[
            "call",
            "Notary",
            "revoke",
            &format!(r#"{{"hash": "{note}"}}"#),
            "--from",
            "//Ferdie",
        ],
    );

    // A fresh node syncs from genesis: blocks before N+1 execute with v1,
    // later ones with v2 (each with its parent's code), to the same state.
    let fresh_base = dir.join("fresh");
    std::fs::create_dir_all(&fresh_base).unwrap();
    let boot = v0.p2p_addr();
    let mut args = vec!["--chain", net.spec.as_str()];
    args.extend_from_slice(&NET);
    args.extend_from_slice(&["--bootnodes", &boot]);
    let fresh = Node::start_with(&fresh_base, &args);
    let target = v0.finalized();
    fresh.wait_until(
        "the fresh node syncs past the upgrade",
        Duration::from_secs(120),
        |f| f.finalized() >= target,
    );
    let h = v0.hash_at(target).unwrap();
    assert_eq!(fresh.hash_at(target).as_deref(), Some(h.as_str()));
    assert_eq!(spec_version_at(&fresh, &upgraded), 2);
    assert_eq!(spec_version_at(&fresh, &before), 1);
}

#[test]
fn the_dev_chain_upgrades_with_sudo_and_the_cli_refuses_bad_code() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: &Path = tmp.path();
    let next = write_wasm(dir, "next.wasm", qstack_runtime_next::WASM_BINARY);
    let same = write_wasm(dir, "same.wasm", qstack_runtime::WASM_BINARY);
    let junk = write_wasm(dir, "junk.wasm", b"\0asm\x01\0\0\0junk");
    let node = Node::start(dir, &[]);
    let ws = node.ws();
    // Refused before any fee is paid, each with its reason.
    let (ok, out) = qstack(&["upgrade", "check", "--wasm", &same, "--rpc", &ws]);
    assert!(!ok && out.contains("does not increase"), "{out}");
    let (ok, out) = qstack(&["upgrade", "check", "--wasm", &junk, "--rpc", &ws]);
    assert!(!ok && out.contains("invalid runtime code"), "{out}");
    let (ok, out) = qstack(&[
        "upgrade", "apply", "--wasm", &next, "--from", "//Alice", "--rpc", &ws,
    ]);
    assert!(!ok && out.contains("no authorised upgrade"), "{out}");
    // try-upgrade on a copy of the live state: the next runtime migrates
    // the note and keeps every invariant; its broken twin is caught.
    let note = format!("0x{}", "cd".repeat(32));
    let out = qstack_ok(&[
        "tx",
        "call",
        "Notary",
        "notarise",
        &format!(r#"{{"hash": "{note}"}}"#),
        "--from",
        "//Bob",
        "--rpc",
        &ws,
    ]);
    assert!(out.contains("In block"), "{out}");
    node.wait_until("the note is final", Duration::from_secs(30), |n| {
        n.finalized() >= number_of(n, &block_hash_of(&out))
    });
    let broken = write_wasm(dir, "broken.wasm", qstack_runtime_next::BROKEN_WASM_BINARY);
    let out = qstack_ok(&["try-upgrade", "--wasm", &next, "--rpc", &ws]);
    assert!(out.contains("Notary.Notes: 1"), "{out}");
    assert!(out.contains("Notary.(storage version): 1"), "{out}");
    assert!(out.contains("every invariant holds"), "{out}");
    let (ok, out) = qstack(&["try-upgrade", "--wasm", &broken, "--rpc", &ws]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("an invariant fails") && out.contains("NoteCount"),
        "{out}"
    );
    // polkadot.js, connected before the upgrade, follows it on the same
    // connection.
    let pjs = crate::polkadot_js::polkadot_js_dir();
    let pjs_out = dir.join("upgrade.out");
    let mut script = std::process::Command::new("node")
        .args(["upgrade.mjs", &ws, "2", "notary.revoke"])
        .current_dir(&pjs)
        .stdin(std::process::Stdio::piped())
        .stdout(std::fs::File::create(&pjs_out).unwrap())
        .stderr(std::fs::File::create(dir.join("upgrade.err")).unwrap())
        .spawn()
        .expect("run node");
    let started = std::time::Instant::now();
    while !std::fs::read_to_string(&pjs_out)
        .unwrap_or_default()
        .contains("ready")
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "polkadot.js never subscribed: {}",
            std::fs::read_to_string(dir.join("upgrade.err")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Only the spec's sudo key may set code directly.
    let (ok, out) = qstack(&[
        "upgrade", "sudo", "--wasm", &next, "--from", "//Bob", "--rpc", &ws,
    ]);
    assert!(!ok && out.contains("RequireSudo"), "{out}");
    let out = qstack_ok(&[
        "upgrade", "sudo", "--wasm", &next, "--from", "//Alice", "--rpc", &ws,
    ]);
    let set_in = block_hash_of(&out);
    let n = number_of(&node, &set_in);
    node.wait_until("the next block", Duration::from_secs(30), |x| {
        x.best().0 > n
    });
    let parent = node.hash_at(n - 1).unwrap();
    assert_eq!(
        spec_version_at(&node, &parent),
        1,
        "the setting block ran on v1"
    );
    assert_eq!(spec_version_at(&node, &set_in), 2, "its child on v2");
    let v = node.rpc("state_getRuntimeVersion", json!([]));
    assert_eq!(v["specVersion"], 2, "{v}");
    // The new call works.
    let out = qstack_ok(&[
        "tx",
        "call",
        "Notary",
        "revoke",
        &format!(r#"{{"hash": "{note}"}}"#),
        "--from",
        "//Bob",
        "--rpc",
        &ws,
    ]);
    assert!(out.contains("In block"), "{out}");
    // polkadot.js decodes the block with the new call.
    {
        use std::io::Write;
        let mut stdin = script.stdin.take().unwrap();
        writeln!(stdin, "{}", block_hash_of(&out)).unwrap();
    }
    let status = loop {
        if let Some(status) = script.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(150) {
            let _ = script.kill();
            panic!("polkadot.js did not finish");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let report = std::fs::read_to_string(&pjs_out).unwrap_or_default()
        + &std::fs::read_to_string(dir.join("upgrade.err")).unwrap_or_default();
    assert!(
        status.success() && report.contains("all checks passed"),
        "{report}"
    );
}
