//! `qstack tx token …`: issued-token transactions (issue, mint, burn,
//! transfer, approve, transfer-from, allowances, freeze, pause, global
//! freeze, no-freeze, give-back), signed locally and submitted like `qstack tx transfer`.
//!
//! Amounts are integers in the token's smallest unit. A token is named by
//! `--issuer` and `--code`; the issuer's own commands take `--code` only
//! (the signer is the issuer).

use crate::tx::{send, SendArgs};
use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use qstack_core::{AccountId, Address, Balance};
use qstack_runtime::{tokens, RuntimeCall};
use qstack_runtime_primitives::TokenCode;

/// The signer of a token transaction (any way `qstack tx` signs: master or
/// regular key, a ticket, or a multi-signing proposal).
#[derive(Args, Debug)]
pub struct Signer {
    #[command(flatten)]
    send: SendArgs,
}

/// A token held or spent (any holder's command).
#[derive(Args, Debug)]
pub struct TokenArg {
    /// The token's issuer (`q…`).
    #[arg(long)]
    issuer: String,
    /// The token's code: 3 characters (`USD`) or 40 hex characters.
    #[arg(long)]
    code: String,
}

/// How much to freeze or unfreeze.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct FreezeAmount {
    /// This amount.
    #[arg(long)]
    amount: Option<Balance>,
    /// Everything (the whole free balance, or everything frozen).
    #[arg(long)]
    all: bool,
}

/// Token subcommands.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Issue a new token, with the signer as issuer (nothing exists until minted).
    Issue {
        #[command(flatten)]
        signer: Signer,
        /// Currency code: 3 characters (`USD`) or 40 hex characters.
        #[arg(long)]
        code: String,
        /// Full name (at most 64 bytes).
        #[arg(long)]
        name: String,
        /// Symbol (at most 12 bytes, no spaces).
        #[arg(long)]
        symbol: String,
        /// Decimals wallets show (0 to 38).
        #[arg(long)]
        decimals: u8,
        /// Cap on the supply in existence (none by default).
        #[arg(long)]
        max_supply: Option<Balance>,
    },
    /// Create tokens of the signer's token in an account.
    Mint {
        #[command(flatten)]
        signer: Signer,
        /// The signer's token code.
        #[arg(long)]
        code: String,
        /// Recipient (`q…`).
        #[arg(long)]
        to: String,
        /// Amount.
        #[arg(long)]
        amount: Balance,
        /// Destination tag for the recipient.
        #[arg(long)]
        dest_tag: Option<u32>,
    },
    /// Destroy some of the signer's free balance of a token.
    Burn {
        #[command(flatten)]
        signer: Signer,
        #[command(flatten)]
        token: TokenArg,
        /// Amount.
        #[arg(long)]
        amount: Balance,
    },
    /// Send a token.
    Transfer {
        #[command(flatten)]
        signer: Signer,
        #[command(flatten)]
        token: TokenArg,
        /// Recipient (`q…`).
        #[arg(long)]
        to: String,
        /// Amount.
        #[arg(long)]
        amount: Balance,
        /// Destination tag for the recipient.
        #[arg(long)]
        dest_tag: Option<u32>,
    },
    /// Let a spender move up to an amount of the signer's token (0 revokes).
    Approve {
        #[command(flatten)]
        signer: Signer,
        #[command(flatten)]
        token: TokenArg,
        /// Who may spend (`q…`).
        #[arg(long)]
        spender: String,
        /// The new allowance.
        #[arg(long)]
        amount: Balance,
    },
    /// Raise an allowance.
    IncreaseAllowance {
        #[command(flatten)]
        signer: Signer,
        #[command(flatten)]
        token: TokenArg,
        /// Who may spend (`q…`).
        #[arg(long)]
        spender: String,
        /// Added to the allowance.
        #[arg(long)]
        amount: Balance,
    },
    /// Lower an allowance.
    DecreaseAllowance {
        #[command(flatten)]
        signer: Signer,
        #[command(flatten)]
        token: TokenArg,
        /// Who may spend (`q…`).
        #[arg(long)]
        spender: String,
        /// Taken from the allowance.
        #[arg(long)]
        amount: Balance,
    },
    /// Move an owner's tokens with the signer's allowance.
    TransferFrom {
        #[command(flatten)]
        signer: Signer,
        #[command(flatten)]
        token: TokenArg,
        /// Whose tokens (`q…`).
        #[arg(long)]
        owner: String,
        /// Recipient (`q…`).
        #[arg(long)]
        to: String,
        /// Amount.
        #[arg(long)]
        amount: Balance,
        /// Destination tag for the recipient.
        #[arg(long)]
        dest_tag: Option<u32>,
    },
    /// Freeze part or all of a holder's free balance of the signer's token.
    Freeze {
        #[command(flatten)]
        signer: Signer,
        /// The signer's token code.
        #[arg(long)]
        code: String,
        /// The holder (`q…`).
        #[arg(long)]
        holder: String,
        #[command(flatten)]
        amount: FreezeAmount,
    },
    /// Release part or all of a holder's frozen balance of the signer's token.
    Unfreeze {
        #[command(flatten)]
        signer: Signer,
        /// The signer's token code.
        #[arg(long)]
        code: String,
        /// The holder (`q…`).
        #[arg(long)]
        holder: String,
        #[command(flatten)]
        amount: FreezeAmount,
    },
    /// Pause the signer's token: no transfer, mint or burn.
    Pause {
        #[command(flatten)]
        signer: Signer,
        /// The signer's token code.
        #[arg(long)]
        code: String,
    },
    /// End a pause.
    Unpause {
        #[command(flatten)]
        signer: Signer,
        /// The signer's token code.
        #[arg(long)]
        code: String,
    },
    /// Global freeze: holders may only send the token back to the issuer.
    GlobalFreeze {
        #[command(flatten)]
        signer: Signer,
        /// The signer's token code.
        #[arg(long)]
        code: String,
    },
    /// End a global freeze.
    GlobalUnfreeze {
        #[command(flatten)]
        signer: Signer,
        /// The signer's token code.
        #[arg(long)]
        code: String,
    },
    /// Give up freezing, global freeze and pause of the signer's token, for good.
    NoFreeze {
        #[command(flatten)]
        signer: Signer,
        /// The signer's token code.
        #[arg(long)]
        code: String,
        /// Confirm: this cannot be undone.
        #[arg(long)]
        yes: bool,
    },
    /// Give your whole holding of a token (free and frozen) back to its
    /// issuer, which redeems it: the holding, its slot and its reserve go.
    /// Works while the token is paused or frozen.
    GiveBack {
        #[command(flatten)]
        signer: Signer,
        #[command(flatten)]
        token: TokenArg,
    },
}

fn code(s: &str) -> Result<TokenCode> {
    TokenCode::parse(s).map_err(|e| anyhow!("--code: {e}"))
}

fn account(flag: &str, s: &str) -> Result<AccountId> {
    s.parse::<Address>()
        .map(|a| a.account_id())
        .map_err(|e| anyhow!("{flag}: {e}"))
}

impl TokenArg {
    fn parse(&self) -> Result<(AccountId, TokenCode)> {
        Ok((account("--issuer", &self.issuer)?, code(&self.code)?))
    }
}

impl FreezeAmount {
    fn get(&self) -> Option<Balance> {
        if self.all {
            None
        } else {
            self.amount
        }
    }

    fn describe(&self) -> String {
        self.get()
            .map_or_else(|| "everything".to_string(), |a| a.to_string())
    }
}

/// Runs a token subcommand.
pub async fn run(cmd: TokenCommand) -> Result<()> {
    use tokens::Call as C;
    let (signer, call, what) = match cmd {
        TokenCommand::Issue {
            signer,
            code: c,
            name,
            symbol,
            decimals,
            max_supply,
        } => {
            let parsed = code(&c)?;
            // Refuse locally what the chain would refuse, with the rule.
            tokens::validate_metadata(
                &parsed,
                name.as_bytes(),
                symbol.as_bytes(),
                decimals,
                max_supply,
            )
            .map_err(|e| anyhow!("{}", issue_problem(e)))?;
            let what = format!("issue {c} ({name}, {symbol}, {decimals} decimals)");
            (
                signer,
                C::Issue {
                    code: parsed,
                    name: name.into_bytes(),
                    symbol: symbol.into_bytes(),
                    decimals,
                    max_supply,
                },
                what,
            )
        }
        TokenCommand::Mint {
            signer,
            code: c,
            to,
            amount,
            dest_tag,
        } => (
            signer,
            C::Mint {
                code: code(&c)?,
                dest: account("--to", &to)?,
                amount,
                dest_tag,
            },
            format!("mint {amount} {c} to {to}"),
        ),
        TokenCommand::Burn {
            signer,
            token,
            amount,
        } => {
            let (issuer, code) = token.parse()?;
            let what = format!("burn {amount} {}", token.code);
            (
                signer,
                C::Burn {
                    issuer,
                    code,
                    amount,
                },
                what,
            )
        }
        TokenCommand::Transfer {
            signer,
            token,
            to,
            amount,
            dest_tag,
        } => {
            let (issuer, code) = token.parse()?;
            let what = format!("transfer {amount} {} to {to}", token.code);
            let dest = account("--to", &to)?;
            (
                signer,
                C::TransferToken {
                    issuer,
                    code,
                    dest,
                    amount,
                    dest_tag,
                },
                what,
            )
        }
        TokenCommand::Approve {
            signer,
            token,
            spender,
            amount,
        } => {
            let (issuer, code) = token.parse()?;
            let what = format!("allow {spender} to spend {amount} {}", token.code);
            let spender = account("--spender", &spender)?;
            (
                signer,
                C::Approve {
                    issuer,
                    code,
                    spender,
                    amount,
                },
                what,
            )
        }
        TokenCommand::IncreaseAllowance {
            signer,
            token,
            spender,
            amount,
        } => {
            let (issuer, code) = token.parse()?;
            let what = format!("raise {spender}'s allowance by {amount} {}", token.code);
            let spender = account("--spender", &spender)?;
            (
                signer,
                C::IncreaseAllowance {
                    issuer,
                    code,
                    spender,
                    delta: amount,
                },
                what,
            )
        }
        TokenCommand::DecreaseAllowance {
            signer,
            token,
            spender,
            amount,
        } => {
            let (issuer, code) = token.parse()?;
            let what = format!("lower {spender}'s allowance by {amount} {}", token.code);
            let spender = account("--spender", &spender)?;
            (
                signer,
                C::DecreaseAllowance {
                    issuer,
                    code,
                    spender,
                    delta: amount,
                },
                what,
            )
        }
        TokenCommand::TransferFrom {
            signer,
            token,
            owner,
            to,
            amount,
            dest_tag,
        } => {
            let (issuer, code) = token.parse()?;
            let what = format!("transfer {amount} {} from {owner} to {to}", token.code);
            let (owner, dest) = (account("--owner", &owner)?, account("--to", &to)?);
            (
                signer,
                C::TransferFrom {
                    issuer,
                    code,
                    owner,
                    dest,
                    amount,
                    dest_tag,
                },
                what,
            )
        }
        TokenCommand::Freeze {
            signer,
            code: c,
            holder,
            amount,
        } => (
            signer,
            C::Freeze {
                code: code(&c)?,
                holder: account("--holder", &holder)?,
                amount: amount.get(),
            },
            format!("freeze {} {c} of {holder}", amount.describe()),
        ),
        TokenCommand::Unfreeze {
            signer,
            code: c,
            holder,
            amount,
        } => (
            signer,
            C::Unfreeze {
                code: code(&c)?,
                holder: account("--holder", &holder)?,
                amount: amount.get(),
            },
            format!("unfreeze {} {c} of {holder}", amount.describe()),
        ),
        TokenCommand::Pause { signer, code: c } => {
            (signer, C::Pause { code: code(&c)? }, format!("pause {c}"))
        }
        TokenCommand::Unpause { signer, code: c } => (
            signer,
            C::Unpause { code: code(&c)? },
            format!("unpause {c}"),
        ),
        TokenCommand::GlobalFreeze { signer, code: c } => (
            signer,
            C::GlobalFreeze { code: code(&c)? },
            format!("global freeze of {c}"),
        ),
        TokenCommand::GlobalUnfreeze { signer, code: c } => (
            signer,
            C::GlobalUnfreeze { code: code(&c)? },
            format!("end the global freeze of {c}"),
        ),
        TokenCommand::NoFreeze {
            signer,
            code: c,
            yes,
        } => {
            if !yes {
                bail!(
                    "no-freeze gives up freezing, global freeze and pause of {c} for good; \
                     pass --yes to confirm"
                );
            }
            (
                signer,
                C::NoFreeze { code: code(&c)? },
                format!("give up freezing {c} for good"),
            )
        }
        TokenCommand::GiveBack { signer, token } => {
            let (issuer, code) = token.parse()?;
            let what = format!("give back all {} to its issuer", token.code);
            (signer, C::GiveBack { issuer, code }, what)
        }
    };
    send(RuntimeCall::Tokens(call), &signer.send, &what).await
}

/// The flag and rule behind a refused `issue`.
fn issue_problem(e: tokens::Error) -> String {
    use tokens::Error as E;
    match e {
        E::BadTokenCode => "--code: not a valid token code".into(),
        E::BadName => format!(
            "--name: 1 to {} bytes of text without control characters",
            tokens::MAX_NAME_LEN
        ),
        E::BadSymbol => format!(
            "--symbol: 1 to {} bytes without spaces or control characters",
            tokens::MAX_SYMBOL_LEN
        ),
        E::BadDecimals => format!("--decimals: at most {}", tokens::MAX_DECIMALS),
        E::BadMaxSupply => "--max-supply: must be above zero (leave it out for no cap)".into(),
        other => format!("{other:?}"),
    }
}
