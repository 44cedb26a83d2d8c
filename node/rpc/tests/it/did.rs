//! `did_resolve`, `did_resolveAt`, `vc_status`, `did_messages`: the
//! runtime API each calls, the W3C JSON it answers (its DID Core shape
//! checked property by property, its bytes pinned by `did.golden.json`),
//! and its errors.

use crate::common::Node;
use codec::Encode;
use qstack_core::{AccountId, KeyScheme, Pair, H256};
use qstack_rpc::error::codes;
use qstack_runtime::did::{
    format_did, rel, Credential, CredentialStatus, Did, DidRecord, Document, KeyMaterial,
    Registration, Service, StatusRef, VerificationMethod,
};
use serde_json::{json, Value};

const RECORD: &str = "DidApi_did_record";
const CREDENTIAL: &str = "DidApi_did_credential";

const OWNER: AccountId = AccountId([8; 32]);

fn did() -> Did {
    Did([0x11; 16])
}

fn record() -> DidRecord {
    let key = Pair::from_seed(KeyScheme::Hybrid, &[3; 32]).public();
    DidRecord {
        document: Document {
            controllers: vec![did(), Did([0x22; 16])],
            methods: vec![
                VerificationMethod {
                    id: b"owner".to_vec(),
                    material: KeyMaterial::Account(OWNER),
                    relationships: rel::ALL & !rel::KEY_AGREEMENT,
                },
                VerificationMethod {
                    id: b"key-1".to_vec(),
                    material: KeyMaterial::Key(key),
                    relationships: rel::ASSERTION_METHOD | rel::AUTHENTICATION,
                },
                VerificationMethod {
                    id: b"kem-1".to_vec(),
                    material: KeyMaterial::MlKem768(vec![7; 1184]),
                    relationships: rel::KEY_AGREEMENT,
                },
            ],
            services: vec![Service {
                id: b"hub".to_vec(),
                service_type: b"LinkedDomains".to_vec(),
                endpoint: b"https://example.com/".to_vec(),
            }],
            also_known_as: vec![b"https://alice.example".to_vec()],
        },
        counter: 3,
        created: 0,
        updated: 0,
        deactivated: false,
        depositor: OWNER,
        deposit: 1_000,
    }
}

fn is_did(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| qstack_runtime::did::parse_did(s).is_ok())
}

/// DID Core 1.0 §5: the properties a document must or may have, and the
/// shape of each.
fn check_did_core(doc: &Value) {
    let obj = doc.as_object().expect("a document is a map");
    assert_eq!(doc["@context"][0], "https://www.w3.org/ns/did/v1");
    assert!(is_did(&doc["id"]), "id is a DID");
    let id = doc["id"].as_str().unwrap();
    for k in obj.keys() {
        assert!(
            [
                "@context",
                "id",
                "controller",
                "alsoKnownAs",
                "verificationMethod",
                "authentication",
                "assertionMethod",
                "keyAgreement",
                "capabilityInvocation",
                "capabilityDelegation",
                "service",
            ]
            .contains(&k.as_str()),
            "unknown property {k}"
        );
    }
    if let Some(c) = doc.get("controller") {
        assert!(
            c.as_array().unwrap().iter().all(is_did),
            "controllers are DIDs"
        );
    }
    if let Some(a) = doc.get("alsoKnownAs") {
        assert!(a
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u.as_str().unwrap().contains(':')));
    }
    let mut ids = Vec::new();
    for m in doc["verificationMethod"].as_array().unwrap() {
        let mid = m["id"].as_str().unwrap();
        assert!(
            mid.starts_with(&format!("{id}#")),
            "a method id is a DID URL of this DID"
        );
        assert!(m["type"].is_string());
        assert!(is_did(&m["controller"]));
        let materials = ["publicKeyMultibase", "blockchainAccountId", "publicKeyJwk"]
            .iter()
            .filter(|k| m.get(**k).is_some())
            .count();
        assert_eq!(materials, 1, "exactly one key material: {m}");
        if let Some(mb) = m.get("publicKeyMultibase") {
            assert!(mb.as_str().unwrap().starts_with('u'), "base64url multibase");
        }
        ids.push(mid.to_string());
    }
    for r in [
        "authentication",
        "assertionMethod",
        "keyAgreement",
        "capabilityInvocation",
        "capabilityDelegation",
    ] {
        for x in doc.get(r).and_then(Value::as_array).into_iter().flatten() {
            assert!(
                ids.contains(&x.as_str().unwrap().to_string()),
                "{r} names a method"
            );
        }
    }
    for s in doc["service"].as_array().into_iter().flatten() {
        assert!(s["id"].as_str().unwrap().starts_with(id));
        assert!(s["type"].is_string());
        assert!(s["serviceEndpoint"].as_str().unwrap().contains(':'));
    }
}

#[tokio::test]
async fn did_resolve_answers_a_did_core_document_pinned_by_a_golden_file() {
    let node = Node::start().await;
    node.backend.set_call(RECORD, Ok(Some(record()).encode()));
    let r = node.ok("did_resolve", json!([format_did(&did())])).await;
    check_did_core(&r["didDocument"]);
    assert_eq!(r["didDocumentMetadata"]["versionId"], "3");
    assert_eq!(r["didDocumentMetadata"]["deactivated"], false);
    assert_eq!(
        r["didResolutionMetadata"]["contentType"],
        "application/did+json"
    );
    let doc = &r["didDocument"];
    assert_eq!(
        doc["keyAgreement"],
        json!([format!("{}#kem-1", format_did(&did()))])
    );
    assert_eq!(doc["verificationMethod"][1]["keyScheme"], "hybrid");
    assert_eq!(doc["verificationMethod"][2]["keyScheme"], "mlkem768");
    assert!(doc["verificationMethod"][0]["blockchainAccountId"]
        .as_str()
        .unwrap()
        .starts_with("qstack:"));
    let golden = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/did.golden.json");
    let now = serde_json::to_string_pretty(&r).unwrap() + "\n";
    if std::env::var_os("QSTACK_BLESS").is_some() {
        std::fs::write(golden, &now).unwrap();
    }
    let want = std::fs::read_to_string(golden).unwrap();
    assert!(
        now == want,
        "did_resolve's format changed (QSTACK_BLESS=1 to accept):\n{now}"
    );
    assert_eq!(
        node.backend.call_log().pop().map(|(_, m, i)| (m, i)),
        Some((RECORD.to_string(), did().encode()))
    );
}

#[tokio::test]
async fn unknown_deactivated_and_malformed_dids() {
    let node = Node::start().await;
    node.backend
        .set_call(RECORD, Ok(None::<DidRecord>.encode()));
    let r = node.ok("did_resolve", json!([format_did(&did())])).await;
    assert_eq!(r["didDocument"], Value::Null);
    assert_eq!(r["didResolutionMetadata"]["error"], "notFound");
    let mut tomb = record();
    tomb.document = Document::default();
    tomb.deactivated = true;
    node.backend.set_call(RECORD, Ok(Some(tomb).encode()));
    let r = node.ok("did_resolve", json!([format_did(&did())])).await;
    assert_eq!(r["didDocumentMetadata"]["deactivated"], true);
    check_did_core(&json!({
        "@context": r["didDocument"]["@context"],
        "id": r["didDocument"]["id"],
        "verificationMethod": [],
    }));
    for (bad, says) in [
        ("qs:abc", "starts with \"did:\""),
        ("did:web:example.com", "another method"),
        ("did:qs:abc", "base58 of 16 bytes"),
        ("did:qs:a%zz", "two hex digits"),
        ("did:Qs:abc", "method name"),
    ] {
        let (code, msg) = node.fails("did_resolve", json!([bad])).await;
        assert_eq!(code, i64::from(codes::INVALID_PARAMS), "{bad}");
        assert!(msg.contains(says), "{bad}: {msg}");
    }
    let (code, msg) = node
        .fails("did_resolveAt", json!([format_did(&did()), 99]))
        .await;
    assert_eq!(code, i64::from(codes::INVALID_PARAMS));
    assert!(msg.contains("no block #99"), "{msg}");
    let r = node
        .ok("did_resolveAt", json!([format_did(&did()), 0]))
        .await;
    assert_eq!(r["didDocumentMetadata"]["deactivated"], true);
}

#[tokio::test]
async fn vc_status_names_the_status_and_the_issuers() {
    let node = Node::start().await;
    let reg = Registration {
        hash: H256([0xcc; 32]),
        schema: H256([0x5c; 32]),
        subject: Did([9; 16]),
        issuers: vec![Did([1; 16]), Did([2; 16]), Did([3; 16])],
        threshold: 2,
        revocable: true,
        status: Some(StatusRef { list: 3, index: 42 }),
    };
    let c = Credential {
        registration: reg.clone(),
        signed_by: vec![Did([1; 16]), Did([3; 16])],
        issued: 7,
        rejected: false,
        deposit: 5,
    };
    for (status, name) in [
        (CredentialStatus::Issued, "issued"),
        (CredentialStatus::Revoked, "revoked"),
        (CredentialStatus::Suspended, "suspended"),
        (CredentialStatus::Rejected, "rejected"),
    ] {
        node.backend
            .set_call(CREDENTIAL, Ok(Some((c.clone(), status)).encode()));
        let r = node
            .ok("vc_status", json!([format!("0x{}", "cc".repeat(32))]))
            .await;
        assert_eq!(r["status"], name);
        assert_eq!(r["issuers"].as_array().unwrap().len(), 3);
        assert_eq!(
            r["signedBy"],
            json!([format_did(&Did([1; 16])), format_did(&Did([3; 16]))])
        );
        assert_eq!(r["statusEntry"]["statusListIndex"], "42");
        assert_eq!(
            r["statusEntry"]["statusListCredential"],
            format!("{}/status/3", format_did(&Did([1; 16])))
        );
    }
    node.backend.set_call(
        CREDENTIAL,
        Ok(None::<(Credential, CredentialStatus)>.encode()),
    );
    assert_eq!(
        node.ok("vc_status", json!([format!("0x{}", "cc".repeat(32))]))
            .await,
        Value::Null
    );
    let (code, msg) = node.fails("vc_status", json!(["0x12"])).await;
    assert_eq!(code, i64::from(codes::INVALID_PARAMS));
    assert!(msg.contains("hash"), "{msg}");
}
