//! Block timestamps: the wall clock, never earlier than the parent's time
//! plus the runtime's minimum period.

use qstack_client::Client;
use qstack_core::H256;
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The timestamp for a block on `parent`: wall clock, but never earlier than
/// the parent's time plus the runtime's minimum period.
pub(crate) fn block_time(client: &Client, parent: &H256) -> u64 {
    now_ms().max(
        parent_time(client, parent).saturating_add(qstack_runtime::timestamp::MINIMUM_PERIOD_MS),
    )
}

/// The timestamp of block `parent` (`Timestamp.Now` in its state; 0 for genesis).
pub(crate) fn parent_time(client: &Client, parent: &H256) -> u64 {
    let key = qstack_runtime_primitives::storage::item_prefix("Timestamp", "Now");
    client
        .storage(parent, &key)
        .ok()
        .flatten()
        .and_then(|v| <u64 as codec::Decode>::decode(&mut &v[..]).ok())
        .unwrap_or(0)
}
