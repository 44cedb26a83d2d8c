//! `system_*`: node identity, chain identity, health, networking, next nonce.

use super::{blocking, inline, Module, Res};
use crate::backend::RpcBackend;
use crate::error::{internal, runtime_error, RpcError};
use crate::json;
use crate::params::Args;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde_json::{json, Value};

pub(super) fn register(m: &mut Module) -> Result<(), RpcError> {
    inline(m, "system_name", |p, b| {
        Args::new(p, &[])?;
        Ok(json!(b.system_info().name))
    })?;
    inline(m, "system_version", |p, b| {
        Args::new(p, &[])?;
        Ok(json!(b.system_info().version))
    })?;
    inline(m, "system_chain", |p, b| {
        Args::new(p, &[])?;
        Ok(json!(b.system_info().chain))
    })?;
    inline(m, "system_chainType", |p, b| {
        Args::new(p, &[])?;
        Ok(json!(b.system_info().chain_type))
    })?;
    inline(m, "system_properties", |p, b| {
        Args::new(p, &[])?;
        Ok(Value::Object(b.system_info().properties))
    })?;
    inline(m, "system_health", |p, b| {
        Args::new(p, &[])?;
        let info = b.system_info();
        Ok(json!({
            "peers": info.peers,
            "isSyncing": info.is_syncing,
            "shouldHavePeers": info.should_have_peers,
        }))
    })?;
    inline(m, "system_peers", |p, b| {
        Args::new(p, &[])?;
        Ok(Value::Array(
            b.network_peers().iter().map(json::peer).collect(),
        ))
    })?;
    inline(m, "system_syncState", |p, b| {
        Args::new(p, &[])?;
        Ok(json::sync_state(&b.sync_state()))
    })?;
    inline(m, "system_localPeerId", |p, b| {
        Args::new(p, &[])?;
        b.local_peer_id().map(Value::String).ok_or_else(no_network)
    })?;
    inline(m, "system_networkState", |p, b| {
        Args::new(p, &[])?;
        b.network_state().ok_or_else(no_network)
    })?;
    inline(m, "system_localListenAddresses", |p, b| {
        Args::new(p, &[])?;
        Ok(json!(b.local_listen_addresses()))
    })?;
    blocking(m, "system_accountNextIndex", account_next_index)?;
    Ok(())
}

/// The node has no network service to ask: `-32603`, as Substrate answers
/// when its network worker is gone.
fn no_network() -> ErrorObjectOwned {
    internal("networking is not running")
}

/// The nonce to sign the account's next transaction with (pool included).
fn account_next_index(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["account"])?;
    let who = args.account(0)?;
    let nonce = b
        .account_nonce(&who)
        .map_err(|e| runtime_error("Unable to query nonce.", e))?;
    Ok(json!(nonce))
}
