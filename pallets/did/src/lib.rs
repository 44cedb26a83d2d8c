//! The DID pallet: W3C decentralised identifiers `did:qs:<base58 id>` with
//! their documents (controllers, verification methods of any key scheme,
//! services, `alsoKnownAs`), verifiable credentials registered by hash with
//! multi-party (m-of-n) issuance, bitstring status lists for revocation
//! (irreversible) and suspension (reversible), and encrypted messages
//! between DIDs. Owns `Did.*` storage only; deposits move through the tokens
//! pallet's API.
//!
//! **Who may change a DID.** A verification method's key material is a
//! public key (any signature scheme, or ML-KEM-768 for key agreement) or a
//! chain account (`blockchainAccountId`). A DID document without
//! controllers is controlled by its own `capabilityInvocation` methods; with
//! controllers, by theirs. A call on a DID is authorised when the signing
//! account is such a method: the transaction's own signature is the proof,
//! so an account controls as many DIDs as list it. A key method (a
//! post-quantum key, say) proves with a signature carried in the call
//! instead ([`document::KeyProof`]), so any account may relay the update.
//! Every update names the DID's current counter (its `versionId`), so a
//! replayed or reordered update is refused.
//!
//! **Deposits.** A DID's depositor (its creator, then whoever submitted its
//! last update) locks an owner reserve for it and a deposit per byte of its
//! stored record, topped up or refunded as the document grows or shrinks,
//! and returned whole on deactivation (which
//! keeps only a tombstone, so a deactivated DID resolves as deactivated and
//! is never reused). Credential records and status-list pages outlive their
//! issuer's DID (a credential's status must stay checkable), so their
//! per-byte deposit is paid once and stays locked. A message's deposit
//! returns to its sender when the recipient clears it.
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

extern crate alloc;

pub mod credential;
pub mod document;
pub mod message;
pub mod syntax;
#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use qstack_core::{AccountId, Balance, BlockNumber, PublicKey, Signature, H256};
use qstack_runtime_primitives::DispatchError;
use qstack_support::{constants, storage, Dispatch, DispatchContext, GenesisError};
use scale_info::TypeInfo;

pub use syntax::{format_did, parse_did, parse_did_url, SyntaxError};

/// This pallet's permanent index in every qstack runtime.
pub const PALLET_INDEX: u8 = 7;

constants! {
    /// Most verification methods in one document.
    MaxMethods: pub const MAX_METHODS: u32 = 16;
    /// Most services in one document.
    MaxServices: pub const MAX_SERVICES: u32 = 16;
    /// Most controllers of one DID.
    MaxControllers: pub const MAX_CONTROLLERS: u32 = 8;
    /// Most `alsoKnownAs` URIs of one DID.
    MaxAlsoKnownAs: pub const MAX_ALSO_KNOWN_AS: u32 = 8;
    /// Longest method or service id fragment (bytes).
    MaxFragment: pub const MAX_FRAGMENT: u32 = 32;
    /// Longest service type (bytes).
    MaxServiceType: pub const MAX_SERVICE_TYPE: u32 = 64;
    /// Longest URI: service endpoint or `alsoKnownAs` entry (bytes).
    MaxUri: pub const MAX_URI: u32 = 256;
    /// Most operations in one `update`.
    MaxOps: pub const MAX_OPS: u32 = 8;
    /// Most issuers of one credential.
    MaxIssuers: pub const MAX_ISSUERS: u32 = 8;
    /// Entries of every status list (W3C's minimum, 16 KiB of bits).
    StatusListLength: pub const STATUS_LIST_LENGTH: u32 = 131_072;
    /// Entries stored per status-list page (a page is written when its first
    /// bit is set, so an unused list costs nothing).
    StatusPageBits: pub const STATUS_PAGE_BITS: u32 = 8_192;
    /// Largest ciphertext of one message (bytes).
    MaxMessage: pub const MAX_MESSAGE: u32 = 4_096;
    /// Most messages waiting in one DID's inbox.
    MaxInbox: pub const MAX_INBOX: u32 = 64;
    /// Deposit per stored byte when the chain spec sets none (0.0001 QS).
    DefaultByteDeposit: pub const DEFAULT_BYTE_DEPOSIT: Balance = 100_000_000;
}

/// Bytes of an ML-KEM-768 encapsulation key (FIPS 203).
pub const ML_KEM_768_PUBLIC: usize = 1_184;
/// Bytes of an ML-KEM-768 ciphertext.
pub const ML_KEM_768_CIPHERTEXT: usize = 1_088;

/// A DID of this chain's method: `did:qs:` followed by the base58 of these
/// 16 bytes (see [`syntax`]).
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
pub struct Did(pub [u8; 16]);

/// Verification relationships, as bits of [`VerificationMethod::relationships`].
pub mod rel {
    /// `authentication`: proves the DID subject is present (signs messages
    /// and rejects credentials).
    pub const AUTHENTICATION: u8 = 1;
    /// `assertionMethod`: issues credentials.
    pub const ASSERTION_METHOD: u8 = 2;
    /// `keyAgreement`: receives encrypted messages.
    pub const KEY_AGREEMENT: u8 = 4;
    /// `capabilityInvocation`: updates the DID document.
    pub const CAPABILITY_INVOCATION: u8 = 8;
    /// `capabilityDelegation`: delegates capabilities to others.
    pub const CAPABILITY_DELEGATION: u8 = 16;
    /// Every relationship.
    pub const ALL: u8 = 31;
    /// Relationship names in the DID Core vocabulary, by bit.
    pub const NAMES: [(u8, &str); 5] = [
        (AUTHENTICATION, "authentication"),
        (ASSERTION_METHOD, "assertionMethod"),
        (KEY_AGREEMENT, "keyAgreement"),
        (CAPABILITY_INVOCATION, "capabilityInvocation"),
        (CAPABILITY_DELEGATION, "capabilityDelegation"),
    ];
}

/// What a verification method verifies with.
// Post-quantum keys are kilobytes inline, as in `PublicKey`.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum KeyMaterial {
    /// A signature key of any scheme (sr25519, Falcon-512, ML-DSA-44,
    /// hybrid): proofs are signatures under it.
    #[codec(index = 0)]
    Key(PublicKey),
    /// A chain account (`blockchainAccountId`): a transaction it signs is
    /// the proof.
    #[codec(index = 1)]
    Account(AccountId),
    /// An ML-KEM-768 encapsulation key ([`ML_KEM_768_PUBLIC`] bytes), for
    /// `keyAgreement` only.
    #[codec(index = 2)]
    MlKem768(Vec<u8>),
}

/// A verification method of a DID document.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct VerificationMethod {
    /// Its fragment (`key-1` in `did:qs:…#key-1`), unique in the document.
    pub id: Vec<u8>,
    /// Its key.
    pub material: KeyMaterial,
    /// Its relationships ([`rel`] bits, at least one).
    pub relationships: u8,
}

/// A service of a DID document.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Service {
    /// Its fragment, unique in the document (methods and services share
    /// the namespace).
    pub id: Vec<u8>,
    /// Its type (`LinkedDomains`, `DIDCommMessaging`…).
    pub service_type: Vec<u8>,
    /// Its endpoint, an absolute URI.
    pub endpoint: Vec<u8>,
}

/// The stored part of a DID document (its `id` is the DID itself).
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Document {
    /// DIDs that control this one (empty: it controls itself).
    pub controllers: Vec<Did>,
    /// Verification methods.
    pub methods: Vec<VerificationMethod>,
    /// Services.
    pub services: Vec<Service>,
    /// Other URIs of the same subject.
    pub also_known_as: Vec<Vec<u8>>,
}

/// A DID as stored: its document and metadata.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct DidRecord {
    /// The document (emptied on deactivation).
    pub document: Document,
    /// Updates applied so far; the next update must name it (the
    /// document's `versionId`).
    pub counter: u64,
    /// Block of creation.
    pub created: BlockNumber,
    /// Block of the last update (or creation).
    pub updated: BlockNumber,
    /// Deactivated (irreversible; the document is gone).
    pub deactivated: bool,
    /// Who paid the deposit and the owner reserve (the creator).
    pub depositor: AccountId,
    /// Its deposit now (per byte of this record).
    pub deposit: Balance,
}

/// One change of a document.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Op {
    /// Adds a verification method.
    #[codec(index = 0)]
    AddMethod(VerificationMethod),
    /// Removes the method with this fragment.
    #[codec(index = 1)]
    RemoveMethod(Vec<u8>),
    /// Replaces the key of a method, keeping its id and relationships.
    #[codec(index = 2)]
    RotateKey {
        /// The method's fragment.
        id: Vec<u8>,
        /// The new key.
        material: KeyMaterial,
    },
    /// Sets a method's relationships.
    #[codec(index = 3)]
    SetRelationships {
        /// The method's fragment.
        id: Vec<u8>,
        /// [`rel`] bits.
        relationships: u8,
    },
    /// Adds a service.
    #[codec(index = 4)]
    AddService(Service),
    /// Removes the service with this fragment.
    #[codec(index = 5)]
    RemoveService(Vec<u8>),
    /// Replaces the controllers.
    #[codec(index = 6)]
    SetControllers(Vec<Did>),
    /// Replaces `alsoKnownAs`.
    #[codec(index = 7)]
    SetAlsoKnownAs(Vec<Vec<u8>>),
}

/// Where a credential's status lives: entry `index` of the lead issuer's
/// status list `list` (one bit in its revocation list, one in its
/// suspension list).
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Debug,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
pub struct StatusRef {
    /// The list's number (any `u32` the issuer picks).
    pub list: u32,
    /// The entry, below [`STATUS_LIST_LENGTH`].
    pub index: u32,
}

/// A status purpose (W3C Bitstring Status List `statusPurpose`).
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Debug,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
pub enum Purpose {
    /// Revocation: once set, never cleared.
    #[codec(index = 0)]
    Revocation,
    /// Suspension: set and cleared at will.
    #[codec(index = 1)]
    Suspension,
}

/// What issuers sign and the chain registers for a credential.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Registration {
    /// Hash of the credential (see `qstack did issue`: blake2-256 of its
    /// canonical JSON, claims replaced by their salted digests).
    pub hash: H256,
    /// Hash of its schema.
    pub schema: H256,
    /// The holder (`credentialSubject.id`).
    pub subject: Did,
    /// The issuers, distinct; the first keeps the status list.
    pub issuers: Vec<Did>,
    /// How many issuers must sign (1 ≤ threshold ≤ issuers).
    pub threshold: u8,
    /// Whether the issuers may revoke or suspend it (then `status` is set).
    pub revocable: bool,
    /// Its status-list entry (only when revocable).
    pub status: Option<StatusRef>,
}

/// One issuer's proof of a [`Registration`].
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct IssuerProof {
    /// Position of the issuer in [`Registration::issuers`].
    pub issuer: u8,
    /// Fragment of its `assertionMethod`.
    pub method: Vec<u8>,
    /// Its signature of [`credential::issuance_payload`] (none when the
    /// method is the signing account).
    pub signature: Option<Signature>,
}

/// A registered credential.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Credential {
    /// What was registered.
    pub registration: Registration,
    /// The issuers whose proofs were checked, in order.
    pub signed_by: Vec<Did>,
    /// Block of issuance.
    pub issued: BlockNumber,
    /// The holder rejected it.
    pub rejected: bool,
    /// Deposit locked for this record (never returned: see the crate doc).
    pub deposit: Balance,
}

/// A credential's status as a verifier sees it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum CredentialStatus {
    /// Issued, not revoked, suspended or rejected.
    #[codec(index = 0)]
    Issued,
    /// Revoked by an issuer (final).
    #[codec(index = 1)]
    Revoked,
    /// Suspended by an issuer (may be lifted).
    #[codec(index = 2)]
    Suspended,
    /// Rejected by its holder (final).
    #[codec(index = 3)]
    Rejected,
}

/// An encrypted message waiting in a DID's inbox.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Message {
    /// The sending DID (the signer was one of its `authentication` methods).
    pub from: Did,
    /// The recipient's `keyAgreement` method it was encrypted to.
    pub key: Vec<u8>,
    /// The ML-KEM-768 ciphertext ([`ML_KEM_768_CIPHERTEXT`] bytes).
    pub kem_ciphertext: Vec<u8>,
    /// The AEAD nonce.
    pub nonce: [u8; 12],
    /// The AEAD ciphertext and tag (at most [`MAX_MESSAGE`] bytes).
    pub ciphertext: Vec<u8>,
    /// Block it was sent in.
    pub sent: BlockNumber,
    /// Who paid its deposit (refunded when it is cleared).
    pub payer: AccountId,
    /// Its deposit.
    pub deposit: Balance,
}

/// Calls. Indices are permanent.
// A call carries at most one key inline, as `Signature` does.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Call {
    /// Creates a DID with this document. Its id is derived from the signer
    /// and the signer's count of created DIDs ([`document::next_did`]), so a
    /// wallet knows it before submitting. The signer pays the deposit.
    #[codec(index = 0)]
    Create {
        /// The document.
        document: Document,
    },
    /// Applies `ops` in order to a DID the signer controls.
    #[codec(index = 1)]
    Update {
        /// The DID.
        did: Did,
        /// Its current counter (refused if stale).
        counter: u64,
        /// At most [`MAX_OPS`] changes.
        ops: Vec<Op>,
        /// A `capabilityInvocation` key's signature, when the signing
        /// account is not itself such a method.
        proof: Option<document::KeyProof>,
    },
    /// Deactivates a DID the signer controls, for good; the deposit returns
    /// to its depositor.
    #[codec(index = 2)]
    Deactivate {
        /// The DID.
        did: Did,
        /// Its current counter.
        counter: u64,
        /// A `capabilityInvocation` key's signature, as for `Update`.
        proof: Option<document::KeyProof>,
    },
    /// Registers a credential with at least `threshold` issuers' proofs.
    #[codec(index = 3)]
    Issue {
        /// What is registered.
        registration: Registration,
        /// The issuers' proofs.
        proofs: Vec<IssuerProof>,
    },
    /// The holder rejects a credential issued to it (final).
    #[codec(index = 4)]
    Reject {
        /// The credential's hash.
        hash: H256,
    },
    /// An issuer sets (or, for suspension, clears) a credential's status.
    #[codec(index = 5)]
    SetStatus {
        /// The credential's hash.
        hash: H256,
        /// Revocation or suspension.
        purpose: Purpose,
        /// Set (true) or clear (false; suspension only).
        value: bool,
    },
    /// Posts an encrypted message from one DID to another's inbox.
    #[codec(index = 6)]
    Send {
        /// The recipient.
        to: Did,
        /// The message (its `sent`, `payer` and `deposit` are filled in by
        /// the chain).
        message: Message,
    },
    /// The recipient removes a message from its inbox; its deposit returns
    /// to the sender's payer.
    #[codec(index = 7)]
    Clear {
        /// The recipient.
        to: Did,
        /// The message's number.
        seq: u64,
    },
    /// Sets the deposit per stored byte (root: a governance parameter
    /// change). Deposits already held stay as they are; each document's is
    /// netted to the new rate at its next update.
    #[codec(index = 8)]
    SetByteDeposit {
        /// The new deposit per byte.
        deposit: Balance,
    },
}

/// Errors. Indices are permanent.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Error {
    /// No such DID.
    #[codec(index = 0)]
    UnknownDid,
    /// The DID is deactivated.
    #[codec(index = 1)]
    Deactivated,
    /// The signer is not a `capabilityInvocation` method of the DID or its
    /// controllers (or, for the relationship the call needs, of the DID).
    #[codec(index = 2)]
    NotAuthorized,
    /// The update names another counter than the DID's current one.
    #[codec(index = 3)]
    StaleCounter,
    /// A fragment is empty, too long, or has characters other than
    /// letters, digits, `-`, `.`, `_`, `~`.
    #[codec(index = 4)]
    BadFragment,
    /// Two methods or services share a fragment.
    #[codec(index = 5)]
    DuplicateId,
    /// No method or service with this fragment.
    #[codec(index = 6)]
    UnknownId,
    /// Relationships are zero or have unknown bits, or do not suit the
    /// key (an ML-KEM key only agrees keys; a signature key never does).
    #[codec(index = 7)]
    BadRelationships,
    /// A key has the wrong length.
    #[codec(index = 8)]
    BadKey,
    /// A URI is not absolute, too long, or has spaces or control
    /// characters; or a service type is empty or too long.
    #[codec(index = 9)]
    BadUri,
    /// A list is longer than its limit (methods, services, controllers,
    /// `alsoKnownAs`, operations, issuers).
    #[codec(index = 10)]
    TooMany,
    /// A controller is unknown, deactivated, or listed twice.
    #[codec(index = 11)]
    BadController,
    /// The document would have no way to be updated (no
    /// `capabilityInvocation` method of its own, and no controllers).
    #[codec(index = 12)]
    Uncontrollable,
    /// A credential with this hash is registered.
    #[codec(index = 13)]
    CredentialExists,
    /// No credential with this hash.
    #[codec(index = 14)]
    UnknownCredential,
    /// Threshold zero or above the issuers, issuers empty or repeated, or
    /// fewer than `threshold` distinct issuers proved.
    #[codec(index = 15)]
    Threshold,
    /// A proof's signature does not verify, or names a method that is not
    /// an `assertionMethod` of its issuer.
    #[codec(index = 16)]
    BadProof,
    /// A revocable credential needs a status entry, a non-revocable one has
    /// none; or the entry is past the list's end.
    #[codec(index = 17)]
    BadStatus,
    /// The status entry is taken by another credential.
    #[codec(index = 18)]
    StatusTaken,
    /// The credential is not revocable.
    #[codec(index = 19)]
    NotRevocable,
    /// Revocation cannot be undone.
    #[codec(index = 20)]
    Irreversible,
    /// The credential was rejected by its holder.
    #[codec(index = 21)]
    Rejected,
    /// The recipient has no ML-KEM-768 `keyAgreement` method of that id, or
    /// the message's sizes are wrong.
    #[codec(index = 22)]
    BadMessage,
    /// The recipient's inbox is full.
    #[codec(index = 23)]
    InboxFull,
    /// No such message.
    #[codec(index = 24)]
    UnknownMessage,
    /// A deposit or counter does not fit.
    #[codec(index = 25)]
    Overflow,
}

qstack_runtime_primitives::impl_module_error!(Error, PALLET_INDEX);

/// Events.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Event {
    /// A DID was created.
    #[codec(index = 0)]
    Created {
        /// The DID.
        did: Did,
        /// Its depositor.
        depositor: AccountId,
        /// Its deposit.
        deposit: Balance,
    },
    /// A DID's document changed.
    #[codec(index = 1)]
    Updated {
        /// The DID.
        did: Did,
        /// Its new counter (`versionId`).
        counter: u64,
        /// Its deposit now.
        deposit: Balance,
    },
    /// A DID was deactivated.
    #[codec(index = 2)]
    Deactivated {
        /// The DID.
        did: Did,
        /// Deposit returned to its depositor.
        refund: Balance,
    },
    /// A credential was registered.
    #[codec(index = 3)]
    Issued {
        /// Its hash.
        hash: H256,
        /// Its holder.
        subject: Did,
        /// The issuers that proved it.
        signed_by: Vec<Did>,
    },
    /// The holder rejected a credential.
    #[codec(index = 4)]
    Rejected {
        /// Its hash.
        hash: H256,
    },
    /// An issuer set or cleared a credential's status bit.
    #[codec(index = 5)]
    StatusChanged {
        /// Its hash.
        hash: H256,
        /// Which bit.
        purpose: Purpose,
        /// Its value now.
        value: bool,
        /// The issuer that changed it.
        by: Did,
    },
    /// A message arrived in an inbox.
    #[codec(index = 6)]
    MessageSent {
        /// The sender.
        from: Did,
        /// The recipient.
        to: Did,
        /// Its number in the recipient's inbox.
        seq: u64,
    },
    /// A message was cleared from an inbox.
    #[codec(index = 7)]
    MessageCleared {
        /// The recipient.
        to: Did,
        /// Its number.
        seq: u64,
    },
    /// Root changed the deposit per stored byte.
    #[codec(index = 8)]
    ByteDepositSet {
        /// The new deposit per byte.
        deposit: Balance,
    },
}

storage! { pallet = "Did";
    /// Every DID ever created, by id (deactivated ones as tombstones).
    pub Dids: map Blake2_128Concat Did => DidRecord;
    /// DIDs each account has created (derives the next DID's id).
    pub CreatedBy: map Blake2_128Concat AccountId => u64 [default];
    /// Registered credentials by hash.
    pub Credentials: map Identity H256 => Credential;
    /// The credential holding each status entry: (lead issuer, list) →
    /// entry → credential hash.
    pub StatusEntry: double_map Blake2_128Concat (Did, u32), Twox64Concat u32 => H256;
    /// Status-list pages with a bit ever set: (issuer, list, purpose) →
    /// page → [`STATUS_PAGE_BITS`] bits, least significant bit first.
    pub StatusPage: double_map Blake2_128Concat (Did, u32, Purpose), Twox64Concat u32 => Vec<u8>;
    /// Messages waiting for each DID, by number.
    pub Inbox: double_map Blake2_128Concat Did, Twox64Concat u64 => Message;
    /// Per inbox: messages waiting and the next number.
    pub InboxState: map Blake2_128Concat Did => (u32, u64) [default];
    /// Deposit per stored byte (chain spec `did.byteDeposit`).
    pub ByteDeposit: value Balance;
    /// Deposits locked for status-list pages (never returned).
    pub StatusDeposits: value Balance [default];
    /// Sum of every deposit held (equals the deposit account's balance).
    pub TotalDeposits: value Balance [default];
}

/// Genesis: `{"did": {"byteDeposit": "100000000"}}` (a decimal string of
/// base units; absent: [`DEFAULT_BYTE_DEPOSIT`]).
#[derive(Clone, PartialEq, Eq, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GenesisConfig {
    /// Deposit per stored byte, in base units.
    #[serde(default)]
    pub byte_deposit: Option<alloc::string::String>,
}

/// The deposit per stored byte in force.
pub fn byte_deposit() -> Balance {
    ByteDeposit::get().unwrap_or(DEFAULT_BYTE_DEPOSIT)
}

/// Weights of the calls (picoseconds of reference execution): native time
/// of one dispatch measured by `cargo bench -p pallet-did` on the 2-core
/// reference machine (figures in the comments), times 3 for Wasm and a
/// disk-backed trie, rounded up, as the other pallets'. Signature checks
/// are charged per proof at the scheme's verification cost. Storage
/// accesses are charged separately by [`Dispatch::db_access`].
pub mod weights {
    /// `create` of a document with a hybrid key (measured with the
    /// `deactivate` that removes it again: 49 µs for both, charged to each).
    pub const CREATE: u64 = 150_000_000;
    /// `update`: fixed part (one service added or removed: 21 µs).
    pub const UPDATE_BASE: u64 = 65_000_000;
    /// `update`: per operation.
    pub const UPDATE_OP: u64 = 20_000_000;
    /// `deactivate` (see [`CREATE`]).
    pub const DEACTIVATE: u64 = 150_000_000;
    /// `issue`: fixed part (2-of-3 with hybrid proofs: 146 µs, of which
    /// 114 µs are the two verifications).
    pub const ISSUE_BASE: u64 = 80_000_000;
    /// `issue`: per proof, beyond its signature check.
    pub const ISSUE_PROOF: u64 = 20_000_000;
    /// One hybrid signature verification (57 µs, the dearest scheme),
    /// charged for every signed proof whatever its scheme.
    pub const VERIFY: u64 = 180_000_000;
    /// `reject` (as `set_status`).
    pub const REJECT: u64 = 60_000_000;
    /// `set_status` (9.5 µs on an existing page; the first bit of a page
    /// also pays its deposit).
    pub const SET_STATUS: u64 = 60_000_000;
    /// `send` of a 4 KiB message (with its `clear`: 70 µs).
    pub const SEND: u64 = 140_000_000;
    /// `clear`.
    pub const CLEAR: u64 = 80_000_000;
}

/// The DID pallet, as the runtime composes it.
pub struct Pallet;

impl qstack_support::Pallet for Pallet {
    const NAME: &'static str = "Did";
    const INDEX: u8 = PALLET_INDEX;
    const GENESIS_KEYS: &'static [&'static str] = &["did"];
    type Call = Call;
    type Event = Event;
    type Error = Error;
    type Genesis = GenesisConfig;

    fn build_genesis(config: &GenesisConfig) -> Result<(), GenesisError> {
        if let Some(s) = &config.byte_deposit {
            let v: Balance = s
                .parse()
                .map_err(|_| GenesisError::new("did.byteDeposit", "expected a decimal amount"))?;
            ByteDeposit::put(&v);
        }
        let acct = document::deposit_account();
        if !pallet_tokens::pseudo::is_pseudo(&acct) {
            pallet_tokens::pseudo::register(&acct, &[])
                .map_err(|e| GenesisError::from_error("did", &e))?;
        }
        Ok(())
    }
    fn storage() -> Vec<qstack_support::storage::EntryMeta> {
        storage_metadata()
    }
    fn constants() -> Vec<qstack_support::ConstantMeta> {
        constants_metadata()
    }
    fn try_state() -> Result<(), &'static str> {
        document::try_state()
    }
    fn owned_objects(out: &mut alloc::collections::BTreeMap<AccountId, u32>) {
        for (_, rec) in Dids::iter() {
            if !rec.deactivated {
                let e = out.entry(rec.depositor).or_insert(0);
                *e = e.saturating_add(1);
            }
        }
    }
}

impl qstack_support::PalletEvent for Event {}

fn len_u64<T>(v: &[T]) -> u64 {
    u64::try_from(v.len()).unwrap_or(u64::MAX)
}

impl Dispatch for Call {
    fn weight(&self) -> u64 {
        use weights::*;
        match self {
            Call::Create { .. } => CREATE,
            Call::Update { ops, proof, .. } => UPDATE_BASE
                .saturating_add(UPDATE_OP.saturating_mul(len_u64(ops)))
                .saturating_add(if proof.is_some() { VERIFY } else { 0 }),
            Call::Deactivate { proof, .. } => {
                DEACTIVATE.saturating_add(if proof.is_some() { VERIFY } else { 0 })
            }
            Call::Issue { proofs, .. } => {
                let signed = proofs.iter().filter(|p| p.signature.is_some()).count();
                let signed = u64::try_from(signed).unwrap_or(u64::MAX);
                ISSUE_BASE
                    .saturating_add(ISSUE_PROOF.saturating_mul(len_u64(proofs)))
                    .saturating_add(VERIFY.saturating_mul(signed))
            }
            Call::Reject { .. } => REJECT,
            Call::SetStatus { .. } => SET_STATUS,
            Call::Send { .. } => SEND,
            Call::Clear { .. } => CLEAR,
            Call::SetByteDeposit { .. } => CLEAR,
        }
    }
    /// Worst cases the tests measure (`QSTACK_DB_REPORT=1`) plus a margin.
    fn db_access(&self) -> qstack_support::DbAccess {
        use qstack_support::DbAccess as D;
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        match self {
            Call::Create { document } => {
                D::new(30u32.saturating_add(n(document.controllers.len())), 16)
            }
            Call::Update { ops, .. } => D::new(
                40u32.saturating_add(n(ops.len()).saturating_mul(MAX_CONTROLLERS)),
                20,
            ),
            Call::Deactivate { .. } => D::new(32u32.saturating_add(MAX_CONTROLLERS), 16),
            Call::Issue { registration, .. } => D::new(
                20u32.saturating_add(n(registration.issuers.len()).saturating_mul(3)),
                12,
            ),
            Call::Reject { .. } => D::new(12u32.saturating_add(MAX_CONTROLLERS), 4),
            Call::SetStatus { .. } => D::new(20u32.saturating_add(MAX_ISSUERS), 12),
            Call::Send { .. } => D::new(24, 12),
            Call::Clear { .. } => D::new(20, 12),
            Call::SetByteDeposit { .. } => D::new(3, 4),
        }
    }
    fn is_known(index: u8) -> bool {
        index <= 8
    }
    fn is_parameter_change(&self) -> bool {
        matches!(self, Call::SetByteDeposit { .. })
    }
    fn dispatch(self, ctx: &DispatchContext<'_>) -> Result<(), DispatchError> {
        if let Call::SetByteDeposit { deposit } = self {
            ctx.origin.ensure_root()?;
            ByteDeposit::put(&deposit);
            document::deposit_event(Event::ByteDepositSet { deposit });
            return Ok(());
        }
        let who = ctx.origin.ensure_signed()?;
        match self {
            Call::Create { document } => document::create(&who, document).map(|_| ()),
            Call::Update {
                did,
                counter,
                ops,
                proof,
            } => document::update(&who, &did, counter, ops, proof),
            Call::Deactivate {
                did,
                counter,
                proof,
            } => document::deactivate(&who, &did, counter, proof),
            Call::Issue {
                registration,
                proofs,
            } => credential::issue(&who, registration, proofs),
            Call::Reject { hash } => credential::reject(&who, &hash),
            Call::SetStatus {
                hash,
                purpose,
                value,
            } => credential::set_status(&who, &hash, purpose, value),
            Call::Send { to, message } => message::send(&who, &to, message).map(|_| ()),
            Call::Clear { to, seq } => message::clear(&who, &to, seq),
            Call::SetByteDeposit { .. } => Err(DispatchError::BadOrigin),
        }
    }
}
