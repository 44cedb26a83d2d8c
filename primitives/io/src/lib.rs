//! The host interface: the only door out of the runtime. On `wasm32` every
//! function here is a versioned `extern "C"` import (`ext_storage_get_v1`, …)
//! that the node's executor provides; natively the same functions act on a
//! thread-local [`Externalities`] so pallets run unchanged in unit tests.
//!
//! This crate owns the ABI between runtime and host and must not grow anything
//! else: storage, hashing, signature verification and logging.
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)
)]

extern crate alloc;

use alloc::vec::Vec;
use qstack_core::{PublicKey, Signature};

#[cfg(feature = "std")]
mod native;
#[cfg(feature = "std")]
pub mod overlay;
#[cfg(not(feature = "std"))]
mod wasm;

#[cfg(feature = "std")]
pub use native::{counters, set_and_run_with_externalities, with_externalities, Externalities};
#[cfg(feature = "std")]
pub use overlay::{OverlayExt, OverlayedChanges, TestExternalities};

/// Every host function of this interface (module `env`). The executor provides
/// all of them and must keep every version it ever shipped; `set_code` refuses
/// code importing anything else.
pub const HOST_FUNCTIONS: &[&str] = &[
    "ext_storage_get_v1",
    "ext_storage_read_v1",
    "ext_storage_set_v1",
    "ext_storage_clear_v1",
    "ext_storage_exists_v1",
    "ext_storage_clear_prefix_v1",
    "ext_storage_next_key_v1",
    "ext_storage_root_v1",
    "ext_storage_start_transaction_v1",
    "ext_storage_commit_transaction_v1",
    "ext_storage_rollback_transaction_v1",
    "ext_hashing_blake2_256_v1",
    "ext_hashing_blake2_128_v1",
    "ext_hashing_twox_128_v1",
    "ext_hashing_twox_64_v1",
    "ext_hashing_sha3_256_v1",
    "ext_hashing_shake256_v1",
    "ext_crypto_verify_v1",
    "ext_logging_log_v1",
];

/// Packs a pointer and a length into the single `u64` that crosses the
/// runtime/host boundary: low 32 bits pointer, high 32 bits length.
pub const fn pack_ptr_len(ptr: u32, len: u32) -> u64 {
    (ptr as u64) | ((len as u64) << 32)
}

/// Inverse of [`pack_ptr_len`].
pub const fn unpack_ptr_len(v: u64) -> (u32, u32) {
    (v as u32, (v >> 32) as u32)
}

/// The value a host function returns for "no value" (`None`).
pub const NONE_SENTINEL: u64 = u64::MAX;

/// 32-byte hash functions the host offers.
pub(crate) enum Hash32 {
    Blake2_256,
    Sha3_256,
}

/// 16-byte hash functions the host offers.
pub(crate) enum Hash16 {
    Blake2_128,
    Twox128,
}

/// Result of a bounded prefix clear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClearPrefixResult {
    /// Keys removed by this call.
    pub removed: u32,
    /// Whether keys with the prefix remain (the limit was hit).
    pub more: bool,
}

/// Log levels understood by the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u32)]
pub enum LogLevel {
    /// Something went wrong.
    Error = 1,
    /// Something unexpected.
    Warn = 2,
    /// Progress a node operator cares about.
    Info = 3,
    /// Detail for debugging.
    Debug = 4,
    /// Very verbose detail.
    Trace = 5,
}

impl LogLevel {
    /// Parses the wire value, clamping unknown values to `Trace`.
    pub fn from_u32(v: u32) -> Self {
        match v {
            1 => LogLevel::Error,
            2 => LogLevel::Warn,
            3 => LogLevel::Info,
            4 => LogLevel::Debug,
            _ => LogLevel::Trace,
        }
    }
}

/// Storage access for the current block's state.
pub mod storage {
    use super::*;

    /// The value at `key`, if any.
    pub fn get(key: &[u8]) -> Option<Vec<u8>> {
        imp::storage_get(key)
    }

    /// Copies the value at `key`, from byte `offset`, into `out`. Returns the
    /// full length of the value (which may exceed `out`), or `None` if absent.
    pub fn read(key: &[u8], out: &mut [u8], offset: u32) -> Option<u32> {
        imp::storage_read(key, out, offset)
    }

    /// Sets `key` to `value`.
    pub fn set(key: &[u8], value: &[u8]) {
        imp::storage_set(key, value)
    }

    /// Removes `key`.
    pub fn clear(key: &[u8]) {
        imp::storage_clear(key)
    }

    /// Whether `key` has a value.
    pub fn exists(key: &[u8]) -> bool {
        imp::storage_exists(key)
    }

    /// Removes up to `limit` keys starting with `prefix` (all if `None`).
    pub fn clear_prefix(prefix: &[u8], limit: Option<u32>) -> ClearPrefixResult {
        imp::storage_clear_prefix(prefix, limit)
    }

    /// The first key strictly after `key` in byte order, if any.
    pub fn next_key(key: &[u8]) -> Option<Vec<u8>> {
        imp::storage_next_key(key)
    }

    /// The state root with every change so far applied.
    pub fn root() -> [u8; 32] {
        imp::storage_root()
    }

    /// Opens a nested storage transaction.
    pub fn start_transaction() {
        imp::storage_start_transaction()
    }

    /// Commits the innermost transaction into its parent.
    pub fn commit_transaction() {
        imp::storage_commit_transaction()
    }

    /// Discards every write of the innermost transaction.
    pub fn rollback_transaction() {
        imp::storage_rollback_transaction()
    }
}

/// Hash functions (computed natively by the host).
pub mod hashing {
    use super::*;

    /// blake2b-256.
    pub fn blake2_256(data: &[u8]) -> [u8; 32] {
        imp::hash32(Hash32::Blake2_256, data)
    }
    /// blake2b-128.
    pub fn blake2_128(data: &[u8]) -> [u8; 16] {
        imp::hash16(Hash16::Blake2_128, data)
    }
    /// Substrate's twox-128 (storage prefixes).
    pub fn twox_128(data: &[u8]) -> [u8; 16] {
        imp::hash16(Hash16::Twox128, data)
    }
    /// Substrate's twox-64.
    pub fn twox_64(data: &[u8]) -> [u8; 8] {
        imp::twox_64(data)
    }
    /// SHA3-256.
    pub fn sha3_256(data: &[u8]) -> [u8; 32] {
        imp::hash32(Hash32::Sha3_256, data)
    }
    /// SHAKE256 squeezed to `out.len()` bytes.
    pub fn shake256(data: &[u8], out: &mut [u8]) {
        imp::shake256(data, out)
    }
}

/// Signature verification for every key scheme.
pub mod crypto {
    use super::*;

    /// Whether `sig` is a valid signature of `msg` under `pk`. Hybrid
    /// signatures are valid only if both halves verify.
    pub fn verify(sig: &Signature, msg: &[u8], pk: &PublicKey) -> bool {
        imp::verify(sig, msg, pk)
    }
}

/// Logging through the host.
pub mod logging {
    use super::*;

    /// Logs `msg` under `target` at `level`.
    pub fn log(level: LogLevel, target: &str, msg: &str) {
        imp::log(level, target, msg)
    }
}

#[cfg(feature = "std")]
use native as imp;
#[cfg(not(feature = "std"))]
use wasm as imp;
