//! The dev engine's shell: drives [`DevEngine`] (instant or interval seal)
//! with the node's client, pool and network. A validator builds a block from
//! the pool's ready transactions off the async loop and imports it final at
//! once; a follower never builds (blocks come by sync).

use crate::clock::block_time;
use crate::txpool::TxPool;
use anyhow::Result;
use codec::Encode;
use qstack_client::{Client, ImportOutcome};
use qstack_consensus::dev::{DevEngine, SealMode};
use qstack_consensus::{Action, Engine, Input};
use qstack_core::AccountId;
use qstack_network::NetworkHandle;
use qstack_runtime_primitives::{Digest, Header, TransactionValidityError};
use qstack_txpool::TxHash;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A block the dev engine built, with what became of the pool's transactions.
struct Authored {
    built: qstack_client::BuiltBlock,
    included: Vec<TxHash>,
    rejected: Vec<(TxHash, TransactionValidityError)>,
}

/// Builds a block on the best block from the pool's ready transactions; the
/// header names `author` (a `PreRuntime` item, `AUTHOR_ENGINE_ID`) so the
/// runtime pays it the author's share of fees.
fn build_dev_block(
    client: &Client,
    txpool: &TxPool,
    author: Option<&AccountId>,
) -> Result<Authored> {
    let best = client.info()?.best_hash;
    let ready = txpool.pool.lock().ready();
    let txs: Vec<Arc<Vec<u8>>> = ready.iter().map(|(_, b)| b.clone()).collect();
    let mut inherents = BTreeMap::new();
    inherents.insert(
        qstack_runtime::timestamp::INHERENT_IDENTIFIER,
        block_time(client, &best).encode(),
    );
    let digest = author.map(Digest::with_author).unwrap_or_default();
    let built = client.build_block(&best, &inherents, digest, &txs)?;
    let included: Vec<TxHash> = built
        .included
        .iter()
        .filter_map(|i| ready.get(*i).map(|(h, _)| *h))
        .collect();
    let rejected: Vec<(TxHash, TransactionValidityError)> = built
        .rejected
        .iter()
        .filter_map(|(i, e)| ready.get(*i).map(|(h, _)| (*h, *e)))
        .collect();
    Ok(Authored {
        built,
        included,
        rejected,
    })
}

/// Stores a built dev block (final: nobody else decides) and updates the pool.
fn import_dev_block(client: &Client, txpool: &TxPool, authored: Authored) -> Result<Header> {
    let Authored {
        built,
        included,
        rejected,
    } = authored;
    let header = built.block.header.clone();
    let hash = header.hash();
    match client.commit_built(built, None, true)? {
        ImportOutcome::Imported { .. } | ImportOutcome::AlreadyKnown => {}
    }
    txpool.on_imported(client, hash, &included, &rejected, true);
    tracing::info!(target: "qstack::author", "authored #{} ({hash}) with {} transactions", header.number, included.len());
    Ok(header)
}

/// Runs the dev engine in `mode` until `shutdown` resolves; builds blocks
/// only if `validator`, naming `author` in them.
pub async fn run(
    client: Arc<Client>,
    txpool: Arc<TxPool>,
    network: NetworkHandle,
    mode: SealMode,
    validator: bool,
    author: Option<AccountId>,
    shutdown: impl std::future::Future,
) -> Result<()> {
    let mut engine = DevEngine::new(mode);
    let start = Instant::now();
    let now = move || start.elapsed().as_millis() as u64;
    let mut wake = tokio::time::Instant::now();
    tokio::pin!(shutdown);
    // The block built and not yet imported.
    let mut pending: Option<Authored> = None;
    let mut queue: std::collections::VecDeque<Action> = engine.start(now()).into();
    loop {
        while let Some(action) = queue.pop_front() {
            let reply = match action {
                Action::BuildBlock { request, .. } if !validator => {
                    vec![Input::BuildFailed { request }]
                }
                Action::BuildBlock { request, .. } => {
                    let (client, txpool) = (client.clone(), txpool.clone());
                    match tokio::task::spawn_blocking(move || {
                        build_dev_block(&client, &txpool, author.as_ref())
                    })
                    .await?
                    {
                        Ok(authored) => {
                            let header = &authored.built.block.header;
                            let (hash, number) = (header.hash(), header.number);
                            pending = Some(authored);
                            vec![Input::Built {
                                request,
                                hash,
                                number,
                            }]
                        }
                        Err(e) => {
                            tracing::error!(target: "qstack::author", "could not author a block: {e:#}");
                            vec![Input::BuildFailed { request }]
                        }
                    }
                }
                Action::ImportBlock { hash, .. } => match pending.take() {
                    Some(authored) if authored.built.block.header.hash() == hash => {
                        let (client, txpool) = (client.clone(), txpool.clone());
                        match tokio::task::spawn_blocking(move || {
                            import_dev_block(&client, &txpool, authored)
                        })
                        .await?
                        {
                            Ok(header) => {
                                let (number, parent) = (header.number, header.parent_hash);
                                network.announce_block(header);
                                vec![Input::BlockImported {
                                    hash,
                                    number,
                                    parent,
                                    best: true,
                                    own: true,
                                }]
                            }
                            Err(e) => {
                                tracing::error!(target: "qstack::author", "could not import our block: {e:#}");
                                Vec::new()
                            }
                        }
                    }
                    _ => Vec::new(),
                },
                Action::WakeAt(at) => {
                    wake = tokio::time::Instant::from_std(start + Duration::from_millis(at));
                    Vec::new()
                }
                // Imported final already; the dev engine asks for nothing else.
                Action::Finalize(_)
                | Action::CheckBlock { .. }
                | Action::SetBest(_)
                | Action::Broadcast(_)
                | Action::Persist(_)
                | Action::Report(_) => Vec::new(),
            };
            for input in reply {
                queue.extend(engine.handle(now(), input));
            }
        }
        let input = tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep_until(wake), if matches!(mode, SealMode::Interval(_)) => Input::Tick,
            _ = txpool.ready.notified() => Input::TransactionsReady { count: txpool.pool.lock().status().ready },
        };
        queue.extend(engine.handle(now(), input));
    }
    Ok(())
}
