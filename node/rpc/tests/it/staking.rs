//! `staking_*`: the runtime API each calls with which SCALE input, the
//! JSON it answers, and its errors.

use crate::common::Node;
use codec::Encode;
use qstack_core::{AccountId, Address, PublicKey};
use qstack_rpc::error::codes;
use qstack_runtime::staking::api::{DelegationView, DelegationsView, InflationView};
use qstack_runtime::staking::{
    Commission, Delegation, InactiveReason, Params, Phase, SetMember, Status, Unbonding,
    ValidatorInfo,
};
use serde_json::json;

const OWNER: AccountId = AccountId([7; 32]);
const QS: u128 = 1_000_000_000_000;

fn addr(who: AccountId) -> String {
    Address::from(who).to_base58()
}

fn validator(status: Status) -> ValidatorInfo {
    ValidatorInfo {
        key: PublicKey::Sr25519([9; 32]),
        tokens: 25 * QS + 7,
        shares: 25 * QS,
        commission: Commission {
            rate: 100_000_000,
            max_rate: 200_000_000,
            max_change_rate: 10_000_000,
        },
        commission_changed: 5,
        description: b"validator one".to_vec(),
        status,
        created: 3,
        reward_per_share: 0,
        reward_remainder: 0,
        commission_due: 42,
        window_counted: 10,
        window_missed: 2,
    }
}

fn inflation() -> InflationView {
    InflationView {
        params: Params::default(),
        phases: vec![Phase {
            end_time: 1_700_000_000_000,
            total_amount: 1_000 * QS,
            applied_amount: 3 * QS,
        }],
        current: 0,
        minted: 3 * QS,
        next_mint: 11,
        average_block_time_ms: 1_000,
    }
}

#[tokio::test]
async fn staking_validator_is_typed_json_or_null() {
    let node = Node::start().await;
    node.backend
        .set_call("StakingApi_staking_inflation", Ok(inflation().encode()));
    let inactive = Status::Inactive {
        reason: InactiveReason::Downtime,
        since: 99,
    };
    node.backend.set_call(
        "StakingApi_staking_validator",
        Ok(Some(validator(inactive)).encode()),
    );
    let v = node.ok("staking_validator", json!([addr(OWNER)])).await;
    assert_eq!(v["owner"], addr(OWNER));
    assert_eq!(v["status"], "inactive");
    assert_eq!(v["reason"], "downtime");
    assert_eq!(v["since"], 99);
    assert_eq!(v["tokens"], (25 * QS + 7).to_string());
    assert_eq!(v["power"], 25);
    assert_eq!(
        v["commission"],
        json!({"rate": "0.1", "maxRate": "0.2", "maxChangeRate": "0.01"})
    );
    assert_eq!(v["description"], "validator one");
    assert_eq!(v["keepAlive"], json!({"counted": 10, "missed": 2}));
    assert_eq!(v["consensusKey"]["scheme"], "sr25519");
    let (_, method, input) = node.backend.call_log().pop().expect("a call");
    assert_eq!(
        (method.as_str(), input),
        ("StakingApi_staking_validator", OWNER.encode())
    );
    node.backend.set_call(
        "StakingApi_staking_validator",
        Ok(None::<ValidatorInfo>.encode()),
    );
    assert_eq!(
        node.ok("staking_validator", json!([addr(OWNER)])).await,
        json!(null)
    );
    let (code, msg) = node.fails("staking_validator", json!(["q123"])).await;
    assert_eq!(code, i64::from(codes::INVALID_PARAMS));
    assert!(msg.contains("owner"), "{msg}");
}

#[tokio::test]
async fn staking_validators_and_the_set() {
    let node = Node::start().await;
    node.backend
        .set_call("StakingApi_staking_inflation", Ok(inflation().encode()));
    node.backend.set_call(
        "StakingApi_staking_validators",
        Ok(vec![
            (OWNER, validator(Status::Active)),
            (AccountId([8; 32]), validator(Status::Closed)),
        ]
        .encode()),
    );
    let list = node.ok("staking_validators", json!([])).await;
    assert_eq!(list[0]["status"], "active");
    assert_eq!(list[1]["status"], "closed");
    node.backend.set_call(
        "StakingApi_staking_set",
        Ok(vec![SetMember {
            owner: OWNER,
            public: PublicKey::Sr25519([9; 32]),
            power: 25,
        }]
        .encode()),
    );
    let set = node.ok("staking_set", json!([])).await;
    assert_eq!(set[0]["index"], 0);
    assert_eq!(set[0]["owner"], addr(OWNER));
    assert_eq!(set[0]["power"], 25);
}

#[tokio::test]
async fn staking_delegations_rewards_and_inflation() {
    let node = Node::start().await;
    let view = DelegationsView {
        delegations: vec![DelegationView {
            validator: OWNER,
            delegation: Delegation {
                shares: 5 * QS,
                compound: true,
                reward_start: 0,
                next_payout: 40,
            },
            tokens: 5 * QS - 1,
            pending_rewards: 123,
        }],
        unbondings: vec![(
            OWNER,
            Unbonding {
                delegator: AccountId([1; 32]),
                tokens: QS,
                created: 10,
                release: 20,
            },
        )],
    };
    node.backend
        .set_call("StakingApi_staking_delegations", Ok(view.encode()));
    let who = addr(AccountId([1; 32]));
    let d = node.ok("staking_delegations", json!([who])).await;
    assert_eq!(
        d,
        json!({
            "delegations": [{"validator": addr(OWNER), "shares": (5 * QS).to_string(),
                             "tokens": (5 * QS - 1).to_string(), "pendingRewards": "123",
                             "compound": true, "nextPayout": 40}],
            "unbondings": [{"validator": addr(OWNER), "tokens": QS.to_string(), "created": 10, "release": 20}],
        })
    );
    let r = node.ok("staking_rewards", json!([who])).await;
    assert_eq!(
        r,
        json!({"total": "123", "byValidator": [{"validator": addr(OWNER), "pending": "123"}]})
    );
    node.backend
        .set_call("StakingApi_staking_inflation", Ok(inflation().encode()));
    let i = node.ok("staking_inflation", json!([])).await;
    assert_eq!(i["nextMint"], "11");
    assert_eq!(i["minted"], (3 * QS).to_string());
    assert_eq!(i["phases"][0]["current"], true);
    assert_eq!(i["params"]["proposerRewardRate"], "0.04");
    assert_eq!(i["params"]["downtimeSlash"], "0.0001");
    assert_eq!(i["params"]["maxValidators"], 21);
    let (code, _) = node.fails("staking_delegations", json!([])).await;
    assert_eq!(code, i64::from(codes::INVALID_PARAMS));
}
