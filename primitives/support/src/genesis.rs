//! Genesis from the chain spec's JSON patch: each pallet owns a typed serde
//! configuration under its top-level keys ([`Pallet::GENESIS_KEYS`]) and
//! reports a refused value with the path of the field and a sentence.

use crate::Pallet;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use codec::Encode;
use core::fmt;
use scale_info::{StaticTypeInfo, TypeDef};
use serde::de::{Deserializer, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Why a genesis value is refused: the field's path in the patch
/// (`tokens.issued[0].holders[1]`) and what is wrong with it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct GenesisError {
    /// Path of the field in the genesis patch.
    pub path: String,
    /// What is wrong, as a sentence for the user.
    pub message: String,
}

impl GenesisError {
    /// A refusal of the field at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }

    /// A refusal of the field at `path` by a pallet error, named by its
    /// variant (`ExceedsMaxSupply`).
    pub fn from_error<E: Encode + StaticTypeInfo>(path: impl Into<String>, e: &E) -> Self {
        Self::new(path, describe(e))
    }
}

impl fmt::Display for GenesisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// An enum value named by its variant (and its docs, where scale-info keeps
/// them), from its type information; for genesis errors and the CLI, never
/// on a hot path.
pub fn describe<E: Encode + StaticTypeInfo>(e: &E) -> String {
    let encoded = e.encode();
    let Some(index) = encoded.first().copied() else {
        return "unknown error".to_string();
    };
    let info = E::type_info();
    if let TypeDef::Variant(v) = &info.type_def {
        if let Some(var) = v.variants.iter().find(|var| var.index == index) {
            let docs: String = var
                .docs
                .iter()
                .map(|d| d.trim())
                .collect::<alloc::vec::Vec<_>>()
                .join(" ");
            return if docs.is_empty() {
                var.name.to_string()
            } else {
                format!("{}: {}", var.name, docs)
            };
        }
    }
    format!("error {index}")
}

/// The chain spec's genesis patch: each top-level key with its value kept
/// as JSON text, parsed once by the pallet that reads it (no generic JSON
/// tree in the runtime).
pub type Patch = BTreeMap<String, Box<RawValue>>;

/// Parses a genesis patch from JSON text (an object of pallet sections).
pub fn parse_patch(json: &str) -> Result<Patch, String> {
    serde_json::from_str(json).map_err(|e| format!("the genesis patch is no JSON object: {e}"))
}

/// Builds `P`'s genesis from the patch: the value of its one key, or the
/// object of its keys. Absent keys give the defaults.
pub fn build<P: Pallet>(patch: &Patch) -> Result<(), String> {
    let keys = P::GENESIS_KEYS;
    let config: P::Genesis = match keys {
        [] => return Ok(()),
        [one] => match patch.get(*one) {
            None => P::Genesis::default(),
            Some(v) => serde_json::from_str(v.get())
                .map_err(|e| format!("invalid genesis config in `{one}`: {e}"))?,
        },
        many => {
            let present: Vec<String> = many
                .iter()
                .filter_map(|k| patch.get(*k).map(|v| format!("{:?}:{}", k, v.get())))
                .collect();
            if present.is_empty() {
                P::Genesis::default()
            } else {
                let object = format!("{{{}}}", present.join(","));
                serde_json::from_str(&object).map_err(|e| format!("invalid genesis config: {e}"))?
            }
        }
    };
    P::build_genesis(&config).map_err(|e| e.to_string())
}

/// Refuses a patch key no pallet reads (a typo would otherwise be ignored).
pub fn check_keys(patch: &Patch, known: &[&'static str]) -> Result<(), String> {
    for k in patch.keys() {
        if !known.contains(&k.as_str()) {
            return Err(format!(
                "invalid genesis config: unknown field `{k}`, expected one of {}",
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(())
}

/// A u128 from a JSON number or a decimal string (u128 exceeds JSON numbers).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Amount(pub u128);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an amount as a non-negative integer or decimal string")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Amount, E> {
                Ok(Amount(u128::from(v)))
            }
            fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Amount, E> {
                Ok(Amount(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Amount, E> {
                v.parse::<u128>()
                    .map(Amount)
                    .map_err(|_| E::custom(format!("invalid amount {v:?}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// An account from a `q…` address in the patch.
pub fn account(addr: &str, path: &str) -> Result<qstack_core::AccountId, GenesisError> {
    addr.parse::<qstack_core::Address>()
        .map(|a| a.account_id())
        .map_err(|e| GenesisError::new(path, e.to_string()))
}
