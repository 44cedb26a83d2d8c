//! `qstack benchmark did`: DID resolution latency over JSON-RPC. A dev node
//! runs in this process (RocksDB in a temporary directory, instant seal,
//! RPC on a free loopback port); `--dids` DIDs, each with a hybrid key, are
//! created through it, then `did_resolve` is called `--requests` times
//! over one WebSocket connection, round-robin over the DIDs, beside the
//! same number of `system_health` calls (an RPC round trip with no runtime
//! call and no state read: the floor) and of `state_call`
//! `DidApi_did_record` (the runtime read without the JSON rendering).

use anyhow::{bail, Context, Result};
use clap::Args;
use codec::Encode;
use qstack_core::{KeyScheme, Pair};
use qstack_runtime::did::{self, rel, Document, KeyMaterial, VerificationMethod};
use qstack_runtime::signing::{sign, TxOptions};
use qstack_runtime::RuntimeCall;
use qstack_service::chain_spec::ChainSpec;
use qstack_wallet::Chain;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Options of `qstack benchmark did`.
#[derive(Args, Debug)]
pub struct DidArgs {
    /// DIDs created before measuring (each with a hybrid key, 2.3 KB).
    #[arg(long, default_value_t = 500)]
    dids: u32,
    /// Calls timed per method.
    #[arg(long, default_value_t = 2000)]
    requests: u32,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct Latency {
    method: &'static str,
    p50_us: f64,
    p99_us: f64,
    mean_us: f64,
}

fn summarize(method: &'static str, mut v: Vec<Duration>) -> Latency {
    v.sort();
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1e6;
    let mean = v.iter().map(Duration::as_secs_f64).sum::<f64>() / v.len() as f64 * 1e6;
    Latency {
        method,
        p50_us: at(0.5),
        p99_us: at(0.99),
        mean_us: mean,
    }
}

async fn timed(
    chain: &Chain,
    n: u32,
    params: impl Fn(u32) -> (&'static str, Vec<Value>),
) -> Result<Vec<Duration>> {
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        let (method, p) = params(i);
        let t = Instant::now();
        let v = chain.rpc(method, p).await?;
        out.push(t.elapsed());
        if v.is_null() {
            bail!("{method} answered null");
        }
    }
    Ok(out)
}

/// Runs `qstack benchmark did`.
pub fn run(args: DidArgs) -> Result<()> {
    if args.dids == 0 || args.requests == 0 {
        bail!("--dids and --requests must be positive");
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: this is a debug build; measure with `cargo run --release -p qstack-cli -- benchmark did`");
    }
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let rpc_addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let config = qstack_service::NodeConfig {
        spec: ChainSpec::load("dev")?,
        db_path: dir.path().join("db"),
        pruning: qstack_storage::PruningMode::Archive,
        rpc_addr,
        rpc_methods: qstack_service::RpcMethods::Unsafe,
        rpc_cors: qstack_service::Cors::default(),
        rpc_rate_limit: None,
        rpc_limits: Default::default(),
        name: "did-bench".into(),
        instant_seal: true,
        author: None,
        prometheus: None,
        validator: true,
        network: qstack_network::NetworkConfig::new(
            qstack_network::node_key::generate(),
            vec!["/ip4/127.0.0.1/tcp/0".parse()?],
        ),
    };
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let node = tokio::spawn(qstack_service::run(config));
        let url = format!("ws://{rpc_addr}");
        let mut tries = 0;
        let chain = loop {
            match Chain::connect(&url).await {
                Ok(c) => break c,
                Err(_) if tries < 100 && !node.is_finished() => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(anyhow::Error::from(e)).context("the benchmark node did not start"),
            }
        };
        // Alice creates every DID (her nonce orders them).
        let alice = Pair::from_suri(KeyScheme::Sr25519, "//Alice").map_err(|e| anyhow::anyhow!("{e}"))?;
        let who = alice.account_id();
        let key = Pair::from_suri(KeyScheme::Hybrid, "//Alice").map_err(|e| anyhow::anyhow!("{e}"))?;
        let first_nonce = chain.next_nonce(&who).await?;
        let mut dids = Vec::new();
        for i in 0..args.dids {
            let document = Document {
                methods: vec![
                    VerificationMethod {
                        id: b"owner".to_vec(),
                        material: KeyMaterial::Account(who),
                        relationships: rel::ALL & !rel::KEY_AGREEMENT,
                    },
                    VerificationMethod {
                        id: b"key-1".to_vec(),
                        material: KeyMaterial::Key(key.public()),
                        relationships: rel::ASSERTION_METHOD | rel::AUTHENTICATION,
                    },
                ],
                ..Document::default()
            };
            // Nonce 0 carries the account's key (`TxOptions::nonce`).
            let opts = TxOptions::nonce(first_nonce + i);
            let xt = sign(&alice, RuntimeCall::Did(did::Call::Create { document }), &chain.ctx, &opts);
            chain
                .rpc("author_submitExtrinsic", vec![json!(format!("0x{}", hex::encode(xt.encode())))])
                .await
                .with_context(|| format!("submitting creation {i} (nonce {})", first_nonce + i))?;
            dids.push(did::document::did_for(&chain.ctx.genesis_hash, &who, u64::from(i)));
            // The pool checks later transactions against a registered key:
            // wait for the one that announces it.
            // (`system_accountNextIndex` counts the pool; the key is in state
            // only once the block is.)
            if opts.include_key {
                while chain.rpc("did_resolve", vec![json!(did::format_did(&dids[0]))]).await?["didDocument"].is_null() {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        // Wait until every creation is in a block.
        let deadline = Instant::now() + Duration::from_secs(60);
        let last = did::format_did(&dids[dids.len() - 1]);
        while chain.rpc("did_resolve", vec![json!(last)]).await?["didDocument"].is_null() {
            if Instant::now() > deadline {
                let info = chain.account_info(&who).await?;
                let pending = chain.rpc("author_pendingExtrinsics", vec![]).await?;
                bail!(
                    "the DIDs were not all created within 60 s (the creator's nonce is {}, from {first_nonce}; {} in the pool)",
                    info["nonce"],
                    pending.as_array().map_or(0, Vec::len)
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let n = args.requests;
        let strings: Vec<String> = dids.iter().map(did::format_did).collect();
        let raw: Vec<String> = dids.iter().map(|d| format!("0x{}", hex::encode(d.encode()))).collect();
        let k = strings.len() as u32;
        let floor = timed(&chain, n, |_| ("system_health", vec![])).await?;
        let record = timed(&chain, n, |i| {
            ("state_call", vec![json!("DidApi_did_record"), json!(raw[(i % k) as usize])])
        })
        .await?;
        let resolve = timed(&chain, n, |i| ("did_resolve", vec![json!(strings[(i % k) as usize])])).await?;
        let rows = [
            summarize("system_health (floor)", floor),
            summarize("state_call DidApi_did_record", record),
            summarize("did_resolve", resolve),
        ];
        node.abort();
        if args.json {
            println!("{}", serde_json::to_string(&json!({"dids": args.dids, "requests": n, "latency": rows}))?);
        } else {
            println!("did_resolve latency: {} DIDs with hybrid keys, {n} calls each, one WebSocket connection", args.dids);
            println!("{:<32} {:>10} {:>10} {:>10} {:>8}", "method", "p50 µs", "p99 µs", "mean µs", "÷ floor");
            let base = rows[0].p50_us;
            for r in &rows {
                println!(
                    "{:<32} {:>10.1} {:>10.1} {:>10.1} {:>8.2}",
                    r.method, r.p50_us, r.p99_us, r.mean_us, r.p50_us / base
                );
            }
        }
        Ok(())
    })
}
