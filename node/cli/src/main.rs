//! The `qstack` binary: runs a node, and the key, transaction and chain-spec
//! tools around it. Argument parsing and wiring only.

mod blocks;
mod did;
mod key;
mod tx;
mod upgrade;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use qstack_service::chain_spec::{self, ChainSpec};
use qstack_storage::PruningMode;
use std::path::PathBuf;

/// A post-quantum-ready blockchain node.
#[derive(Parser, Debug)]
#[command(name = "qstack", version, about)]
struct Cli {
    /// Log filter directives added to the default (`info`) or to
    /// `RUST_LOG`, comma-separated `target=level` as in Substrate
    /// (`-l qstack::rpc=debug,libp2p=warn`).
    #[arg(short = 'l', long = "log", global = true, value_delimiter = ',')]
    log: Vec<String>,
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

/// Options of a running node.
/// `--rpc-methods`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum RpcMethodsArg {
    /// `safe` with `--rpc-external`, `unsafe` on loopback.
    Auto,
    /// Refuse the operator-only methods.
    Safe,
    /// Serve every method.
    Unsafe,
}

/// The RPC server's method policy and origins from the flags (the node
/// warns when it serves unsafe methods on every interface).
fn rpc_guard(args: &RunArgs) -> Result<(qstack_service::RpcMethods, qstack_service::Cors)> {
    let choice = match args.rpc_methods {
        RpcMethodsArg::Auto => None,
        RpcMethodsArg::Safe => Some(qstack_service::RpcMethods::Safe),
        RpcMethodsArg::Unsafe => Some(qstack_service::RpcMethods::Unsafe),
    };
    let methods = qstack_service::rpc_methods_for(choice, args.rpc_external);
    let cors = match args.rpc_cors.as_deref().map(str::trim) {
        None => qstack_service::Cors::default(),
        Some("all") | Some("*") => qstack_service::Cors::All,
        Some(list) => {
            let origins: Vec<String> = list
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_string())
                .filter(|o| !o.is_empty())
                .collect();
            for o in &origins {
                if !(o.starts_with("http://") || o.starts_with("https://")) && o != "null" {
                    bail!("--rpc-cors: {o:?} is not an origin (scheme://host[:port], or `all`)");
                }
            }
            qstack_service::Cors::List(origins)
        }
    };
    Ok((methods, cors))
}

#[derive(Args, Debug, Clone)]
struct RunArgs {
    /// Development chain: `--chain dev`, one authoring node, RPC on 127.0.0.1:9944.
    #[arg(long)]
    dev: bool,
    /// Chain spec: `dev`, `local`, or a path to a chain-spec JSON file.
    #[arg(long)]
    chain: Option<String>,
    #[command(flatten)]
    base: BaseArgs,
    /// Keep the chain in a new temporary directory, deleted when the node
    /// stops (instead of `--base-path`).
    #[arg(long, conflicts_with = "base_path")]
    tmp: bool,
    /// JSON-RPC port (HTTP and WebSocket), on 127.0.0.1.
    #[arg(long, default_value_t = 9944)]
    rpc_port: u16,
    /// Listen for RPC on all interfaces instead of loopback only.
    #[arg(long)]
    rpc_external: bool,
    /// Prometheus metrics port (`GET /metrics`, OpenMetrics text), on
    /// 127.0.0.1. A port already in use disables metrics with a warning.
    #[arg(long, default_value_t = 9615)]
    prometheus_port: u16,
    /// Serve Prometheus metrics on all interfaces instead of loopback only.
    #[arg(long)]
    prometheus_external: bool,
    /// Serve no Prometheus metrics.
    #[arg(long, conflicts_with_all = ["prometheus_external"])]
    no_prometheus: bool,
    /// Which RPC methods to serve: `safe` refuses the operator-only ones
    /// (`system_peers`, `system_networkState`), `unsafe` serves all, `auto`
    /// is `safe` with `--rpc-external` and `unsafe` on loopback.
    #[arg(long, value_enum, default_value_t = RpcMethodsArg::Auto)]
    rpc_methods: RpcMethodsArg,
    /// Browser origins allowed to call RPC, comma-separated
    /// (`http://localhost:*` matches any port), or `all`. Default: localhost
    /// origins and https://polkadot.js.org. Requests without an Origin
    /// header (curl, CLI tools) are never refused.
    #[arg(long)]
    rpc_cors: Option<String>,
    /// Calls per minute one RPC connection may make; more are answered
    /// with error -32005. Default: no limit.
    #[arg(long)]
    rpc_rate_limit: Option<std::num::NonZeroU32>,
    /// Most simultaneous RPC connections (default 100).
    #[arg(long)]
    rpc_max_connections: Option<std::num::NonZeroU32>,
    /// Largest RPC request, in MB (default 16).
    #[arg(long)]
    rpc_max_request_size: Option<std::num::NonZeroU32>,
    /// Largest RPC response, in MB (default 16).
    #[arg(long)]
    rpc_max_response_size: Option<std::num::NonZeroU32>,
    /// Most subscriptions one WebSocket connection may hold (default 1024).
    #[arg(long)]
    rpc_max_subscriptions_per_connection: Option<std::num::NonZeroU32>,
    /// Most calls in one JSON-RPC batch (default 100).
    #[arg(long)]
    rpc_max_batch_request_len: Option<std::num::NonZeroU32>,
    /// Notifications buffered per RPC connection before a slow subscriber
    /// is made to wait.
    #[arg(long)]
    rpc_message_buffer_capacity_per_connection: Option<std::num::NonZeroU32>,
    /// A human-readable name for this node (logs).
    #[arg(long, default_value = "qstack-node")]
    name: String,
    /// State pruning: `archive` keeps every state, a number keeps that many recent ones.
    #[arg(long, default_value = "256")]
    state_pruning: String,
    /// Author a block as soon as transactions arrive, instead of at the spec's interval.
    #[arg(long)]
    instant_seal: bool,
    /// Account (`q…`) named as author of the blocks this node authors: it
    /// receives the author's share of fees. Without it the treasury gets all.
    #[arg(long)]
    author: Option<String>,
    /// Author blocks (implied by `--dev`); without it the node follows the chain.
    #[arg(long)]
    validator: bool,
    #[command(flatten)]
    net: NetArgs,
}

/// Peer-to-peer networking options.
#[derive(Args, Debug, Clone)]
struct NetArgs {
    /// P2P TCP port on all interfaces (default 30333; with `--dev`, a free
    /// port on 127.0.0.1). Ignored if `--listen-addr` is given.
    #[arg(long)]
    port: Option<u16>,
    /// P2P listen multiaddress, e.g. `/ip4/127.0.0.1/tcp/30333` (repeatable).
    #[arg(long = "listen-addr", value_name = "MULTIADDR")]
    listen_addr: Vec<String>,
    /// Peers to connect to, `/ip4/…/tcp/…/p2p/<peer id>`, besides the chain spec's `bootNodes`.
    #[arg(long, value_name = "MULTIADDR", num_args = 1..)]
    bootnodes: Vec<String>,
    /// File with the node's network key (64 hex characters); created if missing.
    /// Default: `<base>/chains/<id>/network/secret_ed25519`.
    #[arg(long)]
    node_key_file: Option<PathBuf>,
    /// Most inbound peers.
    #[arg(long, default_value_t = 25)]
    in_peers: usize,
    /// Most outbound peers.
    #[arg(long, default_value_t = 15)]
    out_peers: usize,
    /// Find peers on the local network by mDNS (default on for `Local` chains only).
    #[arg(long, conflicts_with = "no_mdns")]
    discover_local: bool,
    /// Never use mDNS.
    #[arg(long)]
    no_mdns: bool,
    /// Do not use the Kademlia DHT for discovery (bootnodes and mDNS only).
    #[arg(long)]
    no_kademlia: bool,
}

/// Where the node keeps its data.
#[derive(Args, Debug, Clone)]
struct BaseArgs {
    /// Base path for databases and keys (default: ~/.local/share/qstack).
    #[arg(short = 'd', long)]
    base_path: Option<PathBuf>,
}

/// `--base-path`, or `~/.local/share/qstack`.
fn base_path(given: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p);
    }
    let home = std::env::var_os("HOME").context("HOME is not set; pass --base-path")?;
    Ok(PathBuf::from(home).join(".local/share/qstack"))
}

impl BaseArgs {
    fn path(&self) -> Result<PathBuf> {
        base_path(self.base_path.clone())
    }

    fn db_path(&self, spec: &ChainSpec) -> Result<PathBuf> {
        Ok(self.path()?.join("chains").join(&spec.id).join("db"))
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Key tools: generate and inspect keys in every scheme.
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Sign and submit transactions to a node over RPC.
    #[command(subcommand)]
    Tx(tx::TxCommand),
    /// DIDs, verifiable credentials and encrypted messages between DIDs.
    #[command(subcommand)]
    Did(did::DidCommand),
    /// Forkless runtime upgrades: check, propose (governance), apply, or
    /// on a development chain set at once with the sudo key.
    #[command(subcommand)]
    Upgrade(upgrade::UpgradeCommand),
    /// What a runtime upgrade would do to a live chain, before anyone votes:
    /// runs its migrations and every invariant on a copy of the state.
    TryUpgrade(upgrade::TryUpgradeArgs),
    /// Print a chain spec (with `--raw`, genesis as storage: freezes the genesis hash).
    BuildSpec {
        /// Chain spec: `dev`, `local` or a path.
        #[arg(long, default_value = "dev")]
        chain: String,
        /// Print genesis as raw storage.
        #[arg(long)]
        raw: bool,
    },
    /// Write the canonical chain to a file (binary; `-` for stdout).
    ExportBlocks {
        /// Output file, or `-` for stdout.
        #[arg(default_value = "-")]
        output: PathBuf,
        /// Chain spec: `dev`, `local` or a path.
        #[arg(long, default_value = "dev")]
        chain: String,
        #[command(flatten)]
        base: BaseArgs,
        /// First block to export.
        #[arg(long, default_value_t = 1)]
        from: u32,
        /// Last block to export (default: the best block).
        #[arg(long)]
        to: Option<u32>,
        /// No progress bar.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Import blocks from an `export-blocks` file, re-executing every one.
    ImportBlocks {
        /// Input file, or `-` for stdin.
        #[arg(default_value = "-")]
        input: PathBuf,
        /// Chain spec: `dev`, `local` or a path.
        #[arg(long, default_value = "dev")]
        chain: String,
        #[command(flatten)]
        base: BaseArgs,
        /// State pruning (see the node's option); default: an existing
        /// database's own mode, 256 for a new one.
        #[arg(long)]
        state_pruning: Option<String>,
        /// No progress bar.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Measure the node's performance.
    #[command(subcommand)]
    Benchmark(qstack_bench::BenchmarkCommand),
    /// Delete a chain's database.
    PurgeChain {
        /// Chain spec: `dev`, `local` or a path.
        #[arg(long, default_value = "dev")]
        chain: String,
        /// The development chain (the same as `--chain dev`).
        #[arg(long, conflicts_with = "chain")]
        dev: bool,
        #[command(flatten)]
        base: BaseArgs,
        /// Do not ask for confirmation.
        #[arg(short = 'y', long)]
        yes: bool,
    },
}

fn network_config(args: &RunArgs, spec: &ChainSpec) -> Result<qstack_network::NetworkConfig> {
    use qstack_network::Multiaddr;
    let net = &args.net;
    let key_path = match &net.node_key_file {
        Some(p) => p.clone(),
        None => args
            .base
            .path()?
            .join("chains")
            .join(&spec.id)
            .join("network")
            .join("secret_ed25519"),
    };
    let keypair = qstack_network::node_key::load_or_generate(&key_path)?;
    let parse = |what: &str, s: &str| {
        s.parse::<Multiaddr>()
            .map_err(|e| anyhow::anyhow!("{what} {s:?}: {e}"))
    };
    let listen = if !net.listen_addr.is_empty() {
        net.listen_addr
            .iter()
            .map(|a| parse("--listen-addr", a))
            .collect::<Result<Vec<_>>>()?
    } else if args.dev && net.port.is_none() {
        vec![parse("listen", "/ip4/127.0.0.1/tcp/0")?]
    } else {
        let port = net.port.unwrap_or(30333);
        vec![parse("listen", &format!("/ip4/0.0.0.0/tcp/{port}"))?]
    };
    let mut boot_nodes = Vec::new();
    for (what, list) in [
        ("--bootnodes", &net.bootnodes),
        ("bootNodes", &spec.boot_nodes),
    ] {
        for b in list {
            let addr = parse(what, b)?;
            if !matches!(
                addr.iter().last(),
                Some(qstack_network::multiaddr::Protocol::P2p(_))
            ) {
                bail!("{what} {b:?}: must end with /p2p/<peer id>");
            }
            boot_nodes.push(addr);
        }
    }
    let mut cfg = qstack_network::NetworkConfig::new(keypair, listen);
    cfg.boot_nodes = boot_nodes;
    cfg.mdns =
        !net.no_mdns && (net.discover_local || spec.chain_type == chain_spec::ChainType::Local);
    cfg.kademlia = !net.no_kademlia;
    cfg.in_peers = net.in_peers;
    cfg.out_peers = net.out_peers;
    cfg.agent = format!("qstack/{} ({})", env!("CARGO_PKG_VERSION"), args.name);
    // The consensus topic and its check come from the engine (`qstack_service::run`).
    Ok(cfg)
}

fn parse_pruning(s: &str) -> Result<PruningMode> {
    match s {
        "archive" | "archive-canonical" => Ok(PruningMode::Archive),
        n => match n.parse::<std::num::NonZeroU32>() {
            Ok(n) => Ok(PruningMode::KeepLast(n)),
            Err(_) => bail!(
                "--state-pruning: expected `archive` or a positive number of blocks, got {n:?}"
            ),
        },
    }
}

fn init_logging(default: &str, extra: &[String]) -> Result<()> {
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    for d in extra.iter().filter(|d| !d.trim().is_empty()) {
        let directive = d.trim().parse().map_err(|e| {
            anyhow::anyhow!("-l/--log: {d:?} is not a `target=level` directive: {e}")
        })?;
        filter = filter.add_directive(directive);
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    Ok(())
}

/// Before a command that talks to a node parses its addresses, takes the
/// chain's SS58 prefix from the node its `--rpc` names (the default endpoint
/// when none), so `--to 6…` is read with the chain's prefix and another
/// chain's SS58 address is refused. If the node cannot be reached, the
/// default prefix stays and the command reports the connection itself.
async fn adopt_chain_ss58_prefix() {
    let mut args = std::env::args().skip_while(|a| a != "--rpc" && !a.starts_with("--rpc="));
    let rpc = match args.next() {
        Some(a) => match a.strip_prefix("--rpc=") {
            Some(url) => url.to_string(),
            None => args.next().unwrap_or_default(),
        },
        None => "ws://127.0.0.1:9944".to_string(),
    };
    let connect = qstack_wallet::Chain::connect(&rpc);
    let _ignored = tokio::time::timeout(std::time::Duration::from_secs(10), connect).await;
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // Benchmarks print their own figures; per-block logs would drown them.
    // Benign by design: every validator announces the same committed block.
    init_logging(
        match cli.command {
            Some(Command::Benchmark(_)) => "warn,libp2p_gossipsub::behaviour=error",
            _ => "info,libp2p_gossipsub::behaviour=error",
        },
        &cli.log,
    )?;
    match cli.command {
        Some(Command::Key(cmd)) => key::run(cmd),
        Some(Command::Tx(cmd)) => tokio::runtime::Runtime::new()?.block_on(async {
            adopt_chain_ss58_prefix().await;
            tx::run(cmd).await
        }),
        Some(Command::Did(cmd)) => tokio::runtime::Runtime::new()?.block_on(async {
            adopt_chain_ss58_prefix().await;
            did::run(cmd).await
        }),
        Some(Command::Upgrade(cmd)) => tokio::runtime::Runtime::new()?.block_on(async {
            adopt_chain_ss58_prefix().await;
            upgrade::run(cmd).await
        }),
        Some(Command::TryUpgrade(args)) => {
            tokio::runtime::Runtime::new()?.block_on(upgrade::try_upgrade(args))
        }
        Some(Command::BuildSpec { chain, raw }) => {
            let spec = ChainSpec::load(&chain)?;
            let executor = qstack_executor::Executor::new(Default::default())?;
            println!("{}", spec.to_json(raw, &executor)?);
            Ok(())
        }
        Some(Command::ExportBlocks {
            output,
            chain,
            base,
            from,
            to,
            quiet,
        }) => {
            let spec = ChainSpec::load(&chain)?;
            blocks::export(&spec, &base.db_path(&spec)?, &output, from, to, quiet)
        }
        Some(Command::ImportBlocks {
            input,
            chain,
            base,
            state_pruning,
            quiet,
        }) => {
            let spec = ChainSpec::load(&chain)?;
            let pruning = state_pruning.as_deref().map(parse_pruning).transpose()?;
            blocks::import(&spec, &base.db_path(&spec)?, pruning, &input, quiet).map(|_| ())
        }
        Some(Command::Benchmark(cmd)) => qstack_bench::run(cmd),
        Some(Command::PurgeChain {
            chain,
            dev,
            base,
            yes,
        }) => {
            let spec = ChainSpec::load(if dev { "dev" } else { &chain })?;
            let db = base.db_path(&spec)?;
            if !db.exists() {
                println!("{} does not exist; nothing to purge", db.display());
                return Ok(());
            }
            if !yes {
                eprint!("Delete {}? [y/N] ", db.display());
                let mut answer = String::new();
                std::io::stdin().read_line(&mut answer)?;
                if !answer.trim().eq_ignore_ascii_case("y") {
                    println!("Aborted");
                    return Ok(());
                }
            }
            std::fs::remove_dir_all(&db).with_context(|| format!("deleting {}", db.display()))?;
            println!("{} removed", db.display());
            Ok(())
        }
        None => {
            let mut args = cli.run;
            // Held until the node stops; dropping it deletes the directory.
            let _tmp = if args.tmp {
                let dir = tempfile::Builder::new().prefix("qstack-").tempdir()?;
                eprintln!(
                    "Temporary base path {} (deleted on exit)",
                    dir.path().display()
                );
                args.base.base_path = Some(dir.path().to_path_buf());
                Some(dir)
            } else {
                None
            };
            let chain = match (&args.chain, args.dev) {
                (Some(c), _) => c.clone(),
                (None, true) => "dev".to_string(),
                (None, false) => bail!("no chain selected: use --dev for a development chain or --chain <dev|local|spec.json>"),
            };
            let spec = ChainSpec::load(&chain)?;
            let ip = if args.rpc_external {
                [0, 0, 0, 0]
            } else {
                [127, 0, 0, 1]
            };
            let author = args
                .author
                .as_deref()
                .map(|a| {
                    a.parse::<qstack_core::Address>()
                        .map(|a| a.account_id())
                        .map_err(|e| anyhow::anyhow!("--author: {e}"))
                })
                .transpose()?;
            let network = network_config(&args, &spec)?;
            let (rpc_methods, rpc_cors) = rpc_guard(&args)?;
            let mb = |flag: &str, v: Option<std::num::NonZeroU32>| {
                v.map(|n| {
                    n.checked_mul(
                        std::num::NonZeroU32::new(1 << 20).unwrap_or(std::num::NonZeroU32::MIN),
                    )
                    .ok_or_else(|| anyhow::anyhow!("{flag}: at most 4095 MB"))
                })
                .transpose()
            };
            let rpc_limits = qstack_service::RpcLimits {
                max_connections: args.rpc_max_connections,
                max_request_size: mb("--rpc-max-request-size", args.rpc_max_request_size)?,
                max_response_size: mb("--rpc-max-response-size", args.rpc_max_response_size)?,
                max_subscriptions_per_connection: args.rpc_max_subscriptions_per_connection,
                max_batch_len: args.rpc_max_batch_request_len,
                message_buffer_capacity: args.rpc_message_buffer_capacity_per_connection,
            };
            let config = qstack_service::NodeConfig {
                rpc_methods,
                rpc_cors,
                rpc_rate_limit: args.rpc_rate_limit,
                rpc_limits,
                network,
                validator: args.validator || args.dev,
                db_path: args.base.db_path(&spec)?,
                spec,
                pruning: parse_pruning(&args.state_pruning)?,
                rpc_addr: std::net::SocketAddr::from((ip, args.rpc_port)),
                name: args.name,
                instant_seal: args.instant_seal,
                author,
                prometheus: (!args.no_prometheus).then(|| {
                    let ip = if args.prometheus_external {
                        [0, 0, 0, 0]
                    } else {
                        [127, 0, 0, 1]
                    };
                    std::net::SocketAddr::from((ip, args.prometheus_port))
                }),
            };
            tokio::runtime::Runtime::new()?.block_on(qstack_service::run(config))
        }
    }
}
