//! The dev engine on the generic shell ([`crate::shell::Shell`]): one node
//! authors every block (instant or interval seal) from the pool's ready
//! transactions and imports it final at once; a follower never builds
//! (blocks come by sync). The dev engine persists nothing.

use crate::shell::{Shell, ShellConfig};
use crate::txpool::TxPool;
use anyhow::Result;
use qstack_client::Client;
use qstack_consensus::dev::{DevEngine, SealMode};
use qstack_consensus::NothingDurable;
use qstack_core::AccountId;
use qstack_network::{ConsensusInbox, NetworkHandle};
use std::sync::Arc;

/// Runs the dev engine in `mode` until `shutdown` resolves; builds blocks
/// only if `validator`, naming `author` in them.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    client: Arc<Client>,
    txpool: Arc<TxPool>,
    network: NetworkHandle,
    messages: ConsensusInbox,
    mode: SealMode,
    validator: bool,
    author: Option<AccountId>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let config = ShellConfig {
        author: validator,
        author_account: author,
        ..ShellConfig::default()
    };
    let engine = DevEngine::new(mode);
    Shell::new(
        client,
        txpool,
        network,
        engine,
        Box::new(NothingDurable),
        config,
    )
    .run(messages, shutdown)
    .await
}
