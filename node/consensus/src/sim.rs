//! A deterministic network simulation of any [`Engine`]: seeded ChaCha RNG,
//! virtual time, an event queue instead of sockets, threads and a database.
//! The simulator plays the node's shell for every node: it carries out each
//! [`Action`] the way the generic shell does (build, share and check blocks,
//! import with the engine's proof, set the best block, finalise, broadcast,
//! persist, report, wake) and feeds the answers back as [`Input`]s. Messages
//! and block bodies are delayed at random, lost at random, cut by
//! partitions; a node that misses a body fetches it from a peer it can
//! reach; every import is announced, and peers sync it (checked by the
//! engine's [`crate::Verifier`]); byzantine nodes stay silent or send
//! conflicting versions of their messages (made by the engine's
//! [`Harness`]); a node is killed and restarted from what it persisted, or
//! from a blank disk.
//!
//! Checked on every run, for every engine: no two honest nodes finalise
//! different blocks at one number, finality never moves back or off the
//! node's chain, every imported block passes its verifier, every report
//! names a byzantine node (the harness decodes it); the honest nodes reach
//! the target number; the same seed gives the same trace. Every message and
//! shared body passes the receiver's [`GossipCheck`] first, as on a node:
//! one from an honest node that the check rejects fails the run.
//!
//! Engine-specific parts are only what a [`Harness`] gives: how to build (or
//! rebuild after a crash) an engine, how a byzantine node corrupts its own
//! messages, what a report says, and how to describe a stuck engine.
//!
//! `QSTACK_SIM_SEEDS=N` runs N seeds per scenario instead of the CI default.

use crate::{
    Action, Durable, Engine, Finality, GossipCheck, Input, Millis, Peer, Persist, Verdict, Verifier,
};
use codec::Encode;
use qstack_core::{hashing::blake2_256, H256};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::sync::Arc;

/// How a node behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Runs its engine and the shell faithfully.
    Honest,
    /// Never sends anything (crashed or withholding).
    Silent,
    /// Runs an honest engine but, for each of its own messages the harness
    /// can corrupt, sends some peers the conflicting version (or both).
    Equivocate,
}

/// A `kill -9` and restart of one node.
#[derive(Clone, Copy, Debug)]
pub struct Crash {
    /// Which.
    pub node: usize,
    /// Dies at this time, or (with `on_share`) right after the first block
    /// it shares from then on (a proposer, mid-proposal).
    pub at: Millis,
    /// See `at`.
    pub on_share: bool,
    /// Dies right after it broadcasts the first message the harness calls
    /// a lock ([`Harness::is_lock`]: a BFT precommit for a block) from `at`
    /// on, before anything else it was about to do.
    pub after_lock: bool,
    /// Down this long.
    pub down: Millis,
    /// Whether its disk keeps what it persisted.
    pub keep: bool,
}

/// A network and its faults.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Number of nodes.
    pub nodes: usize,
    /// Nodes that are not honest.
    pub byzantine: Vec<(usize, Behaviour)>,
    /// Per-mille chance a message or body is lost.
    pub loss: u64,
    /// Message delay range (ms).
    pub delay: (Millis, Millis),
    /// During [start, end), nodes in the set hear only each other.
    pub partition: Option<(Millis, Millis, BTreeSet<usize>)>,
    /// A crash and restart.
    pub crash: Option<Crash>,
    /// Every honest node must finalise blocks 1..=target.
    pub target: u64,
    /// Virtual-time limit (ms).
    pub limit: Millis,
}

impl Scenario {
    /// `n` honest nodes, 10 % loss, 5–300 ms delays, target 8, ten minutes.
    pub fn lossy(n: usize) -> Self {
        Self {
            nodes: n,
            byzantine: vec![],
            loss: 100,
            delay: (5, 300),
            partition: None,
            crash: None,
            target: 8,
            limit: 10 * 60 * 1000,
        }
    }
}

/// What an engine persisted, kept in memory as a disk would keep it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryDisk {
    /// The last `Persist::State`.
    pub state: Option<Vec<u8>>,
    /// The epoch of the current log (`Persist::NewLog`).
    pub epoch: Option<u64>,
    /// The current log's records, oldest first.
    pub log: Vec<Vec<u8>>,
    /// Blocks kept for the current log (`Persist::Block`).
    pub blocks: BTreeSet<H256>,
}

impl Durable for MemoryDisk {
    fn persist(&mut self, p: &Persist) -> Result<(), String> {
        match p {
            Persist::State(s) => self.state = Some(s.clone()),
            Persist::Append(r) => self.log.push(r.clone()),
            Persist::NewLog(e) => {
                self.epoch = Some(*e);
                self.log.clear();
                self.blocks.clear();
            }
            Persist::Block(hash) => {
                self.blocks.insert(*hash);
            }
        }
        Ok(())
    }

    fn keep_block(&mut self, hash: &H256, _body: &[u8]) -> Result<(), String> {
        self.blocks.insert(*hash);
        Ok(())
    }
}

/// A byzantine node's conflicting version of one of its messages.
pub struct Corrupted {
    /// The other message.
    pub bytes: Vec<u8>,
    /// Blocks it names that must count as valid (block number of each).
    pub blocks: Vec<(H256, u64)>,
}

/// The engine-specific part of a simulation.
pub trait Harness {
    /// The engine.
    type E: Engine;
    /// Node `node`'s engine, on a chain final up to `finalized` (0 at
    /// genesis), from what its disk holds (blank on first start or when the
    /// disk was lost).
    fn engine(&mut self, node: usize, disk: &MemoryDisk, finalized: u64) -> Self::E;
    /// A conflicting version of `bytes` that byzantine `node` sends, if the
    /// message is one it can equivocate on.
    fn corrupt(&mut self, _node: usize, _bytes: &[u8]) -> Option<Corrupted> {
        None
    }
    /// The node a reported offence names, or why the report is false.
    fn offender(&self, bytes: &[u8]) -> Result<usize, String> {
        Err(format!(
            "this engine reports nothing, got {} bytes",
            bytes.len()
        ))
    }
    /// `bytes` for the trace: what must be equal between runs of one seed
    /// (without randomised signatures).
    fn trace(&self, bytes: &[u8]) -> Vec<u8> {
        bytes.to_vec()
    }
    /// Whether `bytes`, broadcast by a node, commits it to a value it must
    /// not forget on a restart (a crash point, [`Crash::after_lock`]).
    fn is_lock(&self, _bytes: &[u8]) -> bool {
        false
    }
    /// The engine's state, for a run that makes no progress.
    fn describe(&self, _engine: &Self::E) -> String {
        String::new()
    }
}

/// A block that exists somewhere.
#[derive(Clone, Copy, Debug)]
struct Block {
    number: u64,
    parent: H256,
    builder: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Deliver {
        to: usize,
        from: usize,
        bytes: Vec<u8>,
    },
    Body {
        to: usize,
        hash: H256,
    },
    /// A body gossiped with its proof (checked by the receiver).
    Shared {
        to: usize,
        from: usize,
        hash: H256,
        proof: Vec<u8>,
    },
    Fetch {
        node: usize,
        hash: H256,
    },
    Built {
        node: usize,
        request: u64,
        hash: H256,
    },
    Checked {
        node: usize,
        hash: H256,
    },
    Announce {
        to: usize,
        hash: H256,
    },
    Wake {
        node: usize,
    },
    Crash {
        node: usize,
    },
    Restart {
        node: usize,
    },
}

struct Node<E> {
    engine: E,
    behaviour: Behaviour,
    disk: MemoryDisk,
    verifier: Option<Arc<dyn Verifier>>,
    gossip: Option<Arc<dyn GossipCheck>>,
    bodies: BTreeSet<H256>,
    /// Blocks this node was asked to check or import before it had them.
    checking: BTreeSet<H256>,
    importing: BTreeMap<H256, Option<Vec<u8>>>,
    /// Finalised by the engine before the block was here.
    finalize_after: BTreeSet<H256>,
    imported: BTreeSet<H256>,
    best: (u64, H256),
    finalized: BTreeMap<u64, H256>,
    down: bool,
}

impl<E> Node<E> {
    fn finalized_number(&self) -> u64 {
        self.finalized.keys().next_back().copied().unwrap_or(0)
    }
}

/// Outcome of a run.
#[derive(Debug)]
pub struct Run {
    /// Hash of everything observable that happened, in order.
    pub trace: [u8; 32],
    /// Reports of offences.
    pub reports: usize,
    /// `SetBest` actions carried out (reorganisations).
    pub set_best: usize,
    /// Virtual time at the end.
    pub end: Millis,
    /// Highest honest finalised number when the partition healed.
    pub height_at_heal: Option<u64>,
}

/// One simulated network of engines.
pub struct Sim<H: Harness> {
    harness: H,
    sc: Scenario,
    rng: ChaCha8Rng,
    now: Millis,
    seq: u64,
    queue: BinaryHeap<Reverse<(Millis, u64, Event)>>,
    nodes: Vec<Node<H::E>>,
    blocks: BTreeMap<H256, Block>,
    justifications: BTreeMap<H256, Option<Vec<u8>>>,
    decided: BTreeMap<u64, H256>,
    reports: usize,
    set_best: usize,
    trace: Vec<u8>,
    height_at_heal: Option<u64>,
    crashed: bool,
}

impl<H: Harness> Sim<H> {
    /// A network for `sc`, seeded with `seed`.
    pub fn new(mut harness: H, sc: Scenario, seed: u64) -> Self {
        let nodes = (0..sc.nodes)
            .map(|i| {
                let disk = MemoryDisk::default();
                let engine = harness.engine(i, &disk, 0);
                Node {
                    verifier: engine.verifier(),
                    gossip: engine.gossip_check(),
                    engine,
                    behaviour: sc
                        .byzantine
                        .iter()
                        .find(|(b, _)| *b == i)
                        .map_or(Behaviour::Honest, |(_, b)| *b),
                    disk,
                    bodies: BTreeSet::new(),
                    checking: BTreeSet::new(),
                    importing: BTreeMap::new(),
                    finalize_after: BTreeSet::new(),
                    imported: BTreeSet::new(),
                    best: (0, H256::zero()),
                    finalized: BTreeMap::new(),
                    down: false,
                }
            })
            .collect();
        Self {
            harness,
            sc,
            rng: ChaCha8Rng::seed_from_u64(seed),
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            nodes,
            blocks: BTreeMap::new(),
            justifications: BTreeMap::new(),
            decided: BTreeMap::new(),
            reports: 0,
            set_best: 0,
            trace: Vec::new(),
            height_at_heal: None,
            crashed: false,
        }
    }

    /// The harness (for what it collected).
    pub fn harness(&self) -> &H {
        &self.harness
    }

    fn schedule(&mut self, at: Millis, ev: Event) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, ev)));
    }

    fn rand(&mut self, below: u64) -> u64 {
        self.rng.next_u64() % below.max(1)
    }

    fn honest(&self, i: usize) -> bool {
        self.nodes[i].behaviour == Behaviour::Honest
    }

    fn log(&mut self, node: usize, item: impl Encode) {
        (self.now, node as u32, item).encode_to(&mut self.trace);
    }

    fn honest_finalized(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.nodes.len())
            .filter(|i| self.honest(*i))
            .map(|i| self.nodes[i].finalized_number())
    }

    fn reachable(&self, a: usize, b: usize) -> bool {
        match &self.sc.partition {
            Some((start, end, side)) if (*start..*end).contains(&self.now) => {
                side.contains(&a) == side.contains(&b)
            }
            _ => true,
        }
    }

    fn delay(&mut self) -> Millis {
        let (lo, hi) = self.sc.delay;
        lo + self.rand(hi - lo + 1)
    }

    /// Runs until every honest node finalised the target, panicking on any
    /// broken property.
    pub fn run(mut self) -> Run {
        for i in 0..self.nodes.len() {
            let out = self.nodes[i].engine.start(0);
            self.carry_out(i, out);
        }
        if let Some(c) = self.sc.crash.filter(|c| !c.on_share && !c.after_lock) {
            self.schedule(c.at, Event::Crash { node: c.node });
            self.schedule(c.at + c.down, Event::Restart { node: c.node });
        }
        while self.honest_finalized().min().unwrap_or(0) < self.sc.target {
            let Some(Reverse((at, _, ev))) = self.queue.pop() else {
                panic!("no events left");
            };
            if at > self.sc.limit {
                let states: Vec<String> = self
                    .nodes
                    .iter()
                    .map(|n| {
                        format!(
                            "final #{} {}",
                            n.finalized_number(),
                            self.harness.describe(&n.engine)
                        )
                    })
                    .collect();
                panic!("no progress at {at} ms: {states:?}");
            }
            self.now = at;
            if let Some((_, end, _)) = &self.sc.partition {
                if self.height_at_heal.is_none() && at >= *end {
                    self.height_at_heal = self.honest_finalized().max();
                }
            }
            self.step(ev);
        }
        Run {
            trace: blake2_256(&self.trace),
            reports: self.reports,
            set_best: self.set_best,
            end: self.now,
            height_at_heal: self.height_at_heal,
        }
    }

    fn step(&mut self, ev: Event) {
        match ev {
            Event::Crash { node } => {
                self.log(node, 5u8);
                self.nodes[node].down = true;
            }
            Event::Restart { node } => self.restart(node),
            ev => {
                let node = match &ev {
                    Event::Deliver { to, .. }
                    | Event::Body { to, .. }
                    | Event::Shared { to, .. } => *to,
                    Event::Announce { to, .. } => *to,
                    Event::Fetch { node, .. }
                    | Event::Built { node, .. }
                    | Event::Checked { node, .. }
                    | Event::Wake { node } => *node,
                    Event::Crash { .. } | Event::Restart { .. } => return,
                };
                if self.nodes[node].down {
                    return;
                }
                match ev {
                    Event::Deliver { to, from, bytes } => {
                        let verdict = self.nodes[to].gossip.as_ref().map(|g| g.message(&bytes));
                        if !self.passes(to, from, verdict, "message") {
                            return;
                        }
                        let input = Input::Message {
                            from: Peer(vec![from as u8]),
                            bytes,
                        };
                        self.input(to, input);
                    }
                    Event::Body { to, hash } => self.got_body(to, hash),
                    Event::Shared {
                        to,
                        from,
                        hash,
                        proof,
                    } => {
                        let number = self.blocks[&hash].number;
                        let verdict = self.nodes[to]
                            .gossip
                            .as_ref()
                            .map(|g| g.block(&hash, number, &proof));
                        if self.passes(to, from, verdict, "block body") {
                            self.got_body(to, hash);
                        }
                    }
                    Event::Fetch { node, hash } => self.fetch(node, hash),
                    Event::Built {
                        node,
                        request,
                        hash,
                    } => {
                        let number = self.blocks[&hash].number;
                        self.nodes[node].bodies.insert(hash);
                        let number = u32::try_from(number).expect("block numbers fit u32");
                        self.input(
                            node,
                            Input::Built {
                                request,
                                hash,
                                number,
                            },
                        );
                    }
                    Event::Checked { node, hash } => {
                        self.input(node, Input::Checked { hash, valid: true })
                    }
                    Event::Announce { to, hash } => self.sync(to, hash),
                    Event::Wake { node } => self.input(node, Input::Tick),
                    Event::Crash { .. } | Event::Restart { .. } => {}
                }
            }
        }
    }

    /// Whether a message the receiver's gossip check judged goes on to its
    /// engine; an honest sender's message is never rejected.
    fn passes(&self, to: usize, from: usize, verdict: Option<Verdict>, what: &str) -> bool {
        match verdict {
            None | Some(Verdict::Accept) | Some(Verdict::Deliver) => true,
            Some(Verdict::Ignore) => false,
            Some(Verdict::Reject(why)) => {
                assert!(
                    !self.honest(from),
                    "node {to} rejected a {what} from honest node {from}: {why}"
                );
                false
            }
        }
    }

    fn input(&mut self, node: usize, input: Input) {
        let out = self.nodes[node].engine.handle(self.now, input);
        self.carry_out(node, out);
    }

    fn got_body(&mut self, node: usize, hash: H256) {
        let n = &mut self.nodes[node];
        n.bodies.insert(hash);
        if n.checking.remove(&hash) {
            let at = self.now + 1 + self.rand(10);
            self.schedule(at, Event::Checked { node, hash });
        }
        if let Some(j) = self.nodes[node].importing.remove(&hash) {
            if let Some(input) = self.import(node, hash, j, true) {
                self.input(node, input);
            }
        }
    }

    /// Asks a reachable peer that has the body (a request by hash); tries
    /// again later if none can answer now.
    fn fetch(&mut self, node: usize, hash: H256) {
        if self.nodes[node].bodies.contains(&hash) {
            return self.got_body(node, hash);
        }
        let from = (0..self.nodes.len()).find(|p| {
            *p != node
                && !self.nodes[*p].down
                && self.nodes[*p].bodies.contains(&hash)
                && self.nodes[*p].behaviour != Behaviour::Silent
                && self.reachable(node, *p)
        });
        let at = self.now + self.delay() * 2;
        match from {
            Some(_) => self.schedule(at, Event::Body { to: node, hash }),
            None => self.schedule(at.max(self.now + 500), Event::Fetch { node, hash }),
        }
    }

    /// Carries out actions in order, as the shell does: an answer known at
    /// once goes to the engine right after its action, and what the engine
    /// says to it joins the end of the queue.
    fn carry_out(&mut self, node: usize, actions: Vec<Action>) {
        let mut queue: std::collections::VecDeque<Action> = actions.into();
        while let Some(a) = queue.pop_front() {
            if self.nodes[node].down {
                return;
            }
            match a {
                Action::BuildBlock {
                    request, parent, ..
                } => {
                    let parent = parent.unwrap_or(self.nodes[node].best.1);
                    let number = if parent == H256::zero() {
                        1
                    } else {
                        self.blocks[&parent].number + 1
                    };
                    // A real block carries a timestamp: built again, it differs.
                    let hash = H256(blake2_256(
                        &(b"block", node as u32, request, parent, self.now).encode(),
                    ));
                    self.blocks.insert(
                        hash,
                        Block {
                            number,
                            parent,
                            builder: Some(node),
                        },
                    );
                    let at = self.now + 5 + self.rand(20);
                    self.schedule(
                        at,
                        Event::Built {
                            node,
                            request,
                            hash,
                        },
                    );
                }
                Action::ShareBlock { hash, proof } => {
                    assert!(
                        self.nodes[node].bodies.contains(&hash),
                        "node {node} shares block {hash} it does not have"
                    );
                    if self.nodes[node].behaviour == Behaviour::Silent {
                        continue;
                    }
                    self.log(node, (6u8, hash));
                    for to in 0..self.nodes.len() {
                        if to != node && self.reachable(node, to) && self.rand(1000) >= self.sc.loss
                        {
                            let at = self.now + self.delay();
                            let proof = proof.clone();
                            self.schedule(
                                at,
                                Event::Shared {
                                    to,
                                    from: node,
                                    hash,
                                    proof,
                                },
                            );
                        }
                    }
                    if let Some(c) = self.sc.crash {
                        if c.on_share && c.node == node && self.now >= c.at && !self.crashed {
                            self.crashed = true;
                            self.schedule(self.now, Event::Crash { node });
                            self.schedule(self.now + c.down, Event::Restart { node });
                        }
                    }
                }
                Action::CheckBlock { hash } => {
                    if self.nodes[node].bodies.contains(&hash) {
                        let at = self.now + 1 + self.rand(10);
                        self.schedule(at, Event::Checked { node, hash });
                    } else if self.nodes[node].checking.insert(hash)
                        && self.blocks.contains_key(&hash)
                    {
                        let at = self.now + self.delay();
                        self.schedule(at, Event::Fetch { node, hash });
                    }
                }
                Action::ImportBlock {
                    hash,
                    justification,
                } => {
                    if self.nodes[node].bodies.contains(&hash) {
                        if let Some(input) = self.import(node, hash, justification, true) {
                            let more = self.nodes[node].engine.handle(self.now, input);
                            queue.extend(more);
                        }
                    } else {
                        self.nodes[node].importing.insert(hash, justification);
                        let at = self.now + self.delay();
                        self.schedule(at, Event::Fetch { node, hash });
                    }
                }
                Action::SetBest(hash) => {
                    assert!(
                        self.nodes[node].imported.contains(&hash),
                        "node {node}: SetBest({hash}) of a block it never imported"
                    );
                    let number = self.blocks[&hash].number;
                    assert!(
                        self.on_chain(hash, node),
                        "node {node}: SetBest({hash}) would revert finality"
                    );
                    self.log(node, (7u8, number, hash));
                    self.set_best += 1;
                    self.nodes[node].best = (number, hash);
                }
                Action::Finalize(hash) => {
                    if self.nodes[node].imported.contains(&hash) {
                        self.finalize(node, hash);
                    } else {
                        // Still on its way (fetched): final once imported.
                        self.nodes[node].finalize_after.insert(hash);
                    }
                }
                Action::Broadcast(bytes) => self.broadcast(node, bytes),
                Action::Persist(p) => {
                    self.log(node, (0u8, p.encode_hint()));
                    let n = &mut self.nodes[node];
                    match p {
                        // As the shell: a body it does not hold is skipped.
                        Persist::Block(hash) => {
                            if n.bodies.contains(&hash) {
                                n.disk.keep_block(&hash, &[]).expect("memory never fails");
                            }
                        }
                        p => n.disk.persist(&p).expect("memory never fails"),
                    }
                }
                Action::Report(bytes) => {
                    let offender = match self.harness.offender(&bytes) {
                        Ok(o) => o,
                        Err(why) => panic!("node {node} reported a false offence: {why}"),
                    };
                    assert!(
                        !self.honest(offender),
                        "evidence against honest node {offender}"
                    );
                    self.log(node, (2u8, offender as u32));
                    self.reports += 1;
                }
                Action::WakeAt(at) => self.schedule(at.max(self.now), Event::Wake { node }),
            }
        }
    }

    /// Whether `hash` extends node's finalised chain.
    fn on_chain(&self, hash: H256, node: usize) -> bool {
        let Some((&number, &tip)) = self.nodes[node].finalized.iter().next_back() else {
            return true;
        };
        let mut at = hash;
        loop {
            if at == tip {
                return true;
            }
            match self.blocks.get(&at) {
                Some(b) if b.number > number => at = b.parent,
                _ => return false,
            }
        }
    }

    /// Imports `hash` at `node` (ancestors it lacks first, by sync) and
    /// returns what the engine is told: `own_path` for the engine's own
    /// `ImportBlock`, else a block from a peer.
    fn import(
        &mut self,
        node: usize,
        hash: H256,
        justification: Option<Vec<u8>>,
        own_path: bool,
    ) -> Option<Input> {
        if self.nodes[node].imported.contains(&hash) {
            return None;
        }
        let block = self.blocks[&hash];
        if block.parent != H256::zero() && !self.nodes[node].imported.contains(&block.parent) {
            // Sync the ancestors first (the client refuses an unknown parent).
            let parent = block.parent;
            let pj = self.justifications.get(&parent).cloned()?;
            self.nodes[node].bodies.insert(parent);
            if let Some(input) = self.import(node, parent, pj, false) {
                self.input(node, input);
            }
            if !self.nodes[node].imported.contains(&parent) {
                return None;
            }
        }
        if let Some(v) = &self.nodes[node].verifier {
            if let Err(why) = v.verify(&hash, block.number, justification.as_deref()) {
                assert!(
                    !own_path,
                    "node {node} imported block #{} {hash} that its own verifier refuses: {why}",
                    block.number
                );
                return None;
            }
        }
        self.justifications
            .entry(hash)
            .or_insert_with(|| justification.clone());
        let n = &mut self.nodes[node];
        n.imported.insert(hash);
        let best = block.number > n.best.0;
        if best {
            n.best = (block.number, hash);
        }
        self.log(node, (1u8, block.number, hash));
        // Announce it: peers sync what they do not have.
        if self.nodes[node].behaviour != Behaviour::Silent {
            for to in 0..self.nodes.len() {
                if to != node && self.reachable(node, to) {
                    let at = self.now + self.delay();
                    self.schedule(at, Event::Announce { to, hash });
                }
            }
        }
        let own = block.builder == Some(node);
        let input = Input::BlockImported {
            hash,
            number: u32::try_from(block.number).expect("block numbers fit u32"),
            parent: block.parent,
            best,
            own,
        };
        let instant = self.nodes[node].engine.finality() == Finality::Instant;
        if (!own_path && instant) || self.nodes[node].finalize_after.remove(&hash) {
            // The network's import path finalises blocks with a proof at once.
            self.finalize(node, hash);
        }
        Some(input)
    }

    /// A peer announced `hash`: import it (and what it lacks below it) with
    /// the justification it was imported with.
    fn sync(&mut self, node: usize, hash: H256) {
        if self.nodes[node].imported.contains(&hash) {
            return;
        }
        let Some(j) = self.justifications.get(&hash).cloned() else {
            return;
        };
        self.nodes[node].bodies.insert(hash);
        if let Some(input) = self.import(node, hash, j, false) {
            self.input(node, input);
        }
    }

    fn finalize(&mut self, node: usize, hash: H256) {
        let Some(block) = self.blocks.get(&hash).copied() else {
            panic!("node {node} finalised unknown block {hash}");
        };
        assert!(
            self.nodes[node].imported.contains(&hash),
            "node {node} finalised block #{} {hash} before importing it",
            block.number
        );
        let n = &self.nodes[node];
        if n.finalized.get(&block.number) == Some(&hash) {
            return;
        }
        assert!(
            block.number > n.finalized_number(),
            "node {node} finalised #{} {hash} below its finalised #{}",
            block.number,
            n.finalized_number()
        );
        assert!(
            self.on_chain(hash, node),
            "node {node} finalised #{} {hash} off its finalised chain",
            block.number
        );
        // Ancestors become final with it.
        let mut at = hash;
        let mut chain = Vec::new();
        while at != H256::zero() && !self.nodes[node].finalized.values().any(|h| *h == at) {
            let b = self.blocks[&at];
            chain.push((b.number, at));
            at = b.parent;
        }
        for (number, h) in chain.into_iter().rev() {
            self.log(node, (3u8, number, h));
            self.nodes[node].finalized.insert(number, h);
            if self.honest(node) {
                let first = *self.decided.entry(number).or_insert(h);
                assert_eq!(
                    first, h,
                    "SAFETY: honest node {node} finalised a different block at #{number}"
                );
            }
        }
    }

    fn broadcast(&mut self, from: usize, bytes: Vec<u8>) {
        let behaviour = self.nodes[from].behaviour;
        if behaviour == Behaviour::Silent {
            return;
        }
        let crash = self.sc.crash.filter(|c| {
            c.after_lock
                && c.node == from
                && self.now >= c.at
                && !self.crashed
                && self.harness.is_lock(&bytes)
        });
        let logical = self.harness.trace(&bytes);
        self.log(from, (4u8, logical));
        let conflicting = match behaviour {
            Behaviour::Equivocate => self.harness.corrupt(from, &bytes),
            _ => None,
        };
        if let Some(c) = &conflicting {
            let parent = self.nodes[from].best.1;
            for (hash, number) in &c.blocks {
                self.blocks.entry(*hash).or_insert(Block {
                    number: *number,
                    parent,
                    builder: None,
                });
                // Everyone can fetch a fake block's body from its maker.
                self.nodes[from].bodies.insert(*hash);
            }
        }
        for to in 0..self.nodes.len() {
            if to == from {
                continue;
            }
            let sends: Vec<Vec<u8>> = match &conflicting {
                Some(other) => match self.rand(3) {
                    0 => vec![bytes.clone()],
                    1 => vec![other.bytes.clone()],
                    _ => vec![bytes.clone(), other.bytes.clone()],
                },
                None => vec![bytes.clone()],
            };
            for b in sends {
                self.send(from, to, b);
            }
        }
        if let Some(c) = crash {
            // Killed with the lock just sent: nothing after it happens.
            self.crashed = true;
            self.log(from, 5u8);
            self.nodes[from].down = true;
            self.schedule(self.now + c.down, Event::Restart { node: from });
        }
    }

    fn send(&mut self, from: usize, to: usize, bytes: Vec<u8>) {
        if !self.reachable(from, to) || self.rand(1000) < self.sc.loss {
            return;
        }
        let at = self.now + self.delay();
        self.schedule(at, Event::Deliver { to, from, bytes });
    }

    /// A fresh engine from the node's disk (or a blank one), at its
    /// finalised tip; everything in flight to it was lost.
    fn restart(&mut self, node: usize) {
        let keep = self.sc.crash.is_some_and(|c| c.keep);
        if !keep {
            self.nodes[node].disk = MemoryDisk::default();
        }
        let finalized = self.nodes[node].finalized_number();
        let disk = self.nodes[node].disk.clone();
        let engine = self.harness.engine(node, &disk, finalized);
        self.log(node, (8u8, finalized, disk.log.len() as u32));
        let n = &mut self.nodes[node];
        // Bodies lived in memory: what survives is the chain it imported
        // and what its disk kept.
        n.bodies = n.imported.union(&n.disk.blocks).copied().collect();
        n.verifier = engine.verifier();
        n.gossip = engine.gossip_check();
        n.engine = engine;
        n.down = false;
        n.checking.clear();
        n.importing.clear();
        n.finalize_after.clear();
        let out = self.nodes[node].engine.start(self.now);
        self.carry_out(node, out);
    }
}

impl Persist {
    /// What of a write goes in the trace: its kind and bytes.
    fn encode_hint(&self) -> (u8, Vec<u8>) {
        match self {
            Persist::State(b) => (0, b.clone()),
            // Records hold signatures, which may be randomised: the length.
            Persist::Append(b) => (1, (b.len() as u64).encode()),
            Persist::NewLog(e) => (2, e.encode()),
            Persist::Block(h) => (3, h.encode()),
        }
    }
}

/// Seeds per scenario in CI (each engine's tests say how long they take).
pub const CI_SEEDS: u64 = 128;

/// Seeds per scenario: `QSTACK_SIM_SEEDS`, else `default`.
pub fn seeds(default: u64) -> u64 {
    std::env::var("QSTACK_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Runs `seeds` seeds of `sc`, naming the failing seed.
pub fn run_seeds<H: Harness>(
    name: &str,
    sc: &Scenario,
    seeds: u64,
    harness: impl Fn() -> H + std::panic::RefUnwindSafe,
) -> Vec<Run> {
    (0..seeds)
        .map(|seed| {
            let run = std::panic::catch_unwind(|| Sim::new(harness(), sc.clone(), seed).run());
            match run {
                Ok(r) => r,
                Err(e) => {
                    let why = e
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    panic!("{name}: seed {seed} failed: {why}")
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
