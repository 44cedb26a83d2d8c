//! Genesis of the governance pallet, from the chain spec's patch:
//!
//! ```json
//! {"governance": {
//!    "normal":    {"minDeposit": "10000000000000", "minProposerDeposit": "0.334",
//!                  "maxDepositPeriod": 1209600, "votingPeriod": 604800,
//!                  "quorum": "0.334", "threshold": "0.5", "veto": "0.334",
//!                  "burnRate": "0.5"},
//!    "important": {"minDeposit": "100000000000000", "votingPeriod": 864000, …},
//!    "critical":  {"minDeposit": "1000000000000000", "votingPeriod": 1209600, …}}}
//! ```
//!
//! Every field is optional and defaults to [`crate::Params::default`]
//! (QOS's rates; 10 / 100 / 1,000 QS; periods in blocks: a 14-day deposit
//! period and 7 / 10 / 14-day voting periods at 1 s blocks). Rates are
//! decimal fractions (`"0.334"`) or percentages (`"33.4%"`), at most 1;
//! amounts are integers or decimal strings of base units.

use crate::{LevelParams, Params, ParamsOf};
use alloc::format;
use alloc::string::String;
use qstack_support::genesis::Amount;
use qstack_support::GenesisError;
use serde::Deserialize;

/// The pallet's genesis.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GenesisConfig {
    /// Text proposals.
    #[serde(default)]
    pub normal: LevelConfig,
    /// Parameter changes and community spends.
    #[serde(default)]
    pub important: LevelConfig,
    /// Runtime upgrades.
    #[serde(default)]
    pub critical: LevelConfig,
}

/// One level's parameters; absent ones keep their default.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LevelConfig {
    /// Deposits needed to enter voting (base units, > 0).
    pub min_deposit: Option<Amount>,
    /// Share of `minDeposit` the proposer pays at submission.
    pub min_proposer_deposit: Option<String>,
    /// Blocks of the deposit period (> 0).
    pub max_deposit_period: Option<u32>,
    /// Blocks of the voting period (> 0).
    pub voting_period: Option<u32>,
    /// Least share of active bonded tokens voting (> 0).
    pub quorum: Option<String>,
    /// Share of non-abstaining votes `Yes` must exceed (> 0).
    pub threshold: Option<String>,
    /// Share of votes `NoWithVeto` must exceed to veto (> 0).
    pub veto: Option<String>,
    /// Share of deposits burned when the quorum is missed.
    pub burn_rate: Option<String>,
}

fn level(name: &str, c: &LevelConfig, d: LevelParams) -> Result<LevelParams, GenesisError> {
    let path = |field: &str| format!("governance.{name}.{field}");
    let rate = |field: &str, v: &Option<String>, default: u32, positive: bool| match v {
        None => Ok(default),
        Some(s) => pallet_staking::genesis::parse_rate(s)
            .filter(|r| !positive || *r > 0)
            .ok_or_else(|| {
                GenesisError::new(
                    path(field),
                    if positive {
                        "expected a fraction above 0 and at most 1 (\"0.334\" or \"33.4%\")"
                    } else {
                        "expected a fraction between 0 and 1 (\"0.5\" or \"50%\")"
                    },
                )
            }),
    };
    let p = LevelParams {
        min_deposit: c.min_deposit.map_or(d.min_deposit, |a| a.0),
        min_proposer_deposit: rate(
            "minProposerDeposit",
            &c.min_proposer_deposit,
            d.min_proposer_deposit,
            false,
        )?,
        max_deposit_period: c.max_deposit_period.unwrap_or(d.max_deposit_period),
        voting_period: c.voting_period.unwrap_or(d.voting_period),
        quorum: rate("quorum", &c.quorum, d.quorum, true)?,
        threshold: rate("threshold", &c.threshold, d.threshold, true)?,
        veto: rate("veto", &c.veto, d.veto, true)?,
        burn_rate: rate("burnRate", &c.burn_rate, d.burn_rate, false)?,
    };
    check_level(&p).map_err(|(field, why)| GenesisError::new(path(field), why))?;
    Ok(p)
}

/// Why a level's parameters are out of range (what genesis refuses):
/// `(field, reason)`.
pub fn check_level(p: &LevelParams) -> Result<(), (&'static str, &'static str)> {
    if p.min_deposit == 0 {
        return Err(("minDeposit", "must be > 0"));
    }
    if p.max_deposit_period == 0 {
        return Err(("maxDepositPeriod", "must be > 0"));
    }
    if p.voting_period == 0 {
        return Err(("votingPeriod", "must be > 0"));
    }
    let rate_ok = |r: u32, positive: bool| r <= crate::BILLION && (!positive || r > 0);
    if !rate_ok(p.min_proposer_deposit, false) {
        return Err(("minProposerDeposit", "a fraction between 0 and 1"));
    }
    if !rate_ok(p.quorum, true) || !rate_ok(p.threshold, true) || !rate_ok(p.veto, true) {
        return Err((
            "quorum",
            "quorum, threshold and veto are fractions above 0 and at most 1",
        ));
    }
    if !rate_ok(p.burn_rate, false) {
        return Err(("burnRate", "a fraction between 0 and 1"));
    }
    Ok(())
}

/// [`check_level`] for every level.
pub fn check_params(p: &Params) -> Result<(), (&'static str, &'static str)> {
    check_level(&p.normal)?;
    check_level(&p.important)?;
    check_level(&p.critical)
}

/// The parameters a genesis config describes, checked.
pub fn build_params(c: &GenesisConfig) -> Result<Params, GenesisError> {
    let d = Params::default();
    Ok(Params {
        normal: level("normal", &c.normal, d.normal)?,
        important: level("important", &c.important, d.important)?,
        critical: level("critical", &c.critical, d.critical)?,
    })
}

/// Writes the genesis: the parameters and the deposit account.
pub fn build(c: &GenesisConfig) -> Result<(), GenesisError> {
    let p = build_params(c)?;
    crate::proposal::ensure_deposit_account()
        .map_err(|e| GenesisError::from_error("governance", &e))?;
    ParamsOf::put(&p);
    Ok(())
}
