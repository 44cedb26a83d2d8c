//! The timestamp pallet: the block author sets the time by an inherent, once
//! per block, as in Substrate.

use codec::{Decode, DecodeWithMemTracking, Encode};
use qstack_runtime_primitives::storage::{EntryMeta, StorageValue};
use qstack_runtime_primitives::{storage_instance, DispatchError};
use scale_info::TypeInfo;

/// This pallet's permanent index.
pub const PALLET_INDEX: u8 = 1;
/// Inherent identifier of the timestamp (Substrate's `timstap0`).
pub const INHERENT_IDENTIFIER: [u8; 8] = *b"timstap0";
/// Minimum time between blocks, in milliseconds.
pub const MINIMUM_PERIOD_MS: u64 = 250;

/// Calls of the timestamp pallet.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Call {
    /// Sets the block time (inherent only).
    #[codec(index = 0)]
    Set {
        /// Milliseconds since the Unix epoch.
        #[codec(compact)]
        now: u64,
    },
}

/// Errors of the timestamp pallet.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Error {
    /// Set twice in one block.
    #[codec(index = 0)]
    AlreadyUpdated,
    /// Earlier than the previous block plus the minimum period.
    #[codec(index = 1)]
    TooEarly,
}

qstack_runtime_primitives::impl_module_error!(Error, PALLET_INDEX);

storage_instance!(
    /// `Timestamp.Now`.
    pub NowStorage, "Timestamp", "Now"
);
storage_instance!(
    /// `Timestamp.DidUpdate`.
    pub DidUpdateStorage, "Timestamp", "DidUpdate"
);
/// Current block time (ms).
pub type Now = StorageValue<NowStorage, u64>;
/// Whether the time was set in this block.
pub type DidUpdate = StorageValue<DidUpdateStorage, bool>;

/// Storage metadata.
pub fn storage_metadata() -> alloc::vec::Vec<EntryMeta> {
    alloc::vec![
        Now::meta("Current block time in ms."),
        DidUpdate::meta("Whether the time was set in this block.")
    ]
}

/// Dispatches a timestamp call.
pub fn dispatch(origin: crate::Origin, call: Call) -> Result<(), DispatchError> {
    match call {
        Call::Set { now } => {
            origin.ensure_none()?;
            if DidUpdate::get().unwrap_or(false) {
                return Err(Error::AlreadyUpdated.into());
            }
            let prev = Now::get().unwrap_or(0);
            if prev != 0 && now < prev.saturating_add(MINIMUM_PERIOD_MS) {
                return Err(Error::TooEarly.into());
            }
            Now::put(&now);
            DidUpdate::put(&true);
            Ok(())
        }
    }
}

/// End of block: the inherent must have run.
pub fn on_finalize() -> Result<(), &'static str> {
    if DidUpdate::get().unwrap_or(false) {
        DidUpdate::kill();
        Ok(())
    } else {
        Err("timestamp must be set once per block")
    }
}

/// The current time (ms).
pub fn now() -> u64 {
    Now::get().unwrap_or(0)
}
