//! The method table: one module per Substrate namespace, plus qstack's typed
//! `account_*` and `token_*` methods.

mod account;
mod amm;
mod author;
mod chain;
mod did;
mod gov;
mod staking;
mod state;
mod system;
mod tokens;
mod transaction;

use crate::backend::RpcBackend;
use crate::error::{internal, RpcError};
use crate::params::Args;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::{RpcModule, SubscriptionMessage, SubscriptionSink};
use qstack_core::H256;
use serde_json::{json, Value};
use std::sync::Arc;

/// Log target of the server.
pub(crate) const LOG_TARGET: &str = "qstack::rpc";

/// State shared by every method.
pub(crate) struct Ctx {
    pub(crate) backend: Arc<dyn RpcBackend>,
}

pub(crate) type Module = RpcModule<Ctx>;
pub(crate) type Res<T> = Result<T, ErrorObjectOwned>;
type Handler = fn(&Params, &dyn RpcBackend) -> Res<Value>;

/// Builds every method, then `rpc_methods` listing them all.
pub(crate) fn build(
    backend: Arc<dyn RpcBackend>,
    methods: crate::RpcMethods,
) -> Result<Module, RpcError> {
    let mut m = RpcModule::new(Ctx { backend });
    system::register(&mut m)?;
    chain::register(&mut m)?;
    state::register(&mut m)?;
    author::register(&mut m)?;
    transaction::register(&mut m)?;
    account::register(&mut m)?;
    tokens::register(&mut m)?;
    amm::register(&mut m)?;
    did::register(&mut m)?;
    staking::register(&mut m)?;
    gov::register(&mut m)?;

    if methods == crate::RpcMethods::Safe {
        for name in crate::UNSAFE_METHODS {
            // Still listed (as Substrate does), but refused.
            let _removed = m.remove_method(name);
            m.register_method(name, |_, _, _| -> Res<Value> {
                Err(ErrorObjectOwned::owned(
                    crate::error::codes::UNSAFE_METHOD,
                    "RPC call is unsafe to be called externally",
                    None::<()>,
                ))
            })
            .map_err(reg)?;
        }
    }
    let mut names: Vec<&'static str> = m.method_names().collect();
    names.push("rpc_methods");
    names.sort_unstable();
    let listing = json!({ "methods": names });
    m.register_method("rpc_methods", move |p, _, _| -> Res<Value> {
        Args::new(&p, &[])?;
        Ok(listing.clone())
    })
    .map_err(reg)?;
    Ok(m)
}

pub(crate) fn reg(e: impl std::fmt::Display) -> RpcError {
    RpcError::Methods(e.to_string())
}

/// Registers a method answered inline: only for backend calls that read
/// memory (chain info, node info), never the database or the runtime.
pub(crate) fn inline(m: &mut Module, name: &'static str, f: Handler) -> Result<(), RpcError> {
    m.register_method(name, move |p, ctx, _| f(&p, &*ctx.backend))
        .map_err(reg)?;
    Ok(())
}

/// Registers a method run on tokio's blocking pool (database, runtime, pool).
pub(crate) fn blocking(m: &mut Module, name: &'static str, f: Handler) -> Result<(), RpcError> {
    m.register_blocking_method(name, move |p, ctx, _| f(&p, &*ctx.backend))
        .map_err(reg)?;
    Ok(())
}

/// Registers `alias` for `existing`.
pub(crate) fn alias(
    m: &mut Module,
    alias: &'static str,
    existing: &'static str,
) -> Result<(), RpcError> {
    m.register_alias(alias, existing).map_err(reg)
}

/// Runs `f` on the blocking pool from a subscription task.
pub(crate) async fn off_thread<T, F>(ctx: &Ctx, f: F) -> Res<T>
where
    T: Send + 'static,
    F: FnOnce(&dyn RpcBackend) -> T + Send + 'static,
{
    let backend = ctx.backend.clone();
    tokio::task::spawn_blocking(move || f(&*backend))
        .await
        .map_err(|e| internal(format!("backend task failed: {e}")))
}

/// `at`, or the best block when the client gave none (Substrate's rule).
pub(crate) fn at_or_best(b: &dyn RpcBackend, at: Option<H256>) -> H256 {
    at.unwrap_or_else(|| b.chain_info().best_hash)
}

/// Sends one notification; `false` once the subscriber is gone.
pub(crate) async fn send(sink: &SubscriptionSink, value: &Value) -> bool {
    match serde_json::value::to_raw_value(value) {
        Ok(raw) => sink.send(SubscriptionMessage::from(raw)).await.is_ok(),
        Err(e) => {
            tracing::error!(target: LOG_TARGET, "cannot serialise a notification: {e}");
            false
        }
    }
}
