//! `gov_*`: the runtime API each calls with which SCALE input, the JSON it
//! answers, and its errors.

use crate::common::Node;
use codec::Encode;
use qstack_core::{AccountId, Address, H256};
use qstack_rpc::error::codes;
use qstack_runtime::governance::api::{ProposalView, TallyView};
use qstack_runtime::governance::rules::{Decision, Outcome};
use qstack_runtime::governance::{
    Level, Params, Proposal, ProposalKind, ProposalStatus, Tally, VoteOption,
};
use serde_json::json;

const PROPOSER: AccountId = AccountId([7; 32]);
const QS: u128 = 1_000_000_000_000;

fn addr(who: AccountId) -> String {
    Address::from(who).to_base58()
}

fn proposal(status: ProposalStatus) -> Proposal {
    Proposal {
        proposer: PROPOSER,
        title: b"Runtime v2".to_vec(),
        description: b"adds revoke".to_vec(),
        kind: ProposalKind::RuntimeUpgrade {
            code_hash: H256([5; 32]),
        },
        level: Level::Critical,
        status,
        submitted: 3,
        deposit_end: 103,
        voting_start: Some(4),
        voting_end: Some(24),
        total_deposit: 1_000 * QS,
        depositors: 2,
        voters: 3,
        tally: None,
        ended: None,
    }
}

#[tokio::test]
async fn gov_proposals_and_one_proposal() {
    let node = Node::start().await;
    node.backend.set_call(
        "GovernanceApi_gov_proposals",
        Ok(vec![ProposalView {
            id: 0,
            proposal: proposal(ProposalStatus::Voting),
        }]
        .encode()),
    );
    let list = node.ok("gov_proposals", json!([])).await;
    assert_eq!(list[0]["id"], 0);
    assert_eq!(list[0]["proposer"], addr(PROPOSER));
    assert_eq!(list[0]["status"], "voting");
    assert_eq!(list[0]["level"], "critical");
    assert_eq!(list[0]["kind"]["type"], "runtimeUpgrade");
    assert_eq!(
        list[0]["kind"]["codeHash"],
        format!("0x{}", "05".repeat(32))
    );
    assert_eq!(list[0]["totalDeposit"], (1_000 * QS).to_string());
    assert_eq!(list[0]["votingEnd"], 24);
    node.backend
        .set_call("GovernanceApi_gov_proposal", Ok(None::<Proposal>.encode()));
    assert_eq!(node.ok("gov_proposal", json!([9])).await, json!(null));
    let (_, method, input) = node.backend.call_log().pop().expect("a call");
    assert_eq!(
        (method.as_str(), input),
        ("GovernanceApi_gov_proposal", 9u64.encode())
    );
    let (code, msg) = node.fails("gov_proposal", json!(["nine"])).await;
    assert_eq!(code, i64::from(codes::INVALID_PARAMS));
    assert!(msg.contains("id"), "{msg}");
}

#[tokio::test]
async fn gov_tally_votes_and_params() {
    let node = Node::start().await;
    let view = TallyView {
        tally: Tally {
            yes: 60,
            no: 30,
            abstain: 5,
            veto: 5,
            total: 150,
        },
        decision: Decision {
            outcome: Outcome::Passed,
            burn: 0,
        },
        passes: true,
        is_final: false,
    };
    node.backend
        .set_call("GovernanceApi_gov_tally", Ok(Some(view).encode()));
    let t = node.ok("gov_tally", json!([0])).await;
    assert_eq!(t["tally"]["yes"], "60");
    assert_eq!(t["tally"]["noWithVeto"], "5");
    assert_eq!(t["tally"]["voted"], "100");
    assert_eq!(t["outcome"], "passed");
    assert_eq!(t["passes"], true);
    assert_eq!(t["final"], false);
    node.backend.set_call(
        "GovernanceApi_gov_votes",
        Ok(vec![(PROPOSER, VoteOption::NoWithVeto)].encode()),
    );
    let votes = node.ok("gov_votes", json!([0])).await;
    assert_eq!(
        votes,
        json!([{"voter": addr(PROPOSER), "option": "noWithVeto"}])
    );
    node.backend
        .set_call("GovernanceApi_gov_params", Ok(Params::default().encode()));
    let p = node.ok("gov_params", json!([])).await;
    assert_eq!(p["critical"]["quorum"], "0.334");
    assert_eq!(p["critical"]["threshold"], "0.5");
    assert_eq!(p["normal"]["minDeposit"], (10 * QS).to_string());
}
