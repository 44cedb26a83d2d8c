//! End-to-end tests of accounts and keys on a `qstack --dev` node, driven
//! through the `qstack tx` CLI and checked over RPC: an sr25519 account moves
//! to a hybrid post-quantum regular key and disables its master key; a 2-of-3
//! multi-signing account sends a transfer whose signatures were gathered
//! offline, in another order than listed.

use codec::Decode;
use qstack_runtime::Extrinsic;
use qstack_runtime_primitives::{ExtrinsicSignature, MultiAddress, SignerKey};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_qstack");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A `qstack --dev` process on a free port, killed on drop.
struct Node {
    child: Child,
    port: u16,
}

impl Node {
    fn start(base: &Path) -> Node {
        let port = free_port();
        let log = std::fs::File::create(base.join("node.log")).expect("log file");
        let child = Command::new(BIN)
            .args(["--dev", "-d"])
            .arg(base)
            .args(["--rpc-port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start qstack");
        let node = Node { child, port };
        let start = Instant::now();
        while node.try_rpc("system_health", json!([])).is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "node RPC not up after 60 s; log in {}",
                base.join("node.log").display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        node
    }

    fn try_rpc(&self, method: &str, params: Value) -> Option<Value> {
        let body =
            json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        write!(s, "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).ok()?;
        let mut resp = String::new();
        s.read_to_string(&mut resp).ok()?;
        let json = resp.split("\r\n\r\n").nth(1)?;
        serde_json::from_str(json).ok()
    }

    fn rpc(&self, method: &str, params: Value) -> Value {
        let v = self
            .try_rpc(method, params.clone())
            .unwrap_or_else(|| panic!("no answer to {method}"));
        assert!(v.get("error").is_none(), "{method}({params}) failed: {v}");
        v["result"].clone()
    }

    fn ws(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    fn info(&self, addr: &str) -> Value {
        self.rpc("account_info", json!([addr]))
    }

    fn free(&self, addr: &str) -> u128 {
        self.info(addr)["free"].as_str().unwrap().parse().unwrap()
    }

    /// The extrinsics of the block the CLI output names ("In block #n (0x…)").
    fn block_of(&self, cli_output: &str) -> Vec<Extrinsic> {
        let hash = cli_output
            .lines()
            .find_map(|l| l.strip_prefix("In block "))
            .and_then(|l| l.split_once('('))
            .map(|(_, h)| h.trim_end_matches(')').to_string())
            .unwrap_or_else(|| panic!("no block in the CLI output:\n{cli_output}"));
        let block = self.rpc("chain_getBlock", json!([hash]));
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
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `qstack args…`; (success, stdout + stderr).
fn qstack(args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN).args(args).output().expect("run qstack");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[track_caller]
fn qstack_ok(args: &[&str]) -> String {
    let (ok, out) = qstack(args);
    assert!(ok, "qstack {args:?} failed:\n{out}");
    out
}

fn address(suri: &str, scheme: &str) -> String {
    let out = qstack_ok(&[
        "key", "inspect", suri, "--scheme", scheme, "--output", "json",
    ]);
    let v: Value = serde_json::from_str(out.lines().find(|l| l.starts_with('{')).unwrap()).unwrap();
    v["address"].as_str().unwrap().to_string()
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
    let node = Node::start(dir.path());
    let rpc = node.ws();
    let alice = address("//Alice", "sr25519");
    let bob = address("//Bob", "sr25519");
    let bob_before = node.free(&bob);

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
    let info = node.info(&alice);
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
    assert_eq!(node.free(&bob), bob_before);

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
    let xts = node.block_of(&out);
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
    assert_eq!(node.free(&bob), bob_before + 5000);

    // Tickets, created and spent in reverse order by the PQ key.
    let mut create = vec!["tx", "create-tickets", "--count", "2"];
    create.extend_from_slice(&pq);
    qstack_ok(&create);
    let info = node.info(&alice);
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
    let info = node.info(&alice);
    assert_eq!(info["tickets"]["count"], 0, "{info}");
    assert_eq!(node.free(&bob), bob_before + 5300);

    // The regular key cannot remove itself: it is the last way to sign.
    let mut remove = vec!["tx", "remove-regular-key"];
    remove.extend_from_slice(&pq);
    let (ok, out) = qstack(&remove);
    assert!(!ok);
    assert!(out.contains("NoAlternativeKey"), "{out}");
    let info = node.info(&alice);
    assert_eq!(info["keys"]["regular"]["scheme"], "hybrid");
    assert_eq!(info["keys"]["masterDisabled"], true);
}

#[test]
fn two_of_three_multisig_transfer_with_signatures_in_another_order() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path());
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
        "1000000000000",
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
    let info = node.info(&multi);
    assert_eq!(info["signerList"]["quorum"], 2, "{info}");
    assert_eq!(info["signerList"]["signers"].as_array().unwrap().len(), 3);
    for s in [&a, &b, &c] {
        assert_eq!(node.free(s), 0);
        assert!(node.info(s)["key"].is_null());
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
    let bob_before = node.free(&bob);
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
    assert_eq!(node.free(&bob), bob_before);

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
    assert_eq!(node.free(&bob), bob_before + 4242);
    let xts = node.block_of(&out);
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
    let info = node.info(&multi);
    assert_eq!(info["nonce"], 2, "{info}");
    assert_eq!(node.info(&a)["key"]["scheme"], "hybrid");
    assert_eq!(node.info(&c)["key"]["scheme"], "falcon512");
    assert_eq!(node.free(&a), 0);
    assert!(node.info(&b)["key"].is_null());
}

#[test]
fn a_pooled_ticket_creation_moves_the_next_nonce() {
    use codec::Encode;
    use qstack_runtime::signing::{sign, ChainContext, TxOptions};
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path());
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
    let info = node.info(&alice);
    assert_eq!(info["nonce"], 7, "{info}");
    assert_eq!(
        info["tickets"]["sequences"],
        json!([1, 2, 3, 4, 5]),
        "{info}"
    );
}
