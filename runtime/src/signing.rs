//! Building signed extrinsics natively (wallets, the CLI, tests). The payload
//! rules live in `qstack-runtime-primitives`; this only fills them in.
//!
//! A single signer uses [`sign`] (master key) or [`sign_regular`] (the
//! account's regular key). A multi-signature is made in three steps that need
//! not happen on one machine: everyone computes the same [`payload`], each
//! signer makes a [`signer_signature`] over it, and [`multi_signed`] puts the
//! gathered signatures (in any order) into the extrinsic.

use crate::{Extrinsic, RuntimeCall, VERSION};
use alloc::vec::Vec;
use codec::Encode;
use qstack_core::{AccountId, Balance, Nonce, Pair, H256};
use qstack_runtime_primitives::extrinsic::AdditionalSigned;
pub use qstack_runtime_primitives::SignForm;
use qstack_runtime_primitives::{
    Era, ExtrinsicSignature, MultiAddress, SignedExtra, SignedPayload, SignerKey, SignerSignature,
    UncheckedExtrinsic,
};

/// What a signer must know about the chain.
#[derive(Clone, Copy, Debug)]
pub struct ChainContext {
    /// Genesis hash.
    pub genesis_hash: H256,
    /// Spec version of the runtime that will check the signature.
    pub spec_version: u32,
    /// Transaction version.
    pub transaction_version: u32,
}

impl ChainContext {
    /// Context for this runtime's version on the chain with `genesis_hash`.
    pub fn new(genesis_hash: H256) -> Self {
        Self {
            genesis_hash,
            spec_version: VERSION.spec_version,
            transaction_version: VERSION.transaction_version,
        }
    }
}

/// Options of one signed transaction.
#[derive(Clone, Copy, Debug)]
pub struct TxOptions {
    /// Sender's nonce.
    pub nonce: Nonce,
    /// Tip.
    pub tip: Balance,
    /// Mortality and the hash of its birth block (`None` = immortal).
    pub era: Option<(Era, H256)>,
    /// Carry the public key (first transaction of an account) instead of the
    /// account id (master-key signatures only).
    pub include_key: bool,
    /// Spend this ticket instead of the nonce (`nonce` must then be 0).
    pub ticket: Option<Nonce>,
}

impl TxOptions {
    /// Immortal, no tip, with `nonce`; carries the key when `nonce == 0`.
    pub fn nonce(nonce: Nonce) -> Self {
        Self {
            nonce,
            tip: 0,
            era: None,
            include_key: nonce == 0,
            ticket: None,
        }
    }

    /// Immortal, no tip, spending `ticket` (nonce 0, key not carried).
    pub fn ticket(ticket: Nonce) -> Self {
        Self {
            ticket: Some(ticket),
            include_key: false,
            ..Self::nonce(0)
        }
    }
}

/// The signed extensions and the payload every signer of `call` for
/// `account`, authorised in `form`, signs (a multisig member signs it bound
/// to its own account: [`signer_signature`]).
pub fn payload<C: Encode>(
    call: &C,
    ctx: &ChainContext,
    opts: &TxOptions,
    account: AccountId,
    form: SignForm,
) -> (SignedExtra, SignedPayload) {
    let (era, birth_hash) = opts.era.unwrap_or((Era::Immortal, ctx.genesis_hash));
    let extra = SignedExtra {
        era,
        nonce: opts.nonce,
        ticket: opts.ticket,
        tip: opts.tip,
    };
    let additional = AdditionalSigned {
        spec_version: ctx.spec_version,
        transaction_version: ctx.transaction_version,
        genesis_hash: ctx.genesis_hash,
        birth_hash,
        account,
        form,
    };
    let payload = SignedPayload::new(call, &extra, &additional);
    (extra, payload)
}

/// Signs `call` with `pair` as its own account's master key.
pub fn sign<C: Encode>(
    pair: &Pair,
    call: C,
    ctx: &ChainContext,
    opts: &TxOptions,
) -> UncheckedExtrinsic<C> {
    let (extra, payload) = payload(&call, ctx, opts, pair.account_id(), SignForm::Master);
    let signature = pair.sign(payload.as_bytes());
    let address = if opts.include_key {
        MultiAddress::Key(pair.public())
    } else {
        MultiAddress::Id(pair.account_id())
    };
    UncheckedExtrinsic::new_signed(call, address, signature, extra)
}

/// Signs `call` for `account` with `pair` as that account's regular key.
pub fn sign_regular<C: Encode>(
    pair: &Pair,
    account: AccountId,
    call: C,
    ctx: &ChainContext,
    opts: &TxOptions,
) -> UncheckedExtrinsic<C> {
    let (extra, payload) = payload(&call, ctx, opts, account, SignForm::Regular);
    let signature = ExtrinsicSignature::Regular(pair.sign(payload.as_bytes()));
    UncheckedExtrinsic::new_signed(call, MultiAddress::Id(account), signature, extra)
}

/// One signer's signature over a multi-signature's `payload` (built with
/// [`SignForm::Multi`]), bound to the signer's own account; `signer` says
/// whose key `pair` is (see [`SignerKey`]).
pub fn signer_signature(
    pair: &Pair,
    signer: SignerKey,
    payload: &SignedPayload,
) -> SignerSignature {
    let message = payload.for_signer(&signer.account());
    SignerSignature {
        signer,
        signature: pair.sign(&message),
    }
}

/// The extrinsic of `account` multi-signed with `signatures` (any order)
/// over the payload of `call` and `extra`.
pub fn multi_signed(
    account: AccountId,
    call: RuntimeCall,
    extra: SignedExtra,
    signatures: Vec<SignerSignature>,
) -> Extrinsic {
    Extrinsic::new_signed(
        call,
        MultiAddress::Id(account),
        ExtrinsicSignature::Multi(signatures),
        extra,
    )
}
