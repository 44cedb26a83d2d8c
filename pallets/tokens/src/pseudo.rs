//! Pseudo-accounts: accounts that belong to another pallet's object (an AMM
//! pool's account), as on the XRP Ledger. Their id is a hash no key pair
//! derives, so nothing signs for them; the owning pallet moves their funds
//! through this pallet's API. They keep no reserve (the object's creator
//! pays one for the object instead), so they exist at any native balance,
//! and the tokens they issue (LP tokens) are *backed* by assets: such a
//! token moves only when each backing asset could move for the sender
//! (not paused, not globally frozen, no amount of it frozen for the
//! sender), so freezing a pool asset freezes the pool's LP token too.
//!
//! Lookups are lazy: an ordinary transfer reads this map only on the rare
//! paths (a balance that would fall below the reserve, a new holding
//! sponsored by another account, a transfer of a token whose issuer might
//! be a pool).

use crate::{ensure, Error, Holdings, PseudoAccount, Token};
use alloc::vec::Vec;
use qstack_core::AccountId;
use qstack_runtime_primitives::AssetId;

/// Most assets backing one pseudo-account's tokens.
pub const MAX_BACKING: usize = 2;

/// The first byte of every backed token's 160-bit code (the XRP Ledger's
/// LP token prefix): a transfer of any other code never looks for backing.
pub const BACKED_CODE_PREFIX: u8 = 0x03;

/// Whether `code` could be a backed token's (only such codes cost the
/// lookup of their issuer's backing).
pub fn may_be_backed(code: &qstack_runtime_primitives::TokenCode) -> bool {
    matches!(code, qstack_runtime_primitives::TokenCode::Hex(h) if h.first() == Some(&BACKED_CODE_PREFIX))
}

/// Makes `who` a pseudo-account whose tokens are backed by `backing`. Its
/// deposit rule becomes "pre-authorised senders only", with none: no
/// transfer call can pay into it, so its balances change only through
/// [`pay`] by the pallet that owns it (a pool's balances stay equal to its
/// recorded reserves).
pub fn register(who: &AccountId, backing: &[AssetId]) -> Result<(), Error> {
    ensure(backing.len() <= MAX_BACKING, Error::Overflow)?;
    ensure(!PseudoAccount::contains_key(who), Error::PseudoExists)?;
    PseudoAccount::insert(who, &backing.to_vec());
    pallet_accounts::deposit::do_set_deposit_auth(
        who,
        qstack_runtime_primitives::DepositAuth::Preauthorized,
    )
    .map_err(|_| Error::PseudoExists)?;
    Ok(())
}

/// Moves `amount` of `asset` between a pseudo-account and the account that
/// asked for it (a deposit into a pool, a payout from it): every rule of a
/// transfer applies (existential deposit, reserve, pause, global freeze,
/// frozen amounts) except deposit rules, since neither side is an
/// unsolicited recipient. One of `from` and `to` must be a pseudo-account.
pub fn pay(
    asset: &AssetId,
    from: &AccountId,
    to: &AccountId,
    amount: qstack_core::Balance,
) -> Result<(), qstack_runtime_primitives::DispatchError> {
    ensure(is_pseudo(from) || is_pseudo(to), Error::UnknownToken)?;
    match asset {
        AssetId::Native => crate::native::transfer(from, to, amount, None, false),
        AssetId::Issued { issuer, code } => {
            crate::issued::transfer(issuer, code, from, to, amount, None, false)
        }
    }
}

/// Whether `who` is a pseudo-account.
pub fn is_pseudo(who: &AccountId) -> bool {
    PseudoAccount::contains_key(who)
}

/// The assets backing the tokens `issuer` issues (`None`: not a pseudo-account).
pub fn backing(issuer: &AccountId) -> Option<Vec<AssetId>> {
    PseudoAccount::get(issuer)
}

/// Whether `asset` can move for `who` right now: not paused, not globally
/// frozen, and no amount of it frozen for `who` (the AMM's rule for pool
/// assets: an issuer's freeze keeps the holder's asset out of every pool).
pub fn usable_by(asset: &AssetId, who: &AccountId) -> Result<(), Error> {
    let AssetId::Issued { issuer, code } = asset else {
        return Ok(());
    };
    let t = Token::get(issuer, code).ok_or(Error::UnknownToken)?;
    ensure(!t.paused, Error::Paused)?;
    ensure(!t.global_freeze, Error::GlobalFrozen)?;
    let frozen = Holdings::get(who, asset).map_or(0, |h| h.frozen);
    ensure(frozen == 0, Error::Frozen)
}

/// Refuses a move of `issuer`'s token by `sender` when a backing asset
/// cannot move for `sender`.
pub(crate) fn check_backed(issuer: &AccountId, sender: &AccountId) -> Result<(), Error> {
    let Some(backing) = backing(issuer) else {
        return Ok(());
    };
    for asset in &backing {
        usable_by(asset, sender).map_err(|_| Error::BackingFrozen)?;
    }
    Ok(())
}

pub(crate) fn try_state() -> Result<(), &'static str> {
    for (_, backing) in PseudoAccount::iter() {
        if backing.len() > MAX_BACKING {
            return Err("a pseudo-account with more than MAX_BACKING assets");
        }
    }
    Ok(())
}

/// Issues `issuer`'s backed token (an LP token): the checks of `issue`,
/// no supply cap, and a code starting with [`BACKED_CODE_PREFIX`].
pub fn issue_backed(
    issuer: &AccountId,
    code: qstack_runtime_primitives::TokenCode,
    name: Vec<u8>,
    symbol: Vec<u8>,
    decimals: u8,
) -> Result<(), Error> {
    ensure(is_pseudo(issuer), Error::UnknownToken)?;
    ensure(may_be_backed(&code), Error::BadTokenCode)?;
    crate::issued::issue(issuer, code, name, symbol, decimals, None)
}

/// Mints `amount` of `issuer`'s backed token to `to`, who asked for it (no
/// deposit rules; the holding is `to`'s own object).
pub fn mint_backed(
    issuer: &AccountId,
    code: &qstack_runtime_primitives::TokenCode,
    to: &AccountId,
    amount: qstack_core::Balance,
) -> Result<(), qstack_runtime_primitives::DispatchError> {
    ensure(is_pseudo(issuer), Error::UnknownToken)?;
    crate::issued::mint(issuer, code, to, amount, None, false)
}

/// Burns `amount` of `issuer`'s backed token held by `from`.
pub fn burn_backed(
    issuer: &AccountId,
    code: &qstack_runtime_primitives::TokenCode,
    from: &AccountId,
    amount: qstack_core::Balance,
) -> Result<(), Error> {
    ensure(is_pseudo(issuer), Error::UnknownToken)?;
    crate::issued::burn(issuer, code, from, amount)
}
