//! `qstack benchmark bft`: four BFT validators in one process, each with its
//! own RocksDB client, pool, libp2p network on loopback and the BFT engine on the generic shell — the
//! keys and validator set of `chain-specs/local-bft.json` (hybrid, hybrid,
//! sr25519, Falcon-512). Signed transfers are submitted at a steady rate,
//! round-robin to the validators' pools and gossiped; the benchmark reports
//! blocks/s, finality latency (submission → final, p50/p99) and finalised
//! transfers/s. All four validators share this machine's cores.

use crate::import::{genesis_with, AssetKind};
use anyhow::{bail, Context, Result};
use clap::Args;
use codec::Encode;
use qstack_core::{KeyScheme, Pair, H256};
use qstack_executor::{Executor, ExecutorConfig};
use qstack_runtime::signing::{sign, ChainContext, TxOptions};
use qstack_runtime::{tokens, RuntimeCall};
use qstack_service::chain_spec::{BftSpec, ChainSpec, ConsensusSpec, LOCAL_BFT_KEYS as KEYS};
use qstack_service::{bft, client_on, TxPool};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of `qstack benchmark bft`.
#[derive(Args, Debug)]
pub struct BftArgs {
    /// Transfers submitted per second.
    #[arg(long, default_value_t = 1000)]
    rate: u32,
    /// Seconds of load.
    #[arg(long, default_value_t = 20)]
    seconds: u32,
    /// Least time between blocks (ms), the spec's `blockTimeMs`.
    #[arg(long, default_value_t = 500)]
    block_time_ms: u64,
    /// Distinct sending accounts (sr25519).
    #[arg(long, default_value_t = 2000)]
    senders: u32,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted.get(i).copied().unwrap_or(0.0)
}

/// Runs the benchmark.
pub fn run(args: BftArgs) -> Result<()> {
    if args.rate == 0 || args.seconds == 0 || args.senders == 0 {
        bail!("--rate, --seconds and --senders must be positive");
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: this is a debug build; measure with `cargo run --release -p qstack-cli -- benchmark bft`");
    }
    let spec = ChainSpec::load("local-bft")?;
    let ConsensusSpec::Bft(BftSpec { timeouts, .. }) = &spec.consensus else {
        bail!("local-bft is not a bft spec");
    };
    let set = spec
        .consensus
        .bft_validators()?
        .context("local-bft has validators")?;
    let senders: Vec<Pair> = (0..args.senders)
        .map(|i| Pair::from_suri(KeyScheme::Sr25519, &format!("//bench//{i}")))
        .collect::<Result<_, _>>()?;
    let genesis = genesis_with(&senders, AssetKind::Native)?;
    let executor = Arc::new(Executor::new(ExecutorConfig::default())?);
    let dir = tempfile::tempdir()?;
    let total = u64::from(args.rate) * u64::from(args.seconds);
    // Pre-sign the load: the benchmark measures the chain, not the signer.
    let clients: Vec<Arc<qstack_client::Client>> = (0..4)
        .map(|i| {
            client_on(
                &executor,
                &genesis,
                Some(&dir.path().join(format!("v{i}/db"))),
            )
            .map(Arc::new)
        })
        .collect::<Result<_>>()?;
    let chain = clients
        .first()
        .context("four clients")?
        .info()?
        .genesis_hash;
    let ctx = ChainContext::new(chain);
    let mut nonces = vec![0u32; senders.len()];
    let txs: Vec<Vec<u8>> = (0..total as usize)
        .map(|k| {
            let i = k % senders.len();
            let (from, to) = (&senders[i], &senders[(i + 1) % senders.len()]);
            let call = RuntimeCall::Tokens(tokens::Call::Transfer {
                dest: to.public().account_id(),
                value: 1_000_000,
                dest_tag: None,
            });
            // Every transfer carries its key: any of them may reach a pool
            // before the sender's first one is on chain.
            let opts = TxOptions {
                include_key: true,
                ..TxOptions::nonce(nonces[i])
            };
            let xt = sign(from, call, &ctx, &opts);
            nonces[i] += 1;
            xt.encode()
        })
        .collect();
    if !args.json {
        eprintln!("signed {total} transfers; starting 4 validators");
    }
    let rt = tokio::runtime::Runtime::new()?;
    let base = dir.path().to_path_buf();
    let report = rt.block_on(async move {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut pools = Vec::new();
        let mut nets = Vec::new();
        let mut boot: Vec<String> = Vec::new();
        for (i, client) in clients.iter().enumerate() {
            let (suri, scheme) = KEYS[i];
            let key = Pair::from_suri(scheme, suri)?;
            let txpool = Arc::new(TxPool::new());
            let params = bft::BftParams {
                set: set.clone(),
                config: timeouts.config(),
                block_time_ms: args.block_time_ms,
                key: Some(key),
                dir: base.join(format!("v{i}/bft")),
                author: None,
                max_clock_drift_ms: 5_000,
            };
            let (engine, disk) = bft::engine(client, &params)?;
            let (net, msgs, address) =
                bft::loopback_network(client.clone(), txpool.clone(), &engine, &boot).await?;
            if boot.is_empty() {
                boot.push(address);
            }
            let mut stop = stop_rx.clone();
            let shutdown = async move {
                let _ = stop.changed().await;
            };
            {
                let (client, txpool, net) = (client.clone(), txpool.clone(), net.clone());
                tokio::spawn(async move {
                    bft::run_engine(client, txpool, net, msgs, engine, disk, &params, shutdown)
                        .await
                });
            }
            pools.push(txpool);
            nets.push(net);
        }
        // Wait for the first committed block: everyone is connected.
        let first = clients.first().context("clients")?.clone();
        let deadline = Instant::now() + Duration::from_secs(60);
        while first.info()?.finalized_number < 1 {
            if Instant::now() > deadline {
                bail!("the validators did not commit a block within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let start_number = first.info()?.finalized_number;
        let mut finalized = first.subscribe_finalized();
        let submitted: Arc<parking_lot::Mutex<HashMap<H256, Instant>>> = Default::default();
        // The load: `rate` a second in 10 ms slices, round robin over the validators.
        let load = {
            let (clients, pools, nets, submitted) = (
                clients.clone(),
                pools.clone(),
                nets.clone(),
                submitted.clone(),
            );
            // Slices of at least one transfer, every `period` ms.
            let per_slice = (args.rate as usize).div_ceil(100).max(1);
            let period_ms = (1000 * per_slice as u64) / u64::from(args.rate).max(1);
            tokio::task::spawn_blocking(move || {
                let start = Instant::now();
                let mut refused = 0usize;
                let mut first_error = None;
                for (slice, chunk) in txs.chunks(per_slice).enumerate() {
                    let due = start + Duration::from_millis(period_ms * slice as u64);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    for (k, xt) in chunk.iter().enumerate() {
                        let v = (slice + k) % 4;
                        let hash = qstack_client::extrinsic_hash(xt);
                        submitted.lock().insert(hash, Instant::now());
                        match pools[v].submit_external(&clients[v], xt.clone()) {
                            Ok(_) => nets[v].publish_transaction(xt.clone()),
                            Err(e) => {
                                refused += 1;
                                first_error.get_or_insert(e.to_string());
                            }
                        }
                    }
                }
                if let Some(e) = first_error {
                    eprintln!("first refusal: {e}");
                }
                (start.elapsed(), refused)
            })
        };
        let started = Instant::now();
        let mut latencies = Vec::new();
        let mut last_final = started;
        let mut blocks = 0u32;
        // Until every transfer is final, or nothing new became final for
        // 15 s after the load ended (what is left is reported, not waited for).
        let mut progress = Instant::now();
        loop {
            let head = match tokio::time::timeout(Duration::from_secs(1), finalized.recv()).await {
                Ok(Ok(h)) => Some(h),
                Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => None,
                Ok(Err(_)) => break,
                Err(_) => None,
            };
            if let Some(head) = head {
                let now = Instant::now();
                blocks += 1;
                last_final = now;
                if let Some((block, _)) = first.block(&head.hash())? {
                    let mut sub = submitted.lock();
                    for x in &block.extrinsics {
                        if let Some(t) = sub.remove(&qstack_client::extrinsic_hash(&x.0)) {
                            latencies.push(now.duration_since(t).as_secs_f64());
                            progress = now;
                        }
                    }
                }
            }
            if latencies.len() as u64 >= total
                || (load.is_finished() && progress.elapsed() > Duration::from_secs(15))
            {
                break;
            }
        }
        let (load_time, refused) = load.await?;
        let _ = stop_tx.send(true);
        let span = last_final.duration_since(started).as_secs_f64();
        let end_number = first.info()?.finalized_number;
        latencies.sort_by(|a, b| a.total_cmp(b));
        Ok::<_, anyhow::Error>((
            latencies,
            blocks,
            span,
            load_time,
            refused,
            end_number - start_number,
        ))
    });
    // Stop every task (and with them the databases) before the temporary
    // directory goes.
    rt.shutdown_timeout(Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(300));
    drop(dir);
    let (latencies, blocks, span, load_time, refused, numbers) = report?;
    let finalised = latencies.len();
    let tps = finalised as f64 / span.max(1e-9);
    let bps = f64::from(blocks) / span.max(1e-9);
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "validators": 4, "cores": cores, "rate": args.rate, "seconds": args.seconds,
                "block_time_ms": args.block_time_ms, "submitted": total, "refused": refused,
                "finalised": finalised, "blocks": blocks, "heights": numbers,
                "blocks_per_s": bps, "finalised_tps": tps,
                "latency_p50_s": p50, "latency_p99_s": p99,
                "load_seconds": load_time.as_secs_f64(),
            })
        );
    } else {
        println!("bft benchmark: 4 validators (hybrid, hybrid, sr25519, falcon512) in one process, {cores} cores, RocksDB, libp2p on loopback");
        println!("load          : {total} sr25519 transfers at {}/s over {:.1?} ({refused} refused by the pools)", args.rate, load_time);
        println!("finalised     : {finalised} transfers in {blocks} blocks over {span:.1} s = {tps:.0} transfers/s, {bps:.2} blocks/s");
        println!(
            "finality      : p50 {:.0} ms, p99 {:.0} ms (submission → final)",
            p50 * 1000.0,
            p99 * 1000.0
        );
    }
    Ok(())
}
