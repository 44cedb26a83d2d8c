//! Chain database throughput on RocksDB: committing blocks that each change
//! 1,000 keys of a 100,000-key state, and reading single keys of the best
//! state.
//!
//! `cargo bench -p qstack-storage --bench storage`
#![allow(missing_docs, clippy::unwrap_used)]

use std::{
    cell::Cell,
    time::{Duration, Instant},
};

use codec::Encode;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use qstack_core::{hashing::blake2_256, H256};
use qstack_runtime_primitives::{extrinsics_root, Digest, DigestItem, Header, OpaqueExtrinsic};
use qstack_storage::{ImportBatch, Store, StoreConfig};
use qstack_trie::{MemoryDB, TrieBackend, EMPTY_ROOT};

const STATE_KEYS: u64 = 100_000;
const CHANGED_KEYS: u64 = 1_000;

/// A storage-map style key: a fixed pallet prefix and a hashed item key.
fn key(i: u64) -> Vec<u8> {
    let mut key = b"bench-pallet/map/".to_vec();
    key.extend_from_slice(&blake2_256(&i.to_le_bytes()));
    key
}

fn value(i: u64, block: u64) -> Vec<u8> {
    (i, block, [7u8; 32]).encode()
}

/// xorshift, for reproducible key choices.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

struct Bench {
    store: Store,
    best: Header,
    rng: u64,
    _dir: tempfile::TempDir,
}

impl Bench {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
        let pairs: Vec<(Vec<u8>, Vec<u8>)> =
            (0..STATE_KEYS).map(|i| (key(i), value(i, 0))).collect();
        let (root, delta) = TrieBackend::new(MemoryDB::default(), EMPTY_ROOT)
            .apply_changes(
                pairs
                    .iter()
                    .map(|(k, v)| (k.as_slice(), Some(v.as_slice()))),
            )
            .unwrap();
        let genesis = Header::genesis(H256(root));
        store.commit_genesis(genesis.clone(), delta).unwrap();
        Self {
            store,
            best: genesis,
            rng: 0x9e37_79b9_7f4a_7c15,
            _dir: dir,
        }
    }

    /// The next best block, built but not committed.
    fn next_block(&mut self) -> ImportBatch {
        let number = u64::from(self.best.number) + 1;
        let writes: Vec<(Vec<u8>, Vec<u8>)> = (0..CHANGED_KEYS)
            .map(|_| {
                let i = next(&mut self.rng) % STATE_KEYS;
                (key(i), value(i, number))
            })
            .collect();
        let (root, delta) = self
            .store
            .state_of(self.best.hash())
            .unwrap()
            .apply_changes(
                writes
                    .iter()
                    .map(|(k, v)| (k.as_slice(), Some(v.as_slice()))),
            )
            .unwrap();
        let body: Vec<OpaqueExtrinsic> = (0..10u64)
            .map(|i| OpaqueExtrinsic::from_encoded((number, i, [1u8; 100]).encode().encode()))
            .collect();
        let header = Header {
            parent_hash: self.best.hash(),
            number: self.best.number + 1,
            state_root: H256(root),
            extrinsics_root: extrinsics_root(&body),
            digest: Digest {
                logs: vec![DigestItem::Other(number.to_le_bytes().to_vec())],
            },
        };
        self.best = header.clone();
        ImportBatch {
            header,
            body,
            justification: None,
            state_delta: delta,
            new_best: true,
            finalized: false,
        }
    }
}

fn storage(c: &mut Criterion) {
    let mut bench = Bench::new();
    let nodes = Cell::new(0u64);
    let commit_time = Cell::new(Duration::ZERO);

    let mut group = c.benchmark_group("storage");
    group.throughput(Throughput::Elements(1));
    group.bench_function("commit_block_1000_keys", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let batch = bench.next_block();
                nodes.set(nodes.get() + batch.state_delta.keys().len() as u64);
                let started = Instant::now();
                bench.store.commit_block(batch).unwrap();
                total += started.elapsed();
            }
            commit_time.set(commit_time.get() + total);
            total
        })
    });
    eprintln!(
        "commit_block: {} blocks, {:.0} state-delta entries (trie nodes) per block, {:.0} nodes/s",
        bench.best.number,
        nodes.get() as f64 / f64::from(bench.best.number),
        nodes.get() as f64 / commit_time.get().as_secs_f64()
    );

    let state = bench.store.state_of(bench.best.hash()).unwrap();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    group.bench_function("state_read_random_key", |b| {
        b.iter(|| {
            let i = next(&mut rng) % STATE_KEYS;
            std::hint::black_box(state.storage(&key(i)).unwrap())
        })
    });
    group.bench_function("state_read_absent_key", |b| {
        b.iter(|| {
            let i = STATE_KEYS + next(&mut rng) % STATE_KEYS;
            std::hint::black_box(state.storage(&key(i)).unwrap())
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = storage
}
criterion_main!(benches);
