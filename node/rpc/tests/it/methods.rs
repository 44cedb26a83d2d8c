//! Each method's happy path over HTTP, with the exact JSON Substrate sends.

use crate::common::{framed, hex, post, Node};
use codec::{Compact, Encode};
use qstack_core::hashing::blake2_256;
use qstack_core::{AccountId, Address, FalconPublic, MlDsaPublic, PublicKey};
use qstack_rpc::testing::{TestBackend, TEST_METADATA};
use qstack_rpc::{AccountInfo, ChainType, Justification, RpcConfig, RpcError, SubmitError};
use qstack_runtime_primitives::{
    AccountSettings, AssetId, DepositAuth, DepositRequest, OpaqueExtrinsic, SignerEntry,
    SignerListInfo, TokenCode,
};
use serde_json::{json, Value};

#[tokio::test]
async fn rpc_methods_lists_every_method_sorted() {
    let node = Node::start().await;
    let result = node.ok("rpc_methods", json!([])).await;
    let methods: Vec<&str> = result["methods"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|m| m.as_str().expect("names"))
        .collect();
    for name in [
        "rpc_methods",
        "system_name",
        "system_version",
        "system_chain",
        "system_chainType",
        "system_properties",
        "system_health",
        "system_accountNextIndex",
        "system_peers",
        "system_syncState",
        "system_localPeerId",
        "system_networkState",
        "system_localListenAddresses",
        "chain_getHeader",
        "chain_getBlock",
        "chain_getBlockHash",
        "chain_getFinalizedHead",
        "chain_getFinalisedHead",
        "chain_subscribeNewHeads",
        "chain_subscribeNewHead",
        "chain_unsubscribeNewHeads",
        "chain_subscribeFinalizedHeads",
        "chain_unsubscribeFinalizedHeads",
        "chain_subscribeAllHeads",
        "chain_unsubscribeAllHeads",
        "chain_getRuntimeVersion",
        "state_getStorage",
        "state_getKeysPaged",
        "state_getMetadata",
        "state_getRuntimeVersion",
        "state_call",
        "state_callAt",
        "state_getReadProof",
        "state_queryStorageAt",
        "state_subscribeRuntimeVersion",
        "state_unsubscribeRuntimeVersion",
        "state_subscribeStorage",
        "author_submitExtrinsic",
        "author_submitAndWatchExtrinsic",
        "author_unwatchExtrinsic",
        "author_pendingExtrinsics",
        "payment_queryInfo",
        "payment_queryFeeDetails",
        "account_info",
        "token_info",
        "token_balances",
        "token_allowance",
        "amm_pool",
        "amm_pools",
        "amm_quote",
        "staking_validators",
        "staking_validator",
        "staking_set",
        "staking_delegations",
        "staking_rewards",
        "staking_inflation",
        "gov_proposals",
        "gov_proposal",
        "gov_tally",
        "gov_votes",
        "gov_params",
    ] {
        assert!(methods.contains(&name), "{name} missing from {methods:?}");
    }
    let mut sorted = methods.clone();
    sorted.sort_unstable();
    assert_eq!(methods, sorted);
    assert_eq!(result.as_object().map(|o| o.len()), Some(1));
}

#[tokio::test]
async fn system_methods() {
    let backend = TestBackend::new();
    backend.update_system(|s| {
        s.peers = 3;
        s.is_syncing = true;
        s.should_have_peers = true;
        s.chain_type = ChainType::Live;
    });
    let node = Node::start_with(backend, |_| {}).await;
    assert_eq!(node.ok("system_name", json!([])).await, json!("qstack"));
    assert_eq!(
        node.ok("system_version", json!([])).await,
        json!("0.1.0-test")
    );
    assert_eq!(
        node.ok("system_chain", json!([])).await,
        json!("qstack Test")
    );
    assert_eq!(node.ok("system_chainType", json!([])).await, json!("Live"));
    assert_eq!(
        node.ok("system_properties", json!([])).await,
        json!({"tokenSymbol": "QST", "tokenDecimals": 12})
    );
    assert_eq!(
        node.ok("system_health", json!([])).await,
        json!({"peers": 3, "isSyncing": true, "shouldHavePeers": true})
    );
    // No params at all is the same as an empty list.
    assert_eq!(node.ok("system_name", Value::Null).await, json!("qstack"));
}

#[tokio::test]
async fn account_next_index_by_address_or_hex() {
    let node = Node::start().await;
    let who = AccountId([7; 32]);
    node.backend.set_account(
        who,
        AccountInfo {
            nonce: 5,
            ..AccountInfo::default()
        },
    );
    let address = Address::from(who).to_base58();
    assert_eq!(
        node.ok("system_accountNextIndex", json!([address])).await,
        json!(5)
    );
    assert_eq!(
        node.ok("system_accountNextIndex", json!([hex(&[7; 32])]))
            .await,
        json!(5)
    );
    let stranger = Address::from(AccountId([8; 32])).to_base58();
    assert_eq!(
        node.ok("system_accountNextIndex", json!([stranger])).await,
        json!(0)
    );
    // One character changed: the checksum catches it.
    let mut typo: Vec<char> = address.chars().collect();
    typo[10] = if typo[10] == 'a' { 'b' } else { 'a' };
    let typo: String = typo.into_iter().collect();
    let (code, message) = node.fails("system_accountNextIndex", json!([typo])).await;
    assert_eq!(code, -32602);
    assert!(message.contains("checksum"), "{message}");
}

#[tokio::test]
async fn headers_and_blocks() {
    let node = Node::start().await;
    let genesis = node.backend.genesis_hash();
    let xt = framed(&[4, 1, 2, 3]);
    let h1 = node.backend.import(vec![OpaqueExtrinsic(xt.clone())], &[]);
    let expected = json!({
        "parentHash": hex(genesis.as_bytes()),
        "number": "0x1",
        "stateRoot": hex(h1.state_root.as_bytes()),
        "extrinsicsRoot": hex(h1.extrinsics_root.as_bytes()),
        // PreRuntime (6), engine "TEST", compact length 4, block number 1 (u32 LE).
        "digest": { "logs": ["0x06544553541001000000"] },
    });
    let h1_hash = hex(h1.hash().as_bytes());
    assert_eq!(node.ok("chain_getHeader", json!([])).await, expected);
    assert_eq!(node.ok("chain_getHeader", json!([h1_hash])).await, expected);
    assert_eq!(
        node.ok("chain_getHeader", json!({ "hash": h1_hash })).await,
        expected,
        "named params"
    );

    let g = node
        .ok("chain_getHeader", json!([hex(genesis.as_bytes())]))
        .await;
    assert_eq!(g["number"], json!("0x0"));
    assert_eq!(g["parentHash"], json!(hex(&[0; 32])));
    assert_eq!(g["digest"], json!({ "logs": [] }));

    assert_eq!(
        node.ok("chain_getBlock", json!([h1_hash])).await,
        json!({
            "block": { "header": expected, "extrinsics": [hex(&xt)] },
            "justifications": null,
        })
    );
    assert_eq!(
        node.ok("chain_getBlock", json!([])).await["block"]["header"],
        expected
    );
    node.backend.add_justification(
        h1.hash(),
        Justification {
            engine_id: *b"BFT0",
            encoded: vec![1, 2, 3],
        },
    );
    // Substrate's (and subxt's) shape: ([u8; 4], Vec<u8>) as number arrays.
    assert_eq!(
        node.ok("chain_getBlock", json!([h1_hash])).await["justifications"],
        json!([[[66, 70, 84, 48], [1, 2, 3]]])
    );

    // Unknown blocks are null, as in Substrate.
    let unknown = hex(&[0xee; 32]);
    assert_eq!(
        node.ok("chain_getHeader", json!([unknown])).await,
        Value::Null
    );
    assert_eq!(
        node.ok("chain_getBlock", json!([unknown])).await,
        Value::Null
    );
}

#[tokio::test]
async fn block_hash_by_number_hex_or_list() {
    let node = Node::start().await;
    let genesis = hex(node.backend.genesis_hash().as_bytes());
    let h1 = hex(node.backend.import(vec![], &[]).hash().as_bytes());
    assert_eq!(node.ok("chain_getBlockHash", json!([])).await, json!(h1));
    assert_eq!(
        node.ok("chain_getBlockHash", json!([null])).await,
        json!(h1)
    );
    assert_eq!(
        node.ok("chain_getBlockHash", json!([0])).await,
        json!(genesis)
    );
    assert_eq!(
        node.ok("chain_getBlockHash", json!(["0x1"])).await,
        json!(h1)
    );
    assert_eq!(node.ok("chain_getBlockHash", json!([2])).await, Value::Null);
    assert_eq!(
        node.ok("chain_getBlockHash", json!([[0, "0x01", 9]])).await,
        json!([genesis, h1, null])
    );
    assert_eq!(node.ok("chain_getHead", json!([0])).await, json!(genesis));
}

#[tokio::test]
async fn finalized_head() {
    let node = Node::start().await;
    let genesis = hex(node.backend.genesis_hash().as_bytes());
    assert_eq!(
        node.ok("chain_getFinalizedHead", json!([])).await,
        json!(genesis)
    );
    let h1 = node.backend.import(vec![], &[]);
    node.backend.finalize(h1.hash());
    let h1 = json!(hex(h1.hash().as_bytes()));
    assert_eq!(node.ok("chain_getFinalizedHead", json!([])).await, h1);
    assert_eq!(node.ok("chain_getFinalisedHead", json!([])).await, h1);
}

fn genesis_with(storage: &[(&[u8], &[u8])]) -> TestBackend {
    TestBackend::with_genesis(
        storage
            .iter()
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect(),
    )
}

#[tokio::test]
async fn storage_reads_at_best_or_given_block() {
    let node = Node::start_with(genesis_with(&[(b"a1", b"v1")]), |_| {}).await;
    let genesis = hex(node.backend.genesis_hash().as_bytes());
    let h1 = node.backend.import(
        vec![],
        &[
            (b"a1".to_vec(), Some(b"v2".to_vec())),
            (b"b1".to_vec(), Some(b"new".to_vec())),
        ],
    );
    let best = hex(h1.hash().as_bytes());
    let key = hex(b"a1");
    assert_eq!(
        node.ok("state_getStorage", json!([key])).await,
        json!(hex(b"v2"))
    );
    assert_eq!(
        node.ok("state_getStorage", json!([key, genesis])).await,
        json!(hex(b"v1"))
    );
    assert_eq!(
        node.ok("state_getStorageAt", json!([key, genesis])).await,
        json!(hex(b"v1"))
    );
    assert_eq!(
        node.ok("state_getStorage", json!([hex(b"zz")])).await,
        Value::Null
    );
    assert_eq!(
        node.ok("state_getStorageHash", json!([key])).await,
        json!(hex(&blake2_256(b"v2")))
    );
    assert_eq!(
        node.ok("state_getStorageSize", json!([key])).await,
        json!(2)
    );
    assert_eq!(
        node.ok("state_queryStorageAt", json!([[key, hex(b"zz")]]))
            .await,
        json!([{ "block": best, "changes": [[key, hex(b"v2")], [hex(b"zz"), null]] }])
    );

    let (code, message) = node
        .fails("state_getStorage", json!([key, hex(&[0xee; 32])]))
        .await;
    assert_eq!(code, 4003);
    assert!(message.contains("unknown block"), "{message}");
}

#[tokio::test]
async fn keys_paged() {
    let node = Node::start_with(
        genesis_with(&[(b"a1", b"1"), (b"a2", b"2"), (b"a3", b"3"), (b"b1", b"4")]),
        |_| {},
    )
    .await;
    let keys = |ks: &[&[u8]]| json!(ks.iter().map(|k| hex(k)).collect::<Vec<_>>());
    assert_eq!(
        node.ok("state_getKeysPaged", json!([hex(b"a"), 10])).await,
        keys(&[b"a1", b"a2", b"a3"])
    );
    assert_eq!(
        node.ok("state_getKeysPaged", json!([hex(b"a"), 2])).await,
        keys(&[b"a1", b"a2"])
    );
    assert_eq!(
        node.ok("state_getKeysPaged", json!([hex(b"a"), 2, hex(b"a2")]))
            .await,
        keys(&[b"a3"])
    );
    assert_eq!(
        node.ok("state_getKeysPaged", json!([null, 1000])).await,
        keys(&[b"a1", b"a2", b"a3", b"b1"])
    );
    let genesis = hex(node.backend.genesis_hash().as_bytes());
    assert_eq!(
        node.ok("state_getKeysPagedAt", json!([hex(b"b"), 5, null, genesis]))
            .await,
        keys(&[b"b1"])
    );
    // Substrate refuses (does not cap) a count above 1000.
    assert_eq!(
        node.fails("state_getKeysPaged", json!([hex(b"a"), 1001]))
            .await,
        (
            4002,
            "count exceeds maximum value. value: 1001, max: 1000".to_owned()
        )
    );
}

#[tokio::test]
async fn runtime_calls_metadata_and_version() {
    let node = Node::start().await;
    node.backend.set_call("Core_version", Ok(vec![0xde, 0xad]));
    assert_eq!(
        node.ok("state_call", json!(["Core_version", "0x0102"]))
            .await,
        json!("0xdead")
    );
    let genesis = node.backend.genesis_hash();
    assert_eq!(
        node.ok(
            "state_callAt",
            json!(["Core_version", "0x", hex(genesis.as_bytes())])
        )
        .await,
        json!("0xdead")
    );
    let log = node.backend.call_log();
    assert_eq!(
        log[0],
        (genesis, "Core_version".to_owned(), vec![1, 2]),
        "input and block reach the runtime"
    );

    node.backend
        .set_call("Core_version", Err("wasm trap: unreachable".into()));
    let (code, message) = node
        .fails("state_call", json!(["Core_version", "0x"]))
        .await;
    assert_eq!(code, 4003);
    assert!(message.contains("wasm trap: unreachable"), "{message}");

    assert_eq!(
        node.ok("state_getMetadata", json!([])).await,
        json!(hex(TEST_METADATA))
    );

    let version = json!({
        "specName": "qstack-test",
        "implName": "qstack-test-node",
        "authoringVersion": 1,
        "specVersion": 100,
        "implVersion": 0,
        // blake2-64 of "Core" and "Metadata": the ids every client looks for.
        "apis": [["0xdf6acb689907609b", 5], ["0x37e397fc7c91f5e4", 2]],
        "transactionVersion": 1,
        "systemVersion": 1,
    });
    assert_eq!(node.ok("state_getRuntimeVersion", json!([])).await, version);
    assert_eq!(node.ok("chain_getRuntimeVersion", json!([])).await, version);
}

#[tokio::test]
async fn read_proof() {
    let node = Node::start_with(genesis_with(&[(b"k", b"v")]), |_| {}).await;
    let best = hex(node.backend.best_hash().as_bytes());
    // The test backend's stand-in proof: one (key, value) encoding per present key.
    let node_bytes = (b"k".to_vec(), b"v".to_vec()).encode();
    assert_eq!(
        node.ok("state_getReadProof", json!([[hex(b"k"), hex(b"x")]]))
            .await,
        json!({ "at": best, "proof": [hex(&node_bytes)] })
    );
}

#[tokio::test]
async fn submit_and_pending() {
    let node = Node::start().await;
    let xt = framed(b"\x04hello");
    let hash = hex(&blake2_256(&xt));
    assert_eq!(
        node.ok("author_submitExtrinsic", json!([hex(&xt)])).await,
        json!(hash)
    );
    assert_eq!(
        node.ok("author_pendingExtrinsics", json!([])).await,
        json!([hex(&xt)])
    );
    assert_eq!(
        node.fails("author_submitExtrinsic", json!([hex(&xt)]))
            .await
            .0,
        1013
    );

    node.backend.refuse_submissions(Some(
        SubmitError::new(1010, "Invalid Transaction").with_data("Inability to pay some fees"),
    ));
    assert_eq!(
        node.error_object("author_submitExtrinsic", json!([hex(&framed(b"\x04x"))]))
            .await,
        json!({"code": 1010, "message": "Invalid Transaction", "data": "Inability to pay some fees"})
    );
}

#[tokio::test]
async fn upgrade_sized_extrinsic_is_accepted() {
    let node = Node::start().await;
    // A 3 MiB body (a large runtime upgrade): four-byte compact length prefix.
    let body = vec![0x42u8; 3 << 20];
    let mut xt = Compact(body.len() as u32).encode();
    xt.extend_from_slice(&body);
    let hash = node.ok("author_submitExtrinsic", json!([hex(&xt)])).await;
    assert_eq!(hash, json!(hex(&blake2_256(&xt))));
}

#[tokio::test]
async fn payment_query_fee_details() {
    use qstack_runtime::apis::{FeeDetails, InclusionFee};
    let node = Node::start().await;
    let details = FeeDetails {
        inclusion_fee: Some(InclusionFee {
            base_fee: 1_000_000_000,
            len_fee: 1_230_000_000,
            adjusted_weight_fee: u128::MAX,
        }),
        tip: 77,
    };
    node.backend.set_call(
        "TransactionPaymentApi_query_fee_details",
        Ok(details.encode()),
    );
    let xt = framed(b"\x84signed");
    assert_eq!(
        node.ok("payment_queryFeeDetails", json!([hex(&xt)])).await,
        json!({
            "inclusionFee": {
                "baseFee": "1000000000",
                "lenFee": "1230000000",
                "adjustedWeightFee": u128::MAX.to_string(),
            },
            "tip": "77",
        })
    );
    let (_, method, input) = node.backend.call_log().pop().expect("a call");
    assert_eq!(method, "TransactionPaymentApi_query_fee_details");
    let mut want = xt.clone();
    want.extend_from_slice(&(xt.len() as u32).to_le_bytes());
    assert_eq!(input, want, "(extrinsic as is, u32 length)");
    // Unsigned: no inclusion fee.
    let unsigned = FeeDetails {
        inclusion_fee: None,
        tip: 0,
    };
    node.backend.set_call(
        "TransactionPaymentApi_query_fee_details",
        Ok(unsigned.encode()),
    );
    assert_eq!(
        node.ok("payment_queryFeeDetails", json!([hex(&xt)])).await,
        json!({"inclusionFee": null, "tip": "0"})
    );
    let (code, _) = node.fails("payment_queryFeeDetails", json!(["0x00"])).await;
    assert_eq!(code, 2);
}

#[tokio::test]
async fn payment_query_info() {
    let node = Node::start().await;
    let answer = (
        Compact(123_456u64),
        Compact(789u64),
        1u8,
        100_000_000_000_000_000_005u128,
    )
        .encode();
    node.backend
        .set_call("TransactionPaymentApi_query_info", Ok(answer));
    let xt = framed(b"\x84signed");
    assert_eq!(
        node.ok("payment_queryInfo", json!([hex(&xt)])).await,
        json!({
            "weight": { "ref_time": 123456, "proof_size": 789 },
            "class": "operational",
            "partialFee": "100000000000000000005",
        })
    );
    let (_, method, input) = node.backend.call_log().pop().expect("a call");
    assert_eq!(method, "TransactionPaymentApi_query_info");
    let mut want = xt.clone();
    want.extend_from_slice(&(xt.len() as u32).to_le_bytes());
    assert_eq!(input, want, "(extrinsic as is, u32 length)");

    // A runtime failure (1) and an undecodable answer (2), as Substrate.
    node.backend
        .set_call("TransactionPaymentApi_query_info", Err("trap".into()));
    let e = node
        .error_object("payment_queryInfo", json!([hex(&xt)]))
        .await;
    assert_eq!(e["code"], 1);
    assert_eq!(e["message"], "Unable to query dispatch info.");
    node.backend
        .set_call("TransactionPaymentApi_query_info", Ok(vec![1, 2]));
    assert_eq!(
        node.fails("payment_queryInfo", json!([hex(&xt)])).await.0,
        2
    );
}

#[tokio::test]
async fn account_info_with_and_without_key() {
    let node = Node::start().await;
    let key = PublicKey::Hybrid(FalconPublic([1; 897]), MlDsaPublic([2; 1312]));
    let who = key.account_id();
    let regular = PublicKey::Sr25519([4; 32]);
    let signer = AccountId([5; 32]);
    let issuer = AccountId([6; 32]);
    let usd = AssetId::Issued {
        issuer,
        code: TokenCode::parse("USD").unwrap(),
    };
    node.backend.set_account(
        who,
        AccountInfo {
            nonce: 3,
            free: 12_345_678_901_234_567_890_123,
            key: Some(key),
            settings: AccountSettings {
                master_disabled: true,
                regular_key: Some(regular),
                signer_list: Some(SignerListInfo {
                    quorum: 2,
                    signers: vec![SignerEntry {
                        account: signer,
                        weight: 2,
                    }],
                }),
                tickets: vec![7, 9],
                require_dest_tag: true,
                deposit_auth: DepositAuth::Requests,
                preauthorized: vec![signer],
                allowed_assets: Some(vec![AssetId::Native, usd]),
                deposit_requests: vec![DepositRequest {
                    to: issuer,
                    asset: usd,
                    amount: 500,
                    approved: true,
                }],
            },
            owned: 7,
            reserve: 2_400_000_000_000,
        },
    );
    let address = Address::from(who).to_base58();
    let (signer_addr, issuer_addr) = (
        Address::from(signer).to_base58(),
        Address::from(issuer).to_base58(),
    );
    let mut raw_key = vec![1u8; 897];
    raw_key.extend_from_slice(&[2u8; 1312]);
    let master = json!({ "scheme": "hybrid", "publicKey": hex(&raw_key) });
    let expected = json!({
        "address": address,
        "accountId": hex(who.as_bytes()),
        "nonce": 3,
        "free": "12345678901234567890123",
        "reserve": { "owned": 7, "locked": "2400000000000", "spendable": "12345678898834567890123" },
        "key": master,
        "keys": {
            "master": master,
            "masterDisabled": true,
            "regular": { "scheme": "sr25519", "publicKey": hex(&[4; 32]) },
        },
        "flags": {
            "masterDisabled": true,
            "requireDestTag": true,
            "depositAuth": "requests",
            "tokenRefusal": true,
        },
        "signerList": { "quorum": 2, "signers": [{ "address": signer_addr, "weight": 2 }] },
        "tickets": { "count": 2, "sequences": [7, 9] },
        "deposit": {
            "preauthorized": [signer_addr],
            "allowedAssets": ["native", { "issuer": issuer_addr, "code": "USD" }],
            "requests": [{
                "to": issuer_addr,
                "asset": { "issuer": issuer_addr, "code": "USD" },
                "amount": "500",
                "approved": true,
            }],
        },
    });
    assert_eq!(node.ok("account_info", json!([address])).await, expected);
    assert_eq!(
        node.ok("account_info", json!([hex(who.as_bytes())])).await,
        expected
    );

    let nobody = AccountId([3; 32]);
    assert_eq!(
        node.ok("account_info", json!([hex(nobody.as_bytes())]))
            .await,
        json!({
            "address": Address::from(nobody).to_base58(),
            "accountId": hex(nobody.as_bytes()),
            "nonce": 0,
            "free": "0",
            "reserve": { "owned": 0, "locked": "0", "spendable": "0" },
            "key": null,
            "keys": { "master": null, "masterDisabled": false, "regular": null },
            "flags": {
                "masterDisabled": false,
                "requireDestTag": false,
                "depositAuth": "open",
                "tokenRefusal": false,
            },
            "signerList": null,
            "tickets": { "count": 0, "sequences": [] },
            "deposit": { "preauthorized": [], "allowedAssets": null, "requests": [] },
        })
    );
}

#[tokio::test]
async fn batch_requests_are_answered_together() {
    let node = Node::start().await;
    let body = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "system_name"},
        {"jsonrpc": "2.0", "id": 2, "method": "chain_getBlockHash", "params": [0]},
    ]);
    let (status, text) = post(node.addr(), body.to_string().as_bytes()).await;
    assert_eq!(status, 200);
    let answers: Value = serde_json::from_str(&text).expect("JSON");
    let answers = answers.as_array().expect("a batch answer");
    assert_eq!(answers.len(), 2);
    let by_id = |id: i64| {
        answers
            .iter()
            .find(|a| a["id"] == id)
            .expect("answered")
            .clone()
    };
    assert_eq!(by_id(1)["result"], "qstack");
    assert_eq!(
        by_id(2)["result"],
        json!(hex(node.backend.genesis_hash().as_bytes()))
    );
}

#[tokio::test]
async fn a_batch_longer_than_the_bound_is_refused_whole() {
    let node = Node::start().await;
    let call = |id: u32| json!({"jsonrpc": "2.0", "id": id, "method": "system_name"});
    let at_bound: Vec<Value> = (0..qstack_rpc::DEFAULT_MAX_BATCH_LEN).map(call).collect();
    let (status, text) = post(node.addr(), Value::Array(at_bound).to_string().as_bytes()).await;
    assert_eq!(status, 200);
    let answers: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        answers.as_array().map(Vec::len),
        Some(qstack_rpc::DEFAULT_MAX_BATCH_LEN as usize)
    );
    let over: Vec<Value> = (0..=qstack_rpc::DEFAULT_MAX_BATCH_LEN).map(call).collect();
    let (_, text) = post(node.addr(), Value::Array(over).to_string().as_bytes()).await;
    let answer: Value = serde_json::from_str(&text).expect("JSON");
    assert!(
        answer.get("error").is_some(),
        "an over-long batch gets one error, not answers: {text}"
    );
}

#[tokio::test]
async fn port_in_use_is_a_clear_error() {
    let node = Node::start().await;
    let taken = RpcConfig {
        listen_addr: node.addr(),
        ..RpcConfig::default()
    };
    let err = qstack_rpc::start(taken, node.backend.clone())
        .await
        .expect_err("the port is taken");
    assert!(matches!(err, RpcError::Bind { .. }), "{err}");
    assert!(err.to_string().contains(&node.addr().to_string()), "{err}");
    node.assert_alive().await;
}

#[tokio::test]
async fn stop_closes_the_port() {
    let node = Node::start().await;
    let addr = node.addr();
    node.assert_alive().await;
    node.rpc.stop();
    crate::common::within(node.rpc.stopped()).await;
    let refused = tokio::net::TcpStream::connect(addr).await.is_err();
    assert!(refused, "still listening after stop");
}

#[tokio::test]
async fn health_endpoints_answer_get_for_load_balancers() {
    use crate::common::exchange;
    let backend = TestBackend::new();
    backend.update_system(|s| {
        s.peers = 0;
        s.is_syncing = false;
        s.should_have_peers = true;
    });
    let node = Node::start_with(backend, |_| {}).await;
    let addr = node.addr();
    let get = |path: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").into_bytes()
    };
    let (status, body) = exchange(addr, &get("/health")).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v,
        json!({"peers": 0, "isSyncing": false, "shouldHavePeers": true})
    );
    // No peers on a chain that needs them: not ready.
    let (status, _) = exchange(addr, &get("/health/readiness")).await;
    assert_eq!(status, 500);
    node.backend.update_system(|s| s.peers = 2);
    let (status, _) = exchange(addr, &get("/health/readiness")).await;
    assert_eq!(status, 200);
    node.backend.update_system(|s| s.is_syncing = true);
    let (status, _) = exchange(addr, &get("/health/readiness")).await;
    assert_eq!(status, 500);
    // A dev chain needs no peers.
    node.backend.update_system(|s| {
        s.is_syncing = false;
        s.peers = 0;
        s.should_have_peers = false;
    });
    let (status, _) = exchange(addr, &get("/health/readiness")).await;
    assert_eq!(status, 200);
    // JSON-RPC is unchanged.
    assert_eq!(node.ok("system_name", json!([])).await, json!("qstack"));
}
