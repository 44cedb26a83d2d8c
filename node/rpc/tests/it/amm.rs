//! `amm_pool`, `amm_pools`, `amm_quote`: the runtime API each calls with
//! which SCALE input, the JSON it answers, and its errors.

use crate::common::Node;
use codec::Encode;
use qstack_core::{AccountId, Address, Balance};
use qstack_rpc::error::codes;
use qstack_runtime::amm::{self, AuctionSlot, Pool, PoolInfo, VoteSlot};
use qstack_runtime_primitives::{AssetId, DispatchError, TokenCode};
use serde_json::json;

const POOL: &str = "AmmApi_amm_pool";
const POOLS: &str = "AmmApi_amm_pools";
const QUOTE: &str = "AmmApi_amm_quote";

const ISSUER: AccountId = AccountId([7; 32]);
const CREATOR: AccountId = AccountId([8; 32]);

fn addr(who: AccountId) -> String {
    Address::from(who).to_base58()
}

fn usd() -> AssetId {
    AssetId::Issued {
        issuer: ISSUER,
        code: TokenCode::Standard(*b"USD"),
    }
}

fn info() -> PoolInfo {
    let account = amm::pool_account(&(AssetId::Native, usd()));
    PoolInfo {
        assets: [AssetId::Native, usd()],
        lp_supply: 2_000_000,
        pool: Pool {
            account,
            lp_code: TokenCode::Hex([3; 20]),
            reserves: [4_000_000, u128::MAX],
            fee: 300,
            creator: CREATOR,
            votes: vec![VoteSlot {
                account: CREATOR,
                fee: 300,
            }],
            slot: Some(AuctionSlot {
                owner: CREATOR,
                expires: 86_400_000,
                price: 12,
            }),
            price_cumulative: [1 << 64, 7],
            last_update: 1_000,
        },
    }
}

fn last_call(node: &Node) -> (String, Vec<u8>) {
    let (_, method, input) = node.backend.call_log().pop().expect("a runtime call");
    (method, input)
}

#[tokio::test]
async fn amm_pool_is_typed_json_or_null() {
    let node = Node::start().await;
    node.backend.set_call(POOL, Ok(Some(info()).encode()));
    let usd_json = json!({"issuer": addr(ISSUER), "code": "USD"});
    let answer = node.ok("amm_pool", json!([usd_json, "native"])).await;
    let account = addr(info().pool.account);
    assert_eq!(
        answer,
        json!({
            "assets": ["native", usd_json],
            "account": account,
            "lpToken": {"issuer": account, "code": "0303030303030303030303030303030303030303"},
            "lpSupply": "2000000",
            "reserves": ["4000000", u128::MAX.to_string()],
            "tradingFee": 300,
            "creator": addr(CREATOR),
            "votes": [{"account": addr(CREATOR), "fee": 300}],
            "auctionSlot": {"owner": addr(CREATOR), "expires": 86_400_000u64, "price": "12"},
            "priceCumulative": [(1u128 << 64).to_string(), "7"],
            "lastUpdate": 1000,
        })
    );
    // The assets go to the runtime as given (it sorts them).
    assert_eq!(
        last_call(&node),
        (POOL.to_owned(), (usd(), AssetId::Native).encode())
    );
    node.backend.set_call(POOL, Ok(None::<PoolInfo>.encode()));
    assert_eq!(
        node.ok("amm_pool", json!(["native", usd_json])).await,
        json!(null)
    );
    let (code, msg) = node.fails("amm_pool", json!(["native", "USD"])).await;
    assert_eq!(code, i64::from(codes::INVALID_PARAMS));
    assert!(msg.contains("native"), "{msg}");
}

#[tokio::test]
async fn amm_pools_lists_every_pool() {
    let node = Node::start().await;
    node.backend
        .set_call(POOLS, Ok(vec![info(), info()].encode()));
    let answer = node.ok("amm_pools", json!([])).await;
    assert_eq!(answer.as_array().map(Vec::len), Some(2));
    assert_eq!(answer[1]["tradingFee"], 300);
}

#[tokio::test]
async fn amm_quote_answers_or_names_the_refusal() {
    let node = Node::start().await;
    let usd_json = json!({"issuer": addr(ISSUER), "code": "USD"});
    node.backend
        .set_call(QUOTE, Ok(Ok::<Balance, DispatchError>(9_871).encode()));
    let answer = node
        .ok("amm_quote", json!([["native", usd_json], "10000"]))
        .await;
    assert_eq!(
        answer,
        json!({
            "path": ["native", usd_json],
            "exactIn": true,
            "amountIn": "10000",
            "amountOut": "9871",
        })
    );
    let path = vec![AssetId::Native, usd()];
    assert_eq!(
        last_call(&node),
        (
            QUOTE.to_owned(),
            (path.clone(), 10_000u128, true, None::<AccountId>).encode()
        )
    );
    // Exact out, for a given account, amount as a JSON number.
    let answer = node
        .ok(
            "amm_quote",
            json!({"path": ["native", usd_json], "amount": 500, "exactIn": false, "who": addr(CREATOR)}),
        )
        .await;
    assert_eq!(answer["amountIn"], "9871");
    assert_eq!(answer["amountOut"], "500");
    assert_eq!(
        last_call(&node).1,
        (path, 500u128, false, Some(CREATOR)).encode()
    );
    // A swap the call would refuse: the error names the rule.
    node.backend.set_call(
        QUOTE,
        Ok(Err::<Balance, DispatchError>(amm::Error::InsufficientLiquidity.into()).encode()),
    );
    let e = node
        .error_object("amm_quote", json!([["native", usd_json], "10000"]))
        .await;
    assert_eq!(e["data"], "Amm.InsufficientLiquidity", "{e}");
    // Bad input never reaches the runtime.
    for bad in [
        json!([["native"], "1"]),
        json!([["native", usd_json], "-1"]),
        json!([["native", usd_json], "1", "yes"]),
        json!(["native", "1"]),
    ] {
        let (code, _) = node.fails("amm_quote", bad).await;
        assert_eq!(code, i64::from(codes::INVALID_PARAMS));
    }
}
