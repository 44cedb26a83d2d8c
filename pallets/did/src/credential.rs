//! Verifiable credentials: registration by hash with m-of-n issuer proofs,
//! the holder's rejection, and status through bitstring status lists (W3C
//! Bitstring Status List: revocation is final, suspension reversible).

use crate::document::{
    acting_as, active, charge, deposit_event, deposit_for, ensure, genesis_hash,
};
use crate::{
    rel, Credential, CredentialStatus, Credentials, Did, Error, Event, IssuerProof, KeyMaterial,
    Purpose, Registration, StatusDeposits, StatusEntry, StatusPage, MAX_ISSUERS,
    STATUS_LIST_LENGTH, STATUS_PAGE_BITS,
};
use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use codec::Encode;
use qstack_core::{AccountId, H256};
use qstack_runtime_primitives::DispatchError;

/// What each issuer's `assertionMethod` key signs: a domain tag, the
/// chain's genesis hash and the SCALE-encoded registration.
pub fn issuance_payload(genesis: &H256, registration: &Registration) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"qstack/vc/issue/v1");
    genesis.encode_to(&mut out);
    registration.encode_to(&mut out);
    out
}

/// The issuance payload on this chain.
pub fn payload(registration: &Registration) -> Vec<u8> {
    issuance_payload(&genesis_hash(), registration)
}

fn check_shape(reg: &Registration) -> Result<(), Error> {
    let n = reg.issuers.len();
    ensure(n >= 1 && n <= MAX_ISSUERS as usize, Error::Threshold)?;
    let distinct: BTreeSet<_> = reg.issuers.iter().collect();
    ensure(distinct.len() == n, Error::Threshold)?;
    ensure(
        reg.threshold >= 1 && usize::from(reg.threshold) <= n,
        Error::Threshold,
    )?;
    match (reg.revocable, reg.status) {
        (true, Some(s)) => ensure(s.index < STATUS_LIST_LENGTH, Error::BadStatus),
        (false, None) => Ok(()),
        _ => Err(Error::BadStatus),
    }
}

/// Registers a credential, checking each proof against its issuer's
/// current document.
pub fn issue(
    who: &AccountId,
    reg: Registration,
    proofs: Vec<IssuerProof>,
) -> Result<(), DispatchError> {
    ensure(
        !Credentials::contains_key(&reg.hash),
        Error::CredentialExists,
    )?;
    check_shape(&reg)?;
    active(&reg.subject)?;
    let lead = *reg.issuers.first().ok_or(Error::Threshold)?;
    if let Some(s) = reg.status {
        ensure(
            !StatusEntry::contains_key(&(lead, s.list), &s.index),
            Error::StatusTaken,
        )?;
    }
    ensure(proofs.len() <= MAX_ISSUERS as usize, Error::TooMany)?;
    let msg = payload(&reg);
    let mut proved = BTreeSet::new();
    for p in &proofs {
        let issuer = reg
            .issuers
            .get(usize::from(p.issuer))
            .ok_or(Error::BadProof)?;
        let doc = active(issuer)?.document;
        let m = doc
            .methods
            .iter()
            .find(|m| m.id == p.method && m.relationships & rel::ASSERTION_METHOD != 0)
            .ok_or(Error::BadProof)?;
        let ok = match (&m.material, &p.signature) {
            (KeyMaterial::Key(pk), Some(sig)) => crate::document::verify(sig, &msg, pk),
            (KeyMaterial::Account(a), None) => a == who,
            _ => false,
        };
        ensure(ok, Error::BadProof)?;
        proved.insert(p.issuer);
    }
    ensure(proved.len() >= usize::from(reg.threshold), Error::Threshold)?;
    let signed_by: Vec<Did> = proved
        .iter()
        .filter_map(|i| reg.issuers.get(usize::from(*i)).copied())
        .collect();
    let mut cred = Credential {
        registration: reg,
        signed_by: signed_by.clone(),
        issued: pallet_system::block_number(),
        rejected: false,
        deposit: 0,
    };
    // The record and its status entry (key and value).
    let entry_bytes = if cred.registration.status.is_some() {
        96
    } else {
        0
    };
    let deposit = deposit_for(cred.encoded_size().saturating_add(entry_bytes))?;
    cred.deposit = deposit;
    charge(who, deposit)?;
    if let Some(s) = cred.registration.status {
        StatusEntry::insert(&(lead, s.list), &s.index, &cred.registration.hash);
    }
    Credentials::insert(&cred.registration.hash, &cred);
    deposit_event(Event::Issued {
        hash: cred.registration.hash,
        subject: cred.registration.subject,
        signed_by,
    });
    Ok(())
}

/// The holder (an `authentication` method of the subject DID) rejects a
/// credential.
pub fn reject(who: &AccountId, hash: &H256) -> Result<(), DispatchError> {
    let mut cred = Credentials::get(hash).ok_or(Error::UnknownCredential)?;
    ensure(!cred.rejected, Error::Rejected)?;
    acting_as(&cred.registration.subject, who, rel::AUTHENTICATION)?;
    cred.rejected = true;
    Credentials::insert(hash, &cred);
    deposit_event(Event::Rejected { hash: *hash });
    Ok(())
}

fn page_of(index: u32) -> (u32, usize, u8) {
    let page = index.checked_div(STATUS_PAGE_BITS).unwrap_or(0);
    let bit = index.checked_rem(STATUS_PAGE_BITS).unwrap_or(0);
    (page, (bit / 8) as usize, 1u8 << (bit % 8))
}

/// Bytes of one status-list page.
pub const PAGE_BYTES: usize = (STATUS_PAGE_BITS / 8) as usize;

/// Bit `index` of `lead`'s list `list` for `purpose`.
pub fn bit(lead: &Did, list: u32, purpose: Purpose, index: u32) -> bool {
    let (page, byte, mask) = page_of(index);
    StatusPage::get(&(*lead, list, purpose), &page)
        .and_then(|p| p.get(byte).copied())
        .is_some_and(|b| b & mask != 0)
}

/// An issuer sets or clears a credential's status bit.
pub fn set_status(
    who: &AccountId,
    hash: &H256,
    purpose: Purpose,
    value: bool,
) -> Result<(), DispatchError> {
    let cred = Credentials::get(hash).ok_or(Error::UnknownCredential)?;
    ensure(!cred.rejected, Error::Rejected)?;
    let reg = &cred.registration;
    let status = match (reg.revocable, reg.status) {
        (true, Some(s)) => s,
        _ => return Err(Error::NotRevocable.into()),
    };
    let by = reg
        .issuers
        .iter()
        .find(|d| acting_as(d, who, rel::ASSERTION_METHOD).is_ok())
        .copied()
        .ok_or(Error::NotAuthorized)?;
    let lead = *reg.issuers.first().ok_or(Error::Threshold)?;
    ensure(value || purpose == Purpose::Suspension, Error::Irreversible)?;
    let key = (lead, status.list, purpose);
    let (page, byte, mask) = page_of(status.index);
    let bits = match StatusPage::get(&key, &page) {
        Some(b) => b,
        None if !value => alloc::vec![0u8; PAGE_BYTES],
        None => {
            // The page's bytes and its key.
            let d = deposit_for(PAGE_BYTES.saturating_add(64))?;
            charge(who, d)?;
            StatusDeposits::put(
                &StatusDeposits::get_or_default()
                    .checked_add(d)
                    .ok_or(Error::Overflow)?,
            );
            alloc::vec![0u8; PAGE_BYTES]
        }
    };
    let mut bits = bits;
    if let Some(b) = bits.get_mut(byte) {
        if value {
            *b |= mask;
        } else {
            *b &= !mask;
        }
    }
    if value || StatusPage::contains_key(&key, &page) {
        StatusPage::insert(&key, &page, &bits);
    }
    deposit_event(Event::StatusChanged {
        hash: *hash,
        purpose,
        value,
        by,
    });
    Ok(())
}

/// A credential and its status as verifiers see it.
pub fn status(hash: &H256) -> Option<(Credential, CredentialStatus)> {
    let cred = Credentials::get(hash)?;
    let reg = &cred.registration;
    let s = if cred.rejected {
        CredentialStatus::Rejected
    } else {
        match (reg.issuers.first(), reg.status) {
            (Some(lead), Some(s)) if bit(lead, s.list, Purpose::Revocation, s.index) => {
                CredentialStatus::Revoked
            }
            (Some(lead), Some(s)) if bit(lead, s.list, Purpose::Suspension, s.index) => {
                CredentialStatus::Suspended
            }
            _ => CredentialStatus::Issued,
        }
    };
    Some((cred, s))
}

/// The whole bitstring of `lead`'s list `list` for `purpose`
/// ([`STATUS_LIST_LENGTH`] bits, least significant bit of each byte first;
/// W3C's `encodedList` is this, most significant first, compressed).
pub fn status_list(lead: &Did, list: u32, purpose: Purpose) -> Vec<u8> {
    let mut out = alloc::vec![0u8; (STATUS_LIST_LENGTH / 8) as usize];
    for (page, bits) in StatusPage::iter_prefix(&(*lead, list, purpose)) {
        let start = (page as usize).saturating_mul(PAGE_BYTES);
        if let Some(dst) = out.get_mut(start..start.saturating_add(PAGE_BYTES)) {
            if dst.len() == bits.len() {
                dst.copy_from_slice(&bits);
            }
        }
    }
    out
}
