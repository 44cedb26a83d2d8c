//! Signing with qstack keys: a subxt [`Signer`] over [`qstack_core::Pair`],
//! and the address rewrite an account's first transaction needs.

use crate::{Error, QstackConfig, Signature};
use codec::{Compact, Decode, Encode};
use qstack_core::{Pair, PublicKey};
use subxt::transactions::Signer;
use subxt::utils::{AccountId32, Static};

/// A subxt [`Signer`] holding a qstack key pair of any scheme, signing as
/// the account's master key: the one form whose signed payload is
/// Substrate's, the bytes subxt hands a signer.
#[derive(Clone, Debug)]
pub struct PairSigner {
    pair: Pair,
    account: AccountId32,
}

impl PairSigner {
    /// A signer for the account `pair` is the master key of.
    pub fn new(pair: Pair) -> Self {
        let account = AccountId32(pair.account_id().0);
        Self { pair, account }
    }

    /// The public key, for [`with_key_address`].
    pub fn public(&self) -> PublicKey {
        self.pair.public()
    }
}

impl Signer<QstackConfig> for PairSigner {
    fn account_id(&self) -> AccountId32 {
        self.account
    }

    fn sign(&self, signer_payload: &[u8]) -> Signature {
        Static(self.pair.sign(signer_payload))
    }
}

/// Version byte of a signed v4 extrinsic.
const SIGNED_V4: u8 = 0x84;
/// `MultiAddress` variant indices: `Id` (account id) and `Raw` (key).
const ADDRESS_ID: u8 = 0;
const ADDRESS_RAW: u8 = 2;

/// Rewrites `tx`, a signed v4 transaction subxt built (address
/// `Id(account of key)`), into the same transaction carrying `key` itself
/// (`Raw`, the SCALE-encoded key): what an account's first transaction
/// must be, since the chain learns an account's key from it. The signature
/// stays valid, as a master-key signature covers the call and the signed
/// extensions, not the address. Submit the result with subxt's
/// `TransactionsClient::from_bytes`.
pub fn with_key_address(tx: &[u8], key: &PublicKey) -> Result<Vec<u8>, Error> {
    let mut input = tx;
    let len = Compact::<u32>::decode(&mut input)
        .map_err(|_| Error::NotSignedById("no length prefix"))?
        .0;
    if usize::try_from(len).ok() != Some(input.len()) {
        return Err(Error::NotSignedById("the length prefix is wrong"));
    }
    let [version, address, rest @ ..] = input else {
        return Err(Error::NotSignedById("too short"));
    };
    if *version != SIGNED_V4 {
        return Err(Error::NotSignedById("not a signed v4 transaction"));
    }
    if *address != ADDRESS_ID {
        return Err(Error::NotSignedById("its address is not an account id"));
    }
    let (id, rest) = rest
        .split_at_checked(32)
        .ok_or(Error::NotSignedById("too short"))?;
    if id != key.account_id().as_bytes() {
        return Err(Error::NotSignedById(
            "it is signed for another account than this key's",
        ));
    }
    let mut body = vec![SIGNED_V4, ADDRESS_RAW];
    key.encode().encode_to(&mut body);
    body.extend_from_slice(rest);
    let len = u32::try_from(body.len()).map_err(|_| Error::NotSignedById("too long"))?;
    let mut out = Compact(len).encode();
    out.extend_from_slice(&body);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qstack_core::KeyScheme;

    fn signed_by_id(key: &PublicKey, tail: &[u8]) -> Vec<u8> {
        let mut body = vec![SIGNED_V4, ADDRESS_ID];
        body.extend_from_slice(key.account_id().as_bytes());
        body.extend_from_slice(tail);
        body.encode()
    }

    #[test]
    fn the_id_address_becomes_the_raw_key_and_the_rest_is_kept() {
        let key = Pair::from_suri(KeyScheme::Sr25519, "//Alice")
            .unwrap()
            .public();
        let tail = [9u8; 80];
        let out = with_key_address(&signed_by_id(&key, &tail), &key).unwrap();
        let mut input = &out[..];
        let body = Vec::<u8>::decode(&mut input).unwrap();
        assert!(input.is_empty());
        assert_eq!(&body[..2], &[SIGNED_V4, ADDRESS_RAW]);
        let mut rest = &body[2..];
        let raw = Vec::<u8>::decode(&mut rest).unwrap();
        assert_eq!(PublicKey::decode(&mut &raw[..]).unwrap(), key);
        assert_eq!(rest, &tail[..]);
    }

    #[test]
    fn refuses_another_accounts_transaction_and_malformed_bytes() {
        let alice = Pair::from_suri(KeyScheme::Sr25519, "//Alice")
            .unwrap()
            .public();
        let bob = Pair::from_suri(KeyScheme::Sr25519, "//Bob")
            .unwrap()
            .public();
        let tx = signed_by_id(&alice, &[1, 2, 3]);
        assert!(with_key_address(&tx, &bob).is_err());
        assert!(with_key_address(&tx[..tx.len() - 1], &alice).is_err());
        let mut unsigned = tx.clone();
        unsigned[1] = 0x04;
        assert!(with_key_address(&unsigned, &alice).is_err());
    }
}
