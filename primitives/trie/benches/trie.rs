//! State trie benchmarks: block change sets on a 100,000-entry state, roots,
//! and one-key read proofs.
#![allow(missing_docs)] // `criterion_group!` defines an undocumented pub fn

use std::{hint::black_box, time::Duration};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use qstack_core::hashing::blake2_256;
use qstack_trie::{
    empty_root, ordered_trie_root, trie_root, verify_read_proof, MemoryDB, TrieBackend,
};

const STATE_ENTRIES: u32 = 100_000;

/// A 32-byte key and 64-byte value, pseudo-random and distinct per (tag, i).
fn entry(tag: u8, i: u32) -> (Vec<u8>, Vec<u8>) {
    let mut seed = [tag; 5];
    seed[1..].copy_from_slice(&i.to_le_bytes());
    let key = blake2_256(&seed);
    let value = [blake2_256(&key), blake2_256(&blake2_256(&key))].concat();
    (key.to_vec(), value)
}

fn entries(tag: u8, n: u32) -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..n).map(|i| entry(tag, i)).collect()
}

/// A committed state of `STATE_ENTRIES` entries.
fn state() -> TrieBackend<MemoryDB> {
    let empty = TrieBackend::new(MemoryDB::default(), empty_root());
    let (root, changes) = empty
        .apply_changes(
            entries(0, STATE_ENTRIES)
                .iter()
                .map(|(k, v)| (&k[..], Some(&v[..]))),
        )
        .expect("build state");
    let mut store = MemoryDB::default();
    store.consolidate(changes);
    TrieBackend::new(store, root)
}

fn benches(c: &mut Criterion) {
    let state = state();

    for inserts in [1_000u32, 10_000] {
        let batch = entries(1, inserts);
        c.bench_function(&format!("apply_changes/{inserts}_inserts_into_100k"), |b| {
            b.iter(|| {
                let changes = batch.iter().map(|(k, v)| (&k[..], Some(&v[..])));
                black_box(state.apply_changes(changes).expect("apply"))
            })
        });
    }

    let all = entries(0, STATE_ENTRIES);
    c.bench_function("trie_root/100k_entries_unsorted", |b| {
        b.iter_batched(
            || all.clone(),
            |all| black_box(trie_root(all)),
            BatchSize::LargeInput,
        )
    });
    let extrinsics: Vec<Vec<u8>> = (0u32..1_000)
        .map(|i| blake2_256(&i.to_le_bytes()).repeat(6))
        .collect();
    c.bench_function("ordered_trie_root/1000_extrinsics_192B", |b| {
        b.iter(|| black_box(ordered_trie_root(&extrinsics)))
    });

    let (key, _) = entry(0, 4_242);
    c.bench_function("storage/read_one_key_100k", |b| {
        b.iter(|| black_box(state.storage(&key).expect("read")))
    });
    c.bench_function("read_proof/one_key_100k", |b| {
        b.iter(|| black_box(state.read_proof(&[&key]).expect("prove")))
    });
    let proof = state.read_proof(&[&key]).expect("prove");
    println!(
        "one-key proof on 100k entries: {} nodes, {} bytes",
        proof.nodes.len(),
        proof.encoded_nodes_len()
    );
    c.bench_function("verify_read_proof/one_key_100k", |b| {
        b.iter(|| black_box(verify_read_proof(state.root(), &proof, &[&key]).expect("verify")))
    });
}

fn config() -> Criterion {
    // Two cores, shared with builds: keep a run to a few minutes.
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! { name = trie; config = config(); targets = benches }
criterion_main!(trie);
