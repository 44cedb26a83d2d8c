//! Runtime code upgrades: reading a Wasm blob's version section and imports
//! without executing it, and the checks `set_code` applies (DESIGN §6).

use crate::{deposit_event, deposit_log, Error, Event, CODE_KEY};
use alloc::string::String;
use alloc::vec::Vec;
use codec::Decode;
use qstack_runtime_primitives::{DigestItem, DispatchError, RuntimeVersion, VERSION_SECTION};

/// Host functions every node of this runtime generation provides (module `env`).
/// A new runtime importing anything else would fail to instantiate, so
/// `set_code` refuses it up front.
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

/// What a Wasm blob says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeInfo {
    /// Decoded `runtime_version` custom section.
    pub version: RuntimeVersion,
    /// Imported functions as (module, name).
    pub imports: Vec<(String, String)>,
}

/// Why a blob cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeError {
    /// Not a Wasm module (bad magic/version or truncated section).
    NotWasm,
    /// No `runtime_version` section, or it does not decode.
    NoVersion,
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, CodeError> {
        let (b, rest) = self.bytes.split_first().ok_or(CodeError::NotWasm)?;
        self.bytes = rest;
        Ok(*b)
    }
    fn leb_u32(&mut self) -> Result<u32, CodeError> {
        let mut result: u32 = 0;
        for shift in [0u32, 7, 14, 21, 28] {
            let b = self.byte()?;
            result |= u32::from(b & 0x7f).checked_shl(shift).ok_or(CodeError::NotWasm)?;
            if b & 0x80 == 0 {
                return Ok(result);
            }
        }
        Err(CodeError::NotWasm)
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], CodeError> {
        if n > self.bytes.len() {
            return Err(CodeError::NotWasm);
        }
        let (a, b) = self.bytes.split_at(n);
        self.bytes = b;
        Ok(a)
    }
    fn name(&mut self) -> Result<String, CodeError> {
        let n = self.leb_u32()? as usize;
        let raw = self.take(n)?;
        core::str::from_utf8(raw).map(String::from).map_err(|_| CodeError::NotWasm)
    }
    fn limits(&mut self) -> Result<(), CodeError> {
        let flags = self.byte()?;
        self.leb_u32()?;
        if flags & 1 != 0 {
            self.leb_u32()?;
        }
        Ok(())
    }
}

/// Reads the version section and function imports of a Wasm module.
pub fn read_code_info(code: &[u8]) -> Result<CodeInfo, CodeError> {
    let mut r = Reader { bytes: code };
    if r.take(4)? != b"\0asm" || r.take(4)? != [1, 0, 0, 0] {
        return Err(CodeError::NotWasm);
    }
    let mut version = None;
    let mut imports = Vec::new();
    while !r.bytes.is_empty() {
        let id = r.byte()?;
        let size = r.leb_u32()? as usize;
        let body = r.take(size)?;
        let mut s = Reader { bytes: body };
        match id {
            0 => {
                let name = s.name()?;
                if name == VERSION_SECTION {
                    version = RuntimeVersion::decode(&mut s.bytes).ok();
                }
            }
            2 => {
                let count = s.leb_u32()?;
                for _ in 0..count {
                    let module = s.name()?;
                    let field = s.name()?;
                    match s.byte()? {
                        0x00 => {
                            s.leb_u32()?;
                            imports.push((module, field));
                        }
                        0x01 => {
                            s.byte()?;
                            s.limits()?;
                        }
                        0x02 => s.limits()?,
                        0x03 => {
                            s.byte()?;
                            s.byte()?;
                        }
                        _ => return Err(CodeError::NotWasm),
                    }
                }
            }
            _ => {}
        }
    }
    Ok(CodeInfo { version: version.ok_or(CodeError::NoVersion)?, imports })
}

/// Checks `code` against the running version; on success stores it under
/// `:code` (it runs from the next block) and records the change.
pub fn do_set_code(code: &[u8], running: &RuntimeVersion) -> Result<(), DispatchError> {
    let info = read_code_info(code).map_err(|_| Error::InvalidCode)?;
    check_upgrade(&info, running)?;
    qstack_io::storage::set(CODE_KEY, code);
    deposit_log(DigestItem::RuntimeEnvironmentUpdated);
    deposit_event(Event::CodeUpdated);
    Ok(())
}

/// The rules of DESIGN §6: same spec_name, higher spec_version, only known host functions.
pub fn check_upgrade(info: &CodeInfo, running: &RuntimeVersion) -> Result<(), Error> {
    if info.version.spec_name != running.spec_name {
        return Err(Error::InvalidSpecName);
    }
    if info.version.spec_version <= running.spec_version {
        return Err(Error::SpecVersionNeedsToIncrease);
    }
    for (module, name) in &info.imports {
        if module != "env" || !HOST_FUNCTIONS.contains(&name.as_str()) {
            return Err(Error::UnknownHostFunction);
        }
    }
    Ok(())
}
