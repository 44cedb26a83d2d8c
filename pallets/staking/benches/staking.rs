//! Weight of each staking call and of the per-block commit inherent (the
//! parent's certificate, the mint, the distribution and the keep-alive
//! window) on a populated state committed to an in-memory trie, with 21
//! and 100 validators and with 0 and 10,000 delegations (F1: the block's
//! cost must not grow with delegations), beside the floor measured in the
//! same run: bare sr25519 verification of the certificate's signatures.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use pallet_staking::{block, Call, Commission, CommitNoted, QueueEnds, SetMember};
use pallet_system::testing::TEST_GENESIS;
use pallet_system::Origin;
use qstack_consensus_primitives::CommitCertificate;
use qstack_core::pair::Pair;
use qstack_core::{AccountId, KeyScheme, H256};
use qstack_io::TestExternalities;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

const QS: u128 = 1_000_000_000_000;
const BLOCK: u32 = 50;

fn numbered(tag: u8, n: u64) -> AccountId {
    let mut id = [tag; 32];
    id[24..].copy_from_slice(&n.to_le_bytes());
    AccountId(id)
}

fn ok(who: AccountId, call: Call) {
    let ctx = qstack_support::DispatchContext::new(
        Origin::Signed(who),
        &pallet_system::testing::TEST_VERSION,
    );
    if let Err(e) = qstack_support::Dispatch::dispatch(call, &ctx) {
        panic!("benchmark call fails: {e:?}");
    }
    pallet_tokens::settle_reserves().expect("reserves");
}

/// A chain at block [`BLOCK`] with `validators` validators (sr25519 keys)
/// and `delegations` delegations spread over them, committed to the trie.
/// Returns the state, the keys, and a certificate of block `BLOCK - 1`
/// signed by every validator.
fn state(
    validators: usize,
    delegations: usize,
) -> (
    TestExternalities,
    Vec<qstack_core::PublicKey>,
    CommitCertificate,
) {
    let pairs: Vec<Pair> = (0..validators)
        .map(|i| {
            Pair::from_seed(
                KeyScheme::Sr25519,
                &[
                    (i % 250) as u8 + 1,
                    (i / 250) as u8 + 1,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                ],
            )
        })
        .collect();
    let mut ext = TestExternalities::new();
    let cert = ext.execute_with(|| {
        pallet_tokens::ReserveConfig::put(&pallet_tokens::Reserves {
            account: QS,
            owner: QS / 5,
        });
        let owners: Vec<AccountId> = (0..validators as u64).map(|i| numbered(1, i)).collect();
        for o in &owners {
            pallet_tokens::endow(o, 1_000_000 * QS).unwrap();
        }
        let list: Vec<String> = pairs
            .iter()
            .zip(&owners)
            .enumerate()
            .map(|(i, (p, o))| {
                format!(
                    r#"{{"publicKey":"0x{}","owner":"{}","selfBond":"{}"}}"#,
                    hex::encode(codec::Encode::encode(&p.public())),
                    qstack_core::Address::from(*o),
                    (1_000 + i as u128) * QS
                )
            })
            .collect();
        let json = format!(
            r#"{{"staking":{{"params":{{"maxValidators":{validators}}},"validators":[{}],
                "inflation":[{{"endTime":"2031-01-01T00:00:00Z","totalAmount":"{}"}}]}}}}"#,
            list.join(","),
            1_000_000_000 * QS
        );
        let patch = qstack_support::genesis::parse_patch(&json).unwrap();
        qstack_support::genesis::build::<pallet_staking::Pallet>(&patch).unwrap();
        pallet_system::BlockHash::insert(&0, &TEST_GENESIS);
        pallet_system::timestamp::Now::put(&1_800_000_000_000);
        pallet_system::initialize(BLOCK, H256([3; 32]), &Default::default());
        for n in 0..delegations as u64 {
            let who = numbered(2, n);
            pallet_tokens::endow(&who, 100 * QS).unwrap();
            ok(
                who,
                Call::Delegate {
                    validator: owners[(n as usize) % validators],
                    amount: 2 * QS,
                    compound: n % 2 == 0,
                },
            );
        }
        // The delegations' payout visits are not this benchmark's subject.
        QueueEnds::clear(None);
        qstack_io::storage::clear_prefix(&pallet_staking::Queue::prefix(), None);
        let set: Vec<SetMember> = pallet_staking::CurrentSet::get().unwrap();
        let mut c = CommitCertificate {
            height: u64::from(BLOCK - 1),
            round: 0,
            value: H256([3; 32]),
            precommits: Vec::new(),
        };
        for (i, m) in set.iter().enumerate() {
            let p = pairs.iter().find(|p| p.public() == m.public).unwrap();
            let vote = c.precommit(i as u32);
            c.precommits
                .push((i as u32, p.sign(&vote.sign_bytes(&TEST_GENESIS))));
        }
        (c, set.into_iter().map(|m| m.public).collect::<Vec<_>>())
    });
    let (cert, keys) = cert;
    ext.commit_all();
    (ext, keys, cert)
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
}

fn commit(c: &mut Criterion) {
    for (validators, delegations) in [(21, 0), (21, 10_000), (100, 0), (100, 10_000)] {
        let (mut ext, keys, cert) = state(validators, delegations);
        let runs = AtomicU64::new(0);
        c.bench_function(
            &format!("note_commit ({validators} validators, {delegations} delegations)"),
            |b| {
                b.iter_custom(|iters| {
                    pallet_system::testing::timed_runs(&mut ext, iters, &runs, |_| {
                        CommitNoted::kill();
                        block::note_commit(Some(cert.clone()), Some(0)).expect("noted");
                    })
                })
            },
        );
        if delegations == 0 {
            // The floor: the certificate's signatures, verified bare.
            let set: Vec<(qstack_core::PublicKey, Vec<u8>, qstack_core::Signature)> = cert
                .precommits
                .iter()
                .map(|(i, s)| {
                    let bytes = cert.precommit(*i).sign_bytes(&TEST_GENESIS);
                    (keys[*i as usize].clone(), bytes, s.clone())
                })
                .collect();
            c.bench_function(&format!("floor: {validators} sr25519 verifications"), |b| {
                b.iter(|| {
                    for (k, bytes, s) in &set {
                        assert!(qstack_core::verify(s, bytes, k));
                    }
                })
            });
        }
    }
}

fn calls(c: &mut Criterion) {
    // Enough validators that no per-validator bound is reached in a run.
    let (mut ext, _keys, _) = state(200, 1_000);
    let owner = numbered(1, 0);
    let runs = AtomicU64::new(0);
    let fresh = |n: u64| {
        let who = numbered(3, n);
        pallet_tokens::endow(&who, 100 * QS).unwrap();
        who
    };
    c.bench_function("delegate (new delegation)", |b| {
        b.iter_custom(|iters| {
            pallet_system::testing::timed_runs(&mut ext, iters, &runs, |n| {
                let who = fresh(n);
                ok(
                    who,
                    Call::Delegate {
                        validator: numbered(1, n % 200),
                        amount: 2 * QS,
                        compound: false,
                    },
                );
            })
        })
    });
    c.bench_function("bond (top-up, settles rewards)", |b| {
        b.iter_custom(|iters| {
            pallet_system::testing::timed_runs(&mut ext, iters, &runs, |_| {
                ok(owner, Call::Bond { amount: QS });
            })
        })
    });
    c.bench_function("delegate + unbond (all)", |b| {
        b.iter_custom(|iters| {
            pallet_system::testing::timed_runs(&mut ext, iters, &runs, |n| {
                let who = fresh(n);
                let v = numbered(1, n % 200);
                ok(
                    who,
                    Call::Delegate {
                        validator: v,
                        amount: 2 * QS,
                        compound: false,
                    },
                );
                ok(
                    who,
                    Call::Unbond {
                        validator: v,
                        amount: None,
                    },
                );
            })
        })
    });
    c.bench_function("delegate + redelegate (all)", |b| {
        b.iter_custom(|iters| {
            pallet_system::testing::timed_runs(&mut ext, iters, &runs, |n| {
                let who = fresh(n);
                let (from, to) = (numbered(1, n % 200), numbered(1, (n + 1) % 200));
                ok(
                    who,
                    Call::Delegate {
                        validator: from,
                        amount: 2 * QS,
                        compound: false,
                    },
                );
                ok(
                    who,
                    Call::Redelegate {
                        from,
                        to,
                        amount: None,
                    },
                );
            })
        })
    });
    c.bench_function("withdraw_rewards (owner, with commission)", |b| {
        b.iter_custom(|iters| {
            pallet_system::testing::timed_runs(&mut ext, iters, &runs, |_| {
                ok(owner, Call::WithdrawRewards { validator: owner });
            })
        })
    });
    c.bench_function("create_validator", |b| {
        b.iter_custom(|iters| {
            pallet_system::testing::timed_runs(&mut ext, iters, &runs, |n| {
                let who = fresh(n);
                let key = qstack_core::PublicKey::Sr25519({
                    let mut k = [5u8; 32];
                    k[24..].copy_from_slice(&n.to_le_bytes());
                    k
                });
                ok(
                    who,
                    Call::CreateValidator {
                        key,
                        self_bond: 2 * QS,
                        commission: Commission {
                            rate: 0,
                            max_rate: 1_000_000_000,
                            max_change_rate: 0,
                        },
                        description: vec![b'v'; 64],
                    },
                );
                // Make room again: the cap is on candidates, not on this run.
                if pallet_staking::ValidatorCount::get().unwrap_or(0) >= 990 {
                    pallet_staking::ValidatorCount::put(&21);
                }
            })
        })
    });
}

/// A double-sign slash at its worst: a validator with the most unbondings
/// and redelegations leaving it, all after the offence.
fn slash(c: &mut Criterion) {
    let (mut ext, _keys, _) = state(21, 0);
    let target = numbered(1, 0);
    ext.execute_with(|| {
        // The self-bond is one of its delegations.
        let max = u64::from(pallet_staking::MAX_DELEGATORS_PER_VALIDATOR) - 1;
        for n in 0..max {
            let who = numbered(4, n);
            pallet_tokens::endow(&who, 100 * QS).unwrap();
            ok(
                who,
                Call::Delegate {
                    validator: target,
                    amount: 3 * QS,
                    compound: false,
                },
            );
            if n % 2 == 0 {
                ok(
                    who,
                    Call::Unbond {
                        validator: target,
                        amount: Some(QS),
                    },
                );
            } else {
                ok(
                    who,
                    Call::Redelegate {
                        from: target,
                        to: numbered(1, 1 + n % 20),
                        amount: Some(QS),
                    },
                );
            }
        }
    });
    ext.commit_all();
    let runs = AtomicU64::new(0);
    c.bench_function("slash (511 unbondings and redelegations)", |b| {
        b.iter_custom(|iters| {
            pallet_system::testing::timed_runs(&mut ext, iters, &runs, |_| {
                pallet_staking::SlashedAt::remove(&target, &40);
                pallet_staking::stake::slash(
                    &target,
                    40,
                    200_000_000,
                    pallet_staking::InactiveReason::DoubleSign,
                );
            })
        })
    });
}

/// The queued work of one block at its bound: 64 due payouts (of 10,000
/// delegations), each settled and paid out or bonded again.
fn queues(c: &mut Criterion) {
    let (mut ext, _keys, _) = state(21, 0);
    ext.execute_with(|| {
        for n in 0..10_000u64 {
            let who = numbered(5, n);
            pallet_tokens::endow(&who, 100 * QS).unwrap();
            ok(
                who,
                Call::Delegate {
                    validator: numbered(1, n % 21),
                    amount: 2 * QS,
                    compound: n % 2 == 0,
                },
            );
        }
        // Rewards to pay: every validator earned some.
        for n in 0..21u64 {
            let owner = numbered(1, n);
            let mut v = pallet_staking::Validators::get(&owner).unwrap();
            v.reward_per_share = v.reward_per_share.wrapping_add(1 << 40);
            pallet_staking::Validators::insert(&owner, &v);
        }
        pallet_tokens::mint(&pallet_staking::reward_account(), 1_000_000 * QS).unwrap();
    });
    ext.commit_all();
    let runs = AtomicU64::new(0);
    let mut block = BLOCK;
    c.bench_function("queued payouts (64 of 10,000 due)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // A block far enough on that every payout is due again.
                block = block.saturating_add(1_000);
                total += pallet_system::testing::timed_runs(&mut ext, 1, &runs, |_| {
                    pallet_system::initialize(block, H256([3; 32]), &Default::default());
                    pallet_staking::block::on_initialize(block);
                });
            }
            total
        })
    });
}

criterion_group! { name = benches; config = config(); targets = commit, calls, slash, queues }
criterion_main!(benches);
