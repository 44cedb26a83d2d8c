//! Reserves, as on the XRP Ledger: an account must keep the **account
//! reserve** (the existential deposit) to exist, and the **owner reserve**
//! for every object it owns (regular key, signer list, ticket, deposit
//! request, pre-authorisation, allow-list, holding it created, allowance,
//! token issued, and every object of later pallets). The reserve is not
//! moved anywhere: it is the part of the native balance that cannot be
//! sent away, kept as the account's **lock**, `System.Account`'s
//! `data.frozen` (where Substrate wallets read it). Removing an object
//! releases its share when the call ends.
//!
//! Pallets record objects in the system pallet's owner ledger
//! ([`pallet_system::owned`]); when a call ends, the executive runs
//! [`settle_reserves`]: every account whose count changed gets the lock of
//! its new count at the reserves in force, and the call fails (undoing all
//! of it) if an account whose count rose cannot cover it. So a change of
//! the reserves (`set_reserves`) applies to an account's lock at its next
//! object change, as a Substrate deposit stays what it was when taken.
//! Fees may still be paid out of the owner reserve (so an account at its
//! reserve can always pay to remove an object), never out of the account
//! reserve of an account that owns objects.

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

/// The lock of an account owning `objects` objects at today's reserves:
/// the account reserve plus one owner reserve per object (saturating: an
/// unaffordable reserve is simply unaffordable); zero for none.
pub fn lock_for(objects: u32) -> Balance {
    if objects == 0 {
        return 0;
    }
    let r = reserves();
    r.account
        .saturating_add(r.owner.saturating_mul(Balance::from(objects)))
}

/// What `who` must keep while it exists: the account reserve if it owns
/// nothing, else its lock (`data.frozen`). Within a call that gave an
/// account its first object the lock is not yet set: then the lock of
/// its count at today's reserves.
pub fn required_reserve(who: &AccountId) -> Balance {
    let info = pallet_system::Account::get(who).unwrap_or_default();
    match (info.consumers, info.data.frozen) {
        (0, _) => existential_deposit(),
        (n, 0) => lock_for(n),
        (_, lock) => lock,
    }
}

/// Sets `who`'s lock to that of its object count at today's reserves (none
/// for a pseudo-account, which keeps no reserve).
fn settle_lock(who: &AccountId) {
    let objects = owned::owner_count(who);
    let lock = if crate::pseudo::is_pseudo(who) {
        0
    } else {
        lock_for(objects)
    };
    pallet_system::mutate_account(who, |a| a.data.frozen = lock);
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

/// Settles `who`'s lock to its object count, then refuses if its native
/// balance does not cover it.
pub fn ensure_reserve(who: &AccountId) -> Result<(), Error> {
    settle_lock(who);
    if owned::owner_count(who) == 0
        || free_balance(who) >= required_reserve(who)
        || crate::pseudo::is_pseudo(who)
    {
        Ok(())
    } else {
        Err(Error::InsufficientReserve)
    }
}

/// Settles the lock of every account whose owner count changed during the
/// call that just ended, and checks the reserve of those whose count rose;
/// the executive fails (and undoes) the call on error. Clears the list
/// either way. (A count that only fell is not checked: an account whose
/// fees ate into its owner reserve can still remove objects.)
pub fn settle_reserves() -> Result<(), DispatchError> {
    for (who, rose) in owned::take_due() {
        if rose {
            ensure_reserve(&who)?;
        } else {
            settle_lock(&who);
        }
    }
    Ok(())
}

/// Settles the lock of every account whose owner count changed outside a
/// call (block hooks: maturing bonds, expiring objects), without checks:
/// hooks only remove objects. The executive runs it after the block's
/// `on_initialize` and `on_finalize` hooks.
pub fn settle_locks() {
    for (who, _) in owned::take_due() {
        settle_lock(&who);
    }
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
    for (who, info) in pallet_system::Account::iter() {
        let pseudo = crate::pseudo::is_pseudo(&who);
        if info.consumers == 0 || pseudo {
            if info.data.frozen != 0 {
                return Err(
                    "a reserve lock on an account that owns nothing or is a pseudo-account",
                );
            }
            continue;
        }
        if info.data.free == 0 {
            return Err("an account owns objects but has no native account");
        }
        if info.data.frozen == 0 {
            return Err("an account owns objects but has no reserve lock");
        }
    }
    Ok(())
}
