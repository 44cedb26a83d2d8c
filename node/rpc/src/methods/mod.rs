//! The method table: one module per Substrate namespace, plus qstack's typed
//! `account_*` and `token_*` methods, and the new JSON-RPC spec's
//! `chainHead_v1`, `chainSpec_v1`, `transaction_v1`, `transactionWatch_v1`
//! and `archive_v1` groups.

mod account;
mod amm;
mod archive;
mod author;
mod chain;
mod chain_head;
mod chain_spec;
mod did;
mod gov;
mod staking;
mod state;
mod storage_query;
mod system;
mod tokens;
mod transaction;

use crate::backend::RpcBackend;
use crate::error::{internal, RpcError};
use crate::params::Args;
use crate::SpecV2Limits;
use jsonrpsee::types::{ErrorObjectOwned, Params, SubscriptionId};
use jsonrpsee::{ConnectionId, Extensions, RpcModule, SubscriptionMessage, SubscriptionSink};
use qstack_core::H256;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// Log target of the server.
pub(crate) const LOG_TARGET: &str = "qstack::rpc";

/// State shared by every method.
pub(crate) struct Ctx {
    pub(crate) backend: Arc<dyn RpcBackend>,
    /// Bounds of the new spec's subscriptions and operations.
    pub(crate) limits: SpecV2Limits,
    /// The live `chainHead_v1_follow` subscriptions.
    pub(crate) follows: chain_head::Follows,
    /// The running `transaction_v1_broadcast` operations.
    pub(crate) broadcasts: transaction::Broadcasts,
    /// Subscriptions ended by one of our own stop methods.
    pub(crate) stoppers: Stoppers,
}

pub(crate) type Module = RpcModule<Ctx>;
pub(crate) type Res<T> = Result<T, ErrorObjectOwned>;
type Handler = fn(&Params, &dyn RpcBackend) -> Res<Value>;

/// Builds every method, then `rpc_methods` listing them all.
pub(crate) fn build(
    backend: Arc<dyn RpcBackend>,
    methods: crate::RpcMethods,
    limits: SpecV2Limits,
) -> Result<Module, RpcError> {
    // Decided once: whether the node is an archive does not change while it runs.
    let archive = backend.keeps_all_state();
    let mut m = RpcModule::new(Ctx {
        backend,
        limits,
        follows: chain_head::Follows::default(),
        broadcasts: transaction::Broadcasts::default(),
        stoppers: Stoppers::default(),
    });
    system::register(&mut m)?;
    chain::register(&mut m)?;
    state::register(&mut m)?;
    author::register(&mut m)?;
    transaction::register(&mut m)?;
    chain_head::register(&mut m)?;
    chain_spec::register(&mut m)?;
    if archive {
        archive::register(&mut m)?;
    }
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

/// Locks `m`; a panic while it was held cannot leave our maps half-updated
/// (every critical section is a plain insert or remove), so a poisoned lock
/// is used as it is.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The subscription id as the client sees it.
pub(crate) fn sub_id_string(id: &SubscriptionId<'_>) -> String {
    match id {
        SubscriptionId::Num(n) => n.to_string(),
        SubscriptionId::Str(s) => s.to_string(),
    }
}

/// The connection a call came on (the server puts it in every request's
/// extensions); `None` outside a server.
pub(crate) fn connection(ext: &Extensions) -> Option<ConnectionId> {
    ext.get::<ConnectionId>().copied()
}

/// The new spec's subscriptions end through methods of their own
/// (`chainHead_v1_unfollow`, `transactionWatch_v1_unwatch`,
/// `archive_v1_stopStorage`) that answer `null` (or a spec error), where
/// jsonrpsee's built-in unsubscribe answers `true`/`false`. Each such
/// subscription registers here; its stop method wakes it, and it ends by
/// dropping its sink.
#[derive(Default)]
pub(crate) struct Stoppers(Arc<Mutex<HashMap<StopKey, Arc<Notify>>>>);

/// (method family, connection, subscription id).
type StopKey = (&'static str, usize, String);

impl Stoppers {
    /// Registers subscription `id` of `family` on `conn`; it is stoppable
    /// until the returned guard is dropped.
    pub(crate) fn register(
        &self,
        family: &'static str,
        conn: ConnectionId,
        id: String,
    ) -> StopGuard {
        let notify = Arc::new(Notify::new());
        let key = (family, conn.0, id);
        lock(&self.0).insert(key.clone(), notify.clone());
        StopGuard {
            map: self.0.clone(),
            key,
            notify,
        }
    }

    /// As [`Self::register`], unless `conn` already has `max` subscriptions
    /// of `family` registered.
    pub(crate) fn register_bounded(
        &self,
        family: &'static str,
        conn: ConnectionId,
        id: String,
        max: usize,
    ) -> Option<StopGuard> {
        let notify = Arc::new(Notify::new());
        let key = (family, conn.0, id);
        {
            let mut map = lock(&self.0);
            let held = map
                .keys()
                .filter(|(f, c, _)| *f == family && *c == conn.0)
                .count();
            if held >= max {
                return None;
            }
            map.insert(key.clone(), notify.clone());
        }
        Some(StopGuard {
            map: self.0.clone(),
            key,
            notify,
        })
    }

    /// Stops subscription `id` of `family` on `conn`; `false` if there is none.
    pub(crate) fn stop(&self, family: &'static str, conn: Option<ConnectionId>, id: &str) -> bool {
        let Some(conn) = conn else {
            return false;
        };
        let key = (family, conn.0, id.to_owned());
        match lock(&self.0).remove(&key) {
            Some(notify) => {
                notify.notify_one();
                true
            }
            None => false,
        }
    }
}

/// A registered stoppable subscription; deregisters when dropped.
pub(crate) struct StopGuard {
    map: Arc<Mutex<HashMap<StopKey, Arc<Notify>>>>,
    key: StopKey,
    notify: Arc<Notify>,
}

impl StopGuard {
    /// Completes once the subscription's stop method has been called.
    pub(crate) async fn stopped(&self) {
        self.notify.notified().await
    }
}

impl Drop for StopGuard {
    fn drop(&mut self) {
        let mut map = lock(&self.map);
        // Only our own entry: a stop already removed it.
        if map
            .get(&self.key)
            .is_some_and(|n| Arc::ptr_eq(n, &self.notify))
        {
            map.remove(&self.key);
        }
    }
}

/// The names of a subscription ended by a method of ours.
pub(crate) struct Stoppable {
    /// The subscribe method.
    pub(crate) subscribe: &'static str,
    /// The notifications' method name.
    pub(crate) notification: &'static str,
    /// jsonrpsee's own unsubscribe method, registered and removed again.
    pub(crate) hidden: &'static str,
    /// Our stop method.
    pub(crate) stop: &'static str,
    /// The [`Stoppers`] family.
    pub(crate) family: &'static str,
}

/// Registers a subscription whose end is our method `names.stop` rather
/// than jsonrpsee's unsubscribe: jsonrpsee's is registered under
/// `names.hidden` (it still needs a name) and removed again, so only ours
/// is served and listed. `answer` answers the stop call, given whether a
/// subscription was stopped.
pub(crate) fn register_stoppable<F, Fut>(
    m: &mut Module,
    names: Stoppable,
    answer: fn(bool) -> Res<Value>,
    run: F,
) -> Result<(), RpcError>
where
    F: Fn(Params<'static>, jsonrpsee::PendingSubscriptionSink, Arc<Ctx>) -> Fut
        + Send
        + Sync
        + Clone
        + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    m.register_subscription(
        names.subscribe,
        names.notification,
        names.hidden,
        move |p, pending, ctx, _| run(p, pending, ctx),
    )
    .map_err(reg)?;
    let _hidden = m.remove_method(names.hidden);
    let family = names.family;
    m.register_method(names.stop, move |p, ctx, ext| -> Res<Value> {
        let args = Args::new(&p, &["subscription"])?;
        let id = args.string(0)?;
        answer(ctx.stoppers.stop(family, connection(ext), &id))
    })
    .map_err(reg)?;
    Ok(())
}
