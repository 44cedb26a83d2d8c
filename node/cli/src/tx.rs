//! `qstack tx`: sign a transaction locally and submit it to a node over
//! WebSocket JSON-RPC, then follow it until it is in a block.

use crate::key::SchemeArg;
use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use codec::Encode;
use jsonrpsee::core::client::{ClientT, SubscriptionClientT};
use jsonrpsee::rpc_params;
use qstack_core::{Address, Balance, Pair, H256};
use qstack_runtime::signing::{sign, ChainContext, TxOptions};
use qstack_runtime::{tokens, RuntimeCall};
use serde_json::Value;

/// Transaction subcommands.
#[derive(Subcommand, Debug)]
pub enum TxCommand {
    /// Transfer native tokens.
    Transfer {
        /// Sender's secret URI (`//Alice`, a mnemonic, …).
        #[arg(long)]
        from: String,
        /// Sender's key scheme.
        #[arg(long, default_value = "sr25519")]
        scheme: SchemeArg,
        /// Recipient address (`q…`).
        #[arg(long)]
        to: String,
        /// Amount in the smallest unit.
        #[arg(long)]
        amount: Balance,
        /// Destination tag for the recipient (an exchange's customer number).
        #[arg(long)]
        dest_tag: Option<u32>,
        #[command(flatten)]
        submit: SubmitArgs,
    },
    /// Issued tokens: issue, mint, burn, transfer, approve, freeze, pause, …
    #[command(subcommand)]
    Token(crate::tx_token::TokenCommand),
}

/// How a transaction is submitted (shared by every `qstack tx` command).
#[derive(clap::Args, Debug)]
pub struct SubmitArgs {
    /// Extra fee for priority.
    #[arg(long, default_value_t = 0)]
    pub tip: Balance,
    /// Node RPC endpoint.
    #[arg(long, default_value = "ws://127.0.0.1:9944")]
    pub rpc: String,
    /// Also wait for finality.
    #[arg(long)]
    pub wait_finalized: bool,
}

fn h256(v: &Value, what: &str) -> Result<H256> {
    let s = v
        .as_str()
        .ok_or_else(|| anyhow!("{what}: expected a hex string, got {v}"))?;
    let raw =
        hex::decode(s.trim_start_matches("0x")).with_context(|| format!("{what}: bad hex"))?;
    Ok(H256(
        raw.try_into()
            .map_err(|_| anyhow!("{what}: not 32 bytes"))?,
    ))
}

/// Runs a tx subcommand.
pub async fn run(cmd: TxCommand) -> Result<()> {
    match cmd {
        TxCommand::Transfer {
            from,
            scheme,
            to,
            amount,
            dest_tag,
            submit: opts,
        } => {
            let pair = Pair::from_suri(scheme.into(), &from).map_err(|e| anyhow!("--from: {e}"))?;
            let dest = to
                .parse::<Address>()
                .map_err(|e| anyhow!("--to: {e}"))?
                .account_id();
            let call = RuntimeCall::Tokens(tokens::Call::Transfer {
                dest,
                value: amount,
                dest_tag,
            });
            submit(&pair, call, &format!("transfer {amount} to {to}"), &opts).await
        }
        TxCommand::Token(cmd) => crate::tx_token::run(cmd).await,
    }
}

/// Signs `call` with `pair` for the chain behind `opts.rpc`, submits it and
/// follows it until it is in a block (or final, with `--wait-finalized`).
/// Fails with the module error's name when the call was included but failed.
pub(crate) async fn submit(
    pair: &Pair,
    call: RuntimeCall,
    what: &str,
    opts: &SubmitArgs,
) -> Result<()> {
    let SubmitArgs {
        tip,
        rpc,
        wait_finalized,
    } = opts;
    let (tip, wait_finalized) = (*tip, *wait_finalized);
    let url = rpc
        .replacen("http://", "ws://", 1)
        .replacen("https://", "wss://", 1);
    let client = jsonrpsee_ws_client::WsClientBuilder::default()
        .max_request_size(16 * 1024 * 1024)
        .build(&url)
        .await
        .with_context(|| {
            format!("connecting to {url} (is a node running? start one with `qstack --dev`)")
        })?;
    let genesis = h256(
        &client
            .request::<Value, _>("chain_getBlockHash", rpc_params![0])
            .await?,
        "genesis hash",
    )?;
    let version: Value = client
        .request("state_getRuntimeVersion", rpc_params![])
        .await?;
    let spec_version = version["specVersion"]
        .as_u64()
        .ok_or_else(|| anyhow!("runtime version without specVersion"))?
        as u32;
    let transaction_version = version["transactionVersion"]
        .as_u64()
        .ok_or_else(|| anyhow!("runtime version without transactionVersion"))?
        as u32;
    let sender = Address::from(pair.account_id()).to_string();
    let nonce: u32 = client
        .request("system_accountNextIndex", rpc_params![sender.clone()])
        .await?;
    let info: Value = client
        .request("account_info", rpc_params![sender.clone()])
        .await?;
    // The first transaction of an account carries its public key.
    let include_key = info["key"].is_null();
    let ctx = ChainContext {
        genesis_hash: genesis,
        spec_version,
        transaction_version,
    };
    let xt = sign(
        pair,
        call,
        &ctx,
        &TxOptions {
            nonce,
            tip,
            era: None,
            include_key,
        },
    );
    let hex_xt = format!("0x{}", hex::encode(xt.encode()));
    println!(
        "From {sender} ({}), nonce {nonce}: {what}",
        pair.scheme().name()
    );
    let mut sub = client
        .subscribe::<Value, _>(
            "author_submitAndWatchExtrinsic",
            rpc_params![hex_xt.clone()],
            "author_unwatchExtrinsic",
        )
        .await
        .map_err(|e| anyhow!("the node refused the transaction: {e}"))?;
    while let Some(status) = sub.next().await {
        let status = status?;
        println!("Status: {status}");
        if let Some(block) = status.get("inBlock") {
            let block_hash = h256(block, "inBlock")?;
            let block: Value = client
                .request("chain_getBlock", rpc_params![format!("{block_hash}")])
                .await?;
            let number = block["block"]["header"]["number"]
                .as_str()
                .and_then(|n| u64::from_str_radix(n.trim_start_matches("0x"), 16).ok())
                .map_or_else(|| "?".to_string(), |n| format!("#{n}"));
            println!("In block {number} ({block_hash})");
            if let Some(reason) = failed_in_block(&client, block_hash, &block, &hex_xt).await? {
                bail!("the transaction was included but failed: {reason}");
            }
            if !wait_finalized {
                return Ok(());
            }
        }
        if status.get("finalized").is_some() {
            return Ok(());
        }
        if matches!(status.as_str(), Some("dropped" | "invalid" | "usurped"))
            || status.get("usurped").is_some()
        {
            bail!("transaction {status}");
        }
    }
    bail!("the node closed the subscription before the transaction was included")
}

/// Why our extrinsic (`hex_xt`) failed in `block`, if it did: its
/// `ExtrinsicFailed` event, a module error named through the chain's metadata
/// (`Tokens.InsufficientBalance: …`).
async fn failed_in_block(
    client: &jsonrpsee_ws_client::WsClient,
    hash: H256,
    block: &Value,
    hex_xt: &str,
) -> Result<Option<String>> {
    use codec::Decode;
    let Some(index) = block["block"]["extrinsics"]
        .as_array()
        .and_then(|xts| xts.iter().position(|x| x.as_str() == Some(hex_xt)))
    else {
        bail!(
            "the node reported the transaction in block {hash}, but the block does not contain it"
        );
    };
    let key = format!(
        "0x{}",
        hex::encode(qstack_runtime_primitives::storage::item_prefix(
            "System", "Events"
        ))
    );
    let raw: Option<String> = client
        .request("state_getStorage", rpc_params![key, format!("{hash}")])
        .await?;
    let Some(raw) = raw else { return Ok(None) };
    let bytes = hex::decode(raw.trim_start_matches("0x"))?;
    let records = Vec::<qstack_runtime::EventRecord>::decode(&mut &bytes[..])
        .map_err(|e| anyhow!("events: {e}"))?;
    let failure = records.into_iter().find_map(|r| match (r.phase, r.event) {
        (
            qstack_runtime::system::Phase::ApplyExtrinsic(i),
            qstack_runtime::RuntimeEvent::System(qstack_runtime::system::Event::ExtrinsicFailed {
                dispatch_error,
                ..
            }),
        ) if i as usize == index => Some(dispatch_error),
        _ => None,
    });
    let Some(error) = failure else {
        return Ok(None);
    };
    let metadata: String = client
        .request("state_getMetadata", rpc_params![format!("{hash}")])
        .await?;
    let metadata = hex::decode(metadata.trim_start_matches("0x"))?;
    Ok(Some(crate::dispatch_error::describe(&error, &metadata)))
}
