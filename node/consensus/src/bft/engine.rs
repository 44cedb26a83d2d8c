//! The BFT engine behind the [`Engine`] trait: [`Tendermint`] with the
//! bookkeeping every shell would otherwise repeat — build requests matched to
//! their (height, round), the WAL records (`Persist::Append`) written before
//! a received message is acted on and before our own is sent, the signer
//! state (`Persist::State`), a fresh log per height (`Persist::NewLog`),
//! catching up when sync imports past the core's height, validator sets
//! arriving from the runtime (`Input::Config`), the double signs it caught
//! kept for the blocks it proposes (inherent data `*b"evidence"`), the
//! proposer naming itself in them (`*b"proposer"`), and the
//! commit-certificate check of synced blocks ([`BftVerifier`]).

use super::store::WalRecord;
use super::BftGossip;
use super::{
    BftAction, BftConfig, BftInput, CommitCertificate, Evidence, Height, Message, Round,
    SignerState, Tendermint, Validator, ValidatorSet,
};
use crate::{Action, Engine, Finality, GossipCheck, Input, Millis, Persist, Verifier};
use codec::{DecodeAll, Encode};
use qstack_consensus_primitives::{
    EVIDENCE_INHERENT, MAX_EVIDENCE_AGE, PARENT_JUSTIFICATION_INHERENT, PROPOSER_INHERENT,
};
use qstack_core::{Pair, H256};
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, RwLock};

/// Build requests kept unanswered at most (a core asks once per round).
const MAX_REQUESTS: usize = 64;

/// Double signs kept to offer to the chain at most (oldest dropped first).
pub const MAX_PENDING_EVIDENCE: usize = 64;

/// Bodies kept durably per height at most: a validator votes for at most
/// two values a round (prevote, precommit), and a height that needs more
/// rounds than this keeps the first ones (a lock is on the latest value it
/// precommitted, whose body the lock's prevote quorum also holds).
pub const MAX_KEPT_BODIES: usize = 32;

/// Validator sets the verifier keeps at most (older ones are dropped: their
/// heights are long final).
const MAX_KNOWN_SETS: usize = 64;

/// Checks a synced block's commit certificate: for exactly this block, signed
/// by more than 2/3 of the power of the validator set of its height (the
/// genesis set, or the latest the runtime scheduled at or below it). Shared
/// between the engine (which learns new sets) and the network's import path.
#[derive(Debug)]
pub struct BftVerifier {
    chain: H256,
    /// First height → set, from the genesis set on.
    sets: RwLock<BTreeMap<Height, ValidatorSet>>,
}

impl BftVerifier {
    /// A verifier for chain `chain` whose blocks from height 1 on are signed
    /// by `genesis_set`.
    pub fn new(chain: H256, genesis_set: ValidatorSet) -> Self {
        Self {
            chain,
            sets: RwLock::new(BTreeMap::from([(1, genesis_set)])),
        }
    }

    /// Blocks from `from` on are signed by `set`.
    pub fn schedule(&self, from: Height, set: ValidatorSet) {
        let mut sets = match self.sets.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        sets.insert(from, set);
        while sets.len() > MAX_KNOWN_SETS {
            sets.pop_first();
        }
    }

    /// The chain (genesis hash) whose certificates this checks.
    pub fn chain(&self) -> H256 {
        self.chain
    }

    /// The certificate `justification`, checked for block `hash` at `number`
    /// against the set this verifier holds for `number`.
    pub fn check(
        &self,
        hash: &H256,
        number: u64,
        justification: Option<&[u8]>,
    ) -> Result<CommitCertificate, String> {
        let sets = match self.sets.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let set = sets
            .range(..=number)
            .next_back()
            .map(|(_, s)| s)
            .ok_or_else(|| format!("no validator set known for height {number}"))?;
        Self::check_against(&self.chain, set, hash, number, justification)
    }

    /// The certificate `justification` of chain `chain`, checked for block
    /// `hash` at `number` against `set` (the set of that height, however the
    /// caller learnt it): for exactly this block and height, signed by more
    /// than 2/3 of the set's power.
    pub fn check_against(
        chain: &H256,
        set: &ValidatorSet,
        hash: &H256,
        number: u64,
        justification: Option<&[u8]>,
    ) -> Result<CommitCertificate, String> {
        let bytes = justification.ok_or("no commit certificate")?;
        let cert = CommitCertificate::decode_all(&mut &bytes[..])
            .map_err(|e| format!("commit certificate does not decode: {e}"))?;
        if cert.value != *hash || cert.height != number {
            return Err(format!(
                "commit certificate is for #{} {}, not this block",
                cert.height, cert.value
            ));
        }
        cert.verify(chain, set)
            .map_err(|e| format!("commit certificate: {e:?}"))?;
        Ok(cert)
    }
}

impl Verifier for BftVerifier {
    fn verify(&self, hash: &H256, number: u64, justification: Option<&[u8]>) -> Result<(), String> {
        self.check(hash, number, justification).map(|_| ())
    }
}

/// The BFT engine.
#[derive(Debug)]
pub struct BftEngine {
    core: Tendermint,
    config: BftConfig,
    chain: H256,
    /// The set of height 1; later heights advance its proposer priorities
    /// unless the runtime scheduled another.
    genesis_set: ValidatorSet,
    key: Option<Pair>,
    /// Build requests → the (height, round) they propose for.
    requests: BTreeMap<u64, (Height, Round)>,
    next_request: u64,
    /// WAL records of the core's height, handed to the core at start.
    replay: Vec<WalRecord>,
    /// Hashes of the messages in the current height's WAL: re-broadcasts and
    /// gossip duplicates are not written again, so a long stall cannot fill
    /// the log.
    logged: HashSet<[u8; 32]>,
    /// Double signs the core caught, with the height they were seen at, to
    /// put in the blocks we propose (the runtime keeps what is new and
    /// valid, so they stay until too old for the chain).
    evidence: Vec<(Height, Evidence)>,
    /// Checks synced blocks; learns the sets the runtime schedules.
    verifier: Arc<BftVerifier>,
    /// Validator sets from the runtime (`Input::Config`) by first height.
    configs: BTreeMap<Height, Vec<Validator>>,
    /// Checks consensus gossip for the network; moved with the core.
    gossip: Arc<BftGossip>,
    /// The (height, round) the gossip check was last moved to.
    published: (Height, Round),
    /// Proposals of this height whose block body we shared already (the
    /// core re-sends its messages; the body goes once, then by fetch).
    shared: HashSet<H256>,
    /// Blocks of this height whose body we asked the shell to keep
    /// durably (those we voted for), at most [`MAX_KEPT_BODIES`].
    kept: HashSet<H256>,
    /// Whether [`Engine::start`] ran (a set for the current height can only
    /// replace the core's before it).
    started: bool,
    /// The time of the input being handled.
    now: Millis,
    /// When this core last decided a height.
    decided_at: Option<Millis>,
    /// A build request held for the commit wait: (request, height, round, due).
    held: Option<(u64, Height, Round, Millis)>,
}

impl BftEngine {
    /// An engine at `height` (the one after the last final block) for the
    /// chain with genesis hash `chain`. `signer` is the persisted signer
    /// state, `wal` the records the log held for `height` (replayed by
    /// [`Engine::start`]: locks are re-derived and nothing signed is signed
    /// again).
    pub fn new(
        config: BftConfig,
        chain: H256,
        genesis_set: ValidatorSet,
        key: Option<Pair>,
        height: Height,
        signer: SignerState,
        wal: Vec<WalRecord>,
    ) -> Self {
        let core = Tendermint::new(
            config.clone(),
            chain,
            genesis_set.advanced(height.saturating_sub(1)),
            key.clone(),
            height,
            signer,
        );
        let verifier = Arc::new(BftVerifier::new(chain, genesis_set.clone()));
        let gossip = Arc::new(BftGossip::new(
            chain,
            config.max_future_rounds,
            height,
            core.validators().clone(),
            core.next_validators(),
        ));
        Self {
            core,
            config,
            chain,
            genesis_set,
            key,
            requests: BTreeMap::new(),
            next_request: 0,
            replay: wal,
            logged: HashSet::new(),
            evidence: Vec::new(),
            verifier,
            configs: BTreeMap::new(),
            gossip,
            published: (height, 0),
            shared: HashSet::new(),
            kept: HashSet::new(),
            started: false,
            now: 0,
            decided_at: None,
            held: None,
        }
    }

    /// Moves the gossip check to where the core is.
    fn publish(&mut self) {
        let at = (self.core.height(), self.core.round());
        if at == self.published {
            return;
        }
        if at.0 != self.published.0 {
            self.gossip.enter(
                at.0,
                self.core.validators().clone(),
                self.core.next_validators(),
            );
            self.shared.clear();
        }
        self.gossip.round(at.1);
        self.published = at;
    }

    /// The validators of `height`: the runtime's latest set at or below it,
    /// else the genesis set.
    fn validators_for(&self, height: Height) -> &[Validator] {
        match self.configs.range(..=height).next_back() {
            Some((_, list)) => list,
            None => self.genesis_set.validators(),
        }
    }

    /// The set of `height` with its proposer priorities: a runtime set in
    /// force from `from` starts there with fresh priorities and advances
    /// once per height, as the core does.
    fn set_for(&self, height: Height) -> ValidatorSet {
        match self.configs.range(..=height).next_back() {
            Some((from, list)) => match ValidatorSet::new(list.clone()) {
                Ok(s) => s.advanced(height.saturating_sub(*from)),
                Err(_) => self.genesis_set.advanced(height.saturating_sub(1)),
            },
            None => self.genesis_set.advanced(height.saturating_sub(1)),
        }
    }

    /// A validator set from the runtime, in force from `number`: ignored if
    /// it is the one in force there already; scheduled ahead in the core;
    /// for the current height only before the engine started (a restart),
    /// when the core is rebuilt on it.
    fn configure(&mut self, number: Height, set: ValidatorSet) {
        if self.validators_for(number) == set.validators() {
            return;
        }
        self.configs.insert(number, set.validators().to_vec());
        while self.configs.len() > MAX_KNOWN_SETS {
            self.configs.pop_first();
        }
        self.verifier.schedule(number, set.clone());
        let height = self.core.height();
        if number > height {
            self.core.schedule_validators(number, set);
        } else if !self.started {
            self.core = self.core_at(height);
        }
        self.gossip.enter(
            height,
            self.core.validators().clone(),
            self.core.next_validators(),
        );
        self.gossip.round(self.core.round());
    }

    /// A fresh core at `height` (keeping the signer state) on the set in
    /// force there, with the runtime's later sets scheduled.
    fn core_at(&self, height: Height) -> Tendermint {
        let here = self.core.height();
        // Moving on within one set: advance the core's own set, the cost of
        // the heights passed (not a replay from the set's first height).
        let set = if height > here
            && self
                .configs
                .range(here.saturating_add(1)..=height)
                .next()
                .is_none()
        {
            self.core.validators().advanced(height.saturating_sub(here))
        } else {
            self.set_for(height)
        };
        let mut core = Tendermint::new(
            self.config.clone(),
            self.chain,
            set,
            self.key.clone(),
            height,
            self.core.signer(),
        );
        for (h, list) in self.configs.range(height.saturating_add(1)..) {
            if let Ok(set) = ValidatorSet::new(list.clone()) {
                core.schedule_validators(*h, set);
            }
        }
        core
    }

    /// The double signs waiting to go into our blocks.
    pub fn pending_evidence(&self) -> impl Iterator<Item = &Evidence> {
        self.evidence.iter().map(|(_, e)| e)
    }

    /// Keeps a double sign the core caught (it verified both messages) for
    /// the blocks we propose, once, dropping the oldest past the bound.
    fn keep_evidence(&mut self, e: Evidence) {
        if self.evidence.iter().any(|(_, k)| *k == e) {
            return;
        }
        if self.evidence.len() >= MAX_PENDING_EVIDENCE {
            self.evidence.remove(0);
        }
        self.evidence.push((self.core.height(), e));
    }

    /// Drops what the chain would refuse as too old at `height`.
    fn expire_evidence(&mut self, height: Height) {
        self.evidence
            .retain(|(h, _)| h.saturating_add(MAX_EVIDENCE_AGE) >= height);
    }

    /// The inherent data of a block we propose at `height`: the pending
    /// evidence, and our index in the validator set of that height (the
    /// core asks only when it is the proposer, so it has one; a request for
    /// another height than the core's names nobody rather than a wrong
    /// index).
    fn inherents(&self, height: Height) -> Vec<crate::InherentItem> {
        let mut out = Vec::new();
        if !self.evidence.is_empty() {
            let pending: Vec<&Evidence> = self.pending_evidence().collect();
            out.push((EVIDENCE_INHERENT, pending.encode()));
        }
        if height == self.core.height() {
            if let Some(me) = self.core.me() {
                out.push((PROPOSER_INHERENT, me.encode()));
            }
            // The parent's certificate with the precommits that came after
            // the decision (the shell's stored one has only the first
            // quorum): the chain counts every validator that signed.
            if let Some(c) = height
                .checked_sub(1)
                .and_then(|h| self.core.certificate_of(h))
            {
                out.push((PARENT_JUSTIFICATION_INHERENT, c.encode()));
            }
        }
        out
    }

    /// The WAL write for `m`, unless the log of this height has it already.
    fn log(&mut self, m: &Message, sent: bool) -> Option<Action> {
        if !self
            .logged
            .insert(qstack_core::hashing::blake2_256(&m.encode()))
        {
            return None;
        }
        let record = if sent {
            WalRecord::Sent(m.clone())
        } else {
            WalRecord::Received(m.clone())
        };
        Some(Action::Persist(Persist::Append(record.encode())))
    }

    /// The gossip check, which follows the core's height and round (for
    /// the node's metrics).
    pub fn gossip(&self) -> Arc<BftGossip> {
        self.gossip.clone()
    }

    /// The core (for status and tests).
    pub fn core(&self) -> &Tendermint {
        &self.core
    }

    /// The certificate check of synced blocks, with the sets this engine
    /// learnt (the same one [`Engine::verifier`] hands out).
    pub fn bft_verifier(&self) -> Arc<BftVerifier> {
        self.verifier.clone()
    }

    /// The height being decided.
    pub fn height(&self) -> Height {
        self.core.height()
    }

    /// Encodes a validator set for [`Input::Config`].
    pub fn encode_config(validators: &[Validator]) -> Vec<u8> {
        validators.encode()
    }

    /// The core's actions as the trait's, in order, with WAL writes before
    /// the sends they protect.
    fn map(&mut self, actions: Vec<BftAction>) -> Vec<Action> {
        let mut out = Vec::with_capacity(actions.len());
        for a in actions {
            match a {
                BftAction::RequestValue { height, round } => {
                    let request = self.next_request;
                    self.next_request = self.next_request.wrapping_add(1);
                    if self.requests.len() >= MAX_REQUESTS {
                        self.requests.pop_first();
                    }
                    self.requests.insert(request, (height, round));
                    let due = self
                        .decided_at
                        .map_or(0, |at| at.saturating_add(self.config.commit_wait));
                    if due > self.now {
                        // Late precommits of the parent may still come.
                        self.held = Some((request, height, round, due));
                        out.push(Action::WakeAt(due));
                    } else {
                        out.push(self.build(request, height));
                    }
                }
                BftAction::CheckValue { value, .. } => out.push(Action::CheckBlock { hash: value }),
                BftAction::PersistSigner(state) => {
                    out.push(Action::Persist(Persist::State(state.encode())))
                }
                BftAction::Broadcast(bytes) => {
                    let decoded = Message::decode_strict(&bytes);
                    // A block we vote for stays on disk until the height
                    // ends, before the vote goes out: a restart can still
                    // check it, re-propose it and serve it.
                    if let Some(Message::Vote(v)) = &decoded {
                        if let Some(value) = v.vote.value {
                            if self.kept.len() < MAX_KEPT_BODIES && self.kept.insert(value) {
                                out.push(Action::Persist(Persist::Block(value)));
                            }
                        }
                    }
                    if let Some(m @ (Message::Proposal(_) | Message::Vote(_))) = &decoded {
                        out.extend(self.log(m, true));
                    }
                    // Our proposal (or re-proposal): its body goes first,
                    // bound to it, so peers can check it before voting.
                    if let Some(Message::Proposal(p)) = &decoded {
                        let id = H256(qstack_core::hashing::blake2_256(&bytes));
                        if self.shared.insert(id) {
                            out.push(Action::ShareBlock {
                                hash: p.proposal.value,
                                proof: bytes.clone(),
                            });
                        }
                    }
                    out.push(Action::Broadcast(bytes));
                }
                BftAction::Commit(cert) => {
                    self.requests.clear();
                    self.decided_at = Some(self.now);
                    self.held = None;
                    let hash = cert.value;
                    let next = cert.height.saturating_add(1);
                    out.push(Action::ImportBlock {
                        hash,
                        justification: Some(cert.encode()),
                    });
                    out.push(Action::Finalize(hash));
                    // The core is at the next height already.
                    self.logged.clear();
                    self.kept.clear();
                    self.expire_evidence(next);
                    out.push(Action::Persist(Persist::NewLog(next)));
                }
                BftAction::Evidence(e) => {
                    out.push(Action::Report(e.encode()));
                    self.keep_evidence(e);
                }
                BftAction::Kept(m) => out.extend(self.log(&m, false)),
                BftAction::WakeAt(at) => out.push(Action::WakeAt(at)),
            }
        }
        out
    }

    /// Moves to `height` (sync imported past the core).
    fn enter(&mut self, now: Millis, height: Height) -> Vec<Action> {
        self.core = self.core_at(height);
        self.requests.clear();
        self.held = None;
        self.logged.clear();
        self.kept.clear();
        self.expire_evidence(height);
        let mut out = vec![Action::Persist(Persist::NewLog(height))];
        let started = self.core.start(now);
        out.extend(self.map(started));
        out
    }
}

impl BftEngine {
    fn start_inner(&mut self, now: Millis) -> Vec<Action> {
        self.now = now;
        self.started = true;
        let mut actions = self.core.start(now);
        for r in std::mem::take(&mut self.replay) {
            let (WalRecord::Received(m) | WalRecord::Sent(m)) = r;
            let bytes = m.encode();
            self.logged.insert(qstack_core::hashing::blake2_256(&bytes));
            actions.extend(self.core.handle(now, BftInput::Message(bytes)));
        }
        self.map(actions)
    }

    /// The build request for our proposal at `height`.
    fn build(&self, request: u64, height: Height) -> Action {
        Action::BuildBlock {
            request,
            parent: None,
            transactions: None,
            inherents: self.inherents(height),
        }
    }

    /// A build held for the commit wait, once due (if the core still
    /// proposes at that height and round).
    fn release_held(&mut self) -> Option<Action> {
        let (request, height, round, due) = self.held?;
        if due > self.now {
            return None;
        }
        self.held = None;
        (self.core.height() == height && self.core.round() == round)
            .then(|| self.build(request, height))
    }

    fn handle_inner(&mut self, now: Millis, input: Input) -> Vec<Action> {
        self.now = now;
        match input {
            Input::Tick => {
                let a = self.core.handle(now, BftInput::Tick);
                let mut out = self.map(a);
                out.extend(self.release_held());
                out
            }
            Input::Message { bytes, .. } => {
                // What the core keeps comes back as `Kept`, logged before
                // anything it leads to.
                let a = self.core.handle(now, BftInput::Message(bytes));
                self.map(a)
            }
            Input::Built { request, hash, .. } => match self.requests.remove(&request) {
                Some((height, round)) => {
                    // The proposal naming it shares the body (`map`).
                    let a = self.core.handle(
                        now,
                        BftInput::Value {
                            height,
                            round,
                            value: hash,
                        },
                    );
                    self.map(a)
                }
                None => Vec::new(),
            },
            Input::BuildFailed { request } => {
                // The round's propose timeout moves everyone on.
                self.requests.remove(&request);
                Vec::new()
            }
            Input::Checked { hash, valid } => {
                let a = self
                    .core
                    .handle(now, BftInput::Validity { value: hash, valid });
                self.map(a)
            }
            Input::BlockImported {
                number, best: true, ..
            } if u64::from(number) >= self.core.height() => {
                self.enter(now, u64::from(number).saturating_add(1))
            }
            Input::Config { number, config } => {
                // A configuration that is no valid set is ignored (the
                // runtime checks it when it is set, so this is a version
                // mismatch): keeping the previous set is safe.
                if let Some(set) = <Vec<Validator> as DecodeAll>::decode_all(&mut &config[..])
                    .ok()
                    .and_then(|v| ValidatorSet::new(v).ok())
                {
                    self.configure(number, set);
                }
                Vec::new()
            }
            Input::TransactionsReady { .. } | Input::BlockImported { .. } => Vec::new(),
        }
    }
}

impl Engine for BftEngine {
    fn start(&mut self, now: Millis) -> Vec<Action> {
        let out = self.start_inner(now);
        self.publish();
        out
    }

    fn handle(&mut self, now: Millis, input: Input) -> Vec<Action> {
        let out = self.handle_inner(now, input);
        self.publish();
        out
    }

    fn finality(&self) -> Finality {
        Finality::Instant
    }

    fn verifier(&self) -> Option<Arc<dyn Verifier>> {
        Some(self.verifier.clone())
    }

    fn gossip_check(&self) -> Option<Arc<dyn GossipCheck>> {
        Some(self.gossip.clone())
    }

    fn wants_config(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bft::core::MAX_VALUES_PER_VOTER;
    use crate::bft::{CommitCertificate, Step};
    use qstack_core::{KeyScheme, Pair};
    use std::collections::VecDeque;

    const CHAIN: H256 = H256([9; 32]);

    fn pairs(n: usize) -> Vec<Pair> {
        (0..n)
            .map(|i| Pair::from_suri(KeyScheme::Sr25519, &format!("//engine{i}")).expect("key"))
            .collect()
    }

    fn set(pairs: &[Pair]) -> ValidatorSet {
        ValidatorSet::new(
            pairs
                .iter()
                .map(|p| Validator {
                    public: p.public(),
                    power: 10,
                })
                .collect(),
        )
        .expect("set")
    }

    fn config() -> BftConfig {
        BftConfig {
            rebroadcast: 10_000,
            ..BftConfig::default()
        }
    }

    /// A shell for tests: carries out every node's actions in order, with
    /// instant delivery; block hashes are made up from the request.
    struct Net {
        engines: Vec<BftEngine>,
        /// What each node persisted, in order (State, Append, NewLog).
        durable: Vec<Vec<Persist>>,
        /// Every action each node was asked to do, in order.
        log: Vec<Vec<Action>>,
        imported: Vec<Vec<(H256, CommitCertificate)>>,
        queue: VecDeque<(usize, Input)>,
        now: Millis,
    }

    impl Net {
        fn new(keys: &[Pair]) -> Self {
            let s = set(keys);
            let engines = keys
                .iter()
                .map(|k| {
                    BftEngine::new(
                        config(),
                        CHAIN,
                        s.clone(),
                        Some(k.clone()),
                        1,
                        SignerState::default(),
                        Vec::new(),
                    )
                })
                .collect();
            let n = keys.len();
            Self {
                engines,
                durable: vec![Vec::new(); n],
                log: vec![Vec::new(); n],
                imported: vec![Vec::new(); n],
                queue: VecDeque::new(),
                now: 0,
            }
        }

        fn start(&mut self) {
            for i in 0..self.engines.len() {
                let a = self.engines[i].start(self.now);
                self.act(i, a);
            }
        }

        fn act(&mut self, i: usize, actions: Vec<Action>) {
            for a in actions {
                self.log[i].push(a.clone());
                match a {
                    Action::BuildBlock { request, .. } => {
                        let hash = H256(qstack_core::hashing::blake2_256(
                            &(i as u64, request, self.engines[i].height()).encode(),
                        ));
                        let number = self.engines[i].height() as u32;
                        self.queue.push_back((
                            i,
                            Input::Built {
                                request,
                                hash,
                                number,
                            },
                        ));
                    }
                    Action::CheckBlock { hash } => self
                        .queue
                        .push_back((i, Input::Checked { hash, valid: true })),
                    Action::Persist(p) => self.durable[i].push(p),
                    Action::Broadcast(bytes) => {
                        for j in 0..self.engines.len() {
                            if j != i {
                                self.queue.push_back((
                                    j,
                                    Input::Message {
                                        from: crate::Peer(vec![i as u8]),
                                        bytes: bytes.clone(),
                                    },
                                ));
                            }
                        }
                    }
                    Action::ImportBlock {
                        hash,
                        justification,
                    } => {
                        let cert = CommitCertificate::decode_all(
                            &mut &justification.expect("a certificate")[..],
                        )
                        .expect("decodes");
                        self.imported[i].push((hash, cert));
                    }
                    Action::Finalize(_)
                    | Action::WakeAt(_)
                    | Action::Report(_)
                    | Action::ShareBlock { .. }
                    | Action::SetBest(_) => {}
                }
            }
        }

        /// Delivers queued inputs until `done` or nothing is left.
        fn run_until(&mut self, done: impl Fn(&Net) -> bool) {
            let mut steps = 0;
            while !done(self) {
                steps += 1;
                assert!(steps < 100_000, "no progress");
                match self.queue.pop_front() {
                    Some((i, input)) => {
                        let a = self.engines[i].handle(self.now, input);
                        self.act(i, a);
                    }
                    None => {
                        // Let time pass: timeouts fire.
                        self.now += 500;
                        for i in 0..self.engines.len() {
                            let a = self.engines[i].handle(self.now, Input::Tick);
                            self.act(i, a);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn four_engines_decide_through_the_trait_with_certificates_and_logs() {
        let keys = pairs(4);
        let s = set(&keys);
        let mut net = Net::new(&keys);
        net.start();
        net.run_until(|n| n.imported.iter().all(|v| v.len() >= 3));
        for h in 0..3 {
            let (hash, cert) = &net.imported[0][h];
            assert_eq!(cert.height, h as u64 + 1);
            assert_eq!(cert.value, *hash);
            cert.verify(&CHAIN, &s.advanced(h as u64))
                .expect("a valid certificate");
            for other in &net.imported {
                assert_eq!(other[h].0, *hash, "everyone decided the same block");
            }
        }
        for i in 0..4 {
            // Every proposal or vote sent was appended to the WAL first, and
            // the signer state was persisted before it.
            let log = &net.log[i];
            for (k, a) in log.iter().enumerate() {
                let Action::Broadcast(bytes) = a else {
                    continue;
                };
                if !matches!(
                    Message::decode_strict(bytes),
                    Some(Message::Proposal(_) | Message::Vote(_))
                ) {
                    continue;
                }
                let sent = WalRecord::Sent(Message::decode_strict(bytes).expect("decodes"));
                let logged = log[..k]
                    .iter()
                    .rev()
                    .find(|a| matches!(a, Action::Persist(Persist::Append(_))));
                assert_eq!(
                    logged,
                    Some(&Action::Persist(Persist::Append(sent.encode()))),
                    "node {i}: a message sent without its WAL record"
                );
                assert!(
                    log[..k]
                        .iter()
                        .any(|a| matches!(a, Action::Persist(Persist::State(_)))),
                    "node {i}: signed before persisting the signer state"
                );
            }
            // Each decision starts the next height's log.
            let new_logs: Vec<u64> = net.durable[i]
                .iter()
                .filter_map(|p| match p {
                    Persist::NewLog(h) => Some(*h),
                    _ => None,
                })
                .collect();
            assert_eq!(&new_logs[..3], &[2, 3, 4]);
        }
    }

    #[test]
    fn a_restarted_engine_replays_its_wal_and_never_signs_twice() {
        let keys = pairs(4);
        let s = set(&keys);
        let mut net = Net::new(&keys);
        net.start();
        // Run until node 0 has precommitted at height 1 but before it decides.
        net.run_until(|n| {
            n.engines[0].core().step() == Step::Precommit || !n.imported[0].is_empty()
        });
        let records: Vec<WalRecord> = net.durable[0]
            .iter()
            .filter_map(|p| match p {
                Persist::Append(b) => Some(WalRecord::decode_all(&mut &b[..]).expect("decodes")),
                _ => None,
            })
            .collect();
        let signer = net.durable[0]
            .iter()
            .rev()
            .find_map(|p| match p {
                Persist::State(b) => Some(SignerState::decode_all(&mut &b[..]).expect("decodes")),
                _ => None,
            })
            .expect("signed something");
        let sent_before: Vec<Vec<u8>> = net.log[0]
            .iter()
            .filter_map(|a| match a {
                Action::Broadcast(b) => Some(b.clone()),
                _ => None,
            })
            .collect();
        let height = net.engines[0].height();
        let mut restarted = BftEngine::new(
            config(),
            CHAIN,
            s,
            Some(keys[0].clone()),
            height,
            signer,
            records,
        );
        let after = restarted.start(net.now);
        // Whatever it sends again is a copy of what it sent before: no second
        // signature for a (height, round, step) it had signed.
        for a in &after {
            if let Action::Broadcast(b) = a {
                if let Some(Message::Proposal(_) | Message::Vote(_)) = Message::decode_strict(b) {
                    assert!(
                        sent_before.contains(b),
                        "signed again after restart: {:?}",
                        Message::decode_strict(b)
                    );
                }
            }
        }
        assert_eq!(restarted.core().signer(), signer);
    }

    #[test]
    fn the_wal_holds_each_message_once_and_only_what_validators_signed() {
        use crate::bft::{SignedVote, Vote, VoteKind};
        let keys = pairs(5);
        let mut e = BftEngine::new(
            BftConfig {
                rebroadcast: 100,
                ..BftConfig::default()
            },
            CHAIN,
            set(&keys[..4]),
            Some(keys[1].clone()),
            1,
            SignerState::default(),
            Vec::new(),
        );
        let appends = |a: &[Action]| -> Vec<Vec<u8>> {
            a.iter()
                .filter_map(|x| match x {
                    Action::Persist(Persist::Append(b)) => Some(b.clone()),
                    _ => None,
                })
                .collect()
        };
        let vote = |k: &Pair, validator: u32, height: u64| {
            Message::Vote(SignedVote::sign(
                k,
                &CHAIN,
                Vote {
                    height,
                    round: 0,
                    kind: VoteKind::Prevote,
                    value: Some(H256([5; 32])),
                    validator,
                },
            ))
            .encode()
        };
        let msg = |bytes| Input::Message {
            from: crate::Peer::default(),
            bytes,
        };
        let mut logged = appends(&e.start(0));
        // (sr25519 signatures are randomised: a gossip duplicate is the same bytes.)
        let v0 = vote(&keys[0], 0, 1);
        assert_eq!(appends(&e.handle(1, msg(v0.clone()))).len(), 1, "logged");
        assert!(appends(&e.handle(2, msg(v0))).is_empty(), "a duplicate");
        // One validator signing endless conflicting prevotes for one round:
        // the log takes as many as the core counts (4, this one included).
        let conflicting: usize = (0..20u8)
            .map(|i| {
                let m = Message::Vote(SignedVote::sign(
                    &keys[3],
                    &CHAIN,
                    Vote {
                        height: 1,
                        round: 0,
                        kind: VoteKind::Prevote,
                        value: Some(H256([i; 32])),
                        validator: 3,
                    },
                ));
                appends(&e.handle(3, msg(m.encode()))).len()
            })
            .sum();
        assert_eq!(conflicting, MAX_VALUES_PER_VOTER);
        // Signed by a key outside the set, or for another height: not logged.
        assert!(appends(&e.handle(3, msg(vote(&keys[4], 2, 1)))).is_empty());
        assert!(appends(&e.handle(4, msg(vote(&keys[2], 2, 7)))).is_empty());
        // Our own messages, re-sent every 100 ms while the round waits, are
        // written once.
        for t in (100..10_000).step_by(100) {
            logged.extend(appends(&e.handle(t, Input::Tick)));
        }
        let mut unique = logged.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), logged.len(), "a message written twice");
    }

    #[test]
    fn sync_past_the_core_moves_it_and_starts_a_new_log() {
        let keys = pairs(4);
        let mut e = BftEngine::new(
            config(),
            CHAIN,
            set(&keys),
            Some(keys[1].clone()),
            1,
            SignerState::default(),
            Vec::new(),
        );
        let _ = e.start(0);
        let imported = |number| Input::BlockImported {
            hash: H256([1; 32]),
            number,
            parent: H256::zero(),
            best: true,
            own: false,
        };
        let out = e.handle(10, imported(5));
        assert_eq!(e.height(), 6);
        // The set moved on as if stepped height by height.
        let mut stepped = set(&keys);
        for _ in 1..6 {
            stepped = stepped.next_height();
        }
        assert_eq!(e.core().validators(), &stepped);
        assert_eq!(out.first(), Some(&Action::Persist(Persist::NewLog(6))));
        // Blocks at or below the core's height - 1 change nothing.
        assert_eq!(e.handle(20, imported(5)), vec![]);
        assert_eq!(e.height(), 6);
    }

    #[test]
    fn a_validator_set_from_the_runtime_takes_over_at_its_height() {
        let keys = pairs(5);
        let mut net = Net::new(&keys[..4]);
        // From height 2 on, validator 4 replaces validator 3 (powers 10).
        let next: Vec<Validator> = keys[..3]
            .iter()
            .chain(&keys[4..5])
            .map(|p| Validator {
                public: p.public(),
                power: 10,
            })
            .collect();
        for e in &mut net.engines {
            assert_eq!(
                e.handle(
                    0,
                    Input::Config {
                        number: 2,
                        config: BftEngine::encode_config(&next)
                    }
                ),
                vec![]
            );
        }
        net.start();
        net.run_until(|n| !n.imported[0].is_empty());
        net.run_until(|n| n.engines[0].height() == 2);
        assert_eq!(
            net.engines[0]
                .core()
                .validators()
                .index_of(&keys[4].public()),
            Some(3)
        );
        assert_eq!(
            net.engines[0]
                .core()
                .validators()
                .index_of(&keys[3].public()),
            None
        );
        // Garbage configuration is ignored.
        assert_eq!(
            net.engines[0].handle(
                net.now,
                Input::Config {
                    number: 9,
                    config: vec![1, 2, 3]
                }
            ),
            vec![]
        );
    }

    fn two_prevotes(k: &Pair, validator: u32, height: Height) -> [Vec<u8>; 2] {
        use crate::bft::{SignedVote, Vote, VoteKind};
        [1u8, 2].map(|b| {
            Message::Vote(SignedVote::sign(
                k,
                &CHAIN,
                Vote {
                    height,
                    round: 0,
                    kind: VoteKind::Prevote,
                    value: Some(H256([b; 32])),
                    validator,
                },
            ))
            .encode()
        })
    }

    fn inherents_of(actions: &[Action]) -> Option<Vec<crate::InherentItem>> {
        actions.iter().find_map(|a| match a {
            Action::BuildBlock { inherents, .. } => Some(inherents.clone()),
            _ => None,
        })
    }

    #[test]
    fn a_caught_double_sign_goes_into_the_blocks_we_propose_until_too_old() {
        let keys = pairs(4);
        let s = set(&keys);
        // Our engine is the proposer of height 1, round 0.
        let proposer = s.proposer(0) as usize;
        let offender = (proposer + 1) % 4;
        let engine = || {
            BftEngine::new(
                config(),
                CHAIN,
                s.clone(),
                Some(keys[proposer].clone()),
                1,
                SignerState::default(),
                Vec::new(),
            )
        };
        let msg = |bytes| Input::Message {
            from: crate::Peer(vec![7]),
            bytes,
        };
        // Without evidence, blocks carry none; the proposer names itself.
        let me = (PROPOSER_INHERENT, (proposer as u32).encode());
        assert_eq!(inherents_of(&engine().start(0)), Some(vec![me.clone()]));
        let mut e = engine();
        let [a, b] = two_prevotes(&keys[offender], offender as u32, 1);
        let _ = e.handle(0, msg(a));
        let out = e.handle(0, msg(b));
        let reported: Vec<Evidence> = out
            .iter()
            .filter_map(|x| match x {
                Action::Report(b) => Some(Evidence::decode_all(&mut &b[..]).expect("evidence")),
                _ => None,
            })
            .collect();
        assert_eq!(reported.len(), 1, "{out:?}");
        assert_eq!(reported[0].offender() as usize, offender);
        assert_eq!(e.pending_evidence().count(), 1);
        // The block it asks for offers it, under the runtime's identifier.
        assert_eq!(
            inherents_of(&e.start(0)),
            Some(vec![
                (EVIDENCE_INHERENT, vec![reported[0].clone()].encode()),
                me
            ])
        );
        // The same evidence again is not kept twice.
        e.keep_evidence(reported[0].clone());
        assert_eq!(e.pending_evidence().count(), 1);
        // Past the chain's age limit it is dropped.
        let _ = e.handle(
            2,
            Input::BlockImported {
                hash: H256([3; 32]),
                number: (MAX_EVIDENCE_AGE + 5) as u32,
                parent: H256::zero(),
                best: true,
                own: false,
            },
        );
        assert_eq!(e.pending_evidence().count(), 0);
    }

    #[test]
    fn the_next_proposer_waits_the_commit_wait_and_carries_late_precommits() {
        let keys = pairs(4);
        let s = set(&keys);
        // Our node proposes height 2, round 0.
        let next = s.advanced(1);
        let me = next.proposer(0) as usize;
        let mut e = BftEngine::new(
            BftConfig {
                commit_wait: 100,
                ..config()
            },
            CHAIN,
            s.clone(),
            Some(keys[me].clone()),
            1,
            SignerState::default(),
            Vec::new(),
        );
        let _ = e.start(0);
        let value = H256([5; 32]);
        let precommit = |i: usize| {
            let v = crate::bft::SignedVote::sign(
                &keys[i],
                &CHAIN,
                crate::bft::Vote {
                    height: 1,
                    round: 0,
                    kind: crate::bft::VoteKind::Precommit,
                    value: Some(value),
                    validator: i as u32,
                },
            );
            Input::Message {
                from: crate::Peer::default(),
                bytes: Message::Vote(v).encode(),
            }
        };
        let others: Vec<usize> = (0..4).filter(|i| *i != me).collect();
        // Two others and our own would be a quorum; use three others, the
        // last of which comes late.
        let mut out = Vec::new();
        for i in &others[..2] {
            out.extend(e.handle(10, precommit(*i)));
        }
        let late = (0..4)
            .find(|i| *i != me && !others[..2].contains(i))
            .unwrap_or(me);
        // Our own precommit is not sent (we never prevoted): feed `me`'s
        // from its key as a third signer to reach the quorum.
        out.extend(e.handle(10, precommit(me)));
        out.extend(e.handle(
            10,
            Input::Checked {
                hash: value,
                valid: true,
            },
        ));
        assert_eq!(e.height(), 2, "decided");
        assert!(inherents_of(&out).is_none(), "the build waits: {out:?}");
        assert!(out.contains(&Action::WakeAt(110)), "{out:?}");
        let _ = e.handle(50, precommit(late));
        assert_eq!(
            e.handle(109, Input::Tick)
                .iter()
                .filter(|a| matches!(a, Action::BuildBlock { .. }))
                .count(),
            0
        );
        let built = e.handle(110, Input::Tick);
        let inherents = inherents_of(&built).expect("built after the wait");
        let cert = inherents
            .iter()
            .find(|(id, _)| *id == PARENT_JUSTIFICATION_INHERENT)
            .map(|(_, b)| CommitCertificate::decode_all(&mut &b[..]).expect("certificate"))
            .expect("the parent's certificate");
        assert_eq!(cert.precommits.len(), 4, "the late precommit joined");
        assert_eq!(cert.verify(&CHAIN, &s), Ok(()));
    }

    #[test]
    fn the_proposer_names_its_index_in_the_set_of_the_height_it_proposes() {
        let keys = pairs(5);
        // From height 1 on the runtime's set drops validator 0 and adds 4:
        // every validator but 4 moves down one index.
        let next = set(&keys[1..5]);
        let proposer = next.proposer(0);
        let mine = keys[1..5][proposer as usize].clone();
        let mut e = BftEngine::new(
            config(),
            CHAIN,
            set(&keys[..4]),
            Some(mine.clone()),
            1,
            SignerState::default(),
            Vec::new(),
        );
        assert_ne!(
            set(&keys[..4]).index_of(&mine.public()),
            Some(proposer),
            "the genesis index differs"
        );
        let _ = e.handle(
            0,
            Input::Config {
                number: 1,
                config: BftEngine::encode_config(next.validators()),
            },
        );
        assert_eq!(
            inherents_of(&e.start(0)),
            Some(vec![(PROPOSER_INHERENT, proposer.encode())])
        );
        // A request for another height than the core's names nobody.
        assert_eq!(e.inherents(e.height() + 1), vec![]);
        // An observer is never asked to build.
        let mut observer = BftEngine::new(
            config(),
            CHAIN,
            next.clone(),
            None,
            1,
            SignerState::default(),
            Vec::new(),
        );
        assert_eq!(inherents_of(&observer.start(0)), None);
    }

    #[test]
    fn the_verifier_checks_certificates_and_follows_runtime_sets() {
        let keys = pairs(5);
        let mut net = Net::new(&keys[..4]);
        net.start();
        net.run_until(|n| !n.imported[0].is_empty());
        let (hash, cert) = net.imported[0][0].clone();
        let verifier = net.engines[0].verifier().expect("bft verifies");
        let j = cert.encode();
        assert_eq!(verifier.verify(&hash, 1, Some(&j)), Ok(()));
        assert!(verifier.verify(&hash, 1, None).is_err(), "no certificate");
        assert!(
            verifier.verify(&H256([1; 32]), 1, Some(&j)).is_err(),
            "another block"
        );
        assert!(
            verifier.verify(&hash, 2, Some(&j)).is_err(),
            "another height"
        );
        assert!(verifier.verify(&hash, 1, Some(&j[1..])).is_err(), "garbage");
        // The same check against a set the caller names.
        let signers = set(&keys[..4]);
        assert_eq!(
            BftVerifier::check_against(&CHAIN, &signers, &hash, 1, Some(&j)).map(|c| c.value),
            Ok(hash)
        );
        let others = set(&keys[1..5]);
        assert!(BftVerifier::check_against(&CHAIN, &others, &hash, 1, Some(&j)).is_err());
        assert!(
            BftVerifier::check_against(&H256([1; 32]), &signers, &hash, 1, Some(&j)).is_err(),
            "another chain"
        );
        // From height 1 on the runtime names a set without validator 0: the
        // same certificate (signed by the old set) no longer proves height 1.
        let next: Vec<Validator> = keys[1..5]
            .iter()
            .map(|p| Validator {
                public: p.public(),
                power: 10,
            })
            .collect();
        let mut fresh = BftEngine::new(
            config(),
            CHAIN,
            set(&keys[..4]),
            None,
            1,
            SignerState::default(),
            Vec::new(),
        );
        let v = fresh.verifier().expect("bft verifies");
        assert_eq!(v.verify(&hash, 1, Some(&j)), Ok(()));
        let _ = fresh.handle(
            0,
            Input::Config {
                number: 1,
                config: BftEngine::encode_config(&next),
            },
        );
        assert!(v.verify(&hash, 1, Some(&j)).is_err());
    }

    #[test]
    fn a_runtime_set_before_start_replaces_the_current_heights_and_same_set_changes_nothing() {
        let keys = pairs(5);
        let genesis = set(&keys[..4]);
        let mut e = BftEngine::new(
            config(),
            CHAIN,
            genesis.clone(),
            Some(keys[4].clone()),
            3,
            SignerState::default(),
            Vec::new(),
        );
        // The set in force: handed again, nothing changes (no priorities reset).
        let same = BftEngine::encode_config(genesis.validators());
        assert_eq!(
            e.handle(
                0,
                Input::Config {
                    number: 3,
                    config: same
                }
            ),
            vec![]
        );
        assert_eq!(e.core().validators(), &genesis.advanced(2));
        // A restart on a chain whose set changed: the core of height 3 runs
        // on the runtime's set, with priorities from its first height (2).
        let next: Vec<Validator> = keys[1..5]
            .iter()
            .map(|p| Validator {
                public: p.public(),
                power: 10,
            })
            .collect();
        let _ = e.handle(
            0,
            Input::Config {
                number: 2,
                config: BftEngine::encode_config(&next),
            },
        );
        let expect = ValidatorSet::new(next.clone()).expect("set").advanced(1);
        assert_eq!(e.core().validators(), &expect);
        assert_eq!(e.core().validators().index_of(&keys[4].public()), Some(3));
        // After start, a set for the current height cannot replace it.
        let _ = e.start(0);
        let other = BftEngine::encode_config(genesis.validators());
        let _ = e.handle(
            1,
            Input::Config {
                number: 3,
                config: other,
            },
        );
        assert_eq!(e.core().validators(), &expect);
    }
}
