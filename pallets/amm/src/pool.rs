//! The pool operations behind the calls and the runtime API. Every
//! operation checks before it moves anything and runs in one storage
//! transaction, so a refused call writes nothing; every amount rounds in
//! the pool's favour (see [`crate::formulas`]).

use crate::formulas as f;
use crate::math::{mul_div, sqrt_mul, Round, U256};
use crate::{
    AuctionSlot, DepositMode, Error, Event, Pair, Pool, PoolInfo, PoolOf, Pools, VoteSlot,
    WithdrawMode, MAX_AMOUNT, MAX_HOPS, MAX_TRADING_FEE, MAX_VOTE_SLOTS, PALLET_INDEX,
};
use alloc::vec::Vec;
use codec::Encode;
use pallet_tokens::pseudo;
use qstack_core::{AccountId, Balance};
use qstack_runtime_primitives::{AssetId, DispatchError, TokenCode};

fn ensure(cond: bool, e: Error) -> Result<(), Error> {
    if cond {
        Ok(())
    } else {
        Err(e)
    }
}

fn deposit_event(e: Event) {
    pallet_system::deposit_event_encoded(PALLET_INDEX, &e.encode());
}

use qstack_support::transactional;

/// The canonical pair of two assets, and whether `a` is its second asset.
fn order(a: AssetId, b: AssetId) -> Result<(Pair, bool), Error> {
    ensure(a != b, Error::SameAsset)?;
    Ok(if a < b {
        ((a, b), false)
    } else {
        ((b, a), true)
    })
}

/// The canonical (sorted) pair of two different assets: A/B is B/A.
pub fn pair_key(a: AssetId, b: AssetId) -> Result<Pair, Error> {
    order(a, b).map(|(p, _)| p)
}

/// A pair's pool account: a hash no key pair derives, so nothing can sign
/// for it.
pub fn pool_account(pair: &Pair) -> AccountId {
    let mut data = b"qstack/amm/pool".to_vec();
    pair.encode_to(&mut data);
    AccountId(qstack_io::hashing::blake2_256(&data))
}

/// The LP token's code: a 160-bit code starting with 0x03 (the XRP
/// Ledger's LP token prefix), then 19 bytes of the pool account's hash.
fn lp_code(account: &AccountId) -> TokenCode {
    let mut data = b"qstack/amm/lp".to_vec();
    data.extend_from_slice(&account.0);
    let h = qstack_io::hashing::blake2_256(&data);
    let mut code = [0u8; 20];
    code[0] = pallet_tokens::pseudo::BACKED_CODE_PREFIX;
    for (d, s) in code.iter_mut().skip(1).zip(h.iter()) {
        *d = *s;
    }
    TokenCode::Hex(code)
}

/// Decimals of an asset (native: 12, as the chain's QS).
fn decimals(asset: &AssetId) -> u8 {
    match asset {
        AssetId::Native => 12,
        AssetId::Issued { issuer, code } => {
            pallet_tokens::token(issuer, code).map_or(0, |t| t.decimals)
        }
    }
}

fn ensure_exists(asset: &AssetId) -> Result<(), Error> {
    match asset {
        AssetId::Native => Ok(()),
        AssetId::Issued { issuer, code } => ensure(
            pallet_tokens::token(issuer, code).is_some(),
            Error::UnknownAsset,
        ),
    }
}

/// LP tokens in circulation.
fn lp_supply(pool: &Pool) -> Balance {
    pallet_tokens::token(&pool.account, &pool.lp_code).map_or(0, |t| t.supply)
}

/// `who`'s free LP tokens of `pool`.
fn lp_of(pool: &Pool, who: &AccountId) -> Balance {
    pallet_tokens::balance(&pool.lp_asset(), who).free
}

/// Both assets can move for `who` and for the pool (not paused, not
/// globally frozen, nothing of them frozen for either).
fn ensure_usable(pair: &Pair, who: &AccountId, pool: &AccountId) -> Result<(), DispatchError> {
    for asset in [&pair.0, &pair.1] {
        pseudo::usable_by(asset, who)?;
        pseudo::usable_by(asset, pool)?;
    }
    Ok(())
}

/// The trading fee `who` pays in `pool`: a tenth of the fee while it
/// holds the auction slot.
fn fee_for(pool: &Pool, who: Option<&AccountId>, now: u64) -> u32 {
    match (&pool.slot, who) {
        (Some(s), Some(w)) if s.owner == *w && now < s.expires => {
            pool.fee.checked_div(f::SLOT_DISCOUNT).unwrap_or(pool.fee)
        }
        _ => pool.fee,
    }
}

/// Advances the price accumulators to `now` (before reserves change):
/// `price_i += (r_other / r_i as 64.64) · Δt`, wrapping.
fn advance_oracle(pool: &mut Pool, now: u64) {
    let dt = now.saturating_sub(pool.last_update);
    if dt > 0 {
        let [r0, r1] = pool.reserves;
        let one: u128 = 1 << 64;
        let prices = [
            mul_div(r1, one, r0, Round::Down).unwrap_or(u128::MAX),
            mul_div(r0, one, r1, Round::Down).unwrap_or(u128::MAX),
        ];
        for (acc, p) in pool.price_cumulative.iter_mut().zip(prices) {
            let (_, lo) = U256::mul(p, u128::from(dt)).halves();
            *acc = acc.wrapping_add(lo);
        }
    }
    pool.last_update = pool.last_update.max(now);
}

fn now() -> u64 {
    pallet_system::timestamp::now()
}

/// Puts `[x, y]` (as the call names the assets) in canonical order.
fn canon(flipped: bool, x: Balance, y: Balance) -> [Balance; 2] {
    if flipped {
        [y, x]
    } else {
        [x, y]
    }
}

/// Which side of the pool `asset` is.
fn side(pair: &Pair, asset: &AssetId) -> Result<usize, Error> {
    if *asset == pair.0 {
        Ok(0)
    } else if *asset == pair.1 {
        Ok(1)
    } else {
        Err(Error::NotInPool)
    }
}

fn get(i: usize, v: &[Balance; 2]) -> Balance {
    v.get(i).copied().unwrap_or(0)
}

/// `[amount, 0]` or `[0, amount]`.
fn one_side(i: usize, amount: Balance) -> [Balance; 2] {
    if i == 0 {
        [amount, 0]
    } else {
        [0, amount]
    }
}

fn assets(pair: &Pair) -> [AssetId; 2] {
    [pair.0, pair.1]
}

fn load(a: AssetId, b: AssetId) -> Result<(Pair, bool, Pool), Error> {
    let (pair, flipped) = order(a, b)?;
    let pool = Pools::get(&pair).ok_or(Error::NoPool)?;
    Ok((pair, flipped, pool))
}

fn within_max(v: Balance) -> Result<Balance, Error> {
    ensure(v <= MAX_AMOUNT, Error::Overflow).map(|()| v)
}

/// Creates the pool of `a` and `b`.
pub(crate) fn create(
    who: &AccountId,
    a: AssetId,
    b: AssetId,
    amount_a: Balance,
    amount_b: Balance,
    fee: u32,
) -> Result<(), DispatchError> {
    let (pair, flipped) = order(a, b)?;
    ensure(fee <= MAX_TRADING_FEE, Error::BadFee)?;
    ensure(amount_a > 0 && amount_b > 0, Error::ZeroAmount)?;
    within_max(amount_a)?;
    within_max(amount_b)?;
    ensure_exists(&a)?;
    ensure_exists(&b)?;
    ensure(!Pools::contains_key(&pair), Error::PoolExists)?;
    let account = pool_account(&pair);
    ensure_usable(&pair, who, &account)?;
    let amounts = canon(flipped, amount_a, amount_b);
    let lp = sqrt_mul(amounts[0], amounts[1]);
    ensure(lp > 0, Error::ZeroAmount)?;
    transactional(|| {
        if !pseudo::is_pseudo(&account) {
            pseudo::register(&account, &[pair.0, pair.1])?;
        }
        let code = lp_code(&account);
        if pallet_tokens::token(&account, &code).is_none() {
            let d = decimals(&pair.0)
                .saturating_add(decimals(&pair.1))
                .checked_div(2)
                .unwrap_or(0);
            pseudo::issue_backed(&account, code, b"AMM LP token".to_vec(), b"LPT".to_vec(), d)?;
        }
        pseudo::pay(&pair.0, who, &account, amounts[0])?;
        pseudo::pay(&pair.1, who, &account, amounts[1])?;
        pseudo::mint_backed(&account, &code, who, lp)?;
        pallet_system::owned::acquire(who, 1);
        Pools::insert(
            &pair,
            &Pool {
                account,
                lp_code: code,
                reserves: amounts,
                fee,
                creator: *who,
                votes: alloc::vec![VoteSlot { account: *who, fee }],
                slot: None,
                price_cumulative: [0, 0],
                last_update: now(),
            },
        );
        PoolOf::insert(&account, &pair);
        deposit_event(Event::PoolCreated {
            assets: assets(&pair),
            account,
            creator: *who,
            amounts,
            lp,
            fee,
        });
        Ok(())
    })
}

/// What a deposit takes (canonical order) and mints.
fn plan_deposit(
    pool: &Pool,
    pair: &Pair,
    flipped: bool,
    who: &AccountId,
    mode: DepositMode,
) -> Result<([Balance; 2], Balance), Error> {
    let supply = lp_supply(pool);
    let r = pool.reserves;
    let fee = fee_for(pool, Some(who), now());
    let share =
        |lp: Balance, i: usize| mul_div(lp, get(i, &r), supply, Round::Up).ok_or(Error::Overflow);
    let (amounts, lp) = match mode {
        DepositMode::Proportional {
            max_a,
            max_b,
            min_lp,
        } => {
            let max = canon(flipped, max_a, max_b);
            ensure(max[0] > 0 && max[1] > 0, Error::ZeroAmount)?;
            let by = |i: usize| {
                mul_div(get(i, &max), supply, get(i, &r), Round::Down).ok_or(Error::Overflow)
            };
            let lp = by(0)?.min(by(1)?);
            ensure(lp > 0, Error::ZeroAmount)?;
            ensure(lp >= min_lp, Error::Slippage)?;
            let need = [share(lp, 0)?, share(lp, 1)?];
            ensure(need[0] <= max[0] && need[1] <= max[1], Error::Slippage)?;
            (need, lp)
        }
        DepositMode::LpOut { lp, max_a, max_b } => {
            ensure(lp > 0, Error::ZeroAmount)?;
            let max = canon(flipped, max_a, max_b);
            let need = [share(lp, 0)?, share(lp, 1)?];
            ensure(need[0] <= max[0] && need[1] <= max[1], Error::Slippage)?;
            (need, lp)
        }
        DepositMode::Single {
            asset,
            amount,
            min_lp,
        } => {
            let i = side(pair, &asset)?;
            ensure(amount > 0, Error::ZeroAmount)?;
            within_max(amount)?;
            let lp =
                f::lp_for_single_deposit(get(i, &r), amount, supply, fee).ok_or(Error::Overflow)?;
            ensure(lp > 0, Error::ZeroAmount)?;
            ensure(lp >= min_lp, Error::Slippage)?;
            (one_side(i, amount), lp)
        }
        DepositMode::SingleLpOut { asset, lp, max_in } => {
            let i = side(pair, &asset)?;
            ensure(lp > 0, Error::ZeroAmount)?;
            let amount =
                f::single_deposit_for_lp(get(i, &r), lp, supply, fee).ok_or(Error::Overflow)?;
            ensure(amount <= max_in, Error::Slippage)?;
            (one_side(i, amount), lp)
        }
    };
    for (x, y) in r.iter().zip(amounts.iter()) {
        within_max(x.checked_add(*y).ok_or(Error::Overflow)?)?;
    }
    Ok((amounts, lp))
}

/// Adds liquidity.
pub(crate) fn deposit(
    who: &AccountId,
    a: AssetId,
    b: AssetId,
    mode: DepositMode,
) -> Result<(), DispatchError> {
    let (pair, flipped, mut pool) = load(a, b)?;
    ensure_usable(&pair, who, &pool.account)?;
    let (amounts, lp) = plan_deposit(&pool, &pair, flipped, who, mode)?;
    transactional(|| {
        advance_oracle(&mut pool, now());
        for (asset, amount) in assets(&pair).iter().zip(amounts) {
            if amount > 0 {
                pseudo::pay(asset, who, &pool.account, amount)?;
            }
        }
        pseudo::mint_backed(&pool.account, &pool.lp_code, who, lp)?;
        for (x, y) in pool.reserves.iter_mut().zip(amounts) {
            *x = x.checked_add(y).ok_or(Error::Overflow)?;
        }
        Pools::insert(&pair, &pool);
        deposit_event(Event::Deposited {
            assets: assets(&pair),
            who: *who,
            amounts,
            lp,
        });
        Ok(())
    })
}

/// What a withdrawal pays (canonical order) and burns.
fn plan_withdraw(
    pool: &Pool,
    pair: &Pair,
    flipped: bool,
    who: &AccountId,
    mode: WithdrawMode,
) -> Result<([Balance; 2], Balance), Error> {
    let supply = lp_supply(pool);
    let held = lp_of(pool, who);
    let r = pool.reserves;
    let fee = fee_for(pool, Some(who), now());
    let proportional = |lp: Balance, min: [Balance; 2]| -> Result<([Balance; 2], Balance), Error> {
        ensure(lp > 0, Error::ZeroAmount)?;
        ensure(lp <= held, Error::InsufficientLp)?;
        let out = if lp == supply {
            r
        } else {
            let part =
                |i: usize| mul_div(lp, get(i, &r), supply, Round::Down).ok_or(Error::Overflow);
            [part(0)?, part(1)?]
        };
        ensure(out[0] > 0 || out[1] > 0, Error::ZeroAmount)?;
        ensure(out[0] >= min[0] && out[1] >= min[1], Error::Slippage)?;
        Ok((out, lp))
    };
    match mode {
        WithdrawMode::Proportional { lp, min_a, min_b } => {
            proportional(lp, canon(flipped, min_a, min_b))
        }
        WithdrawMode::All { min_a, min_b } => {
            ensure(held > 0, Error::InsufficientLp)?;
            proportional(held, canon(flipped, min_a, min_b))
        }
        WithdrawMode::Single {
            asset,
            amount,
            max_lp,
        } => {
            let i = side(pair, &asset)?;
            ensure(amount > 0, Error::ZeroAmount)?;
            let lp = f::lp_for_single_withdraw(get(i, &r), amount, supply, fee)
                .ok_or(Error::InsufficientLiquidity)?;
            // One asset alone may not take the last LP token (that would
            // leave the other side without owners).
            ensure(lp < supply, Error::InsufficientLiquidity)?;
            ensure(lp > 0, Error::ZeroAmount)?;
            ensure(lp <= max_lp, Error::Slippage)?;
            ensure(lp <= held, Error::InsufficientLp)?;
            Ok((one_side(i, amount), lp))
        }
        WithdrawMode::SingleLpIn { asset, lp, min_out } => {
            let i = side(pair, &asset)?;
            ensure(lp > 0, Error::ZeroAmount)?;
            ensure(lp < supply, Error::InsufficientLiquidity)?;
            ensure(lp <= held, Error::InsufficientLp)?;
            let amount = f::single_withdraw_for_lp(get(i, &r), lp, supply, fee)
                .ok_or(Error::InsufficientLiquidity)?;
            ensure(amount > 0, Error::ZeroAmount)?;
            ensure(amount < get(i, &r), Error::InsufficientLiquidity)?;
            ensure(amount >= min_out, Error::Slippage)?;
            Ok((one_side(i, amount), lp))
        }
    }
}

/// Removes liquidity; the last LP tokens delete the pool.
pub(crate) fn withdraw(
    who: &AccountId,
    a: AssetId,
    b: AssetId,
    mode: WithdrawMode,
) -> Result<(), DispatchError> {
    let (pair, flipped, mut pool) = load(a, b)?;
    ensure_usable(&pair, who, &pool.account)?;
    let (amounts, lp) = plan_withdraw(&pool, &pair, flipped, who, mode)?;
    let last = lp == lp_supply(&pool);
    transactional(|| {
        advance_oracle(&mut pool, now());
        pseudo::burn_backed(&pool.account, &pool.lp_code, who, lp)?;
        for (asset, amount) in assets(&pair).iter().zip(amounts) {
            if amount > 0 {
                pseudo::pay(asset, &pool.account, who, amount)?;
            }
        }
        for (x, y) in pool.reserves.iter_mut().zip(amounts) {
            *x = x.checked_sub(y).ok_or(Error::Overflow)?;
        }
        deposit_event(Event::Withdrawn {
            assets: assets(&pair),
            who: *who,
            amounts,
            lp,
        });
        if last {
            Pools::remove(&pair);
            PoolOf::remove(&pool.account);
            pallet_system::owned::release(&pool.creator, 1);
            deposit_event(Event::PoolDeleted {
                assets: assets(&pair),
            });
        } else {
            Pools::insert(&pair, &pool);
        }
        Ok(())
    })
}

/// One hop of a planned swap.
struct Hop {
    pair: Pair,
    pool: Pool,
    /// The side of the pool the sold asset is on.
    side_in: usize,
    amount_in: Balance,
    amount_out: Balance,
    fee: u32,
}

/// The pairs a path passes through, each with the side its input is on.
fn path_pairs(path: &[AssetId]) -> Result<Vec<(Pair, usize)>, Error> {
    let hops = path.len().saturating_sub(1);
    ensure((1..=MAX_HOPS as usize).contains(&hops), Error::BadPath)?;
    let mut out: Vec<(Pair, usize)> = Vec::with_capacity(hops);
    for w in path.windows(2) {
        let [x, y] = w else {
            return Err(Error::BadPath);
        };
        let (pair, flipped) = order(*x, *y).map_err(|_| Error::BadPath)?;
        ensure(out.iter().all(|(p, _)| *p != pair), Error::BadPath)?;
        out.push((pair, usize::from(flipped)));
    }
    Ok(out)
}

/// Plans a swap along `path`: for `exact_in`, selling `amount` of the
/// first asset; otherwise buying `amount` of the last. `who` (if known)
/// pays its own fee (a slot holder's is lower).
fn plan(
    who: Option<&AccountId>,
    path: &[AssetId],
    amount: Balance,
    exact_in: bool,
) -> Result<Vec<Hop>, Error> {
    ensure(amount > 0, Error::ZeroAmount)?;
    within_max(amount)?;
    let at = now();
    let mut hops = Vec::new();
    for (pair, side_in) in path_pairs(path)? {
        let pool = Pools::get(&pair).ok_or(Error::NoPool)?;
        let fee = fee_for(&pool, who, at);
        hops.push(Hop {
            pair,
            pool,
            side_in,
            amount_in: 0,
            amount_out: 0,
            fee,
        });
    }
    let reserves = |h: &Hop| {
        let r_in = get(h.side_in, &h.pool.reserves);
        let r_out = get(h.side_in ^ 1, &h.pool.reserves);
        (r_in, r_out)
    };
    let mut amt = amount;
    if exact_in {
        for h in hops.iter_mut() {
            let (r_in, r_out) = reserves(h);
            let out = f::swap_out(r_in, r_out, amt, h.fee).ok_or(Error::Overflow)?;
            ensure(out > 0, Error::ZeroAmount)?;
            h.amount_in = amt;
            h.amount_out = out;
            amt = out;
        }
    } else {
        for h in hops.iter_mut().rev() {
            let (r_in, r_out) = reserves(h);
            let need = f::swap_in(r_in, r_out, amt, h.fee).ok_or(Error::InsufficientLiquidity)?;
            h.amount_in = need;
            h.amount_out = amt;
            amt = need;
        }
    }
    for h in &hops {
        let (r_in, _) = reserves(h);
        within_max(r_in.checked_add(h.amount_in).ok_or(Error::Overflow)?)?;
    }
    Ok(hops)
}

fn first_in(hops: &[Hop]) -> Balance {
    hops.first().map_or(0, |h| h.amount_in)
}

fn last_out(hops: &[Hop]) -> Balance {
    hops.last().map_or(0, |h| h.amount_out)
}

/// What a swap would do right now, exactly as the call computes it
/// (fees and rounding included): for `exact_in`, what selling `amount` of
/// `path[0]` buys of the last asset; otherwise what buying `amount` of the
/// last asset costs of `path[0]`. `who` pays its own fee (a slot holder's
/// is lower); `None` quotes the pool's fee.
pub fn quote(
    path: &[AssetId],
    amount: Balance,
    exact_in: bool,
    who: Option<AccountId>,
) -> Result<Balance, DispatchError> {
    let hops = plan(who.as_ref(), path, amount, exact_in)?;
    Ok(if exact_in {
        last_out(&hops)
    } else {
        first_in(&hops)
    })
}

/// Carries out a planned swap: the first pool is paid by `who`, each next
/// pool by the one before, `who` by the last.
fn execute(who: &AccountId, hops: Vec<Hop>) -> Result<(), DispatchError> {
    for h in &hops {
        ensure_usable_pool(&h.pair, &h.pool.account)?;
    }
    let at = now();
    let n = hops.len();
    transactional(|| {
        let mut payer = *who;
        for (k, mut h) in hops.into_iter().enumerate() {
            let (asset_in, asset_out) = if h.side_in == 0 {
                (h.pair.0, h.pair.1)
            } else {
                (h.pair.1, h.pair.0)
            };
            pseudo::pay(&asset_in, &payer, &h.pool.account, h.amount_in)?;
            advance_oracle(&mut h.pool, at);
            let [r0, r1] = h.pool.reserves;
            let (r_in, r_out) = if h.side_in == 0 { (r0, r1) } else { (r1, r0) };
            let r_in = r_in.checked_add(h.amount_in).ok_or(Error::Overflow)?;
            let r_out = r_out
                .checked_sub(h.amount_out)
                .ok_or(Error::InsufficientLiquidity)?;
            h.pool.reserves = if h.side_in == 0 {
                [r_in, r_out]
            } else {
                [r_out, r_in]
            };
            Pools::insert(&h.pair, &h.pool);
            deposit_event(Event::Swapped {
                who: *who,
                asset_in,
                asset_out,
                amount_in: h.amount_in,
                amount_out: h.amount_out,
                fee: h.fee,
            });
            payer = h.pool.account;
            if k.saturating_add(1) == n {
                // The last pool pays the signer.
                pseudo::pay(&asset_out, &payer, who, h.amount_out)?;
            }
        }
        Ok(())
    })
}

fn ensure_usable_pool(pair: &Pair, pool: &AccountId) -> Result<(), DispatchError> {
    for asset in [&pair.0, &pair.1] {
        pseudo::usable_by(asset, pool)?;
    }
    Ok(())
}

/// The signer can move what it sells and what it buys (a freeze, pause
/// or global freeze is checked before anything is priced).
fn ensure_ends_usable(who: &AccountId, path: &[AssetId]) -> Result<(), DispatchError> {
    for end in [path.first(), path.last()].into_iter().flatten() {
        pseudo::usable_by(end, who)?;
    }
    Ok(())
}

/// Sells exactly `amount_in` along `path`; returns what it bought.
pub(crate) fn swap_exact_in(
    who: &AccountId,
    path: &[AssetId],
    amount_in: Balance,
    min_out: Balance,
) -> Result<Balance, DispatchError> {
    ensure_ends_usable(who, path)?;
    let hops = plan(Some(who), path, amount_in, true)?;
    let out = last_out(&hops);
    ensure(out >= min_out, Error::Slippage)?;
    execute(who, hops)?;
    Ok(out)
}

/// Buys exactly `amount_out` along `path`; returns what it paid.
pub(crate) fn swap_exact_out(
    who: &AccountId,
    path: &[AssetId],
    amount_out: Balance,
    max_in: Balance,
) -> Result<Balance, DispatchError> {
    ensure_ends_usable(who, path)?;
    let hops = plan(Some(who), path, amount_out, false)?;
    let paid = first_in(&hops);
    ensure(paid <= max_in, Error::Slippage)?;
    execute(who, hops)?;
    Ok(paid)
}

/// Records `who`'s fee vote and recomputes the fee from every slot's
/// current LP holding. With the slots full, `who` displaces the smallest
/// holder (ties: the lower fee vote, then the lower account id, go first)
/// only if it holds strictly more.
pub(crate) fn vote(who: &AccountId, a: AssetId, b: AssetId, fee: u32) -> Result<(), DispatchError> {
    ensure(fee <= MAX_TRADING_FEE, Error::BadFee)?;
    let (pair, _, mut pool) = load(a, b)?;
    let mine = lp_of(&pool, who);
    ensure(mine > 0, Error::InsufficientLp)?;
    // Current weights; holders who sold all their LP tokens drop out.
    let mut slots: Vec<(VoteSlot, Balance)> = pool
        .votes
        .iter()
        .filter(|v| v.account != *who)
        .map(|v| (*v, lp_of(&pool, &v.account)))
        .filter(|(_, w)| *w > 0)
        .collect();
    let new = (VoteSlot { account: *who, fee }, mine);
    if slots.len() < MAX_VOTE_SLOTS as usize {
        slots.push(new);
    } else {
        let smallest = slots
            .iter()
            .enumerate()
            .min_by(|(_, (x, wx)), (_, (y, wy))| {
                wx.cmp(wy)
                    .then(x.fee.cmp(&y.fee))
                    .then(x.account.cmp(&y.account))
            })
            .map(|(i, (_, w))| (i, *w));
        match smallest {
            Some((i, w)) if mine > w => {
                if let Some(s) = slots.get_mut(i) {
                    *s = new;
                }
            }
            _ => return Err(Error::VoteNotAdmitted.into()),
        }
    }
    let weights: Vec<(Balance, u32)> = slots.iter().map(|(v, w)| (*w, v.fee)).collect();
    pool.fee = f::weighted_fee(&weights).ok_or(Error::Overflow)?;
    pool.votes = slots.into_iter().map(|(v, _)| v).collect();
    Pools::insert(&pair, &pool);
    deposit_event(Event::FeeVoted {
        assets: assets(&pair),
        who: *who,
        vote: fee,
        fee: pool.fee,
    });
    Ok(())
}

/// Bids LP tokens for the auction slot: the price is the least slot
/// price, or (while another holds it) the outbid price of its interval;
/// the previous holder gets back the unused part of what it paid (burned
/// instead if it cannot receive it), the rest is burned.
pub(crate) fn bid(
    who: &AccountId,
    a: AssetId,
    b: AssetId,
    min_price: Option<Balance>,
    max_price: Option<Balance>,
) -> Result<(), DispatchError> {
    let (pair, _, mut pool) = load(a, b)?;
    // LP tokens are frozen for a holder whose pool assets are.
    ensure_usable(&pair, who, &pool.account)?;
    let supply = lp_supply(&pool);
    let at = now();
    let floor = f::min_slot_price(supply, pool.fee).ok_or(Error::Overflow)?;
    let (needed, refund) = match pool.slot {
        Some(s) if at < s.expires => {
            let start = s.expires.saturating_sub(f::SLOT_MILLIS);
            let elapsed = u128::from(at.saturating_sub(start));
            let interval = mul_div(
                elapsed,
                u128::from(f::SLOT_INTERVALS),
                u128::from(f::SLOT_MILLIS),
                Round::Down,
            )
            .and_then(|i| u64::try_from(i).ok())
            .ok_or(Error::Overflow)?;
            let price = f::outbid_price(s.price, interval, floor).ok_or(Error::Overflow)?;
            let back = f::slot_refund(s.price, interval).unwrap_or(0);
            (price, Some((s.owner, back)))
        }
        _ => (floor, None),
    };
    let price = needed.max(min_price.unwrap_or(0));
    if let Some(max) = max_price {
        ensure(price <= max, Error::Slippage)?;
    }
    ensure(price <= lp_of(&pool, who), Error::InsufficientLp)?;
    // Burning the whole supply would leave reserves without owners.
    ensure(price < supply, Error::InsufficientLp)?;
    let lp = pool.lp_asset();
    transactional(|| {
        let mut refunded = 0;
        match refund {
            // Re-bidding for one's own slot: the unused part stays with
            // the bidder, the rest is burned.
            Some((prev, back)) if prev == *who => refunded = back,
            Some((prev, back)) if back > 0 => {
                // A holder who cannot receive its refund (a deposit rule)
                // loses it to the burn rather than blocking the auction.
                qstack_io::storage::start_transaction();
                if pallet_tokens::transfer(&lp, who, &prev, back, None).is_ok() {
                    qstack_io::storage::commit_transaction();
                    refunded = back;
                } else {
                    qstack_io::storage::rollback_transaction();
                }
            }
            _ => {}
        }
        let burn = price.checked_sub(refunded).ok_or(Error::Overflow)?;
        if burn > 0 {
            pseudo::burn_backed(&pool.account, &pool.lp_code, who, burn)?;
        }
        let expires = at.saturating_add(f::SLOT_MILLIS);
        pool.slot = Some(AuctionSlot {
            owner: *who,
            expires,
            price,
        });
        Pools::insert(&pair, &pool);
        deposit_event(Event::SlotBought {
            assets: assets(&pair),
            who: *who,
            price,
            refund: refunded,
            expires,
        });
        Ok(())
    })
}

/// A pool as the API shows it.
pub fn pool_info(a: AssetId, b: AssetId) -> Option<PoolInfo> {
    let pair = pair_key(a, b).ok()?;
    let pool = Pools::get(&pair)?;
    Some(PoolInfo {
        assets: assets(&pair),
        lp_supply: lp_supply(&pool),
        pool,
    })
}

/// Every pool, in key order.
pub fn pools() -> Vec<PoolInfo> {
    Pools::iter()
        .into_iter()
        .map(|(pair, pool)| PoolInfo {
            assets: assets(&pair),
            lp_supply: lp_supply(&pool),
            pool,
        })
        .collect()
}

/// Invariants: the reverse index matches; every pool is of two sorted,
/// distinct assets, holds exactly its recorded reserves (free + frozen), has
/// LP tokens in circulation but never more than `√(r0·r1)`, a fee within
/// bounds, at most eight distinct votes, and a pseudo-account.
pub(crate) fn try_state() -> Result<(), &'static str> {
    let pools = Pools::iter();
    if PoolOf::iter().len() != pools.len() {
        return Err("Amm.PoolOf does not index every pool exactly once");
    }
    for (pair, pool) in pools {
        if pair.0 >= pair.1 {
            return Err("a pool's pair is not sorted and distinct");
        }
        if PoolOf::get(&pool.account) != Some(pair) || pool.account != pool_account(&pair) {
            return Err("a pool's account does not match its pair");
        }
        if !pseudo::is_pseudo(&pool.account) {
            return Err("a pool's account is not a pseudo-account");
        }
        for (asset, r) in assets(&pair).iter().zip(pool.reserves) {
            let h = pallet_tokens::balance(asset, &pool.account);
            if h.free.checked_add(h.frozen) != Some(r) {
                return Err("a pool's balance differs from its recorded reserve");
            }
            if r == 0 || r > MAX_AMOUNT {
                return Err("a pool's reserve is zero or above MaxAmount");
            }
        }
        let supply = lp_supply(&pool);
        let [r0, r1] = pool.reserves;
        if supply == 0 || supply > sqrt_mul(r0, r1) {
            return Err("a pool's LP supply is zero or above √(r0·r1)");
        }
        if pool.fee > MAX_TRADING_FEE {
            return Err("a pool's fee is above MaxTradingFee");
        }
        if pool.votes.len() > MAX_VOTE_SLOTS as usize {
            return Err("a pool has more than MaxVoteSlots votes");
        }
        for (i, v) in pool.votes.iter().enumerate() {
            if pool
                .votes
                .iter()
                .skip(i.saturating_add(1))
                .any(|w| w.account == v.account)
            {
                return Err("a pool has two votes of one account");
            }
            if v.fee > MAX_TRADING_FEE {
                return Err("a fee vote is above MaxTradingFee");
            }
        }
    }
    Ok(())
}
