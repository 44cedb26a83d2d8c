//! Tests of every call, each way a proposal ends, the tally's rules at
//! their exact boundaries, the delegator override, enactment and the
//! bounds. Each test runs through [`Test::run`], which checks this
//! pallet's invariants (the deposit account holds exactly the live
//! deposits, counts and queues agree), the staking and tokens pallets'
//! after every block and at the end; every call goes through [`call`],
//! which checks that a refused call wrote nothing and that no call touches
//! more storage than it declares.

use super::*;
use crate::api;
use pallet_system::testing::take_events_of;
use pallet_tokens::testing::call;
use pallet_tokens::Reserves;
use qstack_core::PublicKey;
use qstack_runtime_primitives::{AssetId, Digest};
use qstack_support::Origin;

const A: AccountId = AccountId([1; 32]);
const B: AccountId = AccountId([2; 32]);
const C: AccountId = AccountId([3; 32]);
const D: AccountId = AccountId([4; 32]);
const E: AccountId = AccountId([5; 32]);
const X: AccountId = AccountId([6; 32]);
const P: AccountId = AccountId([7; 32]);
const FUNDS: Balance = 1_000_000 * QS;
const DEPOSIT_PERIOD: BlockNumber = 10;
const VOTING_PERIOD: BlockNumber = 20;

fn addr(a: AccountId) -> String {
    qstack_core::Address::from(a).to_string()
}

fn numbered(n: u32) -> AccountId {
    let mut id = [9u8; 32];
    id[28..].copy_from_slice(&n.to_le_bytes());
    AccountId(id)
}

/// A scenario: validators (owner, self-bond) in the genesis, governance
/// with short periods (deposit 10 blocks, voting 20) unless told otherwise,
/// every test account funded; the body runs in block 1.
struct Test {
    validators: Vec<(AccountId, Balance)>,
    governance: String,
}

impl Test {
    /// A 400, B 300, C 200, D 100 QS of self-bond: 1,000 QS active.
    fn new() -> Self {
        Test {
            validators: vec![(A, 400 * QS), (B, 300 * QS), (C, 200 * QS), (D, 100 * QS)],
            governance: String::new(),
        }
    }

    fn validators(mut self, v: &[(AccountId, Balance)]) -> Self {
        self.validators = v.to_vec();
        self
    }

    /// Extra fields for every level (`"quorum":"0.5"`).
    fn governance(mut self, fields: &str) -> Self {
        self.governance = format!(",{fields}");
        self
    }

    fn staking_json(&self) -> String {
        let list: Vec<String> = self
            .validators
            .iter()
            .enumerate()
            .map(|(i, (owner, bond))| {
                let key = PublicKey::Sr25519([100 + i as u8; 32]);
                format!(
                    r#"{{"publicKey":"0x{}","owner":"{}","selfBond":"{bond}"}}"#,
                    hex::encode(key.encode()),
                    addr(*owner)
                )
            })
            .collect();
        format!(
            r#"{{"staking":{{"params":{{"maxValidators":8}},"validators":[{}]}}}}"#,
            list.join(",")
        )
    }

    fn governance_json(&self) -> String {
        let level = format!(
            r#"{{"maxDepositPeriod":{DEPOSIT_PERIOD},"votingPeriod":{VOTING_PERIOD}{}}}"#,
            self.governance
        );
        format!(r#"{{"governance":{{"normal":{level},"important":{level},"critical":{level}}}}}"#)
    }

    fn run(self, f: impl FnOnce()) {
        let staking = self.staking_json();
        let governance = self.governance_json();
        pallet_system::testing::Scenario::new()
            .with(|| {
                pallet_tokens::ReserveConfig::put(&Reserves {
                    account: QS,
                    owner: QS / 5,
                });
                for who in [A, B, C, D, E, X, P] {
                    pallet_tokens::endow(&who, FUNDS).expect("endow");
                }
                pallet_system::timestamp::Now::put(&1_700_000_000_000);
            })
            .genesis::<pallet_staking::Pallet>(&staking)
            .genesis::<Pallet>(&governance)
            .at(1)
            .run::<Pallet>(move || {
                f();
                check_all();
            })
    }
}

fn check_all() {
    assert_eq!(proposal::try_state(), Ok(()));
    assert_eq!(pallet_staking::stake::try_state(), Ok(()));
    assert_eq!(pallet_tokens::try_state(), Ok(()));
}

fn err(e: Error) -> Result<(), DispatchError> {
    Err(e.into())
}

fn events() -> Vec<Event> {
    take_events_of::<Pallet>()
}

fn number() -> BlockNumber {
    pallet_system::block_number()
}

fn balance(who: &AccountId) -> Balance {
    pallet_tokens::free_balance(who)
}

fn pool() -> Balance {
    balance(&deposit_account())
}

fn community() -> Balance {
    balance(&pallet_staking::community_account())
}

/// The next block: the pallet's hook runs as the executive runs it.
fn next_block() {
    check_all();
    let n = number() + 1;
    pallet_system::initialize(n, H256([n as u8; 32]), &Digest::default());
    proposal::on_initialize(n);
}

/// Blocks until `n`.
fn advance_to(n: BlockNumber) {
    while number() < n {
        next_block();
    }
}

fn text() -> ProposalKind {
    ProposalKind::Text
}

fn submit(who: AccountId, kind: ProposalKind, deposit: Balance) -> Result<(), DispatchError> {
    call(
        who,
        Call::Submit {
            title: b"title".to_vec(),
            description: b"description".to_vec(),
            kind,
            deposit,
        },
    )
}

/// Submits a proposal of `kind` with its full deposit (voting opens at
/// once); returns its id.
fn open(kind: ProposalKind) -> ProposalId {
    let id = NextId::get().unwrap_or(0);
    let min = params().of(kind.level()).min_deposit;
    submit(P, kind, min).expect("submitted");
    id
}

fn vote(who: AccountId, id: ProposalId, option: VoteOption) -> Result<(), DispatchError> {
    call(who, Call::Vote { id, option })
}

fn deposit(who: AccountId, id: ProposalId, amount: Balance) -> Result<(), DispatchError> {
    call(who, Call::Deposit { id, amount })
}

fn delegate(who: AccountId, validator: AccountId, amount: Balance) {
    call(
        who,
        pallet_staking::Call::Delegate {
            validator,
            amount,
            compound: false,
        },
    )
    .expect("delegated");
}

fn get(id: ProposalId) -> Proposal {
    Proposals::get(&id).expect("proposal")
}

/// Blocks until proposal `id`'s voting period ends; returns its events.
fn end_voting(id: ProposalId) -> Vec<Event> {
    advance_to(get(id).voting_end.expect("being voted on"));
    events()
}

fn tally(yes: Balance, no: Balance, abstain: Balance, veto: Balance, total: Balance) -> Tally {
    Tally {
        yes,
        no,
        abstain,
        veto,
        total,
    }
}

// ---- genesis ----

#[test]
fn genesis_defaults_are_qos_rates_with_the_documented_deposits_and_periods() {
    let d = Params::default();
    assert_eq!(d.normal.min_deposit, 10 * QS);
    assert_eq!(d.important.min_deposit, 100 * QS);
    assert_eq!(d.critical.min_deposit, 1_000 * QS);
    for l in [d.normal, d.important, d.critical] {
        assert_eq!(
            (
                l.quorum,
                l.threshold,
                l.veto,
                l.burn_rate,
                l.min_proposer_deposit
            ),
            (
                334_000_000,
                500_000_000,
                334_000_000,
                500_000_000,
                334_000_000
            )
        );
        assert_eq!(l.max_deposit_period, 14 * 86_400);
    }
    assert_eq!(
        (
            d.normal.voting_period,
            d.important.voting_period,
            d.critical.voting_period
        ),
        (7 * 86_400, 10 * 86_400, 14 * 86_400)
    );
    let mut out = None;
    qstack_io::TestExternalities::new().execute_with(|| {
        let patch = qstack_support::genesis::parse_patch(r#"{}"#).unwrap();
        qstack_support::genesis::build::<Pallet>(&patch).unwrap();
        out = ParamsOf::get();
        assert!(pallet_tokens::pseudo::is_pseudo(&deposit_account()));
    });
    assert_eq!(out, Some(d), "an absent section gives the defaults");
}

fn genesis_error(json: &str) -> String {
    let mut out = String::new();
    qstack_io::TestExternalities::new().execute_with(|| {
        let patch = qstack_support::genesis::parse_patch(json).unwrap();
        out = qstack_support::genesis::build::<Pallet>(&patch)
            .map(|()| String::from("ok"))
            .unwrap_or_else(|e| e.to_string());
    });
    out
}

#[test]
fn genesis_reads_each_field_and_names_each_bad_one() {
    let mut read = None;
    qstack_io::TestExternalities::new().execute_with(|| {
        let patch = qstack_support::genesis::parse_patch(
            r#"{"governance":{"important":{"minDeposit":"5","minProposerDeposit":"10%",
                "maxDepositPeriod":3,"votingPeriod":4,"quorum":"0.2","threshold":"0.6",
                "veto":"0.25","burnRate":"1"}}}"#,
        )
        .unwrap();
        qstack_support::genesis::build::<Pallet>(&patch).unwrap();
        read = ParamsOf::get();
    });
    let p = read.unwrap();
    assert_eq!(
        p.important,
        LevelParams {
            min_deposit: 5,
            min_proposer_deposit: 100_000_000,
            max_deposit_period: 3,
            voting_period: 4,
            quorum: 200_000_000,
            threshold: 600_000_000,
            veto: 250_000_000,
            burn_rate: BILLION,
        }
    );
    assert_eq!(p.normal, Params::default().normal);
    let cases = [
        (r#"{"normal":{"quorum":"0"}}"#, "governance.normal.quorum"),
        (
            r#"{"normal":{"threshold":"1.5"}}"#,
            "governance.normal.threshold",
        ),
        (r#"{"critical":{"veto":"0"}}"#, "governance.critical.veto"),
        (
            r#"{"normal":{"burnRate":"x"}}"#,
            "governance.normal.burnRate",
        ),
        (
            r#"{"important":{"minProposerDeposit":"2"}}"#,
            "governance.important.minProposerDeposit",
        ),
        (
            r#"{"critical":{"votingPeriod":0}}"#,
            "governance.critical.votingPeriod",
        ),
        (
            r#"{"normal":{"maxDepositPeriod":0}}"#,
            "governance.normal.maxDepositPeriod",
        ),
        (
            r#"{"normal":{"minDeposit":0}}"#,
            "governance.normal.minDeposit",
        ),
    ];
    for (body, field) in cases {
        let e = genesis_error(&format!(r#"{{"governance":{body}}}"#));
        assert!(e.starts_with(field), "{body}: {e}");
    }
    assert_eq!(
        genesis_error(r#"{"governance":{"normal":{"quorum":"0.5","burnRate":"0"}}}"#),
        "ok",
        "a burn rate and a proposer share may be 0"
    );
    let e = genesis_error(r#"{"governance":{"normal":{"quorom":"0.5"}}}"#);
    assert!(e.contains("unknown field `quorom`"), "{e}");
    let e = genesis_error(r#"{"governance":{"urgent":{}}}"#);
    assert!(e.contains("unknown field `urgent`"), "{e}");
}

#[test]
fn call_indices_are_permanent() {
    qstack_support::testing_support::check_known_calls::<Pallet>().unwrap();
    let submit = Call::Submit {
        title: vec![],
        description: vec![],
        kind: ProposalKind::Text,
        deposit: 0,
    };
    assert_eq!(submit.encode()[0], 0);
    assert_eq!(Call::Deposit { id: 0, amount: 0 }.encode()[0], 1);
    assert_eq!(
        Call::Vote {
            id: 0,
            option: VoteOption::NoWithVeto
        }
        .encode(),
        vec![2, 0, 0, 0, 0, 0, 0, 0, 0, 3]
    );
    assert_eq!(
        DispatchError::from(Error::NoStake),
        DispatchError::module(9, 11)
    );
}

// ---- deposits ----

#[test]
fn submit_takes_the_deposit_and_opens_the_deposit_period() {
    Test::new().run(|| {
        submit(P, text(), 5 * QS).unwrap();
        assert_eq!(balance(&P), FUNDS - 5 * QS);
        assert_eq!(pool(), 5 * QS);
        let p = get(0);
        assert_eq!(
            (
                p.status,
                p.level,
                p.deposit_end,
                p.total_deposit,
                p.depositors
            ),
            (
                ProposalStatus::Deposit,
                Level::Normal,
                1 + DEPOSIT_PERIOD,
                5 * QS,
                1
            )
        );
        assert_eq!(Live::get().unwrap(), vec![(1 + DEPOSIT_PERIOD, 0)]);
        assert_eq!(
            events(),
            vec![Event::Submitted {
                id: 0,
                proposer: P,
                level: Level::Normal,
                deposit: 5 * QS
            }]
        );
        // Each kind at its level.
        let upgrade = ProposalKind::RuntimeUpgrade {
            code_hash: H256([1; 32]),
        };
        submit(P, upgrade, 400 * QS).unwrap();
        assert_eq!(get(1).level, Level::Critical);
        let spend = ProposalKind::CommunitySpend { to: X, amount: 1 };
        submit(P, spend, 40 * QS).unwrap();
        assert_eq!(get(2).level, Level::Important);
        let change = ProposalKind::ParameterChange { call: vec![1, 2] };
        submit(P, change, 40 * QS).unwrap();
        assert_eq!(get(3).level, Level::Important);
    });
}

#[test]
fn the_proposer_must_pay_its_share_of_the_min_deposit() {
    Test::new().run(|| {
        // 0.334 × 10 QS = 3.34 QS, exactly.
        let share = 3_340_000_000_000;
        assert_eq!(submit(P, text(), share - 1), err(Error::DepositTooLow));
        assert_eq!(submit(P, text(), 0), err(Error::DepositTooLow));
        // Important: 0.334 × 100 QS.
        let spend = ProposalKind::CommunitySpend { to: X, amount: 1 };
        assert_eq!(
            submit(P, spend.clone(), 10 * share - 1),
            err(Error::DepositTooLow)
        );
        assert_eq!(pool(), 0);
        submit(P, text(), share).unwrap();
        submit(P, spend, 10 * share).unwrap();
        assert_eq!(pool(), 11 * share);
    });
}

#[test]
fn a_deposit_beyond_the_balance_is_refused_with_the_tokens_error() {
    Test::new().run(|| {
        let poor = numbered(1);
        pallet_tokens::endow(&poor, 4 * QS).unwrap();
        let r = submit(poor, text(), 5 * QS);
        assert!(
            matches!(r, Err(DispatchError::Module(m)) if m.index == pallet_tokens::PALLET_INDEX),
            "{r:?}"
        );
        assert!(Proposals::get(&0).is_none());
    });
}

#[test]
fn deposits_reaching_the_min_deposit_open_voting() {
    Test::new().run(|| {
        submit(P, text(), 5 * QS).unwrap();
        events();
        deposit(E, 0, 4 * QS).unwrap();
        assert_eq!(
            events(),
            vec![Event::Deposited {
                id: 0,
                who: E,
                amount: 4 * QS,
                total: 9 * QS
            }]
        );
        next_block();
        deposit(E, 0, QS / 2).unwrap();
        assert_eq!(get(0).depositors, 2, "a second deposit of E's adds to it");
        deposit(X, 0, QS).unwrap();
        let end = 2 + VOTING_PERIOD;
        assert_eq!(
            events(),
            vec![
                Event::Deposited {
                    id: 0,
                    who: E,
                    amount: QS / 2,
                    total: 19 * QS / 2
                },
                Event::Deposited {
                    id: 0,
                    who: X,
                    amount: QS,
                    total: 21 * QS / 2
                },
                Event::VotingStarted { id: 0, end },
            ]
        );
        let p = get(0);
        assert_eq!(
            (p.status, p.voting_start, p.voting_end, p.depositors),
            (ProposalStatus::Voting, Some(2), Some(end), 3)
        );
        assert_eq!(Deposits::get(&0, &E), Some(9 * QS / 2));
        assert_eq!(Live::get().unwrap(), vec![(end, 0)]);
        assert_eq!(deposit(X, 0, QS), err(Error::NotInDepositPeriod));
        assert_eq!(deposit(X, 7, QS), err(Error::NoProposal));
        assert_eq!(deposit(X, 0, 0), err(Error::NotInDepositPeriod));
        // A full initial deposit opens voting at once.
        let id = open(text());
        assert_eq!(get(id).status, ProposalStatus::Voting);
    });
}

#[test]
fn a_proposal_short_of_its_deposit_is_dropped_and_its_deposits_burned() {
    Test::new().run(|| {
        submit(P, text(), 5 * QS).unwrap();
        deposit(E, 0, 2 * QS).unwrap();
        assert_eq!(deposit(E, 0, 0), err(Error::DepositTooLow));
        advance_to(DEPOSIT_PERIOD);
        deposit(X, 0, QS).unwrap();
        events();
        next_block();
        assert_eq!(
            events(),
            vec![Event::Dropped {
                id: 0,
                burned: 8 * QS
            }]
        );
        let p = get(0);
        assert_eq!(
            (p.status, p.ended, p.tally, p.total_deposit),
            (
                ProposalStatus::Dropped,
                Some(1 + DEPOSIT_PERIOD),
                None,
                8 * QS
            )
        );
        assert_eq!((pool(), community()), (0, 8 * QS));
        assert_eq!(balance(&P), FUNDS - 5 * QS);
        assert_eq!(balance(&E), FUNDS - 2 * QS);
        assert!(Deposits::iter_prefix(&0).is_empty());
        assert_eq!(Live::get().unwrap(), vec![]);
        assert_eq!(Ended::get().unwrap(), vec![0]);
        assert_eq!(deposit(X, 0, QS), err(Error::NotInDepositPeriod));
    });
}

#[test]
fn a_refund_an_emptied_account_cannot_take_goes_to_the_community_pool() {
    Test::new().run(|| {
        submit(P, text(), 5 * QS).unwrap();
        let small = numbered(50);
        pallet_tokens::endow(&small, 2 * QS).unwrap();
        deposit(small, 0, 1_000).unwrap();
        let rest = balance(&small);
        pallet_tokens::transfer(&AssetId::Native, &small, &E, rest, None).unwrap();
        deposit(E, 0, 5 * QS).unwrap();
        vote(A, 0, VoteOption::Yes).unwrap();
        let t = tally(400 * QS, 0, 0, 0, 1_000 * QS);
        assert_eq!(
            end_voting(0),
            vec![
                Event::RefundFailed {
                    id: 0,
                    who: small,
                    amount: 1_000
                },
                Event::Passed { id: 0, tally: t },
            ]
        );
        assert_eq!((balance(&small), community(), pool()), (0, 1_000, 0));
        assert_eq!(balance(&P), FUNDS);
    });
}

// ---- votes ----

#[test]
fn a_voter_needs_bonded_stake_at_an_active_validator() {
    Test::new().run(|| {
        submit(P, text(), 5 * QS).unwrap();
        assert_eq!(vote(A, 0, VoteOption::Yes), err(Error::NotInVotingPeriod));
        let id = open(text());
        assert_eq!(vote(E, id, VoteOption::Yes), err(Error::NoStake));
        assert_eq!(vote(P, id, VoteOption::Yes), err(Error::NoStake));
        assert_eq!(vote(E, 9, VoteOption::Yes), err(Error::NoProposal));
        delegate(E, C, 5 * QS);
        vote(E, id, VoteOption::Yes).unwrap();
        // An owner's self-bond is its stake.
        vote(D, id, VoteOption::No).unwrap();
        assert_eq!(get(id).voters, 2);
        // A delegation only at an inactive validator gives no stake.
        delegate(X, B, 5 * QS);
        call(B, pallet_staking::Call::RevokeValidator).unwrap();
        pallet_staking::CurrentSet::mutate(|s| {
            s.as_mut().unwrap().retain(|m| m.owner != B);
        });
        assert_eq!(vote(X, id, VoteOption::Yes), err(Error::NoStake));
    });
}

#[test]
fn a_voter_may_change_its_vote_and_counts_once() {
    Test::new().run(|| {
        let id = open(text());
        events();
        vote(A, id, VoteOption::Yes).unwrap();
        vote(A, id, VoteOption::No).unwrap();
        assert_eq!(get(id).voters, 1);
        assert_eq!(Votes::get(&id, &A), Some(VoteOption::No));
        assert_eq!(
            events(),
            vec![
                Event::Voted {
                    id,
                    voter: A,
                    option: VoteOption::Yes
                },
                Event::Voted {
                    id,
                    voter: A,
                    option: VoteOption::No
                },
            ]
        );
        vote(B, id, VoteOption::Yes).unwrap();
        let ev = end_voting(id);
        let t = tally(300 * QS, 400 * QS, 0, 0, 1_000 * QS);
        assert_eq!(
            ev,
            vec![Event::Rejected {
                id,
                tally: t,
                burned: 0
            }]
        );
        assert!(Votes::iter_prefix(&id).is_empty(), "votes are deleted");
        assert_eq!(get(id).tally, Some(t));
    });
}

#[test]
fn votes_close_with_the_voting_period() {
    Test::new().run(|| {
        let id = open(text());
        let end = get(id).voting_end.unwrap();
        advance_to(end - 1);
        vote(A, id, VoteOption::Yes).unwrap();
        next_block();
        assert_eq!(get(id).status, ProposalStatus::Passed);
        assert_eq!(vote(B, id, VoteOption::No), err(Error::NotInVotingPeriod));
    });
}

// ---- outcomes ----

#[test]
fn a_passed_proposal_refunds_every_deposit() {
    Test::new().run(|| {
        submit(P, text(), 5 * QS).unwrap();
        deposit(E, 0, 5 * QS).unwrap();
        vote(A, 0, VoteOption::Yes).unwrap();
        vote(D, 0, VoteOption::Abstain).unwrap();
        let t = tally(400 * QS, 0, 100 * QS, 0, 1_000 * QS);
        assert_eq!(end_voting(0), vec![Event::Passed { id: 0, tally: t }]);
        assert_eq!(
            (balance(&P), balance(&E), pool(), community()),
            (FUNDS, FUNDS, 0, 0)
        );
        assert_eq!(get(0).status, ProposalStatus::Passed);
        assert_eq!(get(0).tally, Some(t));
    });
}

#[test]
fn a_missed_quorum_burns_the_burn_rate_of_the_deposits() {
    Test::new().run(|| {
        submit(P, text(), 5 * QS).unwrap();
        let odd = 5 * QS + 1;
        deposit(E, 0, odd).unwrap();
        // 300 of 1,000 QS voted: below 0.334.
        vote(B, 0, VoteOption::Yes).unwrap();
        let t = tally(300 * QS, 0, 0, 0, 1_000 * QS);
        // Half of each deposit, rounded down (E keeps the odd unit).
        let burned = 5 * QS / 2 + odd / 2;
        assert_eq!(
            end_voting(0),
            vec![Event::Rejected {
                id: 0,
                tally: t,
                burned
            }]
        );
        assert_eq!(balance(&P), FUNDS - 5 * QS / 2);
        assert_eq!(balance(&E), FUNDS - odd / 2);
        assert_eq!((pool(), community()), (0, burned));
        assert_eq!(get(0).status, ProposalStatus::Rejected);
    });
}

#[test]
fn a_veto_burns_every_deposit() {
    Test::new().run(|| {
        submit(P, text(), 5 * QS).unwrap();
        deposit(E, 0, 5 * QS).unwrap();
        vote(A, 0, VoteOption::Yes).unwrap();
        vote(B, 0, VoteOption::NoWithVeto).unwrap();
        let t = tally(400 * QS, 0, 0, 300 * QS, 1_000 * QS);
        assert_eq!(
            end_voting(0),
            vec![Event::Vetoed {
                id: 0,
                tally: t,
                burned: 10 * QS
            }]
        );
        assert_eq!((balance(&P), balance(&E)), (FUNDS - 5 * QS, FUNDS - 5 * QS));
        assert_eq!((pool(), community()), (0, 10 * QS));
        assert_eq!(get(0).status, ProposalStatus::Vetoed);
    });
}

#[test]
fn no_votes_or_only_abstentions_reject_with_a_full_refund() {
    Test::new().run(|| {
        let silent = open(text());
        let abstained = open(text());
        vote(A, abstained, VoteOption::Abstain).unwrap();
        vote(B, abstained, VoteOption::Abstain).unwrap();
        let ev = end_voting(silent);
        assert_eq!(
            ev,
            vec![
                Event::Rejected {
                    id: silent,
                    tally: tally(0, 0, 0, 0, 1_000 * QS),
                    burned: 0
                },
                Event::Rejected {
                    id: abstained,
                    tally: tally(0, 0, 700 * QS, 0, 1_000 * QS),
                    burned: 0
                },
            ]
        );
        assert_eq!((balance(&P), community()), (FUNDS, 0));
    });
}

#[test]
fn more_no_than_yes_rejects_with_a_full_refund() {
    Test::new().run(|| {
        let id = open(text());
        vote(A, id, VoteOption::No).unwrap();
        vote(B, id, VoteOption::Yes).unwrap();
        let t = tally(300 * QS, 400 * QS, 0, 0, 1_000 * QS);
        assert_eq!(
            end_voting(id),
            vec![Event::Rejected {
                id,
                tally: t,
                burned: 0
            }]
        );
        assert_eq!((balance(&P), community()), (FUNDS, 0));
    });
}

#[test]
fn a_missed_quorum_at_a_zero_burn_rate_refunds_everything() {
    Test::new().governance(r#""burnRate":"0""#).run(|| {
        let id = open(text());
        vote(D, id, VoteOption::Yes).unwrap();
        let t = tally(100 * QS, 0, 0, 0, 1_000 * QS);
        assert_eq!(
            end_voting(id),
            vec![Event::Rejected {
                id,
                tally: t,
                burned: 0
            }]
        );
        assert_eq!((balance(&P), community()), (FUNDS, 0));
    });
}

/// The shipped QOS chain compared `voted.Div(total)` (integers) with the
/// quorum: 0 unless every token voted, so this proposal, with 40 % of the
/// stake voting Yes, was rejected and half its deposit burned.
#[test]
fn regression_a_minority_turnout_above_the_quorum_passes() {
    Test::new().run(|| {
        let id = open(text());
        vote(A, id, VoteOption::Yes).unwrap();
        let t = tally(400 * QS, 0, 0, 0, 1_000 * QS);
        assert_eq!(t.voted() / t.total, 0, "QOS's quorum ratio");
        assert_eq!(end_voting(id), vec![Event::Passed { id, tally: t }]);
        assert_eq!((balance(&P), community()), (FUNDS, 0));
    });
}

// ---- boundaries (QOS rates: quorum 0.334, threshold 0.5, veto 0.334) ----

/// Runs one proposal with validators `bonds` (owners A, B, C, D in order)
/// voting `options`; returns how it ended and what was burned.
fn outcome(bonds: &[Balance], options: &[VoteOption]) -> (ProposalStatus, Balance) {
    let owners = [A, B, C, D];
    let v: Vec<(AccountId, Balance)> = owners.iter().copied().zip(bonds.iter().copied()).collect();
    let mut out = None;
    Test::new().validators(&v).run(|| {
        let id = open(text());
        for (o, opt) in owners.iter().zip(options) {
            vote(*o, id, *opt).unwrap();
        }
        end_voting(id);
        out = Some((get(id).status, community()));
    });
    out.unwrap()
}

#[test]
fn the_quorum_is_met_exactly_at_its_share_and_missed_one_unit_short() {
    use VoteOption::*;
    let burn = 5 * QS;
    // 334 of 1,000 QS voted: exactly the quorum.
    assert_eq!(
        outcome(&[334 * QS, 666 * QS], &[Yes]),
        (ProposalStatus::Passed, 0)
    );
    assert_eq!(
        outcome(&[334 * QS - 1, 666 * QS + 1], &[Yes]),
        (ProposalStatus::Rejected, burn)
    );
}

#[test]
fn the_threshold_must_be_exceeded_by_one_unit() {
    use VoteOption::*;
    // Yes / (voted − abstain) = 300 / 600 = 0.5 exactly: rejected.
    assert_eq!(
        outcome(&[300 * QS, 300 * QS, 400 * QS], &[Yes, No, Abstain]),
        (ProposalStatus::Rejected, 0)
    );
    assert_eq!(
        outcome(&[300 * QS + 1, 300 * QS, 400 * QS - 1], &[Yes, No, Abstain]),
        (ProposalStatus::Passed, 0)
    );
}

#[test]
fn the_veto_must_exceed_its_share_by_one_unit() {
    use VoteOption::*;
    // NoWithVeto / voted = 334 / 1,000 = 0.334 exactly: not vetoed.
    assert_eq!(
        outcome(&[666 * QS, 334 * QS], &[Yes, NoWithVeto]),
        (ProposalStatus::Passed, 0)
    );
    assert_eq!(
        outcome(&[666 * QS - 1, 334 * QS + 1], &[Yes, NoWithVeto]),
        (ProposalStatus::Vetoed, 10 * QS)
    );
}

// ---- voting power ----

#[test]
fn a_delegator_overrides_its_validator_for_exactly_its_delegation() {
    Test::new().run(|| {
        delegate(E, A, 100 * QS);
        delegate(E, B, 50 * QS);
        delegate(X, A, 60 * QS);
        let id = open(text());
        // A: 560 QS, of which E 100 and X 60; B: 350 QS, of which E 50.
        vote(A, id, VoteOption::Yes).unwrap();
        vote(E, id, VoteOption::No).unwrap();
        // B is silent: only E's 50 QS count there. X is silent: its 60 QS
        // go with A's vote.
        let t = tally(460 * QS, 150 * QS, 0, 0, 1_210 * QS);
        let live = api::tally(id).unwrap();
        assert_eq!((live.tally, live.passes, live.is_final), (t, true, false));
        assert_eq!(
            api::votes(id),
            vec![(A, VoteOption::Yes), (E, VoteOption::No)]
        );
        assert_eq!(end_voting(id), vec![Event::Passed { id, tally: t }]);
        let fin = api::tally(id).unwrap();
        assert_eq!((fin.tally, fin.passes, fin.is_final), (t, true, true));
        assert_eq!(api::votes(id), vec![]);
    });
}

#[test]
fn only_active_validators_count_at_the_tally() {
    Test::new().run(|| {
        delegate(E, B, 100 * QS);
        let id = open(text());
        vote(B, id, VoteOption::Yes).unwrap();
        vote(E, id, VoteOption::Yes).unwrap();
        vote(A, id, VoteOption::No).unwrap();
        vote(D, id, VoteOption::No).unwrap();
        // B stops being active before the end: its 400 QS (E's 100 among
        // them) leave the total, and its and E's Yes count nothing.
        call(B, pallet_staking::Call::RevokeValidator).unwrap();
        let t = tally(0, 500 * QS, 0, 0, 700 * QS);
        assert_eq!(
            end_voting(id),
            vec![Event::Rejected {
                id,
                tally: t,
                burned: 0
            }]
        );
    });
}

#[test]
fn the_tally_reads_the_stake_at_its_block() {
    Test::new().run(|| {
        let id = open(text());
        vote(D, id, VoteOption::Yes).unwrap();
        vote(C, id, VoteOption::No).unwrap();
        // D bonds more after voting: 400 against 200 at the end.
        call(D, pallet_staking::Call::Bond { amount: 300 * QS }).unwrap();
        let t = tally(400 * QS, 200 * QS, 0, 0, 1_300 * QS);
        assert_eq!(end_voting(id), vec![Event::Passed { id, tally: t }]);
    });
}

/// The tally as the module doc states it, by brute force: every voter's
/// delegation at every active validator looked up.
fn oracle(votes: &std::collections::BTreeMap<AccountId, VoteOption>) -> Tally {
    let mut t = Tally::default();
    for owner in [A, B, C, D] {
        let v = pallet_staking::Validators::get(&owner).unwrap();
        if v.status != pallet_staking::Status::Active {
            continue;
        }
        t.total += v.tokens;
        let mut deducted = 0;
        for (who, option) in votes.iter().filter(|(w, _)| **w != owner) {
            let tokens = pallet_staking::delegation_tokens(&owner, who);
            t.add(*option, tokens);
            deducted += tokens;
        }
        if let Some(option) = votes.get(&owner) {
            t.add(*option, v.tokens - deducted);
        }
    }
    t
}

#[test]
fn walking_delegations_and_looking_them_up_count_the_same() {
    Test::new().run(|| {
        for n in 0..40u32 {
            let who = numbered(n);
            pallet_tokens::endow(&who, 100 * QS).unwrap();
            let validator = if n < 6 { A } else { B };
            delegate(who, validator, (n as u128 + 1) * QS);
        }
        let id = open(text());
        vote(numbered(0), id, VoteOption::No).unwrap();
        vote(A, id, VoteOption::Yes).unwrap();
        // 2 votes: at A (7 delegations) and B (35) each voter is looked up
        // (1 and 2 lookups); C's and D's single ones are walked.
        let few = proposal::live_tally(id);
        assert_eq!((few.looked_up, few.walked), (1 + 2, 1 + 1));
        assert_eq!(few.tally, oracle(&tally::votes_of(id)));
        for n in 1..22u32 {
            let option = [VoteOption::Yes, VoteOption::No, VoteOption::Abstain][n as usize % 3];
            vote(numbered(n), id, option).unwrap();
        }
        // 23 votes: A's 7 delegations are walked, B's 35 looked up (23).
        let many = proposal::live_tally(id);
        assert_eq!((many.looked_up, many.walked), (23, 7 + 1 + 1));
        assert_eq!(many.tally, oracle(&tally::votes_of(id)));
        assert_eq!(many.tally.total, 1_000 * QS + 820 * QS);
        assert_eq!(many.votes, 23);
        assert_eq!(many.validators, 4);
    });
}

// ---- enactment ----

#[test]
fn a_community_spend_pays_from_the_pool_or_fails_moving_nothing() {
    Test::new().run(|| {
        pallet_tokens::mint(&pallet_staking::community_account(), 50 * QS).unwrap();
        let payee = numbered(7);
        let ok = open(ProposalKind::CommunitySpend {
            to: payee,
            amount: 30 * QS,
        });
        let too_much = open(ProposalKind::CommunitySpend {
            to: payee,
            amount: 30 * QS,
        });
        vote(A, ok, VoteOption::Yes).unwrap();
        vote(A, too_much, VoteOption::Yes).unwrap();
        let ev = end_voting(ok);
        let t = tally(400 * QS, 0, 0, 0, 1_000 * QS);
        let error = ev
            .iter()
            .find_map(|e| match e {
                Event::EnactmentFailed { id, error } if *id == too_much => Some(*error),
                _ => None,
            })
            .expect("the second spend failed");
        assert_eq!(
            ev,
            vec![
                Event::Passed { id: ok, tally: t },
                Event::Enacted {
                    id: ok,
                    ok: true,
                    error: None
                },
                Event::Passed {
                    id: too_much,
                    tally: t
                },
                Event::EnactmentFailed {
                    id: too_much,
                    error
                },
            ]
        );
        assert!(
            matches!(error, DispatchError::Module(m) if m.index == pallet_tokens::PALLET_INDEX)
        );
        assert_eq!((balance(&payee), community()), (30 * QS, 20 * QS));
        assert_eq!(balance(&P), FUNDS, "deposits refunded either way");
        assert_eq!(get(too_much).status, ProposalStatus::Passed);
    });
}

#[test]
fn a_passed_upgrade_authorises_its_code_hash() {
    Test::new().run(|| {
        let hash = H256([0xab; 32]);
        let id = open(ProposalKind::RuntimeUpgrade { code_hash: hash });
        assert_eq!(get(id).level, Level::Critical);
        vote(A, id, VoteOption::Yes).unwrap();
        assert_eq!(pallet_system::code::authorized_upgrade(), None);
        let ev = end_voting(id);
        assert_eq!(pallet_system::code::authorized_upgrade(), Some(hash));
        assert_eq!(
            ev.last(),
            Some(&Event::Enacted {
                id,
                ok: true,
                error: None
            })
        );
        // A rejected one authorises nothing.
        let other = open(ProposalKind::RuntimeUpgrade {
            code_hash: H256([1; 32]),
        });
        vote(A, other, VoteOption::No).unwrap();
        end_voting(other);
        assert_eq!(pallet_system::code::authorized_upgrade(), Some(hash));
    });
}

#[test]
fn passed_parameter_changes_queue_their_calls_for_the_runtime() {
    Test::new().run(|| {
        let first = open(ProposalKind::ParameterChange {
            call: vec![1, 2, 3],
        });
        next_block();
        let second = open(ProposalKind::ParameterChange { call: vec![4] });
        let rejected = open(ProposalKind::ParameterChange { call: vec![5] });
        for id in [first, second] {
            vote(A, id, VoteOption::Yes).unwrap();
        }
        vote(A, rejected, VoteOption::No).unwrap();
        let ev = end_voting(first);
        assert!(ev.contains(&Event::EnactmentQueued { id: first }));
        assert_eq!(take_enactments(5), vec![(first, vec![1, 2, 3])]);
        let ev = end_voting(rejected);
        assert!(ev.contains(&Event::EnactmentQueued { id: second }));
        assert!(!ev.contains(&Event::EnactmentQueued { id: rejected }));
        assert_eq!(take_enactments(0), vec![]);
        assert_eq!(take_enactments(5), vec![(second, vec![4])]);
        assert_eq!(take_enactments(5), vec![], "taken once");
        note_enacted(first, Ok(()));
        note_enacted(second, Err(DispatchError::BadOrigin));
        assert_eq!(
            events(),
            vec![
                Event::Enacted {
                    id: first,
                    ok: true,
                    error: None
                },
                Event::Enacted {
                    id: second,
                    ok: false,
                    error: Some(DispatchError::BadOrigin)
                },
            ]
        );
    });
}

#[test]
fn take_enactments_returns_the_oldest_first() {
    Test::new().run(|| {
        let ids: Vec<ProposalId> = (0..3)
            .map(|_| open(ProposalKind::ParameterChange { call: vec![7] }))
            .collect();
        for id in &ids {
            vote(A, *id, VoteOption::Yes).unwrap();
        }
        end_voting(ids[0]);
        next_block();
        assert_eq!(EnactmentQueue::get().unwrap(), ids);
        let taken: Vec<ProposalId> = take_enactments(2).into_iter().map(|(id, _)| id).collect();
        assert_eq!(taken, ids[..2].to_vec());
        assert_eq!(EnactmentQueue::get().unwrap(), ids[2..].to_vec());
        take_enactments(1);
    });
}

#[test]
fn a_full_enactment_queue_fails_the_enactment() {
    Test::new().run(|| {
        let waiting: Vec<ProposalId> = (1_000..1_000 + u64::from(MAX_ENACTMENTS)).collect();
        for id in &waiting {
            Enactments::insert(id, &vec![0u8]);
        }
        EnactmentQueue::put(&waiting);
        let id = open(ProposalKind::ParameterChange { call: vec![1] });
        vote(A, id, VoteOption::Yes).unwrap();
        let ev = end_voting(id);
        assert_eq!(
            ev.last(),
            Some(&Event::EnactmentFailed {
                id,
                error: Error::TooManyEnactments.into()
            })
        );
        assert!(Enactments::get(&id).is_none());
        take_enactments(MAX_ENACTMENTS);
    });
}

// ---- bounds ----

#[test]
fn proposals_are_checked_and_bounded() {
    Test::new().run(|| {
        let with = |title: Vec<u8>, description: Vec<u8>, kind| {
            call(
                P,
                Call::Submit {
                    title,
                    description,
                    kind,
                    deposit: 10 * QS,
                },
            )
        };
        assert_eq!(with(vec![], vec![], text()), err(Error::BadTitle));
        assert_eq!(with(vec![b't'; 129], vec![], text()), err(Error::BadTitle));
        assert_eq!(
            with(vec![b't'], vec![b'd'; 2_049], text()),
            err(Error::DescriptionTooLong)
        );
        let call_of = |n| ProposalKind::ParameterChange { call: vec![0; n] };
        let big = 100 * QS;
        assert_eq!(submit(P, call_of(0), big), err(Error::BadCall));
        assert_eq!(submit(P, call_of(4_097), big), err(Error::BadCall));
        let nothing = ProposalKind::CommunitySpend { to: X, amount: 0 };
        assert_eq!(submit(P, nothing, big), err(Error::BadSpend));
        for to in [deposit_account(), pallet_staking::community_account()] {
            let to_a_pool = ProposalKind::CommunitySpend { to, amount: QS };
            assert_eq!(submit(P, to_a_pool, big), err(Error::BadSpend));
        }
        with(vec![b't'; 128], vec![b'd'; 2_048], text()).unwrap();
        submit(P, call_of(4_096), big).unwrap();
        for _ in 2..MAX_LIVE {
            submit(P, text(), 5 * QS).unwrap();
        }
        assert_eq!(submit(P, text(), 5 * QS), err(Error::TooManyProposals));
        // A proposal ending frees its place.
        advance_to(get(0).voting_end.unwrap());
        submit(P, text(), 5 * QS).unwrap();
    });
}

#[test]
fn depositors_are_bounded() {
    Test::new().run(|| {
        submit(P, text(), 4 * QS).unwrap();
        for n in 1..MAX_DEPOSITORS {
            let who = numbered(n);
            pallet_tokens::endow(&who, 2 * QS).unwrap();
            deposit(who, 0, 1_000).unwrap();
        }
        let late = numbered(MAX_DEPOSITORS);
        pallet_tokens::endow(&late, 2 * QS).unwrap();
        assert_eq!(deposit(late, 0, QS), err(Error::TooManyDepositors));
        // One already in may add more.
        deposit(numbered(1), 0, 1_000).unwrap();
        // The end refunds or burns for every one of them.
        advance_to(get(0).deposit_end);
        assert_eq!(community(), 4 * QS + 128 * 1_000);
        assert_eq!(pool(), 0);
    });
}

#[test]
fn votes_are_bounded_but_owners_of_active_validators_may_always_vote() {
    Test::new().run(|| {
        let id = open(text());
        // Fill all but one place with (stakeless) votes written directly.
        for n in 0..MAX_VOTES - 1 {
            Votes::insert(&id, &numbered(n), &VoteOption::No);
        }
        Proposals::mutate(&id, |p| p.as_mut().unwrap().voters = MAX_VOTES - 1);
        delegate(E, C, 5 * QS);
        delegate(X, C, 5 * QS);
        vote(E, id, VoteOption::Yes).unwrap();
        assert_eq!(vote(X, id, VoteOption::Yes), err(Error::TooManyVotes));
        vote(E, id, VoteOption::No).unwrap();
        vote(A, id, VoteOption::Yes).unwrap();
        vote(B, id, VoteOption::Abstain).unwrap();
        assert_eq!(get(id).voters, MAX_VOTES + 2);
        end_voting(id);
        assert!(Votes::iter().is_empty(), "votes are deleted at the end");
        let t = get(id).tally.unwrap();
        assert_eq!((t.yes, t.no, t.abstain), (400 * QS, 5 * QS, 300 * QS));
    });
}

#[test]
fn at_most_max_endings_end_in_a_block_and_their_weight_is_charged() {
    Test::new().run(|| {
        let ids: Vec<ProposalId> = (0..MAX_ENDINGS_PER_BLOCK + 2)
            .map(|_| open(text()))
            .collect();
        let end = get(ids[0]).voting_end.unwrap();
        advance_to(end);
        let used = pallet_system::BlockWeight::get().unwrap_or(0);
        let one = proposal::ending_weight(
            1,
            &tally::Count {
                validators: 4,

                ..Default::default()
            },
        );
        assert_eq!(used, u64::from(MAX_ENDINGS_PER_BLOCK) * one);
        let waiting = &ids[MAX_ENDINGS_PER_BLOCK as usize..];
        for id in waiting {
            assert_eq!(get(*id).status, ProposalStatus::Voting, "waits");
            // Its period is over: no more votes.
            assert_eq!(vote(A, *id, VoteOption::Yes), err(Error::NotInVotingPeriod));
        }
        next_block();
        for id in waiting {
            assert_eq!(
                (get(*id).status, get(*id).ended),
                (ProposalStatus::Rejected, Some(end + 1))
            );
        }
        next_block();
        assert_eq!(
            pallet_system::BlockWeight::get(),
            None,
            "a block with nothing due is charged nothing"
        );
    });
}

#[test]
fn endings_beyond_the_first_wait_when_their_bound_exceeds_the_budget() {
    Test::new().run(|| {
        // 133 delegations at each validator: more than half the votes, so
        // each vote is looked up at each validator, the dearest tally.
        for (i, v) in [A, B, C, D].iter().enumerate() {
            for n in 0..132u32 {
                let who = numbered(10_000 * (i as u32 + 1) + n);
                pallet_tokens::endow(&who, 10 * QS).unwrap();
                pallet_staking::stake::delegate(&who, v, QS, Some(false)).unwrap();
            }
        }
        let voters = MAX_VOTES + 4;
        let ids: Vec<ProposalId> = (0..MAX_ENDINGS_PER_BLOCK).map(|_| open(text())).collect();
        for id in &ids {
            for n in 0..voters {
                Votes::insert(id, &numbered(n), &VoteOption::No);
            }
            Proposals::mutate(id, |p| p.as_mut().unwrap().voters = voters);
        }
        let bound = proposal::ending_bound(&get(ids[0]), 4);
        let fit = (MAX_ENDING_WEIGHT / bound) as usize;
        assert!((2..ids.len()).contains(&fit), "{fit}: the budget binds");
        let c = proposal::live_tally(ids[0]);
        assert_eq!((c.looked_up, c.walked), (4 * voters, 0));
        assert_eq!(
            proposal::ending_weight(1, &c),
            bound,
            "the bound is tight here"
        );
        advance_to(get(ids[0]).voting_end.unwrap());
        let ended = ids.iter().filter(|id| !get(**id).status.is_live()).count();
        assert_eq!(ended, fit);
        assert_eq!(pallet_system::BlockWeight::get(), Some(fit as u64 * bound));
        next_block();
        assert!(ids.iter().all(|id| !get(*id).status.is_live()));
    });
}

#[test]
fn ended_proposals_are_kept_up_to_the_bound_oldest_pruned_first() {
    Test::new().run(|| {
        let mut submitted = 0u64;
        while submitted < u64::from(MAX_ENDED) + 10 {
            while Live::get().unwrap_or_default().len() < MAX_LIVE as usize {
                submit(P, text(), 4 * QS).unwrap();
                submitted += 1;
            }
            advance_to(number() + DEPOSIT_PERIOD + MAX_LIVE / MAX_ENDINGS_PER_BLOCK);
        }
        advance_to(number() + DEPOSIT_PERIOD + MAX_LIVE / MAX_ENDINGS_PER_BLOCK);
        let ended = Ended::get().unwrap();
        assert_eq!(ended.len(), MAX_ENDED as usize);
        let oldest = submitted - u64::from(MAX_ENDED);
        assert_eq!(ended.first(), Some(&oldest));
        assert!(Proposals::get(&(oldest - 1)).is_none());
        assert!(Proposals::get(&oldest).is_some());
        assert_eq!(api::proposals().len(), MAX_ENDED as usize);
    });
}

#[test]
fn refused_calls_change_nothing() {
    Test::new().run(|| {
        let id = open(text());
        submit(P, text(), 5 * QS).unwrap();
        let before = pallet_system::testing::snapshot();
        let refused: Vec<(AccountId, Call)> = vec![
            (
                P,
                Call::Submit {
                    title: vec![],
                    description: vec![],
                    kind: text(),
                    deposit: 10 * QS,
                },
            ),
            (
                numbered(3),
                Call::Submit {
                    title: vec![1],
                    description: vec![],
                    kind: text(),
                    deposit: 10 * QS,
                },
            ),
            (E, Call::Deposit { id, amount: QS }),
            (
                E,
                Call::Deposit {
                    id: 1,
                    amount: FUNDS * 2,
                },
            ),
            (
                E,
                Call::Vote {
                    id,
                    option: VoteOption::Yes,
                },
            ),
            (
                A,
                Call::Vote {
                    id: 1,
                    option: VoteOption::Yes,
                },
            ),
        ];
        for (who, c) in refused {
            assert!(call(who, c.clone()).is_err(), "{c:?}");
        }
        assert!(before == pallet_system::testing::snapshot());
        assert_eq!(
            pallet_system::testing::dispatch(Origin::Root, Call::Deposit { id: 1, amount: QS }),
            Err(DispatchError::BadOrigin)
        );
    });
}

// ---- views ----

#[test]
fn the_views_list_live_and_ended_proposals() {
    Test::new().run(|| {
        submit(P, text(), 5 * QS).unwrap();
        let voting = open(text());
        assert_eq!(
            api::tally(0),
            None,
            "nothing to tally in the deposit period"
        );
        assert_eq!(api::tally(9), None);
        let live = api::tally(voting).unwrap();
        assert_eq!(
            (live.tally, live.decision.outcome, live.passes),
            (
                tally(0, 0, 0, 0, 1_000 * QS),
                rules::Outcome::Rejected,
                false
            )
        );
        vote(A, voting, VoteOption::NoWithVeto).unwrap();
        let live = api::tally(voting).unwrap();
        assert_eq!(
            (live.decision.outcome, live.decision.burn),
            (rules::Outcome::Vetoed, BILLION)
        );
        advance_to(get(0).deposit_end);
        let all = api::proposals();
        assert_eq!(
            all.iter()
                .map(|v| (v.id, v.proposal.status))
                .collect::<Vec<_>>(),
            vec![(0, ProposalStatus::Dropped), (1, ProposalStatus::Voting)]
        );
        assert_eq!(api::proposal(1), Some(get(1)));
        assert_eq!(api::proposal(2), None);
        assert_eq!(api::tally(0), None, "dropped");
    });
}

// ---- invariants ----

mod prop {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Submit(u8, u8, u8),
        Deposit(u8, u64, u8),
        Vote(u8, u64, u8),
        Blocks(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..7, 0u8..4, 0u8..200).prop_map(|(w, k, d)| Op::Submit(w, k, d)),
            (0u8..7, 0u64..8, 0u8..200).prop_map(|(w, i, a)| Op::Deposit(w, i, a)),
            (0u8..7, 0u64..8, 0u8..4).prop_map(|(w, i, o)| Op::Vote(w, i, o)),
            (1u8..12).prop_map(Op::Blocks),
        ]
    }

    const WHO: [AccountId; 7] = [A, B, C, D, E, X, P];

    fn kind() -> impl Strategy<Value = ProposalKind> {
        prop_oneof![
            Just(ProposalKind::Text),
            proptest::collection::vec(any::<u8>(), 0..64)
                .prop_map(|call| ProposalKind::ParameterChange { call }),
            (any::<[u8; 32]>(), any::<u128>()).prop_map(|(to, amount)| {
                ProposalKind::CommunitySpend {
                    to: AccountId(to),
                    amount,
                }
            }),
            any::<[u8; 32]>().prop_map(|h| ProposalKind::RuntimeUpgrade { code_hash: H256(h) }),
        ]
    }

    proptest! {
        /// Calls and stored proposals decode to what was encoded, and
        /// nothing else decodes from a truncated encoding.
        #[test]
        fn encodings_round_trip(
            title in proptest::collection::vec(any::<u8>(), 0..40),
            kind in kind(),
            deposit: u128, id: u64, option in 0u8..4,
        ) {
            let option = VoteOption::decode(&mut &[option][..]).unwrap();
            let calls = [
                Call::Submit { title: title.clone(), description: title.clone(), kind: kind.clone(), deposit },
                Call::Deposit { id, amount: deposit },
                Call::Vote { id, option },
            ];
            for c in calls {
                let raw = c.encode();
                prop_assert_eq!(Call::decode(&mut &raw[..]).unwrap(), c);
                prop_assert!(<Call as codec::DecodeAll>::decode_all(&mut &raw[..raw.len() - 1]).is_err());
            }
            let p = Proposal {
                proposer: A, title, description: vec![], kind, level: Level::Important,
                status: ProposalStatus::Rejected, submitted: 1, deposit_end: 2,
                voting_start: Some(2), voting_end: Some(3), total_deposit: deposit,
                depositors: 1, voters: 2, tally: Some(Tally { yes: deposit, ..Tally::default() }),
                ended: Some(3),
            };
            prop_assert_eq!(Proposal::decode(&mut &p.encode()[..]).unwrap(), p);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Whatever is submitted, deposited, voted and ended, the deposit
        /// account holds exactly the live proposals' deposits (and every
        /// other invariant holds), after every step.
        #[test]
        fn deposits_always_sum_to_the_deposit_account(ops in proptest::collection::vec(op(), 1..40)) {
            Test::new().run(|| {
                delegate(E, A, 10 * QS);
                pallet_tokens::mint(&pallet_staking::community_account(), 100 * QS).unwrap();
                for o in ops {
                    let _ = match o {
                        Op::Submit(w, k, d) => {
                            let kind = match k {
                                0 => ProposalKind::Text,
                                1 => ProposalKind::ParameterChange { call: vec![k] },
                                2 => ProposalKind::CommunitySpend { to: X, amount: u128::from(d) * QS },
                                _ => ProposalKind::RuntimeUpgrade { code_hash: H256([d; 32]) },
                            };
                            submit(WHO[w as usize], kind, u128::from(d) * QS)
                        }
                        Op::Deposit(w, i, a) => deposit(WHO[w as usize], i, u128::from(a) * QS / 3),
                        Op::Vote(w, i, o) => {
                            let option = [VoteOption::Yes, VoteOption::No, VoteOption::Abstain, VoteOption::NoWithVeto][o as usize];
                            vote(WHO[w as usize], i, option)
                        }
                        Op::Blocks(n) => {
                            advance_to(number() + BlockNumber::from(n));
                            Ok(())
                        }
                    };
                    let live: Balance = Proposals::iter()
                        .into_iter()
                        .filter(|(_, p)| p.status.is_live())
                        .map(|(_, p)| p.total_deposit)
                        .sum();
                    assert_eq!(live, pool());
                    check_all();
                }
                take_enactments(MAX_ENACTMENTS);
            });
        }
    }
}
