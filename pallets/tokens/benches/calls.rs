//! Weight of each tokens call: the native time of one dispatch on a
//! populated state (committed to an in-memory trie, so reads walk it), events
//! included. `Call::weight` declares these figures rounded up with a margin
//! for Wasm execution (see `pallet_tokens::weights`).
#![allow(missing_docs)] // criterion's macros generate undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use pallet_system::testing::dispatch;
use pallet_system::Origin;
use pallet_tokens::{endow, withdraw_fee, Call};
use qstack_core::AccountId;
use qstack_io::TestExternalities;
use qstack_runtime_primitives::{Digest, TokenCode};
use std::sync::atomic::AtomicU64;
use std::time::Duration;

const A: AccountId = AccountId([1; 32]);
const B: AccountId = AccountId([2; 32]);
const C: AccountId = AccountId([3; 32]);
const BIG: u128 = 1 << 100;

fn usd() -> TokenCode {
    TokenCode::Standard(*b"USD")
}

fn numbered(n: u64) -> AccountId {
    let mut id = [9u8; 32];
    id[24..].copy_from_slice(&n.to_le_bytes());
    AccountId(id)
}

fn ok(who: AccountId, call: Call) {
    dispatch(Origin::Signed(who), call).expect("benchmark call succeeds");
}

/// A chain with 200 funded accounts, A's USD held by all of them, B holding
/// and approving plenty; committed so that reads go through the trie.
fn populated() -> TestExternalities {
    let mut ext = TestExternalities::new();
    ext.execute_with(|| {
        for who in [A, B, C] {
            endow(&who, BIG).expect("endow");
        }
        ok(
            A,
            Call::Issue {
                code: usd(),
                name: b"US Dollar".to_vec(),
                symbol: b"USD".to_vec(),
                decimals: 2,
                max_supply: None,
            },
        );
        for i in 0..200 {
            endow(&numbered(i), 1_000_000).expect("endow");
            ok(
                A,
                Call::Mint {
                    code: usd(),
                    dest: numbered(i),
                    amount: 1_000,
                    dest_tag: None,
                },
            );
        }
        ok(
            A,
            Call::Mint {
                code: usd(),
                dest: B,
                amount: BIG,
                dest_tag: None,
            },
        );
        ok(
            B,
            Call::Approve {
                issuer: A,
                code: usd(),
                spender: C,
                amount: BIG,
            },
        );
        ok(
            A,
            Call::Freeze {
                code: usd(),
                holder: B,
                amount: Some(BIG / 2),
            },
        );
        pallet_system::DigestItems::put(&Digest::with_author(&C));
    });
    ext.commit_all();
    ext
}

/// Runs so far, over every sample: `f` gets a number never seen before (a
/// fresh issuer per `issue`).
static RUNS: AtomicU64 = AtomicU64::new(0);

/// Times `iters` runs of `f(n)` in chunks, clearing the block's events
/// between chunks (outside the timer) as a new block would.
fn timed(ext: &mut TestExternalities, iters: u64, f: impl Fn(u64)) -> Duration {
    pallet_system::testing::timed_runs(ext, iters, &RUNS, f)
}

fn bench(c: &mut Criterion, name: &str, f: impl Fn(u64) + Copy) {
    let mut ext = populated();
    c.bench_function(name, |b| b.iter_custom(|iters| timed(&mut ext, iters, f)));
}

fn calls(c: &mut Criterion) {
    bench(c, "transfer (native)", |_| {
        ok(
            A,
            Call::Transfer {
                dest: numbered(7),
                value: 1_000,
                dest_tag: Some(1),
            },
        )
    });
    bench(c, "issue", |i| {
        ok(
            numbered(1_000 + i),
            Call::Issue {
                code: usd(),
                name: [b'n'; 64].to_vec(),
                symbol: [b's'; 12].to_vec(),
                decimals: 2,
                max_supply: Some(BIG),
            },
        )
    });
    bench(c, "mint", |i| {
        ok(
            A,
            Call::Mint {
                code: usd(),
                dest: numbered(i % 200),
                amount: 1,
                dest_tag: None,
            },
        )
    });
    bench(c, "burn", |_| {
        ok(
            B,
            Call::Burn {
                issuer: A,
                code: usd(),
                amount: 1,
            },
        )
    });
    bench(c, "transfer_token", |i| {
        ok(
            B,
            Call::TransferToken {
                issuer: A,
                code: usd(),
                dest: numbered(i % 200),
                amount: 1,
                dest_tag: Some(1),
            },
        )
    });
    bench(c, "approve", |i| {
        ok(
            B,
            Call::Approve {
                issuer: A,
                code: usd(),
                spender: numbered(i % 100),
                amount: 1 + u128::from(i),
            },
        )
    });
    bench(c, "transfer_from", |i| {
        ok(
            C,
            Call::TransferFrom {
                issuer: A,
                code: usd(),
                owner: B,
                dest: numbered(i % 200),
                amount: 1,
                dest_tag: None,
            },
        )
    });
    bench(c, "freeze", |_| {
        ok(
            A,
            Call::Freeze {
                code: usd(),
                holder: B,
                amount: Some(1),
            },
        )
    });
    bench(c, "unfreeze", |_| {
        ok(
            A,
            Call::Unfreeze {
                code: usd(),
                holder: B,
                amount: Some(1),
            },
        )
    });
    bench(c, "pause + unpause (two calls)", |_| {
        ok(A, Call::Pause { code: usd() });
        ok(A, Call::Unpause { code: usd() });
    });
    bench(c, "withdraw_fee (author + treasury)", |_| {
        withdraw_fee(&A, 1_000_000).expect("fee")
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = calls
}
criterion_main!(benches);
