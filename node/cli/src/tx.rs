//! `qstack tx`: sign a transaction locally and submit it to a node over
//! WebSocket JSON-RPC, then follow it until it is in a block.
//!
//! Every command shares [`SendArgs`]: who signs (an account's master key, or
//! with `--account` its regular key), nonce or `--ticket`, tip, endpoint —
//! or, with `--multisig-out`, no signature at all but an unsigned proposal
//! for the signers of a multi-signing account (`qstack tx multisign`).

pub mod accounts;
pub mod amm;
pub mod gov;
pub mod staking;
pub mod token;

use crate::key::SchemeArg;
use accounts::AccountsTxCommand;
use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use qstack_core::{AccountId, Address, Balance, Nonce, Pair};
use qstack_runtime::signing::{sign, sign_regular};
use qstack_runtime::{tokens, RuntimeCall};
use qstack_runtime_primitives::EncodedCall;
use qstack_wallet::Progress;
pub use qstack_wallet::{parse_address, Chain};
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
    /// Any call of any pallet, encoded through the chain's metadata, e.g.
    /// `qstack tx call Tokens transfer '{"dest": "q…", "value": "1000"}' --from //Alice`.
    Call {
        /// The pallet, as the chain's metadata names it (`Tokens`, `Accounts`, …).
        pallet: String,
        /// The call (`transfer`, `set_regular_key`, …; case and `_` do not matter).
        call: String,
        /// The arguments, a JSON object by argument name: integers as numbers
        /// or decimal strings, accounts as `q…` addresses, bytes as 0x-hex,
        /// `null` for an absent option, enums as "Variant" or {"Variant": …}.
        #[arg(default_value = "{}")]
        args: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Issued tokens: issue, mint, burn, transfer, approve, freeze, pause, …
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// AMM pools: create, deposit, withdraw, swap, vote on the fee, bid.
    #[command(subcommand)]
    Amm(amm::AmmCommand),
    /// Validators and delegation: create-validator, bond, delegate, unbond,
    /// redelegate, revoke, activate, set-commission, withdraw-rewards.
    #[command(subcommand)]
    Staking(staking::StakingCommand),
    /// Governance: submit a proposal, deposit on it, vote.
    #[command(subcommand)]
    Gov(gov::GovCommand),
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

/// Signs `call` as `args` say and submits it (or, with `--multisig-out`,
/// writes the unsigned proposal). `what` describes the call for people.
pub async fn send(call: RuntimeCall, args: &SendArgs, what: &str) -> Result<()> {
    send_on(&Chain::connect(&args.rpc).await?, call, args, what).await
}

/// [`send`] over a connection already made.
pub(crate) async fn send_on(
    chain: &Chain,
    call: RuntimeCall,
    args: &SendArgs,
    what: &str,
) -> Result<()> {
    if let Some(out) = &args.multisig_out {
        let account = args
            .account
            .as_deref()
            .ok_or_else(|| anyhow!("--multisig-out needs --account (the multi-signing account)"))?;
        let account = parse_address(account, "--account")?;
        let mut opts = chain.sequence(&account, args.ticket).await?;
        opts.tip = args.tip;
        return accounts::write_proposal(chain, account, call, &opts, what, out);
    }
    send_signed(chain, call, args, what).await
}

/// Signs `call` with `--from` (its account's master key, or with
/// `--account` that account's regular key) and submits it.
async fn send_signed<C: codec::Encode>(
    chain: &Chain,
    call: C,
    args: &SendArgs,
    what: &str,
) -> Result<()> {
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
    submit(chain, &xt, args.wait_finalized).await
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

/// Submits `xt` and follows it until it is in a block (or finalized),
/// printing each status and the block.
pub async fn submit<C: codec::Encode>(
    chain: &Chain,
    xt: &qstack_runtime_primitives::UncheckedExtrinsic<C>,
    wait_finalized: bool,
) -> Result<()> {
    qstack_wallet::submit(chain, xt, wait_finalized, |p| match p {
        Progress::Status(status) => println!("Status: {status}"),
        Progress::InBlock { number, hash } => {
            let number = number.map_or_else(|| "?".to_string(), |n| format!("#{n}"));
            println!("In block {number} ({hash})");
        }
    })
    .await?;
    Ok(())
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
        TxCommand::Call {
            pallet,
            call,
            args,
            send,
        } => {
            let json: Value = serde_json::from_str(&args)
                .map_err(|e| anyhow!("the arguments {args:?} are not JSON: {e}"))?;
            let chain = Chain::connect(&send.rpc).await?;
            let metadata = chain.metadata().await?;
            let bytes = qstack_wallet::call::encode_call(&metadata, &pallet, &call, &json)?;
            let what = format!("{pallet}.{call} {args}");
            match <RuntimeCall as codec::DecodeAll>::decode_all(&mut &bytes[..]) {
                Ok(decoded) => send_on(&chain, decoded, &send, &what).await,
                // A call of a newer runtime than this binary's (after a
                // forkless upgrade): signed as the metadata encoded it.
                Err(_) => {
                    if send.multisig_out.is_some() {
                        bail!(
                            "{pallet}.{call} is newer than this qstack's runtime: a multi-signing \
                             proposal needs a qstack built with the chain's runtime"
                        );
                    }
                    send_signed(&chain, EncodedCall(bytes), &send, &what).await
                }
            }
        }
        TxCommand::Token(cmd) => token::run(cmd).await,
        TxCommand::Amm(cmd) => amm::run(cmd).await,
        TxCommand::Staking(cmd) => staking::run(cmd).await,
        TxCommand::Gov(cmd) => gov::run(cmd).await,
        TxCommand::Accounts(cmd) => accounts::run(cmd).await,
    }
}
