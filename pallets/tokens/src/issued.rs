//! Issued tokens (QSC standard): issue, mint, burn, transfer, allowances,
//! freezing, pause, global freeze and no-freeze. Every function checks first
//! and writes last, so an error leaves state untouched.

use crate::{
    check_deposit, deposit_event, ensure, Allowance, AllowanceCount, Error, Event, HoldingCount,
    HoldingSponsor, Holdings, Token, TokenCount, MAX_ALLOWANCES_PER_OWNER, MAX_DECIMALS,
    MAX_HOLDINGS_PER_ACCOUNT, MAX_NAME_LEN, MAX_SYMBOL_LEN, MAX_TOKENS_PER_ISSUER,
};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use pallet_system::owned;
use qstack_core::{AccountId, Balance};
use qstack_runtime_primitives::tokens::{Holding, TokenDetails};
use qstack_runtime_primitives::{AssetId, DispatchError, TokenCode};

fn asset_of(issuer: &AccountId, code: &TokenCode) -> AssetId {
    AssetId::Issued {
        issuer: *issuer,
        code: *code,
    }
}

fn token(issuer: &AccountId, code: &TokenCode) -> Result<TokenDetails, Error> {
    Token::get(issuer, code).ok_or(Error::UnknownToken)
}

/// Checks a token's descriptive fields (also used by genesis).
pub fn validate_metadata(
    code: &TokenCode,
    name: &[u8],
    symbol: &[u8],
    decimals: u8,
    max_supply: Option<Balance>,
) -> Result<(), Error> {
    ensure(code.is_valid(), Error::BadTokenCode)?;
    let name_ok = core::str::from_utf8(name).is_ok_and(|s| {
        !s.is_empty() && name.len() <= MAX_NAME_LEN && !s.chars().any(char::is_control)
    });
    ensure(name_ok, Error::BadName)?;
    let symbol_ok = core::str::from_utf8(symbol).is_ok_and(|s| {
        !s.is_empty()
            && symbol.len() <= MAX_SYMBOL_LEN
            && !s.chars().any(|c| c.is_control() || c.is_whitespace())
    });
    ensure(symbol_ok, Error::BadSymbol)?;
    ensure(decimals <= MAX_DECIMALS, Error::BadDecimals)?;
    ensure(max_supply != Some(0), Error::BadMaxSupply)?;
    Ok(())
}

pub(crate) fn issue(
    issuer: &AccountId,
    code: TokenCode,
    name: Vec<u8>,
    symbol: Vec<u8>,
    decimals: u8,
    max_supply: Option<Balance>,
) -> Result<(), Error> {
    validate_metadata(&code, &name, &symbol, decimals, max_supply)?;
    ensure(!Token::contains_key(issuer, &code), Error::TokenExists)?;
    let count = TokenCount::get(issuer).unwrap_or(0);
    ensure(count < MAX_TOKENS_PER_ISSUER, Error::TooManyTokens)?;
    TokenCount::insert(issuer, &count.saturating_add(1));
    owned::acquire(issuer, 1);
    Token::insert(
        issuer,
        &code,
        &TokenDetails {
            name: name.clone(),
            symbol: symbol.clone(),
            decimals,
            max_supply,
            supply: 0,
            holders: 0,
            paused: false,
            global_freeze: false,
            no_freeze: false,
        },
    );
    deposit_event(Event::Issued {
        asset: asset_of(issuer, &code),
        name,
        symbol,
        decimals,
        max_supply,
    });
    Ok(())
}

/// A holding about to change: remembers whether it existed so the write
/// keeps the holder counters right.
struct Slot {
    who: AccountId,
    existed: bool,
    holding: Holding,
}

impl Slot {
    fn read(who: &AccountId, asset: &AssetId) -> Slot {
        let stored = Holdings::get(who, asset);
        Slot {
            who: *who,
            existed: stored.is_some(),
            holding: stored.unwrap_or_default(),
        }
    }

    /// Refuses a new holding for an account already at its cap.
    fn ensure_room(&self) -> Result<(), Error> {
        if self.existed || self.holding.is_empty() {
            return Ok(());
        }
        let count = HoldingCount::get(&self.who).unwrap_or(0);
        ensure(count < MAX_HOLDINGS_PER_ACCOUNT, Error::TooManyHoldings)
    }

    /// Writes the holding, removing it when empty, and keeps the account's
    /// holding count, the token's holder count and the owner ledger in
    /// step: a new holding is paid for by `payer` (the holder itself, or
    /// the sender or issuer that created it, recorded as its sponsor); a
    /// removed one releases whoever paid.
    fn write(self, asset: &AssetId, token: &mut TokenDetails, payer: &AccountId) {
        match (self.existed, self.holding.is_empty()) {
            (true, true) => {
                // One read finds the payer; the sponsor entry is cleared
                // only where there is one (no blind write per removal).
                match HoldingSponsor::get(&self.who, asset) {
                    Some(sponsor) => {
                        owned::release(&sponsor, 1);
                        HoldingSponsor::remove(&self.who, asset);
                    }
                    None => owned::release(&self.who, 1),
                }
                Holdings::remove(&self.who, asset);
                HoldingCount::mutate(&self.who, |c| {
                    *c = c.map(|n| n.saturating_sub(1)).filter(|n| *n > 0)
                });
                token.holders = token.holders.saturating_sub(1);
            }
            (true, false) => Holdings::insert(&self.who, asset, &self.holding),
            (false, false) => {
                // A pseudo-account (a pool) neither sponsors others' holdings
                // nor is sponsored: a pool's own holdings are its own (it
                // keeps no reserve), and an LP token minted to a depositor
                // is the depositor's object.
                let payer = if *payer != self.who
                    && (crate::pseudo::is_pseudo(payer) || crate::pseudo::is_pseudo(&self.who))
                {
                    &self.who
                } else {
                    payer
                };
                owned::acquire(payer, 1);
                if *payer != self.who {
                    HoldingSponsor::insert(&self.who, asset, payer);
                }
                Holdings::insert(&self.who, asset, &self.holding);
                HoldingCount::mutate(&self.who, |c| *c = Some(c.unwrap_or(0).saturating_add(1)));
                token.holders = token.holders.saturating_add(1);
            }
            (false, true) => {}
        }
    }
}

fn put_token(issuer: &AccountId, code: &TokenCode, token: &TokenDetails) {
    Token::insert(issuer, code, token)
}

pub(crate) fn mint(
    issuer: &AccountId,
    code: &TokenCode,
    dest: &AccountId,
    amount: Balance,
    dest_tag: Option<u32>,
    rules: bool,
) -> Result<(), DispatchError> {
    ensure(amount > 0, Error::ZeroAmount)?;
    let mut t = token(issuer, code)?;
    ensure(!t.paused, Error::Paused)?;
    let supply = t.supply.checked_add(amount).ok_or(Error::Overflow)?;
    ensure(
        t.max_supply.is_none_or(|max| supply <= max),
        Error::ExceedsMaxSupply,
    )?;
    let asset = asset_of(issuer, code);
    let mut to = Slot::read(dest, &asset);
    to.holding.free = to.holding.free.checked_add(amount).ok_or(Error::Overflow)?;
    to.ensure_room()?;
    if rules && dest != issuer {
        check_deposit(issuer, dest, &asset, amount, dest_tag)?;
    }
    t.supply = supply;
    to.write(&asset, &mut t, issuer);
    put_token(issuer, code, &t);
    deposit_event(Event::Minted {
        asset,
        to: *dest,
        amount,
        dest_tag,
    });
    Ok(())
}

/// Genesis minting: the caps apply, deposit rules and events do not.
pub fn genesis_mint(
    issuer: &AccountId,
    code: &TokenCode,
    dest: &AccountId,
    amount: Balance,
) -> Result<(), Error> {
    ensure(amount > 0, Error::ZeroAmount)?;
    let mut t = token(issuer, code)?;
    let supply = t.supply.checked_add(amount).ok_or(Error::Overflow)?;
    ensure(
        t.max_supply.is_none_or(|max| supply <= max),
        Error::ExceedsMaxSupply,
    )?;
    let asset = asset_of(issuer, code);
    let mut to = Slot::read(dest, &asset);
    to.holding.free = to.holding.free.checked_add(amount).ok_or(Error::Overflow)?;
    to.ensure_room()?;
    t.supply = supply;
    to.write(&asset, &mut t, issuer);
    put_token(issuer, code, &t);
    Ok(())
}

pub(crate) fn burn(
    issuer: &AccountId,
    code: &TokenCode,
    who: &AccountId,
    amount: Balance,
) -> Result<(), Error> {
    ensure(amount > 0, Error::ZeroAmount)?;
    let mut t = token(issuer, code)?;
    ensure(!t.paused, Error::Paused)?;
    let asset = asset_of(issuer, code);
    let mut from = Slot::read(who, &asset);
    from.holding.free = from
        .holding
        .free
        .checked_sub(amount)
        .ok_or(Error::InsufficientBalance)?;
    t.supply = t.supply.saturating_sub(amount);
    from.write(&asset, &mut t, who);
    put_token(issuer, code, &t);
    deposit_event(Event::Burned {
        asset,
        from: *who,
        amount,
    });
    Ok(())
}

pub(crate) fn transfer(
    issuer: &AccountId,
    code: &TokenCode,
    from: &AccountId,
    to: &AccountId,
    amount: Balance,
    dest_tag: Option<u32>,
    rules: bool,
) -> Result<(), DispatchError> {
    ensure(amount > 0, Error::ZeroAmount)?;
    let mut t = token(issuer, code)?;
    ensure(!t.paused, Error::Paused)?;
    if crate::pseudo::may_be_backed(code) {
        crate::pseudo::check_backed(issuer, from)?;
    }
    // Global freeze: the token circulates only between holders and issuer.
    ensure(
        !t.global_freeze || from == issuer || to == issuer,
        Error::GlobalFrozen,
    )?;
    let asset = asset_of(issuer, code);
    let mut sender = Slot::read(from, &asset);
    sender.holding.free = sender
        .holding
        .free
        .checked_sub(amount)
        .ok_or(Error::InsufficientBalance)?;
    if from != to {
        let mut recipient = Slot::read(to, &asset);
        recipient.holding.free = recipient
            .holding
            .free
            .checked_add(amount)
            .ok_or(Error::Overflow)?;
        recipient.ensure_room()?;
        if rules {
            check_deposit(from, to, &asset, amount, dest_tag)?;
        }
        sender.write(&asset, &mut t, from);
        recipient.write(&asset, &mut t, from);
        put_token(issuer, code, &t);
    }
    deposit_event(Event::Transfer {
        asset,
        from: *from,
        to: *to,
        amount,
        dest_tag,
    });
    Ok(())
}

/// Sets `owner`'s allowance to `spender` to `new(current)`.
pub(crate) fn approve(
    issuer: &AccountId,
    code: &TokenCode,
    owner: &AccountId,
    spender: &AccountId,
    new: impl FnOnce(Balance) -> Result<Balance, Error>,
) -> Result<(), Error> {
    token(issuer, code)?;
    let asset = asset_of(issuer, code);
    let current = Allowance::get(&(asset, *owner), spender);
    let amount = new(current.unwrap_or(0))?;
    if current.is_none() && amount > 0 {
        let count = AllowanceCount::get(owner).unwrap_or(0);
        ensure(count < MAX_ALLOWANCES_PER_OWNER, Error::TooManyAllowances)?;
    }
    set_allowance(&asset, owner, spender, current.is_some(), amount);
    deposit_event(Event::Approval {
        asset,
        owner: *owner,
        spender: *spender,
        amount,
    });
    Ok(())
}

fn set_allowance(
    asset: &AssetId,
    owner: &AccountId,
    spender: &AccountId,
    existed: bool,
    amount: Balance,
) {
    let key = (*asset, *owner);
    match (existed, amount > 0) {
        (_, true) => {
            Allowance::insert(&key, spender, &amount);
            if !existed {
                AllowanceCount::mutate(owner, |c| *c = Some(c.unwrap_or(0).saturating_add(1)));
                owned::acquire(owner, 1);
            }
        }
        (true, false) => {
            owned::release(owner, 1);
            Allowance::remove(&key, spender);
            AllowanceCount::mutate(owner, |c| {
                *c = c.map(|n| n.saturating_sub(1)).filter(|n| *n > 0)
            });
        }
        (false, false) => {}
    }
}

pub(crate) fn transfer_from(
    issuer: &AccountId,
    code: &TokenCode,
    spender: &AccountId,
    owner: &AccountId,
    dest: &AccountId,
    amount: Balance,
    dest_tag: Option<u32>,
) -> Result<(), DispatchError> {
    ensure(Token::contains_key(issuer, code), Error::UnknownToken)?;
    let asset = asset_of(issuer, code);
    let allowed = Allowance::get(&(asset, *owner), spender).unwrap_or(0);
    let left = allowed
        .checked_sub(amount)
        .ok_or(Error::InsufficientAllowance)?;
    // Writes only if every check passes; then spending the allowance cannot fail.
    transfer(issuer, code, owner, dest, amount, dest_tag, true)?;
    set_allowance(&asset, owner, spender, true, left);
    deposit_event(Event::Approval {
        asset,
        owner: *owner,
        spender: *spender,
        amount: left,
    });
    Ok(())
}

pub(crate) fn freeze(
    issuer: &AccountId,
    code: &TokenCode,
    holder: &AccountId,
    amount: Option<Balance>,
) -> Result<(), Error> {
    let mut t = token(issuer, code)?;
    ensure(!t.no_freeze, Error::NoFreezeDeclared)?;
    let asset = asset_of(issuer, code);
    let mut slot = Slot::read(holder, &asset);
    let amount = amount.unwrap_or(slot.holding.free);
    ensure(amount > 0, Error::ZeroAmount)?;
    slot.holding.free = slot
        .holding
        .free
        .checked_sub(amount)
        .ok_or(Error::FreezeExceedsBalance)?;
    slot.holding.frozen = slot
        .holding
        .frozen
        .checked_add(amount)
        .ok_or(Error::Overflow)?;
    let frozen = slot.holding.frozen;
    slot.write(&asset, &mut t, holder);
    deposit_event(Event::Frozen {
        asset,
        holder: *holder,
        amount,
        frozen,
    });
    Ok(())
}

pub(crate) fn unfreeze(
    issuer: &AccountId,
    code: &TokenCode,
    holder: &AccountId,
    amount: Option<Balance>,
) -> Result<(), Error> {
    let mut t = token(issuer, code)?;
    let asset = asset_of(issuer, code);
    let mut slot = Slot::read(holder, &asset);
    let amount = amount.unwrap_or(slot.holding.frozen);
    ensure(amount > 0, Error::ZeroAmount)?;
    slot.holding.frozen = slot
        .holding
        .frozen
        .checked_sub(amount)
        .ok_or(Error::UnfreezeExceedsFrozen)?;
    slot.holding.free = slot
        .holding
        .free
        .checked_add(amount)
        .ok_or(Error::Overflow)?;
    let frozen = slot.holding.frozen;
    slot.write(&asset, &mut t, holder);
    deposit_event(Event::Unfrozen {
        asset,
        holder: *holder,
        amount,
        frozen,
    });
    Ok(())
}

/// A token-wide switch an issuer flips.
/// Gives `who`'s whole holding (free and frozen) back to the issuer, which
/// redeems it (as on the XRP Ledger, tokens that return to their issuer
/// cease to exist: the supply falls), and removes the holding. Pause,
/// freezes and deposit rules do not apply: the issuer gets back what it
/// issued, and the holder is rid of what it never asked for.
pub(crate) fn give_back(
    issuer: &AccountId,
    code: &TokenCode,
    who: &AccountId,
) -> Result<(), DispatchError> {
    let mut t = token(issuer, code)?;
    let asset = asset_of(issuer, code);
    let mut slot = Slot::read(who, &asset);
    ensure(slot.existed, Error::NothingHeld)?;
    let Holding { free, frozen } = slot.holding;
    let amount = free.checked_add(frozen).ok_or(Error::Overflow)?;
    t.supply = t.supply.saturating_sub(amount);
    slot.holding = Holding::default();
    slot.write(&asset, &mut t, who);
    put_token(issuer, code, &t);
    deposit_event(Event::GivenBack {
        asset,
        holder: *who,
        free,
        frozen,
    });
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Flag {
    Paused,
    GlobalFreeze,
    NoFreeze,
}

pub(crate) fn set_flag(
    issuer: &AccountId,
    code: &TokenCode,
    flag: Flag,
    on: bool,
) -> Result<(), DispatchError> {
    let mut t = token(issuer, code)?;
    // Turning a restriction on is what no-freeze gives up; lifting one never is.
    if on && flag != Flag::NoFreeze {
        ensure(!t.no_freeze, Error::NoFreezeDeclared)?;
    }
    let (field, already, not_set) = match flag {
        Flag::Paused => (&mut t.paused, Error::AlreadyPaused, Error::NotPaused),
        Flag::GlobalFreeze => (
            &mut t.global_freeze,
            Error::AlreadyGloballyFrozen,
            Error::NotGloballyFrozen,
        ),
        // No call turns no-freeze off: only a second declaration can fail.
        Flag::NoFreeze => (
            &mut t.no_freeze,
            Error::AlreadyNoFreeze,
            Error::AlreadyNoFreeze,
        ),
    };
    if *field == on {
        return Err(if on { already } else { not_set }.into());
    }
    *field = on;
    put_token(issuer, code, &t);
    let asset = asset_of(issuer, code);
    deposit_event(match (flag, on) {
        (Flag::Paused, true) => Event::Paused { asset },
        (Flag::Paused, false) => Event::Unpaused { asset },
        (Flag::GlobalFreeze, true) => Event::GlobalFreeze { asset },
        (Flag::GlobalFreeze, false) => Event::GlobalFreezeLifted { asset },
        (Flag::NoFreeze, _) => Event::NoFreeze { asset },
    });
    Ok(())
}

pub(crate) fn try_state() -> Result<(), &'static str> {
    let mut per_issuer: BTreeMap<AccountId, u32> = BTreeMap::new();
    let mut tokens: BTreeMap<AssetId, (TokenDetails, Balance, u32)> = BTreeMap::new();
    for (issuer, code, t) in Token::iter() {
        validate_metadata(&code, &t.name, &t.symbol, t.decimals, t.max_supply)
            .map_err(|_| "a token's metadata is invalid")?;
        if t.max_supply.is_some_and(|max| t.supply > max) {
            return Err("a token's supply exceeds its maximum");
        }
        let n = per_issuer.entry(issuer).or_insert(0);
        *n = n.saturating_add(1);
        tokens.insert(asset_of(&issuer, &code), (t, 0, 0));
    }
    for (issuer, n) in &per_issuer {
        if *n > MAX_TOKENS_PER_ISSUER {
            return Err("an issuer exceeds the token cap");
        }
        if TokenCount::get(issuer) != Some(*n) {
            return Err("TokenCount differs from the tokens issued");
        }
    }
    if TokenCount::iter().len() != per_issuer.len() {
        return Err("TokenCount has an issuer without tokens");
    }
    let mut per_holder: BTreeMap<AccountId, u32> = BTreeMap::new();
    for (who, asset, h) in Holdings::iter() {
        if h.is_empty() {
            return Err("an empty holding is stored");
        }
        let entry = tokens
            .get_mut(&asset)
            .ok_or("a holding of an unknown token (or of the native token)")?;
        entry.1 = entry
            .1
            .checked_add(h.free)
            .and_then(|s| s.checked_add(h.frozen))
            .ok_or("a token's balance sum overflows")?;
        entry.2 = entry.2.saturating_add(1);
        let n = per_holder.entry(who).or_insert(0);
        *n = n.saturating_add(1);
    }
    for (t, sum, holders) in tokens.values() {
        if t.supply != *sum {
            return Err("a token's supply differs from the sum of its balances (free + frozen)");
        }
        if t.holders != *holders {
            return Err("a token's holder count differs from its holdings");
        }
    }
    for (who, n) in &per_holder {
        if *n > MAX_HOLDINGS_PER_ACCOUNT {
            return Err("an account exceeds the holdings cap");
        }
        if HoldingCount::get(who) != Some(*n) {
            return Err("HoldingCount differs from the holdings");
        }
    }
    if HoldingCount::iter().len() != per_holder.len() {
        return Err("HoldingCount has an account without holdings");
    }
    let mut per_owner: BTreeMap<AccountId, u32> = BTreeMap::new();
    for ((asset, owner), _spender, amount) in Allowance::iter() {
        if amount == 0 {
            return Err("a zero allowance is stored");
        }
        if !tokens.contains_key(&asset) {
            return Err("an allowance of an unknown token");
        }
        let n = per_owner.entry(owner).or_insert(0);
        *n = n.saturating_add(1);
    }
    for (owner, n) in &per_owner {
        if *n > MAX_ALLOWANCES_PER_OWNER {
            return Err("an owner exceeds the allowance cap");
        }
        if AllowanceCount::get(owner) != Some(*n) {
            return Err("AllowanceCount differs from the allowances");
        }
    }
    if AllowanceCount::iter().len() != per_owner.len() {
        return Err("AllowanceCount has an owner without allowances");
    }
    Ok(())
}
