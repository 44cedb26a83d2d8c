//! A minimal native balance: genesis endowment, transfers and fee
//! withdrawal — enough to pay fees and move value until the tokens pallet
//! replaces it. Owns `Balances.*` storage only.
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)
)]

extern crate alloc;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use pallet_system::Origin;
use qstack_core::{AccountId, Balance};
use qstack_runtime_primitives::storage::{Blake2_128Concat, EntryMeta, StorageMap, StorageValue};
use qstack_runtime_primitives::{storage_instance, DispatchError};
use scale_info::TypeInfo;

/// This pallet's permanent index.
pub const PALLET_INDEX: u8 = 2;
/// Smallest balance an account may hold; below it the account is removed
/// (bounds state growth from dust accounts).
pub const EXISTENTIAL_DEPOSIT: Balance = 1_000;

/// Calls.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Call {
    /// Moves `value` from the signer to `dest`.
    #[codec(index = 0)]
    Transfer {
        /// Recipient.
        dest: AccountId,
        /// Amount.
        #[codec(compact)]
        value: Balance,
    },
}

impl Call {
    /// Weight (benchmarked units).
    pub fn weight(&self) -> u64 {
        match self {
            Call::Transfer { .. } => {
                2_000_000u64.saturating_add(pallet_accounts::weights::DEPOSIT_CHECK_WEIGHT)
            }
        }
    }
}

/// Errors.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Error {
    /// The sender's balance is too low.
    #[codec(index = 0)]
    InsufficientBalance,
    /// The transfer would leave or create an account below the existential deposit.
    #[codec(index = 1)]
    ExistentialDeposit,
    /// A balance would overflow.
    #[codec(index = 2)]
    Overflow,
}

qstack_runtime_primitives::impl_module_error!(Error, PALLET_INDEX);

/// Events.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Event {
    /// An account was created with a balance.
    #[codec(index = 0)]
    Endowed {
        /// The account.
        account: AccountId,
        /// Its balance.
        free_balance: Balance,
    },
    /// Value moved.
    #[codec(index = 2)]
    Transfer {
        /// Sender.
        from: AccountId,
        /// Recipient.
        to: AccountId,
        /// Amount.
        amount: Balance,
    },
    /// A fee was paid (and burned until the tokens pallet splits it).
    #[codec(index = 8)]
    Withdraw {
        /// Payer.
        who: AccountId,
        /// Amount.
        amount: Balance,
    },
}

/// Balance of an account.
#[derive(
    Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, DecodeWithMemTracking, TypeInfo,
)]
pub struct AccountData {
    /// Spendable balance.
    pub free: Balance,
}

storage_instance!(
    /// `Balances.Account`.
    pub AccountStorage, "Balances", "Account"
);
storage_instance!(
    /// `Balances.TotalIssuance`.
    pub TotalIssuanceStorage, "Balances", "TotalIssuance"
);
/// Balances by account (absent = zero).
pub type Account = StorageMap<AccountStorage, Blake2_128Concat, AccountId, AccountData>;
/// Sum of all balances.
pub type TotalIssuance = StorageValue<TotalIssuanceStorage, Balance>;

/// Storage metadata.
pub fn storage_metadata() -> Vec<EntryMeta> {
    alloc::vec![
        Account::meta("Balance of each account."),
        TotalIssuance::meta("Sum of all balances.")
    ]
}

fn deposit_event(e: Event) {
    pallet_system::deposit_event_encoded(PALLET_INDEX, &e.encode());
}

/// Free balance of `who`.
pub fn free_balance(who: &AccountId) -> Balance {
    Account::get(who).map(|a| a.free).unwrap_or(0)
}

fn set_free(who: &AccountId, free: Balance) {
    if free == 0 {
        Account::remove(who);
    } else {
        Account::insert(who, &AccountData { free });
    }
}

/// Creates balance at genesis.
pub fn endow(who: &AccountId, amount: Balance) -> Result<(), Error> {
    let new = free_balance(who)
        .checked_add(amount)
        .ok_or(Error::Overflow)?;
    let issuance = TotalIssuance::get()
        .unwrap_or(0)
        .checked_add(amount)
        .ok_or(Error::Overflow)?;
    set_free(who, new);
    TotalIssuance::put(&issuance);
    deposit_event(Event::Endowed {
        account: *who,
        free_balance: new,
    });
    Ok(())
}

/// Moves `value` from `from` to `to`, keeping both at zero or above the
/// existential deposit.
pub fn transfer(from: &AccountId, to: &AccountId, value: Balance) -> Result<(), Error> {
    let from_bal = free_balance(from);
    let left = from_bal
        .checked_sub(value)
        .ok_or(Error::InsufficientBalance)?;
    if left != 0 && left < EXISTENTIAL_DEPOSIT {
        return Err(Error::ExistentialDeposit);
    }
    if from != to {
        let to_bal = free_balance(to);
        let new_to = to_bal.checked_add(value).ok_or(Error::Overflow)?;
        if new_to < EXISTENTIAL_DEPOSIT {
            return Err(Error::ExistentialDeposit);
        }
        set_free(from, left);
        set_free(to, new_to);
    }
    deposit_event(Event::Transfer {
        from: *from,
        to: *to,
        amount: value,
    });
    Ok(())
}

/// Takes a fee from `who` (burned). Fails without touching state if the
/// balance is short. May empty the account (a fee never strands dust).
pub fn withdraw_fee(who: &AccountId, fee: Balance) -> Result<(), Error> {
    let bal = free_balance(who);
    let mut left = bal.checked_sub(fee).ok_or(Error::InsufficientBalance)?;
    let mut burned = fee;
    if left != 0 && left < EXISTENTIAL_DEPOSIT {
        // Sweep dust into the fee rather than keep an unusable account.
        burned = bal;
        left = 0;
    }
    set_free(who, left);
    TotalIssuance::mutate(|t| *t = Some(t.unwrap_or(0).saturating_sub(burned)));
    deposit_event(Event::Withdraw {
        who: *who,
        amount: burned,
    });
    Ok(())
}

/// Dispatches a balances call.
pub fn dispatch(origin: Origin, call: Call) -> Result<(), DispatchError> {
    match call {
        Call::Transfer { dest, value } => {
            let from = origin.ensure_signed()?;
            // The recipient's deposit rules (no destination tag: this minimal
            // transfer carries none; the tokens pallet's transfer will).
            pallet_accounts::ensure_deposit_allowed(
                &from,
                &dest,
                &qstack_runtime_primitives::AssetId::Native,
                value,
                None,
            )?;
            transfer(&from, &dest, value).map_err(Into::into)
        }
    }
}

/// Invariants: issuance equals the sum of balances; no account below the
/// existential deposit.
pub fn try_state() -> Result<(), &'static str> {
    let mut sum: Balance = 0;
    for (_, data) in Account::iter() {
        if data.free < EXISTENTIAL_DEPOSIT {
            return Err("account below existential deposit");
        }
        sum = sum.checked_add(data.free).ok_or("balance sum overflows")?;
    }
    if sum != TotalIssuance::get().unwrap_or(0) {
        return Err("total issuance differs from the sum of balances");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use qstack_io::TestExternalities;

    const A: AccountId = AccountId([1; 32]);
    const B: AccountId = AccountId([2; 32]);

    fn run(f: impl FnOnce()) {
        let mut t = TestExternalities::new();
        t.execute_with(|| {
            f();
            try_state().expect("invariants hold");
        });
    }

    #[test]
    fn transfer_boundaries() {
        run(|| {
            endow(&A, 10_000).unwrap();
            assert_eq!(transfer(&A, &B, 10_001), Err(Error::InsufficientBalance));
            assert_eq!(transfer(&A, &B, 999), Err(Error::ExistentialDeposit));
            assert_eq!(transfer(&A, &B, 9_500), Err(Error::ExistentialDeposit));
            transfer(&A, &B, 1_000).unwrap();
            transfer(&A, &B, 9_000).unwrap();
            assert_eq!(free_balance(&A), 0);
            assert!(!Account::contains_key(&A));
            assert_eq!(free_balance(&B), 10_000);
            assert_eq!(
                dispatch(Origin::None, Call::Transfer { dest: A, value: 1 }),
                Err(DispatchError::BadOrigin)
            );
        });
    }

    #[test]
    fn fee_sweeps_dust_and_keeps_issuance() {
        run(|| {
            endow(&A, 1_500).unwrap();
            assert_eq!(withdraw_fee(&A, 2_000), Err(Error::InsufficientBalance));
            assert_eq!(free_balance(&A), 1_500);
            withdraw_fee(&A, 600).unwrap();
            assert_eq!(free_balance(&A), 0);
            assert_eq!(TotalIssuance::get(), Some(0));
        });
    }
}
