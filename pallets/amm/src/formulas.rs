//! The pool formulas, as pure functions of balances (no storage), so that
//! the calls, the `amm_quote` API and the table tests share one definition.
//! Every rounding favours the pool: amounts paid out round down, amounts
//! taken in and LP tokens burned round up, LP tokens minted round down.
//!
//! `fee` is in units of 1/[`FEE_DENOMINATOR`] (1,000 = 1%), as on the XRP
//! Ledger. Pools weigh both assets equally (XLS-30's W = ½), so the
//! single-asset formulas charge the fee on the half of the amount that an
//! equivalent "swap half, deposit both" would trade (XLS-30 equations 3
//! and 7 in their original form):
//!
//! - deposit `b` of one asset (balance `B`, LP supply `T`):
//!   `t = T·(√(1 + b·(1 − f/2)/B) − 1)`;
//! - withdraw `b` of one asset: `t = T·(1 − √(1 − b/((1 − f/2)·B)))`.

use crate::math::{mul_div, Round, U256};

/// The fee unit: a fee of `FEE_DENOMINATOR` would be 100%.
pub const FEE_DENOMINATOR: u128 = 100_000;

/// `amount · (1 − fee/2)`, rounded down (the part of a single-asset
/// deposit that counts after the fee on its implied swap).
fn after_half_fee(amount: u128, fee: u32) -> Option<u128> {
    let den = FEE_DENOMINATOR.checked_mul(2)?;
    mul_div(amount, den.checked_sub(u128::from(fee))?, den, Round::Down)
}

/// `amount / (1 − fee/2)`, rounded up (what must leave the pool so that
/// `amount` reaches the withdrawer after the fee).
fn before_half_fee(amount: u128, fee: u32) -> Option<u128> {
    let den = FEE_DENOMINATOR.checked_mul(2)?;
    mul_div(amount, den, den.checked_sub(u128::from(fee))?, Round::Up)
}

/// Uniswap V2's `getAmountOut` with an exact division: what `amount_in`
/// buys from a pool holding `r_in` and `r_out`, after the fee, rounded down.
pub fn swap_out(r_in: u128, r_out: u128, amount_in: u128, fee: u32) -> Option<u128> {
    let net = amount_in.checked_mul(FEE_DENOMINATOR.checked_sub(u128::from(fee))?)?;
    let den = r_in.checked_mul(FEE_DENOMINATOR)?.checked_add(net)?;
    mul_div(net, r_out, den, Round::Down)
}

/// Uniswap V2's `getAmountIn`, exactly: the least input that buys
/// `amount_out` (which must be below `r_out`), rounded up.
pub fn swap_in(r_in: u128, r_out: u128, amount_out: u128, fee: u32) -> Option<u128> {
    let left = r_out.checked_sub(amount_out).filter(|l| *l > 0)?;
    let num = U256::mul(r_in, amount_out).mul_u128(FEE_DENOMINATOR)?;
    let den = left.checked_mul(FEE_DENOMINATOR.checked_sub(u128::from(fee))?)?;
    num.div(den, Round::Up)
}

/// LP tokens minted for depositing `amount` of the asset the pool holds
/// `balance` of (supply `supply`), rounded down.
pub fn lp_for_single_deposit(balance: u128, amount: u128, supply: u128, fee: u32) -> Option<u128> {
    let counted = after_half_fee(amount, fee)?;
    // (T + t)² = T² · (B + b') / B, each step rounded down.
    let scaled = mul_div(supply, balance.checked_add(counted)?, balance, Round::Down)?;
    U256::mul(supply, scaled).sqrt().checked_sub(supply)
}

/// The amount of one asset to deposit for exactly `lp` new LP tokens,
/// rounded up (the inverse of [`lp_for_single_deposit`]).
pub fn single_deposit_for_lp(balance: u128, lp: u128, supply: u128, fee: u32) -> Option<u128> {
    // b' = B · t · (2T + t) / T², rounded up at each step.
    let grown = supply.checked_mul(2)?.checked_add(lp)?;
    let part = mul_div(balance, lp, supply, Round::Up)?;
    let counted = mul_div(part, grown, supply, Round::Up)?;
    before_half_fee(counted, fee)
}

/// LP tokens burned for withdrawing `amount` of one asset, rounded up;
/// `None` if the pool cannot pay it (the whole balance, fee included).
pub fn lp_for_single_withdraw(balance: u128, amount: u128, supply: u128, fee: u32) -> Option<u128> {
    let gross = before_half_fee(amount, fee)?;
    let left = balance.checked_sub(gross).filter(|l| *l > 0)?;
    // (T − t)² = T² · (B − b'') / B, the square root rounded down.
    let scaled = mul_div(supply, left, balance, Round::Down)?;
    supply.checked_sub(U256::mul(supply, scaled).sqrt())
}

/// The amount of one asset paid for burning `lp` LP tokens (fewer than the
/// supply), rounded down (the inverse of [`lp_for_single_withdraw`]).
pub fn single_withdraw_for_lp(balance: u128, lp: u128, supply: u128, fee: u32) -> Option<u128> {
    if lp >= supply {
        return None;
    }
    // b'' = B · t · (2T − t) / T², rounded down at each step.
    let kept = supply.checked_mul(2)?.checked_sub(lp)?;
    let part = mul_div(balance, lp, supply, Round::Down)?;
    let gross = mul_div(part, kept, supply, Round::Down)?;
    after_half_fee(gross, fee)
}

/// The trading fee of a set of votes `(LP tokens held, fee voted)`: the
/// LP-weighted mean, rounded down; `None` without any weight.
pub fn weighted_fee(votes: &[(u128, u32)]) -> Option<u32> {
    let mut total = U256::from(0);
    let mut weight: u128 = 0;
    for (lp, fee) in votes {
        total = add(total, U256::mul(*lp, u128::from(*fee)))?;
        weight = weight.checked_add(*lp)?;
    }
    if weight == 0 {
        return None;
    }
    total
        .div(weight, Round::Down)
        .and_then(|f| u32::try_from(f).ok())
}

fn add(a: U256, b: U256) -> Option<U256> {
    // b fits in 128 + 32 bits here; add it as two halves.
    let (bh, bl) = b.halves();
    let s = a.add_u128(bl)?;
    let (sh, sl) = s.halves();
    Some(U256::from_halves(sh.checked_add(bh)?, sl))
}

/// Auction slots: a slot lasts [`SLOT_MILLIS`] in [`SLOT_INTERVALS`]
/// intervals; the least bid is `T · fee / 25` (XLS-30).
pub const SLOT_MILLIS: u64 = 24 * 60 * 60 * 1000;
/// Intervals of a slot.
pub const SLOT_INTERVALS: u64 = 20;
/// The slot holder's fee is the pool's fee divided by this.
pub const SLOT_DISCOUNT: u32 = 10;

/// The least price of a slot: `T · fee / FEE_DENOMINATOR / 25`, rounded
/// up, and at least one LP unit.
pub fn min_slot_price(supply: u128, fee: u32) -> Option<u128> {
    let den = FEE_DENOMINATOR.checked_mul(25)?;
    Some(mul_div(supply, u128::from(fee), den, Round::Up)?.max(1))
}

/// The price to outbid a holder who paid `paid`, in interval `interval`
/// (0-based, below [`SLOT_INTERVALS`]) of its slot:
/// `paid · 1.05 · (1 − ((interval + 1)/20)^60) + min_price`, rounded up.
pub fn outbid_price(paid: u128, interval: u64, min_price: u128) -> Option<u128> {
    let n = interval.checked_add(1)?;
    if n > SLOT_INTERVALS {
        return Some(min_price);
    }
    // (n/20)^60 in 64.64 fixed point, by repeated squaring (rounded up so
    // the remaining factor, and the price, round in the pool's favour…
    // after the final rounding up below).
    let one: u128 = 1 << 64;
    let frac = mul_div(u128::from(n), one, u128::from(SLOT_INTERVALS), Round::Up)?;
    let mut pow = one;
    let mut base = frac;
    let mut e = 60u32;
    while e > 0 {
        if e & 1 == 1 {
            pow = mul_div(pow, base, one, Round::Up)?;
        }
        base = mul_div(base, base, one, Round::Up)?;
        e >>= 1;
    }
    let keep = one.saturating_sub(pow);
    let grown = mul_div(paid, 105, 100, Round::Up)?;
    mul_div(grown, keep, one, Round::Up)?.checked_add(min_price)
}

/// What the outbid holder gets back: `paid · (1 − (interval + 1)/20)`,
/// rounded down.
pub fn slot_refund(paid: u128, interval: u64) -> Option<u128> {
    let left = SLOT_INTERVALS.checked_sub(interval.checked_add(1)?)?;
    mul_div(
        paid,
        u128::from(left),
        u128::from(SLOT_INTERVALS),
        Round::Down,
    )
}
