//! End-to-end tests of accounts and keys on a `qstack --dev` node, driven
//! through the `qstack tx` CLI and checked over RPC: an sr25519 account moves
//! to a hybrid post-quantum regular key and disables its master key; a 2-of-3
//! multi-signing account sends a transfer whose signatures were gathered
//! offline, in another order than listed.

use crate::common::*;
use codec::Decode;
use qstack_runtime::Extrinsic;
use qstack_runtime_primitives::{ExtrinsicSignature, MultiAddress, SignerKey};
use serde_json::{json, Value};

/// The extrinsics of the block the CLI output names.
fn block_extrinsics(node: &Node, cli_output: &str) -> Vec<Extrinsic> {
    let block = node.rpc("chain_getBlock", json!([block_hash_of(cli_output)]));
    block["block"]["extrinsics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let raw = hex::decode(x.as_str().unwrap().trim_start_matches("0x")).unwrap();
            Extrinsic::decode(&mut &raw[..]).unwrap()
        })
        .collect()
}

fn account_info(node: &Node, addr: &str) -> Value {
    node.rpc("account_info", json!([addr]))
}

/// The signed extrinsic from `who` (an address) among `xts`.
fn from_account<'a>(xts: &'a [Extrinsic], who: &str) -> &'a Extrinsic {
    let who = who.parse::<qstack_core::Address>().unwrap().account_id();
    xts.iter()
        .find(|x| match &x.signature {
            Some((MultiAddress::Id(id), _, _)) => *id == who,
            Some((MultiAddress::Key(pk), _, _)) => pk.account_id() == who,
            None => false,
        })
        .expect("the account's extrinsic is in the block")
}

#[test]
fn sr25519_account_moves_to_a_hybrid_regular_key_and_disables_its_master() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &[]);
    let rpc = node.ws();
    let alice = address("//Alice", "sr25519");
    let bob = address("//Bob", "sr25519");
    let bob_before = free_of(&node, &bob);

    // The master key sets a hybrid regular key, then disables itself.
    qstack_ok(&[
        "tx",
        "set-regular-key",
        "--from",
        "//Alice",
        "--key-suri",
        "//AlicePQ",
        "--key-scheme",
        "hybrid",
        "--rpc",
        &rpc,
    ]);
    qstack_ok(&["tx", "disable-master", "--from", "//Alice", "--rpc", &rpc]);
    let info = account_info(&node, &alice);
    assert_eq!(info["keys"]["master"]["scheme"], "sr25519", "{info}");
    assert_eq!(info["keys"]["masterDisabled"], true, "{info}");
    assert_eq!(info["flags"]["masterDisabled"], true, "{info}");
    assert_eq!(info["keys"]["regular"]["scheme"], "hybrid", "{info}");
    assert_eq!(info["nonce"], 2);

    // The sr25519 key is refused now, with a clear reason, and nothing moves.
    let (ok, out) = qstack(&[
        "tx", "transfer", "--from", "//Alice", "--to", &bob, "--amount", "1000", "--rpc", &rpc,
    ]);
    assert!(!ok);
    assert!(out.contains("master key is disabled"), "{out}");
    assert_eq!(free_of(&node, &bob), bob_before);

    // The post-quantum key keeps the account transacting.
    let pq = [
        "--from",
        "//AlicePQ",
        "--scheme",
        "hybrid",
        "--account",
        alice.as_str(),
        "--rpc",
        rpc.as_str(),
    ];
    let transfer = |amount: &str, extra: &[&str]| {
        let mut args = vec!["tx", "transfer", "--to", bob.as_str(), "--amount", amount];
        args.extend_from_slice(&pq);
        args.extend_from_slice(extra);
        qstack_ok(&args)
    };
    let out = transfer("5000", &[]);
    assert!(out.contains("hybrid regular key"), "{out}");
    let xts = block_extrinsics(&node, &out);
    let xt = from_account(&xts, &alice);
    assert!(
        matches!(
            &xt.signature,
            Some((
                _,
                ExtrinsicSignature::Regular(qstack_core::Signature::Hybrid(..)),
                _
            ))
        ),
        "the transfer is signed by the hybrid regular key: {:?}",
        xt.signature.as_ref().map(|s| s.1.schemes())
    );
    assert_eq!(free_of(&node, &bob), bob_before + 5000);

    // Tickets, created and spent in reverse order by the PQ key.
    let mut create = vec!["tx", "create-tickets", "--count", "2"];
    create.extend_from_slice(&pq);
    qstack_ok(&create);
    let info = account_info(&node, &alice);
    assert_eq!(
        info["tickets"],
        json!({"count": 2, "sequences": [4, 5]}),
        "{info}"
    );
    transfer("100", &["--ticket", "5"]);
    transfer("200", &["--ticket", "4"]);
    let (ok, out) = qstack(
        &[
            &[
                "tx",
                "transfer",
                "--to",
                bob.as_str(),
                "--amount",
                "300",
                "--ticket",
                "4",
            ][..],
            &pq[..],
        ]
        .concat(),
    );
    assert!(!ok);
    assert!(out.contains("ticket does not exist"), "{out}");
    let info = account_info(&node, &alice);
    assert_eq!(info["tickets"]["count"], 0, "{info}");
    assert_eq!(free_of(&node, &bob), bob_before + 5300);

    // The regular key cannot remove itself: it is the last way to sign.
    let mut remove = vec!["tx", "remove-regular-key"];
    remove.extend_from_slice(&pq);
    let (ok, out) = qstack(&remove);
    assert!(!ok);
    assert!(out.contains("NoAlternativeKey"), "{out}");
    let info = account_info(&node, &alice);
    assert_eq!(info["keys"]["regular"]["scheme"], "hybrid");
    assert_eq!(info["keys"]["masterDisabled"], true);
}

#[test]
fn two_of_three_multisig_transfer_with_signatures_in_another_order() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &[]);
    let rpc = node.ws();
    let multi = address("//Multi", "sr25519");
    let bob = address("//Bob", "sr25519");
    // Signers of three schemes, without balance, never seen by the chain.
    let a = address("//SignerA", "hybrid");
    let b = address("//SignerB", "sr25519");
    let c = address("//SignerC", "falcon512");
    qstack_ok(&[
        "tx",
        "transfer",
        "--from",
        "//Alice",
        "--to",
        &multi,
        "--amount",
        "10000000000000",
        "--rpc",
        &rpc,
    ]);
    qstack_ok(&[
        "tx",
        "set-signers",
        "--from",
        "//Multi",
        "--quorum",
        "2",
        "--signer",
        &a,
        "--signer",
        &b,
        "--signer",
        &c,
        "--rpc",
        &rpc,
    ]);
    let info = account_info(&node, &multi);
    assert_eq!(info["signerList"]["quorum"], 2, "{info}");
    assert_eq!(info["signerList"]["signers"].as_array().unwrap().len(), 3);
    for s in [&a, &b, &c] {
        assert_eq!(free_of(&node, s), 0);
        assert!(account_info(&node, s)["key"].is_null());
    }

    // The unsigned proposal, then C and A sign it offline, in parallel.
    let d = dir.path();
    let file = |n: &str| d.join(n).to_string_lossy().into_owned();
    let out = qstack_ok(&[
        "tx",
        "transfer",
        "--account",
        &multi,
        "--to",
        &bob,
        "--amount",
        "4242",
        "--multisig-out",
        &file("proposal.json"),
        "--rpc",
        &rpc,
    ]);
    assert!(out.contains("Proposal written"), "{out}");
    let signed = |by: &str, scheme: &str, out_file: &str| {
        let out = qstack_ok(&[
            "tx",
            "multisign",
            "sign",
            "--file",
            &file("proposal.json"),
            "--from",
            by,
            "--scheme",
            scheme,
            "--out",
            &file(out_file),
        ]);
        assert!(
            out.contains("transfer 4242"),
            "the signer sees what it signs: {out}"
        );
    };
    signed("//SignerC", "falcon512", "c.json");
    signed("//SignerA", "hybrid", "a.json");

    // One signature is short of the quorum: refused, nothing moves.
    let bob_before = free_of(&node, &bob);
    let (ok, out) = qstack(&[
        "tx",
        "multisign",
        "submit",
        "--file",
        &file("c.json"),
        "--rpc",
        &rpc,
    ]);
    assert!(!ok);
    assert!(out.contains("quorum"), "{out}");
    assert_eq!(free_of(&node, &bob), bob_before);

    // C then A (listed A, B, C): combined and submitted.
    qstack_ok(&[
        "tx",
        "multisign",
        "combine",
        &file("c.json"),
        &file("a.json"),
        "--out",
        &file("all.json"),
    ]);
    let out = qstack_ok(&[
        "tx",
        "multisign",
        "submit",
        "--file",
        &file("all.json"),
        "--rpc",
        &rpc,
    ]);
    assert_eq!(free_of(&node, &bob), bob_before + 4242);
    let xts = block_extrinsics(&node, &out);
    let xt = from_account(&xts, &multi);
    let Some((_, ExtrinsicSignature::Multi(entries), _)) = &xt.signature else {
        panic!("not multi-signed: {:?}", xt.signature);
    };
    let order: Vec<String> = entries
        .iter()
        .map(|e| qstack_core::Address::from(e.signer.account()).to_string())
        .collect();
    assert_eq!(order, vec![c.clone(), a.clone()]);
    assert!(entries
        .iter()
        .all(|e| matches!(e.signer, SignerKey::Key(_))));

    // The multisig account paid and advanced; the signers' keys are stored,
    // their balances still zero.
    let info = account_info(&node, &multi);
    assert_eq!(info["nonce"], 2, "{info}");
    assert_eq!(account_info(&node, &a)["key"]["scheme"], "hybrid");
    assert_eq!(account_info(&node, &c)["key"]["scheme"], "falcon512");
    assert_eq!(free_of(&node, &a), 0);
    assert!(account_info(&node, &b)["key"].is_null());
}

#[test]
fn a_pooled_ticket_creation_moves_the_next_nonce() {
    use codec::Encode;
    use qstack_runtime::signing::{sign, ChainContext, TxOptions};
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &[]);
    let rpc = node.ws();
    let alice = address("//Alice", "sr25519");
    let bob = address("//Bob", "sr25519");
    let genesis = node.rpc("chain_getBlockHash", json!([0]));
    let genesis = hex::decode(genesis.as_str().unwrap().trim_start_matches("0x")).unwrap();
    let ctx = ChainContext::new(qstack_core::H256(genesis.try_into().unwrap()));
    let pair = qstack_core::Pair::from_suri(qstack_core::KeyScheme::Sr25519, "//Alice").unwrap();
    // Nonce 0 reserves 1..=5 as tickets: the next nonce is 6, in the pool
    // already, and a transaction with nonce 6 is ready behind it.
    let create =
        qstack_runtime::RuntimeCall::Accounts(qstack_runtime::accounts::Call::CreateTickets {
            count: 5,
        });
    let xt = sign(&pair, create, &ctx, &TxOptions::nonce(0));
    node.rpc(
        "author_submitExtrinsic",
        json!([format!("0x{}", hex::encode(xt.encode()))]),
    );
    assert_eq!(node.rpc("system_accountNextIndex", json!([alice])), 6);
    let out = qstack_ok(&[
        "tx", "transfer", "--from", "//Alice", "--to", &bob, "--amount", "1000", "--rpc", &rpc,
    ]);
    assert!(out.contains("nonce 6"), "{out}");
    assert!(out.contains("\"ready\""), "{out}");
    let info = account_info(&node, &alice);
    assert_eq!(info["nonce"], 7, "{info}");
    assert_eq!(
        info["tickets"]["sequences"],
        json!([1, 2, 3, 4, 5]),
        "{info}"
    );
}
