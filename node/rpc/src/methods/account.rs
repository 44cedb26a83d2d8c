//! Wallet methods: Substrate's `payment_queryInfo`, and qstack's typed
//! `account_info`.

use super::author::check_framing;
use super::{at_or_best, blocking, Module, Res};
use crate::backend::RpcBackend;
use crate::error::{codes, err_data, runtime_error, RpcError};
use crate::json;
use crate::params::Args;
use codec::{Compact, Decode};
use qstack_core::{Address, PublicKey};
use serde_json::{json, Value};

use jsonrpsee::types::Params;

/// Runtime API the fee estimate comes from.
const QUERY_INFO: &str = "TransactionPaymentApi_query_info";

pub(super) fn register(m: &mut Module) -> Result<(), RpcError> {
    blocking(m, "payment_queryInfo", query_info)?;
    blocking(m, "account_info", account_info)?;
    Ok(())
}

/// The runtime's `RuntimeDispatchInfo`, as SCALE.
#[derive(Decode)]
struct DispatchInfo {
    ref_time: Compact<u64>,
    proof_size: Compact<u64>,
    class: u8,
    partial_fee: u128,
}

/// Substrate's `RuntimeDispatchInfo` JSON: `weight` as sp-weights serialises
/// it (snake_case fields), `class` in camelCase, `partialFee` as a decimal
/// string (u128 does not fit a JSON number).
fn query_info(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    const FAILED: &str = "Unable to query dispatch info.";
    let args = Args::new(p, &["extrinsic", "at"])?;
    let xt = args.bytes(0)?;
    check_framing(&xt).map_err(|e| err_data(codes::DECODE_ERROR, FAILED, e))?;
    let at = at_or_best(b, args.opt_hash(1)?);
    let len = u32::try_from(xt.len())
        .map_err(|_| err_data(codes::DECODE_ERROR, FAILED, "extrinsic too long".into()))?;
    // `(extrinsic, u32)`: the extrinsic's bytes already are its SCALE encoding.
    let mut input = xt;
    input.extend_from_slice(&len.to_le_bytes());
    let out = b
        .call(at, QUERY_INFO, &input)
        .map_err(|e| runtime_error(FAILED, e))?;
    let mut rest = out.as_slice();
    let info = DispatchInfo::decode(&mut rest)
        .map_err(|e| err_data(codes::DECODE_ERROR, FAILED, e.to_string()))?;
    if !rest.is_empty() {
        return Err(err_data(
            codes::DECODE_ERROR,
            FAILED,
            format!("{} trailing bytes in the runtime's answer", rest.len()),
        ));
    }
    let class = match info.class {
        0 => "normal",
        1 => "operational",
        2 => "mandatory",
        n => {
            return Err(err_data(
                codes::DECODE_ERROR,
                FAILED,
                format!("unknown dispatch class {n}"),
            ))
        }
    };
    Ok(json!({
        "weight": { "ref_time": info.ref_time.0, "proof_size": info.proof_size.0 },
        "class": class,
        "partialFee": info.partial_fee.to_string(),
    }))
}

/// `{"address","accountId","nonce","free","key"}`; `key.publicKey` is the raw
/// key bytes (Falcon then ML-DSA for a hybrid key), its scheme named beside it.
fn account_info(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["address"])?;
    let who = args.account(0)?;
    let info = b
        .account_info(&who)
        .map_err(|e| runtime_error("Unable to query account.", e))?;
    let key = info.key.as_ref().map_or(
        Value::Null,
        |k| json!({ "scheme": k.scheme().name(), "publicKey": json::hex(&raw_key(k)) }),
    );
    Ok(json!({
        "address": Address::from(who).to_base58(),
        "accountId": json::hex(who.as_bytes()),
        "nonce": info.nonce,
        "free": info.free.to_string(),
        "key": key,
    }))
}

fn raw_key(k: &PublicKey) -> Vec<u8> {
    match k {
        PublicKey::Sr25519(pk) => pk.to_vec(),
        PublicKey::Falcon512(pk) => pk.0.to_vec(),
        PublicKey::MlDsa44(pk) => pk.0.to_vec(),
        PublicKey::Hybrid(f, m) => [f.0.as_slice(), m.0.as_slice()].concat(),
    }
}
