//! The BFT engine's check of consensus gossip ([`GossipCheck`]), run by the
//! network on a worker before a message is forwarded or reaches the engine:
//! cheap checks first (strict decoding, the height and round window, a known
//! validator, the round's proposer), then the signature, cached by message
//! hash so re-broadcasts and copies from several peers are verified once.
//!
//! What passes where (the engine's core checks everything again; this only
//! decides what travels and what costs the sender):
//! - proposals and votes of the current or the next height, within the
//!   round window, by the validator (the round's proposer) they name, with a
//!   good signature: [`Verdict::Accept`]; a bad signature, an unknown
//!   validator or the wrong proposer: [`Verdict::Reject`];
//! - a commit certificate for the current height that verifies: accepted
//!   (it decides the height for whoever has it); one that does not: rejected;
//! - messages of older heights and status messages: [`Verdict::Deliver`]
//!   (the engine answers a peer behind it with the certificate, rate-limited;
//!   unsigned, so never forwarded); other heights and rounds beyond the
//!   window: [`Verdict::Ignore`];
//! - a block body: accepted only with the signed proposal naming it (by the
//!   round's proposer, for this block at this height) as its proof, and at
//!   most [`MAX_BODIES_PER_ROUND`] bodies per (height, round), so a proposer
//!   that equivocates cannot crowd out the bodies of later rounds and nobody
//!   else can place a body at all.

use super::{CommitCertificate, Height, Message, Round, ValidatorSet};
use crate::{GossipCheck, Verdict};
use qstack_core::H256;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Mutex, RwLock};

/// Signature checks remembered (by message hash).
const VERIFIED_CACHE: usize = 8192;

/// Distinct block bodies accepted per (height, round): the proposer's, and
/// one more so an equivocating proposer's second body is seen (the evidence
/// needs only the proposals).
pub const MAX_BODIES_PER_ROUND: usize = 2;

/// The height and round the engine is at, and the sets that sign there.
#[derive(Debug, Clone)]
struct Window {
    height: Height,
    round: Round,
    set: ValidatorSet,
    next: ValidatorSet,
}

/// Hashes of messages whose signatures checked, oldest first out.
#[derive(Debug, Default)]
struct Recent {
    set: HashSet<[u8; 32]>,
    order: VecDeque<[u8; 32]>,
}

impl Recent {
    fn insert(&mut self, h: [u8; 32]) {
        if self.set.insert(h) {
            self.order.push_back(h);
            while self.order.len() > VERIFIED_CACHE {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
}

/// The BFT engine's gossip check; the engine moves its window as it moves.
#[derive(Debug)]
pub struct BftGossip {
    chain: H256,
    max_future_rounds: Round,
    window: RwLock<Window>,
    verified: Mutex<Recent>,
    bodies: Mutex<BTreeMap<(Height, Round), Vec<H256>>>,
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn lock<T>(l: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    l.lock().unwrap_or_else(|p| p.into_inner())
}

impl BftGossip {
    /// A check for chain `chain` at `height`, round 0, signed by `set` (and
    /// `next` at the height after).
    pub fn new(
        chain: H256,
        max_future_rounds: Round,
        height: Height,
        set: ValidatorSet,
        next: ValidatorSet,
    ) -> Self {
        Self {
            chain,
            max_future_rounds,
            window: RwLock::new(Window {
                height,
                round: 0,
                set,
                next,
            }),
            verified: Mutex::new(Recent::default()),
            bodies: Mutex::new(BTreeMap::new()),
        }
    }

    /// The engine is at `height` (signed by `set`, then `next`).
    pub fn enter(&self, height: Height, set: ValidatorSet, next: ValidatorSet) {
        let mut w = self.window.write().unwrap_or_else(|p| p.into_inner());
        *w = Window {
            height,
            round: 0,
            set,
            next,
        };
        drop(w);
        lock(&self.bodies).retain(|(h, _), _| *h >= height);
    }

    /// The engine is in `round` of its height.
    pub fn round(&self, round: Round) {
        let mut w = self.window.write().unwrap_or_else(|p| p.into_inner());
        w.round = round;
    }

    /// The height and round the check is at.
    pub fn at(&self) -> (Height, Round) {
        let w = read(&self.window);
        (w.height, w.round)
    }

    /// Runs `verify` unless a message with these bytes verified before.
    fn cached(&self, bytes: &[u8], verify: impl FnOnce() -> bool) -> bool {
        let h = qstack_core::hashing::blake2_256(bytes);
        if lock(&self.verified).set.contains(&h) {
            return true;
        }
        let ok = verify();
        if ok {
            lock(&self.verified).insert(h);
        }
        ok
    }

    /// The set that signs `height`, if it is the current or the next one,
    /// and the most rounds ahead of ours a message there may be.
    fn set_of(&self, w: &Window, height: Height) -> Option<(ValidatorSet, Round)> {
        if height == w.height {
            Some((
                w.set.clone(),
                w.round.saturating_add(self.max_future_rounds),
            ))
        } else if Some(height) == w.height.checked_add(1) {
            Some((w.next.clone(), self.max_future_rounds))
        } else {
            None
        }
    }

    fn check(&self, bytes: &[u8], msg: &Message) -> Verdict {
        let w = read(&self.window).clone();
        let (height, round) = match msg {
            Message::Proposal(p) => (p.proposal.height, p.proposal.round),
            Message::Vote(v) => (v.vote.height, v.vote.round),
            Message::Commit(c) => (c.height, c.round),
            Message::Status(_) => return Verdict::Deliver,
        };
        if height < w.height {
            // A peer behind us: the engine answers with the certificate.
            return match msg {
                Message::Commit(_) => Verdict::Ignore,
                _ => Verdict::Deliver,
            };
        }
        let Some((set, last_round)) = self.set_of(&w, height) else {
            return Verdict::Ignore;
        };
        if round > last_round {
            return Verdict::Ignore;
        }
        match msg {
            Message::Proposal(p) => {
                let proposer = set.proposer(round);
                if p.proposal.proposer != proposer {
                    return Verdict::Reject(format!(
                        "proposal for #{height} round {round} by validator {}, not its proposer {proposer}",
                        p.proposal.proposer
                    ));
                }
                if self.cached(bytes, || p.verify(&self.chain, &set)) {
                    Verdict::Accept
                } else {
                    Verdict::Reject(format!("bad proposal signature (#{height} round {round})"))
                }
            }
            Message::Vote(v) => {
                if set.get(v.vote.validator).is_none() {
                    return Verdict::Reject(format!(
                        "vote by unknown validator {} (#{height})",
                        v.vote.validator
                    ));
                }
                if self.cached(bytes, || v.verify(&self.chain, &set)) {
                    Verdict::Accept
                } else {
                    Verdict::Reject(format!(
                        "bad vote signature by validator {} (#{height} round {round})",
                        v.vote.validator
                    ))
                }
            }
            Message::Commit(c) => {
                if height != w.height {
                    return Verdict::Ignore;
                }
                if self.cached(bytes, || certificate_ok(c, &self.chain, &set)) {
                    Verdict::Accept
                } else {
                    Verdict::Reject(format!("commit certificate for #{height} does not verify"))
                }
            }
            Message::Status(_) => Verdict::Deliver,
        }
    }
}

fn certificate_ok(c: &CommitCertificate, chain: &H256, set: &ValidatorSet) -> bool {
    c.verify(chain, set).is_ok()
}

impl GossipCheck for BftGossip {
    fn message(&self, bytes: &[u8]) -> Verdict {
        match Message::decode_strict(bytes) {
            Some(m) => self.check(bytes, &m),
            None => Verdict::Reject("consensus message does not decode".into()),
        }
    }

    fn block(&self, hash: &H256, number: u64, proof: &[u8]) -> Verdict {
        let Some(Message::Proposal(p)) = Message::decode_strict(proof) else {
            return Verdict::Reject("block body without a signed proposal".into());
        };
        if p.proposal.value != *hash || p.proposal.height != number {
            return Verdict::Reject(format!(
                "block body #{number} {hash} shared with a proposal of #{} {}",
                p.proposal.height, p.proposal.value
            ));
        }
        let (height, round) = (p.proposal.height, p.proposal.round);
        match self.check(proof, &Message::Proposal(p)) {
            Verdict::Accept => {}
            Verdict::Deliver => return Verdict::Ignore,
            other => return other,
        }
        let mut bodies = lock(&self.bodies);
        let kept = bodies.entry((height, round)).or_default();
        if kept.contains(hash) {
            return Verdict::Accept;
        }
        if kept.len() >= MAX_BODIES_PER_ROUND {
            return Verdict::Ignore;
        }
        kept.push(*hash);
        Verdict::Accept
    }
}
