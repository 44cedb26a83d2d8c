//! Four BFT validators (hybrid, hybrid, sr25519, Falcon keys) as real
//! processes on loopback: blocks are final as committed; with one validator
//! down blocks continue, with two down they stop and no fork appears; when
//! they return blocks resume; a validator killed with SIGKILL mid-round and
//! restarted replays its WAL and never double-signs.

use crate::common::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn wait_finalized(nodes: &[&Node], at_least: u64, secs: u64, what: &str) {
    for n in nodes {
        n.wait_until(what, Duration::from_secs(secs), |n| {
            n.finalized() >= at_least
        });
    }
    // Same block at that height everywhere (final means final).
    let want = nodes[0].hash_at(at_least);
    for n in &nodes[1..] {
        assert_eq!(
            n.hash_at(at_least),
            want,
            "{what}: all agree on #{at_least}"
        );
    }
}

fn logs_mention(dir: &Path, needle: &str) -> bool {
    walk(dir).iter().any(|p| {
        p.extension().is_some_and(|e| e == "log")
            && std::fs::read_to_string(p).is_ok_and(|s| s.contains(needle))
    })
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn four_validators_tolerate_one_stop_at_two_resume_and_never_double_sign() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: &Path = tmp.path();
    let mut net = BftNet::new(dir);
    let v0 = net.start(0);
    net.boot = Some(v0.p2p_addr());
    let mut vs: Vec<Option<Node>> = vec![
        None,
        Some(net.start(1)),
        Some(net.start(2)),
        Some(net.start(3)),
    ];

    // All four: blocks are committed and final.
    {
        let all: Vec<&Node> = std::iter::once(&v0).chain(vs.iter().flatten()).collect();
        wait_finalized(&all, 5, 60, "four validators commit");
        let head = all[0].rpc("chain_getFinalizedHead", json!([]));
        let block = all[0].rpc("chain_getBlock", json!([head]));
        assert!(
            block["justifications"]
                .as_array()
                .is_some_and(|j| !j.is_empty()),
            "a committed block carries its certificate: {block}"
        );
    }

    // One down (3 of 4 > 2/3): blocks continue.
    vs[3].take().unwrap().kill9();
    let now = v0.finalized();
    {
        let three: Vec<&Node> = std::iter::once(&v0).chain(vs.iter().flatten()).collect();
        wait_finalized(&three, now + 3, 60, "three validators continue");
    }

    // Two down (2 of 4): blocks stop, and no fork appears.
    vs[2].take().unwrap().kill9();
    std::thread::sleep(Duration::from_secs(3));
    let stalled = v0.finalized();
    std::thread::sleep(Duration::from_secs(6));
    assert!(
        v0.finalized() <= stalled + 1,
        "two of four validators cannot commit"
    );
    let v1 = vs[1].as_ref().unwrap();
    let top = v0.finalized().min(v1.finalized());
    for n in 1..=top {
        assert_eq!(v0.hash_at(n), v1.hash_at(n), "no fork at #{n}");
    }

    // Both back: blocks resume, and the returning validators catch up.
    vs[2] = Some(net.start(2));
    vs[3] = Some(net.start(3));
    {
        let all: Vec<&Node> = std::iter::once(&v0).chain(vs.iter().flatten()).collect();
        wait_finalized(&all, top + 3, 90, "blocks resume with four");
    }

    // SIGKILL one mid-round and restart it: it replays its WAL and signs
    // nothing twice (the others would log a double sign as evidence).
    std::thread::sleep(Duration::from_millis(350));
    vs[1].take().unwrap().kill9();
    vs[1] = Some(net.start(1));
    let now = v0.finalized();
    {
        let all: Vec<&Node> = std::iter::once(&v0).chain(vs.iter().flatten()).collect();
        wait_finalized(&all, now + 3, 90, "blocks continue after a restart");
    }
    assert!(
        !logs_mention(dir, "double signing"),
        "no validator double-signed"
    );
    assert!(
        logs_mention(dir, "replaying"),
        "a restarted validator replayed its WAL"
    );
}
