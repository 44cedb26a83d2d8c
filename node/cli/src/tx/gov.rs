//! `qstack tx gov …`: governance proposals, deposits and votes, signed
//! locally and submitted like `qstack tx transfer`.
//!
//! A proposal's kind fixes its level (text: normal; parameter change and
//! community spend: important; runtime upgrade: critical, see `qstack
//! upgrade propose`). It enters voting once its deposits reach the level's
//! minimum; votes count the voter's bonded stake when the voting period
//! ends, and a delegator's own vote replaces its validator's for the
//! tokens it delegated. Amounts are integers in the smallest unit.

use crate::tx::{parse_address, send, SendArgs};
use anyhow::{anyhow, bail, Result};
use clap::{Subcommand, ValueEnum};
use qstack_core::{Balance, H256};
use qstack_runtime::{governance, RuntimeCall};

/// A vote, as typed.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum VoteArg {
    /// For.
    Yes,
    /// Against.
    No,
    /// Counted for the quorum only.
    Abstain,
    /// Against, and burn the deposits if more than the level's veto share
    /// votes so.
    NoWithVeto,
}

/// Governance subcommands.
#[derive(Subcommand, Debug)]
pub enum GovCommand {
    /// Submit a proposal with the signer's initial deposit.
    Submit {
        /// Title (1 to 128 bytes).
        #[arg(long)]
        title: String,
        /// Description (at most 2048 bytes).
        #[arg(long, default_value = "")]
        description: String,
        /// Initial deposit (at least the level's minimum proposer share of
        /// its minimum deposit).
        #[arg(long)]
        deposit: Balance,
        /// A text proposal (the default).
        #[arg(long, conflicts_with_all = ["spend_to", "parameter_call", "upgrade_hash"])]
        text: bool,
        /// A community-pool spend to this address (with `--amount`).
        #[arg(long, requires = "amount")]
        spend_to: Option<String>,
        /// Tokens of a community-pool spend.
        #[arg(long)]
        amount: Option<Balance>,
        /// A parameter change: the SCALE-encoded root call, 0x-hex (for
        /// instance of `Staking.set_params` or `Tokens.set_fee_split`).
        #[arg(long)]
        parameter_call: Option<String>,
        /// A runtime upgrade authorising this code hash (`qstack upgrade
        /// propose --wasm FILE` computes it from the file).
        #[arg(long)]
        upgrade_hash: Option<String>,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Add to a proposal's deposits during its deposit period.
    Deposit {
        /// The proposal.
        #[arg(long)]
        id: u64,
        /// Tokens.
        #[arg(long)]
        amount: Balance,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Vote on a proposal during its voting period (again, to change it).
    Vote {
        /// The proposal.
        #[arg(long)]
        id: u64,
        /// The vote.
        #[arg(long, value_enum)]
        option: VoteArg,
        #[command(flatten)]
        send: SendArgs,
    },
}

fn hex_arg(flag: &str, s: &str) -> Result<Vec<u8>> {
    let raw = s
        .strip_prefix("0x")
        .ok_or_else(|| anyhow!("{flag}: expected 0x-hex"))?;
    hex::decode(raw).map_err(|e| anyhow!("{flag}: invalid hex ({e})"))
}

/// Runs a governance subcommand.
pub async fn run(cmd: GovCommand) -> Result<()> {
    use governance::Call as C;
    let (send_args, call, what) = match cmd {
        GovCommand::Submit {
            title,
            description,
            deposit,
            text: _,
            spend_to,
            amount,
            parameter_call,
            upgrade_hash,
            send,
        } => {
            let kind = match (spend_to, parameter_call, upgrade_hash) {
                (None, None, None) => governance::ProposalKind::Text,
                (Some(to), None, None) => governance::ProposalKind::CommunitySpend {
                    to: parse_address(&to, "--spend-to")?,
                    amount: amount.ok_or_else(|| anyhow!("--spend-to needs --amount"))?,
                },
                (None, Some(call), None) => {
                    let call = hex_arg("--parameter-call", &call)?;
                    qstack_runtime::enact::parameter_call(&call).map_err(|_| {
                        anyhow!(
                            "--parameter-call: not a parameter setter of this runtime \
                             (Tokens.set_fee_split/set_reserves, Did.set_byte_deposit, \
                             Staking.set_params/set_inflation_phases, Governance.set_params)"
                        )
                    })?;
                    governance::ProposalKind::ParameterChange { call }
                }
                (None, None, Some(h)) => {
                    let raw: [u8; 32] = hex_arg("--upgrade-hash", &h)?
                        .try_into()
                        .map_err(|_| anyhow!("--upgrade-hash: a hash is 32 bytes"))?;
                    governance::ProposalKind::RuntimeUpgrade {
                        code_hash: H256(raw),
                    }
                }
                _ => bail!("name one kind: --spend-to, --parameter-call or --upgrade-hash"),
            };
            if title.is_empty() || title.len() > governance::MAX_TITLE as usize {
                bail!("--title: 1 to {} bytes", governance::MAX_TITLE);
            }
            if description.len() > governance::MAX_DESCRIPTION as usize {
                bail!(
                    "--description: at most {} bytes",
                    governance::MAX_DESCRIPTION
                );
            }
            let what = format!(
                "submit a {:?} proposal {title:?} with {deposit}",
                kind.level()
            );
            (
                send,
                C::Submit {
                    title: title.into_bytes(),
                    description: description.into_bytes(),
                    kind,
                    deposit,
                },
                what,
            )
        }
        GovCommand::Deposit { id, amount, send } => (
            send,
            C::Deposit { id, amount },
            format!("deposit {amount} on proposal {id}"),
        ),
        GovCommand::Vote { id, option, send } => {
            let option = match option {
                VoteArg::Yes => governance::VoteOption::Yes,
                VoteArg::No => governance::VoteOption::No,
                VoteArg::Abstain => governance::VoteOption::Abstain,
                VoteArg::NoWithVeto => governance::VoteOption::NoWithVeto,
            };
            (
                send,
                C::Vote { id, option },
                format!("vote {option:?} on proposal {id}"),
            )
        }
    };
    send(RuntimeCall::Governance(call), &send_args, &what).await
}
