//! The node's transaction pool: [`qstack_txpool::Pool`] behind a lock,
//! validating through the runtime, with the watchers of
//! `author_submitAndWatchExtrinsic` and the wake-up of the block author.

use parking_lot::Mutex;
use qstack_client::Client;
use qstack_core::H256;
use qstack_rpc::TxStatus;
use qstack_runtime_primitives::{
    TransactionSource, TransactionValidity, TransactionValidityError, UnknownTransaction,
};
use qstack_txpool::{Pool, PoolConfig, PoolError, TxEvent, TxHash, Validator};
use std::collections::HashMap;
use tokio::sync::{mpsc, Notify};

/// Validates through the runtime at the best block.
pub(crate) struct RuntimeValidator<'a>(pub(crate) &'a Client);

impl Validator for RuntimeValidator<'_> {
    fn validate(&self, at: H256, source: TransactionSource, xt: &[u8]) -> TransactionValidity {
        self.0.validate_transaction(&at, source, xt).unwrap_or(Err(
            TransactionValidityError::Unknown(UnknownTransaction::CannotLookup),
        ))
    }
}

/// The pool, its watchers and the wake-up for the author.
pub struct TxPool {
    pub(crate) pool: Mutex<Pool>,
    pub(crate) watchers: Mutex<HashMap<TxHash, mpsc::Sender<TxStatus>>>,
    pub(crate) ready: Notify,
}

pub(crate) fn status_of(e: &TxEvent) -> TxStatus {
    match e {
        TxEvent::Future => TxStatus::Future,
        TxEvent::Ready => TxStatus::Ready,
        TxEvent::InBlock(h) => TxStatus::InBlock(*h),
        TxEvent::Finalized(h) => TxStatus::Finalized(*h),
        TxEvent::Usurped(h) => TxStatus::Usurped(*h),
        TxEvent::Dropped(r) => TxStatus::Dropped(r.clone()),
        TxEvent::Invalid(r) => TxStatus::Invalid(r.clone()),
    }
}

impl Default for TxPool {
    fn default() -> Self {
        Self::new()
    }
}

impl TxPool {
    /// An empty pool with the default limits.
    pub fn new() -> Self {
        TxPool {
            pool: Mutex::new(Pool::new(PoolConfig::default())),
            watchers: Mutex::new(HashMap::new()),
            ready: Notify::new(),
        }
    }

    /// Validates `xt` against `client`'s best block and adds it (a
    /// transaction from outside the node, e.g. a benchmark's load).
    pub fn submit_external(&self, client: &Client, xt: Vec<u8>) -> Result<TxHash, PoolError> {
        let at = client.info().map(|i| i.best_hash).unwrap_or_default();
        let s = self.pool.lock().submit(
            at,
            TransactionSource::External,
            xt,
            &RuntimeValidator(client),
        )?;
        self.notify(&s.events);
        self.ready.notify_one();
        Ok(s.hash)
    }

    /// Pool upkeep after block `hash` (holding `included`, having refused
    /// `rejected`) became best, and final if `finalized`: included
    /// transactions leave, the rest are re-validated, watchers hear of it.
    pub(crate) fn on_imported(
        &self,
        client: &Client,
        hash: H256,
        included: &[TxHash],
        rejected: &[(TxHash, TransactionValidityError)],
        finalized: bool,
    ) {
        let events = {
            let mut pool = self.pool.lock();
            let mut events = pool.on_block(hash, included, rejected, &RuntimeValidator(client));
            if finalized {
                events.extend(pool.on_finalized(hash, included));
            }
            events
        };
        self.notify(&events);
    }

    /// Pool upkeep after block `hash` (holding `included`) became final
    /// after its import: watchers of its transactions hear of it.
    pub(crate) fn on_finalized(&self, hash: H256, included: &[TxHash]) {
        let events = self.pool.lock().on_finalized(hash, included);
        self.notify(&events);
    }

    pub(crate) fn notify(&self, events: &[(TxHash, TxEvent)]) {
        let mut watchers = self.watchers.lock();
        for (hash, event) in events {
            tracing::debug!(target: "qstack::txpool", "{hash}: {event:?}");
            if let Some(tx) = watchers.get(hash) {
                let _ = tx.try_send(status_of(event));
                if event.is_final() {
                    watchers.remove(hash);
                }
            }
        }
    }
}
