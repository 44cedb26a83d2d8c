//! Weight of each governance call and of ending a proposal, on a state
//! committed to an in-memory trie: 21 (and 100) active validators holding
//! the most delegations staking allows (512 each, the self-bond included).
//! The tally is measured at its worst ([`MAX_VOTES`] delegators and every
//! owner voting, each voter looked up at each validator), with the owners
//! alone, with fewer delegations than votes (every delegation walked) and
//! with votes alone; dropped proposals with 1 and [`MAX_DEPOSITORS`]
//! depositors measure the burns and refunds.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use pallet_governance::{
    proposal, Call, Deposits, Ended, Live, ProposalId, ProposalKind, ProposalStatus, Proposals,
    VoteOption, Votes, MAX_DEPOSITORS, MAX_VOTES,
};
use pallet_system::testing::TEST_GENESIS;
use pallet_system::Origin;
use qstack_core::{AccountId, Balance, PublicKey, H256};
use qstack_io::TestExternalities;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

const QS: u128 = 1_000_000_000_000;
const BLOCK: u32 = 50;

fn numbered(tag: u8, n: u64) -> AccountId {
    let mut id = [tag; 32];
    id[24..].copy_from_slice(&n.to_le_bytes());
    AccountId(id)
}

fn ok<C: qstack_support::Dispatch>(who: AccountId, call: C) {
    let ctx = qstack_support::DispatchContext::new(
        Origin::Signed(who),
        &pallet_system::testing::TEST_VERSION,
    );
    if let Err(e) = qstack_support::Dispatch::dispatch(call, &ctx) {
        panic!("benchmark call fails: {e:?}");
    }
    pallet_tokens::settle_reserves().expect("reserves");
}

/// A chain at block [`BLOCK`] with `validators` active validators each
/// holding `per_validator` delegations besides its self-bond, committed to
/// the trie. Returns the state, the owners and the delegators (round-robin
/// over the validators).
fn state(
    validators: usize,
    per_validator: usize,
) -> (TestExternalities, Vec<AccountId>, Vec<AccountId>) {
    let mut ext = TestExternalities::new();
    let owners: Vec<AccountId> = (0..validators as u64).map(|i| numbered(1, i)).collect();
    let delegators: Vec<AccountId> = (0..(validators * per_validator) as u64)
        .map(|n| numbered(2, n))
        .collect();
    ext.execute_with(|| {
        pallet_tokens::ReserveConfig::put(&pallet_tokens::Reserves {
            account: QS,
            owner: QS / 5,
        });
        for o in &owners {
            pallet_tokens::endow(o, 1_000_000 * QS).unwrap();
        }
        let list: Vec<String> = owners
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let key = PublicKey::Sr25519(numbered(3, i as u64).0);
                format!(
                    r#"{{"publicKey":"0x{}","owner":"{}","selfBond":"{}"}}"#,
                    hex::encode(codec::Encode::encode(&key)),
                    qstack_core::Address::from(*o),
                    (1_000 + i as u128) * QS
                )
            })
            .collect();
        let json = format!(
            r#"{{"staking":{{"params":{{"maxValidators":{validators}}},"validators":[{}]}},
                "governance":{{}}}}"#,
            list.join(",")
        );
        let patch = qstack_support::genesis::parse_patch(&json).unwrap();
        qstack_support::genesis::build::<pallet_staking::Pallet>(&patch).unwrap();
        qstack_support::genesis::build::<pallet_governance::Pallet>(&patch).unwrap();
        pallet_system::BlockHash::insert(&0, &TEST_GENESIS);
        pallet_system::timestamp::Now::put(&1_800_000_000_000);
        pallet_system::initialize(BLOCK, H256([3; 32]), &Default::default());
        for (n, who) in delegators.iter().enumerate() {
            pallet_tokens::endow(who, 100 * QS).unwrap();
            ok(
                *who,
                pallet_staking::Call::Delegate {
                    validator: owners[n % validators],
                    amount: 2 * QS,
                    compound: false,
                },
            );
        }
        qstack_io::storage::clear_prefix(&pallet_staking::Queue::prefix(), None);
        pallet_staking::QueueEnds::clear(None);
        let proposer = numbered(4, 0);
        pallet_tokens::endow(&proposer, 1_000_000_000 * QS).unwrap();
    });
    ext.commit_all();
    (ext, owners, delegators)
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
}

fn text_submit(deposit: Balance) -> Call {
    Call::Submit {
        title: vec![b't'; 128],
        description: vec![b'd'; 2_048],
        kind: ProposalKind::Text,
        deposit,
    }
}

fn calls(c: &mut Criterion) {
    let (mut ext, _owners, delegators) = state(21, 511);
    let proposer = numbered(4, 0);
    // 63 live proposals (the dearest queue to insert into), the first one
    // being voted on, the second collecting deposits it never reaches.
    let (voting, collecting, live) = ext.execute_with(|| {
        ok(proposer, text_submit(10 * QS));
        ok(
            proposer,
            Call::Submit {
                title: vec![b't'; 128],
                description: vec![],
                kind: ProposalKind::RuntimeUpgrade {
                    code_hash: H256([1; 32]),
                },
                deposit: 400 * QS,
            },
        );
        for _ in 2..63 {
            ok(proposer, text_submit(5 * QS));
        }
        (0u64, 1u64, Live::get().unwrap())
    });
    ext.commit_all();
    let runs = AtomicU64::new(0);
    c.bench_function("submit (63 live, 2 KB description)", |b| {
        b.iter_custom(|iters| {
            pallet_system::testing::timed_runs(&mut ext, iters, &runs, |_| {
                Live::put(&live);
                ok(proposer, text_submit(5 * QS));
            })
        })
    });
    c.bench_function("deposit (top-up)", |b| {
        b.iter_custom(|iters| {
            pallet_system::testing::timed_runs(&mut ext, iters, &runs, |_| {
                ok(
                    proposer,
                    Call::Deposit {
                        id: collecting,
                        amount: 1_000,
                    },
                );
            })
        })
    });
    // Delegators of the last member of the set: the stake check scans all 21.
    let last = ext.execute_with(|| pallet_staking::CurrentSet::get().unwrap()[20].owner);
    let voters: Vec<AccountId> = delegators
        .iter()
        .copied()
        .filter(|d| ext.execute_with(|| pallet_staking::Delegations::contains_key(&last, d)))
        .take(500)
        .collect();
    c.bench_function("vote (stake at the 21st member)", |b| {
        b.iter_custom(|iters| {
            pallet_system::testing::timed_runs(&mut ext, iters, &runs, |n| {
                ok(
                    voters[(n % 500) as usize],
                    Call::Vote {
                        id: voting,
                        option: VoteOption::Yes,
                    },
                );
            })
        })
    });
}

/// Times `end(id)` on a copy of the proposal restored before each run
/// (outside the timer, and committed): status, queue, votes, deposits.
fn bench_end(c: &mut Criterion, name: &str, ext: &mut TestExternalities, id: ProposalId) {
    let (p, votes, deposits, pool) = ext.execute_with(|| {
        (
            Proposals::get(&id).unwrap(),
            Votes::iter_prefix(&id),
            Deposits::iter_prefix(&id),
            pallet_tokens::free_balance(&pallet_governance::deposit_account()),
        )
    });
    let due = p.due().unwrap();
    c.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                ext.execute_with(|| {
                    Proposals::insert(&id, &p);
                    Live::put(&vec![(due, id)]);
                    Ended::kill();
                    for (who, v) in &votes {
                        Votes::insert(&id, who, v);
                    }
                    for (who, d) in &deposits {
                        Deposits::insert(&id, who, d);
                    }
                    let account = pallet_governance::deposit_account();
                    let have = pallet_tokens::free_balance(&account);
                    pallet_tokens::mint(&account, pool - have).unwrap();
                    pallet_system::initialize(due, H256([3; 32]), &Default::default());
                });
                ext.commit_all();
                ext.execute_with(|| {
                    let start = Instant::now();
                    proposal::end(id, due);
                    total += start.elapsed();
                    assert_ne!(Proposals::get(&id).unwrap().status, p.status);
                });
            }
            total
        })
    });
}

/// A proposal being voted on by `voters` (owners first, then delegators).
fn voted_proposal(
    ext: &mut TestExternalities,
    owners: &[AccountId],
    delegators: &[AccountId],
    voters: usize,
) -> ProposalId {
    let proposer = numbered(4, 0);
    let id = ext.execute_with(|| {
        let id = pallet_governance::NextId::get().unwrap_or(0);
        ok(proposer, text_submit(10 * QS));
        let options = [VoteOption::Yes, VoteOption::No, VoteOption::Abstain];
        let all: Vec<&AccountId> = owners.iter().chain(delegators).take(voters).collect();
        for (i, who) in all.iter().enumerate() {
            Votes::insert(&id, *who, &options[i % 3]);
        }
        Proposals::mutate(&id, |p| p.as_mut().unwrap().voters = all.len() as u32);
        id
    });
    ext.commit_all();
    id
}

fn endings(c: &mut Criterion) {
    // The worst tally: every owner and MAX_VOTES delegators vote; each
    // validator holds 512 delegations, more than the votes, so each voter
    // is looked up at each validator.
    for validators in [21usize, 100] {
        let (mut ext, owners, delegators) = state(validators, 511);
        let voters = MAX_VOTES as usize + validators;
        let id = voted_proposal(&mut ext, &owners, &delegators, voters);
        let count = ext.execute_with(|| proposal::live_tally(id));
        println!("worst tally at {validators} validators: {count:?}");
        bench_end(
            c,
            &format!("end: tally of {voters} votes, {validators} validators x 512 delegations"),
            &mut ext,
            id,
        );
        if validators == 21 {
            let id = voted_proposal(&mut ext, &owners, &delegators, validators);
            let count = ext.execute_with(|| proposal::live_tally(id));
            println!("owners only: {count:?}");
            bench_end(
                c,
                "end: tally of 21 owners' votes, 21 validators x 512 delegations",
                &mut ext,
                id,
            );
        }
    }
    // Fewer than half as many delegations as votes: every one walked.
    let (mut ext, owners, delegators) = state(21, 99);
    let voters = MAX_VOTES as usize + 21;
    let id = voted_proposal(&mut ext, &owners, &delegators, voters);
    let count = ext.execute_with(|| proposal::live_tally(id));
    println!("walked: {count:?}");
    bench_end(
        c,
        &format!("end: tally of {voters} votes, 21 validators x 100 delegations (walked)"),
        &mut ext,
        id,
    );
    // Votes alone: the validators hold only their self-bonds.
    let (mut ext, owners, _) = state(21, 0);
    let others: Vec<AccountId> = (0..u64::from(MAX_VOTES)).map(|n| numbered(5, n)).collect();
    let id = voted_proposal(&mut ext, &owners, &others, voters);
    bench_end(
        c,
        &format!("end: tally of {voters} votes, 21 validators, no delegations"),
        &mut ext,
        id,
    );
    // Drops: one deposit, and MAX_DEPOSITORS deposits, burned.
    for depositors in [1u64, u64::from(MAX_DEPOSITORS)] {
        let id = ext.execute_with(|| {
            let id = pallet_governance::NextId::get().unwrap_or(0);
            ok(numbered(4, 0), text_submit(5 * QS));
            for n in 1..depositors {
                let who = numbered(6, n);
                pallet_tokens::endow(&who, 10 * QS).unwrap();
                ok(who, Call::Deposit { id, amount: 1_000 });
            }
            assert_eq!(Proposals::get(&id).unwrap().status, ProposalStatus::Deposit);
            id
        });
        ext.commit_all();
        bench_end(
            c,
            &format!("end: drop with {depositors} depositors"),
            &mut ext,
            id,
        );
    }
}

criterion_group! { name = benches; config = config(); targets = calls, endings }
criterion_main!(benches);
