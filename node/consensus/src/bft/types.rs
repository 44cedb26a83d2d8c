//! BFT wire and safety types: validator sets with Tendermint's proposer
//! priority, signed proposals and votes over a domain-separated SCALE
//! encoding, commit certificates, evidence, and the signer's high-water mark.
//! The wire types themselves live in `qstack-consensus-primitives` (the
//! runtime checks evidence with them) and are re-exported here unchanged.

use codec::{Decode, DecodeAll, Encode};
use qstack_core::{PublicKey, H256};
use std::collections::BTreeSet;

pub use qstack_consensus_primitives::{
    CertificateError, CommitCertificate, Evidence, EvidenceError, Height, Offence, Proposal, Round,
    SignedProposal, SignedVote, Step, ValidatorKeys, Vote, VoteKind, SIGN_DOMAIN,
};

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

    /// The validators, in index order.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
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
    ///
    /// Constant cost per call for a given set, not O(height): every set
    /// starts with all priorities at zero and only ever increments, and from
    /// zero the priorities return to zero after `total` steps (each
    /// validator proposes exactly `power` times in `total` rounds), so only
    /// `heights mod total` steps are taken.
    pub fn advanced(&self, heights: u64) -> Self {
        let mut next = self.clone();
        let steps = heights.checked_rem(self.total).unwrap_or(heights);
        for _ in 0..steps {
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

impl ValidatorKeys for ValidatorSet {
    fn key(&self, index: u32) -> Option<&PublicKey> {
        self.get(index).map(|v| &v.public)
    }

    fn power(&self, index: u32) -> u64 {
        ValidatorSet::power(self, index)
    }

    fn is_quorum(&self, power: u64) -> bool {
        ValidatorSet::is_quorum(self, power)
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

/// The signer's high-water mark: the last (height, round, step) it signed,
/// and the Tendermint lock and valid value it signed under. It signs only
/// strictly after the mark, so a restarted validator that reloads this
/// state can never sign two different messages for one step; and it
/// resumes with the lock its precommit promised, so it cannot be talked
/// into prevoting a conflicting block after a restart (amnesia). The shell
/// persists it (fsync) before sending anything signed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct SignerState {
    /// Last signed (height, round, step), `None` before the first signature.
    pub last: Option<(Height, Round, Step)>,
    /// The lock and valid value of the height being decided, if either is
    /// set (a record of an earlier height is stale and ignored).
    pub locks: Option<Locks>,
}

/// `lockedValue/lockedRound` and `validValue/validRound` of one height.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct Locks {
    /// The height they belong to.
    pub height: Height,
    /// `(lockedValue, lockedRound)`.
    pub locked: Option<(H256, Round)>,
    /// `(validValue, validRound)`.
    pub valid: Option<(H256, Round)>,
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
