//! The BFT engine on the generic shell ([`crate::shell::Shell`]): sets up
//! [`BftEngine`] (the pure Tendermint core behind the [`Engine`] trait) from
//! its durable store ([`BftDisk`]: the signer's high-water mark and the WAL,
//! replayed on restart) and runs it. Everything BFT-specific lives in the
//! engine: proposals share their block's body, `CheckBlock` is `valid(v)`,
//! a decision imports the block with its commit certificate (final at once),
//! caught double signs go into the blocks this node proposes, and synced
//! blocks' certificates are checked by the engine's [`BftVerifier`].

use crate::shell::{Shell, ShellConfig};
use crate::TxPool;
use anyhow::{Context, Result};
use qstack_client::Client;
use qstack_consensus::bft::store::BftDisk;
use qstack_consensus::bft::{BftConfig, BftEngine, BftVerifier, ValidatorSet};
use qstack_consensus::{Engine, Verifier};
use qstack_core::{AccountId, Pair};
use qstack_network::{ConsensusMessage, NetworkHandle};
use qstack_runtime_primitives::Header;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Everything the BFT engine runs with.
pub struct BftParams {
    /// The validator set (from the chain spec until staking lands).
    pub set: ValidatorSet,
    /// Timeouts.
    pub config: BftConfig,
    /// Least time between blocks (ms).
    pub block_time_ms: u64,
    /// Our consensus key, if we are a validator.
    pub key: Option<Pair>,
    /// Where the signer state and the WAL live.
    pub dir: PathBuf,
    /// Named as author in our blocks.
    pub author: Option<AccountId>,
    /// Most a proposal's timestamp may be ahead of our clock (ms).
    pub max_clock_drift_ms: u64,
}

/// The network's justification check from an engine's verifier.
pub fn justify_with(verifier: Arc<dyn Verifier>) -> crate::Justify {
    Arc::new(move |h: &Header, j: Option<&[u8]>| verifier.verify(&h.hash(), u64::from(h.number), j))
}

/// Starts a BFT node's network on a free loopback port, for benchmarks and
/// tests that run several validators in one process: the consensus topic on,
/// no Kademlia, no mDNS, `boot` dialled, synced blocks checked against `set`.
/// Returns the handle, the consensus messages and the node's dial address.
pub async fn loopback_network(
    client: Arc<Client>,
    txpool: Arc<TxPool>,
    set: &ValidatorSet,
    boot: Option<&str>,
) -> Result<(NetworkHandle, mpsc::Receiver<ConsensusMessage>, String)> {
    let mut cfg = qstack_network::NetworkConfig::new(
        qstack_network::node_key::generate(),
        vec!["/ip4/127.0.0.1/tcp/0".parse()?],
    );
    cfg.kademlia = false;
    cfg.mdns = false;
    cfg.consensus_messages = true;
    cfg.boot_nodes = boot.iter().map(|b| b.parse()).collect::<Result<_, _>>()?;
    let chain = client.info()?.genesis_hash;
    let justify = justify_with(Arc::new(BftVerifier::new(chain, set.clone())));
    let (net, msgs) = qstack_network::start(
        cfg,
        Arc::new(crate::NetChain {
            client,
            txpool: Some(txpool),
            finalize_on_import: true,
            justify: Some(justify),
        }),
    )?;
    let address = net
        .dial_address(Duration::from_secs(10))
        .await
        .context("the node did not start listening")?;
    Ok((net, msgs, address))
}

/// The BFT engine of a node whose last final block is `client`'s, with its
/// durable store opened (the WAL replayed if it is of the height it resumes).
pub fn engine(client: &Client, params: &BftParams) -> Result<(BftEngine, BftDisk)> {
    let info = client.info()?;
    let height = u64::from(info.finalized_number) + 1;
    let (disk, restored) = BftDisk::open(&params.dir, height)
        .with_context(|| format!("opening the BFT store in {}", params.dir.display()))?;
    if let Some(k) = &params.key {
        match params.set.index_of(&k.public()) {
            Some(i) => {
                tracing::info!(target: "qstack::bft", "validator #{i} of {}", params.set.len())
            }
            None => {
                tracing::warn!(target: "qstack::bft", "--validator: our key is not in the validator set; observing only")
            }
        }
    }
    if restored.resumed {
        tracing::info!(target: "qstack::bft", "replaying {} WAL records at height {height}", restored.records.len());
    }
    let engine = BftEngine::new(
        params.config.clone(),
        info.genesis_hash,
        params.set.clone(),
        params.key.clone(),
        height,
        restored.signer,
        restored.records,
    );
    Ok((engine, disk))
}

/// Runs the BFT engine on the generic shell until `shutdown` resolves.
pub async fn run(
    client: Arc<Client>,
    txpool: Arc<TxPool>,
    network: NetworkHandle,
    messages: mpsc::Receiver<ConsensusMessage>,
    params: BftParams,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let (engine, disk) = engine(&client, &params)?;
    run_engine(
        client, txpool, network, messages, engine, disk, &params, shutdown,
    )
    .await
}

/// Runs an engine built by [`engine`] (its verifier already serving the
/// network) until `shutdown` resolves.
#[allow(clippy::too_many_arguments)]
pub async fn run_engine(
    client: Arc<Client>,
    txpool: Arc<TxPool>,
    network: NetworkHandle,
    messages: mpsc::Receiver<ConsensusMessage>,
    engine: BftEngine,
    disk: BftDisk,
    params: &BftParams,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    debug_assert!(
        engine.verifier().is_some(),
        "a BFT engine checks certificates"
    );
    let config = ShellConfig {
        author: params.key.is_some(),
        author_account: params.author,
        pace_ms: params.block_time_ms,
        max_future_ms: Some(params.max_clock_drift_ms),
        ..ShellConfig::default()
    };
    Shell::new(client, txpool, network, engine, Box::new(disk), config)
        .run(messages, shutdown)
        .await
}

#[cfg(test)]
mod tests {
    //! Four validators in one process (each with its own database, pool,
    //! libp2p network on loopback and the BFT engine on the generic shell), and a fifth node that
    //! gossips two conflicting prevotes signed by validator 2: the
    //! validators see the double sign, the next proposer puts it in a block
    //! and the runtime records it.

    use super::*;
    use crate::chain_spec::{BftSpec, ChainSpec, ConsensusSpec, LOCAL_BFT_KEYS as KEYS};
    use crate::client_on;
    use codec::{Decode, Encode};
    use qstack_consensus::bft::{Message, SignedVote, Vote, VoteKind};
    use qstack_core::{KeyScheme, H256};
    use qstack_executor::{Executor, ExecutorConfig};
    use std::time::Instant;

    fn offences(client: &Client) -> u32 {
        let Ok(info) = client.info() else { return 0 };
        let key = qstack_runtime::evidence::OffenceCount::key();
        client
            .storage(&info.finalized_hash, &key)
            .ok()
            .flatten()
            .and_then(|b| u32::decode(&mut &b[..]).ok())
            .unwrap_or(0)
    }

    #[test]
    fn a_double_sign_seen_on_the_network_is_recorded_on_chain() {
        let spec = ChainSpec::load("local-bft").unwrap();
        let ConsensusSpec::Bft(BftSpec { timeouts, .. }) = &spec.consensus else {
            panic!("local-bft is a bft spec")
        };
        let config = timeouts.config();
        let set = spec.consensus.bft_validators().unwrap().unwrap();
        let genesis = spec.genesis_source().unwrap();
        let executor = Arc::new(Executor::new(ExecutorConfig::default()).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let clients: Vec<Arc<Client>> = (0..5)
            .map(|i| {
                Arc::new(
                    client_on(
                        &executor,
                        &genesis,
                        Some(&dir.path().join(format!("n{i}/db"))),
                    )
                    .unwrap(),
                )
            })
            .collect();
        let chain = clients[0].info().unwrap().genesis_hash;
        let rt = tokio::runtime::Runtime::new().unwrap();
        let base = dir.path().to_path_buf();
        let recorded = rt.block_on(async move {
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let mut boot: Option<String> = None;
            let mut nets = Vec::new();
            for (i, client) in clients.iter().enumerate() {
                let txpool = Arc::new(TxPool::new());
                let (net, msgs, address) =
                    loopback_network(client.clone(), txpool.clone(), &set, boot.as_deref())
                        .await
                        .unwrap();
                boot.get_or_insert(address);
                nets.push(net.clone());
                if i == 4 {
                    // The fifth node only gossips; drain what it receives.
                    let mut msgs = msgs;
                    tokio::spawn(async move { while msgs.recv().await.is_some() {} });
                    continue;
                }
                let (suri, scheme) = KEYS[i];
                let params = BftParams {
                    set: set.clone(),
                    config: config.clone(),
                    // Long heights: the forged votes land in the height they name.
                    block_time_ms: 2000,
                    key: Some(Pair::from_suri(scheme, suri).unwrap()),
                    dir: base.join(format!("n{i}/bft")),
                    author: None,
                    max_clock_drift_ms: 5_000,
                };
                let mut stop = stop_rx.clone();
                tokio::spawn(run(client.clone(), txpool, net, msgs, params, async move {
                    let _ = stop.changed().await;
                }));
            }
            let charlie = Pair::from_suri(KeyScheme::Sr25519, "//Charlie").unwrap();
            let index = set.index_of(&charlie.public()).unwrap();
            let deadline = Instant::now() + Duration::from_secs(120);
            let mut forged = 0u32;
            while Instant::now() < deadline {
                if clients[..4].iter().all(|c| offences(c) > 0) {
                    break;
                }
                let height = u64::from(clients[0].info().unwrap().finalized_number) + 1;
                if height > 1 {
                    for value in [H256([1; 32]), H256([2; 32])] {
                        let vote = Vote {
                            height,
                            round: 0,
                            kind: VoteKind::Prevote,
                            value: Some(value),
                            validator: index,
                        };
                        let m = Message::Vote(SignedVote::sign(&charlie, &chain, vote));
                        nets[4].broadcast_consensus(crate::shell::Wire::Msg(m.encode()).encode());
                    }
                    forged += 1;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let counts: Vec<u32> = clients[..4].iter().map(|c| offences(c)).collect();
            let heights: Vec<u32> = clients
                .iter()
                .map(|c| c.info().unwrap().finalized_number)
                .collect();
            let _ = stop_tx.send(true);
            (counts, heights, forged)
        });
        rt.shutdown_timeout(Duration::from_secs(5));
        let (counts, heights, forged) = recorded;
        assert!(
            counts.iter().all(|c| *c > 0),
            "offences recorded per validator {counts:?} after {forged} forged pairs; heights {heights:?}"
        );
        // The chain went on deciding blocks.
        assert!(heights[..4].iter().all(|h| *h >= 2), "{heights:?}");
    }
}
