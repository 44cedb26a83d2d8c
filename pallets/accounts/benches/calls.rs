//! Weight benchmarks: every call of the accounts pallet in its worst case
//! (full lists, longest inputs), and the deposit check the token pallet runs
//! on every credit. Each iteration dispatches inside a storage transaction
//! that is then rolled back, so every iteration sees the same prepared state
//! (the transaction's cost is included: the executive pays it too).
//!
//! `cargo bench -p pallet-accounts`; the figures feed `src/weights.rs`.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use pallet_accounts::{ensure_deposit_allowed, Call, SignedWith};
use pallet_system::testing::dispatch_as as dispatch;
use qstack_core::crypto::{FalconPublic, MlDsaPublic};
use qstack_core::{AccountId, PublicKey};
use qstack_io::TestExternalities;
use qstack_runtime_primitives::{AssetId, DepositAuth, SignerEntry, TokenCode};
use std::hint::black_box;

fn key(n: u8) -> PublicKey {
    PublicKey::Sr25519([n; 32])
}

fn acc(n: u8) -> AccountId {
    key(n).account_id()
}

fn hybrid(n: u8) -> PublicKey {
    PublicKey::Hybrid(
        FalconPublic([n; FalconPublic::LEN]),
        MlDsaPublic([n; MlDsaPublic::LEN]),
    )
}

fn issued(n: u8) -> AssetId {
    AssetId::Issued {
        issuer: AccountId([n; 32]),
        code: TokenCode::parse("USD").expect("valid code"),
    }
}

const ALICE: u8 = 1;

fn run(who: u8, signed_with: SignedWith, call: Call) {
    dispatch(pallet_system::Origin::Signed(acc(who)), signed_with, call)
        .expect("setup call succeeds");
}

/// State with Alice's master key registered, then `setup` applied.
fn state(setup: impl FnOnce()) -> TestExternalities {
    let mut ext = TestExternalities::new();
    ext.execute_with(|| {
        pallet_system::register_key(&key(ALICE));
        setup();
    });
    ext.commit_all();
    ext
}

fn bench_call(
    c: &mut Criterion,
    name: &str,
    setup: impl FnOnce(),
    signed_with: SignedWith,
    call: Call,
) {
    let mut ext = state(setup);
    c.bench_function(name, |b| {
        b.iter(|| {
            ext.execute_with(|| {
                qstack_io::storage::start_transaction();
                let r = dispatch(
                    pallet_system::Origin::Signed(acc(ALICE)),
                    signed_with,
                    black_box(call.clone()),
                );
                qstack_io::storage::rollback_transaction();
                assert_eq!(r, Ok(()), "{name}");
            })
        })
    });
}

fn signers(n: u8) -> Vec<SignerEntry> {
    (0..n)
        .rev()
        .map(|i| SignerEntry {
            account: AccountId([i; 32]),
            weight: 1,
        })
        .collect()
}

fn sixteen_requests() {
    for to in 100..116u8 {
        run(
            to,
            SignedWith::Master,
            Call::SetDepositAuth {
                mode: DepositAuth::Requests,
            },
        );
        run(
            ALICE,
            SignedWith::Master,
            Call::RequestDeposit {
                to: acc(to),
                asset: issued(to),
                amount: 1_000,
            },
        );
    }
}

fn calls(c: &mut Criterion) {
    let with_regular = || {
        run(
            ALICE,
            SignedWith::Master,
            Call::SetRegularKey { key: hybrid(9) },
        )
    };
    bench_call(
        c,
        "set_regular_key (hybrid)",
        || {},
        SignedWith::Master,
        Call::SetRegularKey { key: hybrid(9) },
    );
    bench_call(
        c,
        "remove_regular_key",
        with_regular,
        SignedWith::Regular,
        Call::RemoveRegularKey,
    );
    bench_call(
        c,
        "disable_master",
        with_regular,
        SignedWith::Master,
        Call::DisableMaster,
    );
    bench_call(
        c,
        "enable_master",
        || {
            with_regular();
            run(ALICE, SignedWith::Master, Call::DisableMaster);
        },
        SignedWith::Regular,
        Call::EnableMaster,
    );
    bench_call(
        c,
        "set_signers (32)",
        || {},
        SignedWith::Master,
        Call::SetSigners {
            quorum: 32,
            signers: signers(32),
        },
    );
    bench_call(
        c,
        "remove_signers (32)",
        || {
            run(
                ALICE,
                SignedWith::Master,
                Call::SetSigners {
                    quorum: 32,
                    signers: signers(32),
                },
            )
        },
        SignedWith::Master,
        Call::RemoveSigners,
    );
    bench_call(
        c,
        "create_tickets (250)",
        || {},
        SignedWith::Master,
        Call::CreateTickets { count: 250 },
    );
    bench_call(
        c,
        "set_require_dest_tag",
        || {},
        SignedWith::Master,
        Call::SetRequireDestTag { required: true },
    );
    bench_call(
        c,
        "set_deposit_auth",
        || {},
        SignedWith::Master,
        Call::SetDepositAuth {
            mode: DepositAuth::Requests,
        },
    );
    let preauth_63 = || {
        for i in 0..63u8 {
            run(
                ALICE,
                SignedWith::Master,
                Call::Preauthorize {
                    sender: AccountId([i.wrapping_mul(4); 32]),
                },
            );
        }
    };
    bench_call(
        c,
        "preauthorize (into 63)",
        preauth_63,
        SignedWith::Master,
        Call::Preauthorize {
            sender: AccountId([1; 32]),
        },
    );
    bench_call(
        c,
        "unauthorize (from 64)",
        || {
            preauth_63();
            run(
                ALICE,
                SignedWith::Master,
                Call::Preauthorize {
                    sender: AccountId([1; 32]),
                },
            );
        },
        SignedWith::Master,
        Call::Unauthorize {
            sender: AccountId([1; 32]),
        },
    );
    bench_call(
        c,
        "set_allowed_assets (32)",
        || {},
        SignedWith::Master,
        Call::SetAllowedAssets {
            assets: Some((0..32u8).rev().map(issued).collect()),
        },
    );
    bench_call(
        c,
        "request_deposit (16th)",
        || {
            sixteen_requests();
            run(
                ALICE,
                SignedWith::Master,
                Call::CancelDepositRequest {
                    to: acc(115),
                    asset: issued(115),
                },
            );
        },
        SignedWith::Master,
        Call::RequestDeposit {
            to: acc(115),
            asset: issued(115),
            amount: 1_000,
        },
    );
    bench_call(
        c,
        "cancel_deposit_request (last of 16)",
        sixteen_requests,
        SignedWith::Master,
        Call::CancelDepositRequest {
            to: acc(115),
            asset: issued(115),
        },
    );
    // Approve and reject are signed by the recipient: prepare Alice's
    // requests, then dispatch as recipient 115.
    for (name, call) in [
        (
            "approve_deposit (last of 16)",
            Call::ApproveDeposit {
                from: acc(ALICE),
                asset: issued(115),
                amount: 1_000,
            },
        ),
        (
            "reject_deposit_request (last of 16)",
            Call::RejectDepositRequest {
                from: acc(ALICE),
                asset: issued(115),
            },
        ),
    ] {
        let mut ext = state(sixteen_requests);
        c.bench_function(name, |b| {
            b.iter(|| {
                ext.execute_with(|| {
                    qstack_io::storage::start_transaction();
                    let r = dispatch(
                        pallet_system::Origin::Signed(acc(115)),
                        SignedWith::Master,
                        black_box(call.clone()),
                    );
                    qstack_io::storage::rollback_transaction();
                    assert_eq!(r, Ok(()), "{name}");
                })
            })
        });
    }
}

fn deposit_check(c: &mut Criterion) {
    // Worst case: recipient 115 requires a tag, refuses all but 32 assets,
    // takes deposits by request with 64 pre-authorised senders (not Alice);
    // Alice's approved request is the last of 16 and gets spent.
    let mut ext = state(|| {
        sixteen_requests();
        run(
            115,
            SignedWith::Master,
            Call::SetRequireDestTag { required: true },
        );
        let mut assets: Vec<AssetId> = (0..31u8).map(issued).collect();
        assets.push(issued(115));
        run(
            115,
            SignedWith::Master,
            Call::SetAllowedAssets {
                assets: Some(assets),
            },
        );
        for i in 0..64u8 {
            run(
                115,
                SignedWith::Master,
                Call::Preauthorize {
                    sender: AccountId([i; 32]),
                },
            );
        }
        run(
            115,
            SignedWith::Master,
            Call::ApproveDeposit {
                from: acc(ALICE),
                asset: issued(115),
                amount: 1_000,
            },
        );
    });
    c.bench_function("ensure_deposit_allowed (worst case)", |b| {
        b.iter(|| {
            ext.execute_with(|| {
                qstack_io::storage::start_transaction();
                let r = ensure_deposit_allowed(
                    &acc(ALICE),
                    &acc(115),
                    &issued(115),
                    black_box(1_000),
                    Some(7),
                );
                qstack_io::storage::rollback_transaction();
                assert_eq!(r, Ok(()));
            })
        })
    });
}

criterion_group!(benches, calls, deposit_check);
criterion_main!(benches);
