//! Why a submission is refused, worded for the wallet user who sent it.

use qstack_runtime_primitives::{InvalidTransaction, TransactionValidityError, UnknownTransaction};

/// Why [`Pool::submit`](crate::Pool::submit) refused a transaction.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
pub enum PoolError {
    /// The same bytes are already in the pool.
    #[error("this transaction is already in the pool; wait for it to be included")]
    AlreadyImported,
    /// The runtime says it can never be included as sent.
    #[error("invalid transaction: {}", describe_invalid(*.0))]
    Invalid(InvalidTransaction),
    /// The runtime could not decide.
    #[error("transaction validity could not be determined: {}", describe_unknown(*.0))]
    Unknown(UnknownTransaction),
    /// A pending transaction provides the same tag (same sender and nonce) with
    /// a priority at least as high.
    #[error(
        "a pending transaction with the same nonce has priority {old}, this one only {new}: \
         raise the tip to replace it, or wait for the pending one"
    )]
    TooLowPriority {
        /// Priority of the pending transaction.
        old: u64,
        /// Priority of the refused one.
        new: u64,
    },
    /// The pool is at its limits and holds nothing of lower priority it could evict.
    #[error(
        "the transaction pool is full and every pending transaction has at least this one's \
         priority: retry later or raise the tip"
    )]
    PoolFull,
    /// Larger than the pool accepts.
    #[error("transaction is {size} bytes; the pool accepts at most {max} bytes per transaction")]
    TooLarge {
        /// Encoded size of the refused transaction.
        size: usize,
        /// The pool's limit (`PoolConfig::max_tx_bytes`).
        max: usize,
    },
    /// The same bytes were found invalid recently and are refused without validation.
    #[error(
        "this exact transaction was recently found invalid and is temporarily refused; \
         re-sign it (with the account's current nonce) instead of resending it"
    )]
    TemporarilyBanned,
}

impl From<TransactionValidityError> for PoolError {
    fn from(e: TransactionValidityError) -> Self {
        match e {
            TransactionValidityError::Invalid(i) => PoolError::Invalid(i),
            TransactionValidityError::Unknown(u) => PoolError::Unknown(u),
        }
    }
}

/// A user-facing explanation of an [`InvalidTransaction`].
pub fn describe_invalid(e: InvalidTransaction) -> String {
    let text = match e {
        InvalidTransaction::Call => "this call is not allowed in this form",
        InvalidTransaction::Payment => "the sender cannot pay the fee",
        InvalidTransaction::Future => "its nonce is ahead of the account's nonce",
        InvalidTransaction::Stale => {
            "its nonce was already used (sign again with the account's current nonce)"
        }
        InvalidTransaction::BadProof => "the signature does not verify",
        InvalidTransaction::AncientBirthBlock => {
            "its mortality period has ended or its birth block is unknown (sign it again)"
        }
        InvalidTransaction::ExhaustsResources => "it does not fit within a block's limits",
        InvalidTransaction::Custom(code) => {
            return format!("rejected by the runtime (custom error {code})")
        }
        InvalidTransaction::BadMandatory => "an inherent failed",
        InvalidTransaction::MandatoryValidation => {
            "an inherent cannot be submitted as a transaction"
        }
        InvalidTransaction::BadSigner => "the signer has no registered key",
        InvalidTransaction::MasterKeyDisabled => {
            "the account's master key is disabled (sign with its regular key or signer list)"
        }
        InvalidTransaction::NoRegularKey => "the account has no regular key",
        InvalidTransaction::NoSignerList => {
            "the account has no signer list, so it cannot be multi-signed"
        }
        InvalidTransaction::UnlistedSigner => {
            "a signer of the multi-signature is not on the account's signer list"
        }
        InvalidTransaction::DuplicateSigner => "a signer signed the multi-signature twice",
        InvalidTransaction::TooManySigners => {
            "the multi-signature has more signatures than a signer list can hold"
        }
        InvalidTransaction::QuorumNotMet => {
            "the signers' weights do not reach the account's quorum (gather more signatures)"
        }
        InvalidTransaction::NoTicket => {
            "the ticket does not exist (already used, or not created yet)"
        }
        InvalidTransaction::TicketWithNonce => "a transaction that uses a ticket must have nonce 0",
        InvalidTransaction::WrongGenesis => "it was signed for another chain",
        InvalidTransaction::WrongTransactionVersion => {
            "it was signed for another transaction version (update the wallet)"
        }
        InvalidTransaction::UnknownCall => "this runtime has no such pallet or call",
        InvalidTransaction::Malformed => "its bytes do not decode as an extrinsic",
        InvalidTransaction::TooLarge => "it is larger than the chain accepts",
        InvalidTransaction::Migrating => {
            "a runtime upgrade is migrating storage over several blocks; submit it again when it ends"
        }
    };
    text.to_owned()
}

/// A user-facing explanation of an [`UnknownTransaction`].
pub fn describe_unknown(e: UnknownTransaction) -> String {
    match e {
        UnknownTransaction::CannotLookup => "state needed to check it is missing".to_owned(),
        UnknownTransaction::NoUnsignedValidator => {
            "no validator accepts this unsigned call".to_owned()
        }
        UnknownTransaction::Custom(code) => format!("custom runtime reason {code}"),
    }
}

/// A user-facing explanation of a validity error (for event reasons).
pub(crate) fn describe_validity(e: TransactionValidityError) -> String {
    match e {
        TransactionValidityError::Invalid(i) => describe_invalid(i),
        TransactionValidityError::Unknown(u) => {
            format!("validity could not be determined: {}", describe_unknown(u))
        }
    }
}

/// Whether a transaction found invalid this way should be refused for a while
/// without validation. Not for `Future` (it may become valid) nor
/// `ExhaustsResources` (a fuller block may have been the reason).
pub(crate) fn bans(e: InvalidTransaction) -> bool {
    !matches!(
        e,
        InvalidTransaction::Future | InvalidTransaction::ExhaustsResources
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_cause_and_the_fix() {
        let stale = PoolError::Invalid(InvalidTransaction::Stale).to_string();
        assert!(stale.contains("nonce was already used"), "{stale}");
        let low = PoolError::TooLowPriority { old: 7, new: 3 }.to_string();
        assert!(
            low.contains('7') && low.contains('3') && low.contains("tip"),
            "{low}"
        );
        let big = PoolError::TooLarge { size: 10, max: 5 }.to_string();
        assert!(
            big.contains("10 bytes") && big.contains("at most 5"),
            "{big}"
        );
        let unknown = PoolError::Unknown(UnknownTransaction::CannotLookup).to_string();
        assert!(unknown.contains("state needed"), "{unknown}");
        // No message is a debug dump.
        for e in [
            PoolError::AlreadyImported,
            PoolError::PoolFull,
            PoolError::TemporarilyBanned,
            PoolError::Invalid(InvalidTransaction::Custom(3)),
        ] {
            let m = e.to_string();
            assert!(!m.contains('{') && !m.contains("::"), "{m}");
        }
    }
}
