//! The Tendermint state machine (Algorithm 1 of "The latest gossip on BFT
//! consensus", Buchman, Kwon, Milosevic 2018). Line numbers in comments
//! (`L22`) are the paper's.

use super::types::*;
use crate::Millis;
use qstack_core::{Pair, H256};
use std::collections::{BTreeMap, BTreeSet};

/// Timeouts and pacing. Round `r` waits `base + r * increment`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BftConfig {
    /// Wait for a proposal in round 0 (ms).
    pub propose: Millis,
    /// Wait after seeing a prevote quorum for any value, round 0 (ms).
    pub prevote: Millis,
    /// Wait after seeing a precommit quorum for any value, round 0 (ms).
    pub precommit: Millis,
    /// Added to each timeout per round (ms).
    pub increment: Millis,
    /// How often our own messages of the current round are re-sent, so a
    /// lossy network still delivers them (ms).
    pub rebroadcast: Millis,
    /// Messages for rounds further ahead than this are dropped (bounds memory).
    pub max_future_rounds: Round,
    /// How many past heights' commit certificates are kept to help laggards.
    pub keep_certificates: usize,
    /// How long after a decision the next proposer waits before building
    /// (ms; CometBFT's `timeout_commit`): late precommits of the decided
    /// height still join the certificate the next block carries.
    pub commit_wait: Millis,
}

impl Default for BftConfig {
    fn default() -> Self {
        Self {
            propose: 3000,
            prevote: 1000,
            precommit: 1000,
            increment: 500,
            rebroadcast: 1000,
            max_future_rounds: 64,
            keep_certificates: 16,
            commit_wait: 0,
        }
    }
}

impl BftConfig {
    fn timeout(&self, base: Millis, round: Round) -> Millis {
        base.saturating_add(self.increment.saturating_mul(Millis::from(round)))
    }
}

/// What the shell tells the core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BftInput {
    /// Time passed (deliver at the last `WakeAt`, or any time).
    Tick,
    /// A consensus message from a peer.
    Message(Vec<u8>),
    /// The block the shell built after [`BftAction::RequestValue`].
    Value {
        /// Height asked for.
        height: Height,
        /// Round asked for.
        round: Round,
        /// The new block's hash (the shell has it, so it is valid).
        value: H256,
    },
    /// The verdict on a block after [`BftAction::CheckValue`] (the shell
    /// fetched and executed it, or failed to).
    Validity {
        /// The block's hash.
        value: H256,
        /// Whether it is a valid block on top of our chain at this height.
        valid: bool,
    },
}

/// What the core asks the shell to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BftAction {
    /// We propose in (height, round): build a block and answer with
    /// [`BftInput::Value`] (the paper's `getValue()`).
    RequestValue {
        /// Height.
        height: Height,
        /// Round.
        round: Round,
    },
    /// Fetch and check this block, and answer with [`BftInput::Validity`]
    /// (the paper's `valid(v)`).
    CheckValue {
        /// Height.
        height: Height,
        /// Block hash.
        value: H256,
    },
    /// Persist the signer state (fsync) before carrying out the actions after
    /// it: they contain a message signed at this state.
    PersistSigner(SignerState),
    /// Append to the WAL, then gossip these bytes to all peers.
    Broadcast(Vec<u8>),
    /// The block is decided: import it as final with this justification.
    /// The core has moved on to the next height.
    Commit(CommitCertificate),
    /// A validator double-signed: submit on chain.
    Evidence(Evidence),
    /// A received proposal or vote the core checked and kept (new, of this
    /// height and a round it accepts, signed by the validator it names,
    /// within the values it counts per signer and step): append it to the
    /// WAL before carrying out the actions after it. Nothing else received
    /// needs to be in the WAL to re-derive locks and valid values.
    Kept(Message),
    /// Deliver [`BftInput::Tick`] at this time.
    WakeAt(Millis),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Rule {
    /// L34: timeout prevote scheduled.
    L34,
    /// L36: prevote quorum for the proposal seen.
    L36,
    /// L47: timeout precommit scheduled.
    L47,
}

/// Values one validator may be counted for in one (round, step): an
/// equivocator's extra votes count for their values (as the paper's "2f+1
/// messages" do) but cannot grow memory without bound.
pub(crate) const MAX_VALUES_PER_VOTER: usize = 4;

/// Votes of one (round, step).
#[derive(Default, Debug)]
struct Tally {
    /// Each validator's first vote (its power counts once in `total`).
    first: BTreeMap<u32, SignedVote>,
    /// Per value: the power and the votes of everyone who signed it.
    per_value: BTreeMap<Option<H256>, (u64, BTreeMap<u32, SignedVote>)>,
    /// Power of distinct voters ("2f+1 votes for anything").
    total: u64,
}

impl Tally {
    fn has(&self, v: &Vote) -> bool {
        self.per_value
            .get(&v.value)
            .is_some_and(|(_, by)| by.contains_key(&v.validator))
    }

    fn values_of(&self, validator: u32) -> usize {
        self.per_value
            .values()
            .filter(|(_, by)| by.contains_key(&validator))
            .count()
    }

    fn power_for(&self, value: &Option<H256>) -> u64 {
        self.per_value.get(value).map_or(0, |(p, _)| *p)
    }
}

/// One validator's (or observer's) Tendermint core for a chain.
#[derive(Debug)]
pub struct Tendermint {
    config: BftConfig,
    chain: H256,
    key: Option<Pair>,
    me: Option<u32>,
    validators: ValidatorSet,
    signer: SignerState,
    height: Height,
    round: Round,
    step: Step,
    locked: Option<(H256, Round)>,
    valid: Option<(H256, Round)>,
    proposals: BTreeMap<Round, SignedProposal>,
    votes: BTreeMap<(Round, VoteKind), Tally>,
    senders: BTreeMap<Round, BTreeSet<u32>>,
    validity: BTreeMap<H256, bool>,
    checking: BTreeSet<H256>,
    fired: BTreeSet<(Round, Rule)>,
    timeouts: Vec<(Millis, Round, Step)>,
    awaiting_value: Option<Round>,
    own: Vec<Vec<u8>>,
    next_rebroadcast: Millis,
    wake: Option<Millis>,
    offenders: BTreeSet<(u32, Round, Step)>,
    certificates: BTreeMap<Height, CommitCertificate>,
    /// The set of the height just decided (checks late precommits).
    previous: Option<ValidatorSet>,
    /// Late precommits verified for the height just decided (bounded: they
    /// arrive unchecked by the gossip layer, which forwards nothing old).
    late_checks: usize,
    helped: BTreeMap<Height, Millis>,
    certificate: Option<CommitCertificate>,
    scheduled: BTreeMap<Height, ValidatorSet>,
    now: Millis,
}

impl Tendermint {
    /// A core at `height` for `validators` (that height's set). `chain` is
    /// the genesis hash, bound into every signature; `key` signs if it is a
    /// validator's; `signer` is the persisted high-water mark. Call
    /// [`Tendermint::start`] next.
    pub fn new(
        config: BftConfig,
        chain: H256,
        validators: ValidatorSet,
        key: Option<Pair>,
        height: Height,
        signer: SignerState,
    ) -> Self {
        let me = key.as_ref().and_then(|k| validators.index_of(&k.public()));
        // A lock and valid value persisted at this height come back, and
        // count as checked: we only lock on (or remember) a block we found
        // valid, and its body may be gone after the restart.
        let locks = signer.locks.filter(|l| l.height == height);
        let (locked, valid) = locks.map_or((None, None), |l| (l.locked, l.valid));
        let validity: BTreeMap<H256, bool> = locked
            .iter()
            .chain(valid.iter())
            .map(|(v, _)| (*v, true))
            .collect();
        Self {
            config,
            chain,
            key,
            me,
            validators,
            signer,
            height,
            round: 0,
            step: Step::Propose,
            locked,
            valid,
            proposals: BTreeMap::new(),
            votes: BTreeMap::new(),
            senders: BTreeMap::new(),
            validity,
            checking: BTreeSet::new(),
            fired: BTreeSet::new(),
            timeouts: Vec::new(),
            awaiting_value: None,
            own: Vec::new(),
            next_rebroadcast: 0,
            wake: None,
            offenders: BTreeSet::new(),
            certificates: BTreeMap::new(),
            previous: None,
            late_checks: 0,
            helped: BTreeMap::new(),
            certificate: None,
            scheduled: BTreeMap::new(),
            now: 0,
        }
    }

    /// Starts round 0 of the current height (L10: `StartRound(0)`).
    pub fn start(&mut self, now: Millis) -> Vec<BftAction> {
        self.now = now;
        self.next_rebroadcast = now.saturating_add(self.config.rebroadcast.max(1));
        let mut out = Vec::new();
        self.start_round(0, &mut out);
        self.settle(&mut out);
        out
    }

    /// Current height.
    pub fn height(&self) -> Height {
        self.height
    }
    /// Current round.
    pub fn round(&self) -> Round {
        self.round
    }
    /// Current step.
    pub fn step(&self) -> Step {
        self.step
    }
    /// `(lockedValue, lockedRound)`.
    pub fn locked(&self) -> Option<(H256, Round)> {
        self.locked
    }
    /// `(validValue, validRound)`.
    pub fn valid(&self) -> Option<(H256, Round)> {
        self.valid
    }
    /// The signer state (what the shell persists).
    pub fn signer(&self) -> SignerState {
        self.signer
    }
    /// The validator set of the current height.
    pub fn validators(&self) -> &ValidatorSet {
        &self.validators
    }
    /// Pending timeouts: (deadline, round, step).
    pub fn timeouts(&self) -> &[(Millis, Round, Step)] {
        &self.timeouts
    }
    /// Our index, if we are a validator.
    pub fn me(&self) -> Option<u32> {
        self.me
    }
    /// The certificate this core decided `height` with, grown by the
    /// precommits that arrived after the decision (for the height just
    /// decided): the next block's `LastCommit`.
    pub fn certificate_of(&self, height: Height) -> Option<&CommitCertificate> {
        self.certificates.get(&height)
    }

    /// The set of the next height: the one scheduled for it, else this
    /// height's with proposer priorities advanced (what [`Self::decide`]
    /// moves to).
    pub fn next_validators(&self) -> ValidatorSet {
        match self
            .height
            .checked_add(1)
            .and_then(|h| self.scheduled.get(&h))
        {
            Some(set) => set.clone(),
            None => self.validators.next_height(),
        }
    }

    /// Sets the validator set of a later height (staking changes decided in
    /// block `h` take effect at `h + 2`, as in Tendermint, so the shell knows
    /// a set before the core reaches its height). Without one, a height keeps
    /// the previous set with proposer priorities advanced. Returns false if
    /// `height` is not after the current one.
    pub fn schedule_validators(&mut self, height: Height, set: ValidatorSet) -> bool {
        if height <= self.height {
            return false;
        }
        self.scheduled.insert(height, set);
        true
    }

    /// Handles one input at `now`.
    pub fn handle(&mut self, now: Millis, input: BftInput) -> Vec<BftAction> {
        self.now = self.now.max(now);
        let mut out = Vec::new();
        match input {
            BftInput::Tick => self.on_tick(&mut out),
            BftInput::Message(bytes) => self.on_message(&bytes, &mut out),
            BftInput::Value {
                height,
                round,
                value,
            } => {
                if height == self.height
                    && round == self.round
                    && self.step == Step::Propose
                    && self.awaiting_value == Some(round)
                {
                    self.awaiting_value = None;
                    self.validity.insert(value, true);
                    self.propose(value, None, &mut out);
                }
            }
            // Unasked verdicts are kept too: the shell may import a block
            // before a proposal for it arrives.
            BftInput::Validity { value, valid } => {
                self.checking.remove(&value);
                self.validity.insert(value, valid);
            }
        }
        self.settle(&mut out);
        out
    }

    // ---- rounds ------------------------------------------------------------

    /// L11–21.
    fn start_round(&mut self, round: Round, out: &mut Vec<BftAction>) {
        self.round = round;
        self.step = Step::Propose;
        self.own.clear();
        self.awaiting_value = None;
        let proposer = self.validators.proposer(round);
        if self.me == Some(proposer) {
            match self.valid {
                // L15: re-propose the valid value with its round.
                Some((v, vr)) => self.propose(v, Some(vr), out),
                // L18: getValue().
                None => {
                    self.awaiting_value = Some(round);
                    out.push(BftAction::RequestValue {
                        height: self.height,
                        round,
                    });
                }
            }
        }
        // L21 (scheduled for the proposer too: if its shell never answers
        // `RequestValue`, the round still moves on).
        let at = self
            .now
            .saturating_add(self.config.timeout(self.config.propose, round));
        self.timeouts.push((at, round, Step::Propose));
    }

    /// Copies the lock and valid value into the signer state (persisted
    /// with the next `PersistSigner`).
    fn record_locks(&mut self) {
        self.signer.locks = (self.locked.is_some() || self.valid.is_some()).then_some(Locks {
            height: self.height,
            locked: self.locked,
            valid: self.valid,
        });
    }

    fn sign_ok(&mut self, step: Step, out: &mut Vec<BftAction>) -> bool {
        if self.key.is_none() || self.me.is_none() {
            return false;
        }
        let before = self.signer.last;
        match self.signer.advance((self.height, self.round, step)) {
            Ok(()) => {
                // The signer only moves forward: never a second signature
                // for a (height, round, step) at or below the last one.
                debug_assert!(before < self.signer.last);
                debug_assert_eq!(self.signer.last, Some((self.height, self.round, step)));
                out.push(BftAction::PersistSigner(self.signer));
                true
            }
            Err(_) => false,
        }
    }

    fn propose(&mut self, value: H256, valid_round: Option<Round>, out: &mut Vec<BftAction>) {
        let Some(me) = self.me else { return };
        if !self.sign_ok(Step::Propose, out) {
            return;
        }
        // L16/L19: a re-proposal carries a proof-of-lock round below this one.
        debug_assert!(valid_round.is_none_or(|vr| vr < self.round));
        let Some(key) = &self.key else { return };
        let p = SignedProposal::sign(
            key,
            &self.chain,
            Proposal {
                height: self.height,
                round: self.round,
                value,
                valid_round,
                proposer: me,
            },
        );
        self.send(Message::Proposal(p.clone()), out);
        self.proposals.entry(p.proposal.round).or_insert(p);
        // With a re-proposal go the prevotes that justify it (Tendermint's
        // proof-of-lock): peers that missed them could not apply L28 and
        // would prevote nil round after round.
        if let Some(vr) = valid_round {
            let pol: Vec<SignedVote> = self
                .votes
                .get(&(vr, VoteKind::Prevote))
                .and_then(|t| t.per_value.get(&Some(value)))
                .map(|(_, by)| by.values().cloned().collect())
                .unwrap_or_default();
            for v in pol {
                self.send(Message::Vote(v), out);
            }
        }
        self.senders.entry(self.round).or_default().insert(me);
    }

    fn vote(&mut self, kind: VoteKind, value: Option<H256>, out: &mut Vec<BftAction>) {
        let Some(me) = self.me else { return };
        if !self.sign_ok(kind.step(), out) {
            return;
        }
        let Some(key) = &self.key else { return };
        let v = SignedVote::sign(
            key,
            &self.chain,
            Vote {
                height: self.height,
                round: self.round,
                kind,
                value,
                validator: me,
            },
        );
        self.send(Message::Vote(v.clone()), out);
        self.add_vote(v, out);
    }

    fn send(&mut self, msg: Message, out: &mut Vec<BftAction>) {
        let bytes = msg.encode_bytes();
        self.own.push(bytes.clone());
        out.push(BftAction::Broadcast(bytes));
    }

    // ---- inputs ------------------------------------------------------------

    fn on_tick(&mut self, out: &mut Vec<BftAction>) {
        let now = self.now;
        let (due, later): (Vec<_>, Vec<_>) =
            self.timeouts.drain(..).partition(|(at, ..)| *at <= now);
        self.timeouts = later;
        for (_, round, step) in due {
            if round != self.round {
                continue;
            }
            match step {
                // L57: OnTimeoutPropose.
                Step::Propose if self.step == Step::Propose => {
                    self.vote(VoteKind::Prevote, None, out);
                    self.step = Step::Prevote;
                }
                // L61: OnTimeoutPrevote.
                Step::Prevote if self.step == Step::Prevote => {
                    self.vote(VoteKind::Precommit, None, out);
                    self.step = Step::Precommit;
                }
                // L65: OnTimeoutPrecommit.
                Step::Precommit => self.start_round(round.saturating_add(1), out),
                _ => {}
            }
        }
        if now >= self.next_rebroadcast {
            self.next_rebroadcast = now.saturating_add(self.config.rebroadcast.max(1));
            for bytes in &self.own {
                out.push(BftAction::Broadcast(bytes.clone()));
            }
            // Also when we have signed nothing this round (a restarted
            // signer, an observer): peers ahead must learn we lag.
            out.push(BftAction::Broadcast(
                Message::Status(self.height).encode_bytes(),
            ));
        }
    }

    fn on_message(&mut self, bytes: &[u8], out: &mut Vec<BftAction>) {
        let Some(msg) = Message::decode_strict(bytes) else {
            return;
        };
        let (height, round) = match &msg {
            Message::Proposal(p) => (p.proposal.height, p.proposal.round),
            Message::Vote(v) => (v.vote.height, v.vote.round),
            Message::Commit(c) => (c.height, c.round),
            Message::Status(h) => (*h, 0),
        };
        if height < self.height {
            if let Message::Vote(v) = &msg {
                self.late_precommit(v);
            }
            if !matches!(msg, Message::Commit(_)) {
                self.help(height, out);
            }
            return;
        }
        if matches!(msg, Message::Status(_)) {
            return;
        }
        if height > self.height || round > self.round.saturating_add(self.config.max_future_rounds)
        {
            return;
        }
        match msg {
            Message::Proposal(p) => self.on_proposal(p, out),
            Message::Vote(v) => {
                if self.validators.get(v.vote.validator).is_some() {
                    self.on_vote(v, out)
                }
            }
            Message::Status(_) => {}
            Message::Commit(c) => {
                // A verified certificate proves > 2/3 precommitted: L49 on
                // its precommits (not merged into our tallies, where an
                // equivocator's other vote may already sit).
                if self.certificate.is_none() && c.verify(&self.chain, &self.validators).is_ok() {
                    self.certificate = Some(c);
                }
            }
        }
    }

    /// A precommit for the value of the height just decided that arrived
    /// after the decision: added to its certificate, as Tendermint's
    /// `LastCommit` gathers precommits until the next block is proposed,
    /// so the chain sees every validator that signed (its keep-alive window
    /// and rewards count signatures from this certificate). At most four
    /// signature checks per validator of the set are spent on them a height.
    fn late_precommit(&mut self, v: &SignedVote) {
        if v.vote.kind != VoteKind::Precommit || Some(v.vote.height) != self.height.checked_sub(1) {
            return;
        }
        let Some(set) = &self.previous else {
            return;
        };
        let Some(cert) = self.certificates.get(&v.vote.height) else {
            return;
        };
        let index = v.vote.validator;
        if v.vote.round != cert.round
            || v.vote.value != Some(cert.value)
            || cert.precommits.iter().any(|(i, _)| *i == index)
            || set.get(index).is_none()
            || self.late_checks >= set.len().saturating_mul(4)
        {
            return;
        }
        self.late_checks = self.late_checks.saturating_add(1);
        if !v.verify(&self.chain, set) {
            return;
        }
        if let Some(cert) = self.certificates.get_mut(&v.vote.height) {
            let at = cert.precommits.partition_point(|(i, _)| *i < index);
            cert.precommits.insert(at, (index, v.signature.clone()));
        }
    }

    /// A peer is still at a height we decided: send it the certificate
    /// (rate-limited per height).
    fn help(&mut self, height: Height, out: &mut Vec<BftAction>) {
        let Some(cert) = self.certificates.get(&height) else {
            return;
        };
        let now = self.now;
        let due = self.helped.get(&height).is_none_or(|at| *at <= now);
        if due {
            out.push(BftAction::Broadcast(
                Message::Commit(cert.clone()).encode_bytes(),
            ));
            self.helped
                .insert(height, now.saturating_add(self.config.rebroadcast));
        }
    }

    fn on_proposal(&mut self, p: SignedProposal, out: &mut Vec<BftAction>) {
        let round = p.proposal.round;
        if p.proposal.proposer != self.validators.proposer(round) {
            return;
        }
        if let Some(have) = self.proposals.get(&round) {
            if have.proposal != p.proposal
                && p.verify(&self.chain, &self.validators)
                && self
                    .offenders
                    .insert((p.proposal.proposer, round, Step::Propose))
            {
                out.push(BftAction::Evidence(Evidence::Proposals(have.clone(), p)));
            }
            return;
        }
        if !p.verify(&self.chain, &self.validators) {
            return;
        }
        self.senders
            .entry(round)
            .or_default()
            .insert(p.proposal.proposer);
        out.push(BftAction::Kept(Message::Proposal(p.clone())));
        self.proposals.insert(round, p);
    }

    fn on_vote(&mut self, v: SignedVote, out: &mut Vec<BftAction>) {
        let (round, kind, validator) = (v.vote.round, v.vote.kind, v.vote.validator);
        let (first, counted) = match self.votes.get(&(round, kind)) {
            // A copy of a vote we hold is dropped unverified.
            Some(t) if t.has(&v.vote) => return,
            Some(t) => (t.first.get(&validator).cloned(), t.values_of(validator)),
            None => (None, 0),
        };
        if counted >= MAX_VALUES_PER_VOTER || !v.verify(&self.chain, &self.validators) {
            return;
        }
        // A second, different vote for the same step is evidence; it
        // still counts for its value.
        if let Some(first) = first {
            if self.offenders.insert((validator, round, kind.step())) {
                out.push(BftAction::Evidence(Evidence::Votes(first, v.clone())));
            }
        }
        out.push(BftAction::Kept(Message::Vote(v.clone())));
        self.add_vote(v, out);
    }

    /// Adds a verified vote of the current height.
    fn add_vote(&mut self, v: SignedVote, _out: &mut [BftAction]) {
        let power = self.validators.power(v.vote.validator);
        let tally = self.votes.entry((v.vote.round, v.vote.kind)).or_default();
        if tally.has(&v.vote) {
            return;
        }
        if !tally.first.contains_key(&v.vote.validator) {
            tally.total = tally.total.saturating_add(power);
            tally.first.insert(v.vote.validator, v.clone());
        }
        self.senders
            .entry(v.vote.round)
            .or_default()
            .insert(v.vote.validator);
        let (sum, by) = tally.per_value.entry(v.vote.value).or_default();
        *sum = sum.saturating_add(power);
        by.insert(v.vote.validator, v);
    }

    // ---- rules -------------------------------------------------------------

    fn quorum_for(&self, round: Round, kind: VoteKind, value: Option<H256>) -> bool {
        self.votes
            .get(&(round, kind))
            .is_some_and(|t| self.validators.is_quorum(t.power_for(&value)))
    }

    fn quorum_any(&self, round: Round, kind: VoteKind) -> bool {
        self.votes
            .get(&(round, kind))
            .is_some_and(|t| self.validators.is_quorum(t.total))
    }

    /// `valid(v)`: `Some` once known; asks the shell (once) otherwise.
    fn is_valid(&mut self, value: H256, out: &mut Vec<BftAction>) -> Option<bool> {
        if let Some(v) = self.validity.get(&value) {
            return Some(*v);
        }
        if self.checking.insert(value) {
            out.push(BftAction::CheckValue {
                height: self.height,
                value,
            });
        }
        None
    }

    /// Applies rules until none fires, then asks to be woken for the next
    /// deadline.
    fn settle(&mut self, out: &mut Vec<BftAction>) {
        // Each pass that fires moves (height, round, step) forward or sets a
        // "first time" flag, so this terminates; the bound is a backstop.
        for _ in 0..1000 {
            if !self.apply_one(out) {
                break;
            }
        }
        let next = self
            .timeouts
            .iter()
            .map(|(at, ..)| *at)
            .chain(std::iter::once(self.next_rebroadcast))
            .min();
        if let Some(at) = next {
            let at = at.max(self.now);
            if self.wake != Some(at) {
                self.wake = Some(at);
                out.push(BftAction::WakeAt(at));
            }
        }
    }

    fn apply_one(&mut self, out: &mut Vec<BftAction>) -> bool {
        let round = self.round;
        // L49: a precommit quorum for a value in any round decides it.
        let decided: Option<(Round, H256)> = self
            .votes
            .iter()
            .filter(|((_, k), _)| *k == VoteKind::Precommit)
            .find_map(|((r, _), t)| {
                t.per_value.iter().find_map(|(v, (p, _))| match v {
                    Some(v) if self.validators.is_quorum(*p) => Some((*r, *v)),
                    _ => None,
                })
            });
        if let Some((r, v)) = decided {
            if self.is_valid(v, out) == Some(true) {
                let cert = self.certificate_from_votes(r, v);
                self.decide(cert, out);
                return true;
            }
        }
        // L49 on a peer's certificate for this height.
        if let Some(cert) = self.certificate.clone() {
            if self.is_valid(cert.value, out) == Some(true) {
                self.decide(cert, out);
                return true;
            }
        }
        // L55: f+1 of the power is already in a later round: skip to it.
        let ahead = self
            .senders
            .range(round.saturating_add(1)..)
            .find_map(|(r, s)| {
                let power = s
                    .iter()
                    .map(|i| self.validators.power(*i))
                    .fold(0u64, u64::saturating_add);
                self.validators.is_one_third(power).then_some(*r)
            });
        if let Some(r) = ahead {
            self.start_round(r, out);
            return true;
        }
        let proposal = self.proposals.get(&round).map(|p| p.proposal.clone());
        if self.step == Step::Propose {
            if let Some(p) = &proposal {
                match p.valid_round {
                    // L22: a fresh proposal.
                    None => {
                        if let Some(ok) = self.is_valid(p.value, out) {
                            let accept = ok && self.locked.is_none_or(|(lv, _)| lv == p.value);
                            let value = accept.then_some(p.value);
                            self.vote(VoteKind::Prevote, value, out);
                            self.step = Step::Prevote;
                            return true;
                        }
                    }
                    // L28: a re-proposal backed by a prevote quorum in vr.
                    Some(vr) => {
                        if vr < round && self.quorum_for(vr, VoteKind::Prevote, Some(p.value)) {
                            if let Some(ok) = self.is_valid(p.value, out) {
                                let accept = ok
                                    && self.locked.is_none_or(|(lv, lr)| lr <= vr || lv == p.value);
                                let value = accept.then_some(p.value);
                                self.vote(VoteKind::Prevote, value, out);
                                self.step = Step::Prevote;
                                return true;
                            }
                        }
                    }
                }
            }
        }
        // L34: any prevote quorum starts the prevote timeout, once.
        if self.step == Step::Prevote
            && self.quorum_any(round, VoteKind::Prevote)
            && self.fired.insert((round, Rule::L34))
        {
            let at = self
                .now
                .saturating_add(self.config.timeout(self.config.prevote, round));
            self.timeouts.push((at, round, Step::Prevote));
            return true;
        }
        // L36: the proposal got a prevote quorum: lock (if still prevoting)
        // and remember it as the valid value.
        if self.step >= Step::Prevote && !self.fired.contains(&(round, Rule::L36)) {
            if let Some(p) = &proposal {
                if self.quorum_for(round, VoteKind::Prevote, Some(p.value))
                    && self.is_valid(p.value, out) == Some(true)
                {
                    self.fired.insert((round, Rule::L36));
                    // Lock and valid value are recorded in the signer state
                    // the precommit is persisted with (or on their own when
                    // there is no precommit): a restart resumes with them.
                    self.valid = Some((p.value, round));
                    if self.step == Step::Prevote {
                        self.locked = Some((p.value, round));
                        self.record_locks();
                        self.vote(VoteKind::Precommit, Some(p.value), out);
                        self.step = Step::Precommit;
                    } else {
                        self.record_locks();
                        if self.me.is_some() {
                            out.push(BftAction::PersistSigner(self.signer));
                        }
                    }
                    return true;
                }
            }
        }
        // L44: a nil prevote quorum: precommit nil.
        if self.step == Step::Prevote && self.quorum_for(round, VoteKind::Prevote, None) {
            self.vote(VoteKind::Precommit, None, out);
            self.step = Step::Precommit;
            return true;
        }
        // L47: any precommit quorum starts the precommit timeout, once.
        if self.quorum_any(round, VoteKind::Precommit) && self.fired.insert((round, Rule::L47)) {
            let at = self
                .now
                .saturating_add(self.config.timeout(self.config.precommit, round));
            self.timeouts.push((at, round, Step::Precommit));
            return true;
        }
        false
    }

    fn certificate_from_votes(&self, round: Round, value: H256) -> CommitCertificate {
        let precommits = self
            .votes
            .get(&(round, VoteKind::Precommit))
            .and_then(|t| t.per_value.get(&Some(value)))
            .map(|(_, by)| by.iter().map(|(i, v)| (*i, v.signature.clone())).collect())
            .unwrap_or_default();
        CommitCertificate {
            height: self.height,
            round,
            value,
            precommits,
        }
    }

    /// L49–54: decide, keep the certificate, and start the next height.
    fn decide(&mut self, cert: CommitCertificate, out: &mut Vec<BftAction>) {
        self.certificates.insert(self.height, cert.clone());
        while self.certificates.len() > self.config.keep_certificates {
            self.certificates.pop_first();
        }
        self.helped
            .retain(|h, _| *h > self.height.saturating_sub(64));
        out.push(BftAction::Commit(cert));
        self.height = self.height.saturating_add(1);
        let next = match self.scheduled.remove(&self.height) {
            Some(set) => set,
            None => self.validators.next_height(),
        };
        self.previous = Some(core::mem::replace(&mut self.validators, next));
        self.late_checks = 0;
        let height = self.height;
        self.scheduled.retain(|h, _| *h > height);
        self.me = self
            .key
            .as_ref()
            .and_then(|k| self.validators.index_of(&k.public()));
        self.locked = None;
        self.valid = None;
        self.signer.locks = None;
        self.proposals.clear();
        self.votes.clear();
        self.senders.clear();
        self.validity.clear();
        self.checking.clear();
        self.fired.clear();
        self.timeouts.clear();
        self.offenders.clear();
        self.certificate = None;
        self.start_round(0, out);
    }
}

trait EncodeBytes {
    fn encode_bytes(&self) -> Vec<u8>;
}

impl EncodeBytes for Message {
    fn encode_bytes(&self) -> Vec<u8> {
        codec::Encode::encode(self)
    }
}
