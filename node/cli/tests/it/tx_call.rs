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
    let args = json!({"dest": erin, "value": "10000000000000", "dest_tag": 3}).to_string();
    let out = qstack_ok(&[
        "tx", "call", "Tokens", "transfer", &args, "--from", "//Alice", "--rpc", &ws,
    ]);
    assert!(out.contains("In block #"), "{out}");
    assert_eq!(free_of(&node, &erin), before + 10_000_000_000_000);

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

/// The example pallet of `docs/add-a-pallet.md` on a real dev node, with no
/// code of its own in the node: its call through `tx call`, its refusal by
/// name, its storage item at the key its metadata gives, its runtime API
/// over `state_call`, and its pallet and constant in the served metadata.
#[test]
fn the_example_pallet_works_end_to_end_over_rpc() {
    use codec::Decode;
    use qstack_core::hashing::twox_128;
    use qstack_runtime::notary::Note;
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &[]);
    let ws = node.ws();
    let hash = format!("0x{}", "ab".repeat(32));
    let args = json!({ "hash": hash }).to_string();
    let out = qstack_ok(&[
        "tx", "call", "Notary", "notarise", &args, "--from", "//Alice", "--rpc", &ws,
    ]);
    assert!(out.contains("In block #"), "{out}");

    let alice: qstack_core::Address = address("//Alice", "sr25519").parse().unwrap();
    let note = |v: &serde_json::Value| -> Option<Note> {
        let raw = hex::decode(v.as_str().unwrap().trim_start_matches("0x")).unwrap();
        Decode::decode(&mut &raw[..]).unwrap()
    };
    let answer = note(&node.rpc("state_call", json!(["NotaryApi_note", hash])));
    let answer = answer.expect("notarised");
    assert_eq!(answer.owner, alice.account_id());
    assert!(answer.block >= 1, "{answer:?}");

    // `Notary.Notes` at twox128("Notary") ++ twox128("Notes") ++ hash
    // (Identity): the same note.
    let key = [
        twox_128(b"Notary").to_vec(),
        twox_128(b"Notes").to_vec(),
        vec![0xab; 32],
    ]
    .concat();
    let stored = node.rpc(
        "state_getStorage",
        json!([format!("0x{}", hex::encode(key))]),
    );
    let stored = hex::decode(stored.as_str().unwrap().trim_start_matches("0x")).unwrap();
    assert_eq!(Note::decode(&mut &stored[..]).unwrap(), answer);

    // Registered once: a second notary is refused, and named.
    let (ok, out) = qstack(&[
        "tx", "call", "Notary", "notarise", &args, "--from", "//Bob", "--rpc", &ws,
    ]);
    assert!(!ok && out.contains("Notary.AlreadyNotarised"), "{out}");

    // The served metadata names the pallet, its storage and its constant.
    let meta = node.rpc("state_getMetadata", json!([]));
    let meta = hex::decode(meta.as_str().unwrap().trim_start_matches("0x")).unwrap();
    for name in [
        "Notary",
        "Notes",
        "NoteCount",
        "MaxNotesPerAccount",
        "Notarised",
    ] {
        assert!(
            meta.windows(name.len()).any(|w| w == name.as_bytes()),
            "{name} not in the metadata"
        );
    }
}
