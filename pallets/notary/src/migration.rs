//! Storage version 1 (the `upgrade-demo` runtime, the second runtime of
//! the forkless-upgrade tests): a note records whether its owner revoked
//! it, and the new `revoke` call sets that.
//!
//! The migration translates every stored [`Note`] from the version-0
//! layout `{owner, block}` to `{owner, block, revoked: None}`, at most
//! [`MIGRATION_BATCH`] notes a block, resuming after the last key it
//! translated ([`MigrationCursor`]). It is idempotent: a value that is not
//! in the old layout (already translated) is left as it is.

use crate::{deposit, Error, Event, MigrationCursor, Note, Notes};
use codec::{Decode, DecodeAll, Encode};
use qstack_core::{AccountId, BlockNumber, H256};
use qstack_support::Migration;

/// Notes translated per block.
pub const MIGRATION_BATCH: u32 = 256;
/// Weight of translating one note (a read, a decode and a write; the
/// notarise benchmark's order), and of a step's fixed part.
const PER_NOTE: u64 = 20_000_000;

/// A note as version 0 stored it.
#[derive(Decode)]
struct NoteV0 {
    owner: AccountId,
    block: BlockNumber,
}

/// Translates up to [`MIGRATION_BATCH`] notes after the cursor.
pub fn step() -> Migration {
    let prefix = Notes::prefix();
    let mut cursor = MigrationCursor::get().unwrap_or_else(|| prefix.to_vec());
    let mut done = 0u32;
    while done < MIGRATION_BATCH {
        let Some(key) = qstack_io::storage::next_key(&cursor) else {
            break;
        };
        if !key.starts_with(&prefix) {
            break;
        }
        if let Some(raw) = qstack_io::storage::get(&key) {
            if let Ok(old) = NoteV0::decode_all(&mut &raw[..]) {
                let new = Note::new(old.owner, old.block);
                qstack_io::storage::set(&key, &new.encode());
            }
        }
        cursor = key;
        done = done.saturating_add(1);
    }
    let weight = PER_NOTE.saturating_mul(u64::from(done).saturating_add(1));
    #[cfg(feature = "upgrade-demo-broken")]
    break_a_count();
    if done < MIGRATION_BATCH {
        MigrationCursor::kill();
        Migration::Done { weight }
    } else {
        MigrationCursor::put(&cursor);
        Migration::Continue { weight }
    }
}

/// `who` revokes its note of `hash`.
pub fn revoke(who: AccountId, hash: H256) -> Result<(), Error> {
    let mut note = Notes::get(&hash).ok_or(Error::UnknownNote)?;
    if note.owner != who {
        return Err(Error::NotOwner);
    }
    if note.revoked.is_some() {
        return Err(Error::AlreadyRevoked);
    }
    note.revoked = Some(pallet_system::block_number());
    Notes::insert(&hash, &note);
    deposit(Event::Revoked { owner: who, hash });
    Ok(())
}

/// The deliberate bug of the `upgrade-demo-broken` build: one owner's
/// note count drops by one, which `try_state` catches.
#[cfg(feature = "upgrade-demo-broken")]
fn break_a_count() {
    if let Some((who, n)) = crate::NoteCount::iter().into_iter().next() {
        crate::NoteCount::insert(&who, &n.saturating_sub(1));
    }
}
