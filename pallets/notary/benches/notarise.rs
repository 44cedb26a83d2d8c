//! Weight of `notarise`: the native time of one dispatch on a state holding
//! 10,000 notes (committed to an in-memory trie, so reads walk it), event
//! included. `NOTARISE_WEIGHT` declares it rounded up with a margin for
//! Wasm execution.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use pallet_notary::Call;
use pallet_system::testing::dispatch;
use pallet_system::Origin;
use qstack_core::{AccountId, H256};
use qstack_io::TestExternalities;
use std::time::{Duration, Instant};

fn hash(n: u64, tag: u8) -> H256 {
    let mut h = [tag; 32];
    h[..8].copy_from_slice(&n.to_le_bytes());
    H256(h)
}

fn notarise(c: &mut Criterion) {
    let mut ext = TestExternalities::new();
    ext.execute_with(|| {
        for i in 0..10_000u64 {
            let owner = AccountId(hash(i % 100, 1).0);
            dispatch(Origin::Signed(owner), Call::Notarise { hash: hash(i, 2) })
                .expect("setup notarise");
        }
        pallet_system::EventRecord::clear(None);
        pallet_system::EventCount::kill();
    });
    ext.commit_all();
    let mut next = 0u64;
    c.bench_function("notarise", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            ext.execute_with(|| {
                for _ in 0..iters {
                    next += 1;
                    let call = Call::Notarise {
                        hash: hash(next, 3),
                    };
                    let who = AccountId(hash(next % 1_000, 4).0);
                    let start = Instant::now();
                    dispatch(Origin::Signed(who), call).expect("notarise");
                    total += start.elapsed();
                }
                pallet_system::EventRecord::clear(None);
                pallet_system::EventCount::kill();
            });
            total
        })
    });
}

criterion_group!(benches, notarise);
criterion_main!(benches);
