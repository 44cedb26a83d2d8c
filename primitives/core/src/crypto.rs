//! Key schemes, public keys, signatures and account ids (types only).
//!
//! A scheme is identified by its SCALE variant index, which is permanent: a new
//! version of a scheme (FIPS 206 for Falcon is not final) gets a new index and
//! the old one keeps verifying old signatures.

use crate::hashing::blake2_256;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Falcon-512 public key length (FN-DSA-512).
pub const FALCON_PUBLIC_LEN: usize = 897;
/// Falcon-512 signature length (fixed-size "padded" encoding).
pub const FALCON_SIGNATURE_LEN: usize = 666;
/// ML-DSA-44 public key length (FIPS 204).
pub const MLDSA_PUBLIC_LEN: usize = 1312;
/// ML-DSA-44 signature length (FIPS 204).
pub const MLDSA_SIGNATURE_LEN: usize = 2420;

/// The longest fixed array a type description may name: polkadot.js (and
/// other SCALE clients built on its registry) refuse `[u8; N]` for N > 2048.
pub const MAX_DESCRIBED_ARRAY: usize = 2048;

macro_rules! byte_array {
    ($(#[$m:meta])* $name:ident, $len:expr) => {
        byte_array!(@common $(#[$m])* #[derive(TypeInfo)] $name, $len);
    };
    // Longer than `MAX_DESCRIBED_ARRAY`: described to clients as two arrays
    // in a row, which encode exactly as the one array does.
    ($(#[$m:meta])* split $name:ident, $len:expr) => {
        byte_array!(@common $(#[$m])* $name, $len);

        impl TypeInfo for $name {
            type Identity = Self;
            fn type_info() -> scale_info::Type {
                scale_info::Type::builder()
                    .path(scale_info::Path::new(stringify!($name), module_path!()))
                    .composite(
                        scale_info::build::Fields::unnamed()
                            .field(|f| f.ty::<[u8; MAX_DESCRIBED_ARRAY]>())
                            .field(|f| f.ty::<[u8; $len - MAX_DESCRIBED_ARRAY]>()),
                    )
            }
        }
    };
    (@common $(#[$m:meta])* $name:ident, $len:expr) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;
            /// Builds from a slice of exactly `LEN` bytes.
            pub fn from_slice(s: &[u8]) -> Option<Self> {
                <[u8; $len]>::try_from(s).ok().map($name)
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                // Post-quantum keys are kilobytes: show a prefix only.
                write!(f, "{}(0x", stringify!($name))?;
                for b in self.0.iter().take(8) {
                    write!(f, "{b:02x}")?;
                }
                if $len > 8 { write!(f, "…")?; }
                write!(f, ")")
            }
        }
    };
}

byte_array!(
    /// A Falcon-512 public key.
    FalconPublic,
    FALCON_PUBLIC_LEN
);
byte_array!(
    /// A Falcon-512 signature.
    FalconSignature,
    FALCON_SIGNATURE_LEN
);
byte_array!(
    /// An ML-DSA-44 public key.
    MlDsaPublic,
    MLDSA_PUBLIC_LEN
);
byte_array!(
    /// An ML-DSA-44 signature.
    split MlDsaSignature,
    MLDSA_SIGNATURE_LEN
);
byte_array!(
    /// An sr25519 signature.
    Sr25519Signature,
    64
);

/// The signature schemes an account key can use.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Debug,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
pub enum KeyScheme {
    /// Schnorr over Ristretto25519 (Substrate's sr25519).
    #[codec(index = 0)]
    Sr25519,
    /// Falcon-512 (FN-DSA-512).
    #[codec(index = 1)]
    Falcon512,
    /// ML-DSA-44 (FIPS 204).
    #[codec(index = 2)]
    MlDsa44,
    /// Falcon-512 and ML-DSA-44 together: valid only if both verify.
    #[codec(index = 3)]
    Hybrid,
}

impl KeyScheme {
    /// Every scheme, in tag order.
    pub const ALL: [KeyScheme; 4] = [
        KeyScheme::Sr25519,
        KeyScheme::Falcon512,
        KeyScheme::MlDsa44,
        KeyScheme::Hybrid,
    ];

    /// The scheme's name as used by the CLI and JSON.
    pub fn name(self) -> &'static str {
        match self {
            KeyScheme::Sr25519 => "sr25519",
            KeyScheme::Falcon512 => "falcon512",
            KeyScheme::MlDsa44 => "mldsa44",
            KeyScheme::Hybrid => "hybrid",
        }
    }

    /// Parses a scheme name (`sr25519`, `falcon512`, `mldsa44`, `hybrid`).
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// A public key of any scheme.
// Post-quantum variants are kilobytes inline by design: keys and signatures
// are decoded once and passed by reference, and boxing would add an
// allocation to every decode on the hot path.
#[allow(clippy::large_enum_variant)]
#[derive(
    Clone,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Debug,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
pub enum PublicKey {
    /// sr25519 public key.
    #[codec(index = 0)]
    Sr25519([u8; 32]),
    /// Falcon-512 public key.
    #[codec(index = 1)]
    Falcon512(FalconPublic),
    /// ML-DSA-44 public key.
    #[codec(index = 2)]
    MlDsa44(MlDsaPublic),
    /// Both keys of a hybrid account.
    #[codec(index = 3)]
    Hybrid(FalconPublic, MlDsaPublic),
}

impl PublicKey {
    /// The scheme of this key.
    pub fn scheme(&self) -> KeyScheme {
        match self {
            PublicKey::Sr25519(_) => KeyScheme::Sr25519,
            PublicKey::Falcon512(_) => KeyScheme::Falcon512,
            PublicKey::MlDsa44(_) => KeyScheme::MlDsa44,
            PublicKey::Hybrid(..) => KeyScheme::Hybrid,
        }
    }

    /// The account id this key controls as master key: blake2-256 of the scheme
    /// tag followed by the key bytes (exactly the key's SCALE encoding).
    pub fn account_id(&self) -> AccountId {
        AccountId(blake2_256(&self.encode()))
    }
}

/// A signature of any scheme (inline, as for [`PublicKey`]).
#[allow(clippy::large_enum_variant)]
#[derive(
    Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub enum Signature {
    /// sr25519 signature.
    #[codec(index = 0)]
    Sr25519(Sr25519Signature),
    /// Falcon-512 signature.
    #[codec(index = 1)]
    Falcon512(FalconSignature),
    /// ML-DSA-44 signature.
    #[codec(index = 2)]
    MlDsa44(MlDsaSignature),
    /// Falcon-512 and ML-DSA-44 signatures over the same message.
    #[codec(index = 3)]
    Hybrid(FalconSignature, MlDsaSignature),
}

impl Signature {
    /// The scheme of this signature.
    pub fn scheme(&self) -> KeyScheme {
        match self {
            Signature::Sr25519(_) => KeyScheme::Sr25519,
            Signature::Falcon512(_) => KeyScheme::Falcon512,
            Signature::MlDsa44(_) => KeyScheme::MlDsa44,
            Signature::Hybrid(..) => KeyScheme::Hybrid,
        }
    }
}

/// An account identifier: 32 bytes, blake2-256 of the master key (see
/// [`PublicKey::account_id`]). Shown to users as an [`crate::Address`].
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
pub struct AccountId(pub [u8; 32]);

impl AccountId {
    /// Raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl AsRef<[u8]> for AccountId {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl core::fmt::Debug for AccountId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", crate::Address::from(*self))
    }
}

impl core::fmt::Display for AccountId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", crate::Address::from(*self))
    }
}

#[cfg(feature = "std")]
impl serde::Serialize for AccountId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::Address::from(*self).to_string())
    }
}

#[cfg(feature = "std")]
impl<'de> serde::Deserialize<'de> for AccountId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::string::String as serde::Deserialize>::deserialize(d)?;
        s.parse::<crate::Address>()
            .map(|a| a.account_id())
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_long_signature_is_described_as_arrays_clients_read_with_the_same_encoding() {
        use scale_info::{TypeDef, TypeInfo};
        let ty = MlDsaSignature::type_info();
        let TypeDef::Composite(c) = &ty.type_def else {
            panic!("{ty:?}")
        };
        assert_eq!(c.fields.len(), 2);
        let sig = MlDsaSignature([7; MLDSA_SIGNATURE_LEN]);
        // Two fixed arrays in a row encode as the one array does.
        let mut halves = [7u8; MAX_DESCRIBED_ARRAY].encode();
        halves.extend([7u8; MLDSA_SIGNATURE_LEN - MAX_DESCRIBED_ARRAY].encode());
        assert_eq!(sig.encode(), halves);
    }

    use super::*;

    #[test]
    fn encoded_lengths_match_the_design() {
        let f = FalconSignature([0; FALCON_SIGNATURE_LEN]);
        let m = MlDsaSignature([0; MLDSA_SIGNATURE_LEN]);
        // DESIGN §4: a hybrid transaction carries 3,086 bytes of signatures.
        assert_eq!(Signature::Hybrid(f, m).encode().len(), 1 + 3086);
        let pk = PublicKey::Hybrid(
            FalconPublic([0; FALCON_PUBLIC_LEN]),
            MlDsaPublic([0; MLDSA_PUBLIC_LEN]),
        );
        assert_eq!(pk.encode().len(), 1 + 897 + 1312);
        assert_eq!(PublicKey::max_encoded_len(), 1 + 897 + 1312);
    }

    #[test]
    fn scheme_names_round_trip() {
        for k in KeyScheme::ALL {
            assert_eq!(KeyScheme::from_name(k.name()), Some(k));
        }
        assert_eq!(KeyScheme::from_name("ed25519"), None);
    }
}
