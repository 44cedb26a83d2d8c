//! Integration tests of the transaction pool against the toy validator.

mod lifecycle;
mod limits;
mod ordering;
mod sequences;

use qstack_core::H256;
use qstack_runtime_primitives::{TransactionSource, TransactionValidityError};
use qstack_txpool::testing::{ToyTx, ToyValidator};
use qstack_txpool::{Pool, PoolConfig, PoolError, Submitted, TxEvent, TxHash};

/// A pool, the toy chain state it validates against, and a block counter.
pub(crate) struct Node {
    pub(crate) pool: Pool,
    pub(crate) chain: ToyValidator,
    pub(crate) number: u64,
}

/// The hash of toy block `n`.
pub(crate) fn block_hash(n: u64) -> H256 {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&n.to_le_bytes());
    H256(b)
}

impl Node {
    pub(crate) fn new(config: PoolConfig) -> Self {
        Node {
            pool: Pool::new(config),
            chain: ToyValidator::new(),
            number: 0,
        }
    }

    pub(crate) fn best(&self) -> H256 {
        block_hash(self.number)
    }

    pub(crate) fn submit(&mut self, tx: &ToyTx) -> Result<Submitted, PoolError> {
        let r = self.pool.submit(
            self.best(),
            TransactionSource::External,
            tx.bytes(),
            &self.chain,
        );
        self.pool.check_invariants().unwrap();
        r
    }

    /// Submits and expects acceptance with no effect on other transactions.
    pub(crate) fn accept(&mut self, tx: &ToyTx) -> Submitted {
        let s = self
            .submit(tx)
            .unwrap_or_else(|e| panic!("{tx:?} refused: {e}"));
        assert_eq!(s.hash, tx.hash());
        s
    }

    /// Imports a block containing `txs` (applied to the chain state).
    pub(crate) fn block(&mut self, txs: &[&ToyTx]) -> Vec<(TxHash, TxEvent)> {
        for tx in txs {
            self.chain.apply(&tx.bytes()).unwrap();
        }
        let hashes: Vec<TxHash> = txs.iter().map(|t| t.hash()).collect();
        self.block_with(&hashes, &[])
    }

    /// Imports a block that included `included` and rejected `rejected`
    /// (the chain state is changed by the caller).
    pub(crate) fn block_with(
        &mut self,
        included: &[TxHash],
        rejected: &[(TxHash, TransactionValidityError)],
    ) -> Vec<(TxHash, TxEvent)> {
        self.number += 1;
        let at = self.best();
        let events = self.pool.on_block(at, included, rejected, &self.chain);
        self.pool.check_invariants().unwrap();
        events
    }

    /// Ready transactions in block order, decoded.
    pub(crate) fn ready(&self) -> Vec<ToyTx> {
        self.pool
            .ready()
            .iter()
            .map(|(_, xt)| ToyTx::decode_all(xt).unwrap())
            .collect()
    }
}

/// A config small enough to hit every limit in a test.
pub(crate) fn small() -> PoolConfig {
    PoolConfig {
        max_count: 4,
        max_bytes: 10_000,
        max_future_count: 2,
        max_future_bytes: 10_000,
        max_tx_bytes: 1_000,
        revalidate_per_block: 64,
        revalidate_after_blocks: 0,
        ban_blocks: 3,
        max_banned: 64,
        max_in_block_tracked: 64,
        recent_tags_blocks: 2,
    }
}

/// `(sender, nonce)` of each transaction, for compact assertions.
pub(crate) fn ids(txs: &[ToyTx]) -> Vec<(u8, u64)> {
    txs.iter().map(|t| (t.sender, t.nonce)).collect()
}

pub(crate) const ALICE: u8 = 1;
pub(crate) const BOB: u8 = 2;
pub(crate) const CAROL: u8 = 3;
pub(crate) const DAVE: u8 = 4;
