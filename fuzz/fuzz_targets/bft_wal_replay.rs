//! Damaged or hostile BFT store files: the fuzz bytes become a WAL file and,
//! separately, a signer-state file, opened with `Wal::open` and
//! `SignerStore::open`. Random bytes rarely get past the checksums, so the
//! first byte picks, for each file, either the raw bytes or a file the
//! harness assembles from them with valid checksums (WAL: header, then frames
//! whose payloads, checksums and damage the script chooses; signer: header,
//! payload, checksum).
//!
//! Oracle: no panic. An opened WAL accepts an append and reopens with the
//! same height and the same records plus the new one (a torn tail was cut
//! for good); `truncate_for` then reopens empty at that height. An opened
//! signer file holds the one canonical encoding of its state: persisting the
//! state again writes back exactly the input bytes.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use parity_scale_codec::Encode;
use qstack_consensus::bft::store::{SignerStore, Wal, WalRecord};
use qstack_consensus::bft::Message;
use qstack_core::hashing::blake2_256;
use std::path::PathBuf;
use std::sync::OnceLock;

/// One directory per process, on tmpfs if there is one (the store fsyncs).
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = PathBuf::from("/dev/shm");
        let base = if shm.is_dir() {
            shm
        } else {
            std::env::temp_dir()
        };
        let d = base.join(format!("qstack-fuzz-bft-store-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("create the fuzz directory");
        d
    })
}

fn short_check(data: &[u8]) -> [u8; 4] {
    let [a, b, c, d, ..] = blake2_256(data);
    [a, b, c, d]
}

fn chunk<'a>(u: &mut Unstructured<'a>) -> Result<&'a [u8]> {
    let len = u.arbitrary::<u8>()? as usize;
    u.bytes(len.min(u.len()))
}

/// A WAL file assembled by script: a header with a valid check, then
/// frames, some intact, some damaged, some garbage.
fn framed_wal(u: &mut Unstructured) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    out.extend_from_slice(b"QSBFTWAL");
    let version: u32 = if u.ratio(1, 16)? { u.arbitrary()? } else { 1 };
    out.extend_from_slice(&version.to_le_bytes());
    let flag: u8 = if u.ratio(1, 16)? {
        u.arbitrary()?
    } else {
        u.int_in_range(0..=1)?
    };
    out.push(flag);
    let height: u64 = if flag == 0 && u.ratio(7, 8)? {
        0
    } else {
        u.arbitrary()?
    };
    out.extend_from_slice(&height.to_le_bytes());
    let check = short_check(&out);
    out.extend_from_slice(&check);
    while !u.is_empty() {
        let payload = match u.int_in_range(0..=7u8)? {
            // Records the harness encodes (status messages decode easily).
            0 | 1 => {
                let n = u.int_in_range(1..=3u8)?;
                let mut records = Vec::new();
                for _ in 0..n {
                    let m = Message::Status(u.arbitrary()?);
                    records.push(if u.arbitrary()? {
                        WalRecord::Sent(m)
                    } else {
                        WalRecord::Received(m)
                    });
                }
                records.encode()
            }
            // Payload bytes from the script (maybe a Vec<WalRecord>).
            2 | 3 => chunk(u)?.to_vec(),
            // Garbage where a frame should be.
            4 => {
                out.extend_from_slice(chunk(u)?);
                continue;
            }
            // Cut the file short (a torn write).
            5 => {
                let cut = u.int_in_range(0..=out.len())?;
                out.truncate(cut);
                continue;
            }
            // Flip one byte.
            6 => {
                if !out.is_empty() {
                    let i = u.choose_index(out.len())?;
                    out[i] ^= u.int_in_range(1..=255u8)?;
                }
                continue;
            }
            _ => {
                // A frame with a lying length but a valid header check.
                let len: u32 = u.arbitrary()?;
                let sum = blake2_256(chunk(u)?);
                let mut hdr = len.to_le_bytes().to_vec();
                hdr.extend_from_slice(&sum);
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(&short_check(&hdr));
                out.extend_from_slice(&sum);
                continue;
            }
        };
        let len = payload.len() as u32;
        let sum = blake2_256(&payload);
        let mut hdr = len.to_le_bytes().to_vec();
        hdr.extend_from_slice(&sum);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&short_check(&hdr));
        out.extend_from_slice(&sum);
        out.extend_from_slice(&payload);
    }
    Ok(out)
}

/// A signer file assembled by script with a valid checksum (unless the
/// script damages it).
fn framed_signer(u: &mut Unstructured) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    out.extend_from_slice(b"QSBFTSIG");
    let version: u32 = if u.ratio(1, 16)? { u.arbitrary()? } else { 1 };
    out.extend_from_slice(&version.to_le_bytes());
    let payload = chunk(u)?;
    let len: u32 = if u.ratio(1, 16)? {
        u.arbitrary()?
    } else {
        payload.len() as u32
    };
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(payload);
    let sum = blake2_256(&out);
    out.extend_from_slice(&sum);
    if u.ratio(1, 16)? {
        let i = u.choose_index(out.len())?;
        out[i] ^= 1;
    }
    if u.ratio(1, 16)? {
        out.extend_from_slice(chunk(u)?);
    }
    Ok(out)
}

fn check_wal(bytes: &[u8], extra: u64) {
    let path = dir().join("wal");
    std::fs::write(&path, bytes).expect("write the WAL file");
    let Ok((mut wal, contents)) = Wal::open(&path) else {
        return;
    };
    let record = WalRecord::Sent(Message::Status(extra));
    wal.append(&record).expect("append to an opened WAL");
    drop(wal);
    let (mut wal, again) = Wal::open(&path).expect("reopen after an append");
    assert_eq!(again.height, contents.height, "height changed on reopen");
    assert!(!again.torn_tail, "torn tail after a clean append");
    let mut want = contents.records.clone();
    want.push(record);
    assert_eq!(again.records, want, "records changed on reopen");
    let height = contents.height.unwrap_or(0).max(extra);
    wal.truncate_for(height)
        .expect("truncate_for at or above the log's height");
    drop(wal);
    let (_, fresh) = Wal::open(&path).expect("reopen after truncate_for");
    assert_eq!(
        (fresh.height, fresh.records.len(), fresh.torn_tail),
        (Some(height), 0, false)
    );
}

fn check_signer(bytes: &[u8]) {
    let path = dir().join("signer");
    std::fs::write(&path, bytes).expect("write the signer file");
    let Ok((mut store, Some(state))) = SignerStore::open(&path) else {
        return;
    };
    assert_eq!(store.stored(), state);
    store.persist(&state).expect("persist the state just read");
    let written = std::fs::read(&path).expect("read the signer file back");
    assert_eq!(
        written, bytes,
        "non-canonical signer file accepted: {state:?}"
    );
    let (_, again) = SignerStore::open(&path).expect("reopen the signer file");
    assert_eq!(again, Some(state));
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let extra = u64::from(mode >> 2);
    let wal = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        framed_wal(&mut Unstructured::new(rest)).unwrap_or_default()
    };
    check_wal(&wal, extra);
    let signer = if mode & 2 == 0 {
        rest.to_vec()
    } else {
        framed_signer(&mut Unstructured::new(rest)).unwrap_or_default()
    };
    check_signer(&signer);
});
