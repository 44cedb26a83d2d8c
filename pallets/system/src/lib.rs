//! The system pallet: block number and hashes, events, account nonces and
//! registered keys, runtime code upgrades (`set_code` with its checks and
//! migrations), and the timestamp inherent. Every other pallet builds on it;
//! it must not know about any of them.
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

pub mod code;
pub mod timestamp;

use alloc::vec::Vec;
use codec::{Compact, Decode, DecodeWithMemTracking, Encode};
use qstack_core::{AccountId, Balance, BlockNumber, Nonce, PublicKey, H256};
use qstack_runtime_primitives::{Digest, DigestItem, DispatchError, RuntimeVersion};
use qstack_support::{constants, storage, Dispatch, DispatchContext};
use scale_info::TypeInfo;

pub use qstack_support::{Origin, SignedWith};

#[cfg(feature = "std")]
pub mod testing;

/// This pallet's permanent index in every qstack runtime.
pub const PALLET_INDEX: u8 = 0;
constants! {
    /// Block hashes kept for mortality checks (the longest era period is
    /// 65,536, but transactions older than this many blocks are refused as
    /// ancient).
    BlockHashCount: pub const BLOCK_HASH_COUNT: BlockNumber = 2400;
}
/// Events kept per block; beyond this, events are dropped (and counted).
pub const MAX_EVENTS: u32 = 65_536;
/// The well-known key of the runtime code.
pub const CODE_KEY: &[u8] = b":code";
/// The well-known key of the Wasm heap pages.
pub const HEAP_PAGES_KEY: &[u8] = b":heappages";

/// The system pallet, as the runtime composes it. Its block-level work
/// (`initialize`/`finalize`, phases, migrations) is driven by the executive
/// itself, before and after every other pallet's hooks.
pub struct Pallet;

impl qstack_support::Pallet for Pallet {
    const NAME: &'static str = "System";
    const INDEX: u8 = PALLET_INDEX;
    const GENESIS_KEYS: &'static [&'static str] = &["system"];
    type Call = Call;
    type Event = Event;
    type Error = Error;
    type Genesis = GenesisConfig;

    fn build_genesis(config: &GenesisConfig) -> Result<(), qstack_support::GenesisError> {
        if let Some(prefix) = config.ss58_format {
            qstack_core::set_ss58_prefix(prefix).map_err(|e| {
                qstack_support::GenesisError::new("system.ss58Format", alloc::format!("{e}"))
            })?;
        }
        match config.block_time_ms {
            None | Some(0) => {}
            Some(ms) => BlockWeightLimit::put(&weight_limit_for(ms)),
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
}

/// System genesis: `{"blockTimeMs": 1000, "ss58Format": 59}` (the node fills
/// both in from the chain spec's `consensus.blockTimeMs` and
/// `properties.ss58Format`). The block time caps a block's weight at a
/// third of it, so a validator can check a full block well within one block
/// time (Substrate keeps a block's weight to a third of its slot the same
/// way). `ss58Format` is the SS58 prefix the genesis addresses may be
/// written with (system builds first, before any pallet reads an address);
/// it writes no state.
#[derive(Clone, PartialEq, Eq, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GenesisConfig {
    /// Target block time in milliseconds; absent or 0 (blocks on demand):
    /// only the runtime's own limit applies.
    #[serde(default)]
    pub block_time_ms: Option<u64>,
    /// SS58 prefix of the genesis addresses (absent: qstack's default).
    #[serde(default)]
    pub ss58_format: Option<u16>,
}

/// Picoseconds in a millisecond.
const PS_PER_MS: u64 = 1_000_000_000;

/// The weight limit (ps) of a block `block_time_ms` long: a third of it.
pub fn weight_limit_for(block_time_ms: u64) -> u64 {
    block_time_ms.saturating_mul(PS_PER_MS) / 3
}

/// The most weight a block may carry: `ceiling` (the runtime's limit), or
/// less if the chain's block time calls for it.
pub fn max_block_weight(ceiling: u64) -> u64 {
    BlockWeightLimit::get().map_or(ceiling, |l| l.min(ceiling))
}

impl qstack_support::PalletEvent for Event {}

/// Calls of the system pallet.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Call {
    /// Writes an event-only note (useful to test inclusion); anyone may call.
    #[codec(index = 0)]
    Remark {
        /// Arbitrary bytes (bounded by the block length limit).
        remark: Vec<u8>,
    },
    /// Replaces the runtime code (root only); runs from the next block.
    #[codec(index = 2)]
    SetCode {
        /// The new Wasm runtime.
        code: Vec<u8>,
    },
    /// Authorises the code with this blake2-256 hash as the next runtime
    /// (root: an accepted governance proposal, or the dev chain's sudo key).
    /// Anyone may then submit it with `apply_authorized_upgrade`.
    #[codec(index = 9)]
    AuthorizeUpgrade {
        /// blake2-256 of the code.
        code_hash: H256,
    },
    /// Submits the authorised code; anyone may (the authorisation is the
    /// permission). Empty `code` assembles the sender's uploaded chunks
    /// (`upload_code_chunk`) in index order. The code runs from the next
    /// block; the authorisation and every uploaded chunk are then gone.
    #[codec(index = 11)]
    ApplyAuthorizedUpgrade {
        /// The new Wasm runtime, or empty for the uploaded chunks.
        code: Vec<u8>,
    },
    /// Uploads chunk `index` of the authorised code, for code larger than
    /// one extrinsic may be: the sender's chunks are kept apart from
    /// everyone else's (nobody can spoil another's upload), an upload to an
    /// index already used replaces it, and every chunk is deleted when an
    /// upgrade is applied or another hash authorised. Only while an upgrade
    /// is authorised; each byte pays the length fee.
    #[codec(index = 12)]
    UploadCodeChunk {
        /// Position of the chunk (0-based, below [`MAX_CODE_CHUNKS`]).
        index: u16,
        /// The bytes.
        chunk: Vec<u8>,
    },
}

/// Most chunks one upload of code may have.
pub const MAX_CODE_CHUNKS: u16 = 64;
/// Largest runtime code, in bytes (whole or assembled from chunks).
pub const MAX_CODE_SIZE: u32 = 16 * 1024 * 1024;
/// Weight of installing new code beyond hashing it: every node compiles
/// the code when it checks the block (the compilation is then cached), so
/// an upgrade takes most of its block (60 % of the runtime's limit).
pub const UPGRADE_WEIGHT: u64 = 200_000_000_000;

impl Dispatch for Call {
    /// Weight of the call, from benchmarks (picoseconds-scale units).
    fn weight(&self) -> u64 {
        let per_byte = |len: usize, w: u64| (len as u64).saturating_mul(w);
        match self {
            // Hashing the payload costs about 1 ns a byte (blake2).
            Call::Remark { remark } => 1_000_000u64.saturating_add(per_byte(remark.len(), 1_000)),
            Call::SetCode { code } | Call::ApplyAuthorizedUpgrade { code } => {
                UPGRADE_WEIGHT.saturating_add(per_byte(code.len(), 1_000))
            }
            Call::AuthorizeUpgrade { .. } => 2_000_000,
            // Storing costs about a nanosecond a byte.
            Call::UploadCodeChunk { chunk, .. } => {
                5_000_000u64.saturating_add(per_byte(chunk.len(), 1_000))
            }
        }
    }
    /// Storage touched, at most: a remark's event; the code, its version
    /// and the runtime-upgrade record for `set_code`.
    fn db_access(&self) -> qstack_support::DbAccess {
        use qstack_support::DbAccess as D;
        match self {
            Call::Remark { .. } => D::new(4, 3),
            Call::SetCode { .. } => D::new(8, 6),
            Call::AuthorizeUpgrade { .. } => D::new(2, 2 + u32::from(MAX_CODE_CHUNKS)),
            // Assembling reads every chunk; applying clears them.
            Call::ApplyAuthorizedUpgrade { .. } => D::new(
                10 + u32::from(MAX_CODE_CHUNKS),
                8 + u32::from(MAX_CODE_CHUNKS),
            ),
            Call::UploadCodeChunk { .. } => D::new(4, 2),
        }
    }
    fn is_known(index: u8) -> bool {
        matches!(index, 0 | 2 | 9 | 11 | 12)
    }
    fn dispatch(self, ctx: &DispatchContext<'_>) -> Result<(), DispatchError> {
        match self {
            Call::Remark { remark } => {
                let sender = ctx.origin.ensure_signed()?;
                deposit_event(Event::Remarked {
                    sender,
                    hash: H256(qstack_io::hashing::blake2_256(&remark)),
                });
                Ok(())
            }
            Call::SetCode { code } => {
                ctx.origin.ensure_root()?;
                code::do_set_code(&code, ctx.version)
            }
            Call::AuthorizeUpgrade { code_hash } => {
                ctx.origin.ensure_root()?;
                code::authorize_upgrade(code_hash);
                Ok(())
            }
            Call::ApplyAuthorizedUpgrade { code } => {
                let who = ctx.origin.ensure_signed()?;
                code::apply_authorized_upgrade(&who, code, ctx.version)
            }
            Call::UploadCodeChunk { index, chunk } => {
                let who = ctx.origin.ensure_signed()?;
                code::upload_chunk(&who, index, chunk)
            }
        }
    }
}

/// Errors of the system pallet.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Error {
    /// The code is not a Wasm runtime with a readable version section.
    #[codec(index = 0)]
    InvalidCode,
    /// The new code's spec_name differs from the running one.
    #[codec(index = 1)]
    InvalidSpecName,
    /// The new code's spec_version does not increase.
    #[codec(index = 2)]
    SpecVersionNeedsToIncrease,
    /// The new code imports a host function this chain does not provide.
    #[codec(index = 3)]
    UnknownHostFunction,
    /// The running runtime's version is not available.
    #[codec(index = 4)]
    NoRunningVersion,
    /// No runtime upgrade is authorised.
    #[codec(index = 5)]
    NothingAuthorized,
    /// The code's hash is not the authorised one (a wrong or missing chunk,
    /// or other code).
    #[codec(index = 6)]
    Unauthorized,
    /// A chunk index at or above `MAX_CODE_CHUNKS`, an empty chunk, or
    /// chunks adding up to more than `MAX_CODE_SIZE`.
    #[codec(index = 7)]
    BadChunk,
    /// Empty code and no uploaded chunks, or a gap among the chunk indices.
    #[codec(index = 8)]
    MissingChunk,
    /// This block already changed the runtime code.
    #[codec(index = 9)]
    UpgradeInThisBlock,
}

qstack_runtime_primitives::impl_module_error!(Error, PALLET_INDEX);

/// Events of the system pallet.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Event {
    /// An extrinsic succeeded.
    #[codec(index = 0)]
    ExtrinsicSuccess {
        /// Its weight.
        weight: u64,
    },
    /// An extrinsic was included but its call failed (fee kept, writes undone).
    #[codec(index = 1)]
    ExtrinsicFailed {
        /// Why.
        dispatch_error: DispatchError,
        /// Its weight.
        weight: u64,
    },
    /// The runtime code was replaced.
    #[codec(index = 2)]
    CodeUpdated,
    /// A new account appeared (first key registration).
    #[codec(index = 3)]
    NewAccount {
        /// The account.
        account: AccountId,
    },
    /// A remark was made.
    #[codec(index = 4)]
    Remarked {
        /// Who.
        sender: AccountId,
        /// blake2-256 of the remark.
        hash: H256,
    },
    /// A runtime code hash was authorised; anyone may now submit the code.
    #[codec(index = 5)]
    UpgradeAuthorized {
        /// blake2-256 of the authorised code.
        code_hash: H256,
    },
    /// Every storage migration of a new runtime finished (in this block's
    /// initialisation, after `steps` blocks' worth of steps).
    #[codec(index = 6)]
    Migrated {
        /// The runtime's spec_version.
        spec_version: u32,
        /// Blocks the migrations took (1 unless one spanned several).
        steps: u32,
    },
}

/// When an event happened in the block. Described under FRAME's path
/// (`frame_system::Phase`), with FRAME's variants and indices.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
#[scale_info(replace_segment("pallet_system", "frame_system"))]
pub enum Phase {
    /// While applying extrinsic `n`.
    #[codec(index = 0)]
    ApplyExtrinsic(u32),
    /// In `on_finalize`.
    #[codec(index = 1)]
    Finalization,
    /// In `on_initialize`.
    #[codec(index = 2)]
    Initialization,
}

/// An account's native balance, in the shape of Substrate's
/// `pallet_balances::AccountData` (wallets read it from `System.Account`).
/// The native token pallet is its only writer.
///
/// The XRP Ledger's reserves are not moved out of the balance: they are a
/// floor under it, which is what Substrate calls `frozen`. So `free` is the
/// whole balance, `frozen` is the reserve the account must keep while it
/// owns objects (zero while it owns none: then it may be emptied), and
/// `reserved` is always zero. A wallet's "transferable" (`free - frozen`)
/// is what the account can send.
#[derive(
    Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, DecodeWithMemTracking, TypeInfo,
)]
#[scale_info(replace_segment("pallet_system", "pallet_balances"))]
pub struct AccountData {
    /// The whole native balance.
    pub free: Balance,
    /// Always zero (no balance is set aside out of `free`).
    pub reserved: Balance,
    /// The reserve locked for the objects the account owns: the account
    /// reserve plus one owner reserve per object, at the reserves in force
    /// when its object count last changed; zero while it owns none.
    pub frozen: Balance,
    /// Substrate's extra flags; always zero.
    pub flags: u128,
}

/// An account's state, in the shape of Substrate's `frame_system::AccountInfo`.
/// Absent (all zero) until the account is endowed, signs or owns something;
/// removed again when every field is back to zero.
#[derive(
    Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, DecodeWithMemTracking, TypeInfo,
)]
#[scale_info(replace_segment("pallet_system", "frame_system"))]
pub struct AccountInfo {
    /// Next sequence number.
    pub nonce: Nonce,
    /// Objects the account owns and pays a reserve for (the XRP Ledger's
    /// `OwnerCount`): its regular key, signer list, tickets, holdings it
    /// created, allowances, tokens it issued, … The native token's
    /// reserve rule reads it; see [`owned`].
    pub consumers: u32,
    /// 1 while the account holds a native balance, else 0.
    pub providers: u32,
    /// Always zero.
    pub sufficients: u32,
    /// The native balance.
    pub data: AccountData,
}

/// The last runtime version that ran, to detect upgrades.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct LastRuntimeUpgradeInfo {
    /// Its spec_version.
    #[codec(compact)]
    pub spec_version: u32,
    /// Its spec_name.
    pub spec_name: alloc::string::String,
}

storage! { pallet = "System";
    /// Nonce, owned objects and native balance of each account (absent =
    /// all zero).
    pub Account: map Blake2_128Concat AccountId => AccountInfo [default];
    /// Registered master key of each account (stored once, never resent).
    pub AccountKey: map Blake2_128Concat AccountId => PublicKey;
    /// Current block number.
    pub Number: value BlockNumber [default];
    /// Parent hash of the current block.
    pub ParentHash: value H256;
    /// Hashes of recent blocks (the last [`BLOCK_HASH_COUNT`]) and genesis,
    /// forever.
    pub BlockHash: map Twox64Concat BlockNumber => H256;
    /// Events of the block: SCALE `Vec<EventRecord>` of the runtime's
    /// events (the runtime's metadata names the type). An absent value
    /// reads as no events (an empty Vec, `0x00`), so clients get a list,
    /// not an Option.
    pub Events: value Vec<u8> [default];
    /// Number of events in the block.
    pub EventCount: value u32 [default];
    /// Encoded event records of this block, by index (per-block scratch;
    /// folded into `Events` at finalisation).
    pub EventRecord: map Twox64Concat u32 => Vec<u8> [unlisted];
    /// Index of the extrinsic being applied.
    pub ExtrinsicIndex: value u32;
    /// Digest of the current block.
    pub DigestItems as "Digest": value Digest;
    /// Last runtime version that ran.
    pub LastRuntimeUpgrade: value LastRuntimeUpgradeInfo;
    /// Present while a runtime upgrade's storage migration continues over
    /// several blocks: the steps run so far.
    pub MigrationsOngoing: value u32;
    /// Phase of the block being built or executed.
    pub ExecutionPhase: value PhaseTag [unlisted];
    /// Weight used so far in this block.
    pub BlockWeight: value u64;
    /// Bytes of extrinsics so far in this block.
    pub AllExtrinsicsLen: value u32;
    /// A third of the chain's block time, in weight (set at genesis from
    /// `system.blockTimeMs`; absent = the runtime's own limit only).
    pub BlockWeightLimit: value u64;
    /// The code hash governance (or root) authorised as the next runtime:
    /// anyone may then submit that code with `apply_authorized_upgrade`.
    pub AuthorizedUpgrade: value H256;
    /// Chunks of the authorised code, by uploader and index
    /// (`upload_code_chunk`; all deleted when an upgrade is applied or
    /// another authorised).
    pub CodeChunks: double_map Blake2_128Concat AccountId, Twox64Concat u16 => Vec<u8> [unlisted];
    /// Bytes each uploader has in `CodeChunks`.
    pub ChunkBytes: map Blake2_128Concat AccountId => u32 [unlisted];
    /// Accounts whose owner count changed during the call being
    /// dispatched, each with whether it rose: the executive settles their
    /// reserve locks (and checks those that rose) when the call ends
    /// (per-call scratch, never left in state).
    pub ReserveDue: value Vec<(AccountId, bool)> [unlisted];
}

/// The owner ledger: how many objects each account pays a reserve for
/// (`consumers` of its [`AccountInfo`]). A pallet that stores an object on
/// someone's behalf calls [`acquire`](owned::acquire) for the payer, and
/// [`release`](owned::release) when the object is removed. When the call
/// ends the executive has the native token settle every account in
/// [`ReserveDue`]: its reserve lock follows its new count, and a call whose
/// payer cannot afford its new objects fails with all its writes undone.
pub mod owned {
    use super::{mutate_account, Account, ReserveDue};
    use alloc::vec::Vec;
    use qstack_core::AccountId;

    /// The number of objects `who` owns.
    pub fn owner_count(who: &AccountId) -> u32 {
        Account::get(who).map_or(0, |a| a.consumers)
    }

    /// Every account that owns objects, with how many (for invariant
    /// checks and RPC, never dispatch: it walks every account).
    pub fn ledger() -> Vec<(AccountId, u32)> {
        Account::iter()
            .into_iter()
            .filter(|(_, a)| a.consumers > 0)
            .map(|(who, a)| (who, a.consumers))
            .collect()
    }

    /// `who` now owns `n` more objects; its reserve is checked when the
    /// call ends.
    pub fn acquire(who: &AccountId, n: u32) {
        if n == 0 {
            return;
        }
        mutate_account(who, |a| a.consumers = a.consumers.saturating_add(n));
        due(who, true);
    }

    /// `who` owns `n` objects fewer (never below zero).
    pub fn release(who: &AccountId, n: u32) {
        if n == 0 {
            return;
        }
        mutate_account(who, |a| a.consumers = a.consumers.saturating_sub(n));
        due(who, false);
    }

    fn due(who: &AccountId, rose: bool) {
        let mut due = ReserveDue::get().unwrap_or_default();
        match due.iter_mut().find(|(w, _)| w == who) {
            Some(entry) => entry.1 |= rose,
            None => due.push((*who, rose)),
        }
        ReserveDue::put(&due);
    }

    /// The accounts whose count changed since the last call, each with
    /// whether it rose, and forgets them.
    pub fn take_due() -> Vec<(AccountId, bool)> {
        let due = ReserveDue::get().unwrap_or_default();
        if !due.is_empty() {
            ReserveDue::kill();
        }
        due
    }
}

/// Changes `who`'s [`AccountInfo`] in place (from all zero if absent),
/// removing it when every field is back to zero.
pub fn mutate_account<R>(who: &AccountId, f: impl FnOnce(&mut AccountInfo) -> R) -> R {
    Account::mutate(who, |a| {
        let mut info = a.take().unwrap_or_default();
        let r = f(&mut info);
        if info != AccountInfo::default() {
            *a = Some(info);
        }
        r
    })
}

/// Key of the folded events value (`System.Events`).
pub fn events_key() -> [u8; 32] {
    Events::key()
}

/// Starts a block: records context and clears the previous block's scratch.
pub fn initialize(number: BlockNumber, parent_hash: H256, digest: &Digest) {
    Number::put(&number);
    ParentHash::put(&parent_hash);
    DigestItems::put(digest);
    if let Some(prev) = number.checked_sub(1) {
        BlockHash::insert(&prev, &parent_hash);
    }
    // Forget hashes beyond the window, keeping genesis forever (CheckGenesis).
    if let Some(old) = number.checked_sub(BLOCK_HASH_COUNT.saturating_add(1)) {
        if old > 0 {
            BlockHash::remove(&old);
        }
    }
    qstack_io::storage::clear(&events_key());
    EventCount::kill();
    ExtrinsicIndex::put(&0);
    ExecutionPhase::put(&PhaseTag::Init);
    BlockWeight::kill();
    AllExtrinsicsLen::kill();
}

/// Ends a block: folds the block's events into `System.Events` (Substrate's
/// `Vec<EventRecord>` encoding) and clears per-block scratch.
pub fn finalize() {
    let count = EventCount::get().unwrap_or(0);
    let mut folded = Compact(count).encode();
    for i in 0..count {
        if let Some(rec) = EventRecord::get(&i) {
            folded.extend_from_slice(&rec);
        }
    }
    EventRecord::clear(None);
    qstack_io::storage::set(&events_key(), &folded);
    ExtrinsicIndex::kill();
    ExecutionPhase::kill();
}

/// Records an event of pallet `pallet_index` (already encoded without its
/// pallet byte) in the current phase. Encoding: Substrate's `EventRecord`
/// `{ phase, event: RuntimeEvent, topics: Vec<H256> }`.
pub fn deposit_event_encoded(pallet_index: u8, event: &[u8]) {
    let count = EventCount::get().unwrap_or(0);
    if count >= MAX_EVENTS {
        return;
    }
    let mut rec = current_phase().encode();
    rec.push(pallet_index);
    rec.extend_from_slice(event);
    Vec::<H256>::new().encode_to(&mut rec);
    EventRecord::insert(&count, &rec);
    EventCount::put(&count.saturating_add(1));
}

/// Records a system event.
pub fn deposit_event(e: Event) {
    deposit_event_encoded(PALLET_INDEX, &e.encode());
}

/// The phase events are attributed to now.
pub fn current_phase() -> Phase {
    match ExecutionPhase::get() {
        Some(PhaseTag::Apply) => Phase::ApplyExtrinsic(ExtrinsicIndex::get().unwrap_or(0)),
        Some(PhaseTag::Final) => Phase::Finalization,
        Some(PhaseTag::Init) | None => Phase::Initialization,
    }
}

/// Sets the phase (the runtime's executive drives this).
pub fn set_phase(p: PhaseTag) {
    ExecutionPhase::put(&p)
}

/// Phase markers set by the executive (stored so every runtime call of a block
/// agrees, since each call runs in a fresh instance).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum PhaseTag {
    /// Block initialisation.
    #[codec(index = 0)]
    Init,
    /// Applying extrinsics.
    #[codec(index = 1)]
    Apply,
    /// Block finalisation.
    #[codec(index = 2)]
    Final,
}

/// The registered key of `who`.
pub fn account_key(who: &AccountId) -> Option<PublicKey> {
    AccountKey::get(who)
}

/// Registers `key` as the master key of its account, if new. Returns whether
/// the account is new.
pub fn register_key(key: &PublicKey) -> bool {
    let who = key.account_id();
    if AccountKey::contains_key(&who) {
        return false;
    }
    AccountKey::insert(&who, key);
    deposit_event(Event::NewAccount { account: who });
    true
}

/// The next nonce of `who`.
pub fn account_nonce(who: &AccountId) -> Nonce {
    Account::get(who).map(|a| a.nonce).unwrap_or(0)
}

/// Increments `who`'s nonce.
pub fn inc_nonce(who: &AccountId) {
    mutate_account(who, |a| a.nonce = a.nonce.saturating_add(1));
}

/// The current block number.
pub fn block_number() -> BlockNumber {
    Number::get().unwrap_or(0)
}

/// The hash of block `n`, if still known.
pub fn block_hash(n: BlockNumber) -> Option<H256> {
    BlockHash::get(&n)
}

/// Adds a digest item to the current block's header.
pub fn deposit_log(item: DigestItem) {
    DigestItems::mutate(|d| d.get_or_insert_with(Digest::default).push(item));
}

/// Runs the storage migrations at the start of a block, before anything
/// else: on the first block of a new spec_version, and on every following
/// block while a multi-block migration continues ([`MigrationsOngoing`]).
/// `migrate` runs one step of every pending migration and returns its
/// weight and whether any continues; the weight is charged to the block.
/// Returns whether a step ran.
pub fn run_migrations(running: &RuntimeVersion, migrate: impl FnOnce() -> (u64, bool)) -> bool {
    let current = LastRuntimeUpgradeInfo {
        spec_version: running.spec_version,
        spec_name: alloc::string::String::from(running.spec_name.as_ref()),
    };
    let due = match LastRuntimeUpgrade::get() {
        Some(last) if last == current => MigrationsOngoing::exists(),
        Some(_) => {
            LastRuntimeUpgrade::put(&current);
            true
        }
        None => {
            // Genesis: nothing to migrate.
            LastRuntimeUpgrade::put(&current);
            false
        }
    };
    if !due {
        return false;
    }
    let (weight, more) = migrate();
    BlockWeight::mutate(|w| *w = Some(w.unwrap_or(0).saturating_add(weight)));
    let steps = MigrationsOngoing::get().unwrap_or(0).saturating_add(1);
    if more {
        MigrationsOngoing::put(&steps);
    } else {
        MigrationsOngoing::kill();
        deposit_event(Event::Migrated {
            spec_version: running.spec_version,
            steps,
        });
    }
    true
}

/// Whether a multi-block storage migration is running (signed
/// transactions wait until it ends).
pub fn migrating() -> bool {
    MigrationsOngoing::exists()
}

/// Invariants of the system pallet's state.
pub fn try_state() -> Result<(), &'static str> {
    let n = block_number();
    if n > 0 && BlockHash::get(&0).is_none() {
        return Err("genesis hash missing from BlockHash");
    }
    for (who, key) in AccountKey::iter() {
        if key.account_id() != who {
            return Err("AccountKey stored under an account it does not derive");
        }
    }
    for (_, info) in Account::iter() {
        if info == AccountInfo::default() {
            return Err("an all-zero AccountInfo is stored");
        }
        if info.providers != u32::from(info.data.free > 0) {
            return Err("providers is not 1 exactly while the account holds a balance");
        }
        if info.sufficients != 0 || info.data.reserved != 0 || info.data.flags != 0 {
            return Err("sufficients, reserved or flags is not zero");
        }
        if info.consumers == 0 && info.data.frozen != 0 {
            return Err("a reserve lock on an account that owns nothing");
        }
    }
    if BlockHash::iter().len() > (BLOCK_HASH_COUNT as usize).saturating_add(2) {
        return Err("BlockHash exceeds its bound");
    }
    let mut bytes = alloc::collections::BTreeMap::<AccountId, u32>::new();
    for (who, index, chunk) in CodeChunks::iter() {
        if index >= MAX_CODE_CHUNKS || chunk.is_empty() {
            return Err("a code chunk out of bounds");
        }
        let n = bytes.entry(who).or_default();
        *n = n.saturating_add(u32::try_from(chunk.len()).unwrap_or(u32::MAX));
    }
    if bytes != ChunkBytes::iter().into_iter().collect() {
        return Err("ChunkBytes differs from the uploaded chunks");
    }
    if !bytes.is_empty() && AuthorizedUpgrade::get().is_none() {
        return Err("code chunks stored without an authorised upgrade");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use qstack_io::TestExternalities;

    fn run(f: impl FnOnce()) {
        TestExternalities::new().execute_with(|| {
            f();
            try_state().expect("invariants hold");
        });
    }

    #[test]
    fn events_fold_into_substrate_event_records() {
        run(|| {
            initialize(1, H256([1; 32]), &Digest::default());
            set_phase(PhaseTag::Apply);
            ExtrinsicIndex::put(&3);
            deposit_event(Event::CodeUpdated);
            set_phase(PhaseTag::Final);
            deposit_event(Event::NewAccount {
                account: AccountId([2; 32]),
            });
            finalize();
            let raw = qstack_io::storage::get(&events_key()).unwrap();
            // Vec<EventRecord{phase, event: (pallet index, event), topics}>.
            let mut expected = Compact(2u32).encode();
            expected.extend(
                (
                    Phase::ApplyExtrinsic(3),
                    PALLET_INDEX,
                    Event::CodeUpdated,
                    Vec::<H256>::new(),
                )
                    .encode(),
            );
            expected.extend(
                (
                    Phase::Finalization,
                    PALLET_INDEX,
                    Event::NewAccount {
                        account: AccountId([2; 32]),
                    },
                    Vec::<H256>::new(),
                )
                    .encode(),
            );
            assert_eq!(raw, expected);
            // Scratch is gone; the next block starts clean.
            assert_eq!(EventRecord::iter().len(), 0);
            initialize(2, H256([2; 32]), &Digest::default());
            assert_eq!(qstack_io::storage::get(&events_key()), None);
        });
    }

    #[test]
    fn block_hashes_are_bounded_and_genesis_is_kept() {
        run(|| {
            for n in 1..=(BLOCK_HASH_COUNT + 10) {
                initialize(n, H256([n as u8; 32]), &Digest::default());
            }
            assert_eq!(block_hash(0), Some(H256([1; 32])));
            assert_eq!(block_hash(5), None);
            assert!(BlockHash::iter().len() <= BLOCK_HASH_COUNT as usize + 2);
        });
    }

    #[test]
    fn keys_register_once_and_nonces_count() {
        run(|| {
            let key = PublicKey::Sr25519([9; 32]);
            let who = key.account_id();
            assert!(register_key(&key));
            assert!(!register_key(&key));
            assert_eq!(account_key(&who), Some(key));
            assert_eq!(account_nonce(&who), 0);
            inc_nonce(&who);
            inc_nonce(&who);
            assert_eq!(account_nonce(&who), 2);
            assert_eq!(
                testing::dispatch(Origin::None, Call::Remark { remark: vec![] }),
                Err(DispatchError::BadOrigin)
            );
        });
    }

    #[test]
    fn try_state_catches_a_key_under_the_wrong_account() {
        TestExternalities::new().execute_with(|| {
            AccountKey::insert(&AccountId([1; 32]), &PublicKey::Sr25519([9; 32]));
            assert!(try_state().is_err());
        });
    }
}
