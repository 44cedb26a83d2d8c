//! Building signed extrinsics natively (wallets, the CLI, tests). The payload
//! rules live in `qstack-runtime-primitives`; this only fills them in.

use crate::{Extrinsic, RuntimeCall, VERSION};
use qstack_core::{Balance, Nonce, Pair, H256};
use qstack_runtime_primitives::extrinsic::AdditionalSigned;
use qstack_runtime_primitives::{Era, MultiAddress, SignedExtra, SignedPayload};

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
    /// Carry the public key (first transaction of an account) instead of the account id.
    pub include_key: bool,
}

impl TxOptions {
    /// Immortal, no tip, with `nonce`; carries the key when `nonce == 0`.
    pub fn nonce(nonce: Nonce) -> Self {
        Self {
            nonce,
            tip: 0,
            era: None,
            include_key: nonce == 0,
        }
    }
}

/// Signs `call` with `pair`.
pub fn sign(pair: &Pair, call: RuntimeCall, ctx: &ChainContext, opts: &TxOptions) -> Extrinsic {
    let (era, birth_hash) = opts.era.unwrap_or((Era::Immortal, ctx.genesis_hash));
    let mut genesis_tag = [0u8; 4];
    genesis_tag.copy_from_slice(&ctx.genesis_hash.0[..4]);
    let extra = SignedExtra {
        genesis_tag,
        era,
        nonce: opts.nonce,
        tip: opts.tip,
    };
    let additional = AdditionalSigned {
        spec_version: ctx.spec_version,
        transaction_version: ctx.transaction_version,
        genesis_hash: ctx.genesis_hash,
        birth_hash,
    };
    let payload = SignedPayload::new(&call, &extra, &additional);
    let signature = pair.sign(payload.as_bytes());
    let address = if opts.include_key {
        MultiAddress::Key(pair.public())
    } else {
        MultiAddress::Id(pair.account_id())
    };
    Extrinsic::new_signed(call, address, signature, extra)
}
