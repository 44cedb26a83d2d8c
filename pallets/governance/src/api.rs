//! What the runtime API (and so a `governance_*` RPC) reads. Unbounded
//! reads are fine here: never called from dispatch.

use crate::rules::{decide, Decision, Outcome};
use crate::tally::{count, votes_of};
use crate::{params, Proposal, ProposalId, ProposalStatus, Proposals, Tally, VoteOption};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use qstack_core::AccountId;
use scale_info::TypeInfo;

/// A proposal with its id.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct ProposalView {
    /// The id.
    pub id: ProposalId,
    /// The proposal.
    pub proposal: Proposal,
}

/// A tally and what it decides.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct TallyView {
    /// The tally.
    pub tally: Tally,
    /// What the rules decide on it (for a proposal under voting: if it
    /// ended at this block's stake).
    pub decision: Decision,
    /// Whether it passes (passed).
    pub passes: bool,
    /// Whether it is final (the proposal ended).
    pub is_final: bool,
}

/// Every kept proposal (live and the last ended ones), by id.
pub fn proposals() -> Vec<ProposalView> {
    let mut all: Vec<ProposalView> = Proposals::iter()
        .into_iter()
        .map(|(id, proposal)| ProposalView { id, proposal })
        .collect();
    all.sort_by_key(|v| v.id);
    all
}

/// Proposal `id`, if kept.
pub fn proposal(id: ProposalId) -> Option<Proposal> {
    Proposals::get(&id)
}

/// The tally of proposal `id`: under voting, the one its end would compute
/// now (the same function on the same stake); once voted on, the final
/// one. `None` for a proposal in its deposit period, dropped, or unknown.
pub fn tally(id: ProposalId) -> Option<TallyView> {
    let p = Proposals::get(&id)?;
    let rules = *params().of(p.level);
    let view = |tally: Tally, is_final: bool| {
        let decision = decide(&tally, &rules);
        TallyView {
            tally,
            decision,
            passes: decision.outcome == Outcome::Passed,
            is_final,
        }
    };
    match p.status {
        ProposalStatus::Voting => Some(view(count(&votes_of(id)).tally, false)),
        ProposalStatus::Deposit | ProposalStatus::Dropped => None,
        ProposalStatus::Passed | ProposalStatus::Rejected | ProposalStatus::Vetoed => {
            p.tally.map(|t| TallyView {
                passes: p.status == ProposalStatus::Passed,
                ..view(t, true)
            })
        }
    }
}

/// The votes on proposal `id` (only while it is voted on: votes are
/// deleted at its end), by voter.
pub fn votes(id: ProposalId) -> Vec<(AccountId, VoteOption)> {
    votes_of(id).into_iter().collect()
}
