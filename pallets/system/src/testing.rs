//! Test helpers every pallet's tests use (std only): dispatch as the
//! executive does, read a pallet's events, snapshot the state, and assert
//! that a refused call wrote nothing. They read the system pallet's event
//! layout, which is why they live here.

use crate::{EventCount, EventRecord, Phase};
use alloc::borrow::Cow;
use alloc::vec::Vec;
use codec::Decode;
use qstack_runtime_primitives::{DispatchError, RuntimeVersion};
use qstack_support::{Dispatch, DispatchContext, Origin, Pallet, SignedWith};

/// The runtime version pallet tests dispatch under.
pub const TEST_VERSION: RuntimeVersion = RuntimeVersion {
    spec_name: Cow::Borrowed("qstack"),
    impl_name: Cow::Borrowed("qstack-test"),
    authoring_version: 1,
    spec_version: 1,
    impl_version: 1,
    apis: Cow::Borrowed(&[]),
    transaction_version: 1,
    system_version: 0,
};

/// Dispatches `call` from `origin` (signed with the master key).
pub fn dispatch<C: Dispatch>(origin: Origin, call: C) -> Result<(), DispatchError> {
    dispatch_as(origin, SignedWith::Master, call)
}

/// Dispatches `call` from `origin`, signed `with`.
pub fn dispatch_as<C: Dispatch>(
    origin: Origin,
    with: SignedWith,
    call: C,
) -> Result<(), DispatchError> {
    call.dispatch(&DispatchContext::new(origin, &TEST_VERSION).signed_with(with))
}

/// Every key and value in state, in key order.
pub fn snapshot() -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut k = Vec::new();
    while let Some(next) = qstack_io::storage::next_key(&k) {
        if let Some(v) = qstack_io::storage::get(&next) {
            out.push((next.clone(), v));
        }
        k = next;
    }
    out
}

/// Dispatches like [`dispatch_as`] and, if the call is refused, asserts it
/// left the state exactly as it was (pallets check before they write, so
/// other pallets can call them without a transaction).
pub fn dispatch_checked<C: Dispatch + core::fmt::Debug + Clone>(
    origin: Origin,
    with: SignedWith,
    call: C,
) -> Result<(), DispatchError> {
    let before = snapshot();
    let r = dispatch_as(origin, with, call.clone());
    if r.is_err() {
        assert!(
            before == snapshot(),
            "a refused call wrote to state: {call:?} → {r:?}"
        );
    }
    r
}

/// `P`'s events deposited so far in this block, oldest first.
pub fn events_of<P: Pallet>() -> Vec<P::Event>
where
    P::Event: Decode,
{
    let count = EventCount::get().unwrap_or(0);
    let mut out = Vec::new();
    for i in 0..count {
        let raw = EventRecord::get(&i).expect("event record");
        let mut input = &raw[..];
        let _phase = Phase::decode(&mut input).expect("phase");
        let pallet = u8::decode(&mut input).expect("pallet index");
        if pallet == P::INDEX {
            out.push(P::Event::decode(&mut input).expect("event decodes"));
        }
    }
    out
}

/// `P`'s events so far, oldest first; then forgets every event.
pub fn take_events_of<P: Pallet>() -> Vec<P::Event>
where
    P::Event: Decode,
{
    let out = events_of::<P>();
    EventRecord::clear(None);
    EventCount::kill();
    out
}
