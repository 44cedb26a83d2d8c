//! Human-readable addresses: base58check of the account id behind a two-byte
//! version chosen so every address is 51 characters and starts with `q`.

use crate::crypto::AccountId;
use crate::hashing::blake2_256;
use alloc::string::String;
use alloc::vec::Vec;

/// Version bytes: with 38-byte payloads (version, id, 4-byte checksum) every
/// encoding is 51 characters starting with `q`.
pub const ADDRESS_VERSION: [u8; 2] = [0x05, 0x99];
/// Domain separator of the checksum.
const CHECKSUM_CONTEXT: &[u8] = b"qstack-address";
const CHECKSUM_LEN: usize = 4;
const PAYLOAD_LEN: usize = 2 + 32 + CHECKSUM_LEN;

/// A textual account address (`q…`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address(AccountId);

/// Why a string is not a valid address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddressError {
    /// Not base58 (contains a character outside the base58 alphabet).
    NotBase58,
    /// Decodes to the wrong number of bytes.
    BadLength(usize),
    /// The version prefix is not qstack's (the address is for another system).
    BadPrefix,
    /// The checksum does not match: the address was mistyped.
    BadChecksum,
}

impl core::fmt::Display for AddressError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AddressError::NotBase58 => write!(f, "address is not valid base58"),
            AddressError::BadLength(n) => {
                write!(f, "address decodes to {n} bytes, expected {PAYLOAD_LEN}")
            }
            AddressError::BadPrefix => write!(f, "address does not have the qstack 'q' prefix"),
            AddressError::BadChecksum => write!(f, "address checksum mismatch (mistyped address?)"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for AddressError {}

fn checksum(version_and_id: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut pre = Vec::with_capacity(CHECKSUM_CONTEXT.len() + version_and_id.len());
    pre.extend_from_slice(CHECKSUM_CONTEXT);
    pre.extend_from_slice(version_and_id);
    let h = blake2_256(&pre);
    [h[0], h[1], h[2], h[3]]
}

impl Address {
    /// The account id behind this address.
    pub fn account_id(&self) -> AccountId {
        self.0
    }

    /// Encodes to the `q…` string form.
    pub fn to_base58(&self) -> String {
        let mut payload = Vec::with_capacity(PAYLOAD_LEN);
        payload.extend_from_slice(&ADDRESS_VERSION);
        payload.extend_from_slice(&self.0 .0);
        let c = checksum(&payload);
        payload.extend_from_slice(&c);
        bs58::encode(payload).into_string()
    }

    /// Parses the `q…` string form, checking prefix and checksum.
    pub fn from_base58(s: &str) -> Result<Self, AddressError> {
        let raw = bs58::decode(s)
            .into_vec()
            .map_err(|_| AddressError::NotBase58)?;
        if raw.len() != PAYLOAD_LEN {
            return Err(AddressError::BadLength(raw.len()));
        }
        let (body, sum) = raw.split_at(PAYLOAD_LEN - CHECKSUM_LEN);
        let (version, id) = body.split_at(2);
        if version != ADDRESS_VERSION {
            return Err(AddressError::BadPrefix);
        }
        if checksum(body) != sum {
            return Err(AddressError::BadChecksum);
        }
        let id: [u8; 32] = id
            .try_into()
            .map_err(|_| AddressError::BadLength(raw.len()))?;
        Ok(Address(AccountId(id)))
    }
}

impl From<AccountId> for Address {
    fn from(a: AccountId) -> Self {
        Address(a)
    }
}

impl core::fmt::Display for Address {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.to_base58())
    }
}

impl core::fmt::Debug for Address {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.to_base58())
    }
}

impl core::str::FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::from_base58(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn extremes_start_with_q() {
        for id in [[0u8; 32], [0xff; 32]] {
            let s = Address::from(AccountId(id)).to_base58();
            assert!(s.starts_with('q'), "{s}");
            assert_eq!(s.len(), 51);
        }
    }

    #[test]
    fn errors_are_distinct() {
        let good = Address::from(AccountId([7; 32])).to_base58();
        assert_eq!(
            good.parse::<Address>().map(|a| a.account_id()),
            Ok(AccountId([7; 32]))
        );
        // Flip one character: checksum (or, rarely, prefix) catches it.
        let mut bad: Vec<char> = good.chars().collect();
        bad[20] = if bad[20] == 'a' { 'b' } else { 'a' };
        let bad: String = bad.into_iter().collect();
        assert_eq!(bad.parse::<Address>(), Err(AddressError::BadChecksum));
        assert_eq!("q0OIl".parse::<Address>(), Err(AddressError::NotBase58));
        assert_eq!(
            "qqqq".parse::<Address>().unwrap_err(),
            AddressError::BadLength(3)
        );
        // A Bitcoin-style address: right alphabet, wrong prefix/length.
        let mut other = vec![0u8, 0];
        other.extend_from_slice(&[1u8; 32]);
        other.extend_from_slice(&checksum(&other));
        let s = bs58::encode(other).into_string();
        assert_eq!(s.parse::<Address>(), Err(AddressError::BadPrefix));
    }

    proptest! {
        #[test]
        fn round_trip_and_prefix(id in any::<[u8; 32]>()) {
            let a = Address::from(AccountId(id));
            let s = a.to_base58();
            prop_assert!(s.starts_with('q'));
            prop_assert_eq!(s.len(), 51);
            prop_assert_eq!(s.parse::<Address>(), Ok(a));
        }
    }
}
