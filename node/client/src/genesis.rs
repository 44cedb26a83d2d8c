//! Genesis: either the runtime builds it from a JSON patch (`runtimeGenesis`)
//! or the spec gives raw storage (`raw.top`), as in Substrate chain specs.

use crate::{ClientError, CODE_KEY};
use codec::{Decode, Encode};
use qstack_core::H256;
use qstack_executor::Executor;
use qstack_io::{OverlayExt, OverlayedChanges};
use qstack_runtime_primitives::Header;
use qstack_trie::{MemoryDB, TrieBackend};
use std::collections::BTreeMap;

/// Where genesis state comes from.
#[derive(Clone, Debug)]
pub enum GenesisSource {
    /// The runtime code and the JSON given to `GenesisBuilder_build_state`.
    Runtime {
        /// Wasm code.
        code: Vec<u8>,
        /// Genesis config patch (JSON).
        patch: serde_json::Value,
    },
    /// Exact storage.
    Raw(BTreeMap<Vec<u8>, Vec<u8>>),
}

/// The genesis storage of `source`.
pub fn genesis_storage(
    executor: &Executor,
    source: &GenesisSource,
) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, ClientError> {
    match source {
        GenesisSource::Raw(top) => {
            if !top.contains_key(CODE_KEY) {
                return Err(ClientError::Genesis("raw genesis has no :code".into()));
            }
            Ok(top.clone())
        }
        GenesisSource::Runtime { code, patch } => {
            let empty = TrieBackend::new(MemoryDB::default(), qstack_trie::empty_root());
            let mut overlay = OverlayedChanges::default();
            overlay.set(CODE_KEY, Some(code.clone()));
            let json =
                serde_json::to_vec(patch).map_err(|e| ClientError::Genesis(e.to_string()))?;
            let mut ext = OverlayExt::new(&mut overlay, &empty);
            let out =
                executor.call(code, &mut ext, "GenesisBuilder_build_state", &json.encode())?;
            match <Result<(), String>>::decode(&mut &out[..]) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(ClientError::Genesis(e)),
                Err(e) => {
                    return Err(ClientError::Genesis(format!(
                        "bad reply from GenesisBuilder_build_state: {e}"
                    )))
                }
            }
            Ok(overlay
                .changes()
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect())
        }
    }
}

/// The genesis header and the trie nodes of the genesis state.
pub fn build_genesis(
    executor: &Executor,
    source: &GenesisSource,
) -> Result<(Header, MemoryDB), ClientError> {
    let storage = genesis_storage(executor, source)?;
    let empty = TrieBackend::new(MemoryDB::default(), qstack_trie::empty_root());
    let (root, delta) = empty.apply_changes(
        storage
            .iter()
            .map(|(k, v)| (k.as_slice(), Some(v.as_slice()))),
    )?;
    Ok((Header::genesis(H256(root)), delta))
}
