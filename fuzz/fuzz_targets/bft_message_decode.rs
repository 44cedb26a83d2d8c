//! Untrusted BFT consensus messages (gossip from any peer): decoding must
//! never panic, and whatever decodes must re-encode to exactly the same bytes,
//! so a signature always covers one meaning.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parity_scale_codec::Encode;
use qstack_consensus::bft::Message;

fuzz_target!(|data: &[u8]| {
    if let Some(m) = Message::decode_strict(data) {
        assert_eq!(m.encode(), data, "non-canonical BFT message encoding accepted");
    }
});
