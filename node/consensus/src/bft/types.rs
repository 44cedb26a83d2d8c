//! BFT wire and safety types: validator sets with Tendermint's proposer
//! priority, signed proposals and votes over a domain-separated SCALE
//! encoding, commit certificates, evidence, and the signer's high-water mark.

use codec::{Decode, DecodeAll, Encode};
use qstack_core::{verify, Pair, PublicKey, Signature, H256};
use std::collections::BTreeSet;

/// A block height.
pub type Height = u64;
/// A round within a height.
pub type Round = u32;

/// Domain tag in front of every signed consensus payload, so a consensus
/// signature can never be replayed as a transaction or another protocol's.
pub const SIGN_DOMAIN: &[u8] = b"qstack/bft/v1";

/// A step of a round. Ordered: a signer only moves forward through
/// (height, round, step).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
pub enum Step {
    /// The proposer sends a value.
    #[codec(index = 0)]
    Propose,
    /// Validators prevote a value or nil.
    #[codec(index = 1)]
    Prevote,
    /// Validators precommit a value or nil.
    #[codec(index = 2)]
    Precommit,
}

/// Which vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
pub enum VoteKind {
    /// First-phase vote.
    #[codec(index = 0)]
    Prevote,
    /// Second-phase vote; > 2/3 of power on one value decides it.
    #[codec(index = 1)]
    Precommit,
}

impl VoteKind {
    /// The round step this vote is signed in.
    pub fn step(self) -> Step {
        match self {
            VoteKind::Prevote => Step::Prevote,
            VoteKind::Precommit => Step::Precommit,
        }
    }
}

/// One validator: its consensus key (any scheme) and voting power.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Validator {
    /// Consensus key.
    pub public: PublicKey,
    /// Voting power (stake); must be > 0.
    pub power: u64,
}

/// Errors building a validator set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValidatorSetError {
    /// No validators.
    Empty,
    /// A validator has zero power.
    ZeroPower,
    /// The same key twice.
    DuplicateKey,
    /// Total power overflows (kept below 2^60 so priorities fit in i64).
    TooMuchPower,
}

/// The validator set of a height, with Tendermint's proposer priorities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    priorities: Vec<i64>,
    total: u64,
}

impl ValidatorSet {
    /// A set with all priorities at zero. Order matters: it is the index
    /// validators sign with and the tie-break of proposer selection.
    pub fn new(validators: Vec<Validator>) -> Result<Self, ValidatorSetError> {
        if validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        let mut total: u64 = 0;
        let mut keys = BTreeSet::new();
        for v in &validators {
            if v.power == 0 {
                return Err(ValidatorSetError::ZeroPower);
            }
            if !keys.insert(v.public.clone()) {
                return Err(ValidatorSetError::DuplicateKey);
            }
            total = total
                .checked_add(v.power)
                .filter(|t| *t < 1 << 60)
                .ok_or(ValidatorSetError::TooMuchPower)?;
        }
        let priorities = vec![0; validators.len()];
        Ok(Self {
            validators,
            priorities,
            total,
        })
    }

    /// Number of validators.
    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// Never true (a set is non-empty by construction); for clippy's sake.
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// Total voting power.
    pub fn total_power(&self) -> u64 {
        self.total
    }

    /// The validator at `index`.
    pub fn get(&self, index: u32) -> Option<&Validator> {
        self.validators.get(index as usize)
    }

    /// The index of `public`, if it is a validator.
    pub fn index_of(&self, public: &PublicKey) -> Option<u32> {
        self.validators
            .iter()
            .position(|v| &v.public == public)
            .and_then(|i| u32::try_from(i).ok())
    }

    /// Power of validator `index` (0 if unknown).
    pub fn power(&self, index: u32) -> u64 {
        self.get(index).map_or(0, |v| v.power)
    }

    /// Whether `power` is more than two thirds of the total (a quorum, "2f+1").
    pub fn is_quorum(&self, power: u64) -> bool {
        u128::from(power) * 3 > u128::from(self.total) * 2
    }

    /// Whether `power` is more than one third of the total ("f+1": at least
    /// one honest validator among them).
    pub fn is_one_third(&self, power: u64) -> bool {
        u128::from(power) * 3 > u128::from(self.total)
    }

    /// One step of Tendermint's proposer priority: everyone gains their
    /// power, the highest priority (lowest index on ties) proposes and pays
    /// the total. Priorities sum to zero, so they stay within ±total·n.
    fn increment(priorities: &mut [i64], validators: &[Validator], total: u64) -> u32 {
        let total = i64::try_from(total).unwrap_or(i64::MAX);
        let mut best = 0usize;
        let mut best_p = i64::MIN;
        for (i, (p, v)) in priorities.iter_mut().zip(validators).enumerate() {
            *p = p.saturating_add(i64::try_from(v.power).unwrap_or(i64::MAX));
            if *p > best_p {
                best_p = *p;
                best = i;
            }
        }
        if let Some(p) = priorities.get_mut(best) {
            *p = p.saturating_sub(total);
        }
        u32::try_from(best).unwrap_or(0)
    }

    /// The proposer of `round` at this set's height: priorities advanced
    /// `round + 1` times from the height's starting point. Over any window
    /// each validator proposes in proportion to its power.
    pub fn proposer(&self, round: Round) -> u32 {
        let mut pr = self.priorities.clone();
        let mut who = 0;
        for _ in 0..=round {
            who = Self::increment(&mut pr, &self.validators, self.total);
        }
        who
    }

    /// The set as it stands `heights` heights later (priorities advanced
    /// that many times): a core started at height h from the genesis set
    /// uses `advanced(h - 1)`, so every validator, whenever it started,
    /// agrees on each round's proposer.
    pub fn advanced(&self, heights: u64) -> Self {
        let mut next = self.clone();
        for _ in 0..heights {
            Self::increment(&mut next.priorities, &next.validators, next.total);
        }
        next
    }

    /// The same set for the next height (priorities advanced once), as
    /// Tendermint does after a commit.
    pub fn next_height(&self) -> Self {
        let mut next = self.clone();
        Self::increment(&mut next.priorities, &next.validators, next.total);
        next
    }
}

/// A proposal of a block (by hash) for (height, round).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Proposal {
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// The proposed block's hash.
    pub value: H256,
    /// The round in which this value got a prevote quorum (`validRound`), if
    /// it is being re-proposed; `None` is the paper's -1.
    pub valid_round: Option<Round>,
    /// The proposer's index in the validator set.
    pub proposer: u32,
}

/// A prevote or precommit.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Vote {
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// Prevote or precommit.
    pub kind: VoteKind,
    /// The block voted for; `None` is nil.
    pub value: Option<H256>,
    /// The voter's index in the validator set.
    pub validator: u32,
}

impl Proposal {
    /// The bytes the proposer signs: domain, chain, step, then the proposal.
    pub fn sign_bytes(&self, chain: &H256) -> Vec<u8> {
        (SIGN_DOMAIN, chain, Step::Propose, self).encode()
    }
}

impl Vote {
    /// The bytes the voter signs: domain, chain, step, then the vote.
    pub fn sign_bytes(&self, chain: &H256) -> Vec<u8> {
        (SIGN_DOMAIN, chain, self.kind.step(), self).encode()
    }
}

/// A signed proposal.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SignedProposal {
    /// The proposal.
    pub proposal: Proposal,
    /// The proposer's signature over [`Proposal::sign_bytes`].
    pub signature: Signature,
}

/// A signed vote.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SignedVote {
    /// The vote.
    pub vote: Vote,
    /// The voter's signature over [`Vote::sign_bytes`].
    pub signature: Signature,
}

impl SignedProposal {
    /// Signs `proposal` with `pair` (no signer-state check: see [`SignerState`]).
    pub fn sign(pair: &Pair, chain: &H256, proposal: Proposal) -> Self {
        let signature = pair.sign(&proposal.sign_bytes(chain));
        Self {
            proposal,
            signature,
        }
    }

    /// Whether the signature is the set's proposer key's for this proposal.
    pub fn verify(&self, chain: &H256, set: &ValidatorSet) -> bool {
        set.get(self.proposal.proposer)
            .is_some_and(|v| verify(&self.signature, &self.proposal.sign_bytes(chain), &v.public))
    }
}

impl SignedVote {
    /// Signs `vote` with `pair` (no signer-state check: see [`SignerState`]).
    pub fn sign(pair: &Pair, chain: &H256, vote: Vote) -> Self {
        let signature = pair.sign(&vote.sign_bytes(chain));
        Self { vote, signature }
    }

    /// Whether the signature is the set's key at `vote.validator`.
    pub fn verify(&self, chain: &H256, set: &ValidatorSet) -> bool {
        set.get(self.vote.validator)
            .is_some_and(|v| verify(&self.signature, &self.vote.sign_bytes(chain), &v.public))
    }
}

/// Proof that a block is final: > 2/3 of the power precommitted it in one
/// round. Goes into the block's justification.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct CommitCertificate {
    /// Height of the block.
    pub height: Height,
    /// Round in which it was decided.
    pub round: Round,
    /// The block's hash.
    pub value: H256,
    /// (validator index, precommit signature), ascending by index.
    pub precommits: Vec<(u32, Signature)>,
}

/// Why a certificate does not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertificateError {
    /// Indices not strictly ascending (a duplicate signer).
    NotAscending,
    /// An index outside the set.
    UnknownValidator(u32),
    /// A signature does not verify.
    BadSignature(u32),
    /// The signers hold no more than 2/3 of the power.
    NoQuorum,
}

impl CommitCertificate {
    /// The precommit vote a signer of this certificate signed.
    pub fn precommit(&self, validator: u32) -> Vote {
        Vote {
            height: self.height,
            round: self.round,
            kind: VoteKind::Precommit,
            value: Some(self.value),
            validator,
        }
    }

    /// Checks every signature against `set` (the set of `self.height`) and
    /// that the signers hold > 2/3 of its power.
    pub fn verify(&self, chain: &H256, set: &ValidatorSet) -> Result<(), CertificateError> {
        let mut power: u64 = 0;
        let mut last: Option<u32> = None;
        for (index, signature) in &self.precommits {
            if last.is_some_and(|l| l >= *index) {
                return Err(CertificateError::NotAscending);
            }
            last = Some(*index);
            let v = set
                .get(*index)
                .ok_or(CertificateError::UnknownValidator(*index))?;
            if !verify(
                signature,
                &self.precommit(*index).sign_bytes(chain),
                &v.public,
            ) {
                return Err(CertificateError::BadSignature(*index));
            }
            power = power.saturating_add(v.power);
        }
        if set.is_quorum(power) {
            Ok(())
        } else {
            Err(CertificateError::NoQuorum)
        }
    }
}

/// Proof that one validator signed two conflicting messages for the same
/// (height, round, step); handed to slashing.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Evidence {
    /// Two different votes.
    #[codec(index = 0)]
    Votes(SignedVote, SignedVote),
    /// Two different proposals.
    #[codec(index = 1)]
    Proposals(SignedProposal, SignedProposal),
}

impl Evidence {
    /// The offender's index.
    pub fn offender(&self) -> u32 {
        match self {
            Evidence::Votes(a, _) => a.vote.validator,
            Evidence::Proposals(a, _) => a.proposal.proposer,
        }
    }

    /// Whether this is real evidence against `set`: both messages signed by
    /// the same validator, same height/round/step, different content.
    pub fn verify(&self, chain: &H256, set: &ValidatorSet) -> bool {
        match self {
            Evidence::Votes(a, b) => {
                let (x, y) = (&a.vote, &b.vote);
                x.validator == y.validator
                    && x.height == y.height
                    && x.round == y.round
                    && x.kind == y.kind
                    && x.value != y.value
                    && a.verify(chain, set)
                    && b.verify(chain, set)
            }
            Evidence::Proposals(a, b) => {
                let (x, y) = (&a.proposal, &b.proposal);
                x.proposer == y.proposer
                    && x.height == y.height
                    && x.round == y.round
                    && x != y
                    && a.verify(chain, set)
                    && b.verify(chain, set)
            }
        }
    }
}

/// A consensus message on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Message {
    /// A proposal.
    #[codec(index = 0)]
    Proposal(SignedProposal),
    /// A vote.
    #[codec(index = 1)]
    Vote(SignedVote),
    /// A commit certificate, sent to a peer seen voting at a height we have
    /// already decided so it can catch up.
    #[codec(index = 2)]
    Commit(CommitCertificate),
    /// "I am at this height", sent every `rebroadcast` ms: a peer further on
    /// answers with the certificate. Unsigned; it only ever triggers a
    /// rate-limited certificate broadcast.
    #[codec(index = 3)]
    Status(Height),
}

impl Message {
    /// Strict decoding: the whole input must be exactly one message.
    pub fn decode_strict(bytes: &[u8]) -> Option<Self> {
        Self::decode_all(&mut &bytes[..]).ok()
    }
}

/// The signer's high-water mark: the last (height, round, step) it signed.
/// It signs only strictly after it, so a restarted validator that reloads
/// this state can never sign two different messages for one step. The shell
/// persists it (fsync) before sending anything signed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct SignerState {
    /// Last signed (height, round, step), `None` before the first signature.
    pub last: Option<(Height, Round, Step)>,
}

/// A signature the signer refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DoubleSign {
    /// What was asked.
    pub asked: (Height, Round, Step),
    /// What was already signed.
    pub last: (Height, Round, Step),
}

impl SignerState {
    /// Records a signature at `at`, refusing unless `at` is strictly after
    /// the last one.
    pub fn advance(&mut self, at: (Height, Round, Step)) -> Result<(), DoubleSign> {
        match self.last {
            Some(last) if at <= last => Err(DoubleSign { asked: at, last }),
            _ => {
                self.last = Some(at);
                Ok(())
            }
        }
    }
}
