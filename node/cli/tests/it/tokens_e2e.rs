//! Issued tokens end to end on a `qstack --dev` node, through the `qstack tx
//! token` CLI and the `token_*` RPC methods: issue, mint, approve,
//! transfer_from by the spender, freeze, and a refused transfer whose error
//! the CLI names and RPC shows in the block's events.

use crate::common::{address, block_hash_of, qstack, qstack_ok, Node};
use codec::Decode;
use qstack_runtime::{system, tokens, EventRecord, RuntimeEvent};
use qstack_runtime_primitives::DispatchError;
use serde_json::{json, Value};

/// Runs `qstack tx token <args> --from <suri> --rpc <node>`.
fn token_tx(node: &Node, from: &str, args: &[&str]) -> (bool, String) {
    let ws = node.ws();
    let mut all = vec!["tx", "token"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--from", from, "--rpc", &ws]);
    qstack(&all)
}

fn token_tx_ok(node: &Node, from: &str, args: &[&str]) -> String {
    let (ok, out) = token_tx(node, from, args);
    assert!(ok, "qstack tx token {args:?} failed:\n{out}");
    assert!(out.contains("In block"), "{out}");
    out
}

/// Alice issues "US Dollar" (USD, 2 decimals), with `extra` flags.
fn issue_usd(node: &Node, extra: &[&str]) {
    let mut args = vec![
        "issue",
        "--code",
        "USD",
        "--name",
        "US Dollar",
        "--symbol",
        "USD",
        "--decimals",
        "2",
    ];
    args.extend_from_slice(extra);
    token_tx_ok(node, "//Alice", &args);
}

/// The issued-token entry of `token_balances(who)`, as (free, frozen).
fn usd_of(node: &Node, who: &str, issuer: &str) -> (u128, u128) {
    let answer = node.rpc("token_balances", json!([who]));
    assert_eq!(answer["address"], who);
    let list = answer["balances"].as_array().expect("a list");
    assert_eq!(list[0]["asset"], "native", "native first: {answer}");
    assert_eq!(
        list[0]["symbol"], "QS",
        "the chain spec's tokenSymbol: {answer}"
    );
    let usd = list
        .iter()
        .find(|b| b["asset"] == json!({"issuer": issuer, "code": "USD"}));
    usd.map_or((0, 0), |b| {
        assert_eq!(b["symbol"], "USD");
        assert_eq!(b["decimals"], 2);
        (
            b["free"].as_str().unwrap().parse().unwrap(),
            b["frozen"].as_str().unwrap().parse().unwrap(),
        )
    })
}

fn allowance(node: &Node, issuer: &str, owner: &str, spender: &str) -> u128 {
    node.rpc(
        "token_allowance",
        json!([{"issuer": issuer, "code": "USD"}, owner, spender]),
    )["allowance"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The `ExtrinsicFailed` errors recorded in `block`'s events, read over RPC.
fn failures_in(node: &Node, block: &str) -> Vec<DispatchError> {
    let key = format!(
        "0x{}",
        hex::encode(qstack_runtime_primitives::storage::item_prefix(
            "System", "Events"
        ))
    );
    let raw = node.rpc("state_getStorage", json!([key, block]));
    let bytes = hex::decode(raw.as_str().unwrap().trim_start_matches("0x")).unwrap();
    Vec::<EventRecord>::decode(&mut &bytes[..])
        .unwrap()
        .into_iter()
        .filter_map(|r| match r.event {
            RuntimeEvent::System(system::Event::ExtrinsicFailed { dispatch_error, .. }) => {
                Some(dispatch_error)
            }
            _ => None,
        })
        .collect()
}

#[test]
fn issue_approve_transfer_from_freeze_and_a_refused_transfer() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &["--instant-seal"]);
    let alice = address("//Alice", "sr25519");
    let bob = address("//Bob", "sr25519");
    let charlie = address("//Charlie", "sr25519");
    let dave = address("//Dave", "sr25519");

    // Alice issues USD; nothing exists yet.
    assert_eq!(node.rpc("token_info", json!([alice, "USD"])), Value::Null);
    issue_usd(&node, &["--max-supply", "1000000"]);
    let info = node.rpc("token_info", json!([alice, "USD"]));
    assert_eq!(info["name"], "US Dollar");
    assert_eq!(info["totalSupply"], "0");
    assert_eq!(info["maxSupply"], "1000000");

    // Mint to Bob; Bob lets Charlie spend 3 000.
    token_tx_ok(
        &node,
        "//Alice",
        &["mint", "--code", "USD", "--to", &bob, "--amount", "10000"],
    );
    token_tx_ok(
        &node,
        "//Bob",
        &[
            "approve",
            "--issuer",
            &alice,
            "--code",
            "USD",
            "--spender",
            &charlie,
            "--amount",
            "3000",
        ],
    );
    assert_eq!(allowance(&node, &alice, &bob, &charlie), 3000);

    // Charlie moves 2 000 of Bob's to Dave, with a destination tag.
    token_tx_ok(
        &node,
        "//Charlie",
        &[
            "transfer-from",
            "--issuer",
            &alice,
            "--code",
            "USD",
            "--owner",
            &bob,
            "--to",
            &dave,
            "--amount",
            "2000",
            "--dest-tag",
            "7",
        ],
    );
    assert_eq!(usd_of(&node, &dave, &alice), (2000, 0));
    assert_eq!(usd_of(&node, &bob, &alice), (8000, 0));
    assert_eq!(allowance(&node, &alice, &bob, &charlie), 1000);
    // More than what is left of the allowance is refused, by name.
    let (ok, out) = token_tx(
        &node,
        "//Charlie",
        &[
            "transfer-from",
            "--issuer",
            &alice,
            "--code",
            "USD",
            "--owner",
            &bob,
            "--to",
            &dave,
            "--amount",
            "1001",
        ],
    );
    assert!(!ok && out.contains("Tokens.InsufficientAllowance"), "{out}");

    // Alice freezes 7 500 of Bob's 8 000: 501 is one over what he can move.
    token_tx_ok(
        &node,
        "//Alice",
        &[
            "freeze", "--code", "USD", "--holder", &bob, "--amount", "7500",
        ],
    );
    assert_eq!(usd_of(&node, &bob, &alice), (500, 7500));
    let (ok, out) = token_tx(
        &node,
        "//Bob",
        &[
            "transfer", "--issuer", &alice, "--code", "USD", "--to", &dave, "--amount", "501",
        ],
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("included but failed: Tokens.InsufficientBalance"),
        "the CLI names the module error:\n{out}"
    );
    // Through RPC: the block's events hold the failure as the tokens pallet's error.
    assert_eq!(
        failures_in(&node, &block_hash_of(&out)),
        vec![DispatchError::from(tokens::Error::InsufficientBalance)]
    );
    // Nothing moved (the fee was paid in the native token).
    assert_eq!(usd_of(&node, &bob, &alice), (500, 7500));
    assert_eq!(usd_of(&node, &dave, &alice), (2000, 0));
    token_tx_ok(
        &node,
        "//Bob",
        &[
            "transfer", "--issuer", &alice, "--code", "USD", "--to", &dave, "--amount", "500",
        ],
    );

    // Pause, then no-freeze: pausing again is refused for good.
    token_tx_ok(&node, "//Alice", &["pause", "--code", "USD"]);
    let (ok, out) = token_tx(
        &node,
        "//Dave",
        &[
            "transfer", "--issuer", &alice, "--code", "USD", "--to", &bob, "--amount", "1",
        ],
    );
    assert!(!ok && out.contains("Tokens.Paused"), "{out}");
    token_tx_ok(&node, "//Alice", &["unpause", "--code", "USD"]);
    let (ok, out) = token_tx(&node, "//Alice", &["no-freeze", "--code", "USD"]);
    assert!(
        !ok && out.contains("--yes"),
        "no-freeze asks for confirmation:\n{out}"
    );
    token_tx_ok(&node, "//Alice", &["no-freeze", "--code", "USD", "--yes"]);
    let (ok, out) = token_tx(&node, "//Alice", &["pause", "--code", "USD"]);
    assert!(!ok && out.contains("Tokens.NoFreezeDeclared"), "{out}");
    // Lifting the existing freeze is still allowed.
    token_tx_ok(
        &node,
        "//Alice",
        &["unfreeze", "--code", "USD", "--holder", &bob, "--all"],
    );
    assert_eq!(usd_of(&node, &bob, &alice), (7500, 0));
    let info = node.rpc("token_info", json!([alice, "USD"]));
    assert_eq!(info["totalSupply"], "10000");
    assert_eq!(info["holders"], 2);
    assert_eq!(info["noFreeze"], true);

    // Bad input is refused before anything is signed.
    let (ok, out) = token_tx(
        &node,
        "//Alice",
        &[
            "issue",
            "--code",
            "TOOLONG",
            "--name",
            "x",
            "--symbol",
            "x",
            "--decimals",
            "2",
        ],
    );
    assert!(!ok && out.contains("--code"), "{out}");
    let (ok, out) = token_tx(
        &node,
        "//Alice",
        &[
            "issue",
            "--code",
            "EUR",
            "--name",
            "Euro",
            "--symbol",
            "E U R",
            "--decimals",
            "2",
        ],
    );
    assert!(!ok && out.contains("--symbol"), "{out}");
    // The plain native transfer still works, with a destination tag.
    let before = crate::common::free_of(&node, &dave);
    qstack_ok(&[
        "tx",
        "transfer",
        "--from",
        "//Alice",
        "--to",
        &dave,
        "--amount",
        "5000",
        "--dest-tag",
        "9",
        "--rpc",
        &node.ws(),
    ]);
    assert_eq!(crate::common::free_of(&node, &dave), before + 5000);
}

#[test]
fn fees_are_split_between_the_author_and_the_treasury() {
    let dir = tempfile::tempdir().unwrap();
    // The author must exist to take its share (a share that would leave it
    // below the existential deposit goes to the treasury): Charlie is
    // funded in the dev spec, and the treasury from genesis.
    let eve = address("//Charlie", "sr25519");
    let node = Node::start(dir.path(), &["--instant-seal", "--author", &eve]);
    let treasury = qstack_core::Address::from(tokens::fees::default_treasury()).to_base58();
    let bob = address("//Bob", "sr25519");
    let eve_before = crate::common::free_of(&node, &eve);
    let treasury_before = crate::common::free_of(&node, &treasury);
    assert_eq!(treasury_before, tokens::EXISTENTIAL_DEPOSIT);
    let out = qstack_ok(&[
        "tx",
        "transfer",
        "--from",
        "//Alice",
        "--to",
        &bob,
        "--amount",
        "5000",
        "--rpc",
        &node.ws(),
    ]);
    // The block's FeePaid event, read over RPC, names Eve and the split.
    let key = format!(
        "0x{}",
        hex::encode(qstack_runtime_primitives::storage::item_prefix(
            "System", "Events"
        ))
    );
    let raw = node.rpc("state_getStorage", json!([key, block_hash_of(&out)]));
    let bytes = hex::decode(raw.as_str().unwrap().trim_start_matches("0x")).unwrap();
    let paid: Vec<tokens::Event> = Vec::<EventRecord>::decode(&mut &bytes[..])
        .unwrap()
        .into_iter()
        .filter_map(|r| match r.event {
            RuntimeEvent::Tokens(e @ tokens::Event::FeePaid { .. }) => Some(e),
            _ => None,
        })
        .collect();
    let [tokens::Event::FeePaid {
        amount,
        author,
        to_author,
        to_treasury,
        burned,
        ..
    }] = paid.as_slice()
    else {
        panic!("one FeePaid event expected: {paid:?}");
    };
    let eve_id = eve.parse::<qstack_core::Address>().unwrap().account_id();
    assert_eq!(*author, Some(eve_id));
    // The dev spec's split: 20 % to the author, the rest to the treasury.
    assert_eq!(*to_author, amount / 100 * 20 + amount % 100 * 20 / 100);
    assert_eq!(*to_author + *to_treasury, *amount);
    assert_eq!(*burned, 0);
    assert_eq!(crate::common::free_of(&node, &eve), eve_before + *to_author);
    assert_eq!(
        crate::common::free_of(&node, &treasury),
        treasury_before + *to_treasury
    );
}

/// What `account_info` says of `who`'s reserve: (owned, locked, spendable).
fn reserve_of(node: &Node, who: &str) -> (u64, u128, u128) {
    let info = node.rpc("account_info", json!([who]));
    let r = &info["reserve"];
    let amount = |v: &Value| v.as_str().unwrap().parse::<u128>().unwrap();
    (
        r["owned"].as_u64().unwrap(),
        amount(&r["locked"]),
        amount(&r["spendable"]),
    )
}

#[test]
fn reserves_and_give_back_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &["--instant-seal"]);
    let alice = address("//Alice", "sr25519");
    let dave = address("//Dave", "sr25519");
    let r = tokens::Reserves::default();
    let (owned, locked, _) = reserve_of(&node, &dave);
    assert_eq!((owned, locked), (0, r.account));

    // Alice issues a token and mints frozen dust to Dave: the token and
    // Dave's holding lock Alice's reserve, not Dave's.
    issue_usd(&node, &[]);
    token_tx_ok(
        &node,
        "//Alice",
        &["mint", "--code", "USD", "--to", &dave, "--amount", "1"],
    );
    token_tx_ok(
        &node,
        "//Alice",
        &["freeze", "--code", "USD", "--holder", &dave, "--all"],
    );
    token_tx_ok(&node, "//Alice", &["pause", "--code", "USD"]);
    let (owned, locked, _) = reserve_of(&node, &alice);
    assert_eq!((owned, locked), (2, r.account + 2 * r.owner));
    assert_eq!(reserve_of(&node, &dave).0, 0);
    assert_eq!(usd_of(&node, &dave, &alice), (0, 1));

    // Dave gives the frozen dust back, though the token is paused: his
    // slot and Alice's reserve are free again, and the supply falls.
    token_tx_ok(
        &node,
        "//Dave",
        &["give-back", "--issuer", &alice, "--code", "USD"],
    );
    assert_eq!(usd_of(&node, &dave, &alice), (0, 0));
    assert_eq!(reserve_of(&node, &alice).0, 1);
    let info = node.rpc("token_info", json!([alice, "USD"]));
    assert_eq!(info["totalSupply"], "0");
    // Twice is refused, with the reason.
    let (ok, out) = token_tx(
        &node,
        "//Dave",
        &["give-back", "--issuer", &alice, "--code", "USD"],
    );
    assert!(!ok && out.contains("Tokens.NothingHeld"), "{out}");

    // A fresh account funded with exactly the account reserve cannot pay
    // for an object: the call fails with the reason and nothing is stored.
    let poor = address("//Poor", "sr25519");
    qstack_ok(&[
        "tx",
        "transfer",
        "--from",
        "//Alice",
        "--to",
        &poor,
        "--amount",
        &(r.account + r.owner / 2).to_string(),
        "--rpc",
        &node.ws(),
    ]);
    let (ok, out) = qstack(&[
        "tx",
        "create-tickets",
        "--from",
        "//Poor",
        "--count",
        "1",
        "--rpc",
        &node.ws(),
    ]);
    assert!(!ok && out.contains("Tokens.InsufficientReserve"), "{out}");
    let info = node.rpc("account_info", json!([poor]));
    assert_eq!(info["tickets"]["count"], 0, "{info}");
    assert_eq!(info["reserve"]["owned"], 0, "{info}");
}
