//! The chain as the network sees it ([`qstack_network::ChainApi`]): status,
//! blocks to serve, blocks from peers imported (with pool upkeep) and
//! gossiped transactions into the pool.

use crate::txpool::{RuntimeValidator, TxPool};
use qstack_client::{Client, ImportOutcome};
use qstack_core::H256;
use qstack_network::sync::ImportResult;
use qstack_network::GossipVerdict;
use qstack_runtime_primitives::{Header, TransactionSource};
use qstack_txpool::{PoolError, TxHash};
use std::sync::Arc;

/// The chain's info, or zeros if the database cannot be read (the RPC and
/// the network answer something rather than fail).
pub(crate) fn info_or_zero(client: &Client) -> qstack_client::ChainInfo {
    client.info().unwrap_or(qstack_client::ChainInfo {
        genesis_hash: H256::zero(),
        best_hash: H256::zero(),
        best_number: 0,
        finalized_hash: H256::zero(),
        finalized_number: 0,
    })
}

/// The chain as the network sees it: status, blocks to serve, imports from
/// peers (with pool upkeep) and gossiped transactions into the pool.
pub struct NetChain {
    /// The client.
    pub client: Arc<Client>,
    /// The pool (none: a node that takes no transactions, e.g. a benchmark).
    pub txpool: Option<Arc<TxPool>>,
    /// Blocks from peers are final at once (engines with instant finality).
    pub finalize_on_import: bool,
    /// Checks a block's justification before import (BFT: its commit
    /// certificate); a block that fails is bad.
    pub justify: Option<Justify>,
}

/// A justification check: header, justification → ok or why not.
pub type Justify = Arc<dyn Fn(&Header, Option<&[u8]>) -> Result<(), String> + Send + Sync>;

/// Whose fault a failed import is. Only what the block itself makes the
/// runtime refuse is the sender's ([`ImportResult::Bad`], which costs the
/// peer); the database, missing state, an executor out of instances or
/// memory, a runtime this node cannot run (a host function it lacks) are
/// this node's own trouble ([`ImportResult::Failed`]: retried, nobody
/// blamed), so load on this node (an RPC storm) never gets honest peers
/// banned.
pub(crate) fn verdict(e: &qstack_client::ImportError) -> ImportResult {
    use qstack_client::{ClientError, ImportError};
    use qstack_executor::ExecutorError;
    match e {
        ImportError::UnknownParent(_) => ImportResult::UnknownParent,
        ImportError::Client(
            ClientError::Storage(_)
            | ClientError::State(_)
            | ClientError::Executor(
                ExecutorError::Resources(_)
                | ExecutorError::Backend { .. }
                | ExecutorError::MissingHostFunction { .. },
            ),
        ) => ImportResult::Failed(e.to_string()),
        _ => ImportResult::Bad(e.to_string()),
    }
}

impl qstack_network::ChainApi for NetChain {
    fn status(&self) -> qstack_network::protocol::Status {
        let i = info_or_zero(&self.client);
        qstack_network::protocol::Status {
            genesis: i.genesis_hash,
            best_number: i.best_number,
            best_hash: i.best_hash,
            finalized_number: i.finalized_number,
            finalized_hash: i.finalized_hash,
        }
    }

    fn hash_of(&self, number: u32) -> Result<Option<H256>, String> {
        self.client.hash_of(number).map_err(|e| e.to_string())
    }

    fn block(&self, hash: &H256) -> Result<Option<qstack_network::protocol::BlockData>, String> {
        Ok(self
            .client
            .block(hash)
            .map_err(|e| e.to_string())?
            .map(|(b, justification)| qstack_network::protocol::BlockData {
                header: b.header,
                body: Some(b.extrinsics),
                justification,
            }))
    }

    fn import(&self, block: qstack_network::protocol::BlockData) -> ImportResult {
        let Some(extrinsics) = block.body else {
            return ImportResult::Bad("no body".into());
        };
        if let Some(justify) = &self.justify {
            if let Err(why) = justify(&block.header, block.justification.as_deref()) {
                return ImportResult::Bad(why);
            }
        }
        let hash = block.header.hash();
        let included: Vec<TxHash> = extrinsics
            .iter()
            .map(|x| qstack_client::extrinsic_hash(&x.0))
            .collect();
        let block_ = qstack_runtime_primitives::OpaqueBlock {
            header: block.header,
            extrinsics,
        };
        let started = std::time::Instant::now();
        let imported =
            self.client
                .import_block(block_, block.justification, self.finalize_on_import);
        if matches!(imported, Ok(ImportOutcome::Imported { .. })) {
            crate::metrics::global()
                .import
                .observe(started.elapsed().as_secs_f64());
        }
        match imported {
            Ok(ImportOutcome::Imported { best }) => {
                if let (true, Some(txpool)) = (best, &self.txpool) {
                    txpool.on_imported(&self.client, hash, &included, &[], self.finalize_on_import);
                }
                ImportResult::Imported
            }
            Ok(ImportOutcome::AlreadyKnown) => ImportResult::Imported,
            Err(e) => verdict(&e),
        }
    }

    fn transaction(&self, bytes: Vec<u8>) -> GossipVerdict {
        let Some(txpool) = &self.txpool else {
            return GossipVerdict::Ignore;
        };
        let at = self.client.info().map(|i| i.best_hash).unwrap_or_default();
        // Bytes that are no extrinsic of this runtime are the sender's fault
        // (and cost a runtime call if validated): refuse them up front. After
        // a runtime upgrade the native decoder may not know new calls, so
        // only the native spec version judges.
        if qstack_runtime::Extrinsic::decode_strict(&bytes, qstack_runtime::RuntimeCall::is_known)
            .is_err()
        {
            let native = self
                .client
                .runtime_version(&at)
                .is_ok_and(|v| v.spec_version == qstack_runtime::VERSION.spec_version);
            return if native {
                GossipVerdict::Reject
            } else {
                GossipVerdict::Ignore
            };
        }
        let submitted = txpool.pool.lock().submit(
            at,
            TransactionSource::External,
            bytes,
            &RuntimeValidator(&self.client),
        );
        match submitted {
            Ok(s) => {
                txpool.notify(&s.events);
                txpool.ready.notify_one();
                GossipVerdict::Accept
            }
            Err(PoolError::Invalid(_)) => GossipVerdict::Reject,
            Err(_) => GossipVerdict::Ignore,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qstack_client::{ClientError, ImportError};
    use qstack_executor::ExecutorError;

    fn exec(e: ExecutorError) -> ImportError {
        ImportError::Client(ClientError::Executor(e))
    }

    #[test]
    fn local_trouble_is_never_the_senders_fault() {
        let local = [
            exec(ExecutorError::Resources("instance pool exhausted".into())),
            exec(ExecutorError::Backend {
                method: "Core_execute_block".into(),
                reason: "missing trie node".into(),
            }),
            exec(ExecutorError::MissingHostFunction {
                module: "env".into(),
                name: "ext_new_v1".into(),
            }),
        ];
        for e in &local {
            assert!(matches!(verdict(e), ImportResult::Failed(_)), "{e}");
        }
        let theirs = [
            ImportError::Rejected("bad extrinsic".into()),
            ImportError::StateRootMismatch {
                expected: H256::zero(),
                computed: H256([1; 32]),
            },
            ImportError::BadNumber { parent: 1, got: 5 },
            exec(ExecutorError::Trap {
                method: "Core_execute_block".into(),
                reason: "unreachable".into(),
            }),
            exec(ExecutorError::OutOfFuel {
                method: "Core_execute_block".into(),
                fuel: 1,
            }),
        ];
        for e in &theirs {
            assert!(matches!(verdict(e), ImportResult::Bad(_)), "{e}");
        }
        assert!(matches!(
            verdict(&ImportError::UnknownParent(H256::zero())),
            ImportResult::UnknownParent
        ));
    }
}
