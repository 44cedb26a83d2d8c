//! `chainSpec_v1_*`: the chain spec's name, genesis hash and properties
//! (the new JSON-RPC spec). None of them changes while the node runs.

use super::{inline, Module};
use crate::error::RpcError;
use crate::json;
use crate::params::Args;
use serde_json::{json, Value};

pub(super) fn register(m: &mut Module) -> Result<(), RpcError> {
    inline(m, "chainSpec_v1_chainName", |p, b| {
        Args::new(p, &[])?;
        Ok(json!(b.system_info().chain))
    })?;
    inline(m, "chainSpec_v1_genesisHash", |p, b| {
        Args::new(p, &[])?;
        Ok(json::hash(&b.chain_info().genesis_hash))
    })?;
    inline(m, "chainSpec_v1_properties", |p, b| {
        Args::new(p, &[])?;
        Ok(Value::Object(b.system_info().properties))
    })?;
    Ok(())
}
