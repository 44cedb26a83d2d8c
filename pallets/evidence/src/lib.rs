//! The evidence pallet: BFT double-sign evidence, checked and recorded on
//! chain so the staking pallet can slash it. Owns `Evidence.*` storage only:
//! the BFT validator set it checks signatures against, and the offences it
//! recorded (bounded in age and number). It slashes nothing itself.
//!
//! # How evidence arrives
//!
//! The block author passes what its BFT core found (`BftAction::Evidence`)
//! as inherent data under [`INHERENT_IDENTIFIER`] (`*b"evidence"`), SCALE
//! `Vec<Evidence>`. The runtime's inherent builder keeps only the evidence
//! that passes [`validate`] against the new block's state (at most
//! [`MAX_EVIDENCE_PER_BLOCK`], no two for one offence) and turns it into one
//! [`Call::Report`] inherent; nothing reportable, no inherent. On import,
//! [`Call::Report`] checks every piece again and fails on any that does not
//! pass, which makes the block invalid: a proposer cannot stuff a block with
//! junk, nor report one offence twice.
//!
//! Each piece must be two messages by one validator for one (height, round,
//! step) with different content, both signatures valid under the validator's
//! key (checked by the host's verifier, any scheme), signed for this chain
//! (the chain id in the signing bytes is the genesis hash, `System.BlockHash`
//! of #0, exactly the value the node's Tendermint core signs with), at a
//! height not above the current block number (a BFT height is the number of
//! the block it decides) and at most [`MAX_EVIDENCE_AGE`] below it, and not
//! already recorded for (offender, height, round, step).
//!
//! # The validator set
//!
//! Indices are only meaningful within the set of their height: the key of
//! validator `i` at height `h` is the staking pallet's
//! ([`pallet_staking::block::key_at`]), which keeps the sets of the last
//! [`MAX_EVIDENCE_AGE`] heights. A recorded offence is handed to staking at
//! once ([`pallet_staking::block::on_offence`]), which slashes the
//! validator that owned the key at that height (once per height).
//!
//! # Bounds
//!
//! [`MAX_EVIDENCE_PER_BLOCK`] pieces per block, one report per block, each
//! piece bounded in bytes by its type (`Evidence::max_encoded_len`).
//! Offences are pruned once older than [`MAX_EVIDENCE_AGE`] (by then
//! staking has acted on them), at most [`MAX_OFFENCES_PER_HEIGHT`] per height
//! and [`MAX_OFFENCES`] in all; past a cap, further evidence is refused
//! (and so never included).
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

pub mod report;
pub mod weights;

#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use qstack_core::{AccountId, BlockNumber, PublicKey};
use qstack_runtime_primitives::DispatchError;
use qstack_support::{constants, storage, Dispatch, DispatchContext, InherentData};
use scale_info::TypeInfo;

// The wire types evidence is made of, for whoever builds or reads it.
pub use qstack_consensus_primitives::{
    Evidence, EvidenceError, Height, Offence, Proposal, Round, SignedProposal, SignedVote, Step,
    Vote, VoteKind,
};
pub use report::{check_evidence, filter_reportable, validate};

/// This pallet's permanent index in every qstack runtime.
pub const PALLET_INDEX: u8 = 4;
/// Inherent identifier of the evidence (data: SCALE `Vec<Evidence>`).
pub const INHERENT_IDENTIFIER: [u8; 8] = qstack_consensus_primitives::EVIDENCE_INHERENT;
/// Most pieces of offered evidence the inherent builder looks at (each
/// costs two signature checks), a few blocks' worth.
pub const MAX_EVIDENCE_OFFERED: usize = 4 * MAX_EVIDENCE_PER_BLOCK as usize;

constants! {
    /// Most pieces of evidence in one block.
    MaxEvidencePerBlock: pub const MAX_EVIDENCE_PER_BLOCK: u32 = 16;
    /// Oldest evidence accepted (heights below the current block); offences
    /// are kept as long.
    MaxEvidenceAge: pub const MAX_EVIDENCE_AGE: Height = qstack_consensus_primitives::MAX_EVIDENCE_AGE;
    /// Most offences recorded for one height.
    MaxOffencesPerHeight: pub const MAX_OFFENCES_PER_HEIGHT: u32 = 64;
    /// Most offences recorded in all.
    MaxOffences: pub const MAX_OFFENCES: u32 = 4_096;
}

/// The evidence pallet, as the runtime composes it.
pub struct Pallet;

impl qstack_support::Pallet for Pallet {
    const NAME: &'static str = "Evidence";
    const INDEX: u8 = PALLET_INDEX;
    type Call = Call;
    type Event = Event;
    type Error = Error;
    type Genesis = ();

    fn storage() -> Vec<qstack_support::storage::EntryMeta> {
        storage_metadata()
    }
    fn constants() -> Vec<qstack_support::ConstantMeta> {
        constants_metadata()
    }
    fn on_initialize(number: BlockNumber) {
        on_initialize(number)
    }
    fn on_finalize() -> Result<(), &'static str> {
        on_finalize();
        Ok(())
    }
    /// The author's offered evidence (`evidence`: SCALE `Vec<Evidence>`):
    /// only the pieces that pass [`validate`] here go into the block (at
    /// most [`MAX_EVIDENCE_PER_BLOCK`], one per offence, looking at the
    /// first [`MAX_EVIDENCE_OFFERED`]); none, no inherent. So an author's
    /// block never fails on evidence, while a block carrying bad evidence
    /// fails to import.
    fn create_inherent(data: &InherentData) -> Option<Call> {
        let mut offered = data
            .get(&INHERENT_IDENTIFIER)
            .and_then(|raw| Vec::<Evidence>::decode(&mut &raw[..]).ok())?;
        offered.truncate(MAX_EVIDENCE_OFFERED);
        let evidence = filter_reportable(offered);
        (!evidence.is_empty()).then_some(Call::Report { evidence })
    }
    fn is_inherent(_call: &Call) -> bool {
        true
    }
    fn try_state() -> Result<(), &'static str> {
        try_state()
    }
}

/// Calls.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Call {
    /// Reports double signing (inherent only, once per block): 1 to
    /// [`MAX_EVIDENCE_PER_BLOCK`] pieces, each of which must pass
    /// [`validate`] (and be distinct offences).
    #[codec(index = 0)]
    Report {
        /// The evidence.
        evidence: Vec<Evidence>,
    },
}

impl Dispatch for Call {
    /// The call's weight, from benchmarks (see [`weights`]).
    fn weight(&self) -> u64 {
        weights::call_weight(self)
    }
    /// Storage touched, at most: a fixed part (the once-per-block flag,
    /// the offence count, the kept validator sets), and per piece of evidence
    /// the offences already stored at its height (counted by iterating
    /// them: a key and a value each, up to [`MAX_OFFENCES_PER_HEIGHT`])
    /// and the new record, and the staking pallet's slash of the offender.
    fn db_access(&self) -> qstack_support::DbAccess {
        let Call::Report { evidence } = self;
        let n = u32::try_from(evidence.len()).unwrap_or(u32::MAX);
        let slash = pallet_staking::stake::slash_db_access();
        let per = qstack_support::DbAccess::new(
            2u32.saturating_mul(MAX_OFFENCES_PER_HEIGHT.saturating_add(1))
                .saturating_add(8)
                .saturating_add(slash.reads),
            4u32.saturating_add(slash.writes),
        );
        qstack_support::DbAccess::new(
            8u32.saturating_add(per.reads.saturating_mul(n)),
            6u32.saturating_add(per.writes.saturating_mul(n)),
        )
    }
    fn is_known(index: u8) -> bool {
        index == 0
    }
    /// Inherent only.
    fn dispatch(self, ctx: &DispatchContext<'_>) -> Result<(), DispatchError> {
        ctx.origin.ensure_none()?;
        let r = match self {
            Call::Report { evidence } => report::do_report(evidence),
        };
        r.map_err(Into::into)
    }
}

/// Errors.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Error {
    /// A report carries no evidence.
    #[codec(index = 0)]
    NoEvidence,
    /// More than [`MAX_EVIDENCE_PER_BLOCK`] pieces.
    #[codec(index = 1)]
    TooMuchEvidence,
    /// A second report in one block.
    #[codec(index = 2)]
    AlreadyReportedInBlock,
    /// The two messages name different validators.
    #[codec(index = 3)]
    NotSameSigner,
    /// The two messages are for different heights.
    #[codec(index = 4)]
    DifferentHeights,
    /// The two messages are for different rounds.
    #[codec(index = 5)]
    DifferentRounds,
    /// The two messages are for different steps.
    #[codec(index = 6)]
    DifferentSteps,
    /// The two messages are the same: nothing was signed twice.
    #[codec(index = 7)]
    NotConflicting,
    /// The offender is not in the validator set.
    #[codec(index = 8)]
    UnknownValidator,
    /// A signature does not verify under the offender's key for this chain.
    #[codec(index = 9)]
    BadSignature,
    /// The height is above the current block number.
    #[codec(index = 10)]
    FutureHeight,
    /// The height is more than [`MAX_EVIDENCE_AGE`] below the current block.
    #[codec(index = 11)]
    TooOld,
    /// This offence (offender, height, round, step) is already recorded.
    #[codec(index = 12)]
    AlreadyRecorded,
    /// [`MAX_OFFENCES_PER_HEIGHT`] or [`MAX_OFFENCES`] reached.
    #[codec(index = 13)]
    TooManyOffences,
    /// The genesis hash (the chain id evidence is signed for) is not known
    /// yet: nothing can be reported before block 1.
    #[codec(index = 14)]
    NoChainId,
}

qstack_runtime_primitives::impl_module_error!(Error, PALLET_INDEX);

impl From<EvidenceError> for Error {
    fn from(e: EvidenceError) -> Self {
        match e {
            EvidenceError::NotSameSigner => Error::NotSameSigner,
            EvidenceError::DifferentHeights => Error::DifferentHeights,
            EvidenceError::DifferentRounds => Error::DifferentRounds,
            EvidenceError::DifferentSteps => Error::DifferentSteps,
            EvidenceError::NotConflicting => Error::NotConflicting,
            EvidenceError::UnknownValidator(_) => Error::UnknownValidator,
            EvidenceError::BadSignature => Error::BadSignature,
        }
    }
}

/// Events.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Event {
    /// A validator signed two conflicting messages for one step; recorded.
    #[codec(index = 0)]
    Equivocation {
        /// The account of the offender's consensus key.
        offender: AccountId,
        /// The offender's index in the validator set.
        validator: u32,
        /// Height.
        height: Height,
        /// Round.
        round: Round,
        /// Step.
        step: Step,
    },
}

/// The key of one recorded offence under its height: offender's account,
/// round, step.
pub type OffenceKey = (AccountId, Round, Step);

storage! { pallet = "Evidence";
    /// Recorded double signing by height, then (offender account, round,
    /// step).
    pub Offences: double_map Twox64Concat Height, Blake2_128Concat OffenceKey => Offence;
    /// Number of recorded offences.
    pub OffenceCount: value u32 [default];
    /// Whether this block carried a report (per-block scratch).
    pub DidReport: value bool;
}

pub(crate) fn deposit_event(e: Event) {
    pallet_system::deposit_event_encoded(PALLET_INDEX, &e.encode());
}

impl qstack_support::PalletEvent for Event {}

/// The consensus key of validator `index` in the set of `height`.
pub fn validator_key(height: Height, index: u32) -> Option<PublicKey> {
    pallet_staking::block::key_at(height, index)
}

/// Start of block `number`: forgets the offences that just became older
/// than [`MAX_EVIDENCE_AGE`]. Every block removes exactly the one height
/// that left the window, so nothing older is ever stored.
pub fn on_initialize(number: BlockNumber) {
    let Some(old) = Height::from(number).checked_sub(MAX_EVIDENCE_AGE.saturating_add(1)) else {
        return;
    };
    let gone = Offences::iter_prefix(&old).len();
    if gone == 0 {
        return;
    }
    qstack_io::storage::clear_prefix(&Offences::prefix_of(&old), None);
    let gone = u32::try_from(gone).unwrap_or(u32::MAX);
    OffenceCount::mutate(|c| {
        let left = c.unwrap_or(0).saturating_sub(gone);
        *c = (left > 0).then_some(left);
    });
}

/// End of block: clears the per-block report flag.
pub fn on_finalize() {
    DidReport::kill();
}

/// The offence recorded for `offender` at (height, round, step), if any.
pub fn offence(height: Height, offender: &AccountId, round: Round, step: Step) -> Option<Offence> {
    Offences::get(&height, &(*offender, round, step))
}

/// Every recorded offence at `height` or later, oldest height first, with
/// the offender's account: what the staking pallet reads to slash. Heights
/// older than [`MAX_EVIDENCE_AGE`] are gone; call at least that often.
pub fn offences_since(height: Height) -> Vec<(AccountId, Offence)> {
    let now = Height::from(pallet_system::block_number());
    let from = height.max(now.saturating_sub(MAX_EVIDENCE_AGE));
    let mut out = Vec::new();
    for h in from..=now {
        for ((offender, _, _), offence) in Offences::iter_prefix(&h) {
            out.push((offender, offence));
        }
    }
    out
}

/// Invariants of this pallet's state.
pub fn try_state() -> Result<(), &'static str> {
    let offences = Offences::iter();
    if offences.len() != OffenceCount::get().unwrap_or(0) as usize {
        return Err("OffenceCount differs from the number of offences");
    }
    if offences.len() > MAX_OFFENCES as usize {
        return Err("more than MAX_OFFENCES offences");
    }
    let now = Height::from(pallet_system::block_number());
    let mut per_height: alloc::collections::BTreeMap<Height, u32> = Default::default();
    for (height, (offender, round, step), o) in &offences {
        let n = per_height.entry(*height).or_default();
        *n = n.saturating_add(1);
        if *n > MAX_OFFENCES_PER_HEIGHT {
            return Err("more than MAX_OFFENCES_PER_HEIGHT offences at one height");
        }
        if o.height != *height || o.round != *round || o.step != *step {
            return Err("an offence is stored under another (height, round, step)");
        }
        if *height > now || height.saturating_add(MAX_EVIDENCE_AGE) < now {
            return Err("an offence outside the evidence window");
        }
        if let Some(key) = validator_key(*height, o.validator) {
            if key.account_id() != *offender {
                return Err("an offence's account is not its validator's");
            }
        }
        if o.values.0 > o.values.1 {
            return Err("an offence's values are not in order");
        }
    }
    Ok(())
}
