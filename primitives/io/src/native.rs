//! Native implementation: every call acts on the thread's current
//! [`Externalities`], installed with [`set_and_run_with_externalities`].

use crate::{ClearPrefixResult, Hash16, Hash32, LogLevel};
use qstack_core::{hashing, PublicKey, Signature};
use std::cell::Cell;

/// The state a runtime call reads and writes. The node's executor implements
/// it over its overlay (see [`crate::OverlayExt`]) for host functions, and the
/// native runtime uses the same implementation through this crate.
pub trait Externalities {
    /// The value at `key`.
    fn storage(&mut self, key: &[u8]) -> Option<Vec<u8>>;
    /// Sets `key`.
    fn set_storage(&mut self, key: &[u8], value: &[u8]);
    /// Removes `key`.
    fn clear_storage(&mut self, key: &[u8]);
    /// Whether `key` has a value.
    fn exists_storage(&mut self, key: &[u8]) -> bool {
        self.storage(key).is_some()
    }
    /// Removes up to `limit` keys under `prefix`.
    fn clear_prefix(&mut self, prefix: &[u8], limit: Option<u32>) -> ClearPrefixResult;
    /// The first key strictly after `key`.
    fn next_storage_key(&mut self, key: &[u8]) -> Option<Vec<u8>>;
    /// The state root including all pending changes.
    fn storage_root(&mut self) -> [u8; 32];
    /// Opens a nested transaction.
    fn start_transaction(&mut self);
    /// Commits the innermost transaction (no-op without one).
    fn commit_transaction(&mut self);
    /// Rolls back the innermost transaction (no-op without one).
    fn rollback_transaction(&mut self);
    /// Verifies a signature. Hosts may answer from a cache of checks done
    /// ahead of execution; the answer must equal [`qstack_core::verify`].
    fn verify(&mut self, sig: &Signature, msg: &[u8], pk: &PublicKey) -> bool {
        qstack_core::verify(sig, msg, pk)
    }
    /// Takes the first state-backend error since the last call (a missing
    /// trie node): the executor fails the runtime call with it.
    fn take_backend_error(&mut self) -> Option<String> {
        None
    }
}

thread_local! {
    static CURRENT: Cell<Option<*mut (dyn Externalities + 'static)>> = const { Cell::new(None) };
    static READS: Cell<u64> = const { Cell::new(0) };
    static WRITES: Cell<u64> = const { Cell::new(0) };
}

/// Storage operations the native runtime made on this thread: what a
/// call's declared database weight must cover (tests compare the two).
pub mod counters {
    use super::{READS, WRITES};

    /// Reads (`get`, `read`, `exists`, `next_key`) and writes (`set`,
    /// `clear`, each key `clear_prefix` removed) since the last [`reset`].
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct StorageOps {
        /// Reads.
        pub reads: u64,
        /// Writes.
        pub writes: u64,
    }

    /// Starts counting from zero.
    pub fn reset() {
        READS.with(|c| c.set(0));
        WRITES.with(|c| c.set(0));
    }

    /// The operations since the last [`reset`].
    pub fn get() -> StorageOps {
        StorageOps {
            reads: READS.with(|c| c.get()),
            writes: WRITES.with(|c| c.get()),
        }
    }

    pub(crate) fn read() {
        READS.with(|c| c.set(c.get().saturating_add(1)));
    }

    pub(crate) fn write(n: u64) {
        WRITES.with(|c| c.set(c.get().saturating_add(n)));
    }
}

/// Runs `f` with `ext` installed as the thread's externalities, restoring the
/// previous one afterwards (calls nest).
pub fn set_and_run_with_externalities<R>(ext: &mut dyn Externalities, f: impl FnOnce() -> R) -> R {
    // SAFETY: the pointer is only dereferenced inside `with_externalities`
    // while `f` runs, during which `ext` is mutably borrowed by this frame and
    // so outlives every use; the guard restores the previous value even on
    // unwinding. The lifetime is erased only for storage in the thread-local.
    let ptr: *mut (dyn Externalities + '_) = ext;
    let ptr: *mut (dyn Externalities + 'static) = unsafe { std::mem::transmute(ptr) };
    struct Restore(Option<*mut (dyn Externalities + 'static)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(CURRENT.with(|c| c.replace(Some(ptr))));
    f()
}

/// Runs `f` on the current externalities, or returns `None` outside of one.
pub fn with_externalities<R>(f: impl FnOnce(&mut dyn Externalities) -> R) -> Option<R> {
    let ptr = CURRENT.with(|c| c.take())?;
    // Taken out while in use, so a re-entrant call sees none instead of
    // aliasing the mutable reference.
    struct Restore(*mut (dyn Externalities + 'static));
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(Some(self.0)));
        }
    }
    let restore = Restore(ptr);
    // SAFETY: see `set_and_run_with_externalities`; the pointer is live and
    // not aliased (it was removed from the thread-local above).
    let r = f(unsafe { &mut *restore.0 });
    Some(r)
}

fn ext<R>(f: impl FnOnce(&mut dyn Externalities) -> R) -> R {
    match with_externalities(f) {
        Some(r) => r,
        // Native runtime code outside `execute_with` is a bug in a test or
        // in the node's wiring, never reachable from chain input.
        #[allow(clippy::panic)]
        None => panic!(
            "qstack-io storage used outside of externalities (wrap the call in execute_with)"
        ),
    }
}

pub(crate) fn storage_get(key: &[u8]) -> Option<Vec<u8>> {
    counters::read();
    ext(|e| e.storage(key))
}
pub(crate) fn storage_read(key: &[u8], out: &mut [u8], offset: u32) -> Option<u32> {
    counters::read();
    let v = ext(|e| e.storage(key))?;
    let start = (offset as usize).min(v.len());
    let rest = v.get(start..).unwrap_or_default();
    let n = rest.len().min(out.len());
    if let (Some(dst), Some(src)) = (out.get_mut(..n), rest.get(..n)) {
        dst.copy_from_slice(src);
    }
    Some(v.len() as u32)
}
pub(crate) fn storage_set(key: &[u8], value: &[u8]) {
    counters::write(1);
    ext(|e| e.set_storage(key, value))
}
pub(crate) fn storage_clear(key: &[u8]) {
    counters::write(1);
    ext(|e| e.clear_storage(key))
}
pub(crate) fn storage_exists(key: &[u8]) -> bool {
    counters::read();
    ext(|e| e.exists_storage(key))
}
pub(crate) fn storage_clear_prefix(prefix: &[u8], limit: Option<u32>) -> ClearPrefixResult {
    counters::read();
    let r = ext(|e| e.clear_prefix(prefix, limit));
    counters::write(u64::from(r.removed));
    r
}
pub(crate) fn storage_next_key(key: &[u8]) -> Option<Vec<u8>> {
    counters::read();
    ext(|e| e.next_storage_key(key))
}
pub(crate) fn storage_root() -> [u8; 32] {
    ext(|e| e.storage_root())
}
pub(crate) fn storage_start_transaction() {
    ext(|e| e.start_transaction())
}
pub(crate) fn storage_commit_transaction() {
    ext(|e| e.commit_transaction())
}
pub(crate) fn storage_rollback_transaction() {
    ext(|e| e.rollback_transaction())
}

pub(crate) fn hash32(h: Hash32, data: &[u8]) -> [u8; 32] {
    match h {
        Hash32::Blake2_256 => hashing::blake2_256(data),
        Hash32::Sha3_256 => hashing::sha3_256(data),
    }
}
pub(crate) fn hash16(h: Hash16, data: &[u8]) -> [u8; 16] {
    match h {
        Hash16::Blake2_128 => hashing::blake2_128(data),
        Hash16::Twox128 => hashing::twox_128(data),
    }
}
pub(crate) fn twox_64(data: &[u8]) -> [u8; 8] {
    hashing::twox_64(data)
}
pub(crate) fn shake256(data: &[u8], out: &mut [u8]) {
    hashing::shake256(data, out)
}
pub(crate) fn verify(sig: &Signature, msg: &[u8], pk: &PublicKey) -> bool {
    // Outside externalities (e.g. a pure unit test) verification is still
    // well defined: it is a pure function.
    with_externalities(|e| e.verify(sig, msg, pk))
        .unwrap_or_else(|| qstack_core::verify(sig, msg, pk))
}
pub(crate) fn log(level: LogLevel, target: &str, msg: &str) {
    match level {
        LogLevel::Error => tracing::error!(target: "runtime", "[{target}] {msg}"),
        LogLevel::Warn => tracing::warn!(target: "runtime", "[{target}] {msg}"),
        LogLevel::Info => tracing::info!(target: "runtime", "[{target}] {msg}"),
        LogLevel::Debug => tracing::debug!(target: "runtime", "[{target}] {msg}"),
        LogLevel::Trace => tracing::trace!(target: "runtime", "[{target}] {msg}"),
    }
}
