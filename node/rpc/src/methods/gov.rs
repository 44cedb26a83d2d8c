//! Governance methods: `gov_proposals`, `gov_proposal`, `gov_tally`,
//! `gov_votes` and `gov_params`, typed JSON over the runtime's
//! `GovernanceApi`. Amounts are decimal strings, rates decimal fractions
//! (`"0.334"`), addresses `q…`, periods in blocks.

use super::staking::rate;
use super::{at_or_best, blocking, Module, Res};
use crate::backend::RpcBackend;
use crate::error::RpcError;
use crate::params::Args;
use crate::runtime::{answer, At};
use crate::views::{to_value, Addr, Amount};
use jsonrpsee::types::Params;
use qstack_runtime::apis::client::GovernanceApi;
use qstack_runtime::governance::rules::Outcome;
use qstack_runtime::governance::{
    api::TallyView, Level, LevelParams, Proposal, ProposalKind, ProposalStatus, Tally, VoteOption,
};
use serde_json::{json, Value};

const FAILED: &str = "Unable to query governance.";

pub(super) fn register(m: &mut Module) -> Result<(), RpcError> {
    blocking(m, "gov_proposals", gov_proposals)?;
    blocking(m, "gov_proposal", gov_proposal)?;
    blocking(m, "gov_tally", gov_tally)?;
    blocking(m, "gov_votes", gov_votes)?;
    blocking(m, "gov_params", gov_params)?;
    Ok(())
}

fn level(l: Level) -> &'static str {
    match l {
        Level::Normal => "normal",
        Level::Important => "important",
        Level::Critical => "critical",
    }
}

fn status(s: ProposalStatus) -> &'static str {
    match s {
        ProposalStatus::Deposit => "deposit",
        ProposalStatus::Voting => "voting",
        ProposalStatus::Passed => "passed",
        ProposalStatus::Rejected => "rejected",
        ProposalStatus::Vetoed => "vetoed",
        ProposalStatus::Dropped => "dropped",
    }
}

fn option(o: VoteOption) -> &'static str {
    match o {
        VoteOption::Yes => "yes",
        VoteOption::No => "no",
        VoteOption::Abstain => "abstain",
        VoteOption::NoWithVeto => "noWithVeto",
    }
}

fn kind(k: &ProposalKind) -> Value {
    match k {
        ProposalKind::Text => json!({"type": "text"}),
        ProposalKind::ParameterChange { call } => {
            json!({"type": "parameterChange", "call": format!("0x{}", hex::encode(call))})
        }
        ProposalKind::CommunitySpend { to, amount } => json!({
            "type": "communitySpend",
            "to": to_value(Addr(*to)),
            "amount": to_value(Amount(*amount)),
        }),
        ProposalKind::RuntimeUpgrade { code_hash } => {
            json!({"type": "runtimeUpgrade", "codeHash": format!("{code_hash:?}")})
        }
    }
}

fn tally(t: &Tally) -> Value {
    json!({
        "yes": to_value(Amount(t.yes)),
        "no": to_value(Amount(t.no)),
        "abstain": to_value(Amount(t.abstain)),
        "noWithVeto": to_value(Amount(t.veto)),
        "voted": to_value(Amount(t.voted())),
        "total": to_value(Amount(t.total)),
    })
}

fn proposal_view(id: u64, p: &Proposal) -> Value {
    json!({
        "id": id,
        "proposer": to_value(Addr(p.proposer)),
        "title": String::from_utf8_lossy(&p.title),
        "description": String::from_utf8_lossy(&p.description),
        "kind": kind(&p.kind),
        "level": level(p.level),
        "status": status(p.status),
        "submitted": p.submitted,
        "depositEnd": p.deposit_end,
        "votingStart": p.voting_start,
        "votingEnd": p.voting_end,
        "totalDeposit": to_value(Amount(p.total_deposit)),
        "depositors": p.depositors,
        "voters": p.voters,
        "finalTally": p.tally.as_ref().map(tally),
        "ended": p.ended,
    })
}

fn tally_view(v: &TallyView) -> Value {
    json!({
        "tally": tally(&v.tally),
        "outcome": match v.decision.outcome {
            Outcome::Passed => "passed",
            Outcome::Rejected => "rejected",
            Outcome::Vetoed => "vetoed",
        },
        "burn": rate(v.decision.burn),
        "passes": v.passes,
        "final": v.is_final,
    })
}

/// `gov_proposals(at?)`: every kept proposal (live and recently ended).
fn gov_proposals(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["at"])?;
    let at = at_or_best(b, args.opt_hash(0)?);
    let list = answer(FAILED, GovernanceApi::gov_proposals(&At(b, at)))?;
    Ok(Value::Array(
        list.iter()
            .map(|v| proposal_view(v.id, &v.proposal))
            .collect(),
    ))
}

/// `gov_proposal(id, at?)`: one proposal, or `null`.
fn gov_proposal(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["id", "at"])?;
    let id = args.u64(0)?;
    let at = at_or_best(b, args.opt_hash(1)?);
    let v = answer(FAILED, GovernanceApi::gov_proposal(&At(b, at), id))?;
    Ok(v.map_or(Value::Null, |v| proposal_view(id, &v)))
}

/// `gov_tally(id, at?)`: the live tally of a proposal under voting (what
/// its end would decide at this block's stake), or its final one; `null`
/// in its deposit period.
fn gov_tally(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["id", "at"])?;
    let id = args.u64(0)?;
    let at = at_or_best(b, args.opt_hash(1)?);
    let v = answer(FAILED, GovernanceApi::gov_tally(&At(b, at), id))?;
    Ok(v.as_ref().map_or(Value::Null, tally_view))
}

/// `gov_votes(id, at?)`: the votes on a proposal under voting.
fn gov_votes(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["id", "at"])?;
    let id = args.u64(0)?;
    let at = at_or_best(b, args.opt_hash(1)?);
    let votes = answer(FAILED, GovernanceApi::gov_votes(&At(b, at), id))?;
    Ok(Value::Array(
        votes
            .iter()
            .map(|(who, o)| json!({"voter": to_value(Addr(*who)), "option": option(*o)}))
            .collect(),
    ))
}

fn level_params(l: &LevelParams) -> Value {
    json!({
        "minDeposit": to_value(Amount(l.min_deposit)),
        "minProposerDeposit": rate(l.min_proposer_deposit),
        "maxDepositPeriod": l.max_deposit_period,
        "votingPeriod": l.voting_period,
        "quorum": rate(l.quorum),
        "threshold": rate(l.threshold),
        "veto": rate(l.veto),
        "burnRate": rate(l.burn_rate),
    })
}

/// `gov_params(at?)`: every level's rules.
fn gov_params(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["at"])?;
    let at = at_or_best(b, args.opt_hash(0)?);
    let v = answer(FAILED, GovernanceApi::gov_params(&At(b, at)))?;
    Ok(json!({
        "normal": level_params(&v.normal),
        "important": level_params(&v.important),
        "critical": level_params(&v.critical),
        "depositAccount": to_value(Addr(qstack_runtime::governance::deposit_account())),
    }))
}
