//! The dev engine's authorities from the command line: a producer whose key
//! is not one of them is refused at start, a `Live` chain cannot choose the
//! dev engine, and an authority's sealed blocks reach a follower.

use crate::common::*;
use serde_json::Value;

#[test]
fn only_the_specs_authorities_author_dev_engine_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    // Bob's key in the keystore, but the spec names Alice: refused, saying so.
    let (ok, out) = qstack(&[
        "key", "insert", "--chain", "local", "-d", d, "--suri", "//Bob", "--scheme", "sr25519",
    ]);
    assert!(ok, "{out}");
    let (ok, out) = qstack(&[
        "--chain",
        "local",
        "-d",
        d,
        "--validator",
        "--rpc-port",
        "0",
    ]);
    assert!(
        !ok && out.contains("not one of the chain's consensus.authorities"),
        "{out}"
    );
    // A Live chain with the dev engine: refused as the spec loads.
    let out = qstack_ok(&["build-spec", "--chain", "local"]);
    let mut spec: Value = serde_json::from_str(&out[out.find('{').unwrap()..]).unwrap();
    spec["chainType"] = "Live".into();
    let live = dir.path().join("live.json");
    std::fs::write(&live, spec.to_string()).unwrap();
    let (ok, out) = qstack(&["--chain", live.to_str().unwrap(), "-d", d]);
    assert!(
        !ok && out.contains("a Live chain cannot run the dev engine"),
        "{out}"
    );
    // Without a keystore key a Local chain's producer seals as //Alice, and
    // blocks carry the seal as their last digest item.
    let base = tempfile::tempdir().unwrap();
    let spec = fast_local_spec(base.path(), 300);
    let producer = Node::start_with(
        base.path(),
        &[
            "--chain",
            spec.to_str().unwrap(),
            "--validator",
            "--no-mdns",
        ],
    );
    producer.wait_until("a block", std::time::Duration::from_secs(60), |n| {
        n.best().0 >= 1
    });
    let header = producer.rpc("chain_getHeader", serde_json::json!([]));
    let logs = header["digest"]["logs"].as_array().unwrap();
    let last = logs.last().unwrap().as_str().unwrap();
    // A Seal item: variant 5, engine id "qsda".
    assert!(last.starts_with("0x0571736461"), "{logs:?}");
    producer.interrupt();
}

/// Instant seal leaves nothing behind: transactions that arrive while a
/// block is being built or imported are sealed in the next block even if
/// no further transaction arrives to wake the engine (before, a burst left
/// the last few in the pool for good).
#[test]
fn instant_seal_includes_every_transaction_of_a_burst() {
    use codec::Encode;
    use qstack_core::{KeyScheme, Pair};
    use qstack_runtime::signing::{sign, ChainContext, TxOptions};
    use qstack_runtime::{tokens, RuntimeCall};
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &["--instant-seal"]);
    let alice = Pair::from_suri(KeyScheme::Sr25519, "//Alice").unwrap();
    let bob = Pair::from_suri(KeyScheme::Sr25519, "//Bob")
        .unwrap()
        .account_id();
    let genesis = node.rpc("chain_getBlockHash", serde_json::json!([0]));
    let mut hash = [0u8; 32];
    hex::decode_to_slice(
        genesis.as_str().unwrap().trim_start_matches("0x"),
        &mut hash,
    )
    .unwrap();
    let ctx = ChainContext::new(qstack_core::H256(hash));
    const BURST: u32 = 120;
    for n in 0..BURST {
        let call = RuntimeCall::Tokens(tokens::Call::Transfer {
            dest: bob,
            value: 1_000_000_000_000,
            dest_tag: None,
        });
        let xt = sign(&alice, call, &ctx, &TxOptions::nonce(n));
        node.rpc(
            "author_submitExtrinsic",
            serde_json::json!([format!("0x{}", hex::encode(xt.encode()))]),
        );
        if n == 0 {
            // The first carries Alice's key; the pool checks the rest
            // against it once it is in state.
            node.wait_until(
                "the first transfer",
                std::time::Duration::from_secs(30),
                |n| {
                    n.rpc(
                        "account_info",
                        serde_json::json!([
                            qstack_core::Address::from(alice.account_id()).to_string()
                        ]),
                    )["nonce"]
                        == 1
                },
            );
        }
    }
    let who = qstack_core::Address::from(alice.account_id()).to_string();
    node.wait_until(
        "every transfer sealed",
        std::time::Duration::from_secs(60),
        |n| n.rpc("account_info", serde_json::json!([who]))["nonce"] == BURST,
    );
    assert_eq!(
        node.rpc("author_pendingExtrinsics", serde_json::json!([])),
        serde_json::json!([])
    );
}
