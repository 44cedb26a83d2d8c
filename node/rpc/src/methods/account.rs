//! Wallet methods: Substrate's `payment_queryInfo`, and qstack's typed
//! `account_info`.

use super::author::check_framing;
use super::{at_or_best, blocking, Module, Res};
use crate::backend::RpcBackend;
use crate::error::{codes, err_data, runtime_error, RpcError};
use crate::params::Args;
use crate::runtime::{answer, At};
use crate::views::{to_value, AccountInfoView, Amount, DispatchInfoView, WeightView};
use qstack_runtime::apis::client::TransactionPaymentApi;
use qstack_runtime_primitives::OpaqueExtrinsic;
use serde_json::Value;

use jsonrpsee::types::Params;

pub(super) fn register(m: &mut Module) -> Result<(), RpcError> {
    blocking(m, "payment_queryInfo", query_info)?;
    blocking(m, "payment_queryFeeDetails", query_fee_details)?;
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
    Ok(to_value(DispatchInfoView {
        weight: WeightView {
            ref_time: info.weight.ref_time,
            proof_size: info.weight.proof_size,
        },
        class,
        partial_fee: Amount(info.partial_fee),
    }))
}

/// `payment_queryFeeDetails(extrinsic, at?)`: Substrate's `FeeDetails`,
/// `{"inclusionFee": {"baseFee", "lenFee", "adjustedWeightFee"} | null,
/// "tip"}`, amounts as decimal strings (as `partialFee`); `inclusionFee`
/// is `null` for an unsigned extrinsic, which pays nothing.
fn query_fee_details(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    const FAILED: &str = "Unable to query fee details.";
    let args = Args::new(p, &["extrinsic", "at"])?;
    let xt = args.bytes(0)?;
    check_framing(&xt).map_err(|e| err_data(codes::DECODE_ERROR, FAILED, e))?;
    let at = at_or_best(b, args.opt_hash(1)?);
    let len = u32::try_from(xt.len())
        .map_err(|_| err_data(codes::DECODE_ERROR, FAILED, "extrinsic too long".into()))?;
    let d = answer(
        FAILED,
        TransactionPaymentApi::query_fee_details(&At(b, at), OpaqueExtrinsic(xt), len),
    )?;
    Ok(serde_json::json!({
        "inclusionFee": d.inclusion_fee.map(|f| serde_json::json!({
            "baseFee": f.base_fee.to_string(),
            "lenFee": f.len_fee.to_string(),
            "adjustedWeightFee": f.adjusted_weight_fee.to_string(),
        })),
        "tip": d.tip.to_string(),
    }))
}

/// `{"address","accountId","nonce","free","reserve","key", "keys","flags",
/// "signerList","tickets","deposit"}`; `reserve` is `{"owned","locked",
/// "spendable"}` (objects it pays a reserve for, the part of `free` it
/// cannot send away, and the rest). A key is `{"scheme","publicKey"}` with the raw key
/// bytes (Falcon then ML-DSA for a hybrid key); `key` is the registered master
/// key (also `keys.master`), kept for older clients.
fn account_info(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["address"])?;
    let who = args.account(0)?;
    let info = b
        .account_info(&who)
        .map_err(|e| runtime_error("Unable to query account.", e))?;
    Ok(to_value(AccountInfoView::new(who, &info)))
}
