//! `qstack benchmark sync`: blocks of signed transfers are generated into a
//! source node's RocksDB; then (1) a fresh client imports them directly, and
//! (2) a fresh follower catches up on them from the source over libp2p on
//! loopback (status exchange, parallel range requests, checks, import). The
//! ratio of (2) to (1) says whether sync is bounded by import or by the
//! network.

use crate::import::{generate, genesis_with, AssetKind};
use anyhow::{bail, Context, Result};
use clap::Args;
use qstack_core::{KeyScheme, Pair};
use qstack_executor::{Executor, ExecutorConfig};
use qstack_network::{Multiaddr, NetworkConfig};
use qstack_service::{client_on, NetChain};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of `qstack benchmark sync`.
#[derive(Args, Debug)]
pub struct SyncArgs {
    /// Blocks the follower catches up on.
    #[arg(long, default_value_t = 10_000)]
    blocks: u32,
    /// Signed transfers in each block.
    #[arg(long, default_value_t = 100)]
    txs_per_block: u32,
    /// Distinct sending accounts.
    #[arg(long, default_value_t = 200)]
    senders: u32,
    /// Key scheme of the senders.
    #[arg(long, default_value = "sr25519")]
    scheme: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn loopback() -> Result<Vec<Multiaddr>> {
    Ok(vec!["/ip4/127.0.0.1/tcp/0".parse()?])
}

/// Runs the benchmark.
pub fn run(args: SyncArgs) -> Result<()> {
    if args.blocks == 0 || args.txs_per_block == 0 || args.senders == 0 {
        bail!("--blocks, --txs-per-block and --senders must be positive");
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: this is a debug build; measure with `cargo run --release -p qstack-cli -- benchmark sync`");
    }
    let scheme = KeyScheme::from_name(&args.scheme)
        .with_context(|| format!("--scheme: unknown scheme {:?}", args.scheme))?;
    let senders: Vec<Pair> = (0..args.senders)
        .map(|i| Pair::from_suri(scheme, &format!("//bench//{i}")))
        .collect::<Result<_, _>>()?;
    let genesis = genesis_with(&senders, AssetKind::Native)?;
    let executor = Arc::new(Executor::new(ExecutorConfig::default())?);
    let dir = tempfile::tempdir()?;

    let started = Instant::now();
    let source = Arc::new(client_on(
        &executor,
        &genesis,
        Some(&dir.path().join("source")),
    )?);
    if !args.json {
        eprint!(
            "generating {} blocks of {} transfers…",
            args.blocks, args.txs_per_block
        );
    }
    let blocks = generate(
        &source,
        &senders,
        AssetKind::Native,
        args.blocks,
        args.txs_per_block,
    )?;
    let generation = started.elapsed();
    if !args.json {
        eprintln!(" in {generation:.1?}");
    }

    // (1) Direct import of the same blocks: the bound sync should reach.
    let import = {
        let client = client_on(&executor, &genesis, Some(&dir.path().join("direct")))?;
        let start = Instant::now();
        for block in &blocks {
            client
                .import_block(block.clone(), None, true)
                .map_err(|e| anyhow::anyhow!("import of #{}: {e}", block.header.number))?;
        }
        start.elapsed()
    };
    let _ = std::fs::remove_dir_all(dir.path().join("direct"));
    drop(blocks);

    // (2) A follower syncing them from the source over loopback libp2p.
    let follower = Arc::new(client_on(
        &executor,
        &genesis,
        Some(&dir.path().join("follower")),
    )?);
    let target = args.blocks;
    let sync = tokio::runtime::Runtime::new()?.block_on(async {
        let mut cfg = NetworkConfig::new(qstack_network::node_key::generate(), loopback()?);
        cfg.kademlia = false;
        let (source_net, _) = qstack_network::start(
            cfg,
            Arc::new(NetChain {
                client: source.clone(),
                txpool: None,
                finalize_on_import: true,
                justify: None,
            }),
        )?;
        let addr = source_net
            .dial_address(Duration::from_secs(10))
            .await
            .context("the source node did not start listening")?;
        let mut cfg = NetworkConfig::new(qstack_network::node_key::generate(), loopback()?);
        cfg.kademlia = false;
        cfg.boot_nodes = vec![addr.parse()?];
        let start = Instant::now();
        let (_follower_net, _) = qstack_network::start(
            cfg,
            Arc::new(NetChain {
                client: follower.clone(),
                txpool: None,
                finalize_on_import: true,
                justify: None,
            }),
        )?;
        let mut last = 0;
        let mut last_progress = Instant::now();
        loop {
            let best = follower.info()?.best_number;
            if best >= target {
                break;
            }
            if best > last {
                last = best;
                last_progress = Instant::now();
            } else if last_progress.elapsed() > Duration::from_secs(60) {
                bail!("sync stalled at #{best} of {target}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok::<_, anyhow::Error>(start.elapsed())
    })?;
    let same = follower.hash_of(target)? == source.hash_of(target)?;
    if !same {
        bail!("the follower's block #{target} differs from the source's");
    }
    let transfers = f64::from(args.blocks) * f64::from(args.txs_per_block);
    let rate = |d: Duration| {
        (
            f64::from(args.blocks) / d.as_secs_f64(),
            transfers / d.as_secs_f64(),
        )
    };
    let (import_bps, import_tps) = rate(import);
    let (sync_bps, sync_tps) = rate(sync);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "blocks": args.blocks,
                "txs_per_block": args.txs_per_block,
                "scheme": scheme.name(),
                "cores": cores,
                "import_seconds": import.as_secs_f64(),
                "sync_seconds": sync.as_secs_f64(),
                "import_blocks_per_s": import_bps,
                "import_transfers_per_s": import_tps,
                "sync_blocks_per_s": sync_bps,
                "sync_transfers_per_s": sync_tps,
                "sync_over_import": sync_bps / import_bps,
            })
        );
    } else {
        println!(
            "sync benchmark: {} blocks × {} {} transfers, RocksDB, {cores} cores",
            args.blocks,
            args.txs_per_block,
            scheme.name()
        );
        println!(
            "direct import : {import:>8.2?}  {import_bps:>9.0} blocks/s  {import_tps:>9.0} transfers/s"
        );
        println!(
            "sync (libp2p) : {sync:>8.2?}  {sync_bps:>9.0} blocks/s  {sync_tps:>9.0} transfers/s"
        );
        println!(
            "sync / import : {:.2}  (1.00 = sync is bounded by import, not the network)",
            sync_bps / import_bps
        );
    }
    Ok(())
}
