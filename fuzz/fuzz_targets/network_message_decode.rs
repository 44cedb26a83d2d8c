//! Untrusted network bytes (sync requests and responses, block
//! announcements, gossiped transaction batches): each decoder, with its wire cap, must never panic, and
//! whatever decodes must re-encode to exactly the input (SCALE is canonical:
//! compact numbers, option tags and length prefixes have one encoding each),
//! so two nodes never disagree about what bytes mean.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parity_scale_codec::Encode;
use qstack_network::protocol::{
    decode_capped, BlockAnnounce, Request, Response, TransactionBatch, MAX_BATCH_TRANSACTIONS,
    MAX_GOSSIP_BYTES, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = decode_capped::<Request>(data, MAX_REQUEST_BYTES) {
        assert_eq!(m.encode(), data, "non-canonical request accepted: {m:?}");
    }
    if let Ok(m) = decode_capped::<Response>(data, MAX_RESPONSE_BYTES) {
        assert_eq!(m.encode(), data, "non-canonical response accepted: {m:?}");
    }
    if let Ok(m) = decode_capped::<BlockAnnounce>(data, MAX_GOSSIP_BYTES) {
        assert_eq!(
            m.encode(),
            data,
            "non-canonical announcement accepted: {m:?}"
        );
    }
    if let Ok(b) = TransactionBatch::decode_strict(data) {
        assert!(!b.0.is_empty() && b.0.len() <= MAX_BATCH_TRANSACTIONS);
        assert_eq!(b.encode(), data, "non-canonical batch accepted");
    }
});
