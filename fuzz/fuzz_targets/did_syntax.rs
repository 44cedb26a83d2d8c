//! Untrusted DID strings (RPC parameters, CLI arguments, credential files):
//! parsing must never panic, whatever parses has the shape the ABNF and the
//! method allow (checked here without the parser's code), and it prints
//! back canonically and re-parses to the same DID.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qstack_runtime::did::{format_did, parse_did};

const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Whether `s` has the shape the ABNF and the method allow: `did:qs:` and
/// then only base58 characters or `%XX` escapes of them (the full oracle,
/// with an independent base58 decoder, is the `syntax` property test).
fn plausible(s: &str) -> bool {
    let Some(id) = s.strip_prefix("did:qs:") else {
        return false;
    };
    let id = id.as_bytes();
    let mut i = 0;
    while i < id.len() {
        let c = if id[i] == b'%' {
            let Some(h) = id.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()) else {
                return false;
            };
            let Ok(c) = u8::from_str_radix(h, 16) else {
                return false;
            };
            i += 3;
            c
        } else {
            i += 1;
            id[i - 1]
        };
        if !ALPHABET.contains(&c) {
            return false;
        }
    }
    !id.is_empty()
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(did) = parse_did(s) {
        assert!(plausible(s), "accepted a malformed DID {s:?}");
        let bytes = did.0;
        let canonical = format_did(&qstack_runtime::did::Did(bytes));
        assert_eq!(parse_did(&canonical).map(|d| d.0), Ok(bytes));
    }
});
