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
pub fn dispatch<C: Dispatch + core::fmt::Debug>(
    origin: Origin,
    call: C,
) -> Result<(), DispatchError> {
    dispatch_as(origin, SignedWith::Master, call)
}

/// Dispatches `call` from `origin`, signed `with`, and checks that it
/// touched no more storage than it declares ([`Dispatch::db_access`]): its
/// weight pays for no more. Every pallet's tests dispatch through here, so
/// every call is checked on every path its tests take.
pub fn dispatch_as<C: Dispatch + core::fmt::Debug>(
    origin: Origin,
    with: SignedWith,
    call: C,
) -> Result<(), DispatchError> {
    let declared = call.db_access();
    let name = alloc::format!("{call:?}");
    let before = qstack_io::counters::get();
    let r = call.dispatch(&DispatchContext::new(origin, &TEST_VERSION).signed_with(with));
    let after = qstack_io::counters::get();
    let (reads, writes) = (
        after.reads.saturating_sub(before.reads),
        after.writes.saturating_sub(before.writes),
    );
    // `QSTACK_DB_REPORT=1` prints every dispatch's count instead (to
    // calibrate the declarations).
    if std::env::var_os("QSTACK_DB_REPORT").is_some() {
        let head = name.split([' ', '(', '{']).next().unwrap_or_default();
        std::eprintln!(
            "db-access {head} reads {reads} writes {writes} ok {}",
            r.is_ok()
        );
        return r;
    }
    assert!(
        reads <= u64::from(declared.reads) && writes <= u64::from(declared.writes),
        "{name} made {reads} reads and {writes} writes; it declares {declared:?}"
    );
    r
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

/// The genesis hash of a [`Scenario`] past block 0.
pub const TEST_GENESIS: qstack_core::H256 = qstack_core::H256([0x47; 32]);

/// One step of a [`Scenario`]'s setup.
type Step = alloc::boxed::Box<dyn FnOnce()>;

/// The base every pallet's test scenario builds on: fresh state, then the
/// setup steps in order (a block number, pallets' genesis JSON, registered
/// master keys, account nonces, anything else), then the test body, then
/// the invariants of the pallet under test and of System. Events the setup
/// deposited are forgotten before the body runs, so the body sees only its
/// own. A pallet's own builder (funded accounts, issued tokens) wraps it
/// with [`Scenario::with`].
#[derive(Default)]
pub struct Scenario {
    steps: Vec<Step>,
}

impl Scenario {
    /// Fresh state at block 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs inside block `n` (`System::Number`) of a chain whose genesis
    /// hash is [`TEST_GENESIS`] (unless a step recorded another).
    pub fn at(self, n: qstack_core::BlockNumber) -> Self {
        self.with(move || {
            crate::Number::put(&n);
            if n > 0 && crate::BlockHash::get(&0).is_none() {
                crate::BlockHash::insert(&0, &TEST_GENESIS);
            }
        })
    }

    /// Builds `P`'s genesis from a chain-spec genesis patch (JSON text).
    pub fn genesis<P: Pallet>(self, json: &str) -> Self {
        let json = alloc::string::String::from(json);
        self.with(move || {
            let patch = qstack_support::genesis::parse_patch(&json).expect("test genesis is JSON");
            qstack_support::genesis::build::<P>(&patch).expect("valid test genesis");
        })
    }

    /// Registers `key` as its account's master key.
    pub fn key(self, key: qstack_core::PublicKey) -> Self {
        self.with(move || {
            crate::register_key(&key);
        })
    }

    /// Sets `who`'s nonce.
    pub fn nonce(self, who: qstack_core::AccountId, nonce: qstack_core::Nonce) -> Self {
        self.with(move || crate::mutate_account(&who, |a| a.nonce = nonce))
    }

    /// Any other setup step.
    pub fn with(mut self, step: impl FnOnce() + 'static) -> Self {
        self.steps.push(alloc::boxed::Box::new(step));
        self
    }

    /// Runs the setup, then `body`, then `P::try_state` and System's.
    pub fn run<P: Pallet>(self, body: impl FnOnce()) {
        qstack_io::TestExternalities::new().execute_with(|| {
            for step in self.steps {
                step();
            }
            EventRecord::clear(None);
            EventCount::kill();
            body();
            assert_eq!(P::try_state(), Ok(()), "{} invariants broken", P::NAME);
            assert_eq!(crate::try_state(), Ok(()), "System invariants broken");
        });
    }
}

/// Times `iters` runs of `f(n)` inside `ext`, for criterion's
/// `iter_custom`: in chunks of 1,000, clearing the block's events between
/// chunks (outside the timer) as a new block would. `n` counts on from
/// `runs` over every call, so a benchmark can give each run fresh accounts.
pub fn timed_runs(
    ext: &mut qstack_io::TestExternalities,
    iters: u64,
    runs: &core::sync::atomic::AtomicU64,
    f: impl Fn(u64),
) -> std::time::Duration {
    use core::sync::atomic::Ordering;
    let mut total = std::time::Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let chunk = iters.saturating_sub(done).min(1_000);
        let first = runs.fetch_add(chunk, Ordering::Relaxed);
        ext.execute_with(|| {
            let start = std::time::Instant::now();
            for n in first..first.saturating_add(chunk) {
                f(n);
            }
            total = total.saturating_add(start.elapsed());
            EventRecord::clear(None);
            EventCount::kill();
        });
        done = done.saturating_add(chunk);
    }
    total
}
