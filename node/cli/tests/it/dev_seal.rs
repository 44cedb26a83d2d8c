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
