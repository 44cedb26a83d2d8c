//! The new JSON-RPC spec's transaction groups.
//!
//! `transactionWatch_v1_*`: submit and watch. Same pool stream as
//! `author_submitAndWatchExtrinsic`, in the spec's events: each drop and
//! invalidation carries its reason (the legacy statuses are unit-shaped
//! `"dropped"`/`"invalid"` for client compatibility), and a transaction the
//! pool refuses, or whose bytes are not even framed as one, is an `invalid`
//! (or `dropped`) event rather than an error.
//!
//! `transaction_v1_broadcast` / `_stop`: submit, then keep the transaction
//! in the pool and on the network (re-gossiped at each new best block,
//! re-submitted when the pool drops it) until the client stops it.

use super::author::check_framing;
use super::{
    connection, lock, off_thread, register_stoppable, send, sub_id_string, Ctx, Module, Res,
    Stoppable, LOG_TARGET,
};
use crate::backend::{RpcBackend, SubmitError, TxStatus};
use crate::error::{codes, invalid_params, RpcError};
use crate::json;
use crate::params::Args;
use jsonrpsee::types::Params;
use jsonrpsee::{ConnectionId, Extensions, PendingSubscriptionSink};
use qstack_core::{hashing::blake2_256, H256};
use qstack_runtime_primitives::OpaqueExtrinsic;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, Notify};

/// The stop family of watch subscriptions (see [`super::Stoppers`]).
const WATCH: &str = "transactionWatch_v1";

/// Broadcasts running at once on the whole server, whatever the
/// connections: over HTTP every request may be a connection of its own.
const MAX_BROADCASTS_TOTAL: usize = 1024;

/// A broadcast the pool refuses at this many new best blocks in a row ends
/// (its operation id becomes unknown): the transaction is not going to
/// become valid, and a client that went away without calling
/// `transaction_v1_stop` must not cost a validation per block forever.
const MAX_REFUSALS: u32 = 16;

pub(super) fn register(m: &mut Module) -> Result<(), RpcError> {
    register_stoppable(
        m,
        Stoppable {
            subscribe: "transactionWatch_v1_submitAndWatch",
            notification: "transactionWatch_v1_watchEvent",
            hidden: "transactionWatch_v1_submitAndWatch_jsonrpsee_unsubscribe",
            stop: "transactionWatch_v1_unwatch",
            family: WATCH,
        },
        |stopped| {
            if stopped {
                Ok(Value::Null)
            } else {
                Err(invalid_params(
                    "no active transactionWatch_v1 subscription with this id on this connection",
                ))
            }
        },
        |p, pending, ctx| async move { submit_and_watch(p, pending, ctx).await },
    )?;
    m.register_method("transaction_v1_broadcast", |p, ctx, ext| {
        broadcast(&p, ctx, ext)
    })
    .map_err(super::reg)?;
    m.register_method("transaction_v1_stop", |p, ctx, ext| stop(&p, ctx, ext))
        .map_err(super::reg)?;
    Ok(())
}

/// Where a watched transaction stands, to skip the events the spec lets a
/// server merge (a repeated `validated`, a `null` inclusion when it is in
/// no block already) and to know the index of a block it was reported in.
#[derive(Default)]
struct Watched {
    validated: bool,
    included: Option<(H256, usize)>,
}

/// The spec's event for `status`, or `None` when there is nothing to say:
/// gossip (`broadcasted` left the spec), a repeated `validated`, a
/// retraction from no block, or an inclusion whose position in the block
/// cannot be found (the spec's `index` is never null). `index` is the
/// transaction's position in the block the status names, when found.
fn event(w: &mut Watched, status: &TxStatus, index: Option<usize>) -> Option<Value> {
    let block = |h: &H256, i: usize| json!({ "hash": json::hash(h), "index": i });
    Some(match status {
        TxStatus::Future | TxStatus::Ready => {
            if w.validated {
                return None;
            }
            w.validated = true;
            json!({ "event": "validated" })
        }
        TxStatus::Broadcast(_) => return None,
        TxStatus::InBlock(h) => {
            let Some(i) = index else {
                tracing::debug!(target: LOG_TARGET, "block {h} includes a watched transaction the node cannot find in its body");
                return None;
            };
            w.included = Some((*h, i));
            json!({ "event": "bestChainBlockIncluded", "block": block(h, i) })
        }
        TxStatus::Retracted(_) => {
            w.included.take()?;
            // Back to the pool: it needs validating again.
            w.validated = false;
            json!({ "event": "bestChainBlockIncluded", "block": null })
        }
        TxStatus::Finalized(h) => {
            let known = w.included.filter(|(b, _)| b == h).map(|(_, i)| i);
            match index.or(known) {
                Some(i) => json!({ "event": "finalized", "block": block(h, i) }),
                None => json!({
                    "event": "error",
                    "error": format!(
                        "finalized in block {}, but the node cannot find the transaction in that block's body",
                        json::hex(h.as_bytes())
                    ),
                }),
            }
        }
        TxStatus::FinalityTimeout(h) => json!({
            "event": "dropped",
            "error": format!("block {} was not finalized in time", json::hex(h.as_bytes())),
        }),
        TxStatus::Usurped(h) => json!({
            "event": "invalid",
            "error": format!("replaced by transaction {} (same sender and nonce)", json::hex(h.as_bytes())),
        }),
        TxStatus::Dropped(why) => json!({ "event": "dropped", "error": why }),
        TxStatus::Invalid(why) => json!({ "event": "invalid", "error": why }),
    })
}

/// A refused submission as the spec's event: the pool being full or the
/// node busy drops it (it may go through later), anything else is invalid.
fn refused(e: &SubmitError) -> Value {
    let why = match &e.data {
        Some(data) => format!("{}: {data}", e.message),
        None => e.message.clone(),
    };
    let name = match e.code {
        codes::POOL_IMMEDIATELY_DROPPED | codes::BUSY => "dropped",
        _ => "invalid",
    };
    json!({ "event": name, "error": why })
}

async fn submit_and_watch(p: Params<'static>, pending: PendingSubscriptionSink, ctx: Arc<Ctx>) {
    // Only bad hex is an error; bytes that are not a transaction are an
    // `invalid` event (the spec).
    let bytes = match Args::new(&p, &["transaction"]).and_then(|a| a.bytes(0)) {
        Ok(bytes) => bytes,
        Err(e) => return pending.reject(e).await,
    };
    let stop = ctx.stoppers.register(
        WATCH,
        pending.connection_id(),
        sub_id_string(&pending.subscription_id()),
    );
    let Ok(sink) = pending.accept().await else {
        return;
    };
    let watch = async {
        if let Err(why) = check_framing(&bytes) {
            let ev = json!({ "event": "invalid", "error": format!("not a transaction: {why}") });
            let _ = send(&sink, &ev).await;
            return;
        }
        let hash = H256(blake2_256(&bytes));
        let xt = OpaqueExtrinsic::from_encoded(bytes.clone());
        let mut statuses = match off_thread(&ctx, move |b| b.submit_and_watch(xt)).await {
            Ok(Ok((_, statuses))) => statuses,
            Ok(Err(e)) => {
                let _ = send(&sink, &refused(&e)).await;
                return;
            }
            Err(e) => {
                let _ = send(&sink, &json!({ "event": "error", "error": e.message() })).await;
                return;
            }
        };
        let mut watched = Watched::default();
        loop {
            let Some(status) = statuses.recv().await else {
                let ev = json!({ "event": "dropped", "error": "the node stopped tracking the transaction" });
                let _ = send(&sink, &ev).await;
                return;
            };
            let index = match &status {
                TxStatus::InBlock(block) | TxStatus::Finalized(block) => {
                    let (block, wanted) = (*block, bytes.clone());
                    off_thread(&ctx, move |b| position(b, block, &wanted))
                        .await
                        .ok()
                        .flatten()
                }
                _ => None,
            };
            tracing::debug!(target: LOG_TARGET, "transaction {hash}: {status:?}");
            if let Some(ev) = event(&mut watched, &status, index) {
                if !send(&sink, &ev).await {
                    return;
                }
            }
            if status.is_final() {
                return;
            }
        }
    };
    tokio::select! {
        _ = watch => {}
        _ = stop.stopped() => {}
        _ = sink.closed() => {}
    }
}

/// The index of the extrinsic encoded `wanted` in block `block`'s body.
fn position(b: &dyn RpcBackend, block: H256, wanted: &[u8]) -> Option<usize> {
    b.block(block)
        .ok()
        .flatten()
        .and_then(|data| data.extrinsics.iter().position(|x| x.0 == wanted))
}

// ---------------------------------------------------------------------------
// transaction_v1_broadcast.

/// The running broadcasts, by operation id.
#[derive(Clone, Default)]
pub(crate) struct Broadcasts(Arc<Mutex<BroadcastsInner>>);

#[derive(Default)]
struct BroadcastsInner {
    running: HashMap<String, Running>,
    next: u64,
}

struct Running {
    conn: usize,
    stop: Arc<Notify>,
}

impl Broadcasts {
    /// A new operation on `conn`, unless it runs `max` already (or the
    /// server [`MAX_BROADCASTS_TOTAL`]).
    fn start(&self, conn: ConnectionId, max: usize) -> Option<(String, Arc<Notify>)> {
        let mut inner = lock(&self.0);
        let held = inner.running.values().filter(|r| r.conn == conn.0).count();
        if held >= max || inner.running.len() >= MAX_BROADCASTS_TOTAL {
            return None;
        }
        let id = format!("broadcast-{}", inner.next);
        inner.next = inner.next.wrapping_add(1);
        let stop = Arc::new(Notify::new());
        inner.running.insert(
            id.clone(),
            Running {
                conn: conn.0,
                stop: stop.clone(),
            },
        );
        Some((id, stop))
    }

    /// Stops operation `id` of `conn`; `false` if there is none.
    fn stop(&self, conn: Option<ConnectionId>, id: &str) -> bool {
        let Some(conn) = conn else {
            return false;
        };
        let mut inner = lock(&self.0);
        if inner.running.get(id).is_none_or(|r| r.conn != conn.0) {
            return false;
        }
        if let Some(r) = inner.running.remove(id) {
            r.stop.notify_one();
        }
        true
    }

    fn finished(&self, id: &str, stop: &Arc<Notify>) {
        let mut inner = lock(&self.0);
        if inner
            .running
            .get(id)
            .is_some_and(|r| Arc::ptr_eq(&r.stop, stop))
        {
            inner.running.remove(id);
        }
    }
}

/// The operation id, or `null` when the connection runs as many as allowed.
fn broadcast(p: &Params, ctx: &Ctx, ext: &Extensions) -> Res<Value> {
    let args = Args::new(p, &["transaction"])?;
    let bytes = args.bytes(0)?;
    let Some(conn) = connection(ext) else {
        return Ok(Value::Null);
    };
    let max = usize::try_from(ctx.limits.max_broadcasts.get()).unwrap_or(usize::MAX);
    let Some((id, stop)) = ctx.broadcasts.start(conn, max) else {
        return Ok(Value::Null);
    };
    let (backend, registry, op) = (ctx.backend.clone(), ctx.broadcasts.clone(), id.clone());
    tokio::spawn(async move {
        tokio::select! {
            _ = keep_broadcasting(backend, bytes) => {}
            _ = stop.notified() => {}
        }
        registry.finished(&op, &stop);
    });
    Ok(json!(id))
}

fn stop(p: &Params, ctx: &Ctx, ext: &Extensions) -> Res<Value> {
    let args = Args::new(p, &["operationId"])?;
    let id = args.string(0)?;
    if ctx.broadcasts.stop(connection(ext), &id) {
        Ok(Value::Null)
    } else {
        Err(invalid_params(format!(
            "no active transaction_v1_broadcast operation {id:?} on this connection"
        )))
    }
}

/// Where a broadcast transaction stands with the pool.
enum Pool {
    /// Submitted; the pool's statuses.
    Watching(mpsc::Receiver<TxStatus>),
    /// In the pool, but submitted by someone else: not ours to watch.
    Held,
    /// Not in the pool: submit again at the next block.
    Out,
}

/// Submits `bytes` and keeps it in the pool and on the network until it
/// is finalized (or replaced, or its block timed out), or the pool has
/// refused it [`MAX_REFUSALS`] blocks in a row. The spec asks for silence:
/// the client hears nothing of any of this.
async fn keep_broadcasting(backend: Arc<dyn RpcBackend>, bytes: Vec<u8>) {
    // Nothing will make bytes that are not a transaction valid.
    if check_framing(&bytes).is_err() {
        return;
    }
    let xt = OpaqueExtrinsic::from_encoded(bytes);
    let mut heads = backend.subscribe_new_heads();
    let mut refusals = 0u32;
    loop {
        let submit = {
            let (backend, xt) = (backend.clone(), xt.clone());
            tokio::task::spawn_blocking(move || backend.submit_and_watch(xt)).await
        };
        let mut pool = match submit {
            Ok(Ok((_, statuses))) => {
                refusals = 0;
                Pool::Watching(statuses)
            }
            Ok(Err(e)) if e.code == codes::POOL_ALREADY_IMPORTED => {
                refusals = 0;
                Pool::Held
            }
            Ok(Err(_)) | Err(_) => {
                refusals = refusals.saturating_add(1);
                if refusals >= MAX_REFUSALS {
                    return;
                }
                Pool::Out
            }
        };
        // Until it must be submitted again.
        loop {
            let status = async {
                match &mut pool {
                    Pool::Watching(rx) => rx.recv().await,
                    Pool::Held | Pool::Out => std::future::pending().await,
                }
            };
            tokio::select! {
                // The pool's news first: a drop seen with the block that
                // follows it is resubmitted at that block.
                biased;
                status = status => match status {
                    Some(TxStatus::Finalized(_) | TxStatus::Usurped(_) | TxStatus::FinalityTimeout(_)) => return,
                    // Out of the pool for now: back in at the next block.
                    Some(TxStatus::Dropped(_) | TxStatus::Invalid(_)) | None => pool = Pool::Out,
                    Some(_) => {}
                },
                head = heads.recv() => {
                    if matches!(head, Err(RecvError::Closed)) {
                        return;
                    }
                    match pool {
                        Pool::Watching(_) => backend.broadcast_extrinsic(&xt),
                        Pool::Held => {
                            backend.broadcast_extrinsic(&xt);
                            break;
                        }
                        Pool::Out => break,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_follow_the_spec() {
        let h = H256([7; 32]);
        let hex = format!("0x{}", "07".repeat(32));
        let mut w = Watched::default();
        assert_eq!(
            event(&mut w, &TxStatus::Future, None),
            Some(json!({"event": "validated"}))
        );
        assert_eq!(event(&mut w, &TxStatus::Ready, None), None, "merged");
        assert_eq!(
            event(&mut w, &TxStatus::Broadcast(vec!["p".into()]), None),
            None
        );
        assert_eq!(event(&mut w, &TxStatus::Retracted(h), None), None);
        assert_eq!(event(&mut w, &TxStatus::InBlock(h), None), None, "no index");
        assert_eq!(
            event(&mut w, &TxStatus::InBlock(h), Some(2)),
            Some(json!({"event": "bestChainBlockIncluded", "block": {"hash": hex, "index": 2}}))
        );
        // The index of the inclusion answers a finalization whose body
        // cannot be read.
        assert_eq!(
            event(&mut w, &TxStatus::Finalized(h), None),
            Some(json!({"event": "finalized", "block": {"hash": hex, "index": 2}}))
        );
        let mut fresh = Watched::default();
        let ev = event(&mut fresh, &TxStatus::Finalized(h), None).unwrap();
        assert_eq!(ev["event"], "error");
    }

    #[test]
    fn refusals_are_invalid_unless_the_pool_is_full_or_busy() {
        let full = SubmitError::new(codes::POOL_IMMEDIATELY_DROPPED, "Immediately Dropped")
            .with_data("pool full");
        assert_eq!(
            refused(&full),
            json!({"event": "dropped", "error": "Immediately Dropped: pool full"})
        );
        let bad = SubmitError::new(codes::POOL_INVALID_TX, "Invalid Transaction");
        assert_eq!(refused(&bad)["event"], "invalid");
    }
}
