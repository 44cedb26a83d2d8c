//! The governance pallet: proposals, deposits, stake-weighted votes and
//! their enactment (the shipped QOS chain's `gov` module, corrected). Owns
//! `Governance.*` storage; tokens move through the tokens pallet, voting
//! power is read from the staking pallet.
//!
//! **Proposals** have a kind, and the kind fixes the level whose
//! [`LevelParams`] apply: [`ProposalKind::Text`] is `Normal`;
//! `ParameterChange` (a SCALE-encoded root call of the runtime, which the
//! runtime decodes and dispatches) and `CommunitySpend` are `Important`;
//! `RuntimeUpgrade` (authorises a code hash) is `Critical`.
//!
//! **Deposits.** The proposer pays at least `min_proposer_deposit ×
//! min_deposit` when submitting; anyone may add to it during the deposit
//! period (`max_deposit_period` blocks). When the total reaches
//! `min_deposit` the proposal enters voting for `voting_period` blocks; if
//! the deposit period ends first it is dropped and its deposits go to the
//! community pool. Deposits sit in [`deposit_account`], a pseudo-account no
//! key derives; `try_state` checks that it holds exactly the live
//! proposals' deposits.
//!
//! **Votes** (`Yes`, `No`, `Abstain`, `NoWithVeto`) come from accounts with
//! bonded stake at an active validator; a voter may change its vote while
//! voting lasts. At most [`MAX_VOTES`] accounts vote on a proposal, besides
//! the owners of active validators, who always may. At the end the tally ([`tally`]) weighs each vote by
//! bonded tokens of the active validators at that block: a validator's
//! owner votes with the validator's tokens minus those of the delegators
//! who voted themselves, and a delegator's vote counts for its delegations
//! (QOS whitepaper §3.3.2: "when their delegator decided to speak in a
//! governance vote, delegators' will overwrite their validators'"). The
//! rules ([`rules`]) compare ratios exactly, by cross-multiplication (the
//! shipped chain divided integers, so its quorum failed unless every token
//! voted).
//!
//! **Ending** runs in `on_initialize`: the proposals whose period is over,
//! oldest deadline first, at most [`MAX_ENDINGS_PER_BLOCK`] and, beyond
//! the first, only while their bounded weight fits in
//! [`MAX_ENDING_WEIGHT`] (the rest wait for the next block); the measured
//! weight is charged to the block before any transaction. Passed proposals
//! take effect at once (community spends, upgrade authorisations) or are
//! queued for the runtime ([`take_enactments`], [`note_enacted`]). Ended
//! proposals keep their final tally for explorers; the oldest beyond
//! [`MAX_ENDED`] are pruned.
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

pub mod api;
pub mod genesis;
pub mod proposal;
pub mod rules;
pub mod tally;
#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use qstack_core::{AccountId, Balance, BlockNumber, H256};
use qstack_runtime_primitives::DispatchError;
use qstack_support::{constants, storage, Dispatch, DispatchContext};
use scale_info::TypeInfo;

pub use genesis::GenesisConfig;
pub use pallet_staking::{Perbill, BILLION};
pub use proposal::{note_enacted, take_enactments};

/// This pallet's permanent index in every qstack runtime.
pub const PALLET_INDEX: u8 = 9;

/// A proposal's number (consecutive from 0).
pub type ProposalId = u64;

/// One QS in base units (10^12, the unit staking's defaults count in).
pub const QS: Balance = 1_000_000_000_000;

constants! {
    /// Most proposals in their deposit or voting period at once.
    MaxLive: pub const MAX_LIVE: u32 = 64;
    /// Most voters per proposal, owners of active validators aside (they
    /// may always vote, so filling the places cannot silence the
    /// validators): bounds the tally, whose worst case at 21 validators
    /// with 512 delegations each stays near a third of a 1 s block's weight.
    MaxVotes: pub const MAX_VOTES: u32 = 256;
    /// Most depositors per proposal: bounds the refunds at its end.
    MaxDepositors: pub const MAX_DEPOSITORS: u32 = 128;
    /// Ended proposals kept (with their final tally); older ones are pruned.
    MaxEnded: pub const MAX_ENDED: u32 = 256;
    /// Most bytes of a title (at least one).
    MaxTitle: pub const MAX_TITLE: u32 = 128;
    /// Most bytes of a description.
    MaxDescription: pub const MAX_DESCRIPTION: u32 = 2_048;
    /// Most bytes of a parameter change's encoded call.
    MaxCall: pub const MAX_CALL: u32 = 4_096;
    /// Most proposals ended per block.
    MaxEndingsPerBlock: pub const MAX_ENDINGS_PER_BLOCK: u32 = 8;
    /// Weight of endings per block beyond which further due proposals wait
    /// for the next block (the first due one always ends): 100 ms, under a
    /// third of a 1 s block's weight limit.
    MaxEndingWeight: pub const MAX_ENDING_WEIGHT: u64 = 100_000_000_000;
    /// Most passed parameter changes waiting for the runtime to dispatch.
    MaxEnactments: pub const MAX_ENACTMENTS: u32 = 64;
}

/// The governance pallet, as the runtime composes it.
pub struct Pallet;

impl qstack_support::Pallet for Pallet {
    const NAME: &'static str = "Governance";
    const INDEX: u8 = PALLET_INDEX;
    const GENESIS_KEYS: &'static [&'static str] = &["governance"];
    type Call = Call;
    type Event = Event;
    type Error = Error;
    type Genesis = GenesisConfig;

    fn build_genesis(config: &GenesisConfig) -> Result<(), qstack_support::GenesisError> {
        genesis::build(config)
    }
    fn storage() -> Vec<qstack_support::storage::EntryMeta> {
        storage_metadata()
    }
    fn constants() -> Vec<qstack_support::ConstantMeta> {
        constants_metadata()
    }
    fn on_initialize(number: BlockNumber) {
        proposal::on_initialize(number)
    }
    fn try_state() -> Result<(), &'static str> {
        proposal::try_state()
    }
}

/// How much a proposal matters: each level has its own [`LevelParams`].
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Debug,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
pub enum Level {
    /// Text proposals.
    #[codec(index = 0)]
    Normal,
    /// Parameter changes and community spends.
    #[codec(index = 1)]
    Important,
    /// Runtime upgrades.
    #[codec(index = 2)]
    Critical,
}

/// The rules of one level. Rates are [`Perbill`] (`BILLION` = 100 %).
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Debug,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
pub struct LevelParams {
    /// Deposits a proposal needs to enter voting.
    pub min_deposit: Balance,
    /// Share of `min_deposit` the proposer pays when submitting.
    pub min_proposer_deposit: Perbill,
    /// Blocks the deposit period lasts.
    pub max_deposit_period: BlockNumber,
    /// Blocks the voting period lasts.
    pub voting_period: BlockNumber,
    /// Least share of all active bonded tokens that must vote.
    pub quorum: Perbill,
    /// Share of the non-abstaining vote `Yes` must exceed to pass.
    pub threshold: Perbill,
    /// Share of the vote `NoWithVeto` must exceed to veto.
    pub veto: Perbill,
    /// Share of the deposits burned (to the community pool) when the quorum
    /// is missed.
    pub burn_rate: Perbill,
}

impl LevelParams {
    /// The shipped QOS chain's rates with `min_deposit` and a voting period
    /// of `voting_period` blocks; deposit period 14 days at 1 s blocks.
    pub const fn qos(min_deposit: Balance, voting_period: BlockNumber) -> Self {
        LevelParams {
            min_deposit,
            min_proposer_deposit: 334_000_000,
            max_deposit_period: 1_209_600,
            voting_period,
            quorum: 334_000_000,
            threshold: 500_000_000,
            veto: 334_000_000,
            burn_rate: 500_000_000,
        }
    }
}

/// The parameters of the three levels.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Debug,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
pub struct Params {
    /// [`Level::Normal`].
    pub normal: LevelParams,
    /// [`Level::Important`].
    pub important: LevelParams,
    /// [`Level::Critical`].
    pub critical: LevelParams,
}

impl Default for Params {
    /// QOS's rates (quorum 0.334, threshold 0.5, veto 0.334, burn rate 0.5,
    /// proposer deposit 0.334); deposits 10 / 100 / 1,000 QS; a 14-day
    /// deposit period and 7 / 10 / 14-day voting periods, in 1 s blocks.
    fn default() -> Self {
        Params {
            normal: LevelParams::qos(10 * QS, 604_800),
            important: LevelParams::qos(100 * QS, 864_000),
            critical: LevelParams::qos(1_000 * QS, 1_209_600),
        }
    }
}

impl Params {
    /// The parameters of `level`.
    pub fn of(&self, level: Level) -> &LevelParams {
        match level {
            Level::Normal => &self.normal,
            Level::Important => &self.important,
            Level::Critical => &self.critical,
        }
    }
}

/// What a proposal does if it passes.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum ProposalKind {
    /// Nothing: a signal.
    #[codec(index = 0)]
    Text,
    /// A root call of the runtime, SCALE-encoded (at most [`MAX_CALL`]
    /// bytes). This pallet cannot decode it: the runtime takes it from
    /// [`take_enactments`] and dispatches it as root.
    #[codec(index = 1)]
    ParameterChange {
        /// The encoded `RuntimeCall`.
        call: Vec<u8>,
    },
    /// Pays `amount` from the community pool to `to`.
    #[codec(index = 2)]
    CommunitySpend {
        /// The payee.
        to: AccountId,
        /// Tokens (more than zero).
        amount: Balance,
    },
    /// Authorises `code_hash` as the next runtime.
    #[codec(index = 3)]
    RuntimeUpgrade {
        /// blake2-256 of the Wasm code.
        code_hash: H256,
    },
}

impl ProposalKind {
    /// The level the kind is decided at.
    pub fn level(&self) -> Level {
        match self {
            ProposalKind::Text => Level::Normal,
            ProposalKind::ParameterChange { .. } | ProposalKind::CommunitySpend { .. } => {
                Level::Important
            }
            ProposalKind::RuntimeUpgrade { .. } => Level::Critical,
        }
    }
}

/// A vote.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Debug,
    PartialOrd,
    Ord,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
pub enum VoteOption {
    /// For.
    #[codec(index = 0)]
    Yes,
    /// Against.
    #[codec(index = 1)]
    No,
    /// Counts for the quorum only.
    #[codec(index = 2)]
    Abstain,
    /// Against, and burn the deposits if more than `veto` of the vote.
    #[codec(index = 3)]
    NoWithVeto,
}

/// Where a proposal is in its life.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Debug,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
pub enum ProposalStatus {
    /// Collecting deposits until `deposit_end`.
    #[codec(index = 0)]
    Deposit,
    /// Collecting votes until `voting_end`.
    #[codec(index = 1)]
    Voting,
    /// Passed (deposits refunded).
    #[codec(index = 2)]
    Passed,
    /// Rejected (deposits refunded, or `burn_rate` of them burned when the
    /// quorum was missed).
    #[codec(index = 3)]
    Rejected,
    /// Vetoed (deposits burned).
    #[codec(index = 4)]
    Vetoed,
    /// Not enough deposits in time (deposits burned).
    #[codec(index = 5)]
    Dropped,
}

impl ProposalStatus {
    /// Whether the proposal is still in its deposit or voting period.
    pub fn is_live(self) -> bool {
        matches!(self, ProposalStatus::Deposit | ProposalStatus::Voting)
    }
}

/// Bonded tokens behind each option, and all the active validators' tokens.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Debug,
    Default,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
pub struct Tally {
    /// `Yes`.
    pub yes: Balance,
    /// `No`.
    pub no: Balance,
    /// `Abstain`.
    pub abstain: Balance,
    /// `NoWithVeto`.
    pub veto: Balance,
    /// Bonded tokens of every active validator (the quorum's base).
    pub total: Balance,
}

impl Tally {
    /// Tokens that voted (any option). Never above `total`, so no overflow.
    pub fn voted(&self) -> Balance {
        self.yes
            .saturating_add(self.no)
            .saturating_add(self.abstain)
            .saturating_add(self.veto)
    }

    /// Adds `tokens` to `option`.
    pub fn add(&mut self, option: VoteOption, tokens: Balance) {
        let slot = match option {
            VoteOption::Yes => &mut self.yes,
            VoteOption::No => &mut self.no,
            VoteOption::Abstain => &mut self.abstain,
            VoteOption::NoWithVeto => &mut self.veto,
        };
        *slot = slot.saturating_add(tokens);
    }
}

/// A proposal.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Proposal {
    /// Who submitted it.
    pub proposer: AccountId,
    /// Title (1 to [`MAX_TITLE`] bytes).
    pub title: Vec<u8>,
    /// Description (at most [`MAX_DESCRIPTION`] bytes).
    pub description: Vec<u8>,
    /// What it does.
    pub kind: ProposalKind,
    /// Its level (fixed by the kind).
    pub level: Level,
    /// Where it is.
    pub status: ProposalStatus,
    /// Block it was submitted in.
    pub submitted: BlockNumber,
    /// First block past the deposit period.
    pub deposit_end: BlockNumber,
    /// Block voting started in.
    pub voting_start: Option<BlockNumber>,
    /// First block past the voting period (the tally's).
    pub voting_end: Option<BlockNumber>,
    /// Deposits made (held until it ends; kept afterwards as a record).
    pub total_deposit: Balance,
    /// Accounts that deposited.
    pub depositors: u32,
    /// Accounts that voted.
    pub voters: u32,
    /// The final tally (for proposals that were voted on).
    pub tally: Option<Tally>,
    /// Block it ended in.
    pub ended: Option<BlockNumber>,
}

impl Proposal {
    /// The block its current period ends at (`None` once ended).
    pub fn due(&self) -> Option<BlockNumber> {
        match self.status {
            ProposalStatus::Deposit => Some(self.deposit_end),
            ProposalStatus::Voting => self.voting_end,
            _ => None,
        }
    }
}

/// Calls.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Call {
    /// Submits a proposal with the proposer's initial deposit.
    #[codec(index = 0)]
    Submit {
        /// Title (1 to [`MAX_TITLE`] bytes).
        title: Vec<u8>,
        /// Description (at most [`MAX_DESCRIPTION`] bytes).
        description: Vec<u8>,
        /// What it does (fixes the level).
        kind: ProposalKind,
        /// Initial deposit (≥ `min_proposer_deposit × min_deposit`).
        deposit: Balance,
    },
    /// Adds to a proposal's deposits during its deposit period.
    #[codec(index = 1)]
    Deposit {
        /// The proposal.
        id: ProposalId,
        /// Tokens (more than zero).
        amount: Balance,
    },
    /// Votes on (or changes the vote on) a proposal during its voting
    /// period; the signer needs bonded stake at an active validator.
    #[codec(index = 2)]
    Vote {
        /// The proposal.
        id: ProposalId,
        /// The vote.
        option: VoteOption,
    },
    /// Replaces every level's parameters (root: itself a governance
    /// parameter change), checked as genesis checks them. Live proposals
    /// keep their periods; the new rules decide their tallies.
    #[codec(index = 3)]
    SetParams {
        /// The new parameters.
        params: Params,
    },
}

/// Weights (picoseconds of reference execution): three times the slowest
/// of three runs of `benches/governance.rs` (release, this repository's
/// 2-core machine, timings varying by up to 2× between runs, on a
/// trie-committed state of 21 active validators with 512 delegations
/// each): submit 91 µs (63 live, 2 KB description), a deposit 89 µs, a vote
/// 276 µs (stake found at the 21st member); a drop with 1 depositor
/// 153 µs, with 128 2.07 ms; the worst tally (277 votes, 5,796 lookups)
/// 29.9 ms, the owners' 21 votes 3.3 ms, 277 votes over self-bonds only
/// 2.9 ms, 277 votes walking 2,100 keys 16.3 ms. Solved per unit: 5.4 µs a
/// vote, 52 µs a validator, 4.7 µs a lookup, 6.5 µs a walked key, 15 µs a
/// depositor. At 100 validators the worst tally (356 votes, 35,500
/// lookups) took 229 ms: larger sets need a lower
/// [`MAX_VOTES`](crate::MAX_VOTES).
pub mod weights {
    /// Submitting (checks, one transfer, the proposal and queue written).
    pub const SUBMIT: u64 = 275_000_000;
    /// Adding a deposit (one transfer; may start voting).
    pub const DEPOSIT: u64 = 270_000_000;
    /// A vote (the stake check scans the active set).
    pub const VOTE: u64 = 830_000_000;
    /// Ending a proposal: fixed part (status, queues, pruning, enactment).
    pub const ENDING: u64 = 500_000_000;
    /// Ending: per depositor (a refund or burn transfer).
    pub const ENDING_PER_DEPOSITOR: u64 = 50_000_000;
    /// Tally: per vote (read, counted, deleted).
    pub const TALLY_PER_VOTE: u64 = 17_000_000;
    /// Tally: per active validator (its record and delegator count).
    pub const TALLY_PER_VALIDATOR: u64 = 160_000_000;
    /// Tally: per delegation looked up by voter.
    pub const TALLY_PER_LOOKUP: u64 = 15_000_000;
    /// Tally: per delegation key walked (twice a lookup, as the tally's
    /// choice between the two assumes).
    pub const TALLY_PER_WALKED: u64 = 30_000_000;
}

/// Most members of the active set a vote's stake check scans, for its
/// storage declaration: staking's commit inherent assumes the same bound.
pub const DECLARED_SET_MEMBERS: u32 = 256;

impl Dispatch for Call {
    fn weight(&self) -> u64 {
        match self {
            Call::Submit { .. } => weights::SUBMIT,
            Call::Deposit { .. } => weights::DEPOSIT,
            Call::Vote { .. } => weights::VOTE,
            Call::SetParams { .. } => weights::DEPOSIT,
        }
    }
    /// Storage touched, at most: the proposal, its deposit or vote entry,
    /// the live queue, the transfer's balances, reserves and events; a vote
    /// reads the active set and, per member, the signer's delegation.
    fn db_access(&self) -> qstack_support::DbAccess {
        match self {
            Call::Submit { .. } => qstack_support::DbAccess::new(32, 24),
            Call::Deposit { .. } => qstack_support::DbAccess::new(28, 20),
            Call::Vote { .. } => {
                qstack_support::DbAccess::new(8u32.saturating_add(DECLARED_SET_MEMBERS), 6)
            }
            Call::SetParams { .. } => qstack_support::DbAccess::new(2, 3),
        }
    }
    fn is_known(index: u8) -> bool {
        index <= 3
    }
    fn is_parameter_change(&self) -> bool {
        matches!(self, Call::SetParams { .. })
    }
    fn dispatch(self, ctx: &DispatchContext<'_>) -> Result<(), DispatchError> {
        if let Call::SetParams { params } = self {
            ctx.origin.ensure_root()?;
            genesis::check_params(&params).map_err(|_| Error::BadParams)?;
            ParamsOf::put(&params);
            deposit_event(Event::ParamsSet);
            return Ok(());
        }
        let who = ctx.origin.ensure_signed()?;
        // All of a call's writes, or none.
        qstack_support::transactional(|| match self {
            Call::Submit {
                title,
                description,
                kind,
                deposit,
            } => proposal::submit(&who, title, description, kind, deposit),
            Call::Deposit { id, amount } => proposal::deposit(&who, id, amount),
            Call::Vote { id, option } => proposal::vote(&who, id, option),
            // Root's, handled above.
            Call::SetParams { .. } => Err(DispatchError::BadOrigin),
        })
    }
}

/// Errors.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Error {
    /// The title is empty or longer than [`MAX_TITLE`].
    #[codec(index = 0)]
    BadTitle,
    /// The description is longer than [`MAX_DESCRIPTION`].
    #[codec(index = 1)]
    DescriptionTooLong,
    /// A parameter change's call is empty or longer than [`MAX_CALL`].
    #[codec(index = 2)]
    BadCall,
    /// A community spend of nothing, or to the community pool or the
    /// deposit account.
    #[codec(index = 3)]
    BadSpend,
    /// The deposit is zero, or the initial one below
    /// `min_proposer_deposit × min_deposit`.
    #[codec(index = 4)]
    DepositTooLow,
    /// [`MAX_LIVE`] proposals are in their deposit or voting period.
    #[codec(index = 5)]
    TooManyProposals,
    /// No such proposal.
    #[codec(index = 6)]
    NoProposal,
    /// The proposal is not in its deposit period.
    #[codec(index = 7)]
    NotInDepositPeriod,
    /// The proposal is not in its voting period.
    #[codec(index = 8)]
    NotInVotingPeriod,
    /// The proposal has [`MAX_DEPOSITORS`] depositors.
    #[codec(index = 9)]
    TooManyDepositors,
    /// The proposal has [`MAX_VOTES`] voters (only owners of active
    /// validators may still vote).
    #[codec(index = 10)]
    TooManyVotes,
    /// The signer has no bonded stake at any active validator: its vote
    /// would count for nothing.
    #[codec(index = 11)]
    NoStake,
    /// An amount overflowed.
    #[codec(index = 12)]
    Overflow,
    /// [`MAX_ENACTMENTS`] passed parameter changes wait for the runtime.
    #[codec(index = 13)]
    TooManyEnactments,
    /// A parameter change's call does not decode, or is not one of the
    /// runtime's parameter setters (a call needing another level, such as
    /// an upgrade, cannot ride on a parameter change).
    #[codec(index = 14)]
    NotAParameterChange,
    /// Level parameters out of range (as genesis would refuse them).
    #[codec(index = 15)]
    BadParams,
}

qstack_runtime_primitives::impl_module_error!(Error, PALLET_INDEX);

/// Events.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Event {
    /// A proposal was submitted.
    #[codec(index = 0)]
    Submitted {
        /// The proposal.
        id: ProposalId,
        /// Who.
        proposer: AccountId,
        /// Its level.
        level: Level,
        /// The initial deposit.
        deposit: Balance,
    },
    /// A deposit was added.
    #[codec(index = 1)]
    Deposited {
        /// The proposal.
        id: ProposalId,
        /// Who.
        who: AccountId,
        /// Tokens.
        amount: Balance,
        /// The proposal's deposits now.
        total: Balance,
    },
    /// The deposits reached `min_deposit`: voting is open.
    #[codec(index = 2)]
    VotingStarted {
        /// The proposal.
        id: ProposalId,
        /// First block past the voting period.
        end: BlockNumber,
    },
    /// A vote was cast or changed.
    #[codec(index = 3)]
    Voted {
        /// The proposal.
        id: ProposalId,
        /// Who.
        voter: AccountId,
        /// The vote.
        option: VoteOption,
    },
    /// A proposal passed (deposits refunded).
    #[codec(index = 4)]
    Passed {
        /// The proposal.
        id: ProposalId,
        /// The final tally.
        tally: Tally,
    },
    /// A proposal was rejected.
    #[codec(index = 5)]
    Rejected {
        /// The proposal.
        id: ProposalId,
        /// The final tally.
        tally: Tally,
        /// Deposits sent to the community pool (missed quorum, or refunds
        /// that could not be paid).
        burned: Balance,
    },
    /// A proposal was vetoed (deposits burned).
    #[codec(index = 6)]
    Vetoed {
        /// The proposal.
        id: ProposalId,
        /// The final tally.
        tally: Tally,
        /// Deposits sent to the community pool.
        burned: Balance,
    },
    /// A proposal's deposit period ended short of `min_deposit`.
    #[codec(index = 7)]
    Dropped {
        /// The proposal.
        id: ProposalId,
        /// Deposits sent to the community pool.
        burned: Balance,
    },
    /// A passed proposal took effect (for a parameter change: the runtime
    /// dispatched its call, with this result).
    #[codec(index = 8)]
    Enacted {
        /// The proposal.
        id: ProposalId,
        /// Whether it succeeded.
        ok: bool,
        /// Why not.
        error: Option<DispatchError>,
    },
    /// A passed proposal could not take effect (the community pool lacks
    /// the funds, or the enactment queue is full); nothing moved.
    #[codec(index = 9)]
    EnactmentFailed {
        /// The proposal.
        id: ProposalId,
        /// Why.
        error: DispatchError,
    },
    /// A passed parameter change is queued for the runtime to dispatch.
    #[codec(index = 10)]
    EnactmentQueued {
        /// The proposal.
        id: ProposalId,
    },
    /// A refund could not be paid (the depositor's emptied account cannot
    /// take less than the existential deposit): it went to the community
    /// pool.
    #[codec(index = 11)]
    RefundFailed {
        /// The proposal.
        id: ProposalId,
        /// The depositor.
        who: AccountId,
        /// The refund.
        amount: Balance,
    },
    /// Root replaced the levels' parameters.
    #[codec(index = 12)]
    ParamsSet,
}

impl qstack_support::PalletEvent for Event {}

pub(crate) fn deposit_event(e: Event) {
    pallet_system::deposit_event_encoded(PALLET_INDEX, &e.encode());
}

pub(crate) fn ensure(cond: bool, e: Error) -> Result<(), Error> {
    if cond {
        Ok(())
    } else {
        Err(e)
    }
}

storage! { pallet = "Governance";
    /// Parameters of the three levels.
    pub ParamsOf: value Params;
    /// Proposals, live and the last `MAX_ENDED` ended.
    pub Proposals: map Twox64Concat ProposalId => Proposal;
    /// Next proposal id.
    pub NextId: value ProposalId [default];
    /// Live proposals as (block their period ends, id), ascending: the
    /// ending queue (at most `MAX_LIVE`).
    pub Live: value Vec<(BlockNumber, ProposalId)> [default];
    /// Ended proposals still kept, oldest first (at most `MAX_ENDED`).
    pub Ended: value Vec<ProposalId> [default];
    /// Deposits of live proposals: proposal → depositor → tokens.
    pub Deposits: double_map Twox64Concat ProposalId, Blake2_128Concat AccountId => Balance;
    /// Votes on proposals being voted on: proposal → voter → vote.
    pub Votes: double_map Twox64Concat ProposalId, Blake2_128Concat AccountId => VoteOption;
    /// Calls of passed parameter changes, waiting for the runtime.
    pub Enactments: map Twox64Concat ProposalId => Vec<u8>;
    /// Order of `Enactments`, oldest first (at most `MAX_ENACTMENTS`).
    pub EnactmentQueue: value Vec<ProposalId> [default];
}

/// The pseudo-account holding live proposals' deposits.
pub fn deposit_account() -> AccountId {
    AccountId(qstack_io::hashing::blake2_256(
        b"qstack/governance/deposits",
    ))
}

/// The parameters in force.
pub fn params() -> Params {
    ParamsOf::get().unwrap_or_default()
}
