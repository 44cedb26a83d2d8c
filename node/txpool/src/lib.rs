//! The transaction pool: validated extrinsics waiting for a block, their
//! ready/future state (Substrate's tags model), limits, bans and watcher
//! events; it must not execute the runtime, touch storage or the network, or
//! read a clock (the node's shell validates through [`Validator`], calls
//! [`Pool::on_block`] once per new best block and forwards the returned events).
//!
//! The pool is a synchronous state machine. Every call that changes it returns
//! the [`TxEvent`]s it caused, so the shell can forward them to
//! `author_submitAndWatchExtrinsic` subscribers; nothing inside is async and
//! nothing reads the time (bans and longevity are counted in blocks seen by
//! [`Pool::on_block`]).
//!
//! A transaction is *ready* when every tag it `requires` is provided by a ready
//! transaction in the pool (tags provided by recently included transactions
//! are struck from `requires`); otherwise it is *future*. Each tag has at most
//! one provider in the pool: a transaction providing a tag already provided
//! replaces the holder only with a strictly higher priority.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)
)]

mod bounded;
mod config;
mod error;
mod pool;
mod ready;
#[cfg(any(test, feature = "test-utils"))]
pub mod testing;

pub use config::PoolConfig;
pub use error::{describe_invalid, describe_unknown, PoolError};
pub use pool::Pool;
pub use ready::ReadyIter;

use qstack_core::H256;
use qstack_runtime_primitives::{TransactionSource, TransactionValidity};

/// A transaction's identity in the pool: blake2-256 of its encoded bytes.
pub type TxHash = H256;

/// Validates an extrinsic against the state of a block. The node implements it
/// with the runtime's `TaggedTransactionQueue_validate_transaction`.
pub trait Validator {
    /// Validity of `xt` (SCALE-encoded extrinsic) on top of block `at`.
    fn validate(&self, at: H256, source: TransactionSource, xt: &[u8]) -> TransactionValidity;
}

/// Where [`Pool::submit`] put an accepted transaction.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SubmitOutcome {
    /// Every required tag is provided: it may go into the next block.
    Ready,
    /// Waits for a transaction providing a missing tag (e.g. a lower nonce).
    Future,
}

impl SubmitOutcome {
    /// The watcher event this outcome starts with.
    pub fn event(self) -> TxEvent {
        match self {
            SubmitOutcome::Ready => TxEvent::Ready,
            SubmitOutcome::Future => TxEvent::Future,
        }
    }
}

/// An accepted submission.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Submitted {
    /// The new transaction's hash.
    pub hash: TxHash,
    /// Its initial state (its first watcher event).
    pub outcome: SubmitOutcome,
    /// What the submission did to *other* transactions: `Usurped` for those it
    /// replaced, `Dropped` for those evicted to make room, `Ready` for futures
    /// it unlocked, `Future` for transactions that lost their dependency.
    pub events: Vec<(TxHash, TxEvent)>,
}

/// A status change of one transaction, as reported to its watchers.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum TxEvent {
    /// Waiting for a transaction providing a missing tag.
    Future,
    /// May be included in the next block.
    Ready,
    /// Included in this block (and removed from the pool).
    InBlock(H256),
    /// The block it was included in is finalized.
    Finalized(H256),
    /// Replaced by this transaction, which provides the same tag with a higher priority.
    Usurped(TxHash),
    /// Removed while possibly still valid (pool limits, validity unknown), with the reason.
    Dropped(String),
    /// Removed because it is no longer valid, with the reason.
    Invalid(String),
}

impl TxEvent {
    /// Whether the transaction left the pool with this event (exactly one such
    /// event is emitted per transaction removed).
    pub fn leaves_pool(&self) -> bool {
        matches!(
            self,
            TxEvent::InBlock(_) | TxEvent::Usurped(_) | TxEvent::Dropped(_) | TxEvent::Invalid(_)
        )
    }

    /// Whether no further event will follow for this transaction, so a watcher
    /// can be closed.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            TxEvent::Finalized(_) | TxEvent::Usurped(_) | TxEvent::Dropped(_) | TxEvent::Invalid(_)
        )
    }
}

/// Counts for `author_*` and metrics.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct PoolStatus {
    /// Ready transactions.
    pub ready: usize,
    /// Future transactions.
    pub future: usize,
    /// Encoded bytes of all transactions in the pool.
    pub bytes: usize,
}
