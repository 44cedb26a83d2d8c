//! The networking shell in-process, on loopback: several real libp2p nodes,
//! each over a small in-memory chain (headers linked by hash; a block whose
//! state root is the BAD marker fails import, as a block with a wrong state
//! root fails in the node). Checks sync end to end, peer limits, and that a
//! peer serving bad blocks is banned.

use parking_lot::Mutex;
use qstack_core::H256;
use qstack_network::protocol::{BlockData, Status};
use qstack_network::sync::ImportResult;
use qstack_network::{ChainApi, GossipVerdict, NetworkConfig, NetworkHandle};
use qstack_runtime_primitives::{Digest, Header, OpaqueExtrinsic};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BAD: H256 = H256([0xBA; 32]);

struct MemChain {
    blocks: Mutex<Vec<BlockData>>,
}

impl MemChain {
    fn genesis() -> BlockData {
        BlockData {
            header: Header::genesis(H256([0; 32])),
            body: Some(vec![]),
            justification: None,
        }
    }

    /// A chain of `n` blocks; `bad_from` marks every block from that number on as bad.
    fn new(n: u32, bad_from: Option<u32>) -> Arc<Self> {
        let mut blocks = vec![Self::genesis()];
        for number in 1..=n {
            let parent = blocks.last().unwrap().header.hash();
            let bad = bad_from.is_some_and(|b| number >= b);
            blocks.push(BlockData {
                header: Header {
                    parent_hash: parent,
                    number,
                    state_root: if bad { BAD } else { H256([1; 32]) },
                    extrinsics_root: H256([2; 32]),
                    digest: Digest::default(),
                },
                body: Some(vec![OpaqueExtrinsic::from_encoded(vec![8, 0, 1])]),
                justification: None,
            });
        }
        Arc::new(MemChain {
            blocks: Mutex::new(blocks),
        })
    }

    fn best(&self) -> (u32, H256) {
        let b = self.blocks.lock();
        let h = &b.last().unwrap().header;
        (h.number, h.hash())
    }
}

impl ChainApi for MemChain {
    fn status(&self) -> Status {
        let (n, h) = self.best();
        let genesis = self.blocks.lock()[0].header.hash();
        Status {
            genesis,
            best_number: n,
            best_hash: h,
            finalized_number: n,
            finalized_hash: h,
        }
    }
    fn hash_of(&self, number: u32) -> Result<Option<H256>, String> {
        Ok(self
            .blocks
            .lock()
            .get(number as usize)
            .map(|b| b.header.hash()))
    }
    fn block(&self, hash: &H256) -> Result<Option<BlockData>, String> {
        Ok(self
            .blocks
            .lock()
            .iter()
            .find(|b| b.header.hash() == *hash)
            .cloned())
    }
    fn import(&self, block: BlockData) -> ImportResult {
        let mut blocks = self.blocks.lock();
        let last = blocks.last().unwrap().header.hash();
        if block.header.parent_hash != last {
            return if blocks
                .iter()
                .any(|b| b.header.hash() == block.header.hash())
            {
                ImportResult::Imported
            } else {
                ImportResult::UnknownParent
            };
        }
        if block.header.state_root == BAD {
            return ImportResult::Bad("state root mismatch".into());
        }
        blocks.push(block);
        ImportResult::Imported
    }
    fn transaction(&self, _: Vec<u8>) -> GossipVerdict {
        GossipVerdict::Ignore
    }
}

fn config(boot: &[String]) -> NetworkConfig {
    let mut cfg = NetworkConfig::new(
        qstack_network::node_key::generate(),
        vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()],
    );
    cfg.boot_nodes = boot.iter().map(|b| b.parse().unwrap()).collect();
    cfg.kademlia = false;
    cfg
}

async fn addr_of(net: &NetworkHandle) -> String {
    net.dial_address(Duration::from_secs(5))
        .await
        .expect("node listens")
}

async fn until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_followers_sync_in_parallel_from_two_sources() {
    let source = MemChain::new(1500, None);
    let (a, _) = qstack_network::start(config(&[]), source.clone()).unwrap();
    let a_addr = addr_of(&a).await;
    // A second full node, itself synced from the first.
    let mirror = MemChain::new(0, None);
    let (b, _) =
        qstack_network::start(config(std::slice::from_ref(&a_addr)), mirror.clone()).unwrap();
    until("mirror synced", 30, || mirror.best() == source.best()).await;
    let b_addr = addr_of(&b).await;
    let mut followers = Vec::new();
    for _ in 0..3 {
        let chain = MemChain::new(0, None);
        let (net, _) =
            qstack_network::start(config(&[a_addr.clone(), b_addr.clone()]), chain.clone())
                .unwrap();
        followers.push((chain, net));
    }
    for (chain, net) in &followers {
        until("follower synced", 30, || chain.best() == source.best()).await;
        until("snapshot shows it", 5, || {
            let snap = net.snapshot();
            snap.sync.current_block == 1500 && snap.peers.len() == 2
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_peer_limit_holds() {
    let chain = MemChain::new(3, None);
    let mut cfg = config(&[]);
    cfg.in_peers = 1;
    let (hub, _) = qstack_network::start(cfg, chain).unwrap();
    let hub_addr = addr_of(&hub).await;
    let mut others = Vec::new();
    for _ in 0..3 {
        others.push(
            qstack_network::start(
                config(std::slice::from_ref(&hub_addr)),
                MemChain::new(3, None),
            )
            .unwrap(),
        );
    }
    until("one peer admitted", 10, || hub.snapshot().peers.len() == 1).await;
    // And it stays at one while the others keep redialling.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(hub.snapshot().peers.len(), 1);
    assert!(hub.snapshot().peers.iter().all(|p| p.inbound));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_serving_bad_blocks_is_banned_and_an_honest_one_wins() {
    let evil_chain = MemChain::new(300, Some(1));
    let (evil, _) = qstack_network::start(config(&[]), evil_chain).unwrap();
    let evil_addr = addr_of(&evil).await;
    let follower = MemChain::new(0, None);
    let (net, _) =
        qstack_network::start(config(std::slice::from_ref(&evil_addr)), follower.clone()).unwrap();
    until("evil peer banned", 20, || net.snapshot().banned == 1).await;
    assert_eq!(follower.best().0, 0, "no bad block imported");
    until("evil peer disconnected", 10, || {
        net.snapshot().peers.is_empty()
    })
    .await;
    // It stays out: redialling it is refused while the ban lasts.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(net.snapshot().peers.is_empty());
    // An honest peer that dials in then serves the real chain.
    let honest = MemChain::new(200, None);
    let follower_addr = addr_of(&net).await;
    let (_honest_net, _) = qstack_network::start(config(&[follower_addr]), honest.clone()).unwrap();
    until("synced from the honest peer", 20, || {
        follower.best() == honest.best()
    })
    .await;
    assert_eq!(net.snapshot().banned, 1);
}
