//! Extrinsics in Substrate's v4 layout: compact length, version byte (top bit
//! set when signed), then `address, signature, extra` if signed, then the call.
//!
//! The signature is an [`ExtrinsicSignature`]: one signature by the account's
//! master key (encoded exactly as qstack's multi-scheme [`Signature`]), one by
//! its regular key, or several by the members of its signer list. The address
//! either names an account whose key the chain already stores, or carries the
//! key itself (an account's first transaction, see DESIGN §4).

use crate::era::Era;
use alloc::vec::Vec;
use codec::{Compact, Decode, DecodeWithMemTracking, Encode, Input, Output};
use qstack_core::crypto::{FalconSignature, MlDsaSignature, Sr25519Signature};
use qstack_core::{AccountId, Balance, KeyScheme, Nonce, PublicKey, Signature, H256};
use scale_info::TypeInfo;

/// The extrinsic format version (low 7 bits of the version byte).
pub const EXTRINSIC_FORMAT_VERSION: u8 = 4;
const SIGNED_BIT: u8 = 0b1000_0000;

/// Who signed: an account id (key already on chain) or the key itself.
///
/// Wire form: Substrate's `sp_runtime::MultiAddress`, so every Substrate
/// client decodes it: `Id` is variant 0 (the 32-byte account id) and `Key`
/// is `Raw` (variant 2), a compact-length byte string holding the SCALE
/// encoding of the [`PublicKey`]. Substrate's other variants (`Index`,
/// `Address32`, `Address20`) are refused.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum MultiAddress {
    /// An account whose signing key is stored on chain.
    Id(AccountId),
    /// The signing key, for an account's first transaction (or any time).
    Key(PublicKey),
}

/// Variant index of [`MultiAddress::Id`] (Substrate's `Id`).
const ADDRESS_ID_INDEX: u8 = 0;
/// Variant index of [`MultiAddress::Key`] (Substrate's `Raw`).
const ADDRESS_RAW_INDEX: u8 = 2;

impl Encode for MultiAddress {
    fn size_hint(&self) -> usize {
        match self {
            MultiAddress::Id(id) => 1usize.saturating_add(id.size_hint()),
            MultiAddress::Key(pk) => 6usize.saturating_add(pk.size_hint()),
        }
    }

    fn encode_to<T: Output + ?Sized>(&self, dest: &mut T) {
        match self {
            MultiAddress::Id(id) => {
                dest.push_byte(ADDRESS_ID_INDEX);
                id.encode_to(dest);
            }
            MultiAddress::Key(pk) => {
                dest.push_byte(ADDRESS_RAW_INDEX);
                pk.encode().encode_to(dest);
            }
        }
    }
}

impl Decode for MultiAddress {
    fn decode<I: Input>(input: &mut I) -> Result<Self, codec::Error> {
        match input.read_byte()? {
            ADDRESS_ID_INDEX => Ok(MultiAddress::Id(Decode::decode(input)?)),
            ADDRESS_RAW_INDEX => {
                let raw: Vec<u8> = Decode::decode(input)?;
                let mut bytes = raw.as_slice();
                let pk = PublicKey::decode(&mut bytes)?;
                if !bytes.is_empty() {
                    return Err("trailing bytes after the public key of an address".into());
                }
                Ok(MultiAddress::Key(pk))
            }
            _ => Err("unsupported address variant (qstack takes Id and Raw)".into()),
        }
    }
}

impl DecodeWithMemTracking for MultiAddress {}

/// Described with Substrate's path and type parameters
/// (`sp_runtime::multiaddress::MultiAddress<AccountId, AccountIndex>`), which
/// polkadot.js recognises, and only the two variants qstack takes.
impl TypeInfo for MultiAddress {
    type Identity = Self;
    fn type_info() -> scale_info::Type {
        use scale_info::build::{Fields, Variants};
        use scale_info::{meta_type, Path, Type, TypeParameter};
        Type::builder()
            .path(Path::new("MultiAddress", "sp_runtime::multiaddress"))
            .type_params(alloc::vec![
                TypeParameter::new("AccountId", Some(meta_type::<AccountId>())),
                TypeParameter::new("AccountIndex", Some(meta_type::<()>())),
            ])
            .docs(&["Who signed: an account id (0) or the SCALE-encoded public key (2, Raw)."])
            .variant(
                Variants::new()
                    .variant("Id", |v| {
                        v.index(ADDRESS_ID_INDEX)
                            .fields(Fields::unnamed().field(|f| f.ty::<AccountId>()))
                    })
                    .variant("Raw", |v| {
                        v.index(ADDRESS_RAW_INDEX)
                            .fields(Fields::unnamed().field(|f| f.ty::<Vec<u8>>()))
                    }),
            )
    }
}

/// Data every signed extrinsic carries, in signed-extension order
/// (`CheckSpecVersion`, `CheckTxVersion`, `CheckGenesis` carry nothing):
/// `CheckMortality`, `CheckNonce`, `ChargeTransactionPayment` — Substrate's
/// extensions, so every Substrate client decodes a qstack extrinsic.
///
/// Wire form: `era`, then one compact `u32` for the nonce or the ticket (a
/// ticket is sent as [`TICKET_FLAG`] plus its sequence number, with the
/// nonce 0: XRPL's `Sequence` 0 with a `TicketSequence`), then the compact
/// tip.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SignedExtra {
    /// Mortality.
    pub era: Era,
    /// The sender's sequence number; must be 0 when `ticket` is set, and
    /// below [`TICKET_FLAG`].
    pub nonce: Nonce,
    /// A ticket (a sequence number reserved earlier with
    /// `Accounts::create_tickets`) used instead of the nonce: tickets are
    /// spent in any order, each once, and leave the nonce unchanged.
    pub ticket: Option<Nonce>,
    /// Extra fee paid for priority.
    pub tip: Balance,
}

/// The top bit of `CheckNonce`'s value: set, the rest is a ticket spent
/// instead of the nonce. Nonces and tickets are below it (2^31 transactions
/// per account).
pub const TICKET_FLAG: Nonce = 1 << 31;

impl SignedExtra {
    /// `CheckNonce`'s value: the nonce, or the flagged ticket. A nonce or
    /// ticket at or above [`TICKET_FLAG`] cannot be sent (the runtime
    /// refuses such a nonce, and never hands out such a ticket).
    pub fn sequence_value(&self) -> Nonce {
        match self.ticket {
            Some(t) => TICKET_FLAG | t,
            None => self.nonce,
        }
    }
}

impl Encode for SignedExtra {
    fn size_hint(&self) -> usize {
        self.era.size_hint().saturating_add(5).saturating_add(17)
    }

    fn encode_to<T: Output + ?Sized>(&self, dest: &mut T) {
        self.era.encode_to(dest);
        Compact(self.sequence_value()).encode_to(dest);
        Compact(self.tip).encode_to(dest);
    }
}

impl Decode for SignedExtra {
    fn decode<I: Input>(input: &mut I) -> Result<Self, codec::Error> {
        let era = Era::decode(input)?;
        let sequence = Compact::<Nonce>::decode(input)?.0;
        let tip = Compact::<Balance>::decode(input)?.0;
        let (nonce, ticket) = if sequence & TICKET_FLAG != 0 {
            (0, Some(sequence & !TICKET_FLAG))
        } else {
            (sequence, None)
        };
        Ok(SignedExtra {
            era,
            nonce,
            ticket,
            tip,
        })
    }
}

impl DecodeWithMemTracking for SignedExtra {}

/// Described as the fields it encodes: era, compact nonce (or flagged
/// ticket), compact tip.
impl TypeInfo for SignedExtra {
    type Identity = Self;
    fn type_info() -> scale_info::Type {
        use scale_info::build::Fields;
        use scale_info::{Path, Type};
        Type::builder()
            .path(Path::new("SignedExtra", module_path!()))
            .docs(&["CheckMortality, CheckNonce (bit 31 set: a ticket), ChargeTransactionPayment."])
            .composite(
                Fields::named()
                    .field(|f| f.ty::<Era>().name("era"))
                    .field(|f| f.compact::<Nonce>().name("nonce"))
                    .field(|f| f.compact::<Balance>().name("tip")),
            )
    }
}

/// Which key of a multi-signing signer made its signature.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum SignerKey {
    /// The signer account's master key, already stored on chain.
    #[codec(index = 0)]
    Master(AccountId),
    /// The signer account's regular key.
    #[codec(index = 1)]
    Regular(AccountId),
    /// A master key carried inline: the signer is the account this key
    /// derives (`PublicKey::account_id`). For signers the chain has not seen
    /// yet, e.g. zero-balance accounts that never sent a transaction; the
    /// chain stores the key, so later signatures can use `Master`.
    #[codec(index = 2)]
    Key(PublicKey),
}

impl SignerKey {
    /// The signer's account.
    pub fn account(&self) -> AccountId {
        match self {
            SignerKey::Master(a) | SignerKey::Regular(a) => *a,
            SignerKey::Key(pk) => pk.account_id(),
        }
    }
}

/// One signer's part of a multi-signed extrinsic.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct SignerSignature {
    /// Who signed, and with which of its keys.
    pub signer: SignerKey,
    /// Its signature over the extrinsic's signed payload.
    pub signature: Signature,
}

/// How a signed extrinsic is authorised.
///
/// Wire form: a master-key signature is encoded exactly as [`Signature`]
/// (variant indices 0–3, one per scheme), so single-signature extrinsics
/// keep their bytes; index 4 is a multi-signature (a compact-length list of
/// [`SignerSignature`], in any order, each signer once); index 5 is a
/// regular-key signature followed by the [`Signature`] itself.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ExtrinsicSignature {
    /// Signed with the account's master key (indices 0–3).
    Master(Signature),
    /// Signed by members of the account's signer list (index 4).
    Multi(Vec<SignerSignature>),
    /// Signed with the account's regular key (index 5).
    Regular(Signature),
}

/// Variant index of [`ExtrinsicSignature::Multi`].
pub const MULTI_SIGNATURE_INDEX: u8 = 4;
/// Variant index of [`ExtrinsicSignature::Regular`].
pub const REGULAR_SIGNATURE_INDEX: u8 = 5;

impl ExtrinsicSignature {
    /// The scheme of a single signature; `None` for a multi-signature.
    pub fn scheme(&self) -> Option<KeyScheme> {
        match self {
            ExtrinsicSignature::Master(s) | ExtrinsicSignature::Regular(s) => Some(s.scheme()),
            ExtrinsicSignature::Multi(_) => None,
        }
    }

    /// The schemes of every signature it carries, in order.
    pub fn schemes(&self) -> Vec<KeyScheme> {
        match self {
            ExtrinsicSignature::Master(s) | ExtrinsicSignature::Regular(s) => {
                alloc::vec![s.scheme()]
            }
            ExtrinsicSignature::Multi(list) => list.iter().map(|e| e.signature.scheme()).collect(),
        }
    }
}

impl From<Signature> for ExtrinsicSignature {
    fn from(s: Signature) -> Self {
        ExtrinsicSignature::Master(s)
    }
}

impl Encode for ExtrinsicSignature {
    fn size_hint(&self) -> usize {
        match self {
            ExtrinsicSignature::Master(s) => s.size_hint(),
            ExtrinsicSignature::Multi(l) => 1usize.saturating_add(l.size_hint()),
            ExtrinsicSignature::Regular(s) => 1usize.saturating_add(s.size_hint()),
        }
    }

    fn encode_to<T: Output + ?Sized>(&self, dest: &mut T) {
        match self {
            ExtrinsicSignature::Master(s) => s.encode_to(dest),
            ExtrinsicSignature::Multi(l) => {
                dest.push_byte(MULTI_SIGNATURE_INDEX);
                l.encode_to(dest);
            }
            ExtrinsicSignature::Regular(s) => {
                dest.push_byte(REGULAR_SIGNATURE_INDEX);
                s.encode_to(dest);
            }
        }
    }
}

impl Decode for ExtrinsicSignature {
    fn decode<I: Input>(input: &mut I) -> Result<Self, codec::Error> {
        Ok(match input.read_byte()? {
            0 => ExtrinsicSignature::Master(Signature::Sr25519(Decode::decode(input)?)),
            1 => ExtrinsicSignature::Master(Signature::Falcon512(Decode::decode(input)?)),
            2 => ExtrinsicSignature::Master(Signature::MlDsa44(Decode::decode(input)?)),
            3 => ExtrinsicSignature::Master(Signature::Hybrid(
                Decode::decode(input)?,
                Decode::decode(input)?,
            )),
            MULTI_SIGNATURE_INDEX => ExtrinsicSignature::Multi(Decode::decode(input)?),
            REGULAR_SIGNATURE_INDEX => ExtrinsicSignature::Regular(Decode::decode(input)?),
            _ => return Err("invalid extrinsic signature variant".into()),
        })
    }
}

impl DecodeWithMemTracking for ExtrinsicSignature {}

/// Described as the flat enum it encodes as, so generic clients decode it
/// from metadata: the four schemes of [`Signature`], then `Multi`, `Regular`.
impl TypeInfo for ExtrinsicSignature {
    type Identity = Self;
    fn type_info() -> scale_info::Type {
        use scale_info::build::{Fields, Variants};
        use scale_info::{Path, Type};
        Type::builder()
            .path(Path::new("ExtrinsicSignature", module_path!()))
            .docs(&["How a signed extrinsic is authorised: master key (0-3), signer list (4), regular key (5)."])
            .variant(
                Variants::new()
                    .variant("Sr25519", |v| {
                        v.index(0)
                            .fields(Fields::unnamed().field(|f| f.ty::<Sr25519Signature>()))
                    })
                    .variant("Falcon512", |v| {
                        v.index(1)
                            .fields(Fields::unnamed().field(|f| f.ty::<FalconSignature>()))
                    })
                    .variant("MlDsa44", |v| {
                        v.index(2)
                            .fields(Fields::unnamed().field(|f| f.ty::<MlDsaSignature>()))
                    })
                    .variant("Hybrid", |v| {
                        v.index(3).fields(
                            Fields::unnamed()
                                .field(|f| f.ty::<FalconSignature>())
                                .field(|f| f.ty::<MlDsaSignature>()),
                        )
                    })
                    .variant("Multi", |v| {
                        v.index(MULTI_SIGNATURE_INDEX)
                            .fields(Fields::unnamed().field(|f| f.ty::<Vec<SignerSignature>>()))
                    })
                    .variant("Regular", |v| {
                        v.index(REGULAR_SIGNATURE_INDEX)
                            .fields(Fields::unnamed().field(|f| f.ty::<Signature>()))
                    }),
            )
    }
}

/// How a transaction was authorised, as its signature commits to it: a
/// signature made for one form never verifies as another.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum SignForm {
    /// By the account's master key.
    #[codec(index = 0)]
    Master,
    /// By the account's regular key.
    #[codec(index = 1)]
    Regular,
    /// By members of the account's signer list (each also binds its own
    /// account: [`SignedPayload::for_signer`]).
    #[codec(index = 2)]
    Multi,
}

/// Domain tag in front of the payload of a regular-key or multi-signed
/// transaction (consensus messages use `qstack/bft/v1`), so such a
/// signature is good for nothing else.
pub const TX_SIGN_DOMAIN: &[u8] = b"qstack/tx/v1";

/// Data the signature commits to without the extrinsic carrying it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct AdditionalSigned {
    /// Runtime spec version.
    pub spec_version: u32,
    /// Transaction version.
    pub transaction_version: u32,
    /// Genesis hash of the chain.
    pub genesis_hash: H256,
    /// Hash of the era's birth block (genesis hash when immortal).
    pub birth_hash: H256,
    /// The account the transaction acts for and pays from. Keys are not
    /// tied to one account (regular keys, signer lists), so without it a
    /// signature would replay on every account sharing the key.
    pub account: AccountId,
    /// How it was authorised.
    pub form: SignForm,
}

/// The bytes a signer signs, hashed with blake2-256 when longer than 256
/// bytes (Substrate's rule):
///
/// - by the account's **master key**: Substrate's payload exactly,
///   `call ‖ extra ‖ spec_version ‖ transaction_version ‖ genesis_hash ‖
///   birth_hash`, so Substrate tools (a polkadot.js keyring, a browser
///   extension) sign it unchanged. A master key belongs to one account
///   only (the account id is its hash), so the key already binds the
///   account and the form;
/// - by a **regular key** or **signer list**, whose keys may serve several
///   accounts: `TX_SIGN_DOMAIN ‖ call ‖ extra ‖ additional`, where
///   `additional` also binds the account and the form.
///
/// A payload of one kind is never one of the other: a master payload
/// starts with a call, whose first byte (a pallet index) is never `q`, the
/// first byte of the domain tag.
pub struct SignedPayload(Vec<u8>);

impl SignedPayload {
    /// Builds the payload from its parts.
    pub fn new<C: Encode>(call: &C, extra: &SignedExtra, additional: &AdditionalSigned) -> Self {
        let mut raw = Vec::new();
        if additional.form == SignForm::Master {
            call.encode_to(&mut raw);
            extra.encode_to(&mut raw);
            additional.spec_version.encode_to(&mut raw);
            additional.transaction_version.encode_to(&mut raw);
            additional.genesis_hash.encode_to(&mut raw);
            additional.birth_hash.encode_to(&mut raw);
        } else {
            raw.extend_from_slice(TX_SIGN_DOMAIN);
            call.encode_to(&mut raw);
            extra.encode_to(&mut raw);
            additional.encode_to(&mut raw);
        }
        if raw.len() > 256 {
            SignedPayload(qstack_io::hashing::blake2_256(&raw).to_vec())
        } else {
            SignedPayload(raw)
        }
    }

    /// The message to sign or verify (master or regular key).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// What member `signer` of a signer list signs: the payload and the
    /// signer's own account (as the XRP Ledger's multi-signing does), so one
    /// key signing for two listed accounts yields two different signatures.
    pub fn for_signer(&self, signer: &AccountId) -> Vec<u8> {
        let mut m = self.0.clone();
        m.extend_from_slice(signer.as_bytes());
        m
    }
}

/// A signed or unsigned (inherent) extrinsic.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct UncheckedExtrinsic<Call> {
    /// Signer, signature and extra data; `None` for inherents.
    pub signature: Option<(MultiAddress, ExtrinsicSignature, SignedExtra)>,
    /// The call.
    pub function: Call,
}

/// Why bytes are not a well-formed extrinsic.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExtrinsicError {
    /// Too short, or a field does not decode.
    Malformed,
    /// Not format version 4.
    UnsupportedVersion(u8),
    /// The length prefix disagrees with the bytes present.
    LengthMismatch,
    /// The pallet/call index pair is unknown to this runtime.
    UnknownCall {
        /// Pallet index.
        pallet: u8,
        /// Call index inside the pallet.
        call: u8,
    },
}

impl<Call> UncheckedExtrinsic<Call> {
    /// A signed extrinsic.
    pub fn new_signed(
        function: Call,
        address: MultiAddress,
        sig: impl Into<ExtrinsicSignature>,
        extra: SignedExtra,
    ) -> Self {
        Self {
            signature: Some((address, sig.into(), extra)),
            function,
        }
    }

    /// An unsigned extrinsic (only valid for inherents).
    pub fn new_unsigned(function: Call) -> Self {
        Self {
            signature: None,
            function,
        }
    }

    /// Whether it is signed.
    pub fn is_signed(&self) -> bool {
        self.signature.is_some()
    }
}

/// A call already SCALE-encoded, signed and sent as it is: how a client
/// submits a call of a runtime newer than the one it was built with (after
/// a forkless upgrade), from the chain's metadata. It encodes as its bytes,
/// so a transaction carrying it is byte-identical to one carrying the
/// decoded call.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct EncodedCall(pub Vec<u8>);

impl Encode for EncodedCall {
    fn size_hint(&self) -> usize {
        self.0.len()
    }
    fn encode_to<T: codec::Output + ?Sized>(&self, dest: &mut T) {
        dest.write(&self.0);
    }
}

/// Deepest nesting of types a call may decode through (a call wrapping
/// calls, as sudo does, adds a few levels each): a bound on the decoder's
/// recursion, so crafted bytes cannot exhaust the stack.
pub const MAX_CALL_DEPTH: u32 = 64;

impl<Call: Decode> UncheckedExtrinsic<Call> {
    /// Decodes exactly one extrinsic from `bytes` (with its length prefix),
    /// telling an unknown call apart from malformed bytes. `known_call` says
    /// whether a (pallet, call) index pair exists.
    pub fn decode_strict(
        bytes: &[u8],
        known_call: impl Fn(u8, u8) -> bool,
    ) -> Result<Self, ExtrinsicError> {
        let mut input = bytes;
        let len = Compact::<u32>::decode(&mut input)
            .map_err(|_| ExtrinsicError::Malformed)?
            .0 as usize;
        if len != input.len() {
            return Err(ExtrinsicError::LengthMismatch);
        }
        let version = input.read_byte().map_err(|_| ExtrinsicError::Malformed)?;
        if version & !SIGNED_BIT != EXTRINSIC_FORMAT_VERSION {
            return Err(ExtrinsicError::UnsupportedVersion(version & !SIGNED_BIT));
        }
        let signature = if version & SIGNED_BIT != 0 {
            Some(
                <(MultiAddress, ExtrinsicSignature, SignedExtra)>::decode(&mut input)
                    .map_err(|_| ExtrinsicError::Malformed)?,
            )
        } else {
            None
        };
        if let [pallet, call, ..] = *input {
            if !known_call(pallet, call) {
                return Err(ExtrinsicError::UnknownCall { pallet, call });
            }
        }
        // A call may nest calls (sudo): bound the decoder's recursion.
        let function =
            <Call as codec::DecodeLimit>::decode_with_depth_limit(MAX_CALL_DEPTH, &mut input)
                .map_err(|_| ExtrinsicError::Malformed)?;
        if !input.is_empty() {
            return Err(ExtrinsicError::Malformed);
        }
        Ok(Self {
            signature,
            function,
        })
    }
}

impl<Call: Encode> Encode for UncheckedExtrinsic<Call> {
    fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        match &self.signature {
            Some(s) => {
                body.push(EXTRINSIC_FORMAT_VERSION | SIGNED_BIT);
                s.encode_to(&mut body);
            }
            None => body.push(EXTRINSIC_FORMAT_VERSION),
        }
        self.function.encode_to(&mut body);
        // Same as encoding a Vec<u8>: compact length then the bytes.
        body.encode()
    }
}

impl<Call: Decode> Decode for UncheckedExtrinsic<Call> {
    fn decode<I: Input>(input: &mut I) -> Result<Self, codec::Error> {
        let bytes: Vec<u8> = Decode::decode(input)?;
        let len = u32::try_from(bytes.len()).map_err(|_| "extrinsic too long")?;
        let mut framed = Compact(len).encode();
        framed.extend_from_slice(&bytes);
        Self::decode_strict(&framed, |_, _| true).map_err(|_| "invalid extrinsic".into())
    }
}

impl<Call: Decode> DecodeWithMemTracking for UncheckedExtrinsic<Call> {}

/// Described as Substrate does, under FRAME's path
/// (`sp_runtime::generic::unchecked_extrinsic::UncheckedExtrinsic`): an
/// opaque byte vector whose type parameters name the parts (`Address`,
/// `Call`, `Signature`, `Extra`), which is how polkadot.js and subxt find the
/// types to decode extrinsics with.
impl<Call: TypeInfo + 'static> TypeInfo for UncheckedExtrinsic<Call> {
    type Identity = UncheckedExtrinsic<Call>;
    fn type_info() -> scale_info::Type {
        use scale_info::{meta_type, Path, Type, TypeParameter};
        Type::builder()
            .path(Path::new(
                "UncheckedExtrinsic",
                "sp_runtime::generic::unchecked_extrinsic",
            ))
            .type_params(alloc::vec![
                TypeParameter::new("Address", Some(meta_type::<MultiAddress>())),
                TypeParameter::new("Call", Some(meta_type::<Call>())),
                TypeParameter::new("Signature", Some(meta_type::<ExtrinsicSignature>())),
                TypeParameter::new("Extra", Some(meta_type::<SignedExtra>())),
            ])
            .docs(&["A signed or unsigned extrinsic (v4 layout)."])
            .composite(scale_info::build::Fields::unnamed().field(|f| f.ty::<Vec<u8>>()))
    }
}

/// An extrinsic as opaque bytes: its full encoding, length prefix included,
/// so a block of opaque extrinsics encodes exactly like the typed block.
#[derive(Clone, PartialEq, Eq, Debug, Default, TypeInfo)]
pub struct OpaqueExtrinsic(pub Vec<u8>);

impl OpaqueExtrinsic {
    /// Wraps already-encoded extrinsic bytes (with their length prefix).
    pub fn from_encoded(bytes: Vec<u8>) -> Self {
        OpaqueExtrinsic(bytes)
    }
}

impl Encode for OpaqueExtrinsic {
    fn size_hint(&self) -> usize {
        self.0.len()
    }
    fn encode_to<T: codec::Output + ?Sized>(&self, dest: &mut T) {
        dest.write(&self.0)
    }
}

impl Decode for OpaqueExtrinsic {
    fn decode<I: Input>(input: &mut I) -> Result<Self, codec::Error> {
        let inner: Vec<u8> = Decode::decode(input)?;
        let len = u32::try_from(inner.len()).map_err(|_| "extrinsic too long")?;
        let mut bytes = Compact(len).encode();
        bytes.extend_from_slice(&inner);
        Ok(OpaqueExtrinsic(bytes))
    }
}

impl DecodeWithMemTracking for OpaqueExtrinsic {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
    enum TestCall {
        #[codec(index = 0)]
        A(u32),
    }

    // TestCall's first byte plays the pallet index; any "call" byte is known.
    fn known(p: u8, _c: u8) -> bool {
        p == 0
    }

    #[test]
    fn unsigned_round_trip_and_layout() {
        let x = UncheckedExtrinsic::new_unsigned(TestCall::A(7));
        let bytes = x.encode();
        // len=6, version 4, call index 0, u32 7.
        assert_eq!(bytes, vec![6 << 2, 4, 0, 7, 0, 0, 0]);
        assert_eq!(
            UncheckedExtrinsic::<TestCall>::decode(&mut &bytes[..]).unwrap(),
            x
        );
        let opaque = OpaqueExtrinsic::decode(&mut &bytes[..]).unwrap();
        assert_eq!(opaque.encode(), bytes);
    }

    #[test]
    fn strict_errors_are_distinct() {
        let bytes = UncheckedExtrinsic::new_unsigned(TestCall::A(7)).encode();
        let dec = |b: &[u8]| UncheckedExtrinsic::<TestCall>::decode_strict(b, known).map(|_| ());
        assert_eq!(dec(&bytes), Ok(()));
        assert_eq!(
            dec(&bytes[..bytes.len() - 1]),
            Err(ExtrinsicError::LengthMismatch)
        );
        let mut truncated = vec![5 << 2];
        truncated.extend_from_slice(&bytes[1..6]);
        assert_eq!(dec(&truncated), Err(ExtrinsicError::Malformed));
        let mut v5 = bytes.clone();
        v5[1] = 5;
        assert_eq!(dec(&v5), Err(ExtrinsicError::UnsupportedVersion(5)));
        let mut unknown = bytes.clone();
        unknown[2] = 9;
        assert_eq!(
            dec(&unknown),
            Err(ExtrinsicError::UnknownCall { pallet: 9, call: 7 })
        );
        assert_eq!(dec(&[]), Err(ExtrinsicError::Malformed));
    }
}
