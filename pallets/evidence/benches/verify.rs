//! Weight benchmarks: reporting one piece of evidence (a double precommit)
//! per signature scheme: the pure check (two signature verifications), and
//! the whole `report` dispatch (check, key read, duplicate check, write,
//! event). Each dispatch runs inside a storage transaction that is then
//! rolled back, so every iteration sees the same prepared state.
//!
//! `cargo bench -p pallet-evidence`; the figures feed `src/weights.rs`.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use pallet_evidence::{check_evidence, Call, Evidence, Height};
use qstack_consensus_primitives::{SignedVote, Vote, VoteKind};
use qstack_core::{KeyScheme, Pair, H256};
use qstack_io::TestExternalities;
use qstack_runtime_primitives::Digest;
use std::hint::black_box;
use std::time::Duration;

const GENESIS: H256 = H256([0x6e; 32]);
const HEIGHT: Height = 10;

fn double_vote(pair: &Pair) -> Evidence {
    let vote = |b: u8| Vote {
        height: HEIGHT,
        round: 0,
        kind: VoteKind::Precommit,
        value: Some(H256([b; 32])),
        validator: 0,
    };
    Evidence::Votes(
        SignedVote::sign(pair, &GENESIS, vote(1)),
        SignedVote::sign(pair, &GENESIS, vote(2)),
    )
}

/// Block `HEIGHT` of a chain whose only validator is `pair`.
fn state(pair: &Pair) -> TestExternalities {
    let mut ext = TestExternalities::new();
    ext.execute_with(|| {
        pallet_staking::block::keep_set(
            1,
            &[pallet_staking::SetMember {
                owner: pair.account_id(),
                public: pair.public(),
                power: 1,
            }],
        );
        pallet_system::initialize(HEIGHT as u32, H256([1; 32]), &Digest::default());
        pallet_system::BlockHash::insert(&0, &GENESIS);
    });
    ext.commit_all();
    ext
}

fn schemes(c: &mut Criterion) {
    for scheme in [
        KeyScheme::Sr25519,
        KeyScheme::Falcon512,
        KeyScheme::MlDsa44,
        KeyScheme::Hybrid,
    ] {
        let pair = Pair::from_seed(scheme, &[7; 32]);
        let evidence = double_vote(&pair);
        let key = pair.public();
        c.bench_function(&format!("check_evidence ({})", scheme.name()), |b| {
            b.iter(|| {
                let r = check_evidence(
                    black_box(&evidence),
                    &GENESIS,
                    HEIGHT,
                    |_, _| Some(key.clone()),
                    qstack_core::verify,
                );
                assert!(r.is_ok());
            })
        });
        let mut ext = state(&pair);
        let call = Call::Report {
            evidence: vec![evidence.clone()],
        };
        c.bench_function(&format!("report 1 ({})", scheme.name()), |b| {
            b.iter(|| {
                ext.execute_with(|| {
                    qstack_io::storage::start_transaction();
                    let r = pallet_system::testing::dispatch(
                        pallet_system::Origin::None,
                        black_box(call.clone()),
                    );
                    qstack_io::storage::rollback_transaction();
                    assert_eq!(r, Ok(()));
                })
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = schemes
}
criterion_main!(benches);
