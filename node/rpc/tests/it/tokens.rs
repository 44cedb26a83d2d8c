//! `token_info`, `token_balances`, `token_allowance`: the runtime API each
//! calls with which SCALE input, the JSON it answers, and its errors.

use crate::common::Node;
use codec::Encode;
use qstack_core::{AccountId, Address};
use qstack_rpc::error::codes;
use qstack_runtime_primitives::tokens::{Holding, TokenBalance, TokenDetails};
use qstack_runtime_primitives::{AssetId, TokenCode};
use serde_json::json;

// The wire names of the runtime API methods (what `state_call` would name).
const TOKEN_INFO: &str = "QstackTokensApi_token_info";
const TOKEN_BALANCES: &str = "QstackTokensApi_token_balances";
const TOKEN_ALLOWANCE: &str = "QstackTokensApi_token_allowance";

const ISSUER: AccountId = AccountId([7; 32]);
const HOLDER: AccountId = AccountId([8; 32]);

fn addr(who: AccountId) -> String {
    Address::from(who).to_base58()
}

fn usd() -> TokenCode {
    TokenCode::Standard(*b"USD")
}

fn details() -> TokenDetails {
    TokenDetails {
        name: "US Dollar".into(),
        symbol: "USD".into(),
        decimals: 2,
        max_supply: Some(u128::MAX),
        supply: 123_456_789_012_345_678_901_234_567,
        holders: 3,
        paused: false,
        global_freeze: true,
        no_freeze: false,
    }
}

/// The (method, input) of the last runtime call.
fn last_call(node: &Node) -> (String, Vec<u8>) {
    let (_, method, input) = node.backend.call_log().pop().expect("a runtime call");
    (method, input)
}

#[tokio::test]
async fn token_info_is_typed_json_or_null() {
    let node = Node::start().await;
    node.backend
        .set_call(TOKEN_INFO, Ok(Some(details()).encode()));
    let info = node.ok("token_info", json!([addr(ISSUER), "USD"])).await;
    assert_eq!(
        info,
        json!({
            "asset": {"issuer": addr(ISSUER), "code": "USD"},
            "name": "US Dollar",
            "symbol": "USD",
            "decimals": 2,
            "totalSupply": "123456789012345678901234567",
            "maxSupply": u128::MAX.to_string(),
            "holders": 3,
            "paused": false,
            "globalFreeze": true,
            "noFreeze": false,
        })
    );
    assert_eq!(
        last_call(&node),
        (TOKEN_INFO.to_owned(), (ISSUER, usd()).encode())
    );
    // A 40-hex code and named parameters.
    let hex_code = "0158415500000000C1F76FF6ECB0BAC600000000";
    node.ok(
        "token_info",
        json!({"issuer": addr(ISSUER), "code": hex_code.to_lowercase()}),
    )
    .await;
    assert_eq!(
        last_call(&node).1,
        (ISSUER, TokenCode::parse(hex_code).unwrap()).encode()
    );
    node.backend
        .set_call(TOKEN_INFO, Ok(None::<TokenDetails>.encode()));
    assert_eq!(
        node.ok("token_info", json!([addr(ISSUER), "EUR"])).await,
        json!(null)
    );
}

#[tokio::test]
async fn token_balances_fill_native_symbol_from_properties() {
    let node = Node::start().await;
    let usd_asset = AssetId::Issued {
        issuer: ISSUER,
        code: usd(),
    };
    let list = vec![
        TokenBalance {
            asset: AssetId::Native,
            holding: Holding {
                free: 5_000,
                frozen: 0,
            },
            display: None,
        },
        TokenBalance {
            asset: usd_asset,
            holding: Holding {
                free: 1,
                frozen: u128::MAX - 1,
            },
            display: Some((b"USD".to_vec(), 2)),
        },
    ];
    node.backend.set_call(TOKEN_BALANCES, Ok(list.encode()));
    let answer = node.ok("token_balances", json!([addr(HOLDER)])).await;
    assert_eq!(
        answer,
        json!({
            "address": addr(HOLDER),
            "balances": [
                {"asset": "native", "symbol": "QST", "decimals": 12, "free": "5000", "frozen": "0"},
                {"asset": {"issuer": addr(ISSUER), "code": "USD"}, "symbol": "USD", "decimals": 2,
                 "free": "1", "frozen": (u128::MAX - 1).to_string()},
            ]
        })
    );
    assert_eq!(
        last_call(&node),
        (TOKEN_BALANCES.to_owned(), HOLDER.encode())
    );
}

#[tokio::test]
async fn token_allowance_takes_native_or_issued_assets() {
    let node = Node::start().await;
    node.backend.set_call(
        TOKEN_ALLOWANCE,
        Ok(1_000_000_000_000_000_000_000u128.encode()),
    );
    let asset = json!({"issuer": addr(ISSUER), "code": "USD"});
    let answer = node
        .ok(
            "token_allowance",
            json!([asset, addr(HOLDER), format!("0x{}", "09".repeat(32))]),
        )
        .await;
    assert_eq!(
        answer,
        json!({
            "asset": asset,
            "owner": addr(HOLDER),
            "spender": addr(AccountId([9; 32])),
            "allowance": "1000000000000000000000",
        })
    );
    assert_eq!(
        last_call(&node).1,
        (
            AssetId::Issued {
                issuer: ISSUER,
                code: usd()
            },
            HOLDER,
            AccountId([9; 32])
        )
            .encode()
    );
    node.ok(
        "token_allowance",
        json!(["native", addr(HOLDER), addr(ISSUER)]),
    )
    .await;
    assert_eq!(
        last_call(&node).1,
        (AssetId::Native, HOLDER, ISSUER).encode()
    );
}

#[tokio::test]
async fn bad_token_params_name_the_parameter() {
    let node = Node::start().await;
    let cases = [
        (
            "token_info",
            json!([addr(ISSUER), "US"]),
            "`code` (param 1)",
        ),
        ("token_info", json!([addr(ISSUER), 5]), "`code` (param 1)"),
        ("token_info", json!([addr(ISSUER)]), "missing `code`"),
        ("token_info", json!(["qqq", "USD"]), "`issuer` (param 0)"),
        ("token_balances", json!([]), "missing `address`"),
        (
            "token_allowance",
            json!(["gold", addr(HOLDER), addr(ISSUER)]),
            "`asset` (param 0)",
        ),
        (
            "token_allowance",
            json!([{"issuer": addr(ISSUER), "code": "USDX"}, addr(HOLDER), addr(ISSUER)]),
            "code:",
        ),
        (
            "token_allowance",
            json!([{"issuer": addr(ISSUER), "code": "USD", "x": 1}, addr(HOLDER), addr(ISSUER)]),
            "unknown field `x`",
        ),
        (
            "token_allowance",
            json!([{"code": "USD"}, addr(HOLDER), addr(ISSUER)]),
            "`issuer` must be a string",
        ),
        (
            "token_allowance",
            json!(["native", addr(HOLDER)]),
            "missing `spender`",
        ),
    ];
    for (method, params, needle) in cases {
        let (code, message) = node.fails(method, params.clone()).await;
        assert_eq!(code, i64::from(codes::INVALID_PARAMS), "{method}({params})");
        assert!(message.contains(needle), "{needle:?} not in {message:?}");
    }
    // Nothing reached the runtime.
    assert!(node.backend.call_log().is_empty());
    // A failing runtime and a malformed answer are errors too, not panics.
    node.backend
        .set_call(TOKEN_INFO, Err("trap: unreachable".into()));
    let (code, _) = node.fails("token_info", json!([addr(ISSUER), "USD"])).await;
    assert_eq!(code, i64::from(codes::RUNTIME_ERROR));
    node.backend.set_call(TOKEN_INFO, Ok(vec![1, 2]));
    let (code, _) = node.fails("token_info", json!([addr(ISSUER), "USD"])).await;
    assert_eq!(code, i64::from(codes::DECODE_ERROR));
    node.assert_alive().await;
}
