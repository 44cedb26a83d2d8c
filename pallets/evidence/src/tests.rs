//! Unit and property tests with real signatures (sr25519 and hybrid). Every
//! test runs through [`Test::run`], which checks `try_state` at the end;
//! every report goes through [`report`], which dispatches as the executive
//! does and checks that a refused report wrote nothing at all.

use super::*;
use proptest::prelude::*;
use qstack_consensus_primitives::{Proposal, SignedProposal, SignedVote, Vote, VoteKind};
use qstack_core::{KeyScheme, Pair, H256};
use qstack_io::TestExternalities;
use qstack_runtime_primitives::Digest;
use qstack_support::Origin;
use std::sync::OnceLock;

const GENESIS: H256 = H256([0x6e; 32]);

/// Validator pairs by index: sr25519, hybrid, sr25519 (hybrid key
/// generation is slow, so they are made once).
fn pairs() -> &'static [Pair] {
    static PAIRS: OnceLock<Vec<Pair>> = OnceLock::new();
    PAIRS.get_or_init(|| {
        vec![
            Pair::from_seed(KeyScheme::Sr25519, &[1; 32]),
            Pair::from_seed(KeyScheme::Hybrid, &[2; 32]),
            Pair::from_seed(KeyScheme::Sr25519, &[3; 32]),
        ]
    })
}

const SR: u32 = 0;
const HYBRID: u32 = 1;

fn pair(v: u32) -> &'static Pair {
    &pairs()[v as usize]
}

fn account(v: u32) -> AccountId {
    pair(v).account_id()
}

fn vote(v: u32, height: Height, round: Round, value: Option<u8>) -> Vote {
    Vote {
        height,
        round,
        kind: VoteKind::Prevote,
        value: value.map(|b| H256([b; 32])),
        validator: v,
    }
}

fn signed(v: u32, vote: Vote) -> SignedVote {
    SignedVote::sign(pair(v), &GENESIS, vote)
}

/// Validator `v` prevoting blocks 1 and 2 at (height, round 0).
fn double_vote(v: u32, height: Height) -> Evidence {
    Evidence::Votes(
        signed(v, vote(v, height, 0, Some(1))),
        signed(v, vote(v, height, 0, Some(2))),
    )
}

fn double_proposal(v: u32, height: Height, round: Round) -> Evidence {
    let p = |b: u8| Proposal {
        height,
        round,
        value: H256([b; 32]),
        valid_round: None,
        proposer: v,
    };
    Evidence::Proposals(
        SignedProposal::sign(pair(v), &GENESIS, p(7)),
        SignedProposal::sign(pair(v), &GENESIS, p(8)),
    )
}

/// A fluent test scenario: the validator set and the block being built.
struct Test {
    validators: Vec<(PublicKey, u64)>,
    block: BlockNumber,
}

impl Test {
    /// Every validator of [`pairs`] with power 1, at block 10.
    fn new() -> Self {
        Self {
            validators: pairs().iter().map(|p| (p.public(), 1)).collect(),
            block: 10,
        }
    }

    /// No validators (a chain without BFT).
    fn no_validators(mut self) -> Self {
        self.validators.clear();
        self
    }

    /// Builds block `n`.
    fn at(mut self, n: BlockNumber) -> Self {
        self.block = n;
        self
    }

    /// Runs `f` inside block `self.block` (genesis hash known), then the
    /// invariant checks (System's base builder).
    fn run(self, f: impl FnOnce()) {
        let Test { validators, block } = self;
        pallet_system::testing::Scenario::new()
            .with(move || {
                put_set(&validators);
                pallet_system::BlockHash::insert(&0, &GENESIS);
                start_block(block);
            })
            .run::<Pallet>(f)
    }
}

/// The staking pallet's set from height 1 on, as its genesis keeps it
/// (owners: the keys' accounts); none for an empty list.
fn put_set(validators: &[(PublicKey, u64)]) {
    if validators.is_empty() {
        return;
    }
    let members: Vec<pallet_staking::SetMember> = validators
        .iter()
        .map(|(public, power)| pallet_staking::SetMember {
            owner: public.account_id(),
            public: public.clone(),
            power: *power,
        })
        .collect();
    pallet_staking::block::keep_set(1, &members);
}

/// Ends the current block and starts block `n` as the executive does.
fn start_block(n: BlockNumber) {
    on_finalize();
    pallet_system::initialize(n, H256([n as u8; 32]), &Digest::default());
    pallet_system::BlockHash::insert(&0, &GENESIS);
    on_initialize(n);
    take_events();
}

/// This pallet's events since the last call, oldest first (then forgets them).
fn take_events() -> Vec<Event> {
    pallet_system::testing::take_events_of::<Pallet>()
}

/// Dispatches a report as the executive does (inherent origin, in a storage
/// transaction an error rolls back); a refused report must not have
/// written anything even before the rollback.
fn report(evidence: Vec<Evidence>) -> Result<(), DispatchError> {
    let before = qstack_io::storage::root();
    qstack_io::storage::start_transaction();
    let r = pallet_system::testing::dispatch(Origin::None, Call::Report { evidence });
    if r.is_ok() {
        qstack_io::storage::commit_transaction();
    } else {
        assert_eq!(before, qstack_io::storage::root(), "refused report wrote");
        qstack_io::storage::rollback_transaction();
    }
    r
}

fn err(e: Error) -> Result<(), DispatchError> {
    Err(e.into())
}

fn equivocation(v: u32, height: Height, round: Round, step: Step) -> Event {
    Event::Equivocation {
        offender: account(v),
        validator: v,
        height,
        round,
        step,
    }
}

#[test]
fn a_double_vote_is_recorded_with_an_event_in_both_schemes() {
    Test::new().run(|| {
        assert_eq!(
            report(vec![double_vote(SR, 9), double_vote(HYBRID, 10)]),
            Ok(())
        );
        assert_eq!(
            take_events(),
            vec![
                equivocation(SR, 9, 0, Step::Prevote),
                equivocation(HYBRID, 10, 0, Step::Prevote)
            ]
        );
        let recorded = offence(10, &account(HYBRID), 0, Step::Prevote).expect("recorded");
        assert_eq!(
            recorded,
            Offence {
                validator: HYBRID,
                height: 10,
                round: 0,
                step: Step::Prevote,
                values: (Some(H256([1; 32])), Some(H256([2; 32]))),
            }
        );
        assert_eq!(OffenceCount::get(), Some(2));
        assert_eq!(
            offences_since(0),
            vec![
                (
                    account(SR),
                    offence(9, &account(SR), 0, Step::Prevote).unwrap()
                ),
                (account(HYBRID), recorded.clone()),
            ]
        );
        assert_eq!(offences_since(10), vec![(account(HYBRID), recorded)]);
    });
}

#[test]
fn a_double_proposal_is_recorded() {
    Test::new().run(|| {
        assert_eq!(report(vec![double_proposal(HYBRID, 8, 3)]), Ok(()));
        assert_eq!(
            take_events(),
            vec![equivocation(HYBRID, 8, 3, Step::Propose)]
        );
        let o = offence(8, &account(HYBRID), 3, Step::Propose).expect("recorded");
        assert_eq!(o.values, (Some(H256([7; 32])), Some(H256([8; 32]))));
    });
}

#[test]
fn messages_that_do_not_conflict_are_refused_with_their_reason() {
    Test::new().run(|| {
        let a = signed(SR, vote(SR, 9, 0, Some(1)));
        let same = Evidence::Votes(a.clone(), a.clone());
        assert_eq!(report(vec![same]), err(Error::NotConflicting));
        let other_round = Evidence::Votes(a.clone(), signed(SR, vote(SR, 9, 1, Some(2))));
        assert_eq!(report(vec![other_round]), err(Error::DifferentRounds));
        let other_height = Evidence::Votes(a.clone(), signed(SR, vote(SR, 8, 0, Some(2))));
        assert_eq!(report(vec![other_height]), err(Error::DifferentHeights));
        let mut precommit = vote(SR, 9, 0, Some(2));
        precommit.kind = VoteKind::Precommit;
        let other_step = Evidence::Votes(a.clone(), signed(SR, precommit));
        assert_eq!(report(vec![other_step]), err(Error::DifferentSteps));
        let other_signer = Evidence::Votes(a, signed(2, vote(2, 9, 0, Some(2))));
        assert_eq!(report(vec![other_signer]), err(Error::NotSameSigner));
        assert_eq!(take_events(), vec![]);
        assert_eq!(OffenceCount::get(), None);
    });
}

#[test]
fn unknown_validators_and_bad_signatures_are_refused() {
    Test::new().run(|| {
        // Index 5 is outside the set of 3.
        let e = Evidence::Votes(
            signed(SR, vote(5, 9, 0, Some(1))),
            signed(SR, vote(5, 9, 0, Some(2))),
        );
        assert_eq!(report(vec![e]), err(Error::UnknownValidator));
        // Validator 2's messages signed with validator 0's key.
        let e = Evidence::Votes(
            signed(SR, vote(2, 9, 0, Some(1))),
            signed(SR, vote(2, 9, 0, Some(2))),
        );
        assert_eq!(report(vec![e]), err(Error::BadSignature));
        // Signed for another chain.
        let other = |b| SignedVote::sign(pair(HYBRID), &H256([1; 32]), vote(HYBRID, 9, 0, b));
        let e = Evidence::Votes(other(Some(1)), other(None));
        assert_eq!(report(vec![e]), err(Error::BadSignature));
        // One good piece does not carry a bad one.
        let mut forged = double_vote(HYBRID, 9);
        if let Evidence::Votes(_, b) = &mut forged {
            b.vote.value = Some(H256([3; 32]));
        }
        assert_eq!(
            report(vec![double_vote(SR, 9), forged]),
            err(Error::BadSignature)
        );
        assert_eq!(OffenceCount::get(), None);
    });
    Test::new().no_validators().run(|| {
        assert_eq!(
            report(vec![double_vote(SR, 9)]),
            err(Error::UnknownValidator)
        );
    });
}

#[test]
fn heights_must_be_within_the_window() {
    let now: BlockNumber = 2_000;
    Test::new().at(now).run(|| {
        let now = Height::from(now);
        assert_eq!(
            report(vec![double_vote(SR, now + 1)]),
            err(Error::FutureHeight)
        );
        assert_eq!(
            report(vec![double_vote(SR, now - MAX_EVIDENCE_AGE - 1)]),
            err(Error::TooOld)
        );
        // Both ends of the window are fine.
        assert_eq!(
            report(vec![
                double_vote(SR, now),
                double_vote(HYBRID, now - MAX_EVIDENCE_AGE)
            ]),
            Ok(())
        );
        assert_eq!(take_events().len(), 2);
    });
}

#[test]
fn an_offence_is_recorded_once() {
    Test::new().run(|| {
        assert_eq!(report(vec![double_vote(SR, 9)]), Ok(()));
        take_events();
        // Again in the next block, with the messages swapped, or as other
        // conflicting messages for the same step: all the same offence.
        start_block(11);
        assert_eq!(
            report(vec![double_vote(SR, 9)]),
            err(Error::AlreadyRecorded)
        );
        let Evidence::Votes(a, b) = double_vote(SR, 9) else {
            unreachable!()
        };
        assert_eq!(
            report(vec![Evidence::Votes(b.clone(), a)]),
            err(Error::AlreadyRecorded)
        );
        let third = Evidence::Votes(b, signed(SR, vote(SR, 9, 0, None)));
        assert_eq!(report(vec![third]), err(Error::AlreadyRecorded));
        // Twice in one batch.
        assert_eq!(
            report(vec![double_vote(HYBRID, 9), double_vote(HYBRID, 9)]),
            err(Error::AlreadyRecorded)
        );
        // Another round or step of the same height is another offence.
        assert_eq!(
            report(vec![double_proposal(SR, 9, 0), double_proposal(SR, 9, 1)]),
            Ok(())
        );
        assert_eq!(OffenceCount::get(), Some(3));
    });
}

#[test]
fn reports_are_bounded_and_inherent_only() {
    Test::new().run(|| {
        let many: Vec<Evidence> = (0..=MAX_EVIDENCE_PER_BLOCK)
            .map(|i| double_proposal(SR, 9, i))
            .collect();
        assert_eq!(report(many.clone()), err(Error::TooMuchEvidence));
        assert_eq!(report(vec![]), err(Error::NoEvidence));
        assert_eq!(
            pallet_system::testing::dispatch(
                Origin::Signed(account(SR)),
                Call::Report {
                    evidence: vec![double_vote(SR, 9)]
                }
            ),
            Err(DispatchError::BadOrigin)
        );
        let full = many[..MAX_EVIDENCE_PER_BLOCK as usize].to_vec();
        assert_eq!(report(full), Ok(()));
        assert_eq!(take_events().len(), MAX_EVIDENCE_PER_BLOCK as usize);
        // One report per block.
        assert_eq!(
            report(vec![double_vote(SR, 9)]),
            err(Error::AlreadyReportedInBlock)
        );
        start_block(11);
        assert_eq!(report(vec![double_vote(SR, 9)]), Ok(()));
    });
}

#[test]
fn nothing_is_reportable_before_the_chain_id_is_known() {
    TestExternalities::new().execute_with(|| {
        put_set(&pairs().iter().map(|p| (p.public(), 1)).collect::<Vec<_>>());
        assert_eq!(report(vec![double_vote(SR, 0)]), err(Error::NoChainId));
        try_state().unwrap();
    });
}

#[test]
fn old_offences_are_pruned_block_by_block() {
    Test::new().at(5).run(|| {
        assert_eq!(
            report(vec![double_vote(SR, 4), double_vote(HYBRID, 5)]),
            Ok(())
        );
        let mut n: BlockNumber = 5;
        while n < 4 + MAX_EVIDENCE_AGE as BlockNumber {
            n += 1;
            start_block(n);
        }
        // Block 1004: height 4 is at the edge of the window, still kept.
        assert_eq!(OffenceCount::get(), Some(2));
        try_state().unwrap();
        start_block(n + 1);
        assert_eq!(
            offences_since(0),
            vec![(
                account(HYBRID),
                offence(5, &account(HYBRID), 0, Step::Prevote).unwrap()
            )]
        );
        assert_eq!(OffenceCount::get(), Some(1));
        start_block(n + 2);
        assert_eq!(OffenceCount::get(), None);
        assert_eq!(Offences::iter().len(), 0);
    });
}

/// Fills storage with `per_height` synthetic offences at each of `heights`
/// (by validators outside the set, so only the counts matter).
fn fill(heights: core::ops::Range<Height>, per_height: u32) {
    for h in heights {
        for i in 0..per_height {
            let o = Offence {
                validator: 1_000 + i,
                height: h,
                round: 0,
                step: Step::Prevote,
                values: (None, Some(H256([1; 32]))),
            };
            Offences::insert(&h, &(AccountId([i as u8; 32]), 0, Step::Prevote), &o);
            OffenceCount::mutate(|c| *c = Some(c.unwrap_or(0) + 1));
        }
    }
}

#[test]
fn storage_caps_refuse_further_offences() {
    Test::new().at(100).run(|| {
        fill(9..10, MAX_OFFENCES_PER_HEIGHT);
        assert_eq!(
            report(vec![double_vote(SR, 9)]),
            err(Error::TooManyOffences)
        );
        assert!(filter_reportable(vec![double_vote(SR, 9)]).is_empty());
        assert_eq!(report(vec![double_vote(SR, 10)]), Ok(()));
    });
    Test::new().at(100).run(|| {
        fill(36..100, MAX_OFFENCES / 64);
        assert_eq!(OffenceCount::get(), Some(MAX_OFFENCES));
        assert_eq!(
            report(vec![double_vote(SR, 100)]),
            err(Error::TooManyOffences)
        );
        assert!(filter_reportable(vec![double_vote(SR, 100)]).is_empty());
    });
}

#[test]
fn the_inherent_builder_keeps_exactly_what_a_report_accepts() {
    Test::new().run(|| {
        assert_eq!(report(vec![double_vote(SR, 5)]), Ok(()));
        start_block(11);
        let junk = Evidence::Votes(
            signed(SR, vote(SR, 9, 0, Some(1))),
            signed(SR, vote(SR, 9, 0, Some(1))),
        );
        let mut offered = vec![
            junk,
            double_vote(SR, 5),     // recorded already
            double_vote(HYBRID, 9), // good
            double_vote(HYBRID, 9), // duplicate in the batch
            double_vote(SR, 12),    // future
        ];
        offered.extend((0..20).map(|r| double_proposal(SR, 10, r)));
        let kept = filter_reportable(offered);
        assert_eq!(kept.len(), MAX_EVIDENCE_PER_BLOCK as usize);
        // Signatures are randomised: compare what the evidence proves.
        assert_eq!(kept[0].check_shape(), double_vote(HYBRID, 9).check_shape());
        assert!(kept[1..]
            .iter()
            .all(|e| e.check_shape().is_ok_and(|o| o.height == 10)));
        assert_eq!(report(kept), Ok(()));
        assert!(filter_reportable(vec![double_vote(HYBRID, 9)]).is_empty());
    });
}

#[test]
fn the_pure_check_is_the_runtime_check_without_storage() {
    let keys: Vec<PublicKey> = pairs().iter().map(|p| p.public()).collect();
    let key_of = |_: Height, i: u32| keys.get(i as usize).cloned();
    let check = |e: &Evidence, now| {
        check_evidence(e, &GENESIS, now, key_of, qstack_core::verify).map(|(o, _)| o)
    };
    assert_eq!(check(&double_vote(HYBRID, 9), 10).map(|o| o.height), Ok(9));
    assert_eq!(
        check(&double_vote(HYBRID, 11), 10),
        Err(Error::FutureHeight)
    );
    assert_eq!(check(&double_vote(SR, 1), 1_002), Err(Error::TooOld));
    let wrong_chain = check_evidence(
        &double_vote(SR, 9),
        &H256([0; 32]),
        10,
        key_of,
        qstack_core::verify,
    );
    assert_eq!(wrong_chain.map(|_| ()), Err(Error::BadSignature));
}

#[test]
fn try_state_catches_broken_counts_and_stale_offences() {
    Test::new().run(|| {
        OffenceCount::put(&1);
        assert!(try_state().is_err());
        OffenceCount::kill();
        fill(9..10, 1);
        assert!(try_state().is_ok());
        start_block(2_000);
        fill(5..6, 1);
        assert!(
            try_state().is_err(),
            "height 5 is outside the window at 2000"
        );
        qstack_io::storage::clear_prefix(&Offences::prefix(), None);
        OffenceCount::kill();
    });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Any sequence of reports and blocks keeps the invariants, records each
    /// offence at most once and keeps nothing older than the window.
    #[test]
    fn reports_and_blocks_keep_the_invariants(
        steps in proptest::collection::vec((0u32..3, 0u64..40, 0u32..3, 0u32..4), 1..40)
    ) {
        let mut outcome: Result<(), TestCaseError> = Ok(());
        Test::new().at(30).run(|| outcome = (|| {
            let mut n: BlockNumber = 30;
            let mut recorded = std::collections::BTreeSet::new();
            for (v, back, round, advance) in steps {
                // Height 0 (genesis) is decided by no set.
                let height = Height::from(n).saturating_sub(back).max(1);
                let e = double_proposal(v, height, round);
                let r = report(vec![e]);
                let key = (v, height, round);
                if Height::from(n).saturating_sub(height) > MAX_EVIDENCE_AGE {
                    prop_assert_eq!(r, err(Error::TooOld));
                } else if recorded.contains(&key) {
                    prop_assert_eq!(r, err(Error::AlreadyRecorded));
                } else {
                    prop_assert_eq!(r, Ok(()));
                    recorded.insert(key);
                }
                for _ in 0..advance {
                    n += 1;
                    start_block(n);
                }
                if advance == 0 {
                    // A second report in the same block.
                    n += 1;
                    start_block(n);
                }
                prop_assert_eq!(try_state(), Ok(()));
            }
            Ok(())
        })());
        outcome?;
    }
}

#[test]
fn weights_follow_the_schemes_and_the_count() {
    let sr = double_vote(SR, 9);
    let hy = double_vote(HYBRID, 9);
    assert!(weights::evidence_weight(&hy) > weights::evidence_weight(&sr));
    let one = Call::Report {
        evidence: vec![hy.clone()],
    };
    let two = Call::Report {
        evidence: vec![hy.clone(), hy],
    };
    assert_eq!(
        two.weight() - one.weight(),
        weights::ps_of(weights::measured_ns::REPORT_HYBRID + weights::measured_ns::SLASH_WORST)
    );
}
