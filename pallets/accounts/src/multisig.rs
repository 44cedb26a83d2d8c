//! Signer lists for multi-signing (whitepaper "Multi-Signing"; XRP Ledger
//! `SignerListSet`): 1 to 32 weighted signers and a quorum. The signatures
//! themselves are checked by [`crate::auth`].

use crate::{
    deposit_event, master_disabled, BoundedVec, Error, Event, RegularKey, SignerList, SignerLists,
    MAX_SIGNERS,
};
use alloc::vec::Vec;
use qstack_core::AccountId;
use qstack_runtime_primitives::SignerEntry;

/// Checks a signer list for `who`, in any order: 1..=[`MAX_SIGNERS`]
/// signers, none of them `who`, no duplicates, weights at least 1, and
/// `0 < quorum <= total weight`. Pure.
pub fn check_list(who: &AccountId, quorum: u32, signers: &[SignerEntry]) -> Result<(), Error> {
    if signers.is_empty() {
        return Err(Error::NoSigners);
    }
    if signers.len() > MAX_SIGNERS as usize {
        return Err(Error::TooManySigners);
    }
    if signers.iter().any(|s| s.account == *who) {
        return Err(Error::SignerIsSelf);
    }
    if signers.iter().any(|s| s.weight == 0) {
        return Err(Error::ZeroWeight);
    }
    let mut accounts: Vec<&AccountId> = signers.iter().map(|s| &s.account).collect();
    accounts.sort_unstable();
    if accounts.windows(2).any(|w| matches!(w, [a, b] if a == b)) {
        return Err(Error::DuplicateSigner);
    }
    // At most 32 × u16::MAX: no overflow.
    let total: u32 = signers.iter().map(|s| u32::from(s.weight)).sum();
    if quorum == 0 || quorum > total {
        return Err(Error::BadQuorum);
    }
    Ok(())
}

/// Sets or replaces `who`'s signer list.
pub fn do_set_signers(
    who: &AccountId,
    quorum: u32,
    mut signers: Vec<SignerEntry>,
) -> Result<(), Error> {
    check_list(who, quorum, &signers)?;
    signers.sort_unstable_by_key(|s| s.account);
    let count = u32::try_from(signers.len()).map_err(|_| Error::TooManySigners)?;
    let signers = BoundedVec::try_from_vec(signers).map_err(|_| Error::TooManySigners)?;
    // A signer list is one object, whatever its length (the XRP Ledger's
    // MultiSignReserve).
    if !SignerLists::contains_key(who) {
        pallet_system::owned::acquire(who, 1);
    }
    SignerLists::insert(who, &SignerList { quorum, signers });
    deposit_event(Event::SignerListSet {
        account: *who,
        quorum,
        signers: count,
    });
    Ok(())
}

/// Removes `who`'s signer list, keeping a way to sign.
pub fn do_remove_signers(who: &AccountId) -> Result<(), Error> {
    if !SignerLists::contains_key(who) {
        return Err(Error::NoSignerList);
    }
    if master_disabled(who) && !RegularKey::contains_key(who) {
        return Err(Error::NoAlternativeKey);
    }
    SignerLists::remove(who);
    pallet_system::owned::release(who, 1);
    deposit_event(Event::SignerListRemoved { account: *who });
    Ok(())
}
