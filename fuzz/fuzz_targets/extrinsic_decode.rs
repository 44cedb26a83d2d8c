//! Untrusted extrinsic bytes (RPC, gossip, blocks): decoding must never panic,
//! and whatever decodes must re-encode to exactly the same bytes (SCALE is
//! canonical), so two nodes can never disagree about what bytes mean.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parity_scale_codec::Encode;
use qstack_runtime::{Extrinsic, RuntimeCall};

fuzz_target!(|data: &[u8]| {
    if let Ok(xt) = Extrinsic::decode_strict(data, RuntimeCall::is_known) {
        assert_eq!(xt.encode(), data, "non-canonical extrinsic encoding accepted");
    }
});
