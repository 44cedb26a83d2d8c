//! `qstack tx`: sign a transaction locally and submit it to a node over
//! WebSocket JSON-RPC, then follow it until it is in a block.
//!
//! Every command shares [`SendArgs`]: who signs (an account's master key, or
//! with `--account` its regular key), nonce or `--ticket`, tip, endpoint —
//! or, with `--multisig-out`, no signature at all but an unsigned proposal
//! for the signers of a multi-signing account (`qstack tx multisign`).

use crate::key::SchemeArg;
use crate::tx_accounts::{self, AccountsTxCommand};
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use codec::Encode;
use jsonrpsee::core::client::{ClientT, SubscriptionClientT};
use jsonrpsee::rpc_params;
use qstack_core::{AccountId, Address, Balance, Nonce, Pair, H256};
use qstack_runtime::signing::{sign, sign_regular, ChainContext, TxOptions};
use qstack_runtime::{tokens, Extrinsic, RuntimeCall};
use serde_json::Value;
use std::path::PathBuf;

/// Transaction subcommands.
#[derive(Subcommand, Debug)]
pub enum TxCommand {
    /// Transfer native tokens.
    Transfer {
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
        send: SendArgs,
    },
    /// Issued tokens: issue, mint, burn, transfer, approve, freeze, pause, …
    #[command(subcommand)]
    Token(crate::tx_token::TokenCommand),
    /// Account keys, multi-signing, tickets and deposit rules.
    #[command(flatten)]
    Accounts(AccountsTxCommand),
}

/// Who signs a transaction and where it goes.
#[derive(Args, Debug, Clone)]
pub struct SendArgs {
    /// Signer's secret URI (`//Alice`, a mnemonic, …): the account's master
    /// key, or with `--account` the account's regular key.
    #[arg(long, required_unless_present = "multisig_out")]
    pub from: Option<String>,
    /// The signing key's scheme.
    #[arg(long, default_value = "sr25519")]
    pub scheme: SchemeArg,
    /// The account (`q…`) to act for, when `--from` is its regular key (or,
    /// with `--multisig-out`, the multi-signing account).
    #[arg(long)]
    pub account: Option<String>,
    /// Spend this ticket (see `create-tickets`) instead of the next nonce.
    #[arg(long)]
    pub ticket: Option<Nonce>,
    /// Extra fee for priority.
    #[arg(long, default_value_t = 0)]
    pub tip: Balance,
    /// Node RPC endpoint.
    #[arg(long, default_value = "ws://127.0.0.1:9944")]
    pub rpc: String,
    /// Also wait for finality.
    #[arg(long)]
    pub wait_finalized: bool,
    /// Do not sign: write the transaction of `--account` unsigned to this
    /// file (`-` for stdout), for its signers (`qstack tx multisign sign`).
    #[arg(long, value_name = "FILE", requires = "account")]
    pub multisig_out: Option<PathBuf>,
}

/// Parses a `q…` address.
pub fn parse_address(s: &str, what: &str) -> Result<AccountId> {
    Ok(s.parse::<Address>()
        .map_err(|e| anyhow!("{what}: {e}"))?
        .account_id())
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

/// A connection to a node and what signing for its chain needs.
pub struct Chain {
    /// The WebSocket client.
    pub client: jsonrpsee_ws_client::WsClient,
    /// Genesis hash and versions.
    pub ctx: ChainContext,
}

impl Chain {
    /// Connects to `rpc` (`ws://`, `wss://`, or `http(s)://` rewritten).
    pub async fn connect(rpc: &str) -> Result<Chain> {
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
        Ok(Chain {
            client,
            ctx: ChainContext {
                genesis_hash: genesis,
                spec_version,
                transaction_version,
            },
        })
    }

    /// `account_info` of `who`.
    pub async fn account_info(&self, who: &AccountId) -> Result<Value> {
        Ok(self
            .client
            .request("account_info", rpc_params![Address::from(*who).to_string()])
            .await?)
    }

    /// The next nonce of `who` (past its transactions in the pool).
    pub async fn next_nonce(&self, who: &AccountId) -> Result<Nonce> {
        Ok(self
            .client
            .request(
                "system_accountNextIndex",
                rpc_params![Address::from(*who).to_string()],
            )
            .await?)
    }

    /// Nonce and ticket options for `who`: the ticket with nonce 0, or the
    /// next nonce.
    pub async fn sequence(&self, who: &AccountId, ticket: Option<Nonce>) -> Result<TxOptions> {
        Ok(match ticket {
            Some(t) => TxOptions::ticket(t),
            None => TxOptions {
                include_key: false,
                ..TxOptions::nonce(self.next_nonce(who).await?)
            },
        })
    }
}

/// Signs `call` as `args` say and submits it (or, with `--multisig-out`,
/// writes the unsigned proposal). `what` describes the call for people.
pub async fn send(call: RuntimeCall, args: &SendArgs, what: &str) -> Result<()> {
    let chain = Chain::connect(&args.rpc).await?;
    if let Some(out) = &args.multisig_out {
        let account = args
            .account
            .as_deref()
            .ok_or_else(|| anyhow!("--multisig-out needs --account (the multi-signing account)"))?;
        let account = parse_address(account, "--account")?;
        let mut opts = chain.sequence(&account, args.ticket).await?;
        opts.tip = args.tip;
        return tx_accounts::write_proposal(&chain, account, call, &opts, what, out);
    }
    let from = args
        .from
        .as_deref()
        .ok_or_else(|| anyhow!("--from is required"))?;
    let pair = Pair::from_suri(args.scheme.into(), from).map_err(|e| anyhow!("--from: {e}"))?;
    let account = match &args.account {
        Some(a) => parse_address(a, "--account")?,
        None => pair.account_id(),
    };
    let regular = account != pair.account_id();
    let info = chain.account_info(&account).await?;
    if regular {
        check_regular_key(&info, &pair, &account)?;
    }
    let mut opts = chain.sequence(&account, args.ticket).await?;
    opts.tip = args.tip;
    // The first transaction of an account carries its public key.
    opts.include_key = !regular && info["key"].is_null();
    let xt = if regular {
        sign_regular(&pair, account, call, &chain.ctx, &opts)
    } else {
        sign(&pair, call, &chain.ctx, &opts)
    };
    let sequence = match opts.ticket {
        Some(t) => format!("ticket {t}"),
        None => format!("nonce {}", opts.nonce),
    };
    let key = if regular { "regular key" } else { "master key" };
    println!(
        "From {} ({} {key}), {sequence}: {what}",
        Address::from(account),
        pair.scheme().name(),
    );
    submit(&chain, &xt, args.wait_finalized).await
}

/// Refuses early, with what to do, when `pair` is not `account`'s regular key.
fn check_regular_key(info: &Value, pair: &Pair, account: &AccountId) -> Result<()> {
    let regular = &info["keys"]["regular"];
    if regular.is_null() {
        bail!(
            "{} has no regular key: set one with `qstack tx set-regular-key`, or sign with its \
             master key (leave out --account)",
            Address::from(*account)
        );
    }
    let mine = pair.public();
    let raw = match &mine {
        qstack_core::PublicKey::Sr25519(k) => k.to_vec(),
        qstack_core::PublicKey::Falcon512(k) => k.0.to_vec(),
        qstack_core::PublicKey::MlDsa44(k) => k.0.to_vec(),
        qstack_core::PublicKey::Hybrid(f, m) => [f.0.as_slice(), m.0.as_slice()].concat(),
    };
    let same = regular["scheme"].as_str() == Some(mine.scheme().name())
        && regular["publicKey"].as_str() == Some(format!("0x{}", hex::encode(raw)).as_str());
    if !same {
        bail!(
            "the key of --from ({}) is not the regular key of {} (a {} key)",
            mine.scheme().name(),
            Address::from(*account),
            regular["scheme"].as_str().unwrap_or("?")
        );
    }
    Ok(())
}

/// Submits `xt` and follows it until it is in a block (or finalized).
pub async fn submit(chain: &Chain, xt: &Extrinsic, wait_finalized: bool) -> Result<()> {
    let client = &chain.client;
    let hex_xt = format!("0x{}", hex::encode(xt.encode()));
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
            if let Some(reason) = failed_in_block(client, block_hash, &block, &hex_xt).await? {
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

/// Runs a tx subcommand.
pub async fn run(cmd: TxCommand) -> Result<()> {
    match cmd {
        TxCommand::Transfer {
            to,
            amount,
            dest_tag,
            send,
        } => {
            let dest = parse_address(&to, "--to")?;
            let call = RuntimeCall::Tokens(tokens::Call::Transfer {
                dest,
                value: amount,
                dest_tag,
            });
            self::send(call, &send, &format!("transfer {amount} to {to}")).await
        }
        TxCommand::Token(cmd) => crate::tx_token::run(cmd).await,
        TxCommand::Accounts(cmd) => tx_accounts::run(cmd).await,
    }
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
