//! `qstack key generate-node-key` / `inspect-node-key`, and a node started
//! with the generated `--node-key-file` answering with that peer id.

use crate::common::{qstack, qstack_ok, Node, BIN, NET};
use serde_json::json;
use std::path::Path;
use std::process::Command;

fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("qstack-{name}-"))
        .tempdir()
        .expect("temp dir")
}

/// A peer id as libp2p prints ed25519 ones.
fn assert_peer_id(s: &str) {
    assert!(
        s.starts_with("12D3KooW") && s.len() == 52,
        "not an ed25519 peer id: {s:?}"
    );
}

/// `generate-node-key --file path`: the peer id it printed.
fn generate_into(path: &Path) -> String {
    let out = qstack_ok(&["key", "generate-node-key", "--file", path.to_str().unwrap()]);
    let peer_id = out.trim().to_string();
    assert_peer_id(&peer_id);
    peer_id
}

#[test]
fn generated_key_file_inspects_to_the_printed_peer_id() {
    let dir = temp_dir("nodekey");
    let path = dir.path().join("sub").join("node.key");
    let peer_id = generate_into(&path);

    let secret = std::fs::read_to_string(&path).unwrap();
    assert_eq!(secret.trim().len(), 64, "{secret:?}");
    assert!(secret.trim().chars().all(|c| c.is_ascii_hexdigit()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "only the owner may read the key");
    }

    let out = qstack_ok(&["key", "inspect-node-key", "--file", path.to_str().unwrap()]);
    assert_eq!(out.trim(), peer_id);
}

#[test]
fn without_file_the_secret_goes_to_stdout_and_the_peer_id_to_stderr() {
    let out = Command::new(BIN)
        .args(["key", "generate-node-key"])
        .output()
        .expect("run qstack");
    assert!(out.status.success());
    let secret = String::from_utf8(out.stdout).unwrap();
    let peer_id = String::from_utf8(out.stderr).unwrap();
    assert_eq!(secret.trim().len(), 64, "{secret:?}");
    assert_peer_id(peer_id.trim());

    // The printed secret is a key file `inspect-node-key` reads back to the same id.
    let dir = temp_dir("nodekey-stdout");
    let path = dir.path().join("k");
    std::fs::write(&path, secret.as_bytes()).unwrap();
    let out = qstack_ok(&["key", "inspect-node-key", "--file", path.to_str().unwrap()]);
    assert_eq!(out.trim(), peer_id.trim());
}

#[test]
fn an_existing_key_file_is_never_overwritten() {
    let dir = temp_dir("nodekey-overwrite");
    let path = dir.path().join("node.key");
    let peer_id = generate_into(&path);
    let before = std::fs::read(&path).unwrap();

    let (ok, out) = qstack(&["key", "generate-node-key", "--file", path.to_str().unwrap()]);
    assert!(!ok, "overwrote an existing key file:\n{out}");
    assert!(out.contains("already exists"), "{out}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "the file changed");
    let out = qstack_ok(&["key", "inspect-node-key", "--file", path.to_str().unwrap()]);
    assert_eq!(out.trim(), peer_id);

    // Any existing file, not only a key.
    let other = dir.path().join("notes.txt");
    std::fs::write(&other, "keep me").unwrap();
    let (ok, out) = qstack(&[
        "key",
        "generate-node-key",
        "--file",
        other.to_str().unwrap(),
    ]);
    assert!(!ok && out.contains("already exists"), "{out}");
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "keep me");
}

#[test]
fn garbage_and_missing_key_files_are_clear_errors() {
    let dir = temp_dir("nodekey-garbage");
    let garbage = dir.path().join("garbage");
    std::fs::write(&garbage, "this is not a key\n").unwrap();
    let (ok, out) = qstack(&[
        "key",
        "inspect-node-key",
        "--file",
        garbage.to_str().unwrap(),
    ]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("node key file") && out.contains("expected 64 hex characters"),
        "{out}"
    );

    let not_hex = dir.path().join("not-hex");
    std::fs::write(&not_hex, "g".repeat(64)).unwrap();
    let (ok, out) = qstack(&[
        "key",
        "inspect-node-key",
        "--file",
        not_hex.to_str().unwrap(),
    ]);
    assert!(!ok && out.contains("hex"), "{out}");

    let missing = dir.path().join("missing");
    let (ok, out) = qstack(&[
        "key",
        "inspect-node-key",
        "--file",
        missing.to_str().unwrap(),
    ]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("missing") && out.contains("No such file"),
        "{out}"
    );
}

#[test]
fn a_node_started_with_the_key_file_has_its_peer_id() {
    let dir = temp_dir("nodekey-node");
    let path = dir.path().join("node.key");
    let peer_id = generate_into(&path);

    let mut args = vec!["--dev", "--node-key-file", path.to_str().unwrap()];
    args.extend_from_slice(&NET);
    let node = Node::start_with(dir.path(), &args);
    assert_eq!(node.rpc("system_localPeerId", json!([])), json!(peer_id));
    // The listen addresses it reports end with the same id.
    let addr = node.p2p_addr();
    assert!(addr.ends_with(&format!("/p2p/{peer_id}")), "{addr}");
    node.interrupt();

    // The node read the file; it did not replace it.
    let out = qstack_ok(&["key", "inspect-node-key", "--file", path.to_str().unwrap()]);
    assert_eq!(out.trim(), peer_id);
}
