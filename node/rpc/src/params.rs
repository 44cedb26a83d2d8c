//! Reading and checking method parameters. Every parameter comes from an
//! untrusted client: each reader returns a `-32602` error naming the parameter
//! and what was wrong, never panics.

use crate::error::invalid_params;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use qstack_core::{AccountId, Address, BlockNumber, H256};
use serde_json::Value;

/// A method's parameters, by position; named (object) parameters are mapped
/// to positions by `names`, as jsonrpsee's macros do.
pub(crate) struct Args {
    names: &'static [&'static str],
    values: Vec<Value>,
}

type Res<T> = Result<T, ErrorObjectOwned>;

impl Args {
    /// Reads `params` for a method whose parameters are `names`, in order.
    pub(crate) fn new(params: &Params, names: &'static [&'static str]) -> Res<Self> {
        let raw: Value = params
            .parse()
            .map_err(|_| invalid_params("params must be a JSON array or object"))?;
        let values = match raw {
            Value::Null => Vec::new(),
            Value::Array(items) => {
                let extra = items.iter().skip(names.len()).any(|v| !v.is_null());
                if extra {
                    return Err(invalid_params(format!(
                        "too many params: expected at most {} ({}), got {}",
                        names.len(),
                        list(names),
                        items.len()
                    )));
                }
                items
            }
            Value::Object(map) => {
                if let Some(unknown) = map.keys().find(|k| !names.contains(&k.as_str())) {
                    return Err(invalid_params(format!(
                        "unknown param `{unknown}`: expected {}",
                        list(names)
                    )));
                }
                names
                    .iter()
                    .map(|n| map.get(*n).cloned().unwrap_or(Value::Null))
                    .collect()
            }
            other => {
                return Err(invalid_params(format!(
                    "params must be a JSON array or object, got {}",
                    kind(&other)
                )))
            }
        };
        Ok(Args { names, values })
    }

    /// Parameter `i`, `None` if absent or null.
    pub(crate) fn get(&self, i: usize) -> Option<&Value> {
        self.values.get(i).filter(|v| !v.is_null())
    }

    fn name(&self, i: usize) -> &'static str {
        self.names.get(i).copied().unwrap_or("?")
    }

    /// An error about parameter `i`.
    pub(crate) fn bad(&self, i: usize, what: impl std::fmt::Display) -> ErrorObjectOwned {
        invalid_params(format!("invalid `{}` (param {i}): {what}", self.name(i)))
    }

    fn required(&self, i: usize) -> Res<&Value> {
        self.get(i)
            .ok_or_else(|| invalid_params(format!("missing `{}` (param {i})", self.name(i))))
    }

    fn str_at<'a>(&self, i: usize, v: &'a Value, expected: &str) -> Res<&'a str> {
        v.as_str()
            .ok_or_else(|| self.bad(i, format!("expected {expected}, got {}", kind(v))))
    }

    /// Optional 32-byte block hash.
    pub(crate) fn opt_hash(&self, i: usize) -> Res<Option<H256>> {
        self.get(i).map(|v| self.hash_value(i, v)).transpose()
    }

    fn hash_value(&self, i: usize, v: &Value) -> Res<H256> {
        let s = self.str_at(i, v, "a 0x-prefixed 32-byte hex string")?;
        parse_hash(s).map_err(|e| self.bad(i, e))
    }

    /// Required hex bytes.
    pub(crate) fn bytes(&self, i: usize) -> Res<Vec<u8>> {
        let v = self.required(i)?;
        self.bytes_value(i, v)
    }

    /// Optional hex bytes.
    pub(crate) fn opt_bytes(&self, i: usize) -> Res<Option<Vec<u8>>> {
        self.get(i).map(|v| self.bytes_value(i, v)).transpose()
    }

    fn bytes_value(&self, i: usize, v: &Value) -> Res<Vec<u8>> {
        let s = self.str_at(i, v, "a 0x-prefixed hex string")?;
        parse_hex(s).map_err(|e| self.bad(i, e))
    }

    /// Required list of hex byte strings, at most `max` long.
    pub(crate) fn bytes_list(&self, i: usize, max: usize) -> Res<Vec<Vec<u8>>> {
        let v = self.required(i)?;
        let items = v.as_array().ok_or_else(|| {
            self.bad(
                i,
                format!("expected an array of hex strings, got {}", kind(v)),
            )
        })?;
        if items.len() > max {
            return Err(self.bad(
                i,
                format!("at most {max} entries allowed, got {}", items.len()),
            ));
        }
        items
            .iter()
            .enumerate()
            .map(|(n, item)| {
                let s = item.as_str().ok_or_else(|| {
                    self.bad(
                        i,
                        format!("entry {n}: expected a hex string, got {}", kind(item)),
                    )
                })?;
                parse_hex(s).map_err(|e| self.bad(i, format!("entry {n}: {e}")))
            })
            .collect()
    }

    /// Required string.
    pub(crate) fn string(&self, i: usize) -> Res<String> {
        let v = self.required(i)?;
        Ok(self.str_at(i, v, "a string")?.to_owned())
    }

    /// Required unsigned 32-bit integer (a JSON number).
    pub(crate) fn u32(&self, i: usize) -> Res<u32> {
        let v = self.required(i)?;
        v.as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                self.bad(
                    i,
                    format!("expected an integer from 0 to {}, got {v}", u32::MAX),
                )
            })
    }

    /// Required unsigned 64-bit integer (a JSON number).
    pub(crate) fn u64(&self, i: usize) -> Res<u64> {
        let v = self.required(i)?;
        v.as_u64().ok_or_else(|| {
            self.bad(
                i,
                format!("expected an integer from 0 to {}, got {v}", u64::MAX),
            )
        })
    }

    /// Required account: a `q…` address, the chain's SS58 form or a 0x-hex
    /// 32-byte account id.
    pub(crate) fn account(&self, i: usize) -> Res<AccountId> {
        let v = self.required(i)?;
        let s = self.str_at(
            i,
            v,
            "a q… or SS58 address, or a 0x-prefixed 32-byte hex account id",
        )?;
        parse_account(s).map_err(|e| self.bad(i, e))
    }
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The JSON type of `v`, for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Decodes hex with an optional `0x` prefix (Substrate accepts both), either case.
pub(crate) fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    hex::decode(digits).map_err(|e| match e {
        hex::FromHexError::OddLength => "odd number of hex digits".to_owned(),
        hex::FromHexError::InvalidHexCharacter { c, index } => {
            format!("invalid hex character {c:?} at position {index}")
        }
        other => other.to_string(),
    })
}

/// Decodes a 32-byte hash.
pub(crate) fn parse_hash(s: &str) -> Result<H256, String> {
    let bytes = parse_hex(s)?;
    let arr: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| format!("expected 32 bytes, got {}", bytes.len()))?;
    Ok(H256(arr))
}

/// Parses a `q…` address, an SS58 address with the chain's prefix
/// ([`qstack_core::ss58_prefix`]) or a 0x-hex 32-byte account id.
pub(crate) fn parse_account(s: &str) -> Result<AccountId, String> {
    if s.starts_with("0x") || s.starts_with("0X") {
        let bytes = parse_hex(s)?;
        let arr: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| format!("an account id is 32 bytes, got {}", bytes.len()))?;
        Ok(AccountId(arr))
    } else {
        s.parse::<Address>()
            .map(|a| a.account_id())
            .map_err(|e| e.to_string())
    }
}

/// Parses a block number given as a JSON number or a 0x-hex string
/// (Substrate's `NumberOrHex`), checking it fits a block number.
pub(crate) fn parse_block_number(v: &Value) -> Result<BlockNumber, String> {
    match v {
        Value::Number(n) => {
            let n = n
                .as_u64()
                .ok_or_else(|| format!("block number must be a non-negative integer, got {n}"))?;
            BlockNumber::try_from(n)
                .map_err(|_| format!("block number {n} is above the maximum {}", BlockNumber::MAX))
        }
        Value::String(s) => {
            let digits = s
                .strip_prefix("0x")
                .ok_or_else(|| format!("block number string must be 0x-prefixed hex, got {s:?}"))?;
            // `from_str_radix` alone would also take a sign.
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("invalid hex block number {s:?}"));
            }
            let significant = digits.trim_start_matches('0');
            if significant.len() > 8 {
                return Err(format!(
                    "block number {s} is above the maximum {}",
                    BlockNumber::MAX
                ));
            }
            if significant.is_empty() {
                return Ok(0);
            }
            BlockNumber::from_str_radix(significant, 16)
                .map_err(|_| format!("invalid hex block number {s:?}"))
        }
        other => Err(format!(
            "block number must be a number or 0x-hex string, got {}",
            kind(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn hex_accepts_prefix_and_case_rejects_junk() {
        assert_eq!(parse_hex("0x0aFf"), Ok(vec![0x0a, 0xff]));
        assert_eq!(parse_hex("0aff"), Ok(vec![0x0a, 0xff]));
        assert_eq!(parse_hex("0x"), Ok(vec![]));
        assert_eq!(
            parse_hex("0xabc"),
            Err("odd number of hex digits".to_owned())
        );
        assert!(parse_hex("0xzz").unwrap_err().contains("'z'"));
        assert!(parse_hash("0x00").unwrap_err().contains("32 bytes"));
    }

    #[test]
    fn block_numbers() {
        assert_eq!(parse_block_number(&json!(7)), Ok(7));
        assert_eq!(parse_block_number(&json!("0x1a")), Ok(26));
        assert_eq!(parse_block_number(&json!("0x0")), Ok(0));
        assert_eq!(parse_block_number(&json!("0x00000000000000ff")), Ok(255));
        assert_eq!(parse_block_number(&json!("0xffffffff")), Ok(u32::MAX));
        assert!(parse_block_number(&json!("0x100000000"))
            .unwrap_err()
            .contains("maximum"));
        assert!(parse_block_number(&json!(4294967296u64))
            .unwrap_err()
            .contains("maximum"));
        assert!(parse_block_number(&json!(-1)).is_err());
        assert!(parse_block_number(&json!(1.5)).is_err());
        assert!(parse_block_number(&json!("12")).is_err());
        assert!(parse_block_number(&json!("0x")).is_err());
        assert!(parse_block_number(&json!("0xg")).is_err());
        assert!(parse_block_number(&json!("0x+1")).is_err());
        assert!(parse_block_number(&json!(true)).is_err());
    }

    #[test]
    fn accounts_by_address_or_hex() {
        let id = AccountId([9; 32]);
        let addr = Address::from(id).to_base58();
        assert_eq!(parse_account(&addr), Ok(id));
        assert_eq!(parse_account(&format!("0x{}", "09".repeat(32))), Ok(id));
        assert!(parse_account("0x0909").unwrap_err().contains("32 bytes"));
        assert!(parse_account("qqqq").is_err());
        // The chain's SS58 form (this process keeps qstack's default
        // prefix), and another chain's refused with its own error.
        let ss58 = Address::from(id).to_ss58(qstack_core::DEFAULT_SS58_PREFIX);
        assert_eq!(parse_account(&ss58), Ok(id));
        let polkadot = Address::from(id).to_ss58(0);
        assert!(parse_account(&polkadot)
            .unwrap_err()
            .contains("another chain: prefix 0, this chain's is 59"));
    }

    proptest! {
        // Untrusted strings never panic the parsers; valid hex round-trips.
        #[test]
        fn parsers_total(s in ".{0,80}") {
            let _ = parse_hex(&s);
            let _ = parse_hash(&s);
            let _ = parse_account(&s);
            let _ = parse_block_number(&Value::String(s.clone()));
        }

        #[test]
        fn hex_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(parse_hex(&format!("0x{}", hex::encode(&bytes))), Ok(bytes));
        }

        #[test]
        fn hex_numbers_round_trip(n in any::<u32>()) {
            prop_assert_eq!(parse_block_number(&Value::String(format!("0x{n:x}"))), Ok(n));
            prop_assert_eq!(parse_block_number(&json!(n)), Ok(n));
        }
    }
}
