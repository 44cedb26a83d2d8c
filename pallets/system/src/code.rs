//! Runtime code upgrades: the checks `set_code` applies (DESIGN §6).

use crate::{deposit_event, deposit_log, Error, Event, CODE_KEY};
pub use qstack_runtime_primitives::code::{read_code_info, CodeError, CodeInfo};
use qstack_runtime_primitives::{DigestItem, DispatchError, RuntimeVersion};

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
        if module != "env" || !qstack_io::HOST_FUNCTIONS.contains(&name.as_str()) {
            return Err(Error::UnknownHostFunction);
        }
    }
    Ok(())
}
