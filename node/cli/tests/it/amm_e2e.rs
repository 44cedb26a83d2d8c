//! The AMM end to end on a `qstack --dev` node, through `qstack tx amm` and
//! the `amm_*` RPC methods: Alice issues USD and creates the native/USD
//! pool; Bob swaps both ways, each time first with a slippage limit one
//! unit past the quote (refused by name, nothing moves) and then at the
//! quote (the amount received is exactly the quote); an issuer's freeze
//! keeps Bob out of the pool; Alice votes a new fee, bids for the auction
//! slot and withdraws everything, which deletes the pool.

use crate::common::{address, qstack, Node};
use serde_json::{json, Value};

fn amm_tx(node: &Node, from: &str, args: &[&str]) -> (bool, String) {
    let ws = node.ws();
    let mut all = vec!["tx", "amm"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--from", from, "--rpc", &ws]);
    qstack(&all)
}

fn amm_ok(node: &Node, from: &str, args: &[&str]) -> String {
    let (ok, out) = amm_tx(node, from, args);
    assert!(ok, "qstack tx amm {args:?} failed:\n{out}");
    assert!(out.contains("In block"), "{out}");
    out
}

/// Bob's `qstack tx amm swap --path PATH` with `[amount flag, amount,
/// limit flag, limit]`.
fn swap(node: &Node, path: &str, amounts: [&str; 4]) -> (bool, String) {
    let mut args = vec!["swap", "--path", path];
    args.extend_from_slice(&amounts);
    amm_tx(node, "//Bob", &args)
}

fn swap_ok(node: &Node, path: &str, amounts: [&str; 4]) {
    let (ok, out) = swap(node, path, amounts);
    assert!(
        ok && out.contains("In block"),
        "swap {amounts:?} failed:\n{out}"
    );
}

fn token_ok(node: &Node, from: &str, args: &[&str]) {
    let ws = node.ws();
    let mut all = vec!["tx", "token"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--from", from, "--rpc", &ws]);
    let (ok, out) = qstack(&all);
    assert!(ok, "qstack tx token {args:?} failed:\n{out}");
}

fn amount(v: &Value) -> u128 {
    v.as_str()
        .unwrap_or_else(|| panic!("an amount string, got {v}"))
        .parse()
        .unwrap()
}

fn usd_of(node: &Node, who: &str, usd: &Value) -> u128 {
    let answer = node.rpc("token_balances", json!([who]));
    answer["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"] == *usd)
        .map_or(0, |b| amount(&b["free"]))
}

fn quote(node: &Node, path: Value, amount: u128, exact_in: bool, who: &str) -> Value {
    node.rpc(
        "amm_quote",
        json!([path, amount.to_string(), exact_in, who]),
    )
}

#[test]
fn create_swap_both_ways_vote_bid_and_withdraw_all() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &["--instant-seal"]);
    let alice = address("//Alice", "sr25519");
    let bob = address("//Bob", "sr25519");
    let usd_cli = format!("USD@{alice}");
    let usd = json!({"issuer": alice, "code": "USD"});

    token_ok(
        &node,
        "//Alice",
        &[
            "issue",
            "--code",
            "USD",
            "--name",
            "US Dollar",
            "--symbol",
            "USD",
            "--decimals",
            "2",
        ],
    );
    for (who, n) in [(&alice, "10000000000"), (&bob, "1000000000")] {
        token_ok(
            &node,
            "//Alice",
            &["mint", "--code", "USD", "--to", who, "--amount", n],
        );
    }

    // No pool yet: `null`, and a quote is an error naming why.
    assert_eq!(node.rpc("amm_pool", json!(["native", usd])), Value::Null);
    let refused = node
        .try_rpc("amm_quote", json!([["native", usd], "1000", true]))
        .unwrap();
    assert!(
        refused["error"]["data"]
            .as_str()
            .is_some_and(|d| d.contains("Amm.NoPool")),
        "{refused}"
    );

    // Bad input is refused before anything is signed.
    let (ok, out) = amm_tx(
        &node,
        "//Alice",
        &[
            "create",
            "--asset-a",
            "native",
            "--asset-b",
            "USD",
            "--amount-a",
            "1",
            "--amount-b",
            "1",
            "--fee",
            "300",
        ],
    );
    assert!(!ok && out.contains("CODE@ISSUER"), "{out}");

    // 1000 QS (12 decimals) against 10 000 000.00 USD at 0.3%.
    amm_ok(
        &node,
        "//Alice",
        &[
            "create",
            "--asset-a",
            &usd_cli,
            "--asset-b",
            "native",
            "--amount-a",
            "1000000000",
            "--amount-b",
            "1000000000000000",
            "--fee",
            "300",
        ],
    );
    let pool = node.rpc("amm_pool", json!([usd, "native"]));
    assert_eq!(pool["assets"], json!(["native", usd]), "{pool}");
    assert_eq!(pool["reserves"], json!(["1000000000000000", "1000000000"]));
    // √(1e15 · 1e9) = 1e12 LP tokens, all Alice's.
    assert_eq!(pool["lpSupply"], "1000000000000");
    assert_eq!(pool["tradingFee"], 300);
    assert_eq!(pool["creator"], alice);
    assert_eq!(
        node.rpc("amm_pools", json!([])).as_array().unwrap().len(),
        1
    );
    let lp = pool["lpToken"].clone();
    assert_eq!(usd_of(&node, &alice, &lp), 1_000_000_000_000);

    // Bob sells 1 QS for USD: one unit more than the quote is refused.
    let path = json!(["native", usd]);
    let q = quote(&node, path.clone(), 1_000_000_000_000, true, &bob);
    let out_usd = amount(&q["amountOut"]);
    assert!(out_usd > 0 && out_usd < 1_000_000, "{q}");
    let usd0 = usd_of(&node, &bob, &usd);
    let (ok, out) = swap(
        &node,
        &format!("native,{usd_cli}"),
        [
            "--amount-in",
            "1000000000000",
            "--min-out",
            &(out_usd + 1).to_string(),
        ],
    );
    assert!(!ok && out.contains("Amm.Slippage"), "{out}");
    assert_eq!(usd_of(&node, &bob, &usd), usd0);
    swap_ok(
        &node,
        &format!("native,{usd_cli}"),
        [
            "--amount-in",
            "1000000000000",
            "--min-out",
            &out_usd.to_string(),
        ],
    );
    assert_eq!(usd_of(&node, &bob, &usd), usd0 + out_usd);

    // And back: Bob buys exactly 0.5 QS with USD, at most the quote.
    let back = json!([usd, "native"]);
    let q = quote(&node, back, 500_000_000_000, false, &bob);
    let cost = amount(&q["amountIn"]);
    let (ok, out) = swap(
        &node,
        &format!("{usd_cli},native"),
        [
            "--amount-out",
            "500000000000",
            "--max-in",
            &(cost - 1).to_string(),
        ],
    );
    assert!(!ok && out.contains("Amm.Slippage"), "{out}");
    let usd1 = usd_of(&node, &bob, &usd);
    swap_ok(
        &node,
        &format!("{usd_cli},native"),
        [
            "--amount-out",
            "500000000000",
            "--max-in",
            &cost.to_string(),
        ],
    );
    assert_eq!(usd_of(&node, &bob, &usd), usd1 - cost);

    // Bob adds liquidity in proportion (only that part of his offer is
    // taken) and takes it all out again.
    amm_ok(
        &node,
        "//Bob",
        &[
            "deposit",
            "--asset-a",
            "native",
            "--asset-b",
            &usd_cli,
            "--max-a",
            "1000000000000",
            "--max-b",
            "1000000",
        ],
    );
    let bob_lp = usd_of(&node, &bob, &lp);
    assert!(bob_lp > 0);
    amm_ok(
        &node,
        "//Bob",
        &[
            "withdraw",
            "--asset-a",
            &usd_cli,
            "--asset-b",
            "native",
            "--all",
        ],
    );
    assert_eq!(usd_of(&node, &bob, &lp), 0);

    // Alice freezes 1 cent of Bob's USD: Bob cannot trade in the pool.
    token_ok(
        &node,
        "//Alice",
        &["freeze", "--code", "USD", "--holder", &bob, "--amount", "1"],
    );
    let (ok, out) = swap(
        &node,
        &format!("native,{usd_cli}"),
        ["--amount-in", "1000000000000", "--min-out", "0"],
    );
    assert!(!ok && out.contains("Tokens.Frozen"), "{out}");

    // Alice, the only LP holder, votes 0.5%; then buys the auction slot.
    amm_ok(
        &node,
        "//Alice",
        &[
            "vote",
            "--asset-a",
            "native",
            "--asset-b",
            &usd_cli,
            "--fee",
            "500",
        ],
    );
    assert_eq!(
        node.rpc("amm_pool", json!(["native", usd]))["tradingFee"],
        500
    );
    amm_ok(
        &node,
        "//Alice",
        &["bid", "--asset-a", "native", "--asset-b", &usd_cli],
    );
    let pool = node.rpc("amm_pool", json!(["native", usd]));
    assert_eq!(pool["auctionSlot"]["owner"], alice, "{pool}");

    // Everything out: the pool is gone.
    amm_ok(
        &node,
        "//Alice",
        &[
            "withdraw",
            "--asset-a",
            "native",
            "--asset-b",
            &usd_cli,
            "--all",
        ],
    );
    assert_eq!(node.rpc("amm_pool", json!(["native", usd])), Value::Null);
    assert!(node
        .rpc("amm_pools", json!([]))
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(usd_of(&node, &alice, &lp), 0);
}
