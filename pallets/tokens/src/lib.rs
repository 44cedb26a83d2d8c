//! The tokens pallet: the native token (balances, total issuance, existential
//! deposit, transaction fees split between block author and treasury) and
//! tokens issued by accounts under the QSC standard (issue, mint, burn,
//! transfer, approve, transfer_from, allowances, freezing of a holder's
//! amount, pause, global freeze, irrevocable no-freeze). Owns `Tokens.*`
//! storage only; other pallets move value through the small public API
//! below ([`transfer`], [`reducible`], [`withdraw_fee`], …), never its storage.
//!
//! Issued tokens are identified by issuer and currency code, as on the XRP
//! Ledger; the issuer is an ordinary holder of its own token (QSC/ERC-20
//! style: it mints to any account, including itself, and may burn what it
//! holds).
//!
//! Every function that changes state checks everything first and writes only
//! when it will succeed: on error it has written nothing, so other pallets
//! may call the public API without a storage transaction of their own.
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

pub mod balances;
pub mod fees;
mod issued;
mod native;
pub mod pseudo;
pub mod reserve;
#[cfg(feature = "std")]
pub mod testing;
#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use qstack_core::{AccountId, Balance};
use qstack_runtime_primitives::{AssetId, DispatchError, TokenCode};
use qstack_support::{constants, storage, Dispatch, DispatchContext, SignedWith};
use scale_info::TypeInfo;

pub mod genesis;
pub use genesis::GenesisConfig;

pub use fees::FeeConfig;
pub use issued::{genesis_mint, validate_metadata};
pub use native::{endow, free_balance, mint, total_issuance, withdraw_fee};
pub use qstack_runtime_primitives::tokens::{Holding, TokenBalance, TokenDetails};
pub use reserve::{
    ensure_reserve, required_reserve, reserves, settle_locks, settle_reserves, Reserves,
};

/// This pallet's permanent index.
pub const PALLET_INDEX: u8 = 2;
constants! {
    /// The account reserve (existential deposit) of a chain whose spec sets
    /// none: 1 QS (the XRP Ledger's base reserve). The smallest native balance an account may hold; below
    /// it the account is removed. A chain's own value is `Tokens.Reserves`
    /// (chain spec `tokens.reserves.account`; see [`reserves`]).
    ExistentialDeposit: pub const EXISTENTIAL_DEPOSIT: Balance = 1_000_000_000_000;
    /// The owner reserve of a chain whose spec sets none: 0.2 QS locked per
    /// object an account owns (the XRP Ledger's owner reserve). A chain's
    /// own value is `Tokens.Reserves` (`tokens.reserves.owner`).
    DefaultOwnerReserve: pub const DEFAULT_OWNER_RESERVE: Balance = 200_000_000_000;
    /// Longest issued-token name, in bytes of UTF-8.
    MaxNameLength: pub const MAX_NAME_LENGTH: u32 = 64;
    /// Longest issued-token symbol, in bytes of UTF-8.
    MaxSymbolLength: pub const MAX_SYMBOL_LENGTH: u32 = 12;
    /// Most decimals an issued token may declare (a `u128` has 39 digits:
    /// with more decimals no whole token could exist).
    MaxDecimals: pub const MAX_DECIMALS: u8 = 38;
    /// Most tokens one account may issue (each is a storage entry it
    /// created).
    MaxTokensPerIssuer: pub const MAX_TOKENS_PER_ISSUER: u32 = 64;
    /// Most issued tokens one account may hold at once (each holding is a
    /// storage entry; `token_balances` lists them all). A holding whose free
    /// and frozen amounts are both zero is removed and frees its slot. The
    /// accounts pallet's deposit rules (refusing unwanted tokens) keep
    /// strangers from filling it.
    MaxHoldingsPerAccount: pub const MAX_HOLDINGS_PER_ACCOUNT: u32 = 128;
    /// Most non-zero allowances one owner may grant, over all tokens.
    MaxAllowancesPerOwner: pub const MAX_ALLOWANCES_PER_OWNER: u32 = 128;
}
/// [`MAX_NAME_LENGTH`] as a length.
pub const MAX_NAME_LEN: usize = MAX_NAME_LENGTH as usize;
/// [`MAX_SYMBOL_LENGTH`] as a length.
pub const MAX_SYMBOL_LEN: usize = MAX_SYMBOL_LENGTH as usize;

/// The tokens pallet, as the runtime composes it. Its genesis reads the
/// patch's `balances` (Substrate's native endowment shape) and `tokens`.
pub struct Pallet;

impl qstack_support::Pallet for Pallet {
    const NAME: &'static str = "Tokens";
    const INDEX: u8 = PALLET_INDEX;
    const GENESIS_KEYS: &'static [&'static str] = &["balances", "tokens"];
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
    fn try_state() -> Result<(), &'static str> {
        try_state()
    }
    fn owned_objects(out: &mut alloc::collections::BTreeMap<AccountId, u32>) {
        owned_objects(out)
    }
}

impl qstack_support::PalletEvent for Event {}

/// Calls. Indices are permanent: a new call takes a new index.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Call {
    /// Moves `value` of the native token from the signer to `dest`.
    #[codec(index = 0)]
    Transfer {
        /// Recipient.
        dest: AccountId,
        /// Amount, in the smallest unit.
        #[codec(compact)]
        value: Balance,
        /// Destination tag: tells a shared recipient (an exchange) whose
        /// deposit this is.
        dest_tag: Option<u32>,
    },
    /// Issues a new token under `code`, with the signer as issuer. Nothing
    /// exists until minted.
    #[codec(index = 1)]
    Issue {
        /// Currency code, unique per issuer.
        code: TokenCode,
        /// Full name (UTF-8, 1..=64 bytes, no control characters).
        name: Vec<u8>,
        /// Symbol (UTF-8, 1..=12 bytes, no whitespace or control characters).
        symbol: Vec<u8>,
        /// Decimals a wallet shows (at most 38).
        decimals: u8,
        /// Cap on the supply in existence; `None` for none.
        max_supply: Option<Balance>,
    },
    /// Creates `amount` of the signer's token `code` in `dest`'s account.
    #[codec(index = 2)]
    Mint {
        /// The signer's token.
        code: TokenCode,
        /// Recipient (may be the issuer itself).
        dest: AccountId,
        /// Amount.
        #[codec(compact)]
        amount: Balance,
        /// Destination tag.
        dest_tag: Option<u32>,
    },
    /// Destroys `amount` of the signer's free balance of a token.
    #[codec(index = 3)]
    Burn {
        /// The token's issuer.
        issuer: AccountId,
        /// The token's code.
        code: TokenCode,
        /// Amount.
        #[codec(compact)]
        amount: Balance,
    },
    /// Moves `amount` of an issued token from the signer to `dest`.
    #[codec(index = 4)]
    TransferToken {
        /// The token's issuer.
        issuer: AccountId,
        /// The token's code.
        code: TokenCode,
        /// Recipient.
        dest: AccountId,
        /// Amount.
        #[codec(compact)]
        amount: Balance,
        /// Destination tag.
        dest_tag: Option<u32>,
    },
    /// Lets `spender` move up to `amount` of the signer's token (replaces any
    /// earlier allowance; zero removes it).
    #[codec(index = 5)]
    Approve {
        /// The token's issuer.
        issuer: AccountId,
        /// The token's code.
        code: TokenCode,
        /// Who may spend.
        spender: AccountId,
        /// The new allowance.
        #[codec(compact)]
        amount: Balance,
    },
    /// Moves `amount` of `owner`'s token to `dest`, spending the signer's
    /// allowance from `owner`.
    #[codec(index = 6)]
    TransferFrom {
        /// The token's issuer.
        issuer: AccountId,
        /// The token's code.
        code: TokenCode,
        /// Whose tokens move.
        owner: AccountId,
        /// Recipient.
        dest: AccountId,
        /// Amount.
        #[codec(compact)]
        amount: Balance,
        /// Destination tag.
        dest_tag: Option<u32>,
    },
    /// Raises the signer's allowance to `spender` by `delta`.
    #[codec(index = 7)]
    IncreaseAllowance {
        /// The token's issuer.
        issuer: AccountId,
        /// The token's code.
        code: TokenCode,
        /// Who may spend.
        spender: AccountId,
        /// Added to the allowance.
        #[codec(compact)]
        delta: Balance,
    },
    /// Lowers the signer's allowance to `spender` by `delta` (not below zero).
    #[codec(index = 8)]
    DecreaseAllowance {
        /// The token's issuer.
        issuer: AccountId,
        /// The token's code.
        code: TokenCode,
        /// Who may spend.
        spender: AccountId,
        /// Taken from the allowance.
        #[codec(compact)]
        delta: Balance,
    },
    /// Freezes `amount` (or, with `None`, all) of `holder`'s free balance of
    /// the signer's token. Refused after no-freeze.
    #[codec(index = 9)]
    Freeze {
        /// The signer's token.
        code: TokenCode,
        /// Whose balance.
        holder: AccountId,
        /// How much; `None` = the whole free balance.
        amount: Option<Balance>,
    },
    /// Unfreezes `amount` (or, with `None`, all) of `holder`'s frozen balance
    /// of the signer's token. Allowed after no-freeze.
    #[codec(index = 10)]
    Unfreeze {
        /// The signer's token.
        code: TokenCode,
        /// Whose balance.
        holder: AccountId,
        /// How much; `None` = everything frozen.
        amount: Option<Balance>,
    },
    /// Pauses the signer's token: no transfer, mint or burn until unpaused.
    /// Refused after no-freeze.
    #[codec(index = 11)]
    Pause {
        /// The signer's token.
        code: TokenCode,
    },
    /// Ends a pause.
    #[codec(index = 12)]
    Unpause {
        /// The signer's token.
        code: TokenCode,
    },
    /// Global freeze of the signer's token: holders may only send it to the
    /// issuer (and the issuer to holders). Refused after no-freeze.
    #[codec(index = 13)]
    GlobalFreeze {
        /// The signer's token.
        code: TokenCode,
    },
    /// Ends a global freeze.
    #[codec(index = 14)]
    GlobalUnfreeze {
        /// The signer's token.
        code: TokenCode,
    },
    /// Gives up freezing, global freeze and pause of the signer's token, for
    /// good. Existing freezes can still be lifted.
    #[codec(index = 15)]
    NoFreeze {
        /// The signer's token.
        code: TokenCode,
    },
    /// Gives the signer's whole holding of a token (free and frozen) back to
    /// its issuer and removes the holding, freeing its slot and its
    /// reserve. Works while the token is paused or frozen and whatever the
    /// issuer's deposit rules: a holder can always rid itself of tokens it
    /// never asked for.
    #[codec(index = 16)]
    GiveBack {
        /// The token's issuer.
        issuer: AccountId,
        /// The token's code.
        code: TokenCode,
    },
    /// Sets how fees are shared between block authors and the treasury
    /// (root: a governance parameter change).
    #[codec(index = 17)]
    SetFeeSplit {
        /// The new split (`author_percent` at most 100).
        config: FeeConfig,
    },
    /// Sets the account and owner reserves (root: a governance parameter
    /// change). Accounts already below a raised reserve keep their
    /// balance; they cannot create objects until they cover it.
    #[codec(index = 18)]
    SetReserves {
        /// The new reserves (the account reserve above zero).
        reserves: Reserves,
    },
}

/// Declared weights (picoseconds of reference execution), from the pallet's
/// criterion benchmarks (`cargo bench -p pallet-tokens`): the median native
/// time of one dispatch on a populated in-memory trie, events included
/// (measured on the 2-core reference machine, in the comments), times 3 for
/// Wasm execution and a disk-backed trie, rounded up. Re-run the benchmarks
/// and update these when a call changes.
pub mod weights {
    /// Native transfer (measured 2.8 µs).
    pub const TRANSFER: u64 = 9_000_000;
    /// Issue (7.6 µs).
    pub const ISSUE: u64 = 23_000_000;
    /// Mint (4.2 µs).
    pub const MINT: u64 = 13_000_000;
    /// Burn (4.1 µs).
    pub const BURN: u64 = 13_000_000;
    /// Issued-token transfer (5.7 µs).
    pub const TRANSFER_TOKEN: u64 = 18_000_000;
    /// Approve, increase or decrease an allowance (4.1 µs).
    pub const APPROVE: u64 = 13_000_000;
    /// Transfer from an allowance (8.1 µs).
    pub const TRANSFER_FROM: u64 = 25_000_000;
    /// Freeze or unfreeze (4.2 and 4.3 µs).
    pub const FREEZE: u64 = 13_000_000;
    /// Pause, unpause, global freeze and unfreeze, no-freeze (2.8 µs: a pause
    /// and an unpause took 5.5 µs).
    pub const SET_FLAG: u64 = 9_000_000;
    /// Give a holding back to its issuer: two holdings written and a
    /// sponsor released, as a token transfer (5.7 µs) plus one entry.
    pub const GIVE_BACK: u64 = 20_000_000;
}

impl Dispatch for Call {
    /// Storage touched, at most: the most any test path made (every
    /// dispatch in the tests is checked against this), plus a quarter.
    /// Deposit rules of the recipient (flags, allow-list, pre-authorised
    /// senders, requests) are in the counts of calls that credit another
    /// account.
    fn db_access(&self) -> qstack_support::DbAccess {
        use qstack_support::DbAccess as D;
        match self {
            Call::Transfer { .. } => D::new(14, 6),
            Call::Issue { .. } => D::new(9, 8),
            Call::Mint { .. } => D::new(14, 10),
            Call::Burn { .. } => D::new(9, 9),
            Call::TransferToken { .. } => D::new(24, 15),
            Call::Approve { .. }
            | Call::IncreaseAllowance { .. }
            | Call::DecreaseAllowance { .. } => D::new(11, 8),
            Call::TransferFrom { .. } => D::new(28, 18),
            Call::Freeze { .. } | Call::Unfreeze { .. } => D::new(6, 4),
            Call::Pause { .. }
            | Call::Unpause { .. }
            | Call::GlobalFreeze { .. }
            | Call::GlobalUnfreeze { .. }
            | Call::NoFreeze { .. } => D::new(4, 4),
            Call::GiveBack { .. } => D::new(9, 9),
            Call::SetFeeSplit { .. } | Call::SetReserves { .. } => D::new(3, 4),
        }
    }
    fn is_known(index: u8) -> bool {
        index <= 18
    }
    fn is_parameter_change(&self) -> bool {
        matches!(self, Call::SetFeeSplit { .. } | Call::SetReserves { .. })
    }
    fn dispatch(self, ctx: &DispatchContext<'_>) -> Result<(), DispatchError> {
        dispatch(self, ctx)
    }
    /// Weight (see [`weights`]).
    fn weight(&self) -> u64 {
        use weights::*;
        // Calls that credit another account also pay for its deposit rules.
        let deposit = pallet_accounts::weights::DEPOSIT_CHECK_WEIGHT;
        match self {
            Call::Transfer { .. } => TRANSFER.saturating_add(deposit),
            Call::Issue { .. } => ISSUE,
            Call::Mint { .. } => MINT.saturating_add(deposit),
            Call::Burn { .. } => BURN,
            Call::TransferToken { .. } => TRANSFER_TOKEN.saturating_add(deposit),
            Call::Approve { .. }
            | Call::IncreaseAllowance { .. }
            | Call::DecreaseAllowance { .. } => APPROVE,
            Call::TransferFrom { .. } => TRANSFER_FROM.saturating_add(deposit),
            Call::Freeze { .. } | Call::Unfreeze { .. } => FREEZE,
            Call::Pause { .. }
            | Call::Unpause { .. }
            | Call::GlobalFreeze { .. }
            | Call::GlobalUnfreeze { .. }
            | Call::NoFreeze { .. } => SET_FLAG,
            Call::GiveBack { .. } => GIVE_BACK,
            Call::SetFeeSplit { .. } | Call::SetReserves { .. } => SET_FLAG,
        }
    }
}

/// Errors. Indices are permanent; the Rust discriminant equals the index (a
/// test checks it) because `DispatchError` carries `error as u8`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Error {
    /// The sender's free balance is too low (frozen amounts never count).
    #[codec(index = 0)]
    InsufficientBalance,
    /// The native transfer would leave or create an account below the
    /// existential deposit.
    #[codec(index = 1)]
    ExistentialDeposit,
    /// A balance or supply would overflow.
    #[codec(index = 2)]
    Overflow,
    /// The amount is zero, or there is nothing to freeze or unfreeze.
    #[codec(index = 3)]
    ZeroAmount,
    /// No such token (for issuer calls: the signer has issued no token with this code).
    #[codec(index = 4)]
    UnknownToken,
    /// The signer already issued a token with this code.
    #[codec(index = 5)]
    TokenExists,
    /// The currency code is malformed.
    #[codec(index = 6)]
    BadTokenCode,
    /// The name is empty, longer than 64 bytes, not UTF-8 or has control characters.
    #[codec(index = 7)]
    BadName,
    /// The symbol is empty, longer than 12 bytes, not UTF-8 or has whitespace
    /// or control characters.
    #[codec(index = 8)]
    BadSymbol,
    /// More than 38 decimals.
    #[codec(index = 9)]
    BadDecimals,
    /// A maximum supply of zero.
    #[codec(index = 10)]
    BadMaxSupply,
    /// Minting would take the supply above the token's maximum.
    #[codec(index = 11)]
    ExceedsMaxSupply,
    /// The issuer already has the most tokens allowed (64).
    #[codec(index = 12)]
    TooManyTokens,
    /// The recipient already holds the most tokens allowed (128).
    #[codec(index = 13)]
    TooManyHoldings,
    /// The owner already grants the most allowances allowed (128).
    #[codec(index = 14)]
    TooManyAllowances,
    /// The spender's allowance is lower than the amount.
    #[codec(index = 15)]
    InsufficientAllowance,
    /// The token is paused.
    #[codec(index = 16)]
    Paused,
    /// The token is globally frozen: holders may only send it to the issuer.
    #[codec(index = 17)]
    GlobalFrozen,
    /// The issuer has given up freezing and pausing this token.
    #[codec(index = 18)]
    NoFreezeDeclared,
    /// The token is already paused.
    #[codec(index = 19)]
    AlreadyPaused,
    /// The token is not paused.
    #[codec(index = 20)]
    NotPaused,
    /// The token is already globally frozen.
    #[codec(index = 21)]
    AlreadyGloballyFrozen,
    /// The token is not globally frozen.
    #[codec(index = 22)]
    NotGloballyFrozen,
    /// No-freeze is already declared.
    #[codec(index = 23)]
    AlreadyNoFreeze,
    /// The amount to freeze exceeds the holder's free balance.
    #[codec(index = 24)]
    FreezeExceedsBalance,
    /// The amount to unfreeze exceeds the holder's frozen balance.
    #[codec(index = 25)]
    UnfreezeExceedsFrozen,
    /// Only the issuer's master key may give up freezing for good (`no_freeze`),
    /// not its regular key or signer list.
    #[codec(index = 26)]
    MasterKeyRequired,
    /// The account's free native balance does not cover its reserve: the
    /// account reserve plus the owner reserve for each object it owns
    /// (`account_info` shows both). Fund it, or remove objects it owns.
    #[codec(index = 27)]
    InsufficientReserve,
    /// An account that owns objects cannot be emptied: remove them first
    /// (its reserve stays locked while they exist).
    #[codec(index = 28)]
    OwnsObjects,
    /// The signer holds none of this token.
    #[codec(index = 29)]
    NothingHeld,
    /// A token backed by pool assets (an LP token) cannot move: a backing
    /// asset is paused or globally frozen, or frozen for the sender.
    #[codec(index = 30)]
    BackingFrozen,
    /// The account already belongs to another pallet's object.
    #[codec(index = 31)]
    PseudoExists,
    /// An amount of this asset is frozen for the account: the asset cannot
    /// enter or leave a pool for it.
    #[codec(index = 32)]
    Frozen,
    /// A parameter out of range: an author share above 100 %, or a zero
    /// account reserve.
    #[codec(index = 33)]
    BadParameter,
}

qstack_runtime_primitives::impl_module_error!(Error, PALLET_INDEX);

/// Events. Indices are permanent.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Event {
    /// Value moved (native or issued).
    #[codec(index = 0)]
    Transfer {
        /// The asset.
        asset: AssetId,
        /// Sender.
        from: AccountId,
        /// Recipient.
        to: AccountId,
        /// Amount.
        amount: Balance,
        /// Destination tag given by the sender.
        dest_tag: Option<u32>,
    },
    /// An allowance was set (also after `transfer_from` spent from it).
    #[codec(index = 1)]
    Approval {
        /// The asset.
        asset: AssetId,
        /// Whose tokens.
        owner: AccountId,
        /// Who may spend them.
        spender: AccountId,
        /// The allowance now.
        amount: Balance,
    },
    /// Part of a holder's balance was frozen.
    #[codec(index = 2)]
    Frozen {
        /// The asset.
        asset: AssetId,
        /// The holder.
        holder: AccountId,
        /// Frozen by this call.
        amount: Balance,
        /// The holder's frozen amount now.
        frozen: Balance,
    },
    /// Part of a holder's frozen balance was released.
    #[codec(index = 3)]
    Unfrozen {
        /// The asset.
        asset: AssetId,
        /// The holder.
        holder: AccountId,
        /// Released by this call.
        amount: Balance,
        /// The holder's frozen amount now.
        frozen: Balance,
    },
    /// A token was paused.
    #[codec(index = 4)]
    Paused {
        /// The asset.
        asset: AssetId,
    },
    /// A token was globally frozen.
    #[codec(index = 5)]
    GlobalFreeze {
        /// The asset.
        asset: AssetId,
    },
    /// An issuer gave up freezing and pausing a token, for good.
    #[codec(index = 6)]
    NoFreeze {
        /// The asset.
        asset: AssetId,
    },
    /// A token was issued.
    #[codec(index = 7)]
    Issued {
        /// The asset.
        asset: AssetId,
        /// Name.
        name: Vec<u8>,
        /// Symbol.
        symbol: Vec<u8>,
        /// Decimals.
        decimals: u8,
        /// Supply cap.
        max_supply: Option<Balance>,
    },
    /// Tokens were created.
    #[codec(index = 8)]
    Minted {
        /// The asset.
        asset: AssetId,
        /// Recipient.
        to: AccountId,
        /// Amount.
        amount: Balance,
        /// Destination tag.
        dest_tag: Option<u32>,
    },
    /// Tokens were destroyed.
    #[codec(index = 9)]
    Burned {
        /// The asset.
        asset: AssetId,
        /// Whose.
        from: AccountId,
        /// Amount.
        amount: Balance,
    },
    /// A pause ended.
    #[codec(index = 10)]
    Unpaused {
        /// The asset.
        asset: AssetId,
    },
    /// A global freeze ended.
    #[codec(index = 11)]
    GlobalFreezeLifted {
        /// The asset.
        asset: AssetId,
    },
    /// A transaction fee was paid in the native token and shared out.
    #[codec(index = 12)]
    FeePaid {
        /// Payer.
        who: AccountId,
        /// Taken from the payer (the fee, plus dust swept from an emptied account).
        amount: Balance,
        /// The block author, if the block names one.
        author: Option<AccountId>,
        /// Paid to the author.
        to_author: Balance,
        /// Paid to the treasury.
        to_treasury: Balance,
        /// Destroyed (a share no recipient could take).
        burned: Balance,
    },
    /// A holder gave its whole holding back to the issuer.
    #[codec(index = 13)]
    GivenBack {
        /// The asset.
        asset: AssetId,
        /// The former holder.
        holder: AccountId,
        /// Free amount returned.
        free: Balance,
        /// Frozen amount returned (free at the issuer).
        frozen: Balance,
    },
    /// Root changed the fee split.
    #[codec(index = 14)]
    FeeSplitSet {
        /// The new split.
        config: FeeConfig,
    },
    /// Root changed the reserves.
    #[codec(index = 15)]
    ReservesSet {
        /// The new reserves.
        reserves: Reserves,
    },
}

/// Native balance of an account, kept in `System.Account` (Substrate's
/// `pallet_balances::AccountData` shape).
pub use pallet_system::AccountData;

storage! { pallet = "Tokens";
    /// Sum of all native balances.
    pub TotalIssuance: value Balance [default];
    /// Issued tokens by issuer and code.
    pub Token: double_map Blake2_128Concat AccountId, Blake2_128Concat TokenCode => TokenDetails;
    /// Number of tokens each account has issued (at most
    /// [`MAX_TOKENS_PER_ISSUER`]).
    pub TokenCount: map Blake2_128Concat AccountId => u32 [default];
    /// Issued-token holdings (free and frozen) by holder and asset (never
    /// native, never empty).
    pub Holdings: double_map Blake2_128Concat AccountId, Blake2_128Concat AssetId => Holding [default];
    /// Number of issued tokens each account holds (at most
    /// [`MAX_HOLDINGS_PER_ACCOUNT`]).
    pub HoldingCount: map Blake2_128Concat AccountId => u32 [default];
    /// Allowances by (asset, owner) and spender (never zero).
    pub Allowance: double_map Blake2_128Concat (AssetId, AccountId), Blake2_128Concat AccountId => Balance [default];
    /// Number of allowances each owner grants (at most
    /// [`MAX_ALLOWANCES_PER_OWNER`]).
    pub AllowanceCount: map Blake2_128Concat AccountId => u32 [default];
    /// Share of fees paid to the block author, and the treasury account
    /// (set at genesis; absent = [`FeeConfig::default`]).
    pub FeeSplit: value FeeConfig;
    /// The chain's account and owner reserves (set at genesis; absent =
    /// [`Reserves::default`]).
    pub ReserveConfig as "Reserves": value Reserves;
    /// Who pays the owner reserve of a holding, when not the holder itself:
    /// the sender or issuer whose transfer or mint created it (an
    /// unsolicited holding costs its creator, not the holder).
    pub HoldingSponsor: double_map Blake2_128Concat AccountId, Blake2_128Concat AssetId => AccountId;
    /// Accounts of other pallets' objects (AMM pools), with the assets that
    /// back the tokens they issue: no key signs for them, they keep no
    /// reserve, and a token they issue moves only when its backing assets
    /// could (see [`pseudo`]).
    pub PseudoAccount: map Blake2_128Concat AccountId => Vec<AssetId>;
}

fn deposit_event(e: Event) {
    pallet_system::deposit_event_encoded(PALLET_INDEX, &e.encode());
}

fn ensure(cond: bool, e: Error) -> Result<(), Error> {
    if cond {
        Ok(())
    } else {
        Err(e)
    }
}

/// The single seam for deposit rules: every credit to an account other than
/// the sender (native and issued transfers, `transfer_from`, mint to another
/// account, fee shares) asks the accounts pallet first, before anything is
/// written: deposit authorisation, refused tokens, required destination tags.
fn check_deposit(
    from: &AccountId,
    to: &AccountId,
    asset: &AssetId,
    amount: Balance,
    dest_tag: Option<u32>,
) -> Result<(), DispatchError> {
    pallet_accounts::ensure_deposit_allowed(from, to, asset, amount, dest_tag)
}

// ---- Public API for other pallets ----

/// What `who` holds of `asset` (native: free only, never frozen).
pub fn balance(asset: &AssetId, who: &AccountId) -> Holding {
    match asset {
        AssetId::Native => Holding {
            free: free_balance(who),
            frozen: 0,
        },
        AssetId::Issued { .. } => Holdings::get(who, asset).unwrap_or_default(),
    }
}

/// The frozen part of `who`'s balance of `asset` (QSC `frozenAmount`).
pub fn frozen_amount(asset: &AssetId, who: &AccountId) -> Balance {
    balance(asset, who).frozen
}

/// How much of `asset` `who` can send to a third party right now: the free
/// balance, or zero while the token is paused or globally frozen. Frozen
/// amounts never count. This is what the AMM may use.
pub fn reducible(asset: &AssetId, who: &AccountId) -> Balance {
    match asset {
        AssetId::Native => free_balance(who),
        AssetId::Issued { issuer, code } => match Token::get(issuer, code) {
            Some(t) if !t.paused && !t.global_freeze => balance(asset, who).free,
            _ => 0,
        },
    }
}

/// Moves `amount` of `asset` from `from` to `to` under every rule of a
/// transfer call (existential deposit, pause, global freeze, frozen amounts,
/// deposit rules). Writes nothing on error.
pub fn transfer(
    asset: &AssetId,
    from: &AccountId,
    to: &AccountId,
    amount: Balance,
    dest_tag: Option<u32>,
) -> Result<(), DispatchError> {
    match asset {
        AssetId::Native => native::transfer(from, to, amount, dest_tag, true),
        AssetId::Issued { issuer, code } => {
            issued::transfer(issuer, code, from, to, amount, dest_tag, true)
        }
    }
}

/// An issued token's details.
pub fn token(issuer: &AccountId, code: &TokenCode) -> Option<TokenDetails> {
    Token::get(issuer, code)
}

/// `spender`'s allowance from `owner` in `asset`.
pub fn allowance(asset: &AssetId, owner: &AccountId, spender: &AccountId) -> Balance {
    Allowance::get(&(*asset, *owner), spender).unwrap_or(0)
}

/// Every balance of `who`: native first (even when zero), then each issued
/// token held, with its symbol and decimals. At most
/// `1 + MAX_HOLDINGS_PER_ACCOUNT` entries.
pub fn balances_of(who: &AccountId) -> Vec<TokenBalance> {
    let mut out = alloc::vec![TokenBalance {
        asset: AssetId::Native,
        holding: balance(&AssetId::Native, who),
        display: None,
    }];
    for (asset, holding) in Holdings::iter_prefix(who) {
        let display = match &asset {
            AssetId::Issued { issuer, code } => {
                Token::get(issuer, code).map(|t| (t.symbol, t.decimals))
            }
            AssetId::Native => None,
        };
        out.push(TokenBalance {
            asset,
            holding,
            display,
        });
    }
    out
}

/// Issues a token at genesis: the same checks as the `issue` call.
pub fn genesis_issue(
    issuer: &AccountId,
    code: TokenCode,
    name: Vec<u8>,
    symbol: Vec<u8>,
    decimals: u8,
    max_supply: Option<Balance>,
) -> Result<(), Error> {
    issued::issue(issuer, code, name, symbol, decimals, max_supply)
}

/// Dispatches a tokens call signed as `ctx` says: giving up freezing for
/// good (`no_freeze`) takes the issuer's master key (Qifas: "only the master
/// secret key can permanently disable the freeze ability").
fn dispatch(call: Call, ctx: &DispatchContext<'_>) -> Result<(), DispatchError> {
    match call {
        Call::SetFeeSplit { config } => {
            ctx.origin.ensure_root()?;
            if config.author_percent > 100 {
                return Err(Error::BadParameter.into());
            }
            FeeSplit::put(&config);
            deposit_event(Event::FeeSplitSet { config });
            return Ok(());
        }
        Call::SetReserves { reserves } => {
            ctx.origin.ensure_root()?;
            if reserves.account == 0 {
                return Err(Error::BadParameter.into());
            }
            ReserveConfig::put(&reserves);
            deposit_event(Event::ReservesSet { reserves });
            return Ok(());
        }
        _ => {}
    }
    let who = ctx.origin.ensure_signed()?;
    if matches!(call, Call::NoFreeze { .. }) && ctx.signed_with != SignedWith::Master {
        return Err(Error::MasterKeyRequired.into());
    }
    match call {
        Call::Transfer {
            dest,
            value,
            dest_tag,
        } => native::transfer(&who, &dest, value, dest_tag, true),
        Call::Issue {
            code,
            name,
            symbol,
            decimals,
            max_supply,
        } => issued::issue(&who, code, name, symbol, decimals, max_supply).map_err(Into::into),
        Call::Mint {
            code,
            dest,
            amount,
            dest_tag,
        } => issued::mint(&who, &code, &dest, amount, dest_tag, true),
        Call::Burn {
            issuer,
            code,
            amount,
        } => issued::burn(&issuer, &code, &who, amount).map_err(Into::into),
        Call::TransferToken {
            issuer,
            code,
            dest,
            amount,
            dest_tag,
        } => issued::transfer(&issuer, &code, &who, &dest, amount, dest_tag, true),
        Call::Approve {
            issuer,
            code,
            spender,
            amount,
        } => issued::approve(&issuer, &code, &who, &spender, |_| Ok(amount)).map_err(Into::into),
        Call::TransferFrom {
            issuer,
            code,
            owner,
            dest,
            amount,
            dest_tag,
        } => issued::transfer_from(&issuer, &code, &who, &owner, &dest, amount, dest_tag),
        Call::IncreaseAllowance {
            issuer,
            code,
            spender,
            delta,
        } => issued::approve(&issuer, &code, &who, &spender, |current| {
            ensure(delta > 0, Error::ZeroAmount)?;
            current.checked_add(delta).ok_or(Error::Overflow)
        })
        .map_err(Into::into),
        Call::DecreaseAllowance {
            issuer,
            code,
            spender,
            delta,
        } => issued::approve(&issuer, &code, &who, &spender, |current| {
            ensure(delta > 0, Error::ZeroAmount)?;
            current
                .checked_sub(delta)
                .ok_or(Error::InsufficientAllowance)
        })
        .map_err(Into::into),
        Call::Freeze {
            code,
            holder,
            amount,
        } => issued::freeze(&who, &code, &holder, amount).map_err(Into::into),
        Call::Unfreeze {
            code,
            holder,
            amount,
        } => issued::unfreeze(&who, &code, &holder, amount).map_err(Into::into),
        Call::Pause { code } => issued::set_flag(&who, &code, issued::Flag::Paused, true),
        Call::Unpause { code } => issued::set_flag(&who, &code, issued::Flag::Paused, false),
        Call::GlobalFreeze { code } => {
            issued::set_flag(&who, &code, issued::Flag::GlobalFreeze, true)
        }
        Call::GlobalUnfreeze { code } => {
            issued::set_flag(&who, &code, issued::Flag::GlobalFreeze, false)
        }
        Call::NoFreeze { code } => issued::set_flag(&who, &code, issued::Flag::NoFreeze, true),
        Call::GiveBack { issuer, code } => issued::give_back(&issuer, &code, &who),
        // Root's, handled above.
        Call::SetFeeSplit { .. } | Call::SetReserves { .. } => Err(DispatchError::BadOrigin),
    }
}

/// Invariants: the native total issuance and every token's supply equal the
/// sums of their balances (free + frozen); no native account below the
/// existential deposit; no empty holding or zero allowance stored; every
/// counter matches what it counts and respects its cap; every token's
/// metadata is valid and its supply within its cap.
pub fn try_state() -> Result<(), &'static str> {
    native::try_state()?;
    issued::try_state()?;
    pseudo::try_state()?;
    reserve::try_state()
}

/// The objects each account pays an owner reserve for in this pallet:
/// tokens issued, holdings created (own, or sponsored for others) and
/// allowances granted.
pub fn owned_objects(out: &mut alloc::collections::BTreeMap<AccountId, u32>) {
    let mut add = |who: AccountId, n: u32| {
        let e = out.entry(who).or_insert(0);
        *e = e.saturating_add(n);
    };
    for (issuer, n) in TokenCount::iter() {
        add(issuer, n);
    }
    for (holder, asset, _) in Holdings::iter() {
        add(reserve::holding_payer(&holder, &asset), 1);
    }
    for (owner, n) in AllowanceCount::iter() {
        add(owner, n);
    }
}
