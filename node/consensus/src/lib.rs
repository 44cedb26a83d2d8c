//! Consensus engines as pure state machines behind one trait, [`Engine`]: an
//! engine takes inputs (time passing, transactions ready, blocks built,
//! checked or imported, peer messages, the runtime's consensus
//! configuration) and returns actions (build a block, check one, import one
//! with a proof, choose the best block, finalise, broadcast, persist before
//! sending, report an offence, wake me at). It does no I/O and reads no
//! clock; the node's shell carries the actions out, in order. Engines are
//! chosen by the chain spec (`consensus.engine`).
//!
//! One shell runs every engine (`qstack_service::shell::Shell<E>`); the
//! seeded network simulation ([`sim`], tests only) plays that shell for any
//! engine, so a new engine gets both without engine-specific code. What an
//! engine brings besides its core: a [`Durable`] store for its `Persist`
//! writes (a file format of its own) and, if synced blocks need a proof, a
//! [`Verifier`] the network's import path shares.
//!
//! How the four engines use it:
//! - [`dev`]: `TransactionsReady`/`Tick` → `BuildBlock`; `Built` →
//!   `ImportBlock` (no proof); imported → `Finalize` ([`Finality::Instant`]).
//! - [`bft`] ([`bft::BftEngine`]): the core's proposal request is
//!   `BuildBlock` (with the double signs it caught as inherent data), the
//!   body of every proposal it makes is `ShareBlock`ed with the signed
//!   proposal as its proof (before the proposal goes out), and
//!   `valid(v)` is `CheckBlock`; signer state (with the lock), the WAL and
//!   the bodies it votes for are `Persist` (always before the `Broadcast`
//!   they protect); a decision is
//!   `ImportBlock` with the commit certificate, then `Finalize`; equivocation
//!   is `Report`; the runtime's validator set comes in as `Config`; synced
//!   blocks' certificates are checked by [`bft::BftVerifier`].
//! - vote (XRPL-style): positions on candidate transaction sets are
//!   `Broadcast`; once a set passes the threshold, `BuildBlock` naming
//!   exactly those transactions; the resulting ledger's validations are
//!   messages too, and 80 % of them on one hash is `ImportBlock` +
//!   `Finalize`. Instant finality.
//! - pow: `BuildBlock` makes a template, the engine (or a worker it wakes)
//!   searches the seal and imports with it as the proof; blocks from peers
//!   arrive as `BlockImported` (the network checked their seal with the
//!   engine's [`Verifier`]); the engine keeps the block tree, answers with
//!   `SetBest` when the heaviest subtree changes (a reorg) and `Finalize`s
//!   only blocks buried [`Finality::Probabilistic`] deep.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

pub mod bft;
pub mod dev;
#[cfg(test)]
pub mod sim;

use qstack_core::H256;
use std::sync::Arc;

/// A peer as the shell knows it: the network's peer id, opaque to engines
/// (libp2p's `PeerId` bytes on a node, the node index in a simulation).
/// Engines compare peers and hand them back; they never parse them.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Peer(pub Vec<u8>);

/// Inherent data an engine adds to a block it asks for: (identifier, SCALE
/// bytes), e.g. the BFT engine's double-sign evidence under `*b"evidence"`.
pub type InherentItem = ([u8; 8], Vec<u8>);

/// Milliseconds on the node's monotonic clock (an input, never read inside).
pub type Millis = u64;

/// What happened, as told to an engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A wake-up the engine asked for (or a periodic tick).
    Tick,
    /// The pool has transactions ready for a block.
    TransactionsReady {
        /// How many.
        count: usize,
    },
    /// The block asked for by [`Action::BuildBlock`] is built (not stored).
    Built {
        /// The request it answers.
        request: u64,
        /// The block's hash.
        hash: H256,
        /// Its number.
        number: u32,
    },
    /// Building the block asked for by `request` failed.
    BuildFailed {
        /// The request it answers.
        request: u64,
    },
    /// The answer to [`Action::CheckBlock`]: whether the block executed and
    /// its roots matched.
    Checked {
        /// The block.
        hash: H256,
        /// Whether it is valid.
        valid: bool,
    },
    /// A block was imported and stored (by us or from a peer).
    BlockImported {
        /// Its hash.
        hash: H256,
        /// Its number.
        number: u32,
        /// Its parent.
        parent: H256,
        /// Whether it is the new best block.
        best: bool,
        /// Whether this node built it.
        own: bool,
    },
    /// A consensus message from a peer (engine-defined encoding).
    Message {
        /// Who sent it (the gossip source).
        from: Peer,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// The runtime's consensus configuration in force from block `number`
    /// on (engine-defined encoding: the BFT validator set and powers, the
    /// vote engine's validator list, PoW difficulty rules).
    Config {
        /// First block it applies to.
        number: u64,
        /// The configuration.
        config: Vec<u8>,
    },
}

/// A durable write; the shell completes it before carrying out any later
/// action, so nothing is sent that a crash could make the engine forget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Persist {
    /// Replace the engine's state record atomically (the BFT signer's
    /// high-water mark); handed back when the engine is rebuilt.
    State(Vec<u8>),
    /// Append a record to the log of the current epoch (the BFT WAL).
    Append(Vec<u8>),
    /// Start an empty log for epoch `n` (a new height), dropping the old
    /// log and the blocks kept for it.
    NewLog(u64),
    /// Keep the body of this block (built here or shared by a peer) until
    /// a later epoch's log starts, so a restart still has it (the BFT
    /// engine keeps what it voted for). The shell hands the body to
    /// [`Durable::keep_block`]; one it does not hold is skipped: the engine
    /// only asks for blocks it checked, and may vote for one it checked
    /// before a restart.
    Block(H256),
}

/// What the shell must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Build a block on `parent` (the best block if `None`) and answer with
    /// [`Input::Built`] (or [`Input::BuildFailed`]); keep it until
    /// [`Action::ImportBlock`] names it.
    BuildBlock {
        /// Echoed in the answer.
        request: u64,
        /// The parent.
        parent: Option<H256>,
        /// Exactly these pool transactions (by hash), in this order; the
        /// build fails if one is not in the pool. `None`: whatever the pool
        /// has ready (the vote engine names the set its validators agreed).
        transactions: Option<Vec<H256>>,
        /// Inherent data of the engine's own, besides the timestamp.
        inherents: Vec<InherentItem>,
    },
    /// Gossip the body of a block here (built, or a peer's we hold), so
    /// peers can check it ([`Action::CheckBlock`]) before it is decided.
    /// `proof` binds the body to whoever may propose it (the BFT engine's
    /// signed proposal naming the block): peers keep a body only with a
    /// proof their [`GossipCheck::block`] accepts, so nobody else can fill
    /// their slots or substitute a body.
    ShareBlock {
        /// The block.
        hash: H256,
        /// Engine-defined proof that the block was proposed.
        proof: Vec<u8>,
    },
    /// Execute a block received from a peer without storing it; answer with
    /// [`Input::Checked`] (once the block is here, if it is not yet).
    CheckBlock {
        /// The block.
        hash: H256,
    },
    /// Store a block built or checked before (or else fetch and import it),
    /// with its finality proof (commit certificate, seal) as justification.
    ImportBlock {
        /// The block.
        hash: H256,
        /// Its proof, if the engine has one.
        justification: Option<Vec<u8>>,
    },
    /// Make this stored block the best one (fork choice; a reorg if it is not
    /// a descendant of the current best).
    SetBest(H256),
    /// Mark a block final (and its ancestors).
    Finalize(H256),
    /// Gossip an engine message to peers.
    Broadcast(Vec<u8>),
    /// Write durably before anything after it.
    Persist(Persist),
    /// Evidence of an offence for the chain (engine-defined encoding), to be
    /// put in a block for the runtime to check and punish.
    Report(Vec<u8>),
    /// Deliver an [`Input::Tick`] at this time.
    WakeAt(Millis),
}

/// How blocks become final under an engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finality {
    /// Final once imported with the engine's proof (dev, bft, vote).
    Instant,
    /// Final once this many blocks are built on top (pow); until then the
    /// best chain may change.
    Probabilistic {
        /// Confirmations.
        depth: u32,
    },
}

/// A consensus engine's core.
pub trait Engine: Send {
    /// Handles one input at time `now`, returning the actions to carry out
    /// in order.
    fn handle(&mut self, now: Millis, input: Input) -> Vec<Action>;
    /// Actions to carry out when the shell starts (after a restart too).
    fn start(&mut self, now: Millis) -> Vec<Action>;
    /// How blocks become final.
    fn finality(&self) -> Finality;
    /// The check a block that arrives by sync must pass before it is
    /// imported (the BFT commit certificate, the PoW seal), shared with the
    /// network's import path; `None`: blocks need no proof (dev).
    fn verifier(&self) -> Option<Arc<dyn Verifier>> {
        None
    }
    /// The check consensus gossip passes before it is forwarded or reaches
    /// the engine, run by the network on a worker (not the engine's
    /// thread); `None`: the engine takes no messages.
    fn gossip_check(&self) -> Option<Arc<dyn GossipCheck>> {
        None
    }
    /// Whether the engine takes the runtime's configuration
    /// ([`Input::Config`]); the shell reads it (a runtime call per block)
    /// only for engines that do.
    fn wants_config(&self) -> bool {
        false
    }
}

/// Checks a block's justification against the engine's rules. Runs off the
/// engine's thread (the network's sync path), so it shares only what it
/// needs, behind its own locks.
pub trait Verifier: Send + Sync {
    /// Whether `justification` proves block `hash` at `number` (`Err`: why
    /// not, for the log and the peer's score).
    fn verify(&self, hash: &H256, number: u64, justification: Option<&[u8]>) -> Result<(), String>;
}

/// What a [`GossipCheck`] made of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Valid and signed by someone the engine counts (a validator): forward
    /// it and hand it to the engine from the queue junk cannot fill.
    Accept,
    /// Valid for this node but not worth forwarding (an unsigned status, a
    /// certificate for a height it already has): hand it to the engine
    /// from the bounded queue of the rest; blame nobody.
    Deliver,
    /// Not checkable here now (another height or round than the window the
    /// engine is in): drop it, blame nobody.
    Ignore,
    /// Invalid (undecodable, unknown signer, bad signature, wrong
    /// proposer): drop it and cost the peer that sent it.
    Reject(String),
}

/// An engine's check of consensus gossip, shared with the network (which
/// runs it off the engine's thread, so it keeps what it needs behind its
/// own locks and is told of height changes by the engine).
pub trait GossipCheck: Send + Sync {
    /// An engine message.
    fn message(&self, bytes: &[u8]) -> Verdict;
    /// A block body whose header hashes to `hash`, at `number`, shared with
    /// `proof` ([`Action::ShareBlock`]); the shell checked that the body
    /// matches the header.
    fn block(&self, hash: &H256, number: u64, proof: &[u8]) -> Verdict;
}

/// Where a shell carries out [`Action::Persist`]: files on a node, memory in
/// a simulation. Each engine that persists brings its own (the BFT engine's
/// checks its signer state and WAL records and keeps their file formats);
/// a write is complete (synced) when `persist` returns.
pub trait Durable: Send {
    /// Writes `p` durably (a [`Persist::Block`] goes to
    /// [`Durable::keep_block`] with its body instead).
    fn persist(&mut self, p: &Persist) -> Result<(), String>;
    /// Keeps a block's encoded body (`hash` is its header's) durably until
    /// the next [`Persist::NewLog`].
    fn keep_block(&mut self, hash: &H256, body: &[u8]) -> Result<(), String> {
        Err(format!(
            "this engine's store keeps no blocks, but was asked to keep {hash} ({} bytes)",
            body.len()
        ))
    }
    /// The bodies kept for the current epoch, handed back once when the
    /// shell starts (after a restart).
    fn kept_blocks(&mut self) -> Vec<Vec<u8>> {
        Vec::new()
    }
}

/// The store of an engine that persists nothing (dev): any write is an
/// error, since an engine that asks to persist must have somewhere to.
#[derive(Debug, Default)]
pub struct NothingDurable;

impl Durable for NothingDurable {
    fn persist(&mut self, p: &Persist) -> Result<(), String> {
        Err(format!(
            "this engine was started without a durable store but asked to persist {p:?}"
        ))
    }
}
