//! Proposals through their life: the calls (submit, deposit, vote), the
//! end of each period in `on_initialize`, deposits refunded or burned,
//! enactment, the ended record, and the pallet's invariants.

use crate::rules::{burned, decide, Outcome};
use crate::tally::{count, stake_of, votes_of, votes_with_keys};
use crate::{
    deposit_account, deposit_event, ensure, params, weights, Deposits, EnactmentQueue, Enactments,
    Ended, Error, Event, Live, NextId, Proposal, ProposalId, ProposalKind, ProposalStatus,
    Proposals, Tally, VoteOption, Votes, BILLION, MAX_CALL, MAX_DEPOSITORS, MAX_DESCRIPTION,
    MAX_ENACTMENTS, MAX_ENDED, MAX_ENDINGS_PER_BLOCK, MAX_ENDING_WEIGHT, MAX_LIVE, MAX_TITLE,
    MAX_VOTES,
};
use alloc::vec::Vec;
use qstack_core::{AccountId, Balance, BlockNumber};
use qstack_runtime_primitives::{AssetId, DispatchError};
use qstack_support::math::U256;

fn now() -> BlockNumber {
    pallet_system::block_number()
}

/// Moves native tokens between a pseudo-account and another account.
fn pay(from: &AccountId, to: &AccountId, amount: Balance) -> Result<(), DispatchError> {
    if amount == 0 || from == to {
        return Ok(());
    }
    pallet_tokens::pseudo::pay(&AssetId::Native, from, to, amount)
}

/// Registers the deposit account as a pseudo-account if it is not one yet
/// (genesis does; a chain that adds the pallet later gets it on the first
/// submission).
pub(crate) fn ensure_deposit_account() -> Result<(), pallet_tokens::Error> {
    let pool = deposit_account();
    if pallet_tokens::pseudo::is_pseudo(&pool) {
        return Ok(());
    }
    pallet_tokens::pseudo::register(&pool, &[])
}

fn check_kind(kind: &ProposalKind) -> Result<(), Error> {
    match kind {
        ProposalKind::ParameterChange { call } => ensure(
            !call.is_empty() && call.len() <= MAX_CALL as usize,
            Error::BadCall,
        ),
        // Paying a pool from the community pool would move nothing or
        // break the deposit account's balance.
        ProposalKind::CommunitySpend { to, amount } => ensure(
            *amount > 0 && *to != deposit_account() && *to != pallet_staking::community_account(),
            Error::BadSpend,
        ),
        ProposalKind::Text | ProposalKind::RuntimeUpgrade { .. } => Ok(()),
    }
}

fn insert_live(live: &mut Vec<(BlockNumber, ProposalId)>, due: BlockNumber, id: ProposalId) {
    let at = live.partition_point(|e| *e < (due, id));
    live.insert(at, (due, id));
}

/// Opens voting on `p` (its deposits reached `min_deposit`).
fn start_voting(id: ProposalId, p: &mut Proposal, live: &mut Vec<(BlockNumber, ProposalId)>) {
    let n = now();
    let end = n.saturating_add(params().of(p.level).voting_period);
    live.retain(|e| e.1 != id);
    insert_live(live, end, id);
    p.status = ProposalStatus::Voting;
    p.voting_start = Some(n);
    p.voting_end = Some(end);
    deposit_event(Event::VotingStarted { id, end });
}

/// `submit`: checks the proposal and the proposer's deposit, takes it,
/// and opens the deposit period (or voting, if it already reaches
/// `min_deposit`).
pub fn submit(
    who: &AccountId,
    title: Vec<u8>,
    description: Vec<u8>,
    kind: ProposalKind,
    deposit: Balance,
) -> Result<(), DispatchError> {
    ensure(
        !title.is_empty() && title.len() <= MAX_TITLE as usize,
        Error::BadTitle,
    )?;
    ensure(
        description.len() <= MAX_DESCRIPTION as usize,
        Error::DescriptionTooLong,
    )?;
    check_kind(&kind)?;
    let level = kind.level();
    let lp = *params().of(level);
    // deposit ≥ min_proposer_deposit × min_deposit, exactly.
    ensure(
        deposit > 0
            && U256::mul(deposit, u128::from(BILLION))
                >= U256::mul(lp.min_deposit, u128::from(lp.min_proposer_deposit)),
        Error::DepositTooLow,
    )?;
    let mut live = Live::get().unwrap_or_default();
    ensure(live.len() < MAX_LIVE as usize, Error::TooManyProposals)?;
    let id = NextId::get().unwrap_or(0);
    let next = id.checked_add(1).ok_or(Error::Overflow)?;
    ensure_deposit_account()?;
    pay(who, &deposit_account(), deposit)?;
    let n = now();
    let mut p = Proposal {
        proposer: *who,
        title,
        description,
        kind,
        level,
        status: ProposalStatus::Deposit,
        submitted: n,
        deposit_end: n.saturating_add(lp.max_deposit_period),
        voting_start: None,
        voting_end: None,
        total_deposit: deposit,
        depositors: 1,
        voters: 0,
        tally: None,
        ended: None,
    };
    NextId::put(&next);
    Deposits::insert(&id, who, &deposit);
    deposit_event(Event::Submitted {
        id,
        proposer: *who,
        level,
        deposit,
    });
    if deposit >= lp.min_deposit {
        start_voting(id, &mut p, &mut live);
    } else {
        insert_live(&mut live, p.deposit_end, id);
    }
    Live::put(&live);
    Proposals::insert(&id, &p);
    Ok(())
}

/// `deposit`: adds `amount` to a proposal in its deposit period; opens
/// voting when the total reaches `min_deposit`.
pub fn deposit(who: &AccountId, id: ProposalId, amount: Balance) -> Result<(), DispatchError> {
    let mut p = Proposals::get(&id).ok_or(Error::NoProposal)?;
    ensure(
        p.status == ProposalStatus::Deposit && now() < p.deposit_end,
        Error::NotInDepositPeriod,
    )?;
    ensure(amount > 0, Error::DepositTooLow)?;
    let mine = Deposits::get(&id, who);
    if mine.is_none() {
        ensure(p.depositors < MAX_DEPOSITORS, Error::TooManyDepositors)?;
    }
    let total = p.total_deposit.checked_add(amount).ok_or(Error::Overflow)?;
    let new_mine = mine
        .unwrap_or(0)
        .checked_add(amount)
        .ok_or(Error::Overflow)?;
    pay(who, &deposit_account(), amount)?;
    if mine.is_none() {
        p.depositors = p.depositors.saturating_add(1);
    }
    p.total_deposit = total;
    Deposits::insert(&id, who, &new_mine);
    deposit_event(Event::Deposited {
        id,
        who: *who,
        amount,
        total,
    });
    if total >= params().of(p.level).min_deposit {
        let mut live = Live::get().unwrap_or_default();
        start_voting(id, &mut p, &mut live);
        Live::put(&live);
    }
    Proposals::insert(&id, &p);
    Ok(())
}

/// `vote`: records (or changes) the signer's vote on a proposal in its
/// voting period.
pub fn vote(who: &AccountId, id: ProposalId, option: VoteOption) -> Result<(), DispatchError> {
    let mut p = Proposals::get(&id).ok_or(Error::NoProposal)?;
    let open = p.status == ProposalStatus::Voting && p.voting_end.is_some_and(|end| now() < end);
    ensure(open, Error::NotInVotingPeriod)?;
    let owner = stake_of(who).ok_or(Error::NoStake)?;
    let first = !Votes::contains_key(&id, who);
    if first {
        ensure(p.voters < MAX_VOTES || owner, Error::TooManyVotes)?;
    }
    Votes::insert(&id, who, &option);
    if first {
        p.voters = p.voters.saturating_add(1);
        Proposals::insert(&id, &p);
    }
    deposit_event(Event::Voted {
        id,
        voter: *who,
        option,
    });
    Ok(())
}

/// The weight of an ending that refunds or burns `depositors` deposits
/// and tallies: the votes read, the validators counted, the delegation
/// keys walked and the delegations looked up ([`crate::tally::Count`]).
pub fn ending_weight(depositors: u32, c: &crate::tally::Count) -> u64 {
    let per = |w: u64, n: u32| w.saturating_mul(u64::from(n));
    weights::ENDING
        .saturating_add(per(weights::ENDING_PER_DEPOSITOR, depositors))
        .saturating_add(per(weights::TALLY_PER_VOTE, c.votes))
        .saturating_add(per(weights::TALLY_PER_VALIDATOR, c.validators))
        .saturating_add(per(weights::TALLY_PER_WALKED, c.walked))
        .saturating_add(per(weights::TALLY_PER_LOOKUP, c.looked_up))
}

/// The most an ending of `p` can weigh with `members` in the active set:
/// per member, `min(voters lookups, 512 walked keys)` (the tally walks
/// only when that costs less, see [`crate::tally`]).
pub fn ending_bound(p: &Proposal, members: u32) -> u64 {
    if p.status != ProposalStatus::Voting {
        return ending_weight(p.depositors, &crate::tally::Count::default());
    }
    let per = |w: u64, n: u32| w.saturating_mul(u64::from(n));
    let lookups = per(weights::TALLY_PER_LOOKUP, p.voters);
    let walk = per(
        weights::TALLY_PER_WALKED,
        pallet_staking::MAX_DELEGATORS_PER_VALIDATOR,
    );
    let votes = crate::tally::Count {
        votes: p.voters,
        validators: members,
        ..Default::default()
    };
    ending_weight(p.depositors, &votes)
        .saturating_add(lookups.min(walk).saturating_mul(u64::from(members)))
}

/// Start of a block: ends the proposals whose period is over, oldest
/// deadline first: at most [`MAX_ENDINGS_PER_BLOCK`], and after the first
/// only while their bound fits in [`MAX_ENDING_WEIGHT`]. Their measured
/// weight counts against the block's, before any transaction.
pub fn on_initialize(number: BlockNumber) {
    let live = Live::get().unwrap_or_default();
    let due: Vec<ProposalId> = live
        .iter()
        .take_while(|(end, _)| *end <= number)
        .take(MAX_ENDINGS_PER_BLOCK as usize)
        .map(|(_, id)| *id)
        .collect();
    if due.is_empty() {
        return;
    }
    let members = u32::try_from(pallet_staking::CurrentSet::get().unwrap_or_default().len())
        .unwrap_or(u32::MAX);
    let mut used: u64 = 0;
    for id in due {
        if used > 0 {
            let bound = Proposals::get(&id).map_or(0, |p| ending_bound(&p, members));
            if used.saturating_add(bound) > MAX_ENDING_WEIGHT {
                break;
            }
        }
        used = used.saturating_add(end(id, number));
    }
    pallet_system::BlockWeight::mutate(|w| *w = Some(w.unwrap_or(0).saturating_add(used)));
}

/// The tally of proposal `id`'s votes as its end would count them now.
pub fn live_tally(id: ProposalId) -> crate::tally::Count {
    count(&votes_of(id))
}

/// Ends proposal `id` at block `number`: a proposal still collecting
/// deposits is dropped; one being voted on is tallied and decided. Returns
/// the weight of the work.
pub fn end(id: ProposalId, number: BlockNumber) -> u64 {
    let mut live = Live::get().unwrap_or_default();
    live.retain(|e| e.1 != id);
    Live::put(&live);
    let Some(mut p) = Proposals::get(&id) else {
        return weights::ENDING;
    };
    let depositors = Deposits::iter_prefix(&id);
    let depositor_count = u32::try_from(depositors.len()).unwrap_or(u32::MAX);
    let mut weight = ending_weight(depositor_count, &crate::tally::Count::default());
    match p.status {
        ProposalStatus::Deposit => {
            let burned = settle(id, depositors, BILLION);
            p.status = ProposalStatus::Dropped;
            deposit_event(Event::Dropped { id, burned });
        }
        ProposalStatus::Voting => {
            let (votes, keys) = votes_with_keys(id);
            let c = count(&votes);
            weight = ending_weight(depositor_count, &c);
            let tally = c.tally;
            let d = decide(&tally, params().of(p.level));
            let burned = settle(id, depositors, d.burn);
            for k in &keys {
                qstack_io::storage::clear(k);
            }
            p.tally = Some(tally);
            match d.outcome {
                Outcome::Passed => {
                    p.status = ProposalStatus::Passed;
                    deposit_event(Event::Passed { id, tally });
                    enact(id, &p.kind);
                }
                Outcome::Rejected => {
                    p.status = ProposalStatus::Rejected;
                    deposit_event(Event::Rejected { id, tally, burned });
                }
                Outcome::Vetoed => {
                    p.status = ProposalStatus::Vetoed;
                    deposit_event(Event::Vetoed { id, tally, burned });
                }
            }
        }
        // Already ended: nothing to do (the queue no longer holds it).
        _ => return weight,
    }
    p.ended = Some(number);
    Proposals::insert(&id, &p);
    let mut ended = Ended::get().unwrap_or_default();
    ended.push(id);
    while ended.len() > MAX_ENDED as usize {
        let oldest = ended.remove(0);
        Proposals::remove(&oldest);
    }
    Ended::put(&ended);
    weight
}

/// Pays each deposit back minus `rate` of it; what is burned (and any
/// refund the depositor's account cannot take, such as one below the
/// existential deposit of an emptied account) goes to the community pool.
/// Returns that amount.
fn settle(id: ProposalId, depositors: Vec<(AccountId, Balance)>, rate: u32) -> Balance {
    let pool = deposit_account();
    let mut to_community: Balance = 0;
    for (who, amount) in depositors {
        let burn = burned(amount, rate);
        let refund = amount.saturating_sub(burn);
        let kept = if pay(&pool, &who, refund).is_ok() {
            burn
        } else {
            deposit_event(Event::RefundFailed {
                id,
                who,
                amount: refund,
            });
            amount
        };
        to_community = to_community.saturating_add(kept);
    }
    // The pool holds every live deposit (try_state), so this cannot fail;
    // if it did, the tokens would stay in the pool, which try_state reports.
    let _ = pay(&pool, &pallet_staking::community_account(), to_community);
    qstack_io::storage::clear_prefix(&Deposits::prefix_of(&id), None);
    to_community
}

/// A passed proposal takes effect.
fn enact(id: ProposalId, kind: &ProposalKind) {
    match kind {
        ProposalKind::Text => {}
        ProposalKind::CommunitySpend { to, amount } => {
            let community = pallet_staking::community_account();
            match qstack_support::transactional(|| pay(&community, to, *amount)) {
                Ok(()) => deposit_event(Event::Enacted {
                    id,
                    ok: true,
                    error: None,
                }),
                Err(error) => deposit_event(Event::EnactmentFailed { id, error }),
            }
        }
        ProposalKind::RuntimeUpgrade { code_hash } => {
            pallet_system::code::authorize_upgrade(*code_hash);
            deposit_event(Event::Enacted {
                id,
                ok: true,
                error: None,
            });
        }
        ProposalKind::ParameterChange { call } => {
            let mut queue = EnactmentQueue::get().unwrap_or_default();
            if queue.len() >= MAX_ENACTMENTS as usize {
                deposit_event(Event::EnactmentFailed {
                    id,
                    error: Error::TooManyEnactments.into(),
                });
                return;
            }
            queue.push(id);
            EnactmentQueue::put(&queue);
            Enactments::insert(&id, call);
            deposit_event(Event::EnactmentQueued { id });
        }
    }
}

/// Removes and returns the oldest `max` passed parameter changes: (the
/// proposal, its SCALE-encoded root call). The runtime decodes and
/// dispatches each as root, then reports with [`note_enacted`].
pub fn take_enactments(max: u32) -> Vec<(ProposalId, Vec<u8>)> {
    let mut queue = EnactmentQueue::get().unwrap_or_default();
    if queue.is_empty() || max == 0 {
        return Vec::new();
    }
    let n = queue.len().min(max as usize);
    let taken: Vec<ProposalId> = queue.drain(..n).collect();
    EnactmentQueue::put(&queue);
    taken
        .into_iter()
        .filter_map(|id| {
            let call = Enactments::get(&id)?;
            Enactments::remove(&id);
            Some((id, call))
        })
        .collect()
}

/// Records the result of dispatching proposal `id`'s call.
pub fn note_enacted(id: ProposalId, result: Result<(), DispatchError>) {
    deposit_event(Event::Enacted {
        id,
        ok: result.is_ok(),
        error: result.err(),
    });
}

/// Invariants: the deposit account holds exactly the live proposals'
/// deposits; each live proposal's deposits, depositors and voters match
/// its entries and bounds; the ending queue lists exactly the live
/// proposals at their deadlines, in order; ended proposals keep no
/// deposits or votes and are bounded; the enactment queue matches its calls.
pub fn try_state() -> Result<(), &'static str> {
    let proposals = Proposals::iter();
    let next = NextId::get().unwrap_or(0);
    let p = params();
    let mut held: Balance = 0;
    let mut expected_live: Vec<(BlockNumber, ProposalId)> = Vec::new();
    let mut ended_ids: Vec<ProposalId> = Vec::new();
    for (id, prop) in &proposals {
        if *id >= next {
            return Err("a proposal id at or above NextId");
        }
        if prop.title.is_empty()
            || prop.title.len() > MAX_TITLE as usize
            || prop.description.len() > MAX_DESCRIPTION as usize
        {
            return Err("a title or description out of bounds");
        }
        if check_kind(&prop.kind).is_err() {
            return Err("a proposal kind out of bounds");
        }
        if prop.level != prop.kind.level() {
            return Err("a proposal at another level than its kind's");
        }
        let deposits = Deposits::iter_prefix(id);
        let votes = Votes::iter_prefix(id);
        if prop.status.is_live() {
            let sum = deposits
                .iter()
                .try_fold(0u128, |s, (_, d)| s.checked_add(*d))
                .ok_or("deposits overflow")?;
            if sum != prop.total_deposit || deposits.iter().any(|(_, d)| *d == 0) {
                return Err("a live proposal's deposits differ from its total");
            }
            if deposits.len() != prop.depositors as usize || prop.depositors > MAX_DEPOSITORS {
                return Err("a live proposal's depositor count is wrong");
            }
            let most = MAX_VOTES.saturating_add(pallet_staking::MAX_CANDIDATES);
            if votes.len() != prop.voters as usize || prop.voters > most {
                return Err("a proposal's voter count is wrong");
            }
            held = held.checked_add(sum).ok_or("deposits overflow")?;
            let due = prop.due().ok_or("a live proposal without a deadline")?;
            expected_live.push((due, *id));
            let min = p.of(prop.level).min_deposit;
            match prop.status {
                ProposalStatus::Deposit if prop.total_deposit >= min || !votes.is_empty() => {
                    return Err("a proposal in its deposit period has votes or enough deposits")
                }
                ProposalStatus::Voting if prop.total_deposit < min => {
                    return Err("a proposal being voted on without enough deposits")
                }
                _ => {}
            }
        } else {
            if !deposits.is_empty() || !votes.is_empty() {
                return Err("an ended proposal keeps deposits or votes");
            }
            if prop.ended.is_none() {
                return Err("an ended proposal without its end");
            }
            let voted = matches!(
                prop.status,
                ProposalStatus::Passed | ProposalStatus::Rejected | ProposalStatus::Vetoed
            );
            if voted != prop.tally.is_some() {
                return Err("a tally recorded on a proposal never voted on, or missing");
            }
            if prop
                .tally
                .as_ref()
                .is_some_and(|t: &Tally| t.voted() > t.total)
            {
                return Err("a tally with more votes than tokens");
            }
            ended_ids.push(*id);
        }
    }
    if held != pallet_tokens::free_balance(&deposit_account()) {
        return Err("the deposit account differs from the live proposals' deposits");
    }
    let live = Live::get().unwrap_or_default();
    if live.len() > MAX_LIVE as usize || live.windows(2).any(|w| w.first() >= w.get(1)) {
        return Err("the ending queue is unsorted or over MAX_LIVE");
    }
    expected_live.sort();
    if live != expected_live {
        return Err("the ending queue differs from the live proposals");
    }
    ended_ids.sort();
    let ended = Ended::get().unwrap_or_default();
    let mut sorted_ended = ended.clone();
    sorted_ended.sort();
    if ended.len() > MAX_ENDED as usize || sorted_ended != ended_ids {
        return Err("the ended list differs from the ended proposals");
    }
    for (id, _, _) in Deposits::iter() {
        if !proposals.iter().any(|(p, _)| *p == id) {
            return Err("deposits of an unknown proposal");
        }
    }
    for (id, _, _) in Votes::iter() {
        if !proposals.iter().any(|(p, _)| *p == id) {
            return Err("votes on an unknown proposal");
        }
    }
    let queue = EnactmentQueue::get().unwrap_or_default();
    let mut calls: Vec<ProposalId> = Enactments::iter().into_iter().map(|(id, _)| id).collect();
    calls.sort();
    let mut queued = queue.clone();
    queued.sort();
    queued.dedup();
    if queue.len() > MAX_ENACTMENTS as usize || queued.len() != queue.len() || queued != calls {
        return Err("the enactment queue differs from the queued calls");
    }
    for id in &queue {
        if let Some(prop) = Proposals::get(id) {
            let change = matches!(prop.kind, ProposalKind::ParameterChange { .. });
            if prop.status != ProposalStatus::Passed || !change {
                return Err("a queued call of a proposal that is no passed parameter change");
            }
        }
    }
    Ok(())
}
