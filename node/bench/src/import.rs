//! `qstack benchmark import`: blocks full of signed transfers are generated on
//! one client, then imported by a fresh one (RocksDB in a temporary directory
//! by default), exactly as a node imports blocks from a peer or a file. For
//! each key scheme and each kind of transfer (native token, issued token) it
//! reports transfers/s imported with and without parallel signature
//! pre-verification, and the bare single-core verification rate measured in
//! the same run, so the ratio says how much of an import is signature
//! checking.

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use codec::Encode;
use qstack_client::{Client, GenesisSource};
use qstack_core::{Address, KeyScheme, Pair};
use qstack_executor::{Executor, ExecutorConfig};
use qstack_runtime::signing::{sign, ChainContext, TxOptions};
use qstack_runtime::{amm, tokens, RuntimeCall};
use qstack_runtime_primitives::{Digest, OpaqueBlock};
use qstack_service::chain_spec::ChainSpec;
use qstack_service::client_on;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the benchmark transfers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AssetKind {
    /// The native token (`tokens.transfer`).
    Native,
    /// A token issued at genesis (`tokens.transfer_token`).
    Token,
    /// Swaps between the native token and that token through one AMM pool
    /// (`amm.swap_exact_in`, alternating directions), created in a first
    /// block that is imported but not counted.
    Swap,
}

impl AssetKind {
    fn name(self) -> &'static str {
        match self {
            AssetKind::Native => "native",
            AssetKind::Token => "token",
            AssetKind::Swap => "swap",
        }
    }
}

/// Where the importing client keeps its data.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DbKind {
    /// RocksDB in a temporary directory, as a node runs.
    Rocksdb,
    /// In memory: execution and trie work only.
    Memory,
}

/// Options of `qstack benchmark import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Key schemes to measure (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "sr25519,falcon512,mldsa44,hybrid"
    )]
    schemes: Vec<String>,
    /// What to transfer (comma-separated): the native token, an issued
    /// token, AMM swaps between the two.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "native,token,swap"
    )]
    assets: Vec<AssetKind>,
    /// Blocks to generate and import per scheme.
    #[arg(long, default_value_t = 10)]
    blocks: u32,
    /// Signed transfers in each block (a 1 s block's weight takes about
    /// 580 native transfers or 390 swaps).
    #[arg(long, default_value_t = 300)]
    txs_per_block: u32,
    /// Distinct sending accounts (each first announces its key, then signs by id).
    #[arg(long, default_value_t = 200)]
    senders: u32,
    /// Imports of the same blocks per measurement; the fastest counts (the
    /// least disturbed by other work on the machine).
    #[arg(long, default_value_t = 3)]
    repeat: u32,
    /// Database of the importing client.
    #[arg(long, value_enum, default_value_t = DbKind::Rocksdb)]
    db: DbKind,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// One scheme's figures for one asset kind.
#[derive(serde::Serialize, Debug)]
struct SchemeResult {
    scheme: &'static str,
    /// `native` or `token`.
    asset: &'static str,
    transfers: u64,
    /// Transfers/s imported with signatures pre-verified on every core.
    import_tps: f64,
    /// Transfers/s imported with every signature checked inline, in order.
    import_tps_serial: f64,
    /// Bare signature verifications/s on one core.
    verify_per_s_one_core: f64,
    /// `import_tps / verify_per_s_one_core`.
    ratio_to_one_core_verify: f64,
    /// Average encoded transfer size.
    bytes_per_transfer: u64,
}

/// Runs `qstack benchmark import`.
pub fn run(args: ImportArgs) -> Result<()> {
    if args.blocks == 0 || args.txs_per_block == 0 || args.senders == 0 {
        bail!("--blocks, --txs-per-block and --senders must be positive");
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: this is a debug build; measure with `cargo run --release -p qstack-cli -- benchmark import`");
    }
    let schemes = args
        .schemes
        .iter()
        .map(|s| {
            KeyScheme::from_name(s).with_context(|| {
                format!("--schemes: unknown scheme {s:?} (sr25519, falcon512, mldsa44, hybrid)")
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let executor = Arc::new(Executor::new(ExecutorConfig::default())?);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if !args.json {
        println!(
            "import benchmark: {} blocks × {} transfers, {} senders, {:?} database, {threads} cores, best of {}",
            args.blocks, args.txs_per_block, args.senders, args.db, args.repeat.max(1)
        );
        println!(
            "{:<10} {:<7} {:>12} {:>14} {:>14} {:>10} {:>8}",
            "scheme", "asset", "import tx/s", "serial tx/s", "verify/s 1core", "ratio", "bytes/tx"
        );
    }
    if args.assets.is_empty() {
        bail!("--assets: name at least one of native, token, swap");
    }
    let mut results = Vec::new();
    for (scheme, asset) in schemes
        .iter()
        .flat_map(|s| args.assets.iter().map(move |a| (*s, *a)))
    {
        let r = bench_scheme(&executor, scheme, asset, &args)?;
        if !args.json {
            println!(
                "{:<10} {:<7} {:>12.0} {:>14.0} {:>14.0} {:>10.2} {:>8}",
                r.scheme,
                r.asset,
                r.import_tps,
                r.import_tps_serial,
                r.verify_per_s_one_core,
                r.ratio_to_one_core_verify,
                r.bytes_per_transfer
            );
        }
        results.push(r);
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "blocks": args.blocks,
                "txs_per_block": args.txs_per_block,
                "senders": args.senders,
                "cores": threads,
                "results": results,
            })
        );
    }
    Ok(())
}

/// Code of the token the issued-token runs transfer.
const BENCH_TOKEN: &str = "BNC";

/// The issuer of [`BENCH_TOKEN`].
fn bench_issuer() -> Result<Pair> {
    Ok(Pair::from_suri(KeyScheme::Sr25519, "//bench//issuer")?)
}

/// The dev chain's genesis with every sender funded in the native token and,
/// for `AssetKind::Token`, holding [`BENCH_TOKEN`] issued at genesis.
pub(crate) fn genesis_with(senders: &[Pair], asset: AssetKind) -> Result<GenesisSource> {
    let source = ChainSpec::load("dev")?.genesis_source()?;
    let GenesisSource::Runtime { code, mut patch } = source else {
        bail!("the dev chain spec has raw genesis; the benchmark needs a runtime genesis patch");
    };
    let list = patch
        .pointer_mut("/balances/balances")
        .and_then(|v| v.as_array_mut())
        .context("dev spec genesis has no balances.balances list")?;
    for p in senders {
        list.push(serde_json::json!([
            Address::from(p.public().account_id()).to_string(),
            "1000000000000000000"
        ]));
    }
    if asset != AssetKind::Native {
        // The issuer pays the owner reserve of the token and of every
        // holding it creates at genesis (1e6 QS covers five million).
        list.push(serde_json::json!([
            Address::from(bench_issuer()?.account_id()).to_string(),
            "1000000000000000000"
        ]));
        // For swaps the issuer also holds the token, to seed the pool.
        let issuer = bench_issuer()?;
        let holders: Vec<_> = senders
            .iter()
            .chain((asset == AssetKind::Swap).then_some(&issuer))
            .map(|p| {
                serde_json::json!([
                    Address::from(p.public().account_id()).to_string(),
                    "1000000000000000000"
                ])
            })
            .collect();
        let patch = patch
            .as_object_mut()
            .context("dev spec genesis patch is not an object")?;
        let tokens = patch
            .entry("tokens")
            .or_insert_with(|| serde_json::json!({}))
            .as_object_mut()
            .context("dev spec genesis tokens is not an object")?;
        let issued = tokens
            .entry("issued")
            .or_insert_with(|| serde_json::json!([]))
            .as_array_mut()
            .context("dev spec genesis tokens.issued is not a list")?;
        issued.push(serde_json::json!({
            "issuer": Address::from(bench_issuer()?.account_id()).to_string(),
            "code": BENCH_TOKEN,
            "name": "Benchmark token",
            "symbol": BENCH_TOKEN,
            "decimals": 6,
            "holders": holders,
        }));
    }
    Ok(GenesisSource::Runtime { code, patch })
}

fn bench_scheme(
    executor: &Arc<Executor>,
    scheme: KeyScheme,
    asset: AssetKind,
    args: &ImportArgs,
) -> Result<SchemeResult> {
    let senders: Vec<Pair> = (0..args.senders)
        .map(|i| Pair::from_suri(scheme, &format!("//bench//{i}")))
        .collect::<Result<_, _>>()?;
    let genesis = genesis_with(&senders, asset)?;
    let blocks = generate(
        &client_on(executor, &genesis, None)?,
        &senders,
        asset,
        args.blocks,
        args.txs_per_block,
    )?;
    let transfers = u64::from(args.blocks) * u64::from(args.txs_per_block);
    let bytes: usize = blocks
        .iter()
        .skip(usize::from(asset == AssetKind::Swap))
        .flat_map(|b| b.extrinsics.iter().skip(1))
        .map(|x| x.0.len())
        .sum();

    let timed_import = |verify_threads: Option<usize>| -> Result<Duration> {
        let dir = tempfile::tempdir()?;
        let db = matches!(args.db, DbKind::Rocksdb).then(|| dir.path().join("db"));
        let mut client = client_on(executor, &genesis, db.as_deref())?;
        if let Some(t) = verify_threads {
            client.set_verify_threads(t);
        }
        let start = Instant::now();
        for block in &blocks {
            client
                .import_block(block.clone(), None, true)
                .map_err(|e| anyhow::anyhow!("import of #{}: {e}", block.header.number))?;
        }
        Ok(start.elapsed())
    };
    let best_of = |threads: Option<usize>| -> Result<Duration> {
        let mut best = Duration::MAX;
        for _ in 0..args.repeat.max(1) {
            best = best.min(timed_import(threads)?);
        }
        Ok(best)
    };
    let parallel = best_of(None)?;
    let serial = best_of(Some(0))?;
    let verify_rate = bare_verify_rate(&senders);
    let import_tps = transfers as f64 / parallel.as_secs_f64();
    Ok(SchemeResult {
        scheme: scheme.name(),
        asset: asset.name(),
        transfers,
        import_tps,
        import_tps_serial: transfers as f64 / serial.as_secs_f64(),
        verify_per_s_one_core: verify_rate,
        ratio_to_one_core_verify: import_tps / verify_rate,
        bytes_per_transfer: (bytes as u64) / transfers.max(1),
    })
}

/// Signs, builds and commits `count` blocks of `per_block` transfers each on
/// `client` (from its best block), returning them.
pub(crate) fn generate(
    client: &Client,
    senders: &[Pair],
    asset: AssetKind,
    count: u32,
    per_block: u32,
) -> Result<Vec<OpaqueBlock>> {
    let issuer = bench_issuer()?.account_id();
    let code = qstack_runtime_primitives::TokenCode::parse(BENCH_TOKEN)
        .map_err(|e| anyhow::anyhow!("{BENCH_TOKEN}: {e}"))?;
    let info = client.info()?;
    let ctx = ChainContext::new(info.genesis_hash);
    let mut nonces = vec![0u32; senders.len()];
    let mut parent = info.best_hash;
    let mut blocks = Vec::new();
    let n = senders.len();
    let bnc = qstack_runtime_primitives::AssetId::Issued { issuer, code };
    let native = qstack_runtime_primitives::AssetId::Native;
    let time = |b: u32| (1_700_000_000_000u64 + u64::from(b) * 1000).encode();
    if asset == AssetKind::Swap {
        // The pool every swap trades against: 1e17 of each side.
        let create = RuntimeCall::Amm(amm::Call::CreatePool {
            asset_a: native,
            asset_b: bnc,
            amount_a: 100_000_000_000_000_000,
            amount_b: 100_000_000_000_000_000,
            fee: 300,
        });
        let xt = sign(&bench_issuer()?, create, &ctx, &TxOptions::nonce(0));
        let mut inherents = BTreeMap::new();
        inherents.insert(qstack_runtime::timestamp::INHERENT_IDENTIFIER, time(0));
        let built = client.build_block(
            &parent,
            &inherents,
            Digest::default(),
            &[Arc::new(xt.encode())],
        )?;
        if built.included.len() != 1 {
            bail!(
                "the benchmark's pool was not created: {:?}",
                built.rejected.first()
            );
        }
        parent = built.block.header.hash();
        blocks.push(built.block.clone());
        client.commit_built(built, None, true)?;
        ensure_all_succeeded(client, &parent, 1)?;
    }
    let first = u32::from(asset == AssetKind::Swap);
    for b in first..first + count {
        let txs: Vec<Arc<Vec<u8>>> = (0..per_block as usize)
            .map(|i| {
                let k = ((b - first) as usize * per_block as usize + i) % n;
                let (from, to) = (&senders[k], &senders[(k + 1) % n]);
                let dest = to.public().account_id();
                let call = match asset {
                    AssetKind::Native => RuntimeCall::Tokens(tokens::Call::Transfer {
                        dest,
                        value: 1_000_000,
                        dest_tag: None,
                    }),
                    AssetKind::Token => RuntimeCall::Tokens(tokens::Call::TransferToken {
                        issuer,
                        code,
                        dest,
                        amount: 1_000_000,
                        dest_tag: None,
                    }),
                    // Alternate directions so the price stays near 1.
                    AssetKind::Swap => RuntimeCall::Amm(amm::Call::SwapExactIn {
                        path: if (k + b as usize).is_multiple_of(2) {
                            vec![native, bnc]
                        } else {
                            vec![bnc, native]
                        },
                        amount_in: 1_000_000,
                        min_out: 1,
                    }),
                };
                let xt = sign(from, call, &ctx, &TxOptions::nonce(nonces[k]));
                nonces[k] += 1;
                Arc::new(xt.encode())
            })
            .collect();
        let mut inherents = BTreeMap::new();
        inherents.insert(qstack_runtime::timestamp::INHERENT_IDENTIFIER, time(b));
        let built = client.build_block(&parent, &inherents, Digest::default(), &txs)?;
        if built.included.len() != txs.len() {
            bail!(
                "block {} took {} of {} transfers (rejected: {:?}); lower --txs-per-block",
                b + 1,
                built.included.len(),
                txs.len(),
                built.rejected.first()
            );
        }
        parent = built.block.header.hash();
        blocks.push(built.block.clone());
        client.commit_built(built, None, true)?;
        ensure_all_succeeded(client, &parent, b + 1)?;
    }
    Ok(blocks)
}

/// Fails if any transfer of block `hash` was included but failed (the figures
/// would then count failed calls as transfers).
fn ensure_all_succeeded(client: &Client, hash: &qstack_core::H256, number: u32) -> Result<()> {
    use codec::Decode;
    let key = qstack_runtime_primitives::storage::item_prefix("System", "Events");
    let raw = client.storage(hash, &key)?.unwrap_or_default();
    let records = Vec::<qstack_runtime::EventRecord>::decode(&mut &raw[..])
        .map_err(|e| anyhow::anyhow!("events of block {number}: {e}"))?;
    let failed = records
        .iter()
        .filter(|r| {
            matches!(
                r.event,
                qstack_runtime::RuntimeEvent::System(
                    qstack_runtime::system::Event::ExtrinsicFailed { .. }
                )
            )
        })
        .count();
    if failed > 0 {
        bail!(
            "block {number}: {failed} transfers failed; the benchmark's genesis does not fund them"
        );
    }
    Ok(())
}

/// Bare verifications per second on one core, over signatures of transfer-sized
/// messages by the benchmark's own keys; runs for at least half a second.
fn bare_verify_rate(senders: &[Pair]) -> f64 {
    let items: Vec<_> = senders
        .iter()
        .take(50)
        .enumerate()
        .map(|(i, p)| {
            let msg = [i as u8; 150];
            (p.sign(&msg), msg, p.public())
        })
        .collect();
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < Duration::from_millis(500) {
        for (sig, msg, pk) in &items {
            assert!(
                qstack_core::verify(sig, msg, pk),
                "benchmark signature must verify"
            );
            done += 1;
        }
    }
    done as f64 / start.elapsed().as_secs_f64()
}
