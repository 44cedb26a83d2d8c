//! Tests of every call's errors and boundaries. Each test runs through
//! [`run`], which checks this pallet's invariants (valid documents,
//! deposits equal to the deposit account's balance, inboxes and status
//! entries consistent), the tokens and accounts pallets' and the owner
//! ledger at the end; every call goes through [`call`], which checks that a
//! refused call wrote nothing and that no call touches more storage than
//! it declares.

use super::*;
use crate::document::{deposit_account, did_for, update_payload, KeyProof};
use pallet_system::testing::{take_events_of, TEST_GENESIS};
use pallet_tokens::Reserves;
use qstack_core::pair::Pair;
use qstack_core::KeyScheme;

const A: AccountId = AccountId([1; 32]);
const B: AccountId = AccountId([2; 32]);
const C: AccountId = AccountId([3; 32]);
const D: AccountId = AccountId([4; 32]);
const ED: Balance = 1_000;
const OWNER: Balance = 10_000;
const FUNDS: Balance = 1_000_000_000_000_000;
/// Byte deposit in these tests.
const BYTE: Balance = 7;

use pallet_tokens::testing::call;

fn err(e: Error) -> Result<(), DispatchError> {
    Err(e.into())
}

fn events() -> Vec<Event> {
    take_events_of::<Pallet>()
}

fn run(f: impl FnOnce()) {
    pallet_system::testing::Scenario::new()
        .at(1)
        .with(|| {
            pallet_tokens::ReserveConfig::put(&Reserves {
                account: ED,
                owner: OWNER,
            });
            for who in [A, B, C, D] {
                pallet_tokens::endow(&who, FUNDS).expect("endow");
            }
        })
        .genesis::<Pallet>(r#"{"did": {"byteDeposit": "7"}}"#)
        .run::<Pallet>(move || {
            f();
            check_all();
        })
}

fn check_all() {
    assert_eq!(document::try_state(), Ok(()));
    assert_eq!(pallet_tokens::try_state(), Ok(()));
    assert_eq!(pallet_accounts::try_state(), Ok(()));
    let mut owned = alloc::collections::BTreeMap::new();
    pallet_tokens::owned_objects(&mut owned);
    pallet_accounts::owned_objects(&mut owned);
    <Pallet as qstack_support::Pallet>::owned_objects(&mut owned);
    owned.retain(|_, n| *n > 0);
    let ledger: alloc::collections::BTreeMap<_, _> =
        pallet_system::owned::ledger().into_iter().collect();
    assert_eq!(owned, ledger, "owner ledger");
}

fn method(id: &str, material: KeyMaterial, relationships: u8) -> VerificationMethod {
    VerificationMethod {
        id: id.as_bytes().to_vec(),
        material,
        relationships,
    }
}

/// A document controlled by `who` (all signature relationships).
fn doc_of(who: AccountId) -> Document {
    Document {
        methods: alloc::vec![method(
            "owner",
            KeyMaterial::Account(who),
            rel::ALL & !rel::KEY_AGREEMENT
        )],
        ..Document::default()
    }
}

fn create(who: AccountId, doc: Document) -> Did {
    let did = document::next_did(&who);
    call(who, Call::Create { document: doc }).expect("create");
    did
}

fn counter(did: &Did) -> u64 {
    Dids::get(did).expect("did").counter
}

fn update(who: AccountId, did: Did, ops: Vec<Op>) -> Result<(), DispatchError> {
    call(
        who,
        Call::Update {
            did,
            counter: counter(&did),
            ops,
            proof: None,
        },
    )
}

fn service(id: &str) -> Service {
    Service {
        id: id.as_bytes().to_vec(),
        service_type: b"LinkedDomains".to_vec(),
        endpoint: b"https://example.com/".to_vec(),
    }
}

fn free(who: &AccountId) -> Balance {
    pallet_tokens::free_balance(who)
}

fn record_deposit(did: &Did) -> Balance {
    let rec = Dids::get(did).expect("did");
    let mut probe = rec.clone();
    probe.deposit = 0;
    assert_eq!(rec.deposit, BYTE * probe.encoded_size() as Balance);
    rec.deposit
}

#[test]
fn create_derives_the_id_and_takes_a_deposit_per_byte() {
    run(|| {
        let before = free(&A);
        let d1 = create(A, doc_of(A));
        let d2 = create(A, doc_of(A));
        assert_ne!(d1, d2, "an account may create many DIDs");
        assert_eq!(d1, did_for(&TEST_GENESIS, &A, 0));
        assert_eq!(d2, did_for(&TEST_GENESIS, &A, 1));
        assert_ne!(
            d1,
            did_for(&qstack_core::H256([1; 32]), &A, 0),
            "ids differ between chains"
        );
        let paid = record_deposit(&d1) + record_deposit(&d2);
        assert_eq!(before - free(&A), paid);
        assert_eq!(free(&deposit_account()), paid);
        assert_eq!(pallet_system::owned::owner_count(&A), 2);
        let rec = Dids::get(&d1).expect("d1");
        assert_eq!((rec.counter, rec.created, rec.deactivated), (0, 1, false));
        assert_eq!(
            events(),
            alloc::vec![
                Event::Created {
                    did: d1,
                    depositor: A,
                    deposit: rec.deposit
                },
                Event::Created {
                    did: d2,
                    depositor: A,
                    deposit: Dids::get(&d2).expect("d2").deposit
                }
            ]
        );
    });
}

#[test]
fn documents_are_validated() {
    run(|| {
        let base = doc_of(A);
        let with = |f: &dyn Fn(&mut Document)| {
            let mut d = base.clone();
            f(&mut d);
            d
        };
        let cases: Vec<(Document, Error)> = alloc::vec![
            (Document::default(), Error::Uncontrollable),
            (
                with(&|d| d.methods[0].relationships = rel::AUTHENTICATION),
                Error::Uncontrollable
            ),
            (
                with(&|d| d.methods[0].id = b"".to_vec()),
                Error::BadFragment
            ),
            (
                with(&|d| d.methods[0].id = b"a b".to_vec()),
                Error::BadFragment
            ),
            (
                with(&|d| d.methods[0].id = vec![b'k'; 33]),
                Error::BadFragment
            ),
            (
                with(&|d| d.methods.push(d.methods[0].clone())),
                Error::DuplicateId
            ),
            (
                with(&|d| {
                    let mut s = service("owner");
                    s.id = b"owner".to_vec();
                    d.services.push(s)
                }),
                Error::DuplicateId
            ),
            (
                with(&|d| d.methods[0].relationships = 0),
                Error::BadRelationships
            ),
            (
                with(&|d| d.methods[0].relationships = 32),
                Error::BadRelationships
            ),
            (
                with(&|d| d.methods[0].relationships = rel::ALL),
                Error::BadRelationships
            ),
            (
                with(&|d| d.methods.push(method(
                    "kem",
                    KeyMaterial::MlKem768(vec![0; ML_KEM_768_PUBLIC - 1]),
                    rel::KEY_AGREEMENT
                ))),
                Error::BadKey
            ),
            (
                with(&|d| d.methods.push(method(
                    "kem",
                    KeyMaterial::MlKem768(vec![0; ML_KEM_768_PUBLIC]),
                    rel::KEY_AGREEMENT | rel::AUTHENTICATION
                ))),
                Error::BadRelationships
            ),
            (
                with(&|d| {
                    let mut s = service("s");
                    s.endpoint = b"example.com".to_vec();
                    d.services.push(s)
                }),
                Error::BadUri
            ),
            (
                with(&|d| {
                    let mut s = service("s");
                    s.service_type = Vec::new();
                    d.services.push(s)
                }),
                Error::BadUri
            ),
            (
                with(&|d| d.also_known_as = vec![b"not a uri".to_vec()]),
                Error::BadUri
            ),
            (
                with(&|d| d.also_known_as = vec![b"https://a".to_vec(); 2]),
                Error::DuplicateId
            ),
            (
                with(&|d| d.also_known_as = vec![b"https://a".to_vec(); 9]),
                Error::TooMany
            ),
            (
                with(&|d| {
                    for i in 0..MAX_METHODS {
                        d.methods.push(method(
                            &alloc::format!("k{i}"),
                            KeyMaterial::Account(B),
                            rel::AUTHENTICATION,
                        ))
                    }
                }),
                Error::TooMany
            ),
            (
                with(&|d| d.controllers = vec![Did([9; 16])]),
                Error::BadController
            ),
        ];
        for (doc, want) in cases {
            assert_eq!(
                call(
                    A,
                    Call::Create {
                        document: doc.clone()
                    }
                ),
                err(want),
                "{doc:?}"
            );
        }
        // The boundaries themselves are fine.
        let full = with(&|d| {
            for i in 1..MAX_METHODS {
                d.methods.push(method(
                    &alloc::format!("k{i}"),
                    KeyMaterial::Account(B),
                    rel::AUTHENTICATION,
                ))
            }
            d.methods[0].id = vec![b'k'; 32];
            d.also_known_as = (0..MAX_ALSO_KNOWN_AS)
                .map(|i| alloc::format!("https://a/{i}").into_bytes())
                .collect();
        });
        create(A, full);
    });
}

#[test]
fn updates_need_a_controller_and_the_current_counter() {
    run(|| {
        let did = create(A, doc_of(A));
        // B is nobody to this DID.
        assert_eq!(
            update(B, did, vec![Op::AddService(service("s"))]),
            err(Error::NotAuthorized)
        );
        // A listed only for authentication cannot update.
        let did2 = create(
            A,
            Document {
                methods: vec![
                    method("a", KeyMaterial::Account(A), rel::CAPABILITY_INVOCATION),
                    method("b", KeyMaterial::Account(B), rel::AUTHENTICATION),
                ],
                ..Document::default()
            },
        );
        assert_eq!(
            update(B, did2, vec![Op::AddService(service("s"))]),
            err(Error::NotAuthorized)
        );
        update(A, did, vec![Op::AddService(service("s"))]).expect("update");
        assert_eq!(counter(&did), 1);
        // The same update again, at the old counter: refused (replay).
        let stale = Call::Update {
            did,
            counter: 0,
            ops: vec![Op::AddService(service("t"))],
            proof: None,
        };
        assert_eq!(call(A, stale.clone()), err(Error::StaleCounter));
        let ahead = Call::Update {
            did,
            counter: 2,
            ops: vec![Op::AddService(service("t"))],
            proof: None,
        };
        assert_eq!(call(A, ahead), err(Error::StaleCounter));
        assert_eq!(update(A, did, vec![]), err(Error::TooMany));
        assert_eq!(
            update(A, did, vec![Op::RemoveService(b"s".to_vec()); 9]),
            err(Error::TooMany)
        );
        assert_eq!(
            update(A, did, vec![Op::RemoveMethod(b"nope".to_vec())]),
            err(Error::UnknownId)
        );
        // An update leaving the DID without control is refused whole.
        assert_eq!(
            update(
                A,
                did,
                vec![
                    Op::AddService(service("u")),
                    Op::RemoveMethod(b"owner".to_vec())
                ]
            ),
            err(Error::Uncontrollable)
        );
        assert!(!Dids::get(&did)
            .expect("did")
            .document
            .services
            .iter()
            .any(|s| s.id == b"u"));
    });
}

#[test]
fn every_operation_changes_the_document_and_the_deposit_follows_its_size() {
    run(|| {
        let did = create(A, doc_of(A));
        let d0 = record_deposit(&did);
        let before = free(&A);
        let kem = KeyMaterial::MlKem768(vec![5; ML_KEM_768_PUBLIC]);
        update(
            A,
            did,
            vec![
                Op::AddMethod(method("kem-1", kem, rel::KEY_AGREEMENT)),
                Op::AddMethod(method("b", KeyMaterial::Account(B), rel::AUTHENTICATION)),
                Op::AddService(service("hub")),
                Op::SetAlsoKnownAs(vec![b"https://alice.example".to_vec()]),
            ],
        )
        .expect("grow");
        let d1 = record_deposit(&did);
        assert!(d1 > d0 + BYTE * ML_KEM_768_PUBLIC as Balance);
        assert_eq!(before - free(&A), d1 - d0, "only the difference is charged");
        update(
            A,
            did,
            vec![
                Op::RotateKey {
                    id: b"b".to_vec(),
                    material: KeyMaterial::Account(C),
                },
                Op::SetRelationships {
                    id: b"b".to_vec(),
                    relationships: rel::AUTHENTICATION | rel::ASSERTION_METHOD,
                },
                Op::RemoveMethod(b"kem-1".to_vec()),
                Op::RemoveService(b"hub".to_vec()),
            ],
        )
        .expect("shrink");
        let doc = Dids::get(&did).expect("did").document;
        assert_eq!(
            doc.methods[1],
            method(
                "b",
                KeyMaterial::Account(C),
                rel::AUTHENTICATION | rel::ASSERTION_METHOD
            )
        );
        assert!(doc.services.is_empty());
        let d2 = record_deposit(&did);
        assert!(d2 < d1);
        assert_eq!(before - free(&A), d2 - d0, "the shrink was refunded");
        assert_eq!(counter(&did), 2);
    });
}

#[test]
fn controllers_take_over_and_the_depositor_moves_with_the_last_update() {
    run(|| {
        let boss = create(B, doc_of(B));
        let did = create(A, doc_of(A));
        update(A, did, vec![Op::SetControllers(vec![boss])]).expect("hand over");
        // Now only the controller's capabilityInvocation methods count.
        assert_eq!(
            update(A, did, vec![Op::AddService(service("s"))]),
            err(Error::NotAuthorized)
        );
        let a_before = free(&A);
        let deposit_a = Dids::get(&did).expect("did").deposit;
        update(B, did, vec![Op::AddService(service("s"))]).expect("controller updates");
        let rec = Dids::get(&did).expect("did");
        assert_eq!(rec.depositor, B);
        assert_eq!(free(&A) - a_before, deposit_a, "A got its deposit back");
        assert_eq!(pallet_system::owned::owner_count(&A), 0);
        assert_eq!(pallet_system::owned::owner_count(&B), 2);
        // A controller listed twice, or deactivated, is refused.
        assert_eq!(
            update(B, did, vec![Op::SetControllers(vec![boss, boss])]),
            err(Error::BadController)
        );
        // Listing itself among the controllers gives its own methods back.
        update(B, did, vec![Op::SetControllers(vec![did, boss])]).expect("self too");
        update(A, did, vec![Op::RemoveService(b"s".to_vec())]).expect("A again");
        // A controller that is deactivated no longer controls.
        call(
            B,
            Call::Deactivate {
                did: boss,
                counter: counter(&boss),
                proof: None,
            },
        )
        .expect("deactivate boss");
        assert_eq!(
            update(B, did, vec![Op::AddService(service("t"))]),
            err(Error::NotAuthorized)
        );
    });
}

#[test]
fn a_key_proof_authorises_an_update_relayed_by_anyone() {
    run(|| {
        let pair = Pair::from_seed(KeyScheme::Hybrid, &[42; 32]);
        let other = Pair::from_seed(KeyScheme::Hybrid, &[43; 32]);
        let doc = Document {
            methods: vec![method(
                "pq",
                KeyMaterial::Key(pair.public()),
                rel::CAPABILITY_INVOCATION | rel::ASSERTION_METHOD,
            )],
            ..Document::default()
        };
        let did = create(A, doc);
        let ops = vec![Op::AddService(service("s"))];
        let sign = |p: &Pair, counter: u64, ops: &[Op]| KeyProof {
            controller: did,
            method: b"pq".to_vec(),
            signature: p.sign(&update_payload(&TEST_GENESIS, &did, counter, Some(ops))),
        };
        let with = |proof: KeyProof, counter: u64| Call::Update {
            did,
            counter,
            ops: ops.clone(),
            proof: Some(proof),
        };
        assert_eq!(
            call(C, with(sign(&other, 0, &ops), 0)),
            err(Error::BadProof)
        );
        // A signature of other operations does not carry over.
        let other_ops = vec![Op::AddService(service("t"))];
        assert_eq!(
            call(C, with(sign(&pair, 0, &other_ops), 0)),
            err(Error::BadProof)
        );
        let mut wrong_method = sign(&pair, 0, &ops);
        wrong_method.method = b"nope".to_vec();
        assert_eq!(call(C, with(wrong_method, 0)), err(Error::NotAuthorized));
        // Without a proof, C is nobody.
        assert_eq!(update(C, did, ops.clone()), err(Error::NotAuthorized));
        let proof = sign(&pair, 0, &ops);
        call(C, with(proof.clone(), 0)).expect("relayed update");
        assert_eq!(Dids::get(&did).expect("did").depositor, C);
        // Replaying the same signed update fails on the counter.
        assert_eq!(call(D, with(proof, 0)), err(Error::StaleCounter));
        // Deactivation by key proof signs `None` as the operations.
        let p = update_payload(&TEST_GENESIS, &did, 1, None);
        call(
            D,
            Call::Deactivate {
                did,
                counter: 1,
                proof: Some(KeyProof {
                    controller: did,
                    method: b"pq".to_vec(),
                    signature: pair.sign(&p),
                }),
            },
        )
        .expect("deactivate by key");
        assert!(Dids::get(&did).expect("tomb").deactivated);
    });
}

#[test]
fn deactivation_is_final_and_returns_the_deposit() {
    run(|| {
        let did = create(A, doc_of(A));
        let before = free(&A);
        let deposit = Dids::get(&did).expect("did").deposit;
        assert_eq!(
            call(
                B,
                Call::Deactivate {
                    did,
                    counter: 0,
                    proof: None
                }
            ),
            err(Error::NotAuthorized)
        );
        assert_eq!(
            call(
                A,
                Call::Deactivate {
                    did,
                    counter: 1,
                    proof: None
                }
            ),
            err(Error::StaleCounter)
        );
        events();
        call(
            A,
            Call::Deactivate {
                did,
                counter: 0,
                proof: None,
            },
        )
        .expect("deactivate");
        assert_eq!(free(&A) - before, deposit);
        assert_eq!(pallet_system::owned::owner_count(&A), 0);
        assert_eq!(free(&deposit_account()), 0);
        assert_eq!(
            events(),
            vec![Event::Deactivated {
                did,
                refund: deposit
            }]
        );
        let tomb = Dids::get(&did).expect("tombstone");
        assert!(tomb.deactivated && tomb.document == Document::default());
        assert_eq!(tomb.counter, 1);
        // Nothing works on it any more.
        assert_eq!(
            update(A, did, vec![Op::AddService(service("s"))]),
            err(Error::Deactivated)
        );
        assert_eq!(
            call(
                A,
                Call::Deactivate {
                    did,
                    counter: 1,
                    proof: None
                }
            ),
            err(Error::Deactivated)
        );
        // Nor can it be named as a controller, a subject or an issuer.
        let mut doc = doc_of(A);
        doc.controllers = vec![did];
        assert_eq!(
            call(A, Call::Create { document: doc }),
            err(Error::BadController)
        );
        let issuer = create(B, doc_of(B));
        let reg = registration(vec![issuer], 1, did, None);
        assert_eq!(
            call(B, issue_call(reg, vec![account_proof(0)])),
            err(Error::Deactivated)
        );
        let reg = registration(vec![did], 1, issuer, None);
        assert_eq!(
            call(A, issue_call(reg, vec![account_proof(0)])),
            err(Error::Deactivated)
        );
        // A fresh DID never reuses the id.
        assert_ne!(document::next_did(&A), did);
    });
}

// ---- credentials ----

fn registration(
    issuers: Vec<Did>,
    threshold: u8,
    subject: Did,
    status: Option<StatusRef>,
) -> Registration {
    Registration {
        hash: H256([0xcc; 32]),
        schema: H256([0x5c; 32]),
        subject,
        issuers,
        threshold,
        revocable: status.is_some(),
        status,
    }
}

fn issue_call(registration: Registration, proofs: Vec<IssuerProof>) -> Call {
    Call::Issue {
        registration,
        proofs,
    }
}

fn account_proof(issuer: u8) -> IssuerProof {
    IssuerProof {
        issuer,
        method: b"owner".to_vec(),
        signature: None,
    }
}

/// Three issuer DIDs, each with a hybrid `assertionMethod` key, and a holder.
struct Issuers {
    dids: Vec<Did>,
    keys: Vec<Pair>,
    holder: Did,
}

fn issuers() -> Issuers {
    let keys: Vec<Pair> = (0..3)
        .map(|i| Pair::from_seed(KeyScheme::Hybrid, &[10 + i; 32]))
        .collect();
    let dids = keys
        .iter()
        .zip([A, B, C])
        .map(|(k, who)| {
            let mut doc = doc_of(who);
            doc.methods.push(method(
                "key-1",
                KeyMaterial::Key(k.public()),
                rel::ASSERTION_METHOD,
            ));
            create(who, doc)
        })
        .collect();
    let holder = create(D, doc_of(D));
    Issuers { dids, keys, holder }
}

fn key_proof(i: &Issuers, issuer: u8, reg: &Registration) -> IssuerProof {
    IssuerProof {
        issuer,
        method: b"key-1".to_vec(),
        signature: Some(
            i.keys[issuer as usize].sign(&credential::issuance_payload(&TEST_GENESIS, reg)),
        ),
    }
}

const STATUS: StatusRef = StatusRef {
    list: 3,
    index: 100_000,
};

#[test]
fn two_of_three_issuers_issue_and_one_short_is_refused() {
    run(|| {
        let i = issuers();
        let reg = registration(i.dids.clone(), 2, i.holder, Some(STATUS));
        // One proof of a 2-of-3: one short.
        assert_eq!(
            call(D, issue_call(reg.clone(), vec![key_proof(&i, 0, &reg)])),
            err(Error::Threshold)
        );
        // The same issuer twice still counts once.
        assert_eq!(
            call(
                D,
                issue_call(
                    reg.clone(),
                    vec![key_proof(&i, 0, &reg), key_proof(&i, 0, &reg)]
                )
            ),
            err(Error::Threshold)
        );
        // A proof over another registration does not verify.
        let mut other = reg.clone();
        other.schema = H256([0; 32]);
        assert_eq!(
            call(
                D,
                issue_call(
                    reg.clone(),
                    vec![key_proof(&i, 0, &reg), key_proof(&i, 1, &other)]
                )
            ),
            err(Error::BadProof)
        );
        // An issuer's authentication-only or unknown method is no proof.
        let mut bad = key_proof(&i, 1, &reg);
        bad.method = b"nope".to_vec();
        assert_eq!(
            call(
                D,
                issue_call(reg.clone(), vec![key_proof(&i, 0, &reg), bad])
            ),
            err(Error::BadProof)
        );
        // An account proof needs that account to submit.
        assert_eq!(
            call(
                D,
                issue_call(reg.clone(), vec![key_proof(&i, 0, &reg), account_proof(1)])
            ),
            err(Error::BadProof)
        );
        let out_of_range = IssuerProof {
            issuer: 3,
            ..key_proof(&i, 0, &reg)
        };
        assert_eq!(
            call(D, issue_call(reg.clone(), vec![out_of_range])),
            err(Error::BadProof)
        );
        events();
        // Exactly the threshold: issued. B submits with its account proof.
        call(
            B,
            issue_call(reg.clone(), vec![key_proof(&i, 0, &reg), account_proof(1)]),
        )
        .expect("2 of 3");
        assert_eq!(
            events(),
            vec![Event::Issued {
                hash: reg.hash,
                subject: i.holder,
                signed_by: vec![i.dids[0], i.dids[1]],
            }]
        );
        let (c, s) = credential::status(&reg.hash).expect("registered");
        assert_eq!(s, CredentialStatus::Issued);
        assert_eq!(c.signed_by, vec![i.dids[0], i.dids[1]]);
        assert_eq!(
            call(
                B,
                issue_call(reg.clone(), vec![key_proof(&i, 0, &reg), account_proof(1)])
            ),
            err(Error::CredentialExists)
        );
        // Another credential on the same status entry is refused.
        let mut again = reg.clone();
        again.hash = H256([0xdd; 32]);
        let proofs = vec![key_proof(&i, 0, &again), key_proof(&i, 2, &again)];
        assert_eq!(call(D, issue_call(again, proofs)), err(Error::StatusTaken));
    });
}

#[test]
fn registrations_are_checked_for_shape() {
    run(|| {
        let i = issuers();
        let with = |f: &dyn Fn(&mut Registration)| {
            let mut r = registration(i.dids.clone(), 1, i.holder, Some(STATUS));
            f(&mut r);
            r
        };
        let cases = vec![
            (with(&|r| r.threshold = 0), Error::Threshold),
            (with(&|r| r.threshold = 4), Error::Threshold),
            (with(&|r| r.issuers = vec![]), Error::Threshold),
            (
                with(&|r| r.issuers = vec![r.issuers[0]; 2]),
                Error::Threshold,
            ),
            (
                with(&|r| r.issuers = (0..9).map(|n| Did([n; 16])).collect()),
                Error::Threshold,
            ),
            (with(&|r| r.revocable = false), Error::BadStatus),
            (with(&|r| r.status = None), Error::BadStatus),
            (
                with(&|r| {
                    r.status = Some(StatusRef {
                        list: 0,
                        index: STATUS_LIST_LENGTH,
                    })
                }),
                Error::BadStatus,
            ),
            (with(&|r| r.subject = Did([0xee; 16])), Error::UnknownDid),
        ];
        for (reg, want) in cases {
            let proof = key_proof(&i, 0, &reg);
            assert_eq!(
                call(D, issue_call(reg.clone(), vec![proof])),
                err(want),
                "{reg:?}"
            );
        }
        // The last entry of a list is fine.
        let last = with(&|r| {
            r.status = Some(StatusRef {
                list: 0,
                index: STATUS_LIST_LENGTH - 1,
            })
        });
        call(D, issue_call(last.clone(), vec![key_proof(&i, 0, &last)])).expect("last entry");
    });
}

#[test]
fn revocation_is_final_suspension_is_not() {
    run(|| {
        let i = issuers();
        let reg = registration(i.dids.clone(), 2, i.holder, Some(STATUS));
        call(
            A,
            issue_call(reg.clone(), vec![account_proof(0), key_proof(&i, 2, &reg)]),
        )
        .expect("issue");
        let set = |who, purpose, value| {
            call(
                who,
                Call::SetStatus {
                    hash: reg.hash,
                    purpose,
                    value,
                },
            )
        };
        assert_eq!(set(D, Purpose::Revocation, true), err(Error::NotAuthorized));
        // Clearing a bit never set writes nothing and needs no page.
        set(B, Purpose::Suspension, false).expect("no-op clear");
        assert_eq!(StatusPage::iter().len(), 0);
        let before = free(&B);
        set(B, Purpose::Suspension, true).expect("suspend");
        assert_eq!(
            before - free(&B),
            BYTE * (credential::PAGE_BYTES as Balance + 64),
            "the first bit of a page pays for the page"
        );
        assert_eq!(
            credential::status(&reg.hash).expect("c").1,
            CredentialStatus::Suspended
        );
        set(C, Purpose::Suspension, false).expect("lift");
        assert_eq!(
            credential::status(&reg.hash).expect("c").1,
            CredentialStatus::Issued
        );
        assert_eq!(set(A, Purpose::Revocation, false), err(Error::Irreversible));
        set(A, Purpose::Revocation, true).expect("revoke");
        assert_eq!(
            credential::status(&reg.hash).expect("c").1,
            CredentialStatus::Revoked
        );
        assert_eq!(set(A, Purpose::Revocation, false), err(Error::Irreversible));
        // The bit sits where W3C's list puts it: entry 100,000 of list 3 of
        // the lead issuer.
        let bits = credential::status_list(&i.dids[0], 3, Purpose::Revocation);
        assert_eq!(bits.len(), STATUS_LIST_LENGTH as usize / 8);
        let ones: Vec<usize> = (0..STATUS_LIST_LENGTH as usize)
            .filter(|n| bits[n / 8] & (1 << (n % 8)) != 0)
            .collect();
        assert_eq!(ones, vec![100_000]);
        assert!(credential::status_list(&i.dids[1], 3, Purpose::Revocation)
            .iter()
            .all(|b| *b == 0));
        // The credential outlives its lead issuer's DID.
        call(
            A,
            Call::Deactivate {
                did: i.dids[0],
                counter: counter(&i.dids[0]),
                proof: None,
            },
        )
        .expect("deactivate");
        assert_eq!(
            credential::status(&reg.hash).expect("c").1,
            CredentialStatus::Revoked
        );
    });
}

#[test]
fn non_revocable_credentials_cannot_be_revoked_and_holders_may_reject() {
    run(|| {
        let i = issuers();
        let reg = registration(i.dids.clone(), 1, i.holder, None);
        call(D, issue_call(reg.clone(), vec![key_proof(&i, 1, &reg)])).expect("issue");
        for purpose in [Purpose::Revocation, Purpose::Suspension] {
            assert_eq!(
                call(
                    B,
                    Call::SetStatus {
                        hash: reg.hash,
                        purpose,
                        value: true
                    }
                ),
                err(Error::NotRevocable)
            );
        }
        assert_eq!(
            call(
                B,
                Call::SetStatus {
                    hash: H256([1; 32]),
                    purpose: Purpose::Revocation,
                    value: true
                }
            ),
            err(Error::UnknownCredential)
        );
        // Only the holder rejects.
        assert_eq!(
            call(B, Call::Reject { hash: reg.hash }),
            err(Error::NotAuthorized)
        );
        call(D, Call::Reject { hash: reg.hash }).expect("reject");
        assert_eq!(
            credential::status(&reg.hash).expect("c").1,
            CredentialStatus::Rejected
        );
        assert_eq!(
            call(D, Call::Reject { hash: reg.hash }),
            err(Error::Rejected)
        );
        assert_eq!(
            call(
                D,
                Call::Reject {
                    hash: H256([1; 32])
                }
            ),
            err(Error::UnknownCredential)
        );
    });
}

// ---- messages ----

fn message(from: Did, key: &str, len: usize) -> Message {
    Message {
        from,
        key: key.as_bytes().to_vec(),
        kem_ciphertext: vec![1; ML_KEM_768_CIPHERTEXT],
        nonce: [2; 12],
        ciphertext: vec![3; len],
        sent: 0,
        payer: AccountId([0; 32]),
        deposit: 0,
    }
}

#[test]
fn messages_go_to_a_key_agreement_key_and_their_deposit_comes_back() {
    run(|| {
        let alice = create(A, doc_of(A));
        let mut bob_doc = doc_of(B);
        bob_doc.methods.push(method(
            "kem-1",
            KeyMaterial::MlKem768(vec![7; ML_KEM_768_PUBLIC]),
            rel::KEY_AGREEMENT,
        ));
        let bob = create(B, bob_doc);
        let send = |who, to, m: Message| call(who, Call::Send { to, message: m });
        // Not Alice's authentication account, no such key, wrong sizes.
        assert_eq!(
            send(C, bob, message(alice, "kem-1", 100)),
            err(Error::NotAuthorized)
        );
        assert_eq!(
            send(A, bob, message(alice, "owner", 100)),
            err(Error::BadMessage)
        );
        assert_eq!(
            send(A, alice, message(alice, "kem-1", 100)),
            err(Error::BadMessage)
        );
        assert_eq!(
            send(A, bob, message(alice, "kem-1", 15)),
            err(Error::BadMessage)
        );
        assert_eq!(
            send(A, bob, message(alice, "kem-1", MAX_MESSAGE as usize + 1)),
            err(Error::BadMessage)
        );
        let mut short = message(alice, "kem-1", 100);
        short.kem_ciphertext.pop();
        assert_eq!(send(A, bob, short), err(Error::BadMessage));
        let before = free(&A);
        send(A, bob, message(alice, "kem-1", MAX_MESSAGE as usize)).expect("largest");
        let paid = before - free(&A);
        let inbox = message::inbox(&bob);
        assert_eq!(inbox.len(), 1);
        assert_eq!((inbox[0].1.payer, inbox[0].1.deposit), (A, paid));
        assert_eq!(inbox[0].1.sent, 1);
        // Only Bob (or the payer) clears it; the deposit returns to A.
        assert_eq!(
            call(C, Call::Clear { to: bob, seq: 0 }),
            err(Error::NotAuthorized)
        );
        assert_eq!(
            call(B, Call::Clear { to: bob, seq: 1 }),
            err(Error::UnknownMessage)
        );
        call(B, Call::Clear { to: bob, seq: 0 }).expect("clear");
        assert_eq!(free(&A), before);
        // The inbox is bounded; numbers are never reused.
        for _ in 0..MAX_INBOX {
            send(A, bob, message(alice, "kem-1", 16)).expect("fill");
        }
        assert_eq!(
            send(A, bob, message(alice, "kem-1", 16)),
            err(Error::InboxFull)
        );
        assert_eq!(message::inbox(&bob).first().map(|m| m.0), Some(1));
        // The sender can take back a message the recipient never read,
        // even after the recipient's DID is gone.
        call(
            B,
            Call::Deactivate {
                did: bob,
                counter: 0,
                proof: None,
            },
        )
        .expect("deactivate bob");
        call(A, Call::Clear { to: bob, seq: 1 }).expect("payer clears");
    });
}

#[test]
fn calls_round_trip_through_scale() {
    use codec::Decode;
    let c = Call::Update {
        did: Did([1; 16]),
        counter: 9,
        ops: vec![
            Op::AddService(service("s")),
            Op::SetControllers(vec![Did([2; 16])]),
        ],
        proof: None,
    };
    let bytes = c.encode();
    assert_eq!(Call::decode(&mut &bytes[..]).expect("decodes"), c);
    assert_eq!(bytes[0], 1, "update is call 1");
}

#[test]
fn the_call_table_matches_the_call_enum() {
    qstack_support::testing_support::check_known_calls::<Pallet>().expect("known calls");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    /// Random sequences of updates keep every invariant (checked by `run`)
    /// and the deposit always equals the byte deposit times the record's
    /// size.
    #[test]
    fn random_updates_keep_the_invariants(ops in proptest::collection::vec(0u8..8, 1..24)) {
        run(move || {
            let did = create(A, doc_of(A));
            let boss = create(B, doc_of(B));
            for (n, op) in ops.into_iter().enumerate() {
                let id = alloc::format!("x{}", n % 3).into_bytes();
                let op = match op {
                    0 => Op::AddMethod(method(
                        core::str::from_utf8(&id).expect("utf8"),
                        KeyMaterial::Account(C),
                        rel::AUTHENTICATION,
                    )),
                    1 => Op::RemoveMethod(id),
                    2 => Op::AddService(service(core::str::from_utf8(&id).expect("utf8"))),
                    3 => Op::RemoveService(id),
                    4 => Op::SetControllers(vec![boss]),
                    5 => Op::SetControllers(vec![]),
                    6 => Op::SetAlsoKnownAs(vec![alloc::format!("https://x/{n}").into_bytes()]),
                    _ => Op::RotateKey { id, material: KeyMaterial::Account(D) },
                };
                let rec = Dids::get(&did).expect("did");
                // Whoever controls it now tries first.
                let _ = update(A, did, vec![op.clone()])
                    .or_else(|_| update(B, did, vec![op]));
                let after = Dids::get(&did).expect("did");
                assert!(after.counter == rec.counter || after.counter == rec.counter + 1);
                record_deposit(&did);
                check_all();
            }
        });
    }
}

#[test]
fn root_sets_the_byte_deposit_and_the_next_update_nets_to_it() {
    run(|| {
        let d = create(A, doc_of(A));
        let held = record_deposit(&d);
        assert_eq!(
            call(A, Call::SetByteDeposit { deposit: 70 }),
            Err(DispatchError::BadOrigin)
        );
        assert_eq!(
            pallet_system::testing::dispatch(
                qstack_support::Origin::Root,
                Call::SetByteDeposit { deposit: 70 }
            ),
            Ok(())
        );
        assert_eq!(byte_deposit(), 70);
        assert_eq!(record_deposit(&d), held, "a held deposit stays");
        update(A, d, alloc::vec![Op::AddService(service("hub"))]).expect("update");
        let rec = Dids::get(&d).expect("did");
        let mut probe = rec.clone();
        probe.deposit = 0;
        assert_eq!(
            rec.deposit,
            70 * probe.encoded_size() as Balance,
            "netted at the new rate"
        );
        assert!(rec.deposit > 9 * held);
        let _ = events();
    });
}
