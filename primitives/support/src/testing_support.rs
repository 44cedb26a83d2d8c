//! Checks the composed runtime runs in its tests (kept out of `cfg(test)` so
//! the runtime crate's tests can call them through `AllPallets`).

use crate::{Dispatch, Pallet};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use scale_info::{TypeDef, TypeInfo};

/// `P::Call`'s `is_known` agrees with its enum's variant indices for every
/// byte.
pub fn check_known_calls<P: Pallet>() -> Result<(), String> {
    let indices: Vec<u8> = match <P::Call as TypeInfo>::type_info().type_def {
        TypeDef::Variant(v) => v.variants.iter().map(|v| v.index).collect(),
        _ => return Err(format!("{}: the call type is not an enum", P::NAME)),
    };
    for i in 0..=255u8 {
        if <P::Call as Dispatch>::is_known(i) != indices.contains(&i) {
            return Err(format!(
                "{}: is_known({i}) disagrees with the call enum (variants {indices:?})",
                P::NAME
            ));
        }
    }
    Ok(())
}
