//! Token state as the tokens pallet stores it and its runtime API
//! (`QstackTokensApi_*`, declared in the runtime's `apis`) returns it.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use qstack_core::Balance;
use scale_info::TypeInfo;

use crate::asset::AssetId;

/// What an account holds of one asset. Both parts count towards the asset's
/// supply; only `free` can move.
#[derive(
    Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, DecodeWithMemTracking, TypeInfo,
)]
pub struct Holding {
    /// Spendable.
    pub free: Balance,
    /// Frozen by the issuer: cannot move, be burned or be used by other
    /// pallets (the AMM) until unfrozen.
    pub frozen: Balance,
}

impl Holding {
    /// `free + frozen` (saturating; the supply bound keeps it exact).
    pub fn total(&self) -> Balance {
        self.free.saturating_add(self.frozen)
    }

    /// Whether nothing is held (the entry is then removed).
    pub fn is_empty(&self) -> bool {
        self.free == 0 && self.frozen == 0
    }
}

/// An issued token's description and state.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct TokenDetails {
    /// Full name, UTF-8.
    pub name: Vec<u8>,
    /// Ticker symbol, UTF-8.
    pub symbol: Vec<u8>,
    /// Decimal places a wallet shows (amounts are integers of the smallest unit).
    pub decimals: u8,
    /// Most that may ever be in existence at once; `None` = no cap.
    pub max_supply: Option<Balance>,
    /// In existence now: the sum of every holder's free and frozen amounts.
    pub supply: Balance,
    /// Accounts holding any of it (free or frozen).
    pub holders: u32,
    /// Paused by the issuer: nothing moves, is minted or burned.
    pub paused: bool,
    /// Global freeze: holders may only send to the issuer.
    pub global_freeze: bool,
    /// The issuer has given up freezing, global freeze and pause for good.
    pub no_freeze: bool,
}

/// One entry of `QstackTokensApi_token_balances`.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct TokenBalance {
    /// The asset.
    pub asset: AssetId,
    /// Free and frozen amounts.
    pub holding: Holding,
    /// The issued token's symbol and decimals; `None` for the native token,
    /// whose symbol and decimals are chain-spec properties the runtime does
    /// not know.
    pub display: Option<(Vec<u8>, u8)>,
}
