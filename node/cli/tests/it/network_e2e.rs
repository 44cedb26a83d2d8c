//! Multi-process networking on loopback: one producer (the dev engine,
//! `--validator`) and followers that sync by request-response, follow
//! announcements and gossip transactions; a late joiner catches up; a
//! follower killed mid-sync resumes.

use crate::common::*;
use serde_json::json;
use std::time::{Duration, Instant};

fn chain_args<'a>(spec: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--chain", spec];
    v.extend_from_slice(&NET);
    v.extend_from_slice(extra);
    v
}

fn number(node: &Node) -> u64 {
    node.best().0
}

fn state_root(node: &Node, hash: &str) -> String {
    node.rpc("chain_getHeader", json!([hash]))["stateRoot"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Waits until `node` has the producer's block at `n` (same hash).
fn wait_for_block(node: &Node, producer: &Node, n: u64, timeout: Duration, what: &str) {
    let want = producer.hash_at(n).expect("producer has the block");
    node.wait_until(what, timeout, |f| {
        f.hash_at(n).as_deref() == Some(want.as_str())
    });
}

#[test]
fn four_nodes_follow_catch_up_late_and_gossip_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let spec = fast_local_spec(dir.path(), 100);
    let spec = spec.to_str().unwrap();
    let base = |name: &str| {
        let p = dir.path().join(name);
        std::fs::create_dir_all(&p).unwrap();
        p
    };
    let producer = Node::start_with(&base("p"), &chain_args(spec, &["--validator"]));
    let boot = producer.p2p_addr();
    let followers: Vec<Node> = (1..=2)
        .map(|i| {
            Node::start_with(
                &base(&format!("f{i}")),
                &chain_args(spec, &["--bootnodes", &boot]),
            )
        })
        .collect();
    // Followers connect and follow the producer block by block.
    for f in &followers {
        f.wait_until("a peer", Duration::from_secs(30), |n| {
            n.try_rpc("system_peers", json!([]))
                .is_some_and(|v| v["result"].as_array().is_some_and(|a| !a.is_empty()))
        });
    }
    producer.wait_until("100 blocks", Duration::from_secs(90), |n| number(n) >= 100);
    for f in &followers {
        wait_for_block(
            f,
            &producer,
            100,
            Duration::from_secs(30),
            "followers at #100",
        );
    }
    // A node started after 100 blocks catches up by range sync.
    let late = Node::start_with(&base("late"), &chain_args(spec, &["--bootnodes", &boot]));
    let started = Instant::now();
    wait_for_block(
        &late,
        &producer,
        100,
        Duration::from_secs(60),
        "late joiner at #100",
    );
    println!("late joiner synced 100 blocks in {:?}", started.elapsed());
    let sync = late.rpc("system_syncState", json!([]));
    assert!(sync["currentBlock"].as_u64().unwrap() >= 100, "{sync}");
    assert!(sync["highestBlock"].as_u64().unwrap() >= 100, "{sync}");

    // A transaction submitted to a follower reaches the producer's pool and
    // is included; every node sees the result.
    let dave = address("//Dave", "sr25519");
    let before = free_of(&producer, &dave);
    let rpc = followers[0].ws();
    let out = qstack_ok(&[
        "tx", "transfer", "--from", "//Alice", "--scheme", "hybrid", "--to", &dave, "--amount",
        "4242", "--rpc", &rpc,
    ]);
    let in_block = block_hash_of(&out);
    let header = producer.rpc("chain_getHeader", json!([in_block]));
    assert!(
        header["number"].is_string(),
        "the producer authored the block: {header}"
    );
    assert_eq!(free_of(&producer, &dave), before + 4242);

    // Everyone reaches the same head and state root.
    let all: Vec<&Node> = std::iter::once(&producer)
        .chain(followers.iter())
        .chain(std::iter::once(&late))
        .collect();
    let n = number(&producer);
    let head = producer.hash_at(n).unwrap();
    for node in &all[1..] {
        wait_for_block(node, &producer, n, Duration::from_secs(30), "same head");
        assert_eq!(state_root(node, &head), state_root(&producer, &head));
        node.wait_until("the transfer", Duration::from_secs(10), |x| {
            free_of(x, &dave) == before + 4242
        });
    }
    // The producer sees all three followers; each follower sees the producer
    // with its best block.
    let peers = producer.rpc("system_peers", json!([]));
    assert_eq!(peers.as_array().unwrap().len(), 3, "{peers}");
    let state = followers[1].rpc("system_networkState", json!([]));
    let producer_id = producer.rpc("system_localPeerId", json!([]));
    assert!(
        state["connectedPeers"]
            .get(producer_id.as_str().unwrap())
            .is_some(),
        "{state}"
    );
    let health = followers[1].rpc("system_health", json!([]));
    assert!(health["peers"].as_u64().unwrap() >= 1, "{health}");
    assert_eq!(health["shouldHavePeers"], true);
}

#[test]
fn follower_killed_mid_sync_resumes_and_completes() {
    let dir = tempfile::tempdir().unwrap();
    let spec = fast_local_spec(dir.path(), 25);
    let spec = spec.to_str().unwrap();
    let pbase = dir.path().join("p");
    let fbase = dir.path().join("f");
    std::fs::create_dir_all(&pbase).unwrap();
    std::fs::create_dir_all(&fbase).unwrap();
    let producer = Node::start_with(&pbase, &chain_args(spec, &["--validator"]));
    let boot = producer.p2p_addr();
    let target = 600;
    producer.wait_until("600 blocks", Duration::from_secs(120), |n| {
        number(n) >= target
    });
    let args = chain_args(spec, &["--bootnodes", &boot]);
    let follower = Node::start_with(&fbase, &args);
    follower.wait_until("sync under way", Duration::from_secs(60), |n| {
        number(n) >= 30
    });
    let at_kill = number(&follower);
    follower.kill9();
    assert!(
        at_kill < target,
        "the follower was killed mid-sync (at #{at_kill} of {target})"
    );
    let follower = Node::start_with(&fbase, &args);
    wait_for_block(
        &follower,
        &producer,
        target,
        Duration::from_secs(90),
        "sync completes",
    );
    let head = producer.hash_at(target).unwrap();
    assert_eq!(state_root(&follower, &head), state_root(&producer, &head));
    println!("killed at #{at_kill}, resumed and reached #{target}");
}
