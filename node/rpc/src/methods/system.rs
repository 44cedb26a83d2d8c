//! `system_*`: node identity, chain identity, health, next nonce.

use super::{blocking, inline, Module, Res};
use crate::backend::RpcBackend;
use crate::error::{runtime_error, RpcError};
use crate::params::Args;
use jsonrpsee::types::Params;
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
    blocking(m, "system_accountNextIndex", account_next_index)?;
    Ok(())
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
