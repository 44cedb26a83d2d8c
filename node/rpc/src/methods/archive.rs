//! `archive_v1_*`: any block's header, body, storage and runtime calls, by
//! hash or height (the new JSON-RPC spec). Registered only on a node that
//! keeps every block's state ([`RpcBackend::keeps_all_state`]): the spec
//! promises an answer, always the same, for every finalized block.

use super::storage_query::{parse_items, Cursor};
use super::{
    blocking, inline, off_thread, register_stoppable, send, sub_id_string, Ctx, Module, Res,
    Stoppable,
};
use crate::backend::{BackendError, RpcBackend};
use crate::error::{codes, err, internal, RpcError};
use crate::json;
use crate::params::{kind, Args};
use crate::MAX_KEYS_PER_CALL;
use codec::Encode;
use jsonrpsee::types::Params;
use jsonrpsee::PendingSubscriptionSink;
use qstack_core::{BlockNumber, H256};
use serde_json::{json, Value};
use std::sync::Arc;

/// The stop family of storage queries (see [`super::Stoppers`]).
const FAMILY: &str = "archive_v1_storage";

/// Most blocks `archive_v1_hashByHeight` visits looking for the forks at
/// a height above the finalized block.
const MAX_FORK_WALK: usize = 4096;

/// Storage answers read per blocking call of `archive_v1_storage`.
const STORAGE_PAGE: usize = 256;

pub(super) fn register(m: &mut Module) -> Result<(), RpcError> {
    blocking(m, "archive_v1_body", body)?;
    blocking(m, "archive_v1_call", call)?;
    inline(m, "archive_v1_finalizedHeight", |p, b| {
        Args::new(p, &[])?;
        Ok(json!(b.chain_info().finalized_number))
    })?;
    inline(m, "archive_v1_genesisHash", |p, b| {
        Args::new(p, &[])?;
        Ok(json::hash(&b.chain_info().genesis_hash))
    })?;
    blocking(m, "archive_v1_hashByHeight", hash_by_height)?;
    blocking(m, "archive_v1_header", header)?;
    register_stoppable(
        m,
        Stoppable {
            subscribe: "archive_v1_storage",
            notification: "archive_v1_storageEvent",
            hidden: "archive_v1_storage_jsonrpsee_unsubscribe",
            stop: "archive_v1_stopStorage",
            family: FAMILY,
        },
        // The spec: `null`, and no effect on an unknown or finished query.
        |_| Ok(Value::Null),
        |p, pending, ctx| async move { storage(p, pending, ctx).await },
    )?;
    Ok(())
}

fn hash_param(args: &Args, i: usize) -> Res<H256> {
    args.opt_hash(i)?
        .ok_or_else(|| args.bad(i, "missing: expected a 0x-prefixed 32-byte hex string"))
}

fn header(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["hash"])?;
    let hash = hash_param(&args, 0)?;
    let header = b.header(hash).map_err(|e| internal(e.to_string()))?;
    Ok(header.map_or(Value::Null, |h| json!(json::hex(&h.encode()))))
}

fn body(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["hash"])?;
    let hash = hash_param(&args, 0)?;
    let block = b.block(hash).map_err(|e| internal(e.to_string()))?;
    Ok(block.map_or(Value::Null, |block| {
        Value::Array(
            block
                .extrinsics
                .iter()
                .map(|x| json!(json::hex(&x.0)))
                .collect(),
        )
    }))
}

/// `null` for an unknown block; otherwise `{"success": true, "value"}` or
/// `{"success": false, "error"}`. A busy node is a JSON-RPC error instead:
/// the spec promises the same answer on every retry, and busy is not one.
fn call(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["hash", "function", "callParameters"])?;
    let hash = hash_param(&args, 0)?;
    let function = super::state::read_only_function(&args, 1, "archive_v1_call")?;
    let input = args.bytes(2)?;
    if b.header(hash)
        .map_err(|e| internal(e.to_string()))?
        .is_none()
    {
        return Ok(Value::Null);
    }
    match b.call(hash, &function, &input) {
        Ok(out) => Ok(json!({ "success": true, "value": json::hex(&out) })),
        Err(BackendError::UnknownBlock(_)) => Ok(Value::Null),
        Err(e @ BackendError::Busy(_)) => Err(err(codes::BUSY, e.to_string())),
        Err(e) => Ok(json!({ "success": false, "error": e.to_string() })),
    }
}

/// Exactly the canonical block at or below the finalized height; above
/// it, every stored block at that height (forks included).
fn hash_by_height(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["height"])?;
    let height = match args.get(0) {
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| args.bad(0, format!("expected a non-negative integer, got {n}")))?,
        Some(other) => return Err(args.bad(0, format!("expected an integer, got {}", kind(other)))),
        None => return Err(args.bad(0, "missing: expected an integer")),
    };
    // No block is that high.
    let Ok(height) = BlockNumber::try_from(height) else {
        return Ok(json!([]));
    };
    let info = b.chain_info();
    let read = |e: BackendError| internal(e.to_string());
    if height <= info.finalized_number {
        let hash = b.block_hash(height).map_err(read)?;
        return Ok(Value::Array(hash.iter().map(json::hash).collect()));
    }
    let mut level = vec![info.finalized_hash];
    let mut number = info.finalized_number;
    let mut visited = 0usize;
    while number < height && !level.is_empty() {
        let mut next = Vec::new();
        for h in &level {
            let children = b.block_children(*h).map_err(read)?;
            visited = visited.saturating_add(children.len());
            next.extend(children);
        }
        if visited > MAX_FORK_WALK {
            return Err(internal(format!(
                "more than {MAX_FORK_WALK} non-finalized blocks below height {height}"
            )));
        }
        level = next;
        number = number.saturating_add(1);
    }
    level.sort_unstable();
    Ok(Value::Array(level.iter().map(json::hash).collect()))
}

/// Streams one `storage` event per answer, then `storageDone` (or
/// `storageError`). Reads a page at a time on the blocking pool and waits
/// for the client to take each event, so a large query holds no thread
/// and no memory while the client is slow.
async fn storage(p: Params<'static>, pending: PendingSubscriptionSink, ctx: Arc<Ctx>) {
    let parsed = Args::new(&p, &["hash", "items", "childTrie"]).and_then(|args| {
        let hash = hash_param(&args, 0)?;
        let items = parse_items(&args, 1, MAX_KEYS_PER_CALL, true)?;
        let child_trie = args.opt_bytes(2)?.is_some();
        Ok((hash, items, child_trie))
    });
    let (hash, items, child_trie) = match parsed {
        Ok(v) => v,
        Err(e) => return pending.reject(e).await,
    };
    let conn = pending.connection_id();
    let id = sub_id_string(&pending.subscription_id());
    let max = usize::try_from(ctx.limits.max_archive_storage.get()).unwrap_or(usize::MAX);
    let Some(stop) = ctx.stoppers.register_bounded(FAMILY, conn, id, max) else {
        return pending
            .reject(err(
                codes::LIMIT_REACHED,
                format!("at most {max} archive_v1_storage queries at once per connection"),
            ))
            .await;
    };
    let Ok(sink) = pending.accept().await else {
        return;
    };
    let events = async {
        let known = off_thread(&ctx, move |b| b.header(hash)).await;
        match known {
            Ok(Ok(Some(_))) => {}
            Ok(Ok(None)) => return storage_error(&sink, format!("unknown block {hash}")).await,
            Ok(Err(e)) => return storage_error(&sink, e.to_string()).await,
            Err(e) => return storage_error(&sink, e.message().to_owned()).await,
        }
        // qstack's state has no child tries: a child trie holds nothing.
        let mut cursor = Cursor::new(if child_trie { Vec::new() } else { items });
        while !cursor.is_done() {
            let read = off_thread(&ctx, move |b| {
                let page = cursor.next_page(b, hash, STORAGE_PAGE);
                (cursor, page)
            })
            .await;
            let page = match read {
                Ok((c, Ok(page))) => {
                    cursor = c;
                    page
                }
                Ok((_, Err(e))) => return storage_error(&sink, e.to_string()).await,
                Err(e) => return storage_error(&sink, e.message().to_owned()).await,
            };
            for found in page {
                let mut ev = found.to_json();
                ev.insert("event".into(), json!("storage"));
                if !send(&sink, &Value::Object(ev)).await {
                    return;
                }
            }
        }
        let _ = send(&sink, &json!({ "event": "storageDone" })).await;
    };
    tokio::select! {
        _ = events => {}
        _ = stop.stopped() => {}
        _ = sink.closed() => {}
    }
}

async fn storage_error(sink: &jsonrpsee::SubscriptionSink, why: String) {
    let _ = send(sink, &json!({ "event": "storageError", "error": why })).await;
}
