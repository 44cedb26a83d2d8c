//! Sync core tests: table-like unit cases, and a seeded simulation with
//! many peers, random delays, losses, lying and bad-block peers.

use super::*;
use qstack_runtime_primitives::{Digest, Header, OpaqueExtrinsic};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// A chain of `n` blocks after a genesis; `salt` makes forks differ.
fn chain(n: u32, salt: u8) -> Vec<BlockData> {
    let mut out = Vec::new();
    let genesis = Header::genesis(H256([0; 32]));
    let mut parent = genesis.hash();
    out.push(BlockData {
        header: genesis,
        body: Some(vec![]),
        justification: None,
    });
    for number in 1..=n {
        let header = Header {
            parent_hash: parent,
            number,
            state_root: H256([salt; 32]),
            extrinsics_root: H256([1; 32]),
            digest: Digest::default(),
        };
        parent = header.hash();
        out.push(BlockData {
            header,
            body: Some(vec![OpaqueExtrinsic::from_encoded(vec![4, 1, 2, 3, 4])]),
            justification: None,
        });
    }
    out
}

fn serve(chain: &[BlockData], req: &BlockRequest) -> Vec<BlockData> {
    let FromBlock::Number(start) = req.from else {
        panic!("core asks by number");
    };
    chain
        .iter()
        .skip(start as usize)
        .take(req.max as usize)
        .cloned()
        .collect()
}

fn requests(actions: &[SyncAction<u8>]) -> Vec<(u8, u64, BlockRequest)> {
    actions
        .iter()
        .filter_map(|a| match a {
            SyncAction::Request { peer, id, request } => Some((*peer, *id, *request)),
            _ => None,
        })
        .collect()
}

fn imports(actions: &[SyncAction<u8>]) -> Vec<(u64, u8, Vec<BlockData>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            SyncAction::Import {
                generation,
                peer,
                blocks,
            } => Some((*generation, *peer, blocks.clone())),
            _ => None,
        })
        .collect()
}

fn reports(actions: &[SyncAction<u8>]) -> Vec<(u8, i32)> {
    actions
        .iter()
        .filter_map(|a| match a {
            SyncAction::Report { peer, delta, .. } => Some((*peer, *delta)),
            _ => None,
        })
        .collect()
}

fn ok_results(blocks: &[BlockData]) -> Vec<(u32, H256, ImportResult)> {
    blocks
        .iter()
        .map(|b| (b.header.number, b.header.hash(), ImportResult::Imported))
        .collect()
}

fn new_core(c: &[BlockData]) -> SyncCore<u8> {
    SyncCore::new(SyncConfig::default(), 0, c[0].header.hash())
}

fn status(peer: u8, c: &[BlockData]) -> SyncInput<u8> {
    let tip = c.last().unwrap();
    SyncInput::PeerStatus {
        peer,
        best_number: tip.header.number,
        best_hash: tip.header.hash(),
    }
}

#[test]
fn one_peer_ranges_in_order_up_to_its_best() {
    let c = chain(150, 0);
    let mut core = new_core(&c);
    let acts = core.handle(0, status(1, &c));
    let reqs = requests(&acts);
    // One request in flight per peer, first range from #1, 64 blocks.
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].2.from, FromBlock::Number(1));
    assert_eq!(reqs[0].2.max, 64);
    assert_eq!(reqs[0].2.fields, fields::FULL);
    let mut pending = reqs;
    let mut imported = 0u32;
    while let Some((_, id, req)) = pending.pop() {
        let acts = core.handle(
            1,
            SyncInput::Response {
                id,
                blocks: serve(&c, &req),
            },
        );
        for (g, p, blocks) in imports(&acts) {
            assert_eq!(
                blocks[0].header.number,
                imported + 1,
                "imports are contiguous"
            );
            imported = blocks.last().unwrap().header.number;
            let acts = core.handle(
                2,
                SyncInput::Imported {
                    generation: g,
                    peer: p,
                    results: ok_results(&blocks),
                },
            );
            pending.extend(requests(&acts));
        }
        pending.extend(requests(&acts));
    }
    assert_eq!(imported, 150);
    let st = core.status();
    assert_eq!(
        (st.current_block, st.highest_block, st.major_syncing),
        (150, 150, false)
    );
}

#[test]
fn idle_peers_get_distinct_ranges_in_parallel() {
    let c = chain(500, 0);
    let mut core = new_core(&c);
    let mut reqs = Vec::new();
    for p in 1..=4 {
        reqs.extend(requests(&core.handle(0, status(p, &c))));
    }
    let starts: Vec<FromBlock> = reqs.iter().map(|r| r.2.from).collect();
    assert_eq!(
        starts,
        vec![
            FromBlock::Number(1),
            FromBlock::Number(65),
            FromBlock::Number(129),
            FromBlock::Number(193)
        ]
    );
    assert!(core.status().major_syncing);
    // Answers out of order: nothing imports until #1.. arrives, then all of it.
    let mut all = Vec::new();
    for (_, id, req) in reqs.iter().rev() {
        all.extend(core.handle(
            1,
            SyncInput::Response {
                id: *id,
                blocks: serve(&c, req),
            },
        ));
    }
    let imps = imports(&all);
    assert_eq!(imps.len(), 4);
    let numbers: Vec<u32> = imps.iter().map(|i| i.2[0].header.number).collect();
    assert_eq!(numbers, vec![1, 65, 129, 193]);
}

#[test]
fn broken_links_are_reported_and_asked_elsewhere() {
    let c = chain(100, 0);
    let other = chain(100, 9);
    let mut core = new_core(&c);
    let r1 = requests(&core.handle(0, status(1, &c)));
    let r2 = requests(&core.handle(0, status(2, &c)));
    // Peer 1 answers with a mix of two chains: block 3 does not link to 2.
    let mut bad = serve(&c, &r1[0].2);
    bad[2] = other[3].clone();
    let acts = core.handle(
        1,
        SyncInput::Response {
            id: r1[0].1,
            blocks: bad,
        },
    );
    assert_eq!(reports(&acts), vec![(1, change::BAD_RESPONSE)]);
    // Wrong numbers too.
    assert!(check_range(&serve(&c, &r1[0].2)[1..], 1, 64).is_err());
    // Not back to the peer that failed it while another can serve it: peer 2
    // gets #1 as soon as it is idle.
    assert!(requests(&acts).is_empty());
    let acts = core.handle(
        2,
        SyncInput::Response {
            id: r2[0].1,
            blocks: serve(&c, &r2[0].2),
        },
    );
    let again = requests(&acts);
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!((again[0].0, again[0].2.from), (2, FromBlock::Number(1)));
}

#[test]
fn a_range_off_our_chain_backs_off_instead_of_ping_ponging() {
    let c = chain(100, 0);
    let fork = chain(100, 9);
    let mut core = new_core(&c);
    let r1 = requests(&core.handle(0, status(1, &c)));
    let r2 = requests(&core.handle(0, status(2, &c)));
    // Peer 2 answers #65.. from another fork; peer 1 answers #1..#64 of ours.
    core.handle(
        1,
        SyncInput::Response {
            id: r2[0].1,
            blocks: serve(&fork, &r2[0].2),
        },
    );
    let acts = core.handle(
        2,
        SyncInput::Response {
            id: r1[0].1,
            blocks: serve(&c, &r1[0].2),
        },
    );
    assert_eq!(imports(&acts).len(), 1, "#1..#64 import");
    assert!(reports(&acts).is_empty(), "a fork is nobody's fault");
    // #65.. is not asked again at once, nor of peer 2 once the backoff ends.
    assert!(requests(&acts)
        .iter()
        .all(|(_, _, r)| r.from != FromBlock::Number(65)));
    let later = requests(&core.handle(2 + FORK_BACKOFF, SyncInput::Tick));
    assert_eq!(later.len(), 1, "{later:?}");
    assert_eq!((later[0].0, later[0].2.from), (1, FromBlock::Number(65)));
}

#[test]
fn a_bad_block_is_reported_and_sync_restarts_from_the_last_good_one() {
    let c = chain(100, 0);
    let mut core = new_core(&c);
    let r = requests(&core.handle(0, status(1, &c)));
    let acts = core.handle(
        1,
        SyncInput::Response {
            id: r[0].1,
            blocks: serve(&c, &r[0].2),
        },
    );
    let (g, p, blocks) = imports(&acts).remove(0);
    let r2 = requests(&acts);
    assert_eq!(r2[0].2.from, FromBlock::Number(65));
    // Blocks 1..=9 import, block 10 is bad.
    let mut results = ok_results(&blocks[..9]);
    results.push((
        10,
        blocks[9].header.hash(),
        ImportResult::Bad("state root mismatch".into()),
    ));
    let acts = core.handle(
        2,
        SyncInput::Imported {
            generation: g,
            peer: p,
            results,
        },
    );
    assert_eq!(reports(&acts), vec![(1, change::BAD_BLOCK)]);
    assert_eq!(core.status().current_block, 9);
    // The in-flight range from before the restart is stale: its answer is dropped.
    let acts = core.handle(
        3,
        SyncInput::Response {
            id: r2[0].1,
            blocks: serve(&c, &r2[0].2),
        },
    );
    assert!(imports(&acts).is_empty());
    // And sync asks again from #10.
    assert_eq!(requests(&acts)[0].2.from, FromBlock::Number(10));
}

#[test]
fn peer_leaving_or_timing_out_hands_its_range_on() {
    let c = chain(200, 0);
    let mut core = new_core(&c);
    let r1 = requests(&core.handle(0, status(1, &c)));
    let r2 = requests(&core.handle(0, status(2, &c)));
    assert_eq!(r1[0].2.from, FromBlock::Number(1));
    // Peer 1 leaves: nobody idle yet; peer 2 gets #1 once it answers.
    assert!(requests(&core.handle(1, SyncInput::PeerGone(1))).is_empty());
    let acts = core.handle(
        2,
        SyncInput::Response {
            id: r2[0].1,
            blocks: serve(&c, &r2[0].2),
        },
    );
    let next = requests(&acts);
    assert_eq!(next[0].2.from, FromBlock::Number(1));
    // Peer 2 times out on it: reported, and it is asked again.
    let acts = core.handle(2 + 20_001, SyncInput::Tick);
    assert_eq!(reports(&acts), vec![(2, change::REQUEST_FAILED)]);
    assert_eq!(requests(&acts)[0].2.from, FromBlock::Number(1));
    // A late answer to the timed-out id is ignored.
    let acts = core.handle(
        30_000,
        SyncInput::Response {
            id: next[0].1,
            blocks: serve(&c, &next[0].2),
        },
    );
    assert!(imports(&acts).is_empty());
}

#[test]
fn empty_answers_lower_the_peers_claimed_best() {
    let c = chain(100, 0);
    let mut core = new_core(&c);
    let r = requests(&core.handle(0, status(1, &c)));
    let acts = core.handle(
        1,
        SyncInput::Response {
            id: r[0].1,
            blocks: vec![],
        },
    );
    assert!(requests(&acts).is_empty(), "peer 1 has nothing from #1 on");
    assert_eq!(core.status().highest_block, 0);
    // A later announcement raises it again.
    let acts = core.handle(
        2,
        SyncInput::Announced {
            peer: 1,
            number: 100,
            hash: c[100].header.hash(),
        },
    );
    assert_eq!(requests(&acts)[0].2.from, FromBlock::Number(1));
}

#[test]
fn download_stays_bounded_while_import_lags() {
    let c = chain(5000, 0);
    let cfg = SyncConfig {
        max_blocks_ahead: 256,
        ..Default::default()
    };
    let mut core = SyncCore::new(cfg, 0, c[0].header.hash());
    let mut pending: Vec<_> = (1..=8)
        .flat_map(|p| requests(&core.handle(0, status(p, &c))))
        .collect();
    let mut max_requested = 0;
    while let Some((_, id, req)) = pending.pop() {
        let FromBlock::Number(s) = req.from else {
            unreachable!()
        };
        max_requested = max_requested.max(s + req.max - 1);
        // Never report imports: the core must stop asking.
        pending.extend(requests(&core.handle(
            1,
            SyncInput::Response {
                id,
                blocks: serve(&c, &req),
            },
        )));
    }
    assert_eq!(max_requested, 256);
    assert_eq!(core.status().queued_blocks, 256);
}

#[test]
fn local_best_moving_on_skips_what_is_no_longer_needed() {
    let c = chain(100, 0);
    let mut core = new_core(&c);
    let r = requests(&core.handle(0, status(1, &c)));
    core.handle(
        1,
        SyncInput::LocalBest {
            number: 10,
            hash: c[10].header.hash(),
        },
    );
    let acts = core.handle(
        2,
        SyncInput::Response {
            id: r[0].1,
            blocks: serve(&c, &r[0].2),
        },
    );
    let imps = imports(&acts);
    assert_eq!(imps[0].2[0].header.number, 11);
    assert_eq!(imps[0].2.last().unwrap().header.number, 64);
}

/// A seeded run: `honest` peers with the chain, plus a liar (wrong links),
/// a bad-block peer (its blocks fail import) and a silent one; random delay,
/// loss and churn. Sync must finish with every block imported once, in order.
fn simulate(seed: u64) -> Vec<String> {
    let c = chain(700, 0);
    let fork = chain(700, 7);
    let lie = |req: &BlockRequest, rng: &mut ChaCha8Rng| {
        let mut blocks = serve(&c, req);
        let n = blocks.len();
        if n > 1 {
            let i = 1 + (rng.next_u64() as usize) % (n - 1);
            if let Some(b) = blocks.get_mut(i) {
                *b = fork[b.header.number as usize].clone();
            }
        } else if let Some(b) = blocks.first_mut() {
            b.header.number += 1;
        }
        blocks
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut core = SyncCore::new(
        SyncConfig {
            blocks_per_request: 32,
            max_blocks_ahead: 200,
            ..Default::default()
        },
        0,
        c[0].header.hash(),
    );
    // Peers: 1..=3 honest, 4 liar, 5 bad blocks, 6 silent.
    let mut trace = Vec::new();
    let mut queue: Vec<(u64, SyncInput<u8>)> = (1..=6u8)
        .map(|p| (rng.next_u64() % 50, status(p, &c)))
        .collect();
    let mut imported = 0u32;
    let mut now = 0;
    let mut banned = std::collections::BTreeSet::new();
    let mut book = crate::reputation::PeerBook::default();
    for _step in 0..200_000 {
        if core.status().current_block == 700 {
            break;
        }
        queue.sort_by_key(|(t, _)| *t);
        let (at, input) = if queue.is_empty() {
            (now + 1000, SyncInput::Tick)
        } else {
            queue.remove(0)
        };
        now = at.max(now);
        for a in core.handle(now, input) {
            trace.push(format!("{now} {a:?}").chars().take(120).collect());
            match a {
                SyncAction::Request { peer, id, request } => {
                    let delay = 1 + rng.next_u64() % 200;
                    let lost = rng.next_u64() % 10 == 0;
                    let reply = match peer {
                        _ if lost => None,
                        6 => None,
                        4 => Some(lie(&request, &mut rng)),
                        _ => Some(serve(&c, &request)),
                    };
                    if let Some(blocks) = reply {
                        queue.push((now + delay, SyncInput::Response { id, blocks }));
                    } else if rng.next_u64() % 2 == 0 {
                        queue.push((now + delay, SyncInput::RequestFailed { id }));
                    }
                }
                SyncAction::Import {
                    generation,
                    peer,
                    blocks,
                } => {
                    let mut results = Vec::new();
                    for b in &blocks {
                        // A real chain: a block imports only on its parent.
                        if b.header.number != imported + 1 {
                            let known = c
                                .get(b.header.number as usize)
                                .is_some_and(|k| k.header.hash() == b.header.hash());
                            if b.header.number <= imported && known {
                                results.push((
                                    b.header.number,
                                    b.header.hash(),
                                    ImportResult::Imported,
                                ));
                                continue;
                            }
                            results.push((
                                b.header.number,
                                b.header.hash(),
                                ImportResult::UnknownParent,
                            ));
                            break;
                        }
                        if peer == 5 && rng.next_u64() % 3 == 0 {
                            results.push((
                                b.header.number,
                                b.header.hash(),
                                ImportResult::Bad("bad".into()),
                            ));
                            break;
                        }
                        assert_eq!(
                            b.header.hash(),
                            c[b.header.number as usize].header.hash(),
                            "seed {seed}: only the real chain imports"
                        );
                        imported += 1;
                        results.push((b.header.number, b.header.hash(), ImportResult::Imported));
                    }
                    queue.push((
                        now + 1 + rng.next_u64() % 20,
                        SyncInput::Imported {
                            generation,
                            peer,
                            results,
                        },
                    ));
                }
                SyncAction::Report { peer, delta, .. } => {
                    let verdict = book.report(&peer, delta, now);
                    if matches!(verdict, crate::reputation::Verdict::Ban { .. })
                        && banned.insert(peer)
                    {
                        queue.push((now + 1, SyncInput::PeerGone(peer)));
                    }
                }
            }
        }
        if rng.next_u64() % 500 == 0 && !queue.is_empty() {
            // Churn: a peer drops and comes back.
            let p = 1 + (rng.next_u64() % 6) as u8;
            if !banned.contains(&p) {
                queue.push((now + 1, SyncInput::PeerGone(p)));
                queue.push((now + 50, status(p, &c)));
            }
        }
        if queue.iter().all(|(_, i)| matches!(i, SyncInput::Tick)) {
            queue.push((now + 21_000, SyncInput::Tick));
        }
    }
    assert_eq!(imported, 700, "seed {seed}: sync finished");
    assert_eq!(core.status().current_block, 700);
    assert!(
        banned.iter().all(|p| *p >= 4),
        "seed {seed}: only misbehaving peers banned: {banned:?}"
    );
    trace
}

fn seeds() -> u64 {
    std::env::var("QSTACK_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200)
}

#[test]
fn simulated_sync_finishes_under_faults_and_is_deterministic() {
    for seed in 0..seeds() {
        simulate(seed);
    }
    assert_eq!(simulate(42), simulate(42));
}
