//! Native runtime scenarios of BFT double-sign evidence: the validator set
//! from the genesis JSON, evidence signed for the real genesis hash offered
//! as inherent data, filtered by the inherent builder, recorded with its
//! event; junk or repeated evidence in a block makes the block invalid.

use crate::scenario_tests::{dev, Chain};
use crate::signing::{sign, TxOptions};
use crate::{apis, evidence, executive, Extrinsic, RuntimeCall, RuntimeEvent};
use alloc::collections::BTreeMap;
use codec::{Decode, Encode};
use qstack_consensus_primitives::CommitCertificate;
use qstack_consensus_primitives::{Evidence, Proposal, SignedProposal, SignedVote, Vote, VoteKind};
use qstack_core::{KeyScheme, Pair, H256};
use qstack_runtime_primitives::{
    Header, InvalidTransaction, OpaqueBlock, OpaqueExtrinsic, TransactionSource,
    TransactionValidityError,
};

/// Validators 0 (sr25519) and 1 (hybrid).
fn validators() -> Vec<Pair> {
    vec![
        dev(KeyScheme::Sr25519, "Validator0"),
        dev(KeyScheme::Hybrid, "Validator1"),
        dev(KeyScheme::Sr25519, "Validator2"),
    ]
}

/// A chain whose genesis names `validators` in the chain spec's shape (the
/// staking pallet's, each bonding 1 QS from its own endowed account).
fn bft_chain(validators: &[Pair]) -> Chain {
    let list: Vec<String> = validators
        .iter()
        .map(|p| {
            format!(
                r#"{{"publicKey":"0x{}","power":1}}"#,
                hex::encode(p.public().encode())
            )
        })
        .collect();
    let balances: Vec<String> = validators
        .iter()
        .map(|p| {
            format!(
                r#"["{}","1000000000000000"]"#,
                qstack_core::Address::from(p.account_id())
            )
        })
        .collect();
    let mut chain = Chain::from_genesis_json(&format!(
        r#"{{"balances":{{"balances":[{}]}},"staking":{{"validators":[{}]}}}}"#,
        balances.join(","),
        list.join(",")
    ));
    chain.signers = validators.to_vec();
    chain
}

/// The commit certificate of block `height` (hash `value`) signed by every
/// validator of `chain`, as the node passes it (`parjust0`).
fn last_commit(chain: &Chain, height: u64, value: H256) -> CommitCertificate {
    let mut c = CommitCertificate {
        height,
        round: 0,
        value,
        precommits: Vec::new(),
    };
    for (i, p) in chain.signers.iter().enumerate() {
        let vote = c.precommit(i as u32);
        c.precommits
            .push((i as u32, p.sign(&vote.sign_bytes(&chain.genesis))));
    }
    c
}

fn double_vote(chain: &Chain, v: u32, pair: &Pair, height: u64) -> Evidence {
    let vote = |b: u8| Vote {
        height,
        round: 1,
        kind: VoteKind::Precommit,
        value: Some(H256([b; 32])),
        validator: v,
    };
    // The node's Tendermint core signs with the genesis hash as chain id.
    Evidence::Votes(
        SignedVote::sign(pair, &chain.genesis, vote(1)),
        SignedVote::sign(pair, &chain.genesis, vote(2)),
    )
}

fn double_proposal(chain: &Chain, v: u32, pair: &Pair, height: u64) -> Evidence {
    let p = |b: u8| Proposal {
        height,
        round: 0,
        value: H256([b; 32]),
        valid_round: None,
        proposer: v,
    };
    Evidence::Proposals(
        SignedProposal::sign(pair, &chain.genesis, p(1)),
        SignedProposal::sign(pair, &chain.genesis, p(2)),
    )
}

/// Starts the next block as the node's block builder does: initialise,
/// then the runtime's inherents from the author's inherent data, applied.
/// Returns the inherents.
fn start_block_offering(chain: &mut Chain, offered: Option<Vec<Evidence>>) -> Vec<Extrinsic> {
    chain.number += 1;
    chain.now += 2_000;
    let header = Header {
        parent_hash: chain.parent,
        number: chain.number,
        state_root: H256::zero(),
        extrinsics_root: H256::zero(),
        digest: Default::default(),
    };
    let mut data: BTreeMap<[u8; 8], Vec<u8>> = BTreeMap::new();
    data.insert(crate::timestamp::INHERENT_IDENTIFIER, chain.now.encode());
    if let Some(offered) = offered {
        data.insert(evidence::INHERENT_IDENTIFIER, offered.encode());
    }
    if chain.number >= 2 && !chain.signers.is_empty() {
        let cert = last_commit(chain, u64::from(chain.number - 1), chain.parent);
        data.insert(
            qstack_consensus_primitives::PARENT_JUSTIFICATION_INHERENT,
            cert.encode(),
        );
        data.insert(
            qstack_consensus_primitives::PROPOSER_INHERENT,
            0u32.encode(),
        );
    }
    chain.with(|| {
        executive::initialize_block(&header);
        // Through the entry point, as the node calls it.
        let out = apis::dispatch("BlockBuilder_inherent_extrinsics", &data.encode())
            .expect("inherents build");
        let inherents = Vec::<Extrinsic>::decode(&mut &out[..]).expect("inherents decode");
        for xt in &inherents {
            assert_eq!(executive::apply_extrinsic(&xt.encode()), Ok(Ok(())));
        }
        inherents
    })
}

fn reported(inherents: &[Extrinsic]) -> Option<Vec<Evidence>> {
    inherents.iter().find_map(|xt| match &xt.function {
        RuntimeCall::Evidence(evidence::Call::Report { evidence }) => Some(evidence.clone()),
        _ => None,
    })
}

fn equivocations(chain: &mut Chain) -> Vec<evidence::Event> {
    chain
        .events()
        .into_iter()
        .filter_map(|e| match e {
            RuntimeEvent::Evidence(e) => Some(e),
            _ => None,
        })
        .collect()
}

#[test]
fn evidence_offered_by_the_author_is_filtered_recorded_and_not_repeated() {
    let vals = validators();
    let mut chain = bft_chain(&vals);
    start_block_offering(&mut chain, None);
    chain.finish();
    assert_eq!(equivocations(&mut chain), vec![]);
    // Block 2 reports double signing at heights 1 and 2; the junk piece (two
    // identical votes) and the one signed for another chain are dropped.
    let good = vec![
        double_vote(&chain, 0, &vals[0], 1),
        double_proposal(&chain, 1, &vals[1], 2),
    ];
    let same = match double_vote(&chain, 0, &vals[0], 2) {
        Evidence::Votes(a, _) => Evidence::Votes(a.clone(), a),
        e => e,
    };
    let mut other_chain = chain.genesis;
    other_chain.0[0] ^= 1;
    let vote = Vote {
        height: 1,
        round: 0,
        kind: VoteKind::Prevote,
        value: None,
        validator: 1,
    };
    let foreign = Evidence::Votes(
        SignedVote::sign(&vals[1], &other_chain, vote.clone()),
        SignedVote::sign(
            &vals[1],
            &other_chain,
            Vote {
                value: Some(H256([3; 32])),
                ..vote
            },
        ),
    );
    let offered = vec![same, good[0].clone(), foreign, good[1].clone()];
    let inherents = start_block_offering(&mut chain, Some(offered));
    assert_eq!(
        inherents.len(),
        3,
        "timestamp, one report and the parent's commit"
    );
    assert_eq!(reported(&inherents), Some(good.clone()));
    chain.finish();
    let offender = |i: usize| vals[i].account_id();
    assert_eq!(
        equivocations(&mut chain),
        vec![
            evidence::Event::Equivocation {
                offender: offender(0),
                validator: 0,
                height: 1,
                round: 1,
                step: evidence::Step::Precommit,
            },
            evidence::Event::Equivocation {
                offender: offender(1),
                validator: 1,
                height: 2,
                round: 0,
                step: evidence::Step::Propose,
            },
        ]
    );
    chain.with(|| {
        let since = evidence::offences_since(0);
        assert_eq!(since.len(), 2);
        assert_eq!(since[0].0, offender(0));
        assert_eq!(since[1].0, offender(1));
        // Both are slashed 20 % of their 1 QS bond and leave the set.
        for i in 0..2 {
            let v = crate::staking::Validators::get(&offender(i)).expect("validator");
            assert_eq!(v.tokens, 800_000_000_000, "validator {i}");
            assert!(matches!(
                v.status,
                crate::staking::Status::Inactive {
                    reason: crate::staking::InactiveReason::DoubleSign,
                    ..
                }
            ));
        }
        let set: Vec<_> = crate::staking::CurrentSet::get()
            .unwrap_or_default()
            .into_iter()
            .map(|m| m.owner)
            .collect();
        assert_eq!(set, vec![offender(2)]);
    });
    // Offered again in block 3: already recorded, so no report at all.
    let inherents = start_block_offering(&mut chain, Some(good.clone()));
    assert_eq!(reported(&inherents), None);
    // A proposer that puts it in anyway makes its block invalid.
    let stuffed = Extrinsic::new_unsigned(RuntimeCall::Evidence(evidence::Call::Report {
        evidence: vec![good[0].clone()],
    }));
    assert_eq!(
        chain.apply(&stuffed),
        Err(TransactionValidityError::Invalid(
            InvalidTransaction::BadMandatory
        ))
    );
    chain.finish();
    assert_eq!(equivocations(&mut chain), vec![]);
}

#[test]
fn a_block_with_junk_evidence_does_not_import() {
    let vals = validators();
    let mut chain = bft_chain(&vals);
    start_block_offering(&mut chain, None);
    chain.finish();
    // Build block 2 honestly with one piece, keep its parent state.
    let before = chain.ext.pairs();
    let parent = chain.parent;
    let good = double_vote(&chain, 1, &vals[1], 1);
    let inherents = start_block_offering(&mut chain, Some(vec![good.clone()]));
    let header = chain.finish();
    let block = |extrinsics: &[Extrinsic], header: &Header| OpaqueBlock {
        header: header.clone(),
        extrinsics: extrinsics
            .iter()
            .map(|xt| OpaqueExtrinsic::from_encoded(xt.encode()))
            .collect(),
    };
    // It imports on the parent state.
    let mut import = qstack_io::TestExternalities::from_pairs(before.clone());
    assert_eq!(
        import.execute_with(|| executive::execute_block(&block(&inherents, &header))),
        Ok(())
    );
    assert_eq!(header.parent_hash, parent);
    // The same block with a forged piece in its report does not.
    let mut forged = good;
    if let Evidence::Votes(_, b) = &mut forged {
        b.vote.value = None;
    }
    let mut bad = inherents.clone();
    bad[1] = Extrinsic::new_unsigned(RuntimeCall::Evidence(evidence::Call::Report {
        evidence: vec![forged],
    }));
    let mut import = qstack_io::TestExternalities::from_pairs(before);
    let r = import.execute_with(|| executive::execute_block(&block(&bad, &header)));
    assert_eq!(
        r,
        Err(executive::BlockError::InvalidExtrinsic {
            index: 1,
            error: TransactionValidityError::Invalid(InvalidTransaction::BadMandatory),
        })
    );
}

#[test]
fn reports_cannot_come_through_the_pool() {
    let vals = validators();
    let mut chain = bft_chain(&vals);
    start_block_offering(&mut chain, None);
    let header = chain.finish();
    let e = double_vote(&chain, 0, &vals[0], 1);
    let call = RuntimeCall::Evidence(evidence::Call::Report { evidence: vec![e] });
    let unsigned = Extrinsic::new_unsigned(call.clone());
    let signed = sign(&vals[0], call, &chain.ctx(), &TxOptions::nonce(0));
    for xt in [unsigned, signed] {
        let r = chain.with(|| {
            executive::validate_transaction(
                TransactionSource::External,
                &xt.encode(),
                header.hash(),
            )
        });
        assert_eq!(
            r,
            Err(TransactionValidityError::Invalid(
                InvalidTransaction::MandatoryValidation
            ))
        );
    }
}

#[test]
fn genesis_refuses_a_bad_validator_list() {
    let mut ext = qstack_io::TestExternalities::new();
    ext.execute_with(|| {
        let bad = |json: &str, needle: &str| {
            let e = crate::genesis::build_state(json.as_bytes()).unwrap_err();
            assert!(e.contains(needle), "{needle:?} not in {e:?}");
        };
        bad(
            r#"{"staking":{"validators":[{"publicKey":"0x00","power":1}]}}"#,
            "staking.validators[0].publicKey: not a SCALE public key",
        );
        bad(
            r#"{"staking":{"validators":[{"publicKey":"00","power":1}]}}"#,
            "staking.validators[0].publicKey: expected 0x-hex",
        );
        let k = format!("0x00{}", "11".repeat(32));
        bad(
            &format!(r#"{{"staking":{{"validators":[{{"publicKey":"{k}","power":0}}]}}}}"#),
            "staking.validators[0].selfBond: below minSelfBond",
        );
        bad(
            &format!(r#"{{"staking":{{"validators":[{{"publicKey":"{k}","power":1}}]}}}}"#),
            "cannot pay it from its genesis balance",
        );
        bad(r#"{"staking":{"set":[]}}"#, "unknown field");
        bad(r#"{"evidence":{"validators":[]}}"#, "evidence");
    });
}

#[test]
fn consensus_config_hands_the_node_the_genesis_validator_set() {
    let pairs = validators();
    let mut chain = bft_chain(&pairs);
    let out = chain.with(|| apis::dispatch("Consensus_config", &[]).expect("served"));
    let config = Option::<Vec<u8>>::decode(&mut &out[..]).expect("Option<Vec<u8>>");
    let set = Vec::<crate::staking::EngineValidator>::decode(
        &mut &config.expect("a bft chain has one")[..],
    )
    .expect("the validator list");
    let expect: Vec<crate::staking::EngineValidator> = pairs
        .iter()
        .map(|p| crate::staking::EngineValidator {
            public: p.public(),
            power: 1,
        })
        .collect();
    assert_eq!(set, expect);
    // The node's engine decodes the same bytes as its `Vec<Validator>`.
    assert_eq!(
        set.encode(),
        expect
            .iter()
            .map(|v| (v.public.clone(), v.power))
            .collect::<Vec<_>>()
            .encode()
    );
    // A chain without BFT validators keeps no configuration.
    let mut dev_chain = Chain::from_genesis_json("{}");
    let out = dev_chain.with(|| apis::dispatch("Consensus_config", &[]).expect("served"));
    assert_eq!(Option::<Vec<u8>>::decode(&mut &out[..]), Ok(None));
}
