//! Encoding any call from the chain's own metadata, so a client needs no
//! code per pallet: the pallet and call are looked up by name, and JSON
//! arguments are encoded by walking the metadata's type registry.
//!
//! JSON forms, by type:
//! - struct: an object by field name (a missing `Option` field is `None`),
//!   or for unnamed fields an array; a one-field wrapper takes its field's form;
//! - enum: `"Variant"` for a variant without fields, `{"Variant": fields}`
//!   otherwise; `Option`: `null` or the value;
//! - integers: a JSON number or a decimal string (use strings above 2^53);
//! - `bool`, `str`: as JSON;
//! - byte arrays and `Vec<u8>`: `0x`-hex, a `q…` address (32 bytes), or text
//!   of exactly the array's length (`"USD"` for `[u8; 3]`);
//! - other sequences, arrays and tuples: JSON arrays.
//!
//! Names match ignoring case and `_`, so `transfer_token` finds the
//! variant `TransferToken`.

use crate::{Error, Result};
use codec::{Compact, Encode};
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
use qstack_core::Address;
use scale_info::form::PortableForm;
use scale_info::{Field, PortableRegistry, TypeDef, TypeDefPrimitive, Variant};
use serde_json::Value;

fn bad(m: String) -> Error {
    Error::Call(m)
}

/// `transfer_token` and `TransferToken` are the same name.
fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| *c != '_')
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    norm(a) == norm(b)
}

/// The SCALE encoding of `pallet.call(args)` as the chain of `metadata`
/// (SCALE `RuntimeMetadataPrefixed`, V14 or V15) defines it: pallet index,
/// call index, then the arguments (`args`: an object by argument name).
pub fn encode_call(metadata: &[u8], pallet: &str, call: &str, args: &Value) -> Result<Vec<u8>> {
    let RuntimeMetadataPrefixed(_, meta) =
        codec::Decode::decode(&mut &metadata[..]).map_err(|e| {
            bad(format!(
                "the chain's metadata does not decode ({e}); is this a qstack node?"
            ))
        })?;
    let (types, pallets) = match meta {
        RuntimeMetadata::V14(m) => (
            m.types,
            m.pallets
                .into_iter()
                .map(|p| (p.name, p.index, p.calls.map(|c| c.ty.id)))
                .collect::<Vec<_>>(),
        ),
        RuntimeMetadata::V15(m) => (
            m.types,
            m.pallets
                .into_iter()
                .map(|p| (p.name, p.index, p.calls.map(|c| c.ty.id)))
                .collect(),
        ),
        _ => return Err(bad("the chain's metadata is neither V14 nor V15".into())),
    };
    let Some((name, index, calls)) = pallets.iter().find(|(n, _, _)| same_name(n, pallet)) else {
        let names: Vec<&str> = pallets.iter().map(|(n, _, _)| n.as_str()).collect();
        return Err(bad(format!(
            "the chain has no pallet {pallet:?} (its pallets: {})",
            names.join(", ")
        )));
    };
    let variants = calls
        .and_then(|ty| types.resolve(ty))
        .and_then(|t| match &t.type_def {
            TypeDef::Variant(v) => Some(&v.variants),
            _ => None,
        })
        .ok_or_else(|| bad(format!("pallet {name} has no calls")))?;
    let Some(variant) = variants.iter().find(|v| same_name(&v.name, call)) else {
        let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
        return Err(bad(format!(
            "pallet {name} has no call {call:?} (its calls: {})",
            names.join(", ")
        )));
    };
    let mut out = vec![*index, variant.index];
    let enc = Encoder { types: &types };
    let empty = Value::Object(Default::default());
    let args = if args.is_null() { &empty } else { args };
    enc.fields(
        &variant.fields,
        args,
        &format!("{name}.{}", variant.name),
        &mut out,
    )?;
    Ok(out)
}

struct Encoder<'a> {
    types: &'a PortableRegistry,
}

impl Encoder<'_> {
    fn encode(&self, ty: u32, v: &Value, path: &str, out: &mut Vec<u8>) -> Result<()> {
        let t = self
            .types
            .resolve(ty)
            .ok_or_else(|| bad(format!("{path}: type {ty} is not in the metadata")))?;
        match &t.type_def {
            TypeDef::Composite(c) => self.fields(&c.fields, v, path, out),
            TypeDef::Variant(var) => {
                let is_option = t.path.segments.last().is_some_and(|s| s == "Option")
                    && var.variants.iter().any(|x| x.name == "None");
                if is_option {
                    let (none, some) = (
                        var.variants.iter().find(|x| x.name == "None"),
                        var.variants.iter().find(|x| x.name == "Some"),
                    );
                    return match (v, none, some) {
                        (Value::Null, Some(n), _) => {
                            out.push(n.index);
                            Ok(())
                        }
                        (v, _, Some(s)) => {
                            out.push(s.index);
                            self.fields(&s.fields, v, path, out)
                        }
                        _ => Err(bad(format!("{path}: an Option without Some"))),
                    };
                }
                self.variant(&var.variants, v, path, out)
            }
            TypeDef::Sequence(s) => {
                let elem = s.type_param.id;
                if self.is_u8(elem) {
                    if let Value::String(text) = v {
                        let bytes = self.bytes(text, None, path)?;
                        Compact(bytes.len() as u32).encode_to(out);
                        out.extend_from_slice(&bytes);
                        return Ok(());
                    }
                }
                let items = v
                    .as_array()
                    .ok_or_else(|| bad(format!("{path}: expected a list, got {v}")))?;
                Compact(items.len() as u32).encode_to(out);
                for (i, item) in items.iter().enumerate() {
                    self.encode(elem, item, &format!("{path}[{i}]"), out)?;
                }
                Ok(())
            }
            TypeDef::Array(a) => {
                let (elem, len) = (a.type_param.id, a.len as usize);
                if self.is_u8(elem) {
                    if let Value::String(text) = v {
                        out.extend_from_slice(&self.bytes(text, Some(len), path)?);
                        return Ok(());
                    }
                }
                let items = v
                    .as_array()
                    .filter(|items| items.len() == len)
                    .ok_or_else(|| bad(format!("{path}: expected a list of {len}, got {v}")))?;
                for (i, item) in items.iter().enumerate() {
                    self.encode(elem, item, &format!("{path}[{i}]"), out)?;
                }
                Ok(())
            }
            TypeDef::Tuple(tuple) => {
                let ids: Vec<u32> = tuple.fields.iter().map(|f| f.id).collect();
                if ids.is_empty() {
                    return Ok(());
                }
                let items = v
                    .as_array()
                    .filter(|items| items.len() == ids.len())
                    .ok_or_else(|| {
                        bad(format!("{path}: expected a list of {}, got {v}", ids.len()))
                    })?;
                for (i, (id, item)) in ids.iter().zip(items).enumerate() {
                    self.encode(*id, item, &format!("{path}.{i}"), out)?;
                }
                Ok(())
            }
            TypeDef::Primitive(p) => primitive(p, v, path, out),
            TypeDef::Compact(c) => {
                let n = self.compact_value(c.type_param.id, v, path)?;
                Compact(n).encode_to(out);
                Ok(())
            }
            TypeDef::BitSequence(_) => Err(bad(format!("{path}: bit sequences are not supported"))),
        }
    }

    /// A struct's or variant's fields from an object by name (named fields)
    /// or an array (unnamed); a single unnamed field takes `v` itself.
    fn fields(
        &self,
        fields: &[Field<PortableForm>],
        v: &Value,
        path: &str,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        match fields {
            [] => match v {
                Value::Null => Ok(()),
                Value::Object(o) if o.is_empty() => Ok(()),
                Value::Array(a) if a.is_empty() => Ok(()),
                _ => Err(bad(format!("{path}: takes no arguments, got {v}"))),
            },
            [f] if f.name.is_none() => self.encode(f.ty.id, v, path, out),
            _ if fields.iter().all(|f| f.name.is_some()) => {
                let obj = v.as_object().ok_or_else(|| {
                    let names: Vec<&str> =
                        fields.iter().filter_map(|f| f.name.as_deref()).collect();
                    bad(format!(
                        "{path}: expected an object with {}, got {v}",
                        names.join(", ")
                    ))
                })?;
                for key in obj.keys() {
                    if !fields
                        .iter()
                        .any(|f| f.name.as_deref().is_some_and(|n| same_name(n, key)))
                    {
                        return Err(bad(format!("{path}: unknown field {key:?}")));
                    }
                }
                for f in fields {
                    let name = f.name.as_deref().unwrap_or_default();
                    let value = obj
                        .iter()
                        .find(|(k, _)| same_name(k, name))
                        .map(|(_, v)| v)
                        .unwrap_or(&Value::Null);
                    if value.is_null() && !self.is_option(f.ty.id) {
                        return Err(bad(format!("{path}: missing field {name:?}")));
                    }
                    self.encode(f.ty.id, value, &format!("{path}.{name}"), out)?;
                }
                Ok(())
            }
            _ => {
                let items = v
                    .as_array()
                    .filter(|items| items.len() == fields.len())
                    .ok_or_else(|| {
                        bad(format!(
                            "{path}: expected a list of {}, got {v}",
                            fields.len()
                        ))
                    })?;
                for (i, (f, item)) in fields.iter().zip(items).enumerate() {
                    self.encode(f.ty.id, item, &format!("{path}.{i}"), out)?;
                }
                Ok(())
            }
        }
    }

    fn variant(
        &self,
        variants: &[Variant<PortableForm>],
        v: &Value,
        path: &str,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let (name, inner) = match v {
            Value::String(s) => (s.as_str(), &Value::Null),
            Value::Object(o) if o.len() == 1 => {
                let (k, inner) = o.iter().next().expect("one entry");
                (k.as_str(), inner)
            }
            _ => {
                let names: Vec<&str> = variants.iter().map(|x| x.name.as_str()).collect();
                return Err(bad(format!(
                    "{path}: expected one of {} (as \"Name\" or {{\"Name\": …}}), got {v}",
                    names.join(", ")
                )));
            }
        };
        let variant = variants
            .iter()
            .find(|x| same_name(&x.name, name))
            .ok_or_else(|| {
                let names: Vec<&str> = variants.iter().map(|x| x.name.as_str()).collect();
                bad(format!("{path}: {name:?} is none of {}", names.join(", ")))
            })?;
        out.push(variant.index);
        self.fields(
            &variant.fields,
            inner,
            &format!("{path}.{}", variant.name),
            out,
        )
    }

    fn is_u8(&self, ty: u32) -> bool {
        self.types
            .resolve(ty)
            .is_some_and(|t| matches!(t.type_def, TypeDef::Primitive(TypeDefPrimitive::U8)))
    }

    fn is_option(&self, ty: u32) -> bool {
        self.types.resolve(ty).is_some_and(|t| {
            matches!(t.type_def, TypeDef::Variant(_))
                && t.path.segments.last().is_some_and(|s| s == "Option")
        })
    }

    /// Bytes from `0x`-hex, a `q…` address (where 32 bytes fit) or text of
    /// exactly `len` bytes.
    fn bytes(&self, text: &str, len: Option<usize>, path: &str) -> Result<Vec<u8>> {
        let bytes = if let Some(h) = text.strip_prefix("0x") {
            hex::decode(h).map_err(|e| bad(format!("{path}: bad hex ({e})")))?
        } else if let (Some(32), Ok(a)) = (len, text.parse::<Address>()) {
            a.account_id().0.to_vec()
        } else if len.is_none_or(|n| n == text.len()) {
            text.as_bytes().to_vec()
        } else {
            return Err(bad(format!(
                "{path}: expected 0x-hex{}, or text of {} bytes; got {text:?}",
                if len == Some(32) {
                    ", a q… address"
                } else {
                    ""
                },
                len.unwrap_or_default()
            )));
        };
        match len {
            Some(n) if bytes.len() != n => Err(bad(format!(
                "{path}: expected {n} bytes, got {}",
                bytes.len()
            ))),
            _ => Ok(bytes),
        }
    }

    /// The value of a compact field: an unsigned integer (through any
    /// one-field wrappers).
    fn compact_value(&self, ty: u32, v: &Value, path: &str) -> Result<u128> {
        let t = self
            .types
            .resolve(ty)
            .ok_or_else(|| bad(format!("{path}: type {ty} is not in the metadata")))?;
        match &t.type_def {
            TypeDef::Primitive(p) => {
                let max = match p {
                    TypeDefPrimitive::U8 => u128::from(u8::MAX),
                    TypeDefPrimitive::U16 => u128::from(u16::MAX),
                    TypeDefPrimitive::U32 => u128::from(u32::MAX),
                    TypeDefPrimitive::U64 => u128::from(u64::MAX),
                    TypeDefPrimitive::U128 => u128::MAX,
                    _ => return Err(bad(format!("{path}: compact {p:?} is not supported"))),
                };
                unsigned(v, max, path)
            }
            TypeDef::Composite(c) if c.fields.len() == 1 => {
                self.compact_value(c.fields[0].ty.id, v, path)
            }
            _ => Err(bad(format!("{path}: compact of a non-integer type"))),
        }
    }
}

fn unsigned(v: &Value, max: u128, path: &str) -> Result<u128> {
    let n = match v {
        Value::Number(n) => n.as_u64().map(u128::from),
        Value::String(s) => s.parse::<u128>().ok(),
        _ => None,
    }
    .ok_or_else(|| bad(format!("{path}: expected an unsigned integer, got {v}")))?;
    if n > max {
        return Err(bad(format!(
            "{path}: {n} is above the largest value, {max}"
        )));
    }
    Ok(n)
}

fn signed(v: &Value, min: i128, max: i128, path: &str) -> Result<i128> {
    let n = match v {
        Value::Number(n) => n.as_i64().map(i128::from),
        Value::String(s) => s.parse::<i128>().ok(),
        _ => None,
    }
    .ok_or_else(|| bad(format!("{path}: expected an integer, got {v}")))?;
    if n < min || n > max {
        return Err(bad(format!("{path}: {n} is outside {min}..={max}")));
    }
    Ok(n)
}

fn primitive(p: &TypeDefPrimitive, v: &Value, path: &str, out: &mut Vec<u8>) -> Result<()> {
    use TypeDefPrimitive as P;
    // The range checks above make each narrowing exact.
    match p {
        P::Bool => v
            .as_bool()
            .ok_or_else(|| bad(format!("{path}: expected true or false, got {v}")))?
            .encode_to(out),
        P::Str => v
            .as_str()
            .ok_or_else(|| bad(format!("{path}: expected a string, got {v}")))?
            .encode_to(out),
        P::U8 => (unsigned(v, u8::MAX.into(), path)? as u8).encode_to(out),
        P::U16 => (unsigned(v, u16::MAX.into(), path)? as u16).encode_to(out),
        P::U32 => (unsigned(v, u32::MAX.into(), path)? as u32).encode_to(out),
        P::U64 => (unsigned(v, u64::MAX.into(), path)? as u64).encode_to(out),
        P::U128 => unsigned(v, u128::MAX, path)?.encode_to(out),
        P::I8 => (signed(v, i8::MIN.into(), i8::MAX.into(), path)? as i8).encode_to(out),
        P::I16 => (signed(v, i16::MIN.into(), i16::MAX.into(), path)? as i16).encode_to(out),
        P::I32 => (signed(v, i32::MIN.into(), i32::MAX.into(), path)? as i32).encode_to(out),
        P::I64 => (signed(v, i64::MIN.into(), i64::MAX.into(), path)? as i64).encode_to(out),
        P::I128 => signed(v, i128::MIN, i128::MAX, path)?.encode_to(out),
        P::Char | P::U256 | P::I256 => {
            return Err(bad(format!("{path}: {p:?} arguments are not supported")))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use qstack_core::{AccountId, KeyScheme, Pair};
    use qstack_runtime::{accounts, tokens, RuntimeCall};
    use qstack_runtime_primitives::{DepositAuth, SignerEntry, TokenCode};
    use serde_json::json;

    fn metadata(version: u32) -> Vec<u8> {
        qstack_runtime::metadata::metadata_at_defaults(version).expect("metadata")
    }

    fn bob() -> AccountId {
        Pair::from_suri(KeyScheme::Sr25519, "//Bob")
            .unwrap()
            .account_id()
    }

    /// Each JSON call encodes exactly as the runtime's own call does.
    #[test]
    fn calls_encode_as_the_runtime_encodes_them() {
        let bob_q = Address::from(bob()).to_string();
        let issuer = AccountId([7; 32]);
        let cases = [
            (
                ("Tokens", "transfer"),
                json!({"dest": bob_q, "value": "1000000000000000000000", "dest_tag": 7}),
                RuntimeCall::Tokens(tokens::Call::Transfer {
                    dest: bob(),
                    value: 1_000_000_000_000_000_000_000,
                    dest_tag: Some(7),
                }),
            ),
            (
                ("tokens", "Transfer"),
                json!({"dest": format!("0x{}", hex::encode(bob().0)), "value": 5}),
                RuntimeCall::Tokens(tokens::Call::Transfer {
                    dest: bob(),
                    value: 5,
                    dest_tag: None,
                }),
            ),
            (
                ("Tokens", "transfer_token"),
                json!({
                    "issuer": Address::from(issuer).to_string(),
                    "code": {"Standard": "USD"},
                    "dest": bob_q,
                    "amount": 12,
                    "dest_tag": null,
                }),
                RuntimeCall::Tokens(tokens::Call::TransferToken {
                    issuer,
                    code: TokenCode::parse("USD").unwrap(),
                    dest: bob(),
                    amount: 12,
                    dest_tag: None,
                }),
            ),
            (
                ("Accounts", "set_signers"),
                json!({"quorum": 2, "signers": [
                    {"account": bob_q, "weight": 1},
                    {"account": Address::from(issuer).to_string(), "weight": 3},
                ]}),
                RuntimeCall::Accounts(accounts::Call::SetSigners {
                    quorum: 2,
                    signers: vec![
                        SignerEntry {
                            account: bob(),
                            weight: 1,
                        },
                        SignerEntry {
                            account: issuer,
                            weight: 3,
                        },
                    ],
                }),
            ),
            (
                ("Accounts", "set_deposit_auth"),
                json!({"mode": "preauthorized"}),
                RuntimeCall::Accounts(accounts::Call::SetDepositAuth {
                    mode: DepositAuth::Preauthorized,
                }),
            ),
            (
                ("Accounts", "enable_master"),
                Value::Null,
                RuntimeCall::Accounts(accounts::Call::EnableMaster),
            ),
        ];
        for version in [14, 15] {
            let meta = metadata(version);
            for ((pallet, call), args, expected) in &cases {
                let got = encode_call(&meta, pallet, call, args)
                    .unwrap_or_else(|e| panic!("{pallet}.{call} (V{version}): {e}"));
                assert_eq!(got, expected.encode(), "{pallet}.{call} (V{version})");
            }
        }
    }

    #[test]
    fn wrong_calls_and_arguments_are_named() {
        let meta = metadata(14);
        let bob_q = Address::from(bob()).to_string();
        let err = |pallet: &str, call: &str, args: Value| {
            encode_call(&meta, pallet, call, &args)
                .unwrap_err()
                .to_string()
        };
        let e = err("Nope", "transfer", json!({}));
        assert!(
            e.contains("no pallet \"Nope\"") && e.contains("Tokens"),
            "{e}"
        );
        let e = err("Tokens", "transfr", json!({}));
        assert!(
            e.contains("no call \"transfr\"") && e.contains("Transfer"),
            "{e}"
        );
        let e = err("Tokens", "transfer", json!({"dest": bob_q}));
        assert!(e.contains("missing field \"value\""), "{e}");
        let e = err(
            "Tokens",
            "transfer",
            json!({"dest": bob_q, "value": 1, "tag": 1}),
        );
        assert!(e.contains("unknown field \"tag\""), "{e}");
        let e = err(
            "Tokens",
            "transfer",
            json!({"dest": bob_q, "value": 1, "dest_tag": 4_294_967_296u64}),
        );
        assert!(
            e.contains("Tokens.Transfer.dest_tag") && e.contains("above"),
            "{e}"
        );
        let e = err("Tokens", "transfer", json!({"dest": "q123", "value": 1}));
        assert!(e.contains("Tokens.Transfer.dest"), "{e}");
        let e = err("Accounts", "set_deposit_auth", json!({"mode": "sometimes"}));
        assert!(e.contains("\"sometimes\" is none of"), "{e}");
        let e = encode_call(b"garbage", "Tokens", "transfer", &json!({}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not decode"), "{e}");
    }
}
