//! `transactionWatch_v1_*`: the new Substrate JSON-RPC spec's transaction
//! watch. Same pool stream as `author_submitAndWatchExtrinsic`, but its
//! events carry the reason of every drop and invalidation (the legacy
//! statuses are unit-shaped `"dropped"`/`"invalid"` for client compatibility),
//! and a refused submission is an `invalid` event rather than an error.

use super::{off_thread, reg, send, Ctx, Module, LOG_TARGET};
use crate::backend::TxStatus;
use crate::json;
use crate::params::Args;
use jsonrpsee::types::Params;
use jsonrpsee::PendingSubscriptionSink;
use qstack_core::{hashing::blake2_256, H256};
use serde_json::{json, Value};
use std::sync::Arc;

pub(super) fn register(m: &mut Module) -> Result<(), crate::error::RpcError> {
    m.register_subscription(
        "transactionWatch_v1_submitAndWatch",
        "transactionWatch_v1_watchEvent",
        "transactionWatch_v1_unwatch",
        |p, pending, ctx, _| async move { submit_and_watch(p, pending, ctx).await },
    )
    .map_err(reg)?;
    Ok(())
}

/// The spec's event for `status`; `index` is the transaction's position in
/// the block named by the status, when known.
pub(crate) fn event(status: &TxStatus, index: Option<usize>) -> Value {
    let block = |h: &H256| json!({ "hash": json::hash(h), "index": index });
    match status {
        TxStatus::Future | TxStatus::Ready => json!({ "event": "validated" }),
        TxStatus::Broadcast(peers) => json!({ "event": "broadcasted", "numPeers": peers.len() }),
        TxStatus::InBlock(h) => json!({ "event": "bestChainBlockIncluded", "block": block(h) }),
        TxStatus::Retracted(_) => json!({ "event": "bestChainBlockIncluded", "block": null }),
        TxStatus::Finalized(h) => json!({ "event": "finalized", "block": block(h) }),
        TxStatus::FinalityTimeout(h) => json!({
            "event": "dropped",
            "error": format!("block {} was not finalized in time", json::hash(h)),
        }),
        TxStatus::Usurped(h) => json!({
            "event": "invalid",
            "error": format!("replaced by transaction {} (same sender and nonce)", json::hash(h)),
        }),
        TxStatus::Dropped(why) => json!({ "event": "dropped", "error": why }),
        TxStatus::Invalid(why) => json!({ "event": "invalid", "error": why }),
    }
}

async fn submit_and_watch(p: Params<'static>, pending: PendingSubscriptionSink, ctx: Arc<Ctx>) {
    let xt = match Args::new(&p, &["transaction"]).and_then(|a| super::author::extrinsic(&a)) {
        Ok(xt) => xt,
        Err(e) => return pending.reject(e).await,
    };
    let encoded = xt.0.clone();
    let submitted = off_thread(&ctx, move |b| b.submit_and_watch(xt)).await;
    let Ok(sink) = pending.accept().await else {
        return;
    };
    let mut statuses = match submitted {
        Ok(Ok((_, statuses))) => statuses,
        Ok(Err(e)) => {
            let why = match e.data {
                Some(data) => format!("{}: {data}", e.message),
                None => e.message,
            };
            let _ = send(&sink, &json!({ "event": "invalid", "error": why })).await;
            return;
        }
        Err(e) => {
            let _ = send(&sink, &json!({ "event": "error", "error": e.message() })).await;
            return;
        }
    };
    let hash = H256(blake2_256(&encoded));
    loop {
        let status = tokio::select! {
            _ = sink.closed() => return,
            next = statuses.recv() => match next {
                Some(s) => s,
                None => return,
            },
        };
        let index = match &status {
            TxStatus::InBlock(block) | TxStatus::Finalized(block) => {
                let (block, wanted) = (*block, encoded.clone());
                off_thread(&ctx, move |b| {
                    b.block(block)
                        .ok()
                        .flatten()
                        .and_then(|data| data.extrinsics.iter().position(|x| x.0 == wanted))
                })
                .await
                .ok()
                .flatten()
            }
            _ => None,
        };
        tracing::debug!(target: LOG_TARGET, "transaction {hash}: {status:?}");
        if !send(&sink, &event(&status, index)).await || status.is_final() {
            return;
        }
    }
}
