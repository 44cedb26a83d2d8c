//! `qstack tx amm …`: AMM transactions (create a pool, deposit, withdraw,
//! swap, vote on the fee, bid for the auction slot), signed locally and
//! submitted like `qstack tx transfer`.
//!
//! An asset is `native`, or an issued token as `CODE@ISSUER` (`USD@q…`).
//! Amounts are integers in each asset's smallest unit; fees are in units of
//! 1/100,000 (1000 = 1%). Every form takes a slippage limit: a swap must
//! name its `--min-out` or `--max-in`, and the call fails (moving nothing)
//! when the pool's price has moved past it.

use crate::tx::{send, SendArgs};
use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use qstack_core::{Address, Balance};
use qstack_runtime::{amm, RuntimeCall};
use qstack_runtime_primitives::{AssetId, TokenCode};

/// Parses `native` or `CODE@ISSUER`.
pub fn parse_asset(s: &str) -> Result<AssetId> {
    if s.eq_ignore_ascii_case("native") {
        return Ok(AssetId::Native);
    }
    let Some((code, issuer)) = s.split_once('@') else {
        bail!("{s:?}: an asset is `native` or CODE@ISSUER (e.g. USD@q…)");
    };
    let code = TokenCode::parse(code).map_err(|e| anyhow!("{s:?}: {e}"))?;
    let issuer = issuer
        .parse::<Address>()
        .map_err(|e| anyhow!("{s:?}: issuer: {e}"))?
        .account_id();
    Ok(AssetId::Issued { issuer, code })
}

/// The pool's two assets.
#[derive(Args, Debug)]
pub struct PairArg {
    /// One asset: `native` or CODE@ISSUER.
    #[arg(long)]
    asset_a: String,
    /// The other asset.
    #[arg(long)]
    asset_b: String,
}

impl PairArg {
    fn parse(&self) -> Result<(AssetId, AssetId)> {
        Ok((parse_asset(&self.asset_a)?, parse_asset(&self.asset_b)?))
    }
}

/// AMM subcommands.
#[derive(Subcommand, Debug)]
pub enum AmmCommand {
    /// Create the pool of two assets with its first liquidity; you get
    /// √(amount-a·amount-b) LP tokens and pay an owner reserve while the
    /// pool exists.
    Create {
        #[command(flatten)]
        pair: PairArg,
        /// How much of asset A.
        #[arg(long)]
        amount_a: Balance,
        /// How much of asset B.
        #[arg(long)]
        amount_b: Balance,
        /// Starting trading fee, 0 to 1000 (1%).
        #[arg(long)]
        fee: u32,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Add liquidity: both assets (`--max-a`/`--max-b`: only the pool's
    /// proportion is taken), exactly `--lp` LP tokens, or one asset alone
    /// (`--single`, with `--amount` or `--lp`).
    Deposit {
        #[command(flatten)]
        pair: PairArg,
        /// Most of asset A to give (both-asset forms).
        #[arg(long)]
        max_a: Option<Balance>,
        /// Most of asset B to give (both-asset forms).
        #[arg(long)]
        max_b: Option<Balance>,
        /// Deposit only this asset (one of the pair).
        #[arg(long)]
        single: Option<String>,
        /// With `--single`: how much of it to deposit.
        #[arg(long)]
        amount: Option<Balance>,
        /// Exactly this many LP tokens.
        #[arg(long)]
        lp: Option<Balance>,
        /// Fewest LP tokens to accept (forms without `--lp`).
        #[arg(long, default_value_t = 0)]
        min_lp: Balance,
        /// With `--single` and `--lp`: most of the asset to pay.
        #[arg(long)]
        max_in: Option<Balance>,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Remove liquidity: `--lp` tokens for both assets, `--all`, or one
    /// asset alone (`--single`, with `--amount` or `--lp`).
    Withdraw {
        #[command(flatten)]
        pair: PairArg,
        /// LP tokens to return.
        #[arg(long)]
        lp: Option<Balance>,
        /// Every LP token you hold (both assets).
        #[arg(long)]
        all: bool,
        /// Take only this asset (one of the pair).
        #[arg(long)]
        single: Option<String>,
        /// With `--single`: exactly this much of it.
        #[arg(long)]
        amount: Option<Balance>,
        /// Least of asset A to accept (both-asset forms).
        #[arg(long, default_value_t = 0)]
        min_a: Balance,
        /// Least of asset B to accept (both-asset forms).
        #[arg(long, default_value_t = 0)]
        min_b: Balance,
        /// With `--single --amount`: most LP tokens to burn.
        #[arg(long)]
        max_lp: Option<Balance>,
        /// With `--single --lp`: least of the asset to accept.
        #[arg(long, default_value_t = 0)]
        min_out: Balance,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Swap along a path of assets (one to three pools): sell exactly
    /// `--amount-in` for at least `--min-out`, or buy exactly
    /// `--amount-out` for at most `--max-in`.
    Swap {
        /// The assets, comma-separated: `native,USD@q…` (sell the first,
        /// buy the last).
        #[arg(long, value_delimiter = ',')]
        path: Vec<String>,
        /// Sell exactly this much of the first asset.
        #[arg(long, conflicts_with = "amount_out", requires = "min_out")]
        amount_in: Option<Balance>,
        /// Least of the last asset to accept.
        #[arg(long)]
        min_out: Option<Balance>,
        /// Buy exactly this much of the last asset.
        #[arg(long, requires = "max_in")]
        amount_out: Option<Balance>,
        /// Most of the first asset to pay.
        #[arg(long)]
        max_in: Option<Balance>,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Vote for the pool's trading fee (weighted by your LP tokens).
    Vote {
        #[command(flatten)]
        pair: PairArg,
        /// Your fee, 0 to 1000 (1%).
        #[arg(long)]
        fee: u32,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Bid LP tokens for the 24-hour auction slot (a tenth of the fee).
    Bid {
        #[command(flatten)]
        pair: PairArg,
        /// Pay at least this much (to be harder to outbid).
        #[arg(long)]
        min_price: Option<Balance>,
        /// Pay at most this much.
        #[arg(long)]
        max_price: Option<Balance>,
        #[command(flatten)]
        send: SendArgs,
    },
}

fn deposit_mode(
    single: Option<AssetId>,
    max_a: Option<Balance>,
    max_b: Option<Balance>,
    amount: Option<Balance>,
    lp: Option<Balance>,
    min_lp: Balance,
    max_in: Option<Balance>,
) -> Result<amm::DepositMode> {
    use amm::DepositMode as M;
    Ok(match (single, lp, amount) {
        (Some(asset), None, Some(amount)) => M::Single {
            asset,
            amount,
            min_lp,
        },
        (Some(asset), Some(lp), None) => M::SingleLpOut {
            asset,
            lp,
            max_in: max_in
                .ok_or_else(|| anyhow!("--single with --lp needs --max-in (the most to pay)"))?,
        },
        (Some(_), _, _) => bail!("--single takes either --amount or --lp"),
        (None, Some(lp), None) => match (max_a, max_b) {
            (Some(max_a), Some(max_b)) => M::LpOut { lp, max_a, max_b },
            _ => bail!("--lp needs --max-a and --max-b (the most of each to pay)"),
        },
        (None, None, None) => match (max_a, max_b) {
            (Some(max_a), Some(max_b)) => M::Proportional {
                max_a,
                max_b,
                min_lp,
            },
            _ => bail!("a deposit of both assets needs --max-a and --max-b"),
        },
        (None, _, Some(_)) => bail!("--amount goes with --single"),
    })
}

#[allow(clippy::too_many_arguments)]
fn withdraw_mode(
    single: Option<AssetId>,
    lp: Option<Balance>,
    all: bool,
    amount: Option<Balance>,
    min_a: Balance,
    min_b: Balance,
    max_lp: Option<Balance>,
    min_out: Balance,
) -> Result<amm::WithdrawMode> {
    use amm::WithdrawMode as M;
    Ok(match (single, lp, all, amount) {
        (None, None, true, None) => M::All { min_a, min_b },
        (None, Some(lp), false, None) => M::Proportional { lp, min_a, min_b },
        (Some(asset), None, false, Some(amount)) => M::Single {
            asset,
            amount,
            max_lp: max_lp.ok_or_else(|| {
                anyhow!("--single with --amount needs --max-lp (the most LP tokens to burn)")
            })?,
        },
        (Some(asset), Some(lp), false, None) => M::SingleLpIn { asset, lp, min_out },
        _ => bail!(
            "withdraw takes one of: --lp N, --all, --single ASSET --amount N --max-lp M, \
             --single ASSET --lp N"
        ),
    })
}

/// Runs an AMM subcommand.
pub async fn run(cmd: AmmCommand) -> Result<()> {
    use amm::Call as C;
    let (send_args, call, what) = match cmd {
        AmmCommand::Create {
            pair,
            amount_a,
            amount_b,
            fee,
            send,
        } => {
            let (asset_a, asset_b) = pair.parse()?;
            if fee > amm::MAX_TRADING_FEE {
                bail!("--fee: at most {} (1%)", amm::MAX_TRADING_FEE);
            }
            let what = format!(
                "create the {}/{} pool with {amount_a} and {amount_b}, fee {fee}",
                pair.asset_a, pair.asset_b
            );
            (
                send,
                C::CreatePool {
                    asset_a,
                    asset_b,
                    amount_a,
                    amount_b,
                    fee,
                },
                what,
            )
        }
        AmmCommand::Deposit {
            pair,
            max_a,
            max_b,
            single,
            amount,
            lp,
            min_lp,
            max_in,
            send,
        } => {
            let (asset_a, asset_b) = pair.parse()?;
            let single = single.as_deref().map(parse_asset).transpose()?;
            let mode = deposit_mode(single, max_a, max_b, amount, lp, min_lp, max_in)?;
            let what = format!("deposit into {}/{}: {mode:?}", pair.asset_a, pair.asset_b);
            (
                send,
                C::Deposit {
                    asset_a,
                    asset_b,
                    mode,
                },
                what,
            )
        }
        AmmCommand::Withdraw {
            pair,
            lp,
            all,
            single,
            amount,
            min_a,
            min_b,
            max_lp,
            min_out,
            send,
        } => {
            let (asset_a, asset_b) = pair.parse()?;
            let single = single.as_deref().map(parse_asset).transpose()?;
            let mode = withdraw_mode(single, lp, all, amount, min_a, min_b, max_lp, min_out)?;
            let what = format!("withdraw from {}/{}: {mode:?}", pair.asset_a, pair.asset_b);
            (
                send,
                C::Withdraw {
                    asset_a,
                    asset_b,
                    mode,
                },
                what,
            )
        }
        AmmCommand::Swap {
            path,
            amount_in,
            min_out,
            amount_out,
            max_in,
            send,
        } => {
            let assets = path
                .iter()
                .map(|s| parse_asset(s))
                .collect::<Result<Vec<_>>>()?;
            if !(2..=4).contains(&assets.len()) {
                bail!("--path: 2 to 4 assets, comma-separated (1 to 3 pools)");
            }
            let route = path.join(" → ");
            match (amount_in, min_out, amount_out, max_in) {
                (Some(amount_in), Some(min_out), None, _) => (
                    send,
                    C::SwapExactIn {
                        path: assets,
                        amount_in,
                        min_out,
                    },
                    format!("swap {amount_in} along {route} for at least {min_out}"),
                ),
                (None, _, Some(amount_out), Some(max_in)) => (
                    send,
                    C::SwapExactOut {
                        path: assets,
                        amount_out,
                        max_in,
                    },
                    format!("buy {amount_out} along {route} for at most {max_in}"),
                ),
                _ => bail!("swap takes --amount-in N --min-out M, or --amount-out N --max-in M"),
            }
        }
        AmmCommand::Vote { pair, fee, send } => {
            let (asset_a, asset_b) = pair.parse()?;
            if fee > amm::MAX_TRADING_FEE {
                bail!("--fee: at most {} (1%)", amm::MAX_TRADING_FEE);
            }
            let what = format!("vote fee {fee} in {}/{}", pair.asset_a, pair.asset_b);
            (
                send,
                C::Vote {
                    asset_a,
                    asset_b,
                    fee,
                },
                what,
            )
        }
        AmmCommand::Bid {
            pair,
            min_price,
            max_price,
            send,
        } => {
            let (asset_a, asset_b) = pair.parse()?;
            let what = format!("bid for the {}/{} auction slot", pair.asset_a, pair.asset_b);
            (
                send,
                C::Bid {
                    asset_a,
                    asset_b,
                    min_price,
                    max_price,
                },
                what,
            )
        }
    };
    send(RuntimeCall::Amm(call), &send_args, &what).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_parse_with_clear_errors() {
        assert_eq!(parse_asset("native").unwrap(), AssetId::Native);
        let issuer = Address::from(qstack_core::AccountId([7; 32])).to_base58();
        let a = parse_asset(&format!("USD@{issuer}")).unwrap();
        assert!(matches!(a, AssetId::Issued { .. }));
        assert!(parse_asset("USD")
            .unwrap_err()
            .to_string()
            .contains("CODE@ISSUER"));
        assert!(parse_asset("US@x").is_err());
    }

    #[test]
    fn deposit_and_withdraw_forms_need_their_limits() {
        let d = deposit_mode(None, Some(1), Some(2), None, None, 0, None).unwrap();
        assert!(matches!(d, amm::DepositMode::Proportional { .. }));
        assert!(deposit_mode(None, None, None, None, Some(5), 0, None).is_err());
        assert!(deposit_mode(Some(AssetId::Native), None, None, None, Some(5), 0, None).is_err());
        assert!(withdraw_mode(None, None, false, None, 0, 0, None, 0).is_err());
        let w = withdraw_mode(None, None, true, None, 0, 0, None, 0).unwrap();
        assert!(matches!(w, amm::WithdrawMode::All { .. }));
        assert!(withdraw_mode(Some(AssetId::Native), None, false, Some(5), 0, 0, None, 0).is_err());
    }
}
