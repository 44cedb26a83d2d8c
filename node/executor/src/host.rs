//! Host functions: the native side of every `qstack-io` import. Each reads its
//! arguments from the runtime's memory with bounds checks; a bad pointer traps
//! the call (never the node). Results of unknown size go into buffers the
//! runtime allocates through its exported `alloc`.

use crate::ExecutorError;
use codec::Decode;
use qstack_core::{hashing, PublicKey, Signature};
use qstack_io::{pack_ptr_len, unpack_ptr_len, Externalities, LogLevel, NONE_SENTINEL};
use wasmtime::{Caller, Linker, Memory, TypedFunc};

/// A failure inside a host function, reported after the trap it causes.
#[derive(Debug)]
pub(crate) enum HostError {
    /// Pointer/length outside the runtime's memory.
    OutOfBounds,
    /// The runtime's `alloc` failed.
    Alloc(String),
    /// Arguments that do not decode.
    BadArgument(&'static str),
}

impl HostError {
    pub(crate) fn into_executor_error(self, method: &str) -> ExecutorError {
        let reason = match self {
            HostError::OutOfBounds => "host function given a buffer outside memory".to_string(),
            HostError::Alloc(e) => format!("runtime alloc failed: {e}"),
            HostError::BadArgument(what) => {
                format!("host function argument does not decode: {what}")
            }
        };
        ExecutorError::Trap {
            method: method.to_string(),
            reason,
        }
    }
}

/// Per-call state of a store: the externalities and the instance's memory.
pub struct HostState {
    // Lifetime-erased pointer to the caller's externalities; valid for the
    // whole call (see `Executor::call_compiled`, which owns the borrow).
    ext: *mut (dyn Externalities + 'static),
    memory: Option<Memory>,
    alloc: Option<TypedFunc<u32, u32>>,
    error: Option<HostError>,
}

// SAFETY: a HostState lives inside a Store used by one thread for one call;
// wasmtime requires Send for store data, and the externalities it points to
// are only touched from that thread during the call.
unsafe impl Send for HostState {}

impl HostState {
    pub(crate) fn new(ext: &mut dyn Externalities) -> Self {
        let ptr: *mut (dyn Externalities + '_) = ext;
        // SAFETY: only the lifetime is erased. The Store holding this state is
        // dropped at the end of `call_compiled`, inside the borrow of `ext`.
        let ext: *mut (dyn Externalities + 'static) = unsafe { std::mem::transmute(ptr) };
        Self {
            ext,
            memory: None,
            alloc: None,
            error: None,
        }
    }

    pub(crate) fn attach(&mut self, memory: Memory, alloc: TypedFunc<u32, u32>) {
        self.memory = Some(memory);
        self.alloc = Some(alloc);
    }

    pub(crate) fn take_host_error(&mut self) -> Option<HostError> {
        self.error.take()
    }
}

type C<'a> = Caller<'a, HostState>;

fn fail<T>(caller: &mut C<'_>, e: HostError) -> wasmtime::Result<T> {
    let msg = format!("{e:?}");
    caller.data_mut().error = Some(e);
    Err(wasmtime::Error::msg(msg))
}

fn read(caller: &mut C<'_>, packed: u64) -> wasmtime::Result<Vec<u8>> {
    let (ptr, len) = unpack_ptr_len(packed);
    let Some(memory) = caller.data().memory else {
        return fail(caller, HostError::OutOfBounds);
    };
    let data = memory.data(&*caller);
    let start = ptr as usize;
    match start
        .checked_add(len as usize)
        .and_then(|end| data.get(start..end))
    {
        Some(s) => Ok(s.to_vec()),
        None => fail(caller, HostError::OutOfBounds),
    }
}

fn write(caller: &mut C<'_>, ptr: u32, bytes: &[u8]) -> wasmtime::Result<()> {
    let Some(memory) = caller.data().memory else {
        return fail(caller, HostError::OutOfBounds);
    };
    if memory.write(&mut *caller, ptr as usize, bytes).is_err() {
        return fail(caller, HostError::OutOfBounds);
    }
    Ok(())
}

/// Copies `bytes` into a fresh runtime-owned buffer; returns packed (ptr, len).
fn give(caller: &mut C<'_>, bytes: &[u8]) -> wasmtime::Result<u64> {
    if bytes.is_empty() {
        return Ok(0);
    }
    let Some(alloc) = caller.data().alloc.clone() else {
        return fail(caller, HostError::Alloc("no alloc export".into()));
    };
    let len =
        u32::try_from(bytes.len()).map_err(|_| wasmtime::Error::msg("value larger than 4 GiB"))?;
    let ptr = alloc.call(&mut *caller, len)?;
    write(caller, ptr, bytes)?;
    Ok(pack_ptr_len(ptr, len))
}

fn ext<'a>(caller: &C<'a>) -> &'a mut dyn Externalities {
    // SAFETY: see `HostState::ext`; the pointer is valid for the call and no
    // other reference to the externalities exists while a host function runs.
    unsafe { &mut *caller.data().ext }
}

/// Registers every host function of `qstack_io::HOST_FUNCTIONS`.
pub(crate) fn define(l: &mut Linker<HostState>) -> wasmtime::Result<()> {
    l.func_wrap(
        "env",
        "ext_storage_get_v1",
        |mut c: C<'_>, key: u64| -> wasmtime::Result<u64> {
            let key = read(&mut c, key)?;
            match ext(&c).storage(&key) {
                Some(v) => give(&mut c, &v),
                None => Ok(NONE_SENTINEL),
            }
        },
    )?;
    l.func_wrap(
        "env",
        "ext_storage_read_v1",
        |mut c: C<'_>, key: u64, out: u64, offset: u32| -> wasmtime::Result<u64> {
            let key = read(&mut c, key)?;
            let (out_ptr, out_len) = unpack_ptr_len(out);
            match ext(&c).storage(&key) {
                Some(v) => {
                    let start = (offset as usize).min(v.len());
                    let rest = v.get(start..).unwrap_or_default();
                    let n = rest.len().min(out_len as usize);
                    write(&mut c, out_ptr, rest.get(..n).unwrap_or_default())?;
                    Ok(v.len() as u64)
                }
                None => Ok(NONE_SENTINEL),
            }
        },
    )?;
    l.func_wrap(
        "env",
        "ext_storage_set_v1",
        |mut c: C<'_>, key: u64, value: u64| -> wasmtime::Result<()> {
            let key = read(&mut c, key)?;
            let value = read(&mut c, value)?;
            ext(&c).set_storage(&key, &value);
            Ok(())
        },
    )?;
    l.func_wrap(
        "env",
        "ext_storage_clear_v1",
        |mut c: C<'_>, key: u64| -> wasmtime::Result<()> {
            let key = read(&mut c, key)?;
            ext(&c).clear_storage(&key);
            Ok(())
        },
    )?;
    l.func_wrap(
        "env",
        "ext_storage_exists_v1",
        |mut c: C<'_>, key: u64| -> wasmtime::Result<u32> {
            let key = read(&mut c, key)?;
            Ok(u32::from(ext(&c).exists_storage(&key)))
        },
    )?;
    l.func_wrap(
        "env",
        "ext_storage_clear_prefix_v1",
        |mut c: C<'_>, prefix: u64, limit: u32| -> wasmtime::Result<u64> {
            let prefix = read(&mut c, prefix)?;
            let limit = if limit == u32::MAX { None } else { Some(limit) };
            let r = ext(&c).clear_prefix(&prefix, limit);
            Ok(u64::from(r.removed) | (u64::from(r.more) << 32))
        },
    )?;
    l.func_wrap(
        "env",
        "ext_storage_next_key_v1",
        |mut c: C<'_>, key: u64| -> wasmtime::Result<u64> {
            let key = read(&mut c, key)?;
            match ext(&c).next_storage_key(&key) {
                Some(k) => give(&mut c, &k),
                None => Ok(NONE_SENTINEL),
            }
        },
    )?;
    l.func_wrap(
        "env",
        "ext_storage_root_v1",
        |mut c: C<'_>, out: u32| -> wasmtime::Result<()> {
            let root = ext(&c).storage_root();
            write(&mut c, out, &root)
        },
    )?;
    l.func_wrap("env", "ext_storage_start_transaction_v1", |c: C<'_>| {
        ext(&c).start_transaction();
    })?;
    l.func_wrap("env", "ext_storage_commit_transaction_v1", |c: C<'_>| {
        ext(&c).commit_transaction();
    })?;
    l.func_wrap("env", "ext_storage_rollback_transaction_v1", |c: C<'_>| {
        ext(&c).rollback_transaction();
    })?;
    fn hash_fn(
        l: &mut Linker<HostState>,
        name: &str,
        f: fn(&[u8]) -> Vec<u8>,
    ) -> wasmtime::Result<()> {
        l.func_wrap(
            "env",
            name,
            move |mut c: C<'_>, data: u64, out: u32| -> wasmtime::Result<()> {
                let data = read(&mut c, data)?;
                write(&mut c, out, &f(&data))
            },
        )?;
        Ok(())
    }
    hash_fn(l, "ext_hashing_blake2_256_v1", |d| {
        hashing::blake2_256(d).to_vec()
    })?;
    hash_fn(l, "ext_hashing_blake2_128_v1", |d| {
        hashing::blake2_128(d).to_vec()
    })?;
    hash_fn(l, "ext_hashing_twox_128_v1", |d| {
        hashing::twox_128(d).to_vec()
    })?;
    hash_fn(l, "ext_hashing_twox_64_v1", |d| {
        hashing::twox_64(d).to_vec()
    })?;
    hash_fn(l, "ext_hashing_sha3_256_v1", |d| {
        hashing::sha3_256(d).to_vec()
    })?;
    l.func_wrap(
        "env",
        "ext_hashing_shake256_v1",
        |mut c: C<'_>, data: u64, out: u64| -> wasmtime::Result<()> {
            let data = read(&mut c, data)?;
            let (ptr, len) = unpack_ptr_len(out);
            // Bound the output so a runtime cannot make the host allocate 4 GiB.
            if len > 1 << 20 {
                return fail(
                    &mut c,
                    HostError::BadArgument("shake256 output above 1 MiB"),
                );
            }
            let mut buf = vec![0u8; len as usize];
            hashing::shake256(&data, &mut buf);
            write(&mut c, ptr, &buf)
        },
    )?;
    l.func_wrap(
        "env",
        "ext_crypto_verify_v1",
        |mut c: C<'_>, sig: u64, msg: u64, pk: u64| -> wasmtime::Result<u32> {
            let sig = read(&mut c, sig)?;
            let msg = read(&mut c, msg)?;
            let pk = read(&mut c, pk)?;
            let Ok(sig) = Signature::decode(&mut &sig[..]) else {
                return Ok(0);
            };
            let Ok(pk) = PublicKey::decode(&mut &pk[..]) else {
                return Ok(0);
            };
            Ok(u32::from(ext(&c).verify(&sig, &msg, &pk)))
        },
    )?;
    l.func_wrap(
        "env",
        "ext_logging_log_v1",
        |mut c: C<'_>, level: u32, target: u64, msg: u64| -> wasmtime::Result<()> {
            let target = read(&mut c, target)?;
            let msg = read(&mut c, msg)?;
            let target = String::from_utf8_lossy(&target);
            let msg = String::from_utf8_lossy(&msg);
            match LogLevel::from_u32(level) {
                LogLevel::Error => tracing::error!(target: "runtime", "[{target}] {msg}"),
                LogLevel::Warn => tracing::warn!(target: "runtime", "[{target}] {msg}"),
                LogLevel::Info => tracing::info!(target: "runtime", "[{target}] {msg}"),
                LogLevel::Debug => tracing::debug!(target: "runtime", "[{target}] {msg}"),
                LogLevel::Trace => tracing::trace!(target: "runtime", "[{target}] {msg}"),
            }
            Ok(())
        },
    )?;
    Ok(())
}
