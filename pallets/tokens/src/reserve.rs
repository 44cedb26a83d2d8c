//! Reserves, as on the XRP Ledger: an account must keep the **account
//! reserve** (the existential deposit) to exist, and the **owner reserve**
//! for every object it owns (regular key, signer list, ticket, deposit
//! request, pre-authorisation, allow-list, holding it created, allowance,
//! token issued, and every object of later pallets). The reserve is not
//! moved anywhere: it is the part of the free native balance that cannot
//! be sent away. Removing an object releases its share at once.
//!
//! Pallets record objects in the system pallet's owner ledger
//! ([`pallet_system::owned`]); when a call ends, the executive runs
//! [`settle_reserves`], which fails the call (undoing all of it) if an
//! account whose count rose cannot cover its reserve. Fees may still be
//! paid out of the owner reserve (so an account at its reserve can always
//! pay to remove an object), never out of the account reserve of an
//! account that owns objects.

use crate::{free_balance, Error, HoldingSponsor, Holdings, ReserveConfig};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use pallet_system::owned;
use qstack_core::{AccountId, Balance};
use qstack_runtime_primitives::DispatchError;
use scale_info::TypeInfo;

/// A chain's reserves (chain spec `tokens.reserves`).
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
pub struct Reserves {
    /// Least native balance an account may hold (the existential deposit).
    pub account: Balance,
    /// Locked per object the account owns.
    pub owner: Balance,
}

impl Default for Reserves {
    fn default() -> Self {
        Reserves {
            account: crate::EXISTENTIAL_DEPOSIT,
            owner: crate::DEFAULT_OWNER_RESERVE,
        }
    }
}

/// The chain's reserves.
pub fn reserves() -> Reserves {
    ReserveConfig::get().unwrap_or_default()
}

/// The chain's existential deposit (its account reserve).
pub fn existential_deposit() -> Balance {
    reserves().account
}

/// What `who` must keep: the account reserve plus the owner reserve for
/// each object it owns (saturating: an unaffordable reserve is simply
/// unaffordable).
pub fn required_reserve(who: &AccountId) -> Balance {
    let r = reserves();
    let objects = Balance::from(owned::owner_count(who));
    r.account.saturating_add(r.owner.saturating_mul(objects))
}

/// Whether `who` may be left with `left` native tokens: zero (the account
/// goes away) only if it owns nothing; otherwise at least its reserve.
pub(crate) fn check_left(who: &AccountId, left: Balance) -> Result<(), Error> {
    check_left_of_owner(who, left).or_else(|e| {
        if crate::pseudo::is_pseudo(who) {
            Ok(())
        } else {
            Err(e)
        }
    })
}

fn check_left_of_owner(who: &AccountId, left: Balance) -> Result<(), Error> {
    let objects = owned::owner_count(who);
    if left == 0 {
        return if objects == 0 {
            Ok(())
        } else {
            Err(Error::OwnsObjects)
        };
    }
    if objects == 0 {
        if left < existential_deposit() {
            return Err(Error::ExistentialDeposit);
        }
        return Ok(());
    }
    if left < required_reserve(who) {
        return Err(Error::InsufficientReserve);
    }
    Ok(())
}

/// Refuses if `who` owns objects its free native balance does not cover.
pub fn ensure_reserve(who: &AccountId) -> Result<(), Error> {
    if owned::owner_count(who) == 0
        || free_balance(who) >= required_reserve(who)
        || crate::pseudo::is_pseudo(who)
    {
        Ok(())
    } else {
        Err(Error::InsufficientReserve)
    }
}

/// Checks the reserve of every account whose owner count rose during the
/// call that just ended; the executive fails (and undoes) the call on
/// error. Clears the list either way.
pub fn settle_reserves() -> Result<(), DispatchError> {
    for who in owned::take_due() {
        ensure_reserve(&who)?;
    }
    Ok(())
}

/// The holder or sponsor that pays for `holder`'s holding of `asset`.
pub(crate) fn holding_payer(
    holder: &AccountId,
    asset: &qstack_runtime_primitives::AssetId,
) -> AccountId {
    HoldingSponsor::get(holder, asset).unwrap_or(*holder)
}

pub(crate) fn try_state() -> Result<(), &'static str> {
    let r = reserves();
    if r.account == 0 {
        return Err("the account reserve is zero");
    }
    for (holder, asset, sponsor) in HoldingSponsor::iter() {
        if sponsor == holder {
            return Err("a holding sponsored by its own holder");
        }
        if !Holdings::contains_key(&holder, &asset) {
            return Err("a sponsor recorded for a holding that does not exist");
        }
    }
    for (who, n) in pallet_system::OwnerCount::iter() {
        if n == 0 {
            return Err("an owner count of zero is stored");
        }
        if free_balance(&who) < r.account && !crate::pseudo::is_pseudo(&who) {
            return Err("an account owns objects but has no native account");
        }
    }
    Ok(())
}
