//! Tests of every call, state transition and parameter boundary. Each test
//! runs through [`run`], which checks this pallet's invariants (shares add
//! up, the bonded account holds exactly the bonded and unbonding tokens,
//! the reward account at least what is owed, minted = phases applied), the
//! tokens pallet's and the owner ledger at the end, and after every block;
//! every call goes through [`call`], which checks that a refused call
//! wrote nothing and touched no more storage than it declares.

use super::*;
use crate::block::{note_commit, set_at};
use crate::stake::pending_rewards;
use pallet_system::testing::{take_events_of, TEST_GENESIS};
use pallet_tokens::Reserves;
use qstack_core::pair::Pair;
use qstack_core::{KeyScheme, H256};
use qstack_runtime_primitives::Digest;
use std::sync::OnceLock;

const A: AccountId = AccountId([1; 32]);
const B: AccountId = AccountId([2; 32]);
const C: AccountId = AccountId([3; 32]);
const D: AccountId = AccountId([4; 32]);
const E: AccountId = AccountId([5; 32]);
const X: AccountId = AccountId([6; 32]);
const Y: AccountId = AccountId([7; 32]);
const QS: Balance = 1_000_000_000_000;
const FUNDS: Balance = 1_000_000 * QS;
const T0: u64 = 1_700_000_000_000;

/// Consensus keys by owner index 0..=5 (sr25519: fast).
fn pairs() -> &'static [Pair] {
    static P: OnceLock<Vec<Pair>> = OnceLock::new();
    P.get_or_init(|| {
        (0..6u8)
            .map(|i| Pair::from_seed(KeyScheme::Sr25519, &[100 + i; 32]))
            .collect()
    })
}

fn pair_of(key: &PublicKey) -> &'static Pair {
    pairs()
        .iter()
        .find(|p| p.public() == *key)
        .expect("a test key")
}

fn key(i: usize) -> PublicKey {
    pairs()[i].public()
}

fn hex_key(i: usize) -> String {
    format!("0x{}", hex::encode(key(i).encode()))
}

fn addr(a: AccountId) -> String {
    qstack_core::Address::from(a).to_string()
}

/// Genesis: A, B, C, D own validators 0..3 with self-bonds 40, 30, 20, 10
/// QS; small windows; one phase ending 1,000 s after T0 minting 1,000 QS.
fn genesis_json(extra_params: &str) -> String {
    let mut base = String::from(
        r#","votingStatusLen":10,"votingStatusLeast":7,"survivalSecs":60,"unbondPeriod":5,"delegatorIncomePeriod":3"#,
    );
    for (k, v) in [("delegatorIncomePeriod", "3"), ("unbondPeriod", "5")] {
        if extra_params.contains(k) {
            base = base.replace(&format!(r#","{k}":{v}"#), "");
        }
    }
    let v = |o: AccountId, k: usize, bond: u128| {
        format!(
            r#"{{"publicKey":"{}","owner":"{}","selfBond":"{}","commission":{{"rate":"0.1","maxRate":"0.5","maxChangeRate":"0.05"}}}}"#,
            hex_key(k),
            addr(o),
            bond * QS
        )
    };
    format!(
        r#"{{"staking":{{"params":{{"maxValidators":4{base},"minSelfBond":"{qs}","minDelegation":"{qs}","powerReduction":"{qs}"{extra_params}}},
            "validators":[{},{},{},{}],
            "inflation":[{{"endTime":{end},"totalAmount":"{total}"}}]}}}}"#,
        v(A, 0, 40),
        v(B, 1, 30),
        v(C, 2, 20),
        v(D, 3, 10),
        qs = QS,
        end = T0 + 1_000_000,
        total = 1_000 * QS,
    )
}

fn run(f: impl FnOnce()) {
    run_with("", f)
}

fn run_with(extra_params: &str, f: impl FnOnce()) {
    let json = genesis_json(extra_params);
    pallet_system::testing::Scenario::new()
        .with(|| {
            pallet_tokens::ReserveConfig::put(&Reserves {
                account: QS,
                owner: QS / 5,
            });
            for who in [A, B, C, D, E, X, Y] {
                pallet_tokens::endow(&who, FUNDS).expect("endow");
            }
            pallet_system::timestamp::Now::put(&T0);
        })
        .genesis::<Pallet>(&json)
        .run::<Pallet>(move || {
            pallet_system::BlockHash::insert(&0, &TEST_GENESIS);
            f();
            check_all();
        })
}

fn check_all() {
    assert_eq!(stake::try_state(), Ok(()));
    assert_eq!(pallet_tokens::try_state(), Ok(()));
    let mut owned = alloc::collections::BTreeMap::new();
    stake::owned_objects(&mut owned);
    let ledger: alloc::collections::BTreeMap<_, _> =
        pallet_system::owned::ledger().into_iter().collect();
    assert_eq!(owned, ledger, "owner ledger");
}

use pallet_tokens::testing::call;

fn err(e: Error) -> Result<(), DispatchError> {
    Err(e.into())
}

fn events() -> Vec<Event> {
    take_events_of::<Pallet>()
}

fn number() -> BlockNumber {
    pallet_system::block_number()
}

/// The hash of block `n` in these tests (genesis: the test chain's).
fn parent_hash(n: BlockNumber) -> H256 {
    if n == 0 {
        return TEST_GENESIS;
    }
    H256([(n % 251) as u8 + 1; 32])
}

/// A commit certificate for block `height` (hash `value`) signed by the
/// members `signers` of that height's set.
fn certificate(height: u64, value: H256, signers: &[u32]) -> CommitCertificate {
    let set = set_at(height).expect("a set");
    let mut c = CommitCertificate {
        height,
        round: 0,
        value,
        precommits: Vec::new(),
    };
    for i in signers {
        let m = &set[*i as usize];
        let vote = c.precommit(*i);
        c.precommits
            .push((*i, pair_of(&m.public).sign(&vote.sign_bytes(&TEST_GENESIS))));
    }
    c
}

/// Ends the block and starts the next one `ms` later (no commit noted).
fn start_next(ms: u64) {
    if number() > 0 {
        crate::block::on_finalize().expect("block ends");
        pallet_tokens::settle_locks();
    }
    check_all();
    let n = number() + 1;
    pallet_system::initialize(n, parent_hash(n - 1), &Digest::default());
    // As the executive: hooks first (then the locks they changed), then
    // the timestamp inherent.
    crate::block::on_initialize(n);
    pallet_tokens::settle_locks();
    let now = pallet_system::timestamp::now() + ms;
    pallet_system::timestamp::Now::put(&now);
}

/// The next block, 1 s on, whose parent was signed by `signers` of its set
/// (all if `None`), proposed by `proposer`.
fn block(signers: Option<&[u32]>, proposer: Option<u32>) {
    start_next(1_000);
    note(signers, proposer).expect("commit noted");
}

fn note(signers: Option<&[u32]>, proposer: Option<u32>) -> Result<(), Error> {
    let n = number();
    let parent = u64::from(n - 1);
    if set_at(parent).is_none() {
        return note_commit(None, proposer);
    }
    let all: Vec<u32> = (0..set_at(parent).unwrap().len() as u32).collect();
    let signers = signers.unwrap_or(&all);
    let cert = certificate(parent, parent_hash(n - 1), signers);
    note_commit(Some(cert), proposer)
}

/// Blocks until `n`, every one signed by all.
fn blocks_to(n: BlockNumber) {
    while number() < n {
        block(None, Some(0));
    }
}

fn validator(o: &AccountId) -> ValidatorInfo {
    Validators::get(o).expect("validator")
}

fn set_owners() -> Vec<AccountId> {
    CurrentSet::get()
        .unwrap_or_default()
        .into_iter()
        .map(|m| m.owner)
        .collect()
}

fn commission(rate: Perbill) -> Commission {
    Commission {
        rate,
        max_rate: 500_000_000,
        max_change_rate: 50_000_000,
    }
}

// ---- genesis ----

#[test]
fn genesis_bonds_the_validators_from_their_owners_and_keeps_the_set() {
    run(|| {
        assert_eq!(set_owners(), vec![A, B, C, D], "the spec's order");
        assert_eq!(
            CurrentSet::get()
                .unwrap()
                .iter()
                .map(|m| m.power)
                .collect::<Vec<_>>(),
            vec![40, 30, 20, 10]
        );
        assert_eq!(pallet_tokens::free_balance(&A), FUNDS - 40 * QS);
        assert_eq!(pallet_tokens::free_balance(&bonded_account()), 100 * QS);
        assert_eq!(set_at(1).unwrap().len(), 4);
        assert!(set_at(0).is_none(), "genesis is decided by no set");
        let engine: Vec<EngineValidator> =
            codec::Decode::decode(&mut &consensus_config().unwrap()[..]).unwrap();
        assert_eq!(
            engine[1],
            EngineValidator {
                public: key(1),
                power: 30
            }
        );
        assert_eq!(validator(&A).commission.rate, 100_000_000);
    });
}

fn genesis_error(json: &str) -> String {
    let mut out = String::new();
    qstack_io::TestExternalities::new().execute_with(|| {
        pallet_tokens::ReserveConfig::put(&Reserves {
            account: QS,
            owner: QS / 5,
        });
        pallet_tokens::endow(&A, 100 * QS).unwrap();
        let patch = qstack_support::genesis::parse_patch(json).unwrap();
        out = qstack_support::genesis::build::<Pallet>(&patch)
            .map(|()| String::from("ok"))
            .unwrap_or_else(|e| e.to_string());
    });
    out
}

#[test]
fn genesis_names_each_bad_field() {
    let v = |body: &str| format!(r#"{{"staking":{{"validators":[{body}]}}}}"#);
    let k = hex_key(0);
    let a = addr(A);
    assert_eq!(
        genesis_error(&v(&format!(
            r#"{{"publicKey":"{k}","owner":"{a}","selfBond":"{}"}}"#,
            10 * QS
        ))),
        "ok"
    );
    let e = genesis_error(&v(&format!(
        r#"{{"publicKey":"{k}","owner":"{a}","selfBond":"{}","power":1}}"#,
        QS
    )));
    assert!(
        e.contains("staking.validators[0].selfBond") && e.contains("exactly one"),
        "{e}"
    );
    let e = genesis_error(&v(&format!(
        r#"{{"publicKey":"{k}","owner":"{a}","selfBond":"{}"}}"#,
        200 * QS
    )));
    assert!(e.contains("cannot pay it from its genesis balance"), "{e}");
    let e = genesis_error(&v(&format!(
        r#"{{"publicKey":"{k}","owner":"{a}","selfBond":"{}"}}"#,
        QS - 1
    )));
    assert!(e.contains("below minSelfBond"), "{e}");
    let e = genesis_error(&v(&format!(
        r#"{{"publicKey":"{k}","owner":"{a}","power":1}},{{"publicKey":"{k}","owner":"{}","power":1}}"#,
        addr(B)
    )));
    assert!(
        e.contains("staking.validators[1].publicKey") && e.contains("listed twice"),
        "{e}"
    );
    let e = genesis_error(&v(r#"{"publicKey":"0x00","power":1}"#));
    assert!(e.contains("not a SCALE public key"), "{e}");
    let e = genesis_error(&v(&format!(
        r#"{{"publicKey":"{k}","owner":"{a}","power":1,"commission":{{"rate":"0.3","maxRate":"0.2","maxChangeRate":"0.01"}}}}"#
    )));
    assert!(e.contains("commission"), "{e}");
    let e = genesis_error(r#"{"staking":{"params":{"proposerRewardRate":"1.5"}}}"#);
    assert!(e.contains("staking.params.proposerRewardRate"), "{e}");
    let e =
        genesis_error(r#"{"staking":{"params":{"votingStatusLeast":11,"votingStatusLen":10}}}"#);
    assert!(e.contains("votingStatusLeast"), "{e}");
    let e = genesis_error(
        r#"{"staking":{"inflation":[{"endTime":2000,"totalAmount":1},{"endTime":1000,"totalAmount":1}]}}"#,
    );
    assert!(e.contains("staking.inflation[1].endTime"), "{e}");
    let e = genesis_error(
        r#"{"staking":{"inflation":[{"endTime":"2031-13-01T00:00:00Z","totalAmount":1}]}}"#,
    );
    assert!(e.contains("invalid time"), "{e}");
    // Total supply: issued at genesis (A's 100 QS) + what the phases mint.
    let supply = |s: u128| {
        genesis_error(&format!(
            r#"{{"staking":{{"inflation":[{{"endTime":1000,"totalAmount":"50","appliedAmount":"10"}}],"totalSupply":"{s}"}}}}"#
        ))
    };
    assert_eq!(supply(100 * QS + 40), "ok");
    assert!(supply(100 * QS + 41).contains("staking.totalSupply"));
}

#[test]
fn rates_and_times_parse_exactly() {
    use crate::genesis::{parse_rate, parse_rfc3339};
    assert_eq!(parse_rate("0.04"), Some(40_000_000));
    assert_eq!(parse_rate("4%"), Some(40_000_000));
    assert_eq!(parse_rate("0.0001"), Some(100_000));
    assert_eq!(parse_rate("1"), Some(BILLION));
    assert_eq!(parse_rate("1.000000001"), None);
    assert_eq!(
        parse_rate("0.0000000001"),
        None,
        "below one part per billion"
    );
    assert_eq!(parse_rate("-0.1"), None);
    assert_eq!(parse_rate(""), None);
    assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(
        parse_rfc3339("2023-01-01T00:00:00Z"),
        Some(1_672_531_200_000)
    );
    assert_eq!(
        parse_rfc3339("2024-02-29T12:00:00Z"),
        Some(1_709_208_000_000)
    );
    assert_eq!(parse_rfc3339("2023-02-29T00:00:00Z"), None);
    assert_eq!(parse_rfc3339("2023-01-01 00:00:00Z"), None);
}

// ---- validators ----

#[test]
fn create_validator_checks_then_joins_the_set_two_blocks_later() {
    run(|| {
        block(None, Some(0));
        let c = |k: PublicKey, bond, com, desc: Vec<u8>| Call::CreateValidator {
            key: k,
            self_bond: bond,
            commission: com,
            description: desc,
        };
        assert_eq!(
            call(A, c(key(4), 50 * QS, commission(0), vec![])),
            err(Error::AlreadyValidator)
        );
        assert_eq!(
            call(E, c(key(0), 50 * QS, commission(0), vec![])),
            err(Error::KeyInUse)
        );
        assert_eq!(
            call(E, c(key(4), QS - 1, commission(0), vec![])),
            err(Error::SelfBondTooLow)
        );
        let bad = Commission {
            rate: 600_000_000,
            max_rate: 500_000_000,
            max_change_rate: 0,
        };
        assert_eq!(
            call(E, c(key(4), 50 * QS, bad, vec![])),
            err(Error::BadCommission)
        );
        let over = Commission {
            rate: 0,
            max_rate: BILLION + 1,
            max_change_rate: 0,
        };
        assert_eq!(
            call(E, c(key(4), 50 * QS, over, vec![])),
            err(Error::BadCommission)
        );
        assert_eq!(
            call(E, c(key(4), 50 * QS, commission(0), vec![b'x'; 257])),
            err(Error::DescriptionTooLong)
        );
        // Bonding everything leaves nothing for the reserve of the validator.
        assert_eq!(
            call(E, c(key(4), FUNDS, commission(0), vec![])),
            Err(pallet_tokens::Error::InsufficientReserve.into())
        );
        assert_eq!(
            call(E, c(key(4), FUNDS + 1, commission(0), vec![])),
            err(Error::Transfer)
        );
        let n = number();
        assert_eq!(
            call(E, c(key(4), 50 * QS, commission(0), vec![b'x'; 256])),
            Ok(())
        );
        assert!(events().contains(&Event::ValidatorCreated {
            owner: E,
            self_bond: 50 * QS
        }));
        block(None, Some(0));
        // Elected at the end of block n, signing from n + 2; D (10 QS) out.
        assert_eq!(set_owners(), vec![E, A, B, C]);
        assert!(SetStarts::get().unwrap().contains(&(u64::from(n) + 2)));
        assert!(matches!(
            validator(&D).status,
            Status::Inactive {
                reason: InactiveReason::NotElected,
                ..
            }
        ));
        assert_eq!(
            set_at(u64::from(n) + 1).unwrap()[0].owner,
            A,
            "the old set until then"
        );
        assert_eq!(set_at(u64::from(n) + 2).unwrap()[0].owner, E);
        // D comes back only with enough stake to be elected.
        assert_eq!(call(D, Call::ActivateValidator), err(Error::NotElectable));
        assert_eq!(
            call(D, Call::Bond { amount: 20 * QS }),
            err(Error::NotActive)
        );
        assert_eq!(call(A, Call::ActivateValidator), err(Error::NotInactive));
    });
}

#[test]
fn an_equal_stake_ties_to_the_lower_owner_and_power_needs_a_whole_unit() {
    run(|| {
        block(None, Some(0));
        // E matches D's 10 QS; D's owner id is lower, so D stays.
        let c = Call::CreateValidator {
            key: key(4),
            self_bond: 10 * QS,
            commission: commission(0),
            description: vec![],
        };
        assert_eq!(call(E, c), Ok(()));
        block(None, Some(0));
        assert_eq!(set_owners(), vec![A, B, C, D]);
        assert!(matches!(
            validator(&E).status,
            Status::Inactive {
                reason: InactiveReason::NotElected,
                ..
            }
        ));
        // One base unit more than D: elected.
        assert!(crate::block::electable(
            &E,
            &ValidatorInfo {
                tokens: 10 * QS + 1,
                ..validator(&E)
            }
        ));
        assert!(!crate::block::electable(&E, &validator(&E)));
    });
}

#[test]
fn revoke_then_survival_closes_and_returns_every_bond() {
    run(|| {
        block(None, Some(0));
        assert_eq!(
            call(
                X,
                Call::Delegate {
                    validator: D,
                    amount: 5 * QS,
                    compound: false
                }
            ),
            Ok(())
        );
        assert_eq!(call(X, Call::RevokeValidator), err(Error::NoValidator));
        assert_eq!(call(D, Call::RevokeValidator), Ok(()));
        assert_eq!(call(D, Call::RevokeValidator), err(Error::NotActive));
        assert_eq!(
            call(
                Y,
                Call::Delegate {
                    validator: D,
                    amount: 5 * QS,
                    compound: false
                }
            ),
            err(Error::NotActive)
        );
        block(None, Some(0));
        assert_eq!(set_owners(), vec![A, B, C]);
        // 60 s survival: still inactive after 59 s.
        for _ in 0..59 {
            block(None, Some(0));
        }
        assert!(matches!(validator(&D).status, Status::Inactive { .. }));
        block(None, Some(0));
        block(None, Some(0));
        assert_eq!(validator(&D).status, Status::Closed);
        let x_before = pallet_tokens::free_balance(&X);
        let d_before = pallet_tokens::free_balance(&D);
        // Within an income period every delegation unbonds, then releases.
        for _ in 0..(3 + 5 + 2) {
            block(None, Some(0));
        }
        assert!(
            Validators::get(&D).is_none(),
            "an empty closed validator is deleted"
        );
        assert_eq!(pallet_tokens::free_balance(&X), x_before + 5 * QS);
        assert!(
            pallet_tokens::free_balance(&D) >= d_before + 10 * QS,
            "the self-bond came back"
        );
        assert_eq!(pallet_system::owned::owner_count(&D), 0);
        assert!(
            KeyOwner::get(&key(3).account_id()).is_none(),
            "the key is free again"
        );
    });
}

#[test]
fn activation_restarts_the_window_but_never_for_a_double_signer() {
    run(|| {
        block(None, Some(0));
        assert_eq!(call(C, Call::RevokeValidator), Ok(()));
        block(None, Some(0));
        assert_eq!(call(C, Call::ActivateValidator), Ok(()));
        block(None, Some(0));
        assert_eq!(set_owners(), vec![A, B, C, D], "same members, same indices");
        crate::block::on_offence(u64::from(number()) - 1, 1);
        assert!(matches!(
            validator(&B).status,
            Status::Inactive {
                reason: InactiveReason::DoubleSign,
                ..
            }
        ));
        assert_eq!(call(B, Call::ActivateValidator), err(Error::Tombstoned));
    });
}

#[test]
fn commission_changes_once_a_day_within_its_limits() {
    run(|| {
        block(None, Some(0));
        // A's genesis rate 0.1, at most 0.05 per change, max 0.5.
        assert_eq!(
            call(A, Call::SetCommission { rate: 150_000_001 }),
            err(Error::CommissionChangeTooLarge)
        );
        assert_eq!(call(A, Call::SetCommission { rate: 150_000_000 }), Ok(()));
        assert_eq!(validator(&A).commission.rate, 150_000_000);
        assert_eq!(
            call(A, Call::SetCommission { rate: 120_000_000 }),
            err(Error::CommissionTooSoon)
        );
        let changed = validator(&A).commission_changed;
        pallet_system::timestamp::Now::put(&(changed + COMMISSION_CHANGE_INTERVAL_MS - 1));
        assert_eq!(
            call(A, Call::SetCommission { rate: 120_000_000 }),
            err(Error::CommissionTooSoon)
        );
        pallet_system::timestamp::Now::put(&(changed + COMMISSION_CHANGE_INTERVAL_MS));
        assert_eq!(call(A, Call::SetCommission { rate: 120_000_000 }), Ok(()));
        assert!(events().contains(&Event::CommissionChanged {
            validator: A,
            rate: 120_000_000
        }));
        assert_eq!(
            call(E, Call::SetCommission { rate: 0 }),
            err(Error::NoValidator)
        );
    });
}

// ---- delegation ----

#[test]
fn delegate_unbond_and_release_after_exactly_the_period() {
    run(|| {
        block(None, Some(0));
        let d = |amount, compound| Call::Delegate {
            validator: A,
            amount,
            compound,
        };
        assert_eq!(call(X, d(QS - 1, false)), err(Error::AmountTooLow));
        assert_eq!(
            call(
                X,
                Call::Delegate {
                    validator: E,
                    amount: QS,
                    compound: false
                }
            ),
            err(Error::NoValidator)
        );
        assert_eq!(call(X, d(10 * QS, false)), Ok(()));
        // A top-up may be below the minimum.
        assert_eq!(call(X, d(1, false)), Ok(()));
        assert_eq!(delegation_tokens(&A, &X), 10 * QS + 1);
        assert_eq!(validator(&A).tokens, 50 * QS + 1);
        assert_eq!(
            call(
                X,
                Call::Unbond {
                    validator: A,
                    amount: Some(10 * QS + 2)
                }
            ),
            err(Error::InsufficientBond)
        );
        assert_eq!(
            call(
                Y,
                Call::Unbond {
                    validator: A,
                    amount: None
                }
            ),
            err(Error::NoDelegation)
        );
        assert_eq!(
            call(
                X,
                Call::Unbond {
                    validator: A,
                    amount: Some(0)
                }
            ),
            err(Error::AmountTooLow)
        );
        assert_eq!(
            call(
                X,
                Call::Unbond {
                    validator: A,
                    amount: Some(4 * QS)
                }
            ),
            Ok(())
        );
        let release = number() + 5;
        assert!(events().contains(&Event::Unbonding {
            delegator: X,
            validator: A,
            tokens: 4 * QS,
            release
        }));
        while number() < release - 1 {
            block(None, Some(0));
            assert!(
                !events().iter().any(|e| matches!(e, Event::Released { .. })),
                "not before #{release}"
            );
        }
        let unbonding = pallet_tokens::free_balance(&bonded_account());
        block(None, Some(0));
        assert!(events().contains(&Event::Released {
            delegator: X,
            tokens: 4 * QS
        }));
        assert_eq!(
            pallet_tokens::free_balance(&bonded_account()),
            unbonding - 4 * QS
        );
        // Unbond all: the delegation (an owned object) goes.
        assert_eq!(
            call(
                X,
                Call::Unbond {
                    validator: A,
                    amount: None
                }
            ),
            Ok(())
        );
        assert!(Delegations::get(&A, &X).is_none());
        assert_eq!(pallet_system::owned::owner_count(&X), 0);
    });
}

#[test]
fn the_owner_keeps_a_self_bond_while_active_and_pending_is_capped() {
    run(|| {
        block(None, Some(0));
        assert_eq!(
            call(
                A,
                Call::Unbond {
                    validator: A,
                    amount: None
                }
            ),
            err(Error::SelfBondRequired)
        );
        assert_eq!(
            call(
                A,
                Call::Unbond {
                    validator: A,
                    amount: Some(40 * QS)
                }
            ),
            err(Error::SelfBondRequired)
        );
        assert_eq!(
            call(
                A,
                Call::Unbond {
                    validator: A,
                    amount: Some(39 * QS)
                }
            ),
            Ok(())
        );
        assert_eq!(
            call(
                X,
                Call::Delegate {
                    validator: B,
                    amount: 100 * QS,
                    compound: false
                }
            ),
            Ok(())
        );
        for _ in 0..MAX_PENDING_PER_ACCOUNT {
            assert_eq!(
                call(
                    X,
                    Call::Unbond {
                        validator: B,
                        amount: Some(QS)
                    }
                ),
                Ok(())
            );
        }
        assert_eq!(
            call(
                X,
                Call::Unbond {
                    validator: B,
                    amount: Some(QS)
                }
            ),
            err(Error::TooManyPending)
        );
        blocks_to(number() + 5);
        assert_eq!(
            call(
                X,
                Call::Unbond {
                    validator: B,
                    amount: Some(QS)
                }
            ),
            Ok(()),
            "released ones free their slots"
        );
    });
}

#[test]
fn redelegation_moves_at_once_but_never_chains_while_maturing() {
    run(|| {
        block(None, Some(0));
        assert_eq!(
            call(
                X,
                Call::Delegate {
                    validator: A,
                    amount: 10 * QS,
                    compound: false
                }
            ),
            Ok(())
        );
        let r = |from, to, amount| Call::Redelegate { from, to, amount };
        assert_eq!(call(X, r(A, A, None)), err(Error::SameValidator));
        assert_eq!(call(X, r(A, E, None)), err(Error::NoValidator));
        assert_eq!(call(X, r(A, B, Some(4 * QS))), Ok(()));
        assert_eq!(delegation_tokens(&B, &X), 4 * QS);
        assert_eq!(validator(&B).tokens, 34 * QS);
        // Out of B again while the move into B matures: refused.
        assert_eq!(call(X, r(B, C, None)), err(Error::ChainedRedelegation));
        // Out of A (not maturing into A) is fine.
        assert_eq!(call(X, r(A, C, Some(QS))), Ok(()));
        assert_eq!(call(D, Call::RevokeValidator), Ok(()));
        assert_eq!(call(X, r(A, D, Some(QS))), err(Error::NotActive));
        blocks_to(number() + 5);
        assert_eq!(call(X, r(B, C, None)), Ok(()), "matured");
        assert_eq!(delegation_tokens(&C, &X), 5 * QS);
    });
}

// ---- rewards ----

#[test]
fn a_block_pays_the_proposer_bonus_the_community_and_the_signers_by_power() {
    run(|| {
        block(None, Some(0));
        events();
        let community_before = pallet_tokens::free_balance(&community_account());
        let minted_before = Minted::get().unwrap();
        let a_due0 = validator(&A).commission_due;
        let a_owed0 = pending_rewards(&A, &A);
        // Block 2 carries block 1's commit: A, B, D signed (power 80); C did not.
        block(Some(&[0, 1, 3]), Some(2));
        let left = (T0 + 1_000_000 - pallet_system::timestamp::now()) / 1_000;
        let Some(Event::Minted {
            amount,
            proposer_bonus,
            to_validators,
            to_community,
        }) = events()
            .into_iter()
            .find(|e| matches!(e, Event::Minted { .. }))
        else {
            panic!("minted")
        };
        // What the phase has left over the blocks left at 1 s blocks.
        assert_eq!(amount, (1_000 * QS - minted_before) / u128::from(left));
        assert_eq!(proposer_bonus, apply_rate(amount, 40_000_000));
        let community = apply_rate(amount, 10_000_000);
        let for_signers = amount - proposer_bonus - community;
        let share = |p: u128| for_signers * p / 80;
        assert_eq!(to_validators, share(40) + share(30) + share(10));
        assert_eq!(to_community, amount - proposer_bonus - to_validators);
        assert_eq!(
            pallet_tokens::free_balance(&community_account()) - community_before,
            to_community
        );
        // C earned only its bonus; A its share; commission 10 % to owners.
        let c = validator(&C);
        assert_eq!(c.commission_due, apply_rate(proposer_bonus, 100_000_000));
        let a = validator(&A);
        assert_eq!(
            a.commission_due - a_due0,
            apply_rate(share(40), 100_000_000)
        );
        // A's owner holds all of A's shares: it is owed all of A's share
        // (commission included), to the unit.
        let owed_a = pending_rewards(&A, &A) - a_owed0;
        assert!(
            owed_a <= share(40) && owed_a + 1 >= share(40),
            "{owed_a} vs {}",
            share(40)
        );
    });
}

#[test]
fn delegators_share_by_shares_minus_commission_and_compounding_bonds_it() {
    run_with(r#","delegatorIncomePeriod":10"#, || {
        block(None, Some(0));
        // X delegates 40 QS to A (now half of A's 80), compounding; Y 40 QS to B, paid out.
        assert_eq!(
            call(
                X,
                Call::Delegate {
                    validator: A,
                    amount: 40 * QS,
                    compound: true
                }
            ),
            Ok(())
        );
        assert_eq!(
            call(
                Y,
                Call::Delegate {
                    validator: B,
                    amount: 40 * QS,
                    compound: false
                }
            ),
            Ok(())
        );
        // From here X's and A's equal shares earn alike.
        let a0 = pending_rewards(&A, &A) - validator(&A).commission_due;
        block(None, Some(0));
        block(None, None);
        let owed_x = pending_rewards(&A, &X);
        let owed_a = pending_rewards(&A, &A) - validator(&A).commission_due - a0;
        assert!(
            owed_x > 0 && owed_x.abs_diff(owed_a) <= 1,
            "{owed_x} vs {owed_a}"
        );
        let before = delegation_tokens(&A, &X);
        let x_free = pallet_tokens::free_balance(&X);
        let y_before = pallet_tokens::free_balance(&Y);
        // The income period (10 blocks) visits both.
        blocks_to(number() + 10);
        assert!(delegation_tokens(&A, &X) > before, "compounded");
        assert!(pallet_tokens::free_balance(&Y) > y_before, "paid out");
        assert_eq!(pallet_tokens::free_balance(&X), x_free, "bonded, not paid");
        // Withdraw on demand: the owner also takes its commission.
        let a_before = pallet_tokens::free_balance(&A);
        let due = pending_rewards(&A, &A);
        assert_eq!(call(A, Call::WithdrawRewards { validator: A }), Ok(()));
        assert_eq!(pallet_tokens::free_balance(&A), a_before + due);
        assert_eq!(pending_rewards(&A, &A), 0);
        assert_eq!(
            call(E, Call::WithdrawRewards { validator: A }),
            err(Error::NoDelegation)
        );
        assert_eq!(
            call(
                Y,
                Call::SetCompound {
                    validator: B,
                    compound: true
                }
            ),
            Ok(())
        );
        assert_eq!(
            call(
                X,
                Call::SetCompound {
                    validator: B,
                    compound: true
                }
            ),
            err(Error::NoDelegation)
        );
    });
}

#[test]
fn rounding_dust_stays_below_a_unit_per_settlement() {
    run(|| {
        block(None, Some(0));
        for (i, who) in [X, Y, E].iter().enumerate() {
            assert_eq!(
                call(
                    *who,
                    Call::Delegate {
                        validator: C,
                        amount: 3 * QS + i as u128 * 7,
                        compound: false
                    }
                ),
                Ok(())
            );
        }
        let mut settlements = 0u128;
        for _ in 0..30 {
            block(None, Some(1));
            for who in [X, Y] {
                assert_eq!(call(who, Call::WithdrawRewards { validator: C }), Ok(()));
                settlements += 1;
            }
        }
        blocks_to(number() + 4);
        // Everything still owed is covered, and the reward account holds
        // at most a unit per settlement (and per payout visit) beyond it.
        let owed: Balance = Validators::iter()
            .iter()
            .map(|(o, v)| {
                Delegations::iter_prefix(o)
                    .iter()
                    .map(|(_, d)| stake::owed(v, d))
                    .sum::<Balance>()
                    + v.commission_due
            })
            .sum();
        let held = pallet_tokens::free_balance(&reward_account());
        assert!(held >= owed);
        assert!(
            held - owed <= settlements + 200,
            "dust {} over {settlements} settlements",
            held - owed
        );
    });
}

// ---- keep-alive and slashing ----

#[test]
fn missing_more_than_the_window_allows_deactivates_and_slashes_downtime() {
    run(|| {
        block(None, Some(0));
        // Window 10, least 7: D may miss 3 of 10. Judged once 10 are counted.
        for _ in 0..5 {
            block(Some(&[0, 1, 2]), Some(0));
        }
        assert_eq!(
            validator(&D).status,
            Status::Active,
            "5 misses of 5: not judged yet"
        );
        for _ in 0..4 {
            block(None, Some(0));
        }
        assert_eq!(validator(&D).window_counted, 9);
        let tokens = validator(&D).tokens;
        block(None, Some(0));
        assert!(matches!(
            validator(&D).status,
            Status::Inactive {
                reason: InactiveReason::Downtime,
                ..
            }
        ));
        assert_eq!(validator(&D).tokens, tokens - apply_rate(tokens, 100_000));
        assert!(events().iter().any(|e| matches!(
            e,
            Event::Slashed {
                validator: D,
                reason: InactiveReason::Downtime,
                ..
            }
        )));
        block(Some(&[0, 1, 2]), Some(0));
        assert_eq!(set_owners(), vec![A, B, C]);
        // Back, with a fresh window.
        assert_eq!(call(D, Call::ActivateValidator), Ok(()));
        assert_eq!(validator(&D).window_missed, 0);
        assert_eq!(validator(&D).window_counted, 0);
    });
}

#[test]
fn three_misses_of_ten_are_allowed() {
    run(|| {
        block(None, Some(0));
        for _ in 0..3 {
            block(Some(&[0, 1, 2]), Some(0));
        }
        for _ in 0..20 {
            block(None, Some(0));
        }
        assert_eq!(validator(&D).status, Status::Active);
    });
}

#[test]
fn signing_again_recovers_window_slots() {
    run(|| {
        block(None, Some(0));
        for _ in 0..3 {
            block(Some(&[0, 1, 2]), Some(0));
        }
        // Ten signed blocks later the misses have left the window.
        for _ in 0..10 {
            block(None, Some(0));
        }
        assert_eq!(validator(&D).window_missed, 0);
        for _ in 0..3 {
            block(Some(&[0, 1, 2]), Some(0));
        }
        assert_eq!(validator(&D).status, Status::Active);
    });
}

#[test]
fn a_zero_downtime_rate_still_deactivates() {
    run_with(r#","downtimeSlash":"0""#, || {
        block(None, Some(0));
        let tokens = validator(&D).tokens;
        for _ in 0..10 {
            block(Some(&[0, 1, 2]), Some(0));
        }
        assert!(matches!(
            validator(&D).status,
            Status::Inactive {
                reason: InactiveReason::Downtime,
                ..
            }
        ));
        assert_eq!(validator(&D).tokens, tokens);
    });
}

#[test]
fn a_double_sign_slashes_bonds_and_later_unbondings_and_redelegations_once() {
    run(|| {
        block(None, Some(0));
        assert_eq!(
            call(
                X,
                Call::Delegate {
                    validator: B,
                    amount: 20 * QS,
                    compound: false
                }
            ),
            Ok(())
        );
        assert_eq!(
            call(
                Y,
                Call::Delegate {
                    validator: B,
                    amount: 10 * QS,
                    compound: false
                }
            ),
            Ok(())
        );
        // X unbonds 10 before the offence; Y redelegates 5 and X unbonds 5 after it.
        assert_eq!(
            call(
                X,
                Call::Unbond {
                    validator: B,
                    amount: Some(10 * QS)
                }
            ),
            Ok(())
        );
        block(None, Some(0));
        let offence = u64::from(number());
        block(None, Some(0));
        assert_eq!(
            call(
                X,
                Call::Unbond {
                    validator: B,
                    amount: Some(5 * QS)
                }
            ),
            Ok(())
        );
        assert_eq!(
            call(
                Y,
                Call::Redelegate {
                    from: B,
                    to: A,
                    amount: Some(5 * QS)
                }
            ),
            Ok(())
        );
        let bonded = validator(&B).tokens;
        let y_at_a = delegation_tokens(&A, &Y);
        let pool_before = pallet_tokens::free_balance(&community_account());
        crate::block::on_offence(offence, 1);
        let b = validator(&B);
        assert!(matches!(
            b.status,
            Status::Inactive {
                reason: InactiveReason::DoubleSign,
                ..
            }
        ));
        assert_eq!(b.tokens, bonded - bonded / 5);
        let unbondings: Vec<Balance> = Unbondings::iter_prefix(&B)
            .into_iter()
            .map(|(_, u)| u.tokens)
            .collect();
        assert!(
            unbondings.contains(&(10 * QS)),
            "before the offence: untouched"
        );
        assert!(unbondings.contains(&(4 * QS)), "after: slashed 20 %");
        assert_eq!(
            delegation_tokens(&A, &Y),
            y_at_a - QS,
            "the redelegated tokens too"
        );
        let taken = bonded / 5 + QS + QS;
        assert_eq!(
            pallet_tokens::free_balance(&community_account()) - pool_before,
            taken
        );
        // The same height again (another step's evidence), or another
        // height: a tombstoned double signer is slashed nothing more.
        crate::block::on_offence(offence, 1);
        let later = set_at(offence + 1)
            .unwrap()
            .iter()
            .position(|m| m.owner == B)
            .unwrap() as u32;
        crate::block::on_offence(offence + 1, later);
        assert_eq!(validator(&B).tokens, bonded - bonded / 5);
        block(None, Some(0));
        assert_eq!(set_owners(), vec![A, C, D]);
    });
}

// ---- the commit inherent ----

#[test]
fn the_commit_must_be_the_parents_with_a_quorum_of_its_set() {
    run(|| {
        block(None, Some(0));
        start_next(1_000);
        let n = number();
        let parent = u64::from(n - 1);
        let good = certificate(parent, parent_hash(n - 1), &[0, 1, 2, 3]);
        let mut other = good.clone();
        other.value = H256([0xee; 32]);
        assert_eq!(note_commit(Some(other), None), Err(Error::WrongCommit));
        let mut height = good.clone();
        height.height = parent - 1;
        assert_eq!(note_commit(Some(height), None), Err(Error::WrongCommit));
        // A, D: 50 of 100, not > 2/3.
        let weak = certificate(parent, parent_hash(n - 1), &[0, 3]);
        assert_eq!(note_commit(Some(weak), None), Err(Error::BadCommit));
        // A, B: 70 of 100 > 2/3.
        let quorum = certificate(parent, parent_hash(n - 1), &[0, 1]);
        let mut forged = quorum.clone();
        forged.precommits[1].1 = forged.precommits[0].1.clone();
        assert_eq!(note_commit(Some(forged), None), Err(Error::BadCommit));
        assert_eq!(
            note_commit(Some(good.clone()), Some(4)),
            Err(Error::UnknownProposer)
        );
        assert!(!CommitNoted::exists(), "refusals wrote nothing");
        assert_eq!(note_commit(Some(quorum), Some(3)), Ok(()));
        assert_eq!(note_commit(Some(good), None), Err(Error::AlreadyNoted));
        // A BFT block without its commit cannot end.
        start_next(1_000);
        assert!(crate::block::on_finalize().is_err());
        CommitNoted::put(&true);
    });
}

#[test]
fn the_inherent_keeps_only_a_valid_commit_and_proposer() {
    run(|| {
        block(None, Some(0));
        start_next(1_000);
        let n = number();
        let mut data = InherentData::new();
        assert_eq!(Pallet::create_inherent_for_test(&data), None);
        let c = certificate(u64::from(n - 1), parent_hash(n - 1), &[0, 1, 2]);
        data.insert(
            qstack_consensus_primitives::PARENT_JUSTIFICATION_INHERENT,
            c.encode(),
        );
        data.insert(
            qstack_consensus_primitives::PROPOSER_INHERENT,
            9u32.encode(),
        );
        assert_eq!(
            Pallet::create_inherent_for_test(&data),
            Some(Call::NoteCommit {
                certificate: Some(c.clone()),
                proposer: None
            })
        );
        data.insert(
            qstack_consensus_primitives::PARENT_JUSTIFICATION_INHERENT,
            vec![1, 2, 3],
        );
        data.insert(
            qstack_consensus_primitives::PROPOSER_INHERENT,
            2u32.encode(),
        );
        assert_eq!(
            Pallet::create_inherent_for_test(&data),
            Some(Call::NoteCommit {
                certificate: None,
                proposer: Some(2)
            })
        );
        note(None, Some(0)).unwrap();
    });
}

impl Pallet {
    fn create_inherent_for_test(data: &InherentData) -> Option<Call> {
        <Pallet as qstack_support::Pallet>::create_inherent(data)
    }
}

// ---- inflation ----

#[test]
fn four_phases_mint_their_closed_form_totals() {
    // Phases of 1, 2, 3 and 4 hours at 1 s blocks (checked on the pure
    // schedule: 36,000 blocks), totals halving as in the whitepaper.
    let totals: [Balance; 4] = [2_550 * QS, 1_275 * QS, 6_375 * QS / 10, 31_875 * QS / 100];
    let mut phases: Vec<Phase> = Vec::new();
    let mut end = T0;
    for (i, t) in totals.iter().enumerate() {
        end += 3_600_000 * (i as u64 + 1);
        phases.push(Phase {
            end_time: end,
            total_amount: *t,
            applied_amount: 0,
        });
    }
    let mut current = 0u32;
    let mut minted = [0u128; 4];
    let mut leftovers = 0u128;
    let mut now = T0;
    while now <= end + 1_000 {
        now += 1_000;
        let (m, l, _) = crate::block::mint_at(&mut phases, &mut current, now, 1_000);
        leftovers += l;
        // The mint is the phase's in force after any rollover.
        if let Some(slot) = minted.get_mut(current as usize) {
            *slot += m;
        }
    }
    assert_eq!(current, 4, "every phase ended");
    for i in 0..4 {
        assert!(
            totals[i] - minted[i] <= 1,
            "phase {i}: minted {} of {}",
            minted[i],
            totals[i]
        );
    }
    assert_eq!(
        minted.iter().sum::<u128>() + leftovers,
        totals.iter().sum::<u128>()
    );
}

#[test]
fn a_finished_phase_gives_its_leftover_to_the_community_and_minting_stops() {
    run(|| {
        block(None, Some(0));
        let pool = pallet_tokens::free_balance(&community_account());
        // Jump past the phase's end.
        start_next(2_000_000);
        note(None, Some(0)).unwrap();
        let ended = events().into_iter().find_map(|e| match e {
            Event::PhaseEnded { index, leftover } => Some((index, leftover)),
            _ => None,
        });
        let (index, leftover) = ended.expect("phase ended");
        assert_eq!(index, 0);
        assert!(pallet_tokens::free_balance(&community_account()) >= pool + leftover);
        assert_eq!(Minted::get().unwrap(), 1_000 * QS);
        let issued = pallet_tokens::total_issuance();
        block(None, Some(0));
        assert_eq!(
            pallet_tokens::total_issuance(),
            issued,
            "no phase left: no mint"
        );
    });
}

#[test]
fn the_observed_block_time_sets_the_mint() {
    run(|| {
        block(None, Some(0));
        // Blocks every 2 s: half as many left, twice the mint.
        start_next(2_000);
        note(None, None).unwrap();
        block_with_gap(2_000);
        let view = crate::api::inflation();
        assert_eq!(view.average_block_time_ms, 2_000);
        let left = (T0 + 1_000_000 - pallet_system::timestamp::now()) / 2_000;
        let remaining = 1_000 * QS - Minted::get().unwrap();
        assert_eq!(view.next_mint, remaining / u128::from(left));
    });
}

fn block_with_gap(ms: u64) {
    start_next(ms);
    note(None, None).unwrap();
}

#[test]
fn an_election_never_empties_the_set() {
    run(|| {
        block(None, Some(0));
        for who in [A, B, C, D] {
            assert_eq!(call(who, Call::RevokeValidator), Ok(()));
        }
        block(None, Some(0));
        assert_eq!(set_owners(), vec![A, B, C, D], "the last set stays");
        assert!(consensus_config().is_some());
        // One comes back: the set is it alone.
        assert_eq!(call(B, Call::ActivateValidator), Ok(()));
        block(None, Some(0));
        assert_eq!(set_owners(), vec![B]);
    });
}

#[test]
fn a_validator_takes_at_most_512_delegations() {
    run(|| {
        block(None, Some(0));
        // The self-bond is one of them.
        for n in 1..MAX_DELEGATORS_PER_VALIDATOR {
            let who = AccountId([
                9,
                (n >> 8) as u8,
                n as u8,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                1,
            ]);
            pallet_tokens::endow(&who, 10 * QS).unwrap();
            stake::delegate(&who, &D, QS, None).expect("delegates");
            pallet_tokens::settle_reserves().unwrap();
        }
        assert_eq!(DelegatorCount::get(&D), Some(MAX_DELEGATORS_PER_VALIDATOR));
        assert_eq!(
            call(
                X,
                Call::Delegate {
                    validator: D,
                    amount: QS,
                    compound: false
                }
            ),
            err(Error::TooManyDelegators)
        );
        // A redelegation into it counts too; a top-up does not.
        assert_eq!(
            call(
                X,
                Call::Delegate {
                    validator: A,
                    amount: 2 * QS,
                    compound: false
                }
            ),
            Ok(())
        );
        assert_eq!(
            call(
                X,
                Call::Redelegate {
                    from: A,
                    to: D,
                    amount: None
                }
            ),
            err(Error::TooManyDelegators)
        );
        assert_eq!(call(D, Call::Bond { amount: QS }), Ok(()));
    });
}

#[test]
fn queued_work_is_bounded_and_charged_to_the_block() {
    run(|| {
        // The four self-delegations' payouts fall due at block 3.
        block(None, Some(0));
        block(None, Some(0));
        assert_eq!(pallet_system::BlockWeight::get(), None);
        block(None, Some(0));
        assert_eq!(
            pallet_system::BlockWeight::get(),
            Some(4 * weights::QUEUE_TASK)
        );
        // 100 delegations due at once: 64 this block, the rest the next.
        for n in 0..100u8 {
            let who = AccountId([
                10, n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 1,
            ]);
            pallet_tokens::endow(&who, 10 * QS).unwrap();
            stake::delegate(&who, &A, QS, None).expect("delegates");
            pallet_tokens::settle_reserves().unwrap();
        }
        let due = u64::from(number() + 3);
        blocks_to(number() + 2);
        block(None, Some(0));
        assert_eq!(u64::from(number()), due);
        assert_eq!(
            pallet_system::BlockWeight::get(),
            Some(u64::from(MAX_TASKS_PER_BLOCK) * weights::QUEUE_TASK)
        );
        block(None, Some(0));
        assert!(pallet_system::BlockWeight::get().unwrap_or(0) >= 36 * weights::QUEUE_TASK);
    });
}

#[test]
fn a_chain_without_genesis_validators_never_requires_a_commit() {
    // The dev chain: no validators at genesis, a validator created later.
    pallet_system::testing::Scenario::new()
        .with(|| {
            pallet_tokens::ReserveConfig::put(&Reserves {
                account: QS,
                owner: QS / 5,
            });
            pallet_tokens::endow(&E, FUNDS).expect("endow");
            pallet_system::timestamp::Now::put(&T0);
        })
        .genesis::<Pallet>(r#"{"staking": {}}"#)
        .run::<Pallet>(|| {
            pallet_system::BlockHash::insert(&0, &TEST_GENESIS);
            start_next(1_000);
            let c = Call::CreateValidator {
                key: key(4),
                self_bond: 10 * QS,
                commission: commission(0),
                description: vec![],
            };
            assert_eq!(call(E, c), Ok(()));
            for _ in 0..5 {
                // No commit noted, and every block ends.
                start_next(1_000);
            }
            assert_eq!(set_owners(), vec![E]);
            assert!(consensus_config().is_some());
            check_all();
        });
}

#[test]
fn root_replaces_the_parameters_as_genesis_checks_them() {
    run(|| {
        let root = |c: Call| pallet_system::testing::dispatch(qstack_support::Origin::Root, c);
        let mut p = params();
        p.max_validators = 7;
        assert_eq!(
            call(A, Call::SetParams { params: p }),
            Err(DispatchError::BadOrigin)
        );
        let mut bad = p;
        bad.voting_status_least = bad.voting_status_len + 1;
        assert_eq!(root(Call::SetParams { params: bad }), err(Error::BadParams));
        bad = p;
        bad.double_sign_slash = BILLION + 1;
        assert_eq!(root(Call::SetParams { params: bad }), err(Error::BadParams));
        assert_eq!(root(Call::SetParams { params: p }), Ok(()));
        assert_eq!(params().max_validators, 7);
        assert_eq!(events(), alloc::vec![Event::ParamsSet]);
    });
}

#[test]
fn root_replaces_the_phase_in_force_carrying_what_it_minted() {
    run(|| {
        let root = |c: Call| pallet_system::testing::dispatch(qstack_support::Origin::Root, c);
        // The genesis phase has minted 10 QS so far.
        let mut phases = Phases::get().unwrap_or_default();
        phases[0].applied_amount = 10 * QS;
        Phases::put(&phases);
        Minted::put(&(10 * QS));
        let later = T0 + 2_000_000;
        let set = |p: Vec<(u64, Balance)>| root(Call::SetInflationPhases { phases: p });
        assert_eq!(set(alloc::vec![]), err(Error::BadPhases), "none");
        assert_eq!(
            set(alloc::vec![(T0, 100 * QS)]),
            err(Error::BadPhases),
            "ends now"
        );
        assert_eq!(
            set(alloc::vec![(later, 100 * QS), (later, 5 * QS)]),
            err(Error::BadPhases),
            "ends do not rise"
        );
        assert_eq!(
            set(alloc::vec![(later, 9 * QS)]),
            err(Error::BadPhases),
            "below minted"
        );
        assert_eq!(
            call(
                A,
                Call::SetInflationPhases {
                    phases: alloc::vec![(later, 100 * QS)]
                }
            ),
            Err(DispatchError::BadOrigin)
        );
        assert_eq!(
            set(alloc::vec![(later, 100 * QS), (later + 1, 50 * QS)]),
            Ok(())
        );
        let now = Phases::get().unwrap_or_default();
        assert_eq!(now.len(), 2);
        assert_eq!(
            (now[0].end_time, now[0].total_amount, now[0].applied_amount),
            (later, 100 * QS, 10 * QS),
            "the phase in force keeps what it minted"
        );
        assert_eq!(now[1].applied_amount, 0);
        let _ = events();
    });
}
