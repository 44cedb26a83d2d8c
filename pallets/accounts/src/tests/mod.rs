//! Unit tests: every error of every call and every boundary, each asserting
//! the state and events after it; `try_state` runs at the end of every test.

mod auth;
mod deposit;
mod keys;
mod multisig;
mod prop;
mod tickets;

use crate::*;
use pallet_system::testing::dispatch_as as dispatch;
use qstack_core::crypto::{FalconPublic, MlDsaPublic};
use qstack_core::{AccountId, Nonce, PublicKey};
use qstack_io::TestExternalities;
use qstack_runtime_primitives::{AssetId, DispatchError, TokenCode};

/// An sr25519 master key for test account `n`.
pub(crate) fn sr_key(n: u8) -> PublicKey {
    PublicKey::Sr25519([n; 32])
}

/// A hybrid key (the bytes need not be a real key: nothing verifies here).
pub(crate) fn hybrid_key(n: u8) -> PublicKey {
    PublicKey::Hybrid(
        FalconPublic([n; FalconPublic::LEN]),
        MlDsaPublic([n; MlDsaPublic::LEN]),
    )
}

/// Account of test key `n`.
pub(crate) fn acc(n: u8) -> AccountId {
    sr_key(n).account_id()
}

pub(crate) const ALICE: u8 = 1;
pub(crate) const BOB: u8 = 2;
pub(crate) const CHARLIE: u8 = 3;

/// An issued asset of `issuer` with a three-letter code.
pub(crate) fn token(issuer: u8, code: &str) -> AssetId {
    AssetId::Issued {
        issuer: acc(issuer),
        code: TokenCode::parse(code).expect("valid code"),
    }
}

/// A fluent test scenario: accounts with registered master keys and nonces,
/// on System's base builder (which checks the invariants after the body).
pub(crate) struct Test(pallet_system::testing::Scenario);

impl Test {
    pub fn new() -> Self {
        Self(pallet_system::testing::Scenario::new())
    }

    /// Registers the sr25519 master key of test account `n` in `System`.
    pub fn account(self, n: u8) -> Self {
        Self(self.0.key(sr_key(n)))
    }

    /// Sets an account's nonce.
    pub fn nonce(self, who: AccountId, n: Nonce) -> Self {
        Self(self.0.nonce(who, n))
    }

    /// Runs `f` on fresh state, then the invariant checks.
    pub fn run(self, f: impl FnOnce()) {
        self.0.run::<Pallet>(|| {
            f();
            // The owner ledger counts exactly this pallet's objects.
            let mut owned = alloc::collections::BTreeMap::new();
            crate::owned_objects(&mut owned);
            let ledger: alloc::collections::BTreeMap<_, _> =
                pallet_system::owned::ledger().into_iter().collect();
            assert_eq!(owned, ledger, "owner ledger");
        })
    }
}

/// This pallet's events since the last call, oldest first (then forgets them).
pub(crate) fn take_events() -> Vec<Event> {
    pallet_system::testing::take_events_of::<Pallet>()
}

/// Dispatches `call` as the executive would: in a storage transaction that
/// an error rolls back.
pub(crate) fn call(who: u8, signed_with: SignedWith, call: Call) -> Result<(), DispatchError> {
    call_as(acc(who), signed_with, call)
}

pub(crate) fn call_as(
    who: AccountId,
    signed_with: SignedWith,
    call: Call,
) -> Result<(), DispatchError> {
    qstack_io::storage::start_transaction();
    let r = dispatch(pallet_system::Origin::Signed(who), signed_with, call);
    if r.is_ok() {
        qstack_io::storage::commit_transaction();
    } else {
        qstack_io::storage::rollback_transaction();
    }
    r
}

/// The storage root: equal before and after means nothing changed.
pub(crate) fn root() -> [u8; 32] {
    qstack_io::storage::root()
}

/// Asserts `f` fails with `err`, changes no state and emits no event.
#[track_caller]
pub(crate) fn assert_fails(err: Error, f: impl FnOnce() -> Result<(), DispatchError>) {
    let before = root();
    assert_eq!(f(), Err(err.into()));
    assert_eq!(root(), before, "a failed call changed state");
    assert_eq!(take_events(), vec![], "a failed call emitted events");
}

#[test]
fn only_signed_origins_dispatch() {
    Test::new().account(ALICE).run(|| {
        for origin in [pallet_system::Origin::Root, pallet_system::Origin::None] {
            assert_eq!(
                dispatch(origin, SignedWith::Master, Call::EnableMaster),
                Err(DispatchError::BadOrigin)
            );
        }
        assert_eq!(take_events(), vec![]);
    });
}

#[test]
fn settings_report_everything() {
    Test::new().account(ALICE).run(|| {
        assert_eq!(settings(&acc(ALICE)), Default::default());
        call(
            ALICE,
            SignedWith::Master,
            Call::SetRegularKey { key: hybrid_key(9) },
        )
        .unwrap();
        call(
            ALICE,
            SignedWith::Master,
            Call::SetSigners {
                quorum: 1,
                signers: vec![SignerEntry {
                    account: acc(BOB),
                    weight: 1,
                }],
            },
        )
        .unwrap();
        call(ALICE, SignedWith::Master, Call::DisableMaster).unwrap();
        call(ALICE, SignedWith::Regular, Call::CreateTickets { count: 2 }).unwrap();
        call(
            ALICE,
            SignedWith::Regular,
            Call::SetDepositAuth {
                mode: DepositAuth::Requests,
            },
        )
        .unwrap();
        call(
            ALICE,
            SignedWith::Regular,
            Call::SetAllowedAssets {
                assets: Some(vec![AssetId::Native]),
            },
        )
        .unwrap();
        let s = settings(&acc(ALICE));
        assert!(s.master_disabled);
        assert_eq!(s.regular_key, Some(hybrid_key(9)));
        assert_eq!(
            s.signer_list.map(|l| (l.quorum, l.signers.len())),
            Some((1, 1))
        );
        assert_eq!(s.tickets, vec![0, 1]);
        assert_eq!(s.deposit_auth, DepositAuth::Requests);
        assert_eq!(s.allowed_assets, Some(vec![AssetId::Native]));
        take_events();
    });
}

#[test]
fn try_state_catches_broken_invariants() {
    type Corruption = (&'static str, Box<dyn Fn()>);
    let broken: Vec<Corruption> = vec![
        (
            "master disabled, no alternative",
            Box::new(|| {
                Flags::insert(
                    &acc(ALICE),
                    &AccountFlags {
                        master_disabled: true,
                        ..Default::default()
                    },
                )
            }),
        ),
        (
            "default flags stored",
            Box::new(|| Flags::insert(&acc(ALICE), &AccountFlags::default())),
        ),
        (
            "regular key is master",
            Box::new(|| RegularKey::insert(&acc(ALICE), &sr_key(ALICE))),
        ),
        (
            "ticket at the nonce",
            Box::new(|| Tickets::insert(&acc(ALICE), &BoundedVec::try_from_vec(vec![0]).unwrap())),
        ),
        (
            "signer list with quorum above the total",
            Box::new(|| {
                SignerLists::insert(
                    &acc(ALICE),
                    &SignerList {
                        quorum: 3,
                        signers: BoundedVec::try_from_vec(vec![SignerEntry {
                            account: acc(BOB),
                            weight: 2,
                        }])
                        .unwrap(),
                    },
                )
            }),
        ),
        (
            "self pre-authorised",
            Box::new(|| {
                Preauthorized::insert(
                    &acc(ALICE),
                    &BoundedVec::try_from_vec(vec![acc(ALICE)]).unwrap(),
                )
            }),
        ),
        (
            "unsorted allow-list",
            Box::new(|| {
                let mut v = vec![AssetId::Native, token(BOB, "USD")];
                v.reverse();
                AllowedAssets::insert(&acc(ALICE), &BoundedVec::try_from_vec(v).unwrap())
            }),
        ),
        (
            "deposit request of zero",
            Box::new(|| {
                DepositRequests::insert(
                    &acc(ALICE),
                    &BoundedVec::try_from_vec(vec![DepositRequest {
                        to: acc(BOB),
                        asset: AssetId::Native,
                        amount: 0,
                        approved: false,
                    }])
                    .unwrap(),
                )
            }),
        ),
    ];
    for (what, corrupt) in broken {
        TestExternalities::new().execute_with(|| {
            assert_eq!(try_state(), Ok(()));
            corrupt();
            assert!(try_state().is_err(), "try_state missed: {what}");
        });
    }
}
