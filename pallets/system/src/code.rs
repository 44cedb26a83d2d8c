//! Runtime code upgrades: the checks `set_code` applies (DESIGN §6).

use crate::{
    deposit_event, deposit_log, AuthorizedUpgrade, ChunkBytes, CodeChunks, DigestItems, Error,
    Event, CODE_KEY, MAX_CODE_CHUNKS, MAX_CODE_SIZE,
};
use alloc::vec::Vec;
use qstack_core::AccountId;
use qstack_core::H256;
pub use qstack_runtime_primitives::code::{read_code_info, CodeError, CodeInfo};
use qstack_runtime_primitives::{DigestItem, DispatchError, RuntimeVersion};

/// Checks `code` against the running version; on success stores it under
/// `:code` (it runs from the next block) and records the change.
pub fn do_set_code(code: &[u8], running: &RuntimeVersion) -> Result<(), DispatchError> {
    let upgraded =
        DigestItems::get().is_some_and(|d| d.logs.contains(&DigestItem::RuntimeEnvironmentUpdated));
    if upgraded {
        return Err(Error::UpgradeInThisBlock.into());
    }
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
        if module != "env" || !qstack_io::HOST_FUNCTIONS.contains(&name.as_str()) {
            return Err(Error::UnknownHostFunction);
        }
    }
    Ok(())
}

/// Authorises `code_hash` (blake2-256 of a Wasm runtime) as the next
/// runtime: what an accepted upgrade proposal, or root, does. Anyone may
/// then submit the code; it still has to pass every check of
/// [`check_upgrade`]. A later authorisation replaces an earlier one.
pub fn authorize_upgrade(code_hash: H256) {
    clear_chunks();
    AuthorizedUpgrade::put(&code_hash);
    deposit_event(Event::UpgradeAuthorized { code_hash });
}

/// The code hash authorised as the next runtime, if any.
pub fn authorized_upgrade() -> Option<H256> {
    AuthorizedUpgrade::get()
}

/// Stores chunk `index` of `who`'s upload of the authorised code.
pub fn upload_chunk(who: &AccountId, index: u16, chunk: Vec<u8>) -> Result<(), DispatchError> {
    if AuthorizedUpgrade::get().is_none() {
        return Err(Error::NothingAuthorized.into());
    }
    if index >= MAX_CODE_CHUNKS || chunk.is_empty() {
        return Err(Error::BadChunk.into());
    }
    let len = u32::try_from(chunk.len()).map_err(|_| Error::BadChunk)?;
    let replaced = CodeChunks::get(who, &index).map_or(0, |c| c.len());
    let replaced = u32::try_from(replaced).unwrap_or(u32::MAX);
    let total = ChunkBytes::get(who)
        .unwrap_or(0)
        .saturating_sub(replaced)
        .checked_add(len)
        .filter(|t| *t <= MAX_CODE_SIZE)
        .ok_or(Error::BadChunk)?;
    CodeChunks::insert(who, &index, &chunk);
    ChunkBytes::insert(who, &total);
    Ok(())
}

/// Installs the authorised code: `code`, or `who`'s chunks in index order
/// when `code` is empty. Refused, changing nothing, unless its hash is the
/// authorised one and it passes [`check_upgrade`].
pub fn apply_authorized_upgrade(
    who: &AccountId,
    code: Vec<u8>,
    running: &RuntimeVersion,
) -> Result<(), DispatchError> {
    let authorized = AuthorizedUpgrade::get().ok_or(Error::NothingAuthorized)?;
    let code = if code.is_empty() {
        assemble(who)?
    } else {
        code
    };
    if H256(qstack_io::hashing::blake2_256(&code)) != authorized {
        return Err(Error::Unauthorized.into());
    }
    do_set_code(&code, running)?;
    AuthorizedUpgrade::kill();
    clear_chunks();
    Ok(())
}

/// `who`'s chunks, concatenated in index order; they must be 0, 1, … n−1
/// (a chunk after a gap is caught by the byte count).
fn assemble(who: &AccountId) -> Result<Vec<u8>, Error> {
    let mut code = Vec::new();
    for i in 0..MAX_CODE_CHUNKS {
        match CodeChunks::get(who, &i) {
            Some(c) => code.extend_from_slice(&c),
            None => break,
        }
    }
    let stored = ChunkBytes::get(who).unwrap_or(0);
    if code.is_empty() || u32::try_from(code.len()).ok() != Some(stored) {
        return Err(Error::MissingChunk);
    }
    Ok(code)
}

/// Deletes every uploaded chunk.
fn clear_chunks() {
    let _ = qstack_io::storage::clear_prefix(&CodeChunks::prefix(), None);
    let _ = qstack_io::storage::clear_prefix(&ChunkBytes::prefix(), None);
}
