//! DIDs end to end on a `qstack --dev` node, through `qstack did` and the
//! `did_*`/`vc_*` RPC methods: Alice, Bob and Charlie create issuer DIDs
//! with hybrid (Falcon-512 + ML-DSA-44) keys, Dave a holder DID with an
//! ML-KEM-768 key; a 2-of-3 credential is refused with one endorsement and
//! issued with two; Dave presents one claim and the verifier checks it (a
//! tampered claim fails); Bob revokes it and `vc_status` says so; Alice
//! sends Dave an encrypted message that only Dave's key opens; Charlie
//! deactivates his DID.

use crate::common::{qstack, Node};
use serde_json::{json, Value};
use std::path::Path;

fn did_cmd(node: &Node, from: Option<&str>, args: &[&str]) -> (bool, String) {
    let ws = node.ws();
    let mut all = vec!["did"];
    all.extend_from_slice(args);
    if let Some(f) = from {
        all.extend_from_slice(&["--from", f]);
    }
    // Writing credentials and presentations is offline.
    if !matches!(args.first(), Some(&"credential") | Some(&"present")) {
        all.extend_from_slice(&["--rpc", &ws]);
    }
    qstack(&all)
}

fn did_ok(node: &Node, from: Option<&str>, args: &[&str]) -> String {
    let (ok, out) = did_cmd(node, from, args);
    assert!(ok, "qstack did {args:?} failed:\n{out}");
    out
}

fn create(node: &Node, from: &str, extra: &[&str]) -> String {
    let mut args = vec!["create"];
    args.extend_from_slice(extra);
    let out = did_ok(node, Some(from), &args);
    assert!(out.contains("In block"), "{out}");
    out.lines()
        .find_map(|l| l.strip_prefix("DID: "))
        .unwrap_or_else(|| panic!("no DID printed:\n{out}"))
        .to_string()
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_string()
}

#[test]
fn issuers_issue_two_of_three_the_holder_presents_one_claim_and_a_revocation_shows() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &["--instant-seal"]);
    let files = tempfile::tempdir().unwrap();
    let f = files.path();

    // Bad input is refused with the rule it breaks, before anything is signed.
    let (ok, out) = did_cmd(&node, None, &["show", "did:qs:0OIl"]);
    assert!(!ok && out.contains("base58 of 16 bytes"), "{out}");
    let (ok, out) = did_cmd(&node, None, &["show", "did:web:example.com"]);
    assert!(!ok && out.contains("another method"), "{out}");
    let bad = node.try_rpc("did_resolve", json!(["did:qs:%zz"])).unwrap();
    assert!(
        bad["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("two hex digits")),
        "{bad}"
    );
    let (ok, out) = did_cmd(
        &node,
        Some("//Alice"),
        &["create", "--service", "hub,LinkedDomains,not-a-url"],
    );
    assert!(!ok && out.contains("Did.BadUri"), "{out}");

    let issuers: Vec<String> = ["//Alice", "//Bob", "//Charlie"]
        .iter()
        .map(|who| create(&node, who, &["--key-scheme", "hybrid"]))
        .collect();
    let holder = create(&node, "//Dave", &["--kem"]);

    // The resolution result has DID Core's shape.
    let r = node.rpc("did_resolve", json!([issuers[0]]));
    let doc = &r["didDocument"];
    assert_eq!(doc["id"], json!(issuers[0]));
    let key1 = format!("{}#key-1", issuers[0]);
    let vm = doc["verificationMethod"].as_array().unwrap();
    let key = vm.iter().find(|m| m["id"] == json!(key1)).expect("#key-1");
    assert_eq!(key["keyScheme"], "hybrid");
    assert_eq!(key["controller"], json!(issuers[0]));
    assert!(doc["assertionMethod"]
        .as_array()
        .unwrap()
        .contains(&json!(key1)));
    assert_eq!(r["didDocumentMetadata"]["versionId"], "0");
    assert_eq!(r["didDocumentMetadata"]["deactivated"], false);
    assert!(r["didDocumentMetadata"]["created"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    // Before it was created, the DID did not exist.
    let before = node.rpc("did_resolveAt", json!([issuers[0], 0]));
    assert_eq!(before["didResolutionMetadata"]["error"], "notFound");

    // The credential: three claims, 2 of 3 issuers, revocable.
    let claims = path(f, "claims.json");
    std::fs::write(
        &claims,
        r#"{"degree": "MSc Physics", "birthDate": "1990-05-17", "grade": "A"}"#,
    )
    .unwrap();
    let cred = path(f, "cred.json");
    did_ok(
        &node,
        None,
        &[
            "credential",
            "--issuer",
            &issuers[0],
            "--issuer",
            &issuers[1],
            "--issuer",
            &issuers[2],
            "--threshold",
            "2",
            "--subject",
            &holder,
            "--schema",
            "https://example.com/schemas/degree",
            "--claims",
            &claims,
            "--status-list",
            "1",
            "--status-index",
            "42",
            "--out",
            &cred,
        ],
    );
    let endorse = |who: &str, i: usize, out: &str| {
        did_ok(
            &node,
            None,
            &[
                "endorse",
                "--credential",
                &cred,
                "--issuer",
                &issuers[i],
                "--key",
                who,
                "--key-scheme",
                "hybrid",
                "--out",
                out,
            ],
        );
    };
    let (p1, p3) = (path(f, "p1.json"), path(f, "p3.json"));
    endorse("//Alice", 0, &p1);
    // One endorsement of a 2-of-3: refused by name, nothing registered.
    let (ok, out) = did_cmd(
        &node,
        Some("//Dave"),
        &["issue", "--credential", &cred, "--proof", &p1],
    );
    assert!(!ok && out.contains("Did.Threshold"), "{out}");
    let (ok, out) = did_cmd(&node, None, &["verify", "--credential", &cred]);
    assert!(!ok && out.contains("not registered"), "{out}");
    let hash = out
        .split_whitespace()
        .find(|w| w.starts_with("0x"))
        .unwrap()
        .to_string();
    endorse("//Charlie", 2, &p3);
    did_ok(
        &node,
        Some("//Dave"),
        &[
            "issue",
            "--credential",
            &cred,
            "--proof",
            &p1,
            "--proof",
            &p3,
        ],
    );
    let status = node.rpc("vc_status", json!([hash]));
    assert_eq!(status["status"], "issued");
    assert_eq!(status["signedBy"], json!([issuers[0], issuers[2]]));
    assert_eq!(status["statusEntry"]["statusListIndex"], "42");
    let out = did_ok(&node, None, &["verify", "--credential", &cred]);
    assert!(out.contains("Valid."), "{out}");

    // Dave shows his degree and nothing else.
    let pres = path(f, "pres.json");
    did_ok(
        &node,
        None,
        &[
            "present",
            "--credential",
            &cred,
            "--claim",
            "degree",
            "--out",
            &pres,
        ],
    );
    let bytes = std::fs::read_to_string(&pres).unwrap();
    for hidden in ["birthDate", "1990-05-17", "grade"] {
        assert!(
            !bytes.contains(hidden),
            "{hidden} leaked into the presentation"
        );
    }
    let out = did_ok(&node, None, &["verify", "--presentation", &pres]);
    assert!(
        out.contains("claim degree = \"MSc Physics\"") && out.contains("Valid."),
        "{out}"
    );
    // A tampered claim fails.
    let mut p: Value = serde_json::from_str(&bytes).unwrap();
    let d = p["disclosures"][0].as_str().unwrap().to_string();
    let raw = base64_decode(&d);
    let forged = String::from_utf8(raw)
        .unwrap()
        .replace("MSc Physics", "PhD Physics");
    p["disclosures"][0] = json!(base64_encode(forged.as_bytes()));
    let forged_path = path(f, "forged.json");
    std::fs::write(&forged_path, p.to_string()).unwrap();
    let (ok, out) = did_cmd(&node, None, &["verify", "--presentation", &forged_path]);
    assert!(!ok && out.contains("does not match"), "{out}");

    // Bob (an issuer who did not endorse) revokes it.
    let (ok, out) = did_cmd(&node, Some("//Dave"), &["revoke", "--credential", &cred]);
    assert!(!ok && out.contains("Did.NotAuthorized"), "{out}");
    did_ok(&node, Some("//Bob"), &["revoke", "--credential", &cred]);
    assert_eq!(node.rpc("vc_status", json!([hash]))["status"], "revoked");
    let (ok, out) = did_cmd(&node, None, &["verify", "--presentation", &pres]);
    assert!(!ok && out.contains("is revoked"), "{out}");

    // Alice writes to Dave; only Dave's key opens it.
    did_ok(
        &node,
        Some("//Alice"),
        &[
            "send",
            "--as",
            &issuers[0],
            "--to",
            &holder,
            "--message",
            "hello Dave",
        ],
    );
    let inbox = node.rpc("did_messages", json!([holder]));
    assert_eq!(inbox.as_array().unwrap().len(), 1);
    assert!(
        !inbox.to_string().contains(&hex_of(b"hello Dave")),
        "plaintext on chain"
    );
    let out = did_ok(
        &node,
        None,
        &["receive", "--did", &holder, "--key", "//Dave"],
    );
    assert!(out.contains("hello Dave"), "{out}");
    let (ok, out) = did_cmd(
        &node,
        None,
        &["receive", "--did", &holder, "--key", "//Eve"],
    );
    assert!(
        !ok && out.contains("does not decrypt") && !out.contains("hello Dave"),
        "{out}"
    );
    // A tampered copy (one ciphertext byte flipped), posted by Alice's
    // account as her DID: the chain accepts the bytes, Dave's key refuses them.
    post_tampered(&node, &inbox[0], &issuers[0], &holder);
    let (ok, out) = did_cmd(
        &node,
        None,
        &["receive", "--did", &holder, "--key", "//Dave"],
    );
    assert!(
        !ok && out.contains("#0 from")
            && out.contains("hello Dave")
            && out.contains("#1 from")
            && out.contains("changed on the way"),
        "{out}"
    );
    did_ok(
        &node,
        Some("//Alice"),
        &["clear", "--did", &holder, "--seq", "1"],
    );
    // Only an authentication account of the sending DID may send as it.
    let (ok, out) = did_cmd(
        &node,
        Some("//Dave"),
        &[
            "send",
            "--as",
            &issuers[0],
            "--to",
            &holder,
            "--message",
            "forged",
        ],
    );
    assert!(!ok && out.contains("Did.NotAuthorized"), "{out}");
    // Dave clears the message he read.
    let (ok, out) = did_cmd(
        &node,
        Some("//Dave"),
        &["clear", "--did", &holder, "--seq", "1"],
    );
    assert!(!ok && out.contains("Did.UnknownMessage"), "{out}");
    did_ok(
        &node,
        Some("//Dave"),
        &["clear", "--did", &holder, "--seq", "0"],
    );
    assert_eq!(node.rpc("did_messages", json!([holder])), json!([]));
    let out = did_ok(&node, None, &["show", &issuers[0]]);
    assert!(
        out.contains("\"didDocument\"") && out.contains(&issuers[0]),
        "{out}"
    );

    // Charlie deactivates his DID: it resolves as deactivated, for good.
    did_ok(
        &node,
        Some("//Charlie"),
        &["deactivate", "--did", &issuers[2]],
    );
    let r = node.rpc("did_resolve", json!([issuers[2]]));
    assert_eq!(r["didDocumentMetadata"]["deactivated"], true);
    assert_eq!(r["didDocumentMetadata"]["versionId"], "1");
    let (ok, out) = did_cmd(
        &node,
        Some("//Charlie"),
        &["deactivate", "--did", &issuers[2]],
    );
    assert!(!ok && out.contains("deactivated"), "{out}");
}

/// Posts `message` (as `did_messages` lists it) again with one ciphertext
/// byte flipped, signed by Alice's account.
fn post_tampered(node: &Node, message: &Value, from: &str, to: &str) {
    use codec::Encode;
    use qstack_core::{KeyScheme, Pair};
    use qstack_runtime::did::{self, parse_did};
    use qstack_runtime::signing::{sign, ChainContext, TxOptions};
    let bytes =
        |k: &str| hex::decode(message[k].as_str().unwrap().trim_start_matches("0x")).unwrap();
    let mut ciphertext = bytes("ciphertext");
    ciphertext[3] ^= 1;
    let alice = Pair::from_suri(KeyScheme::Sr25519, "//Alice").unwrap();
    let who = qstack_core::Address::from(alice.account_id()).to_string();
    let nonce = node
        .rpc("system_accountNextIndex", json!([who]))
        .as_u64()
        .unwrap() as u32;
    let genesis = bytes_of(&node.rpc("chain_getBlockHash", json!([0])));
    let call = qstack_runtime::RuntimeCall::Did(did::Call::Send {
        to: parse_did(to).unwrap(),
        message: did::Message {
            from: parse_did(from).unwrap(),
            key: b"kem-1".to_vec(),
            kem_ciphertext: bytes("kemCiphertext"),
            nonce: bytes("nonce").try_into().unwrap(),
            ciphertext,
            sent: 0,
            payer: Default::default(),
            deposit: 0,
        },
    });
    let ctx = ChainContext::new(qstack_core::H256(genesis.try_into().unwrap()));
    let mut opts = TxOptions::nonce(nonce);
    opts.include_key = false;
    let xt = sign(&alice, call, &ctx, &opts);
    node.rpc(
        "author_submitExtrinsic",
        json!([format!("0x{}", hex::encode(xt.encode()))]),
    );
    node.wait_until(
        "the tampered message",
        std::time::Duration::from_secs(30),
        |n| n.rpc("did_messages", json!([to])).as_array().unwrap().len() == 2,
    );
}

fn bytes_of(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap().trim_start_matches("0x")).unwrap()
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url without padding (written out here so the test does not share
/// the CLI's codec).
fn base64_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn base64_decode(s: &str) -> Vec<u8> {
    let vals: Vec<u32> = s
        .bytes()
        .map(|c| B64.iter().position(|&x| x == c).unwrap() as u32)
        .collect();
    let mut out = Vec::new();
    for chunk in vals.chunks(4) {
        let mut n = 0u32;
        for (i, v) in chunk.iter().enumerate() {
            n |= v << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}
