//! Runtime metadata in frame-metadata's V14 and V15 formats, built from
//! scale-info, so polkadot.js and subxt decode calls, events, storage and
//! extrinsics of qstack chains without special code.

use crate::{
    accounts, evidence, system, timestamp, tokens, EventRecord, Extrinsic, Runtime, RuntimeCall,
    RuntimeError, RuntimeEvent,
};
use alloc::vec;
use alloc::vec::Vec;
use codec::{Compact, Encode};
use frame_metadata::{v14, v15, RuntimeMetadataPrefixed};
use qstack_core::{Balance, Nonce, H256};
use qstack_runtime_primitives::storage::{EntryKind, EntryMeta, HasherKind};
use qstack_runtime_primitives::{Era, ExtrinsicSignature, MultiAddress, SignedExtra};
use scale_info::{meta_type, MetaType};

/// Metadata versions served.
pub const VERSIONS: [u32; 2] = [14, 15];

/// Signed extensions in order: (identifier, extra type, additional-signed type).
fn signed_extensions() -> Vec<(&'static str, MetaType, MetaType)> {
    vec![
        ("CheckSpecVersion", meta_type::<()>(), meta_type::<u32>()),
        ("CheckTxVersion", meta_type::<()>(), meta_type::<u32>()),
        ("CheckGenesis", meta_type::<()>(), meta_type::<H256>()),
        ("CheckGenesisTag", meta_type::<[u8; 4]>(), meta_type::<()>()),
        ("CheckMortality", meta_type::<Era>(), meta_type::<H256>()),
        (
            "CheckNonce",
            meta_type::<Compact<Nonce>>(),
            meta_type::<()>(),
        ),
        // A ticket spent instead of the nonce (then the nonce is 0).
        (
            "CheckTicket",
            meta_type::<Option<Nonce>>(),
            meta_type::<()>(),
        ),
        (
            "ChargeTransactionPayment",
            meta_type::<Compact<Balance>>(),
            meta_type::<()>(),
        ),
    ]
}

struct PalletDesc {
    name: &'static str,
    index: u8,
    storage: Vec<EntryMeta>,
    calls: Option<MetaType>,
    event: Option<MetaType>,
    error: Option<MetaType>,
    constants: Vec<(&'static str, MetaType, Vec<u8>, &'static str)>,
}

fn pallets() -> Vec<PalletDesc> {
    let mut system_storage = system::storage_metadata();
    // System.Events holds Vec<EventRecord> of this runtime's events.
    for e in system_storage.iter_mut() {
        if e.name == "Events" {
            e.kind = EntryKind::Plain(meta_type::<Vec<EventRecord>>());
        }
    }
    vec![
        PalletDesc {
            name: "System",
            index: system::PALLET_INDEX,
            storage: system_storage,
            calls: Some(meta_type::<system::Call>()),
            event: Some(meta_type::<system::Event>()),
            error: Some(meta_type::<system::Error>()),
            constants: vec![
                (
                    "BlockHashCount",
                    meta_type::<u32>(),
                    system::BLOCK_HASH_COUNT.encode(),
                    "Block hashes kept.",
                ),
                (
                    "Version",
                    meta_type::<qstack_runtime_primitives::RuntimeVersion>(),
                    crate::VERSION.encode(),
                    "Runtime version.",
                ),
            ],
        },
        PalletDesc {
            name: "Timestamp",
            index: timestamp::PALLET_INDEX,
            storage: timestamp::storage_metadata(),
            calls: Some(meta_type::<timestamp::Call>()),
            event: None,
            error: Some(meta_type::<timestamp::Error>()),
            constants: vec![(
                "MinimumPeriod",
                meta_type::<u64>(),
                timestamp::MINIMUM_PERIOD_MS.encode(),
                "Minimum ms between blocks.",
            )],
        },
        PalletDesc {
            name: "Tokens",
            index: tokens::PALLET_INDEX,
            storage: tokens::storage_metadata(),
            calls: Some(meta_type::<tokens::Call>()),
            event: Some(meta_type::<tokens::Event>()),
            error: Some(meta_type::<tokens::Error>()),
            constants: vec![
                (
                    "ExistentialDeposit",
                    meta_type::<Balance>(),
                    tokens::EXISTENTIAL_DEPOSIT.encode(),
                    "Smallest native balance an account may hold.",
                ),
                (
                    "MaxNameLength",
                    meta_type::<u32>(),
                    (tokens::MAX_NAME_LEN as u32).encode(),
                    "Longest issued-token name, in bytes.",
                ),
                (
                    "MaxSymbolLength",
                    meta_type::<u32>(),
                    (tokens::MAX_SYMBOL_LEN as u32).encode(),
                    "Longest issued-token symbol, in bytes.",
                ),
                (
                    "MaxDecimals",
                    meta_type::<u8>(),
                    tokens::MAX_DECIMALS.encode(),
                    "Most decimals an issued token may declare.",
                ),
                (
                    "MaxTokensPerIssuer",
                    meta_type::<u32>(),
                    tokens::MAX_TOKENS_PER_ISSUER.encode(),
                    "Most tokens one account may issue.",
                ),
                (
                    "MaxHoldingsPerAccount",
                    meta_type::<u32>(),
                    tokens::MAX_HOLDINGS_PER_ACCOUNT.encode(),
                    "Most issued tokens one account may hold.",
                ),
                (
                    "MaxAllowancesPerOwner",
                    meta_type::<u32>(),
                    tokens::MAX_ALLOWANCES_PER_OWNER.encode(),
                    "Most allowances one owner may grant.",
                ),
            ],
        },
        PalletDesc {
            name: "Accounts",
            index: accounts::PALLET_INDEX,
            storage: accounts::storage_metadata(),
            calls: Some(meta_type::<accounts::Call>()),
            event: Some(meta_type::<accounts::Event>()),
            error: Some(meta_type::<accounts::Error>()),
            constants: vec![
                (
                    "MaxSigners",
                    meta_type::<u32>(),
                    accounts::MAX_SIGNERS.encode(),
                    "Most signers in a signer list.",
                ),
                (
                    "MaxTickets",
                    meta_type::<u32>(),
                    accounts::MAX_TICKETS.encode(),
                    "Most outstanding tickets per account.",
                ),
                (
                    "MaxPreauthorized",
                    meta_type::<u32>(),
                    accounts::MAX_PREAUTHORIZED.encode(),
                    "Most pre-authorised senders per account.",
                ),
                (
                    "MaxAllowedAssets",
                    meta_type::<u32>(),
                    accounts::MAX_ALLOWED_ASSETS.encode(),
                    "Most assets on an allow-list.",
                ),
                (
                    "MaxDepositRequests",
                    meta_type::<u32>(),
                    accounts::MAX_DEPOSIT_REQUESTS.encode(),
                    "Most open deposit requests per sender.",
                ),
            ],
        },
        PalletDesc {
            name: "Evidence",
            index: evidence::PALLET_INDEX,
            storage: evidence::storage_metadata(),
            calls: Some(meta_type::<evidence::Call>()),
            event: Some(meta_type::<evidence::Event>()),
            error: Some(meta_type::<evidence::Error>()),
            constants: vec![
                (
                    "MaxEvidencePerBlock",
                    meta_type::<u32>(),
                    evidence::MAX_EVIDENCE_PER_BLOCK.encode(),
                    "Most pieces of evidence in one block.",
                ),
                (
                    "MaxEvidenceAge",
                    meta_type::<u64>(),
                    evidence::MAX_EVIDENCE_AGE.encode(),
                    "Oldest evidence accepted (heights below the current block); offences are kept as long.",
                ),
                (
                    "MaxOffencesPerHeight",
                    meta_type::<u32>(),
                    evidence::MAX_OFFENCES_PER_HEIGHT.encode(),
                    "Most offences recorded for one height.",
                ),
                (
                    "MaxOffences",
                    meta_type::<u32>(),
                    evidence::MAX_OFFENCES.encode(),
                    "Most offences recorded in all.",
                ),
            ],
        },
    ]
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
                .map(|(name, ty, value, doc)| v14::PalletConstantMetadata {
                    name,
                    ty,
                    value,
                    docs: vec![doc],
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

/// One runtime API method for V15 metadata: name, (param name, type)s, output.
type ApiMethod = (
    &'static str,
    Vec<(&'static str, MetaType)>,
    MetaType,
    &'static str,
);

/// The runtime APIs whose argument and result types are plain SCALE types,
/// described in V15 metadata so generic clients (`api.call.*` in polkadot.js,
/// subxt's runtime APIs) can call and decode them. `Core`, `BlockBuilder` and
/// `TaggedTransactionQueue` take or return opaque node-internal bytes and are
/// left to the node, as they are in practice for Substrate clients too.
fn runtime_apis() -> Vec<v15::RuntimeApiMetadata> {
    use qstack_core::{AccountId, Nonce};
    use qstack_runtime_primitives::tokens::{TokenBalance, TokenDetails};
    use qstack_runtime_primitives::{AssetId, TokenCode};
    let apis: Vec<(&'static str, &'static str, Vec<ApiMethod>)> = vec![
        (
            "Metadata",
            "The runtime's metadata.",
            vec![
                (
                    "metadata_at_version",
                    vec![("version", meta_type::<u32>())],
                    meta_type::<Option<Vec<u8>>>(),
                    "Metadata in format `version`, if served.",
                ),
                (
                    "metadata_versions",
                    vec![],
                    meta_type::<Vec<u32>>(),
                    "The metadata formats served.",
                ),
            ],
        ),
        (
            "AccountNonceApi",
            "Account nonces.",
            vec![(
                "account_nonce",
                vec![("account", meta_type::<AccountId>())],
                meta_type::<Nonce>(),
                "The account's next nonce (transactions in the pool not counted).",
            )],
        ),
        (
            "GenesisBuilder",
            "Genesis configuration presets.",
            vec![(
                "preset_names",
                vec![],
                meta_type::<Vec<alloc::string::String>>(),
                "Names of the built-in genesis presets.",
            )],
        ),
        (
            "QstackAccountApi",
            "Everything a wallet needs about an account.",
            vec![(
                "account_info",
                vec![("account", meta_type::<AccountId>())],
                meta_type::<crate::apis::AccountView>(),
                "Nonce, native balance, master key and account settings.",
            )],
        ),
        (
            "QstackTokensApi",
            "Issued tokens and balances.",
            vec![
                (
                    "token_info",
                    vec![
                        ("issuer", meta_type::<AccountId>()),
                        ("code", meta_type::<TokenCode>()),
                    ],
                    meta_type::<Option<TokenDetails>>(),
                    "A token's details, if issued.",
                ),
                (
                    "token_balances",
                    vec![("account", meta_type::<AccountId>())],
                    meta_type::<Vec<TokenBalance>>(),
                    "The native balance, then every token the account holds.",
                ),
                (
                    "token_allowance",
                    vec![
                        ("asset", meta_type::<AssetId>()),
                        ("owner", meta_type::<AccountId>()),
                        ("spender", meta_type::<AccountId>()),
                    ],
                    meta_type::<Balance>(),
                    "What `spender` may still move of `owner`'s `asset`.",
                ),
            ],
        ),
    ];
    apis.into_iter()
        .map(|(name, doc, methods)| v15::RuntimeApiMetadata {
            name,
            docs: vec![doc],
            methods: methods
                .into_iter()
                .map(
                    |(name, inputs, output, doc)| v15::RuntimeApiMethodMetadata {
                        name,
                        inputs: inputs
                            .into_iter()
                            .map(|(name, ty)| v15::RuntimeApiMethodParamMetadata { name, ty })
                            .collect(),
                        output,
                        docs: vec![doc],
                    },
                )
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

/// The encoded `RuntimeMetadataPrefixed` at `version`, if served.
pub fn metadata_prefixed(version: u32) -> Option<Vec<u8>> {
    match version {
        14 => Some(build_v14().encode()),
        15 => Some(build_v15().encode()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use codec::Decode;
    use frame_metadata::RuntimeMetadata;

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
                    assert_eq!(
                        names,
                        vec![
                            ("System", 0),
                            ("Timestamp", 1),
                            ("Tokens", 2),
                            ("Accounts", 3),
                            ("Evidence", 4)
                        ]
                    );
                    // polkadot.js finds the extrinsic's parts by these type parameter names.
                    let ty = m.types.resolve(m.extrinsic.ty.id).unwrap();
                    let params: Vec<_> = ty.type_params.iter().map(|p| p.name.as_str()).collect();
                    assert_eq!(params, vec!["Address", "Call", "Signature", "Extra"]);
                }
                RuntimeMetadata::V15(m) => assert_eq!(m.pallets.len(), 5),
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
        assert_eq!(described.len(), 8, "{described:?}");
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
