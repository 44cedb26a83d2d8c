//! The qstack node service: everything a running node wires together. It
//! opens the database and the client over it, keeps the transaction pool,
//! joins the network, serves JSON-RPC and runs the chain spec's consensus
//! engine (dev or BFT, both on the one generic [`shell::Shell`]); it also
//! owns chain specs and the validator keystore. The `qstack` binary parses options into a
//! [`NodeConfig`] and calls [`run`]; benchmarks and in-process tests use the
//! parts.

pub mod bft;
pub mod chain_spec;
mod clock;
pub mod dev;
pub mod keystore;
pub mod metrics;
mod net;
mod rpc;
pub mod shell;
mod txpool;

pub use net::{Justify, NetChain};
pub use qstack_rpc::{Cors, RpcMethods};
pub use rpc::{rpc_runtime_slots, CallGate, Node, RpcServer, RPC_CALL_FUEL, RPC_RUNTIME_CALLS};
pub use txpool::TxPool;

use anyhow::{Context, Result};
use chain_spec::{BftSpec, ChainSpec, ConsensusSpec};
use qstack_client::{Client, GenesisSource};
use qstack_consensus::Engine;
use qstack_core::AccountId;
use qstack_executor::{Executor, ExecutorConfig};
use qstack_storage::{PruningMode, Store, StoreConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Substrate's RPC limit flags (`--rpc-max-connections`, …); each `None`
/// keeps the server's default.
#[derive(Clone, Copy, Debug, Default)]
pub struct RpcLimits {
    /// Most simultaneous connections.
    pub max_connections: Option<std::num::NonZeroU32>,
    /// Largest request, bytes.
    pub max_request_size: Option<std::num::NonZeroU32>,
    /// Largest response, bytes.
    pub max_response_size: Option<std::num::NonZeroU32>,
    /// Most subscriptions per WebSocket connection.
    pub max_subscriptions_per_connection: Option<std::num::NonZeroU32>,
    /// Most calls in one batch.
    pub max_batch_len: Option<std::num::NonZeroU32>,
    /// Notifications buffered per connection.
    pub message_buffer_capacity: Option<std::num::NonZeroU32>,
}

impl RpcLimits {
    /// `base` with every limit that is set.
    pub fn apply(&self, mut base: qstack_rpc::RpcConfig) -> qstack_rpc::RpcConfig {
        if let Some(n) = self.max_connections {
            base.max_connections = n;
        }
        if let Some(n) = self.max_request_size {
            base.max_request_size = n;
        }
        if let Some(n) = self.max_response_size {
            base.max_response_size = n;
        }
        if let Some(n) = self.max_subscriptions_per_connection {
            base.max_subscriptions_per_connection = n;
        }
        if let Some(n) = self.max_batch_len {
            base.max_batch_len = Some(n);
        }
        if let Some(n) = self.message_buffer_capacity {
            base.message_buffer_capacity = n;
        }
        base
    }
}

/// What `qstack` runs with.
pub struct NodeConfig {
    /// The chain.
    pub spec: ChainSpec,
    /// Database folder.
    pub db_path: PathBuf,
    /// State pruning.
    pub pruning: PruningMode,
    /// RPC listen address.
    pub rpc_addr: std::net::SocketAddr,
    /// Which RPC methods are served.
    pub rpc_methods: qstack_rpc::RpcMethods,
    /// Browser origins allowed to call RPC.
    pub rpc_cors: qstack_rpc::Cors,
    /// Calls per minute per RPC connection (`None`: no limit).
    pub rpc_rate_limit: Option<std::num::NonZeroU32>,
    /// The RPC server's size and count limits (`None`: its defaults).
    pub rpc_limits: RpcLimits,
    /// Node name.
    pub name: String,
    /// Seal mode override (`--instant-seal`).
    pub instant_seal: bool,
    /// Named as author in every block this node authors (`--author`).
    pub author: Option<AccountId>,
    /// Where Prometheus metrics are served (`--prometheus-port`), if anywhere.
    pub prometheus: Option<std::net::SocketAddr>,
    /// Whether this node authors blocks (`--validator`, implied by `--dev`).
    pub validator: bool,
    /// Peer-to-peer networking.
    pub network: qstack_network::NetworkConfig,
}

/// Substrate's `--rpc-methods`: `Some` as chosen, `None` (`auto`) is
/// [`RpcMethods::Safe`] when RPC listens beyond loopback (`--rpc-external`)
/// and [`RpcMethods::Unsafe`] on loopback.
pub fn rpc_methods_for(choice: Option<RpcMethods>, external: bool) -> RpcMethods {
    match (choice, external) {
        (Some(m), _) => m,
        (None, true) => RpcMethods::Safe,
        (None, false) => RpcMethods::Unsafe,
    }
}

/// The warning a node serving unsafe methods beyond loopback logs at start.
pub fn unsafe_exposure(addr: std::net::SocketAddr, methods: RpcMethods) -> Option<String> {
    (!addr.ip().is_loopback() && methods == RpcMethods::Unsafe).then(|| format!("RPC listens on {addr} and serves unsafe methods (--rpc-methods unsafe): anyone who can reach it sees this node's peers and network state; use --rpc-methods safe"))
}

/// Opens the chain's database at `db_path` and the client over it, writing
/// genesis on first use. `pruning: None` keeps an existing database's mode
/// (default mode for a new one).
pub fn open_client(
    spec: &ChainSpec,
    db_path: &Path,
    pruning: Option<PruningMode>,
) -> Result<Client> {
    std::fs::create_dir_all(db_path).with_context(|| format!("creating {}", db_path.display()))?;
    let store = Store::open(
        db_path,
        StoreConfig {
            pruning: pruning.unwrap_or_default(),
            adopt_stored_pruning: pruning.is_none(),
            ..Default::default()
        },
    )
    .with_context(|| {
        format!(
            "opening the database at {} (is another qstack process using this base path?)",
            db_path.display()
        )
    })?;
    let executor = Arc::new(Executor::new(ExecutorConfig::default())?);
    Ok(Client::new(
        Arc::new(store),
        executor,
        &spec.genesis_source()?,
    )?)
}

/// A client over a fresh database at `db` (RocksDB with default settings;
/// `None`: in memory) starting from `genesis`, for benchmarks and in-process
/// tests that run several nodes with one `executor`.
pub fn client_on(
    executor: &Arc<Executor>,
    genesis: &GenesisSource,
    db: Option<&Path>,
) -> Result<Client> {
    let store = match db {
        Some(path) => Store::open(path, StoreConfig::default())?,
        None => Store::in_memory()?,
    };
    Ok(Client::new(Arc::new(store), executor.clone(), genesis)?)
}

/// The engine the chain spec chose, set up.
enum Chosen {
    Dev(
        qstack_consensus::dev::SealMode,
        Vec<qstack_core::PublicKey>,
        Option<qstack_core::Pair>,
    ),
    Bft(
        Box<(
            qstack_consensus::bft::BftEngine,
            qstack_consensus::bft::store::BftDisk,
            bft::BftParams,
        )>,
    ),
}

/// Runs the node until Ctrl-C.
pub async fn run(config: NodeConfig) -> Result<()> {
    let client = Arc::new(open_client(
        &config.spec,
        &config.db_path,
        Some(config.pruning),
    )?);
    let info = client.info()?;
    tracing::info!(target: "qstack", "chain {} ({}), genesis {}, best #{} ({})", config.spec.name, config.spec.id, info.genesis_hash, info.best_number, info.best_hash);
    let txpool = Arc::new(TxPool::new());
    // The engine is set up before the network, whose sync path checks
    // blocks with the engine's verifier.
    let chosen = match &config.spec.consensus {
        ConsensusSpec::Dev(dev_spec) => {
            let authorities = dev_spec.authority_keys().map_err(anyhow::Error::msg)?;
            let key = if config.validator {
                let chain_dir = config.db_path.parent().unwrap_or(&config.db_path);
                Some(dev::authoring_key(
                    &chain_dir.join("keystore").join("validator.json"),
                    config.spec.chain_type,
                    &authorities,
                )?)
            } else {
                None
            };
            Chosen::Dev(dev_spec.seal_mode(config.instant_seal), authorities, key)
        }
        ConsensusSpec::Bft(BftSpec {
            block_time_ms,
            timeouts,
            max_clock_drift_ms,
            ..
        }) => {
            let set = config
                .spec
                .consensus
                .bft_validators()?
                .context("a bft spec has validators")?;
            let chain_dir = config
                .db_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| config.db_path.clone());
            let key = if config.validator {
                Some(crate::keystore::load(
                    &chain_dir.join("keystore").join("validator.json"),
                )?)
            } else {
                None
            };
            let params = bft::BftParams {
                set,
                // Half the block time for late precommits to join the
                // parent's certificate before the next block is built.
                config: qstack_consensus::bft::BftConfig {
                    commit_wait: block_time_ms.checked_div(2).unwrap_or(0),
                    ..timeouts.config()
                },
                block_time_ms: *block_time_ms,
                key,
                dir: chain_dir.join("bft"),
                author: config.author,
                max_clock_drift_ms: *max_clock_drift_ms,
            };
            let (engine, disk) = bft::engine(&client, &params)?;
            Chosen::Bft(Box::new((engine, disk, params)))
        }
    };
    let justify: Option<Justify> = match &chosen {
        // Dev blocks: the author's seal, by one of the authorities.
        Chosen::Dev(_, authorities, _) => {
            let (authorities, genesis) = (authorities.clone(), info.genesis_hash);
            Some(Arc::new(
                move |h: &qstack_runtime_primitives::Header, _: Option<&[u8]>| {
                    dev::check_seal(&authorities, &genesis, h)
                },
            ))
        }
        // BFT blocks: their commit certificate, against the validator set
        // the chain scheduled for their height (the engine's sets where the
        // chain names none).
        Chosen::Bft(b) => Some(bft::justify_from_chain(client.clone(), b.0.bft_verifier())),
    };
    let mut network_config = config.network;
    // The consensus topic, checked by the engine before anything is forwarded.
    network_config.consensus = match &chosen {
        Chosen::Dev(..) => None,
        Chosen::Bft(b) => b.0.gossip_check().map(shell::wire_check),
    };
    let (network, consensus_messages) = qstack_network::start(
        network_config,
        Arc::new(NetChain {
            client: client.clone(),
            txpool: Some(txpool.clone()),
            // Dev blocks are final as authored; BFT blocks once their certificate checks.
            finalize_on_import: true,
            justify,
        }),
    )?;
    tracing::info!(target: "qstack", "local peer id: {}", network.local_peer_id());
    let node = Arc::new(Node {
        client: client.clone(),
        txpool: txpool.clone(),
        spec: config.spec.clone(),
        network: network.clone(),
        calls: Arc::new(rpc::CallGate::new(rpc::rpc_runtime_slots())),
    });
    tracing::info!(target: "qstack", "node name: {}{}", config.name, if config.validator { " (authoring)" } else { " (following)" });
    if let Some(warning) = unsafe_exposure(config.rpc_addr, config.rpc_methods) {
        tracing::warn!(target: "qstack", "{warning}");
    }
    let rpc = RpcServer::start(
        qstack_rpc::RpcConfig {
            listen_addr: config.rpc_addr,
            methods: config.rpc_methods,
            cors: config.rpc_cors.clone(),
            rate_limit: config.rpc_rate_limit,
            ..config.rpc_limits.apply(qstack_rpc::RpcConfig::default())
        },
        node.clone(),
    )
    .await?;
    tracing::info!(target: "qstack", "JSON-RPC listening on {}", rpc.local_addr());

    // Metrics and the status line, sampled from the client, network, pool
    // and (on BFT) the engine's gossip window.
    let metrics = metrics::global().clone();
    if let Some(addr) = config.prometheus {
        // A busy port (another node on this host) costs the metrics, not the node.
        match metrics::serve(addr, metrics.clone()).await {
            Ok(bound) => {
                tracing::info!(target: "qstack", "Prometheus metrics on http://{bound}/metrics")
            }
            Err(e) => {
                tracing::warn!(target: "qstack", "{e:#}: metrics disabled (choose another --prometheus-port)")
            }
        }
    }
    {
        let (client, network, txpool) = (client.clone(), network.clone(), txpool.clone());
        let bft_window = match &chosen {
            Chosen::Bft(b) => Some(b.0.gossip()),
            Chosen::Dev(..) => None,
        };
        tokio::spawn(metrics::run_sampler(
            metrics,
            move || {
                let info = net::info_or_zero(&client);
                let snapshot = network.snapshot();
                let pool = txpool.pool.lock().status();
                metrics::Sample {
                    best: u64::from(info.best_number),
                    best_hash: info.best_hash,
                    finalized: u64::from(info.finalized_number),
                    finalized_hash: info.finalized_hash,
                    peers: snapshot.peers.len(),
                    syncing: snapshot.sync.major_syncing,
                    ready: pool.ready,
                    future: pool.future,
                    pool_bytes: pool.bytes,
                    bft: bft_window.as_ref().map(|g| g.at()),
                }
            },
            std::time::Duration::from_secs(5),
        ));
    }

    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let result = match chosen {
        Chosen::Bft(b) => {
            let (engine, disk, params) = *b;
            bft::run_engine(
                client,
                txpool,
                network,
                consensus_messages,
                engine,
                disk,
                &params,
                shutdown,
            )
            .await
        }
        Chosen::Dev(mode, _, key) => {
            dev::run(
                client,
                txpool,
                network,
                consensus_messages,
                mode,
                key,
                config.author,
                shutdown,
            )
            .await
        }
    };
    tracing::info!(target: "qstack", "shutting down");
    rpc.stop().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_methods_auto_is_safe_beyond_loopback_and_unsafe_exposure_warns() {
        assert_eq!(rpc_methods_for(None, true), RpcMethods::Safe);
        assert_eq!(rpc_methods_for(None, false), RpcMethods::Unsafe);
        for external in [false, true] {
            for m in [RpcMethods::Safe, RpcMethods::Unsafe] {
                assert_eq!(rpc_methods_for(Some(m), external), m);
            }
        }
        let any: std::net::SocketAddr = "0.0.0.0:9944".parse().unwrap();
        let local: std::net::SocketAddr = "127.0.0.1:9944".parse().unwrap();
        let warning = unsafe_exposure(any, RpcMethods::Unsafe).expect("warns");
        assert!(warning.contains("0.0.0.0:9944") && warning.contains("--rpc-methods safe"));
        assert_eq!(unsafe_exposure(any, RpcMethods::Safe), None);
        assert_eq!(unsafe_exposure(local, RpcMethods::Unsafe), None);
    }
}
