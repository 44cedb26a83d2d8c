//! Master and regular keys (whitepaper "Master Key Pair", "Regular Key
//! Pair"; XRP Ledger `SetRegularKey` and `asfDisableMaster`).
//!
//! The master key is the one the account id derives from; `System` stores it.
//! The regular key may be of any scheme: an sr25519 account moves to
//! post-quantum signing by setting a hybrid regular key and disabling its
//! master key.

use crate::{
    deposit_event, has_alternative_key, master_disabled, mutate_flags, Error, Event, RegularKey,
    SignedWith, SignerLists,
};
use qstack_core::{AccountId, PublicKey};

/// Sets or replaces `who`'s regular key.
pub fn do_set_regular_key(who: &AccountId, key: PublicKey) -> Result<(), Error> {
    // The master key as regular key would survive disabling the master.
    let key_id = key.account_id();
    if key_id == *who {
        return Err(Error::RegularKeyIsMaster);
    }
    if !RegularKey::contains_key(who) {
        pallet_system::owned::acquire(who, 1);
    }
    RegularKey::insert(who, &key);
    deposit_event(Event::RegularKeySet {
        account: *who,
        scheme: key.scheme(),
        key_id,
    });
    Ok(())
}

/// Removes `who`'s regular key, keeping a way to sign.
pub fn do_remove_regular_key(who: &AccountId) -> Result<(), Error> {
    if !RegularKey::contains_key(who) {
        return Err(Error::NoRegularKey);
    }
    if master_disabled(who) && !SignerLists::contains_key(who) {
        return Err(Error::NoAlternativeKey);
    }
    RegularKey::remove(who);
    pallet_system::owned::release(who, 1);
    deposit_event(Event::RegularKeyRemoved { account: *who });
    Ok(())
}

/// Disables `who`'s master key: only the master key may, and only when a
/// regular key or signer list can sign instead.
pub fn do_disable_master(who: &AccountId, signed_with: SignedWith) -> Result<(), Error> {
    if signed_with != SignedWith::Master {
        return Err(Error::NeedMasterKey);
    }
    if master_disabled(who) {
        return Err(Error::MasterAlreadyDisabled);
    }
    if !has_alternative_key(who) {
        return Err(Error::NoAlternativeKey);
    }
    mutate_flags(who, |f| f.master_disabled = true);
    deposit_event(Event::MasterKeyDisabled { account: *who });
    Ok(())
}

/// Enables `who`'s master key again.
pub fn do_enable_master(who: &AccountId) -> Result<(), Error> {
    if !master_disabled(who) {
        return Err(Error::MasterNotDisabled);
    }
    mutate_flags(who, |f| f.master_disabled = false);
    deposit_event(Event::MasterKeyEnabled { account: *who });
    Ok(())
}
