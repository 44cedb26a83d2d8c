//! The Wasm runtime and the native one agree on every DID call: documents
//! with hybrid and ML-KEM keys, an update proved by a hybrid key, a 2-of-2
//! credential with a hybrid signature checked through the host, status
//! bits, a message, a deactivation; the same state root in both, and the
//! Wasm import of the block accepts it.

use super::{build_in_both, dev, executor, genesis, import_in_wasm, signed_in_order, Mode};
use qstack_core::{KeyScheme, H256};
use qstack_runtime::did::document::{did_for, update_payload, KeyProof};
use qstack_runtime::did::{
    self, rel, Document, IssuerProof, KeyMaterial, Message, Op, Purpose, Registration, Service,
    StatusRef, VerificationMethod,
};
use qstack_runtime::RuntimeCall;
use qstack_runtime_primitives::Header;

#[test]
fn wasm_and_native_agree_on_every_did_call() {
    let exec = executor();
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let a = alice.account_id();
    let key = dev(KeyScheme::Hybrid, "Alice");
    let wasm_state = genesis(&exec, Mode::Wasm, std::slice::from_ref(&alice));
    let mut native_state = genesis(&exec, Mode::Native, std::slice::from_ref(&alice));
    let genesis_hash = Header::genesis(H256(*wasm_state.backend.root())).hash();
    let doc = |kem: bool| {
        let mut methods = vec![
            VerificationMethod {
                id: b"owner".to_vec(),
                material: KeyMaterial::Account(a),
                relationships: rel::ALL & !rel::KEY_AGREEMENT,
            },
            VerificationMethod {
                id: b"key-1".to_vec(),
                material: KeyMaterial::Key(key.public()),
                relationships: rel::ASSERTION_METHOD | rel::CAPABILITY_INVOCATION,
            },
        ];
        if kem {
            methods.push(VerificationMethod {
                id: b"kem-1".to_vec(),
                material: KeyMaterial::MlKem768(vec![9; did::ML_KEM_768_PUBLIC]),
                relationships: rel::KEY_AGREEMENT,
            });
        }
        Document {
            methods,
            ..Document::default()
        }
    };
    let (d0, d1) = (did_for(&genesis_hash, &a, 0), did_for(&genesis_hash, &a, 1));
    let ops = vec![Op::AddService(Service {
        id: b"hub".to_vec(),
        service_type: b"LinkedDomains".to_vec(),
        endpoint: b"https://example.com/".to_vec(),
    })];
    let update_sig = key.sign(&update_payload(&genesis_hash, &d0, 0, Some(&ops)));
    let reg = Registration {
        hash: H256([0xcc; 32]),
        schema: H256([0x5c; 32]),
        subject: d1,
        issuers: vec![d0, d1],
        threshold: 2,
        revocable: true,
        status: Some(StatusRef {
            list: 0,
            index: 9_999,
        }),
    };
    let issue_sig = key.sign(&did::credential::issuance_payload(&genesis_hash, &reg));
    let d = RuntimeCall::Did;
    let calls = vec![
        d(did::Call::Create {
            document: doc(false),
        }),
        d(did::Call::Create {
            document: doc(true),
        }),
        d(did::Call::Update {
            did: d0,
            counter: 0,
            ops,
            proof: Some(KeyProof {
                controller: d0,
                method: b"key-1".to_vec(),
                signature: update_sig,
            }),
        }),
        d(did::Call::Issue {
            registration: reg.clone(),
            proofs: vec![
                IssuerProof {
                    issuer: 0,
                    method: b"key-1".to_vec(),
                    signature: Some(issue_sig),
                },
                IssuerProof {
                    issuer: 1,
                    method: b"owner".to_vec(),
                    signature: None,
                },
            ],
        }),
        d(did::Call::SetStatus {
            hash: reg.hash,
            purpose: Purpose::Suspension,
            value: true,
        }),
        d(did::Call::SetStatus {
            hash: reg.hash,
            purpose: Purpose::Revocation,
            value: true,
        }),
        d(did::Call::Send {
            to: d1,
            message: Message {
                from: d0,
                key: b"kem-1".to_vec(),
                kem_ciphertext: vec![1; did::ML_KEM_768_CIPHERTEXT],
                nonce: [2; 12],
                ciphertext: vec![3; 100],
                sent: 0,
                payer: Default::default(),
                deposit: 0,
            },
        }),
        d(did::Call::Deactivate {
            did: d0,
            counter: 1,
            proof: None,
        }),
    ];
    let signed = signed_in_order(&alice, calls, genesis_hash);
    let wasm_block = build_in_both(
        &exec,
        (&wasm_state, &native_state),
        genesis_hash,
        Default::default(),
        &signed,
    );
    import_in_wasm(&exec, &wasm_state, &mut native_state, &wasm_block);
}
