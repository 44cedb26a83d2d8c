//! A generic Substrate client in Python, `substrate-interface` from PyPI,
//! reads a `qstack --dev` node with no custom types: runtime version, chain
//! properties, an account, and blocks with signed transfers and their
//! events. The checks themselves are in `tests/python/check.py`; this test
//! starts the node, makes the transfers, and runs the script in the
//! virtualenv `scripts/setup.sh` installs (`tests/python/.venv`).

use crate::common::{block_hash_of, json_line, qstack_ok, run_with_timeout, Node};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Wall-clock bound on the script (it gives up by itself earlier).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(90);

/// The SS58 prefix of the dev chain's addresses (`system_properties`).
const DEV_SS58_FORMAT: u16 = 59;

/// `(address, account id in hex, SS58 address)` of `suri` in `scheme`.
fn key(suri: &str, scheme: &str) -> (String, String, String) {
    let v = json_line(&qstack_ok(&[
        "key", "inspect", suri, "--scheme", scheme, "--output", "json",
    ]));
    let field = |k: &str| {
        v[k].as_str()
            .unwrap_or_else(|| panic!("no {k} in {v}"))
            .to_string()
    };
    (field("address"), field("accountId"), field("ss58Address"))
}

/// The virtualenv's Python; fails with what to do when it is missing (a
/// skipped check would hide a broken client).
fn venv_python() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python");
    let python = dir.join(".venv/bin/python");
    assert!(
        python.exists(),
        "no Python virtualenv at {}: run scripts/setup.sh",
        dir.join(".venv").display()
    );
    python
}

/// Runs `python tests/python/check.py args…`, killing it after
/// [`SCRIPT_TIMEOUT`]; whether it succeeded, and its stdout and stderr.
fn run_check(python: &Path, out_dir: &Path, args: &[String]) -> (bool, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/check.py");
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .args(args)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    run_with_timeout(cmd, &out_dir.join("check.py.out"), SCRIPT_TIMEOUT)
}

#[test]
fn python_substrate_interface_reads_accounts_blocks_and_events() {
    let python = venv_python();
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &[]);
    let rpc = node.ws();
    let (alice, alice_id, alice_ss58) = key("//Alice", "sr25519");
    let (bob, bob_id, _) = key("//Bob", "sr25519");

    // Both address forms: an account's first transaction carries its key,
    // later ones its id. The second has a destination tag (`Some`).
    let mut args = vec![rpc.clone()];
    let transfers = [
        (1_000_001u128, "key", 0u32, None),
        (2_000_002, "id", 1, Some(7u32)),
    ];
    for (amount, signer, nonce, dest_tag) in transfers {
        let amount = amount.to_string();
        let tag = dest_tag.map(|t| t.to_string());
        let mut cli = vec![
            "tx", "transfer", "--from", "//Alice", "--scheme", "sr25519", "--to", &bob, "--amount",
            &amount, "--rpc", &rpc,
        ];
        if let Some(t) = &tag {
            cli.extend(["--dest-tag", t.as_str()]);
        }
        let out = qstack_ok(&cli);
        args.push("--transfer".into());
        args.push(
            json!({
                "block": block_hash_of(&out), "from": alice_id, "to": bob_id, "amount": amount,
                "scheme": "sr25519", "signer": signer, "nonce": nonce, "destTag": dest_tag,
            })
            .to_string(),
        );
    }

    // What the node says of Alice once her transfers are in; the script
    // reads the same from storage.
    let info = node.rpc("account_info", json!([alice]));
    assert_eq!(info["nonce"], 2, "{info}");
    args.extend([
        "--ss58-format".into(),
        DEV_SS58_FORMAT.to_string(),
        "--account".into(),
        json!({
            "accountId": alice_id, "ss58Address": alice_ss58,
            "nonce": info["nonce"], "free": info["free"],
        })
        .to_string(),
    ]);

    let (ok, output) = run_check(&python, dir.path(), &args);
    println!("{output}");
    assert!(
        ok && output.contains("ok: all checks passed"),
        "tests/python/check.py failed:\n{output}\nnode log: {}",
        dir.path().join(format!("node-{}.log", node.port)).display()
    );
}
