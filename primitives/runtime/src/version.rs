//! Runtime version, encoded as Substrate's `RuntimeVersion`, also embedded in
//! the Wasm blob as a custom section so the node can read it without running code.

use alloc::borrow::Cow;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use scale_info::TypeInfo;

/// Name of the Wasm custom section holding the SCALE-encoded [`RuntimeVersion`].
pub const VERSION_SECTION: &str = "runtime_version";

/// blake2-64 of a runtime API's name.
pub type ApiId = [u8; 8];

/// Identifies a runtime and what it can do.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "std", serde(rename_all = "camelCase"))]
pub struct RuntimeVersion {
    /// The chain family; an upgrade must keep it.
    pub spec_name: Cow<'static, str>,
    /// The implementation's name.
    pub impl_name: Cow<'static, str>,
    /// Version of the block authoring interface.
    pub authoring_version: u32,
    /// Runtime logic version; an upgrade must increase it.
    pub spec_version: u32,
    /// Implementation version (same behaviour, different code).
    pub impl_version: u32,
    /// (blake2-64 of API name, API version) for each runtime API.
    #[cfg_attr(feature = "std", serde(with = "apis_serde"))]
    pub apis: Cow<'static, [(ApiId, u32)]>,
    /// Version of the extrinsic format and signed payload; signatures commit to it.
    pub transaction_version: u32,
    /// Version of system-level behaviour (state version); 0 today.
    pub system_version: u8,
}

impl RuntimeVersion {
    /// The version of API `id`, if the runtime has it.
    pub fn api_version(&self, id: &ApiId) -> Option<u32> {
        self.apis.iter().find(|(i, _)| i == id).map(|(_, v)| *v)
    }
}

/// The API id of a runtime API name.
pub fn api_id(name: &str) -> ApiId {
    qstack_core::hashing::blake2_64(name.as_bytes())
}

/// Builds the apis list at compile time is not possible with blake2, so the
/// runtime builds it once per call; this helper keeps that short.
pub fn apis(list: &[(&str, u32)]) -> Vec<(ApiId, u32)> {
    list.iter().map(|(n, v)| (api_id(n), *v)).collect()
}

#[cfg(feature = "std")]
mod apis_serde {
    //! Substrate's JSON shape: `[["0xdf6acb689907609b", 4], …]`.
    use super::ApiId;
    use alloc::borrow::Cow;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[allow(clippy::ptr_arg)] // serde's `with` hands us the field's own type
    pub fn serialize<S: Serializer>(
        apis: &Cow<'static, [(ApiId, u32)]>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let v: Vec<(String, u32)> = apis
            .iter()
            .map(|(id, ver)| {
                (
                    format!(
                        "0x{}",
                        id.iter().map(|b| format!("{b:02x}")).collect::<String>()
                    ),
                    *ver,
                )
            })
            .collect();
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Cow<'static, [(ApiId, u32)]>, D::Error> {
        let v: Vec<(String, u32)> = Vec::deserialize(d)?;
        let mut out = Vec::with_capacity(v.len());
        for (id, ver) in v {
            let raw = id.trim_start_matches("0x");
            if raw.len() != 16 {
                return Err(serde::de::Error::custom("api id must be 8 bytes hex"));
            }
            let mut a = [0u8; 8];
            for (i, b) in a.iter_mut().enumerate() {
                *b = u8::from_str_radix(raw.get(2 * i..2 * i + 2).unwrap_or("zz"), 16)
                    .map_err(serde::de::Error::custom)?;
            }
            out.push((a, ver));
        }
        Ok(Cow::Owned(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_api_id_matches_substrate() {
        // polkadot.js and subxt look for Core by this id.
        assert_eq!(
            api_id("Core"),
            [0xdf, 0x6a, 0xcb, 0x68, 0x99, 0x07, 0x60, 0x9b]
        );
    }
}
