//! Wallet methods: Substrate's `payment_queryInfo`, and qstack's typed
//! `account_info`.

use super::author::check_framing;
use super::{at_or_best, blocking, Module, Res};
use crate::backend::RpcBackend;
use crate::error::{codes, err_data, runtime_error, RpcError};
use crate::json;
use crate::params::Args;
use crate::runtime::{answer, At};
use qstack_core::{AccountId, Address, PublicKey};
use qstack_runtime::apis::client::TransactionPaymentApi;
use qstack_runtime_primitives::{AccountSettings, AssetId, OpaqueExtrinsic};
use serde_json::{json, Value};

use jsonrpsee::types::Params;

pub(super) fn register(m: &mut Module) -> Result<(), RpcError> {
    blocking(m, "payment_queryInfo", query_info)?;
    blocking(m, "account_info", account_info)?;
    Ok(())
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
    let info = answer(
        FAILED,
        TransactionPaymentApi::query_info(&At(b, at), OpaqueExtrinsic(xt), len),
    )?;
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
        "weight": { "ref_time": info.weight.ref_time, "proof_size": info.weight.proof_size },
        "class": class,
        "partialFee": info.partial_fee.to_string(),
    }))
}

/// `{"address","accountId","nonce","free","key", "keys","flags","signerList",
/// "tickets","deposit"}`. A key is `{"scheme","publicKey"}` with the raw key
/// bytes (Falcon then ML-DSA for a hybrid key); `key` is the registered master
/// key (also `keys.master`), kept for older clients.
fn account_info(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["address"])?;
    let who = args.account(0)?;
    let info = b
        .account_info(&who)
        .map_err(|e| runtime_error("Unable to query account.", e))?;
    let key = info.key.as_ref().map_or(Value::Null, key_json);
    let mut out = json!({
        "address": Address::from(who).to_base58(),
        "accountId": json::hex(who.as_bytes()),
        "nonce": info.nonce,
        "free": info.free.to_string(),
        "key": key,
    });
    if let (Value::Object(out), Value::Object(settings)) =
        (&mut out, settings_json(&info.settings, &key))
    {
        out.extend(settings);
    }
    Ok(out)
}

fn address(a: &AccountId) -> Value {
    Value::String(Address::from(*a).to_base58())
}

fn key_json(k: &PublicKey) -> Value {
    json!({ "scheme": k.scheme().name(), "publicKey": json::hex(&raw_key(k)) })
}

/// `"native"`, or `{"issuer": "q…", "code": "USD"}`.
fn asset_json(a: &AssetId) -> Value {
    match a {
        AssetId::Native => Value::String("native".into()),
        AssetId::Issued { issuer, code } => {
            json!({ "issuer": address(issuer), "code": code.to_string() })
        }
    }
}

/// What the accounts pallet keeps about the account.
fn settings_json(s: &AccountSettings, master: &Value) -> Value {
    json!({
        "keys": {
            "master": master,
            "masterDisabled": s.master_disabled,
            "regular": s.regular_key.as_ref().map_or(Value::Null, key_json),
        },
        "flags": {
            "masterDisabled": s.master_disabled,
            "requireDestTag": s.require_dest_tag,
            "depositAuth": s.deposit_auth.name(),
            "tokenRefusal": s.allowed_assets.is_some(),
        },
        "signerList": s.signer_list.as_ref().map_or(Value::Null, |l| json!({
            "quorum": l.quorum,
            "signers": l.signers.iter().map(|e| json!({
                "address": address(&e.account),
                "weight": e.weight,
            })).collect::<Vec<_>>(),
        })),
        "tickets": { "count": s.tickets.len(), "sequences": s.tickets },
        "deposit": {
            "preauthorized": s.preauthorized.iter().map(address).collect::<Vec<_>>(),
            "allowedAssets": s.allowed_assets.as_ref().map_or(Value::Null, |l| {
                Value::Array(l.iter().map(asset_json).collect())
            }),
            "requests": s.deposit_requests.iter().map(|r| json!({
                "to": address(&r.to),
                "asset": asset_json(&r.asset),
                "amount": r.amount.to_string(),
                "approved": r.approved,
            })).collect::<Vec<_>>(),
        },
    })
}

fn raw_key(k: &PublicKey) -> Vec<u8> {
    match k {
        PublicKey::Sr25519(pk) => pk.to_vec(),
        PublicKey::Falcon512(pk) => pk.0.to_vec(),
        PublicKey::MlDsa44(pk) => pk.0.to_vec(),
        PublicKey::Hybrid(f, m) => [f.0.as_slice(), m.0.as_slice()].concat(),
    }
}
