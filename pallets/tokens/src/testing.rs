//! Test support for pallets that move tokens: a signed call dispatched as
//! the executive does it (the call, then the reserve checks of every
//! account whose owner count rose, all undone on error), through
//! [`pallet_system::testing::dispatch_checked`], so a refused call is also
//! checked to have written nothing and no call to touch more storage than
//! it declares.

use pallet_system::testing::dispatch_checked;
use qstack_core::AccountId;
use qstack_io::storage;
use qstack_runtime_primitives::DispatchError;
use qstack_support::{Origin, SignedWith};

/// Dispatches `c` signed by `who`'s master key, then settles reserves.
pub fn call<C: qstack_support::Dispatch + core::fmt::Debug + Clone>(
    who: AccountId,
    c: C,
) -> Result<(), DispatchError> {
    storage::start_transaction();
    let r = dispatch_checked(Origin::Signed(who), SignedWith::Master, c)
        .and_then(|()| crate::settle_reserves());
    if r.is_ok() {
        storage::commit_transaction();
    } else {
        storage::rollback_transaction();
    }
    r
}
