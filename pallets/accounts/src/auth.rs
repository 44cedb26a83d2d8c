//! Who may sign for an account: resolves an extrinsic's address and
//! signature to the account and the (signature, key) pairs that must verify
//! over the signed payload. The executive verifies them (through the host,
//! whose cache the node fills ahead) and charges one signature's weight per
//! pair; this module decides which keys count, and reads state only.
//!
//! - A master-key signature needs the account's master key enabled. The key
//!   comes from `System` or, on an account's first transaction, from the
//!   address itself (then the chain stores it).
//! - A regular-key signature needs a regular key.
//! - A multi-signature needs a signer list: each entry names a listed signer
//!   once, in any order, and the weights of the signers present must reach
//!   the quorum. A signer signs with its master key (if enabled) or its
//!   regular key, as its entry says. A signer the chain has never seen (a
//!   zero-balance account that never transacted) carries its master key in
//!   the entry ([`SignerKey::Key`]); the chain stores it when the
//!   transaction is included, so it is sent only once.
//!
//! Every signature's scheme must match its key's; a mismatch is a bad proof.

use crate::{master_disabled, RegularKey, SignedWith, SignerLists, MAX_SIGNERS};
use alloc::vec::Vec;
use qstack_core::{AccountId, PublicKey, Signature};
use qstack_runtime_primitives::{ExtrinsicSignature, InvalidTransaction, MultiAddress, SignerKey};

/// A resolved signer: the account, how it signed, and what must verify.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Authorisation {
    /// The account the extrinsic acts for (and pays from).
    pub who: AccountId,
    /// Which of its ways to sign was used.
    pub signed_with: SignedWith,
    /// Every signature with the key it must verify against, over the signed
    /// payload; all must verify.
    pub checks: Vec<(Signature, PublicKey)>,
    /// With [`SignedWith::Signers`]: the listed account each check signs for,
    /// in the order of `checks` (each signs the payload bound to its own
    /// account); empty otherwise.
    pub signer_accounts: Vec<AccountId>,
    /// Master keys carried inline that the chain does not store yet; the
    /// executive registers them when the extrinsic is included.
    pub new_keys: Vec<PublicKey>,
}

fn same_scheme(sig: &Signature, key: &PublicKey) -> Result<(), InvalidTransaction> {
    if sig.scheme() == key.scheme() {
        Ok(())
    } else {
        Err(InvalidTransaction::BadProof)
    }
}

/// The master key of `who` if it may sign: `inline` (an address or signer
/// entry carrying the key) or the one `System` stores. Pushes an inline key
/// the chain does not know to `new_keys`.
fn master_key(
    who: &AccountId,
    inline: Option<PublicKey>,
    new_keys: &mut Vec<PublicKey>,
) -> Result<PublicKey, InvalidTransaction> {
    if master_disabled(who) {
        return Err(InvalidTransaction::MasterKeyDisabled);
    }
    let stored = pallet_system::account_key(who);
    match (inline, stored) {
        (Some(pk), None) => {
            if !new_keys.contains(&pk) {
                new_keys.push(pk.clone());
            }
            Ok(pk)
        }
        // An inline key derives `who`, so it is the stored one.
        (Some(pk), Some(_)) => Ok(pk),
        (None, Some(pk)) => Ok(pk),
        (None, None) => Err(InvalidTransaction::BadSigner),
    }
}

fn regular_key(who: &AccountId) -> Result<PublicKey, InvalidTransaction> {
    RegularKey::get(who).ok_or(InvalidTransaction::NoRegularKey)
}

/// Resolves `address` and `signature` against state.
pub fn authorise(
    address: MultiAddress,
    signature: ExtrinsicSignature,
) -> Result<Authorisation, InvalidTransaction> {
    let (who, inline) = match address {
        MultiAddress::Id(who) => (who, None),
        MultiAddress::Key(pk) => (pk.account_id(), Some(pk)),
    };
    let mut new_keys = Vec::new();
    let mut signer_accounts = Vec::new();
    let (signed_with, checks) = match signature {
        ExtrinsicSignature::Master(sig) => {
            let key = master_key(&who, inline, &mut new_keys)?;
            same_scheme(&sig, &key)?;
            (SignedWith::Master, alloc::vec![(sig, key)])
        }
        ExtrinsicSignature::Regular(sig) => {
            let key = regular_key(&who)?;
            same_scheme(&sig, &key)?;
            (SignedWith::Regular, alloc::vec![(sig, key)])
        }
        ExtrinsicSignature::Multi(entries) => {
            let list = SignerLists::get(&who).ok_or(InvalidTransaction::NoSignerList)?;
            if entries.len() > MAX_SIGNERS as usize {
                return Err(InvalidTransaction::TooManySigners);
            }
            let mut seen: Vec<AccountId> = Vec::with_capacity(entries.len());
            let mut weight: u32 = 0;
            let mut checks = Vec::with_capacity(entries.len());
            for entry in entries {
                let signer = entry.signer.account();
                if seen.contains(&signer) {
                    return Err(InvalidTransaction::DuplicateSigner);
                }
                seen.push(signer);
                let w = list
                    .weight_of(&signer)
                    .ok_or(InvalidTransaction::UnlistedSigner)?;
                weight = weight.saturating_add(u32::from(w));
                let key = match entry.signer {
                    SignerKey::Master(a) => master_key(&a, None, &mut new_keys)?,
                    SignerKey::Key(pk) => master_key(&signer, Some(pk), &mut new_keys)?,
                    SignerKey::Regular(a) => regular_key(&a)?,
                };
                same_scheme(&entry.signature, &key)?;
                checks.push((entry.signature, key));
                signer_accounts.push(signer);
            }
            if weight < list.quorum {
                return Err(InvalidTransaction::QuorumNotMet);
            }
            (SignedWith::Signers, checks)
        }
    };
    Ok(Authorisation {
        who,
        signed_with,
        checks,
        signer_accounts,
        new_keys,
    })
}
