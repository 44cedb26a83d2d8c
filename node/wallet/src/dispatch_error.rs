//! Naming a failed call's `DispatchError` for people: a module error is
//! looked up in the chain's own metadata (pallet name, error variant and its
//! doc line), so the CLI describes errors of whatever runtime the node runs.

use codec::Decode;
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
use qstack_runtime_primitives::DispatchError;
use scale_info::TypeDef;

/// `Tokens.InsufficientBalance: The sender's free balance is too low …` for a
/// module error found in `metadata` (SCALE `RuntimeMetadataPrefixed`);
/// otherwise the error's own name and meaning.
pub fn describe(error: &DispatchError, metadata: &[u8]) -> String {
    match error {
        DispatchError::Module(m) => {
            let index = m.error.first().copied().unwrap_or(0);
            module_error(metadata, m.index, index).unwrap_or_else(|| {
                format!(
                    "error {index} of pallet {} (not in the chain's metadata)",
                    m.index
                )
            })
        }
        DispatchError::BadOrigin => "BadOrigin: this account may not make this call".into(),
        DispatchError::Arithmetic => "Arithmetic: an amount overflowed or underflowed".into(),
        DispatchError::Exhausted => "Exhausted: the block's resources ran out".into(),
        DispatchError::Corruption => "Corruption: the chain's state is corrupt".into(),
        DispatchError::Other => "Other: the call failed".into(),
    }
}

fn module_error(metadata: &[u8], pallet: u8, error: u8) -> Option<String> {
    let RuntimeMetadataPrefixed(_, meta) =
        RuntimeMetadataPrefixed::decode(&mut &metadata[..]).ok()?;
    let (types, pallets) = match meta {
        RuntimeMetadata::V14(m) => (
            m.types,
            m.pallets
                .into_iter()
                .map(|p| (p.name, p.index, p.error.map(|e| e.ty.id)))
                .collect::<Vec<_>>(),
        ),
        RuntimeMetadata::V15(m) => (
            m.types,
            m.pallets
                .into_iter()
                .map(|p| (p.name, p.index, p.error.map(|e| e.ty.id)))
                .collect(),
        ),
        _ => return None,
    };
    let (name, _, ty) = pallets.into_iter().find(|(_, i, _)| *i == pallet)?;
    let TypeDef::Variant(v) = &types.resolve(ty?)?.type_def else {
        return None;
    };
    let variant = v.variants.iter().find(|v| v.index == error)?;
    let docs = variant.docs.join(" ");
    Some(if docs.is_empty() {
        format!("{name}.{}", variant.name)
    } else {
        format!("{name}.{}: {docs}", variant.name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use qstack_runtime::tokens;

    #[test]
    fn module_errors_are_named_from_metadata() {
        let metadata = qstack_runtime::metadata::metadata_at_defaults(14).expect("V14");
        let e: DispatchError = tokens::Error::FreezeExceedsBalance.into();
        // Doc lines follow when the runtime's metadata carries them
        // (scale-info's `docs` feature).
        let named = describe(&e, &metadata);
        assert!(
            named == "Tokens.FreezeExceedsBalance"
                || named.starts_with("Tokens.FreezeExceedsBalance: The amount to freeze"),
            "{named}"
        );
        let v15 = qstack_runtime::metadata::metadata_at_defaults(15).expect("V15");
        assert!(describe(&tokens::Error::Paused.into(), &v15).starts_with("Tokens.Paused"));
        assert_eq!(
            describe(&DispatchError::module(42, 1), &metadata),
            "error 1 of pallet 42 (not in the chain's metadata)"
        );
        assert_eq!(
            describe(&DispatchError::module(2, 200), b"garbage"),
            "error 200 of pallet 2 (not in the chain's metadata)"
        );
        assert!(describe(&DispatchError::BadOrigin, &metadata).starts_with("BadOrigin"));
    }
}
