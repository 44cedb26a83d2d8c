//! `qstack benchmark db`: the physical floor the runtime's database weights
//! price. A state of `--keys` storage-map entries in RocksDB (the node's
//! own store, trie and node cache), then: random reads of present and
//! absent keys through the trie, and blocks that each change `--changed`
//! random keys (trie update and commit, timed together), so one write's
//! cost includes its share of the commit. Printed beside the runtime's
//! `DB_READ_WEIGHT` and `DB_WRITE_WEIGHT`: a ratio above 1 means the
//! declared weight covers the measurement.

use anyhow::{Context, Result};
use codec::Encode;
use qstack_core::{hashing::blake2_256, H256};
use qstack_runtime_primitives::{Digest, DigestItem, Header};
use qstack_storage::{ImportBatch, Store, StoreConfig};
use qstack_trie::{MemoryDB, TrieBackend, EMPTY_ROOT};
use std::time::Instant;

/// `qstack benchmark db` options.
#[derive(clap::Args, Debug)]
pub struct DbArgs {
    /// Entries in the state.
    #[arg(long, default_value_t = 200_000)]
    keys: u64,
    /// Blocks committed (each changes `--changed` keys).
    #[arg(long, default_value_t = 20)]
    blocks: u32,
    /// Keys each block changes.
    #[arg(long, default_value_t = 1_000)]
    changed: u64,
    /// Random reads timed (half of present keys, half of absent ones).
    #[arg(long, default_value_t = 20_000)]
    reads: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// A storage-map style key: a pallet/item prefix and a hashed item key.
fn key(i: u64) -> Vec<u8> {
    let mut key = blake2_256(b"bench/map")[..16].to_vec();
    let h = blake2_256(&i.to_le_bytes());
    key.extend_from_slice(&h[..16]);
    key.extend_from_slice(&i.to_le_bytes());
    key
}

fn value(i: u64, block: u64) -> Vec<u8> {
    (i, block, [7u8; 16]).encode()
}

/// xorshift, for reproducible key choices.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[derive(serde::Serialize, Debug)]
struct DbResult {
    keys: u64,
    read_present_ns: f64,
    read_absent_ns: f64,
    write_ns: f64,
    declared_read_ns: f64,
    declared_write_ns: f64,
    read_cover: f64,
    write_cover: f64,
}

/// Runs `qstack benchmark db`.
pub fn run(args: DbArgs) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path().join("db"), StoreConfig::default())?;
    let pairs: Vec<_> = (0..args.keys).map(|i| (key(i), value(i, 0))).collect();
    let (root, delta) = TrieBackend::new(MemoryDB::default(), EMPTY_ROOT).apply_changes(
        pairs
            .iter()
            .map(|(k, v)| (k.as_slice(), Some(v.as_slice()))),
    )?;
    drop(pairs);
    let mut best = Header::genesis(H256(root));
    store
        .commit_genesis(best.clone(), delta)
        .context("committing the benchmark state")?;

    // Writes: trie update plus commit, per changed key.
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let started = Instant::now();
    for b in 1..=u64::from(args.blocks) {
        let writes: Vec<_> = (0..args.changed)
            .map(|_| {
                let i = next(&mut rng) % args.keys;
                (key(i), value(i, b))
            })
            .collect();
        let (root, delta) = store.state_of(best.hash())?.apply_changes(
            writes
                .iter()
                .map(|(k, v)| (k.as_slice(), Some(v.as_slice()))),
        )?;
        let header = Header {
            parent_hash: best.hash(),
            number: best.number + 1,
            state_root: H256(root),
            extrinsics_root: qstack_runtime_primitives::extrinsics_root::<
                qstack_runtime_primitives::OpaqueExtrinsic,
            >(&[]),
            digest: Digest {
                logs: vec![DigestItem::Other(b.to_le_bytes().to_vec())],
            },
        };
        store.commit_block(ImportBatch {
            header: header.clone(),
            body: Vec::new(),
            justification: None,
            state_delta: delta,
            new_best: true,
            finalized: false,
        })?;
        best = header;
    }
    let writes = u64::from(args.blocks) * args.changed;
    let write_ns = started.elapsed().as_nanos() as f64 / writes.max(1) as f64;

    // Reads through the trie of the best state.
    let state = store.state_of(best.hash())?;
    let half = (args.reads / 2).max(1);
    let started = Instant::now();
    for _ in 0..half {
        let i = next(&mut rng) % args.keys;
        std::hint::black_box(state.storage(&key(i))?);
    }
    let read_present_ns = started.elapsed().as_nanos() as f64 / half as f64;
    let started = Instant::now();
    for _ in 0..half {
        let i = args.keys + next(&mut rng) % args.keys;
        std::hint::black_box(state.storage(&key(i))?);
    }
    let read_absent_ns = started.elapsed().as_nanos() as f64 / half as f64;

    let declared_read_ns = qstack_support::DB_READ_WEIGHT as f64 / 1_000.0;
    let declared_write_ns = qstack_support::DB_WRITE_WEIGHT as f64 / 1_000.0;
    let r = DbResult {
        keys: args.keys,
        read_present_ns,
        read_absent_ns,
        write_ns,
        declared_read_ns,
        declared_write_ns,
        read_cover: declared_read_ns / read_present_ns.max(read_absent_ns),
        write_cover: declared_write_ns / write_ns,
    };
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "state of {} keys on RocksDB\n\
             read (present)   {:>10.0} ns\n\
             read (absent)    {:>10.0} ns   declared {:.0} ns  ({:.2}x)\n\
             write (+commit)  {:>10.0} ns   declared {:.0} ns  ({:.2}x)",
            r.keys,
            r.read_present_ns,
            r.read_absent_ns,
            r.declared_read_ns,
            r.read_cover,
            r.write_ns,
            r.declared_write_ns,
            r.write_cover
        );
    }
    Ok(())
}
