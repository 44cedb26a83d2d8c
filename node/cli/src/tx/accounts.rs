//! `qstack tx` commands of the accounts pallet: regular key, master key,
//! signer list, tickets, deposit rules; and `multisign`, the offline
//! multi-signing workflow:
//!
//! 1. any `qstack tx` command with `--account <multisig> --multisig-out p.json`
//!    writes the unsigned transaction (a *proposal*: call, signed extensions,
//!    chain) instead of signing it;
//! 2. each signer runs `qstack tx multisign sign --file p.json --from <suri>`,
//!    offline, after reading what it signs; signatures are added to the file
//!    (or written to a copy with `--out`), in any order;
//! 3. `qstack tx multisign combine a.json b.json --out all.json` merges
//!    copies signed in parallel;
//! 4. `qstack tx multisign submit --file all.json` sends it.
//!
//! A signer signs with its master key (carried in the proposal, since an
//! offline signer cannot know whether the chain already has it; `submit`
//! drops the keys the chain stores) or, with `--signer <its address>`, with
//! its regular key.

use crate::key::SchemeArg;
use crate::tx::{parse_address, send, submit, Chain, SendArgs};
use anyhow::{anyhow, bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use qstack_core::{AccountId, Address, Balance, Pair, PublicKey};
use qstack_runtime::signing::TxOptions;
use qstack_runtime::{accounts, RuntimeCall};
use qstack_runtime_primitives::{AssetId, DepositAuth, SignerEntry, SignerKey, TokenCode};
use qstack_wallet::Proposal;
use std::path::{Path, PathBuf};

/// Account subcommands of `qstack tx`.
#[derive(Subcommand, Debug)]
pub enum AccountsTxCommand {
    /// Set or replace the account's regular key (any scheme: an sr25519
    /// account moves to post-quantum signing with a hybrid regular key).
    SetRegularKey {
        /// Secret URI of the new key (only its public key is sent).
        #[arg(
            long,
            required_unless_present = "public_key",
            conflicts_with = "public_key"
        )]
        key_suri: Option<String>,
        /// Scheme of `--key-suri`.
        #[arg(long, default_value = "sr25519")]
        key_scheme: SchemeArg,
        /// The new key as `qstack key inspect --output json` prints `publicKey`.
        #[arg(long)]
        public_key: Option<String>,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Remove the regular key (refused if it is the last way to sign).
    RemoveRegularKey {
        #[command(flatten)]
        send: SendArgs,
    },
    /// Disable the master key; sign with the master key itself. Needs a
    /// regular key or signer list.
    DisableMaster {
        #[command(flatten)]
        send: SendArgs,
    },
    /// Enable the master key again (sign with the regular key or signers).
    EnableMaster {
        #[command(flatten)]
        send: SendArgs,
    },
    /// Set or replace the signer list for multi-signing.
    SetSigners {
        /// Weight the signatures must reach.
        #[arg(long)]
        quorum: u32,
        /// A signer, as `q…address` or `q…address:weight` (weight 1 if left
        /// out); repeat for each (1 to 32).
        #[arg(long = "signer", value_name = "ADDRESS[:WEIGHT]", required = true)]
        signers: Vec<String>,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Remove the signer list (refused if it is the last way to sign).
    RemoveSigners {
        #[command(flatten)]
        send: SendArgs,
    },
    /// Reserve the next `count` sequence numbers as tickets (at most 250
    /// outstanding); spend them in any order with `--ticket`.
    CreateTickets {
        /// How many.
        #[arg(long)]
        count: u32,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Require (or with `--off`, stop requiring) a destination tag on deposits.
    RequireDestTag {
        /// Stop requiring one.
        #[arg(long)]
        off: bool,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Set who may deposit into the account.
    DepositAuth {
        /// `open`, `preauthorized` (only pre-authorised senders), or
        /// `requests` (also senders whose request of an exact amount you approved).
        #[arg(long)]
        mode: DepositAuthArg,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Let a sender deposit while deposit authorisation is on.
    Preauthorize {
        /// The sender (`q…`).
        #[arg(long)]
        sender: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Withdraw a sender's pre-authorisation.
    Unauthorize {
        /// The sender (`q…`).
        #[arg(long)]
        sender: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Token refusal: accept deposits of the listed assets only, or with
    /// `--all` of every asset again.
    AcceptAssets {
        /// An accepted asset: `native`, or `CODE/q…issuer` (repeat; none
        /// means refuse every deposit).
        #[arg(long = "asset", value_name = "ASSET", conflicts_with = "all")]
        assets: Vec<String>,
        /// Accept every asset (turn token refusal off).
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Ask an account in `requests` mode to accept a deposit of an exact amount.
    RequestDeposit {
        /// The recipient (`q…`).
        #[arg(long)]
        to: String,
        /// `native` or `CODE/q…issuer`.
        #[arg(long, default_value = "native")]
        asset: String,
        /// The exact amount.
        #[arg(long)]
        amount: Balance,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Withdraw a deposit request.
    CancelDepositRequest {
        /// The recipient (`q…`).
        #[arg(long)]
        to: String,
        /// `native` or `CODE/q…issuer`.
        #[arg(long, default_value = "native")]
        asset: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Approve a sender's deposit request (of exactly the requested amount).
    ApproveDeposit {
        /// The requesting sender (`q…`).
        #[arg(long)]
        requester: String,
        /// `native` or `CODE/q…issuer`.
        #[arg(long, default_value = "native")]
        asset: String,
        /// The requested amount.
        #[arg(long)]
        amount: Balance,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Reject (delete) a sender's deposit request.
    RejectDepositRequest {
        /// The requesting sender (`q…`).
        #[arg(long)]
        requester: String,
        /// `native` or `CODE/q…issuer`.
        #[arg(long, default_value = "native")]
        asset: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Multi-signing: sign a proposal offline, combine signatures, submit.
    #[command(subcommand)]
    Multisign(MultisignCommand),
}

/// `qstack tx multisign` subcommands.
#[derive(Subcommand, Debug)]
pub enum MultisignCommand {
    /// Sign a proposal (written by a `qstack tx` command with
    /// `--multisig-out`). Works offline.
    Sign {
        /// The proposal file.
        #[arg(long)]
        file: PathBuf,
        /// Your secret URI.
        #[arg(long)]
        from: String,
        /// Your key's scheme.
        #[arg(long, default_value = "sr25519")]
        scheme: SchemeArg,
        /// Your signer account (`q…`), when `--from` is its regular key.
        #[arg(long)]
        signer: Option<String>,
        /// Write the signed proposal here (`-` for stdout) instead of
        /// updating `--file`.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Merge the signatures of copies of one proposal signed in parallel.
    Combine {
        /// The signed copies.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The merged proposal (`-` for stdout).
        #[arg(long)]
        out: PathBuf,
    },
    /// Submit a proposal whose signatures reach the quorum.
    Submit {
        /// The proposal file.
        #[arg(long)]
        file: PathBuf,
        /// Node RPC endpoint.
        #[arg(long, default_value = "ws://127.0.0.1:9944")]
        rpc: String,
        /// Also wait for finality.
        #[arg(long)]
        wait_finalized: bool,
    },
}

/// A deposit mode on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DepositAuthArg {
    /// Anyone may deposit.
    Open,
    /// Only pre-authorised senders.
    Preauthorized,
    /// Pre-authorised senders and approved requests.
    Requests,
}

impl From<DepositAuthArg> for DepositAuth {
    fn from(a: DepositAuthArg) -> Self {
        match a {
            DepositAuthArg::Open => DepositAuth::Open,
            DepositAuthArg::Preauthorized => DepositAuth::Preauthorized,
            DepositAuthArg::Requests => DepositAuth::Requests,
        }
    }
}

/// `native` or `CODE/q…issuer`.
fn parse_asset(s: &str) -> Result<AssetId> {
    if s == "native" {
        return Ok(AssetId::Native);
    }
    let (code, issuer) = s
        .split_once('/')
        .ok_or_else(|| anyhow!("asset {s:?}: expected `native` or `CODE/q…issuer`"))?;
    let code = TokenCode::parse(code).map_err(|e| anyhow!("asset {s:?}: {e}"))?;
    Ok(AssetId::Issued {
        issuer: parse_address(issuer, "asset issuer")?,
        code,
    })
}

/// `q…address` or `q…address:weight`.
fn parse_signer(s: &str) -> Result<SignerEntry> {
    let (addr, weight) = match s.split_once(':') {
        Some((a, w)) => (
            a,
            w.parse::<u16>()
                .map_err(|_| anyhow!("--signer {s}: the weight must be 1 to 65535"))?,
        ),
        None => (s, 1),
    };
    Ok(SignerEntry {
        account: parse_address(addr, "--signer")?,
        weight,
    })
}

/// Runs an account subcommand.
pub async fn run(cmd: AccountsTxCommand) -> Result<()> {
    use accounts::Call as C;
    let (call, send_args, what) = match cmd {
        AccountsTxCommand::SetRegularKey {
            key_suri,
            key_scheme,
            public_key,
            send,
        } => {
            let key = match (key_suri, public_key) {
                (Some(suri), _) => Pair::from_suri(key_scheme.into(), &suri)
                    .map_err(|e| anyhow!("--key-suri: {e}"))?
                    .public(),
                (None, Some(pk)) => {
                    let raw = hex::decode(pk.trim_start_matches("0x"))
                        .context("--public-key: not hex")?;
                    <PublicKey as codec::DecodeAll>::decode_all(&mut &raw[..])
                        .map_err(|_| anyhow!("--public-key: not a public key as `qstack key inspect --output json` prints it"))?
                }
                (None, None) => bail!("give --key-suri or --public-key"),
            };
            let what = format!(
                "set regular key ({} key of {})",
                key.scheme().name(),
                Address::from(key.account_id())
            );
            (C::SetRegularKey { key }, send, what)
        }
        AccountsTxCommand::RemoveRegularKey { send } => {
            (C::RemoveRegularKey, send, "remove regular key".into())
        }
        AccountsTxCommand::DisableMaster { send } => {
            (C::DisableMaster, send, "disable master key".into())
        }
        AccountsTxCommand::EnableMaster { send } => {
            (C::EnableMaster, send, "enable master key".into())
        }
        AccountsTxCommand::SetSigners {
            quorum,
            signers,
            send,
        } => {
            let signers = signers
                .iter()
                .map(|s| parse_signer(s))
                .collect::<Result<Vec<_>>>()?;
            let what = format!("set {} signers, quorum {quorum}", signers.len());
            (C::SetSigners { quorum, signers }, send, what)
        }
        AccountsTxCommand::RemoveSigners { send } => {
            (C::RemoveSigners, send, "remove signer list".into())
        }
        AccountsTxCommand::CreateTickets { count, send } => (
            C::CreateTickets { count },
            send,
            format!("create {count} tickets"),
        ),
        AccountsTxCommand::RequireDestTag { off, send } => (
            C::SetRequireDestTag { required: !off },
            send,
            format!("require destination tags: {}", !off),
        ),
        AccountsTxCommand::DepositAuth { mode, send } => {
            let mode = DepositAuth::from(mode);
            let what = format!("deposit authorisation: {}", mode.name());
            (C::SetDepositAuth { mode }, send, what)
        }
        AccountsTxCommand::Preauthorize { sender, send } => (
            C::Preauthorize {
                sender: parse_address(&sender, "--sender")?,
            },
            send,
            format!("pre-authorise {sender}"),
        ),
        AccountsTxCommand::Unauthorize { sender, send } => (
            C::Unauthorize {
                sender: parse_address(&sender, "--sender")?,
            },
            send,
            format!("withdraw the pre-authorisation of {sender}"),
        ),
        AccountsTxCommand::AcceptAssets { assets, all, send } => {
            let assets = if all {
                None
            } else {
                Some(
                    assets
                        .iter()
                        .map(|a| parse_asset(a))
                        .collect::<Result<Vec<_>>>()?,
                )
            };
            let what = match &assets {
                None => "accept every asset".to_string(),
                Some(l) => format!("accept only {} asset(s)", l.len()),
            };
            (C::SetAllowedAssets { assets }, send, what)
        }
        AccountsTxCommand::RequestDeposit {
            to,
            asset,
            amount,
            send,
        } => (
            C::RequestDeposit {
                to: parse_address(&to, "--to")?,
                asset: parse_asset(&asset)?,
                amount,
            },
            send,
            format!("request to deposit {amount} {asset} into {to}"),
        ),
        AccountsTxCommand::CancelDepositRequest { to, asset, send } => (
            C::CancelDepositRequest {
                to: parse_address(&to, "--to")?,
                asset: parse_asset(&asset)?,
            },
            send,
            format!("cancel the {asset} deposit request to {to}"),
        ),
        AccountsTxCommand::ApproveDeposit {
            requester,
            asset,
            amount,
            send,
        } => (
            C::ApproveDeposit {
                from: parse_address(&requester, "--requester")?,
                asset: parse_asset(&asset)?,
                amount,
            },
            send,
            format!("approve a deposit of {amount} {asset} from {requester}"),
        ),
        AccountsTxCommand::RejectDepositRequest {
            requester,
            asset,
            send,
        } => (
            C::RejectDepositRequest {
                from: parse_address(&requester, "--requester")?,
                asset: parse_asset(&asset)?,
            },
            send,
            format!("reject the {asset} deposit request of {requester}"),
        ),
        AccountsTxCommand::Multisign(cmd) => return multisign(cmd).await,
    };
    send(RuntimeCall::Accounts(call), &send_args, &what).await
}

/// Writes `p` to `path`, or to stdout for `-`.
fn save(p: &Proposal, path: &Path) -> Result<()> {
    if path == Path::new("-") {
        print!("{}", p.to_text());
        return Ok(());
    }
    Ok(p.save(path)?)
}

/// Writes the unsigned proposal of `call` for `account` (`--multisig-out`).
pub fn write_proposal(
    chain: &Chain,
    account: AccountId,
    call: RuntimeCall,
    opts: &TxOptions,
    what: &str,
    out: &Path,
) -> Result<()> {
    let p = Proposal::new(chain.ctx, account, call, opts, what);
    save(&p, out)?;
    eprintln!(
        "Proposal written to {}: {}\nNext: each signer runs `qstack tx multisign sign --file <it> --from <suri>`",
        out.display(),
        p.summary()
    );
    Ok(())
}

async fn multisign(cmd: MultisignCommand) -> Result<()> {
    match cmd {
        MultisignCommand::Sign {
            file,
            from,
            scheme,
            signer,
            out,
        } => {
            let mut p = Proposal::load(&file)?;
            let pair = Pair::from_suri(scheme.into(), &from).map_err(|e| anyhow!("--from: {e}"))?;
            let key = match signer {
                Some(s) => {
                    let account = parse_address(&s, "--signer")?;
                    if account == pair.account_id() {
                        SignerKey::Key(pair.public())
                    } else {
                        SignerKey::Regular(account)
                    }
                }
                None => SignerKey::Key(pair.public()),
            };
            if key.account() == p.account {
                bail!("the account cannot sign its own multi-signature (use its key directly)");
            }
            eprintln!("Signing {}", p.summary());
            let role = match key {
                SignerKey::Regular(_) => "regular key",
                _ => "master key",
            };
            let who = key.account();
            p.sign(&pair, key);
            let target = out.unwrap_or(file);
            save(&p, &target)?;
            eprintln!(
                "Signed by {} ({} {role}); {} signature(s) in {}",
                Address::from(who),
                pair.scheme().name(),
                p.signatures.len(),
                target.display()
            );
            Ok(())
        }
        MultisignCommand::Combine { files, out } => {
            let mut all: Option<Proposal> = None;
            for f in &files {
                let p = Proposal::load(f)?;
                match &mut all {
                    None => all = Some(p),
                    Some(acc) => {
                        if !acc.same_transaction(&p) {
                            bail!(
                                "{} is another transaction than {} (call, nonce, tip or chain differ)",
                                f.display(),
                                files[0].display()
                            );
                        }
                        acc.merge(p);
                    }
                }
            }
            let p = all.ok_or_else(|| anyhow!("no proposal files given"))?;
            save(&p, &out)?;
            eprintln!(
                "{} signature(s) from {} file(s) in {}",
                p.signatures.len(),
                files.len(),
                out.display()
            );
            Ok(())
        }
        MultisignCommand::Submit {
            file,
            rpc,
            wait_finalized,
        } => {
            let p = Proposal::load(&file)?;
            let chain = Chain::connect(&rpc).await?;
            if chain.ctx.genesis_hash != p.ctx.genesis_hash {
                bail!(
                    "the proposal is for another chain (genesis {:?})",
                    p.ctx.genesis_hash
                );
            }
            if (chain.ctx.spec_version, chain.ctx.transaction_version)
                != (p.ctx.spec_version, p.ctx.transaction_version)
            {
                bail!(
                    "the runtime changed since the proposal was made (spec {} tx {} now, {} {} then): make and sign it again",
                    chain.ctx.spec_version,
                    chain.ctx.transaction_version,
                    p.ctx.spec_version,
                    p.ctx.transaction_version
                );
            }
            if p.signatures.is_empty() {
                bail!("the proposal has no signatures yet (`qstack tx multisign sign`)");
            }
            // Keys the chain already stores are not resent.
            let mut signatures = Vec::with_capacity(p.signatures.len());
            for mut s in p.signatures.clone() {
                if let SignerKey::Key(pk) = &s.signer {
                    let who = pk.account_id();
                    if !chain.account_info(&who).await?["key"].is_null() {
                        s.signer = SignerKey::Master(who);
                    }
                }
                signatures.push(s);
            }
            let signers: Vec<String> = signatures
                .iter()
                .map(|s| Address::from(s.signer.account()).to_string())
                .collect();
            println!("Multi-signed by {}: {}", signers.len(), signers.join(", "));
            println!("{}", p.summary());
            let xt = Proposal { signatures, ..p }.into_extrinsic();
            submit(&chain, &xt, wait_finalized).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_and_signers_parse_with_clear_errors() {
        assert_eq!(parse_asset("native").unwrap(), AssetId::Native);
        let issuer = Address::from(AccountId([7; 32])).to_string();
        assert_eq!(
            parse_asset(&format!("USD/{issuer}")).unwrap(),
            AssetId::Issued {
                issuer: AccountId([7; 32]),
                code: TokenCode::parse("USD").unwrap()
            }
        );
        assert!(parse_asset("USD")
            .unwrap_err()
            .to_string()
            .contains("CODE/q"));
        assert!(parse_asset(&format!("U S/{issuer}")).is_err());
        let s = parse_signer(&format!("{issuer}:3")).unwrap();
        assert_eq!((s.account, s.weight), (AccountId([7; 32]), 3));
        assert_eq!(parse_signer(&issuer).unwrap().weight, 1);
        assert!(parse_signer(&format!("{issuer}:x"))
            .unwrap_err()
            .to_string()
            .contains("weight"));
    }
}
