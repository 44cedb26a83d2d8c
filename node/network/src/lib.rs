//! qstack networking (DESIGN §6): a libp2p swarm — TCP + noise + yamux,
//! identify, gossipsub topics for transactions, block announcements and
//! consensus messages (validated before they are forwarded: [`consensus`]),
//! request-response block sync, Kademlia and mDNS
//! discovery — and the pure cores it drives: [`sync::SyncCore`] (parallel
//! range download, checked and imported in order) and
//! [`reputation::PeerBook`] (scores and bans).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)
)]

pub mod codec;
pub mod consensus;
pub mod node_key;
pub mod protocol;
pub mod reputation;
mod service;
pub mod sync;

pub use consensus::{ConsensusCheck, ConsensusInbox, ConsensusMessage};
pub use libp2p::{identity::Keypair, multiaddr, Multiaddr, PeerId};
pub use qstack_consensus::Verdict;
pub use service::{
    serve_blocks, start, ChainApi, GossipVerdict, NetworkConfig, NetworkError, NetworkHandle,
    NetworkSnapshot, PeerSnapshot,
};
