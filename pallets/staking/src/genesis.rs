//! Genesis of the staking pallet, from the chain spec's patch:
//!
//! ```json
//! {"staking": {
//!    "params": {"maxValidators": 21, "votingStatusLen": 10000,
//!               "votingStatusLeast": 7000, "survivalSecs": 28800,
//!               "unbondPeriod": 604800, "delegatorIncomePeriod": 600,
//!               "proposerRewardRate": "0.04", "communityRewardRate": "0.01",
//!               "doubleSignSlash": "0.2", "downtimeSlash": "0.0001",
//!               "minSelfBond": "1000000000000", "minDelegation": "1000000000000",
//!               "powerReduction": "1000000000000", "blockTimeMs": 1000},
//!    "validators": [{"publicKey": "0x…", "owner": "q…", "selfBond": "…",
//!                    "commission": {"rate": "0.1", "maxRate": "0.2",
//!                                   "maxChangeRate": "0.01"},
//!                    "description": "…"}],
//!    "inflation": [{"endTime": "2031-01-01T00:00:00Z", "totalAmount": "…",
//!                   "appliedAmount": "0"}],
//!    "totalSupply": "…"}}
//! ```
//!
//! Every field is optional; `params` default to the shipped QOS chain's
//! values ([`crate::Params::default`]). A validator's `owner` defaults to its
//! key's account; its self-bond comes out of the owner's genesis balance
//! (which must also cover the owner reserve of the validator and its
//! self-delegation). `power` may stand for `selfBond` (power ×
//! `powerReduction`): the chain spec's `consensus.validators` shape, which
//! the node passes here when the patch names no validators. `endTime` is an
//! RFC 3339 UTC time or milliseconds since the Unix epoch; phases must end
//! in increasing order. With `totalSupply`, genesis checks that it equals
//! the tokens issued at genesis plus what the phases have left to mint.

use crate::stake::insert_validator;
use crate::{
    bonded_account, community_account, reward_account, Commission, Params, ParamsOf, Phase, Phases,
    SetMember, ValidatorInfo, BILLION, MAX_DESCRIPTION, MAX_PHASES,
};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use qstack_core::{Balance, PublicKey};
use qstack_support::genesis::{account, Amount};
use qstack_support::GenesisError;
use serde::{Deserialize, Deserializer};

/// The pallet's genesis.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GenesisConfig {
    /// Parameters (each optional).
    #[serde(default)]
    pub params: ParamsConfig,
    /// Genesis validators.
    #[serde(default)]
    pub validators: Vec<ValidatorConfig>,
    /// Inflation phases.
    #[serde(default)]
    pub inflation: Vec<PhaseConfig>,
    /// Total supply the genesis must add up to.
    #[serde(default)]
    pub total_supply: Option<Amount>,
}

/// Parameters; absent ones keep their default.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct ParamsConfig {
    pub max_validators: Option<u32>,
    pub voting_status_len: Option<u32>,
    pub voting_status_least: Option<u32>,
    pub survival_secs: Option<u64>,
    pub unbond_period: Option<u32>,
    pub delegator_income_period: Option<u32>,
    pub proposer_reward_rate: Option<String>,
    pub community_reward_rate: Option<String>,
    pub double_sign_slash: Option<String>,
    pub downtime_slash: Option<String>,
    pub min_self_bond: Option<Amount>,
    pub min_delegation: Option<Amount>,
    pub power_reduction: Option<Amount>,
    pub block_time_ms: Option<u64>,
}

/// A genesis validator.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValidatorConfig {
    /// Consensus key, 0x-hex of the SCALE `PublicKey`.
    pub public_key: String,
    /// Owner address (default: the key's account).
    #[serde(default)]
    pub owner: Option<String>,
    /// Self-bond.
    #[serde(default)]
    pub self_bond: Option<Amount>,
    /// Voting power instead of `selfBond` (× `powerReduction`).
    #[serde(default)]
    pub power: Option<u64>,
    /// Commission (default 0, max 100 %, change 1 %).
    #[serde(default)]
    pub commission: Option<CommissionConfig>,
    /// Description.
    #[serde(default)]
    pub description: String,
}

/// A commission as decimal fractions.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct CommissionConfig {
    pub rate: String,
    pub max_rate: String,
    pub max_change_rate: String,
}

/// An inflation phase.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PhaseConfig {
    /// End (RFC 3339 UTC or ms since the epoch).
    #[serde(deserialize_with = "time_ms")]
    pub end_time: u64,
    /// Total to mint.
    pub total_amount: Amount,
    /// Minted already.
    #[serde(default)]
    pub applied_amount: Amount,
}

fn time_ms<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum T {
        Ms(u64),
        Text(String),
    }
    match T::deserialize(d)? {
        T::Ms(ms) => Ok(ms),
        T::Text(s) => parse_rfc3339(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid time {s:?}: expected YYYY-MM-DDTHH:MM:SSZ or milliseconds"
            ))
        }),
    }
}

/// Milliseconds since the epoch of `YYYY-MM-DDTHH:MM:SSZ` (UTC, years
/// 1970–9999).
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 20
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(10) != Some(&b'T')
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
        || b.get(19) != Some(&b'Z')
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u64> { s.get(from..to)?.parse().ok() };
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, se) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&mo) || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    let leap = |y: u64| (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let month_days = [
        31u64,
        if leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let dim = *month_days.get(usize::try_from(mo.checked_sub(1)?).ok()?)?;
    if d == 0 || d > dim {
        return None;
    }
    let mut days: u64 = 0;
    for year in 1970..y {
        days = days.checked_add(if leap(year) { 366 } else { 365 })?;
    }
    for m in month_days
        .iter()
        .take(usize::try_from(mo.checked_sub(1)?).ok()?)
    {
        days = days.checked_add(*m)?;
    }
    days = days.checked_add(d.checked_sub(1)?)?;
    let secs = days
        .checked_mul(86_400)?
        .checked_add(h.checked_mul(3_600)?)?
        .checked_add(mi.checked_mul(60)?)?
        .checked_add(se)?;
    secs.checked_mul(1_000)
}

/// A decimal fraction `0.04` (or `4%`) in parts per billion, at most 100 %.
pub fn parse_rate(s: &str) -> Option<u32> {
    let (text, scale_pct) = match s.strip_suffix('%') {
        Some(t) => (t, true),
        None => (s, false),
    };
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let digits = if scale_pct { 7 } else { 9 };
    if frac.len() > digits || !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let int: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut frac_v: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..digits {
        frac_v = frac_v.checked_mul(10)?;
    }
    let unit: u64 = if scale_pct { 10_000_000 } else { 1_000_000_000 };
    let v = int.checked_mul(unit)?.checked_add(frac_v)?;
    u32::try_from(v).ok().filter(|v| *v <= BILLION)
}

fn rate(field: &str, v: &Option<String>, default: u32) -> Result<u32, GenesisError> {
    match v {
        None => Ok(default),
        Some(s) => parse_rate(s).ok_or_else(|| {
            GenesisError::new(
                format!("staking.params.{field}"),
                "expected a fraction between 0 and 1 (\"0.04\" or \"4%\")",
            )
        }),
    }
}

fn build_params(c: &ParamsConfig) -> Result<Params, GenesisError> {
    let d = Params::default();
    let p = Params {
        max_validators: c.max_validators.unwrap_or(d.max_validators),
        voting_status_len: c.voting_status_len.unwrap_or(d.voting_status_len),
        voting_status_least: c.voting_status_least.unwrap_or(d.voting_status_least),
        survival_secs: c.survival_secs.unwrap_or(d.survival_secs),
        unbond_period: c.unbond_period.unwrap_or(d.unbond_period),
        delegator_income_period: c
            .delegator_income_period
            .unwrap_or(d.delegator_income_period),
        proposer_reward_rate: rate(
            "proposerRewardRate",
            &c.proposer_reward_rate,
            d.proposer_reward_rate,
        )?,
        community_reward_rate: rate(
            "communityRewardRate",
            &c.community_reward_rate,
            d.community_reward_rate,
        )?,
        double_sign_slash: rate("doubleSignSlash", &c.double_sign_slash, d.double_sign_slash)?,
        downtime_slash: rate("downtimeSlash", &c.downtime_slash, d.downtime_slash)?,
        min_self_bond: c.min_self_bond.map_or(d.min_self_bond, |a| a.0),
        min_delegation: c.min_delegation.map_or(d.min_delegation, |a| a.0),
        power_reduction: c.power_reduction.map_or(d.power_reduction, |a| a.0),
        block_time_ms: c.block_time_ms.unwrap_or(d.block_time_ms),
    };
    crate::params::check(&p)
        .map_err(|(field, why)| GenesisError::new(format!("staking.params.{field}"), why))?;
    Ok(p)
}

fn public_key(i: usize, hex_str: &str) -> Result<PublicKey, GenesisError> {
    let field = format!("staking.validators[{i}].publicKey");
    let raw = hex_str
        .strip_prefix("0x")
        .ok_or_else(|| GenesisError::new(field.clone(), "expected 0x-hex"))?;
    let bytes = hex::decode(raw).map_err(|e| GenesisError::new(field.clone(), format!("{e}")))?;
    <PublicKey as codec::DecodeAll>::decode_all(&mut &bytes[..])
        .map_err(|_| GenesisError::new(field, "not a SCALE public key"))
}

/// Writes the genesis: pools, parameters, phases, validators and the set.
pub fn build(c: &GenesisConfig) -> Result<(), GenesisError> {
    for acct in [bonded_account(), reward_account(), community_account()] {
        if !pallet_tokens::pseudo::is_pseudo(&acct) {
            pallet_tokens::pseudo::register(&acct, &[])
                .map_err(|e| GenesisError::from_error("staking", &e))?;
        }
    }
    let p = build_params(&c.params)?;
    ParamsOf::put(&p);
    if c.inflation.len() > MAX_PHASES as usize {
        return Err(GenesisError::new(
            "staking.inflation",
            "more than 64 phases",
        ));
    }
    let mut phases = Vec::new();
    let mut last_end = 0u64;
    for (i, ph) in c.inflation.iter().enumerate() {
        if ph.end_time <= last_end {
            return Err(GenesisError::new(
                format!("staking.inflation[{i}].endTime"),
                "phases must end in increasing order",
            ));
        }
        if ph.applied_amount.0 > ph.total_amount.0 {
            return Err(GenesisError::new(
                format!("staking.inflation[{i}].appliedAmount"),
                "exceeds totalAmount",
            ));
        }
        last_end = ph.end_time;
        phases.push(Phase {
            end_time: ph.end_time,
            total_amount: ph.total_amount.0,
            applied_amount: ph.applied_amount.0,
        });
    }
    let applied: Balance = phases
        .iter()
        .map(|ph| ph.applied_amount)
        .fold(0, Balance::saturating_add);
    crate::Minted::put(&applied);
    Phases::put(&phases);
    if c.validators.len() > p.max_validators as usize {
        return Err(GenesisError::new(
            "staking.validators",
            format!("more than maxValidators ({})", p.max_validators),
        ));
    }
    let mut set = Vec::new();
    for (i, vc) in c.validators.iter().enumerate() {
        let key = public_key(i, &vc.public_key)?;
        let owner = match &vc.owner {
            Some(a) => account(a, &format!("staking.validators[{i}].owner"))?,
            None => key.account_id(),
        };
        let field = |f: &str| format!("staking.validators[{i}].{f}");
        let self_bond = match (vc.self_bond, vc.power) {
            (Some(a), None) => a.0,
            (None, Some(power)) => u128::from(power)
                .checked_mul(p.power_reduction)
                .ok_or_else(|| GenesisError::new(field("power"), "overflows"))?,
            _ => {
                return Err(GenesisError::new(
                    field("selfBond"),
                    "give exactly one of selfBond and power",
                ))
            }
        };
        if self_bond < p.min_self_bond.max(1) {
            return Err(GenesisError::new(field("selfBond"), "below minSelfBond"));
        }
        let commission = match &vc.commission {
            None => Commission {
                rate: 0,
                max_rate: BILLION,
                max_change_rate: 10_000_000,
            },
            Some(cc) => {
                let r = |f: &str, s: &str| {
                    parse_rate(s).ok_or_else(|| {
                        GenesisError::new(
                            field(&format!("commission.{f}")),
                            "expected a fraction between 0 and 1",
                        )
                    })
                };
                Commission {
                    rate: r("rate", &cc.rate)?,
                    max_rate: r("maxRate", &cc.max_rate)?,
                    max_change_rate: r("maxChangeRate", &cc.max_change_rate)?,
                }
            }
        };
        if commission.rate > commission.max_rate || commission.max_change_rate > commission.max_rate
        {
            return Err(GenesisError::new(
                field("commission"),
                "rate and maxChangeRate must not exceed maxRate",
            ));
        }
        if vc.description.len() > MAX_DESCRIPTION as usize {
            return Err(GenesisError::new(
                field("description"),
                "longer than 256 bytes",
            ));
        }
        if crate::KeyOwner::contains_key(&key.account_id()) {
            return Err(GenesisError::new(field("publicKey"), "listed twice"));
        }
        if crate::Validators::contains_key(&owner) {
            return Err(GenesisError::new(field("owner"), "owns another validator"));
        }
        pallet_tokens::pseudo::pay(&qstack_runtime_primitives::AssetId::Native, &owner, &bonded_account(), self_bond)
            .map_err(|_| {
                GenesisError::new(
                    field("selfBond"),
                    format!("the owner {} cannot pay it from its genesis balance (endow it in balances with the self-bond plus its reserves)", qstack_core::Address::from(owner)),
                )
            })?;
        let v = ValidatorInfo::new(
            key.clone(),
            self_bond,
            commission,
            vc.description.clone().into_bytes(),
            0,
            0,
        );
        insert_validator(&owner, &v, p.delegator_income_period, false)
            .map_err(|e| GenesisError::from_error("staking.validators", &e))?;
        if pallet_tokens::ensure_reserve(&owner).is_err() {
            return Err(GenesisError::new(
                field("owner"),
                "the owner's genesis balance does not cover the owner reserve of its validator and self-delegation",
            ));
        }
        let power = crate::block::power_of(&v);
        if power == 0 {
            return Err(GenesisError::new(
                field("selfBond"),
                "below one unit of power (powerReduction)",
            ));
        }
        set.push(SetMember {
            owner,
            public: key,
            power,
        });
    }
    // Every owner was checked above; this settles the locks of all.
    pallet_tokens::settle_reserves().map_err(|_| {
        GenesisError::new(
            "staking",
            "an account's genesis balance does not cover the owner reserve of its staking objects",
        )
    })?;
    crate::Joining::kill();
    crate::SetDirty::kill();
    // The genesis set keeps the spec's order (the BFT engine's indices).
    let total: u128 = set.iter().map(|m| u128::from(m.power)).sum();
    if total >= 1 << 60 {
        return Err(GenesisError::new(
            "staking.validators",
            "total power must stay below 2^60",
        ));
    }
    if !set.is_empty() {
        crate::block::keep_set(1, &set);
        crate::CurrentSet::put(&set);
        crate::BftChain::put(&true);
    }
    if let Some(total) = c.total_supply {
        let to_mint: Balance = phases
            .iter()
            .map(|ph| ph.total_amount.saturating_sub(ph.applied_amount))
            .fold(0, Balance::saturating_add);
        let issued = pallet_tokens::total_issuance();
        if issued.checked_add(to_mint) != Some(total.0) {
            return Err(GenesisError::new(
                "staking.totalSupply",
                format!(
                    "{} ≠ {issued} issued at genesis + {to_mint} the phases will mint",
                    total.0
                ),
            ));
        }
    }
    Ok(())
}
