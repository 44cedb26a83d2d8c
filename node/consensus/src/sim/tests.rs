//! The simulator with an engine it was not written for: a toy longest-chain
//! engine (every node "mines" after a pseudo-random pause, the longest chain
//! wins, a block is final once `DEPTH` blocks are built on it, seals are
//! checked by its verifier). It uses `BuildBlock` on a chosen parent,
//! `SetBest` on a reorganisation, late `Finalize` and sync, none of which
//! the BFT engine does, and the simulator needs nothing more to run it.

use super::*;
use crate::dev::{DevEngine, SealMode};
use std::collections::BTreeMap;

const DEPTH: u64 = 6;

fn seal(hash: &H256) -> Vec<u8> {
    blake2_256(&(b"seal", hash).encode()).to_vec()
}

struct Seals;

impl Verifier for Seals {
    fn verify(&self, hash: &H256, _number: u64, j: Option<&[u8]>) -> Result<(), String> {
        match j {
            Some(s) if s == seal(hash).as_slice() => Ok(()),
            _ => Err("bad seal".into()),
        }
    }
}

/// The toy engine.
struct LongestChain {
    node: u8,
    /// Known blocks: hash → (number, parent).
    tree: BTreeMap<H256, (u64, H256)>,
    best: (u64, H256),
    finalized: u64,
    mining: bool,
    due: Millis,
    next_request: u64,
}

impl LongestChain {
    fn new(node: u8, finalized: u64) -> Self {
        Self {
            node,
            tree: BTreeMap::new(),
            best: (finalized, H256::zero()),
            finalized,
            mining: false,
            due: 0,
            next_request: 0,
        }
    }

    /// A pause of 300–2300 ms, different per node and parent.
    fn pause(&self) -> Millis {
        let h = blake2_256(&(self.node, self.best.1).encode());
        300 + u64::from(u16::from_le_bytes([h[0], h[1]])) % 2000
    }

    fn ancestor(&self, mut hash: H256, depth: u64) -> Option<(u64, H256)> {
        for _ in 0..depth {
            hash = self.tree.get(&hash)?.1;
        }
        self.tree.get(&hash).map(|(n, _)| (*n, hash))
    }
}

impl Engine for LongestChain {
    fn start(&mut self, now: Millis) -> Vec<Action> {
        self.due = now + self.pause();
        vec![Action::WakeAt(self.due)]
    }

    fn handle(&mut self, now: Millis, input: Input) -> Vec<Action> {
        match input {
            Input::Tick if now >= self.due && !self.mining => {
                self.mining = true;
                self.next_request += 1;
                vec![Action::BuildBlock {
                    request: self.next_request,
                    parent: (self.best.1 != H256::zero()).then_some(self.best.1),
                    transactions: None,
                    inherents: Vec::new(),
                }]
            }
            Input::Built { hash, .. } => {
                self.mining = false;
                vec![Action::ImportBlock {
                    hash,
                    justification: Some(seal(&hash)),
                }]
            }
            Input::BlockImported {
                hash,
                number,
                parent,
                ..
            } => {
                let number = u64::from(number);
                self.tree.insert(hash, (number, parent));
                let mut out = Vec::new();
                if number > self.best.0 {
                    let reorg = parent != self.best.1;
                    self.best = (number, hash);
                    if reorg {
                        out.push(Action::SetBest(hash));
                    }
                    self.due = now + self.pause();
                    out.push(Action::WakeAt(self.due));
                }
                if let Some((n, h)) = self.ancestor(self.best.1, DEPTH) {
                    if n > self.finalized {
                        self.finalized = n;
                        out.push(Action::Finalize(h));
                    }
                }
                out
            }
            _ => Vec::new(),
        }
    }

    fn finality(&self) -> Finality {
        Finality::Probabilistic {
            depth: DEPTH as u32,
        }
    }

    fn verifier(&self) -> Option<Arc<dyn Verifier>> {
        Some(Arc::new(Seals))
    }
}

struct ToyHarness;

impl Harness for ToyHarness {
    type E = LongestChain;
    fn engine(&mut self, node: usize, _disk: &MemoryDisk, finalized: u64) -> LongestChain {
        LongestChain::new(node as u8, finalized)
    }
    fn describe(&self, e: &LongestChain) -> String {
        format!("best #{}", e.best.0)
    }
}

fn toy(n: usize) -> Scenario {
    Scenario {
        target: 12,
        ..Scenario::lossy(n)
    }
}

#[test]
fn a_longest_chain_engine_runs_reorganises_and_finalises_late() {
    let runs = run_seeds("toy, 5 nodes", &toy(5), seeds(32), || ToyHarness);
    // Competing blocks happen and the engine's fork choice resolves them.
    assert!(
        runs.iter().any(|r| r.set_best > 0),
        "no reorganisation in any run"
    );
}

#[test]
fn a_longest_chain_engine_survives_a_crash() {
    // (Not a long partition: probabilistic finality is not partition-safe,
    // and the simulator would rightly report the fork.)
    let crash = Scenario {
        crash: Some(Crash {
            node: 2,
            at: 4_000,
            on_share: false,
            after_lock: false,
            down: 5_000,
            keep: false,
        }),
        ..toy(5)
    };
    run_seeds("toy, crash", &crash, seeds(16), || ToyHarness);
}

#[test]
fn the_simulator_catches_an_engine_that_finalises_too_early() {
    // The same engine finalising at depth 0 forks under delay: the safety
    // check must fail some seed.
    struct Hasty;
    impl Harness for Hasty {
        type E = Eager;
        fn engine(&mut self, node: usize, _d: &MemoryDisk, finalized: u64) -> Eager {
            Eager(LongestChain::new(node as u8, finalized))
        }
    }
    struct Eager(LongestChain);
    impl Engine for Eager {
        fn start(&mut self, now: Millis) -> Vec<Action> {
            self.0.start(now)
        }
        fn handle(&mut self, now: Millis, input: Input) -> Vec<Action> {
            let own = match &input {
                Input::BlockImported { hash, .. } => Some(*hash),
                _ => None,
            };
            let mut out = self.0.handle(now, input);
            out.retain(|a| !matches!(a, Action::Finalize(_)));
            out.extend(own.map(Action::Finalize));
            out
        }
        fn finality(&self) -> Finality {
            Finality::Probabilistic { depth: 0 }
        }
        fn verifier(&self) -> Option<Arc<dyn Verifier>> {
            self.0.verifier()
        }
    }
    let caught = (0..16).any(|seed| {
        std::panic::catch_unwind(|| Sim::new(Hasty, toy(5), seed).run()).is_err_and(|e| {
            e.downcast_ref::<String>()
                .is_some_and(|m| m.contains("SAFETY") || m.contains("finalised"))
        })
    });
    assert!(caught, "a forking engine went unnoticed");
}

#[test]
fn one_dev_node_authors_in_the_simulator() {
    struct Dev;
    impl Harness for Dev {
        type E = DevEngine;
        fn engine(&mut self, _n: usize, _d: &MemoryDisk, _f: u64) -> DevEngine {
            DevEngine::new(SealMode::Interval(1000))
        }
    }
    let sc = Scenario {
        target: 5,
        loss: 0,
        ..Scenario::lossy(1)
    };
    let run = Sim::new(Dev, sc, 1).run();
    assert!(run.end >= 4_000, "one block a second: {run:?}");
}

#[test]
fn same_seed_same_trace() {
    let a = Sim::new(ToyHarness, toy(4), 9).run();
    let b = Sim::new(ToyHarness, toy(4), 9).run();
    let c = Sim::new(ToyHarness, toy(4), 10).run();
    assert_eq!(a.trace, b.trace);
    assert_ne!(a.trace, c.trace, "the seed must matter");
}
