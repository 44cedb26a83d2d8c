//! Validators, delegations and their tokens: the calls, reward settlement
//! per share, slashing, the work queues, and the pallet's invariants.

use crate::{
    bonded_account, community_account, deposit_event, ensure, params, reward_account, Commission,
    Delegation, Delegations, DelegatorCount, Error, Event, InactiveReason, Joining, KeyOwner,
    Maturing, MissedPages, NextId, Pending, PendingOf, Perbill, Queue, QueueEnds, Redelegation,
    Redelegations, SetDirty, SlashedAt, Status, Task, Unbonding, Unbondings, ValidatorCount,
    ValidatorInfo, Validators, BILLION, COMMISSION_CHANGE_INTERVAL_MS, MAX_CANDIDATES,
    MAX_DELEGATORS_PER_VALIDATOR, MAX_DESCRIPTION, MAX_PENDING_PER_ACCOUNT,
    MAX_PENDING_PER_VALIDATOR, MAX_TASKS_PER_BLOCK, REWARD_SCALE,
};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use qstack_core::{AccountId, Balance, BlockNumber, PublicKey};
use qstack_runtime_primitives::AssetId;
use qstack_support::math::{mul_div, Round, U256};

/// Queue of periodic payouts.
pub const QUEUE_PAYOUT: u8 = 0;
/// Queue of unbonding releases.
pub const QUEUE_RELEASE: u8 = 1;
/// Queue of redelegation maturities.
pub const QUEUE_MATURE: u8 = 2;
/// Queue of closures (due in ms, not blocks).
pub const QUEUE_CLOSE: u8 = 3;

fn now_block() -> BlockNumber {
    pallet_system::block_number()
}

fn now_ms() -> u64 {
    pallet_system::timestamp::now()
}

fn pay(from: &AccountId, to: &AccountId, amount: Balance) -> Result<(), Error> {
    if amount == 0 || from == to {
        return Ok(());
    }
    pallet_tokens::pseudo::pay(&AssetId::Native, from, to, amount).map_err(|_| Error::Transfer)
}

/// Tokens worth `shares` of `v`, rounded down.
pub fn tokens_of(v: &ValidatorInfo, shares: Balance) -> Balance {
    if v.shares == 0 {
        return 0;
    }
    mul_div(shares, v.tokens, v.shares, Round::Down).unwrap_or(0)
}

/// The tokens `delegator`'s delegation to `validator` is worth now.
pub fn delegation_tokens(validator: &AccountId, delegator: &AccountId) -> Balance {
    match (
        Validators::get(validator),
        Delegations::get(validator, delegator),
    ) {
        (Some(v), Some(d)) => tokens_of(&v, d.shares),
        _ => 0,
    }
}

/// Rewards a delegation has earned and not been paid (the owner's also
/// includes the validator's commission due).
pub fn pending_rewards(validator: &AccountId, delegator: &AccountId) -> Balance {
    let Some(v) = Validators::get(validator) else {
        return 0;
    };
    let own = Delegations::get(validator, delegator).map_or(0, |d| owed(&v, &d));
    if validator == delegator {
        own.saturating_add(v.commission_due)
    } else {
        own
    }
}

/// What a delegation has earned since it last settled, rounded down.
pub fn owed(v: &ValidatorInfo, d: &Delegation) -> Balance {
    let delta = v.reward_per_share.wrapping_sub(d.reward_start);
    U256::mul(d.shares, delta)
        .div(REWARD_SCALE, Round::Down)
        .unwrap_or(0)
}

/// Adds `amount` of delegator reward to `v`'s per-share accumulator,
/// carrying the division's remainder to the next block. Returns what could
/// not be accrued (a validator without shares): the caller sends it to the
/// community pool.
pub fn accrue(v: &mut ValidatorInfo, amount: Balance) -> Balance {
    if amount == 0 {
        return 0;
    }
    if v.shares == 0 {
        return amount;
    }
    let step = U256::mul(amount, REWARD_SCALE)
        .add_u128(v.reward_remainder)
        .and_then(|n| n.div_rem(v.shares));
    match step {
        Some((q, rem)) => {
            v.reward_per_share = v.reward_per_share.wrapping_add(q);
            v.reward_remainder = rem;
            0
        }
        None => amount,
    }
}

/// Settles a delegation: its rewards are paid from the reward account (or
/// bonded again into `v` if it compounds), and it starts afresh. Returns
/// the reward. `v` and `d` are updated; the caller stores them.
fn settle(
    validator: &AccountId,
    delegator: &AccountId,
    v: &mut ValidatorInfo,
    d: &mut Delegation,
) -> Result<Balance, Error> {
    let amount = owed(v, d);
    d.reward_start = v.reward_per_share;
    if amount == 0 {
        return Ok(0);
    }
    let compound = d.compound && v.status == Status::Active && v.tokens > 0 && v.shares > 0;
    if compound {
        let shares = mul_div(amount, v.shares, v.tokens, Round::Down).ok_or(Error::Overflow)?;
        pay(&reward_account(), &bonded_account(), amount)?;
        v.tokens = v.tokens.checked_add(amount).ok_or(Error::Overflow)?;
        v.shares = v.shares.checked_add(shares).ok_or(Error::Overflow)?;
        d.shares = d.shares.checked_add(shares).ok_or(Error::Overflow)?;
        mark_dirty(v);
    } else {
        pay(&reward_account(), delegator, amount)?;
    }
    deposit_event(Event::Rewarded {
        delegator: *delegator,
        validator: *validator,
        amount,
        compounded: compound,
    });
    Ok(amount)
}

fn pay_commission(validator: &AccountId, v: &mut ValidatorInfo) -> Result<(), Error> {
    let amount = core::mem::take(&mut v.commission_due);
    if amount > 0 {
        pay(&reward_account(), validator, amount)?;
        deposit_event(Event::CommissionPaid {
            validator: *validator,
            amount,
        });
    }
    Ok(())
}

/// The set must be elected again at the end of the block if `v` is (or
/// wants to be) in it.
fn mark_dirty(v: &ValidatorInfo) {
    if v.status == Status::Active {
        SetDirty::put(&true);
    }
}

fn check_commission(c: &Commission) -> Result<(), Error> {
    ensure(
        c.max_rate <= BILLION && c.rate <= c.max_rate && c.max_change_rate <= c.max_rate,
        Error::BadCommission,
    )
}

/// `create_validator`.
pub fn create_validator(
    owner: &AccountId,
    key: PublicKey,
    self_bond: Balance,
    commission: Commission,
    description: Vec<u8>,
) -> Result<(), Error> {
    let p = params();
    ensure(!Validators::contains_key(owner), Error::AlreadyValidator)?;
    ensure(!KeyOwner::contains_key(&key.account_id()), Error::KeyInUse)?;
    ensure(self_bond >= p.min_self_bond.max(1), Error::SelfBondTooLow)?;
    check_commission(&commission)?;
    ensure(
        description.len() <= MAX_DESCRIPTION as usize,
        Error::DescriptionTooLong,
    )?;
    let count = ValidatorCount::get().unwrap_or(0);
    ensure(count < MAX_CANDIDATES, Error::TooManyValidators)?;
    pay(owner, &bonded_account(), self_bond)?;
    let now = now_block();
    let v = ValidatorInfo::new(key, self_bond, commission, description, now, now_ms());
    insert_validator(owner, &v, p.delegator_income_period, false)?;
    deposit_event(Event::ValidatorCreated {
        owner: *owner,
        self_bond,
    });
    Ok(())
}

/// Stores a new validator with its owner's self-delegation (genesis and
/// `create_validator`).
pub(crate) fn insert_validator(
    owner: &AccountId,
    v: &ValidatorInfo,
    income_period: u32,
    compound: bool,
) -> Result<(), Error> {
    let count = ValidatorCount::get().unwrap_or(0);
    ValidatorCount::put(&count.checked_add(1).ok_or(Error::Overflow)?);
    KeyOwner::insert(&v.key.account_id(), owner);
    Validators::insert(owner, v);
    let d = Delegation {
        shares: v.shares,
        compound,
        reward_start: v.reward_per_share,
        next_payout: now_block().saturating_add(income_period),
    };
    Delegations::insert(owner, owner, &d);
    add_delegator(owner)?;
    push(
        QUEUE_PAYOUT,
        u64::from(d.next_payout),
        Task::Payout {
            validator: *owner,
            delegator: *owner,
        },
    );
    // The validator and the self-delegation are two objects.
    pallet_system::owned::acquire(owner, 2);
    Joining::mutate(|j| {
        let j = j.get_or_insert_with(Vec::new);
        if !j.contains(owner) {
            j.push(*owner);
        }
    });
    SetDirty::put(&true);
    Ok(())
}

/// `delegate` (and `bond`, with `validator == who` and `compound: None`).
pub fn delegate(
    who: &AccountId,
    validator: &AccountId,
    amount: Balance,
    compound: Option<bool>,
) -> Result<(), Error> {
    let p = params();
    let mut v = Validators::get(validator).ok_or(Error::NoValidator)?;
    ensure(v.status == Status::Active, Error::NotActive)?;
    ensure(amount > 0, Error::AmountTooLow)?;
    ensure(v.tokens > 0 || v.shares == 0, Error::ValidatorWipedOut)?;
    let existing = Delegations::get(validator, who);
    let mut d = match existing {
        Some(mut d) => {
            settle(validator, who, &mut v, &mut d)?;
            if let Some(c) = compound {
                d.compound = c;
            }
            d
        }
        None => {
            ensure(amount >= p.min_delegation, Error::AmountTooLow)?;
            add_delegator(validator)?;
            let next_payout = now_block().saturating_add(p.delegator_income_period);
            push(
                QUEUE_PAYOUT,
                u64::from(next_payout),
                Task::Payout {
                    validator: *validator,
                    delegator: *who,
                },
            );
            pallet_system::owned::acquire(who, 1);
            Delegation {
                shares: 0,
                compound: compound.unwrap_or(false),
                reward_start: v.reward_per_share,
                next_payout,
            }
        }
    };
    let shares = if v.shares == 0 {
        amount
    } else {
        mul_div(amount, v.shares, v.tokens, Round::Down).ok_or(Error::Overflow)?
    };
    ensure(shares > 0, Error::AmountTooLow)?;
    pay(who, &bonded_account(), amount)?;
    v.tokens = v.tokens.checked_add(amount).ok_or(Error::Overflow)?;
    v.shares = v.shares.checked_add(shares).ok_or(Error::Overflow)?;
    d.shares = d.shares.checked_add(shares).ok_or(Error::Overflow)?;
    mark_dirty(&v);
    Validators::insert(validator, &v);
    Delegations::insert(validator, who, &d);
    deposit_event(Event::Delegated {
        delegator: *who,
        validator: *validator,
        tokens: amount,
    });
    Ok(())
}

/// Takes `amount` tokens (`None`: all) out of `who`'s delegation to
/// `validator` after settling it; removes the delegation when it empties.
/// Returns the tokens taken out.
fn take_out(
    who: &AccountId,
    validator: &AccountId,
    v: &mut ValidatorInfo,
    amount: Option<Balance>,
) -> Result<(Balance, Delegation), Error> {
    let mut d = Delegations::get(validator, who).ok_or(Error::NoDelegation)?;
    settle(validator, who, v, &mut d)?;
    let held = tokens_of(v, d.shares);
    let (tokens, shares) = match amount {
        None => (held, d.shares),
        Some(a) => {
            ensure(a > 0, Error::AmountTooLow)?;
            ensure(a <= held, Error::InsufficientBond)?;
            let s = mul_div(a, v.shares, v.tokens, Round::Up).ok_or(Error::Overflow)?;
            (a, s.min(d.shares))
        }
    };
    if who == validator && v.status == Status::Active {
        ensure(shares < d.shares, Error::SelfBondRequired)?;
    }
    d.shares = d
        .shares
        .checked_sub(shares)
        .ok_or(Error::InsufficientBond)?;
    v.shares = v.shares.checked_sub(shares).ok_or(Error::Overflow)?;
    v.tokens = v.tokens.checked_sub(tokens).ok_or(Error::Overflow)?;
    if v.shares == 0 {
        // The last share out takes every token left (rounding crumbs).
        let crumbs = core::mem::take(&mut v.tokens);
        pay(&bonded_account(), &community_account(), crumbs)?;
    }
    if d.shares == 0 {
        remove_delegation(validator, who);
    } else {
        Delegations::insert(validator, who, &d);
    }
    mark_dirty(v);
    Ok((tokens, d))
}

/// One more unbonding or redelegation of `who` leaving `validator`
/// (`capped`: refused past the bounds; a closure is not).
fn bump_pending(who: &AccountId, validator: &AccountId, capped: bool) -> Result<(), Error> {
    let n = Pending::get(who).unwrap_or(0);
    let m = PendingOf::get(validator).unwrap_or(0);
    if capped {
        ensure(
            n < MAX_PENDING_PER_ACCOUNT && m < MAX_PENDING_PER_VALIDATOR,
            Error::TooManyPending,
        )?;
    }
    Pending::insert(who, &n.saturating_add(1));
    PendingOf::insert(validator, &m.saturating_add(1));
    Ok(())
}

fn drop_pending(who: &AccountId, validator: &AccountId) {
    decrement(Pending::get(who), |n| match n {
        0 => Pending::remove(who),
        n => Pending::insert(who, &n),
    });
    decrement(PendingOf::get(validator), |n| match n {
        0 => PendingOf::remove(validator),
        n => PendingOf::insert(validator, &n),
    });
}

fn decrement(v: Option<u32>, store: impl FnOnce(u32)) {
    store(v.unwrap_or(0).saturating_sub(1));
}

/// A new delegation to `validator` (refused past the bound).
fn add_delegator(validator: &AccountId) -> Result<(), Error> {
    let n = DelegatorCount::get(validator).unwrap_or(0);
    ensure(n < MAX_DELEGATORS_PER_VALIDATOR, Error::TooManyDelegators)?;
    DelegatorCount::insert(validator, &n.saturating_add(1));
    Ok(())
}

/// A delegation to `validator` went.
fn remove_delegation(validator: &AccountId, delegator: &AccountId) {
    Delegations::remove(validator, delegator);
    pallet_system::owned::release(delegator, 1);
    decrement(DelegatorCount::get(validator), |n| match n {
        0 => DelegatorCount::remove(validator),
        n => DelegatorCount::insert(validator, &n),
    });
}

fn next_id() -> u64 {
    let id = NextId::get().unwrap_or(0);
    NextId::put(&id.wrapping_add(1));
    id
}

/// Starts an unbonding of `tokens` from `validator` for `who`.
fn start_unbonding(who: &AccountId, validator: &AccountId, tokens: Balance) -> Result<(), Error> {
    if tokens == 0 {
        return Ok(());
    }
    let release = now_block().saturating_add(params().unbond_period);
    let id = next_id();
    Unbondings::insert(
        validator,
        &id,
        &Unbonding {
            delegator: *who,
            tokens,
            created: now_block(),
            release,
        },
    );
    push(
        QUEUE_RELEASE,
        u64::from(release),
        Task::Release {
            validator: *validator,
            id,
        },
    );
    deposit_event(Event::Unbonding {
        delegator: *who,
        validator: *validator,
        tokens,
        release,
    });
    Ok(())
}

/// `unbond`.
pub fn unbond(
    who: &AccountId,
    validator: &AccountId,
    amount: Option<Balance>,
) -> Result<(), Error> {
    let mut v = Validators::get(validator).ok_or(Error::NoValidator)?;
    bump_pending(who, validator, true)?;
    let (tokens, _) = take_out(who, validator, &mut v, amount)?;
    store_or_remove(validator, &v);
    start_unbonding(who, validator, tokens)
}

/// Keeps a validator record, or deletes a closed one that is empty.
fn store_or_remove(validator: &AccountId, v: &ValidatorInfo) {
    if v.status == Status::Closed && v.shares == 0 {
        remove_validator(validator, v);
    } else {
        Validators::insert(validator, v);
    }
}

fn remove_validator(validator: &AccountId, v: &ValidatorInfo) {
    // Rewards nobody can claim any more go to the community pool.
    let left = v.commission_due;
    if left > 0 {
        let _ = pay(&reward_account(), validator, left);
    }
    Validators::remove(validator);
    KeyOwner::remove(&v.key.account_id());
    ValidatorCount::mutate(|c| *c = Some(c.unwrap_or(0).saturating_sub(1)));
    qstack_io::storage::clear_prefix(&MissedPages::prefix_of(validator), None);
    pallet_system::owned::release(validator, 1);
}

/// `redelegate`.
pub fn redelegate(
    who: &AccountId,
    from: &AccountId,
    to: &AccountId,
    amount: Option<Balance>,
) -> Result<(), Error> {
    ensure(from != to, Error::SameValidator)?;
    let mut dst = Validators::get(to).ok_or(Error::NoValidator)?;
    ensure(dst.status == Status::Active, Error::NotActive)?;
    ensure(dst.tokens > 0 || dst.shares == 0, Error::ValidatorWipedOut)?;
    let now = now_block();
    if let Some(until) = Maturing::get(who, from) {
        ensure(until <= now, Error::ChainedRedelegation)?;
    }
    let mut src = Validators::get(from).ok_or(Error::NoValidator)?;
    bump_pending(who, from, true)?;
    let (tokens, _) = take_out(who, from, &mut src, amount)?;
    store_or_remove(from, &src);
    ensure(tokens > 0, Error::AmountTooLow)?;
    let p = params();
    let mut d = match Delegations::get(to, who) {
        Some(mut d) => {
            settle(to, who, &mut dst, &mut d)?;
            d
        }
        None => {
            add_delegator(to)?;
            let next_payout = now.saturating_add(p.delegator_income_period);
            push(
                QUEUE_PAYOUT,
                u64::from(next_payout),
                Task::Payout {
                    validator: *to,
                    delegator: *who,
                },
            );
            pallet_system::owned::acquire(who, 1);
            Delegation {
                shares: 0,
                compound: false,
                reward_start: dst.reward_per_share,
                next_payout,
            }
        }
    };
    let shares = if dst.shares == 0 {
        tokens
    } else {
        mul_div(tokens, dst.shares, dst.tokens, Round::Down).ok_or(Error::Overflow)?
    };
    ensure(shares > 0, Error::AmountTooLow)?;
    dst.tokens = dst.tokens.checked_add(tokens).ok_or(Error::Overflow)?;
    dst.shares = dst.shares.checked_add(shares).ok_or(Error::Overflow)?;
    d.shares = d.shares.checked_add(shares).ok_or(Error::Overflow)?;
    Validators::insert(to, &dst);
    Delegations::insert(to, who, &d);
    SetDirty::put(&true);
    let mature = now.saturating_add(p.unbond_period);
    let id = next_id();
    Redelegations::insert(
        from,
        &id,
        &Redelegation {
            delegator: *who,
            to: *to,
            shares,
            created: now,
            mature,
        },
    );
    let until = Maturing::get(who, to).unwrap_or(0).max(mature);
    Maturing::insert(who, to, &until);
    push(
        QUEUE_MATURE,
        u64::from(mature),
        Task::Mature { from: *from, id },
    );
    deposit_event(Event::Redelegated {
        delegator: *who,
        from: *from,
        to: *to,
        tokens,
    });
    Ok(())
}

/// Changes a validator's status, with its event; an inactive validator is
/// queued to close `survival_secs` later.
pub(crate) fn set_status(validator: &AccountId, v: &mut ValidatorInfo, status: Status) {
    if v.status == status {
        return;
    }
    let was_active = v.status == Status::Active;
    v.status = status;
    if let Status::Inactive { since, .. } = status {
        let due = since.saturating_add(params().survival_secs.saturating_mul(1_000));
        push(
            QUEUE_CLOSE,
            due,
            Task::Close {
                validator: *validator,
                since,
            },
        );
    }
    if was_active || status == Status::Active {
        SetDirty::put(&true);
    }
    deposit_event(Event::StatusChanged {
        validator: *validator,
        status,
    });
}

/// `revoke_validator`.
pub fn revoke(owner: &AccountId) -> Result<(), Error> {
    let mut v = Validators::get(owner).ok_or(Error::NoValidator)?;
    ensure(v.status == Status::Active, Error::NotActive)?;
    set_status(
        owner,
        &mut v,
        Status::Inactive {
            reason: InactiveReason::Revoked,
            since: now_ms(),
        },
    );
    Validators::insert(owner, &v);
    Ok(())
}

/// `activate_validator`: an inactive validator whose bonded tokens would
/// make the top `max_validators` (a double signer never).
pub fn activate(owner: &AccountId) -> Result<(), Error> {
    let mut v = Validators::get(owner).ok_or(Error::NoValidator)?;
    let Status::Inactive { reason, .. } = v.status else {
        return Err(Error::NotInactive);
    };
    ensure(reason != InactiveReason::DoubleSign, Error::Tombstoned)?;
    ensure(crate::block::electable(owner, &v), Error::NotElectable)?;
    // A fresh keep-alive window.
    v.window_counted = 0;
    v.window_missed = 0;
    qstack_io::storage::clear_prefix(&MissedPages::prefix_of(owner), None);
    set_status(owner, &mut v, Status::Active);
    Validators::insert(owner, &v);
    Joining::mutate(|j| {
        let j = j.get_or_insert_with(Vec::new);
        if !j.contains(owner) {
            j.push(*owner);
        }
    });
    Ok(())
}

/// `set_commission`.
pub fn set_commission(owner: &AccountId, rate: Perbill) -> Result<(), Error> {
    let mut v = Validators::get(owner).ok_or(Error::NoValidator)?;
    ensure(v.status != Status::Closed, Error::NoValidator)?;
    let now = now_ms();
    ensure(
        now >= v
            .commission_changed
            .saturating_add(COMMISSION_CHANGE_INTERVAL_MS),
        Error::CommissionTooSoon,
    )?;
    let change = rate.abs_diff(v.commission.rate);
    ensure(
        rate <= v.commission.max_rate && change <= v.commission.max_change_rate,
        Error::CommissionChangeTooLarge,
    )?;
    v.commission.rate = rate;
    v.commission_changed = now;
    Validators::insert(owner, &v);
    deposit_event(Event::CommissionChanged {
        validator: *owner,
        rate,
    });
    Ok(())
}

/// `withdraw_rewards`.
pub fn withdraw_rewards(who: &AccountId, validator: &AccountId) -> Result<(), Error> {
    let mut v = Validators::get(validator).ok_or(Error::NoValidator)?;
    let has = Delegations::get(validator, who);
    ensure(has.is_some() || who == validator, Error::NoDelegation)?;
    if let Some(mut d) = has {
        settle(validator, who, &mut v, &mut d)?;
        Delegations::insert(validator, who, &d);
    }
    if who == validator {
        pay_commission(validator, &mut v)?;
    }
    Validators::insert(validator, &v);
    Ok(())
}

/// `set_compound`.
pub fn set_compound(who: &AccountId, validator: &AccountId, compound: bool) -> Result<(), Error> {
    let mut d = Delegations::get(validator, who).ok_or(Error::NoDelegation)?;
    d.compound = compound;
    Delegations::insert(validator, who, &d);
    Ok(())
}

/// Slashes `rate` of what `validator` had bonded at `height`: its bonded
/// tokens now (every share loses alike), and the unbondings and
/// redelegations that left it at or after `height`. Slashed tokens go to
/// the community pool. At most once per (validator, height). Returns the
/// tokens taken.
pub fn slash(validator: &AccountId, height: u64, rate: Perbill, reason: InactiveReason) -> Balance {
    if SlashedAt::contains_key(validator, &height) {
        return 0;
    }
    let Some(mut v) = Validators::get(validator) else {
        return 0;
    };
    SlashedAt::insert(validator, &height, &true);
    let mut taken: Balance = 0;
    // Bonded tokens.
    let cut = crate::apply_rate(v.tokens, rate);
    v.tokens = v.tokens.saturating_sub(cut);
    taken = taken.saturating_add(cut);
    // Unbondings that started at or after the offence.
    for (id, mut u) in Unbondings::iter_prefix(validator) {
        if u64::from(u.created) >= height {
            let c = crate::apply_rate(u.tokens, rate);
            u.tokens = u.tokens.saturating_sub(c);
            taken = taken.saturating_add(c);
            Unbondings::insert(validator, &id, &u);
        }
    }
    // Redelegations that left it at or after the offence: the moved
    // tokens are taken from the destination (the delegator's shares there).
    for (_, r) in Redelegations::iter_prefix(validator) {
        if u64::from(r.created) < height {
            continue;
        }
        let (Some(mut dst), Some(mut d)) = (
            Validators::get(&r.to),
            Delegations::get(&r.to, &r.delegator),
        ) else {
            continue;
        };
        let burn = crate::apply_rate(r.shares, rate).min(d.shares);
        if burn == 0 {
            continue;
        }
        if settle(&r.to, &r.delegator, &mut dst, &mut d).is_err() {
            continue;
        }
        let tokens = tokens_of(&dst, burn);
        d.shares = d.shares.saturating_sub(burn);
        dst.shares = dst.shares.saturating_sub(burn);
        dst.tokens = dst.tokens.saturating_sub(tokens);
        taken = taken.saturating_add(tokens);
        if d.shares == 0 {
            remove_delegation(&r.to, &r.delegator);
        } else {
            Delegations::insert(&r.to, &r.delegator, &d);
        }
        if dst.status == Status::Active {
            SetDirty::put(&true);
        }
        Validators::insert(&r.to, &dst);
    }
    if taken > 0 {
        let _ = pay(&bonded_account(), &community_account(), taken);
    }
    if v.status == Status::Active || reason == InactiveReason::DoubleSign {
        let since = match v.status {
            Status::Inactive { since, .. } => since,
            _ => now_ms(),
        };
        if v.status != Status::Closed {
            set_status(validator, &mut v, Status::Inactive { reason, since });
        }
    }
    Validators::insert(validator, &v);
    deposit_event(Event::Slashed {
        validator: *validator,
        reason,
        height,
        amount: taken,
    });
    taken
}

/// Storage a slash touches at most: the validator and its bookkeeping, its
/// unbondings (normal ones and a closure's) and redelegations with their
/// destinations' records.
pub fn slash_db_access() -> qstack_support::DbAccess {
    let unbondings = MAX_PENDING_PER_VALIDATOR.saturating_add(MAX_DELEGATORS_PER_VALIDATOR);
    qstack_support::DbAccess::new(
        32u32
            .saturating_add(unbondings.saturating_mul(2))
            .saturating_add(MAX_PENDING_PER_VALIDATOR.saturating_mul(10)),
        24u32
            .saturating_add(unbondings)
            .saturating_add(MAX_PENDING_PER_VALIDATOR.saturating_mul(8)),
    )
}

/// Appends a task to queue `kind`, due at `due` (a block, or ms for closures).
pub fn push(kind: u8, due: u64, task: Task) {
    let (head, tail) = QueueEnds::get(&kind).unwrap_or((0, 0));
    Queue::insert(&kind, &tail, &(due, task));
    QueueEnds::insert(&kind, &(head, tail.wrapping_add(1)));
}

/// Does up to [`MAX_TASKS_PER_BLOCK`] due tasks, oldest first in each
/// queue. A queue's order is its due order, since each kind's delay is one
/// parameter. Returns how many it did.
pub fn run_queues() -> u32 {
    let mut budget = MAX_TASKS_PER_BLOCK;
    let block = u64::from(now_block());
    let ms = now_ms();
    for kind in [QUEUE_RELEASE, QUEUE_MATURE, QUEUE_CLOSE, QUEUE_PAYOUT] {
        let now = if kind == QUEUE_CLOSE { ms } else { block };
        while budget > 0 {
            let (head, tail) = QueueEnds::get(&kind).unwrap_or((0, 0));
            if head == tail {
                break;
            }
            let Some((due, task)) = Queue::get(&kind, &head) else {
                QueueEnds::insert(&kind, &(head.wrapping_add(1), tail));
                continue;
            };
            if due > now {
                break;
            }
            Queue::remove(&kind, &head);
            let next = head.wrapping_add(1);
            if next == tail {
                QueueEnds::remove(&kind);
            } else {
                QueueEnds::insert(&kind, &(next, tail));
            }
            budget = budget.saturating_sub(1);
            run_task(task);
        }
    }
    MAX_TASKS_PER_BLOCK.saturating_sub(budget)
}

fn run_task(task: Task) {
    match task {
        Task::Release { validator, id } => {
            if let Some(u) = Unbondings::get(&validator, &id) {
                Unbondings::remove(&validator, &id);
                drop_pending(&u.delegator, &validator);
                if pay(&bonded_account(), &u.delegator, u.tokens).is_err() {
                    // Below the existential deposit on its own: to the pool.
                    let _ = pay(&bonded_account(), &community_account(), u.tokens);
                }
                deposit_event(Event::Released {
                    delegator: u.delegator,
                    tokens: u.tokens,
                });
            }
        }
        Task::Mature { from, id } => {
            if let Some(r) = Redelegations::get(&from, &id) {
                Redelegations::remove(&from, &id);
                drop_pending(&r.delegator, &from);
                if Maturing::get(&r.delegator, &r.to).is_some_and(|m| m <= now_block()) {
                    Maturing::remove(&r.delegator, &r.to);
                }
            }
        }
        Task::Close { validator, since } => {
            if let Some(mut v) = Validators::get(&validator) {
                if matches!(v.status, Status::Inactive { since: s, .. } if s == since) {
                    set_status(&validator, &mut v, Status::Closed);
                    store_or_remove(&validator, &v);
                    // Every delegation is unbonded by its next payout visit.
                }
            }
        }
        Task::Payout {
            validator,
            delegator,
        } => payout(&validator, &delegator),
    }
}

/// A delegation's periodic visit: settle it (paid or compounded) and come
/// back a period later; a closed validator's delegation is unbonded.
fn payout(validator: &AccountId, delegator: &AccountId) {
    let (Some(mut v), Some(mut d)) = (
        Validators::get(validator),
        Delegations::get(validator, delegator),
    ) else {
        return;
    };
    if d.next_payout > now_block() {
        // A stale entry (the delegation was re-created): its own is queued.
        return;
    }
    if v.status == Status::Closed {
        let held = tokens_of(&v, d.shares);
        if settle(validator, delegator, &mut v, &mut d).is_err() {
            return;
        }
        Delegations::insert(validator, delegator, &d);
        // Closing: the whole delegation unbonds (no pending cap: the
        // delegator did not ask for it).
        let shares = d.shares;
        v.shares = v.shares.saturating_sub(shares);
        v.tokens = v.tokens.saturating_sub(held);
        if v.shares == 0 {
            let crumbs = core::mem::take(&mut v.tokens);
            let _ = pay(&bonded_account(), &community_account(), crumbs);
        }
        remove_delegation(validator, delegator);
        let _ = bump_pending(delegator, validator, false);
        let _ = start_unbonding(delegator, validator, held);
        store_or_remove(validator, &v);
        return;
    }
    let _ = settle(validator, delegator, &mut v, &mut d);
    if validator == delegator {
        let _ = pay_commission(validator, &mut v);
    }
    d.next_payout = now_block().saturating_add(params().delegator_income_period.max(1));
    push(
        QUEUE_PAYOUT,
        u64::from(d.next_payout),
        Task::Payout {
            validator: *validator,
            delegator: *delegator,
        },
    );
    Delegations::insert(validator, delegator, &d);
    Validators::insert(validator, &v);
}

/// Objects each account pays an owner reserve for: its validator and each
/// delegation.
pub fn owned_objects(out: &mut BTreeMap<AccountId, u32>) {
    for (owner, _) in Validators::iter() {
        let e = out.entry(owner).or_insert(0);
        *e = e.saturating_add(1);
    }
    for (_, delegator, _) in Delegations::iter() {
        let e = out.entry(delegator).or_insert(0);
        *e = e.saturating_add(1);
    }
}

/// Invariants: shares add up, the bonded account holds exactly the bonded
/// and unbonding tokens, the reward account at least what is owed, the
/// minted total matches the phases, the set matches the validators.
pub fn try_state() -> Result<(), &'static str> {
    let validators = Validators::iter();
    if validators.len() != ValidatorCount::get().unwrap_or(0) as usize {
        return Err("ValidatorCount differs from the number of validators");
    }
    let mut bonded: Balance = 0;
    let mut owed_total: Balance = 0;
    for (owner, v) in &validators {
        let delegations = Delegations::iter_prefix(owner);
        let mut shares: Balance = 0;
        for (_, d) in &delegations {
            if d.shares == 0 {
                return Err("a delegation without shares");
            }
            shares = shares.checked_add(d.shares).ok_or("shares overflow")?;
            owed_total = owed_total.saturating_add(owed(v, d));
        }
        if shares != v.shares {
            return Err("a validator's shares differ from its delegations'");
        }
        if v.shares == 0 && v.tokens != 0 {
            return Err("a validator holds tokens without shares");
        }
        if KeyOwner::get(&v.key.account_id()) != Some(*owner) {
            return Err("a validator's key is not indexed to its owner");
        }
        if v.description.len() > MAX_DESCRIPTION as usize {
            return Err("a description over MAX_DESCRIPTION");
        }
        if v.commission.rate > v.commission.max_rate || v.commission.max_rate > BILLION {
            return Err("an inconsistent commission");
        }
        bonded = bonded.checked_add(v.tokens).ok_or("bonded overflow")?;
        owed_total = owed_total.saturating_add(v.commission_due);
    }
    for (_, _, u) in Unbondings::iter() {
        bonded = bonded.checked_add(u.tokens).ok_or("bonded overflow")?;
    }
    if bonded != pallet_tokens::free_balance(&bonded_account()) {
        return Err("the bonded account differs from bonded and unbonding tokens");
    }
    if pallet_tokens::free_balance(&reward_account()) < owed_total {
        return Err("the reward account holds less than the rewards owed");
    }
    if KeyOwner::iter().len() != validators.len() {
        return Err("a consensus key indexed to no validator");
    }
    let mut pending: BTreeMap<AccountId, u32> = BTreeMap::new();
    for (_, _, u) in Unbondings::iter() {
        let n = pending.entry(u.delegator).or_insert(0);
        *n = n.saturating_add(1);
    }
    for (_, _, r) in Redelegations::iter() {
        let n = pending.entry(r.delegator).or_insert(0);
        *n = n.saturating_add(1);
    }
    let stored: BTreeMap<AccountId, u32> = Pending::iter().into_iter().collect();
    if stored != pending {
        return Err("pending counts differ from unbondings and redelegations");
    }
    let mut leaving: BTreeMap<AccountId, u32> = BTreeMap::new();
    for (v, _, _) in Unbondings::iter() {
        let n = leaving.entry(v).or_insert(0);
        *n = n.saturating_add(1);
    }
    for (v, _, _) in Redelegations::iter() {
        let n = leaving.entry(v).or_insert(0);
        *n = n.saturating_add(1);
    }
    let stored: BTreeMap<AccountId, u32> = PendingOf::iter().into_iter().collect();
    if stored != leaving {
        return Err("per-validator pending counts differ from unbondings and redelegations");
    }
    let mut delegators: BTreeMap<AccountId, u32> = BTreeMap::new();
    for (v, _, _) in Delegations::iter() {
        let n = delegators.entry(v).or_insert(0);
        *n = n.saturating_add(1);
    }
    let stored: BTreeMap<AccountId, u32> = DelegatorCount::iter().into_iter().collect();
    if stored != delegators {
        return Err("delegator counts differ from the delegations");
    }
    let set = crate::CurrentSet::get().unwrap_or_default();
    // Mid-block a member may have left (the election at the block's end
    // replaces the set), and with no active validator the last set stays.
    let electing = SetDirty::get().unwrap_or(false)
        || !validators.iter().any(|(_, v)| v.status == Status::Active);
    for m in set.iter().filter(|_| !electing) {
        match Validators::get(&m.owner) {
            Some(v) if v.status == Status::Active && v.key == m.public => {}
            _ => return Err("a set member is not an active validator with its key"),
        }
    }
    crate::block::try_state()
}
