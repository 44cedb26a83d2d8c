//! Encrypted messages between DIDs. The sender encrypts to one of the
//! recipient's ML-KEM-768 `keyAgreement` keys off chain (KEM + AEAD, see
//! `qstack did send`) and posts the ciphertext signed by an account that is
//! one of the sending DID's `authentication` methods, so every node checks
//! who sent it and that it is intact (the transaction signature covers it)
//! but none can read it. A message is a bounded, deposit-paying object in
//! the recipient's inbox until the recipient (or the sender's payer, if the
//! recipient never does) clears it.

use crate::document::{acting_as, active, charge, deposit_event, deposit_for, ensure, refund};
use crate::{
    rel, Did, Error, Event, Inbox, InboxState, KeyMaterial, Message, MAX_INBOX, MAX_MESSAGE,
    ML_KEM_768_CIPHERTEXT,
};
use codec::Encode;
use qstack_core::AccountId;
use qstack_runtime_primitives::DispatchError;

/// AEAD tag length: a ciphertext is at least this long.
pub const TAG_LEN: usize = 16;

/// Posts `message` to `to`'s inbox; returns its number.
pub fn send(who: &AccountId, to: &Did, mut message: Message) -> Result<u64, DispatchError> {
    acting_as(&message.from, who, rel::AUTHENTICATION)?;
    let recipient = active(to)?;
    let key_ok = recipient.document.methods.iter().any(|m| {
        m.id == message.key
            && m.relationships & rel::KEY_AGREEMENT != 0
            && matches!(m.material, KeyMaterial::MlKem768(_))
    });
    ensure(key_ok, Error::BadMessage)?;
    ensure(
        message.kem_ciphertext.len() == ML_KEM_768_CIPHERTEXT
            && message.ciphertext.len() >= TAG_LEN
            && message.ciphertext.len() <= MAX_MESSAGE as usize,
        Error::BadMessage,
    )?;
    let (waiting, next) = InboxState::get(to).unwrap_or_default();
    ensure(waiting < MAX_INBOX, Error::InboxFull)?;
    message.sent = pallet_system::block_number();
    message.payer = *who;
    message.deposit = 0;
    // The message and its key.
    let deposit = deposit_for(message.encoded_size().saturating_add(48))?;
    message.deposit = deposit;
    charge(who, deposit)?;
    let after = (
        waiting.checked_add(1).ok_or(Error::Overflow)?,
        next.checked_add(1).ok_or(Error::Overflow)?,
    );
    let from = message.from;
    Inbox::insert(to, &next, &message);
    InboxState::insert(to, &after);
    deposit_event(Event::MessageSent {
        from,
        to: *to,
        seq: next,
    });
    Ok(next)
}

/// Removes message `seq` from `to`'s inbox, by the recipient (an
/// `authentication` method of `to`) or by the account that paid for it;
/// the deposit returns to that account.
pub fn clear(who: &AccountId, to: &Did, seq: u64) -> Result<(), DispatchError> {
    let m = Inbox::get(to, &seq).ok_or(Error::UnknownMessage)?;
    if m.payer != *who {
        acting_as(to, who, rel::AUTHENTICATION)?;
    }
    refund(&m.payer, m.deposit)?;
    Inbox::remove(to, &seq);
    let (waiting, next) = InboxState::get(to).unwrap_or_default();
    let waiting = waiting.checked_sub(1).ok_or(Error::Overflow)?;
    InboxState::insert(to, &(waiting, next));
    deposit_event(Event::MessageCleared { to: *to, seq });
    Ok(())
}

/// The messages waiting in `to`'s inbox, by number.
pub fn inbox(to: &Did) -> alloc::vec::Vec<(u64, Message)> {
    let mut all = Inbox::iter_prefix(to);
    all.sort_by_key(|(seq, _)| *seq);
    all
}
