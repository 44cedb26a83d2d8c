//! Core primitives shared by the runtime and the node: hashes, account ids,
//! addresses, key schemes, public keys and signatures. Types only in `no_std`;
//! signing, verification and mnemonics are native-only (`std` feature), since the
//! runtime verifies signatures through the host.
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)
)]

extern crate alloc;

pub mod address;
pub mod crypto;
pub mod hashing;
#[cfg(feature = "std")]
pub mod pair;

pub use address::{set_ss58_prefix, ss58_prefix, Address, AddressError, DEFAULT_SS58_PREFIX};
pub use crypto::{
    AccountId, FalconPublic, FalconSignature, KeyScheme, MlDsaPublic, MlDsaSignature, PublicKey,
    Signature,
};
#[cfg(feature = "std")]
pub use pair::{verify, verify_many, Pair, PairError};

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// A 256-bit hash (blake2-256 everywhere in qstack).
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
pub struct H256(pub [u8; 32]);

/// The hash type of blocks, extrinsics and state roots.
pub type Hash = H256;

impl H256 {
    /// The all-zero hash (parent of genesis).
    pub const fn zero() -> Self {
        H256([0u8; 32])
    }
    /// Raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl From<[u8; 32]> for H256 {
    fn from(b: [u8; 32]) -> Self {
        H256(b)
    }
}

impl AsRef<[u8]> for H256 {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl core::fmt::Debug for H256 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "0x")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl core::fmt::Display for H256 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self, f)
    }
}

#[cfg(feature = "std")]
impl serde::Serialize for H256 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{self:?}"))
    }
}

#[cfg(feature = "std")]
impl<'de> serde::Deserialize<'de> for H256 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::string::String as serde::Deserialize>::deserialize(d)?;
        let raw = hex::decode(s.trim_start_matches("0x")).map_err(serde::de::Error::custom)?;
        let arr: [u8; 32] = raw
            .try_into()
            .map_err(|_| serde::de::Error::custom("a hash is 32 bytes"))?;
        Ok(H256(arr))
    }
}

/// Block number.
pub type BlockNumber = u32;
/// Account nonce (sequence number).
pub type Nonce = u32;
/// Native token amount, in the smallest unit.
pub type Balance = u128;
