//! The timestamp pallet: the block author sets the time by an inherent, once
//! per block, as in Substrate.

use codec::{Decode, DecodeWithMemTracking, Encode};
use qstack_runtime_primitives::DispatchError;
use qstack_support::{constants, storage, Dispatch, DispatchContext, InherentData, NoEvent};
use scale_info::TypeInfo;

/// This pallet's permanent index.
pub const PALLET_INDEX: u8 = 1;
/// Inherent identifier of the timestamp (Substrate's `timstap0`).
pub const INHERENT_IDENTIFIER: [u8; 8] = *b"timstap0";

constants! {
    /// Minimum ms between blocks.
    MinimumPeriod: pub const MINIMUM_PERIOD_MS: u64 = 250;
}

/// The timestamp pallet, as the runtime composes it. It has no events.
pub struct Pallet;

/// This pallet has no events.
pub type Event = NoEvent;

impl qstack_support::Pallet for Pallet {
    const NAME: &'static str = "Timestamp";
    const INDEX: u8 = PALLET_INDEX;
    type Call = Call;
    type Event = NoEvent;
    type Error = Error;
    type Genesis = ();

    fn storage() -> alloc::vec::Vec<qstack_support::storage::EntryMeta> {
        storage_metadata()
    }
    fn constants() -> alloc::vec::Vec<qstack_support::ConstantMeta> {
        constants_metadata()
    }
    /// The inherent must have run.
    fn on_finalize() -> Result<(), &'static str> {
        on_finalize()
    }
    /// `timstap0`: SCALE `u64`, milliseconds since the Unix epoch.
    fn create_inherent(data: &InherentData) -> Option<Call> {
        let now = data
            .get(&INHERENT_IDENTIFIER)
            .and_then(|raw| u64::decode(&mut &raw[..]).ok())?;
        Some(Call::Set { now })
    }
    fn is_inherent(_call: &Call) -> bool {
        true
    }
}

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

storage! { pallet = "Timestamp";
    /// Current block time in ms.
    pub Now: value u64;
    /// Whether the time was set in this block.
    pub DidUpdate: value bool;
}

impl Dispatch for Call {
    fn weight(&self) -> u64 {
        5_000_000
    }
    /// The time, the once-per-block flag and the previous time.
    fn db_access(&self) -> qstack_support::DbAccess {
        qstack_support::DbAccess::new(4, 3)
    }
    fn is_known(index: u8) -> bool {
        index == 0
    }
    /// Inherent only, once per block, not before the previous block's time
    /// plus [`MINIMUM_PERIOD_MS`].
    fn dispatch(self, ctx: &DispatchContext<'_>) -> Result<(), DispatchError> {
        match self {
            Call::Set { now } => {
                ctx.origin.ensure_none()?;
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
