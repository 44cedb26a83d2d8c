//! Store tests: round trips, corruption at every byte, torn tails at every
//! offset, truncation and the size bound.

use super::*;
use crate::bft::{SignedVote, Step, Vote, VoteKind};
use qstack_core::{KeyScheme, Pair, H256};
use std::path::Path;

fn state(h: Height, r: u32, s: Step) -> SignerState {
    SignerState {
        last: Some((h, r, s)),
        locks: None,
    }
}

fn vote(height: Height, round: u32) -> Message {
    // Key derivation is slow in debug builds: once.
    static PAIR: std::sync::OnceLock<Pair> = std::sync::OnceLock::new();
    let pair =
        PAIR.get_or_init(|| Pair::from_suri(KeyScheme::Sr25519, "//store").expect("dev key"));
    Message::Vote(SignedVote::sign(
        pair,
        &H256([7; 32]),
        Vote {
            height,
            round,
            kind: VoteKind::Prevote,
            value: Some(H256([0xA; 32])),
            validator: 1,
        },
    ))
}

fn records() -> Vec<WalRecord> {
    vec![
        WalRecord::Received(Message::Status(5)),
        WalRecord::Sent(vote(5, 0)),
        WalRecord::Received(vote(5, 1)),
        WalRecord::Sent(Message::Status(6)),
    ]
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).expect("metadata").len()
}

fn flip_byte(path: &Path, at: usize) {
    let mut bytes = fs::read(path).expect("read");
    bytes[at] ^= 0x40;
    fs::write(path, bytes).expect("write");
}

// --- signer -----------------------------------------------------------------

#[test]
fn signer_missing_file_is_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, loaded) = SignerStore::open(dir.path().join("signer")).expect("open");
    assert_eq!(loaded, None);
    assert_eq!(store.stored(), SignerState::default());
    assert!(!dir.path().join("signer").exists(), "open creates nothing");
}

#[test]
fn signer_persist_then_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("signer");
    for s in [
        SignerState::default(),
        state(1, 0, Step::Propose),
        state(1, 0, Step::Precommit),
        state(1, 3, Step::Prevote),
        state(u64::MAX, u32::MAX, Step::Precommit),
    ] {
        let (mut store, _) = SignerStore::open(&path).expect("open");
        store.persist(&s).expect("persist");
        assert_eq!(store.stored(), s);
        let (reopened, loaded) = SignerStore::open(&path).expect("reopen");
        assert_eq!(loaded, Some(s));
        assert_eq!(reopened.stored(), s);
    }
    let names: Vec<_> = fs::read_dir(dir.path())
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        names,
        vec![OsString::from("signer")],
        "no temporary file left"
    );
}

#[test]
fn signer_ignores_stale_temp_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("signer");
    let (mut store, _) = SignerStore::open(&path).expect("open");
    store.persist(&state(2, 0, Step::Prevote)).expect("persist");
    fs::write(dir.path().join("signer.tmp"), b"half-written").expect("write tmp");
    let (mut store, loaded) = SignerStore::open(&path).expect("reopen");
    assert_eq!(loaded, Some(state(2, 0, Step::Prevote)));
    store
        .persist(&state(2, 1, Step::Propose))
        .expect("persist over stale tmp");
    assert_eq!(
        SignerStore::open(&path).expect("reopen").1,
        Some(state(2, 1, Step::Propose))
    );
}

#[test]
fn signer_corrupt_byte_anywhere_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good");
    let (mut store, _) = SignerStore::open(&good).expect("open");
    store.persist(&state(9, 2, Step::Prevote)).expect("persist");
    let bytes = fs::read(&good).expect("read");
    let bad = dir.path().join("bad");
    for at in 0..bytes.len() {
        fs::write(&bad, &bytes).expect("write");
        flip_byte(&bad, at);
        let err = SignerStore::open(&bad).expect_err("corruption detected");
        assert!(
            matches!(
                err,
                StoreError::Corrupt { .. } | StoreError::UnsupportedVersion { .. }
            ),
            "byte {at}: {err}"
        );
    }
}

#[test]
fn signer_truncated_or_extended_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good");
    let (mut store, _) = SignerStore::open(&good).expect("open");
    store.persist(&state(9, 2, Step::Prevote)).expect("persist");
    let bytes = fs::read(&good).expect("read");
    let bad = dir.path().join("bad");
    for cut in 0..bytes.len() {
        fs::write(&bad, &bytes[..cut]).expect("write");
        let err = SignerStore::open(&bad).expect_err("truncation detected");
        assert!(
            matches!(err, StoreError::Corrupt { .. }),
            "cut {cut}: {err}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    fs::write(&bad, &longer).expect("write");
    assert!(matches!(
        SignerStore::open(&bad),
        Err(StoreError::Corrupt { .. })
    ));
    fs::write(&bad, vec![0u8; 10_000]).expect("write");
    assert!(matches!(
        SignerStore::open(&bad),
        Err(StoreError::Corrupt { .. })
    ));
}

#[test]
fn signer_other_version_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("signer");
    let mut bytes = encode_signer(&state(1, 0, Step::Propose));
    bytes[8..12].copy_from_slice(&3u32.to_le_bytes());
    let n = bytes.len() - 32;
    let sum = blake2_256(&bytes[..n]);
    bytes[n..].copy_from_slice(&sum);
    fs::write(&path, &bytes).expect("write");
    assert!(matches!(
        SignerStore::open(&path),
        Err(StoreError::UnsupportedVersion { version: 3, .. })
    ));
}

#[test]
fn signer_keeps_the_lock_and_reads_version_1_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("signer");
    let (mut store, _) = SignerStore::open(&path).expect("open");
    let locked = SignerState {
        last: Some((7, 2, Step::Precommit)),
        locks: Some(crate::bft::Locks {
            height: 7,
            locked: Some((H256([0xA; 32]), 2)),
            valid: Some((H256([0xA; 32]), 2)),
        }),
    };
    store.persist(&locked).expect("persist");
    assert_eq!(SignerStore::open(&path).expect("reopen").1, Some(locked));
    // The valid value moves on at the same mark: allowed.
    let moved = SignerState {
        locks: Some(crate::bft::Locks {
            valid: Some((H256([0xB; 32]), 3)),
            ..locked.locks.expect("set")
        }),
        ..locked
    };
    store.persist(&moved).expect("same mark, new valid value");
    assert_eq!(SignerStore::open(&path).expect("reopen").1, Some(moved));
    // A file written before locks were kept: the mark, and no lock.
    let payload = Some((5u64, 1u32, Step::Prevote)).encode();
    let mut v1 = Vec::new();
    v1.extend_from_slice(b"QSBFTSIG");
    v1.extend_from_slice(&1u32.to_le_bytes());
    v1.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    v1.extend_from_slice(&payload);
    let sum = blake2_256(&v1);
    v1.extend_from_slice(&sum);
    fs::write(&path, &v1).expect("write");
    assert_eq!(
        SignerStore::open(&path).expect("v1").1,
        Some(state(5, 1, Step::Prevote))
    );
}

#[test]
fn signer_refuses_lower_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("signer");
    let (mut store, _) = SignerStore::open(&path).expect("open");
    store.persist(&state(5, 1, Step::Prevote)).expect("persist");
    for lower in [
        SignerState::default(),
        state(4, 9, Step::Precommit),
        state(5, 0, Step::Precommit),
        state(5, 1, Step::Propose),
    ] {
        assert!(matches!(
            store.persist(&lower),
            Err(StoreError::SignerRegression { .. })
        ));
    }
    store
        .persist(&state(5, 1, Step::Prevote))
        .expect("same state again");
    // Also after a restart.
    let (mut store, _) = SignerStore::open(&path).expect("reopen");
    assert!(matches!(
        store.persist(&state(5, 0, Step::Precommit)),
        Err(StoreError::SignerRegression { .. })
    ));
    assert_eq!(
        SignerStore::open(&path).expect("reopen").1,
        Some(state(5, 1, Step::Prevote)),
        "refused state never reached the disk"
    );
    store
        .persist(&state(5, 1, Step::Precommit))
        .expect("higher");
}

// --- WAL --------------------------------------------------------------------

#[test]
fn wal_fresh_open_is_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wal");
    let (wal, contents) = Wal::open(&path).expect("open");
    assert_eq!(contents, WalContents::default());
    assert_eq!(wal.height(), None);
    assert_eq!(wal.size(), WAL_HEADER_LEN as u64);
    assert_eq!(file_len(&path), WAL_HEADER_LEN as u64);
    let (_, again) = Wal::open(&path).expect("reopen");
    assert_eq!(again, WalContents::default());
}

#[test]
fn wal_replays_appends_and_batches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wal");
    let recs = records();
    let (mut wal, _) = Wal::open(&path).expect("open");
    wal.truncate_for(5).expect("truncate");
    wal.append(&recs[0]).expect("append");
    wal.append_batch(&recs[1..3]).expect("batch");
    wal.append_batch(&[]).expect("empty batch");
    wal.append(&recs[3]).expect("append");
    assert_eq!(wal.size(), file_len(&path));
    drop(wal);
    let (mut wal, contents) = Wal::open(&path).expect("reopen");
    assert_eq!(
        contents,
        WalContents {
            height: Some(5),
            records: recs.clone(),
            torn_tail: false
        }
    );
    // Appending after a reopen continues the same log.
    wal.append(&recs[0]).expect("append");
    let (_, contents) = Wal::open(&path).expect("reopen");
    assert_eq!(contents.records.len(), recs.len() + 1);
    assert_eq!(contents.records[recs.len()], recs[0]);
}

/// Cuts the file at every length inside the last frame (a single record
/// or a batch): every earlier record comes back, the torn frame is dropped
/// and cut off, and the log takes appends again.
#[test]
fn wal_torn_tail_at_every_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let recs = records();
    for last_is_batch in [false, true] {
        let src = dir.path().join("src");
        let _ = fs::remove_file(&src);
        let (mut wal, _) = Wal::open(&src).expect("open");
        wal.truncate_for(5).expect("truncate");
        wal.append(&recs[0]).expect("append");
        wal.append(&recs[1]).expect("append");
        let before = file_len(&src);
        if last_is_batch {
            wal.append_batch(&recs[2..]).expect("batch");
        } else {
            wal.append(&recs[2]).expect("append");
        }
        let after = file_len(&src);
        drop(wal);
        let bytes = fs::read(&src).expect("read");
        let expected_all: Vec<_> = if last_is_batch {
            recs.clone()
        } else {
            recs[..3].to_vec()
        };
        let cut_path = dir.path().join("cut");
        for cut in before..=after {
            fs::write(&cut_path, &bytes[..cut as usize]).expect("write");
            let (mut wal, contents) = Wal::open(&cut_path).expect("torn tail tolerated");
            let torn = cut != before && cut != after;
            assert_eq!(contents.torn_tail, torn, "cut {cut}");
            assert_eq!(contents.height, Some(5));
            if cut == after {
                assert_eq!(contents.records, expected_all);
            } else {
                assert_eq!(contents.records, recs[..2].to_vec(), "cut {cut}");
                assert_eq!(file_len(&cut_path), before, "torn frame cut off");
                assert_eq!(wal.size(), before);
            }
            wal.append(&recs[3]).expect("append after recovery");
            drop(wal);
            let (_, again) = Wal::open(&cut_path).expect("reopen");
            assert!(!again.torn_tail);
            assert_eq!(again.records.last(), Some(&recs[3]));
            assert_eq!(again.records.len(), contents.records.len() + 1);
        }
    }
}

/// A last frame of full length whose bytes did not all reach the disk
/// (zeros or garbage) is a torn tail too.
#[test]
fn wal_torn_tail_garbage_last_frame() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wal");
    let recs = records();
    let (mut wal, _) = Wal::open(&path).expect("open");
    wal.append(&recs[0]).expect("append");
    let before = file_len(&path) as usize;
    wal.append(&recs[1]).expect("append");
    drop(wal);
    let bytes = fs::read(&path).expect("read");
    let damaged = dir.path().join("damaged");
    // Zeroed header, zeroed payload, and each single byte flipped.
    let mut cases = Vec::new();
    let mut zero_head = bytes.clone();
    zero_head[before..before + FRAME_HEADER_LEN].fill(0);
    cases.push(zero_head);
    let mut zero_tail = bytes.clone();
    zero_tail[before + FRAME_HEADER_LEN..].fill(0);
    cases.push(zero_tail);
    for at in before..bytes.len() {
        let mut b = bytes.clone();
        b[at] ^= 0x01;
        cases.push(b);
    }
    for (i, case) in cases.into_iter().enumerate() {
        fs::write(&damaged, &case).expect("write");
        let (_, contents) = Wal::open(&damaged).expect("torn tail tolerated");
        assert!(contents.torn_tail, "case {i}");
        assert_eq!(contents.records, vec![recs[0].clone()], "case {i}");
        assert_eq!(file_len(&damaged), before as u64);
    }
}

/// Any byte flipped in a frame followed by an intact one is an error, never
/// a silent loss of the later records.
#[test]
fn wal_middle_corruption_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wal");
    let recs = records();
    let (mut wal, _) = Wal::open(&path).expect("open");
    wal.truncate_for(3).expect("truncate");
    wal.append(&recs[1]).expect("append");
    let first_end = file_len(&path) as usize;
    wal.append(&recs[0]).expect("append");
    wal.append(&recs[3]).expect("append");
    drop(wal);
    let bytes = fs::read(&path).expect("read");
    let bad = dir.path().join("bad");
    for at in 0..first_end {
        fs::write(&bad, &bytes).expect("write");
        flip_byte(&bad, at);
        let err = Wal::open(&bad).expect_err("corruption detected");
        assert!(
            matches!(
                err,
                StoreError::Corrupt { .. } | StoreError::UnsupportedVersion { .. }
            ),
            "byte {at}: {err}"
        );
        assert_eq!(
            fs::read(&bad).expect("read").len(),
            bytes.len(),
            "file untouched"
        );
    }
    // Whole first frame zeroed: also an error.
    let mut zeroed = bytes.clone();
    zeroed[WAL_HEADER_LEN..first_end].fill(0);
    fs::write(&bad, &zeroed).expect("write");
    assert!(matches!(Wal::open(&bad), Err(StoreError::Corrupt { .. })));
}

#[test]
fn wal_bad_header_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wal");
    for cut in 0..WAL_HEADER_LEN {
        fs::write(&path, &wal_header(Some(1))[..cut]).expect("write");
        assert!(
            matches!(Wal::open(&path), Err(StoreError::Corrupt { .. })),
            "cut {cut}"
        );
    }
    fs::write(&path, b"not a wal file at all, just text").expect("write");
    assert!(matches!(Wal::open(&path), Err(StoreError::Corrupt { .. })));
}

#[test]
fn wal_truncate_for_then_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wal");
    let recs = records();
    let (mut wal, _) = Wal::open(&path).expect("open");
    wal.append_batch(&recs).expect("batch");
    wal.truncate_for(7).expect("truncate");
    assert_eq!(wal.height(), Some(7));
    assert_eq!(wal.size(), WAL_HEADER_LEN as u64);
    let (_, contents) = Wal::open(&path).expect("reopen");
    assert_eq!(
        contents,
        WalContents {
            height: Some(7),
            records: vec![],
            torn_tail: false
        }
    );
    wal.append(&recs[2]).expect("append to the new log");
    let (mut wal, contents) = Wal::open(&path).expect("reopen");
    assert_eq!(contents.records, vec![recs[2].clone()]);
    assert!(matches!(
        wal.truncate_for(6),
        Err(StoreError::HeightRegression {
            current: 7,
            asked: 6
        })
    ));
    assert_eq!(Wal::open(&path).expect("reopen").1.records.len(), 1);
    wal.truncate_for(7).expect("same height empties");
    assert!(Wal::open(&path).expect("reopen").1.records.is_empty());
    wal.truncate_for(8).expect("next height");
    assert_eq!(Wal::open(&path).expect("reopen").1.height, Some(8));
    assert!(!dir.path().join("wal.tmp").exists());
}

#[test]
fn wal_size_bound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wal");
    let (mut wal, _) = Wal::open(&path).expect("open");
    assert_eq!(wal.max_bytes(), DEFAULT_MAX_WAL_BYTES);
    wal.set_max_bytes(4096);
    let rec = WalRecord::Received(vote(1, 0));
    let mut accepted = 0;
    let err = loop {
        match wal.append(&rec) {
            Ok(()) => accepted += 1,
            Err(e) => break e,
        }
        assert!(accepted < 1000, "bound never hit");
    };
    assert!(
        matches!(err, StoreError::WalFull { max: 4096, .. }),
        "{err}"
    );
    assert!(accepted > 0);
    let size = wal.size();
    assert!(size <= 4096);
    assert_eq!(file_len(&path), size, "refused append wrote nothing");
    // A batch too big for what is left is refused whole.
    assert!(matches!(
        wal.append_batch(&[rec.clone(), rec.clone()]),
        Err(StoreError::WalFull { .. })
    ));
    assert_eq!(file_len(&path), size);
    // Small records may still fit; the bound is on bytes.
    let (_, contents) = Wal::open(&path).expect("reopen");
    assert_eq!(contents.records.len(), accepted);
    assert!(!contents.torn_tail);
    // Truncation makes room again.
    wal.truncate_for(2).expect("truncate");
    wal.append(&rec).expect("append after truncation");
}

#[test]
fn the_engines_durable_store_keeps_its_writes_and_resumes_only_its_height() {
    use crate::{Durable, Persist};
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut disk, restored) = BftDisk::open(dir.path(), 3).expect("open");
    assert!(!restored.resumed && restored.records.is_empty());
    assert_eq!(restored.signer, SignerState::default());
    let s = state(3, 0, Step::Prevote);
    disk.persist(&Persist::State(s.encode())).expect("state");
    let written = records();
    for r in written.clone() {
        disk.persist(&Persist::Append(r.encode())).expect("append");
    }
    // Writes that are not the engine's types are refused, changing nothing.
    assert!(disk.persist(&Persist::State(vec![1, 2, 3])).is_err());
    assert!(disk.persist(&Persist::Append(vec![9])).is_err());
    drop(disk);
    let (_, again) = BftDisk::open(dir.path(), 3).expect("reopen");
    assert!(again.resumed);
    assert_eq!(again.signer, s);
    assert_eq!(again.records, written);
    // At another height the log is stale: started afresh, the signer kept.
    let (mut disk, later) = BftDisk::open(dir.path(), 4).expect("reopen at 4");
    assert!(!later.resumed && later.records.is_empty());
    assert_eq!(later.signer, s);
    assert_eq!(disk.wal().height(), Some(4));
    // A signer state below the stored one is refused.
    assert!(disk
        .persist(&Persist::State(state(2, 0, Step::Prevote).encode()))
        .is_err());
    disk.persist(&Persist::NewLog(5)).expect("new log");
    assert_eq!(disk.wal().height(), Some(5));
}

#[test]
fn kept_block_bodies_survive_a_restart_within_their_height_only() {
    use crate::{Durable, Persist};
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut disk, restored) = BftDisk::open(dir.path(), 3).expect("open");
    assert_eq!(restored.blocks, 0);
    let (a, b) = (H256([0xA; 32]), H256([0xB; 32]));
    disk.keep_block(&a, b"body of a").expect("keep a");
    disk.keep_block(&b, &vec![7u8; 100_000]).expect("keep b");
    disk.keep_block(&a, b"body of a")
        .expect("keeping again is fine");
    // A `Persist::Block` without its body is the shell's bug, refused.
    assert!(disk.persist(&Persist::Block(a)).is_err());
    drop(disk);
    let (mut disk, again) = BftDisk::open(dir.path(), 3).expect("reopen");
    assert_eq!(again.blocks, 2);
    let mut bodies = disk.kept_blocks();
    bodies.sort();
    assert_eq!(bodies, vec![vec![7u8; 100_000], b"body of a".to_vec()]);
    assert!(disk.kept_blocks().is_empty(), "handed over once");
    // A damaged body file is an error naming it.
    let blocks = dir.path().join("blocks");
    let file = fs::read_dir(&blocks)
        .expect("list")
        .map(|e| e.expect("entry").path())
        .find(|p| fs::metadata(p).expect("meta").len() < 1000)
        .expect("a's file");
    flip_byte(&file, 60);
    let err = BftDisk::open(dir.path(), 3).expect_err("damaged");
    assert!(err.to_string().contains(&*file.to_string_lossy()), "{err}");
    // The height ends: its bodies go.
    fs::remove_file(&file).expect("remove");
    let (mut disk, _) = BftDisk::open(dir.path(), 3).expect("reopen");
    disk.persist(&Persist::NewLog(4)).expect("new log");
    assert_eq!(fs::read_dir(&blocks).expect("list").count(), 0);
    disk.keep_block(&a, b"a at 4").expect("keep at 4");
    drop(disk);
    // A restart at a later height finds none of an earlier one's.
    let (_, later) = BftDisk::open(dir.path(), 5).expect("reopen at 5");
    assert_eq!(later.blocks, 0);
    assert_eq!(fs::read_dir(&blocks).expect("list").count(), 0);
}

#[test]
fn a_full_wal_drops_peers_messages_and_never_stops_the_validator() {
    // M6: the log's bound used to be an error on the next append, which
    // ended the validator's engine and came back on every restart.
    use crate::{Durable, Persist};
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut disk, _) = BftDisk::open(dir.path(), 1).expect("open");
    // Signing is slow in debug builds: one vote per round, copied.
    let votes: Vec<Message> = (0..80).map(|r| vote(1, r)).collect();
    let rec = |round: u32, sent: bool| {
        let m = votes[round as usize].clone();
        if sent {
            WalRecord::Sent(m)
        } else {
            WalRecord::Received(m)
        }
    };
    let one = frame_len(&rec(0, false));
    // Room for 64 × 4 peer records per round share... of a 256-record WAL.
    disk.wal_mut().set_max_bytes(one * 64 * 4);
    let append = |disk: &mut BftDisk, r: WalRecord| {
        disk.persist(&Persist::Append(r.encode()))
            .expect("a full WAL is never an error")
    };
    // Round 0's peers get their share (4 records), the rest is dropped.
    for _ in 0..10 {
        append(&mut disk, rec(0, false));
    }
    assert_eq!(disk.dropped(), 6);
    // Our own messages still go in, and so do the next round's peers'.
    append(&mut disk, rec(0, true));
    append(&mut disk, rec(1, false));
    assert_eq!(disk.dropped(), 6);
    // Peers' messages of many rounds fill their 3/4 and stop there.
    for round in 2..80 {
        for _ in 0..4 {
            append(&mut disk, rec(round, false));
        }
    }
    let size = disk.wal().size();
    assert!(size <= one * 64 * 3 + 2 * one, "peers took {size} bytes");
    // Own messages fill the rest; past the hard bound they are dropped too.
    for _ in 0..200 {
        append(&mut disk, rec(0, true));
    }
    assert!(disk.wal().size() <= disk.wal().max_bytes());
    let dropped = disk.dropped();
    assert!(dropped > 6 + 60, "{dropped}");
    // What was logged replays; the budget is rebuilt from it.
    let logged = disk.wal().size();
    drop(disk);
    let (mut disk, again) = BftDisk::open(dir.path(), 1).expect("reopen");
    assert!(again.resumed);
    assert_eq!(
        again
            .records
            .iter()
            .filter(|r| matches!(r, WalRecord::Received(m) if message_round(m) == 0))
            .count(),
        4
    );
    disk.wal_mut().set_max_bytes(one * 64 * 4);
    append(&mut disk, rec(0, false));
    assert_eq!(
        disk.dropped(),
        1,
        "round 0's share stays used after a restart"
    );
    assert_eq!(disk.wal().size(), logged);
    // A new height starts with the whole budget.
    disk.persist(&Persist::NewLog(2)).expect("new log");
    assert_eq!(disk.dropped(), 0);
}

#[test]
fn a_kept_block_file_damaged_at_any_byte_or_cut_anywhere_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = BlockStore::open(dir.path().join("blocks")).expect("open");
    let hash = H256([0xC; 32]);
    store.keep(7, &hash, b"a block body").expect("keep");
    let path = store.path(7, &hash);
    let bytes = fs::read(&path).expect("read");
    assert_eq!(
        decode_block_file(&path, &bytes, 7).expect("intact"),
        b"a block body"
    );
    // Of another height than its name says: refused.
    assert!(decode_block_file(&path, &bytes, 8).is_err());
    for at in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        assert!(decode_block_file(&path, &bad, 7).is_err(), "byte {at}");
    }
    for len in 0..bytes.len() {
        assert!(
            decode_block_file(&path, &bytes[..len], 7).is_err(),
            "cut at {len}"
        );
    }
}

proptest::proptest! {
    /// Any bytes at all: an answer, never a panic (the decoder reads files
    /// a crash or a disk may have damaged).
    #[test]
    fn the_kept_block_decoder_takes_any_bytes(bytes in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..256)) {
        let _ = decode_block_file(Path::new("fuzz"), &bytes, 7);
    }
}
