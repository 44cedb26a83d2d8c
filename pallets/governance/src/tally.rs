//! Voting power, read from the staking pallet at the block of the tally:
//! bonded tokens of the validators that are active then (members of the
//! current set with status `Active`).
//!
//! Per active validator, a delegator who voted counts for its delegation's
//! tokens (its shares at the validator's current rate, rounded down); the
//! validator's owner, if it voted, counts for the validator's tokens minus
//! those delegators' tokens (its self-bond, the delegators who stayed
//! silent, and the rounding dust). A silent owner's validator counts only
//! for the delegators who voted. The quorum's base is the sum of the active
//! validators' tokens.
//!
//! Cost: per active validator, either its delegations are walked (when it
//! has at most half as many as there are votes: a walked entry costs about
//! two lookups, `benches/governance.rs`) or each voter's delegation there
//! is looked up; so a tally costs at most `validators × min(votes lookups,
//! 512 walked entries)` besides reading the votes (512 is staking's
//! [`pallet_staking::MAX_DELEGATORS_PER_VALIDATOR`]).

use crate::{Tally, VoteOption, Votes};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use codec::Decode;
use pallet_staking::stake::tokens_of;
use pallet_staking::{CurrentSet, Delegation, Delegations, DelegatorCount, Status, Validators};
use qstack_core::{AccountId, Balance};
use qstack_io::storage;

/// A tally and the work it took (for the block's weight).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Count {
    /// The tally.
    pub tally: Tally,
    /// Votes read.
    pub votes: u32,
    /// Active validators counted.
    pub validators: u32,
    /// Delegation keys walked.
    pub walked: u32,
    /// Delegations looked up by voter.
    pub looked_up: u32,
}

/// The votes on `id`, by voter.
pub fn votes_of(id: crate::ProposalId) -> BTreeMap<AccountId, VoteOption> {
    votes_with_keys(id).0
}

/// The votes on `id` and their storage keys (to delete them without
/// walking the prefix again).
pub fn votes_with_keys(id: crate::ProposalId) -> (BTreeMap<AccountId, VoteOption>, Vec<Vec<u8>>) {
    let prefix = Votes::prefix_of(&id);
    let mut votes = BTreeMap::new();
    let mut keys = Vec::new();
    let mut cursor = prefix.clone();
    while let Some(k) = storage::next_key(&cursor) {
        if !k.starts_with(&prefix) {
            break;
        }
        let voter = k
            .get(prefix.len().saturating_add(16)..)
            .and_then(|mut raw| AccountId::decode(&mut raw).ok());
        let option = storage::get(&k).and_then(|raw| VoteOption::decode(&mut &raw[..]).ok());
        if let (Some(voter), Some(option)) = (voter, option) {
            votes.insert(voter, option);
        }
        keys.push(k.clone());
        cursor = k;
    }
    (votes, keys)
}

/// The tally of `votes` at the stake of this block.
pub fn count(votes: &BTreeMap<AccountId, VoteOption>) -> Count {
    let mut c = Count {
        votes: u32::try_from(votes.len()).unwrap_or(u32::MAX),
        ..Count::default()
    };
    for member in CurrentSet::get().unwrap_or_default() {
        let owner = member.owner;
        let Some(v) = Validators::get(&owner) else {
            continue;
        };
        if v.status != Status::Active {
            continue;
        }
        c.validators = c.validators.saturating_add(1);
        c.tally.total = c.tally.total.saturating_add(v.tokens);
        let mut deducted: Balance = 0;
        let mut counted = |option: VoteOption, shares: Balance, tally: &mut Tally| {
            let tokens = tokens_of(&v, shares);
            tally.add(option, tokens);
            deducted = deducted.saturating_add(tokens);
        };
        let delegators = DelegatorCount::get(&owner).unwrap_or(0);
        if (delegators as usize).saturating_mul(2) <= votes.len() {
            // Walk the keys; read the delegations of voters only.
            let prefix = Delegations::prefix_of(&owner);
            let mut cursor = prefix.clone();
            while let Some(k) = storage::next_key(&cursor) {
                if !k.starts_with(&prefix) {
                    break;
                }
                c.walked = c.walked.saturating_add(1);
                let who = k
                    .get(prefix.len().saturating_add(16)..)
                    .and_then(|mut raw| AccountId::decode(&mut raw).ok());
                if let Some(option) = who.filter(|w| *w != owner).and_then(|w| votes.get(&w)) {
                    if let Some(d) =
                        storage::get(&k).and_then(|raw| Delegation::decode(&mut &raw[..]).ok())
                    {
                        counted(*option, d.shares, &mut c.tally);
                    }
                }
                cursor = k;
            }
        } else {
            for (who, option) in votes.iter().filter(|(w, _)| **w != owner) {
                c.looked_up = c.looked_up.saturating_add(1);
                if let Some(d) = Delegations::get(&owner, who) {
                    counted(*option, d.shares, &mut c.tally);
                }
            }
        }
        if let Some(option) = votes.get(&owner) {
            // Delegators' tokens round down, so they never exceed the
            // validator's: the owner gets the rest.
            c.tally.add(*option, v.tokens.saturating_sub(deducted));
        }
    }
    c
}

/// Whether `who` has bonded stake at a member of the active set:
/// `Some(true)` if it owns a member (its self-bond), `Some(false)` if it
/// delegates to one, `None` if neither. Reads the set and at most one entry
/// per member.
pub fn stake_of(who: &AccountId) -> Option<bool> {
    let set = CurrentSet::get().unwrap_or_default();
    if set.iter().any(|m| m.owner == *who) {
        return Some(true);
    }
    set.iter()
        .any(|m| Delegations::contains_key(&m.owner, who))
        .then_some(false)
}
