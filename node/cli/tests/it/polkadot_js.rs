//! A generic Substrate client, `@polkadot/api` from npm, reads a `qstack --dev`
//! node: runtime version, metadata, blocks with signed transfers of every key
//! scheme, their events, and new heads. The checks themselves are in
//! `tests/polkadot-js/check.mjs`; this test starts the node, makes the
//! transfers, and runs the script under Node.js (`scripts/setup.sh` installs
//! Node.js and the npm packages).

use crate::common::{block_hash_of, json_line, qstack_ok, run_with_timeout, Node};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Wall-clock bound on a script (each gives up by itself earlier).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);

/// `(address, account id in hex)` of `suri` in `scheme`.
fn key(suri: &str, scheme: &str) -> (String, String) {
    let v = json_line(&qstack_ok(&[
        "key", "inspect", suri, "--scheme", scheme, "--output", "json",
    ]));
    (
        v["address"].as_str().unwrap().to_string(),
        v["accountId"].as_str().unwrap().to_string(),
    )
}

/// Where the npm project is; fails with what to do when Node.js or the npm
/// packages are missing (a skipped check would hide a broken client).
pub(crate) fn polkadot_js_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/polkadot-js");
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        _ => panic!("Node.js (`node`) is not on PATH: run scripts/setup.sh"),
    }
    assert!(
        dir.join("node_modules/@polkadot/api/package.json").exists(),
        "npm packages missing in {}: run scripts/setup.sh",
        dir.display()
    );
    dir
}

/// Runs `node script args…`, killing it after [`SCRIPT_TIMEOUT`].
fn run_script(dir: &Path, out_dir: &Path, script: &str, args: &[String]) -> (bool, String) {
    run_script_with(dir, out_dir, script, args, &[])
}

/// As [`run_script`], with extra environment variables.
fn run_script_with(
    dir: &Path,
    out_dir: &Path,
    script: &str,
    args: &[String],
    env: &[(&str, &Path)],
) -> (bool, String) {
    let mut cmd = Command::new("node");
    cmd.arg(script)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())))
        .current_dir(dir);
    run_with_timeout(cmd, &out_dir.join(format!("{script}.out")), SCRIPT_TIMEOUT)
}

#[test]
fn polkadot_js_reads_runtime_metadata_blocks_events_and_heads() {
    let pjs = polkadot_js_dir();
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &[]);
    let rpc = node.ws();
    let (bob, bob_id) = key("//Bob", "sr25519");

    // Every scheme's signature, and both address forms: an account's first
    // transaction carries its key, later ones its id. Then a regular-key
    // signature and a multi-signature spending a ticket.
    let transfers = [
        ("sr25519", 1_000_001u128, "key", 0u32, None),
        ("hybrid", 777_000, "key", 0, Some(7u32)),
        ("mldsa44", 30_303, "key", 0, None),
        ("falcon512", 40_404, "key", 0, Some(u32::MAX)),
        ("sr25519", 2_000_002, "id", 1, None),
    ];
    let mut args = vec![rpc.clone()];
    for (scheme, amount, signer, nonce, dest_tag) in transfers {
        let (_, from_id) = key("//Alice", scheme);
        let amount_arg = amount.to_string();
        let tag_arg = dest_tag.map(|t| t.to_string());
        let mut cli = vec![
            "tx",
            "transfer",
            "--from",
            "//Alice",
            "--scheme",
            scheme,
            "--to",
            &bob,
            "--amount",
            &amount_arg,
            "--rpc",
            &rpc,
        ];
        if let Some(t) = &tag_arg {
            cli.extend(["--dest-tag", t.as_str()]);
        }
        let block = block_hash_of(&qstack_ok(&cli));
        args.push("--transfer".into());
        args.push(
            json!({
                "block": block,
                "from": from_id,
                "to": bob_id,
                "amount": amount.to_string(),
                "scheme": scheme,
                "signer": signer,
                "nonce": nonce,
                "destTag": dest_tag,
            })
            .to_string(),
        );
    }

    // A transfer signed by a regular key: Alice's hybrid account (nonce 1
    // after its transfer) sets an ML-DSA regular key, which then signs.
    let (alice_hybrid, alice_hybrid_id) = key("//Alice", "hybrid");
    qstack_ok(&[
        "tx",
        "set-regular-key",
        "--from",
        "//Alice",
        "--scheme",
        "hybrid",
        "--key-suri",
        "//AliceRegular",
        "--key-scheme",
        "mldsa44",
        "--rpc",
        &rpc,
    ]);
    let out = qstack_ok(&[
        "tx",
        "transfer",
        "--from",
        "//AliceRegular",
        "--scheme",
        "mldsa44",
        "--account",
        &alice_hybrid,
        "--to",
        &bob,
        "--amount",
        "5555",
        "--rpc",
        &rpc,
    ]);
    args.push("--transfer".into());
    args.push(
        json!({
            "block": block_hash_of(&out), "from": alice_hybrid_id, "to": bob_id, "amount": "5555",
            "scheme": "mldsa44", "form": "regular", "signer": "id", "nonce": 2,
        })
        .to_string(),
    );

    // A multi-signed transfer spending a ticket: Alice's Falcon account lists
    // a hybrid and an sr25519 signer (quorum 2) and reserves tickets 3 and 4.
    let (alice_falcon, alice_falcon_id) = key("//Alice", "falcon512");
    let (signer_a, _) = key("//SignerA", "hybrid");
    let (signer_b, _) = key("//SignerB", "sr25519");
    let falcon = [
        "--from",
        "//Alice",
        "--scheme",
        "falcon512",
        "--rpc",
        rpc.as_str(),
    ];
    qstack_ok(
        &[
            &[
                "tx",
                "set-signers",
                "--quorum",
                "2",
                "--signer",
                &signer_a,
                "--signer",
                &signer_b,
            ][..],
            &falcon[..],
        ]
        .concat(),
    );
    qstack_ok(&[&["tx", "create-tickets", "--count", "2"][..], &falcon[..]].concat());
    let file = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    qstack_ok(&[
        "tx",
        "transfer",
        "--account",
        &alice_falcon,
        "--ticket",
        "3",
        "--to",
        &bob,
        "--amount",
        "6666",
        "--multisig-out",
        &file("proposal.json"),
        "--rpc",
        &rpc,
    ]);
    for (suri, scheme) in [("//SignerB", "sr25519"), ("//SignerA", "hybrid")] {
        qstack_ok(&[
            "tx",
            "multisign",
            "sign",
            "--file",
            &file("proposal.json"),
            "--from",
            suri,
            "--scheme",
            scheme,
        ]);
    }
    let out = qstack_ok(&[
        "tx",
        "multisign",
        "submit",
        "--file",
        &file("proposal.json"),
        "--rpc",
        &rpc,
    ]);
    args.push("--transfer".into());
    args.push(
        json!({
            "block": block_hash_of(&out), "from": alice_falcon_id, "to": bob_id, "amount": "6666",
            "scheme": "falcon512", "form": "multi", "signerSchemes": ["sr25519", "hybrid"],
            "signer": "id", "ticket": 3,
        })
        .to_string(),
    );

    let (ok, output) = run_script(&pjs, dir.path(), "check.mjs", &args);
    println!("{output}");
    assert!(
        ok,
        "tests/polkadot-js/check.mjs failed:\n{output}\nnode log: {}",
        dir.path().join(format!("node-{}.log", node.port)).display()
    );
    assert!(output.contains("ok: all checks passed"), "{output}");
}

/// polkadot-api (PAPI) over the new JSON-RPC spec: reads the chain spec, a
/// finalized block and storage, and submits a transfer signed by a
/// polkadot.js keyring's sr25519 `//Alice` (Substrate's derivation and
/// payload), followed to finality (`tests/polkadot-js/papi.mjs`).
#[test]
fn polkadot_api_reads_and_submits_a_keyring_signed_transfer() {
    let pjs = polkadot_js_dir();
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &[]);
    let methods = node.rpc("rpc_methods", json!([]));
    for m in [
        "chainHead_v1_follow",
        "chainSpec_v1_genesisHash",
        "transaction_v1_broadcast",
    ] {
        assert!(
            methods["methods"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x == m),
            "{m} not served"
        );
    }
    let (_, bob_id) = key("//Bob", "sr25519");
    let (ok, output) = run_script(&pjs, dir.path(), "papi.mjs", &[node.ws(), bob_id]);
    println!("{output}");
    assert!(
        ok && output.contains("ok: all checks passed"),
        "tests/polkadot-js/papi.mjs failed:\n{output}\nnode log: {}",
        dir.path().join(format!("node-{}.log", node.port)).display()
    );
    // The keyring's //Alice is the dev chain's sr25519 //Alice: it paid.
    let (alice, _) = key("//Alice", "sr25519");
    assert_eq!(node.rpc("account_info", json!([alice]))["nonce"], 1);
}

/// `@qstack/api` (clients/js) signs from JavaScript with qstack's own key
/// code as WebAssembly: a polkadot.js keyring made from Substrate's dev
/// phrase funds a JS-generated key of each scheme, which signs transfers
/// with `api.tx….signAndSend`, followed to finality; balances read through
/// `query` and `derive` (`tests/polkadot-js/sign.mjs`). Signatures cross
/// the boundary both ways: Rust's verify in JS, JS's verify here.
#[test]
fn qstack_api_signs_every_scheme_from_javascript() {
    use codec::{Decode, Encode};
    use qstack_core::{KeyScheme, Pair, PublicKey, Signature};
    let pjs = polkadot_js_dir();
    let dir = tempfile::tempdir().unwrap();
    assert!(
        !qstack_keys_wasm::WASM.is_empty(),
        "the key module was not built (QSTACK_SKIP_WASM_BUILD is set)"
    );
    let wasm = dir.path().join("qstack_keys.wasm");
    std::fs::write(&wasm, qstack_keys_wasm::WASM).unwrap();
    let hex0x = |b: &[u8]| format!("0x{}", hex::encode(b));
    let rust: Vec<_> = KeyScheme::ALL
        .into_iter()
        .map(|scheme| {
            let pair = Pair::from_suri(scheme, "//Charlie").unwrap();
            let message = format!("signed in Rust with {}", scheme.name()).into_bytes();
            json!({
                "scheme": scheme.name(),
                "publicKey": hex0x(&pair.public().encode()),
                "message": hex0x(&message),
                "signature": hex0x(&pair.sign(&message).encode()),
            })
        })
        .collect();
    let rust_file = dir.path().join("rust-signatures.json");
    std::fs::write(&rust_file, serde_json::to_string(&rust).unwrap()).unwrap();
    let js_file = dir.path().join("js-signatures.json");
    let node = Node::start(dir.path(), &[]);
    let args = [
        node.ws(),
        "--rust".into(),
        rust_file.display().to_string(),
        "--out".into(),
        js_file.display().to_string(),
    ];
    let (ok, output) = run_script_with(
        &pjs,
        dir.path(),
        "sign.mjs",
        &args,
        &[("QSTACK_KEYS_WASM", &wasm)],
    );
    println!("{output}");
    assert!(
        ok && output.contains("ok: all checks passed"),
        "tests/polkadot-js/sign.mjs failed:\n{output}\nnode log: {}",
        dir.path().join(format!("node-{}.log", node.port)).display()
    );
    let made: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&js_file).unwrap()).unwrap();
    assert_eq!(made.len(), 4, "one signature per scheme");
    let bytes = |v: &serde_json::Value| hex::decode(&v.as_str().unwrap()[2..]).unwrap();
    for m in &made {
        let public = PublicKey::decode(&mut &bytes(&m["publicKey"])[..]).unwrap();
        let signature = Signature::decode(&mut &bytes(&m["signature"])[..]).unwrap();
        let scheme = KeyScheme::from_name(m["scheme"].as_str().unwrap()).unwrap();
        assert_eq!(public, Pair::from_suri(scheme, "//Bob").unwrap().public());
        assert!(
            qstack_core::pair::verify(&signature, &bytes(&m["message"]), &public),
            "{}: a JS signature does not verify in Rust",
            m["scheme"]
        );
    }
}

/// The README's JavaScript example, run as written (its imports pointed at
/// the repo's copies and its URL at a dev node): it must print Bob's
/// balance and end by itself.
#[test]
fn the_readmes_javascript_example_runs() {
    let pjs = polkadot_js_dir();
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let section = readme
        .split("## Use it from JavaScript")
        .nth(1)
        .expect("README has a 'Use it from JavaScript' section");
    let example = section
        .split("```js\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("the section has a js example");
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &[]);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    let api = root.join("tests/polkadot-js/node_modules/@polkadot/api/index.js");
    let client = root.join("clients/js/src/index.mjs");
    let script = example
        .replace("'@polkadot/api'", &format!("'file://{}'", api.display()))
        .replace("'@qstack/api'", &format!("'file://{}'", client.display()))
        .replace("ws://127.0.0.1:9944", &node.ws());
    assert!(!script.contains("@qstack/api'") && script.contains(&node.ws()));
    std::fs::write(dir.path().join("example.mjs"), script).unwrap();
    let wasm = dir.path().join("qstack_keys.wasm");
    std::fs::write(&wasm, qstack_keys_wasm::WASM).unwrap();
    let example = dir.path().join("example.mjs").display().to_string();
    let (ok, output) = run_script_with(
        &pjs,
        dir.path(),
        &example,
        &[],
        &[("QSTACK_KEYS_WASM", &wasm)],
    );
    assert!(ok, "the README example failed:\n{output}");
    assert!(output.contains("Bob has 1000000000000"), "{output}");
}
