//! Human-readable addresses: base58check of the account id behind a two-byte
//! version chosen so every address is 51 characters and starts with `q`.
//!
//! Every reader also takes the account id in Substrate's SS58 form, with the
//! chain's prefix ([`ss58_prefix`], set from the chain spec's `ss58Format`;
//! qstack's chains use [`DEFAULT_SS58_PREFIX`]), so the `6…` addresses
//! polkadot.js shows paste anywhere. The prefix is checked: an SS58 address of
//! another chain is refused, not read as ours. That matters more here than on
//! Substrate: a qstack account id is a hash of its key, while a Substrate
//! address holds the key itself, so another chain's address names an
//! account nobody here controls.

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

/// SS58 prefix of qstack's chain specs: every address starts with `6`,
/// apart from Substrate's `5…` (42) and the `q…` form; a one-byte prefix,
/// unregistered in the SS58 registry (`@substrate/ss58-registry` 1.51) when
/// chosen.
pub const DEFAULT_SS58_PREFIX: u16 = 59;
/// The largest SS58 prefix (14 bits).
pub const MAX_SS58_PREFIX: u16 = 16_383;
const SS58_CONTEXT: &[u8] = b"SS58PRE";
const SS58_CHECKSUM_LEN: usize = 2;

static SS58_PREFIX: core::sync::atomic::AtomicU16 =
    core::sync::atomic::AtomicU16::new(DEFAULT_SS58_PREFIX);

/// The SS58 prefix this process reads and writes addresses with (as
/// Substrate's `default_ss58_version`): the node sets it from its chain spec,
/// a client from the node's `system_properties`, the runtime's genesis
/// builder from the system section (`ss58Format`) before any pallet reads
/// its addresses.
pub fn ss58_prefix() -> u16 {
    SS58_PREFIX.load(core::sync::atomic::Ordering::Relaxed)
}

/// Sets [`ss58_prefix`]; refuses a prefix over [`MAX_SS58_PREFIX`].
pub fn set_ss58_prefix(prefix: u16) -> Result<(), AddressError> {
    if prefix > MAX_SS58_PREFIX {
        return Err(AddressError::BadSs58Prefix);
    }
    SS58_PREFIX.store(prefix, core::sync::atomic::Ordering::Relaxed);
    Ok(())
}

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
    /// An SS58 address whose checksum does not match: mistyped.
    BadSs58Checksum,
    /// An SS58 address whose prefix bytes are malformed or reserved.
    BadSs58Prefix,
    /// A well-formed SS58 address of another chain (another prefix).
    WrongSs58Prefix {
        /// The address's prefix.
        found: u16,
        /// This chain's.
        expected: u16,
    },
}

impl core::fmt::Display for AddressError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AddressError::NotBase58 => write!(f, "address is not valid base58"),
            AddressError::BadLength(n) => write!(
                f,
                "address decodes to {n} bytes, expected {PAYLOAD_LEN} (a q… address) or 35 to 36 (SS58)"
            ),
            AddressError::BadPrefix => write!(f, "address does not have the qstack 'q' prefix"),
            AddressError::BadChecksum => write!(f, "address checksum mismatch (mistyped address?)"),
            AddressError::BadSs58Checksum => {
                write!(f, "SS58 address checksum mismatch (mistyped address?)")
            }
            AddressError::BadSs58Prefix => write!(f, "SS58 address has a malformed prefix"),
            AddressError::WrongSs58Prefix { found, expected } => write!(
                f,
                "SS58 address of another chain: prefix {found}, this chain's is {expected} \
                 (a Substrate address is its public key, a qstack account id is a hash of \
                 the key: use the address qstack or a wallet connected to this chain shows)"
            ),
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
        Self::from_q_payload(&raw)
    }

    /// Parses either form: a `q…` address or an SS58 address with `prefix`.
    pub fn parse(s: &str, prefix: u16) -> Result<Self, AddressError> {
        let raw = bs58::decode(s.trim())
            .into_vec()
            .map_err(|_| AddressError::NotBase58)?;
        match raw.len() {
            PAYLOAD_LEN => return Self::from_q_payload(&raw),
            35 | 36 => {}
            n => return Err(AddressError::BadLength(n)),
        }
        let (id, found) = decode_ss58_payload(&raw)?;
        if found != prefix {
            return Err(AddressError::WrongSs58Prefix {
                found,
                expected: prefix,
            });
        }
        Ok(Address(id))
    }

    /// The SS58 form with `prefix` (Substrate's `to_ss58check_with_version`).
    pub fn to_ss58(&self, prefix: u16) -> String {
        let prefix = prefix & MAX_SS58_PREFIX;
        let mut payload = Vec::with_capacity(2 + 32 + SS58_CHECKSUM_LEN);
        // The masks keep every value in a byte, as the format defines.
        if prefix < 64 {
            payload.push((prefix & 0x3f) as u8);
        } else {
            payload.push((((prefix & 0b1111_1100) >> 2) as u8) | 0b0100_0000);
            payload.push(((prefix >> 8) as u8) | (((prefix & 0b11) as u8) << 6));
        }
        payload.extend_from_slice(&self.0 .0);
        let sum = ss58_checksum(&payload);
        payload.extend_from_slice(&sum);
        bs58::encode(payload).into_string()
    }

    fn from_q_payload(raw: &[u8]) -> Result<Self, AddressError> {
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

/// SS58's checksum: the first two bytes of blake2b-512("SS58PRE" ++ body).
fn ss58_checksum(body: &[u8]) -> [u8; SS58_CHECKSUM_LEN] {
    use blake2::digest::Digest;
    let mut h = blake2::Blake2b512::new();
    Digest::update(&mut h, SS58_CONTEXT);
    Digest::update(&mut h, body);
    let out = h.finalize();
    let mut sum = [0u8; SS58_CHECKSUM_LEN];
    for (s, o) in sum.iter_mut().zip(out.iter()) {
        *s = *o;
    }
    sum
}

/// An SS58 payload (prefix, 32-byte id, checksum) to the id and prefix.
fn decode_ss58_payload(raw: &[u8]) -> Result<(AccountId, u16), AddressError> {
    let (prefix, prefix_len) = match raw {
        [a, ..] if *a < 64 => (u16::from(*a), 1usize),
        [a, b, ..] if *a < 128 => {
            let lower = (a << 2) | (b >> 6);
            let upper = b & 0b0011_1111;
            (u16::from(lower) | (u16::from(upper) << 8), 2usize)
        }
        [_, ..] => return Err(AddressError::BadSs58Prefix),
        [] => return Err(AddressError::BadLength(0)),
    };
    let expected_len = prefix_len
        .saturating_add(32)
        .saturating_add(SS58_CHECKSUM_LEN);
    if raw.len() != expected_len {
        return Err(AddressError::BadLength(raw.len()));
    }
    let (body, sum) = raw.split_at(raw.len().saturating_sub(SS58_CHECKSUM_LEN));
    if ss58_checksum(body) != sum {
        return Err(AddressError::BadSs58Checksum);
    }
    let id: [u8; 32] = body
        .get(prefix_len..)
        .and_then(|id| id.try_into().ok())
        .ok_or(AddressError::BadLength(raw.len()))?;
    Ok((AccountId(id), prefix))
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

/// Either form: `q…`, or SS58 with this process's [`ss58_prefix`].
impl core::str::FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::parse(s, ss58_prefix())
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

    #[test]
    fn ss58_matches_substrate() {
        // subkey / polkadot.js: the //Alice public key as an SS58 address of
        // prefix 42, of prefix 0 (Polkadot) and of two-byte prefixes.
        let mut id = [0u8; 32];
        hex::decode_to_slice(
            "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d",
            &mut id,
        )
        .unwrap();
        let a = Address::from(AccountId(id));
        assert_eq!(
            a.to_ss58(42),
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        );
        assert_eq!(
            a.to_ss58(0),
            "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5"
        );
        assert_eq!(
            a.to_ss58(255),
            "yGHXkYLYqxijLKKfd9Q2CB9shRVu8rPNBS53wvwGTutYg4zTg"
        );
        assert_eq!(
            a.to_ss58(10041),
            "bXmPf7DcVmFuHEmzH3UX8t6AUkfNQW8pnTeXGhFhqbfngjAak"
        );
        assert_eq!(
            a.to_ss58(59),
            "6yFAKSS6cwPwg68sYuZpEY2f4MdtAXzfae7kf1YVfpNchR5R"
        );
        for prefix in [0, 42, 59, 63, 64, 255, 10041, MAX_SS58_PREFIX] {
            assert_eq!(
                Address::parse(&a.to_ss58(prefix), prefix),
                Ok(a),
                "{prefix}"
            );
        }
        assert_eq!(
            Address::parse("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", 59),
            Err(AddressError::WrongSs58Prefix {
                found: 42,
                expected: 59
            })
        );
        // One character changed: the checksum catches it.
        assert_eq!(
            Address::parse("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ", 42),
            Err(AddressError::BadSs58Checksum)
        );
        // The q… form still parses through `parse`.
        assert_eq!(Address::parse(&a.to_base58(), 59), Ok(a));
        // Reserved prefix bytes (128 and up).
        let mut raw = vec![0x80u8, 0];
        raw.extend_from_slice(&id);
        raw.extend_from_slice(&[0, 0]);
        assert_eq!(
            Address::parse(&bs58::encode(raw).into_string(), 59),
            Err(AddressError::BadSs58Prefix)
        );
    }

    #[test]
    fn every_qstack_ss58_address_starts_with_6() {
        for id in [[0u8; 32], [0x55; 32], [0xaa; 32], [0xff; 32]] {
            let s = Address::from(AccountId(id)).to_ss58(DEFAULT_SS58_PREFIX);
            assert!(s.starts_with('6'), "{s}");
        }
    }

    proptest! {
        #[test]
        fn ss58_round_trips(id in any::<[u8; 32]>(), prefix in 0u16..=MAX_SS58_PREFIX) {
            let a = Address::from(AccountId(id));
            prop_assert_eq!(Address::parse(&a.to_ss58(prefix), prefix), Ok(a));
        }

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
