//! Staking on a real BFT network of processes on loopback: four genesis
//! validators; a fifth node inserts its key, its owner registers it with
//! `qstack tx staking create-validator --keystore`, and it joins the set
//! the runtime elects and signs; a delegator earns its share; a validator
//! that stops falls below its keep-alive window, leaves the set and is
//! slashed for downtime; a double signer is slashed and elected out; a
//! fresh node syncs the whole chain from genesis,
//! checking every certificate against the set of its height.

use crate::common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const QS: u128 = 1_000_000_000_000;

fn validator(node: &Node, owner: &str) -> Value {
    node.rpc("staking_validator", json!([owner]))
}

fn set_owners(node: &Node) -> Vec<String> {
    node.rpc("staking_set", json!([]))
        .as_array()
        .expect("a set")
        .iter()
        .map(|m| m["owner"].as_str().expect("owner").to_string())
        .collect()
}

fn amount(v: &Value) -> u128 {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[test]
fn a_validator_joins_a_stopped_one_is_slashed_and_a_fresh_node_syncs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: &Path = tmp.path();
    let mut net = BftNet::new_with(dir, |spec| {
        let staking = &mut spec["genesis"]["runtimeGenesis"]["patch"]["staking"];
        staking["params"] = json!({
            "votingStatusLen": 60,
            "votingStatusLeast": 10,
            "survivalSecs": 600,
            "unbondPeriod": 10,
            "delegatorIncomePeriod": 5,
        });
    });
    let v0 = net.start(0);
    net.boot = Some(v0.p2p_addr());
    let mut vs: Vec<Option<Node>> =
        vec![Some(net.start(1)), Some(net.start(2)), Some(net.start(3))];
    v0.wait_until("blocks are final", Duration::from_secs(90), |n| {
        n.finalized() >= 3
    });
    let owners: Vec<String> = BFT_KEYS.iter().map(|(s, k)| address(s, k)).collect();
    assert_eq!(
        set_owners(&v0),
        owners,
        "the genesis set, in the spec's order"
    );

    // A fifth node: its key in its keystore, then its owner registers it.
    let base4 = dir.join("v4");
    std::fs::create_dir_all(&base4).unwrap();
    let b4 = base4.to_str().unwrap();
    qstack_ok(&[
        "key",
        "insert",
        "--suri",
        "//Eve//validator",
        "--scheme",
        "sr25519",
        "--chain",
        &net.spec,
        "-d",
        b4,
    ]);
    let mut args = vec!["--chain", net.spec.as_str(), "--validator"];
    args.extend_from_slice(&NET);
    let boot = net.boot.clone().unwrap();
    args.extend_from_slice(&["--bootnodes", &boot]);
    let v4 = Node::start_with(&base4, &args);
    let eve = address("//Eve", "sr25519");
    let out = qstack_ok(&[
        "tx",
        "staking",
        "create-validator",
        "--keystore",
        "--chain",
        &net.spec,
        "-d",
        b4,
        "--self-bond",
        &(3 * QS).to_string(),
        "--commission-rate",
        "0.1",
        "--max-rate",
        "0.2",
        "--description",
        "eve",
        "--from",
        "//Eve",
        "--rpc",
        &v0.ws(),
    ]);
    assert!(out.contains("In block"), "{out}");
    v0.wait_until(
        "the fifth validator is elected",
        Duration::from_secs(30),
        |n| set_owners(n).contains(&eve),
    );
    // It signs: its keep-alive window counts blocks with few misses.
    v0.wait_until("the fifth validator signs", Duration::from_secs(60), |n| {
        let v = validator(n, &eve);
        let counted = v["keepAlive"]["counted"].as_u64().unwrap_or(0);
        let missed = v["keepAlive"]["missed"].as_u64().unwrap_or(u64::MAX);
        counted >= 10 && missed < counted
    });
    assert_eq!(validator(&v0, &eve)["power"], 3);

    // A delegator earns its share.
    let ferdie = address("//Ferdie", "sr25519");
    let out = qstack_ok(&[
        "tx",
        "staking",
        "delegate",
        "--validator",
        &owners[0],
        "--amount",
        &(10 * QS).to_string(),
        "--from",
        "//Ferdie",
        "--rpc",
        &v0.ws(),
    ]);
    assert!(out.contains("In block"), "{out}");
    let before = free_of(&v0, &ferdie);
    v0.wait_until("the delegator is paid", Duration::from_secs(60), |n| {
        free_of(n, &ferdie) > before
    });
    let d = v0.rpc("staking_delegations", json!([ferdie]));
    assert_eq!(amount(&d["delegations"][0]["tokens"]), 10 * QS);

    // Validator 3 is active (judged only once a whole window is counted,
    // so a late start cost it nothing), then stops: after more than 50
    // misses of its 60-block window it is inactive, out of the set and
    // slashed for downtime.
    assert_eq!(validator(&v0, &owners[3])["status"], "active");
    let tokens = amount(&validator(&v0, &owners[3])["tokens"]);
    vs[2].take().unwrap().kill9();
    v0.wait_until(
        "the stopped validator is deactivated",
        Duration::from_secs(120),
        |n| validator(n, &owners[3])["reason"] == "downtime",
    );
    let v3 = validator(&v0, &owners[3]);
    assert_eq!(v3["status"], "inactive");
    assert_eq!(
        amount(&v3["tokens"]),
        tokens - tokens / 10_000,
        "0.01 % slashed"
    );
    v0.wait_until("the set drops it", Duration::from_secs(30), |n| {
        !set_owners(n).contains(&owners[3])
    });
    let now = v0.finalized();
    v0.wait_until("blocks go on without it", Duration::from_secs(60), |n| {
        n.finalized() >= now + 5
    });

    // A genesis validator still in the set double-signs (two prevotes for
    // one height and round, sent by a libp2p node in this process holding
    // its key): every validator records the evidence, staking slashes it
    // 20 % and elects it out.
    let in_set = set_owners(&v0);
    let signer = (0..3)
        .find(|i| in_set.contains(&owners[*i]))
        .expect("a genesis validator in the set");
    let charlie = owners[signer].clone();
    let bonded = amount(&validator(&v0, &charlie)["tokens"]);
    double_sign(
        &net.spec,
        &[v0.p2p_addr(), v4.p2p_addr()],
        &v0,
        &charlie,
        BFT_KEYS[signer],
    );
    let c = validator(&v0, &charlie);
    assert_eq!(c["reason"], "doubleSign");
    assert_eq!(amount(&c["tokens"]), bonded - bonded / 5, "20 % slashed");
    v0.wait_until(
        "the double signer leaves the set",
        Duration::from_secs(30),
        |n| !set_owners(n).contains(&charlie),
    );
    // It earns nothing more once out.
    let due = amount(&validator(&v0, &charlie)["commissionDue"]);
    let now = v0.finalized();
    v0.wait_until("blocks go on", Duration::from_secs(60), |n| {
        n.finalized() >= now + 5
    });
    assert_eq!(amount(&validator(&v0, &charlie)["commissionDue"]), due);

    // A fresh node syncs everything, each certificate against its height's set.
    let fresh = dir.join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    let mut args = vec!["--chain", net.spec.as_str()];
    args.extend_from_slice(&NET);
    args.extend_from_slice(&["--bootnodes", &boot]);
    let f = Node::start_with(&fresh, &args);
    let target = v0.finalized();
    f.wait_until("the fresh node syncs", Duration::from_secs(120), |n| {
        n.finalized() >= target
    });
    for h in [1, target / 2, target] {
        assert_eq!(f.hash_at(h), v0.hash_at(h), "same block #{h}");
    }
    drop(v4);
    drop(vs);
}

/// Sends pairs of conflicting prevotes signed by `owner`'s consensus key
/// (`suri` of `scheme`) for the height being decided until the chain
/// records it as a double signer.
fn double_sign(
    spec_path: &str,
    peers: &[String],
    rpc: &Node,
    owner: &str,
    (suri, scheme): (&str, &str),
) {
    use codec::Encode;
    use qstack_consensus::bft::{Message, SignedVote, Vote, VoteKind};
    use qstack_core::{KeyScheme, Pair, H256};
    use std::time::Instant;
    let scheme = match scheme {
        "hybrid" => KeyScheme::Hybrid,
        "falcon512" => KeyScheme::Falcon512,
        _ => KeyScheme::Sr25519,
    };
    let key = Pair::from_suri(scheme, suri).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (_client, net, mut inbox, chain, _) = observer_network(spec_path, peers).await;
        tokio::spawn(async move { while inbox.recv().await.is_some() {} });
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            assert!(
                Instant::now() < deadline,
                "the double sign was never slashed"
            );
            if validator(rpc, owner)["reason"] == "doubleSign" {
                break;
            }
            let index = rpc
                .rpc("staking_set", json!([]))
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["owner"] == owner)
                .and_then(|m| m["index"].as_u64())
                .expect("still in the set") as u32;
            let height = rpc.finalized() + 1;
            for value in [H256([1; 32]), H256([2; 32])] {
                let vote = Vote {
                    height,
                    round: 0,
                    kind: VoteKind::Prevote,
                    value: Some(value),
                    validator: index,
                };
                let m = Message::Vote(SignedVote::sign(&key, &chain, vote));
                net.broadcast_consensus(qstack_service::shell::Wire::Msg(m.encode()).encode());
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    rt.shutdown_timeout(Duration::from_secs(5));
}
