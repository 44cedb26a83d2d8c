//! Staking methods: `staking_validators`, `staking_validator`,
//! `staking_set`, `staking_delegations`, `staking_rewards` and
//! `staking_inflation`, typed JSON over the runtime's `StakingApi`.
//! Amounts are decimal strings, rates decimal fractions (`"0.04"`),
//! addresses `q…`, times milliseconds since the Unix epoch.

use super::{at_or_best, blocking, Module, Res};
use crate::backend::RpcBackend;
use crate::error::RpcError;
use crate::params::Args;
use crate::runtime::{answer, At};
use crate::views::{to_value, Addr, Amount, KeyView};
use jsonrpsee::types::Params;
use qstack_core::AccountId;
use qstack_runtime::apis::client::StakingApi;
use qstack_runtime::staking::{
    api::DelegationView, InactiveReason, Perbill, Phase, SetMember, Status, ValidatorInfo, BILLION,
};
use serde::Serialize;
use serde_json::{json, Value};

const FAILED: &str = "Unable to query staking.";

pub(super) fn register(m: &mut Module) -> Result<(), RpcError> {
    blocking(m, "staking_validators", staking_validators)?;
    blocking(m, "staking_validator", staking_validator)?;
    blocking(m, "staking_set", staking_set)?;
    blocking(m, "staking_delegations", staking_delegations)?;
    blocking(m, "staking_rewards", staking_rewards)?;
    blocking(m, "staking_inflation", staking_inflation)?;
    Ok(())
}

/// A rate in parts per billion as a decimal fraction (`"0.04"`).
pub(crate) fn rate(r: Perbill) -> String {
    let whole = r.checked_div(BILLION).unwrap_or(0);
    let frac = r.checked_rem(BILLION).unwrap_or(0);
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:09}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

fn status(s: &Status) -> Value {
    match s {
        Status::Active => json!({"status": "active"}),
        Status::Closed => json!({"status": "closed"}),
        Status::Inactive { reason, since } => json!({
            "status": "inactive",
            "reason": match reason {
                InactiveReason::Revoked => "revoked",
                InactiveReason::Downtime => "downtime",
                InactiveReason::DoubleSign => "doubleSign",
                InactiveReason::NotElected => "notElected",
            },
            "since": since,
        }),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ValidatorView {
    owner: Addr,
    consensus_key: KeyView,
    key_account: Addr,
    #[serde(flatten)]
    status: Value,
    tokens: Amount,
    shares: Amount,
    power: u64,
    commission: Value,
    commission_changed: u64,
    description: String,
    created: u32,
    commission_due: Amount,
    keep_alive: Value,
}

fn validator_view(owner: AccountId, v: &ValidatorInfo, reduction: u128) -> ValidatorView {
    ValidatorView {
        owner: Addr(owner),
        consensus_key: KeyView::from(&v.key),
        key_account: Addr(v.key.account_id()),
        status: status(&v.status),
        tokens: Amount(v.tokens),
        shares: Amount(v.shares),
        power: u64::try_from(v.tokens.checked_div(reduction.max(1)).unwrap_or(0))
            .unwrap_or(u64::MAX),
        commission: json!({
            "rate": rate(v.commission.rate),
            "maxRate": rate(v.commission.max_rate),
            "maxChangeRate": rate(v.commission.max_change_rate),
        }),
        commission_changed: v.commission_changed,
        description: String::from_utf8_lossy(&v.description).into_owned(),
        created: v.created,
        commission_due: Amount(v.commission_due),
        keep_alive: json!({"counted": v.window_counted, "missed": v.window_missed}),
    }
}

fn reduction(b: &dyn RpcBackend, at: qstack_core::H256) -> Res<u128> {
    Ok(answer(FAILED, StakingApi::staking_inflation(&At(b, at)))?
        .params
        .power_reduction)
}

/// `staking_validators(at?)`: every validator, any status.
fn staking_validators(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["at"])?;
    let at = at_or_best(b, args.opt_hash(0)?);
    let r = reduction(b, at)?;
    let list = answer(FAILED, StakingApi::staking_validators(&At(b, at)))?;
    Ok(to_value(
        list.iter()
            .map(|(o, v)| validator_view(*o, v, r))
            .collect::<Vec<_>>(),
    ))
}

/// `staking_validator(owner, at?)`: one validator, or `null`.
fn staking_validator(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["owner", "at"])?;
    let owner = args.account(0)?;
    let at = at_or_best(b, args.opt_hash(1)?);
    let r = reduction(b, at)?;
    let v = answer(FAILED, StakingApi::staking_validator(&At(b, at), owner))?;
    Ok(v.map_or(Value::Null, |v| to_value(validator_view(owner, &v, r))))
}

fn member_view(i: usize, m: &SetMember) -> Value {
    json!({
        "index": i,
        "owner": to_value(Addr(m.owner)),
        "consensusKey": to_value(KeyView::from(&m.public)),
        "power": m.power,
    })
}

/// `staking_set(at?)`: the active set in index order (the BFT engine's
/// validators two blocks after a change).
fn staking_set(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["at"])?;
    let at = at_or_best(b, args.opt_hash(0)?);
    let set = answer(FAILED, StakingApi::staking_set(&At(b, at)))?;
    Ok(Value::Array(
        set.iter()
            .enumerate()
            .map(|(i, m)| member_view(i, m))
            .collect(),
    ))
}

fn delegation_view(d: &DelegationView) -> Value {
    json!({
        "validator": to_value(Addr(d.validator)),
        "shares": to_value(Amount(d.delegation.shares)),
        "tokens": to_value(Amount(d.tokens)),
        "pendingRewards": to_value(Amount(d.pending_rewards)),
        "compound": d.delegation.compound,
        "nextPayout": d.delegation.next_payout,
    })
}

/// `staking_delegations(address, at?)`: its delegations (the owner's
/// self-bond included) and unbondings.
fn staking_delegations(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["address", "at"])?;
    let who = args.account(0)?;
    let at = at_or_best(b, args.opt_hash(1)?);
    let view = answer(FAILED, StakingApi::staking_delegations(&At(b, at), who))?;
    Ok(json!({
        "delegations": view.delegations.iter().map(delegation_view).collect::<Vec<_>>(),
        "unbondings": view.unbondings.iter().map(|(v, u)| json!({
            "validator": to_value(Addr(*v)),
            "tokens": to_value(Amount(u.tokens)),
            "created": u.created,
            "release": u.release,
        })).collect::<Vec<_>>(),
    }))
}

/// `staking_rewards(address, at?)`: rewards earned and not yet paid, per
/// validator and in all (an owner's commission due included).
fn staking_rewards(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["address", "at"])?;
    let who = args.account(0)?;
    let at = at_or_best(b, args.opt_hash(1)?);
    let view = answer(FAILED, StakingApi::staking_delegations(&At(b, at), who))?;
    let total = view
        .delegations
        .iter()
        .fold(0u128, |t, d| t.saturating_add(d.pending_rewards));
    Ok(json!({
        "total": to_value(Amount(total)),
        "byValidator": view.delegations.iter().map(|d| json!({
            "validator": to_value(Addr(d.validator)),
            "pending": to_value(Amount(d.pending_rewards)),
        })).collect::<Vec<_>>(),
    }))
}

fn phase_view(i: usize, ph: &Phase, current: u32) -> Value {
    json!({
        "index": i,
        "endTime": ph.end_time,
        "totalAmount": to_value(Amount(ph.total_amount)),
        "appliedAmount": to_value(Amount(ph.applied_amount)),
        "current": i == current as usize,
    })
}

/// `staking_inflation(at?)`: parameters, phases, the phase in force, the
/// minted total and what the next block would mint.
fn staking_inflation(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["at"])?;
    let at = at_or_best(b, args.opt_hash(0)?);
    let v = answer(FAILED, StakingApi::staking_inflation(&At(b, at)))?;
    let p = &v.params;
    Ok(json!({
        "phases": v.phases.iter().enumerate().map(|(i, ph)| phase_view(i, ph, v.current)).collect::<Vec<_>>(),
        "currentPhase": v.current,
        "minted": to_value(Amount(v.minted)),
        "nextMint": to_value(Amount(v.next_mint)),
        "averageBlockTimeMs": v.average_block_time_ms,
        "params": {
            "maxValidators": p.max_validators,
            "votingStatusLen": p.voting_status_len,
            "votingStatusLeast": p.voting_status_least,
            "survivalSecs": p.survival_secs,
            "unbondPeriod": p.unbond_period,
            "delegatorIncomePeriod": p.delegator_income_period,
            "proposerRewardRate": rate(p.proposer_reward_rate),
            "communityRewardRate": rate(p.community_reward_rate),
            "doubleSignSlash": rate(p.double_sign_slash),
            "downtimeSlash": rate(p.downtime_slash),
            "minSelfBond": to_value(Amount(p.min_self_bond)),
            "minDelegation": to_value(Amount(p.min_delegation)),
            "powerReduction": to_value(Amount(p.power_reduction)),
        },
        "pools": {
            "bonded": to_value(Addr(qstack_runtime::staking::bonded_account())),
            "rewards": to_value(Addr(qstack_runtime::staking::reward_account())),
            "community": to_value(Addr(qstack_runtime::staking::community_account())),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::rate;

    #[test]
    fn rates_print_as_decimal_fractions() {
        assert_eq!(rate(40_000_000), "0.04");
        assert_eq!(rate(100_000), "0.0001");
        assert_eq!(rate(1_000_000_000), "1");
        assert_eq!(rate(0), "0");
        assert_eq!(rate(1), "0.000000001");
    }
}
