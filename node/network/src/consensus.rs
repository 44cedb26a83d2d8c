//! Consensus gossip, validated before it is forwarded: messages wait in a
//! queue per forwarding peer (bounded, taken round-robin, so one peer's
//! flood delays only itself), are checked a batch at a time on the blocking
//! pool by the engine's check (never on the swarm's task), and only then are
//! forwarded (gossipsub `Accept`) and handed to the engine, from one of two
//! bounded queues: messages signed by validators, which junk cannot reach,
//! and the rest (unsigned status messages, old heights). A reject costs the
//! forwarding peer.
//!
//! Block bodies an engine shares are also kept here a while, so a peer that
//! missed one can fetch it by hash ([`crate::protocol::Request::Consensus`]);
//! fetched copies go through the same check.

use libp2p::{gossipsub::MessageId, PeerId};
use qstack_consensus::Verdict;
use qstack_core::H256;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::mpsc;

/// The engine's check of a consensus gossip message (the node's wire
/// format: it decodes the shell's envelope and asks the engine).
#[derive(Clone)]
pub struct ConsensusCheck(pub Arc<CheckFn>);

/// The function behind a [`ConsensusCheck`].
pub type CheckFn = dyn Fn(&[u8]) -> Verdict + Send + Sync;

impl ConsensusCheck {
    /// Checks one message.
    pub fn check(&self, bytes: &[u8]) -> Verdict {
        (self.0)(bytes)
    }
}

impl std::fmt::Debug for ConsensusCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsensusCheck")
    }
}

/// Messages waiting for validation per forwarding peer; more are ignored.
pub const MAX_PENDING_PER_PEER: usize = 256;
/// Bytes waiting for validation per forwarding peer.
pub const MAX_PENDING_BYTES_PER_PEER: usize = 8 << 20;
/// Messages one validation job takes (round-robin over peers).
pub const VALIDATION_BATCH: usize = 64;
/// Validators' messages waiting for the engine.
pub const PRIORITY_QUEUE: usize = 2048;
/// Other messages waiting for the engine.
pub const OTHER_QUEUE: usize = 256;
/// Shared block bodies kept for peers to fetch.
pub const MAX_PROVIDED: usize = 64;

/// A consensus-engine message from a peer, checked.
#[derive(Clone, Debug)]
pub struct ConsensusMessage {
    /// Its author (the gossip source), or the peer that answered a fetch.
    pub from: PeerId,
    /// Engine-defined bytes.
    pub bytes: Vec<u8>,
}

/// One message waiting for validation.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    /// The gossip id to report the verdict for (`None`: a fetched copy).
    pub id: Option<MessageId>,
    /// The peer that sent it to us (pays for a reject).
    pub via: PeerId,
    /// Its author.
    pub source: PeerId,
    pub bytes: Vec<u8>,
}

/// Per-peer queues of messages waiting for validation.
#[derive(Default)]
pub(crate) struct PendingConsensus {
    queues: HashMap<PeerId, (VecDeque<Pending>, usize)>,
    /// Peers with something queued, in turn order.
    turn: VecDeque<PeerId>,
    /// Whether a validation job is running.
    pub busy: bool,
}

impl PendingConsensus {
    /// Queues `p`; `false` (not queued) if its peer's queue is full.
    pub fn push(&mut self, p: Pending) -> bool {
        let via = p.via;
        let (q, bytes) = self.queues.entry(via).or_default();
        if q.len() >= MAX_PENDING_PER_PEER
            || bytes.saturating_add(p.bytes.len()) > MAX_PENDING_BYTES_PER_PEER
        {
            return false;
        }
        *bytes = bytes.saturating_add(p.bytes.len());
        q.push_back(p);
        if q.len() == 1 {
            self.turn.push_back(via);
        }
        true
    }

    /// Messages queued in all.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.queues.values().map(|(q, _)| q.len()).sum()
    }

    /// The next batch, one message per peer in turn, unless a job runs.
    pub fn take_batch(&mut self) -> Option<Vec<Pending>> {
        if self.busy || self.turn.is_empty() {
            return None;
        }
        let mut out = Vec::new();
        while out.len() < VALIDATION_BATCH {
            let Some(peer) = self.turn.pop_front() else {
                break;
            };
            let Some((q, bytes)) = self.queues.get_mut(&peer) else {
                continue;
            };
            if let Some(p) = q.pop_front() {
                *bytes = bytes.saturating_sub(p.bytes.len());
                out.push(p);
            }
            if q.is_empty() {
                self.queues.remove(&peer);
            } else {
                self.turn.push_back(peer);
            }
        }
        self.busy = true;
        Some(out)
    }

    /// Drops what a disconnected peer sent and we did not check yet.
    pub fn forget(&mut self, peer: &PeerId) -> Vec<Pending> {
        self.turn.retain(|p| p != peer);
        self.queues
            .remove(peer)
            .map(|(q, _)| q.into())
            .unwrap_or_default()
    }
}

/// Where checked messages wait for the engine: validators' messages apart
/// from the rest, each queue bounded.
pub struct ConsensusInbox {
    priority: mpsc::Receiver<ConsensusMessage>,
    other: mpsc::Receiver<ConsensusMessage>,
}

/// The network's side of a [`ConsensusInbox`].
#[derive(Clone)]
pub(crate) struct InboxSender {
    priority: mpsc::Sender<ConsensusMessage>,
    other: mpsc::Sender<ConsensusMessage>,
}

impl ConsensusInbox {
    /// An inbox and the sender that fills it.
    pub(crate) fn new() -> (InboxSender, Self) {
        let (ptx, prx) = mpsc::channel(PRIORITY_QUEUE);
        let (otx, orx) = mpsc::channel(OTHER_QUEUE);
        (
            InboxSender {
                priority: ptx,
                other: otx,
            },
            Self {
                priority: prx,
                other: orx,
            },
        )
    }

    /// The next message, validators' first; `None` once the network stops.
    pub async fn recv(&mut self) -> Option<ConsensusMessage> {
        tokio::select! {
            biased;
            Some(m) = self.priority.recv() => Some(m),
            Some(m) = self.other.recv() => Some(m),
            else => None,
        }
    }
}

impl InboxSender {
    /// Hands a checked message to the engine; `false` if its queue is full
    /// (dropped: the engine re-sends what matters).
    pub fn deliver(&self, verdict: &Verdict, msg: ConsensusMessage) -> bool {
        let queue = match verdict {
            Verdict::Accept => &self.priority,
            Verdict::Deliver => &self.other,
            Verdict::Ignore | Verdict::Reject(_) => return true,
        };
        queue.try_send(msg).is_ok()
    }
}

/// Block bodies (the node's encoded consensus message carrying them) this
/// node shared or received, for peers that ask by hash; bounded, oldest out.
#[derive(Default)]
pub(crate) struct Provided {
    by_hash: HashMap<H256, (u32, Vec<u8>)>,
    order: VecDeque<H256>,
}

impl Provided {
    pub fn insert(&mut self, hash: H256, number: u32, bytes: Vec<u8>) {
        if self.by_hash.insert(hash, (number, bytes)).is_none() {
            self.order.push_back(hash);
        }
        while self.order.len() > MAX_PROVIDED {
            if let Some(old) = self.order.pop_front() {
                self.by_hash.remove(&old);
            }
        }
    }

    pub fn get(&self, hash: &H256) -> Option<&[u8]> {
        self.by_hash.get(hash).map(|(_, b)| &b[..])
    }

    /// Forgets bodies at or below `number` (final: sync serves them).
    pub fn forget_up_to(&mut self, number: u32) {
        self.by_hash.retain(|_, (n, _)| *n > number);
        let by_hash = &self.by_hash;
        self.order.retain(|h| by_hash.contains_key(h));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(via: PeerId, n: u8) -> Pending {
        Pending {
            id: None,
            via,
            source: via,
            bytes: vec![n],
        }
    }

    #[test]
    fn a_flooding_peer_fills_only_its_own_queue_and_waits_its_turn() {
        let (flood, honest) = (PeerId::random(), PeerId::random());
        let mut q = PendingConsensus::default();
        for i in 0..MAX_PENDING_PER_PEER {
            assert!(q.push(pending(flood, i as u8)));
        }
        assert!(!q.push(pending(flood, 0)), "the flooder's queue is full");
        assert!(q.push(pending(honest, 1)), "the honest peer's is not");
        let batch = q.take_batch().expect("a batch");
        assert_eq!(batch.len(), VALIDATION_BATCH);
        // Round-robin: the honest message is in the first batch, second.
        assert_eq!(
            batch[1].via,
            honest,
            "{:?}",
            batch.iter().map(|p| p.via).collect::<Vec<_>>()
        );
        assert!(q.take_batch().is_none(), "one job at a time");
        q.busy = false;
        let next = q.take_batch().expect("more");
        assert!(next.iter().all(|p| p.via == flood));
        let left = MAX_PENDING_PER_PEER - (VALIDATION_BATCH - 1) - next.len();
        assert_eq!(q.len(), left);
        assert_eq!(q.forget(&flood).len(), left);
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn validators_messages_have_their_own_queue() {
        let (tx, mut inbox) = ConsensusInbox::new();
        let peer = PeerId::random();
        let msg = |b: u8| ConsensusMessage {
            from: peer,
            bytes: vec![b],
        };
        let mut filled = 0;
        while tx.deliver(&Verdict::Deliver, msg(0)) {
            filled += 1;
        }
        assert_eq!(filled, OTHER_QUEUE);
        assert!(
            tx.deliver(&Verdict::Accept, msg(1)),
            "the other queue is full, not this one"
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let first = rt.block_on(inbox.recv()).expect("a message");
        assert_eq!(first.bytes, vec![1], "validators' messages come first");
    }

    #[test]
    fn provided_bodies_are_bounded_and_forgotten_once_final() {
        let mut p = Provided::default();
        for i in 0..(MAX_PROVIDED as u32 + 5) {
            p.insert(H256([i as u8; 32]), i, vec![i as u8]);
        }
        assert!(p.get(&H256([0; 32])).is_none(), "oldest out");
        assert_eq!(p.get(&H256([10; 32])), Some(&[10u8][..]));
        p.forget_up_to(40);
        assert!(p.get(&H256([10; 32])).is_none());
        assert!(p.get(&H256([41; 32])).is_some());
    }
}
