//! Consensus engines as pure state machines: an engine takes inputs (time
//! passing, transactions arriving, blocks imported, peer messages) and returns
//! actions (author a block, finalise, send a message, wake me at). It does no
//! I/O and reads no clock; the node's shell carries out the actions. Engines
//! are chosen by the chain spec (`consensus.engine`). [`dev`] implements
//! [`Engine`]; [`bft`] is the Tendermint core with its own inputs and actions
//! (proposal values, validity, signer state, certificates, evidence), which
//! its shell adapts.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)
)]

pub mod bft;
pub mod dev;

use qstack_core::H256;

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
    /// A block was imported (by us or from a peer).
    BlockImported {
        /// Its hash.
        hash: H256,
        /// Its number.
        number: u32,
        /// Whether it is the new best block.
        best: bool,
    },
    /// A consensus message from a peer (engine-defined encoding).
    Message {
        /// Peer index in the shell's peer table.
        from: u64,
        /// The bytes.
        bytes: Vec<u8>,
    },
}

/// What the shell must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Build a block on the current best block and import it.
    AuthorBlock,
    /// Mark a block final.
    Finalize(H256),
    /// Gossip an engine message to peers.
    Broadcast(Vec<u8>),
    /// Deliver an `Input::Tick` at this time.
    WakeAt(Millis),
}

/// A consensus engine's core.
pub trait Engine: Send {
    /// Handles one input at time `now`, returning the actions to carry out.
    fn handle(&mut self, now: Millis, input: Input) -> Vec<Action>;
    /// Whether blocks this engine authors are final at once.
    fn instant_finality(&self) -> bool;
}
