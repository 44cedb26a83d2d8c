//! Runtime API entry points: each takes and returns SCALE bytes, named
//! `<Api>_<method>` as in Substrate so `state_call` from generic clients works.
//! The Wasm exports and native calls both go through [`dispatch`].

use crate::executive::{self, BlockError};
use crate::{accounts, genesis, metadata, system, tokens, VERSION};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use codec::{Decode, Encode};
use qstack_core::{AccountId, Balance, Nonce, PublicKey, H256};
use qstack_runtime_primitives::{
    AccountSettings, AssetId, Header, OpaqueExtrinsic, TokenCode, TransactionSource,
};
use scale_info::TypeInfo;

/// Every entry point this runtime exports.
pub const METHODS: &[&str] = &[
    "Core_version",
    "Core_initialize_block",
    "Core_execute_block",
    "BlockBuilder_apply_extrinsic",
    "BlockBuilder_finalize_block",
    "BlockBuilder_inherent_extrinsics",
    "TaggedTransactionQueue_validate_transaction",
    "Metadata_metadata",
    "Metadata_metadata_at_version",
    "Metadata_metadata_versions",
    "GenesisBuilder_build_state",
    "GenesisBuilder_get_preset",
    "GenesisBuilder_preset_names",
    "AccountNonceApi_account_nonce",
    "TransactionPaymentApi_query_info",
    "QstackAccountApi_account_info",
    "QstackTokensApi_token_info",
    "QstackTokensApi_token_balances",
    "QstackTokensApi_token_allowance",
];

/// Substrate's `Weight` (two compact dimensions).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct Weight {
    /// Execution time (ps).
    #[codec(compact)]
    pub ref_time: u64,
    /// Proof size (bytes); unused by qstack.
    #[codec(compact)]
    pub proof_size: u64,
}

/// Substrate's `RuntimeDispatchInfo` (answer of `TransactionPaymentApi_query_info`).
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct RuntimeDispatchInfo {
    /// Weight.
    pub weight: Weight,
    /// Dispatch class (0 = normal).
    pub class: u8,
    /// Fee without tip.
    pub partial_fee: Balance,
}

/// Everything a wallet needs about an account (`QstackAccountApi_account_info`,
/// version 2: v1 had the first three fields only).
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct AccountView {
    /// Next nonce.
    pub nonce: Nonce,
    /// Free balance.
    pub free: Balance,
    /// Registered master key, if the account has sent a transaction.
    pub key: Option<PublicKey>,
    /// Keys, signer list, tickets and deposit rules (accounts pallet).
    pub settings: AccountSettings,
}

/// Why an entry point could not run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ApiError {
    /// No such method.
    UnknownMethod,
    /// The input bytes do not decode as the method's arguments.
    BadInput,
}

fn arg<T: Decode>(input: &[u8]) -> Result<T, ApiError> {
    let mut i = input;
    let v = T::decode(&mut i).map_err(|_| ApiError::BadInput)?;
    if !i.is_empty() {
        return Err(ApiError::BadInput);
    }
    Ok(v)
}

/// Runs entry point `method` on SCALE `input`, returning SCALE output.
pub fn dispatch(method: &str, input: &[u8]) -> Result<Vec<u8>, ApiError> {
    Ok(match method {
        "Core_version" => VERSION.encode(),
        "Core_initialize_block" => {
            let header: Header = arg(input)?;
            executive::initialize_block(&header);
            Vec::new()
        }
        "Core_execute_block" => {
            // Opaque: each extrinsic is decoded once, when it is applied.
            let block: qstack_runtime_primitives::OpaqueBlock = arg(input)?;
            executive::execute_block(&block).encode()
        }
        "BlockBuilder_apply_extrinsic" => {
            // The argument is the extrinsic's own encoding (length prefix included).
            executive::apply_extrinsic(input).encode()
        }
        "BlockBuilder_finalize_block" => {
            let r: Result<Header, BlockError> = executive::finalize_block();
            r.encode()
        }
        "BlockBuilder_inherent_extrinsics" => {
            let data: BTreeMap<[u8; 8], Vec<u8>> = arg(input)?;
            executive::inherent_extrinsics(&data).encode()
        }
        "TaggedTransactionQueue_validate_transaction" => {
            let (source, xt, at): (TransactionSource, OpaqueExtrinsic, H256) = arg(input)?;
            executive::validate_transaction(source, &xt.0, at).encode()
        }
        "Metadata_metadata" => metadata::metadata_prefixed(14).unwrap_or_default().encode(),
        "Metadata_metadata_at_version" => {
            let v: u32 = arg(input)?;
            metadata::metadata_prefixed(v).encode()
        }
        "Metadata_metadata_versions" => metadata::VERSIONS.to_vec().encode(),
        "GenesisBuilder_build_state" => {
            let json: Vec<u8> = arg(input)?;
            genesis::build_state(&json).encode()
        }
        "GenesisBuilder_get_preset" => {
            let id: Option<String> = arg(input)?;
            genesis::preset(id.as_deref()).encode()
        }
        "GenesisBuilder_preset_names" => genesis::PRESETS
            .iter()
            .map(|s| String::from(*s))
            .collect::<Vec<_>>()
            .encode(),
        "AccountNonceApi_account_nonce" => {
            let who: AccountId = arg(input)?;
            system::account_nonce(&who).encode()
        }
        "TransactionPaymentApi_query_info" => {
            let (xt, len): (OpaqueExtrinsic, u32) = arg(input)?;
            let (weight, class, partial_fee) = executive::query_info(&xt.0, len);
            RuntimeDispatchInfo {
                weight: Weight {
                    ref_time: weight,
                    proof_size: 0,
                },
                class,
                partial_fee,
            }
            .encode()
        }
        "QstackAccountApi_account_info" => {
            let who: AccountId = arg(input)?;
            AccountView {
                nonce: system::account_nonce(&who),
                free: tokens::free_balance(&who),
                key: system::account_key(&who),
                settings: accounts::settings(&who),
            }
            .encode()
        }
        "QstackTokensApi_token_info" => {
            let (issuer, code): (AccountId, TokenCode) = arg(input)?;
            tokens::token(&issuer, &code).encode()
        }
        "QstackTokensApi_token_balances" => {
            let who: AccountId = arg(input)?;
            tokens::balances_of(&who).encode()
        }
        "QstackTokensApi_token_allowance" => {
            let (asset, owner, spender): (AssetId, AccountId, AccountId) = arg(input)?;
            tokens::allowance(&asset, &owner, &spender).encode()
        }
        _ => return Err(ApiError::UnknownMethod),
    })
}
