//! Block and transaction execution: checks every signed extension, charges
//! fees before dispatch (the tokens pallet shares each fee between the author
//! named in the header's digest and the treasury), runs each call in a storage
//! transaction, and builds or verifies headers.
//!
//! Who may sign for an account (master key, regular key, signer list) is the
//! accounts pallet's rule ([`accounts::authorise`]); the executive verifies
//! every signature it names and charges one signature's weight for each, so
//! a multi-signed transaction pays per signature.

use crate::{
    accounts, system, timestamp, tokens, AllPallets, Extrinsic, RuntimeCall, BASE_FEE, BYTE_FEE,
    MAX_BLOCK_LENGTH, MAX_BLOCK_WEIGHT, MAX_EXTRINSIC_LENGTH, VERSION, WEIGHT_PER_FEE,
};
use accounts::SignedWith;
use alloc::vec::Vec;
use codec::{Decode, Encode};
use qstack_core::{AccountId, Balance, KeyScheme, Nonce, PublicKey, H256};
use qstack_io::storage;
use qstack_runtime_primitives::extrinsic::{AdditionalSigned, SignForm};
use qstack_runtime_primitives::storage::{StorageMap, StorageValue, Twox64Concat};
use qstack_runtime_primitives::{
    storage_instance, ApplyExtrinsicResult, Era, ExtrinsicError, ExtrinsicSignature, Header,
    InvalidTransaction, MultiAddress, SignedPayload, TransactionSource, TransactionValidity,
    TransactionValidityError, ValidTransaction,
};
use qstack_support::{db_weight, DbAccess};

storage_instance!(
    /// `Executive.ExtrinsicData`: this block's applied extrinsics (scratch, removed at finalisation).
    pub ExtrinsicDataStorage, "Executive", "ExtrinsicData"
);
storage_instance!(
    /// `Executive.ExtrinsicCount`.
    pub ExtrinsicCountStorage, "Executive", "ExtrinsicCount"
);
/// Encoded extrinsics applied in this block, by index.
pub type ExtrinsicData = StorageMap<ExtrinsicDataStorage, Twox64Concat, u32, Vec<u8>>;
/// Number of extrinsics applied in this block.
pub type ExtrinsicCount = StorageValue<ExtrinsicCountStorage, u32>;
storage_instance!(
    /// `Executive.SignedSeen`.
    pub SignedSeenStorage, "Executive", "SignedSeen"
);
/// Whether a signed extrinsic was applied in this block (inherents must precede it).
pub type SignedSeen = StorageValue<SignedSeenStorage, bool>;

/// Why a block could not be executed or finalised.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, scale_info::TypeInfo)]
pub enum BlockError {
    /// An extrinsic was not includable.
    #[codec(index = 0)]
    InvalidExtrinsic {
        /// Its index.
        index: u32,
        /// Why.
        error: TransactionValidityError,
    },
    /// The timestamp inherent is missing.
    #[codec(index = 1)]
    MissingTimestamp,
    /// The computed state root differs from the header's.
    #[codec(index = 2)]
    StateRootMismatch,
    /// The computed extrinsics root differs from the header's.
    #[codec(index = 3)]
    ExtrinsicsRootMismatch,
    /// A pallet's `on_finalize` refused the block.
    #[codec(index = 4)]
    FinalizeFailed {
        /// The pallet's index.
        pallet: u8,
    },
    /// The header's digest is not the one the block produces (the
    /// author's items plus what the runtime logged).
    #[codec(index = 5)]
    DigestMismatch,
}

/// Measured native time of one signature verification, by scheme, in
/// nanoseconds: `cargo bench -p pallet-evidence` (`check_evidence`, two
/// verifications of a double precommit; the upper end of criterion's
/// interval, halved): sr25519 81.0–88.6 µs, Falcon-512 29.3–31.0 µs,
/// ML-DSA-44 71.5–76.8 µs, hybrid 91.1–94.6 µs per pair. Verification runs
/// natively in the host whatever executes the runtime.
pub mod verify_ns {
    /// sr25519.
    pub const SR25519: u64 = 44_300;
    /// Falcon-512.
    pub const FALCON512: u64 = 15_500;
    /// ML-DSA-44.
    pub const MLDSA44: u64 = 38_400;
    /// Falcon-512 and ML-DSA-44.
    pub const HYBRID: u64 = 47_300;
}

/// Declared signature weight over measured verification time: 3/2 (the
/// security review asked for at least ×1.5 on host cryptography; ML-DSA
/// was declared below its measured cost before).
pub const SIGNATURE_MARGIN: (u64, u64) = (3, 2);

/// Weight of what every signed extrinsic costs besides its signature and
/// its call: decoding, nonce or ticket, fee withdrawal and split, the
/// event, the extrinsic's record. `benches/multisig.rs`: a single hybrid
/// transfer applies in 62 µs natively of which 44 µs verify, so 18 µs,
/// charged twice over for Wasm execution.
pub const SIGNED_OVERHEAD_WEIGHT: u64 = 36_000_000;

/// Storage every signed extrinsic touches besides its call's (checked by
/// the executive's tests on every extrinsic they apply): block limits and
/// counters, nonce or ticket, master key and account flags, fee withdrawal
/// and its split to author and treasury, the reserve check, the event.
pub const SIGNED_OVERHEAD_DB: DbAccess = DbAccess::new(44, 26);

/// Storage an unsigned extrinsic (an inherent) touches besides its call's.
pub const UNSIGNED_OVERHEAD_DB: DbAccess = DbAccess::new(10, 10);

/// Storage each signer of a multi-signature touches: its listed key.
pub const MULTISIG_SIGNER_DB: DbAccess = DbAccess::new(2, 1);

/// Declared weight (ps) of one signature check of `scheme`.
pub fn verify_weight(scheme: KeyScheme) -> u64 {
    let ns = match scheme {
        KeyScheme::Sr25519 => verify_ns::SR25519,
        KeyScheme::Falcon512 => verify_ns::FALCON512,
        KeyScheme::MlDsa44 => verify_ns::MLDSA44,
        KeyScheme::Hybrid => verify_ns::HYBRID,
    };
    let (num, den) = SIGNATURE_MARGIN;
    // ns → ps, with the margin, rounded up.
    ns.saturating_mul(1_000).saturating_mul(num).div_ceil(den)
}

/// Base weight of an extrinsic by signature scheme: its signature check
/// ([`verify_weight`]) and [`SIGNED_OVERHEAD_WEIGHT`]; `None` for an
/// unsigned one. A multi-signed extrinsic pays [`signature_weight`]
/// instead.
pub fn base_weight(scheme: Option<KeyScheme>) -> u64 {
    match scheme {
        None => 1_000_000u64.saturating_add(db_weight(UNSIGNED_OVERHEAD_DB)),
        Some(s) => verify_weight(s)
            .saturating_add(SIGNED_OVERHEAD_WEIGHT)
            .saturating_add(db_weight(SIGNED_OVERHEAD_DB)),
    }
}

/// Weight of one signer of a multi-signature beyond its signature check:
/// finding it in the signer list, reading (or at worst storing) its key, and
/// its share of decoding and storing a larger extrinsic. `benches/multisig.rs`:
/// a 3-of-5 hybrid multisig transfer applies in 176 µs natively, of which
/// 131 µs verify; less a single hybrid transfer's overhead (62 − 44 µs), about
/// 9 µs per signer.
pub const MULTISIG_SIGNER_WEIGHT: u64 = 10_000_000;

/// Base weight of a signed extrinsic by how it is signed: one signature's
/// [`base_weight`], or for a multi-signature a base plus, per signature, its
/// scheme's weight and [`MULTISIG_SIGNER_WEIGHT`], so fees scale with the
/// number of signatures.
pub fn signature_weight(signature: &ExtrinsicSignature) -> u64 {
    match signature {
        ExtrinsicSignature::Master(s) | ExtrinsicSignature::Regular(s) => {
            base_weight(Some(s.scheme()))
        }
        ExtrinsicSignature::Multi(entries) => entries
            .iter()
            .map(|e| {
                verify_weight(e.signature.scheme())
                    .saturating_add(MULTISIG_SIGNER_WEIGHT)
                    .saturating_add(db_weight(MULTISIG_SIGNER_DB))
            })
            .fold(
                1_000_000u64
                    .saturating_add(SIGNED_OVERHEAD_WEIGHT)
                    .saturating_add(db_weight(SIGNED_OVERHEAD_DB)),
                u64::saturating_add,
            ),
    }
}

/// The fee of an extrinsic of `len` bytes and `weight`, without tip.
pub fn compute_fee(len: u32, weight: u64) -> Balance {
    BASE_FEE
        .saturating_add(BYTE_FEE.saturating_mul(Balance::from(len)))
        .saturating_add(Balance::from(weight / WEIGHT_PER_FEE))
}

/// How a signed extrinsic is sequenced (`CheckNonce`: a nonce or a ticket).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sequence {
    /// The account's next nonce (or, in the pool, a later one).
    Nonce(Nonce),
    /// One of the account's tickets.
    Ticket(Nonce),
}

/// The signer of a checked extrinsic.
pub struct CheckedSigner {
    /// The account it acts for and pays from.
    pub who: AccountId,
    /// Nonce or ticket.
    pub sequence: Sequence,
    /// How the account signed.
    pub signed_with: accounts::SignedWith,
    /// Master keys carried inline that the chain stores on inclusion.
    pub new_keys: Vec<PublicKey>,
}

/// A decoded extrinsic whose signed extensions passed.
pub struct Checked {
    /// The signer, or `None` for inherents.
    pub signer: Option<CheckedSigner>,
    /// The call.
    pub call: RuntimeCall,
    /// Total fee including tip.
    pub fee: Balance,
    /// Tip part of the fee.
    pub tip: Balance,
    /// Weight.
    pub weight: u64,
    /// Encoded length.
    pub len: u32,
    /// Era, for longevity.
    pub era: Era,
}

/// Whether a nonce must equal the account's (block) or may be ahead (pool).
#[derive(Clone, Copy, PartialEq, Eq)]
enum NonceRule {
    Exact,
    AllowFuture,
}

fn invalid(e: InvalidTransaction) -> TransactionValidityError {
    TransactionValidityError::Invalid(e)
}

fn decode(bytes: &[u8]) -> Result<Extrinsic, TransactionValidityError> {
    if bytes.len() > MAX_EXTRINSIC_LENGTH as usize {
        return Err(invalid(InvalidTransaction::TooLarge));
    }
    Extrinsic::decode_strict(bytes, RuntimeCall::is_known).map_err(|e| match e {
        ExtrinsicError::UnknownCall { .. } => invalid(InvalidTransaction::UnknownCall),
        _ => invalid(InvalidTransaction::Malformed),
    })
}

/// Runs every check short of dispatch. Pure with respect to state: it reads only.
fn check(bytes: &[u8], rule: NonceRule) -> Result<Checked, TransactionValidityError> {
    let xt = decode(bytes)?;
    let len =
        u32::try_from(bytes.len()).map_err(|_| invalid(InvalidTransaction::ExhaustsResources))?;
    let Some((address, signature, extra)) = xt.signature else {
        if !xt.function.is_inherent() {
            return Err(invalid(InvalidTransaction::Call));
        }
        let weight = base_weight(None).saturating_add(xt.function.weight());
        return Ok(Checked {
            signer: None,
            call: xt.function,
            fee: 0,
            tip: 0,
            weight,
            len,
            era: Era::Immortal,
        });
    };
    if xt.function.is_inherent() {
        return Err(invalid(InvalidTransaction::MandatoryValidation));
    }
    if system::migrating() {
        return Err(invalid(InvalidTransaction::Migrating));
    }
    let auth_weight = signature_weight(&signature);
    let signer = resolve_signer(&xt.function, address, signature, &extra)?;
    let who = signer.auth.who;
    let sequence = check_sequence(&who, &extra, rule)?;
    // ChargeTransactionPayment (checked here, withdrawn in apply), before
    // the signatures: a transaction nobody can pay for costs no signature
    // check (up to 32 post-quantum verifications for a multisig).
    let weight = auth_weight.saturating_add(xt.function.weight());
    let fee = compute_fee(len, weight).saturating_add(extra.tip);
    if tokens::free_balance(&who) < fee {
        return Err(invalid(InvalidTransaction::Payment));
    }
    if signer.auth.signed_with == SignedWith::Signers {
        // Each member signs the payload bound to its own listed account.
        if signer.auth.signer_accounts.len() != signer.auth.checks.len() {
            return Err(invalid(InvalidTransaction::BadProof));
        }
        for ((sig, key), member) in signer.auth.checks.iter().zip(&signer.auth.signer_accounts) {
            if !qstack_io::crypto::verify(sig, &signer.payload.for_signer(member), key) {
                return Err(invalid(InvalidTransaction::BadProof));
            }
        }
    } else {
        for (sig, key) in &signer.auth.checks {
            if !qstack_io::crypto::verify(sig, signer.payload.as_bytes(), key) {
                return Err(invalid(InvalidTransaction::BadProof));
            }
        }
    }
    Ok(Checked {
        signer: Some(CheckedSigner {
            who,
            sequence,
            signed_with: signer.auth.signed_with,
            new_keys: signer.auth.new_keys,
        }),
        call: xt.function,
        fee,
        tip: extra.tip,
        weight,
        len,
        era: extra.era,
    })
}

/// `CheckNonce`: the nonce must be the account's (or, in the pool, later);
/// a ticket (sent flagged in the nonce's place) must be one the account
/// holds.
fn check_sequence(
    who: &AccountId,
    extra: &qstack_runtime_primitives::SignedExtra,
    rule: NonceRule,
) -> Result<Sequence, TransactionValidityError> {
    if let Some(ticket) = extra.ticket {
        if extra.nonce != 0 {
            return Err(invalid(InvalidTransaction::TicketWithNonce));
        }
        if !accounts::tickets::has_ticket(who, ticket) {
            return Err(invalid(InvalidTransaction::NoTicket));
        }
        return Ok(Sequence::Ticket(ticket));
    }
    let expected = system::account_nonce(who);
    if extra.nonce < expected {
        return Err(invalid(InvalidTransaction::Stale));
    }
    if extra.nonce > expected && rule == NonceRule::Exact {
        return Err(invalid(InvalidTransaction::Future));
    }
    Ok(Sequence::Nonce(extra.nonce))
}

/// A signed extrinsic's signer, resolved against state.
struct Signer {
    /// The account and the (signature, key) pairs that must verify.
    auth: accounts::Authorisation,
    /// What every signature must cover.
    payload: SignedPayload,
}

/// Checks genesis and mortality, resolves who signed and with which keys,
/// and builds the signed payload: (call, extra, additional) commits to spec
/// and transaction versions, genesis and birth block, the account and how
/// it signed.
fn resolve_signer(
    call: &RuntimeCall,
    address: MultiAddress,
    signature: ExtrinsicSignature,
    extra: &qstack_runtime_primitives::SignedExtra,
) -> Result<Signer, TransactionValidityError> {
    // CheckGenesis: the payload commits to the genesis hash, so a
    // transaction signed for another chain fails its signature (BadProof,
    // as in Substrate).
    let genesis = system::block_hash(0).ok_or(invalid(InvalidTransaction::AncientBirthBlock))?;
    // CheckMortality.
    let current = u64::from(system::block_number());
    let birth_hash = match extra.era {
        Era::Immortal => genesis,
        era => {
            // Past its window the era "rolls over" to a later birth block whose
            // hash the signature did not commit to (BadProof, as in Substrate);
            // a birth block whose hash is not known is ancient.
            let birth = era.birth(current);
            let birth =
                u32::try_from(birth).map_err(|_| invalid(InvalidTransaction::AncientBirthBlock))?;
            system::block_hash(birth).ok_or(invalid(InvalidTransaction::AncientBirthBlock))?
        }
    };
    let auth = accounts::authorise(address, signature).map_err(invalid)?;
    let additional = AdditionalSigned {
        spec_version: VERSION.spec_version,
        transaction_version: VERSION.transaction_version,
        genesis_hash: genesis,
        birth_hash,
        account: auth.who,
        form: match auth.signed_with {
            SignedWith::Master => SignForm::Master,
            SignedWith::Regular => SignForm::Regular,
            SignedWith::Signers => SignForm::Multi,
        },
    };
    Ok(Signer {
        auth,
        payload: SignedPayload::new(call, extra, &additional),
    })
}

/// Starts a block.
pub fn initialize_block(header: &Header) {
    system::initialize(header.number, header.parent_hash, &header.digest);
    system::run_migrations(&VERSION, migrations);
    AllPallets::on_initialize(header.number);
    crate::enact::enact_due();
    // Objects the hooks removed release their reserve locks.
    tokens::settle_locks();
    ExtrinsicCount::kill();
    system::set_phase(system::PhaseTag::Apply);
}

/// Runtime migrations run on the first block of a new spec_version: every
/// pallet whose storage version rose migrates (in index order).
fn migrations() -> (u64, bool) {
    let (weight, more) = AllPallets::on_runtime_upgrade();
    qstack_io::logging::log(
        qstack_io::LogLevel::Info,
        "runtime::executive",
        if more {
            "storage migration step ran; it continues in the next block"
        } else {
            "storage migrations done"
        },
    );
    (weight, more)
}

/// Applies one extrinsic to the current block. Atomic: if the extrinsic is
/// not includable (outer `Err`), no state changes at all.
pub fn apply_extrinsic(bytes: &[u8]) -> ApplyExtrinsicResult {
    #[cfg(test)]
    let before = qstack_io::counters::get();
    storage::start_transaction();
    let r = apply_inner(bytes);
    #[cfg(test)]
    db_check::overhead(bytes, before);
    if r.is_ok() {
        storage::commit_transaction();
    } else {
        storage::rollback_transaction();
    }
    r
}

fn apply_inner(bytes: &[u8]) -> ApplyExtrinsicResult {
    let checked = check(bytes, NonceRule::Exact)?;
    // Block limits.
    let used_weight = system::BlockWeight::get().unwrap_or(0);
    let used_len = system::AllExtrinsicsLen::get().unwrap_or(0);
    let new_weight = used_weight.saturating_add(checked.weight);
    let new_len = used_len.saturating_add(checked.len);
    if new_weight > system::max_block_weight(MAX_BLOCK_WEIGHT) || new_len > MAX_BLOCK_LENGTH {
        return Err(invalid(InvalidTransaction::ExhaustsResources));
    }
    let index = ExtrinsicCount::get().unwrap_or(0);
    // Inherents come first: none after the first signed extrinsic.
    if checked.signer.is_none() && SignedSeen::get().unwrap_or(false) {
        return Err(invalid(InvalidTransaction::BadMandatory));
    }
    if checked.signer.is_some() {
        SignedSeen::put(&true);
    }
    system::ExtrinsicIndex::put(&index);
    let (origin, signed_with) = match &checked.signer {
        Some(s) => {
            for pk in &s.new_keys {
                system::register_key(pk);
            }
            match s.sequence {
                Sequence::Nonce(_) => system::inc_nonce(&s.who),
                Sequence::Ticket(t) => {
                    if !accounts::tickets::use_ticket(&s.who, t) {
                        return Err(invalid(InvalidTransaction::NoTicket));
                    }
                }
            }
            tokens::withdraw_fee(&s.who, checked.fee)
                .map_err(|_| invalid(InvalidTransaction::Payment))?;
            (system::Origin::Signed(s.who), s.signed_with)
        }
        None => (system::Origin::None, accounts::SignedWith::Master),
    };
    // The call runs in its own storage transaction: on error every write of
    // the call is undone, while the fee and nonce (or ticket) above stay.
    storage::start_transaction();
    #[cfg(test)]
    let (call, before) = (checked.call.clone(), qstack_io::counters::get());
    let mut outcome = checked.call.dispatch_as(origin, signed_with);
    #[cfg(test)]
    db_check::call(&call, call.db_access(), before);
    // Every object the call stored is paid for: an account whose owner
    // count rose must cover its reserve, or the whole call is undone.
    if outcome.is_ok() {
        outcome = tokens::settle_reserves();
    }
    match outcome {
        Ok(()) => storage::commit_transaction(),
        Err(_) => storage::rollback_transaction(),
    }
    match outcome {
        Ok(()) => system::deposit_event(system::Event::ExtrinsicSuccess {
            weight: checked.weight,
        }),
        Err(dispatch_error) => system::deposit_event(system::Event::ExtrinsicFailed {
            dispatch_error,
            weight: checked.weight,
        }),
    }
    if checked.signer.is_none() && outcome.is_err() {
        // A failed inherent makes the block invalid.
        return Err(invalid(InvalidTransaction::BadMandatory));
    }
    system::BlockWeight::put(&new_weight);
    system::AllExtrinsicsLen::put(&new_len);
    ExtrinsicData::insert(&index, &bytes.to_vec());
    ExtrinsicCount::put(&index.saturating_add(1));
    system::ExtrinsicIndex::put(&index.saturating_add(1));
    Ok(outcome)
}

/// Ends the block and returns its header (state and extrinsics roots filled in).
pub fn finalize_block() -> Result<Header, BlockError> {
    system::set_phase(system::PhaseTag::Final);
    AllPallets::on_finalize().map_err(|(pallet, _)| {
        if pallet == timestamp::PALLET_INDEX {
            BlockError::MissingTimestamp
        } else {
            BlockError::FinalizeFailed { pallet }
        }
    })?;
    tokens::settle_locks();
    let count = ExtrinsicCount::get().unwrap_or(0);
    let mut extrinsics = Vec::with_capacity(count as usize);
    for i in 0..count {
        extrinsics.push(ExtrinsicData::get(&i).unwrap_or_default());
    }
    ExtrinsicData::clear(None);
    ExtrinsicCount::kill();
    SignedSeen::kill();
    let extrinsics_root = H256(qstack_trie::ordered_trie_root(&extrinsics));
    let number = system::block_number();
    let parent_hash = system::ParentHash::get().unwrap_or_default();
    let digest = system::DigestItems::get().unwrap_or_default();
    system::finalize();
    system::DigestItems::kill();
    let state_root = H256(storage::root());
    Ok(Header {
        parent_hash,
        number,
        state_root,
        extrinsics_root,
        digest,
    })
}

/// Executes a whole block and checks its roots (the import path).
pub fn execute_block(block: &qstack_runtime_primitives::OpaqueBlock) -> Result<(), BlockError> {
    let header = &block.header;
    // The runtime starts from the author's items only: what the runtime
    // itself logged while building (a code change) is produced again here
    // and checked below; a seal is added after building.
    let mut pre = header.clone();
    pre.digest.logs.retain(|item| !runtime_logged(item));
    initialize_block(&pre);
    for (i, xt) in block.extrinsics.iter().enumerate() {
        // The block's length limit keeps the count far below u32::MAX.
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        // A failed call is fine (it is in the block with its fee); a
        // non-includable extrinsic makes the block invalid.
        let _dispatch_outcome = apply_extrinsic(&xt.0)
            .map_err(|error| BlockError::InvalidExtrinsic { index, error })?;
    }
    let built = finalize_block()?;
    if built.extrinsics_root != header.extrinsics_root {
        return Err(BlockError::ExtrinsicsRootMismatch);
    }
    if built.state_root != header.state_root {
        return Err(BlockError::StateRootMismatch);
    }
    let mut claimed = header.digest.clone();
    claimed
        .logs
        .retain(|item| !matches!(item, qstack_runtime_primitives::DigestItem::Seal(..)));
    if built.digest != claimed {
        return Err(BlockError::DigestMismatch);
    }
    Ok(())
}

/// Digest items the runtime writes itself (never given to it by the
/// author), and seals, which the author adds after building.
fn runtime_logged(item: &qstack_runtime_primitives::DigestItem) -> bool {
    use qstack_runtime_primitives::DigestItem as D;
    matches!(
        item,
        D::RuntimeEnvironmentUpdated | D::Consensus(..) | D::Seal(..)
    )
}

/// Pool validation against the state of `block_hash` (the best block).
pub fn validate_transaction(
    _source: TransactionSource,
    bytes: &[u8],
    block_hash: H256,
) -> TransactionValidity {
    // Validate as if in the next block, like Substrate: record the context
    // the checks read. The host discards every write of this call.
    let number = system::block_number().saturating_add(1);
    system::initialize(number, block_hash, &Default::default());
    let checked = check(bytes, NonceRule::AllowFuture)?;
    let Some(signer) = &checked.signer else {
        return Err(invalid(InvalidTransaction::MandatoryValidation));
    };
    let who = signer.who;
    let tag = |n: Nonce| (who, n).encode();
    // `create_tickets(n)` turns the next `n` sequence numbers into tickets:
    // it provides their nonce tags too, so the transaction after it (nonce
    // + n + 1) is ready at once.
    let reserved = match &checked.call {
        RuntimeCall::Accounts(accounts::Call::CreateTickets { count }) => {
            (*count).min(accounts::MAX_TICKETS)
        }
        _ => 0,
    };
    let (requires, provides) = match signer.sequence {
        Sequence::Nonce(nonce) => {
            let expected = system::account_nonce(&who);
            let requires = if nonce > expected {
                alloc::vec![tag(nonce.saturating_sub(1))]
            } else {
                Vec::new()
            };
            let mut provides = alloc::vec![tag(nonce)];
            for k in 1..=reserved {
                provides.push(tag(nonce.saturating_add(k)));
            }
            (requires, provides)
        }
        // A ticket needs nothing before it; two transactions spending the same
        // ticket provide the same tag, so the pool keeps one. Tickets it
        // reserves come after the account's nonce, not after this ticket.
        Sequence::Ticket(t) => {
            let mut provides = alloc::vec![ticket_tag(&who, t)];
            let expected = system::account_nonce(&who);
            for k in 0..reserved {
                provides.push(tag(expected.saturating_add(k)));
            }
            (Vec::new(), provides)
        }
    };
    let current = u64::from(number);
    let longevity = checked.era.death(current).saturating_sub(current).max(1);
    // Priority: fee per byte, so cheap-to-include transactions go first and a
    // tip buys precedence.
    let per_byte = checked
        .fee
        .checked_div(Balance::from(checked.len.max(1)))
        .unwrap_or(0);
    let priority = u64::try_from(per_byte).unwrap_or(u64::MAX);
    Ok(ValidTransaction {
        priority,
        requires,
        provides,
        longevity,
        propagate: true,
    })
}

/// The pool tag a transaction spending ticket `t` of `who` provides (distinct
/// from nonce tags, which are `(who, nonce)`).
pub fn ticket_tag(who: &AccountId, t: Nonce) -> Vec<u8> {
    (b"ticket", who, t).encode()
}

/// Inherents for a new block from the author's inherent data (called after
/// `initialize_block`, in the new block's state): each pallet's
/// `create_inherent`, in index order (timestamp's `timstap0`, the evidence
/// pallet's `evidence`, which keeps only what its checks pass, so an
/// author's block never fails on an inherent).
pub fn inherent_extrinsics(data: &qstack_support::InherentData) -> Vec<Extrinsic> {
    AllPallets::inherents(data)
        .into_iter()
        .map(Extrinsic::new_unsigned)
        .collect()
}

/// `TransactionPaymentApi_query_info`: weight, class and partial fee of an extrinsic.
pub fn query_info(bytes: &[u8], len: u32) -> (u64, u8, Balance) {
    let weight = match Extrinsic::decode_strict(bytes, RuntimeCall::is_known) {
        Ok(xt) => {
            let base = match &xt.signature {
                Some((_, s, _)) => signature_weight(s),
                None => base_weight(None),
            };
            base.saturating_add(xt.function.weight())
        }
        Err(_) => base_weight(None),
    };
    (weight, 0, compute_fee(len, weight))
}

/// `TransactionPaymentApi_query_fee_details`: the parts of an extrinsic's
/// fee — (base, length, weight) for a signed one, `None` for an unsigned
/// one, which pays nothing — and its tip.
pub fn query_fee_details(bytes: &[u8], len: u32) -> (Option<(Balance, Balance, Balance)>, Balance) {
    let Ok(xt) = Extrinsic::decode_strict(bytes, RuntimeCall::is_known) else {
        // As `query_info`: what a signed extrinsic of that length would pay.
        return (Some(fee_parts(len, base_weight(None))), 0);
    };
    match &xt.signature {
        None => (None, 0),
        Some((_, s, extra)) => {
            let weight = signature_weight(s).saturating_add(xt.function.weight());
            (Some(fee_parts(len, weight)), extra.tip)
        }
    }
}

/// [`compute_fee`] in its three parts (base, length, weight), which add up
/// to it.
fn fee_parts(len: u32, weight: u64) -> (Balance, Balance, Balance) {
    (
        BASE_FEE,
        BYTE_FEE.saturating_mul(Balance::from(len)),
        Balance::from(weight / WEIGHT_PER_FEE),
    )
}

/// The executive's tests check, on every extrinsic they apply, that a call
/// touched no more storage than it declares and that the rest of the
/// extrinsic stayed within its overhead's declaration.
#[cfg(test)]
mod db_check {
    use super::*;
    use qstack_io::counters::{self, StorageOps};
    use std::cell::Cell;

    std::thread_local! {
        /// The storage operations of the last call dispatched.
        static CALL_OPS: Cell<StorageOps> = const { Cell::new(StorageOps { reads: 0, writes: 0 }) };
    }

    fn since(before: StorageOps) -> StorageOps {
        let now = counters::get();
        StorageOps {
            reads: now.reads.saturating_sub(before.reads),
            writes: now.writes.saturating_sub(before.writes),
        }
    }

    fn report() -> bool {
        std::env::var_os("QSTACK_DB_REPORT").is_some()
    }

    pub(super) fn call(call: &RuntimeCall, declared: DbAccess, before: StorageOps) {
        let ops = since(before);
        CALL_OPS.with(|c| c.set(ops));
        if report() {
            std::eprintln!(
                "db-access call {call:?} reads {} writes {}",
                ops.reads,
                ops.writes
            );
            return;
        }
        assert!(
            ops.reads <= u64::from(declared.reads) && ops.writes <= u64::from(declared.writes),
            "{call:?} made {} reads and {} writes; it declares {declared:?}",
            ops.reads,
            ops.writes
        );
    }

    pub(super) fn overhead(bytes: &[u8], before: StorageOps) {
        let total = since(before);
        let call = CALL_OPS.with(|c| c.replace(StorageOps::default()));
        let ops = StorageOps {
            reads: total.reads.saturating_sub(call.reads),
            writes: total.writes.saturating_sub(call.writes),
        };
        let Ok(xt) = Extrinsic::decode_strict(bytes, RuntimeCall::is_known) else {
            return;
        };
        let declared = match &xt.signature {
            None => UNSIGNED_OVERHEAD_DB,
            Some((_, ExtrinsicSignature::Multi(entries), _)) => entries
                .iter()
                .fold(SIGNED_OVERHEAD_DB, |d, _| d.plus(MULTISIG_SIGNER_DB)),
            Some(_) => SIGNED_OVERHEAD_DB,
        };
        if report() {
            std::eprintln!(
                "db-access overhead signed {} reads {} writes {}",
                xt.signature.is_some(),
                ops.reads,
                ops.writes
            );
            return;
        }
        assert!(
            ops.reads <= u64::from(declared.reads) && ops.writes <= u64::from(declared.writes),
            "an extrinsic's overhead made {} reads and {} writes; it declares {declared:?}",
            ops.reads,
            ops.writes
        );
    }
}
