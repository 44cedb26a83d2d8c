//! The JSON shapes of Substrate's RPC types, which polkadot.js and subxt parse.

use crate::backend::{BlockData, Justification, PeerInfo, SyncState};
use codec::Encode;
use qstack_core::H256;
use qstack_runtime_primitives::Header;
use serde_json::{json, Value};

/// `0x`-prefixed lowercase hex (`"0x"` for no bytes).
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * bytes.len());
    s.push_str("0x");
    s.push_str(&hex::encode(bytes));
    s
}

/// A hash as a JSON string.
pub(crate) fn hash(h: &H256) -> Value {
    Value::String(hex(h.as_bytes()))
}

/// Substrate's header: camelCase fields, the number as minimal hex
/// (`"0x0"`, `"0x1a"`), each digest item as the hex of its SCALE encoding.
pub(crate) fn header(h: &Header) -> Value {
    let logs: Vec<Value> = h
        .digest
        .logs
        .iter()
        .map(|item| Value::String(hex(&item.encode())))
        .collect();
    json!({
        "parentHash": hash(&h.parent_hash),
        "number": format!("0x{:x}", h.number),
        "stateRoot": hash(&h.state_root),
        "extrinsicsRoot": hash(&h.extrinsics_root),
        "digest": { "logs": logs },
    })
}

/// Substrate's `SignedBlock`. Each extrinsic is the hex of its full encoding
/// (length prefix included). Justifications use serde's default shape for
/// `([u8; 4], Vec<u8>)`, arrays of numbers, because that is what Substrate
/// sends and what subxt's `BlockJustification` deserialises.
pub(crate) fn block(b: &BlockData) -> Value {
    let extrinsics: Vec<Value> = b
        .extrinsics
        .iter()
        .map(|x| Value::String(hex(&x.0)))
        .collect();
    let justifications = if b.justifications.is_empty() {
        Value::Null
    } else {
        Value::Array(b.justifications.iter().map(justification).collect())
    };
    json!({
        "block": { "header": header(&b.header), "extrinsics": extrinsics },
        "justifications": justifications,
    })
}

fn justification(j: &Justification) -> Value {
    json!([j.engine_id, j.encoded])
}

/// Substrate's `PeerInfo` (`system_peers`): camelCase, the best number as a
/// JSON number.
pub(crate) fn peer(p: &PeerInfo) -> Value {
    json!({
        "peerId": p.peer_id,
        "roles": p.roles,
        "bestHash": hash(&p.best_hash),
        "bestNumber": p.best_number,
    })
}

/// Substrate's `SyncState` (`system_syncState`): camelCase JSON numbers.
pub(crate) fn sync_state(s: &SyncState) -> Value {
    json!({
        "startingBlock": s.starting_block,
        "currentBlock": s.current_block,
        "highestBlock": s.highest_block,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use qstack_runtime_primitives::{Digest, DigestItem, OpaqueExtrinsic};

    #[test]
    fn header_shape() {
        let mut digest = Digest::default();
        digest.push(DigestItem::PreRuntime(*b"BFT0", vec![1, 2]));
        let h = Header {
            parent_hash: H256([1; 32]),
            number: 26,
            state_root: H256([2; 32]),
            extrinsics_root: H256([3; 32]),
            digest,
        };
        assert_eq!(
            header(&h),
            json!({
                "parentHash": format!("0x{}", "01".repeat(32)),
                "number": "0x1a",
                "stateRoot": format!("0x{}", "02".repeat(32)),
                "extrinsicsRoot": format!("0x{}", "03".repeat(32)),
                // PreRuntime = 6, engine id, compact length 2, bytes.
                "digest": { "logs": ["0x0642465430080102"] },
            })
        );
        let genesis = Header { number: 0, ..h };
        assert_eq!(header(&genesis)["number"], json!("0x0"));
    }

    #[test]
    fn peer_and_sync_state_shapes() {
        let p = PeerInfo {
            peer_id: "12D3KooWPeer".into(),
            roles: "FULL".into(),
            best_hash: H256([0xcd; 32]),
            best_number: 4_000_000_000,
        };
        assert_eq!(
            peer(&p),
            json!({
                "peerId": "12D3KooWPeer",
                "roles": "FULL",
                "bestHash": format!("0x{}", "cd".repeat(32)),
                "bestNumber": 4_000_000_000u32,
            })
        );
        let s = SyncState {
            starting_block: 1,
            current_block: 2,
            highest_block: 3,
        };
        assert_eq!(
            sync_state(&s),
            json!({"startingBlock": 1, "currentBlock": 2, "highestBlock": 3})
        );
    }

    #[test]
    fn block_shape() {
        let h = Header::genesis(H256([5; 32]));
        let mut b = BlockData {
            header: h.clone(),
            extrinsics: vec![OpaqueExtrinsic(vec![8, 4, 0])],
            justifications: vec![],
        };
        let v = block(&b);
        assert_eq!(v["block"]["extrinsics"], json!(["0x080400"]));
        assert_eq!(v["justifications"], Value::Null);
        b.justifications.push(Justification {
            engine_id: *b"BFT0",
            encoded: vec![9, 9],
        });
        assert_eq!(
            block(&b)["justifications"],
            json!([[[66, 70, 84, 48], [9, 9]]])
        );
    }
}
