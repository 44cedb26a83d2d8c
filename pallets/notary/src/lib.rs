//! The notary pallet: an account registers the hash of a document, and the
//! chain keeps who registered it and at which block, for anyone to check
//! later. Owns `Notary.*` storage only. It is the worked example of
//! `docs/add-a-pallet.md`: one storage map (and the counter that bounds
//! it), one call, one event, one constant, a genesis section and a runtime
//! API view, each written once.
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

extern crate alloc;

#[cfg(feature = "upgrade-demo")]
pub mod migration;
#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use qstack_core::{AccountId, BlockNumber, H256};
use qstack_runtime_primitives::DispatchError;
use qstack_support::{constants, storage, Dispatch, DispatchContext, GenesisError};
use scale_info::TypeInfo;

/// This pallet's permanent index in every qstack runtime.
pub const PALLET_INDEX: u8 = 5;

constants! {
    /// Most hashes one account may have registered (each is a storage entry
    /// it pays for once, in its transaction's fee).
    MaxNotesPerAccount: pub const MAX_NOTES_PER_ACCOUNT: u32 = 1_000;
}

/// Weight of `notarise` (picoseconds of reference execution):
/// `benches/notarise.rs` measured 11.7 µs natively on a state of 10,000
/// notes (2-core reference machine); times 3 for Wasm and a disk-backed
/// trie, rounded up.
pub const NOTARISE_WEIGHT: u64 = 36_000_000;

/// Calls. Indices are permanent: a new call takes a new index.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Call {
    /// Registers `hash` (of a document) as notarised by the signer at this
    /// block. A hash is registered once, by its first notary.
    #[codec(index = 0)]
    Notarise {
        /// The document's hash (any 32-byte hash the parties agree on).
        hash: H256,
    },
    /// Marks the signer's note of `hash` revoked at this block (the
    /// `upgrade-demo` runtime's new call).
    #[cfg(feature = "upgrade-demo")]
    #[codec(index = 1)]
    Revoke {
        /// The note's hash.
        hash: H256,
    },
}

/// Errors.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Error {
    /// The hash is already registered.
    #[codec(index = 0)]
    AlreadyNotarised,
    /// The signer has registered [`MAX_NOTES_PER_ACCOUNT`] hashes.
    #[codec(index = 1)]
    TooManyNotes,
    /// No note of this hash.
    #[cfg(feature = "upgrade-demo")]
    #[codec(index = 2)]
    UnknownNote,
    /// The note belongs to another account.
    #[cfg(feature = "upgrade-demo")]
    #[codec(index = 3)]
    NotOwner,
    /// The note is revoked already.
    #[cfg(feature = "upgrade-demo")]
    #[codec(index = 4)]
    AlreadyRevoked,
}

qstack_runtime_primitives::impl_module_error!(Error, PALLET_INDEX);

/// Events.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Event {
    /// `owner` registered `hash`.
    #[codec(index = 0)]
    Notarised {
        /// Who registered it.
        owner: AccountId,
        /// The hash.
        hash: H256,
    },
    /// `owner` revoked its note of `hash`.
    #[cfg(feature = "upgrade-demo")]
    #[codec(index = 1)]
    Revoked {
        /// Its owner.
        owner: AccountId,
        /// The hash.
        hash: H256,
    },
}

/// Who registered a hash, and when.
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
pub struct Note {
    /// The account that registered it.
    pub owner: AccountId,
    /// The block it was registered in (0 for genesis).
    pub block: BlockNumber,
    /// The block its owner revoked it in, if it did (storage version 1,
    /// the `upgrade-demo` runtime).
    #[cfg(feature = "upgrade-demo")]
    pub revoked: Option<BlockNumber>,
}

impl Note {
    /// A note of `owner` registered at `block` (not revoked).
    pub fn new(owner: AccountId, block: BlockNumber) -> Self {
        Note {
            owner,
            block,
            #[cfg(feature = "upgrade-demo")]
            revoked: None,
        }
    }
}

storage! { pallet = "Notary";
    /// Every registered hash: who registered it and at which block.
    pub Notes: map Identity H256 => Note;
    /// Number of hashes each account has registered (at most
    /// [`MAX_NOTES_PER_ACCOUNT`]).
    pub NoteCount: map Blake2_128Concat AccountId => u32 [default];
    /// Where the storage migration to version 1 resumes (the last key it
    /// translated; absent when it is not running).
    pub MigrationCursor: value Vec<u8> [unlisted];
}

/// Genesis: hashes registered from the start, in the chain spec's patch as
/// `{"notary": {"notes": [["0x…32-byte hash…", "q…owner"]]}}`.
#[derive(Clone, PartialEq, Eq, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisConfig {
    /// `(hash, owner address)` pairs.
    #[serde(default)]
    pub notes: Vec<(alloc::string::String, alloc::string::String)>,
}

/// The notary pallet, as the runtime composes it.
pub struct Pallet;

impl qstack_support::Pallet for Pallet {
    const NAME: &'static str = "Notary";
    const INDEX: u8 = PALLET_INDEX;
    const GENESIS_KEYS: &'static [&'static str] = &["notary"];
    #[cfg(feature = "upgrade-demo")]
    const STORAGE_VERSION: u16 = 1;
    type Call = Call;
    type Event = Event;
    type Error = Error;
    type Genesis = GenesisConfig;

    fn build_genesis(config: &GenesisConfig) -> Result<(), GenesisError> {
        for (i, (hash, owner)) in config.notes.iter().enumerate() {
            let path = alloc::format!("notary.notes[{i}]");
            let hash = parse_hash(hash).map_err(|e| GenesisError::new(&path, e))?;
            let owner = qstack_support::genesis::account(owner, &path)?;
            do_notarise(owner, hash, 0).map_err(|e| GenesisError::from_error(&path, &e))?;
        }
        Ok(())
    }
    fn storage() -> Vec<qstack_support::storage::EntryMeta> {
        storage_metadata()
    }
    fn constants() -> Vec<qstack_support::ConstantMeta> {
        constants_metadata()
    }
    fn try_state() -> Result<(), &'static str> {
        try_state()
    }
    #[cfg(feature = "upgrade-demo")]
    fn on_runtime_upgrade(from: u16) -> qstack_support::Migration {
        if from == 0 {
            migration::step()
        } else {
            qstack_support::Migration::Done { weight: 0 }
        }
    }
}

impl qstack_support::PalletEvent for Event {}

impl Dispatch for Call {
    fn weight(&self) -> u64 {
        match self {
            Call::Notarise { .. } => NOTARISE_WEIGHT,
            #[cfg(feature = "upgrade-demo")]
            Call::Revoke { .. } => NOTARISE_WEIGHT,
        }
    }
    /// The record, the sender's count and the event (tests' most plus a
    /// quarter).
    fn db_access(&self) -> qstack_support::DbAccess {
        qstack_support::DbAccess::new(8, 5)
    }
    fn is_known(index: u8) -> bool {
        index == 0 || (cfg!(feature = "upgrade-demo") && index == 1)
    }
    fn dispatch(self, ctx: &DispatchContext<'_>) -> Result<(), DispatchError> {
        let who = ctx.origin.ensure_signed()?;
        match self {
            Call::Notarise { hash } => {
                do_notarise(who, hash, pallet_system::block_number()).map_err(Into::into)
            }
            #[cfg(feature = "upgrade-demo")]
            Call::Revoke { hash } => migration::revoke(who, hash).map_err(Into::into),
        }
    }
}

fn parse_hash(s: &str) -> Result<H256, &'static str> {
    let hex_str = s.strip_prefix("0x").ok_or("expected a 0x-hex hash")?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_str, &mut out).map_err(|_| "expected 32 bytes of 0x-hex")?;
    Ok(H256(out))
}

/// Registers `hash` for `owner` at `block`. Checks before it writes.
fn do_notarise(owner: AccountId, hash: H256, block: BlockNumber) -> Result<(), Error> {
    if Notes::contains_key(&hash) {
        return Err(Error::AlreadyNotarised);
    }
    let count = NoteCount::get(&owner).unwrap_or(0);
    if count >= MAX_NOTES_PER_ACCOUNT {
        return Err(Error::TooManyNotes);
    }
    Notes::insert(&hash, &Note::new(owner, block));
    NoteCount::insert(&owner, &count.saturating_add(1));
    deposit(Event::Notarised { owner, hash });
    Ok(())
}

fn deposit(e: Event) {
    pallet_system::deposit_event_encoded(PALLET_INDEX, &e.encode());
}

/// Who registered `hash`, and when (the runtime API's view).
pub fn note(hash: &H256) -> Option<Note> {
    Notes::get(hash)
}

/// Invariants: each account's count is the number of notes it owns, never
/// zero when stored, never above [`MAX_NOTES_PER_ACCOUNT`]; no note from
/// the future.
pub fn try_state() -> Result<(), &'static str> {
    let mut owned: alloc::collections::BTreeMap<AccountId, u32> = Default::default();
    let now = pallet_system::block_number();
    for (_, note) in Notes::iter() {
        if note.block > now {
            return Err("a note from a future block");
        }
        let n = owned.entry(note.owner).or_default();
        *n = n.saturating_add(1);
    }
    let counts = NoteCount::iter();
    if counts.len() != owned.len() {
        return Err("NoteCount lists other accounts than the notes' owners");
    }
    for (who, count) in counts {
        if owned.get(&who) != Some(&count) {
            return Err("NoteCount differs from the notes an account owns");
        }
        if count > MAX_NOTES_PER_ACCOUNT {
            return Err("an account has more than MAX_NOTES_PER_ACCOUNT notes");
        }
    }
    Ok(())
}
