//! `chain_*`: headers, blocks, canonical hashes, and the head subscriptions.
//! Unknown blocks are `null` here, as in Substrate; only state methods error.

use super::{alias, at_or_best, blocking, inline, off_thread, reg, send, Ctx, Module, Res};
use crate::backend::RpcBackend;
use crate::error::{chain_error, invalid_params, RpcError};
use crate::json;
use crate::params::{parse_block_number, Args};
use jsonrpsee::types::Params;
use jsonrpsee::PendingSubscriptionSink;
use qstack_runtime_primitives::Header;
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::broadcast::{self, error::RecvError};

/// Most block numbers one `chain_getBlockHash` list may hold.
pub(crate) const MAX_BLOCK_HASH_LIST: usize = 1024;

pub(super) fn register(m: &mut Module) -> Result<(), RpcError> {
    blocking(m, "chain_getHeader", get_header)?;
    blocking(m, "chain_getBlock", get_block)?;
    blocking(m, "chain_getBlockHash", get_block_hash)?;
    alias(m, "chain_getHead", "chain_getBlockHash")?;
    inline(m, "chain_getFinalizedHead", |p, b| {
        Args::new(p, &[])?;
        Ok(json::hash(&b.chain_info().finalized_hash))
    })?;
    alias(m, "chain_getFinalisedHead", "chain_getFinalizedHead")?;

    m.register_subscription(
        "chain_subscribeNewHeads",
        "chain_newHead",
        "chain_unsubscribeNewHeads",
        |p, pending, ctx, _| async move {
            heads(p, pending, ctx, Heads::Best { initial: true }).await
        },
    )
    .map_err(reg)?;
    for (a, existing) in [
        ("chain_subscribeNewHead", "chain_subscribeNewHeads"),
        ("subscribe_newHead", "chain_subscribeNewHeads"),
        ("chain_unsubscribeNewHead", "chain_unsubscribeNewHeads"),
        ("unsubscribe_newHead", "chain_unsubscribeNewHeads"),
    ] {
        alias(m, a, existing)?;
    }

    // Substrate's "all heads": every imported block, forks included, as far
    // as the backend announces them (`RpcBackend::subscribe_all_blocks`).
    m.register_subscription(
        "chain_subscribeAllHeads",
        "chain_allHead",
        "chain_unsubscribeAllHeads",
        |p, pending, ctx, _| async move { heads(p, pending, ctx, Heads::All).await },
    )
    .map_err(reg)?;

    m.register_subscription(
        "chain_subscribeFinalizedHeads",
        "chain_finalizedHead",
        "chain_unsubscribeFinalizedHeads",
        |p, pending, ctx, _| async move { heads(p, pending, ctx, Heads::Finalized).await },
    )
    .map_err(reg)?;
    alias(
        m,
        "chain_subscribeFinalisedHeads",
        "chain_subscribeFinalizedHeads",
    )?;
    alias(
        m,
        "chain_unsubscribeFinalisedHeads",
        "chain_unsubscribeFinalizedHeads",
    )?;
    Ok(())
}

fn get_header(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["hash"])?;
    let hash = at_or_best(b, args.opt_hash(0)?);
    let header = b.header(hash).map_err(chain_error)?;
    Ok(header.as_ref().map_or(Value::Null, json::header))
}

fn get_block(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["hash"])?;
    let hash = at_or_best(b, args.opt_hash(0)?);
    let block = b.block(hash).map_err(chain_error)?;
    Ok(block.as_ref().map_or(Value::Null, json::block))
}

/// Substrate's `ListOrValue<NumberOrHex>`: none → best hash; one number → its
/// hash or null; a list → a list of those.
fn get_block_hash(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["hash"])?;
    let one = |v: &Value| -> Res<Value> {
        let n = parse_block_number(v).map_err(|e| args.bad(0, e))?;
        let hash = b.block_hash(n).map_err(chain_error)?;
        Ok(hash.as_ref().map_or(Value::Null, json::hash))
    };
    match args.get(0) {
        None => Ok(json::hash(&b.chain_info().best_hash)),
        Some(Value::Array(items)) => {
            if items.len() > MAX_BLOCK_HASH_LIST {
                return Err(invalid_params(format!(
                    "at most {MAX_BLOCK_HASH_LIST} block numbers per call, got {}",
                    items.len()
                )));
            }
            items
                .iter()
                .map(one)
                .collect::<Res<Vec<_>>>()
                .map(Value::Array)
        }
        Some(v) => one(v),
    }
}

/// Which header stream a subscription follows.
#[derive(Clone, Copy)]
enum Heads {
    /// New best blocks; `initial` sends the current best first (as Substrate).
    Best { initial: bool },
    /// Every imported block, without an initial one.
    All,
    /// Newly finalized blocks, starting with the current finalized one.
    Finalized,
}

async fn heads(p: Params<'static>, pending: PendingSubscriptionSink, ctx: Arc<Ctx>, which: Heads) {
    if let Err(e) = Args::new(&p, &[]) {
        pending.reject(e).await;
        return;
    }
    // Subscribe before reading the current head, so no block falls between.
    let mut rx: broadcast::Receiver<Header> = match which {
        Heads::Best { .. } => ctx.backend.subscribe_new_heads(),
        Heads::All => ctx.backend.subscribe_all_blocks(),
        Heads::Finalized => ctx.backend.subscribe_finalized_heads(),
    };
    let initial = match which {
        Heads::Best { initial: false } | Heads::All => Ok(Ok(None)),
        Heads::Best { initial: true } => {
            off_thread(&ctx, |b| b.header(b.chain_info().best_hash)).await
        }
        Heads::Finalized => off_thread(&ctx, |b| b.header(b.chain_info().finalized_hash)).await,
    };
    let initial = match initial {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => {
            pending.reject(chain_error(e)).await;
            return;
        }
        Err(e) => {
            pending.reject(e).await;
            return;
        }
    };
    let Ok(sink) = pending.accept().await else {
        return;
    };
    let mut last_sent = None;
    if let Some(h) = initial {
        if !send(&sink, &json::header(&h)).await {
            return;
        }
        last_sent = Some(h.hash());
    }
    loop {
        tokio::select! {
            _ = sink.closed() => return,
            next = rx.recv() => match next {
                Ok(h) => {
                    let hash = h.hash();
                    if last_sent == Some(hash) {
                        continue;
                    }
                    if !send(&sink, &json::header(&h)).await {
                        return;
                    }
                    last_sent = Some(hash);
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::debug!(target: super::LOG_TARGET, "head subscriber lagged, {n} headers skipped");
                }
                Err(RecvError::Closed) => return,
            },
        }
    }
}
