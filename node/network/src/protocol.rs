//! What goes over the wire: the sync request-response protocol (status and
//! blocks by number or hash, in either direction, with the fields asked
//! for), block announcements, and the size caps every decoder enforces.
//! Everything is SCALE; every decoder refuses trailing bytes.

use codec::{Decode, Encode};
use qstack_core::H256;
use qstack_runtime_primitives::{Header, OpaqueExtrinsic};

/// Largest request a node reads (bytes); anything longer is refused unread.
pub const MAX_REQUEST_BYTES: usize = 1024;
/// Largest response a node reads (bytes): one maximal block plus slack.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// A responder stops adding blocks once the response passes this size
/// (at least one block is always sent).
pub const SOFT_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
/// Most blocks one request may ask for.
pub const MAX_BLOCKS_PER_REQUEST: u32 = 128;
/// Largest gossip message (bytes): a maximal extrinsic or engine message.
pub const MAX_GOSSIP_BYTES: usize = 5 * 1024 * 1024 + 64 * 1024;

/// Most transactions in one gossip message.
pub const MAX_BATCH_TRANSACTIONS: usize = 1024;
/// A node publishes its pending transactions once they reach this size (or
/// [`MAX_BATCH_TRANSACTIONS`], or a short delay passes).
pub const BATCH_FLUSH_BYTES: usize = 1024 * 1024;

/// Transactions gossiped together: one message, and one gossip signature
/// made and checked per hop, for everything a node published within a few
/// milliseconds, instead of one each.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct TransactionBatch(pub Vec<Vec<u8>>);

impl TransactionBatch {
    /// Strict decoding: within the gossip cap, 1 to
    /// [`MAX_BATCH_TRANSACTIONS`] transactions, no trailing bytes.
    pub fn decode_strict(bytes: &[u8]) -> Result<Self, WireError> {
        let batch: Self = decode_capped(bytes, MAX_GOSSIP_BYTES)?;
        if batch.0.is_empty() || batch.0.len() > MAX_BATCH_TRANSACTIONS {
            return Err(WireError::Malformed(format!(
                "a transaction batch holds 1 to {MAX_BATCH_TRANSACTIONS} transactions, not {}",
                batch.0.len()
            )));
        }
        Ok(batch)
    }
}

/// Bit flags of what a block request wants.
pub mod fields {
    /// Headers (always sent).
    pub const HEADER: u8 = 1;
    /// Bodies (extrinsics).
    pub const BODY: u8 = 2;
    /// Justifications (finality proofs).
    pub const JUSTIFICATION: u8 = 4;
    /// Everything needed to import.
    pub const FULL: u8 = HEADER | BODY | JUSTIFICATION;
}

/// Where a block request starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub enum FromBlock {
    /// The canonical block at this number.
    Number(u32),
    /// This block (on any fork the responder has).
    Hash(H256),
}

/// Which way from the start block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Direction {
    /// Increasing numbers (children, canonical chain).
    Ascending,
    /// Decreasing numbers (parents).
    Descending,
}

/// A request for blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct BlockRequest {
    /// `fields::*` bits.
    pub fields: u8,
    /// Start block.
    pub from: FromBlock,
    /// Direction.
    pub direction: Direction,
    /// Most blocks wanted (capped at [`MAX_BLOCKS_PER_REQUEST`]).
    pub max: u32,
}

/// A sync request.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Request {
    /// The peer's chain status.
    Status,
    /// Blocks.
    Blocks(BlockRequest),
    /// A block body a consensus engine shared and this peer missed, by the
    /// block's hash (the shared message, proof included).
    Consensus(H256),
}

/// A node's chain status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Status {
    /// Genesis hash (peers of another chain are dropped).
    pub genesis: H256,
    /// Best block number.
    pub best_number: u32,
    /// Best block hash.
    pub best_hash: H256,
    /// Last finalised number.
    pub finalized_number: u32,
    /// Last finalised hash.
    pub finalized_hash: H256,
}

/// One block as sent: header, and the body and justification if asked for.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct BlockData {
    /// The header.
    pub header: Header,
    /// The extrinsics (`None` if not asked for).
    pub body: Option<Vec<OpaqueExtrinsic>>,
    /// The justification, if asked for and the block has one.
    pub justification: Option<Vec<u8>>,
}

/// Why a responder refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Refusal {
    /// Too many requests from this peer.
    RateLimited,
    /// The request asked for something it may not (e.g. no header field).
    BadRequest,
    /// The responder's database failed.
    Unavailable,
}

/// A sync response.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Response {
    /// Answer to [`Request::Status`].
    Status(Status),
    /// Answer to [`Request::Blocks`]: in the order asked, possibly fewer than
    /// asked (none if the start block is unknown).
    Blocks(Vec<BlockData>),
    /// The request was not served.
    Refused(Refusal),
    /// Answer to [`Request::Consensus`]: the shared message, if held.
    Consensus(Option<Vec<u8>>),
}

/// A new block, announced by gossip (the header; the body is fetched).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct BlockAnnounce {
    /// The header.
    pub header: Header,
}

/// Why bytes from a peer were refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    /// Longer than the cap for its kind.
    #[error("message of {len} bytes exceeds the {cap}-byte cap")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The cap.
        cap: usize,
    },
    /// Not a valid encoding.
    #[error("malformed message: {0}")]
    Malformed(String),
}

/// Decodes `bytes` as a `T`, refusing anything over `cap` bytes, any
/// nesting deeper than 32 and any trailing byte.
pub fn decode_capped<T: Decode>(bytes: &[u8], cap: usize) -> Result<T, WireError> {
    if bytes.len() > cap {
        return Err(WireError::TooLarge {
            len: bytes.len(),
            cap,
        });
    }
    <T as codec::DecodeLimit>::decode_all_with_depth_limit(32, &mut &bytes[..])
        .map_err(|e| WireError::Malformed(e.to_string()))
}

/// The protocol and topic names of one chain: the genesis hash is part of
/// every name, so nodes of different chains never exchange messages.
#[derive(Clone, Debug)]
pub struct Names {
    /// Request-response sync protocol.
    pub sync: String,
    /// Gossip topic for transactions.
    pub transactions: String,
    /// Gossip topic for block announcements.
    pub blocks: String,
    /// Gossip topic for consensus engine messages.
    pub consensus: String,
    /// Kademlia protocol.
    pub kad: String,
    /// Identify protocol version string.
    pub identify: String,
}

impl Names {
    /// Names for the chain with this genesis.
    pub fn for_genesis(genesis: &H256) -> Self {
        let g = hex(&genesis.0[..8]);
        Names {
            sync: format!("/qstack/{g}/sync/1"),
            transactions: format!("/qstack/{g}/transactions/2"),
            blocks: format!("/qstack/{g}/block-announces/1"),
            consensus: format!("/qstack/{g}/consensus/1"),
            kad: format!("/qstack/{g}/kad/1"),
            identify: format!("/qstack/{g}/1"),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn transaction_batches_decode_strictly() {
        let batch = TransactionBatch(vec![vec![1, 2, 3], vec![4; 100]]);
        let bytes = batch.encode();
        assert_eq!(TransactionBatch::decode_strict(&bytes), Ok(batch));
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(TransactionBatch::decode_strict(&trailing).is_err());
        assert!(TransactionBatch::decode_strict(&TransactionBatch(vec![]).encode()).is_err());
        let many = TransactionBatch(vec![vec![0]; MAX_BATCH_TRANSACTIONS + 1]).encode();
        assert!(TransactionBatch::decode_strict(&many).is_err());
        let max = TransactionBatch(vec![vec![0]; MAX_BATCH_TRANSACTIONS]).encode();
        assert!(TransactionBatch::decode_strict(&max).is_ok());
        // A huge claimed count is refused, not allocated.
        assert!(TransactionBatch::decode_strict(&[0xff, 0xff, 0xff, 0xff, 0x03]).is_err());
    }

    use super::*;

    #[test]
    fn round_trips_and_refuses_trailing_bytes() {
        let req = Request::Blocks(BlockRequest {
            fields: fields::FULL,
            from: FromBlock::Number(7),
            direction: Direction::Ascending,
            max: 64,
        });
        let mut bytes = req.encode();
        assert_eq!(decode_capped::<Request>(&bytes, MAX_REQUEST_BYTES), Ok(req));
        bytes.push(0);
        assert!(matches!(
            decode_capped::<Request>(&bytes, MAX_REQUEST_BYTES),
            Err(WireError::Malformed(_))
        ));
    }

    #[test]
    fn refuses_oversized_before_decoding() {
        let bytes = vec![0u8; MAX_REQUEST_BYTES + 1];
        assert_eq!(
            decode_capped::<Request>(&bytes, MAX_REQUEST_BYTES),
            Err(WireError::TooLarge {
                len: MAX_REQUEST_BYTES + 1,
                cap: MAX_REQUEST_BYTES
            })
        );
    }

    #[test]
    fn huge_length_prefixes_fail_without_allocating() {
        // A Blocks response claiming 2^30 blocks in 5 bytes.
        let bytes = [1u8, 0x03, 0xff, 0xff, 0xff, 0x0f];
        assert!(decode_capped::<Response>(&bytes, MAX_RESPONSE_BYTES).is_err());
    }

    #[test]
    fn names_differ_per_chain() {
        let a = Names::for_genesis(&H256([1; 32]));
        let b = Names::for_genesis(&H256([2; 32]));
        assert_ne!(a.sync, b.sync);
        assert_ne!(a.transactions, b.transactions);
        assert!(a.sync.starts_with("/qstack/0101010101010101/"));
    }
}
