//! Changing the parameters and the inflation phases after genesis: root
//! calls, which is to say accepted governance parameter changes (QOS
//! planned "modification of existed and planning new inflation phases with
//! on-chain community governance").

use crate::{
    deposit_event, CurrentPhase, Error, Event, Params, ParamsOf, Phase, Phases, BILLION,
    MAX_CANDIDATES, MAX_PHASES,
};
use alloc::vec::Vec;
use qstack_core::Balance;

/// Why `p` is not a valid parameter set: (the genesis field, the reason).
pub fn check(p: &Params) -> Result<(), (&'static str, &'static str)> {
    if p.max_validators == 0 || p.max_validators > MAX_CANDIDATES {
        return Err(("maxValidators", "must be between 1 and 1000"));
    }
    if p.voting_status_len == 0 {
        return Err(("votingStatusLen", "must be > 0"));
    }
    if p.voting_status_least > p.voting_status_len {
        return Err(("votingStatusLeast", "must not exceed votingStatusLen"));
    }
    if p.unbond_period == 0 {
        return Err(("unbondPeriod", "must be > 0"));
    }
    if p.delegator_income_period == 0 {
        return Err(("delegatorIncomePeriod", "must be > 0"));
    }
    if u64::from(p.proposer_reward_rate).saturating_add(u64::from(p.community_reward_rate))
        > u64::from(BILLION)
    {
        return Err((
            "communityRewardRate",
            "proposer and community rates add up to more than 100%",
        ));
    }
    if p.double_sign_slash > BILLION || p.downtime_slash > BILLION {
        return Err(("doubleSignSlash", "a slash is at most 100%"));
    }
    if p.power_reduction == 0 {
        return Err(("powerReduction", "must be > 0"));
    }
    if p.block_time_ms == 0 {
        return Err(("blockTimeMs", "must be > 0"));
    }
    Ok(())
}

/// Replaces the parameters (checked as genesis checks them). The new
/// values apply from the next use: the next election, payout, unbonding.
pub fn set_params(params: Params) -> Result<(), Error> {
    check(&params).map_err(|_| Error::BadParams)?;
    ParamsOf::put(&params);
    deposit_event(Event::ParamsSet);
    Ok(())
}

/// Replaces the phase in force and every later one with `phases`, given as
/// (end time, total amount). Ended phases stay as history; the first new
/// phase carries on from what the phase in force minted so far, so no
/// token is minted twice. End times must rise and the first must be in the
/// future; the first total must cover what was minted already.
pub fn set_phases(phases: Vec<(u64, Balance)>) -> Result<(), Error> {
    let mut all = Phases::get().unwrap_or_default();
    let current = CurrentPhase::get().unwrap_or(0);
    let current_index = usize::try_from(current).unwrap_or(usize::MAX);
    let carried = all.get(current_index).map_or(0, |p| p.applied_amount);
    let kept = current_index.min(all.len());
    let count = kept.saturating_add(phases.len());
    if phases.is_empty() || u32::try_from(count).map_or(true, |n| n > MAX_PHASES) {
        return Err(Error::BadPhases);
    }
    let now = pallet_system::timestamp::now();
    let mut last_end = all
        .get(..kept)
        .and_then(<[Phase]>::last)
        .map_or(0, |p| p.end_time)
        .max(now);
    let mut new = Vec::with_capacity(phases.len());
    for (i, (end_time, total_amount)) in phases.into_iter().enumerate() {
        if end_time <= last_end {
            return Err(Error::BadPhases);
        }
        let applied_amount = if i == 0 { carried } else { 0 };
        if total_amount < applied_amount {
            return Err(Error::BadPhases);
        }
        last_end = end_time;
        new.push(Phase {
            end_time,
            total_amount,
            applied_amount,
        });
    }
    all.truncate(kept);
    all.extend(new);
    Phases::put(&all);
    deposit_event(Event::PhasesSet {
        from: current,
        phases: u32::try_from(all.len()).unwrap_or(u32::MAX),
    });
    Ok(())
}
