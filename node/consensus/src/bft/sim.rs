//! The BFT engine in the generic simulation ([`crate::sim`]): the
//! [`BftEngine`] behind the `Engine` trait, with the simulator as its shell
//! (blocks shared and checked, imports with certificates checked by the
//! engine's verifier, the signer state and WAL persisted and replayed on
//! restart). This harness adds only what is BFT's own: equivocating
//! validators re-sign conflicting votes and proposals, reports are decoded
//! as [`Evidence`] and verified, traces leave out randomised signatures.
//! Checked on every run (besides the simulator's own checks): every piece of
//! evidence is real and names a byzantine validator.
//!
//! 19 scenarios × 128 seeds in CI (`QSTACK_SIM_SEEDS=N` for more).

use super::store::WalRecord;
use super::*;
use crate::sim::{
    run_seeds as run_seeds_of, seeds, Behaviour, Corrupted, Crash, Harness, MemoryDisk, Run,
    Scenario, Sim, CI_SEEDS,
};
use crate::Millis;
use codec::{DecodeAll, Encode};
use qstack_core::{hashing::blake2_256, KeyScheme, Pair, H256};
use std::collections::{BTreeMap, BTreeSet};

const CHAIN: H256 = H256([0x51; 32]);

fn keys(scheme: KeyScheme, n: usize) -> Vec<Pair> {
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<BTreeMap<(u8, usize), Pair>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(|| Mutex::new(BTreeMap::new()))
        .lock()
        .expect("cache");
    (0..n)
        .map(|i| {
            cache
                .entry((scheme as u8, i))
                .or_insert_with(|| Pair::from_suri(scheme, &format!("//sim{i}")).expect("dev key"))
                .clone()
        })
        .collect()
}

/// BFT validators with these powers.
struct Bft {
    pairs: Vec<Pair>,
    set: ValidatorSet,
}

impl Bft {
    fn new(powers: &[u64], scheme: KeyScheme) -> Self {
        let pairs = keys(scheme, powers.len());
        let set = ValidatorSet::new(
            pairs
                .iter()
                .zip(powers)
                .map(|(p, w)| Validator {
                    public: p.public(),
                    power: *w,
                })
                .collect(),
        )
        .expect("set");
        Self { pairs, set }
    }
}

impl Harness for Bft {
    type E = BftEngine;

    /// The engine at the height after the node's last final block, with its
    /// persisted signer state and the WAL of that height replayed (a log
    /// never started afresh is the first height's, as [`store::BftDisk`]
    /// starts it).
    fn engine(&mut self, node: usize, disk: &MemoryDisk, finalized: u64) -> BftEngine {
        let height = finalized + 1;
        let signer = disk.state.as_ref().map_or_else(SignerState::default, |b| {
            SignerState::decode_all(&mut &b[..]).expect("our own signer state")
        });
        let records = if disk.epoch.unwrap_or(1) == height {
            disk.log
                .iter()
                .map(|b| WalRecord::decode_all(&mut &b[..]).expect("our own WAL record"))
                .collect()
        } else {
            Vec::new()
        };
        BftEngine::new(
            BftConfig::default(),
            CHAIN,
            self.set.clone(),
            Some(self.pairs[node].clone()),
            height,
            signer,
            records,
        )
    }

    /// A byzantine node's conflicting version of its own vote or proposal:
    /// another (valid) block, signed behind its signer's back.
    fn corrupt(&mut self, from: usize, bytes: &[u8]) -> Option<Corrupted> {
        let pair = &self.pairs[from];
        match Message::decode_strict(bytes)? {
            Message::Vote(v) => {
                let fake = H256(blake2_256(
                    &(b"fake", v.vote.height, v.vote.round, from as u32).encode(),
                ));
                let value = if v.vote.value == Some(fake) {
                    None
                } else {
                    Some(fake)
                };
                let height = v.vote.height;
                let vote = Vote {
                    value,
                    ..v.vote.clone()
                };
                Some(Corrupted {
                    bytes: Message::Vote(SignedVote::sign(pair, &CHAIN, vote)).encode(),
                    blocks: vec![(fake, height)],
                })
            }
            Message::Proposal(p) => {
                let fake = H256(blake2_256(
                    &(b"fake", p.proposal.height, p.proposal.round, from as u32).encode(),
                ));
                let height = p.proposal.height;
                let proposal = Proposal {
                    value: fake,
                    valid_round: None,
                    ..p.proposal.clone()
                };
                Some(Corrupted {
                    bytes: Message::Proposal(SignedProposal::sign(pair, &CHAIN, proposal)).encode(),
                    blocks: vec![(fake, height)],
                })
            }
            Message::Commit(_) | Message::Status(_) => None,
        }
    }

    /// A precommit for a block: the vote a lock promises.
    fn is_lock(&self, bytes: &[u8]) -> bool {
        matches!(Message::decode_strict(bytes), Some(Message::Vote(v))
            if v.vote.kind == VoteKind::Precommit && v.vote.value.is_some())
    }

    fn offender(&self, bytes: &[u8]) -> Result<usize, String> {
        let e = Evidence::decode_all(&mut &bytes[..]).map_err(|e| e.to_string())?;
        if !e.verify(&CHAIN, &self.set) {
            return Err(format!("bad evidence {e:?}"));
        }
        Ok(e.offender() as usize)
    }

    fn trace(&self, bytes: &[u8]) -> Vec<u8> {
        Message::decode_strict(bytes).map_or_else(|| bytes.to_vec(), |m| logical(&m))
    }

    fn describe(&self, e: &BftEngine) -> String {
        let c = e.core();
        format!(
            "(height {}, round {}, {:?}, locked {:?}, valid {:?})",
            c.height(),
            c.round(),
            c.step(),
            c.locked().map(|(v, r)| (v.0[0], r)),
            c.valid().map(|(v, r)| (v.0[0], r))
        )
    }
}

/// A message without its signatures (randomized, so not in the trace).
fn logical(msg: &Message) -> Vec<u8> {
    match msg {
        Message::Proposal(p) => (0u8, &p.proposal).encode(),
        Message::Vote(v) => (1u8, &v.vote).encode(),
        Message::Commit(c) => (
            2u8,
            c.height,
            c.round,
            c.value,
            c.precommits.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        )
            .encode(),
        Message::Status(h) => (3u8, h).encode(),
    }
}

/// `n` validators of power 1, lossy network, target 8.
fn lossy(n: usize) -> Sc {
    Sc {
        powers: vec![1; n],
        sc: Scenario::lossy(n),
    }
}

/// A scenario with validator powers.
#[derive(Clone)]
struct Sc {
    powers: Vec<u64>,
    sc: Scenario,
}

fn run_seeds(name: &str, sc: &Sc) -> Vec<Run> {
    let powers = sc.powers.clone();
    run_seeds_of(name, &sc.sc, seeds(CI_SEEDS), move || {
        Bft::new(&powers, KeyScheme::Sr25519)
    })
}

fn sim(sc: Sc, seed: u64, scheme: KeyScheme) -> Sim<Bft> {
    Sim::new(Bft::new(&sc.powers, scheme), sc.sc, seed)
}

#[test]
fn four_validators_reach_consensus_under_delay_and_loss() {
    run_seeds("4 lossy", &lossy(4));
}

#[test]
fn seven_validators_reach_consensus_under_delay_and_loss() {
    run_seeds("7 lossy", &lossy(7));
}

#[test]
fn weighted_validators_reach_consensus() {
    let sc = Sc {
        powers: vec![1, 2, 3, 4, 5],
        ..lossy(5)
    };
    run_seeds("weighted", &sc);
}

fn with(mut sc: Sc, f: impl FnOnce(&mut Scenario)) -> Sc {
    f(&mut sc.sc);
    sc
}

#[test]
fn silent_byzantine_minority_cannot_stop_or_fork_the_chain() {
    let four = with(lossy(4), |s| s.byzantine = vec![(1, Behaviour::Silent)]);
    run_seeds("4, one silent", &four);
    let seven = with(lossy(7), |s| {
        s.byzantine = vec![(0, Behaviour::Silent), (4, Behaviour::Silent)]
    });
    run_seeds("7, two silent", &seven);
}

#[test]
fn equivocating_byzantine_minority_cannot_fork_and_is_caught() {
    let four = with(lossy(4), |s| s.byzantine = vec![(2, Behaviour::Equivocate)]);
    for run in run_seeds("4, one equivocating", &four) {
        assert!(run.reports > 0, "no evidence: {run:?}");
    }
    let seven = with(lossy(7), |s| {
        s.byzantine = vec![(1, Behaviour::Equivocate), (5, Behaviour::Equivocate)]
    });
    for run in run_seeds("7, two equivocating", &seven) {
        assert!(run.reports > 0, "no evidence: {run:?}");
    }
    let mixed = with(lossy(7), |s| {
        s.byzantine = vec![(3, Behaviour::Equivocate), (6, Behaviour::Silent)]
    });
    run_seeds("7, one equivocating one silent", &mixed);
}

#[test]
fn progress_resumes_after_a_partition_heals() {
    // 2 | 2 (4 nodes) and 3 | 4 (7 nodes, one equivocating): neither side
    // has a quorum for 30 s of virtual time.
    let four = with(lossy(4), |s| {
        s.partition = Some((2_000, 32_000, BTreeSet::from([0, 1])));
        s.target = 10;
    });
    let seven = with(lossy(7), |s| {
        s.partition = Some((2_000, 32_000, BTreeSet::from([0, 1, 2])));
        s.byzantine = vec![(4, Behaviour::Equivocate)];
        s.target = 10;
    });
    for (name, sc) in [("4, partition", four), ("7, partition", seven)] {
        for run in run_seeds(name, &sc) {
            let at_heal = run.height_at_heal.expect("ran past the partition");
            assert!(at_heal < 10, "{name}: the partition should stall the chain");
            assert!(run.end > 32_000, "{name}: decided all during the partition");
        }
    }
}

#[test]
fn a_validator_killed_mid_round_restarts_without_double_signing() {
    // Node 3 dies mid-height (2.2 s in, or right after it shares the block
    // it proposes) and comes back with its signer state and WAL, at once or
    // after the others moved on. Any second signature in a step (a rebuilt
    // block proposed again, a different vote) would be evidence against an
    // honest node, which fails the run.
    for n in [4, 7] {
        for (on_share, down) in [(false, 100), (false, 4_000), (true, 50)] {
            let sc = with(lossy(n), |s| {
                s.crash = Some(Crash {
                    node: 3,
                    at: 2_200,
                    on_share,
                    after_lock: false,
                    down,
                    keep: true,
                });
                s.target = 10;
            });
            run_seeds("crash and restart", &sc);
        }
    }
}

/// The security review's H2 over many seeds: node 1 is killed right after
/// it precommits a block (its lock) and restarts with its signer state and
/// WAL but none of the bodies it held in memory (only those its disk kept);
/// node 3 equivocates, offering conflicting fresh proposals and votes. No
/// two honest nodes may finalise different blocks.
fn amnesia(n: usize, down: Millis) -> Sc {
    with(lossy(n), |s| {
        s.byzantine = vec![(3, Behaviour::Equivocate)];
        s.crash = Some(Crash {
            node: 1,
            at: 0,
            on_share: false,
            after_lock: true,
            down,
            keep: true,
        });
        s.target = 6;
    })
}

#[test]
fn a_validator_restarted_after_locking_keeps_its_lock_against_a_byzantine_proposer() {
    for down in [20, 1_500] {
        run_seeds("amnesia, 4", &amnesia(4, down));
    }
    run_seeds(
        "amnesia, 7",
        &with(amnesia(7, 300), |s| {
            s.byzantine = vec![(3, Behaviour::Equivocate), (5, Behaviour::Equivocate)]
        }),
    );
}

#[test]
fn without_its_signer_state_a_restarted_proposer_double_signs() {
    // The control for the test above: the same crash with the disk lost.
    // The restarted proposer builds and signs a second block for its round,
    // and the simulation must catch it.
    let sc = with(lossy(4), |s| {
        s.crash = Some(Crash {
            node: 3,
            at: 0,
            on_share: true,
            after_lock: false,
            down: 50,
            keep: false,
        });
        s.target = 6;
    });
    for seed in 0..4 {
        let sc = sc.clone();
        let run = std::panic::catch_unwind(move || sim(sc, seed, KeyScheme::Sr25519).run());
        let caught = run.is_err_and(|e| {
            e.downcast_ref::<String>()
                .is_some_and(|m| m.contains("evidence against honest node 3"))
        });
        assert!(caught, "seed {seed}: the double sign went unnoticed");
    }
}

#[test]
fn same_seed_same_trace() {
    let sc = with(lossy(4), |s| s.byzantine = vec![(2, Behaviour::Equivocate)]);
    let a = sim(sc.clone(), 42, KeyScheme::Sr25519).run();
    let b = sim(sc.clone(), 42, KeyScheme::Sr25519).run();
    let c = sim(sc, 43, KeyScheme::Sr25519).run();
    assert_eq!(a.trace, b.trace);
    assert_eq!((a.end, a.reports), (b.end, b.reports));
    assert_ne!(a.trace, c.trace, "the seed must matter");
}

#[test]
fn hybrid_key_validators_reach_consensus() {
    let sc = with(lossy(4), |s| {
        s.target = 3;
        s.loss = 50;
    });
    sim(sc, 7, KeyScheme::Hybrid).run();
}
