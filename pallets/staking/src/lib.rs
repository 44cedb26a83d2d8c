//! The staking pallet: BFT-DPoS with real stake (QOS whitepaper §2–3).
//! Owns `Staking.*` storage; tokens move through the tokens pallet's API.
//!
//! **Validators** are created by an owner account with a consensus key of
//! any scheme (hybrid included), a self-bond and a commission
//! `{rate, max_rate, max_change_rate}` (the rate changes at most once per
//! [`COMMISSION_CHANGE_INTERVAL_MS`]). A validator is *active* (in the set
//! the BFT engine runs with: the top `max_validators` by bonded tokens),
//! *inactive* (revoked by its owner, out of the top, too many missed
//! signatures in the keep-alive window, or caught double signing) or
//! *closed* (inactive for `survival_secs`: every bond goes through
//! unbonding and the record is deleted once empty). `activate_validator`
//! brings an inactive validator back (never a double signer).
//!
//! **Delegation** uses shares: a validator's bonded tokens (self-bond and
//! delegations alike) are divided into shares, a slash lowers the tokens
//! and leaves the shares, so every holder loses the same fraction. Rewards
//! accumulate per share ([`ValidatorInfo::reward_per_share`], F1-style:
//! the per-block hook touches the validators that signed, never a
//! delegation); a delegation settles whenever its shares change, when its
//! holder withdraws, and every `delegator_income_period` blocks through a
//! bounded work queue (paid out, or bonded again if it compounds).
//! `unbond` releases tokens after `unbond_period` blocks; `redelegate`
//! moves them at once to another active validator (no chained
//! redelegation while one into the source is maturing). Unbonding and
//! redelegated tokens stay slashable for offences before they moved.
//!
//! **Each block** carries its parent's commit certificate (Tendermint's
//! `LastCommit`, inherent `parjust0`) and its proposer's index (inherent
//! `proposer`): the pallet checks the certificate against the validator set
//! of the parent's height, mints the block's inflation from the genesis
//! phases, pays the proposer bonus, the community share, and the rest to
//! the validators that signed in proportion to their bonded stake, counts
//! missed signatures in the keep-alive window, and deactivates and slashes
//! a validator that fell below it. Double signs recorded by the evidence
//! pallet are slashed once per (validator, height). The set the engine runs
//! with is `Consensus_config`; a change in block `n` is in force from
//! `n + 2`, and the sets of the last `MAX_EVIDENCE_AGE` heights are kept
//! so evidence and certificates are checked against the set of their
//! height.
//!
//! **Accounts.** Bonded tokens (and unbonding ones) sit in the pseudo-account
//! [`bonded_account`], undistributed rewards and commission in
//! [`reward_account`], and the community pool (inflation's community share,
//! leftovers of finished phases, slashed tokens, rounding dust) in
//! [`community_account`]; no key derives any of them. Rounding always goes
//! against the payee: what a settlement rounds off stays in the reward
//! account (the documented dust account, checked by `try_state` never to
//! fall below what is owed).
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
pub mod block;
pub mod genesis;
pub mod params;
pub mod stake;
#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use qstack_consensus_primitives::CommitCertificate;
use qstack_core::{AccountId, Balance, BlockNumber, PublicKey};
use qstack_runtime_primitives::DispatchError;
use qstack_support::{constants, storage, Dispatch, DispatchContext, InherentData};
use scale_info::TypeInfo;

pub use genesis::GenesisConfig;

/// This pallet's permanent index in every qstack runtime.
pub const PALLET_INDEX: u8 = 8;

/// Parts per billion (a rate: `1_000_000_000` is 100 %).
pub type Perbill = u32;
/// 100 % in [`Perbill`].
pub const BILLION: Perbill = 1_000_000_000;

constants! {
    /// Most validators (of any status) at once.
    MaxCandidates: pub const MAX_CANDIDATES: u32 = 1_000;
    /// Least time between two commission changes of one validator (ms).
    CommissionChangeInterval: pub const COMMISSION_CHANGE_INTERVAL_MS: u64 = 86_400_000;
    /// Most unbondings and maturing redelegations one account has at once.
    MaxPendingPerAccount: pub const MAX_PENDING_PER_ACCOUNT: u32 = 16;
    /// Most delegations (the self-bond included) one validator takes.
    MaxDelegatorsPerValidator: pub const MAX_DELEGATORS_PER_VALIDATOR: u32 = 512;
    /// Most unbondings and redelegations leaving one validator at once (a
    /// closing validator's delegations unbond beyond it, bounded by the
    /// delegations it had): bounds the work of a slash.
    MaxPendingPerValidator: pub const MAX_PENDING_PER_VALIDATOR: u32 = 512;
    /// Most queued tasks (payouts, releases, closures) done per block.
    MaxTasksPerBlock: pub const MAX_TASKS_PER_BLOCK: u32 = 64;
    /// Most bytes of a validator's description.
    MaxDescription: pub const MAX_DESCRIPTION: u32 = 256;
    /// Most inflation phases.
    MaxPhases: pub const MAX_PHASES: u32 = 64;
}

/// Scale of [`ValidatorInfo::reward_per_share`]: reward per share × 10^18.
pub const REWARD_SCALE: u128 = 1_000_000_000_000_000_000;

/// The staking pallet, as the runtime composes it.
pub struct Pallet;

impl qstack_support::Pallet for Pallet {
    const NAME: &'static str = "Staking";
    const INDEX: u8 = PALLET_INDEX;
    const GENESIS_KEYS: &'static [&'static str] = &["staking"];
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
        block::on_initialize(number)
    }
    fn on_finalize() -> Result<(), &'static str> {
        block::on_finalize()
    }
    /// The parent's commit certificate (`parjust0`) and the proposer's
    /// index (`proposer`), as one [`Call::NoteCommit`]; no inherent on a
    /// chain without validators, or when the author passes neither.
    fn create_inherent(data: &InherentData) -> Option<Call> {
        block::create_inherent(data)
    }
    fn is_inherent(call: &Call) -> bool {
        matches!(call, Call::NoteCommit { .. })
    }
    fn try_state() -> Result<(), &'static str> {
        stake::try_state()
    }
    fn owned_objects(out: &mut alloc::collections::BTreeMap<AccountId, u32>) {
        stake::owned_objects(out)
    }
}

/// A validator's commission on its delegators' rewards.
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
pub struct Commission {
    /// The rate now.
    pub rate: Perbill,
    /// The highest rate it may ever set.
    pub max_rate: Perbill,
    /// The most one change may move the rate.
    pub max_change_rate: Perbill,
}

/// Why a validator is inactive.
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
pub enum InactiveReason {
    /// Its owner revoked it.
    #[codec(index = 0)]
    Revoked,
    /// It signed fewer than `voting_status_least` of the keep-alive window.
    #[codec(index = 1)]
    Downtime,
    /// It signed two conflicting messages (it can never be activated again).
    #[codec(index = 2)]
    DoubleSign,
    /// It is not among the top `max_validators` by bonded tokens.
    #[codec(index = 3)]
    NotElected,
}

/// A validator's status.
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
pub enum Status {
    /// Signs blocks, earns, takes delegations.
    #[codec(index = 0)]
    Active,
    /// Out of the set since `since` (ms); closes `survival_secs` later.
    #[codec(index = 1)]
    Inactive {
        /// Why.
        reason: InactiveReason,
        /// When it became inactive (ms, block time).
        since: u64,
    },
    /// Closed: its bonds are being returned through unbonding.
    #[codec(index = 2)]
    Closed,
}

/// A validator.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ValidatorInfo {
    /// Consensus key (any scheme).
    pub key: PublicKey,
    /// Bonded tokens (self-bond and delegations, after slashes).
    pub tokens: Balance,
    /// Shares issued for them.
    pub shares: Balance,
    /// Commission.
    pub commission: Commission,
    /// When the commission last changed (ms).
    pub commission_changed: u64,
    /// Free text (moniker, website…), at most [`MAX_DESCRIPTION`] bytes.
    pub description: Vec<u8>,
    /// Status.
    pub status: Status,
    /// Block it was created in.
    pub created: BlockNumber,
    /// Cumulative delegator reward per share × [`REWARD_SCALE`] (wrapping:
    /// only differences are meaningful).
    pub reward_per_share: u128,
    /// Remainder of the last accumulation, in 1/[`REWARD_SCALE`] units.
    pub reward_remainder: u128,
    /// Commission earned and not yet paid to the owner.
    pub commission_due: Balance,
    /// Blocks counted in the keep-alive window since it last (re)started.
    pub window_counted: u32,
    /// Missed signatures among the last `voting_status_len` counted blocks.
    pub window_missed: u32,
}

impl ValidatorInfo {
    /// A new active validator holding only its owner's `self_bond` (one
    /// share per token), created in block `created` at time `changed` (ms).
    pub fn new(
        key: PublicKey,
        self_bond: Balance,
        commission: Commission,
        description: Vec<u8>,
        created: BlockNumber,
        changed: u64,
    ) -> Self {
        ValidatorInfo {
            key,
            tokens: self_bond,
            shares: self_bond,
            commission,
            commission_changed: changed,
            description,
            status: Status::Active,
            created,
            reward_per_share: 0,
            reward_remainder: 0,
            commission_due: 0,
            window_counted: 0,
            window_missed: 0,
        }
    }
}

/// One delegation (the owner's self-bond is one too).
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
pub struct Delegation {
    /// Shares of the validator.
    pub shares: Balance,
    /// Whether rewards are bonded again instead of paid out.
    pub compound: bool,
    /// The validator's `reward_per_share` when this last settled.
    pub reward_start: u128,
    /// When the periodic payout next visits it.
    pub next_payout: BlockNumber,
}

/// Tokens on their way back to a delegator.
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
pub struct Unbonding {
    /// Who gets them.
    pub delegator: AccountId,
    /// How many (lowered by slashes for offences before `created`).
    pub tokens: Balance,
    /// Block the unbonding started in.
    pub created: BlockNumber,
    /// Block they are released in.
    pub release: BlockNumber,
}

/// A redelegation, kept until it matures so the source's earlier offences
/// still reach the moved tokens.
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
pub struct Redelegation {
    /// Who moved.
    pub delegator: AccountId,
    /// Where to.
    pub to: AccountId,
    /// Shares received at `to`.
    pub shares: Balance,
    /// Block it happened in.
    pub created: BlockNumber,
    /// Block it matures in.
    pub mature: BlockNumber,
}

/// A member of a validator set as the engine and the checks see it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct SetMember {
    /// The validator's owner.
    pub owner: AccountId,
    /// Consensus key.
    pub public: PublicKey,
    /// Voting power: bonded tokens ÷ `power_reduction`.
    pub power: u64,
}

/// One validator as `Consensus_config` hands it to the BFT engine (the
/// engine's `Validator` encoding).
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct EngineValidator {
    /// Consensus key.
    pub public: PublicKey,
    /// Voting power.
    pub power: u64,
}

/// An inflation phase (the whitepaper's `inflation_phrases`).
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
pub struct Phase {
    /// When it ends (ms since the Unix epoch).
    pub end_time: u64,
    /// Tokens it mints in all.
    pub total_amount: Balance,
    /// Tokens it minted so far.
    pub applied_amount: Balance,
}

/// Work the per-block queue does later.
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
pub enum Task {
    /// Pay (or compound) a delegation's rewards; a closed validator's
    /// delegation is unbonded instead.
    #[codec(index = 0)]
    Payout {
        /// Validator.
        validator: AccountId,
        /// Delegator.
        delegator: AccountId,
    },
    /// Release an unbonding.
    #[codec(index = 1)]
    Release {
        /// Validator it left.
        validator: AccountId,
        /// Its id.
        id: u64,
    },
    /// Forget a matured redelegation.
    #[codec(index = 2)]
    Mature {
        /// Source validator.
        from: AccountId,
        /// Its id.
        id: u64,
    },
    /// Close a validator inactive since `since`, if it still is.
    #[codec(index = 3)]
    Close {
        /// The validator.
        validator: AccountId,
        /// When it became inactive.
        since: u64,
    },
}

/// The pallet's parameters (genesis; governance will change them).
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
    /// Size of the active set.
    pub max_validators: u32,
    /// Blocks in the keep-alive window.
    pub voting_status_len: u32,
    /// Least signatures in the window to stay active.
    pub voting_status_least: u32,
    /// Seconds an inactive validator survives before it closes.
    pub survival_secs: u64,
    /// Blocks an unbonding (or redelegation) takes to mature.
    pub unbond_period: u32,
    /// Blocks between periodic delegator payouts.
    pub delegator_income_period: u32,
    /// Share of each block's mint for its proposer.
    pub proposer_reward_rate: Perbill,
    /// Share of each block's mint for the community pool.
    pub community_reward_rate: Perbill,
    /// Slash for a double sign.
    pub double_sign_slash: Perbill,
    /// Slash for downtime.
    pub downtime_slash: Perbill,
    /// Least self-bond of a new validator.
    pub min_self_bond: Balance,
    /// Least first delegation.
    pub min_delegation: Balance,
    /// Tokens per unit of voting power.
    pub power_reduction: Balance,
    /// Block time assumed until blocks are observed (ms).
    pub block_time_ms: u64,
}

impl Default for Params {
    /// The shipped QOS chain's values where it had them.
    fn default() -> Self {
        Params {
            max_validators: 21,
            voting_status_len: 10_000,
            voting_status_least: 7_000,
            survival_secs: 28_800,
            unbond_period: 604_800,
            delegator_income_period: 600,
            proposer_reward_rate: 40_000_000,
            community_reward_rate: 10_000_000,
            double_sign_slash: 200_000_000,
            downtime_slash: 100_000,
            min_self_bond: 1_000_000_000_000,
            min_delegation: 1_000_000_000_000,
            power_reduction: 1_000_000_000_000,
            block_time_ms: 1_000,
        }
    }
}

/// Calls.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Call {
    /// Creates a validator owned by the signer, bonding `self_bond`.
    #[codec(index = 0)]
    CreateValidator {
        /// Consensus key (any scheme; unused by other validators).
        key: PublicKey,
        /// Self-bond (≥ `min_self_bond`).
        self_bond: Balance,
        /// Commission.
        commission: Commission,
        /// Description (≤ [`MAX_DESCRIPTION`] bytes).
        description: Vec<u8>,
    },
    /// Bonds more of the owner's own tokens.
    #[codec(index = 1)]
    Bond {
        /// Tokens.
        amount: Balance,
    },
    /// Delegates to an active validator.
    #[codec(index = 2)]
    Delegate {
        /// The validator (its owner).
        validator: AccountId,
        /// Tokens.
        amount: Balance,
        /// Bond rewards again instead of paying them out.
        compound: bool,
    },
    /// Starts unbonding `amount` tokens of a delegation (`None`: all).
    #[codec(index = 3)]
    Unbond {
        /// The validator.
        validator: AccountId,
        /// Tokens (`None`: the whole delegation).
        amount: Option<Balance>,
    },
    /// Moves tokens of a delegation to another active validator at once.
    #[codec(index = 4)]
    Redelegate {
        /// From.
        from: AccountId,
        /// To.
        to: AccountId,
        /// Tokens (`None`: the whole delegation).
        amount: Option<Balance>,
    },
    /// The owner takes its validator out of the set.
    #[codec(index = 5)]
    RevokeValidator,
    /// The owner brings its inactive validator back.
    #[codec(index = 6)]
    ActivateValidator,
    /// The owner changes its commission rate.
    #[codec(index = 7)]
    SetCommission {
        /// New rate.
        rate: Perbill,
    },
    /// Pays the signer's rewards from `validator` (and, for its owner, the
    /// commission due).
    #[codec(index = 8)]
    WithdrawRewards {
        /// The validator.
        validator: AccountId,
    },
    /// Turns compounding of a delegation on or off.
    #[codec(index = 9)]
    SetCompound {
        /// The validator.
        validator: AccountId,
        /// Compound.
        compound: bool,
    },
    /// The block's `LastCommit` and proposer (inherent only, once per block).
    #[codec(index = 10)]
    NoteCommit {
        /// The parent's commit certificate.
        certificate: Option<CommitCertificate>,
        /// The proposer's index in the set of this block's height.
        proposer: Option<u32>,
    },
    /// Replaces the parameters (root: a governance parameter change),
    /// checked as genesis checks them.
    #[codec(index = 11)]
    SetParams {
        /// The new parameters.
        params: Params,
    },
    /// Replaces the inflation phase in force and every later one (root: a
    /// governance parameter change); see [`params::set_phases`].
    #[codec(index = 12)]
    SetInflationPhases {
        /// (end time in ms since the Unix epoch, tokens to mint) of each.
        phases: Vec<(u64, Balance)>,
    },
}

/// Weights (picoseconds of reference execution): three times the native
/// times `benches/staking.rs` measured (release, this repository's 2-core
/// machine, on a trie-committed state of 200 validators and 1,000
/// delegations): create_validator 268 µs; a new delegation 58 µs, a top-up
/// 29 µs, an unbonding 55 µs, a redelegation 99 µs, a withdrawal 6 µs; the
/// commit inherent 1.13 ms with 21 sr25519 validators against 1.03 ms of
/// bare signature checks (5.64 against 5.49 ms with 100), flat in the
/// number of delegations; 64 queued payouts (the per-block bound) 2.52 ms
/// out of 10,000 delegations.
pub mod weights {
    /// One queued task (a payout settled and paid or compounded, a release,
    /// a closure), charged to the block in `on_initialize`.
    pub const QUEUE_TASK: u64 = 120_000_000;
    /// Creating a validator.
    pub const CREATE_VALIDATOR: u64 = 800_000_000;
    /// Bond, delegate, unbond, redelegate, withdraw: settle + move tokens
    /// (the redelegation's, the dearest).
    pub const DELEGATION: u64 = 300_000_000;
    /// Revoke, activate, commission, compounding (a record read and written).
    pub const VALIDATOR_UPDATE: u64 = 90_000_000;
    /// The commit inherent: fixed part (mint, distribution bookkeeping).
    pub const NOTE_COMMIT_BASE: u64 = 150_000_000;
    /// Per signer of the parent's certificate (a signature check, up to a
    /// hybrid key's, and the keep-alive window).
    pub const NOTE_COMMIT_PER_VALIDATOR: u64 = 180_000_000;
}

impl Dispatch for Call {
    fn weight(&self) -> u64 {
        match self {
            Call::CreateValidator { .. } => weights::CREATE_VALIDATOR,
            Call::Bond { .. }
            | Call::Delegate { .. }
            | Call::Unbond { .. }
            | Call::Redelegate { .. }
            | Call::WithdrawRewards { .. } => weights::DELEGATION,
            Call::RevokeValidator
            | Call::ActivateValidator
            | Call::SetCommission { .. }
            | Call::SetCompound { .. } => weights::VALIDATOR_UPDATE,
            Call::NoteCommit { certificate, .. } => {
                let n = certificate
                    .as_ref()
                    .map_or(0, |c| u64::try_from(c.precommits.len()).unwrap_or(u64::MAX));
                weights::NOTE_COMMIT_BASE
                    .saturating_add(weights::NOTE_COMMIT_PER_VALIDATOR.saturating_mul(n.max(1)))
            }
            Call::SetParams { .. } | Call::SetInflationPhases { .. } => weights::VALIDATOR_UPDATE,
        }
    }
    /// Storage touched, at most: the validator(s), the delegation, the
    /// pools' balances, the pending counters and queue ends; the commit
    /// inherent reads the set and every member's record and window page.
    fn db_access(&self) -> qstack_support::DbAccess {
        match self {
            Call::NoteCommit { .. } => {
                let members = MAX_CANDIDATES.min(256);
                qstack_support::DbAccess::new(
                    32u32.saturating_add(members.saturating_mul(4)),
                    16u32.saturating_add(members.saturating_mul(3)),
                )
            }
            Call::Redelegate { .. } => qstack_support::DbAccess::new(44, 32),
            _ => qstack_support::DbAccess::new(32, 24),
        }
    }
    fn is_known(index: u8) -> bool {
        index <= 12
    }
    fn is_parameter_change(&self) -> bool {
        matches!(
            self,
            Call::SetParams { .. } | Call::SetInflationPhases { .. }
        )
    }
    fn dispatch(self, ctx: &DispatchContext<'_>) -> Result<(), DispatchError> {
        match self {
            Call::SetParams { params } => {
                ctx.origin.ensure_root()?;
                return params::set_params(params).map_err(Into::into);
            }
            Call::SetInflationPhases { phases } => {
                ctx.origin.ensure_root()?;
                return params::set_phases(phases).map_err(Into::into);
            }
            _ => {}
        }
        if let Call::NoteCommit {
            certificate,
            proposer,
        } = self
        {
            ctx.origin.ensure_none()?;
            return block::note_commit(certificate, proposer).map_err(Into::into);
        }
        let who = ctx.origin.ensure_signed()?;
        // All of a call's writes, or none: settling rewards pays out before
        // a later check may refuse the call.
        qstack_support::transactional(|| self.dispatch_signed(&who)).map_err(Into::into)
    }
}

impl Call {
    fn dispatch_signed(self, who: &AccountId) -> Result<(), Error> {
        let who = *who;
        match self {
            Call::CreateValidator {
                key,
                self_bond,
                commission,
                description,
            } => stake::create_validator(&who, key, self_bond, commission, description),
            Call::Bond { amount } => stake::delegate(&who, &who, amount, None),
            Call::Delegate {
                validator,
                amount,
                compound,
            } => stake::delegate(&who, &validator, amount, Some(compound)),
            Call::Unbond { validator, amount } => stake::unbond(&who, &validator, amount),
            Call::Redelegate { from, to, amount } => stake::redelegate(&who, &from, &to, amount),
            Call::RevokeValidator => stake::revoke(&who),
            Call::ActivateValidator => stake::activate(&who),
            Call::SetCommission { rate } => stake::set_commission(&who, rate),
            Call::WithdrawRewards { validator } => stake::withdraw_rewards(&who, &validator),
            Call::SetCompound {
                validator,
                compound,
            } => stake::set_compound(&who, &validator, compound),
            // Handled (with their own origins) in `dispatch`.
            Call::NoteCommit { .. } | Call::SetParams { .. } | Call::SetInflationPhases { .. } => {
                Ok(())
            }
        }
    }
}

/// Errors.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Error {
    /// The signer already owns a validator.
    #[codec(index = 0)]
    AlreadyValidator,
    /// Another validator uses this consensus key.
    #[codec(index = 1)]
    KeyInUse,
    /// The self-bond is below `min_self_bond`.
    #[codec(index = 2)]
    SelfBondTooLow,
    /// The commission is inconsistent (rate > max_rate, max_rate > 100 %,
    /// max_change_rate > max_rate).
    #[codec(index = 3)]
    BadCommission,
    /// The description is longer than [`MAX_DESCRIPTION`].
    #[codec(index = 4)]
    DescriptionTooLong,
    /// [`MAX_CANDIDATES`] validators exist.
    #[codec(index = 5)]
    TooManyValidators,
    /// No such validator.
    #[codec(index = 6)]
    NoValidator,
    /// The validator is not active (delegations and redelegations go only
    /// to active validators).
    #[codec(index = 7)]
    NotActive,
    /// The validator is not inactive.
    #[codec(index = 8)]
    NotInactive,
    /// A double signer is never activated again.
    #[codec(index = 9)]
    Tombstoned,
    /// Its bonded tokens would not make the top `max_validators`.
    #[codec(index = 10)]
    NotElectable,
    /// The amount is zero or below `min_delegation` for a new delegation.
    #[codec(index = 11)]
    AmountTooLow,
    /// No such delegation.
    #[codec(index = 12)]
    NoDelegation,
    /// More than the delegation holds.
    #[codec(index = 13)]
    InsufficientBond,
    /// The owner of an active validator must keep a self-bond (revoke it
    /// first).
    #[codec(index = 14)]
    SelfBondRequired,
    /// [`MAX_PENDING_PER_ACCOUNT`] unbondings and redelegations pending for
    /// the account, or [`MAX_PENDING_PER_VALIDATOR`] leaving the validator.
    #[codec(index = 15)]
    TooManyPending,
    /// A redelegation into the source validator is still maturing.
    #[codec(index = 16)]
    ChainedRedelegation,
    /// Redelegating to the same validator.
    #[codec(index = 17)]
    SameValidator,
    /// The commission changed less than 24 h ago.
    #[codec(index = 18)]
    CommissionTooSoon,
    /// The change exceeds `max_change_rate` or the rate `max_rate`.
    #[codec(index = 19)]
    CommissionChangeTooLarge,
    /// The validator's tokens were slashed to nothing: its shares are worthless.
    #[codec(index = 20)]
    ValidatorWipedOut,
    /// The certificate is for another block than the parent.
    #[codec(index = 21)]
    WrongCommit,
    /// The certificate does not verify against the parent's validator set.
    #[codec(index = 22)]
    BadCommit,
    /// The proposer index is outside the set of this height.
    #[codec(index = 23)]
    UnknownProposer,
    /// A second commit inherent in one block.
    #[codec(index = 24)]
    AlreadyNoted,
    /// An amount overflowed.
    #[codec(index = 25)]
    Overflow,
    /// The tokens pallet refused a movement (balance, reserve).
    #[codec(index = 26)]
    Transfer,
    /// The validator holds [`MAX_DELEGATORS_PER_VALIDATOR`] delegations.
    #[codec(index = 27)]
    TooManyDelegators,
    /// Parameters out of range (as genesis would refuse them).
    #[codec(index = 28)]
    BadParams,
    /// Inflation phases that do not end in rising order after now, more
    /// than `MAX_PHASES`, none, or a first phase below what the phase in
    /// force minted already.
    #[codec(index = 29)]
    BadPhases,
}

qstack_runtime_primitives::impl_module_error!(Error, PALLET_INDEX);

/// Events.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Event {
    /// A validator was created.
    #[codec(index = 0)]
    ValidatorCreated {
        /// Owner.
        owner: AccountId,
        /// Self-bond.
        self_bond: Balance,
    },
    /// A validator's status changed.
    #[codec(index = 1)]
    StatusChanged {
        /// Owner.
        validator: AccountId,
        /// The new status.
        status: Status,
    },
    /// Tokens were bonded to a validator.
    #[codec(index = 2)]
    Delegated {
        /// Who.
        delegator: AccountId,
        /// To whom.
        validator: AccountId,
        /// Tokens.
        tokens: Balance,
    },
    /// An unbonding started.
    #[codec(index = 3)]
    Unbonding {
        /// Who.
        delegator: AccountId,
        /// From whom.
        validator: AccountId,
        /// Tokens.
        tokens: Balance,
        /// Released in this block.
        release: BlockNumber,
    },
    /// Unbonded tokens came back.
    #[codec(index = 4)]
    Released {
        /// Who.
        delegator: AccountId,
        /// Tokens.
        tokens: Balance,
    },
    /// Tokens moved between validators.
    #[codec(index = 5)]
    Redelegated {
        /// Who.
        delegator: AccountId,
        /// From.
        from: AccountId,
        /// To.
        to: AccountId,
        /// Tokens.
        tokens: Balance,
    },
    /// Rewards were paid, or bonded again.
    #[codec(index = 6)]
    Rewarded {
        /// Who.
        delegator: AccountId,
        /// Validator.
        validator: AccountId,
        /// Tokens.
        amount: Balance,
        /// Whether they were bonded again.
        compounded: bool,
    },
    /// Commission was paid to a validator's owner.
    #[codec(index = 7)]
    CommissionPaid {
        /// Owner.
        validator: AccountId,
        /// Tokens.
        amount: Balance,
    },
    /// A validator was slashed.
    #[codec(index = 8)]
    Slashed {
        /// Owner.
        validator: AccountId,
        /// Why (`DoubleSign` or `Downtime`).
        reason: InactiveReason,
        /// Height of the offence.
        height: u64,
        /// Tokens taken (bonded, unbonding and redelegated together).
        amount: Balance,
    },
    /// A block's inflation.
    #[codec(index = 9)]
    Minted {
        /// Tokens minted.
        amount: Balance,
        /// To the proposer.
        proposer_bonus: Balance,
        /// To the validators that signed the parent.
        to_validators: Balance,
        /// To the community pool (its share, no-signer shares, dust).
        to_community: Balance,
    },
    /// An inflation phase ended; its leftover went to the community pool.
    #[codec(index = 10)]
    PhaseEnded {
        /// Its index.
        index: u32,
        /// Tokens it had not minted.
        leftover: Balance,
    },
    /// The validator set changed; in force from `from`.
    #[codec(index = 11)]
    SetChanged {
        /// First height it signs.
        from: u64,
        /// Members.
        members: u32,
    },
    /// A validator's commission rate changed.
    #[codec(index = 12)]
    CommissionChanged {
        /// Owner.
        validator: AccountId,
        /// New rate.
        rate: Perbill,
    },
    /// Root replaced the parameters.
    #[codec(index = 13)]
    ParamsSet,
    /// Root replaced the inflation phases from the one in force on.
    #[codec(index = 14)]
    PhasesSet {
        /// Index of the first replaced phase.
        from: u32,
        /// Phases now, past ones included.
        phases: u32,
    },
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

storage! { pallet = "Staking";
    /// Parameters.
    pub ParamsOf: value Params;
    /// Validators by owner.
    pub Validators: map Blake2_128Concat AccountId => ValidatorInfo;
    /// Number of validators (any status).
    pub ValidatorCount: value u32 [default];
    /// The owner of each consensus key (by the key's account id).
    pub KeyOwner: map Blake2_128Concat AccountId => AccountId;
    /// Delegations by validator, then delegator.
    pub Delegations: double_map Blake2_128Concat AccountId, Blake2_128Concat AccountId => Delegation;
    /// Unbondings by the validator they left, then id.
    pub Unbondings: double_map Blake2_128Concat AccountId, Twox64Concat u64 => Unbonding;
    /// Redelegations by source validator, then id.
    pub Redelegations: double_map Blake2_128Concat AccountId, Twox64Concat u64 => Redelegation;
    /// Block until which a redelegation of (delegator) into (validator) matures.
    pub Maturing: double_map Blake2_128Concat AccountId, Blake2_128Concat AccountId => BlockNumber;
    /// Unbondings and maturing redelegations per account.
    pub Pending: map Blake2_128Concat AccountId => u32 [default];
    /// Unbondings and maturing redelegations leaving each validator.
    pub PendingOf: map Blake2_128Concat AccountId => u32 [default];
    /// Delegations each validator holds.
    pub DelegatorCount: map Blake2_128Concat AccountId => u32 [default];
    /// Next unbonding / redelegation id.
    pub NextId: value u64 [default];
    /// Work queues by kind (0 payouts, 1 releases, 2 maturities, 3
    /// closures), FIFO by sequence: (due block or ms, task).
    pub Queue: double_map Twox64Concat u8, Twox64Concat u64 => (u64, Task);
    /// Each queue's (head, tail) sequence numbers.
    pub QueueEnds: map Twox64Concat u8 => (u64, u64) [default];
    /// Keep-alive window pages: validator → page → 1024 bits (1 = missed).
    pub MissedPages: double_map Blake2_128Concat AccountId, Twox64Concat u32 => Vec<u8>;
    /// The active set now (in index order).
    pub CurrentSet: value Vec<SetMember> [default];
    /// Sets by the first height they sign.
    pub Sets: map Twox64Concat u64 => Vec<SetMember>;
    /// First heights of the kept sets, ascending.
    pub SetStarts: value Vec<u64> [default];
    /// Validators created or activated in this block (scratch).
    pub Joining: value Vec<AccountId> [default];
    /// Whether the set must be elected again at the end of this block (scratch).
    pub SetDirty: value bool;
    /// Whether this block noted its commit (scratch).
    pub CommitNoted: value bool;
    /// Offences slashed: validator → offence height.
    pub SlashedAt: double_map Blake2_128Concat AccountId, Twox64Concat u64 => bool;
    /// Inflation phases.
    pub Phases: value Vec<Phase> [default];
    /// The phase in force (index into `Phases`).
    pub CurrentPhase: value u32 [default];
    /// Timestamp of block 1 (for the observed average block time).
    pub FirstBlockTime: value u64;
    /// Tokens minted by inflation so far (leftovers included).
    pub Minted: value Balance [default];
    /// Whether the chain runs BFT with this pallet's set (genesis named
    /// validators): then every block from #2 on must note its parent's
    /// commit. A chain without genesis validators (dev) never requires it.
    pub BftChain: value bool;
}

/// The pseudo-account holding bonded and unbonding tokens.
pub fn bonded_account() -> AccountId {
    AccountId(qstack_io::hashing::blake2_256(b"qstack/staking/bonded"))
}

/// The pseudo-account holding undistributed rewards and commission (and the
/// rounding dust of settlements).
pub fn reward_account() -> AccountId {
    AccountId(qstack_io::hashing::blake2_256(b"qstack/staking/rewards"))
}

/// The community pool's pseudo-account.
pub fn community_account() -> AccountId {
    AccountId(qstack_io::hashing::blake2_256(b"qstack/staking/community"))
}

/// The parameters in force.
pub fn params() -> Params {
    ParamsOf::get().unwrap_or_default()
}

/// `amount × rate`, rounded down.
pub fn apply_rate(amount: Balance, rate: Perbill) -> Balance {
    qstack_support::math::mul_div(
        amount,
        u128::from(rate),
        u128::from(BILLION),
        qstack_support::math::Round::Down,
    )
    .unwrap_or(0)
}

pub use block::{consensus_config, set_at};
pub use stake::{delegation_tokens, pending_rewards};
