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
use codec::{Decode, Encode};
use qstack_core::{AccountId, Address, Balance, Pair, PublicKey, H256};
use qstack_runtime::signing::{multi_signed, payload, ChainContext, TxOptions};
use qstack_runtime::{accounts, RuntimeCall};
use qstack_runtime_primitives::{
    AssetId, DepositAuth, Era, SignedExtra, SignerEntry, SignerKey, SignerSignature, TokenCode,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Version of the proposal file format.
const PROPOSAL_VERSION: u64 = 1;

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

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn unhex(v: &Value, what: &str) -> Result<Vec<u8>> {
    let s = v
        .as_str()
        .ok_or_else(|| anyhow!("proposal: {what} is missing or not a string"))?;
    hex::decode(s.trim_start_matches("0x")).with_context(|| format!("proposal: {what} is not hex"))
}

fn decode_exact<T: Decode>(bytes: &[u8], what: &str) -> Result<T> {
    let mut input = bytes;
    let v = T::decode(&mut input).map_err(|e| anyhow!("proposal: {what} does not decode: {e}"))?;
    if !input.is_empty() {
        bail!("proposal: {what} has trailing bytes");
    }
    Ok(v)
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
                    decode_exact::<PublicKey>(&raw, "--public-key")
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

/// An unsigned transaction of a multi-signing account and the signatures
/// gathered so far.
struct Proposal {
    ctx: ChainContext,
    account: AccountId,
    description: String,
    call: RuntimeCall,
    extra: SignedExtra,
    signatures: Vec<SignerSignature>,
}

impl Proposal {
    fn options(&self) -> TxOptions {
        TxOptions {
            nonce: self.extra.nonce,
            tip: self.extra.tip,
            era: None,
            include_key: false,
            ticket: self.extra.ticket,
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "qstackMultisig": PROPOSAL_VERSION,
            "genesisHash": format!("{:?}", self.ctx.genesis_hash),
            "specVersion": self.ctx.spec_version,
            "transactionVersion": self.ctx.transaction_version,
            "account": Address::from(self.account).to_string(),
            "description": self.description,
            "call": hex0x(&self.call.encode()),
            "extra": hex0x(&self.extra.encode()),
            "signatures": self.signatures.iter().map(|s| json!({
                "signer": Address::from(s.signer.account()).to_string(),
                "key": match s.signer { SignerKey::Regular(_) => "regular", _ => "master" },
                "entry": hex0x(&s.encode()),
            })).collect::<Vec<_>>(),
        })
    }

    fn from_json(v: &Value) -> Result<Proposal> {
        if v["qstackMultisig"].as_u64() != Some(PROPOSAL_VERSION) {
            bail!("not a qstack multisig proposal (version {PROPOSAL_VERSION})");
        }
        let genesis = unhex(&v["genesisHash"], "genesisHash")?;
        let genesis_hash = H256(
            genesis
                .try_into()
                .map_err(|_| anyhow!("proposal: genesisHash is not 32 bytes"))?,
        );
        let version = |k: &str| {
            v[k].as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| anyhow!("proposal: {k} is missing"))
        };
        let account = v["account"]
            .as_str()
            .ok_or_else(|| anyhow!("proposal: account is missing"))?;
        let extra: SignedExtra = decode_exact(&unhex(&v["extra"], "extra")?, "extra")?;
        if extra.era != Era::Immortal {
            bail!("proposal: only immortal transactions can be multi-signed here");
        }
        let mut signatures = Vec::new();
        for (i, s) in v["signatures"]
            .as_array()
            .ok_or_else(|| anyhow!("proposal: signatures is not a list"))?
            .iter()
            .enumerate()
        {
            let entry: SignerSignature =
                decode_exact(&unhex(&s["entry"], "signature entry")?, "signature entry")?;
            let named = parse_address(s["signer"].as_str().unwrap_or_default(), "signer")?;
            if named != entry.signer.account() {
                bail!("proposal: signature {i} is labelled with another signer than it has");
            }
            signatures.push(entry);
        }
        Ok(Proposal {
            ctx: ChainContext {
                genesis_hash,
                spec_version: version("specVersion")?,
                transaction_version: version("transactionVersion")?,
            },
            account: parse_address(account, "proposal account")?,
            description: v["description"].as_str().unwrap_or_default().to_string(),
            call: decode_exact(&unhex(&v["call"], "call")?, "call")?,
            extra,
            signatures,
        })
    }

    fn load(path: &Path) -> Result<Proposal> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let v: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        Proposal::from_json(&v).with_context(|| format!("in {}", path.display()))
    }

    fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(&self.to_json())?;
        if path == Path::new("-") {
            println!("{text}");
            return Ok(());
        }
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
    }

    /// Adds `s`, replacing an earlier signature of the same signer.
    fn add(&mut self, s: SignerSignature) {
        let who = s.signer.account();
        self.signatures.retain(|o| o.signer.account() != who);
        self.signatures.push(s);
    }

    /// Whether `other` is the same transaction (signatures aside).
    fn same_transaction(&self, other: &Proposal) -> bool {
        self.ctx.genesis_hash == other.ctx.genesis_hash
            && self.ctx.spec_version == other.ctx.spec_version
            && self.ctx.transaction_version == other.ctx.transaction_version
            && self.account == other.account
            && self.call == other.call
            && self.extra == other.extra
    }

    fn summary(&self) -> String {
        let sequence = match self.extra.ticket {
            Some(t) => format!("ticket {t}"),
            None => format!("nonce {}", self.extra.nonce),
        };
        format!(
            "{} for {} ({sequence}, tip {}): {:?}",
            self.description,
            Address::from(self.account),
            self.extra.tip,
            self.call
        )
    }
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
    let (extra, _) = payload(&call, &chain.ctx, opts);
    let p = Proposal {
        ctx: chain.ctx,
        account,
        description: what.to_string(),
        call,
        extra,
        signatures: Vec::new(),
    };
    p.save(out)?;
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
            let (_, msg) = payload(&p.call, &p.ctx, &p.options());
            let role = match key {
                SignerKey::Regular(_) => "regular key",
                _ => "master key",
            };
            let who = key.account();
            p.add(qstack_runtime::signing::signer_signature(&pair, key, &msg));
            let target = out.unwrap_or(file);
            p.save(&target)?;
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
                        for s in p.signatures {
                            if !acc
                                .signatures
                                .iter()
                                .any(|o| o.signer.account() == s.signer.account())
                            {
                                acc.signatures.push(s);
                            }
                        }
                    }
                }
            }
            let p = all.ok_or_else(|| anyhow!("no proposal files given"))?;
            p.save(&out)?;
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
            let xt = multi_signed(p.account, p.call, p.extra, signatures);
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

    #[test]
    fn proposals_round_trip_and_reject_tampering() {
        let pair = Pair::from_suri(qstack_core::KeyScheme::Sr25519, "//Signer").unwrap();
        let ctx = ChainContext::new(H256([3; 32]));
        let call = RuntimeCall::Accounts(accounts::Call::EnableMaster);
        let (extra, msg) = payload(&call, &ctx, &TxOptions::nonce(4));
        let mut p = Proposal {
            ctx,
            account: AccountId([9; 32]),
            description: "enable master key".into(),
            call,
            extra,
            signatures: vec![],
        };
        p.add(qstack_runtime::signing::signer_signature(
            &pair,
            SignerKey::Key(pair.public()),
            &msg,
        ));
        let back = Proposal::from_json(&p.to_json()).unwrap();
        assert!(back.same_transaction(&p));
        assert_eq!(back.signatures, p.signatures);
        let mut v = p.to_json();
        v["signatures"][0]["signer"] = Address::from(AccountId([1; 32])).to_string().into();
        assert!(Proposal::from_json(&v).is_err());
        let mut v = p.to_json();
        v["call"] = "0xff".into();
        assert!(Proposal::from_json(&v).is_err());
        let mut v = p.to_json();
        v["qstackMultisig"] = 9.into();
        assert!(Proposal::from_json(&v).is_err());
    }
}
