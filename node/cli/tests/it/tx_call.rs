//! `qstack tx call`: calls encoded from the node's own metadata and JSON
//! arguments, with no subcommand of their own, land on a `qstack --dev`
//! node; a wrong name or argument is refused before anything is signed.

use crate::common::{address, free_of, qstack, qstack_ok, Node};
use serde_json::json;

#[test]
fn a_call_from_metadata_and_json_moves_funds_and_sets_account_rules() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &[]);
    let ws = node.ws();
    let erin = address("//Erin", "sr25519");
    let before = free_of(&node, &erin);
    let args = json!({"dest": erin, "value": "1000000000000", "dest_tag": 3}).to_string();
    let out = qstack_ok(&[
        "tx", "call", "Tokens", "transfer", &args, "--from", "//Alice", "--rpc", &ws,
    ]);
    assert!(out.contains("In block #"), "{out}");
    assert_eq!(free_of(&node, &erin), before + 1_000_000_000_000);

    // A call with an enum argument, signed by the new account itself.
    qstack_ok(&[
        "tx",
        "call",
        "accounts",
        "set_require_dest_tag",
        r#"{"required": true}"#,
        "--from",
        "//Erin",
        "--rpc",
        &ws,
    ]);
    let info = node.rpc("account_info", json!([erin]));
    assert_eq!(info["flags"]["requireDestTag"], true, "{info}");
    let (ok, out) = qstack(&[
        "tx", "transfer", "--from", "//Alice", "--to", &erin, "--amount", "1", "--rpc", &ws,
    ]);
    assert!(
        !ok && out.contains("Accounts.DestinationTagRequired"),
        "a deposit without a tag is refused: {out}"
    );

    // Mistakes are named, with what exists.
    let (ok, out) = qstack(&[
        "tx", "call", "Tokens", "transfr", "{}", "--from", "//Alice", "--rpc", &ws,
    ]);
    assert!(
        !ok && out.contains("no call \"transfr\"") && out.contains("TransferToken"),
        "{out}"
    );
    let (ok, out) = qstack(&[
        "tx",
        "call",
        "Tokens",
        "transfer",
        r#"{"dest": "nope", "value": 1}"#,
        "--from",
        "//Alice",
        "--rpc",
        &ws,
    ]);
    assert!(!ok && out.contains("Tokens.Transfer.dest"), "{out}");
    let (ok, out) = qstack(&[
        "tx", "call", "Tokens", "transfer", "{dest", "--from", "//Alice", "--rpc", &ws,
    ]);
    assert!(!ok && out.contains("not JSON"), "{out}");
}
