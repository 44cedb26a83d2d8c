//! `qstack upgrade …`: forkless runtime upgrades from the command line.
//!
//! On a real chain an upgrade takes two steps: `qstack upgrade propose
//! --wasm FILE` submits a critical governance proposal authorising the
//! code's hash; once the vote passes, anyone runs `qstack upgrade apply
//! --wasm FILE`, which submits the code (in chunks when it is large). On a
//! development chain `qstack upgrade sudo --wasm FILE` sets it at once with
//! the spec's sudo key. Each command first vets the code locally, as every
//! node will (compiles, exports, dry run of `Core_version`, same
//! `spec_name`, higher `spec_version`), so a bad file is refused before it
//! costs a fee. The new code runs from the block after the one that sets it.

use crate::tx::{send, send_on, Chain, SendArgs};
use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use qstack_core::{Balance, H256};
use qstack_runtime::{governance, sudo, system, RuntimeCall};
use qstack_runtime_primitives::RuntimeVersion;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Code up to this size goes in one extrinsic; larger code in chunks.
const WHOLE_LIMIT: usize = 2 << 20;

/// Upgrade subcommands.
#[derive(Subcommand, Debug)]
pub enum UpgradeCommand {
    /// Vet a runtime against a running chain without submitting anything.
    Check {
        /// The new runtime (`.wasm`).
        #[arg(long)]
        wasm: PathBuf,
        /// Node RPC endpoint.
        #[arg(long, default_value = "ws://127.0.0.1:9944")]
        rpc: String,
    },
    /// Propose the runtime to governance (a critical-level proposal
    /// authorising its hash).
    Propose {
        /// The new runtime (`.wasm`).
        #[arg(long)]
        wasm: PathBuf,
        /// Deposit in the smallest unit (at least the chain's minimum
        /// proposer deposit; the proposal enters voting at the level's
        /// minimum deposit).
        #[arg(long)]
        deposit: Balance,
        /// Title (default: the new version).
        #[arg(long)]
        title: Option<String>,
        /// Description: what changes and why.
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Submit the authorised runtime (anyone may, once governance accepted
    /// its hash).
    Apply {
        /// The new runtime (`.wasm`).
        #[arg(long)]
        wasm: PathBuf,
        /// Upload in chunks of this many bytes (default: whole when it
        /// fits in 2 MiB, else 1 MiB chunks).
        #[arg(long)]
        chunk_size: Option<usize>,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Development chains: set the runtime at once with the sudo key.
    Sudo {
        /// The new runtime (`.wasm`).
        #[arg(long)]
        wasm: PathBuf,
        #[command(flatten)]
        send: SendArgs,
    },
}

fn read_wasm(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("--wasm: cannot read {}", path.display()))
}

/// The running runtime's version, from `state_getRuntimeVersion`.
async fn running_version(chain: &Chain) -> Result<RuntimeVersion> {
    let v: Value = chain.rpc("state_getRuntimeVersion", vec![]).await?;
    let name = v["specName"]
        .as_str()
        .ok_or_else(|| anyhow!("the node's runtime version has no specName"))?;
    let spec_version = v["specVersion"]
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| anyhow!("the node's runtime version has no specVersion"))?;
    let mut version = qstack_runtime::VERSION;
    version.spec_name = name.to_string().into();
    version.spec_version = spec_version;
    Ok(version)
}

/// Vets `code` as every node will, against the chain's running version.
async fn vet(chain: &Chain, code: &[u8]) -> Result<RuntimeVersion> {
    let running = running_version(chain).await?;
    let executor = qstack_executor::Executor::new(qstack_executor::ExecutorConfig::default())?;
    let new = executor
        .vet_upgrade(code, &running)
        .map_err(|e| anyhow!("{e}"))?;
    eprintln!(
        "{} v{} → v{}: compiles, exports every entry point, answers Core_version",
        running.spec_name, running.spec_version, new.spec_version
    );
    Ok(new)
}

/// The code hash the chain authorised (`System.AuthorizedUpgrade`).
async fn authorized(chain: &Chain) -> Result<Option<H256>> {
    let key = format!("0x{}", hex::encode(system::AuthorizedUpgrade::key()));
    let v: Value = chain
        .rpc("state_getStorage", vec![Value::String(key)])
        .await?;
    let Some(hex_value) = v.as_str() else {
        return Ok(None);
    };
    let raw = hex::decode(hex_value.trim_start_matches("0x"))?;
    let hash: [u8; 32] = raw
        .try_into()
        .map_err(|_| anyhow!("System.AuthorizedUpgrade is not a 32-byte hash"))?;
    Ok(Some(H256(hash)))
}

fn code_hash(code: &[u8]) -> H256 {
    H256(qstack_core::hashing::blake2_256(code))
}

/// Runs an upgrade subcommand.
pub async fn run(cmd: UpgradeCommand) -> Result<()> {
    match cmd {
        UpgradeCommand::Check { wasm, rpc } => {
            let code = read_wasm(&wasm)?;
            let chain = Chain::connect(&rpc).await?;
            vet(&chain, &code).await?;
            println!("{:?}", code_hash(&code));
            Ok(())
        }
        UpgradeCommand::Propose {
            wasm,
            deposit,
            title,
            description,
            send: args,
        } => {
            let code = read_wasm(&wasm)?;
            let chain = Chain::connect(&args.rpc).await?;
            let new = vet(&chain, &code).await?;
            let hash = code_hash(&code);
            let title = title.unwrap_or_else(|| {
                format!("Runtime upgrade to {} v{}", new.spec_name, new.spec_version)
            });
            let call = RuntimeCall::Governance(governance::Call::Submit {
                title: title.into_bytes(),
                description: description.into_bytes(),
                kind: governance::ProposalKind::RuntimeUpgrade { code_hash: hash },
                deposit,
            });
            send_on(
                &chain,
                call,
                &args,
                &format!("propose runtime v{} ({hash:?})", new.spec_version),
            )
            .await
        }
        UpgradeCommand::Apply {
            wasm,
            chunk_size,
            send: args,
        } => {
            let code = read_wasm(&wasm)?;
            let chain = Chain::connect(&args.rpc).await?;
            let new = vet(&chain, &code).await?;
            let hash = code_hash(&code);
            match authorized(&chain).await? {
                Some(h) if h == hash => {}
                Some(h) => bail!("the chain authorised other code ({h:?}), not this file ({hash:?})"),
                None => bail!(
                    "the chain has no authorised upgrade: propose it first (`qstack upgrade propose`)"
                ),
            }
            let chunk = match chunk_size {
                Some(0) => bail!("--chunk-size: must be above 0"),
                Some(n) => n,
                None if code.len() <= WHOLE_LIMIT => code.len(),
                None => 1 << 20,
            };
            if chunk >= code.len() {
                let call = RuntimeCall::System(system::Call::ApplyAuthorizedUpgrade { code });
                return send_on(
                    &chain,
                    call,
                    &args,
                    &format!("apply runtime v{}", new.spec_version),
                )
                .await;
            }
            let parts: Vec<&[u8]> = code.chunks(chunk).collect();
            if parts.len() > usize::from(system::MAX_CODE_CHUNKS) {
                bail!(
                    "{} chunks of {chunk} bytes exceed the chain's {}; use a larger --chunk-size",
                    parts.len(),
                    system::MAX_CODE_CHUNKS
                );
            }
            for (i, part) in parts.iter().enumerate() {
                let index = u16::try_from(i).context("chunk index")?;
                let call = RuntimeCall::System(system::Call::UploadCodeChunk {
                    index,
                    chunk: part.to_vec(),
                });
                send_on(
                    &chain,
                    call,
                    &args,
                    &format!(
                        "upload chunk {}/{} ({} bytes)",
                        i + 1,
                        parts.len(),
                        part.len()
                    ),
                )
                .await?;
            }
            let call =
                RuntimeCall::System(system::Call::ApplyAuthorizedUpgrade { code: Vec::new() });
            send_on(
                &chain,
                call,
                &args,
                &format!(
                    "apply runtime v{} from {} chunks",
                    new.spec_version,
                    parts.len()
                ),
            )
            .await
        }
        UpgradeCommand::Sudo { wasm, send: args } => {
            let code = read_wasm(&wasm)?;
            let chain = Chain::connect(&args.rpc).await?;
            let new = vet(&chain, &code).await?;
            let call = RuntimeCall::Sudo(sudo::Call::Sudo {
                call: Box::new(RuntimeCall::System(system::Call::SetCode { code })),
            });
            drop(chain);
            send(
                call,
                &args,
                &format!("set runtime v{} with the sudo key", new.spec_version),
            )
            .await
        }
    }
}

/// `qstack try-upgrade`: what a runtime upgrade would do to a live chain,
/// before anyone votes for it (Substrate's try-runtime, built in). It
/// copies the chain's whole state at a block over RPC, installs the new
/// code on the copy, runs every pending storage migration to its end (as
/// the first blocks after the upgrade would, one step a block) and every
/// pallet's invariants, then reports the weight of each step, the storage
/// items changed and the first invariant broken. Nothing is submitted.
#[derive(clap::Args, Debug)]
pub struct TryUpgradeArgs {
    /// The new runtime (`.wasm`).
    #[arg(long)]
    pub wasm: PathBuf,
    /// Node RPC endpoint.
    #[arg(long, default_value = "ws://127.0.0.1:9944")]
    pub rpc: String,
    /// The block whose state to use (default: the finalised head).
    #[arg(long)]
    pub at: Option<String>,
    /// Most migration steps (blocks) to run.
    #[arg(long, default_value_t = 1_000)]
    pub max_steps: u32,
}

/// Keys fetched per RPC call (the node's limit).
const PAGE: usize = 1_000;

/// Every `(key, value)` of the state at `at`.
async fn fetch_state(chain: &Chain, at: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut pairs = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let keys: Value = chain
            .rpc(
                "state_getKeysPaged",
                vec![
                    Value::String("0x".into()),
                    Value::from(PAGE),
                    start.clone().map_or(Value::Null, Value::String),
                    Value::String(at.into()),
                ],
            )
            .await?;
        let keys: Vec<String> = serde_json::from_value(keys)?;
        if keys.is_empty() {
            break;
        }
        let answer: Value = chain
            .rpc(
                "state_queryStorageAt",
                vec![serde_json::to_value(&keys)?, Value::String(at.into())],
            )
            .await?;
        let changes = answer[0]["changes"]
            .as_array()
            .ok_or_else(|| anyhow!("state_queryStorageAt answered without changes"))?;
        for change in changes {
            let (Some(k), Some(v)) = (change[0].as_str(), change[1].as_str()) else {
                continue;
            };
            pairs.push((
                hex::decode(k.trim_start_matches("0x"))?,
                hex::decode(v.trim_start_matches("0x"))?,
            ));
        }
        if keys.len() < PAGE {
            break;
        }
        start = keys.last().cloned();
    }
    Ok(pairs)
}

/// `Pallet.Item` of each storage item the new code's metadata lists, by
/// its 32-byte key prefix.
fn item_names(metadata: &[u8]) -> std::collections::BTreeMap<[u8; 32], String> {
    use codec::Decode;
    use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
    let mut names = std::collections::BTreeMap::new();
    let Ok(prefixed) = RuntimeMetadataPrefixed::decode(&mut &metadata[..]) else {
        return names;
    };
    if let RuntimeMetadata::V14(m) = prefixed.1 {
        for p in m.pallets {
            if let Some(s) = p.storage {
                for e in s.entries {
                    names.insert(
                        qstack_runtime_primitives::storage::item_prefix(&s.prefix, &e.name),
                        format!("{}.{}", p.name, e.name),
                    );
                }
            }
            names.insert(
                qstack_runtime_primitives::storage::item_prefix(&p.name, ":__STORAGE_VERSION__:"),
                format!("{}.(storage version)", p.name),
            );
        }
    }
    names
}

/// Runs `qstack try-upgrade`.
pub async fn try_upgrade(args: TryUpgradeArgs) -> Result<()> {
    use codec::{Decode, Encode};
    let code = read_wasm(&args.wasm)?;
    let chain = Chain::connect(&args.rpc).await?;
    let at = match args.at {
        Some(h) => h,
        None => chain
            .rpc("chain_getFinalizedHead", vec![])
            .await?
            .as_str()
            .ok_or_else(|| anyhow!("the node has no finalised head"))?
            .to_string(),
    };
    let new = vet(&chain, &code).await?;
    let pairs = fetch_state(&chain, &at).await?;
    eprintln!("copied {} storage entries at {at}", pairs.len());
    let state = qstack_io::TestExternalities::from_pairs(pairs);
    let executor = qstack_executor::Executor::new(qstack_executor::ExecutorConfig::default())?;
    let mut overlay = qstack_io::OverlayedChanges::default();
    overlay.set(system::CODE_KEY, Some(code.clone()));
    let mut ext = qstack_io::OverlayExt::new(&mut overlay, &state.backend);
    let out = executor
        .call(
            &code,
            &mut ext,
            "TryRuntime_try_upgrade",
            &args.max_steps.encode(),
        )
        .map_err(|e| anyhow!("the new runtime failed while migrating: {e}"))?;
    let report = qstack_runtime::apis::TryUpgradeReport::decode(&mut &out[..])
        .map_err(|e| anyhow!("TryRuntime_try_upgrade's reply does not decode: {e}"))?;
    let metadata = {
        let mut scratch = qstack_io::TestExternalities::new();
        let mut oe = qstack_io::OverlayExt::new(&mut scratch.overlay, &scratch.backend);
        let raw = executor.call(&code, &mut oe, "Metadata_metadata", &[])?;
        Vec::<u8>::decode(&mut &raw[..]).unwrap_or_default()
    };
    let names = item_names(&metadata);
    let mut changed: std::collections::BTreeMap<String, usize> = Default::default();
    for key in overlay.changes().keys() {
        if key.as_slice() == system::CODE_KEY {
            continue;
        }
        let name = key
            .get(..32)
            .and_then(|p| <[u8; 32]>::try_from(p).ok())
            .and_then(|p| names.get(&p).cloned())
            .unwrap_or_else(|| format!("0x{}", hex::encode(key)));
        *changed.entry(name).or_default() += 1;
    }
    let total: u64 = report.step_weights.iter().sum();
    println!(
        "{} v{}: {} migration step(s), weight {} ps in all ({} ps the heaviest step)",
        new.spec_name,
        report.spec_version,
        report.steps,
        total,
        report.step_weights.iter().max().copied().unwrap_or(0),
    );
    println!("changed keys:");
    for (name, n) in &changed {
        println!("  {name}: {n}");
    }
    if !report.finished {
        bail!(
            "the migrations did not finish within {} steps",
            args.max_steps
        );
    }
    if let Some(why) = report.invariant_failure {
        bail!("an invariant fails after the migrations: {why}");
    }
    println!("every invariant holds");
    Ok(())
}
