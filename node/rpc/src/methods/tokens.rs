//! Token methods: `token_info`, `token_balances`, `token_allowance`, typed
//! JSON over the runtime's `QstackTokensApi`. Amounts are decimal strings
//! (u128 does not fit a JSON number); the native token's symbol and
//! decimals come from the chain spec's properties, issued tokens' from the
//! runtime.
//!
//! Assets in parameters and answers: `"native"`, or
//! `{"issuer": "q…", "code": "USD"}` (a 3-character code or 40 hex characters).

use super::{at_or_best, blocking, Module, Res};
use crate::backend::RpcBackend;
use crate::error::RpcError;
use crate::params::{kind, parse_account, Args};
use crate::runtime::{answer, At};
use crate::views::{
    to_value, Addr, AllowanceView, Amount, AssetView, BalanceView, BalancesView, TokenInfoView,
};
use jsonrpsee::types::Params;
use qstack_runtime::apis::client::QstackTokensApi;
use qstack_runtime_primitives::{AssetId, TokenCode};
use serde_json::Value;

const FAILED: &str = "Unable to query tokens.";

pub(super) fn register(m: &mut Module) -> Result<(), RpcError> {
    blocking(m, "token_info", token_info)?;
    blocking(m, "token_balances", token_balances)?;
    blocking(m, "token_allowance", token_allowance)?;
    Ok(())
}

pub(super) fn required<'a>(args: &'a Args, i: usize, name: &str) -> Res<&'a Value> {
    args.get(i)
        .ok_or_else(|| crate::error::invalid_params(format!("missing `{name}` (param {i})")))
}

fn code_param(args: &Args, i: usize) -> Res<TokenCode> {
    let v = required(args, i, "code")?;
    let s = v
        .as_str()
        .ok_or_else(|| args.bad(i, format!("expected a token code string, got {}", kind(v))))?;
    TokenCode::parse(s).map_err(|e| args.bad(i, e))
}

pub(super) fn asset_param(args: &Args, i: usize) -> Res<AssetId> {
    asset_value(args, i, required(args, i, "asset")?)
}

/// An asset (`"native"` or `{"issuer", "code"}`) in parameter `i`.
pub(super) fn asset_value(args: &Args, i: usize, v: &Value) -> Res<AssetId> {
    match v {
        Value::String(s) if s == "native" => Ok(AssetId::Native),
        Value::Object(o) => {
            if let Some(k) = o.keys().find(|k| *k != "issuer" && *k != "code") {
                return Err(args.bad(
                    i,
                    format!("unknown field `{k}`: expected `issuer` and `code`"),
                ));
            }
            let field = |name: &str| {
                o.get(name)
                    .and_then(Value::as_str)
                    .ok_or_else(|| args.bad(i, format!("`{name}` must be a string")))
            };
            let issuer =
                parse_account(field("issuer")?).map_err(|e| args.bad(i, format!("issuer: {e}")))?;
            let code =
                TokenCode::parse(field("code")?).map_err(|e| args.bad(i, format!("code: {e}")))?;
            Ok(AssetId::Issued { issuer, code })
        }
        other => Err(args.bad(
            i,
            format!(
                "expected \"native\" or {{\"issuer\": \"q…\", \"code\": \"USD\"}}, got {}",
                kind(other)
            ),
        )),
    }
}

/// `token_info(issuer, code, at?)`: the token's description and state, or
/// `null` if that issuer has issued no such token.
fn token_info(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["issuer", "code", "at"])?;
    let issuer = args.account(0)?;
    let code = code_param(&args, 1)?;
    let at = at_or_best(b, args.opt_hash(2)?);
    let details = answer(
        FAILED,
        QstackTokensApi::token_info(&At(b, at), issuer, code),
    )?;
    Ok(details.map_or(Value::Null, |t| {
        to_value(TokenInfoView::new(AssetId::Issued { issuer, code }, &t))
    }))
}

/// `token_balances(address, at?)`: the native balance, then every issued
/// token held, each with free and frozen amounts, symbol and decimals.
fn token_balances(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["address", "at"])?;
    let who = args.account(0)?;
    let at = at_or_best(b, args.opt_hash(1)?);
    let list = answer(FAILED, QstackTokensApi::token_balances(&At(b, at), who))?;
    let properties = b.system_info().properties;
    Ok(to_value(BalancesView {
        address: Addr(who),
        balances: list
            .iter()
            .map(|entry| BalanceView::new(entry, &properties))
            .collect(),
    }))
}

/// `token_allowance(asset, owner, spender, at?)`: what `spender` may still
/// move of `owner`'s `asset`.
fn token_allowance(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["asset", "owner", "spender", "at"])?;
    let asset = asset_param(&args, 0)?;
    let owner = args.account(1)?;
    let spender = args.account(2)?;
    let at = at_or_best(b, args.opt_hash(3)?);
    let allowance = answer(
        FAILED,
        QstackTokensApi::token_allowance(&At(b, at), asset, owner, spender),
    )?;
    Ok(to_value(AllowanceView {
        asset: AssetView(asset),
        owner: Addr(owner),
        spender: Addr(spender),
        allowance: Amount(allowance),
    }))
}
