//! Weight of each DID call: the native time of one dispatch on a populated
//! state (committed to an in-memory trie, so reads walk it), events
//! included, beside two floors measured in the same run: a bare hybrid
//! signature verification (what an `issue` proof or a key-proof update
//! costs at least) and a native transfer. `Call::weight` declares these
//! figures times three, rounded up (see `pallet_did::weights`). The runs
//! that need a fresh signature each time (an update by key proof, an
//! issue) sign inside the timer; the hybrid signing time measured beside
//! them is subtracted.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use pallet_did::document::{next_did, update_payload, KeyProof};
use pallet_did::{
    credential, rel, Call, Did, Document, IssuerProof, KeyMaterial, Message, Op, Purpose,
    Registration, Service, StatusRef, VerificationMethod, ML_KEM_768_CIPHERTEXT, ML_KEM_768_PUBLIC,
};
use pallet_system::testing::TEST_GENESIS;
use pallet_system::Origin;
use pallet_tokens::endow;
use qstack_core::pair::Pair;
use qstack_core::{AccountId, KeyScheme, H256};
use qstack_io::TestExternalities;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

const BIG: u128 = 1 << 90;

fn numbered(n: u64) -> AccountId {
    let mut id = [9u8; 32];
    id[24..].copy_from_slice(&n.to_le_bytes());
    AccountId(id)
}

/// Set while each benchmark's first, untimed run goes through the test
/// harness, which fails if the call touched more storage than it declares.
static CHECKED: AtomicBool = AtomicBool::new(false);

fn ok(who: AccountId, call: Call) {
    if CHECKED.load(Ordering::Relaxed) {
        pallet_system::testing::dispatch(Origin::Signed(who), call)
            .expect("benchmark call succeeds");
        return;
    }
    let ctx = qstack_support::DispatchContext::new(
        Origin::Signed(who),
        &pallet_system::testing::TEST_VERSION,
    );
    if let Err(e) = qstack_support::Dispatch::dispatch(call, &ctx) {
        panic!("benchmark call fails: {e:?}");
    }
}

fn pairs() -> Vec<Pair> {
    (0..3)
        .map(|i| Pair::from_seed(KeyScheme::Hybrid, &[20 + i; 32]))
        .collect()
}

/// A document with the account's own method and a hybrid key (the
/// end-to-end test's shape), plus an ML-KEM key when `kem`.
fn doc(who: AccountId, key: &Pair, kem: bool) -> Document {
    let mut methods = vec![
        VerificationMethod {
            id: b"owner".to_vec(),
            material: KeyMaterial::Account(who),
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
            material: KeyMaterial::MlKem768(vec![7; ML_KEM_768_PUBLIC]),
            relationships: rel::KEY_AGREEMENT,
        });
    }
    Document {
        methods,
        ..Document::default()
    }
}

/// Three issuers with hybrid keys, a holder with an ML-KEM key, 200 more
/// funded accounts with a DID each. Committed.
fn populated() -> (TestExternalities, Vec<Did>) {
    let mut ext = TestExternalities::new();
    let keys = pairs();
    let dids = ext.execute_with(|| {
        pallet_system::Number::put(&1);
        pallet_system::BlockHash::insert(&0, &TEST_GENESIS);
        qstack_support::genesis::build::<pallet_did::Pallet>(
            &qstack_support::genesis::parse_patch("{}").expect("json"),
        )
        .expect("genesis");
        let mut dids = Vec::new();
        for i in 0..204 {
            let who = numbered(i);
            endow(&who, BIG).expect("endow");
            let did = next_did(&who);
            ok(
                who,
                Call::Create {
                    document: doc(who, &keys[(i % 3) as usize], i == 3),
                },
            );
            dids.push(did);
        }
        // One revocable credential for `set_status`.
        let mut reg = registration(0, &dids, true);
        reg.hash = H256([0xab; 32]);
        let p = proofs(&keys, &reg);
        ok(
            numbered(3),
            Call::Issue {
                registration: reg,
                proofs: p,
            },
        );
        dids
    });
    ext.commit_all();
    (ext, dids)
}

static RUNS: AtomicU64 = AtomicU64::new(0);

fn timed(ext: &mut TestExternalities, iters: u64, f: impl Fn(u64)) -> Duration {
    pallet_system::testing::timed_runs(ext, iters, &RUNS, f)
}

fn bench(c: &mut Criterion, name: &str, f: impl Fn(u64, &[Did])) {
    let (mut ext, dids) = populated();
    let g = |i| f(i, &dids);
    CHECKED.store(true, Ordering::Relaxed);
    timed(&mut ext, 1, g);
    CHECKED.store(false, Ordering::Relaxed);
    c.bench_function(name, |b| b.iter_custom(|iters| timed(&mut ext, iters, g)));
}

fn registration(n: u64, dids: &[Did], revocable: bool) -> Registration {
    let mut hash = [0u8; 32];
    hash[..8].copy_from_slice(&n.to_le_bytes());
    hash[8] = u8::from(revocable);
    Registration {
        hash: H256(hash),
        schema: H256([5; 32]),
        subject: dids[3],
        issuers: dids[..3].to_vec(),
        threshold: 2,
        revocable,
        status: revocable.then_some(StatusRef {
            list: (n / 131_072) as u32,
            index: (n % 131_072) as u32,
        }),
    }
}

fn proofs(keys: &[Pair], reg: &Registration) -> Vec<IssuerProof> {
    let msg = credential::issuance_payload(&TEST_GENESIS, reg);
    (0..2)
        .map(|i| IssuerProof {
            issuer: i,
            method: b"key-1".to_vec(),
            signature: Some(keys[i as usize].sign(&msg)),
        })
        .collect()
}

fn calls(c: &mut Criterion) {
    let keys = pairs();
    {
        let msg = b"qstack/vc/issue/v1 benchmark".to_vec();
        let sig = keys[0].sign(&msg);
        let pk = keys[0].public();
        c.bench_function("floor: hybrid verify", |b| {
            b.iter(|| assert!(qstack_core::pair::verify(&sig, &msg, &pk)))
        });
        // The key-proof and issue benchmarks sign inside the timed run (each
        // run needs a fresh signature): subtract this per signature.
        let key = keys[0].clone();
        c.bench_function("hybrid sign (subtract from key-proof runs)", |b| {
            b.iter(|| key.sign(&msg))
        });
    }
    bench(c, "floor: native transfer", |i, _| {
        let ctx = qstack_support::DispatchContext::new(
            Origin::Signed(numbered(10)),
            &pallet_system::testing::TEST_VERSION,
        );
        qstack_support::Dispatch::dispatch(
            pallet_tokens::Call::Transfer {
                dest: numbered(20 + i % 100),
                value: 1_000_000,
                dest_tag: None,
            },
            &ctx,
        )
        .expect("transfer");
    });
    let k = keys.clone();
    bench(c, "create + deactivate (hybrid key)", move |i, _| {
        let who = numbered(100 + i % 100);
        let did = next_did(&who);
        ok(
            who,
            Call::Create {
                document: doc(who, &k[0], false),
            },
        );
        ok(
            who,
            Call::Deactivate {
                did,
                counter: 0,
                proof: None,
            },
        );
    });
    bench(c, "update (add or remove a service)", |i, dids| {
        let who = numbered(10);
        let did = dids[10];
        let counter = pallet_did::Dids::get(&did).expect("did").counter;
        let op = if counter.is_multiple_of(2) {
            Op::AddService(Service {
                id: b"hub".to_vec(),
                service_type: b"LinkedDomains".to_vec(),
                endpoint: b"https://example.com/".to_vec(),
            })
        } else {
            Op::RemoveService(b"hub".to_vec())
        };
        let _ = i;
        ok(
            who,
            Call::Update {
                did,
                counter,
                ops: vec![op],
                proof: None,
            },
        );
    });
    let k = keys.clone();
    bench(c, "update by hybrid key proof", move |_, dids| {
        let did = dids[12];
        let counter = pallet_did::Dids::get(&did).expect("did").counter;
        let ops = vec![Op::SetAlsoKnownAs(vec![
            format!("https://x/{counter}").into_bytes()
        ])];
        let sig = k[0].sign(&update_payload(&TEST_GENESIS, &did, counter, Some(&ops)));
        ok(
            numbered(50),
            Call::Update {
                did,
                counter,
                ops,
                proof: Some(KeyProof {
                    controller: did,
                    method: b"key-1".to_vec(),
                    signature: sig,
                }),
            },
        );
    });
    let k = keys.clone();
    bench(
        c,
        "issue (2 of 3 hybrid proofs, revocable)",
        move |i, dids| {
            let reg = registration(i, dids, true);
            let proofs = proofs(&k, &reg);
            ok(
                numbered(3),
                Call::Issue {
                    registration: reg,
                    proofs,
                },
            );
        },
    );
    bench(c, "set_status (suspend or lift)", move |i, _| {
        ok(
            numbered(0),
            Call::SetStatus {
                hash: H256([0xab; 32]),
                purpose: Purpose::Suspension,
                value: i % 2 == 0,
            },
        );
    });
    bench(c, "send + clear (4 KiB)", |_, dids| {
        let to = dids[3];
        let message = Message {
            from: dids[5],
            key: b"kem-1".to_vec(),
            kem_ciphertext: vec![1; ML_KEM_768_CIPHERTEXT],
            nonce: [2; 12],
            ciphertext: vec![3; 4096],
            sent: 0,
            payer: AccountId([0; 32]),
            deposit: 0,
        };
        ok(numbered(5), Call::Send { to, message });
        let (_, next) = pallet_did::InboxState::get(&to).unwrap_or_default();
        ok(numbered(3), Call::Clear { to, seq: next - 1 });
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3));
    targets = calls
}
criterion_main!(benches);
