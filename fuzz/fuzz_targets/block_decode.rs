//! Untrusted block bytes (sync, import): decoding never panics and is canonical.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parity_scale_codec::{Decode, Encode};
use qstack_runtime::Block;

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    if let Ok(block) = Block::decode(&mut input) {
        let consumed = data.len() - input.len();
        assert_eq!(block.encode(), &data[..consumed], "non-canonical block encoding accepted");
    }
});
