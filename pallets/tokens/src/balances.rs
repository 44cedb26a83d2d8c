//! `Balances`: the native token under the name, calls and constant that
//! Substrate wallets use. polkadot.js apps' transfer dialog and
//! `api.derive.balances.*` look for a pallet called `Balances` with
//! `transfer_allow_death`, `transfer_keep_alive`, `transfer_all` and an
//! `ExistentialDeposit` constant; the balance itself they read from
//! `System.Account` (see [`pallet_system::AccountData`]).
//!
//! Nothing is stored here: each call is the native transfer of the tokens
//! pallet (the same rules, reserve checks and `Tokens.Transfer` event), so
//! there is one native token with two call names. Errors are the tokens
//! pallet's (they carry its index).

use crate::reserve::existential_deposit;
use crate::{free_balance, native, required_reserve};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use qstack_core::{AccountId, Balance};
use qstack_runtime_primitives::{DispatchError, MultiAddress};
use qstack_support::{Dispatch, DispatchContext};
use scale_info::TypeInfo;

/// This pallet's permanent index.
pub const PALLET_INDEX: u8 = 11;

/// Calls, with FRAME's `pallet_balances` names and indices (snake_case
/// variant names, as generic clients and wallets call them by name).
#[allow(non_camel_case_types)]
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Call {
    /// Sends `value` to `dest`; the sender may be emptied to zero if it
    /// owns nothing (else it keeps its reserve).
    #[codec(index = 0)]
    transfer_allow_death {
        /// Recipient.
        dest: MultiAddress,
        /// Amount, in the smallest unit.
        #[codec(compact)]
        value: Balance,
    },
    /// As `transfer_allow_death`, but refused if the sender would be left
    /// below the existential deposit.
    #[codec(index = 3)]
    transfer_keep_alive {
        /// Recipient.
        dest: MultiAddress,
        /// Amount, in the smallest unit.
        #[codec(compact)]
        value: Balance,
    },
    /// Sends everything the sender can: all of it if it owns nothing and
    /// `keep_alive` is false, else all above its reserve (the existential
    /// deposit, plus the owner reserve if it owns objects).
    #[codec(index = 4)]
    transfer_all {
        /// Recipient.
        dest: MultiAddress,
        /// Keep the sender at the existential deposit.
        keep_alive: bool,
    },
}

/// No errors of its own: the calls fail with the tokens pallet's.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Error {}

impl From<Error> for DispatchError {
    fn from(e: Error) -> Self {
        match e {}
    }
}

/// No events of its own: transfers emit `Tokens.Transfer`.
pub type Event = qstack_support::NoEvent;

/// The pallet, for `compose_runtime!`.
pub struct Pallet;

impl qstack_support::Pallet for Pallet {
    const NAME: &'static str = "Balances";
    const INDEX: u8 = PALLET_INDEX;
    type Call = Call;
    type Event = Event;
    type Error = Error;
    type Genesis = ();

    /// `ExistentialDeposit`: the chain's account reserve, read when the
    /// metadata is built (it is the chain spec's `tokens.reserves.account`,
    /// not a compile-time value).
    fn constants() -> Vec<qstack_support::ConstantMeta> {
        alloc::vec![qstack_support::ConstantMeta {
            name: "ExistentialDeposit",
            ty: scale_info::meta_type::<Balance>(),
            value: existential_deposit().encode(),
            docs: qstack_support::metadata::doc_line(
                "The smallest native balance an account may hold (the account reserve).",
            ),
        }]
    }
}

fn resolve(dest: MultiAddress) -> AccountId {
    match dest {
        MultiAddress::Id(id) => id,
        MultiAddress::Key(key) => key.account_id(),
    }
}

impl Dispatch for Call {
    fn weight(&self) -> u64 {
        crate::weights::TRANSFER.saturating_add(pallet_accounts::weights::DEPOSIT_CHECK_WEIGHT)
    }
    /// The native transfer's, plus the reserve read of `transfer_all`.
    fn db_access(&self) -> qstack_support::DbAccess {
        qstack_support::DbAccess::new(16, 6)
    }
    fn is_known(index: u8) -> bool {
        matches!(index, 0 | 3 | 4)
    }
    fn dispatch(self, ctx: &DispatchContext<'_>) -> Result<(), DispatchError> {
        let who = ctx.origin.ensure_signed()?;
        let (dest, value, keep_alive) = match self {
            Call::transfer_allow_death { dest, value } => (dest, value, false),
            Call::transfer_keep_alive { dest, value } => (dest, value, true),
            Call::transfer_all { dest, keep_alive } => {
                let free = free_balance(&who);
                let keep = if keep_alive || pallet_system::owned::owner_count(&who) > 0 {
                    required_reserve(&who)
                } else {
                    0
                };
                (dest, free.saturating_sub(keep), keep_alive)
            }
        };
        if keep_alive {
            let left = free_balance(&who)
                .checked_sub(value)
                .ok_or(crate::Error::InsufficientBalance)?;
            if left < existential_deposit() {
                return Err(crate::Error::ExistentialDeposit.into());
            }
        }
        native::transfer(&who, &resolve(dest), value, None, true)
    }
}
