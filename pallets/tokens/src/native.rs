//! The native token: balances, total issuance, existential deposit, fees.

use crate::reserve::{check_left, existential_deposit};
use crate::{check_deposit, deposit_event, ensure, fees, Error, Event, TotalIssuance};
use qstack_core::{AccountId, Balance};
use qstack_runtime_primitives::{AssetId, DispatchError};

/// Native balance of `who` (`System.Account`'s `data.free`).
pub fn free_balance(who: &AccountId) -> Balance {
    pallet_system::Account::get(who).map_or(0, |a| a.data.free)
}

/// Sum of all native balances.
pub fn total_issuance() -> Balance {
    TotalIssuance::get().unwrap_or(0)
}

/// The only writer of native balances: `System.Account`'s `data.free`,
/// with `providers` 1 exactly while the balance is not zero.
pub(crate) fn set_free(who: &AccountId, free: Balance) {
    pallet_system::mutate_account(who, |a| {
        a.data.free = free;
        a.providers = u32::from(free > 0);
    });
}

/// Creates native balance at genesis (no deposit rules, no event: genesis
/// endowments are configuration, not transfers).
pub fn endow(who: &AccountId, amount: Balance) -> Result<(), Error> {
    issue(who, amount, false)
}

/// Adds `amount` to `who`'s balance and to the total issuance, keeping
/// `who` at the existential deposit (unless `pseudo_exempt` and `who` is a
/// pseudo-account). Writes nothing on error.
fn issue(who: &AccountId, amount: Balance, pseudo_exempt: bool) -> Result<(), Error> {
    let new = free_balance(who)
        .checked_add(amount)
        .ok_or(Error::Overflow)?;
    ensure(
        new >= existential_deposit() || (pseudo_exempt && crate::pseudo::is_pseudo(who)),
        Error::ExistentialDeposit,
    )?;
    let issuance = total_issuance()
        .checked_add(amount)
        .ok_or(Error::Overflow)?;
    set_free(who, new);
    TotalIssuance::put(&issuance);
    Ok(())
}

/// Creates `amount` of native token in `who`'s balance (staking's
/// inflation): the total issuance rises by it. Refused, writing nothing, on
/// overflow or if `who` would stay below the existential deposit (a
/// pseudo-account exists at any balance). No event: the minting pallet
/// says why it minted.
pub fn mint(who: &AccountId, amount: Balance) -> Result<(), Error> {
    if amount == 0 {
        return Ok(());
    }
    issue(who, amount, true)
}

/// Moves `value` from `from` to `to`, keeping both at zero or at least the
/// existential deposit, and the sender at its reserve if it owns objects;
/// with `rules`, under the recipient's deposit rules. Writes nothing on
/// error.
pub(crate) fn transfer(
    from: &AccountId,
    to: &AccountId,
    value: Balance,
    dest_tag: Option<u32>,
    rules: bool,
) -> Result<(), DispatchError> {
    ensure(value > 0, Error::ZeroAmount)?;
    let left = free_balance(from)
        .checked_sub(value)
        .ok_or(Error::InsufficientBalance)?;
    check_left(from, left)?;
    if from != to {
        let new_to = free_balance(to).checked_add(value).ok_or(Error::Overflow)?;
        ensure(
            new_to >= existential_deposit() || crate::pseudo::is_pseudo(to),
            Error::ExistentialDeposit,
        )?;
        if rules {
            check_deposit(from, to, &AssetId::Native, value, dest_tag)?;
        }
        set_free(from, left);
        set_free(to, new_to);
    }
    deposit_event(Event::Transfer {
        asset: AssetId::Native,
        from: *from,
        to: *to,
        amount: value,
        dest_tag,
    });
    Ok(())
}

/// Takes a transaction fee from `who` and shares it between the block author
/// (named by the header digest, see `AUTHOR_ENGINE_ID`) and the treasury by
/// the genesis split. Fails without touching state if the balance is short.
/// May empty an account that owns nothing: dust below the existential
/// deposit is swept into the fee rather than left as an unusable account.
/// The fee may come out of the owner reserve (so an account at its reserve
/// can still pay to remove objects), never out of the account reserve of an
/// account that owns objects.
pub fn withdraw_fee(who: &AccountId, fee: Balance) -> Result<(), Error> {
    let bal = free_balance(who);
    let mut left = bal.checked_sub(fee).ok_or(Error::InsufficientBalance)?;
    let mut taken = fee;
    if left < existential_deposit() {
        ensure(
            pallet_system::owned::owner_count(who) == 0,
            Error::InsufficientBalance,
        )?;
        if left != 0 {
            taken = bal;
            left = 0;
        }
    }
    set_free(who, left);
    let config = crate::FeeSplit::get().unwrap_or_default();
    let author = pallet_system::DigestItems::get().and_then(|d| d.author());
    let share = fees::split(taken, author.is_some(), config.author_percent);
    let mut to_author = share.author;
    let mut to_treasury = share.treasury;
    let mut burned = 0;
    if let Some(a) = &author {
        if to_author > 0 && !credit_fee_share(who, a, to_author) {
            to_treasury = to_treasury.saturating_add(to_author);
            to_author = 0;
        }
    }
    if to_treasury > 0 && !credit_fee_share(who, &config.treasury, to_treasury) {
        burned = to_treasury;
        to_treasury = 0;
    }
    if burned > 0 {
        TotalIssuance::put(&total_issuance().saturating_sub(burned));
    }
    deposit_event(Event::FeePaid {
        who: *who,
        amount: taken,
        author,
        to_author,
        to_treasury,
        burned,
    });
    Ok(())
}

/// Credits a fee share; `false` (nothing written) if the recipient would stay
/// below the existential deposit, would overflow, or refuses the deposit.
fn credit_fee_share(payer: &AccountId, to: &AccountId, amount: Balance) -> bool {
    let Some(new) = free_balance(to).checked_add(amount) else {
        return false;
    };
    if new < existential_deposit() {
        return false;
    }
    if payer != to && check_deposit(payer, to, &AssetId::Native, amount, None).is_err() {
        return false;
    }
    set_free(to, new);
    true
}

pub(crate) fn try_state() -> Result<(), &'static str> {
    let mut sum: Balance = 0;
    let ed = existential_deposit();
    for (who, info) in pallet_system::Account::iter() {
        let free = info.data.free;
        if free != 0 && free < ed && !crate::pseudo::is_pseudo(&who) {
            return Err("native account below the existential deposit");
        }
        sum = sum
            .checked_add(free)
            .ok_or("native balance sum overflows")?;
    }
    if sum != total_issuance() {
        return Err("native total issuance differs from the sum of balances");
    }
    if let Some(c) = crate::FeeSplit::get() {
        if c.author_percent > 100 {
            return Err("fee split: author share above 100%");
        }
    }
    Ok(())
}
