//! `state_*`: storage reads, key paging, proofs, runtime calls, metadata,
//! runtime version, and the runtime-version and storage subscriptions.

use super::{alias, at_or_best, blocking, off_thread, reg, send, Ctx, Module, Res};
use crate::backend::RpcBackend;
use crate::error::{codes, err, internal, invalid_params, state_error, RpcError};
use crate::json;
use crate::params::Args;
use crate::{MAX_KEYS_PAGED, MAX_KEYS_PER_CALL};
use codec::Decode;
use jsonrpsee::types::Params;
use jsonrpsee::PendingSubscriptionSink;
use qstack_core::{hashing::blake2_256, H256};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

pub(super) fn register(m: &mut Module) -> Result<(), RpcError> {
    blocking(m, "state_getStorage", get_storage)?;
    alias(m, "state_getStorageAt", "state_getStorage")?;
    blocking(m, "state_getStorageHash", get_storage_hash)?;
    alias(m, "state_getStorageHashAt", "state_getStorageHash")?;
    blocking(m, "state_getStorageSize", get_storage_size)?;
    alias(m, "state_getStorageSizeAt", "state_getStorageSize")?;
    blocking(m, "state_getKeysPaged", get_keys_paged)?;
    alias(m, "state_getKeysPagedAt", "state_getKeysPaged")?;
    blocking(m, "state_queryStorageAt", query_storage_at)?;
    blocking(m, "state_getReadProof", get_read_proof)?;
    blocking(m, "state_call", call)?;
    alias(m, "state_callAt", "state_call")?;
    blocking(m, "state_getMetadata", get_metadata)?;
    blocking(m, "state_getRuntimeVersion", get_runtime_version)?;
    alias(m, "chain_getRuntimeVersion", "state_getRuntimeVersion")?;

    m.register_subscription(
        "state_subscribeRuntimeVersion",
        "state_runtimeVersion",
        "state_unsubscribeRuntimeVersion",
        |p, pending, ctx, _| async move { runtime_versions(p, pending, ctx).await },
    )
    .map_err(reg)?;
    alias(
        m,
        "chain_subscribeRuntimeVersion",
        "state_subscribeRuntimeVersion",
    )?;
    alias(
        m,
        "chain_unsubscribeRuntimeVersion",
        "state_unsubscribeRuntimeVersion",
    )?;

    m.register_subscription(
        "state_subscribeStorage",
        "state_storage",
        "state_unsubscribeStorage",
        |p, pending, ctx, _| async move { storage_changes(p, pending, ctx).await },
    )
    .map_err(reg)?;
    Ok(())
}

fn get_storage(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["key", "hash"])?;
    let key = args.bytes(0)?;
    let at = at_or_best(b, args.opt_hash(1)?);
    let value = b.storage(at, &key).map_err(state_error)?;
    Ok(value.map_or(Value::Null, |v| json!(json::hex(&v))))
}

fn get_storage_hash(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["key", "hash"])?;
    let key = args.bytes(0)?;
    let at = at_or_best(b, args.opt_hash(1)?);
    let value = b.storage(at, &key).map_err(state_error)?;
    Ok(value.map_or(Value::Null, |v| json::hash(&H256(blake2_256(&v)))))
}

fn get_storage_size(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["key", "hash"])?;
    let key = args.bytes(0)?;
    let at = at_or_best(b, args.opt_hash(1)?);
    let value = b.storage(at, &key).map_err(state_error)?;
    Ok(value.map_or(Value::Null, |v| json!(v.len())))
}

/// Substrate refuses a `count` above the maximum rather than capping it: a
/// client that pages until it gets a short page would stop early on a cap.
fn get_keys_paged(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["prefix", "count", "startKey", "hash"])?;
    let prefix = args.opt_bytes(0)?.unwrap_or_default();
    let count = args.u32(1)?;
    if count > MAX_KEYS_PAGED {
        return Err(err(
            codes::STATE_INVALID_COUNT,
            format!("count exceeds maximum value. value: {count}, max: {MAX_KEYS_PAGED}"),
        ));
    }
    let start_key = args.opt_bytes(2)?;
    let at = at_or_best(b, args.opt_hash(3)?);
    let keys = b
        .storage_keys_paged(at, &prefix, count, start_key.as_deref())
        .map_err(state_error)?;
    Ok(Value::Array(
        keys.iter().map(|k| json!(json::hex(k))).collect(),
    ))
}

/// `[{"block": at, "changes": [[key, value | null], …]}]`.
fn query_storage_at(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["keys", "at"])?;
    let keys = args.bytes_list(0, MAX_KEYS_PER_CALL)?;
    let at = at_or_best(b, args.opt_hash(1)?);
    let changes = keys
        .iter()
        .map(|k| {
            let v = b.storage(at, k).map_err(state_error)?;
            Ok(json!([json::hex(k), v.map(|v| json::hex(&v))]))
        })
        .collect::<Res<Vec<_>>>()?;
    Ok(json!([{ "block": json::hash(&at), "changes": changes }]))
}

fn get_read_proof(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["keys", "hash"])?;
    let keys = args.bytes_list(0, MAX_KEYS_PER_CALL)?;
    let at = at_or_best(b, args.opt_hash(1)?);
    let proof = b.read_proof(at, &keys).map_err(state_error)?;
    let nodes: Vec<Value> = proof.iter().map(|n| json!(json::hex(n))).collect();
    Ok(json!({ "at": json::hash(&at), "proof": nodes }))
}

/// Runtime entry points `state_call` does not run: they execute or build
/// blocks or write genesis state, work for the node's import and authoring
/// paths only. Answering them would let any client make this node execute
/// arbitrary blocks or multi-megabyte genesis JSON on its executor.
pub const NOT_FOR_STATE_CALL: &[&str] = &[
    "Core_execute_block",
    "Core_initialize_block",
    "BlockBuilder_apply_extrinsic",
    "BlockBuilder_finalize_block",
    "BlockBuilder_inherent_extrinsics",
    "GenesisBuilder_build_state",
    // Runs every pending migration to its end: `qstack try-upgrade` runs
    // it on its own copy of the state, never a node for a client.
    "TryRuntime_try_upgrade",
];

/// The runtime API function named by parameter `i`: refused unless it is a
/// name, and refused if it builds or executes blocks ([`NOT_FOR_STATE_CALL`];
/// `rpc` names the method in the message).
pub(crate) fn read_only_function(args: &Args, i: usize, rpc: &str) -> Res<String> {
    let function = args.string(i)?;
    if function.is_empty() || !function.bytes().all(|c| c.is_ascii_graphic()) {
        return Err(args.bad(i, "expected a runtime API method name like `Core_version`"));
    }
    if NOT_FOR_STATE_CALL.contains(&function.as_str()) {
        return Err(args.bad(
            i,
            format!(
                "`{function}` builds or executes blocks; {rpc} serves read-only runtime queries"
            ),
        ));
    }
    Ok(function)
}

fn call(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["name", "bytes", "hash"])?;
    let method = read_only_function(&args, 0, "state_call")?;
    let input = args.bytes(1)?;
    let at = at_or_best(b, args.opt_hash(2)?);
    let out = b.call(at, &method, &input).map_err(state_error)?;
    Ok(json!(json::hex(&out)))
}

/// `Metadata_metadata` answers SCALE `Vec<u8>`; clients expect the inner
/// bytes (starting with the `meta` magic), as Substrate returns them.
fn get_metadata(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["hash"])?;
    let at = at_or_best(b, args.opt_hash(0)?);
    let out = b.call(at, "Metadata_metadata", &[]).map_err(state_error)?;
    let metadata = Vec::<u8>::decode(&mut out.as_slice()).map_err(|e| {
        err(
            codes::STATE_CLIENT,
            format!("the runtime's metadata does not decode: {e}"),
        )
    })?;
    Ok(json!(json::hex(&metadata)))
}

fn get_runtime_version(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["hash"])?;
    let at = at_or_best(b, args.opt_hash(0)?);
    let version = b.runtime_version(at).map_err(state_error)?;
    serde_json::to_value(version).map_err(|e| internal(e.to_string()))
}

/// Sends the current version at once, then each new best block's version
/// when it differs from the last one sent.
async fn runtime_versions(p: Params<'static>, pending: PendingSubscriptionSink, ctx: Arc<Ctx>) {
    if let Err(e) = Args::new(&p, &[]) {
        pending.reject(e).await;
        return;
    }
    let mut heads = ctx.backend.subscribe_new_heads();
    let current = match off_thread(&ctx, |b| b.runtime_version(b.chain_info().best_hash)).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return pending.reject(state_error(e)).await,
        Err(e) => return pending.reject(e).await,
    };
    let Ok(sink) = pending.accept().await else {
        return;
    };
    let Ok(mut last) = serde_json::to_value(&current) else {
        return;
    };
    if !send(&sink, &last).await {
        return;
    }
    loop {
        let header = tokio::select! {
            _ = sink.closed() => return,
            next = heads.recv() => match next {
                Ok(h) => h,
                // Missed headers do not matter: the next one is checked in full.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            },
        };
        let hash = header.hash();
        let Ok(Ok(version)) = off_thread(&ctx, move |b| b.runtime_version(hash)).await else {
            continue;
        };
        let Ok(version) = serde_json::to_value(&version) else {
            continue;
        };
        if version != last {
            if !send(&sink, &version).await {
                return;
            }
            last = version;
        }
    }
}

/// Sends every watched key's value at the best block at once, then, for each
/// new best block, the keys whose value changed (Substrate's `StorageChangeSet`).
async fn storage_changes(p: Params<'static>, pending: PendingSubscriptionSink, ctx: Arc<Ctx>) {
    let keys = match Args::new(&p, &["keys"]).and_then(|a| a.bytes_list(0, MAX_KEYS_PER_CALL)) {
        Ok(keys) if keys.is_empty() => {
            return pending
                .reject(invalid_params(
                    "invalid `keys` (param 0): watching every storage change is not supported; list the keys to watch",
                ))
                .await;
        }
        Ok(keys) => Arc::new(keys),
        Err(e) => return pending.reject(e).await,
    };
    let mut heads = ctx.backend.subscribe_new_heads();
    let read = |at: Option<H256>| {
        let keys = keys.clone();
        move |b: &dyn RpcBackend| {
            let at = at_or_best(b, at);
            let values = keys
                .iter()
                .map(|k| b.storage(at, k))
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, crate::BackendError>((at, values))
        }
    };
    let (at, mut last) = match off_thread(&ctx, read(None)).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return pending.reject(state_error(e)).await,
        Err(e) => return pending.reject(e).await,
    };
    let Ok(sink) = pending.accept().await else {
        return;
    };
    let all: Vec<usize> = (0..keys.len()).collect();
    if !send(&sink, &change_set(at, &keys, &last, &all)).await {
        return;
    }
    loop {
        let header = tokio::select! {
            _ = sink.closed() => return,
            next = heads.recv() => match next {
                Ok(h) => h,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            },
        };
        let Ok(Ok((at, values))) = off_thread(&ctx, read(Some(header.hash()))).await else {
            continue;
        };
        let changed: Vec<usize> = (0..keys.len())
            .filter(|&i| values.get(i) != last.get(i))
            .collect();
        last = values;
        if !changed.is_empty() && !send(&sink, &change_set(at, &keys, &last, &changed)).await {
            return;
        }
    }
}

fn change_set(at: H256, keys: &[Vec<u8>], values: &[Option<Vec<u8>>], which: &[usize]) -> Value {
    let changes: Vec<Value> = which
        .iter()
        .filter_map(|&i| {
            let key = keys.get(i)?;
            let value = values.get(i)?;
            Some(json!([
                json::hex(key),
                value.as_ref().map(|v| json::hex(v))
            ]))
        })
        .collect();
    json!({ "block": json::hash(&at), "changes": changes })
}
