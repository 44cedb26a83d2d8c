//! Pool benchmarks with the toy validator (decode + two tags, no signature):
//! submitting 8,192 transactions into an empty pool, the ready order over a
//! full pool, and a submission into a full pool that must evict.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use qstack_core::H256;
use qstack_runtime_primitives::TransactionSource;
use qstack_txpool::testing::{ToyTx, ToyValidator};
use qstack_txpool::{Pool, PoolConfig};
use std::hint::black_box;

const TXS: usize = 8192;
const SENDERS: usize = 256;

/// 256 senders × 32 nonces, priorities spread, arriving nonce by nonce.
fn transactions() -> Vec<Vec<u8>> {
    (0..TXS)
        .map(|i| {
            let (nonce, sender) = (i / SENDERS, i % SENDERS);
            let priority = (i as u64).wrapping_mul(2_654_435_761) % 1000;
            ToyTx::new(sender as u8, nonce as u64, priority)
                .padded(100)
                .bytes()
        })
        .collect()
}

fn full_pool(txs: &[Vec<u8>], validator: &ToyValidator) -> Pool {
    let mut pool = Pool::new(PoolConfig::default());
    for xt in txs {
        pool.submit(
            H256::zero(),
            TransactionSource::External,
            xt.clone(),
            validator,
        )
        .expect("fits the default limits");
    }
    pool
}

fn bench(c: &mut Criterion) {
    let validator = ToyValidator::new();
    let txs = transactions();

    let mut g = c.benchmark_group("txpool");
    g.throughput(Throughput::Elements(TXS as u64));
    g.bench_function("submit 8192 (256 senders x 32 nonces)", |b| {
        b.iter_batched(
            || txs.clone(),
            |txs| {
                let mut pool = Pool::new(PoolConfig::default());
                for xt in txs {
                    let _ = black_box(pool.submit(
                        H256::zero(),
                        TransactionSource::External,
                        xt,
                        &validator,
                    ));
                }
                pool
            },
            BatchSize::LargeInput,
        )
    });

    let pool = full_pool(&txs, &validator);
    assert_eq!(pool.status().ready, TXS);
    g.bench_function("ready() over 8192", |b| b.iter(|| black_box(pool.ready())));
    g.bench_function("ready_iter().take(1000) over 8192", |b| {
        b.iter(|| black_box(pool.ready_iter().take(1000).count()))
    });

    g.throughput(Throughput::Elements(1));
    g.bench_function("submit into a full pool (evicts one)", |b| {
        b.iter_batched(
            || full_pool(&txs, &validator),
            |mut pool| {
                let xt = ToyTx::new(0, 32, 10_000).bytes();
                let s = pool
                    .submit(H256::zero(), TransactionSource::External, xt, &validator)
                    .expect("evicts a lower-priority one");
                assert_eq!(s.events.len(), 1);
                pool
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
