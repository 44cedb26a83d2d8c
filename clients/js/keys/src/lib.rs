//! qstack's own key code for JavaScript: the same derivation, signing and
//! address rules as the node and the CLI (`qstack-core`), built for
//! `wasm32-unknown-unknown` and loaded by `@qstack/api` (`clients/js`).
//! JavaScript and Rust cannot disagree on a key, a signature or an address:
//! there is one implementation.
//!
//! The module's interface is one call with JSON in and out ([`call`]), so
//! the JavaScript side needs no generated bindings:
//!
//! | op | input | output |
//! |---|---|---|
//! | `pair` | `{scheme, suri}` | a key: `{handle, scheme, publicKey, accountId, address}` |
//! | `generate` | `{scheme, words}` | a key (as `pair`) and its new `phrase` |
//! | `sign` | `{handle, message}` | `{signature}` |
//! | `verify` | `{publicKey, message, signature}` | `{valid}` |
//! | `address` | `{accountId}` or `{publicKey}`, optional `ss58Prefix` | `{accountId, address, ss58?}` |
//! | `parseAddress` | `{address, ss58Prefix}` | `{accountId}` |
//! | `forget` | `{handle}` | `{}` |
//! | `blake2_256` | `{data}` | `{hash}` |
//!
//! Bytes travel as `0x` hex. `publicKey` and `signature` are SCALE
//! encodings of qstack's multi-scheme `PublicKey` and `Signature` (a
//! master-key signature goes into an extrinsic exactly so). Secret keys
//! never leave the module: a key is a handle into its table.
//!
//! Exports of the Wasm module: `memory`, `qstack_alloc(len) -> ptr`,
//! `qstack_free(ptr, len)`, `qstack_call(op_ptr, op_len, in_ptr, in_len) ->
//! status` (0: the result is JSON, 1: it is an error message) and
//! `qstack_result_ptr()` / `qstack_result_len()`. It imports
//! `qstack.random(ptr, len)`, which fills `len` bytes with the host's
//! cryptographic randomness (`crypto.getRandomValues`): new phrases, and the
//! fresh half of the hedged signing randomness.

use codec::{Decode, Encode};
use qstack_core::{Address, KeyScheme, Pair, PublicKey, Signature};
use serde_json::{json, Value};
use std::cell::RefCell;

/// The Wasm module (`QSTACK_SKIP_WASM_BUILD=1`: empty).
#[cfg(not(target_arch = "wasm32"))]
pub const WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/qstack_keys_wasm.wasm"));

thread_local! {
    /// Keys made by `pair` and `generate`, by handle (`None`: forgotten).
    static KEYS: RefCell<Vec<Option<Pair>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `op` on the JSON `input`; the JSON result, or an error message.
pub fn call(op: &str, input: &str) -> Result<String, String> {
    let input: Value =
        serde_json::from_str(input).map_err(|e| format!("input is not JSON: {e}"))?;
    let out = match op {
        "pair" => {
            let scheme = scheme(&input)?;
            let suri = string(&input, "suri")?;
            let pair = Pair::from_suri(scheme, suri).map_err(|e| e.to_string())?;
            keep(pair)
        }
        "generate" => {
            let scheme = scheme(&input)?;
            let words = input
                .get("words")
                .map_or(Some(12), Value::as_u64)
                .and_then(|w| usize::try_from(w).ok())
                .ok_or("words: expected a number")?;
            let (pair, phrase) =
                Pair::generate_with_phrase(scheme, words).map_err(|e| e.to_string())?;
            let mut out = keep(pair);
            out["phrase"] = json!(phrase);
            out
        }
        "sign" => {
            let handle = handle(&input)?;
            let message = bytes(&input, "message")?;
            let signature = KEYS.with(|k| {
                k.borrow()
                    .get(handle)
                    .and_then(Option::as_ref)
                    .map(|pair| pair.sign(&message))
                    .ok_or_else(|| format!("handle {handle}: no such key"))
            })?;
            json!({ "signature": hex0x(&signature.encode()) })
        }
        "verify" => {
            let public = public_key(&input)?;
            let message = bytes(&input, "message")?;
            let raw = bytes(&input, "signature")?;
            let signature = Signature::decode(&mut &raw[..])
                .map_err(|e| format!("signature: not a SCALE Signature: {e}"))?;
            json!({ "valid": qstack_core::pair::verify(&signature, &message, &public) })
        }
        "address" => {
            let account = match input.get("publicKey") {
                Some(_) => public_key(&input)?.account_id(),
                None => {
                    let raw = bytes(&input, "accountId")?;
                    let id: [u8; 32] = raw
                        .try_into()
                        .map_err(|_| "accountId: expected 32 bytes".to_string())?;
                    qstack_core::AccountId(id)
                }
            };
            let address = Address::from(account);
            let mut out = json!({
                "accountId": hex0x(&account.0),
                "address": address.to_base58(),
            });
            if let Some(prefix) = input.get("ss58Prefix") {
                let prefix = prefix
                    .as_u64()
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or("ss58Prefix: expected a number below 16384")?;
                out["ss58"] = json!(address.to_ss58(prefix));
            }
            out
        }
        "parseAddress" => {
            let text = string(&input, "address")?;
            let prefix = input
                .get("ss58Prefix")
                .and_then(Value::as_u64)
                .and_then(|p| u16::try_from(p).ok())
                .ok_or("ss58Prefix: expected a number below 16384")?;
            let address = Address::parse(text, prefix).map_err(|e| e.to_string())?;
            json!({ "accountId": hex0x(&address.account_id().0) })
        }
        "blake2_256" => {
            let data = bytes(&input, "data")?;
            json!({ "hash": hex0x(&qstack_core::hashing::blake2_256(&data)) })
        }
        "forget" => {
            let handle = handle(&input)?;
            KEYS.with(|k| {
                if let Some(slot) = k.borrow_mut().get_mut(handle) {
                    *slot = None;
                }
            });
            json!({})
        }
        _ => return Err(format!("unknown op {op:?}")),
    };
    Ok(out.to_string())
}

/// Stores `pair` and describes it.
fn keep(pair: Pair) -> Value {
    let public = pair.public();
    let scheme = pair.scheme().name();
    let account = pair.account_id();
    let handle = KEYS.with(|k| {
        let mut k = k.borrow_mut();
        k.push(Some(pair));
        k.len().saturating_sub(1)
    });
    json!({
        "handle": handle,
        "scheme": scheme,
        "publicKey": hex0x(&public.encode()),
        "accountId": hex0x(&account.0),
        "address": Address::from(account).to_base58(),
    })
}

fn string<'a>(input: &'a Value, field: &str) -> Result<&'a str, String> {
    input
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{field}: expected a string"))
}

fn scheme(input: &Value) -> Result<KeyScheme, String> {
    let name = string(input, "scheme")?;
    KeyScheme::from_name(name).ok_or_else(|| {
        format!("scheme: {name:?} is not one of sr25519, falcon512, mldsa44, hybrid")
    })
}

fn handle(input: &Value) -> Result<usize, String> {
    input
        .get("handle")
        .and_then(Value::as_u64)
        .and_then(|h| usize::try_from(h).ok())
        .ok_or_else(|| "handle: expected a key handle".to_string())
}

fn bytes(input: &Value, field: &str) -> Result<Vec<u8>, String> {
    let text = string(input, field)?;
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| format!("{field}: expected 0x-prefixed hex"))?;
    hex::decode(digits).map_err(|e| format!("{field}: bad hex: {e}"))
}

fn public_key(input: &Value) -> Result<PublicKey, String> {
    let raw = bytes(input, "publicKey")?;
    let mut at = &raw[..];
    let key =
        PublicKey::decode(&mut at).map_err(|e| format!("publicKey: not a SCALE PublicKey: {e}"))?;
    if !at.is_empty() {
        return Err("publicKey: trailing bytes".into());
    }
    Ok(key)
}

fn hex0x(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

/// The module's C interface (see the crate doc).
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod ffi {
    use std::cell::RefCell;

    thread_local! {
        static RESULT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }

    #[link(wasm_import_module = "qstack")]
    extern "C" {
        fn random(ptr: *mut u8, len: usize);
    }

    fn host_random(buf: &mut [u8]) -> Result<(), getrandom::Error> {
        // SAFETY: the host writes exactly `buf.len()` bytes at `buf`.
        unsafe { random(buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }
    getrandom::register_custom_getrandom!(host_random);

    /// Memory for the host to write an input into.
    #[no_mangle]
    pub extern "C" fn qstack_alloc(len: usize) -> *mut u8 {
        let mut v = Vec::<u8>::with_capacity(len);
        let ptr = v.as_mut_ptr();
        std::mem::forget(v);
        ptr
    }

    /// Frees what [`qstack_alloc`] gave.
    ///
    /// # Safety
    /// `ptr` and `len` come from one `qstack_alloc` call.
    #[no_mangle]
    pub unsafe extern "C" fn qstack_free(ptr: *mut u8, len: usize) {
        drop(Vec::from_raw_parts(ptr, 0, len));
    }

    fn text<'a>(ptr: *const u8, len: usize) -> Result<&'a str, String> {
        // SAFETY: the host passes memory it wrote through `qstack_alloc`.
        let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
        std::str::from_utf8(bytes).map_err(|_| "input is not UTF-8".to_string())
    }

    /// Runs an op; 0 and the JSON result, or 1 and an error message, in the
    /// result buffer.
    #[no_mangle]
    pub extern "C" fn qstack_call(
        op_ptr: *const u8,
        op_len: usize,
        in_ptr: *const u8,
        in_len: usize,
    ) -> u32 {
        let outcome = text(op_ptr, op_len)
            .and_then(|op| text(in_ptr, in_len).and_then(|input| super::call(op, input)));
        let (status, bytes) = match outcome {
            Ok(json) => (0, json.into_bytes()),
            Err(message) => (1, message.into_bytes()),
        };
        RESULT.with(|r| *r.borrow_mut() = bytes);
        status
    }

    /// Where the last result starts.
    #[no_mangle]
    pub extern "C" fn qstack_result_ptr() -> *const u8 {
        RESULT.with(|r| r.borrow().as_ptr())
    }

    /// The last result's length.
    #[no_mangle]
    pub extern "C" fn qstack_result_len() -> usize {
        RESULT.with(|r| r.borrow().len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(op: &str, input: Value) -> Value {
        serde_json::from_str(&call(op, &input.to_string()).unwrap()).unwrap()
    }

    #[test]
    fn keys_signatures_and_addresses_are_the_nodes() {
        for scheme in KeyScheme::ALL {
            let key = ok("pair", json!({"scheme": scheme.name(), "suri": "//Alice"}));
            let pair = Pair::from_suri(scheme, "//Alice").unwrap();
            assert_eq!(key["publicKey"], hex0x(&pair.public().encode()));
            assert_eq!(key["address"], Address::from(pair.account_id()).to_base58());
            let message = "0x0102";
            let sig = ok("sign", json!({"handle": key["handle"], "message": message}));
            let raw = hex::decode(&sig["signature"].as_str().unwrap()[2..]).unwrap();
            let sig_rust = Signature::decode(&mut &raw[..]).unwrap();
            assert!(qstack_core::pair::verify(
                &sig_rust,
                &[1, 2],
                &pair.public()
            ));
            // The reverse: a signature made by the node's code verifies here.
            let theirs = hex0x(&pair.sign(&[1, 2]).encode());
            let v = ok(
                "verify",
                json!({"publicKey": key["publicKey"], "message": message, "signature": theirs}),
            );
            assert_eq!(v["valid"], true);
            let v = ok(
                "verify",
                json!({"publicKey": key["publicKey"], "message": "0x0103", "signature": theirs}),
            );
            assert_eq!(v["valid"], false, "{scheme:?}: another message");
        }
    }

    #[test]
    fn bad_input_gets_its_own_error() {
        let err = |op: &str, input: Value| call(op, &input.to_string()).unwrap_err();
        assert!(err("pair", json!({"scheme": "rsa", "suri": "//A"})).contains("scheme"));
        assert!(err("sign", json!({"handle": 99, "message": "0x"})).contains("no such key"));
        assert!(err("nope", json!({})).contains("unknown op"));
        let alice = ok("pair", json!({"scheme": "sr25519", "suri": "//Alice"}));
        let q = alice["address"].as_str().unwrap().to_string();
        // A q… address with one character changed fails its checksum.
        let mut bad = q.clone().into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'2' { b'3' } else { b'2' };
        let bad = String::from_utf8(bad).unwrap();
        let e = err("parseAddress", json!({"address": bad, "ss58Prefix": 59}));
        assert!(e.to_lowercase().contains("checksum"), "{e}");
        let id = alice["accountId"].clone();
        let ss58_42 = ok("address", json!({"accountId": id, "ss58Prefix": 42}))["ss58"].clone();
        let e = err(
            "parseAddress",
            json!({"address": ss58_42, "ss58Prefix": 59}),
        );
        assert!(
            e.contains("42") && e.contains("59"),
            "another chain's prefix: {e}"
        );
        let ss58_59 = ok("address", json!({"accountId": id, "ss58Prefix": 59}))["ss58"].clone();
        for a in [json!(q), ss58_59] {
            let parsed = ok("parseAddress", json!({"address": a, "ss58Prefix": 59}));
            assert_eq!(parsed["accountId"], id);
        }
        assert!(
            err(
                "parseAddress",
                json!({"address": "q0OIl", "ss58Prefix": 59})
            )
            .len()
                > 5
        );
    }

    #[test]
    fn forgotten_keys_cannot_sign() {
        let key = ok("pair", json!({"scheme": "mldsa44", "suri": "//Bob"}));
        ok("forget", json!({"handle": key["handle"]}));
        let e = call(
            "sign",
            &json!({"handle": key["handle"], "message": "0x"}).to_string(),
        );
        assert!(e.unwrap_err().contains("no such key"));
    }
}
