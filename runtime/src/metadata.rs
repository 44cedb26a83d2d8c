//! Runtime metadata in frame-metadata's V14 and V15 formats, built from
//! scale-info, so polkadot.js and subxt decode calls, events, storage and
//! extrinsics of qstack chains without special code.

use crate::{AllPallets, EventRecord, Extrinsic, Runtime, RuntimeCall, RuntimeError, RuntimeEvent};
use alloc::vec;
use alloc::vec::Vec;
use codec::{Compact, Encode};
use frame_metadata::{v14, v15, RuntimeMetadataPrefixed};
use qstack_core::{Balance, Nonce, H256};
use qstack_runtime_primitives::storage::{EntryKind, EntryMeta, HasherKind};
use qstack_runtime_primitives::{Era, ExtrinsicSignature, MultiAddress, SignedExtra};
use qstack_support::{ConstantMeta, PalletMeta};
use scale_info::{meta_type, MetaType};

/// Metadata versions served.
pub const VERSIONS: [u32; 2] = [14, 15];

/// Signed extensions in order: (identifier, extra type, additional-signed
/// type). Substrate's own, so generic clients know them all; `CheckNonce`'s
/// value with bit 31 set spends a ticket instead (see
/// `qstack_runtime_primitives::extrinsic::TICKET_FLAG`). The additional data
/// shown is what a master-key signature commits to; regular-key and
/// multi-signatures also commit to the account and form
/// (`SignedPayload`).
/// The tip's type as FRAME describes it: a one-field struct around the
/// compact balance (the same bytes), which subxt's `tip()` decodes.
#[derive(scale_info::TypeInfo)]
#[scale_info(replace_segment("qstack_runtime", "pallet_transaction_payment"))]
#[allow(dead_code)] // Only its type is used, for metadata.
struct ChargeTransactionPayment(#[codec(compact)] Balance);

fn signed_extensions() -> Vec<(&'static str, MetaType, MetaType)> {
    vec![
        ("CheckSpecVersion", meta_type::<()>(), meta_type::<u32>()),
        ("CheckTxVersion", meta_type::<()>(), meta_type::<u32>()),
        ("CheckGenesis", meta_type::<()>(), meta_type::<H256>()),
        ("CheckMortality", meta_type::<Era>(), meta_type::<H256>()),
        (
            "CheckNonce",
            meta_type::<Compact<Nonce>>(),
            meta_type::<()>(),
        ),
        (
            "ChargeTransactionPayment",
            meta_type::<ChargeTransactionPayment>(),
            meta_type::<()>(),
        ),
    ]
}

/// Every pallet's description from the composition, with what only the
/// runtime knows: `System.Events` holds `Vec<EventRecord>` of this
/// runtime's events, and `System.Version` is this runtime's version.
fn pallets() -> Vec<PalletMeta> {
    let mut pallets = AllPallets::metadata();
    for p in pallets.iter_mut().filter(|p| p.name == "System") {
        for e in p.storage.iter_mut().filter(|e| e.name == "Events") {
            e.kind = EntryKind::Plain(meta_type::<Vec<EventRecord>>());
        }
        p.constants.push(ConstantMeta {
            name: "Version",
            ty: meta_type::<qstack_runtime_primitives::RuntimeVersion>(),
            value: crate::VERSION.encode(),
            docs: "Runtime version.",
        });
    }
    pallets
}

fn hasher(h: HasherKind) -> v14::StorageHasher {
    match h {
        HasherKind::Blake2_128Concat => v14::StorageHasher::Blake2_128Concat,
        HasherKind::Twox64Concat => v14::StorageHasher::Twox64Concat,
        HasherKind::Identity => v14::StorageHasher::Identity,
    }
}

fn storage_entry(e: EntryMeta) -> v14::StorageEntryMetadata {
    let ty = match e.kind {
        EntryKind::Plain(t) => v14::StorageEntryType::Plain(t),
        EntryKind::Map {
            hashers,
            key,
            value,
        } => v14::StorageEntryType::Map {
            hashers: hashers.into_iter().map(hasher).collect(),
            key,
            value,
        },
    };
    let (modifier, default) = match e.default {
        Some(d) => (v14::StorageEntryModifier::Default, d),
        None => (v14::StorageEntryModifier::Optional, vec![0]),
    };
    v14::StorageEntryMetadata {
        name: e.name,
        modifier,
        ty,
        default,
        docs: vec![e.docs],
    }
}

fn v14_pallets() -> Vec<v14::PalletMetadata> {
    pallets()
        .into_iter()
        .map(|p| v14::PalletMetadata {
            name: p.name,
            storage: if p.storage.is_empty() {
                None
            } else {
                Some(v14::PalletStorageMetadata {
                    prefix: p.name,
                    entries: p.storage.into_iter().map(storage_entry).collect(),
                })
            },
            calls: p.calls.map(|ty| v14::PalletCallMetadata { ty }),
            event: p.event.map(|ty| v14::PalletEventMetadata { ty }),
            constants: p
                .constants
                .into_iter()
                .map(|c| v14::PalletConstantMetadata {
                    name: c.name,
                    ty: c.ty,
                    value: c.value,
                    docs: vec![c.docs],
                })
                .collect(),
            error: p.error.map(|ty| v14::PalletErrorMetadata { ty }),
            index: p.index,
        })
        .collect()
}

fn build_v14() -> RuntimeMetadataPrefixed {
    let extrinsic = v14::ExtrinsicMetadata {
        ty: meta_type::<Extrinsic>(),
        version: qstack_runtime_primitives::EXTRINSIC_FORMAT_VERSION,
        signed_extensions: signed_extensions()
            .into_iter()
            .map(
                |(identifier, ty, additional_signed)| v14::SignedExtensionMetadata {
                    identifier,
                    ty,
                    additional_signed,
                },
            )
            .collect(),
    };
    v14::RuntimeMetadataV14::new(v14_pallets(), extrinsic, meta_type::<Runtime>()).into()
}

/// The runtime APIs whose argument and result types are plain SCALE types
/// (the `client` methods of `crate::apis`), described in V15 metadata so
/// generic clients (`api.call.*` in polkadot.js, subxt's runtime APIs) can
/// call and decode them. `TaggedTransactionQueue_validate_transaction`
/// takes the extrinsic, described as the runtime's `UncheckedExtrinsic`
/// (as FRAME does: it is where clients find that type in V15). `Core` and
/// `BlockBuilder` take or return opaque node-internal bytes and are left to
/// the node, as they are in practice for Substrate clients too.
fn runtime_apis() -> Vec<v15::RuntimeApiMetadata> {
    crate::apis::api_metadata()
        .into_iter()
        .map(|api| v15::RuntimeApiMetadata {
            name: api.name,
            docs: vec![api.docs],
            methods: api
                .methods
                .into_iter()
                .map(|m| v15::RuntimeApiMethodMetadata {
                    name: m.name,
                    inputs: m
                        .inputs
                        .into_iter()
                        .map(|(name, ty)| v15::RuntimeApiMethodParamMetadata { name, ty })
                        .collect(),
                    output: m.output,
                    docs: vec![m.docs],
                })
                .collect(),
        })
        .collect()
}

fn build_v15() -> RuntimeMetadataPrefixed {
    let pallets = v14_pallets()
        .into_iter()
        .map(|p| v15::PalletMetadata {
            name: p.name,
            storage: p.storage,
            calls: p.calls,
            event: p.event,
            constants: p.constants,
            error: p.error,
            index: p.index,
            docs: vec![],
        })
        .collect();
    let extrinsic = v15::ExtrinsicMetadata {
        version: qstack_runtime_primitives::EXTRINSIC_FORMAT_VERSION,
        address_ty: meta_type::<MultiAddress>(),
        call_ty: meta_type::<RuntimeCall>(),
        signature_ty: meta_type::<ExtrinsicSignature>(),
        extra_ty: meta_type::<SignedExtra>(),
        signed_extensions: signed_extensions()
            .into_iter()
            .map(
                |(identifier, ty, additional_signed)| v15::SignedExtensionMetadata {
                    identifier,
                    ty,
                    additional_signed,
                },
            )
            .collect(),
    };
    let outer_enums = v15::OuterEnums {
        call_enum_ty: meta_type::<RuntimeCall>(),
        event_enum_ty: meta_type::<RuntimeEvent>(),
        error_enum_ty: meta_type::<RuntimeError>(),
    };
    v15::RuntimeMetadataV15::new(
        pallets,
        extrinsic,
        meta_type::<Runtime>(),
        runtime_apis(),
        outer_enums,
        v15::CustomMetadata {
            map: Default::default(),
        },
    )
    .into()
}

/// Gives the types that generic clients look up by path the paths FRAME
/// gives them: a pallet's `Call`, `Event` and `Error` in its `pallet`
/// module (`pallet_tokens::pallet::Call`; a two-segment `…::Call` is what
/// clients take for the outer `RuntimeCall`), the header digest in
/// `sp_runtime::generic::digest`, the account id as
/// `sp_core::crypto::AccountId32`. The Python substrate-interface picks its
/// decoders so; the types' shapes are already FRAME's.
fn frame_paths(types: &mut scale_info::PortableRegistry) {
    for t in types.types.iter_mut() {
        let segments: Vec<&str> = t.ty.path.segments.iter().map(|s| s.as_str()).collect();
        let renamed: Option<Vec<&str>> = match segments.as_slice() {
            [krate, last @ ("Call" | "Event" | "Error")] if krate.starts_with("pallet_") => {
                Some(vec![*krate, "pallet", *last])
            }
            ["qstack_runtime_primitives", last @ ("DigestItem" | "Digest")] => {
                Some(vec!["sp_runtime", "generic", "digest", *last])
            }
            ["qstack_core", "crypto", "AccountId"] => {
                Some(vec!["sp_core", "crypto", "AccountId32"])
            }
            _ => None,
        };
        if let Some(path) = renamed {
            t.ty.path.segments = path.into_iter().map(alloc::string::String::from).collect();
        }
    }
}

/// The encoded `RuntimeMetadataPrefixed` at `version`, if served.
pub fn metadata_prefixed(version: u32) -> Option<Vec<u8>> {
    let mut m = match version {
        14 => build_v14(),
        15 => build_v15(),
        _ => return None,
    };
    match &mut m.1 {
        frame_metadata::RuntimeMetadata::V14(v) => frame_paths(&mut v.types),
        frame_metadata::RuntimeMetadata::V15(v) => frame_paths(&mut v.types),
        _ => {}
    }
    Some(m.encode())
}

/// The metadata a chain with default parameters serves (built on an empty
/// state: `Balances.ExistentialDeposit` reads the chain's reserves), for
/// native tools and tests that have no chain state at hand.
#[cfg(feature = "std")]
pub fn metadata_at_defaults(version: u32) -> Option<Vec<u8>> {
    qstack_io::TestExternalities::new().execute_with(|| metadata_prefixed(version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use codec::Decode;
    use frame_metadata::RuntimeMetadata;

    /// The metadata at an empty state, as the runtime serves it at a block
    /// (`Balances.ExistentialDeposit` reads the chain's reserves).
    fn metadata_prefixed(v: u32) -> Option<Vec<u8>> {
        metadata_at_defaults(v)
    }

    #[test]
    fn the_existential_deposit_constant_is_the_chains_account_reserve() {
        let constant = |reserves: Option<crate::tokens::Reserves>| {
            let bytes = qstack_io::TestExternalities::new().execute_with(|| {
                if let Some(r) = reserves {
                    crate::tokens::ReserveConfig::put(&r);
                }
                super::metadata_prefixed(15).unwrap()
            });
            let RuntimeMetadata::V15(m) =
                RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap().1
            else {
                panic!("not V15")
            };
            let balances = m.pallets.iter().find(|p| p.name == "Balances").unwrap();
            let ed = balances
                .constants
                .iter()
                .find(|c| c.name == "ExistentialDeposit")
                .unwrap();
            u128::decode(&mut &ed.value[..]).unwrap()
        };
        assert_eq!(constant(None), crate::tokens::EXISTENTIAL_DEPOSIT);
        let r = crate::tokens::Reserves {
            account: 7_000,
            owner: 3,
        };
        assert_eq!(constant(Some(r)), 7_000);
    }

    #[test]
    fn pallet_enums_digest_and_account_id_have_frames_paths() {
        let bytes = metadata_prefixed(15).unwrap();
        let RuntimeMetadata::V15(m) = RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap().1
        else {
            panic!("not V15")
        };
        let paths: Vec<String> = m
            .types
            .types
            .iter()
            .map(|t| t.ty.path.segments.join("::"))
            .collect();
        for want in [
            "pallet_tokens::pallet::Call",
            "pallet_tokens::pallet::Event",
            "pallet_tokens::pallet::Error",
            "pallet_system::pallet::Event",
            "sp_runtime::generic::digest::DigestItem",
            "sp_core::crypto::AccountId32",
        ] {
            assert!(paths.iter().any(|p| p == want), "no {want}");
        }
        for p in &paths {
            let segments: Vec<&str> = p.split("::").collect();
            assert!(
                !(segments.len() == 2 && ["Call", "Event"].contains(&segments[1])),
                "{p}: a two-segment Call or Event reads as the outer enum"
            );
        }
    }

    #[test]
    fn a_master_payload_never_starts_like_a_domain_tagged_one() {
        // A master-key payload starts with the call (its pallet index); a
        // regular or multi payload with `qstack/tx/v1`: no pallet may sit at
        // the index of the tag's first byte, so neither parses as the other.
        let tag = qstack_runtime_primitives::TX_SIGN_DOMAIN[0];
        assert!(crate::AllPallets::PALLETS.iter().all(|(i, _)| *i != tag));
    }

    #[test]
    fn metadata_decodes_and_lists_pallets() {
        for v in VERSIONS {
            let bytes = metadata_prefixed(v).unwrap();
            let m = RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap();
            assert_eq!(m.0, frame_metadata::META_RESERVED);
            match m.1 {
                RuntimeMetadata::V14(m) => {
                    let names: Vec<_> = m
                        .pallets
                        .iter()
                        .map(|p| (p.name.as_str(), p.index))
                        .collect();
                    // Exactly the composition, in index order (the names and
                    // indices themselves are pinned by metadata.golden).
                    let composed: Vec<_> = crate::AllPallets::PALLETS
                        .iter()
                        .map(|(i, n)| (*n, *i))
                        .collect();
                    assert_eq!(names, composed);
                    // polkadot.js finds the extrinsic's parts by these type parameter names.
                    let ty = m.types.resolve(m.extrinsic.ty.id).unwrap();
                    let params: Vec<_> = ty.type_params.iter().map(|p| p.name.as_str()).collect();
                    assert_eq!(params, vec!["Address", "Call", "Signature", "Extra"]);
                }
                RuntimeMetadata::V15(m) => {
                    assert_eq!(m.pallets.len(), crate::AllPallets::PALLETS.len())
                }
                _ => panic!("unexpected version"),
            }
        }
        assert_eq!(metadata_prefixed(13), None);
    }

    #[test]
    fn no_type_names_an_array_clients_cannot_read() {
        // polkadot.js refuses `[T; N]` with N > 2048 (an ML-DSA signature is
        // 2,420 bytes: described as two arrays in a row).
        for v in VERSIONS {
            let bytes = metadata_prefixed(v).unwrap();
            let types = match RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap().1 {
                RuntimeMetadata::V14(m) => m.types,
                RuntimeMetadata::V15(m) => m.types,
                _ => panic!("unexpected version"),
            };
            for t in &types.types {
                if let scale_info::TypeDef::Array(a) = &t.ty.type_def {
                    assert!(
                        a.len as usize <= qstack_core::crypto::MAX_DESCRIBED_ARRAY,
                        "type {} is an array of {}",
                        t.id,
                        a.len
                    );
                }
            }
        }
    }

    #[test]
    fn v15_describes_every_runtime_api_the_runtime_serves() {
        let bytes = metadata_prefixed(15).unwrap();
        let RuntimeMetadataPrefixed(_, RuntimeMetadata::V15(m)) =
            RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap()
        else {
            panic!("not V15");
        };
        let described: Vec<String> = m
            .apis
            .iter()
            .flat_map(|a| {
                a.methods
                    .iter()
                    .map(move |f| format!("{}_{}", a.name, f.name))
            })
            .collect();
        let clients: Vec<String> = crate::apis::CLIENT_METHODS
            .iter()
            .flatten()
            .map(|m| m.to_string())
            .collect();
        assert_eq!(described, clients, "every client fn is described, in order");
        for name in &described {
            assert!(
                crate::apis::METHODS.contains(&name.as_str()),
                "{name} is described but not served"
            );
        }
        // Each described API is also listed in the runtime version.
        for api in &m.apis {
            let id = qstack_runtime_primitives::version::api_id(&api.name);
            assert!(crate::API_IDS.iter().any(|(i, _)| *i == id), "{}", api.name);
        }
    }

    /// A type as the golden listing names it: its path's last segment with
    /// generic parameters, or its shape.
    fn type_name(types: &scale_info::PortableRegistry, id: u32) -> String {
        use scale_info::TypeDef;
        let Some(t) = types.resolve(id) else {
            return format!("?{id}");
        };
        if let Some(last) = t.path.segments.last() {
            let params: Vec<String> = t
                .type_params
                .iter()
                .filter_map(|p| p.ty.map(|ty| type_name(types, ty.id)))
                .collect();
            return if params.is_empty() {
                last.clone()
            } else {
                format!("{last}<{}>", params.join(", "))
            };
        }
        match &t.type_def {
            TypeDef::Sequence(s) => format!("Vec<{}>", type_name(types, s.type_param.id)),
            TypeDef::Array(a) => format!("[{}; {}]", type_name(types, a.type_param.id), a.len),
            TypeDef::Tuple(t) => format!(
                "({})",
                t.fields
                    .iter()
                    .map(|f| type_name(types, f.id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            TypeDef::Primitive(p) => format!("{p:?}").to_lowercase(),
            TypeDef::Compact(c) => format!("Compact<{}>", type_name(types, c.type_param.id)),
            TypeDef::BitSequence(_) => "BitVec".into(),
            TypeDef::Composite(_) | TypeDef::Variant(_) => format!("#{id}"),
        }
    }

    fn variants(types: &scale_info::PortableRegistry, id: u32) -> Vec<String> {
        let Some(t) = types.resolve(id) else {
            return vec![format!("?{id}")];
        };
        let scale_info::TypeDef::Variant(v) = &t.type_def else {
            return vec![format!("not an enum: {}", type_name(types, id))];
        };
        v.variants
            .iter()
            .map(|var| {
                let fields: Vec<String> = var
                    .fields
                    .iter()
                    .map(|f| match &f.name {
                        Some(n) => format!("{n}: {}", type_name(types, f.ty.id)),
                        None => type_name(types, f.ty.id),
                    })
                    .collect();
                format!("{} {}({})", var.index, var.name, fields.join(", "))
            })
            .collect()
    }

    /// Every permanent name and index clients depend on, one per line:
    /// pallets, calls, events, errors (index, name, fields), storage items
    /// (modifier, hashers, key and value types), constants (type, value) and
    /// runtime API methods.
    fn golden_listing() -> String {
        use core::fmt::Write;
        let bytes = metadata_prefixed(15).unwrap();
        let RuntimeMetadataPrefixed(_, RuntimeMetadata::V15(m)) =
            RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap()
        else {
            panic!("not V15");
        };
        let types = &m.types;
        let mut out = String::new();
        for p in &m.pallets {
            writeln!(out, "pallet {} {}", p.index, p.name).unwrap();
            for (kind, ty) in [
                ("call", p.calls.as_ref().map(|c| c.ty.id)),
                ("event", p.event.as_ref().map(|c| c.ty.id)),
                ("error", p.error.as_ref().map(|c| c.ty.id)),
            ] {
                for v in ty.map(|id| variants(types, id)).unwrap_or_default() {
                    writeln!(out, "  {kind} {v}").unwrap();
                }
            }
            for e in p.storage.iter().flat_map(|s| &s.entries) {
                let ty = match &e.ty {
                    v14::StorageEntryType::Plain(t) => type_name(types, t.id),
                    v14::StorageEntryType::Map {
                        hashers,
                        key,
                        value,
                    } => format!(
                        "map {hashers:?} {} => {}",
                        type_name(types, key.id),
                        type_name(types, value.id)
                    ),
                };
                writeln!(out, "  storage {} {:?} {ty}", e.name, e.modifier).unwrap();
            }
            for c in &p.constants {
                writeln!(
                    out,
                    "  constant {}: {} = 0x{}",
                    c.name,
                    type_name(types, c.ty.id),
                    hex::encode(&c.value)
                )
                .unwrap();
            }
        }
        for a in &m.apis {
            for f in &a.methods {
                let inputs: Vec<String> = f
                    .inputs
                    .iter()
                    .map(|i| format!("{}: {}", i.name, type_name(types, i.ty.id)))
                    .collect();
                writeln!(
                    out,
                    "api {}_{}({}) -> {}",
                    a.name,
                    f.name,
                    inputs.join(", "),
                    type_name(types, f.output.id)
                )
                .unwrap();
            }
        }
        for (kind, id) in [
            ("RuntimeCall", m.outer_enums.call_enum_ty.id),
            ("RuntimeEvent", m.outer_enums.event_enum_ty.id),
            ("RuntimeError", m.outer_enums.error_enum_ty.id),
        ] {
            for v in variants(types, id) {
                writeln!(out, "{kind} {v}").unwrap();
            }
        }
        out
    }

    /// A changed permanent name or index is a reviewed diff of
    /// `runtime/metadata.golden`: `QSTACK_BLESS=1 cargo test -p
    /// qstack-runtime metadata_golden` rewrites it.
    #[test]
    fn metadata_golden() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/metadata.golden");
        let listing = golden_listing();
        if std::env::var_os("QSTACK_BLESS").is_some() {
            std::fs::write(path, &listing).unwrap();
        }
        let golden = std::fs::read_to_string(path).expect("runtime/metadata.golden");
        if golden != listing {
            let first = golden
                .lines()
                .zip(listing.lines())
                .find(|(a, b)| a != b)
                .map(|(a, b)| format!("golden: {a}\n   now: {b}"))
                .unwrap_or_else(|| "one is a prefix of the other".into());
            panic!("metadata differs from runtime/metadata.golden (QSTACK_BLESS=1 to accept):\n{first}");
        }
    }

    /// Every storage item of every pallet has its own key prefix (the
    /// shipped QOS chain had colliding prefixes): pallet names are distinct
    /// and, within a pallet, item names are.
    #[test]
    fn no_two_storage_items_share_a_prefix() {
        let bytes = metadata_prefixed(14).unwrap();
        let RuntimeMetadata::V14(m) = RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap().1
        else {
            panic!("not V14")
        };
        let mut seen = std::collections::BTreeMap::new();
        for p in &m.pallets {
            let Some(storage) = &p.storage else { continue };
            for e in &storage.entries {
                let prefix =
                    qstack_runtime_primitives::storage::item_prefix(&storage.prefix, &e.name);
                if let Some(other) = seen.insert(prefix, format!("{}.{}", storage.prefix, e.name)) {
                    panic!(
                        "{}.{} shares its prefix with {other}",
                        storage.prefix, e.name
                    );
                }
            }
        }
        assert!(seen.len() > 50, "{} items", seen.len());
        assert!(seen.values().any(|n| n == "Staking.Validators"));
        assert!(seen.values().any(|n| n == "Evidence.Offences"));
    }

    #[test]
    fn system_events_is_a_list_even_when_absent() {
        // Substrate's `ValueQuery`: clients read `Vec<EventRecord>`, not an Option.
        let bytes = metadata_prefixed(14).unwrap();
        let RuntimeMetadata::V14(m) = RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap().1
        else {
            panic!("not V14")
        };
        let system = m.pallets.iter().find(|p| p.name == "System").unwrap();
        let events = system
            .storage
            .as_ref()
            .unwrap()
            .entries
            .iter()
            .find(|e| e.name == "Events")
            .unwrap();
        assert_eq!(events.modifier, v14::StorageEntryModifier::Default);
        assert_eq!(events.default, vec![0], "an empty Vec");
    }
}
