//! What the runtime API (and so the `staking_*` RPC) reads.

use crate::block::{average_block_time, mint_at};
use crate::stake::{owed, tokens_of};
use crate::{
    params, CurrentPhase, Delegation, Delegations, Minted, Params, Phase, Phases, Unbonding,
    Unbondings, Validators,
};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use qstack_core::{AccountId, Balance};
use scale_info::TypeInfo;

/// One delegation as a wallet shows it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct DelegationView {
    /// The validator (its owner).
    pub validator: AccountId,
    /// The stored delegation.
    pub delegation: Delegation,
    /// Tokens its shares are worth now.
    pub tokens: Balance,
    /// Rewards earned and not yet paid (for the owner's self-delegation,
    /// the commission due included).
    pub pending_rewards: Balance,
}

/// An account's delegations and unbondings.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TypeInfo)]
pub struct DelegationsView {
    /// Delegations, by validator.
    pub delegations: Vec<DelegationView>,
    /// Unbondings: (validator left, entry).
    pub unbondings: Vec<(AccountId, Unbonding)>,
}

/// Inflation as an explorer shows it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct InflationView {
    /// Parameters.
    pub params: Params,
    /// Phases (with what each applied so far).
    pub phases: Vec<Phase>,
    /// Index of the phase in force (= `phases.len()` once all ended).
    pub current: u32,
    /// Tokens minted by inflation so far.
    pub minted: Balance,
    /// What a block now would mint (at the observed block time).
    pub next_mint: Balance,
    /// The observed average block time (ms).
    pub average_block_time_ms: u64,
}

/// `who`'s delegations and unbondings.
pub fn delegations_of(who: &AccountId) -> DelegationsView {
    let mut out = DelegationsView::default();
    for (validator, v) in Validators::iter() {
        if let Some(d) = Delegations::get(&validator, who) {
            let mut pending = owed(&v, &d);
            if validator == *who {
                pending = pending.saturating_add(v.commission_due);
            }
            out.delegations.push(DelegationView {
                validator,
                delegation: d,
                tokens: tokens_of(&v, d.shares),
                pending_rewards: pending,
            });
        }
    }
    for (validator, _, u) in Unbondings::iter() {
        if u.delegator == *who {
            out.unbondings.push((validator, u));
        }
    }
    out
}

/// The inflation schedule and what the next block would mint.
pub fn inflation() -> InflationView {
    let phases = Phases::get().unwrap_or_default();
    let current = CurrentPhase::get().unwrap_or(0);
    let avg = average_block_time();
    let (mut p, mut c) = (phases.clone(), current);
    let (next_mint, _, _) = mint_at(&mut p, &mut c, pallet_system::timestamp::now(), avg);
    InflationView {
        params: params(),
        phases,
        current,
        minted: Minted::get().unwrap_or(0),
        next_mint,
        average_block_time_ms: avg,
    }
}
