//! Block, header, digest, extrinsic, runtime-version and storage-helper types,
//! in Substrate's wire formats so generic clients (polkadot.js, subxt) decode
//! qstack chains. Types and pure logic only; no node or pallet concerns.
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)
)]

extern crate alloc;

pub mod account;
pub mod asset;
pub mod code;
pub mod era;
pub mod extrinsic;
pub mod storage;
pub mod tokens;
pub mod validity;
pub mod version;

pub use account::{AccountSettings, DepositAuth, DepositRequest, SignerEntry, SignerListInfo};
pub use asset::{AssetId, TokenCode};
pub use era::Era;
pub use extrinsic::{
    AdditionalSigned, EncodedCall, ExtrinsicError, ExtrinsicSignature, MultiAddress,
    OpaqueExtrinsic, SignForm, SignedExtra, SignedPayload, SignerKey, SignerSignature,
    UncheckedExtrinsic, EXTRINSIC_FORMAT_VERSION, TX_SIGN_DOMAIN,
};
pub use validity::{
    ApplyExtrinsicResult, DispatchError, DispatchOutcome, InvalidTransaction, ModuleError,
    TransactionSource, TransactionValidity, TransactionValidityError, UnknownTransaction,
    ValidTransaction,
};
pub use version::{ApiId, RuntimeVersion, VERSION_SECTION};

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use qstack_core::{AccountId, BlockNumber, H256};
use scale_info::TypeInfo;

/// Four-byte id of a consensus engine in digest items (`b"BFT0"`, `b"POW_"`).
pub type ConsensusEngineId = [u8; 4];

/// Engine id of the digest item naming the block author:
/// `PreRuntime(AUTHOR_ENGINE_ID, author.encode())` with the author's
/// `AccountId` (Substrate's way of handing the author to the runtime). The
/// authoring node writes it; the runtime pays the author's share of fees to
/// that account. A block without it (the dev engine by default) has no author.
pub const AUTHOR_ENGINE_ID: ConsensusEngineId = *b"QAUT";

/// A header digest item; indices match Substrate's `DigestItem`.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum DigestItem {
    /// Arbitrary data.
    #[codec(index = 0)]
    Other(Vec<u8>),
    /// A message from the runtime to the consensus engine.
    #[codec(index = 4)]
    Consensus(ConsensusEngineId, Vec<u8>),
    /// A seal added by the block author (PoW seal, signature).
    #[codec(index = 5)]
    Seal(ConsensusEngineId, Vec<u8>),
    /// Data from the block author given to the runtime (slot, proposer).
    #[codec(index = 6)]
    PreRuntime(ConsensusEngineId, Vec<u8>),
    /// The runtime code or heap pages changed in this block.
    #[codec(index = 8)]
    RuntimeEnvironmentUpdated,
}

/// The header digest.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Digest {
    /// The items, in order.
    pub logs: Vec<DigestItem>,
}

impl Digest {
    /// Appends an item.
    pub fn push(&mut self, item: DigestItem) {
        self.logs.push(item);
    }

    /// The block author named by the first [`AUTHOR_ENGINE_ID`] pre-runtime
    /// item, if it holds exactly an account id.
    pub fn author(&self) -> Option<AccountId> {
        self.logs.iter().find_map(|item| match item {
            DigestItem::PreRuntime(id, data) if *id == AUTHOR_ENGINE_ID => {
                let mut input = &data[..];
                let who = AccountId::decode(&mut input).ok()?;
                input.is_empty().then_some(who)
            }
            _ => None,
        })
    }

    /// A digest naming `author` (see [`AUTHOR_ENGINE_ID`]).
    pub fn with_author(author: &AccountId) -> Self {
        Digest {
            logs: alloc::vec![DigestItem::PreRuntime(AUTHOR_ENGINE_ID, author.encode())],
        }
    }
}

/// A block header: exactly Substrate's layout.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Header {
    /// Hash of the parent header.
    pub parent_hash: H256,
    /// Block height.
    #[codec(compact)]
    pub number: BlockNumber,
    /// State trie root after executing this block.
    pub state_root: H256,
    /// Ordered trie root of the encoded extrinsics.
    pub extrinsics_root: H256,
    /// Engine and runtime digest items.
    pub digest: Digest,
}

impl Header {
    /// The block hash: blake2-256 of the encoded header.
    pub fn hash(&self) -> H256 {
        H256(qstack_io::hashing::blake2_256(&self.encode()))
    }
}

impl Header {
    /// The genesis header for a genesis state with `state_root`.
    pub fn genesis(state_root: H256) -> Self {
        let no_extrinsics: [&[u8]; 0] = [];
        Header {
            parent_hash: H256::zero(),
            number: 0,
            state_root,
            extrinsics_root: H256(qstack_trie::ordered_trie_root(&no_extrinsics)),
            digest: Digest::default(),
        }
    }
}

/// A block with extrinsics of type `X`.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Block<X> {
    /// The header.
    pub header: Header,
    /// The body.
    pub extrinsics: Vec<X>,
}

/// A block whose extrinsics are kept as bytes (the node's view).
pub type OpaqueBlock = Block<OpaqueExtrinsic>;

impl Block<OpaqueExtrinsic> {
    /// Whether the body is the one the header commits to (its extrinsics
    /// root, over the extrinsics' bytes as the runtime computes it): a body
    /// that is not is a bad copy, whatever the block's validity.
    pub fn body_matches_header(&self) -> bool {
        opaque_extrinsics_root(&self.extrinsics) == self.header.extrinsics_root
    }
}

/// The extrinsics root of a body of extrinsic bytes (what a header names).
pub fn opaque_extrinsics_root(extrinsics: &[OpaqueExtrinsic]) -> H256 {
    let values: Vec<&[u8]> = extrinsics.iter().map(|x| &x.0[..]).collect();
    H256(qstack_trie::ordered_trie_root(&values))
}

/// The ordered trie root over the encodings of `extrinsics` (Substrate's rule:
/// key = compact index, value = encoded extrinsic). Computed inside the runtime
/// with the same trie code the node uses, so it needs no host function.
pub fn extrinsics_root<X: Encode>(extrinsics: &[X]) -> H256 {
    let values: Vec<Vec<u8>> = extrinsics.iter().map(|x| x.encode()).collect();
    H256(qstack_trie::ordered_trie_root(&values))
}
