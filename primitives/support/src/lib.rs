//! What a pallet gives the runtime, in one shape: the [`Pallet`] trait
//! (name, permanent index, storage version, calls, events, errors, genesis,
//! hooks, inherents, invariants, metadata), the [`storage!`] and
//! [`constants!`] declarations that write each item once with the doc that
//! feeds the metadata, and [`compose_runtime!`], which derives the runtime's
//! outer enums, dispatch, hooks, metadata pallet list and genesis from one
//! line per pallet. Declarative macros only: no proc-macro framework, no web
//! of associated types. It owns no storage and knows no pallet.
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

#[doc(hidden)]
pub extern crate alloc;

pub mod apis;
pub mod genesis;
mod macros;
pub mod math;
pub mod metadata;
#[doc(hidden)]
pub mod testing_support;

pub use codec;
pub use genesis::GenesisError;
pub use metadata::{ConstantMeta, PalletMeta};
pub use qstack_runtime_primitives::storage;
pub use scale_info;

#[doc(hidden)]
pub use qstack_core::AccountId as __AccountId;
#[doc(hidden)]
pub use qstack_core::BlockNumber as __BlockNumber;
#[doc(hidden)]
pub use qstack_runtime_primitives::ApiId as __ApiId;
#[doc(hidden)]
pub use qstack_runtime_primitives::DispatchError as __DispatchError;
#[doc(hidden)]
pub type __JsonMap = genesis::Patch;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use codec::{Encode, FullCodec};
use qstack_core::{AccountId, BlockNumber};
use qstack_runtime_primitives::{DispatchError, RuntimeVersion};
use scale_info::{StaticTypeInfo, TypeInfo};

/// Who dispatches a call.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Origin {
    /// The chain itself (governance); may do anything.
    Root,
    /// A checked signed transaction.
    Signed(AccountId),
    /// An inherent or unsigned call.
    None,
}

impl Origin {
    /// The signer, or `BadOrigin`.
    pub fn ensure_signed(&self) -> Result<AccountId, DispatchError> {
        match self {
            Origin::Signed(a) => Ok(*a),
            _ => Err(DispatchError::BadOrigin),
        }
    }
    /// Ok only for root.
    pub fn ensure_root(&self) -> Result<(), DispatchError> {
        match self {
            Origin::Root => Ok(()),
            _ => Err(DispatchError::BadOrigin),
        }
    }
    /// Ok only for inherents.
    pub fn ensure_none(&self) -> Result<(), DispatchError> {
        match self {
            Origin::None => Ok(()),
            _ => Err(DispatchError::BadOrigin),
        }
    }
}

/// Which of the account's ways to sign authorised the call being dispatched.
/// The executive knows it from the extrinsic's signature; some calls depend
/// on it (only the master key may disable itself).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SignedWith {
    /// The account's master key.
    Master,
    /// The account's regular key.
    Regular,
    /// Enough members of the account's signer list.
    Signers,
}

/// Everything a call is dispatched with: who, how they signed, and the
/// running runtime's version (system's `set_code` checks against it).
#[derive(Clone, Debug)]
pub struct DispatchContext<'a> {
    /// Who dispatches.
    pub origin: Origin,
    /// How a signed origin signed (`Master` for other origins).
    pub signed_with: SignedWith,
    /// The running runtime's version.
    pub version: &'a RuntimeVersion,
}

impl<'a> DispatchContext<'a> {
    /// A context signed with the master key (or unsigned/root).
    pub fn new(origin: Origin, version: &'a RuntimeVersion) -> Self {
        Self {
            origin,
            signed_with: SignedWith::Master,
            version,
        }
    }
    /// The same context, signed with `with`.
    pub fn signed_with(mut self, with: SignedWith) -> Self {
        self.signed_with = with;
        self
    }
}

/// The storage a call may touch, at most: every read (`get`, `exists`,
/// `next_key`) and every write (`set`, `clear`, each key a prefix clear
/// removes) counts, repeats included (the overlay has no read cache, so a
/// repeated read walks the trie again). Priced by [`db_weight`]; every
/// pallet test checks that no dispatch exceeds its declaration.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct DbAccess {
    /// Storage reads.
    pub reads: u32,
    /// Storage writes.
    pub writes: u32,
}

impl DbAccess {
    /// `reads` reads and `writes` writes.
    pub const fn new(reads: u32, writes: u32) -> Self {
        Self { reads, writes }
    }
    /// Both together.
    pub const fn plus(self, other: DbAccess) -> Self {
        Self {
            reads: self.reads.saturating_add(other.reads),
            writes: self.writes.saturating_add(other.writes),
        }
    }
}

/// Weight (picoseconds) of one storage read: 4 µs. From `qstack benchmark
/// import` on RocksDB with 10,000 distinct senders (release, 2-core
/// reference machine): 401 µs per transfer, of which about 100 µs compute
/// and the rest its ~48 storage operations and their share of the commit,
/// ~6 µs each. Declared at 4 µs a read and 6 µs a write, a transfer's ~57
/// reads and ~32 writes (its declaration and the signed overhead's, which
/// over-count what it does) come to about 1.3 times the measured time.
pub const DB_READ_WEIGHT: u64 = 4_000_000;
/// Weight (picoseconds) of one storage write, including its share of the
/// block's commit (trie nodes rehashed, written and reference-counted): 6 µs
/// (see [`DB_READ_WEIGHT`]).
pub const DB_WRITE_WEIGHT: u64 = 6_000_000;

/// The weight of `access` at [`DB_READ_WEIGHT`] and [`DB_WRITE_WEIGHT`].
pub const fn db_weight(access: DbAccess) -> u64 {
    (access.reads as u64)
        .saturating_mul(DB_READ_WEIGHT)
        .saturating_add((access.writes as u64).saturating_mul(DB_WRITE_WEIGHT))
}

/// A pallet's call enum: one signature for every pallet.
pub trait Dispatch: Sized {
    /// Compute weight (picoseconds), from the pallet's benchmarks; storage
    /// is priced separately by [`Dispatch::db_access`].
    fn weight(&self) -> u64;
    /// The most storage the call touches (see [`DbAccess`]).
    fn db_access(&self) -> DbAccess;
    /// Whether `index` is a call of this enum (checked before decoding, so
    /// an unknown call is told apart from a malformed one). The composed
    /// runtime's test checks it against the enum's type information.
    fn is_known(index: u8) -> bool;
    /// Runs the call. The caller wraps it in a storage transaction: an error
    /// undoes every write.
    fn dispatch(self, ctx: &DispatchContext<'_>) -> Result<(), DispatchError>;
    /// Whether the call only sets the pallet's parameters (a root call a
    /// governance parameter change may carry); no call does by default.
    fn is_parameter_change(&self) -> bool {
        false
    }
}

/// A pallet's event enum. Pallets without events use [`NoEvent`].
pub trait PalletEvent: Encode + StaticTypeInfo {
    /// False only for [`NoEvent`]: the pallet has no events in metadata
    /// nor in the runtime's event enum.
    const EXISTS: bool = true;
}

/// The event type of a pallet that has none.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, TypeInfo)]
pub enum NoEvent {}

impl PalletEvent for NoEvent {
    const EXISTS: bool = false;
}

/// Inherent data an author offers a block: identifier → SCALE bytes.
pub type InherentData = BTreeMap<[u8; 8], Vec<u8>>;

/// What the runtime needs from a pallet. Everything beyond the name, index
/// and types has a default, so a pallet states only what it has.
pub trait Pallet {
    /// Name: the storage prefix and the metadata name (`"Tokens"`).
    const NAME: &'static str;
    /// Permanent index in every runtime (the first byte of its calls,
    /// events and errors).
    const INDEX: u8;
    /// Version of the pallet's storage layout; raise it with a migration in
    /// [`Pallet::on_runtime_upgrade`].
    const STORAGE_VERSION: u16 = 0;
    /// Top-level keys of the chain spec's genesis patch this pallet reads.
    /// One key: [`Pallet::Genesis`] is that key's value; several: an object
    /// of those keys. None: the pallet has no genesis.
    const GENESIS_KEYS: &'static [&'static str] = &[];
    /// Calls.
    type Call: Dispatch + FullCodec + StaticTypeInfo;
    /// Events ([`NoEvent`] for none).
    type Event: PalletEvent;
    /// Errors.
    type Error: Into<DispatchError> + Encode + StaticTypeInfo;
    /// The genesis configuration, as the chain spec writes it (serde).
    type Genesis: serde::de::DeserializeOwned + Default;

    /// Writes the genesis state. Errors name the field.
    fn build_genesis(_config: &Self::Genesis) -> Result<(), GenesisError> {
        Ok(())
    }
    /// Storage items for metadata (from [`storage!`]).
    fn storage() -> Vec<storage::EntryMeta> {
        Vec::new()
    }
    /// Constants for metadata (from [`constants!`]).
    fn constants() -> Vec<ConstantMeta> {
        Vec::new()
    }
    /// Start of block `number`, after system's initialisation.
    fn on_initialize(_number: BlockNumber) {}
    /// End of block; an error makes the block invalid.
    fn on_finalize() -> Result<(), &'static str> {
        Ok(())
    }
    /// First block of a new runtime whose [`Pallet::STORAGE_VERSION`] is
    /// above the stored one (`from`): migrate the pallet's storage. A
    /// migration bounds its work per block: it returns
    /// [`Migration::Continue`] (keeping its own cursor in its storage) to be
    /// called again at the start of the next block, with the same `from`,
    /// until it returns [`Migration::Done`]; signed transactions wait
    /// meanwhile. Only then is the new storage version recorded. A
    /// migration must be idempotent.
    fn on_runtime_upgrade(_from: u16) -> Migration {
        Migration::Done { weight: 0 }
    }
    /// The inherent this pallet adds to a new block from the author's data.
    fn create_inherent(_data: &InherentData) -> Option<Self::Call> {
        None
    }
    /// Whether `call` may only come as an inherent (unsigned, by the author).
    fn is_inherent(_call: &Self::Call) -> bool {
        false
    }
    /// Invariants of the pallet's state; every test ends with them.
    fn try_state() -> Result<(), &'static str> {
        Ok(())
    }
    /// Adds to `out`, per account, the objects of this pallet that account
    /// pays an owner reserve for (what it told the owner ledger). The
    /// runtime's invariants check that the ledger equals the sum over all
    /// pallets.
    fn owned_objects(_out: &mut BTreeMap<AccountId, u32>) {}
}

/// Runs `f` in a storage transaction: all of its writes, or none (a
/// refused call writes nothing, even when it checks as it goes).
pub fn transactional<T, E>(f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    qstack_io::storage::start_transaction();
    let r = f();
    if r.is_ok() {
        qstack_io::storage::commit_transaction();
    } else {
        qstack_io::storage::rollback_transaction();
    }
    r
}

/// Key of a pallet's stored storage version (FRAME's layout:
/// `twox128(pallet) ++ twox128(":__STORAGE_VERSION__:")`).
pub fn storage_version_key(pallet: &str) -> [u8; 32] {
    storage::item_prefix(pallet, ":__STORAGE_VERSION__:")
}

/// The storage version recorded for `P` (0 if never recorded).
pub fn stored_version<P: Pallet>() -> u16 {
    storage::get_decoded(&storage_version_key(P::NAME)).unwrap_or(0)
}

/// What one step of a storage migration did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Migration {
    /// Finished; the pallet's new storage version is recorded.
    Done {
        /// Weight this step used.
        weight: u64,
    },
    /// More to do at the start of the next block.
    Continue {
        /// Weight this step used.
        weight: u64,
    },
}

impl Migration {
    /// The step's weight.
    pub fn weight(&self) -> u64 {
        match self {
            Migration::Done { weight } | Migration::Continue { weight } => *weight,
        }
    }
}

/// Runs (a step of) `P`'s migration if its storage version rose; records
/// the new version when the migration is done. Nothing is written while a
/// pallet stays at version 0. Returns the step, if one ran.
pub fn upgrade<P: Pallet>() -> Option<Migration> {
    let from = stored_version::<P>();
    if from >= P::STORAGE_VERSION {
        return None;
    }
    let step = P::on_runtime_upgrade(from);
    if let Migration::Done { .. } = step {
        qstack_io::storage::set(&storage_version_key(P::NAME), &P::STORAGE_VERSION.encode());
    }
    Some(step)
}

/// `a == b`, usable in constants (compile-time checks of names).
pub const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        // `i < a.len() == b.len()`: in bounds.
        #[allow(clippy::indexing_slicing)]
        if a[i] != b[i] {
            return false;
        }
        i = i.saturating_add(1);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use codec::{Decode, DecodeWithMemTracking};
    use core::cell::Cell;
    use qstack_io::TestExternalities;

    /// Calls of the test pallet.
    #[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
    pub enum Call {
        /// Does nothing.
        #[codec(index = 3)]
        Noop,
    }

    /// Errors of the test pallet.
    #[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
    pub enum Error {
        /// The count would pass its limit (a documented variant).
        #[codec(index = 0)]
        TooMany,
        #[codec(index = 1)]
        Undocumented,
    }

    impl From<Error> for DispatchError {
        fn from(e: Error) -> Self {
            DispatchError::module(9, e as u8)
        }
    }

    impl Dispatch for Call {
        fn weight(&self) -> u64 {
            1
        }
        fn db_access(&self) -> DbAccess {
            DbAccess::new(0, 0)
        }
        fn is_known(index: u8) -> bool {
            index == 3
        }
        fn dispatch(self, ctx: &DispatchContext<'_>) -> Result<(), DispatchError> {
            ctx.origin.ensure_signed().map(|_| ())
        }
    }

    std::thread_local! {
        static MIGRATED_FROM: Cell<Option<u16>> = const { Cell::new(None) };
    }

    /// Genesis of the test pallet.
    #[derive(Default, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Genesis {
        count: u32,
    }

    crate::storage! { pallet = "Test";
        /// A counter
        /// over two lines.
        pub Count: value u32 [default];
        /// Scratch.
        pub Scratch as "Other": map Twox64Concat u32 => u32 [unlisted];
    }

    crate::constants! {
        /// The limit.
        Limit: pub const LIMIT: u32 = 7;
    }

    struct V0;
    struct V2;

    macro_rules! test_pallet {
        ($p:ident, $version:expr) => {
            impl Pallet for $p {
                const NAME: &'static str = "Test";
                const INDEX: u8 = 9;
                const STORAGE_VERSION: u16 = $version;
                const GENESIS_KEYS: &'static [&'static str] = &["test"];
                type Call = Call;
                type Event = NoEvent;
                type Error = Error;
                type Genesis = Genesis;
                fn build_genesis(g: &Genesis) -> Result<(), GenesisError> {
                    if g.count > LIMIT {
                        return Err(GenesisError::from_error("test.count", &Error::TooMany));
                    }
                    Count::put(&g.count);
                    Ok(())
                }
                fn on_runtime_upgrade(from: u16) -> Migration {
                    MIGRATED_FROM.with(|m| m.set(Some(from)));
                    Migration::Done { weight: 1 }
                }
            }
        };
    }
    test_pallet!(V0, 0);
    test_pallet!(V2, 2);

    #[test]
    fn storage_and_constants_are_declared_once_with_their_docs() {
        let meta = storage_metadata();
        assert_eq!(meta.len(), 1, "unlisted items stay out of metadata");
        assert_eq!(meta[0].name, "Count");
        assert_eq!(meta[0].docs, "A counter over two lines.");
        assert_eq!(meta[0].default, Some(0u32.encode()));
        assert_eq!(Count::key(), storage::item_prefix("Test", "Count"));
        assert_eq!(
            Scratch::prefix(),
            storage::item_prefix("Test", "Other"),
            "`as` names the item in its key"
        );
        let c = constants_metadata();
        assert_eq!((c[0].name, c[0].docs), ("Limit", "The limit."));
        assert_eq!(c[0].value, 7u32.encode());
    }

    #[test]
    fn errors_are_described_by_their_docs() {
        // The variant's name, then its docs where scale-info keeps them
        // (its `docs` feature, off in this workspace to keep the runtime small).
        let d = genesis::describe(&Error::TooMany);
        assert!(
            d == "TooMany"
                || d == "TooMany: The count would pass its limit (a documented variant).",
            "{d}"
        );
        assert_eq!(genesis::describe(&Error::Undocumented), "Undocumented");
        assert_eq!(
            GenesisError::from_error("test.count", &Error::TooMany).to_string(),
            format!("test.count: {d}")
        );
    }

    #[test]
    fn genesis_reads_its_key_and_refuses_unknown_ones() {
        TestExternalities::new().execute_with(|| {
            let patch = |s: &str| -> __JsonMap { serde_json::from_str(s).unwrap() };
            genesis::build::<V0>(&patch(r#"{"test":{"count":5}}"#)).unwrap();
            assert_eq!(Count::get(), Some(5));
            let e = genesis::build::<V0>(&patch(r#"{"test":{"count":8}}"#)).unwrap_err();
            assert!(e.starts_with("test.count: TooMany"), "{e}");
            let e = genesis::build::<V0>(&patch(r#"{"test":{"cnt":1}}"#)).unwrap_err();
            assert!(
                e.contains("in `test`") && e.contains("unknown field `cnt`"),
                "{e}"
            );
            let e = genesis::check_keys(&patch(r#"{"tset":{}}"#), &["test"]).unwrap_err();
            assert!(e.contains("unknown field `tset`"), "{e}");
        });
    }

    #[test]
    fn storage_versions_migrate_once_and_only_when_raised() {
        TestExternalities::new().execute_with(|| {
            let before = qstack_io::storage::root();
            assert_eq!(upgrade::<V0>(), None);
            assert_eq!(MIGRATED_FROM.with(Cell::get), None);
            assert_eq!(
                qstack_io::storage::root(),
                before,
                "version 0 writes nothing"
            );
            assert_eq!(upgrade::<V2>(), Some(Migration::Done { weight: 1 }));
            assert_eq!(MIGRATED_FROM.with(Cell::get), Some(0));
            assert_eq!(stored_version::<V2>(), 2);
            MIGRATED_FROM.with(|m| m.set(None));
            assert_eq!(upgrade::<V2>(), None);
            assert_eq!(MIGRATED_FROM.with(Cell::get), None, "runs once");
        });
    }

    struct Stepped;
    thread_local! {
        static STEPS: Cell<u32> = const { Cell::new(0) };
    }
    impl Pallet for Stepped {
        const NAME: &'static str = "Stepped";
        const INDEX: u8 = 10;
        const STORAGE_VERSION: u16 = 1;
        type Call = Call;
        type Event = NoEvent;
        type Error = Error;
        type Genesis = Genesis;
        fn on_runtime_upgrade(from: u16) -> Migration {
            assert_eq!(from, 0, "every step sees the version it migrates from");
            let n = STEPS.with(|s| {
                s.set(s.get() + 1);
                s.get()
            });
            if n < 3 {
                Migration::Continue { weight: 5 }
            } else {
                Migration::Done { weight: 2 }
            }
        }
    }

    #[test]
    fn a_multi_block_migration_records_its_version_only_when_done() {
        TestExternalities::new().execute_with(|| {
            assert_eq!(
                upgrade::<Stepped>(),
                Some(Migration::Continue { weight: 5 })
            );
            assert_eq!(stored_version::<Stepped>(), 0);
            assert_eq!(
                upgrade::<Stepped>(),
                Some(Migration::Continue { weight: 5 })
            );
            assert_eq!(upgrade::<Stepped>(), Some(Migration::Done { weight: 2 }));
            assert_eq!(stored_version::<Stepped>(), 1);
            assert_eq!(upgrade::<Stepped>(), None);
            assert_eq!(STEPS.with(Cell::get), 3);
        });
    }

    #[test]
    fn api_ids_are_blake2_64_at_compile_time() {
        const CORE: [u8; 8] = apis::blake2_64(b"Core");
        assert_eq!(CORE, [0xdf, 0x6a, 0xcb, 0x68, 0x99, 0x07, 0x60, 0x9b]);
        // Longer than one block, and the empty input.
        for n in [0usize, 1, 127, 128, 129, 300] {
            let data: Vec<u8> = (0..n).map(|i| i as u8).collect();
            assert_eq!(
                apis::blake2_64(&data),
                qstack_core::hashing::blake2_64(&data),
                "{n}"
            );
        }
    }

    #[test]
    fn call_indices_are_checked_against_the_enum() {
        testing_support::check_known_calls::<V0>().unwrap();
        assert!(str_eq("Tokens", "Tokens") && !str_eq("Tokens", "Token"));
    }
}
