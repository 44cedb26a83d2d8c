//! The accounts pallet: how an account may sign (master key, regular key,
//! signer list for multi-signing), its tickets (reserved sequence numbers),
//! and the rules for depositing into it (destination tags, deposit
//! authorisation, token refusal). Owns `Accounts.*` storage only: nonces and
//! registered master keys stay in `System`, balances in the token pallet,
//! which asks [`ensure_deposit_allowed`] before every credit to another
//! account.
//!
//! Rules follow the Qifas whitepaper ("Account", "Master Key Pair", "Regular
//! Key Pair", "Multi-Signing", "Transfer Authorization", "Disable Token") and
//! the XRP Ledger where it is silent. The one invariant everything here
//! protects: an account always keeps a way to sign (an enabled master key, a
//! regular key, or a signer list).
//!
//! # Bounds
//!
//! Every stored collection is bounded ([`BoundedVec`]):
//! [`MAX_SIGNERS`] signers per list (the XRP Ledger's 32), [`MAX_TICKETS`]
//! outstanding tickets (the XRP Ledger's 250), [`MAX_PREAUTHORIZED`]
//! pre-authorised senders and [`MAX_ALLOWED_ASSETS`] accepted assets per
//! account, and [`MAX_DEPOSIT_REQUESTS`] open deposit requests per sender
//! (requests are stored under, and paid for by, the sender, so nobody can
//! fill another account's storage).
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

extern crate alloc;

pub mod auth;
pub mod bounded;
pub mod deposit;
pub mod keys;
pub mod multisig;
pub mod tickets;
pub mod weights;

#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use qstack_core::{AccountId, Balance, KeyScheme, Nonce, PublicKey};
use qstack_runtime_primitives::{
    AccountSettings, AssetId, DepositAuth, DepositRequest, DispatchError, SignerEntry,
    SignerListInfo,
};
use qstack_support::{constants, storage, Dispatch, DispatchContext};
use scale_info::TypeInfo;

pub use qstack_support::SignedWith;

pub use auth::{authorise, Authorisation};
pub use bounded::BoundedVec;
pub use deposit::ensure_deposit_allowed;

/// This pallet's permanent index in every qstack runtime.
pub const PALLET_INDEX: u8 = 3;
constants! {
    /// Most signers in a signer list (and signatures in a multi-signature).
    MaxSigners: pub const MAX_SIGNERS: u32 = 32;
    /// Most outstanding tickets per account.
    MaxTickets: pub const MAX_TICKETS: u32 = 250;
    /// Most pre-authorised senders per account.
    MaxPreauthorized: pub const MAX_PREAUTHORIZED: u32 = 64;
    /// Most assets on an account's allow-list.
    MaxAllowedAssets: pub const MAX_ALLOWED_ASSETS: u32 = 32;
    /// Most open deposit requests per sender.
    MaxDepositRequests: pub const MAX_DEPOSIT_REQUESTS: u32 = 16;
}

/// The accounts pallet, as the runtime composes it.
pub struct Pallet;

impl qstack_support::Pallet for Pallet {
    const NAME: &'static str = "Accounts";
    const INDEX: u8 = PALLET_INDEX;
    type Call = Call;
    type Event = Event;
    type Error = Error;
    type Genesis = ();

    fn storage() -> Vec<qstack_support::storage::EntryMeta> {
        storage_metadata()
    }
    fn constants() -> Vec<qstack_support::ConstantMeta> {
        constants_metadata()
    }
    fn try_state() -> Result<(), &'static str> {
        try_state()
    }
    fn owned_objects(out: &mut alloc::collections::BTreeMap<AccountId, u32>) {
        owned_objects(out)
    }
}

/// The objects each account pays an owner reserve for in this pallet: its
/// regular key, its signer list (one object), each ticket, each
/// pre-authorised sender, its allow-list (one object) and each open
/// deposit request it made.
pub fn owned_objects(out: &mut alloc::collections::BTreeMap<AccountId, u32>) {
    let mut add = |who: AccountId, n: usize| {
        let e = out.entry(who).or_insert(0);
        *e = e.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
    };
    for (who, _) in RegularKey::iter() {
        add(who, 1);
    }
    for (who, _) in SignerLists::iter() {
        add(who, 1);
    }
    for (who, t) in Tickets::iter() {
        add(who, t.len());
    }
    for (who, p) in Preauthorized::iter() {
        add(who, p.len());
    }
    for (who, _) in AllowedAssets::iter() {
        add(who, 1);
    }
    for (who, r) in DepositRequests::iter() {
        add(who, r.len());
    }
}

impl qstack_support::PalletEvent for Event {}

/// Calls.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Call {
    /// Sets or replaces the regular key (any scheme; not the master key).
    #[codec(index = 0)]
    SetRegularKey {
        /// The new regular key.
        key: PublicKey,
    },
    /// Removes the regular key, unless it is the last way to sign.
    #[codec(index = 1)]
    RemoveRegularKey,
    /// Disables the master key. Must be signed with the master key, and a
    /// regular key or signer list must exist.
    #[codec(index = 2)]
    DisableMaster,
    /// Re-enables a disabled master key (signed by the regular key or the
    /// signer list, as the master cannot sign while disabled).
    #[codec(index = 3)]
    EnableMaster,
    /// Sets or replaces the signer list: 1 to [`MAX_SIGNERS`] distinct
    /// accounts other than this one, each weighing at least 1, and
    /// `0 < quorum <= sum of weights`.
    #[codec(index = 4)]
    SetSigners {
        /// The weight a multi-signature must reach.
        quorum: u32,
        /// The signers, in any order.
        signers: Vec<SignerEntry>,
    },
    /// Removes the signer list, unless it is the last way to sign.
    #[codec(index = 5)]
    RemoveSigners,
    /// Reserves the next `count` sequence numbers as tickets (the nonce moves
    /// past them); at most [`MAX_TICKETS`] may be outstanding.
    #[codec(index = 6)]
    CreateTickets {
        /// How many.
        count: u32,
    },
    /// Requires (or stops requiring) a destination tag on deposits.
    #[codec(index = 7)]
    SetRequireDestTag {
        /// Whether a tag is required.
        required: bool,
    },
    /// Sets who may deposit into the account.
    #[codec(index = 8)]
    SetDepositAuth {
        /// The mode.
        mode: DepositAuth,
    },
    /// Lets `sender` deposit while deposit authorisation is on.
    #[codec(index = 9)]
    Preauthorize {
        /// The sender.
        sender: AccountId,
    },
    /// Withdraws `sender`'s pre-authorisation.
    #[codec(index = 10)]
    Unauthorize {
        /// The sender.
        sender: AccountId,
    },
    /// Token refusal: `Some(list)` accepts deposits of those assets only (at
    /// most [`MAX_ALLOWED_ASSETS`], the native token included only if
    /// listed); `None` accepts every asset again.
    #[codec(index = 11)]
    SetAllowedAssets {
        /// The allow-list, or `None` to turn refusal off.
        assets: Option<Vec<AssetId>>,
    },
    /// Asks `to` (whose deposit mode is `requests`) to accept a deposit of
    /// exactly `amount` of `asset` from the caller.
    #[codec(index = 12)]
    RequestDeposit {
        /// The account to deposit into.
        to: AccountId,
        /// The asset.
        asset: AssetId,
        /// The exact amount.
        #[codec(compact)]
        amount: Balance,
    },
    /// Withdraws the caller's request to deposit `asset` into `to`.
    #[codec(index = 13)]
    CancelDepositRequest {
        /// The account the request was for.
        to: AccountId,
        /// The asset.
        asset: AssetId,
    },
    /// Approves `from`'s request to deposit `amount` of `asset` into the
    /// caller (the amount must be the requested one).
    #[codec(index = 14)]
    ApproveDeposit {
        /// The requesting sender.
        from: AccountId,
        /// The asset.
        asset: AssetId,
        /// The requested amount.
        #[codec(compact)]
        amount: Balance,
    },
    /// Rejects (deletes) `from`'s request to deposit `asset` into the caller.
    #[codec(index = 15)]
    RejectDepositRequest {
        /// The requesting sender.
        from: AccountId,
        /// The asset.
        asset: AssetId,
    },
}

impl Dispatch for Call {
    /// The call's weight, from benchmarks (see [`weights`]).
    fn weight(&self) -> u64 {
        weights::call_weight(self)
    }
    /// Storage touched, at most: the most any test path made (every
    /// dispatch in the tests is checked against this), plus a quarter.
    fn db_access(&self) -> qstack_support::DbAccess {
        use qstack_support::DbAccess as D;
        match self {
            Call::SetRegularKey { .. } => D::new(8, 7),
            Call::RemoveRegularKey => D::new(8, 5),
            Call::DisableMaster => D::new(8, 4),
            Call::EnableMaster => D::new(7, 4),
            Call::SetSigners { .. } => D::new(8, 7),
            Call::RemoveSigners => D::new(8, 5),
            Call::CreateTickets { .. } => D::new(10, 8),
            Call::SetRequireDestTag { .. } | Call::SetDepositAuth { .. } => D::new(5, 4),
            Call::Preauthorize { .. } => D::new(8, 7),
            Call::Unauthorize { .. } => D::new(6, 5),
            Call::SetAllowedAssets { .. } => D::new(8, 7),
            Call::RequestDeposit { .. } => D::new(8, 7),
            Call::CancelDepositRequest { .. } | Call::RejectDepositRequest { .. } => D::new(6, 5),
            Call::ApproveDeposit { .. } => D::new(5, 4),
        }
    }
    fn is_known(index: u8) -> bool {
        index <= 15
    }
    fn dispatch(self, ctx: &DispatchContext<'_>) -> Result<(), DispatchError> {
        dispatch(self, ctx)
    }
}

/// Errors.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Error {
    /// The regular key cannot be the account's master key.
    #[codec(index = 0)]
    RegularKeyIsMaster,
    /// The change would leave the account no way to sign (the master key is
    /// disabled and there would be no regular key and no signer list).
    #[codec(index = 1)]
    NoAlternativeKey,
    /// Only a transaction signed with the master key may disable it.
    #[codec(index = 2)]
    NeedMasterKey,
    /// The master key is not disabled.
    #[codec(index = 3)]
    MasterNotDisabled,
    /// The master key is already disabled.
    #[codec(index = 4)]
    MasterAlreadyDisabled,
    /// The account has no regular key.
    #[codec(index = 5)]
    NoRegularKey,
    /// A signer list needs at least one signer.
    #[codec(index = 6)]
    NoSigners,
    /// More than [`MAX_SIGNERS`] signers.
    #[codec(index = 7)]
    TooManySigners,
    /// A signer is listed twice.
    #[codec(index = 8)]
    DuplicateSigner,
    /// An account cannot be its own signer.
    #[codec(index = 9)]
    SignerIsSelf,
    /// A signer's weight is 0.
    #[codec(index = 10)]
    ZeroWeight,
    /// The quorum is 0 or above the signers' total weight.
    #[codec(index = 11)]
    BadQuorum,
    /// The account has no signer list.
    #[codec(index = 12)]
    NoSignerList,
    /// `create_tickets` needs a count of at least 1.
    #[codec(index = 13)]
    ZeroTickets,
    /// More than [`MAX_TICKETS`] tickets would be outstanding.
    #[codec(index = 14)]
    TooManyTickets,
    /// The sequence number would overflow.
    #[codec(index = 15)]
    NonceOverflow,
    /// An account needs no authorisation to deposit into itself.
    #[codec(index = 16)]
    PreauthorizeSelf,
    /// The sender is already pre-authorised.
    #[codec(index = 17)]
    AlreadyPreauthorized,
    /// The sender is not pre-authorised.
    #[codec(index = 18)]
    NotPreauthorized,
    /// More than [`MAX_PREAUTHORIZED`] pre-authorised senders.
    #[codec(index = 19)]
    TooManyPreauthorized,
    /// More than [`MAX_ALLOWED_ASSETS`] assets on the allow-list.
    #[codec(index = 20)]
    TooManyAllowedAssets,
    /// An asset is listed twice.
    #[codec(index = 21)]
    DuplicateAsset,
    /// An issued asset's token code is malformed.
    #[codec(index = 22)]
    InvalidAsset,
    /// The recipient requires a destination tag and the deposit has none.
    #[codec(index = 23)]
    DestinationTagRequired,
    /// The recipient refuses this asset (token refusal).
    #[codec(index = 24)]
    AssetRefused,
    /// The recipient accepts deposits only from pre-authorised senders or
    /// approved requests, and this sender has neither.
    #[codec(index = 25)]
    DepositNotAuthorized,
    /// The approved request is for a different amount.
    #[codec(index = 26)]
    DepositAmountMismatch,
    /// The recipient does not take deposit requests (its mode is not `requests`).
    #[codec(index = 27)]
    RequestsNotAccepted,
    /// A request for this recipient and asset is already open.
    #[codec(index = 28)]
    RequestExists,
    /// More than [`MAX_DEPOSIT_REQUESTS`] open requests.
    #[codec(index = 29)]
    TooManyRequests,
    /// No such request.
    #[codec(index = 30)]
    NoSuchRequest,
    /// The approval names a different amount than the request.
    #[codec(index = 31)]
    RequestMismatch,
    /// The request is already approved.
    #[codec(index = 32)]
    AlreadyApproved,
    /// A deposit request needs a non-zero amount.
    #[codec(index = 33)]
    ZeroAmount,
    /// An account needs no request to deposit into itself.
    #[codec(index = 34)]
    RequestToSelf,
}

qstack_runtime_primitives::impl_module_error!(Error, PALLET_INDEX);

/// Events.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Event {
    /// A regular key was set or replaced.
    #[codec(index = 0)]
    RegularKeySet {
        /// The account.
        account: AccountId,
        /// The key's scheme.
        scheme: KeyScheme,
        /// The account id the key derives (identifies it without its bytes).
        key_id: AccountId,
    },
    /// The regular key was removed.
    #[codec(index = 1)]
    RegularKeyRemoved {
        /// The account.
        account: AccountId,
    },
    /// The master key was disabled.
    #[codec(index = 2)]
    MasterKeyDisabled {
        /// The account.
        account: AccountId,
    },
    /// The master key was enabled again.
    #[codec(index = 3)]
    MasterKeyEnabled {
        /// The account.
        account: AccountId,
    },
    /// A signer list was set or replaced.
    #[codec(index = 4)]
    SignerListSet {
        /// The account.
        account: AccountId,
        /// Its quorum.
        quorum: u32,
        /// Number of signers.
        signers: u32,
    },
    /// The signer list was removed.
    #[codec(index = 5)]
    SignerListRemoved {
        /// The account.
        account: AccountId,
    },
    /// Tickets `first .. first + count` were created.
    #[codec(index = 6)]
    TicketsCreated {
        /// The account.
        account: AccountId,
        /// The first ticket.
        first: Nonce,
        /// How many.
        count: u32,
    },
    /// A transaction used a ticket.
    #[codec(index = 7)]
    TicketUsed {
        /// The account.
        account: AccountId,
        /// The ticket.
        ticket: Nonce,
    },
    /// The destination-tag requirement changed.
    #[codec(index = 8)]
    DestTagRequirementSet {
        /// The account.
        account: AccountId,
        /// Whether a tag is required.
        required: bool,
    },
    /// The deposit authorisation mode changed.
    #[codec(index = 9)]
    DepositAuthSet {
        /// The account.
        account: AccountId,
        /// The new mode.
        mode: DepositAuth,
    },
    /// A sender was pre-authorised.
    #[codec(index = 10)]
    Preauthorized {
        /// The account deposits go to.
        account: AccountId,
        /// The sender.
        sender: AccountId,
    },
    /// A pre-authorisation was withdrawn.
    #[codec(index = 11)]
    Unauthorized {
        /// The account deposits go to.
        account: AccountId,
        /// The sender.
        sender: AccountId,
    },
    /// Token refusal changed: `Some(n)` assets accepted, `None` = all.
    #[codec(index = 12)]
    AllowedAssetsSet {
        /// The account.
        account: AccountId,
        /// Length of the allow-list, or `None` when refusal is off.
        count: Option<u32>,
    },
    /// A deposit request was made.
    #[codec(index = 13)]
    DepositRequested {
        /// The sender.
        from: AccountId,
        /// The recipient.
        to: AccountId,
        /// The asset.
        asset: AssetId,
        /// The amount.
        amount: Balance,
    },
    /// The sender withdrew a deposit request.
    #[codec(index = 14)]
    DepositRequestCancelled {
        /// The sender.
        from: AccountId,
        /// The recipient.
        to: AccountId,
        /// The asset.
        asset: AssetId,
    },
    /// The recipient approved a deposit request.
    #[codec(index = 15)]
    DepositApproved {
        /// The sender.
        from: AccountId,
        /// The recipient.
        to: AccountId,
        /// The asset.
        asset: AssetId,
        /// The amount.
        amount: Balance,
    },
    /// The recipient rejected a deposit request.
    #[codec(index = 16)]
    DepositRequestRejected {
        /// The sender.
        from: AccountId,
        /// The recipient.
        to: AccountId,
        /// The asset.
        asset: AssetId,
    },
    /// An approved request was used up by its deposit.
    #[codec(index = 17)]
    DepositRequestUsed {
        /// The sender.
        from: AccountId,
        /// The recipient.
        to: AccountId,
        /// The asset.
        asset: AssetId,
        /// The amount.
        amount: Balance,
    },
}

/// Per-account flags (absent = all default, and never stored as default).
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Debug,
    Default,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
pub struct AccountFlags {
    /// The master key may not sign.
    pub master_disabled: bool,
    /// Deposits must carry a destination tag.
    pub require_dest_tag: bool,
    /// Who may deposit.
    pub deposit_auth: DepositAuth,
}

/// A stored signer list: signers sorted by account, no duplicates.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct SignerList {
    /// The weight a multi-signature must reach.
    pub quorum: u32,
    /// The signers, sorted by account.
    pub signers: BoundedVec<SignerEntry, MAX_SIGNERS>,
}

impl SignerList {
    /// The weight of `who`, if listed.
    pub fn weight_of(&self, who: &AccountId) -> Option<u16> {
        self.signers
            .binary_search_by(|e| e.account.cmp(who))
            .ok()
            .and_then(|i| self.signers.get(i))
            .map(|e| e.weight)
    }

    /// Sum of the weights.
    pub fn total_weight(&self) -> u32 {
        self.signers.iter().map(|e| u32::from(e.weight)).sum()
    }
}

storage! { pallet = "Accounts";
    /// Flags of each account that changed any.
    pub Flags: map Blake2_128Concat AccountId => AccountFlags;
    /// Regular key of each account that set one.
    pub RegularKey: map Blake2_128Concat AccountId => PublicKey;
    /// Signer list (quorum and weighted signers) of each account that set
    /// one.
    pub SignerLists: map Blake2_128Concat AccountId => SignerList;
    /// Outstanding tickets of each account, ascending (never empty).
    pub Tickets: map Blake2_128Concat AccountId => BoundedVec<Nonce, MAX_TICKETS> [default];
    /// Pre-authorised senders of each account, ascending (never empty).
    pub Preauthorized: map Blake2_128Concat AccountId => BoundedVec<AccountId, MAX_PREAUTHORIZED> [default];
    /// Assets accepted by each account with token refusal on, ascending
    /// (may be empty: refuse everything).
    pub AllowedAssets: map Blake2_128Concat AccountId => BoundedVec<AssetId, MAX_ALLOWED_ASSETS>;
    /// Open deposit requests, under the sender (never empty).
    pub DepositRequests: map Blake2_128Concat AccountId => BoundedVec<DepositRequest, MAX_DEPOSIT_REQUESTS>;
}

pub(crate) fn deposit_event(e: Event) {
    pallet_system::deposit_event_encoded(PALLET_INDEX, &e.encode());
}

/// The flags of `who`.
pub fn flags(who: &AccountId) -> AccountFlags {
    Flags::get(who).unwrap_or_default()
}

/// Changes `who`'s flags; default flags are not stored.
pub(crate) fn mutate_flags(who: &AccountId, f: impl FnOnce(&mut AccountFlags)) {
    let mut fl = flags(who);
    f(&mut fl);
    if fl == AccountFlags::default() {
        Flags::remove(who);
    } else {
        Flags::insert(who, &fl);
    }
}

/// Whether the master key of `who` is disabled.
pub fn master_disabled(who: &AccountId) -> bool {
    flags(who).master_disabled
}

/// Whether `who` has a way to sign besides its master key.
pub fn has_alternative_key(who: &AccountId) -> bool {
    RegularKey::contains_key(who) || SignerLists::contains_key(who)
}

/// Whether `who` can sign at all (the pallet's invariant).
pub fn can_sign(who: &AccountId) -> bool {
    !master_disabled(who) || has_alternative_key(who)
}

/// Dispatches a call signed by `ctx.origin` in the way `ctx.signed_with` says.
fn dispatch(call: Call, ctx: &DispatchContext<'_>) -> Result<(), DispatchError> {
    let who = ctx.origin.ensure_signed()?;
    let signed_with = ctx.signed_with;
    let r = match call {
        Call::SetRegularKey { key } => keys::do_set_regular_key(&who, key),
        Call::RemoveRegularKey => keys::do_remove_regular_key(&who),
        Call::DisableMaster => keys::do_disable_master(&who, signed_with),
        Call::EnableMaster => keys::do_enable_master(&who),
        Call::SetSigners { quorum, signers } => multisig::do_set_signers(&who, quorum, signers),
        Call::RemoveSigners => multisig::do_remove_signers(&who),
        Call::CreateTickets { count } => tickets::do_create_tickets(&who, count),
        Call::SetRequireDestTag { required } => deposit::do_set_require_dest_tag(&who, required),
        Call::SetDepositAuth { mode } => deposit::do_set_deposit_auth(&who, mode),
        Call::Preauthorize { sender } => deposit::do_preauthorize(&who, sender),
        Call::Unauthorize { sender } => deposit::do_unauthorize(&who, sender),
        Call::SetAllowedAssets { assets } => deposit::do_set_allowed_assets(&who, assets),
        Call::RequestDeposit { to, asset, amount } => {
            deposit::do_request_deposit(&who, to, asset, amount)
        }
        Call::CancelDepositRequest { to, asset } => {
            deposit::do_cancel_deposit_request(&who, to, asset)
        }
        Call::ApproveDeposit {
            from,
            asset,
            amount,
        } => deposit::do_approve_deposit(&who, from, asset, amount),
        Call::RejectDepositRequest { from, asset } => {
            deposit::do_reject_deposit_request(&who, from, asset)
        }
    };
    r.map_err(Into::into)
}

/// Everything this pallet keeps about `who`, for the account runtime API.
pub fn settings(who: &AccountId) -> AccountSettings {
    let fl = flags(who);
    AccountSettings {
        master_disabled: fl.master_disabled,
        regular_key: RegularKey::get(who),
        signer_list: SignerLists::get(who).map(|l| SignerListInfo {
            quorum: l.quorum,
            signers: l.signers.into_inner(),
        }),
        tickets: Tickets::get(who)
            .map(BoundedVec::into_inner)
            .unwrap_or_default(),
        require_dest_tag: fl.require_dest_tag,
        deposit_auth: fl.deposit_auth,
        preauthorized: Preauthorized::get(who)
            .map(BoundedVec::into_inner)
            .unwrap_or_default(),
        allowed_assets: AllowedAssets::get(who).map(BoundedVec::into_inner),
        deposit_requests: DepositRequests::get(who)
            .map(BoundedVec::into_inner)
            .unwrap_or_default(),
    }
}

fn strictly_ascending<T: Ord>(items: &[T]) -> bool {
    items.windows(2).all(|w| matches!(w, [a, b] if a < b))
}

/// Invariants of this pallet's state.
pub fn try_state() -> Result<(), &'static str> {
    for (who, fl) in Flags::iter() {
        if fl == AccountFlags::default() {
            return Err("default flags stored");
        }
        if fl.master_disabled && !has_alternative_key(&who) {
            return Err("master key disabled with no regular key and no signer list");
        }
    }
    for (who, key) in RegularKey::iter() {
        if key.account_id() == who {
            return Err("regular key is the master key");
        }
    }
    for (who, list) in SignerLists::iter() {
        multisig::check_list(&who, list.quorum, &list.signers)
            .map_err(|_| "signer list breaks its rules")?;
        if !strictly_ascending(&list.signers) {
            return Err("signer list not sorted by account");
        }
    }
    for (who, tickets) in Tickets::iter() {
        if tickets.is_empty() || !strictly_ascending(&tickets) {
            return Err("tickets empty or not strictly ascending");
        }
        let nonce = pallet_system::account_nonce(&who);
        if tickets.iter().any(|t| *t >= nonce) {
            return Err("a ticket is not below the account's nonce");
        }
    }
    for (who, senders) in Preauthorized::iter() {
        if senders.is_empty() || !strictly_ascending(&senders) || senders.contains(&who) {
            return Err("pre-authorised senders empty, unsorted or self");
        }
    }
    for (_, assets) in AllowedAssets::iter() {
        if !strictly_ascending(&assets) || !assets.iter().all(deposit::asset_is_valid) {
            return Err("allow-list unsorted or with an invalid asset");
        }
    }
    for (from, requests) in DepositRequests::iter() {
        if requests.is_empty() {
            return Err("empty deposit request list stored");
        }
        for (i, r) in requests.iter().enumerate() {
            if r.to == from || r.amount == 0 {
                return Err("deposit request to self or of zero");
            }
            if requests
                .iter()
                .skip(i.saturating_add(1))
                .any(|o| o.to == r.to && o.asset == r.asset)
            {
                return Err("two deposit requests for one recipient and asset");
            }
        }
    }
    Ok(())
}
