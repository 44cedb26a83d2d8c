//! Durable state for the BFT engine, in plain synchronous `std` file I/O: the
//! signer's high-water mark and lock ([`SignerStore`]), the write-ahead log
//! of the current height's messages ([`Wal`]) and the block bodies the
//! validator voted for at that height ([`BlockStore`]).
//!
//! # Signer file
//!
//! ```text
//! magic "QSBFTSIG" (8) | version u32 LE (= 2) | len u32 LE | SCALE SignerState (len)
//!   | blake2_256 of everything before it (32)
//! ```
//!
//! The state is the high-water mark and the lock and valid value of the
//! height being decided; a version-1 file (the mark only) reads as "no
//! lock".
//!
//! Replaced atomically: written to `<name>.tmp` in the same directory,
//! fsynced, renamed over the file, then the directory is fsynced. A missing
//! file means nothing was ever signed; any damage is an error, never "nothing
//! signed", so a validator cannot start signing from scratch over a bad
//! record.
//!
//! # WAL file
//!
//! ```text
//! header: magic "QSBFTWAL" (8) | version u32 LE (= 1) | has_height u8 (0/1)
//!         | height u64 LE | blake2_256(previous 21 bytes)[..4]
//! frames: len u32 LE | blake2_256(len ‖ sum)[..4] | sum = blake2_256(payload) (32)
//!         | payload = SCALE Vec<WalRecord> (len, ≥ 1)
//! ```
//!
//! The header is only ever written whole, by the same temp-file-and-rename as
//! the signer file ([`Wal::truncate_for`]). Each [`Wal::append`] or
//! [`Wal::append_batch`] writes one frame and `sync_data`s it, so a batch is
//! all-or-nothing and a crash can only tear the last frame. Replay drops a
//! torn last frame (a partial frame at the end, or a bad frame with nothing
//! valid after it), cuts it off the file and reports
//! [`WalContents::torn_tail`]; a bad frame followed by a valid one is
//! corruption and an error. The frame header's own short check means a
//! damaged length is recognised as damage rather than trusted.

use super::types::{Height, Message, Round, SignerState, Step};
use codec::{Decode, DecodeAll, Encode};
use qstack_core::hashing::blake2_256;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Default bound on a WAL file's size: appends that would grow it past this
/// are refused ([`StoreError::WalFull`]), so a message flood cannot fill the
/// disk.
pub const DEFAULT_MAX_WAL_BYTES: u64 = 64 << 20;

const SIGNER_MAGIC: [u8; 8] = *b"QSBFTSIG";
const SIGNER_VERSION: u32 = 2;
/// Version 1 held only the high-water mark (read as "no lock").
const SIGNER_VERSION_WITHOUT_LOCKS: u32 = 1;
/// A signer file is a few dozen bytes; anything far larger is not one.
const SIGNER_MAX_FILE: u64 = 4096;

const WAL_MAGIC: [u8; 8] = *b"QSBFTWAL";
const WAL_VERSION: u32 = 1;
const WAL_HEADER_LEN: usize = 8 + 4 + 1 + 8 + 4;
const FRAME_HEADER_LEN: usize = 4 + 4 + 32;

/// Why a store operation failed.
#[derive(Debug)]
pub enum StoreError {
    /// A file system call failed.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// The file is damaged or is not a file of this kind.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Byte offset of the damage.
        offset: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// The file was written by a format version this build does not read.
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// Its version.
        version: u32,
    },
    /// [`SignerStore::persist`] was asked to store a state below the stored
    /// one.
    SignerRegression {
        /// The stored mark.
        stored: Option<(Height, Round, Step)>,
        /// The mark asked for.
        asked: Option<(Height, Round, Step)>,
    },
    /// [`Wal::truncate_for`] was asked for a height below the log's.
    HeightRegression {
        /// The log's height.
        current: Height,
        /// What was asked.
        asked: Height,
    },
    /// The append would grow the WAL past its bound (or the batch is larger
    /// than a frame can hold).
    WalFull {
        /// The log's size now.
        size: u64,
        /// The frame's size.
        frame: u64,
        /// The bound.
        max: u64,
    },
    /// An earlier append or truncation failed midway and the log's tail is
    /// in an unknown state: reopen it (replay cuts a torn tail) or call
    /// [`Wal::truncate_for`].
    Poisoned {
        /// The file.
        path: PathBuf,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, op, source } => write!(f, "{op} {}: {source}", path.display()),
            Self::Corrupt {
                path,
                offset,
                reason,
            } => write!(
                f,
                "{} is corrupt at byte {offset}: {reason}",
                path.display()
            ),
            Self::UnsupportedVersion { path, version } => {
                write!(
                    f,
                    "{} has unsupported format version {version}",
                    path.display()
                )
            }
            Self::SignerRegression { stored, asked } => write!(
                f,
                "refusing to persist signer state {asked:?} below the stored {stored:?}"
            ),
            Self::HeightRegression { current, asked } => write!(
                f,
                "refusing to start the WAL at height {asked} below its height {current}"
            ),
            Self::WalFull { size, frame, max } => write!(
                f,
                "WAL full: {size} bytes + a {frame}-byte frame exceeds the {max}-byte bound"
            ),
            Self::Poisoned { path } => write!(
                f,
                "{}: an earlier write failed midway; reopen the WAL",
                path.display()
            ),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn io_err<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        op,
        source,
    }
}

fn corrupt(path: &Path, offset: usize, reason: &'static str) -> StoreError {
    StoreError::Corrupt {
        path: path.to_path_buf(),
        offset: offset as u64,
        reason,
    }
}

/// Splits `n` bytes off the front of `buf`.
fn take<'a>(buf: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, rest) = buf.split_at_checked(n)?;
    *buf = rest;
    Some(head)
}

fn take_array<const N: usize>(buf: &mut &[u8]) -> Option<[u8; N]> {
    take(buf, N)?.try_into().ok()
}

fn take_u32(buf: &mut &[u8]) -> Option<u32> {
    take_array(buf).map(u32::from_le_bytes)
}

/// First 4 bytes of blake2_256: the short checks of the WAL header and of
/// each frame header.
fn short_check(data: &[u8]) -> [u8; 4] {
    let [a, b, c, d, ..] = blake2_256(data);
    [a, b, c, d]
}

fn tmp_path(path: &Path) -> Result<PathBuf, StoreError> {
    let mut name: OsString = path
        .file_name()
        .ok_or_else(|| StoreError::Io {
            path: path.to_path_buf(),
            op: "name a temporary file for",
            source: io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"),
        })?
        .to_owned();
    name.push(".tmp");
    Ok(path.with_file_name(name))
}

fn sync_dir(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(dir, "fsync directory"))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Replaces `path` with `bytes` atomically and durably: a temporary file in
/// the same directory, fsync, rename over, fsync the directory.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let tmp = tmp_path(path)?;
    let written = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(io_err(&tmp, "create"))
        .and_then(|mut f| {
            f.write_all(bytes).map_err(io_err(&tmp, "write"))?;
            f.sync_all().map_err(io_err(&tmp, "fsync"))
        })
        .and_then(|()| fs::rename(&tmp, path).map_err(io_err(path, "rename over")));
    if written.is_err() {
        // Best effort: a stale temporary file is harmless (overwritten next
        // time, never read) but untidy.
        let _ = fs::remove_file(&tmp);
    }
    written?;
    sync_dir(path)
}

// ---------------------------------------------------------------------------
// Signer state
// ---------------------------------------------------------------------------

/// The signer's high-water mark ([`SignerState`]) on disk. Persist it on
/// every [`super::BftAction::PersistSigner`] before sending anything after
/// that action; build the core with what [`SignerStore::open`] returns.
#[derive(Debug)]
pub struct SignerStore {
    path: PathBuf,
    stored: SignerState,
}

impl SignerStore {
    /// Opens the store at `path` and reads the state in it: `None` if the
    /// file does not exist (nothing was ever signed), an error if it exists
    /// but is damaged, truncated, or of another format or version.
    pub fn open(path: impl Into<PathBuf>) -> Result<(Self, Option<SignerState>), StoreError> {
        let path = path.into();
        let loaded = match read_signer_file(&path)? {
            None => None,
            Some(bytes) => Some(decode_signer(&path, &bytes)?),
        };
        let store = Self {
            stored: loaded.unwrap_or_default(),
            path,
        };
        Ok((store, loaded))
    }

    /// Durably replaces the stored state with `state` (temporary file,
    /// fsync, rename, fsync of the directory). Refuses a state below the
    /// stored one ([`StoreError::SignerRegression`]): the core only moves
    /// forward, so that would be a bug. Storing the same state again is
    /// allowed. On error the stored state is unchanged in memory and on disk
    /// it is either the old or the new one.
    pub fn persist(&mut self, state: &SignerState) -> Result<(), StoreError> {
        if state.last < self.stored.last {
            return Err(StoreError::SignerRegression {
                stored: self.stored.last,
                asked: state.last,
            });
        }
        write_atomic(&self.path, &encode_signer(state))?;
        self.stored = *state;
        Ok(())
    }

    /// The last state read or persisted (the default if none).
    pub fn stored(&self) -> SignerState {
        self.stored
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The BFT engine's durable store on a node, behind [`crate::Durable`]: the
/// signer file, the WAL and the kept bodies in one directory (`signer`,
/// `wal`, `blocks/`), in the
/// formats above. `Persist::State` must decode as a [`SignerState`] and
/// `Persist::Append` as a [`WalRecord`] (checked, so a shell can carry out
/// any engine's writes without knowing their types).
///
/// A full WAL never stops the validator (the lock it must honour is in the
/// signer file, not the log): peers' messages are logged up to
/// [`WAL_OTHERS_PER_ROUND`] of the bound per round and [`WAL_OTHERS_TOTAL`]
/// in all, leaving the rest for our own; what does not fit is dropped,
/// counted ([`BftDisk::dropped`]) and reported in the log once per height.
/// A restart then re-learns those votes from peers, which re-send theirs
/// every `rebroadcast` period.
#[derive(Debug)]
pub struct BftDisk {
    signer: SignerStore,
    wal: Wal,
    blocks: BlockStore,
    /// Bodies found at open, handed to the shell once.
    restored_blocks: Vec<Vec<u8>>,
    /// Bytes of peers' messages logged this height, per round.
    others: BTreeMap<Round, u64>,
    /// Records not logged because the WAL was at its budget (this height).
    dropped: u64,
}

/// Share of the WAL bound one round's peer messages may take (1/64: a
/// round of 21 hybrid-key validators' three steps at four values each is
/// under 0.8 MiB, the default bound's share is 1 MiB).
pub const WAL_OTHERS_PER_ROUND: (u64, u64) = (1, 64);
/// Share of the WAL bound all peer messages of a height may take; the rest
/// is kept for our own messages.
pub const WAL_OTHERS_TOTAL: (u64, u64) = (3, 4);

fn share(max: u64, (num, den): (u64, u64)) -> u64 {
    max.checked_div(den).unwrap_or(0).saturating_mul(num)
}

fn message_round(m: &Message) -> Round {
    match m {
        Message::Proposal(p) => p.proposal.round,
        Message::Vote(v) => v.vote.round,
        Message::Commit(c) => c.round,
        Message::Status(_) => 0,
    }
}

/// What a validator finds on disk when it starts: the signer state and the
/// WAL records of the height it resumes at.
#[derive(Debug, Default)]
pub struct Restored {
    /// The signer's high-water mark (the default if nothing was ever signed).
    pub signer: SignerState,
    /// Whether the log was of `height` (a restart within a height).
    pub resumed: bool,
    /// The records to replay (empty unless the log was of `height`).
    pub records: Vec<WalRecord>,
    /// How many block bodies were kept for `height` (the shell gets them
    /// through [`crate::Durable::kept_blocks`]).
    pub blocks: usize,
}

impl BftDisk {
    /// Opens (creating) the store in `dir` for an engine resuming at
    /// `height`: a log of another height is stale and started afresh.
    pub fn open(dir: &Path, height: Height) -> Result<(Self, Restored), StoreError> {
        fs::create_dir_all(dir).map_err(io_err(dir, "create"))?;
        let (signer, stored) = SignerStore::open(dir.join("signer"))?;
        let (mut wal, contents) = Wal::open(dir.join("wal"))?;
        let resumed = contents.height == Some(height);
        let records = if resumed {
            contents.records
        } else {
            wal.truncate_for(height)?;
            Vec::new()
        };
        let blocks = BlockStore::open(dir.join("blocks"))?;
        let restored_blocks = blocks.load(height)?;
        let mut others: BTreeMap<Round, u64> = BTreeMap::new();
        for r in &records {
            if let WalRecord::Received(m) = r {
                let len = frame_len(r);
                let at = others.entry(message_round(m)).or_default();
                *at = at.saturating_add(len);
            }
        }
        let restored = Restored {
            signer: stored.unwrap_or_default(),
            resumed,
            records,
            blocks: restored_blocks.len(),
        };
        Ok((
            Self {
                signer,
                wal,
                blocks,
                restored_blocks,
                others,
                dropped: 0,
            },
            restored,
        ))
    }

    /// The WAL (for its size and height).
    pub fn wal(&self) -> &Wal {
        &self.wal
    }

    /// The WAL, to change its bound.
    pub fn wal_mut(&mut self) -> &mut Wal {
        &mut self.wal
    }

    /// Records of this height not logged because the WAL was at its budget.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Bytes of peers' messages logged this height (a few rounds' sums).
    fn others_total(&self) -> u64 {
        self.others.values().fold(0u64, |a, b| a.saturating_add(*b))
    }

    /// Logs `record` if it fits its budget; a record that does not is
    /// dropped (counted, reported once per height), never an error.
    fn append_within_budget(&mut self, record: &WalRecord) -> Result<(), String> {
        let len = frame_len(record);
        let max = self.wal.max_bytes();
        let peer_round = match record {
            WalRecord::Received(m) => {
                let round = message_round(m);
                let used = self.others.get(&round).copied().unwrap_or(0);
                let fits = used.saturating_add(len) <= share(max, WAL_OTHERS_PER_ROUND)
                    && self.others_total().saturating_add(len) <= share(max, WAL_OTHERS_TOTAL);
                if !fits {
                    self.drop_record(
                        record,
                        "its round's share of the WAL for peers' messages is used up",
                    );
                    return Ok(());
                }
                Some(round)
            }
            WalRecord::Sent(_) => None,
        };
        match self.wal.append(record) {
            Ok(()) => {
                if let Some(round) = peer_round {
                    let at = self.others.entry(round).or_default();
                    *at = at.saturating_add(len);
                }
                Ok(())
            }
            Err(StoreError::WalFull { .. }) => {
                self.drop_record(record, "the WAL is full");
                Ok(())
            }
            Err(e) => Err(format!("writing to the WAL: {e}")),
        }
    }

    fn drop_record(&mut self, record: &WalRecord, why: &str) {
        if self.dropped == 0 {
            let whose = match record {
                WalRecord::Received(_) => "a peer's message",
                WalRecord::Sent(_) => "our own message",
            };
            tracing::warn!(
                target: "qstack::bft",
                "not logging {whose} at height {:?}: {why} ({} of {} bytes used); the lock is safe in the signer file, and a restart re-learns dropped votes from peers",
                self.wal.height(),
                self.wal.size(),
                self.wal.max_bytes()
            );
        }
        self.dropped = self.dropped.saturating_add(1);
    }
}

/// The bytes a record takes in the WAL (its frame).
fn frame_len(record: &WalRecord) -> u64 {
    (record.encode().len() as u64)
        .saturating_add(
            FRAME_HEADER_LEN as u64, /* + the frame's compact length */
        )
        .saturating_add(1)
}

impl crate::Durable for BftDisk {
    fn persist(&mut self, p: &crate::Persist) -> Result<(), String> {
        use crate::Persist;
        match p {
            Persist::State(bytes) => {
                let state = SignerState::decode_all(&mut &bytes[..])
                    .map_err(|e| format!("the engine's signer state does not decode: {e}"))?;
                self.signer
                    .persist(&state)
                    .map_err(|e| format!("persisting the signer state: {e}"))
            }
            Persist::Append(bytes) => {
                let record = WalRecord::decode_all(&mut &bytes[..])
                    .map_err(|e| format!("the engine's WAL record does not decode: {e}"))?;
                self.append_within_budget(&record)
            }
            Persist::NewLog(height) => {
                self.wal
                    .truncate_for(*height)
                    .map_err(|e| format!("starting the WAL of height {height}: {e}"))?;
                self.others.clear();
                self.dropped = 0;
                self.blocks
                    .drop_below(*height)
                    .map_err(|e| format!("dropping the blocks kept below height {height}: {e}"))
            }
            Persist::Block(hash) => Err(format!(
                "block {hash} to keep came without its body (the shell calls keep_block)"
            )),
        }
    }

    fn keep_block(&mut self, hash: &qstack_core::H256, body: &[u8]) -> Result<(), String> {
        let height = self
            .wal
            .height()
            .ok_or_else(|| format!("keeping block {hash} before the WAL has a height"))?;
        self.blocks
            .keep(height, hash, body)
            .map_err(|e| format!("keeping block {hash}: {e}"))
    }

    fn kept_blocks(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.restored_blocks)
    }
}

// ---------------------------------------------------------------------------
// Kept block bodies
// ---------------------------------------------------------------------------

const BLOCK_MAGIC: [u8; 8] = *b"QSBFTBLK";
const BLOCK_VERSION: u32 = 1;
/// A kept body is a block the network carried: far larger is not one.
const BLOCK_MAX_FILE: u64 = 64 << 20;

/// Block bodies a validator voted for, one file per block in a directory
/// (`<height>-<hash hex>`), each written atomically like the signer file:
///
/// ```text
/// magic "QSBFTBLK" (8) | version u32 LE (= 1) | height u64 LE | hash (32)
///   | len u32 LE | body (len) | blake2_256 of everything before it (32)
/// ```
///
/// Kept until the height ends ([`BlockStore::drop_below`]); a restart at
/// the height reads them back ([`BlockStore::load`]). A damaged file is an
/// error naming it, like the other files here (the lock itself lives in
/// the signer file: deleting a damaged body file loses no safety).
#[derive(Debug)]
pub struct BlockStore {
    dir: PathBuf,
}

impl BlockStore {
    /// Opens (creating) the directory.
    pub fn open(dir: PathBuf) -> Result<Self, StoreError> {
        fs::create_dir_all(&dir).map_err(io_err(&dir, "create"))?;
        Ok(Self { dir })
    }

    fn path(&self, height: Height, hash: &qstack_core::H256) -> PathBuf {
        self.dir
            .join(format!("{height}-{}", hex::encode(hash.as_bytes())))
    }

    /// Durably keeps `body` (block `hash`, at `height`); keeping it again
    /// rewrites the same bytes.
    pub fn keep(
        &mut self,
        height: Height,
        hash: &qstack_core::H256,
        body: &[u8],
    ) -> Result<(), StoreError> {
        let path = self.path(height, hash);
        let len = u32::try_from(body.len()).map_err(|_| StoreError::Corrupt {
            path: path.clone(),
            offset: 0,
            reason: "block body larger than 4 GiB",
        })?;
        let mut out = Vec::with_capacity(body.len().saturating_add(8 + 4 + 8 + 32 + 4 + 32));
        out.extend_from_slice(&BLOCK_MAGIC);
        out.extend_from_slice(&BLOCK_VERSION.to_le_bytes());
        out.extend_from_slice(&height.to_le_bytes());
        out.extend_from_slice(hash.as_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(body);
        let sum = blake2_256(&out);
        out.extend_from_slice(&sum);
        write_atomic(&path, &out)
    }

    /// The files here, with the height their name gives (`None`: not one
    /// of ours, such as a stale temporary file).
    fn entries(&self) -> Result<Vec<(PathBuf, Option<Height>)>, StoreError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io_err(&self.dir, "list"))? {
            let entry = entry.map_err(io_err(&self.dir, "list"))?;
            let name = entry.file_name();
            let height = name
                .to_str()
                .filter(|n| !n.ends_with(".tmp"))
                .and_then(|n| n.split_once('-'))
                .and_then(|(h, _)| h.parse::<Height>().ok());
            out.push((entry.path(), height));
        }
        out.sort();
        Ok(out)
    }

    /// Removes every body kept below `height` (and stray files).
    pub fn drop_below(&mut self, height: Height) -> Result<(), StoreError> {
        for (path, at) in self.entries()? {
            if at.is_none_or(|h| h < height) {
                fs::remove_file(&path).map_err(io_err(&path, "remove"))?;
            }
        }
        Ok(())
    }

    /// The bodies kept for `height`, after dropping those of other heights.
    pub fn load(&self, height: Height) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut bodies = Vec::new();
        for (path, at) in self.entries()? {
            if at != Some(height) {
                fs::remove_file(&path).map_err(io_err(&path, "remove"))?;
                continue;
            }
            let file = File::open(&path).map_err(io_err(&path, "open"))?;
            let mut bytes = Vec::new();
            file.take(BLOCK_MAX_FILE.saturating_add(1))
                .read_to_end(&mut bytes)
                .map_err(io_err(&path, "read"))?;
            bodies.push(decode_block_file(&path, &bytes, height)?);
        }
        Ok(bodies)
    }
}

fn decode_block_file(path: &Path, bytes: &[u8], height: Height) -> Result<Vec<u8>, StoreError> {
    if bytes.len() as u64 > BLOCK_MAX_FILE {
        return Err(corrupt(path, 0, "file far too large for a block body"));
    }
    let body_len = bytes
        .len()
        .checked_sub(32)
        .ok_or_else(|| corrupt(path, 0, "too short for a block file"))?;
    let (head, sum) = bytes.split_at(body_len);
    if blake2_256(head) != sum {
        return Err(corrupt(path, body_len, "checksum mismatch"));
    }
    let mut rest = head;
    let magic: [u8; 8] = take_array(&mut rest).ok_or_else(|| corrupt(path, 0, "truncated"))?;
    if magic != BLOCK_MAGIC {
        return Err(corrupt(path, 0, "not a kept block file (bad magic)"));
    }
    let version = take_u32(&mut rest).ok_or_else(|| corrupt(path, 8, "truncated header"))?;
    if version != BLOCK_VERSION {
        return Err(StoreError::UnsupportedVersion {
            path: path.to_path_buf(),
            version,
        });
    }
    let at = take_array::<8>(&mut rest)
        .map(u64::from_le_bytes)
        .ok_or_else(|| corrupt(path, 12, "truncated header"))?;
    let _hash: [u8; 32] =
        take_array(&mut rest).ok_or_else(|| corrupt(path, 20, "truncated header"))?;
    let len = take_u32(&mut rest).ok_or_else(|| corrupt(path, 52, "truncated header"))?;
    if at != height || rest.len() != len as usize {
        return Err(corrupt(path, 52, "header does not match the file"));
    }
    Ok(rest.to_vec())
}

fn read_signer_file(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path, "open")(e)),
    };
    let mut bytes = Vec::new();
    file.take(SIGNER_MAX_FILE.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_err(path, "read"))?;
    if bytes.len() as u64 > SIGNER_MAX_FILE {
        return Err(corrupt(path, 0, "file far too large for a signer state"));
    }
    Ok(Some(bytes))
}

fn encode_signer(state: &SignerState) -> Vec<u8> {
    let payload = state.encode();
    // A SignerState encodes to at most 96 bytes.
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(payload.len().saturating_add(8 + 4 + 4 + 32));
    out.extend_from_slice(&SIGNER_MAGIC);
    out.extend_from_slice(&SIGNER_VERSION.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&payload);
    let sum = blake2_256(&out);
    out.extend_from_slice(&sum);
    out
}

fn decode_signer(path: &Path, bytes: &[u8]) -> Result<SignerState, StoreError> {
    let mut rest = bytes;
    let magic: [u8; 8] =
        take_array(&mut rest).ok_or_else(|| corrupt(path, 0, "too short for a signer file"))?;
    if magic != SIGNER_MAGIC {
        return Err(corrupt(path, 0, "not a signer state file (bad magic)"));
    }
    let version = take_u32(&mut rest).ok_or_else(|| corrupt(path, 8, "truncated header"))?;
    if version != SIGNER_VERSION && version != SIGNER_VERSION_WITHOUT_LOCKS {
        return Err(StoreError::UnsupportedVersion {
            path: path.to_path_buf(),
            version,
        });
    }
    let len = take_u32(&mut rest).ok_or_else(|| corrupt(path, 12, "truncated header"))?;
    let payload =
        take(&mut rest, len as usize).ok_or_else(|| corrupt(path, 16, "truncated state"))?;
    let body_len = bytes.len().saturating_sub(rest.len());
    let sum: [u8; 32] =
        take_array(&mut rest).ok_or_else(|| corrupt(path, body_len, "truncated checksum"))?;
    if !rest.is_empty() {
        return Err(corrupt(path, body_len.saturating_add(32), "trailing bytes"));
    }
    let body = bytes
        .get(..body_len)
        .ok_or_else(|| corrupt(path, 0, "truncated"))?;
    if blake2_256(body) != sum {
        return Err(corrupt(path, body_len, "checksum mismatch"));
    }
    let decoded = if version == SIGNER_VERSION_WITHOUT_LOCKS {
        <Option<(Height, Round, Step)>>::decode_all(&mut &*payload)
            .map(|last| SignerState { last, locks: None })
    } else {
        SignerState::decode_all(&mut &*payload)
    };
    decoded.map_err(|_| corrupt(path, 16, "checksum matches but the state does not decode"))
}

// ---------------------------------------------------------------------------
// WAL
// ---------------------------------------------------------------------------

/// One WAL entry.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum WalRecord {
    /// A message received from a peer (appended before it is handed to the
    /// core).
    #[codec(index = 0)]
    Received(Message),
    /// One of our own [`super::BftAction::Broadcast`]s (appended before it is
    /// sent).
    #[codec(index = 1)]
    Sent(Message),
}

/// What [`Wal::open`] read back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WalContents {
    /// The height the log was started for by [`Wal::truncate_for`]; `None`
    /// for a log never truncated. The shell compares it with the core's
    /// height: a log of another height is stale (e.g. a crash between a
    /// commit and the truncation) and is truncated, not replayed.
    pub height: Option<Height>,
    /// Every intact record, oldest first.
    pub records: Vec<WalRecord>,
    /// Whether a torn last frame (a crash mid-append) was dropped and cut off
    /// the file. Its records were never acted on: appends happen before
    /// sending or handing a message to the core.
    pub torn_tail: bool,
}

/// The write-ahead log of one height: every received message and every own
/// broadcast, appended (and synced) before it is acted on, replayed on
/// restart, started afresh at each commit ([`Wal::truncate_for`]). One
/// process at a time.
#[derive(Debug)]
pub struct Wal {
    path: PathBuf,
    file: File,
    height: Option<Height>,
    size: u64,
    max_bytes: u64,
    poisoned: bool,
}

impl Wal {
    /// Opens the log at `path` and replays it. A missing file is created
    /// (empty, no height). A torn last frame is dropped and cut off the file
    /// ([`WalContents::torn_tail`]); any other damage, including a bad frame
    /// followed by a good one, is an error. The size bound is
    /// [`DEFAULT_MAX_WAL_BYTES`].
    pub fn open(path: impl Into<PathBuf>) -> Result<(Self, WalContents), StoreError> {
        let path = path.into();
        let mut file = match open_append(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                write_atomic(&path, &wal_header(None))?;
                open_append(&path).map_err(io_err(&path, "open"))?
            }
            Err(e) => return Err(io_err(&path, "open")(e)),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(io_err(&path, "read"))?;
        let replay = replay(&path, &bytes)?;
        if replay.contents.torn_tail {
            file.set_len(replay.good_len as u64)
                .and_then(|()| file.sync_all())
                .map_err(io_err(&path, "cut the torn tail of"))?;
        }
        let wal = Self {
            path,
            file,
            height: replay.contents.height,
            size: replay.good_len as u64,
            max_bytes: DEFAULT_MAX_WAL_BYTES,
            poisoned: false,
        };
        Ok((wal, replay.contents))
    }

    /// Appends one record and syncs it (`sync_data`) before returning.
    pub fn append(&mut self, record: &WalRecord) -> Result<(), StoreError> {
        self.append_batch(std::slice::from_ref(record))
    }

    /// Appends several records as one frame with a single sync: all of them
    /// survive a crash or none does. An empty batch writes nothing.
    ///
    /// Refused with [`StoreError::WalFull`] (writing nothing) if the log
    /// would grow past its bound. On an I/O error the partial frame is
    /// removed if possible; if not, or if the sync failed, the log is
    /// poisoned ([`StoreError::Poisoned`]) until reopened or truncated.
    pub fn append_batch(&mut self, records: &[WalRecord]) -> Result<(), StoreError> {
        if self.poisoned {
            return Err(StoreError::Poisoned {
                path: self.path.clone(),
            });
        }
        if records.is_empty() {
            return Ok(());
        }
        let payload = records.encode();
        let frame_len = (FRAME_HEADER_LEN as u64).saturating_add(payload.len() as u64);
        let full = || StoreError::WalFull {
            size: self.size,
            frame: frame_len,
            max: self.max_bytes,
        };
        let len = u32::try_from(payload.len()).map_err(|_| full())?;
        let new_size = self
            .size
            .checked_add(frame_len)
            .filter(|s| *s <= self.max_bytes)
            .ok_or_else(full)?;
        let frame = encode_frame(len, &payload);
        if let Err(e) = self.file.write_all(&frame) {
            let rolled_back = self
                .file
                .set_len(self.size)
                .and_then(|()| self.file.sync_data());
            if rolled_back.is_err() {
                self.poisoned = true;
            }
            return Err(io_err(&self.path, "append to")(e));
        }
        if let Err(e) = self.file.sync_data() {
            // After a failed fsync the page cache's state is unknown.
            self.poisoned = true;
            return Err(io_err(&self.path, "sync")(e));
        }
        self.size = new_size;
        Ok(())
    }

    /// Starts a fresh, empty log for `height` (after committing the height
    /// before it): a new file with only the header, swapped in atomically,
    /// so a crash leaves either the old log or the new one. Refuses a height
    /// below the log's ([`StoreError::HeightRegression`]); the same height
    /// empties the log. Clears poisoning.
    pub fn truncate_for(&mut self, height: Height) -> Result<(), StoreError> {
        if let Some(current) = self.height {
            if height < current {
                return Err(StoreError::HeightRegression {
                    current,
                    asked: height,
                });
            }
        }
        // Until the new file is open, `self.file` may be the old, unlinked one.
        self.poisoned = true;
        write_atomic(&self.path, &wal_header(Some(height)))?;
        let mut file = open_append(&self.path).map_err(io_err(&self.path, "open"))?;
        // Check that the file opened is the one just written.
        let mut header = Vec::new();
        (&mut file)
            .take((WAL_HEADER_LEN as u64).saturating_add(1))
            .read_to_end(&mut header)
            .map_err(io_err(&self.path, "read"))?;
        if header != wal_header(Some(height)) {
            return Err(corrupt(
                &self.path,
                0,
                "header just written reads back different",
            ));
        }
        self.file = file;
        self.height = Some(height);
        self.size = WAL_HEADER_LEN as u64;
        self.poisoned = false;
        Ok(())
    }

    /// The log's height (see [`WalContents::height`]).
    pub fn height(&self) -> Option<Height> {
        self.height
    }

    /// The file's size in bytes (header and intact frames).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The size bound (default [`DEFAULT_MAX_WAL_BYTES`]).
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Sets the size bound. A log already past it accepts no more appends
    /// until truncated.
    pub fn set_max_bytes(&mut self, max_bytes: u64) {
        self.max_bytes = max_bytes;
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).append(true).open(path)
}

fn wal_header(height: Option<Height>) -> Vec<u8> {
    let mut out = Vec::with_capacity(WAL_HEADER_LEN);
    out.extend_from_slice(&WAL_MAGIC);
    out.extend_from_slice(&WAL_VERSION.to_le_bytes());
    out.push(u8::from(height.is_some()));
    out.extend_from_slice(&height.unwrap_or(0).to_le_bytes());
    let check = short_check(&out);
    out.extend_from_slice(&check);
    out
}

fn decode_wal_header(path: &Path, bytes: &[u8]) -> Result<Option<Height>, StoreError> {
    let short = || corrupt(path, 0, "too short for a WAL header");
    let mut rest = bytes;
    let magic: [u8; 8] = take_array(&mut rest).ok_or_else(short)?;
    if magic != WAL_MAGIC {
        return Err(corrupt(path, 0, "not a WAL file (bad magic)"));
    }
    let version = take_u32(&mut rest).ok_or_else(short)?;
    if version != WAL_VERSION {
        return Err(StoreError::UnsupportedVersion {
            path: path.to_path_buf(),
            version,
        });
    }
    let [has_height]: [u8; 1] = take_array(&mut rest).ok_or_else(short)?;
    let height = take_array(&mut rest)
        .map(u64::from_le_bytes)
        .ok_or_else(short)?;
    let check: [u8; 4] = take_array(&mut rest).ok_or_else(short)?;
    let body = bytes.get(..WAL_HEADER_LEN - 4).ok_or_else(short)?;
    if short_check(body) != check {
        return Err(corrupt(path, 0, "WAL header checksum mismatch"));
    }
    match has_height {
        0 if height == 0 => Ok(None),
        1 => Ok(Some(height)),
        _ => Err(corrupt(path, 12, "bad height flag")),
    }
}

fn frame_check(len: u32, sum: &[u8; 32]) -> [u8; 4] {
    let mut data = [0u8; 36];
    let (l, s) = data.split_at_mut(4);
    l.copy_from_slice(&len.to_le_bytes());
    s.copy_from_slice(sum);
    short_check(&data)
}

fn encode_frame(len: u32, payload: &[u8]) -> Vec<u8> {
    let sum = blake2_256(payload);
    let mut out = Vec::with_capacity(FRAME_HEADER_LEN.saturating_add(payload.len()));
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&frame_check(len, &sum));
    out.extend_from_slice(&sum);
    out.extend_from_slice(payload);
    out
}

/// A frame at the start of some bytes.
enum Frame<'a> {
    /// Intact; `len` bytes in all.
    Good { payload: &'a [u8], len: usize },
    /// The header is cut short, or the header is intact and the payload runs
    /// past the end: a partial last frame.
    Partial,
    /// The header's check fails: its length cannot be trusted.
    BadHeader,
    /// The header is intact and the payload complete, but its checksum fails.
    BadPayload { len: usize },
}

fn parse_frame(bytes: &[u8]) -> Frame<'_> {
    let mut rest = bytes;
    let (Some(len), Some(check), Some(sum)) = (
        take_u32(&mut rest),
        take_array::<4>(&mut rest),
        take_array::<32>(&mut rest),
    ) else {
        return Frame::Partial;
    };
    if frame_check(len, &sum) != check || len == 0 {
        return Frame::BadHeader;
    }
    let Some(payload) = take(&mut rest, len as usize) else {
        return Frame::Partial;
    };
    let total = FRAME_HEADER_LEN.saturating_add(payload.len());
    if blake2_256(payload) != sum {
        return Frame::BadPayload { len: total };
    }
    Frame::Good {
        payload,
        len: total,
    }
}

struct Replay {
    contents: WalContents,
    /// Bytes of header and intact frames: where the file is cut if torn.
    good_len: usize,
}

fn replay(path: &Path, bytes: &[u8]) -> Result<Replay, StoreError> {
    let height = decode_wal_header(path, bytes)?;
    let mut contents = WalContents {
        height,
        ..WalContents::default()
    };
    let mut offset = WAL_HEADER_LEN;
    loop {
        let rest = bytes.get(offset..).unwrap_or_default();
        if rest.is_empty() {
            break;
        }
        match parse_frame(rest) {
            Frame::Good { payload, len } => {
                let records = Vec::<WalRecord>::decode_all(&mut &*payload).map_err(|_| {
                    corrupt(
                        path,
                        offset,
                        "frame checksum matches but its records do not decode",
                    )
                })?;
                contents.records.extend(records);
                offset = offset.saturating_add(len);
            }
            Frame::Partial => {
                contents.torn_tail = true;
                break;
            }
            Frame::BadPayload { len } if len == rest.len() => {
                contents.torn_tail = true;
                break;
            }
            Frame::BadPayload { .. } => {
                return Err(corrupt(
                    path,
                    offset,
                    "bad frame checksum with data after it",
                ));
            }
            Frame::BadHeader => {
                // The length is untrusted, so look for any intact frame
                // further on: one means damage in the middle, none a torn
                // tail. (A genuine torn tail is at most one frame long.)
                let later = (1..rest.len())
                    .filter_map(|p| rest.get(p..))
                    .any(|r| matches!(parse_frame(r), Frame::Good { .. }));
                if later {
                    return Err(corrupt(
                        path,
                        offset,
                        "bad frame header followed by intact frames",
                    ));
                }
                contents.torn_tail = true;
                break;
            }
        }
    }
    Ok(Replay {
        contents,
        good_len: offset,
    })
}

#[cfg(test)]
mod tests;
