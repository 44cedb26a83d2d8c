//! `qstack tx staking …`: validators and delegation, signed locally and
//! submitted like `qstack tx transfer`.
//!
//! A node becomes a validator in two steps: `qstack key insert --suri …
//! --scheme hybrid --chain X` stores its consensus key in the node's
//! keystore, then `qstack tx staking create-validator --keystore --chain X
//! --self-bond … --from <owner>` registers that key with a self-bond paid by
//! the owner account (`--consensus-key 0x…` names a key directly instead).
//! The validator joins the active set two blocks after the block that
//! elects it, if its bonded tokens make the top `maxValidators`.
//!
//! Amounts are integers in the smallest unit; rates are decimal fractions
//! (`0.1` or `10%`).

use crate::tx::{parse_address, send, SendArgs};
use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use codec::DecodeAll;
use qstack_core::{Balance, PublicKey};
use qstack_runtime::staking::genesis::parse_rate;
use qstack_runtime::{staking, RuntimeCall};
use std::path::PathBuf;

/// Staking subcommands.
#[derive(Subcommand, Debug)]
pub enum StakingCommand {
    /// Register a validator owned by the signer, bonding `--self-bond`.
    CreateValidator {
        /// The consensus key: 0x-hex of the SCALE public key, as `qstack
        /// key inspect --output json` prints `publicKey`.
        #[arg(long, conflicts_with = "keystore")]
        consensus_key: Option<String>,
        /// Take the consensus key from the node's keystore (`qstack key
        /// insert`) for `--chain` under `--base-path`.
        #[arg(long)]
        keystore: bool,
        /// Chain spec of the keystore: `dev`, `local`, `local-bft` or a path.
        #[arg(long, default_value = "local-bft")]
        chain: String,
        /// Base path of the keystore (default: ~/.local/share/qstack).
        #[arg(short = 'd', long)]
        base_path: Option<PathBuf>,
        /// Self-bond in the smallest unit.
        #[arg(long)]
        self_bond: Balance,
        /// Commission on delegators' rewards (`0.1` or `10%`).
        #[arg(long, default_value = "0")]
        commission_rate: String,
        /// Highest rate the validator may ever set.
        #[arg(long, default_value = "1")]
        max_rate: String,
        /// Most one change (at most daily) may move the rate.
        #[arg(long, default_value = "0.01")]
        max_change_rate: String,
        /// Free text (moniker, website), at most 256 bytes.
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Bond more of the owner's tokens to its own validator.
    Bond {
        /// Tokens.
        #[arg(long)]
        amount: Balance,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Delegate to an active validator (by its owner's address).
    Delegate {
        /// The validator's owner (`q…`).
        #[arg(long)]
        validator: String,
        /// Tokens.
        #[arg(long)]
        amount: Balance,
        /// Bond rewards again instead of paying them out.
        #[arg(long)]
        compound: bool,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Start unbonding (released after the chain's unbonding period).
    Unbond {
        /// The validator's owner.
        #[arg(long)]
        validator: String,
        /// Tokens (default: the whole delegation).
        #[arg(long)]
        amount: Option<Balance>,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Move a delegation to another active validator at once.
    Redelegate {
        /// From (owner address).
        #[arg(long)]
        from_validator: String,
        /// To (owner address).
        #[arg(long)]
        to_validator: String,
        /// Tokens (default: the whole delegation).
        #[arg(long)]
        amount: Option<Balance>,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Take the signer's validator out of the set (it closes after the
    /// chain's survival time unless activated again).
    Revoke {
        #[command(flatten)]
        send: SendArgs,
    },
    /// Bring the signer's inactive validator back.
    Activate {
        #[command(flatten)]
        send: SendArgs,
    },
    /// Change the signer's validator's commission rate.
    SetCommission {
        /// New rate (`0.12` or `12%`).
        #[arg(long)]
        rate: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Collect the signer's rewards from a validator (its owner also takes
    /// the commission due).
    WithdrawRewards {
        /// The validator's owner.
        #[arg(long)]
        validator: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Turn compounding of a delegation on or off.
    SetCompound {
        /// The validator's owner.
        #[arg(long)]
        validator: String,
        /// `true` or `false`.
        #[arg(long, action = clap::ArgAction::Set)]
        compound: bool,
        #[command(flatten)]
        send: SendArgs,
    },
}

fn rate(flag: &str, s: &str) -> Result<staking::Perbill> {
    parse_rate(s)
        .ok_or_else(|| anyhow!("{flag}: {s:?} is not a fraction between 0 and 1 (0.1 or 10%)"))
}

/// A SCALE public key from 0x-hex.
pub fn parse_public_key(flag: &str, s: &str) -> Result<PublicKey> {
    let raw = s
        .strip_prefix("0x")
        .ok_or_else(|| anyhow!("{flag}: expected 0x-hex of a SCALE public key"))?;
    let bytes = hex::decode(raw).map_err(|e| anyhow!("{flag}: invalid hex ({e})"))?;
    PublicKey::decode_all(&mut &bytes[..]).map_err(|e| anyhow!("{flag}: not a public key ({e})"))
}

/// Runs a staking subcommand.
pub async fn run(cmd: StakingCommand) -> Result<()> {
    use staking::Call as C;
    let (send_args, call, what) = match cmd {
        StakingCommand::CreateValidator {
            consensus_key,
            keystore,
            chain,
            base_path,
            self_bond,
            commission_rate,
            max_rate,
            max_change_rate,
            description,
            send,
        } => {
            let key = match (consensus_key, keystore) {
                (Some(k), _) => parse_public_key("--consensus-key", &k)?,
                (None, true) => {
                    let spec = qstack_service::chain_spec::ChainSpec::load(&chain)?;
                    let base = crate::base_path(base_path)?;
                    let path = qstack_service::keystore::validator_key_path(&base, &spec.id);
                    qstack_service::keystore::load(&path)
                        .with_context(|| {
                            format!(
                                "no consensus key in {} (run `qstack key insert` first)",
                                path.display()
                            )
                        })?
                        .public()
                }
                (None, false) => bail!("name the consensus key: --consensus-key 0x… or --keystore"),
            };
            if description.len() > staking::MAX_DESCRIPTION as usize {
                bail!("--description: at most {} bytes", staking::MAX_DESCRIPTION);
            }
            let commission = staking::Commission {
                rate: rate("--commission-rate", &commission_rate)?,
                max_rate: rate("--max-rate", &max_rate)?,
                max_change_rate: rate("--max-change-rate", &max_change_rate)?,
            };
            if commission.rate > commission.max_rate
                || commission.max_change_rate > commission.max_rate
            {
                bail!("--commission-rate and --max-change-rate must not exceed --max-rate");
            }
            let what = format!(
                "create a {} validator ({}) bonding {self_bond}",
                key.scheme().name(),
                qstack_core::Address::from(key.account_id())
            );
            (
                send,
                C::CreateValidator {
                    key,
                    self_bond,
                    commission,
                    description: description.into_bytes(),
                },
                what,
            )
        }
        StakingCommand::Bond { amount, send } => {
            (send, C::Bond { amount }, format!("bond {amount} more"))
        }
        StakingCommand::Delegate {
            validator,
            amount,
            compound,
            send,
        } => {
            let v = parse_address(&validator, "--validator")?;
            (
                send,
                C::Delegate {
                    validator: v,
                    amount,
                    compound,
                },
                format!("delegate {amount} to {validator}"),
            )
        }
        StakingCommand::Unbond {
            validator,
            amount,
            send,
        } => {
            let v = parse_address(&validator, "--validator")?;
            let what = match amount {
                Some(a) => format!("unbond {a} from {validator}"),
                None => format!("unbond everything from {validator}"),
            };
            (
                send,
                C::Unbond {
                    validator: v,
                    amount,
                },
                what,
            )
        }
        StakingCommand::Redelegate {
            from_validator,
            to_validator,
            amount,
            send,
        } => {
            let from = parse_address(&from_validator, "--from-validator")?;
            let to = parse_address(&to_validator, "--to-validator")?;
            (
                send,
                C::Redelegate { from, to, amount },
                format!("redelegate from {from_validator} to {to_validator}"),
            )
        }
        StakingCommand::Revoke { send } => {
            (send, C::RevokeValidator, "revoke the validator".into())
        }
        StakingCommand::Activate { send } => {
            (send, C::ActivateValidator, "activate the validator".into())
        }
        StakingCommand::SetCommission { rate: r, send } => {
            let rate = rate("--rate", &r)?;
            (
                send,
                C::SetCommission { rate },
                format!("set the commission to {r}"),
            )
        }
        StakingCommand::WithdrawRewards { validator, send } => {
            let v = parse_address(&validator, "--validator")?;
            (
                send,
                C::WithdrawRewards { validator: v },
                format!("withdraw rewards from {validator}"),
            )
        }
        StakingCommand::SetCompound {
            validator,
            compound,
            send,
        } => {
            let v = parse_address(&validator, "--validator")?;
            (
                send,
                C::SetCompound {
                    validator: v,
                    compound,
                },
                format!("set compounding at {validator} to {compound}"),
            )
        }
    };
    send(RuntimeCall::Staking(call), &send_args, &what).await
}
