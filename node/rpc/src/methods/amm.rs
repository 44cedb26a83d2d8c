//! AMM methods: `amm_pool`, `amm_pools`, `amm_quote`, typed JSON over the
//! runtime's `AmmApi`. Assets are written as in the token methods
//! (`"native"` or `{"issuer": "q…", "code": "USD"}`); amounts are decimal
//! strings (a JSON number is accepted in parameters).

use super::tokens::{asset_param, asset_value, required};
use super::{at_or_best, blocking, Module, Res};
use crate::backend::RpcBackend;
use crate::error::{codes, err_data, RpcError};
use crate::params::{kind, Args};
use crate::runtime::{answer, At};
use crate::views::{to_value, Amount, AssetView, PoolView, QuoteView};
use codec::Decode;
use jsonrpsee::types::Params;
use qstack_core::Balance;
use qstack_runtime::apis::client::AmmApi;
use qstack_runtime_primitives::DispatchError;
use serde_json::Value;

const FAILED: &str = "Unable to query the AMM.";

pub(super) fn register(m: &mut Module) -> Result<(), RpcError> {
    blocking(m, "amm_pool", amm_pool)?;
    blocking(m, "amm_pools", amm_pools)?;
    blocking(m, "amm_quote", amm_quote)?;
    Ok(())
}

/// `amm_pool(assetA, assetB, at?)`: the pool of two assets (either order),
/// or `null`.
fn amm_pool(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["assetA", "assetB", "at"])?;
    let x = asset_param(&args, 0)?;
    let y = asset_param(&args, 1)?;
    let at = at_or_best(b, args.opt_hash(2)?);
    let info = answer(FAILED, AmmApi::amm_pool(&At(b, at), x, y))?;
    Ok(info.map_or(Value::Null, |i| to_value(PoolView::new(&i))))
}

/// `amm_pools(at?)`: every pool.
fn amm_pools(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["at"])?;
    let at = at_or_best(b, args.opt_hash(0)?);
    let list = answer(FAILED, AmmApi::amm_pools(&At(b, at)))?;
    Ok(to_value(list.iter().map(PoolView::new).collect::<Vec<_>>()))
}

/// An amount: a decimal string or a JSON integer.
fn amount_param(args: &Args, i: usize) -> Res<Balance> {
    let v = required(args, i, "amount")?;
    let parsed = match v {
        Value::String(s) => s.parse::<Balance>().ok(),
        Value::Number(n) => n.as_u64().map(Balance::from),
        _ => None,
    };
    parsed.ok_or_else(|| {
        args.bad(
            i,
            format!("expected an amount (a decimal string or a non-negative integer), got {v}"),
        )
    })
}

/// `amm_quote(path, amount, exactIn?, who?, at?)`: what a swap along `path`
/// would do now, exactly as the call computes it (fees and rounding
/// included): with `exactIn` (the default) `amount` is sold and
/// `amountOut` computed, otherwise `amount` is bought and `amountIn`
/// computed. `who` pays its own fee (the auction slot holder's is lower).
/// A swap the call would refuse is an error naming why.
fn amm_quote(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["path", "amount", "exactIn", "who", "at"])?;
    let list = required(&args, 0, "path")?;
    let Value::Array(items) = list else {
        return Err(args.bad(
            0,
            format!("expected an array of assets, got {}", kind(list)),
        ));
    };
    if !(2..=4).contains(&items.len()) {
        return Err(args.bad(0, "a path has 2 to 4 assets (1 to 3 pools)"));
    }
    let path = items
        .iter()
        .map(|v| asset_value(&args, 0, v))
        .collect::<Res<Vec<_>>>()?;
    let amount = amount_param(&args, 1)?;
    let exact_in = match args.get(2) {
        None | Some(Value::Null) => true,
        Some(Value::Bool(x)) => *x,
        Some(other) => return Err(args.bad(2, format!("expected a boolean, got {}", kind(other)))),
    };
    let who = match args.get(3) {
        None | Some(Value::Null) => None,
        Some(_) => Some(args.account(3)?),
    };
    let at = at_or_best(b, args.opt_hash(4)?);
    let quoted = answer(
        FAILED,
        AmmApi::amm_quote(&At(b, at), path.clone(), amount, exact_in, who),
    )?;
    let other =
        quoted.map_err(|e| err_data(codes::RUNTIME_ERROR, "The swap would fail.", describe(&e)))?;
    let (amount_in, amount_out) = if exact_in {
        (amount, other)
    } else {
        (other, amount)
    };
    Ok(to_value(QuoteView {
        path: path.into_iter().map(AssetView).collect(),
        exact_in,
        amount_in: Amount(amount_in),
        amount_out: Amount(amount_out),
    }))
}

/// `Amm.Slippage`-style name of a runtime error.
fn describe(e: &DispatchError) -> String {
    match e {
        DispatchError::Module(m) => {
            let mut raw = vec![m.index];
            raw.extend_from_slice(&m.error);
            match qstack_runtime::RuntimeError::decode(&mut &raw[..]) {
                Ok(r) => {
                    let s = format!("{r:?}");
                    // `Amm(Slippage)` → `Amm.Slippage`.
                    s.replacen('(', ".", 1).trim_end_matches(')').to_owned()
                }
                Err(_) => format!("{e:?}"),
            }
        }
        other => format!("{other:?}"),
    }
}
