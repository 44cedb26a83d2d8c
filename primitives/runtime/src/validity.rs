//! Transaction validity and dispatch outcomes (Substrate-shaped, qstack indices).

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use scale_info::TypeInfo;

/// Why a transaction can never be included (as sent).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum InvalidTransaction {
    /// The call is not allowed in this form (e.g. unsigned where a signature is needed).
    #[codec(index = 0)]
    Call,
    /// The sender cannot pay the fee.
    #[codec(index = 1)]
    Payment,
    /// The nonce is ahead of the account's: may become valid later.
    #[codec(index = 2)]
    Future,
    /// The nonce was already used.
    #[codec(index = 3)]
    Stale,
    /// The signature does not verify.
    #[codec(index = 4)]
    BadProof,
    /// The mortal era's birth block is not known or too old.
    #[codec(index = 5)]
    AncientBirthBlock,
    /// The transaction would exceed the block's weight or length limit.
    #[codec(index = 6)]
    ExhaustsResources,
    /// A pallet-specific reason.
    #[codec(index = 7)]
    Custom(u8),
    /// An inherent failed.
    #[codec(index = 8)]
    BadMandatory,
    /// A mandatory (inherent) extrinsic was sent as a transaction.
    #[codec(index = 9)]
    MandatoryValidation,
    /// The signer is unknown: an account id with no registered key.
    #[codec(index = 10)]
    BadSigner,
    /// Signed with the master key, which the account has disabled.
    #[codec(index = 11)]
    MasterKeyDisabled,
    /// Signed as the regular key of an account that has none.
    #[codec(index = 12)]
    NoRegularKey,
    /// Multi-signed for an account that has no signer list.
    #[codec(index = 13)]
    NoSignerList,
    /// A multi-signature names a signer that is not in the account's list.
    #[codec(index = 14)]
    UnlistedSigner,
    /// A multi-signature names the same signer twice.
    #[codec(index = 15)]
    DuplicateSigner,
    /// A multi-signature carries more signatures than a signer list can hold.
    #[codec(index = 16)]
    TooManySigners,
    /// The signers' weights do not reach the account's quorum.
    #[codec(index = 17)]
    QuorumNotMet,
    /// The ticket does not exist: already used, or not created yet.
    #[codec(index = 18)]
    NoTicket,
    /// A transaction that uses a ticket must carry nonce 0.
    #[codec(index = 19)]
    TicketWithNonce,
    /// Signed for another chain. Not produced since transaction version 4
    /// (which carries no genesis tag: such a signature fails as
    /// `BadProof`); kept so the indices after it stay.
    #[codec(index = 20)]
    WrongGenesis,
    /// Signed for another transaction version.
    #[codec(index = 21)]
    WrongTransactionVersion,
    /// The pallet or call index does not exist in this runtime.
    #[codec(index = 22)]
    UnknownCall,
    /// The bytes do not decode as an extrinsic (truncated, trailing bytes, bad version).
    #[codec(index = 23)]
    Malformed,
    /// The transaction is larger than the chain accepts.
    #[codec(index = 24)]
    TooLarge,
    /// A runtime upgrade's storage migration spans several blocks and is
    /// still running: signed transactions wait until it ends.
    #[codec(index = 25)]
    Migrating,
}

/// Validity could not be determined.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum UnknownTransaction {
    /// State needed to decide is missing.
    #[codec(index = 0)]
    CannotLookup,
    /// No validator is known for this unsigned call.
    #[codec(index = 1)]
    NoUnsignedValidator,
    /// Other reason.
    #[codec(index = 2)]
    Custom(u8),
}

/// Why a transaction is rejected before dispatch.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum TransactionValidityError {
    /// Never valid as sent.
    #[codec(index = 0)]
    Invalid(InvalidTransaction),
    /// Validity unknown.
    #[codec(index = 1)]
    Unknown(UnknownTransaction),
}

impl From<InvalidTransaction> for TransactionValidityError {
    fn from(e: InvalidTransaction) -> Self {
        TransactionValidityError::Invalid(e)
    }
}

/// Where the pool got a transaction.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum TransactionSource {
    /// Already in a block.
    #[codec(index = 0)]
    InBlock,
    /// Submitted through this node's RPC.
    #[codec(index = 1)]
    Local,
    /// Gossiped from a peer.
    #[codec(index = 2)]
    External,
}

/// Pool metadata for a valid transaction.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ValidTransaction {
    /// Higher goes first.
    pub priority: u64,
    /// Tags that must be provided by earlier transactions (e.g. previous nonce).
    pub requires: Vec<Vec<u8>>,
    /// Tags this transaction provides (e.g. its nonce).
    pub provides: Vec<Vec<u8>>,
    /// Blocks for which the answer holds.
    pub longevity: u64,
    /// Whether to gossip it.
    pub propagate: bool,
}

/// Result of `TaggedTransactionQueue_validate_transaction`.
pub type TransactionValidity = Result<ValidTransaction, TransactionValidityError>;

/// A pallet's error: pallet index and error index.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ModuleError {
    /// Pallet index in the runtime.
    pub index: u8,
    /// Error variant index in the pallet's `Error` enum.
    pub error: [u8; 4],
}

/// Why a dispatched call failed (its fee stays paid, its writes are undone).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum DispatchError {
    /// Unspecified.
    #[codec(index = 0)]
    Other,
    /// The origin may not make this call.
    #[codec(index = 2)]
    BadOrigin,
    /// A pallet error.
    #[codec(index = 3)]
    Module(ModuleError),
    /// Arithmetic overflow or underflow.
    #[codec(index = 7)]
    Arithmetic,
    /// Resources exhausted.
    #[codec(index = 9)]
    Exhausted,
    /// State is corrupt.
    #[codec(index = 10)]
    Corruption,
}

impl DispatchError {
    /// A pallet error from its indices.
    pub fn module(index: u8, error: u8) -> Self {
        DispatchError::Module(ModuleError {
            index,
            error: [error, 0, 0, 0],
        })
    }
}

/// Result of dispatching an included extrinsic.
pub type DispatchOutcome = Result<(), DispatchError>;

/// Result of `BlockBuilder_apply_extrinsic`: the outer error means "not
/// includable"; the inner one means "included, call failed".
pub type ApplyExtrinsicResult = Result<DispatchOutcome, TransactionValidityError>;

/// Implements `From<$error> for DispatchError` as a module error of pallet
/// `$index`; the error's SCALE variant index is its error index.
#[macro_export]
macro_rules! impl_module_error {
    ($error:ty, $index:expr) => {
        impl From<$error> for $crate::DispatchError {
            fn from(e: $error) -> Self {
                $crate::DispatchError::module($index, e as u8)
            }
        }
    };
}
