//! The BFT-DPoS engine's pure core: Tendermint rounds ("The latest gossip on
//! BFT consensus", Buchman, Kwon, Milosevic 2018, Algorithm 1) over a
//! weighted validator set.
//!
//! [`Tendermint`] is a synchronous state machine: `handle(now, BftInput) ->
//! Vec<BftAction>`. Values are block hashes; the core never sees a block. It
//! asks the shell for one when it proposes ([`BftAction::RequestValue`],
//! answered by [`BftInput::Value`]) and asks whether a proposed block is valid
//! ([`BftAction::CheckValue`], answered by [`BftInput::Validity`]); rules that
//! need `valid(v)` wait for the answer. A decision is a [`CommitCertificate`]
//! (> 2/3 of the power precommitting one block in one round), verifiable
//! against the height's [`ValidatorSet`]; it is the block's justification and
//! the block is final at once. The core then moves to the next height, with a
//! validator set the shell scheduled for it or else the same set, proposer
//! priorities advanced.
//!
//! Messages ([`Message`]) are SCALE, decoded strictly; every signature is over
//! a domain-separated encoding (tag, chain id, step, the message), so it is
//! good for one chain and one step. Anything malformed, badly signed, from an
//! unknown validator, for another height or too far ahead is dropped. Two
//! different signed messages from one validator for one (height, round, step)
//! become [`Evidence`].
//!
//! Where the core adds to or reads the paper differently, and why:
//! - votes are counted per value by distinct signer, so an equivocator counts
//!   for each value it signed (the paper counts messages) but once toward
//!   "2f+1 of anything"; at most 4 values per signer and step are kept;
//! - values are their own ids, so L49 decides on a precommit quorum plus
//!   `valid(v)` without waiting for the proposal message;
//! - the proposer schedules OnTimeoutPropose too (L21 is for the others), so
//!   a round moves on if its shell never answers `RequestValue`;
//! - gossip is the core's job in part: our own messages of the current round
//!   are re-sent every `rebroadcast` ms with a [`Message::Status`]; a
//!   re-proposal (L16) carries the prevotes that justify its `validRound`
//!   (Tendermint's proof-of-lock); a peer seen at a height we decided gets its
//!   [`CommitCertificate`], which decides that height for it.
//!
//! What the shell (with networking) must do:
//! - carry out actions in order; on [`BftAction::PersistSigner`], write the
//!   [`SignerState`] durably before anything after it is sent, and on restart
//!   build the core with the persisted state: the core never signs at or
//!   before it, so a crash cannot produce a double sign; the state also
//!   holds the height's lock and valid value, restored and honoured (as
//!   checked) even when the block's body is gone, so a restart cannot be
//!   talked into prevoting a block that conflicts with its precommit;
//! - append each received message the core kept ([`BftAction::Kept`]) and
//!   each [`BftAction::Broadcast`] to a WAL (before carrying out what follows
//!   / before sending), truncate it at each commit, and on restart build
//!   the core at the height after the last committed block and replay the
//!   WAL as [`BftInput::Message`]s: the votes seen are counted again, and
//!   the signer state stops anything already signed being signed again
//!   (the simulation's crash and amnesia tests do exactly this); keep the
//!   bodies of the blocks it votes for (`Persist::Block`, before the vote
//!   goes out) until the height ends;
//! - deliver [`BftInput::Tick`] at each [`BftAction::WakeAt`] (time is an
//!   input; the core reads no clock);
//! - build blocks for `RequestValue`, fetch/execute blocks for `CheckValue`,
//!   import a committed block with its certificate; [`BftEngine`] (the core
//!   behind the generic `Engine` trait) does the rest for any shell: it
//!   offers each [`Evidence`] to the blocks it asks for as inherent data
//!   `*b"evidence"` (SCALE `Vec<Evidence>`), where the runtime's evidence
//!   pallet checks and records it, and checks synced blocks' certificates
//!   ([`BftVerifier`]);
//! - sync blocks for a node more than `keep_certificates` heights behind, and
//!   hand the core each height's validator set from staking ahead of time
//!   ([`Tendermint::schedule_validators`]);
//! - for the durable part, use [`store`] (plain `std` file I/O):
//!   [`store::SignerStore`] (the signer state, replaced atomically,
//!   checksummed, never moved backwards), [`store::Wal`] (one height's
//!   records, framed and checksummed, synced per append or batch, bounded in
//!   size, started afresh by [`store::Wal::truncate_for`] at each commit;
//!   replay drops a torn last frame and refuses damage in the middle) and
//!   [`store::BlockStore`] (kept bodies), all behind [`store::BftDisk`],
//!   where a full WAL drops peers' messages past their budget instead of
//!   stopping the validator.

mod core;
mod engine;
pub mod gossip;
pub mod spec;
pub mod store;
mod types;

#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests;

pub use self::core::{BftAction, BftConfig, BftInput, Tendermint};
pub use self::engine::{BftEngine, BftVerifier, MAX_PENDING_EVIDENCE};
pub use self::gossip::BftGossip;
pub use self::spec::{BftSpec, BftSpecError, BftTimeouts, BftValidatorSpec};
pub use self::types::*;
