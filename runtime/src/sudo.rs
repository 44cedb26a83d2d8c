//! Sudo, for development chains only: one key (the chain spec's
//! `sudo.key`) may dispatch any call as root, `set_code` included. A chain
//! spec without the field has no key, and every sudo call then fails with
//! `RequireSudo`: on a real chain root is reached only through governance.
//! Calls, events and errors keep Substrate's `pallet_sudo` names and
//! indices, so its tools recognise them.
//!
//! It lives in the runtime because it dispatches [`RuntimeCall`]s, which
//! only the runtime knows.

use crate::RuntimeCall;
use alloc::boxed::Box;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use qstack_core::AccountId;
use qstack_runtime_primitives::DispatchError;
use qstack_support::{storage, Dispatch, DispatchContext, GenesisError, Origin};
use scale_info::TypeInfo;

/// This pallet's permanent index in the qstack runtime.
pub const PALLET_INDEX: u8 = 10;

/// Weight of a sudo call beyond its inner call's: reading the key.
const SUDO_WEIGHT: u64 = 5_000_000;

/// Calls. Indices are Substrate's `pallet_sudo`.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Call {
    /// Dispatches `call` as root. The sudo call succeeds whether or not the
    /// inner call does; the `Sudid` event carries its result, and a failed
    /// inner call leaves no writes.
    #[codec(index = 0)]
    Sudo {
        /// The call to dispatch as root.
        call: Box<RuntimeCall>,
    },
    /// Hands the sudo key to `new`.
    #[codec(index = 2)]
    SetKey {
        /// The new key holder.
        new: AccountId,
    },
    /// Removes the sudo key for good: root is then reached only through
    /// governance.
    #[codec(index = 4)]
    RemoveKey,
}

/// Errors.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Error {
    /// The sender is not the sudo key (or the chain has none).
    #[codec(index = 0)]
    RequireSudo,
}

qstack_runtime_primitives::impl_module_error!(Error, PALLET_INDEX);

/// Events.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Event {
    /// A call was dispatched as root.
    #[codec(index = 0)]
    Sudid {
        /// The inner call's result.
        sudo_result: Result<(), DispatchError>,
    },
    /// The sudo key changed.
    #[codec(index = 1)]
    KeyChanged {
        /// The previous holder.
        old: Option<AccountId>,
        /// The new holder.
        new: AccountId,
    },
    /// The sudo key was removed.
    #[codec(index = 2)]
    KeyRemoved,
}

impl qstack_support::PalletEvent for Event {}

storage! { pallet = "Sudo";
    /// The sudo key (absent: no sudo on this chain).
    pub Key: value AccountId;
}

/// Genesis: `{"sudo": {"key": "q…"}}`; only development specs set it.
#[derive(Clone, PartialEq, Eq, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisConfig {
    /// The key holder's address.
    #[serde(default)]
    pub key: Option<alloc::string::String>,
}

/// The sudo pallet, as the runtime composes it.
pub struct Pallet;

impl qstack_support::Pallet for Pallet {
    const NAME: &'static str = "Sudo";
    const INDEX: u8 = PALLET_INDEX;
    const GENESIS_KEYS: &'static [&'static str] = &["sudo"];
    type Call = Call;
    type Event = Event;
    type Error = Error;
    type Genesis = GenesisConfig;

    fn build_genesis(config: &GenesisConfig) -> Result<(), GenesisError> {
        if let Some(key) = &config.key {
            Key::put(&qstack_support::genesis::account(key, "sudo.key")?);
        }
        Ok(())
    }
    fn storage() -> Vec<qstack_support::storage::EntryMeta> {
        storage_metadata()
    }
}

fn deposit(e: Event) {
    pallet_system::deposit_event_encoded(PALLET_INDEX, &e.encode());
}

/// The sudo key, if the chain has one.
pub fn key() -> Option<AccountId> {
    Key::get()
}

impl Dispatch for Call {
    /// The inner call's full weight (its storage included) plus the key check.
    fn weight(&self) -> u64 {
        match self {
            Call::Sudo { call } => call.weight().saturating_add(SUDO_WEIGHT),
            Call::SetKey { .. } | Call::RemoveKey => SUDO_WEIGHT,
        }
    }
    /// The key read and the event; the inner call's own storage is in its
    /// weight already.
    fn db_access(&self) -> qstack_support::DbAccess {
        qstack_support::DbAccess::new(2, 2)
    }
    fn is_known(index: u8) -> bool {
        matches!(index, 0 | 2 | 4)
    }
    fn dispatch(self, ctx: &DispatchContext<'_>) -> Result<(), DispatchError> {
        let who = ctx.origin.ensure_signed()?;
        if Key::get() != Some(who) {
            return Err(Error::RequireSudo.into());
        }
        match self {
            Call::Sudo { call } => {
                let root = DispatchContext::new(Origin::Root, ctx.version);
                let sudo_result = qstack_support::transactional(|| (*call).dispatch_in(&root));
                deposit(Event::Sudid { sudo_result });
                Ok(())
            }
            Call::SetKey { new } => {
                Key::put(&new);
                deposit(Event::KeyChanged {
                    old: Some(who),
                    new,
                });
                Ok(())
            }
            Call::RemoveKey => {
                Key::kill();
                deposit(Event::KeyRemoved);
                Ok(())
            }
        }
    }
}
