//! Crash safety: a child process writes blocks to RocksDB in a loop and is
//! killed with SIGKILL at a random instant; the reopened store must hold a
//! complete last block (header, body, full state) and no half-pruned state.

use std::{
    collections::BTreeSet,
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use qstack_core::H256;
use qstack_runtime_primitives::{extrinsics_root, Digest, DigestItem, Header};
use qstack_storage::{ImportBatch, StorageError, Store};

use crate::common::{
    apply, assert_state, assert_state_column_is, body, config, genesis_delta, keep_last, Changes,
    State,
};

/// Tells the re-executed test binary to act as the writer, in this directory.
const CHILD_ENV: &str = "QSTACK_STORAGE_CRASH_DIR";
const WINDOW: u32 = 8;

fn key(i: u32) -> Vec<u8> {
    format!("crash/{i:03}").into_bytes()
}

fn genesis_state() -> State {
    (0..200)
        .map(|i| (key(i), format!("genesis-{i:036}").into_bytes()))
        .collect()
}

/// The writes of best-chain block `n` (or of its side block, with `side`).
fn changes(n: u32, side: bool) -> Changes {
    let tag = if side { "side" } else { "main" };
    let mut changes: Changes = (0..30)
        .map(|j| {
            let value = format!("{tag}-{n}-{j:032}").into_bytes();
            (key((n * 31 + j) % 200), Some(value))
        })
        .collect();
    if n.is_multiple_of(3) {
        changes.push((key((n * 17) % 200), None));
    }
    changes
}

/// The state of best-chain block `n`.
fn expected_state(n: u32) -> State {
    (1..=n).fold(genesis_state(), |state, i| {
        apply(&state, &changes(i, false))
    })
}

/// Builds and commits a child of `parent`.
fn commit(store: &Store, parent: &Header, n: u32, side: bool) {
    let (root, delta) = store
        .state_of(parent.hash())
        .expect("parent state")
        .apply_changes(
            changes(n, side)
                .iter()
                .map(|(k, v)| (k.as_slice(), v.as_deref())),
        )
        .expect("apply");
    let salt = u64::from(n) + if side { 1 << 40 } else { 0 };
    let extrinsics = body(salt, 2);
    let header = Header {
        parent_hash: parent.hash(),
        number: n,
        state_root: H256(root),
        extrinsics_root: extrinsics_root(&extrinsics),
        digest: Digest {
            logs: vec![DigestItem::Other(salt.to_le_bytes().to_vec())],
        },
    };
    let result = store.commit_block(ImportBatch {
        header,
        body: extrinsics,
        justification: None,
        state_delta: delta,
        new_best: !side,
        finalized: false,
    });
    match result {
        // A writer killed between the side block and the main block meets
        // its side block again after the restart.
        Err(StorageError::BlockExists { .. }) if side => {}
        other => other.expect("commit"),
    }
}

fn open(dir: &Path) -> Store {
    Store::open(dir, config(keep_last(WINDOW))).expect("open")
}

/// The writer: extends the best chain forever, adding a side block (a fork
/// that pruning later discards) every fourth height.
#[test]
#[ignore = "child role of crash_at_any_instant_leaves_a_complete_block"]
fn crash_child_writer() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let store = open(Path::new(&dir));
    if store.genesis_hash().unwrap().is_none() {
        let (root, delta) = genesis_delta(&genesis_state());
        store
            .commit_genesis(Header::genesis(H256(root)), delta)
            .unwrap();
    }
    loop {
        let (n, best) = store.best().unwrap().unwrap();
        let parent = store.header(best).unwrap().unwrap();
        if (n + 1) % 4 == 0 {
            commit(&store, &parent, n + 1, true);
        }
        commit(&store, &parent, n + 1, false);
    }
}

/// Checks the reopened store; returns the best number.
fn check_after_crash(dir: &Path) -> u32 {
    let store = open(dir);
    let Some((best_number, best)) = store.best().unwrap() else {
        // Killed before genesis was written: nothing is there at all.
        assert_eq!(store.genesis_hash().unwrap(), None);
        return 0;
    };
    let header = store.header(best).unwrap().expect("best header");
    assert_eq!(header.number, best_number);
    let expected_body = if best_number == 0 {
        vec![]
    } else {
        body(u64::from(best_number), 2)
    };
    assert_eq!(store.body(best).unwrap(), Some(expected_body));

    let prune_next = (best_number + 1).saturating_sub(WINDOW);
    let mut live_roots = BTreeSet::new();
    let mut hash = best;
    for n in (prune_next..=best_number).rev() {
        assert_eq!(store.hash_of(n).unwrap(), Some(hash));
        let header = store.header(hash).unwrap().expect("kept header");
        let state = expected_state(n);
        assert_eq!(header.state_root.0, qstack_trie::trie_root(state.iter()));
        assert_state(&store.state_of(hash).unwrap(), &state);
        live_roots.insert(header.state_root);
        for child in store.children(hash).unwrap() {
            if store.hash_of(n + 1).unwrap() != Some(child) {
                live_roots.insert(store.header(child).unwrap().unwrap().state_root);
            }
        }
        hash = header.parent_hash;
    }
    assert_state_column_is(&store, live_roots);
    best_number
}

/// Tiny xorshift, seeded from the clock: each run kills at other instants.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn crash_at_any_instant_leaves_a_complete_block() {
    let dir = tempfile::tempdir().unwrap();
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rng = Rng(seed | 1);
    let started = Instant::now();
    let mut last = 0;
    let db_dir = dir.path().join("db");
    let log = dir.path().join("writer.log");
    for iteration in 0..6 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "crash::crash_child_writer",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env(CHILD_ENV, &db_dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300 + rng.below(700)));
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "writer exited on its own with {status} (seed {seed}):\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let best = check_after_crash(&db_dir);
        assert!(
            best >= last,
            "best went back from {last} to {best} (seed {seed})"
        );
        eprintln!("crash iteration {iteration}: best #{best}");
        last = best;
    }
    assert!(last > 0, "the writer never committed a block (seed {seed})");
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// A crash while a new database is being created leaves only a staging
/// directory, which the next open replaces; the database directory itself is
/// always complete (RocksDB refuses a database missing some column families).
#[test]
fn interrupted_creation_is_redone_and_foreign_directories_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    let staging = dir.path().join("db.creating");
    std::fs::create_dir_all(&staging).expect("staging");
    std::fs::write(staging.join("LOCK"), b"left by a killed process").expect("write");
    let store = Store::open(&path, config(keep_last(4))).expect("open over leftovers");
    assert!(!staging.exists(), "staging directory renamed into place");
    assert!(store.best().expect("best").is_none());
    drop(store);
    Store::open(&path, config(keep_last(4))).expect("reopen");

    let foreign = dir.path().join("photos");
    std::fs::create_dir_all(&foreign).expect("dir");
    std::fs::write(foreign.join("cat.jpg"), b"meow").expect("write");
    let Err(err) = Store::open(&foreign, config(keep_last(4))) else {
        panic!("a foreign directory must be refused");
    };
    assert!(err.to_string().contains("not empty"), "{err}");
    assert!(
        foreign.join("cat.jpg").exists(),
        "nothing of the user's is lost"
    );
}
