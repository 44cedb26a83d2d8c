//! The AMM pallet: constant-product pools of any two assets (native or
//! issued), after the XRP Ledger's XLS-30 and Uniswap V2. A pool lives in a
//! pseudo-account of the tokens pallet (an id no key derives, so nothing
//! signs for it), issues LP tokens (`√(a·b)` at creation) backed by its two
//! assets, trades at a fee its LP holders vote on, sells a 24-hour
//! discounted-fee auction slot for LP tokens, and keeps a time-weighted
//! price accumulator for oracles. Owns `Amm.*` storage only; all value
//! moves through the tokens pallet's API, under its rules (pause, global
//! freeze, frozen amounts, deposit rules).
//!
//! A pool is an object of its creator: the creator's owner reserve stays
//! locked while the pool exists. The pool is deleted when its last LP
//! tokens are withdrawn.
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

pub mod formulas;
/// Exact 256-bit arithmetic (shared with the staking pallet).
pub use qstack_support::math;
mod pool;
#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use qstack_core::{AccountId, Balance};
use qstack_runtime_primitives::{AssetId, DispatchError, TokenCode};
use qstack_support::{constants, storage, Dispatch, DispatchContext, GenesisError};
use scale_info::TypeInfo;

pub use pool::{pair_key, pool_account, pool_info, pools, quote};

/// This pallet's permanent index in every qstack runtime.
pub const PALLET_INDEX: u8 = 6;

constants! {
    /// Highest trading fee, in units of 1/100,000 (1,000 = 1%).
    MaxTradingFee: pub const MAX_TRADING_FEE: u32 = 1_000;
    /// Most fee votes a pool keeps (XLS-30: eight).
    MaxVoteSlots: pub const MAX_VOTE_SLOTS: u32 = 8;
    /// Most pools one swap may pass through.
    MaxHops: pub const MAX_HOPS: u32 = 3;
    /// Largest pool balance or amount (2^100 base units): every product
    /// of two amounts then fits the formulas' 256-bit arithmetic.
    MaxAmount: pub const MAX_AMOUNT: Balance = 1 << 100;
}

/// A pool's two assets, in canonical (sorted) order.
pub type Pair = (AssetId, AssetId);

/// A fee vote.
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
pub struct VoteSlot {
    /// The LP holder who voted (its weight is its LP balance at each vote).
    pub account: AccountId,
    /// The fee it voted for.
    pub fee: u32,
}

/// The auction slot: its holder trades at the pool's fee / 10 until it
/// expires.
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
pub struct AuctionSlot {
    /// The holder.
    pub owner: AccountId,
    /// When the slot expires (ms, the timestamp pallet's clock).
    pub expires: u64,
    /// LP tokens it paid.
    pub price: Balance,
}

/// A pool.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Pool {
    /// The pool's pseudo-account: holds the reserves, issues the LP token.
    pub account: AccountId,
    /// The LP token's code (its issuer is [`Pool::account`]).
    pub lp_code: TokenCode,
    /// Balances of the pair's first and second asset.
    pub reserves: [Balance; 2],
    /// Trading fee, units of 1/100,000.
    pub fee: u32,
    /// Who created it (its owner reserve is locked while the pool exists).
    pub creator: AccountId,
    /// Fee votes (at most [`MAX_VOTE_SLOTS`]).
    pub votes: Vec<VoteSlot>,
    /// The auction slot, if sold.
    pub slot: Option<AuctionSlot>,
    /// Σ price · Δt (ms) of each asset in the other, 64.64 fixed point,
    /// wrapping (Uniswap V2's oracle: read twice, divide the difference by
    /// the time between).
    pub price_cumulative: [u128; 2],
    /// When the accumulators were last advanced (ms).
    pub last_update: u64,
}

impl Pool {
    /// The LP token.
    pub fn lp_asset(&self) -> AssetId {
        AssetId::Issued {
            issuer: self.account,
            code: self.lp_code,
        }
    }
}

/// A pool as the runtime API shows it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct PoolInfo {
    /// The two assets, in canonical order.
    pub assets: [AssetId; 2],
    /// The pool.
    pub pool: Pool,
    /// LP tokens in circulation.
    pub lp_supply: Balance,
}

/// How a deposit is asked for.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum DepositMode {
    /// Both assets in the pool's proportion, at most `max_a` and `max_b`
    /// (only the proportional part is taken), for at least `min_lp`.
    #[codec(index = 0)]
    Proportional {
        /// Most of the first asset (as the call names it) to take.
        max_a: Balance,
        /// Most of the second asset to take.
        max_b: Balance,
        /// Fewest LP tokens to accept.
        min_lp: Balance,
    },
    /// Exactly `lp` LP tokens, paid in both assets, at most `max_a`/`max_b`.
    #[codec(index = 1)]
    LpOut {
        /// LP tokens wanted.
        lp: Balance,
        /// Most of the first asset to pay.
        max_a: Balance,
        /// Most of the second asset to pay.
        max_b: Balance,
    },
    /// `amount` of one asset alone (the fee is charged on the implied swap
    /// of half of it), for at least `min_lp`.
    #[codec(index = 2)]
    Single {
        /// The asset deposited (one of the pair).
        asset: AssetId,
        /// How much.
        amount: Balance,
        /// Fewest LP tokens to accept.
        min_lp: Balance,
    },
    /// Exactly `lp` LP tokens, paid in one asset, at most `max_in`.
    #[codec(index = 3)]
    SingleLpOut {
        /// The asset paid.
        asset: AssetId,
        /// LP tokens wanted.
        lp: Balance,
        /// Most to pay.
        max_in: Balance,
    },
}

/// How a withdrawal is asked for.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum WithdrawMode {
    /// Burn `lp` LP tokens for both assets in proportion, at least
    /// `min_a`/`min_b`.
    #[codec(index = 0)]
    Proportional {
        /// LP tokens to return.
        lp: Balance,
        /// Least of the first asset to accept.
        min_a: Balance,
        /// Least of the second asset to accept.
        min_b: Balance,
    },
    /// Exactly `amount` of one asset, burning at most `max_lp`.
    #[codec(index = 1)]
    Single {
        /// The asset wanted.
        asset: AssetId,
        /// How much.
        amount: Balance,
        /// Most LP tokens to burn.
        max_lp: Balance,
    },
    /// Burn `lp` LP tokens for one asset, at least `min_out`.
    #[codec(index = 2)]
    SingleLpIn {
        /// The asset wanted.
        asset: AssetId,
        /// LP tokens to return.
        lp: Balance,
        /// Least to accept.
        min_out: Balance,
    },
    /// Every LP token the signer holds, for both assets in proportion.
    #[codec(index = 3)]
    All {
        /// Least of the first asset to accept.
        min_a: Balance,
        /// Least of the second asset to accept.
        min_b: Balance,
    },
}

/// Calls. Indices are permanent.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Call {
    /// Creates the pool of two assets with its first liquidity; the signer
    /// gets `⌊√(amount_a·amount_b)⌋` LP tokens and pays an owner reserve
    /// while the pool exists.
    #[codec(index = 0)]
    CreatePool {
        /// One asset.
        asset_a: AssetId,
        /// The other.
        asset_b: AssetId,
        /// How much of `asset_a`.
        amount_a: Balance,
        /// How much of `asset_b`.
        amount_b: Balance,
        /// The starting trading fee (units of 1/100,000, at most 1,000).
        fee: u32,
    },
    /// Adds liquidity.
    #[codec(index = 1)]
    Deposit {
        /// One asset of the pool (`max_a` refers to it).
        asset_a: AssetId,
        /// The other.
        asset_b: AssetId,
        /// How.
        mode: DepositMode,
    },
    /// Removes liquidity.
    #[codec(index = 2)]
    Withdraw {
        /// One asset of the pool (`min_a` refers to it).
        asset_a: AssetId,
        /// The other.
        asset_b: AssetId,
        /// How.
        mode: WithdrawMode,
    },
    /// Sells exactly `amount_in` of `path[0]` for at least `min_out` of the
    /// path's last asset, through each consecutive pair's pool.
    #[codec(index = 3)]
    SwapExactIn {
        /// Two to [`MAX_HOPS`] + 1 assets.
        path: Vec<AssetId>,
        /// What is sold.
        amount_in: Balance,
        /// Least to receive.
        min_out: Balance,
    },
    /// Buys exactly `amount_out` of the path's last asset for at most
    /// `max_in` of `path[0]`.
    #[codec(index = 4)]
    SwapExactOut {
        /// Two to [`MAX_HOPS`] + 1 assets.
        path: Vec<AssetId>,
        /// What is bought.
        amount_out: Balance,
        /// Most to pay.
        max_in: Balance,
    },
    /// Votes for a trading fee, weighted by the signer's LP tokens.
    #[codec(index = 5)]
    Vote {
        /// One asset of the pool.
        asset_a: AssetId,
        /// The other.
        asset_b: AssetId,
        /// The fee (units of 1/100,000, at most 1,000).
        fee: u32,
    },
    /// Bids LP tokens for the auction slot.
    #[codec(index = 6)]
    Bid {
        /// One asset of the pool.
        asset_a: AssetId,
        /// The other.
        asset_b: AssetId,
        /// Pay at least this much (to outbid future bidders).
        min_price: Option<Balance>,
        /// Pay at most this much.
        max_price: Option<Balance>,
    },
}

/// Errors. Indices are permanent; the discriminant equals the index.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Error {
    /// A pool needs two different assets.
    #[codec(index = 0)]
    SameAsset,
    /// The pool of this pair exists.
    #[codec(index = 1)]
    PoolExists,
    /// No pool of this pair.
    #[codec(index = 2)]
    NoPool,
    /// An amount is zero, or the operation would move nothing.
    #[codec(index = 3)]
    ZeroAmount,
    /// The trading fee is above [`MAX_TRADING_FEE`].
    #[codec(index = 4)]
    BadFee,
    /// An amount or pool balance is above [`MAX_AMOUNT`], or a result
    /// does not fit.
    #[codec(index = 5)]
    Overflow,
    /// A slippage limit: the result is below the minimum asked for, or
    /// costs more than the maximum.
    #[codec(index = 6)]
    Slippage,
    /// The asset is not one of the pool's.
    #[codec(index = 7)]
    NotInPool,
    /// The pool cannot pay that much (a withdrawal or purchase would empty
    /// one side; withdraw all LP tokens proportionally instead).
    #[codec(index = 8)]
    InsufficientLiquidity,
    /// The signer holds too few of the pool's LP tokens.
    #[codec(index = 9)]
    InsufficientLp,
    /// The vote slots are full of larger holders.
    #[codec(index = 10)]
    VoteNotAdmitted,
    /// A swap path has fewer than two or more than [`MAX_HOPS`] + 1
    /// assets, or repeats a pool.
    #[codec(index = 11)]
    BadPath,
    /// An issued asset that does not exist.
    #[codec(index = 12)]
    UnknownAsset,
}

qstack_runtime_primitives::impl_module_error!(Error, PALLET_INDEX);

/// Events.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Event {
    /// A pool was created.
    #[codec(index = 0)]
    PoolCreated {
        /// Its assets, in canonical order.
        assets: [AssetId; 2],
        /// Its account.
        account: AccountId,
        /// Its creator.
        creator: AccountId,
        /// The first liquidity, in canonical order.
        amounts: [Balance; 2],
        /// LP tokens minted.
        lp: Balance,
        /// The trading fee.
        fee: u32,
    },
    /// Liquidity was added.
    #[codec(index = 1)]
    Deposited {
        /// The pool's assets.
        assets: [AssetId; 2],
        /// Who.
        who: AccountId,
        /// Amounts taken, in canonical order.
        amounts: [Balance; 2],
        /// LP tokens minted.
        lp: Balance,
    },
    /// Liquidity was removed.
    #[codec(index = 2)]
    Withdrawn {
        /// The pool's assets.
        assets: [AssetId; 2],
        /// Who.
        who: AccountId,
        /// Amounts paid, in canonical order.
        amounts: [Balance; 2],
        /// LP tokens burned.
        lp: Balance,
    },
    /// A swap through one pool (a multi-hop swap emits one per hop).
    #[codec(index = 3)]
    Swapped {
        /// Who.
        who: AccountId,
        /// The asset sold.
        asset_in: AssetId,
        /// The asset bought.
        asset_out: AssetId,
        /// Sold.
        amount_in: Balance,
        /// Bought.
        amount_out: Balance,
        /// The fee rate it paid.
        fee: u32,
    },
    /// A fee vote was recorded.
    #[codec(index = 4)]
    FeeVoted {
        /// The pool's assets.
        assets: [AssetId; 2],
        /// Who.
        who: AccountId,
        /// Its vote.
        vote: u32,
        /// The pool's fee now.
        fee: u32,
    },
    /// The auction slot was bought.
    #[codec(index = 5)]
    SlotBought {
        /// The pool's assets.
        assets: [AssetId; 2],
        /// The new holder.
        who: AccountId,
        /// LP tokens paid.
        price: Balance,
        /// LP tokens refunded to the previous holder.
        refund: Balance,
        /// Until when (ms).
        expires: u64,
    },
    /// The last LP tokens were withdrawn: the pool is gone.
    #[codec(index = 6)]
    PoolDeleted {
        /// Its assets.
        assets: [AssetId; 2],
    },
}

storage! { pallet = "Amm";
    /// Pools by their canonical (sorted) pair of assets.
    pub Pools: map Blake2_128Concat Pair => Pool;
    /// The pair of each pool account (its reverse index).
    pub PoolOf: map Blake2_128Concat AccountId => Pair;
}

/// Weights of the calls (picoseconds of reference execution): the native
/// time of one dispatch on a populated in-memory trie, events included
/// (`cargo bench -p pallet-amm`, measured on the 2-core reference machine,
/// in the comments, beside an issued-token transfer at 19 µs in the same
/// run), times 3 for Wasm execution and a disk-backed trie, rounded up, as
/// the tokens pallet's. Storage accesses are charged separately, by
/// [`qstack_support::Dispatch::db_access`].
pub mod weights {
    /// `create_pool` (measured with the `withdraw` that deletes the pool
    /// again: 184 µs for both, all charged to the creation).
    pub const CREATE_POOL: u64 = 560_000_000;
    /// `deposit`, any form (proportional 56 µs, single asset 45 µs).
    pub const DEPOSIT: u64 = 170_000_000;
    /// `withdraw`, any form (proportional 70 µs, single asset 62 µs).
    pub const WITHDRAW: u64 = 210_000_000;
    /// A swap's fixed part: 1 hop 57 µs, 3 hops 118 µs make 26.5 µs plus
    /// 30.5 µs a hop.
    pub const SWAP_BASE: u64 = 80_000_000;
    /// Each hop of a swap.
    pub const SWAP_HOP: u64 = 92_000_000;
    /// `vote` with eight slots to weigh (35 µs).
    pub const VOTE: u64 = 110_000_000;
    /// `bid` that outbids another holder and pays its refund (103 µs).
    pub const BID: u64 = 310_000_000;
}

/// The AMM pallet, as the runtime composes it.
pub struct Pallet;

impl qstack_support::Pallet for Pallet {
    const NAME: &'static str = "Amm";
    const INDEX: u8 = PALLET_INDEX;
    const GENESIS_KEYS: &'static [&'static str] = &[];
    type Call = Call;
    type Event = Event;
    type Error = Error;
    type Genesis = ();

    fn build_genesis(_config: &()) -> Result<(), GenesisError> {
        Ok(())
    }
    fn storage() -> Vec<qstack_support::storage::EntryMeta> {
        storage_metadata()
    }
    fn constants() -> Vec<qstack_support::ConstantMeta> {
        constants_metadata()
    }
    fn try_state() -> Result<(), &'static str> {
        pool::try_state()
    }
    fn owned_objects(out: &mut alloc::collections::BTreeMap<AccountId, u32>) {
        for (_, pool) in Pools::iter() {
            let e = out.entry(pool.creator).or_insert(0);
            *e = e.saturating_add(1);
        }
    }
}

impl qstack_support::PalletEvent for Event {}

fn hops(path: &[AssetId]) -> u64 {
    u64::try_from(path.len().saturating_sub(1)).unwrap_or(u64::MAX)
}

impl Dispatch for Call {
    fn weight(&self) -> u64 {
        use weights::*;
        match self {
            Call::CreatePool { .. } => CREATE_POOL,
            Call::Deposit { .. } => DEPOSIT,
            Call::Withdraw { .. } => WITHDRAW,
            Call::SwapExactIn { path, .. } | Call::SwapExactOut { path, .. } => {
                SWAP_BASE.saturating_add(SWAP_HOP.saturating_mul(hops(path).max(1)))
            }
            Call::Vote { .. } => VOTE,
            Call::Bid { .. } => BID,
        }
    }
    /// Measured worst cases (the tests print them with
    /// `QSTACK_DB_REPORT=1`) plus a margin.
    fn db_access(&self) -> qstack_support::DbAccess {
        use qstack_support::DbAccess as D;
        match self {
            Call::CreatePool { .. } => D::new(80, 45),
            Call::Deposit { .. } | Call::Withdraw { .. } => D::new(50, 30),
            Call::SwapExactIn { path, .. } | Call::SwapExactOut { path, .. } => {
                let n = u32::try_from(hops(path).max(1)).unwrap_or(u32::MAX);
                D::new(
                    20u32.saturating_add(16u32.saturating_mul(n)),
                    8u32.saturating_add(9u32.saturating_mul(n)),
                )
            }
            Call::Vote { .. } => D::new(20, 4),
            Call::Bid { .. } => D::new(45, 22),
        }
    }
    fn is_known(index: u8) -> bool {
        index <= 6
    }
    fn dispatch(self, ctx: &DispatchContext<'_>) -> Result<(), DispatchError> {
        let who = ctx.origin.ensure_signed()?;
        match self {
            Call::CreatePool {
                asset_a,
                asset_b,
                amount_a,
                amount_b,
                fee,
            } => pool::create(&who, asset_a, asset_b, amount_a, amount_b, fee),
            Call::Deposit {
                asset_a,
                asset_b,
                mode,
            } => pool::deposit(&who, asset_a, asset_b, mode),
            Call::Withdraw {
                asset_a,
                asset_b,
                mode,
            } => pool::withdraw(&who, asset_a, asset_b, mode),
            Call::SwapExactIn {
                path,
                amount_in,
                min_out,
            } => pool::swap_exact_in(&who, &path, amount_in, min_out).map(|_| ()),
            Call::SwapExactOut {
                path,
                amount_out,
                max_in,
            } => pool::swap_exact_out(&who, &path, amount_out, max_in).map(|_| ()),
            Call::Vote {
                asset_a,
                asset_b,
                fee,
            } => pool::vote(&who, asset_a, asset_b, fee),
            Call::Bid {
                asset_a,
                asset_b,
                min_price,
                max_price,
            } => pool::bid(&who, asset_a, asset_b, min_price, max_price),
        }
    }
}
