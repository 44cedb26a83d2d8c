//! The harness shared by the `qstack` end-to-end tests: real processes on
//! loopback, free ports, temporary base paths, every node killed on drop.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_qstack");

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A `qstack --dev` process with its RPC port.
pub struct Node {
    pub child: Child,
    pub port: u16,
}

impl Node {
    pub fn start(base: &Path, extra: &[&str]) -> Node {
        let mut args = vec!["--dev"];
        args.extend_from_slice(extra);
        Node::start_with(base, &args)
    }

    /// A `qstack` process with exactly these options (plus `-d base` and a
    /// free RPC port); its log goes to `base/node-<rpc port>.log`.
    pub fn start_with(base: &Path, extra: &[&str]) -> Node {
        let port = free_port();
        let log = std::fs::File::create(base.join(format!("node-{port}.log"))).expect("log file");
        let child = Command::new(BIN)
            .args(["-d"])
            .arg(base)
            .args(["--rpc-port", &port.to_string()])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start qstack");
        let node = Node { child, port };
        node.wait_until("RPC up", Duration::from_secs(60), |n| {
            n.try_rpc("system_health", json!([])).is_some()
        });
        node
    }

    pub fn try_rpc(&self, method: &str, params: Value) -> Option<Value> {
        rpc_at(self.port, method, params)
    }

    /// The number of the node's final block.
    pub fn finalized(&self) -> u64 {
        finalized_at(self.port).expect("the node answers chain_getFinalizedHead")
    }

    pub fn rpc(&self, method: &str, params: Value) -> Value {
        let v = self
            .try_rpc(method, params.clone())
            .unwrap_or_else(|| panic!("no answer to {method}"));
        assert!(v.get("error").is_none(), "{method}({params}) failed: {v}");
        v["result"].clone()
    }

    pub fn best(&self) -> (u64, String) {
        let h = self.rpc("chain_getHeader", json!([]));
        let n = u64::from_str_radix(h["number"].as_str().unwrap().trim_start_matches("0x"), 16)
            .unwrap();
        (
            n,
            self.rpc("chain_getBlockHash", json!([n]))
                .as_str()
                .unwrap()
                .to_string(),
        )
    }

    pub fn wait_until(&self, what: &str, timeout: Duration, mut f: impl FnMut(&Node) -> bool) {
        let start = Instant::now();
        while !f(self) {
            assert!(start.elapsed() < timeout, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Ctrl-C, as an operator would stop it.
    pub fn interrupt(mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("node did not stop on SIGINT");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn qstack(args: &[&str]) -> (bool, String) {
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

pub fn address(suri: &str, scheme: &str) -> String {
    let (ok, out) = qstack(&[
        "key", "inspect", suri, "--scheme", scheme, "--output", "json",
    ]);
    assert!(ok, "{out}");
    let v: Value = serde_json::from_str(out.lines().find(|l| l.starts_with('{')).unwrap()).unwrap();
    v["address"].as_str().unwrap().to_string()
}

pub fn free_of(node: &Node, addr: &str) -> u128 {
    node.rpc("account_info", json!([addr]))["free"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

impl Node {
    /// The node's p2p address (`/ip4/127.0.0.1/tcp/…/p2p/…`), once it listens.
    pub fn p2p_addr(&self) -> String {
        let mut addr = None;
        self.wait_until("p2p listen address", Duration::from_secs(30), |n| {
            addr = n
                .try_rpc("system_localListenAddresses", json!([]))
                .and_then(|v| v["result"][0].as_str().map(str::to_string));
            addr.is_some()
        });
        addr.unwrap()
    }

    /// The canonical hash at `n`, if the node has it.
    pub fn hash_at(&self, n: u64) -> Option<String> {
        self.try_rpc("chain_getBlockHash", json!([n]))
            .and_then(|v| v["result"].as_str().map(str::to_string))
    }

    /// The node's WebSocket RPC URL.
    pub fn ws(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }
}

/// The whole JSON-RPC response to one call to the node with RPC on `port`
/// (`None` if it does not answer).
pub fn rpc_at(port: u16, method: &str, params: Value) -> Option<Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(s, "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let json = resp.split("\r\n\r\n").nth(1)?;
    serde_json::from_str(json).ok()
}

/// The number of the final block of the node with RPC on `port`.
pub fn finalized_at(port: u16) -> Option<u64> {
    let hash = rpc_at(port, "chain_getFinalizedHead", json!([]))?["result"].clone();
    let header = rpc_at(port, "chain_getHeader", json!([hash]))?;
    u64::from_str_radix(
        header["result"]["number"]
            .as_str()?
            .trim_start_matches("0x"),
        16,
    )
    .ok()
}

/// The validators of `local-bft` (hybrid, hybrid, sr25519, Falcon keys).
pub const BFT_KEYS: [(&str, &str); 4] = [
    ("//Alice", "hybrid"),
    ("//Bob", "hybrid"),
    ("//Charlie", "sr25519"),
    ("//Dave", "falcon512"),
];

/// Four `local-bft` validators' base paths under `dir`, each with its key
/// in its keystore, on a spec with fast blocks and short timeouts; `start`
/// runs one (later ones dial `boot`, once set).
pub struct BftNet {
    pub spec: String,
    pub bases: Vec<std::path::PathBuf>,
    pub boot: Option<String>,
}

impl BftNet {
    pub fn new(dir: &Path) -> Self {
        Self::new_with(dir, |_| {})
    }

    /// [`BftNet::new`] on the spec as `edit` changes it (staking parameters…).
    pub fn new_with(dir: &Path, edit: impl FnOnce(&mut Value)) -> Self {
        let out = qstack_ok(&["build-spec", "--chain", "local-bft"]);
        let mut spec: Value = serde_json::from_str(&out[out.find('{').unwrap()..]).unwrap();
        edit(&mut spec);
        spec["consensus"]["blockTimeMs"] = json!(200);
        spec["consensus"]["timeouts"] = json!({
            "proposeMs": 1500, "prevoteMs": 500, "precommitMs": 500, "incrementMs": 250
        });
        let path = dir.join("fast-bft.json");
        std::fs::write(&path, spec.to_string()).unwrap();
        let spec = path.to_str().unwrap().to_string();
        let bases = BFT_KEYS
            .iter()
            .enumerate()
            .map(|(i, (suri, scheme))| {
                let base = dir.join(format!("v{i}"));
                std::fs::create_dir_all(&base).unwrap();
                let b = base.to_str().unwrap();
                qstack_ok(&[
                    "key", "insert", "--suri", suri, "--scheme", scheme, "--chain", &spec, "-d", b,
                ]);
                base
            })
            .collect();
        Self {
            spec,
            bases,
            boot: None,
        }
    }

    pub fn start(&self, i: usize) -> Node {
        let mut args = vec!["--chain", self.spec.as_str(), "--validator"];
        args.extend_from_slice(&NET);
        if let Some(b) = &self.boot {
            args.extend_from_slice(&["--bootnodes", b]);
        }
        Node::start_with(&self.bases[i], &args)
    }
}

/// `qstack args…` that must succeed; its stdout and stderr.
pub fn qstack_ok(args: &[&str]) -> String {
    let (ok, out) = qstack(args);
    assert!(ok, "qstack {args:?} failed:\n{out}");
    out
}

/// The first JSON object line of a command's output.
pub fn json_line(out: &str) -> Value {
    let line = out
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON line in:\n{out}"));
    serde_json::from_str(line).expect("JSON line")
}

/// The block hash `qstack tx` printed ("In block #n (0x…)").
pub fn block_hash_of(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("In block "))
        .and_then(|l| l.split_once('('))
        .map(|(_, h)| h.trim_end_matches(')').to_string())
        .unwrap_or_else(|| panic!("no block hash in the CLI output:\n{out}"))
}

/// The `local` chain spec with blocks every `block_ms`, written into `dir`.
pub fn fast_local_spec(dir: &Path, block_ms: u64) -> std::path::PathBuf {
    let out = qstack_ok(&["build-spec", "--chain", "local"]);
    let start = out.find('{').expect("spec JSON");
    let mut spec: Value = serde_json::from_str(&out[start..]).expect("spec JSON");
    spec["consensus"]["blockTimeMs"] = json!(block_ms);
    let path = dir.join("fast-local.json");
    std::fs::write(&path, spec.to_string()).expect("write spec");
    path
}

/// Options every networked test node gets: loopback on a free port, no mDNS
/// (parallel tests must not find each other).
pub const NET: [&str; 3] = ["--listen-addr", "/ip4/127.0.0.1/tcp/0", "--no-mdns"];

/// A libp2p node in the test process on the chain of the spec at
/// `spec_path` (its own client, syncing like any node, and a BFT observer's
/// gossip check), dialling `peers`: the attacker of the adversary tests.
/// Returns its client, network, consensus inbox, the genesis hash and the
/// spec's genesis validator set. Call inside a tokio runtime.
pub async fn observer_network(
    spec_path: &str,
    peers: &[String],
) -> (
    std::sync::Arc<qstack_client::Client>,
    qstack_network::NetworkHandle,
    qstack_network::ConsensusInbox,
    qstack_core::H256,
    qstack_consensus::bft::ValidatorSet,
) {
    use std::sync::Arc;
    let spec = qstack_service::chain_spec::ChainSpec::load(spec_path).unwrap();
    let qstack_service::chain_spec::ConsensusSpec::Bft(bft) = &spec.consensus else {
        panic!("a bft spec")
    };
    let set = spec.consensus.bft_validators().unwrap().unwrap();
    let executor = Arc::new(qstack_executor::Executor::new(Default::default()).unwrap());
    let client = Arc::new(
        qstack_service::client_on(&executor, &spec.genesis_source().unwrap(), None).unwrap(),
    );
    let chain = client.info().unwrap().genesis_hash;
    let observer = qstack_consensus::bft::BftEngine::new(
        bft.timeouts.config(),
        chain,
        set.clone(),
        None,
        1,
        Default::default(),
        Vec::new(),
    );
    let (net, inbox, _) = qstack_service::bft::loopback_network(
        client.clone(),
        Arc::new(qstack_service::TxPool::new()),
        &observer,
        peers,
    )
    .await
    .unwrap();
    (client, net, inbox, chain, set)
}

/// Runs `cmd` with its stdout and stderr in `out_path`, killing it after
/// `timeout`; whether it succeeded, and what it printed (with a note when
/// it was killed).
pub fn run_with_timeout(
    mut cmd: std::process::Command,
    out_path: &Path,
    timeout: Duration,
) -> (bool, String) {
    let out = std::fs::File::create(out_path).expect("output file");
    let mut child = cmd
        .stdout(out.try_clone().expect("dup output file"))
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("run {:?}: {e}", cmd.get_program()));
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break Some(status);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut text = std::fs::read_to_string(out_path).unwrap_or_default();
    if status.is_none() {
        text.push_str(&format!("\n(killed after {timeout:?})"));
    }
    (status.is_some_and(|s| s.success()), text)
}
