//! Rules for depositing into an account: destination tags (whitepaper
//! "Address"), deposit authorisation with pre-authorised senders (XRP Ledger
//! `DepositAuth`/`DepositPreauth`) or approved requests of an exact amount
//! (whitepaper "Transfer Authorization"), and token refusal (whitepaper
//! "Disable Token").
//!
//! [`ensure_deposit_allowed`] is the seam the token pallet calls before
//! crediting another account. It may spend an approved request, so call it
//! inside the dispatch's storage transaction: if the transfer then fails,
//! the request comes back with everything else.

use crate::{
    deposit_event, flags, mutate_flags, AllowedAssets, BoundedVec, DepositRequests, Error, Event,
    Preauthorized, MAX_ALLOWED_ASSETS,
};
use alloc::vec::Vec;
use qstack_core::{AccountId, Balance};
use qstack_runtime_primitives::{AssetId, DepositAuth, DepositRequest, DispatchError};

/// Whether `asset` is well-formed (an issued asset's code may not be, when
/// decoded from untrusted bytes).
pub fn asset_is_valid(asset: &AssetId) -> bool {
    match asset {
        AssetId::Native => true,
        AssetId::Issued { code, .. } => code.is_valid(),
    }
}

/// Whether `amount` of `asset` may go from `from` to `to`, carrying
/// `dest_tag`. A deposit into oneself is always allowed. Otherwise, in order:
/// a required destination tag must be present; with token refusal on, the
/// asset must be on `to`'s allow-list; and unless `to` is open, `from` must
/// be pre-authorised or (in `requests` mode) hold an approved request for
/// exactly this asset and amount, which this spends.
pub fn ensure_deposit_allowed(
    from: &AccountId,
    to: &AccountId,
    asset: &AssetId,
    amount: Balance,
    dest_tag: Option<u32>,
) -> Result<(), DispatchError> {
    check_deposit(from, to, asset, amount, dest_tag).map_err(Into::into)
}

fn check_deposit(
    from: &AccountId,
    to: &AccountId,
    asset: &AssetId,
    amount: Balance,
    dest_tag: Option<u32>,
) -> Result<(), Error> {
    if from == to {
        return Ok(());
    }
    let fl = flags(to);
    if fl.require_dest_tag && dest_tag.is_none() {
        return Err(Error::DestinationTagRequired);
    }
    if let Some(allowed) = AllowedAssets::get(to) {
        if allowed.binary_search(asset).is_err() {
            return Err(Error::AssetRefused);
        }
    }
    match fl.deposit_auth {
        DepositAuth::Open => Ok(()),
        _ if is_preauthorized(to, from) => Ok(()),
        DepositAuth::Preauthorized => Err(Error::DepositNotAuthorized),
        DepositAuth::Requests => spend_request(from, to, asset, amount),
    }
}

fn is_preauthorized(to: &AccountId, from: &AccountId) -> bool {
    Preauthorized::get(to).is_some_and(|s| s.binary_search(from).is_ok())
}

fn spend_request(
    from: &AccountId,
    to: &AccountId,
    asset: &AssetId,
    amount: Balance,
) -> Result<(), Error> {
    let mut requests = DepositRequests::get(from).unwrap_or_default();
    let Some(i) = requests
        .iter()
        .position(|r| r.to == *to && r.asset == *asset && r.approved)
    else {
        return Err(Error::DepositNotAuthorized);
    };
    if requests.get(i).map(|r| r.amount) != Some(amount) {
        return Err(Error::DepositAmountMismatch);
    }
    requests.remove(i);
    // The request's owner reserve goes back to its sender.
    pallet_system::owned::release(from, 1);
    store_requests(from, &requests);
    deposit_event(Event::DepositRequestUsed {
        from: *from,
        to: *to,
        asset: *asset,
        amount,
    });
    Ok(())
}

fn store_requests(
    from: &AccountId,
    requests: &BoundedVec<DepositRequest, { crate::MAX_DEPOSIT_REQUESTS }>,
) {
    if requests.is_empty() {
        DepositRequests::remove(from);
    } else {
        DepositRequests::insert(from, requests);
    }
}

/// Requires or stops requiring destination tags on deposits into `who`.
pub fn do_set_require_dest_tag(who: &AccountId, required: bool) -> Result<(), Error> {
    mutate_flags(who, |f| f.require_dest_tag = required);
    deposit_event(Event::DestTagRequirementSet {
        account: *who,
        required,
    });
    Ok(())
}

/// Sets who may deposit into `who`.
pub fn do_set_deposit_auth(who: &AccountId, mode: DepositAuth) -> Result<(), Error> {
    mutate_flags(who, |f| f.deposit_auth = mode);
    deposit_event(Event::DepositAuthSet {
        account: *who,
        mode,
    });
    Ok(())
}

/// Pre-authorises `sender` to deposit into `who`.
pub fn do_preauthorize(who: &AccountId, sender: AccountId) -> Result<(), Error> {
    if sender == *who {
        return Err(Error::PreauthorizeSelf);
    }
    let mut senders = Preauthorized::get(who).unwrap_or_default();
    let Err(at) = senders.binary_search(&sender) else {
        return Err(Error::AlreadyPreauthorized);
    };
    senders
        .try_insert(at, sender)
        .map_err(|_| Error::TooManyPreauthorized)?;
    Preauthorized::insert(who, &senders);
    pallet_system::owned::acquire(who, 1);
    deposit_event(Event::Preauthorized {
        account: *who,
        sender,
    });
    Ok(())
}

/// Withdraws `sender`'s pre-authorisation for `who`.
pub fn do_unauthorize(who: &AccountId, sender: AccountId) -> Result<(), Error> {
    let mut senders = Preauthorized::get(who).unwrap_or_default();
    let Ok(at) = senders.binary_search(&sender) else {
        return Err(Error::NotPreauthorized);
    };
    senders.remove(at);
    pallet_system::owned::release(who, 1);
    if senders.is_empty() {
        Preauthorized::remove(who);
    } else {
        Preauthorized::insert(who, &senders);
    }
    deposit_event(Event::Unauthorized {
        account: *who,
        sender,
    });
    Ok(())
}

/// Turns token refusal on with an allow-list, or off with `None`.
pub fn do_set_allowed_assets(who: &AccountId, assets: Option<Vec<AssetId>>) -> Result<(), Error> {
    let Some(mut assets) = assets else {
        if AllowedAssets::contains_key(who) {
            pallet_system::owned::release(who, 1);
        }
        AllowedAssets::remove(who);
        deposit_event(Event::AllowedAssetsSet {
            account: *who,
            count: None,
        });
        return Ok(());
    };
    if assets.len() > MAX_ALLOWED_ASSETS as usize {
        return Err(Error::TooManyAllowedAssets);
    }
    if !assets.iter().all(asset_is_valid) {
        return Err(Error::InvalidAsset);
    }
    assets.sort_unstable();
    if assets.windows(2).any(|w| matches!(w, [a, b] if a == b)) {
        return Err(Error::DuplicateAsset);
    }
    let count = u32::try_from(assets.len()).map_err(|_| Error::TooManyAllowedAssets)?;
    let assets = BoundedVec::try_from_vec(assets).map_err(|_| Error::TooManyAllowedAssets)?;
    // The allow-list is one object, whatever its length.
    if !AllowedAssets::contains_key(who) {
        pallet_system::owned::acquire(who, 1);
    }
    AllowedAssets::insert(who, &assets);
    deposit_event(Event::AllowedAssetsSet {
        account: *who,
        count: Some(count),
    });
    Ok(())
}

/// `from` asks `to` to accept exactly `amount` of `asset`.
pub fn do_request_deposit(
    from: &AccountId,
    to: AccountId,
    asset: AssetId,
    amount: Balance,
) -> Result<(), Error> {
    if to == *from {
        return Err(Error::RequestToSelf);
    }
    if amount == 0 {
        return Err(Error::ZeroAmount);
    }
    if !asset_is_valid(&asset) {
        return Err(Error::InvalidAsset);
    }
    if flags(&to).deposit_auth != DepositAuth::Requests {
        return Err(Error::RequestsNotAccepted);
    }
    let mut requests = DepositRequests::get(from).unwrap_or_default();
    if requests.iter().any(|r| r.to == to && r.asset == asset) {
        return Err(Error::RequestExists);
    }
    requests
        .try_push(DepositRequest {
            to,
            asset,
            amount,
            approved: false,
        })
        .map_err(|_| Error::TooManyRequests)?;
    DepositRequests::insert(from, &requests);
    pallet_system::owned::acquire(from, 1);
    deposit_event(Event::DepositRequested {
        from: *from,
        to,
        asset,
        amount,
    });
    Ok(())
}

fn find_request(
    from: &AccountId,
    to: &AccountId,
    asset: &AssetId,
) -> Result<
    (
        BoundedVec<DepositRequest, { crate::MAX_DEPOSIT_REQUESTS }>,
        usize,
    ),
    Error,
> {
    let requests = DepositRequests::get(from).unwrap_or_default();
    let i = requests
        .iter()
        .position(|r| r.to == *to && r.asset == *asset)
        .ok_or(Error::NoSuchRequest)?;
    Ok((requests, i))
}

/// `from` withdraws its request to deposit `asset` into `to`.
pub fn do_cancel_deposit_request(
    from: &AccountId,
    to: AccountId,
    asset: AssetId,
) -> Result<(), Error> {
    let (mut requests, i) = find_request(from, &to, &asset)?;
    requests.remove(i);
    // The request's owner reserve goes back to its sender.
    pallet_system::owned::release(from, 1);
    store_requests(from, &requests);
    deposit_event(Event::DepositRequestCancelled {
        from: *from,
        to,
        asset,
    });
    Ok(())
}

/// `to` approves `from`'s request for exactly `amount` of `asset`.
pub fn do_approve_deposit(
    to: &AccountId,
    from: AccountId,
    asset: AssetId,
    amount: Balance,
) -> Result<(), Error> {
    let (mut requests, i) = find_request(&from, to, &asset)?;
    let r = requests.get_mut(i).ok_or(Error::NoSuchRequest)?;
    if r.amount != amount {
        return Err(Error::RequestMismatch);
    }
    if r.approved {
        return Err(Error::AlreadyApproved);
    }
    r.approved = true;
    store_requests(&from, &requests);
    deposit_event(Event::DepositApproved {
        from,
        to: *to,
        asset,
        amount,
    });
    Ok(())
}

/// `to` rejects (deletes) `from`'s request to deposit `asset`.
pub fn do_reject_deposit_request(
    to: &AccountId,
    from: AccountId,
    asset: AssetId,
) -> Result<(), Error> {
    let (mut requests, i) = find_request(&from, to, &asset)?;
    requests.remove(i);
    // The request's owner reserve goes back to its sender.
    pallet_system::owned::release(&from, 1);
    store_requests(&from, &requests);
    deposit_event(Event::DepositRequestRejected {
        from,
        to: *to,
        asset,
    });
    Ok(())
}
