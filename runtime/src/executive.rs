//! Block and transaction execution: checks every signed extension, charges
//! fees before dispatch (the tokens pallet shares each fee between the author
//! named in the header's digest and the treasury), runs each call in a storage
//! transaction, and builds or verifies headers.

use crate::{
    system, timestamp, tokens, Extrinsic, RuntimeCall, BASE_FEE, BYTE_FEE, MAX_BLOCK_LENGTH,
    MAX_BLOCK_WEIGHT, MAX_EXTRINSIC_LENGTH, VERSION, WEIGHT_PER_FEE,
};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use qstack_core::{AccountId, Balance, KeyScheme, Nonce, PublicKey, H256};
use qstack_io::storage;
use qstack_runtime_primitives::extrinsic::AdditionalSigned;
use qstack_runtime_primitives::storage::{StorageMap, StorageValue, Twox64Concat};
use qstack_runtime_primitives::{
    storage_instance, ApplyExtrinsicResult, Era, ExtrinsicError, Header, InvalidTransaction,
    MultiAddress, SignedPayload, TransactionSource, TransactionValidity, TransactionValidityError,
    ValidTransaction,
};

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
}

/// Base weight of an extrinsic by signature scheme (signature checks dominate).
pub fn base_weight(scheme: Option<KeyScheme>) -> u64 {
    match scheme {
        None => 1_000_000,
        Some(KeyScheme::Sr25519) => 45_000_000,
        Some(KeyScheme::Falcon512) => 15_000_000,
        Some(KeyScheme::MlDsa44) => 30_000_000,
        Some(KeyScheme::Hybrid) => 45_000_000,
    }
}

/// The fee of an extrinsic of `len` bytes and `weight`, without tip.
pub fn compute_fee(len: u32, weight: u64) -> Balance {
    BASE_FEE
        .saturating_add(BYTE_FEE.saturating_mul(Balance::from(len)))
        .saturating_add(Balance::from(weight / WEIGHT_PER_FEE))
}

/// A decoded extrinsic whose signed extensions passed.
pub struct Checked {
    /// Signer and their nonce, or `None` for inherents.
    pub signer: Option<(AccountId, Nonce, Option<PublicKey>)>,
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
    let len = bytes.len() as u32;
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
    let signer = resolve_signer(&xt.function, address, &extra)?;
    if signer.key.scheme() != signature.scheme() {
        return Err(invalid(InvalidTransaction::BadProof));
    }
    let (who, key) = (signer.who, signer.key);
    // CheckNonce.
    let expected = system::account_nonce(&who);
    if extra.nonce < expected {
        return Err(invalid(InvalidTransaction::Stale));
    }
    if extra.nonce > expected && rule == NonceRule::Exact {
        return Err(invalid(InvalidTransaction::Future));
    }
    if !qstack_io::crypto::verify(&signature, signer.payload.as_bytes(), &key) {
        return Err(invalid(InvalidTransaction::BadProof));
    }
    // ChargeTransactionPayment (checked here, withdrawn in apply).
    let weight = base_weight(Some(key.scheme())).saturating_add(xt.function.weight());
    let fee = compute_fee(len, weight).saturating_add(extra.tip);
    if tokens::free_balance(&who) < fee {
        return Err(invalid(InvalidTransaction::Payment));
    }
    Ok(Checked {
        signer: Some((who, extra.nonce, signer.new_key)),
        call: xt.function,
        fee,
        tip: extra.tip,
        weight,
        len,
        era: extra.era,
    })
}

/// A signed extrinsic's signer, resolved against state.
struct Signer {
    who: AccountId,
    key: PublicKey,
    /// The key to register: the first transaction of an account carries it.
    new_key: Option<PublicKey>,
    /// What the signature must cover.
    payload: SignedPayload,
}

/// Checks genesis and mortality, resolves the signer's key and builds the
/// signed payload: (call, extra, additional) commits to spec and transaction
/// versions, genesis and birth block.
fn resolve_signer(
    call: &RuntimeCall,
    address: MultiAddress,
    extra: &qstack_runtime_primitives::SignedExtra,
) -> Result<Signer, TransactionValidityError> {
    // CheckGenesis / CheckGenesisTag.
    let genesis = system::block_hash(0).ok_or(invalid(InvalidTransaction::AncientBirthBlock))?;
    if genesis.0.get(..4) != Some(&extra.genesis_tag[..]) {
        return Err(invalid(InvalidTransaction::WrongGenesis));
    }
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
    // Resolve the signer's key.
    let (who, key, new_key) = match address {
        MultiAddress::Key(pk) => {
            let who = pk.account_id();
            let is_new = system::account_key(&who).is_none();
            (who, pk.clone(), if is_new { Some(pk) } else { None })
        }
        MultiAddress::Id(who) => {
            let pk = system::account_key(&who).ok_or(invalid(InvalidTransaction::BadSigner))?;
            (who, pk, None)
        }
    };
    let additional = AdditionalSigned {
        spec_version: VERSION.spec_version,
        transaction_version: VERSION.transaction_version,
        genesis_hash: genesis,
        birth_hash,
    };
    Ok(Signer {
        who,
        key,
        new_key,
        payload: SignedPayload::new(call, extra, &additional),
    })
}

/// Starts a block.
pub fn initialize_block(header: &Header) {
    system::initialize(header.number, header.parent_hash, &header.digest);
    system::maybe_run_migrations(&VERSION, migrations);
    ExtrinsicCount::kill();
    system::set_phase(system::PhaseTag::Apply);
}

/// Runtime migrations run on the first block of a new spec_version.
fn migrations() {
    qstack_io::logging::log(
        qstack_io::LogLevel::Info,
        "runtime::executive",
        "running migrations for new spec_version",
    );
}

/// Applies one extrinsic to the current block. Atomic: if the extrinsic is
/// not includable (outer `Err`), no state changes at all.
pub fn apply_extrinsic(bytes: &[u8]) -> ApplyExtrinsicResult {
    storage::start_transaction();
    let r = apply_inner(bytes);
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
    if new_weight > MAX_BLOCK_WEIGHT || new_len > MAX_BLOCK_LENGTH {
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
    let origin = match &checked.signer {
        Some((who, _, new_key)) => {
            if let Some(pk) = new_key {
                system::register_key(pk);
            }
            system::inc_nonce(who);
            tokens::withdraw_fee(who, checked.fee)
                .map_err(|_| invalid(InvalidTransaction::Payment))?;
            system::Origin::Signed(*who)
        }
        None => system::Origin::None,
    };
    // The call runs in its own storage transaction: on error every write of
    // the call is undone, while the fee and nonce above stay.
    storage::start_transaction();
    let outcome = checked.call.dispatch(origin);
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
    timestamp::on_finalize().map_err(|_| BlockError::MissingTimestamp)?;
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
    initialize_block(header);
    for (i, xt) in block.extrinsics.iter().enumerate() {
        let index = i as u32;
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
    Ok(())
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
    let Some((who, nonce, _)) = checked.signer else {
        return Err(invalid(InvalidTransaction::MandatoryValidation));
    };
    let tag = |n: Nonce| (who, n).encode();
    let expected = system::account_nonce(&who);
    let requires = if nonce > expected {
        alloc::vec![tag(nonce.saturating_sub(1))]
    } else {
        Vec::new()
    };
    let current = u64::from(number);
    let longevity = checked.era.death(current).saturating_sub(current).max(1);
    // Priority: fee per byte, so cheap-to-include transactions go first and a
    // tip buys precedence.
    let priority =
        (checked.fee / Balance::from(checked.len.max(1))).min(u128::from(u64::MAX)) as u64;
    Ok(ValidTransaction {
        priority,
        requires,
        provides: alloc::vec![tag(nonce)],
        longevity,
        propagate: true,
    })
}

/// Inherents for a new block from the author's inherent data.
pub fn inherent_extrinsics(
    data: &alloc::collections::BTreeMap<[u8; 8], Vec<u8>>,
) -> Vec<Extrinsic> {
    let mut out = Vec::new();
    if let Some(now) = data
        .get(&timestamp::INHERENT_IDENTIFIER)
        .and_then(|raw| u64::decode(&mut &raw[..]).ok())
    {
        out.push(Extrinsic::new_unsigned(RuntimeCall::Timestamp(
            timestamp::Call::Set { now },
        )));
    }
    out
}

/// `TransactionPaymentApi_query_info`: weight, class and partial fee of an extrinsic.
pub fn query_info(bytes: &[u8], len: u32) -> (u64, u8, Balance) {
    let (scheme, weight) = match Extrinsic::decode_strict(bytes, RuntimeCall::is_known) {
        Ok(xt) => {
            let scheme = xt.signature.as_ref().map(|(_, s, _)| s.scheme());
            (scheme, xt.function.weight())
        }
        Err(_) => (None, 0),
    };
    let weight = base_weight(scheme).saturating_add(weight);
    (weight, 0, compute_fee(len, weight))
}
