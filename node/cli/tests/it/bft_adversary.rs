//! Four BFT validators as real `qstack` processes on loopback, and an
//! attacker outside the validator set: a libp2p node in this test process
//! that joins their network and floods the consensus topic with junk
//! proposal blocks on the final block, honest headers with substituted
//! bodies, votes with forged signatures, old-height status messages and
//! oversized messages. The chain keeps finalising at close to its quiet
//! rate and every validator ends up banning the attacker.

use crate::common::*;
use codec::{Decode, Encode};
use qstack_consensus::bft::{Message, Proposal, SignedProposal, SignedVote, Vote, VoteKind};
use qstack_core::{KeyScheme, Pair, H256};
use qstack_runtime_primitives::{OpaqueBlock, OpaqueExtrinsic};
use qstack_service::shell::Wire;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A block body as a validator shared it, with its proof.
type Shared = (OpaqueBlock, Vec<u8>);

/// How long `node` takes to finalise `n` more blocks (`None` past `limit`).
fn time_blocks(node: &Node, n: u64, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let target = node.finalized() + n;
    while node.finalized() < target {
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(start.elapsed())
}

#[test]
fn an_outsider_flooding_validator_processes_is_banned_and_the_chain_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut net = BftNet::new(dir);
    let v0 = net.start(0);
    net.boot = Some(v0.p2p_addr());
    let mut vs = vec![v0];
    for i in 1..4 {
        vs.push(net.start(i));
    }
    let addrs: Vec<String> = vs.iter().map(|v| v.p2p_addr()).collect();
    vs[0].wait_until("the chain starts", Duration::from_secs(120), |n| {
        n.finalized() >= 2
    });
    let quiet = time_blocks(&vs[0], 10, Duration::from_secs(120)).expect("quiet blocks");

    // The attacker: its own client of the chain (it syncs like any node)
    // and a network that dials every validator.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (attacked, banned_by, sent) = rt.block_on(async {
        let (client, net, mut inbox, chain, set) = observer_network(&net.spec, &addrs).await;
        // Honest bodies it sees, to substitute theirs.
        let honest: Arc<std::sync::Mutex<Vec<Shared>>> = Default::default();
        let keep = honest.clone();
        tokio::spawn(async move {
            while let Some(m) = inbox.recv().await {
                if let Ok(Wire::Block { block, proof }) = Wire::decode(&mut &m.bytes[..]) {
                    let mut k = keep.lock().unwrap();
                    k.push((block, proof));
                    let n = k.len();
                    if n > 4 {
                        k.drain(..n - 4);
                    }
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        while net.snapshot().peers.len() < 4 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            net.snapshot().peers.len(),
            4,
            "the attacker reached every validator"
        );
        let flooding = Arc::new(AtomicBool::new(true));
        let sent = Arc::new(AtomicUsize::new(0));
        // The height the validators decide, as anyone reading their RPC (or
        // the block announcements) knows it: the attacker's own client may
        // lag, and a vote outside a validator's window is ignored unblamed.
        let ports: Vec<u16> = vs.iter().map(|v| v.port).collect();
        let deciding = move || {
            ports
                .iter()
                .filter_map(|p| finalized_at(*p))
                .min()
                .map_or(1, |n| n + 1)
        };
        let attacker = {
            let (net, client, honest, flooding, sent, set) = (
                net.clone(),
                client.clone(),
                honest.clone(),
                flooding.clone(),
                sent.clone(),
                set.clone(),
            );
            tokio::spawn(async move {
                let mallory = Pair::from_suri(KeyScheme::Sr25519, "//Mallory").unwrap();
                let mut round = 0u8;
                let mut height = 1;
                while flooding.load(Ordering::Relaxed) {
                    let info = client.info().unwrap();
                    if round.is_multiple_of(10) {
                        let deciding = deciding.clone();
                        height = tokio::task::spawn_blocking(deciding)
                            .await
                            .unwrap_or(height);
                    }
                    let mut junk = Vec::new();
                    // A junk block on the final block, "proposed" by Mallory.
                    if let Ok(Some(mut header)) = client.header(&info.finalized_hash) {
                        header.parent_hash = info.finalized_hash;
                        header.number = info.finalized_number + 1;
                        header.state_root = H256([round; 32]);
                        header.extrinsics_root =
                            qstack_runtime_primitives::opaque_extrinsics_root(&[]);
                        let block = OpaqueBlock {
                            header,
                            extrinsics: Vec::new(),
                        };
                        let proposal = Proposal {
                            height,
                            round: 0,
                            value: block.header.hash(),
                            valid_round: None,
                            proposer: set.proposer(0),
                        };
                        let proof =
                            Message::Proposal(SignedProposal::sign(&mallory, &chain, proposal))
                                .encode();
                        junk.push(Wire::Block { block, proof }.encode());
                    }
                    // Honest headers with another body and the honest proof.
                    let bodies = honest.lock().unwrap().clone();
                    for (block, proof) in bodies {
                        let mut block = block;
                        block.extrinsics.push(OpaqueExtrinsic(vec![4, 1, 2, 3]));
                        junk.push(Wire::Block { block, proof }.encode());
                    }
                    // Votes in every validator's name, signed by Mallory,
                    // for the slowest validator's height and the next two
                    // (one of them is in each validator's window).
                    for (validator, height) in
                        (0..4).flat_map(|v| (height..height + 3).map(move |h| (v, h)))
                    {
                        let vote = Vote {
                            height,
                            round: 0,
                            kind: VoteKind::Prevote,
                            value: Some(H256([round; 32])),
                            validator,
                        };
                        junk.push(
                            Wire::Msg(
                                Message::Vote(SignedVote::sign(&mallory, &chain, vote)).encode(),
                            )
                            .encode(),
                        );
                    }
                    junk.push(Wire::Msg(Message::Status(1).encode()).encode());
                    // Now and then an oversized one: a megabyte every round
                    // would jam the attacker's own connections (a debug
                    // build encrypts a few MB/s), not the validators.
                    if round.is_multiple_of(50) {
                        junk.push(Wire::Msg(vec![0xEE; 1 << 20]).encode());
                    }
                    for m in junk {
                        net.broadcast_consensus(m);
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                    round = round.wrapping_add(1);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
        };
        let v0 = &vs[0];
        let attacked =
            tokio::task::block_in_place(|| time_blocks(v0, 10, Duration::from_secs(120)));
        // Flood on until every validator has dropped the attacker (or a minute).
        let deadline = Instant::now() + Duration::from_secs(60);
        while !net.snapshot().peers.is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        flooding.store(false, Ordering::Relaxed);
        let _ = attacker.await;
        let me = net.local_peer_id().to_string();
        let banned_by = vs
            .iter()
            .filter(|v| {
                let peers = v.rpc("system_peers", json!([]));
                !peers
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["peerId"] == me.as_str())
            })
            .count();
        (attacked, banned_by, sent.load(Ordering::Relaxed))
    });
    rt.shutdown_timeout(Duration::from_secs(5));
    eprintln!("10 blocks: {quiet:?} quiet, {attacked:?} under a flood of {sent} junk messages");
    let attacked = attacked.expect("the chain kept finalising under the flood");
    assert!(
        attacked < quiet * 2 + Duration::from_secs(2),
        "10 blocks took {attacked:?} under attack, {quiet:?} quiet"
    );
    assert_eq!(banned_by, 4, "every validator dropped the attacker");
    // Final means final: the four agree.
    let n = vs[0].finalized();
    let want = vs[0].hash_at(n);
    for v in &vs[1..] {
        v.wait_until("the same final block", Duration::from_secs(30), |v| {
            v.finalized() >= n
        });
        assert_eq!(v.hash_at(n), want);
    }
}
