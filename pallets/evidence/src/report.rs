//! Checking and recording evidence: [`check_evidence`] is the pure check
//! (no storage; the node may run it natively), [`validate`] adds what only
//! state knows (chain id, current height, the set, what is recorded), and
//! [`do_report`] records a batch or refuses all of it.

use crate::{
    deposit_event, validator_key, DidReport, Error, Event, Evidence, Height, Offence, OffenceCount,
    OffenceKey, Offences, MAX_EVIDENCE_AGE, MAX_EVIDENCE_PER_BLOCK, MAX_OFFENCES,
    MAX_OFFENCES_PER_HEIGHT,
};
use alloc::vec::Vec;
use qstack_core::{AccountId, PublicKey, Signature, H256};

/// The pure check of one piece of evidence on chain `chain` (its genesis
/// hash) for a block at height `now`: same signer, height, round and step,
/// different content, both signatures valid under `key_of(offender)` by
/// `verify` (`key_of(height, index)`: the key in the set of that height),
/// and a height in `now - MAX_EVIDENCE_AGE ..= now`.
///
/// The node should run this natively before offering evidence (with its
/// validator set and `qstack_core::verify`); the runtime's inherent builder
/// runs [`validate`] anyway and drops what fails, so this only saves work.
pub fn check_evidence(
    evidence: &Evidence,
    chain: &H256,
    now: Height,
    key_of: impl FnOnce(Height, u32) -> Option<PublicKey>,
    verify: impl Fn(&Signature, &[u8], &PublicKey) -> bool,
) -> Result<(Offence, PublicKey), Error> {
    // Cheap refusals before any signature check.
    let shape = evidence.check_shape()?;
    if shape.height > now {
        return Err(Error::FutureHeight);
    }
    if shape.height.saturating_add(MAX_EVIDENCE_AGE) < now {
        return Err(Error::TooOld);
    }
    let key = key_of(shape.height, shape.validator).ok_or(Error::UnknownValidator)?;
    let offence = evidence.check(chain, |_| Some(&key), verify)?;
    Ok((offence, key))
}

/// Checks one piece of evidence against the current block's state: the
/// pure check with the chain id (genesis hash), block number and validator
/// set from storage and the host's verifier, then that the offence is not
/// recorded yet. Returns the offence and the offender's account.
pub fn validate(evidence: &Evidence) -> Result<(Offence, AccountId), Error> {
    let chain = pallet_system::block_hash(0).ok_or(Error::NoChainId)?;
    let now = Height::from(pallet_system::block_number());
    let (offence, key) = check_evidence(
        evidence,
        &chain,
        now,
        validator_key,
        qstack_io::crypto::verify,
    )?;
    let offender = key.account_id();
    if Offences::contains_key(&offence.height, &key_of(&offence, &offender)) {
        return Err(Error::AlreadyRecorded);
    }
    Ok((offence, offender))
}

fn key_of(offence: &Offence, offender: &AccountId) -> OffenceKey {
    (*offender, offence.round, offence.step)
}

/// What the inherent builder reports from the author's inherent data: the
/// pieces that pass [`validate`], one per offence, at most
/// [`MAX_EVIDENCE_PER_BLOCK`], in the order given. Runs in the new block's
/// state (after `initialize_block`), so what it returns is exactly what
/// [`do_report`] accepts in this block.
pub fn filter_reportable(evidence: Vec<Evidence>) -> Vec<Evidence> {
    let mut kept: Vec<(Height, OffenceKey)> = Vec::new();
    let mut out = Vec::new();
    let stored = OffenceCount::get().unwrap_or(0) as usize;
    for e in evidence {
        if out.len() >= MAX_EVIDENCE_PER_BLOCK as usize
            || stored.saturating_add(out.len()) >= MAX_OFFENCES as usize
        {
            break;
        }
        let Ok((offence, offender)) = validate(&e) else {
            continue;
        };
        let key = (offence.height, key_of(&offence, &offender));
        if kept.contains(&key) {
            continue;
        }
        let at_height = Offences::iter_prefix(&offence.height)
            .len()
            .saturating_add(kept.iter().filter(|(h, _)| *h == offence.height).count());
        if at_height >= MAX_OFFENCES_PER_HEIGHT as usize {
            continue;
        }
        kept.push(key);
        out.push(e);
    }
    out
}

/// `report`: records every piece, or nothing if any fails.
pub fn do_report(evidence: Vec<Evidence>) -> Result<(), Error> {
    if evidence.is_empty() {
        return Err(Error::NoEvidence);
    }
    if evidence.len() > MAX_EVIDENCE_PER_BLOCK as usize {
        return Err(Error::TooMuchEvidence);
    }
    if DidReport::get().unwrap_or(false) {
        return Err(Error::AlreadyReportedInBlock);
    }
    // Check everything before writing anything, so a refusal writes nothing
    // even outside the executive's storage transaction.
    let mut checked: Vec<(Offence, AccountId)> = Vec::with_capacity(evidence.len());
    for e in &evidence {
        let (offence, offender) = validate(e)?;
        let key = key_of(&offence, &offender);
        if checked
            .iter()
            .any(|(o, a)| o.height == offence.height && key_of(o, a) == key)
        {
            return Err(Error::AlreadyRecorded);
        }
        checked.push((offence, offender));
    }
    let total = OffenceCount::get().unwrap_or(0);
    let new_total = u32::try_from(checked.len())
        .ok()
        .and_then(|n| total.checked_add(n))
        .filter(|t| *t <= MAX_OFFENCES)
        .ok_or(Error::TooManyOffences)?;
    for (offence, _) in &checked {
        let stored = Offences::iter_prefix(&offence.height).len();
        let adding = checked
            .iter()
            .filter(|(o, _)| o.height == offence.height)
            .count();
        if stored.saturating_add(adding) > MAX_OFFENCES_PER_HEIGHT as usize {
            return Err(Error::TooManyOffences);
        }
    }
    for (offence, offender) in checked {
        Offences::insert(&offence.height, &key_of(&offence, &offender), &offence);
        deposit_event(Event::Equivocation {
            offender,
            validator: offence.validator,
            height: offence.height,
            round: offence.round,
            step: offence.step,
        });
        pallet_staking::block::on_offence(offence.height, offence.validator);
    }
    OffenceCount::put(&new_total);
    DidReport::put(&true);
    Ok(())
}
