//! The seam between the RPC server and the rest of the node: what the server
//! asks of the chain, the state, the runtime and the transaction pool.

use qstack_core::{AccountId, Balance, BlockNumber, Nonce, PublicKey, H256};
use qstack_runtime_primitives::{
    AccountSettings, ConsensusEngineId, Header, OpaqueExtrinsic, RuntimeVersion,
};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc};

/// Everything the RPC methods need from the node. Methods are synchronous and
/// may block (the server calls the slow ones — state, runtime calls, pool
/// submission — from `spawn_blocking`); none may panic on bad input, since
/// every argument here has come from an untrusted client.
///
/// Block-scoped methods answer [`BackendError::UnknownBlock`] for a hash the
/// node does not know (or whose state it has pruned), so clients can tell a
/// wrong hash from a failure.
pub trait RpcBackend: Send + Sync + 'static {
    /// Genesis, best and finalized blocks, read together.
    fn chain_info(&self) -> ChainInfo;

    /// The header of block `hash`; `None` if the node does not have it.
    fn header(&self, hash: H256) -> Result<Option<Header>, BackendError>;

    /// Header, body and justifications of block `hash`; `None` if unknown.
    fn block(&self, hash: H256) -> Result<Option<BlockData>, BackendError>;

    /// Hash of the canonical (best-chain) block at `number`; `None` above the best block.
    fn block_hash(&self, number: BlockNumber) -> Result<Option<H256>, BackendError>;

    /// The value under `key` in the state after block `at`.
    fn storage(&self, at: H256, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError>;

    /// Up to `count` keys that start with `prefix`, in ascending byte order,
    /// strictly after `start_key` when given, in the state after block `at`.
    /// `count` is at most [`crate::MAX_KEYS_PAGED`].
    fn storage_keys_paged(
        &self,
        at: H256,
        prefix: &[u8],
        count: u32,
        start_key: Option<&[u8]>,
    ) -> Result<Vec<Vec<u8>>, BackendError>;

    /// The trie nodes proving the values (or absence) of `keys` against the
    /// state root of block `at`.
    fn read_proof(&self, at: H256, keys: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, BackendError>;

    /// Calls runtime API `method` (e.g. `Core_version`) with SCALE `input` on
    /// the state after block `at`; returns the SCALE output.
    /// [`BackendError::Call`] carries why the runtime failed.
    fn call(&self, at: H256, method: &str, input: &[u8]) -> Result<Vec<u8>, BackendError>;

    /// The version of the runtime that executes on top of block `at`'s state.
    fn runtime_version(&self, at: H256) -> Result<RuntimeVersion, BackendError>;

    /// Validates `extrinsic` (its full encoding, length prefix included) and
    /// adds it to the pool; returns its hash.
    fn submit_extrinsic(&self, extrinsic: OpaqueExtrinsic) -> Result<H256, SubmitError>;

    /// As [`Self::submit_extrinsic`], and returns a stream of its statuses.
    /// The server stops reading after a final status ([`TxStatus::is_final`])
    /// or when the sender is dropped.
    fn submit_and_watch(
        &self,
        extrinsic: OpaqueExtrinsic,
    ) -> Result<(H256, mpsc::Receiver<TxStatus>), SubmitError>;

    /// The extrinsics waiting in the pool (ready and future).
    fn pending_extrinsics(&self) -> Vec<OpaqueExtrinsic>;

    /// Each new best block's header, as it is imported.
    fn subscribe_new_heads(&self) -> broadcast::Receiver<Header>;

    /// Each newly finalized block's header.
    fn subscribe_finalized_heads(&self) -> broadcast::Receiver<Header>;

    /// Node identity and network health.
    fn system_info(&self) -> SystemInfo;

    /// The next nonce `who` should sign with: the on-chain nonce, advanced
    /// past `who`'s transactions already in the pool.
    fn account_nonce(&self, who: &AccountId) -> Result<Nonce, BackendError>;

    /// `who`'s account at the best block (all zero / no key if it does not exist).
    fn account_info(&self, who: &AccountId) -> Result<AccountInfo, BackendError>;

    // Networking. The server calls these inline on its async threads (as it
    // does [`Self::system_info`]), so they must answer from memory (a snapshot
    // the network keeps up to date), never wait on the network task. The
    // defaults describe a node without networking.

    /// The connected peers (`system_peers`). Default: none.
    fn network_peers(&self) -> Vec<PeerInfo> {
        Vec::new()
    }

    /// How far block import has come (`system_syncState`). Default: all three
    /// numbers are the best block's, as for a node that is not syncing.
    fn sync_state(&self) -> SyncState {
        let best = self.chain_info().best_number;
        SyncState {
            starting_block: best,
            current_block: best,
            highest_block: best,
        }
    }

    /// This node's peer id (`system_localPeerId`); `None` if networking is not
    /// running. Default: `None`.
    fn local_peer_id(&self) -> Option<String> {
        None
    }

    /// A JSON object describing the network as the node sees it
    /// (`system_networkState`, returned to the client as it is); `None` if
    /// networking is not running. Default: `None`.
    fn network_state(&self) -> Option<serde_json::Value> {
        None
    }

    /// The addresses this node listens on, as multiaddresses
    /// (`system_localListenAddresses`). Default: none.
    fn local_listen_addresses(&self) -> Vec<String> {
        Vec::new()
    }

    // The new JSON-RPC spec (`chainHead_v1_*`, `archive_v1_*`,
    // `transaction_v1_*`). The defaults describe a node that announces best
    // blocks only, keeps no fork index, prunes state and has no network.

    /// Every imported block's header as it is imported, forks included,
    /// each after its parent. `chainHead_v1_follow` reports blocks from this
    /// stream (and announces any unreported ancestor first, read with
    /// [`Self::header`], so a backend that skips blocks loses none).
    /// Default: [`Self::subscribe_new_heads`], so a fork is reported once
    /// it becomes best, never while it is only a side chain.
    fn subscribe_all_blocks(&self) -> broadcast::Receiver<Header> {
        self.subscribe_new_heads()
    }

    /// The stored children of block `hash`, forks included, in any order;
    /// empty for an unknown block or one without children. The
    /// non-finalized blocks `chainHead_v1_follow` reports first are the
    /// finalized block's descendants found through this. Default: the
    /// best-chain child only (from [`Self::block_hash`]).
    fn block_children(&self, hash: H256) -> Result<Vec<H256>, BackendError> {
        let Some(header) = self.header(hash)? else {
            return Ok(Vec::new());
        };
        let Some(next) = header.number.checked_add(1) else {
            return Ok(Vec::new());
        };
        let Some(child) = self.block_hash(next)? else {
            return Ok(Vec::new());
        };
        let is_child = self.header(child)?.is_some_and(|c| c.parent_hash == hash);
        Ok(if is_child { vec![child] } else { Vec::new() })
    }

    /// Whether the node keeps the state and body of every block it ever
    /// imported (an archive node): only then are the `archive_v1_*` methods
    /// served, since they promise an answer for every finalized block.
    /// Default: `false`.
    fn keeps_all_state(&self) -> bool {
        false
    }

    /// The trie Merkle value of the node at `key` in the state after block
    /// `at` or, when no node sits exactly there, of its closest descendant
    /// (branch nodes included): the node's encoding if shorter than 32
    /// bytes, else its blake2-256 hash. `None` when no key starts with
    /// `key`. For the `closestDescendantMerkleValue` storage queries.
    /// Default: [`BackendError::Other`], as for a node that cannot walk
    /// its trie's nodes.
    fn closest_descendant_merkle_value(
        &self,
        at: H256,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, BackendError> {
        let _ = (at, key);
        Err(BackendError::Other(
            "closestDescendantMerkleValue is not supported by this node".into(),
        ))
    }

    /// Sends `extrinsic` (already in the pool) to the network again, for
    /// peers that joined since it was first gossiped: `transaction_v1_broadcast`
    /// calls this at each new best block until the transaction is final or
    /// the client stops it. Called inline on the server's async threads,
    /// so it must not block. Default: nothing (no network).
    fn broadcast_extrinsic(&self, extrinsic: &OpaqueExtrinsic) {
        let _ = extrinsic;
    }
}

/// A connected peer, as `system_peers` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PeerInfo {
    /// The peer's id.
    pub peer_id: String,
    /// Its roles as Substrate spells them: `"FULL"`, `"AUTHORITY"`, `"LIGHT"`.
    pub roles: String,
    /// Hash of the best block it announced.
    pub best_hash: H256,
    /// Number of the best block it announced.
    pub best_number: BlockNumber,
}

/// Block import progress, as `system_syncState` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SyncState {
    /// The best block when the node started (or when this sync began).
    pub starting_block: BlockNumber,
    /// The best block now.
    pub current_block: BlockNumber,
    /// The highest block any peer has announced (at least `current_block`).
    pub highest_block: BlockNumber,
}

/// Where the chain stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainInfo {
    /// Hash of block 0.
    pub genesis_hash: H256,
    /// Hash of the best block.
    pub best_hash: H256,
    /// Number of the best block.
    pub best_number: BlockNumber,
    /// Hash of the last finalized block.
    pub finalized_hash: H256,
    /// Number of the last finalized block.
    pub finalized_number: BlockNumber,
}

/// A stored block as the RPC serves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockData {
    /// The header.
    pub header: Header,
    /// The body: each extrinsic's full encoding (length prefix included).
    pub extrinsics: Vec<OpaqueExtrinsic>,
    /// Finality proofs stored beside the block (commit certificates); empty if none.
    pub justifications: Vec<Justification>,
}

/// One engine's finality proof of a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Justification {
    /// The engine that made it (`*b"BFT0"`).
    pub engine_id: ConsensusEngineId,
    /// Its encoding, opaque to the RPC.
    pub encoded: Vec<u8>,
}

/// The kind of chain, as in the chain spec (`chainType`); serialised as
/// Substrate does: `"Development"`, `"Local"`, `"Live"`, `{"Custom": "…"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ChainType {
    /// A single-node development chain.
    Development,
    /// A local test network.
    Local,
    /// A public network.
    Live,
    /// Anything else.
    Custom(String),
}

/// Node identity and network health, for the `system_*` methods.
#[derive(Clone, Debug, PartialEq)]
pub struct SystemInfo {
    /// The node implementation's name (`qstack`).
    pub name: String,
    /// The node implementation's version.
    pub version: String,
    /// The chain's name, from the chain spec.
    pub chain: String,
    /// The chain's type, from the chain spec.
    pub chain_type: ChainType,
    /// The chain spec's `properties` (token symbol, decimals, address prefix).
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// Connected peers.
    pub peers: usize,
    /// Whether the node is catching up with the network.
    pub is_syncing: bool,
    /// Whether the node should have peers (false for a `--dev` chain).
    pub should_have_peers: bool,
}

/// An account as the typed `account_info` method shows it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AccountInfo {
    /// The on-chain nonce (transactions applied so far).
    pub nonce: Nonce,
    /// Free balance, in the smallest unit.
    pub free: Balance,
    /// The registered master key, if the account has announced one.
    pub key: Option<PublicKey>,
    /// Regular key, master-key state, signer list, tickets, deposit rules.
    pub settings: AccountSettings,
    /// Objects the account pays an owner reserve for.
    pub owned: u32,
    /// The part of `free` locked as reserve (0 for an account that does
    /// not exist).
    pub reserve: Balance,
}

/// Why the backend could not answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The block is unknown, or its state is no longer kept.
    #[error("unknown block {0} (or its state has been pruned)")]
    UnknownBlock(H256),
    /// The runtime call failed (trap, missing API, undecodable input).
    #[error("runtime call failed: {0}")]
    Call(String),
    /// The node runs as many RPC runtime calls as it allows at once (the
    /// rest of the executor is kept for import and consensus): retry.
    #[error("the node is busy: {0}")]
    Busy(String),
    /// Anything else (database failure); the message is shown to the client.
    #[error("{0}")]
    Other(String),
}

/// Why the pool refused an extrinsic, as the JSON-RPC error the client gets.
/// Use the Substrate codes in [`crate::error::codes`] (`POOL_INVALID_TX` with
/// message `"Invalid Transaction"` and the reason in `data`, and so on) so
/// wallets show their usual messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmitError {
    /// JSON-RPC error code.
    pub code: i32,
    /// Short message.
    pub message: String,
    /// Details (Substrate puts the invalidity reason here).
    pub data: Option<String>,
}

impl SubmitError {
    /// An error with `code` and `message` and no data.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        SubmitError {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// The same error with `data` attached.
    pub fn with_data(mut self, data: impl Into<String>) -> Self {
        self.data = Some(data.into());
        self
    }
}

/// A pooled transaction's progress, pushed to `author_submitAndWatchExtrinsic`
/// subscribers.
///
/// Serialised exactly as Substrate's `TransactionStatus` (`"ready"`,
/// `{"inBlock":"0x…"}`, …). Substrate's `dropped` and `invalid` are unit
/// variants, and polkadot.js and subxt parse only that shape, so the reasons
/// carried here are logged by the server, not sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxStatus {
    /// In the future queue (waits for an earlier nonce).
    Future,
    /// In the ready queue.
    Ready,
    /// Gossiped to these peers.
    Broadcast(Vec<String>),
    /// Included in this best-chain block.
    InBlock(H256),
    /// The block that included it left the best chain.
    Retracted(H256),
    /// Its block was not finalized in time; the node stopped watching.
    FinalityTimeout(H256),
    /// Its block was finalized.
    Finalized(H256),
    /// Replaced by the transaction with this hash (same sender and nonce).
    Usurped(H256),
    /// Dropped from the full pool; the reason.
    Dropped(String),
    /// No longer valid; the reason.
    Invalid(String),
}

impl TxStatus {
    /// Whether this is the last status of the stream (Substrate's rule).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            TxStatus::Finalized(_)
                | TxStatus::FinalityTimeout(_)
                | TxStatus::Usurped(_)
                | TxStatus::Dropped(_)
                | TxStatus::Invalid(_)
        )
    }
}

/// Substrate's wire shape of [`TxStatus`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
enum WireTxStatus<'a> {
    Future,
    Ready,
    Broadcast(&'a [String]),
    InBlock(H256),
    Retracted(H256),
    FinalityTimeout(H256),
    Finalized(H256),
    Usurped(H256),
    Dropped,
    Invalid,
}

impl Serialize for TxStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let wire = match self {
            TxStatus::Future => WireTxStatus::Future,
            TxStatus::Ready => WireTxStatus::Ready,
            TxStatus::Broadcast(peers) => WireTxStatus::Broadcast(peers),
            TxStatus::InBlock(h) => WireTxStatus::InBlock(*h),
            TxStatus::Retracted(h) => WireTxStatus::Retracted(*h),
            TxStatus::FinalityTimeout(h) => WireTxStatus::FinalityTimeout(*h),
            TxStatus::Finalized(h) => WireTxStatus::Finalized(*h),
            TxStatus::Usurped(h) => WireTxStatus::Usurped(*h),
            TxStatus::Dropped(_) => WireTxStatus::Dropped,
            TxStatus::Invalid(_) => WireTxStatus::Invalid,
        };
        wire.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tx_status_serialises_as_substrate() {
        let h = H256([0xab; 32]);
        let hex = format!("0x{}", "ab".repeat(32));
        let cases = [
            (TxStatus::Future, json!("future")),
            (TxStatus::Ready, json!("ready")),
            (
                TxStatus::Broadcast(vec!["peer1".into()]),
                json!({"broadcast": ["peer1"]}),
            ),
            (TxStatus::InBlock(h), json!({ "inBlock": hex })),
            (TxStatus::Retracted(h), json!({ "retracted": hex })),
            (
                TxStatus::FinalityTimeout(h),
                json!({ "finalityTimeout": hex }),
            ),
            (TxStatus::Finalized(h), json!({ "finalized": hex })),
            (TxStatus::Usurped(h), json!({ "usurped": hex })),
            (TxStatus::Dropped("pool full".into()), json!("dropped")),
            (TxStatus::Invalid("bad nonce".into()), json!("invalid")),
        ];
        for (status, want) in cases {
            assert_eq!(serde_json::to_value(&status).unwrap(), want, "{status:?}");
        }
    }

    #[test]
    fn chain_type_serialises_as_substrate() {
        assert_eq!(
            serde_json::to_value(ChainType::Development).unwrap(),
            json!("Development")
        );
        assert_eq!(
            serde_json::to_value(ChainType::Custom("x".into())).unwrap(),
            json!({"Custom": "x"})
        );
    }
}
