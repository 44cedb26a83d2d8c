//! `wasm32` implementation: versioned imports from the host (module `env`).
//! A host function that returns bytes of unknown size calls the runtime's
//! exported `alloc` and hands back `(ptr, len)`; the runtime then owns that
//! buffer (it is a `Vec<u8>` allocated with alignment 1).

use crate::{
    pack_ptr_len, unpack_ptr_len, ClearPrefixResult, Hash16, Hash32, LogLevel, NONE_SENTINEL,
};
use alloc::vec::Vec;
use codec::Encode;
use qstack_core::{PublicKey, Signature};

#[link(wasm_import_module = "env")]
extern "C" {
    fn ext_storage_get_v1(key: u64) -> u64;
    fn ext_storage_read_v1(key: u64, out: u64, offset: u32) -> u64;
    fn ext_storage_set_v1(key: u64, value: u64);
    fn ext_storage_clear_v1(key: u64);
    fn ext_storage_exists_v1(key: u64) -> u32;
    fn ext_storage_clear_prefix_v1(prefix: u64, limit: u32) -> u64;
    fn ext_storage_next_key_v1(key: u64) -> u64;
    fn ext_storage_root_v1(out: u32);
    fn ext_storage_start_transaction_v1();
    fn ext_storage_commit_transaction_v1();
    fn ext_storage_rollback_transaction_v1();
    fn ext_hashing_blake2_256_v1(data: u64, out: u32);
    fn ext_hashing_blake2_128_v1(data: u64, out: u32);
    fn ext_hashing_twox_128_v1(data: u64, out: u32);
    fn ext_hashing_twox_64_v1(data: u64, out: u32);
    fn ext_hashing_sha3_256_v1(data: u64, out: u32);
    fn ext_hashing_shake256_v1(data: u64, out: u64);
    fn ext_crypto_verify_v1(sig: u64, msg: u64, pk: u64) -> u32;
    fn ext_logging_log_v1(level: u32, target: u64, msg: u64);
}

fn slice(s: &[u8]) -> u64 {
    pack_ptr_len(s.as_ptr() as u32, s.len() as u32)
}

fn slice_mut(s: &mut [u8]) -> u64 {
    pack_ptr_len(s.as_mut_ptr() as u32, s.len() as u32)
}

/// Takes ownership of a host-filled buffer allocated through our `alloc`.
fn owned(v: u64) -> Option<Vec<u8>> {
    if v == NONE_SENTINEL {
        return None;
    }
    let (ptr, len) = unpack_ptr_len(v);
    if len == 0 {
        return Some(Vec::new());
    }
    // SAFETY: the host allocated exactly `len` bytes at `ptr` by calling the
    // runtime's exported `alloc(len)` (alignment 1) and filled them; nothing
    // else references that buffer, so this Vec becomes its sole owner.
    Some(unsafe { Vec::from_raw_parts(ptr as *mut u8, len as usize, len as usize) })
}

pub(crate) fn storage_get(key: &[u8]) -> Option<Vec<u8>> {
    owned(unsafe { ext_storage_get_v1(slice(key)) })
}
pub(crate) fn storage_read(key: &[u8], out: &mut [u8], offset: u32) -> Option<u32> {
    let r = unsafe { ext_storage_read_v1(slice(key), slice_mut(out), offset) };
    if r == NONE_SENTINEL {
        None
    } else {
        Some(r as u32)
    }
}
pub(crate) fn storage_set(key: &[u8], value: &[u8]) {
    unsafe { ext_storage_set_v1(slice(key), slice(value)) }
}
pub(crate) fn storage_clear(key: &[u8]) {
    unsafe { ext_storage_clear_v1(slice(key)) }
}
pub(crate) fn storage_exists(key: &[u8]) -> bool {
    unsafe { ext_storage_exists_v1(slice(key)) != 0 }
}
pub(crate) fn storage_clear_prefix(prefix: &[u8], limit: Option<u32>) -> ClearPrefixResult {
    let r = unsafe { ext_storage_clear_prefix_v1(slice(prefix), limit.unwrap_or(u32::MAX)) };
    ClearPrefixResult {
        removed: r as u32,
        more: (r >> 32) != 0,
    }
}
pub(crate) fn storage_next_key(key: &[u8]) -> Option<Vec<u8>> {
    owned(unsafe { ext_storage_next_key_v1(slice(key)) })
}
pub(crate) fn storage_root() -> [u8; 32] {
    let mut out = [0u8; 32];
    unsafe { ext_storage_root_v1(out.as_mut_ptr() as u32) };
    out
}
pub(crate) fn storage_start_transaction() {
    unsafe { ext_storage_start_transaction_v1() }
}
pub(crate) fn storage_commit_transaction() {
    unsafe { ext_storage_commit_transaction_v1() }
}
pub(crate) fn storage_rollback_transaction() {
    unsafe { ext_storage_rollback_transaction_v1() }
}

pub(crate) fn hash32(h: Hash32, data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let o = out.as_mut_ptr() as u32;
    match h {
        Hash32::Blake2_256 => unsafe { ext_hashing_blake2_256_v1(slice(data), o) },
        Hash32::Sha3_256 => unsafe { ext_hashing_sha3_256_v1(slice(data), o) },
    }
    out
}
pub(crate) fn hash16(h: Hash16, data: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    let o = out.as_mut_ptr() as u32;
    match h {
        Hash16::Blake2_128 => unsafe { ext_hashing_blake2_128_v1(slice(data), o) },
        Hash16::Twox128 => unsafe { ext_hashing_twox_128_v1(slice(data), o) },
    }
    out
}
pub(crate) fn twox_64(data: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    unsafe { ext_hashing_twox_64_v1(slice(data), out.as_mut_ptr() as u32) };
    out
}
pub(crate) fn shake256(data: &[u8], out: &mut [u8]) {
    unsafe { ext_hashing_shake256_v1(slice(data), slice_mut(out)) }
}
pub(crate) fn verify(sig: &Signature, msg: &[u8], pk: &PublicKey) -> bool {
    let sig = sig.encode();
    let pk = pk.encode();
    unsafe { ext_crypto_verify_v1(slice(&sig), slice(msg), slice(&pk)) != 0 }
}
pub(crate) fn log(level: LogLevel, target: &str, msg: &str) {
    unsafe {
        ext_logging_log_v1(
            level as u32,
            slice(target.as_bytes()),
            slice(msg.as_bytes()),
        )
    }
}
