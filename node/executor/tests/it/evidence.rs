//! The Wasm runtime and the native one agree on BFT double-sign evidence:
//! the validator set from the genesis JSON (the staking pallet's), evidence of an sr25519 and a
//! hybrid validator signed for the real genesis hash, offered as inherent
//! data, verified through the host, recorded and slashed; the block re-imports in
//! Wasm, and the same block with a forged piece does not.

use super::{build_in_both, call, dev, executor, genesis_from_json, Mode};
use codec::{Decode, Encode};
use qstack_core::{KeyScheme, Pair, H256};
use qstack_io::{OverlayedChanges, TestExternalities};
use qstack_runtime::evidence::{Evidence, SignedProposal, SignedVote, Vote, VoteKind};
use qstack_runtime::executive::BlockError;
use qstack_runtime::{evidence, Block, Extrinsic, RuntimeCall};
use qstack_runtime_primitives::{Header, InvalidTransaction};
use std::collections::BTreeMap;

fn genesis(exec: &qstack_executor::Executor, mode: Mode, validators: &[Pair]) -> TestExternalities {
    let list: Vec<String> = validators
        .iter()
        .map(|p| {
            let key: String = p
                .public()
                .encode()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!(r#"{{"publicKey":"0x{key}","power":1}}"#)
        })
        .collect();
    // Each validator bonds 1 QS from its own genesis balance.
    let balances: Vec<String> = validators
        .iter()
        .map(|p| {
            format!(
                r#"["{}","1000000000000000"]"#,
                qstack_core::Address::from(p.account_id())
            )
        })
        .collect();
    let json = format!(
        r#"{{"balances":{{"balances":[{}]}},"staking":{{"validators":[{}]}}}}"#,
        balances.join(","),
        list.join(",")
    );
    genesis_from_json(exec, mode, &json)
}

#[test]
fn wasm_and_native_agree_on_recorded_evidence() {
    let exec = executor();
    let validators = [
        dev(KeyScheme::Sr25519, "Validator0"),
        dev(KeyScheme::Hybrid, "Validator1"),
    ];
    let wasm_state = genesis(&exec, Mode::Wasm, &validators);
    let native_state = genesis(&exec, Mode::Native, &validators);
    assert_eq!(*wasm_state.backend.root(), *native_state.backend.root());
    let genesis_hash = Header::genesis(H256(*wasm_state.backend.root())).hash();
    // Signed as the node's Tendermint core signs: chain id = genesis hash.
    let vote = |b: u8| Vote {
        height: 1,
        round: 0,
        kind: VoteKind::Prevote,
        value: Some(H256([b; 32])),
        validator: 0,
    };
    let proposal = |b: u8| qstack_runtime::evidence::Proposal {
        height: 1,
        round: 2,
        value: H256([b; 32]),
        valid_round: None,
        proposer: 1,
    };
    let offered = vec![
        Evidence::Votes(
            SignedVote::sign(&validators[0], &genesis_hash, vote(1)),
            SignedVote::sign(&validators[0], &genesis_hash, vote(2)),
        ),
        Evidence::Proposals(
            SignedProposal::sign(&validators[1], &genesis_hash, proposal(1)),
            SignedProposal::sign(&validators[1], &genesis_hash, proposal(2)),
        ),
    ];
    let mut data = BTreeMap::new();
    data.insert(evidence::INHERENT_IDENTIFIER, offered.encode());
    let wasm_block = build_in_both(&exec, (&wasm_state, &native_state), genesis_hash, data, &[]);
    assert_eq!(wasm_block.extrinsics.len(), 2, "timestamp and report");
    assert!(matches!(
        &wasm_block.extrinsics[1].function,
        RuntimeCall::Evidence(evidence::Call::Report { evidence }) if *evidence == offered
    ));

    // Import in Wasm; then the same block with a forged piece is refused.
    let execute = |block: &Block| {
        let mut overlay = OverlayedChanges::default();
        let out = call(
            &exec,
            Mode::Wasm,
            &mut overlay,
            &wasm_state,
            "Core_execute_block",
            &block.encode(),
        );
        Result::<(), BlockError>::decode(&mut &out[..]).unwrap()
    };
    assert_eq!(execute(&wasm_block), Ok(()));
    let mut forged = offered.clone();
    if let Evidence::Proposals(_, b) = &mut forged[1] {
        b.proposal.value = H256([3; 32]);
    }
    let mut bad = wasm_block.clone();
    bad.extrinsics[1] = Extrinsic::new_unsigned(RuntimeCall::Evidence(evidence::Call::Report {
        evidence: forged,
    }));
    assert_eq!(
        execute(&bad),
        Err(BlockError::InvalidExtrinsic {
            index: 1,
            error: qstack_runtime_primitives::TransactionValidityError::Invalid(
                InvalidTransaction::BadMandatory
            ),
        })
    );
}
