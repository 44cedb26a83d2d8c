//! Per-block work: the parent's commit certificate (who signed), the
//! block's inflation and its distribution, the keep-alive window, the
//! election of the active set and the sets kept per height.

use crate::stake::{accrue, run_queues, set_status, slash};
use crate::{
    apply_rate, community_account, deposit_event, ensure, params, reward_account, CommitNoted,
    CurrentPhase, CurrentSet, EngineValidator, Error, Event, FirstBlockTime, InactiveReason,
    Joining, Minted, MissedPages, Phases, SetDirty, SetMember, SetStarts, Sets, Status,
    ValidatorInfo, Validators,
};
use alloc::vec::Vec;
use codec::{DecodeAll, Encode};
use qstack_consensus_primitives::{
    CommitCertificate, ValidatorKeys, MAX_EVIDENCE_AGE, PARENT_JUSTIFICATION_INHERENT,
    PROPOSER_INHERENT,
};
use qstack_core::{AccountId, Balance, BlockNumber, PublicKey};
use qstack_support::math::{mul_div, Round};
use qstack_support::InherentData;

/// Bits per keep-alive window page.
pub const PAGE_BITS: u32 = 1024;

/// A kept set as the certificate check sees it.
struct KeptSet<'a>(&'a [SetMember]);

impl ValidatorKeys for KeptSet<'_> {
    fn key(&self, index: u32) -> Option<&PublicKey> {
        self.0.get(index as usize).map(|m| &m.public)
    }
    fn power(&self, index: u32) -> u64 {
        self.0.get(index as usize).map_or(0, |m| m.power)
    }
    fn is_quorum(&self, power: u64) -> bool {
        let total: u128 = self.0.iter().map(|m| u128::from(m.power)).sum();
        // power > 2/3 total, exactly.
        u128::from(power).saturating_mul(3) > total.saturating_mul(2)
    }
}

/// The set that signs at `height`: the latest kept set starting at or
/// below it (`None` before any set, or older than the kept window).
pub fn set_at(height: u64) -> Option<Vec<SetMember>> {
    let starts = SetStarts::get().unwrap_or_default();
    let start = starts.iter().rev().find(|s| **s <= height)?;
    Sets::get(start)
}

/// The consensus key of validator `index` in the set of `height`.
pub fn key_at(height: u64, index: u32) -> Option<PublicKey> {
    set_at(height)?
        .get(index as usize)
        .map(|m| m.public.clone())
}

/// The owner of validator `index` in the set of `height`.
pub fn owner_at(height: u64, index: u32) -> Option<AccountId> {
    set_at(height)?.get(index as usize).map(|m| m.owner)
}

/// A double sign the evidence pallet recorded: slashes the validator that
/// held index `index` at `height`, once: as Cosmos tombstones a double
/// signer, evidence of its other double signs (other heights, steps) is
/// recorded but slashes nothing more.
pub fn on_offence(height: u64, index: u32) {
    if let Some(owner) = owner_at(height, index) {
        let tombstoned = Validators::get(&owner).is_some_and(|v| {
            matches!(
                v.status,
                Status::Inactive {
                    reason: InactiveReason::DoubleSign,
                    ..
                }
            )
        });
        if tombstoned {
            return;
        }
        slash(
            &owner,
            height,
            params().double_sign_slash,
            InactiveReason::DoubleSign,
        );
    }
}

/// `Consensus_config`: the active set as the BFT engine takes it (SCALE
/// `Vec<{public, power}>` in index order), or `None` on a chain without
/// validators.
pub fn consensus_config() -> Option<Vec<u8>> {
    let set = CurrentSet::get().unwrap_or_default();
    if set.is_empty() {
        return None;
    }
    let engine: Vec<EngineValidator> = set
        .into_iter()
        .map(|m| EngineValidator {
            public: m.public,
            power: m.power,
        })
        .collect();
    Some(engine.encode())
}

/// The author's `parjust0` and `proposer` inherent data as one call.
pub fn create_inherent(data: &InherentData) -> Option<crate::Call> {
    if CurrentSet::get().unwrap_or_default().is_empty() {
        return None;
    }
    let certificate = data
        .get(&PARENT_JUSTIFICATION_INHERENT)
        .and_then(|raw| CommitCertificate::decode_all(&mut &raw[..]).ok());
    let proposer = data
        .get(&PROPOSER_INHERENT)
        .and_then(|raw| u32::decode_all(&mut &raw[..]).ok());
    // A certificate of another block is dropped here rather than failing
    // the author's own block.
    let certificate = certificate.filter(|c| check_certificate(c).is_ok());
    let proposer = proposer.filter(|p| {
        set_at(u64::from(pallet_system::block_number())).is_some_and(|s| (*p as usize) < s.len())
    });
    if certificate.is_none() && proposer.is_none() {
        return None;
    }
    Some(crate::Call::NoteCommit {
        certificate,
        proposer,
    })
}

/// Checks a certificate is the parent's, signed by > 2/3 of the power of
/// the parent's set; returns that set.
fn check_certificate(c: &CommitCertificate) -> Result<Vec<SetMember>, Error> {
    let number = pallet_system::block_number();
    let parent = number.checked_sub(1).ok_or(Error::WrongCommit)?;
    let parent_hash = pallet_system::block_hash(parent).ok_or(Error::WrongCommit)?;
    ensure(
        c.height == u64::from(parent) && c.value == parent_hash,
        Error::WrongCommit,
    )?;
    let set = set_at(c.height).ok_or(Error::BadCommit)?;
    let chain = pallet_system::block_hash(0).ok_or(Error::BadCommit)?;
    c.verify_with(&chain, &KeptSet(&set), qstack_io::crypto::verify)
        .map_err(|_| Error::BadCommit)?;
    Ok(set)
}

/// Start of a block: nothing noted yet; the queued work that is due
/// (releases, maturities, closures, payouts) runs first.
/// Their weight counts against the block's, before any transaction.
pub fn on_initialize(_number: BlockNumber) {
    CommitNoted::kill();
    let done = run_queues();
    if done > 0 {
        let used = crate::weights::QUEUE_TASK.saturating_mul(u64::from(done));
        pallet_system::BlockWeight::mutate(|w| *w = Some(w.unwrap_or(0).saturating_add(used)));
    }
}

/// `note_commit`: who signed the parent, the block's mint and its
/// distribution, and the keep-alive window.
pub fn note_commit(
    certificate: Option<CommitCertificate>,
    proposer: Option<u32>,
) -> Result<(), Error> {
    ensure(!CommitNoted::exists(), Error::AlreadyNoted)?;
    let signed = match &certificate {
        Some(c) => {
            let set = check_certificate(c)?;
            let mut bits = alloc::vec![false; set.len()];
            for (i, _) in &c.precommits {
                if let Some(b) = bits.get_mut(*i as usize) {
                    *b = true;
                }
            }
            Some((set, bits))
        }
        None => None,
    };
    let number = pallet_system::block_number();
    let proposer_owner = match proposer {
        Some(p) => Some(owner_at(u64::from(number), p).ok_or(Error::UnknownProposer)?),
        None => None,
    };
    CommitNoted::put(&true);
    distribute(signed.as_ref(), proposer_owner.as_ref());
    if let Some((set, bits)) = &signed {
        keep_alive(set, bits, u64::from(number.saturating_sub(1)));
    }
    Ok(())
}

/// The observed average block time (ms): since block 1, else the parameter.
pub fn average_block_time() -> u64 {
    let p = params();
    let number = u64::from(pallet_system::block_number());
    let now = pallet_system::timestamp::now();
    match FirstBlockTime::get() {
        Some(first) if number > 1 && now > first => {
            let avg = (now.saturating_sub(first)).checked_div(number.saturating_sub(1));
            avg.filter(|a| *a > 0).unwrap_or(p.block_time_ms.max(1))
        }
        _ => p.block_time_ms.max(1),
    }
}

/// The mint of a block at `now` (ms) with the observed block time `avg`:
/// the current phase's remaining amount over the blocks left in it; a
/// phase whose end passed gives its leftover to the community pool and the
/// next one starts. Updates `phases` and `current` as the block would and
/// returns (the block's mint, leftovers of ended phases, ended phases).
pub fn mint_at(
    phases: &mut [crate::Phase],
    current: &mut u32,
    now: u64,
    avg: u64,
) -> (Balance, Balance, Vec<(u32, Balance)>) {
    let mut leftovers: Balance = 0;
    let mut ended = Vec::new();
    let mut mint: Balance = 0;
    while let Some(phase) = phases.get_mut(*current as usize) {
        if now >= phase.end_time {
            let leftover = phase.total_amount.saturating_sub(phase.applied_amount);
            phase.applied_amount = phase.total_amount;
            leftovers = leftovers.saturating_add(leftover);
            ended.push((*current, leftover));
            *current = current.saturating_add(1);
            continue;
        }
        let remaining = phase.total_amount.saturating_sub(phase.applied_amount);
        let blocks_left = phase
            .end_time
            .saturating_sub(now)
            .checked_div(avg.max(1))
            .unwrap_or(0);
        mint = if blocks_left == 0 {
            remaining
        } else {
            remaining
                .checked_div(u128::from(blocks_left))
                .unwrap_or(remaining)
        };
        phase.applied_amount = phase.applied_amount.saturating_add(mint);
        break;
    }
    (mint, leftovers, ended)
}

/// This block's mint ([`mint_at`] on the stored phases, now, at the
/// observed average block time), recorded. Returns (for the block's
/// distribution, for the community pool now).
pub fn block_mint() -> (Balance, Balance) {
    let mut phases = Phases::get().unwrap_or_default();
    let mut current = CurrentPhase::get().unwrap_or(0);
    let (mint, leftovers, ended) = mint_at(
        &mut phases,
        &mut current,
        pallet_system::timestamp::now(),
        average_block_time(),
    );
    for (index, leftover) in ended {
        deposit_event(Event::PhaseEnded { index, leftover });
    }
    Phases::put(&phases);
    CurrentPhase::put(&current);
    let total = mint.saturating_add(leftovers);
    if total > 0 {
        Minted::put(&Minted::get().unwrap_or(0).saturating_add(total));
    }
    (mint, leftovers)
}

/// Mints this block's inflation: the proposer's bonus, the community
/// share, and the rest to the validators that signed the parent in
/// proportion to their voting power (whitepaper §3.5), each split into its
/// owner's commission and its delegators' reward per share. What has no
/// recipient (no certificate, a validator gone) and the rounding dust go
/// to the community pool.
fn distribute(signed: Option<&(Vec<SetMember>, Vec<bool>)>, proposer: Option<&AccountId>) {
    let p = params();
    let (mint, leftovers) = block_mint();
    let mut to_community = leftovers;
    let mut to_rewards: Balance = 0;
    let bonus = if proposer.is_some() {
        apply_rate(mint, p.proposer_reward_rate)
    } else {
        0
    };
    let community = apply_rate(mint, p.community_reward_rate);
    let for_signers = mint.saturating_sub(bonus).saturating_sub(community);
    to_community = to_community.saturating_add(community);
    let mut paid_bonus: Balance = 0;
    if let Some(owner) = proposer {
        let left = credit(owner, bonus);
        paid_bonus = bonus.saturating_sub(left);
        to_rewards = to_rewards.saturating_add(paid_bonus);
        to_community = to_community.saturating_add(left);
    }
    let mut to_validators: Balance = 0;
    match signed {
        Some((set, bits)) => {
            let power: u128 = set
                .iter()
                .zip(bits)
                .filter(|(_, b)| **b)
                .map(|(m, _)| u128::from(m.power))
                .sum();
            let mut given: Balance = 0;
            for (m, b) in set.iter().zip(bits) {
                if !*b || power == 0 {
                    continue;
                }
                let share =
                    mul_div(for_signers, u128::from(m.power), power, Round::Down).unwrap_or(0);
                given = given.saturating_add(share);
                let left = credit(&m.owner, share);
                to_validators = to_validators.saturating_add(share.saturating_sub(left));
                to_community = to_community.saturating_add(left);
            }
            // The shares' rounding.
            to_community = to_community.saturating_add(for_signers.saturating_sub(given));
        }
        None => to_community = to_community.saturating_add(for_signers),
    }
    to_rewards = to_rewards.saturating_add(to_validators);
    if to_rewards > 0 && pallet_tokens::mint(&reward_account(), to_rewards).is_err() {
        to_community = to_community.saturating_add(to_rewards);
    }
    let _ = pallet_tokens::mint(&community_account(), to_community);
    if mint > 0 || leftovers > 0 {
        deposit_event(Event::Minted {
            amount: mint,
            proposer_bonus: paid_bonus,
            to_validators,
            to_community: to_community.saturating_sub(leftovers),
        });
    }
}

/// Credits `amount` of reward to validator `owner`: commission to its
/// owner, the rest per share. Returns what could not be credited (no such
/// validator, or one without shares).
fn credit(owner: &AccountId, amount: Balance) -> Balance {
    if amount == 0 {
        return 0;
    }
    let Some(mut v) = Validators::get(owner) else {
        return amount;
    };
    if v.shares == 0 {
        return amount;
    }
    let commission = apply_rate(amount, v.commission.rate);
    let rest = amount.saturating_sub(commission);
    let left = accrue(&mut v, rest);
    v.commission_due = v.commission_due.saturating_add(commission);
    Validators::insert(owner, &v);
    left
}

/// Counts each member of the parent's set as signed or missed in its
/// window; one that, with a whole window counted, missed more than
/// `len − least` of it is deactivated
/// and slashed for downtime (whatever the slash rate: a rate of 0 still
/// deactivates, unlike the shipped QOS chain).
fn keep_alive(set: &[SetMember], bits: &[bool], height: u64) {
    let p = params();
    let len = p.voting_status_len.max(1);
    let allowed = len.saturating_sub(p.voting_status_least);
    for (m, signed) in set.iter().zip(bits) {
        let Some(mut v) = Validators::get(&m.owner) else {
            continue;
        };
        if v.status != Status::Active {
            continue;
        }
        let index = v.window_counted.checked_rem(len).unwrap_or(0);
        let page = index.checked_div(PAGE_BITS).unwrap_or(0);
        let bit = index.checked_rem(PAGE_BITS).unwrap_or(0);
        let byte = bit.checked_div(8).unwrap_or(0) as usize;
        let mask = 1u8
            .checked_shl(bit.checked_rem(8).unwrap_or(0))
            .unwrap_or(0);
        let mut bytes = MissedPages::get(&m.owner, &page).unwrap_or_default();
        let was = bytes.get(byte).is_some_and(|b| b & mask != 0);
        let missed = !*signed;
        if was != missed {
            if bytes.len() <= byte {
                bytes.resize(byte.saturating_add(1), 0);
            }
            if let Some(b) = bytes.get_mut(byte) {
                if missed {
                    *b |= mask;
                } else {
                    *b &= !mask;
                }
            }
            if bytes.iter().all(|b| *b == 0) {
                MissedPages::remove(&m.owner, &page);
            } else {
                MissedPages::insert(&m.owner, &page, &bytes);
            }
            v.window_missed = if missed {
                v.window_missed.saturating_add(1)
            } else {
                v.window_missed.saturating_sub(1)
            };
        }
        v.window_counted = v.window_counted.saturating_add(1);
        Validators::insert(&m.owner, &v);
        // Judged once a whole window is counted (Cosmos's minimum height):
        // a validator that starts a little late is not slashed for it.
        if v.window_counted >= len && v.window_missed > allowed {
            slash(&m.owner, height, p.downtime_slash, InactiveReason::Downtime);
            // A fresh window if it comes back.
            if let Some(mut v) = Validators::get(&m.owner) {
                v.window_counted = 0;
                v.window_missed = 0;
                qstack_io::storage::clear_prefix(&MissedPages::prefix_of(&m.owner), None);
                if v.status == Status::Active {
                    set_status(
                        &m.owner,
                        &mut v,
                        Status::Inactive {
                            reason: InactiveReason::Downtime,
                            since: pallet_system::timestamp::now(),
                        },
                    );
                }
                Validators::insert(&m.owner, &v);
            }
        }
    }
}

/// A validator's voting power: bonded tokens ÷ `power_reduction`.
pub fn power_of(v: &ValidatorInfo) -> u64 {
    let r = params().power_reduction.max(1);
    u64::try_from(v.tokens.checked_div(r).unwrap_or(0)).unwrap_or(u64::MAX)
}

/// The candidates for the set: the members and those joining, active,
/// with power, best first (tokens, then owner id).
fn candidates() -> Vec<(AccountId, ValidatorInfo)> {
    let mut owners: Vec<AccountId> = CurrentSet::get()
        .unwrap_or_default()
        .into_iter()
        .map(|m| m.owner)
        .collect();
    for j in Joining::get().unwrap_or_default() {
        if !owners.contains(&j) {
            owners.push(j);
        }
    }
    let mut out: Vec<(AccountId, ValidatorInfo)> = owners
        .into_iter()
        .filter_map(|o| Validators::get(&o).map(|v| (o, v)))
        .filter(|(_, v)| v.status == Status::Active)
        .collect();
    out.sort_by(|(a, x), (b, y)| y.tokens.cmp(&x.tokens).then(a.cmp(b)));
    out
}

/// Whether an inactive validator `owner` would be elected now.
pub fn electable(owner: &AccountId, v: &ValidatorInfo) -> bool {
    if power_of(v) == 0 {
        return false;
    }
    let max = params().max_validators as usize;
    let others = candidates();
    let better = others
        .iter()
        .filter(|(o, w)| o != owner && (w.tokens > v.tokens || (w.tokens == v.tokens && o < owner)))
        .count();
    better < max
}

/// Elects the set: the top `max_validators` active candidates with power;
/// the rest become inactive (not elected). A changed set is kept for the
/// height two blocks on, when the engine switches to it.
fn elect() {
    let p = params();
    let max = p.max_validators as usize;
    let mut set: Vec<SetMember> = Vec::new();
    let mut total: u64 = 0;
    for (owner, mut v) in candidates() {
        let power = power_of(&v);
        let fits =
            set.len() < max && power > 0 && total.checked_add(power).is_some_and(|t| t < 1 << 60);
        if fits {
            total = total.saturating_add(power);
            set.push(SetMember {
                owner,
                public: v.key.clone(),
                power,
            });
        } else {
            set_status(
                &owner,
                &mut v,
                Status::Inactive {
                    reason: InactiveReason::NotElected,
                    since: pallet_system::timestamp::now(),
                },
            );
            Validators::insert(&owner, &v);
        }
    }
    let current = CurrentSet::get().unwrap_or_default();
    // An election never empties the set: with no active validator left the
    // last set stays (the chain halts for no election; governance or new
    // validators can follow).
    if set.is_empty() {
        return;
    }
    // The same members with the same power keep their order (and indices).
    let mut a = set.clone();
    let mut b = current.clone();
    a.sort_by_key(|x| x.owner);
    b.sort_by_key(|x| x.owner);
    if a == b {
        return;
    }
    let from = u64::from(pallet_system::block_number()).saturating_add(2);
    keep_set(from, &set);
    CurrentSet::put(&set);
    deposit_event(Event::SetChanged {
        from,
        members: u32::try_from(set.len()).unwrap_or(u32::MAX),
    });
}

/// Keeps `set` as the one signing from height `from` (the election, genesis,
/// other pallets' tests), and forgets sets
/// nothing in the evidence window can name any more.
pub fn keep_set(from: u64, set: &[SetMember]) {
    let mut starts = SetStarts::get().unwrap_or_default();
    starts.retain(|s| *s < from);
    starts.push(from);
    Sets::insert(&from, &set.to_vec());
    // A set is needed while a later height in the window could be its.
    let oldest = u64::from(pallet_system::block_number()).saturating_sub(MAX_EVIDENCE_AGE);
    while starts.len() > 1 && starts.get(1).is_some_and(|s| *s <= oldest) {
        let gone = starts.remove(0);
        Sets::remove(&gone);
    }
    SetStarts::put(&starts);
}

/// End of a block: a BFT block from #2 on must have noted its parent's
/// commit; the election if stakes or statuses changed; block
/// 1's time for the average.
pub fn on_finalize() -> Result<(), &'static str> {
    let number = pallet_system::block_number();
    if number == 1 && !FirstBlockTime::exists() {
        FirstBlockTime::put(&pallet_system::timestamp::now());
    }
    let bft = crate::BftChain::get().unwrap_or(false)
        && set_at(u64::from(number.saturating_sub(1))).is_some_and(|s| !s.is_empty());
    if !CommitNoted::exists() {
        if number >= 2 && bft {
            return Err("a block of a BFT chain must carry its parent's commit certificate");
        }
        // No commit to note (a chain without validators, block 1): the
        // mint still follows its schedule, all to the community pool.
        distribute(None, None);
    }
    CommitNoted::kill();
    if SetDirty::get().unwrap_or(false) {
        elect();
    }
    SetDirty::kill();
    Joining::kill();
    Ok(())
}

/// Block-level invariants: phases and the minted total, the kept sets.
pub fn try_state() -> Result<(), &'static str> {
    let phases = Phases::get().unwrap_or_default();
    let mut applied: Balance = 0;
    for ph in &phases {
        if ph.applied_amount > ph.total_amount {
            return Err("a phase applied more than its total");
        }
        applied = applied.saturating_add(ph.applied_amount);
    }
    if applied != Minted::get().unwrap_or(0) {
        return Err("the minted total differs from the phases' applied amounts");
    }
    let starts = SetStarts::get().unwrap_or_default();
    if starts.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
        return Err("set starts are not ascending");
    }
    if Sets::iter().len() != starts.len() {
        return Err("kept sets differ from their starts");
    }
    let current = CurrentSet::get().unwrap_or_default();
    if current.len() > params().max_validators as usize {
        return Err("the set is larger than max_validators");
    }
    Ok(())
}
