//! A toy [`Validator`] for tests and benchmarks (feature `test-utils`): an
//! extrinsic is a SCALE-encoded [`ToyTx`], and the "chain state" is a map of
//! account nonces, like `frame_system`'s `CheckNonce`: a transaction provides
//! the tag `(sender, nonce)` and, when its nonce is ahead of the account's,
//! requires `(sender, nonce - 1)`.

use crate::{TxHash, Validator};
use codec::{Decode, Encode};
use qstack_core::{hashing::blake2_256, H256};
use qstack_runtime_primitives::{
    InvalidTransaction, TransactionSource, TransactionValidity, TransactionValidityError,
    UnknownTransaction, ValidTransaction,
};
use std::cell::Cell;
use std::collections::{HashMap, HashSet};

/// A toy extrinsic.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ToyTx {
    /// The account sending it.
    pub sender: u8,
    /// The account nonce it uses.
    pub nonce: u64,
    /// The priority the validator reports.
    pub priority: u64,
    /// The longevity the validator reports (`u64::MAX`: immortal).
    pub longevity: u64,
    /// Makes the validator answer `BadProof`.
    pub bad_proof: bool,
    /// Filler, to give the extrinsic a size (and a distinct hash).
    pub padding: Vec<u8>,
}

impl ToyTx {
    /// An immortal, well-signed transaction.
    pub fn new(sender: u8, nonce: u64, priority: u64) -> Self {
        ToyTx {
            sender,
            nonce,
            priority,
            longevity: u64::MAX,
            bad_proof: false,
            padding: Vec::new(),
        }
    }

    /// With this longevity.
    pub fn longevity(mut self, blocks: u64) -> Self {
        self.longevity = blocks;
        self
    }

    /// With a signature that does not verify.
    pub fn bad_proof(mut self) -> Self {
        self.bad_proof = true;
        self
    }

    /// With `n` bytes of filler.
    pub fn padded(mut self, n: usize) -> Self {
        self.padding = vec![0xAB; n];
        self
    }

    /// The extrinsic bytes.
    pub fn bytes(&self) -> Vec<u8> {
        self.encode()
    }

    /// The pool's hash of it.
    pub fn hash(&self) -> TxHash {
        H256(blake2_256(&self.encode()))
    }

    /// Decodes an extrinsic made by [`ToyTx::bytes`] (all bytes must be used).
    pub fn decode_all(xt: &[u8]) -> Option<Self> {
        let mut input = xt;
        let tx = ToyTx::decode(&mut input).ok()?;
        input.is_empty().then_some(tx)
    }
}

/// The tag a transaction of `sender` with `nonce` provides.
pub fn tag(sender: u8, nonce: u64) -> Vec<u8> {
    (sender, nonce).encode()
}

/// Validates [`ToyTx`]s against a map of account nonces.
#[derive(Default, Debug)]
pub struct ToyValidator {
    nonces: HashMap<u8, u64>,
    unknown: HashSet<u8>,
    calls: Cell<usize>,
}

impl ToyValidator {
    /// A validator where every account's nonce is 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// The account's current nonce.
    pub fn nonce(&self, sender: u8) -> u64 {
        self.nonces.get(&sender).copied().unwrap_or(0)
    }

    /// Sets the account's nonce, as a block from elsewhere would.
    pub fn set_nonce(&mut self, sender: u8, nonce: u64) {
        self.nonces.insert(sender, nonce);
    }

    /// Makes validation of this sender's transactions answer `Unknown(CannotLookup)`.
    pub fn set_unknown(&mut self, sender: u8, unknown: bool) {
        if unknown {
            self.unknown.insert(sender);
        } else {
            self.unknown.remove(&sender);
        }
    }

    /// How many validations were asked for so far.
    pub fn calls(&self) -> usize {
        self.calls.get()
    }

    /// Applies an extrinsic in a block: it must be valid and use the account's
    /// nonce, which it then increments.
    pub fn apply(&mut self, xt: &[u8]) -> Result<(), TransactionValidityError> {
        let tx = ToyTx::decode_all(xt).ok_or(InvalidTransaction::Malformed)?;
        if tx.bad_proof {
            return Err(InvalidTransaction::BadProof.into());
        }
        let current = self.nonce(tx.sender);
        match tx.nonce.cmp(&current) {
            std::cmp::Ordering::Less => Err(InvalidTransaction::Stale.into()),
            std::cmp::Ordering::Greater => Err(InvalidTransaction::Future.into()),
            std::cmp::Ordering::Equal => {
                self.nonces.insert(tx.sender, current.saturating_add(1));
                Ok(())
            }
        }
    }
}

impl Validator for ToyValidator {
    fn validate(&self, _at: H256, _source: TransactionSource, xt: &[u8]) -> TransactionValidity {
        self.calls.set(self.calls.get().saturating_add(1));
        let tx = ToyTx::decode_all(xt).ok_or(InvalidTransaction::Malformed)?;
        if self.unknown.contains(&tx.sender) {
            return Err(TransactionValidityError::Unknown(
                UnknownTransaction::CannotLookup,
            ));
        }
        if tx.bad_proof {
            return Err(InvalidTransaction::BadProof.into());
        }
        let current = self.nonce(tx.sender);
        if tx.nonce < current {
            return Err(InvalidTransaction::Stale.into());
        }
        let requires = match tx.nonce.checked_sub(1) {
            Some(prev) if tx.nonce > current => vec![tag(tx.sender, prev)],
            _ => Vec::new(),
        };
        Ok(ValidTransaction {
            priority: tx.priority,
            requires,
            provides: vec![tag(tx.sender, tx.nonce)],
            longevity: tx.longevity,
            propagate: true,
        })
    }
}
