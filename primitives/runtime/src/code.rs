//! Reading a Wasm runtime's version section and function imports without
//! executing it: the runtime vets upgrades with it and the node reads the
//! version of code it is about to run.

use crate::{RuntimeVersion, VERSION_SECTION};
use alloc::string::String;
use alloc::vec::Vec;
use codec::Decode;

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
            result |= u32::from(b & 0x7f)
                .checked_shl(shift)
                .ok_or(CodeError::NotWasm)?;
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
        core::str::from_utf8(raw)
            .map(String::from)
            .map_err(|_| CodeError::NotWasm)
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
    Ok(CodeInfo {
        version: version.ok_or(CodeError::NoVersion)?,
        imports,
    })
}
