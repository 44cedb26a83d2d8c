//! BFT (Tendermint) wire types shared by the node's consensus core and the
//! runtime: proposals and votes, their domain-separated signing bytes, commit
//! certificates and double-sign [`Evidence`], with checks generic over how a
//! validator's key is found and how a signature is verified, so the runtime
//! can check evidence through its host (`qstack_io::crypto::verify`) and the
//! node natively. Types and pure checks only: no validator-set bookkeeping
//! (proposer priorities stay in the node), no signer state, no I/O.
//!
//! The SCALE encodings are wire and signing formats: they must never change
//! (golden tests below pin them byte for byte).
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

extern crate alloc;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::borrow::Borrow;
use qstack_core::{PublicKey, Signature, H256};
use scale_info::TypeInfo;

#[cfg(feature = "std")]
use qstack_core::Pair;

/// A block height (the BFT height of a block is its number).
pub type Height = u64;
/// A round within a height.
pub type Round = u32;

/// Domain tag in front of every signed consensus payload, so a consensus
/// signature can never be replayed as a transaction or another protocol's.
pub const SIGN_DOMAIN: &[u8] = b"qstack/bft/v1";

/// Inherent identifier under which a block author offers [`Evidence`] to the
/// runtime (data: SCALE `Vec<Evidence>`).
pub const EVIDENCE_INHERENT: [u8; 8] = *b"evidence";

/// Inherent identifier under which a block author passes its parent's
/// justification as the node stored it (data: the raw justification bytes;
/// on a BFT chain the SCALE [`CommitCertificate`] of the parent, Tendermint's
/// `LastCommit`): the staking pallet checks it against the validator set of
/// the parent's height and learns who signed. Absent when the parent has
/// none (genesis, the dev engine).
pub const PARENT_JUSTIFICATION_INHERENT: [u8; 8] = *b"parjust0";

/// Inherent identifier under which a BFT proposer names itself (data: SCALE
/// `u32`, its index in the validator set of the block's height), so the
/// runtime can pay the proposer bonus.
pub const PROPOSER_INHERENT: [u8; 8] = *b"proposer";

/// Oldest evidence the chain accepts, in heights below the block that
/// carries it; engines drop what they hold for longer.
pub const MAX_EVIDENCE_AGE: Height = 1_000;

/// A step of a round. Ordered: a signer only moves forward through
/// (height, round, step).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
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
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
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

/// What a check needs of a validator set: keys and powers by index. The
/// node's `ValidatorSet` implements it; the runtime looks keys up in storage
/// through the closure-based checks instead.
pub trait ValidatorKeys {
    /// The consensus key of validator `index`, if there is one.
    fn key(&self, index: u32) -> Option<&PublicKey>;
    /// Voting power of validator `index` (0 if unknown).
    fn power(&self, index: u32) -> u64;
    /// Whether `power` is more than two thirds of the set's total.
    fn is_quorum(&self, power: u64) -> bool;
}

/// A proposal of a block (by hash) for (height, round).
#[derive(
    Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
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
#[derive(
    Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
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
    /// `chain` is the chain's genesis hash.
    pub fn sign_bytes(&self, chain: &H256) -> Vec<u8> {
        (SIGN_DOMAIN, chain, Step::Propose, self).encode()
    }
}

impl Vote {
    /// The bytes the voter signs: domain, chain, step, then the vote.
    /// `chain` is the chain's genesis hash.
    pub fn sign_bytes(&self, chain: &H256) -> Vec<u8> {
        (SIGN_DOMAIN, chain, self.kind.step(), self).encode()
    }
}

/// A signed proposal.
#[derive(
    Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct SignedProposal {
    /// The proposal.
    pub proposal: Proposal,
    /// The proposer's signature over [`Proposal::sign_bytes`].
    pub signature: Signature,
}

/// A signed vote.
#[derive(
    Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct SignedVote {
    /// The vote.
    pub vote: Vote,
    /// The voter's signature over [`Vote::sign_bytes`].
    pub signature: Signature,
}

impl SignedProposal {
    /// Signs `proposal` with `pair`. No signer-state check: the node's
    /// `SignerState` must allow the step first.
    #[cfg(feature = "std")]
    pub fn sign(pair: &Pair, chain: &H256, proposal: Proposal) -> Self {
        let signature = pair.sign(&proposal.sign_bytes(chain));
        Self {
            proposal,
            signature,
        }
    }

    /// Whether the signature verifies under `key` with `verify`.
    pub fn verify_with(
        &self,
        chain: &H256,
        key: &PublicKey,
        verify: impl Fn(&Signature, &[u8], &PublicKey) -> bool,
    ) -> bool {
        verify(&self.signature, &self.proposal.sign_bytes(chain), key)
    }

    /// Whether the signature is the set's proposer key's for this proposal.
    #[cfg(feature = "std")]
    pub fn verify(&self, chain: &H256, set: &impl ValidatorKeys) -> bool {
        set.key(self.proposal.proposer)
            .is_some_and(|key| self.verify_with(chain, key, qstack_core::verify))
    }
}

impl SignedVote {
    /// Signs `vote` with `pair`. No signer-state check: the node's
    /// `SignerState` must allow the step first.
    #[cfg(feature = "std")]
    pub fn sign(pair: &Pair, chain: &H256, vote: Vote) -> Self {
        let signature = pair.sign(&vote.sign_bytes(chain));
        Self { vote, signature }
    }

    /// Whether the signature verifies under `key` with `verify`.
    pub fn verify_with(
        &self,
        chain: &H256,
        key: &PublicKey,
        verify: impl Fn(&Signature, &[u8], &PublicKey) -> bool,
    ) -> bool {
        verify(&self.signature, &self.vote.sign_bytes(chain), key)
    }

    /// Whether the signature is the set's key at `vote.validator`.
    #[cfg(feature = "std")]
    pub fn verify(&self, chain: &H256, set: &impl ValidatorKeys) -> bool {
        set.key(self.vote.validator)
            .is_some_and(|key| self.verify_with(chain, key, qstack_core::verify))
    }
}

/// Proof that a block is final: > 2/3 of the power precommitted it in one
/// round. Goes into the block's justification.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
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

    /// Checks every signature against `set` (the set of `self.height`) with
    /// `verify`, and that the signers hold > 2/3 of its power.
    pub fn verify_with(
        &self,
        chain: &H256,
        set: &impl ValidatorKeys,
        verify: impl Fn(&Signature, &[u8], &PublicKey) -> bool,
    ) -> Result<(), CertificateError> {
        let mut power: u64 = 0;
        let mut last: Option<u32> = None;
        for (index, signature) in &self.precommits {
            if last.is_some_and(|l| l >= *index) {
                return Err(CertificateError::NotAscending);
            }
            last = Some(*index);
            let key = set
                .key(*index)
                .ok_or(CertificateError::UnknownValidator(*index))?;
            if !verify(signature, &self.precommit(*index).sign_bytes(chain), key) {
                return Err(CertificateError::BadSignature(*index));
            }
            power = power.saturating_add(set.power(*index));
        }
        if set.is_quorum(power) {
            Ok(())
        } else {
            Err(CertificateError::NoQuorum)
        }
    }

    /// [`Self::verify_with`] the native verifier.
    #[cfg(feature = "std")]
    pub fn verify(&self, chain: &H256, set: &impl ValidatorKeys) -> Result<(), CertificateError> {
        self.verify_with(chain, set, qstack_core::verify)
    }
}

/// Proof that one validator signed two conflicting messages for the same
/// (height, round, step); recorded on chain and handed to slashing. Bounded
/// in size by construction (every field is fixed-size or an `Option` of one;
/// see [`MaxEncodedLen`]).
#[derive(
    Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub enum Evidence {
    /// Two different votes.
    #[codec(index = 0)]
    Votes(SignedVote, SignedVote),
    /// Two different proposals.
    #[codec(index = 1)]
    Proposals(SignedProposal, SignedProposal),
}

/// Why evidence is not evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvidenceError {
    /// The two messages name different validators.
    NotSameSigner,
    /// The two messages are for different heights.
    DifferentHeights,
    /// The two messages are for different rounds.
    DifferentRounds,
    /// The two messages are for different steps (a prevote and a precommit).
    DifferentSteps,
    /// The two messages are identical: nothing was signed twice.
    NotConflicting,
    /// The offender's index is not in the validator set.
    UnknownValidator(u32),
    /// A signature does not verify under the offender's key.
    BadSignature,
}

/// What a piece of evidence proves: who signed two different messages where
/// one was allowed, and what they signed.
#[derive(
    Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Offence {
    /// The offender's index in the validator set of `height`.
    pub validator: u32,
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// Step.
    pub step: Step,
    /// The two values signed (a proposal's block hash, a vote's block hash
    /// or `None` for nil), smaller first, so both orders of the same two
    /// messages describe one offence. Equal for two proposals of one block
    /// that differ in `valid_round` only.
    pub values: (Option<H256>, Option<H256>),
}

impl Evidence {
    /// The offender's index.
    pub fn offender(&self) -> u32 {
        match self {
            Evidence::Votes(a, _) => a.vote.validator,
            Evidence::Proposals(a, _) => a.proposal.proposer,
        }
    }

    /// Height, round and step of the first message (of both, if the
    /// evidence is well-formed).
    pub fn at(&self) -> (Height, Round, Step) {
        match self {
            Evidence::Votes(a, _) => (a.vote.height, a.vote.round, a.vote.kind.step()),
            Evidence::Proposals(a, _) => (a.proposal.height, a.proposal.round, Step::Propose),
        }
    }

    /// The two signatures (for weighing a check by scheme).
    pub fn signatures(&self) -> [&Signature; 2] {
        match self {
            Evidence::Votes(a, b) => [&a.signature, &b.signature],
            Evidence::Proposals(a, b) => [&a.signature, &b.signature],
        }
    }

    /// Checks the evidence without any signature: same signer, same height,
    /// round and step, different content. Returns the offence it would prove.
    pub fn check_shape(&self) -> Result<Offence, EvidenceError> {
        let (same_signer, same_height, same_round, same_step, conflicting, values) = match self {
            Evidence::Votes(a, b) => {
                let (x, y) = (&a.vote, &b.vote);
                (
                    x.validator == y.validator,
                    x.height == y.height,
                    x.round == y.round,
                    x.kind == y.kind,
                    x.value != y.value,
                    (x.value, y.value),
                )
            }
            Evidence::Proposals(a, b) => {
                let (x, y) = (&a.proposal, &b.proposal);
                (
                    x.proposer == y.proposer,
                    x.height == y.height,
                    x.round == y.round,
                    true,
                    x != y,
                    (Some(x.value), Some(y.value)),
                )
            }
        };
        if !same_signer {
            return Err(EvidenceError::NotSameSigner);
        }
        if !same_height {
            return Err(EvidenceError::DifferentHeights);
        }
        if !same_round {
            return Err(EvidenceError::DifferentRounds);
        }
        if !same_step {
            return Err(EvidenceError::DifferentSteps);
        }
        if !conflicting {
            return Err(EvidenceError::NotConflicting);
        }
        let (height, round, step) = self.at();
        let values = if values.0 <= values.1 {
            values
        } else {
            (values.1, values.0)
        };
        Ok(Offence {
            validator: self.offender(),
            height,
            round,
            step,
            values,
        })
    }

    /// Whether this is real evidence on chain `chain` (its genesis hash):
    /// [`Self::check_shape`], then both signatures under the offender's key
    /// as `key_of` finds it, verified by `verify` (the host's verifier in
    /// the runtime, [`qstack_core::verify`] natively).
    pub fn check<K: Borrow<PublicKey>>(
        &self,
        chain: &H256,
        key_of: impl FnOnce(u32) -> Option<K>,
        verify: impl Fn(&Signature, &[u8], &PublicKey) -> bool,
    ) -> Result<Offence, EvidenceError> {
        let offence = self.check_shape()?;
        let key =
            key_of(offence.validator).ok_or(EvidenceError::UnknownValidator(offence.validator))?;
        let key = key.borrow();
        let signed = match self {
            Evidence::Votes(a, b) => {
                a.verify_with(chain, key, &verify) && b.verify_with(chain, key, &verify)
            }
            Evidence::Proposals(a, b) => {
                a.verify_with(chain, key, &verify) && b.verify_with(chain, key, &verify)
            }
        };
        if signed {
            Ok(offence)
        } else {
            Err(EvidenceError::BadSignature)
        }
    }

    /// Whether this is real evidence against `set`: both messages signed by
    /// the same validator, same height/round/step, different content.
    #[cfg(feature = "std")]
    pub fn verify(&self, chain: &H256, set: &impl ValidatorKeys) -> bool {
        self.check(chain, |i| set.key(i), qstack_core::verify)
            .is_ok()
    }
}

#[cfg(test)]
mod tests;
