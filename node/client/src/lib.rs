//! The client: builds and stores genesis, imports blocks (check header,
//! execute with the parent's code, compare roots, commit atomically), builds
//! new blocks from a parent and a list of transactions, answers runtime calls
//! and storage reads at any block, and announces new best and finalised heads.
//! It owns no networking, consensus or RPC: those drive it.

mod genesis;

pub use genesis::{build_genesis, genesis_storage, GenesisSource};

use codec::{Decode, Encode};
use parking_lot::Mutex;
use qstack_core::{hashing::blake2_256, H256};
use qstack_executor::{
    BatchVerifier, CachedVerifyExt, CompiledRuntime, DeferredVerifyExt, Executor, ExecutorError,
    SignatureCache,
};
use qstack_io::{OverlayExt, OverlayedChanges};
use qstack_runtime_primitives::{
    ApplyExtrinsicResult, Digest, Header, InvalidTransaction, OpaqueBlock, OpaqueExtrinsic,
    RuntimeVersion, TransactionValidityError,
};
use qstack_storage::{ImportBatch, StateStore, StorageError, Store};
use qstack_trie::{MemoryDB, TrieBackend, TrieError};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Encoded consensus justification (a commit certificate) stored beside a block.
pub type Justification = Vec<u8>;

/// Key of the runtime code in state.
pub const CODE_KEY: &[u8] = b":code";

/// Why the client could not do something.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The database failed.
    #[error("database: {0}")]
    Storage(#[from] StorageError),
    /// The state trie is missing nodes (pruned or corrupt).
    #[error("state: {0}")]
    State(#[from] TrieError),
    /// The runtime could not run.
    #[error("runtime: {0}")]
    Executor(#[from] ExecutorError),
    /// No such block.
    #[error("unknown block {0}")]
    UnknownBlock(H256),
    /// The state has no runtime code.
    #[error("no runtime code (:code) in the state of block {0}")]
    NoCode(H256),
    /// The runtime answered something that does not decode.
    #[error("runtime reply to {method} does not decode: {reason}")]
    BadReply {
        /// Runtime API method.
        method: &'static str,
        /// Decoder message.
        reason: String,
    },
    /// The genesis could not be built.
    #[error("genesis: {0}")]
    Genesis(String),
}

/// Why a block was not imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Its parent is not known (sync it first).
    #[error("unknown parent {0}")]
    UnknownParent(H256),
    /// Its number is not parent + 1.
    #[error("block number {got} does not follow parent number {parent}")]
    BadNumber {
        /// Parent's number.
        parent: u32,
        /// Block's number.
        got: u32,
    },
    /// The runtime rejected the block.
    #[error("block rejected by the runtime: {0}")]
    Rejected(String),
    /// The computed state root differs from the header's.
    #[error("state root mismatch: header {expected}, computed {computed}")]
    StateRootMismatch {
        /// In the header.
        expected: H256,
        /// Computed.
        computed: H256,
    },
    /// Another failure.
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// Result of a successful import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Imported; whether it became the best block.
    Imported {
        /// Became best.
        best: bool,
    },
    /// Already in the database.
    AlreadyKnown,
}

/// Best, finalised and genesis blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainInfo {
    /// Genesis hash.
    pub genesis_hash: H256,
    /// Best block.
    pub best_hash: H256,
    /// Its number.
    pub best_number: u32,
    /// Last finalised block.
    pub finalized_hash: H256,
    /// Its number.
    pub finalized_number: u32,
}

/// A block built on a parent, ready to commit without re-execution.
pub struct BuiltBlock {
    /// The block.
    pub block: OpaqueBlock,
    /// Transactions included, in order (by index into the input list).
    pub included: Vec<usize>,
    /// Transactions refused by the runtime, with the reason.
    pub rejected: Vec<(usize, TransactionValidityError)>,
    delta: MemoryDB,
}

/// The outcome of one block-building attempt.
enum Built {
    /// A block.
    Done(BuiltBlock),
    /// Transaction `.0` set runtime code the node refuses, for reason `.1`.
    BadUpgrade(usize, String),
}

/// The client.
pub struct Client {
    store: Arc<Store>,
    executor: Arc<Executor>,
    runtimes: Mutex<Vec<([u8; 32], Arc<CompiledRuntime>)>>,
    /// Runtime versions by block hash, newest last: every RPC subscriber,
    /// gossip check and pool validation asking for one block's version
    /// shares one `Core_version` call.
    versions: Mutex<std::collections::VecDeque<(H256, RuntimeVersion)>>,
    import_lock: Mutex<()>,
    sigcache: Arc<SignatureCache>,
    verify_threads: usize,
    best_heads: broadcast::Sender<Header>,
    finalized_heads: broadcast::Sender<Header>,
}

/// Runtimes kept compiled, keyed by the state root they were read at.
const RUNTIME_CACHE: usize = 64;

/// Runtime versions remembered (by block hash).
const VERSION_CACHE: usize = 64;

/// Verified signatures remembered between pool validation, block building
/// and import (about 32 bytes each).
const SIGNATURE_CACHE: usize = 200_000;

impl Client {
    /// Opens the client over `store`, writing genesis from `genesis` if the
    /// store is empty. A non-empty store must hold the same genesis.
    pub fn new(
        store: Arc<Store>,
        executor: Arc<Executor>,
        genesis: &GenesisSource,
    ) -> Result<Self, ClientError> {
        let (best_heads, _) = broadcast::channel(256);
        let (finalized_heads, _) = broadcast::channel(256);
        let client = Self {
            store,
            executor,
            runtimes: Mutex::new(Vec::new()),
            versions: Mutex::new(std::collections::VecDeque::new()),
            import_lock: Mutex::new(()),
            sigcache: Arc::new(SignatureCache::new(SIGNATURE_CACHE)),
            verify_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            best_heads,
            finalized_heads,
        };
        let (header, delta) = build_genesis(&client.executor, genesis)?;
        match client.store.genesis_hash()? {
            Some(existing) if existing != header.hash() => {
                return Err(ClientError::Genesis(format!(
                    "the database holds a chain with genesis {existing}, but the chain spec's genesis is {}; \
                     use another --base-path or `qstack purge-chain`",
                    header.hash()
                )))
            }
            Some(_) => {}
            None => client.store.commit_genesis(header, delta)?,
        }
        Ok(client)
    }

    /// How many cores an import may use (default: all). One executes the
    /// block; the others verify its signatures while it runs. 0 or 1 turns
    /// that off: every signature is then checked inline during execution.
    pub fn set_verify_threads(&mut self, threads: usize) {
        self.verify_threads = threads;
    }

    /// The database.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The executor.
    pub fn executor(&self) -> &Arc<Executor> {
        &self.executor
    }

    /// Best, finalised and genesis.
    pub fn info(&self) -> Result<ChainInfo, ClientError> {
        let genesis_hash = self
            .store
            .genesis_hash()?
            .ok_or_else(|| ClientError::Genesis("no genesis".into()))?;
        let (best_number, best_hash) = self.store.best()?.unwrap_or((0, genesis_hash));
        let (finalized_number, finalized_hash) =
            self.store.finalized()?.unwrap_or((0, genesis_hash));
        Ok(ChainInfo {
            genesis_hash,
            best_hash,
            best_number,
            finalized_hash,
            finalized_number,
        })
    }

    /// Header of `hash`.
    pub fn header(&self, hash: &H256) -> Result<Option<Header>, ClientError> {
        Ok(self.store.header(*hash)?)
    }

    /// Block of `hash` with its justification.
    pub fn block(
        &self,
        hash: &H256,
    ) -> Result<Option<(OpaqueBlock, Option<Justification>)>, ClientError> {
        let Some(header) = self.store.header(*hash)? else {
            return Ok(None);
        };
        let extrinsics = self.store.body(*hash)?.unwrap_or_default();
        let justification = self.store.justification(*hash)?;
        Ok(Some((OpaqueBlock { header, extrinsics }, justification)))
    }

    /// Canonical hash at `number`.
    pub fn hash_of(&self, number: u32) -> Result<Option<H256>, ClientError> {
        Ok(self.store.hash_of(number)?)
    }

    /// New best heads, as they are imported.
    pub fn subscribe_best(&self) -> broadcast::Receiver<Header> {
        self.best_heads.subscribe()
    }

    /// Newly finalised heads.
    pub fn subscribe_finalized(&self) -> broadcast::Receiver<Header> {
        self.finalized_heads.subscribe()
    }

    fn header_or_err(&self, hash: &H256) -> Result<Header, ClientError> {
        self.store
            .header(*hash)?
            .ok_or(ClientError::UnknownBlock(*hash))
    }

    /// The state after block `hash`.
    pub fn state_at(&self, hash: &H256) -> Result<TrieBackend<StateStore>, ClientError> {
        let header = self.header_or_err(hash)?;
        Ok(self.store.state_at(header.state_root))
    }

    /// A storage value after block `hash`.
    pub fn storage(&self, hash: &H256, key: &[u8]) -> Result<Option<Vec<u8>>, ClientError> {
        Ok(self.state_at(hash)?.storage(key)?)
    }

    /// The compiled runtime whose code is in `state`.
    fn runtime(
        &self,
        at: &H256,
        state: &TrieBackend<StateStore>,
    ) -> Result<Arc<CompiledRuntime>, ClientError> {
        let root = *state.root();
        if let Some((_, rt)) = self.runtimes.lock().iter().find(|(r, _)| *r == root) {
            return Ok(rt.clone());
        }
        let code = state.storage(CODE_KEY)?.ok_or(ClientError::NoCode(*at))?;
        let rt = self.executor.prepare(&code)?;
        let mut cache = self.runtimes.lock();
        if cache.len() >= RUNTIME_CACHE {
            cache.remove(0);
        }
        cache.push((root, rt.clone()));
        Ok(rt)
    }

    /// Calls runtime `method` on the state after block `at`; writes are discarded.
    pub fn call_at(&self, at: &H256, method: &str, input: &[u8]) -> Result<Vec<u8>, ClientError> {
        self.call_at_with_fuel(at, method, input, u64::MAX)
    }

    /// [`Client::call_at`] with at most `fuel` units of execution (capped
    /// by the executor's own limit): what RPC queries run with.
    pub fn call_at_with_fuel(
        &self,
        at: &H256,
        method: &str,
        input: &[u8],
        fuel: u64,
    ) -> Result<Vec<u8>, ClientError> {
        let state = self.state_at(at)?;
        let rt = self.runtime(at, &state)?;
        let mut overlay = OverlayedChanges::default();
        let mut ext = OverlayExt::new(&mut overlay, &state);
        let mut ext = CachedVerifyExt::new(&mut ext, &self.sigcache);
        Ok(self
            .executor
            .call_compiled_with_fuel(&rt, &mut ext, method, input, fuel)?)
    }

    /// The runtime version at `at`, computed once per block (a block's state
    /// never changes) and shared by every caller.
    pub fn runtime_version(&self, at: &H256) -> Result<RuntimeVersion, ClientError> {
        if let Some((_, v)) = self.versions.lock().iter().find(|(h, _)| h == at) {
            return Ok(v.clone());
        }
        let out = self.call_at(at, "Core_version", &[])?;
        let version = RuntimeVersion::decode(&mut &out[..]).map_err(|e| ClientError::BadReply {
            method: "Core_version",
            reason: e.to_string(),
        })?;
        let mut versions = self.versions.lock();
        if versions.len() >= VERSION_CACHE {
            versions.pop_front();
        }
        versions.push_back((*at, version.clone()));
        Ok(version)
    }

    /// Vets the code a block on `parent` sets (DESIGN §6): the runtime
    /// checked the authorisation, version section and imports; the node
    /// compiles it (kept in the cache for the next block), checks its
    /// exports and dry-runs `Core_version`. A block that deletes `:code`
    /// is refused.
    fn vet_new_code(&self, parent: &H256, code: Option<&[u8]>) -> Result<(), ClientError> {
        let code = code.ok_or_else(|| {
            ClientError::Executor(ExecutorError::UpgradeRefused(
                "the block deletes :code".into(),
            ))
        })?;
        let running = self.runtime_version(parent)?;
        let version = self.executor.vet_upgrade(code, &running)?;
        tracing::info!(
            target: "qstack::client",
            "new runtime {} v{} vetted and compiled; it runs from the next block",
            version.spec_name,
            version.spec_version
        );
        Ok(())
    }

    /// Whether block `at`'s runtime version is remembered (diagnostics).
    pub fn version_cached(&self, at: &H256) -> bool {
        self.versions.lock().iter().any(|(h, _)| h == at)
    }

    /// Imports a block from outside (peer, file): executes it on its parent's
    /// state with the parent's code, checks its roots and commits it in one
    /// atomic write. Becomes best if higher than the current best.
    pub fn import_block(
        &self,
        block: OpaqueBlock,
        justification: Option<Vec<u8>>,
        finalized: bool,
    ) -> Result<ImportOutcome, ImportError> {
        let _span = tracing::debug_span!(
            target: "qstack::client",
            "import",
            number = block.header.number,
            extrinsics = block.extrinsics.len()
        )
        .entered();
        let _guard = self.import_lock.lock();
        let hash = block.header.hash();
        if self
            .store
            .header(hash)
            .map_err(ClientError::from)?
            .is_some()
        {
            return Ok(ImportOutcome::AlreadyKnown);
        }
        let checked = self.check_block(block)?;
        self.commit(checked.block, justification, checked.delta, finalized)
    }

    /// Makes stored block `hash` the best block (an engine's fork choice,
    /// `Action::SetBest`) and tells best-head subscribers. Refused, changing
    /// nothing, if it would revert finality or its state is gone.
    pub fn set_best(&self, hash: H256) -> Result<(), ClientError> {
        let _guard = self.import_lock.lock();
        let header = self.header_or_err(&hash)?;
        self.store.set_best(hash)?;
        tracing::info!(target: "qstack::client", "best block set to #{} ({hash})", header.number);
        let _ = self.best_heads.send(header);
        Ok(())
    }

    /// Finalises best-chain block `hash` after its import (an engine's
    /// `Action::Finalize`, e.g. PoW's k-deep rule), storing `justification`
    /// with it if given, and tells finalised-head subscribers. Finality never
    /// moves back.
    pub fn finalize(&self, hash: H256, justification: Option<Vec<u8>>) -> Result<(), ClientError> {
        let _guard = self.import_lock.lock();
        let header = self.header_or_err(&hash)?;
        self.store.finalize(hash, justification)?;
        let _ = self.finalized_heads.send(header);
        Ok(())
    }

    /// Executes `block` on its parent's state and checks its roots without
    /// storing anything: a consensus engine's `valid(v)`. The result commits
    /// later with [`Client::commit_built`] without running it again.
    pub fn check_block(&self, block: OpaqueBlock) -> Result<BuiltBlock, ImportError> {
        let _span =
            tracing::debug_span!(target: "qstack::client", "check", number = block.header.number)
                .entered();
        let parent = self
            .store
            .header(block.header.parent_hash)
            .map_err(ClientError::from)?
            .ok_or(ImportError::UnknownParent(block.header.parent_hash))?;
        if Some(block.header.number) != parent.number.checked_add(1) {
            return Err(ImportError::BadNumber {
                parent: parent.number,
                got: block.header.number,
            });
        }
        let state = self.store.state_at(parent.state_root);
        let rt = self.runtime(&block.header.parent_hash, &state)?;
        let encoded = block.encode();
        let (out, root, delta, code) = match self.execute_deferred(&rt, &state, &encoded)? {
            Some(done) => done,
            None => self.execute_inline(&rt, &state, &encoded)?,
        };
        // `Result<(), BlockError>`: byte 0 is Ok.
        match out.first() {
            Some(0) => {}
            _ => return Err(ImportError::Rejected(describe_block_error(&out))),
        }
        if let Some(code) = code {
            self.vet_new_code(&block.header.parent_hash, code.as_deref())
                .map_err(|e| ImportError::Rejected(e.to_string()))?;
        }
        if root != block.header.state_root.0 {
            return Err(ImportError::StateRootMismatch {
                expected: block.header.state_root,
                computed: H256(root),
            });
        }
        Ok(BuiltBlock {
            block,
            included: Vec::new(),
            rejected: Vec::new(),
            delta,
        })
    }

    /// Executes `block` (encoded) on `state`, checking signatures inline
    /// (answered from the cache when the pool already verified them).
    fn execute_inline(
        &self,
        rt: &CompiledRuntime,
        state: &TrieBackend<StateStore>,
        block: &[u8],
    ) -> Result<Executed, ClientError> {
        let mut overlay = OverlayedChanges::default();
        let mut ext = OverlayExt::new(&mut overlay, state);
        let out = self.executor.call_compiled(
            rt,
            &mut CachedVerifyExt::new(&mut ext, &self.sigcache),
            "Core_execute_block",
            block,
        )?;
        let code = ext.pending(CODE_KEY).cloned();
        let (root, delta) = root_and_changes(&mut ext, state)?;
        Ok((out, root, delta, code))
    }

    /// Executes `block` while the spare cores verify its signatures (DESIGN
    /// §2). `None` when there is no spare core, or when a signature failed:
    /// that execution assumed it valid, so the caller runs the block again
    /// inline, which gives the exact outcome. Results never depend on this.
    fn execute_deferred(
        &self,
        rt: &CompiledRuntime,
        state: &TrieBackend<StateStore>,
        block: &[u8],
    ) -> Result<Option<Executed>, ClientError> {
        if self.verify_threads < 2 {
            return Ok(None);
        }
        let verifier = BatchVerifier::start(self.verify_threads - 1);
        let mut overlay = OverlayedChanges::default();
        let mut ext = OverlayExt::new(&mut overlay, state);
        let out = self.executor.call_compiled(
            rt,
            &mut DeferredVerifyExt::new(&mut ext, &verifier),
            "Core_execute_block",
            block,
        );
        if !verifier.finish() {
            tracing::debug!(target: "qstack::client", "a signature failed in parallel verification; executing the block again inline");
            return Ok(None);
        }
        let out = out?;
        let code = ext.pending(CODE_KEY).cloned();
        let (root, delta) = root_and_changes(&mut ext, state)?;
        Ok(Some((out, root, delta, code)))
    }

    fn commit(
        &self,
        block: OpaqueBlock,
        justification: Option<Vec<u8>>,
        delta: MemoryDB,
        finalized: bool,
    ) -> Result<ImportOutcome, ImportError> {
        let best_number = self.info().map(|i| i.best_number)?;
        let is_best = block.header.number > best_number;
        let header = block.header.clone();
        self.store
            .commit_block(ImportBatch {
                header: block.header,
                body: block.extrinsics,
                justification,
                state_delta: delta,
                new_best: is_best,
                finalized: finalized && is_best,
            })
            .map_err(ClientError::from)?;
        tracing::debug!(target: "qstack::client", "imported #{} ({}){}", header.number, header.hash(), if is_best { " best" } else { "" });
        if is_best {
            let _ = self.best_heads.send(header.clone());
            if finalized {
                let _ = self.finalized_heads.send(header);
            }
        }
        Ok(ImportOutcome::Imported { best: is_best })
    }

    /// Builds a block on `parent` with the author's inherent data and as many
    /// of `txs` (encoded extrinsics) as fit, in order. A transaction that
    /// sets runtime code the node refuses ([`Executor::vet_upgrade`]) is
    /// left out (rejected) and the block built again without it.
    pub fn build_block(
        &self,
        parent: &H256,
        inherent_data: &BTreeMap<[u8; 8], Vec<u8>>,
        digest: Digest,
        txs: &[Arc<Vec<u8>>],
    ) -> Result<BuiltBlock, ClientError> {
        let _span = tracing::debug_span!(
            target: "qstack::client",
            "build",
            parent = %parent,
            offered = txs.len()
        )
        .entered();
        let mut refused = Vec::new();
        loop {
            match self.try_build(parent, inherent_data, digest.clone(), txs, &refused)? {
                Built::Done(mut built) => {
                    built.rejected.extend(refused.into_iter().map(|i| {
                        (
                            i,
                            TransactionValidityError::Invalid(InvalidTransaction::Call),
                        )
                    }));
                    built.rejected.sort_by_key(|(i, _)| *i);
                    return Ok(built);
                }
                Built::BadUpgrade(i, why) => {
                    tracing::warn!(target: "qstack::client", "left out a transaction setting runtime code: {why}");
                    refused.push(i);
                }
            }
        }
    }

    /// One attempt of [`Client::build_block`], skipping `skip`.
    fn try_build(
        &self,
        parent: &H256,
        inherent_data: &BTreeMap<[u8; 8], Vec<u8>>,
        digest: Digest,
        txs: &[Arc<Vec<u8>>],
        skip: &[usize],
    ) -> Result<Built, ClientError> {
        let parent_header = self.header_or_err(parent)?;
        let state = self.store.state_at(parent_header.state_root);
        let rt = self.runtime(parent, &state)?;
        let mut overlay = OverlayedChanges::default();
        let mut ext = OverlayExt::new(&mut overlay, &state);
        let sc = &self.sigcache;
        let exec = &self.executor;
        let header = Header {
            parent_hash: *parent,
            number: parent_header.number.saturating_add(1),
            state_root: H256::zero(),
            extrinsics_root: H256::zero(),
            digest,
        };
        exec.call_compiled(
            &rt,
            &mut CachedVerifyExt::new(&mut ext, sc),
            "Core_initialize_block",
            &header.encode(),
        )?;
        let out = exec.call_compiled(
            &rt,
            &mut CachedVerifyExt::new(&mut ext, sc),
            "BlockBuilder_inherent_extrinsics",
            &inherent_data.encode(),
        )?;
        let inherents =
            Vec::<OpaqueExtrinsic>::decode(&mut &out[..]).map_err(|e| ClientError::BadReply {
                method: "BlockBuilder_inherent_extrinsics",
                reason: e.to_string(),
            })?;
        let mut extrinsics = Vec::new();
        for xt in inherents {
            let r = apply(exec, &rt, &mut CachedVerifyExt::new(&mut ext, sc), &xt.0)?;
            if !matches!(r, Ok(Ok(()))) {
                return Err(ClientError::BadReply {
                    method: "BlockBuilder_apply_extrinsic",
                    reason: format!("inherent failed: {r:?}"),
                });
            }
            extrinsics.push(xt);
        }
        let mut included = Vec::new();
        let mut rejected = Vec::new();
        // Whether `:code` was set (and vetted) by a transaction already.
        let mut code_vetted = ext.pending(CODE_KEY).is_some();
        for (i, tx) in txs.iter().enumerate() {
            if skip.contains(&i) {
                continue;
            }
            match apply(exec, &rt, &mut CachedVerifyExt::new(&mut ext, sc), tx)? {
                Ok(_) => {
                    if !code_vetted {
                        if let Some(code) = ext.pending(CODE_KEY) {
                            if let Err(e) = self.vet_new_code(parent, code.as_deref()) {
                                return Ok(Built::BadUpgrade(i, e.to_string()));
                            }
                            code_vetted = true;
                        }
                    }
                    included.push(i);
                    extrinsics.push(OpaqueExtrinsic::from_encoded(tx.to_vec()));
                }
                Err(TransactionValidityError::Invalid(InvalidTransaction::ExhaustsResources)) => {
                    break
                }
                Err(e) => rejected.push((i, e)),
            }
        }
        let out = exec.call_compiled(
            &rt,
            &mut CachedVerifyExt::new(&mut ext, sc),
            "BlockBuilder_finalize_block",
            &[],
        )?;
        let header = match <Result<Header, Vec<u8>>>::decode(&mut &out[..]) {
            Ok(Ok(h)) => h,
            _ => {
                return Err(ClientError::BadReply {
                    method: "BlockBuilder_finalize_block",
                    reason: describe_block_error(&out),
                })
            }
        };
        let (_, delta) = root_and_changes(&mut ext, &state)?;
        Ok(Built::Done(BuiltBlock {
            block: OpaqueBlock { header, extrinsics },
            included,
            rejected,
            delta,
        }))
    }

    /// Commits a block this node built (no re-execution needed).
    pub fn commit_built(
        &self,
        built: BuiltBlock,
        justification: Option<Vec<u8>>,
        finalized: bool,
    ) -> Result<ImportOutcome, ImportError> {
        let _guard = self.import_lock.lock();
        let known = self
            .store
            .header(built.block.header.hash())
            .map_err(ClientError::from)?
            .is_some();
        if known {
            return Ok(ImportOutcome::AlreadyKnown);
        }
        self.commit(built.block, justification, built.delta, finalized)
    }

    /// Validates a transaction against the best block's state (pool entry).
    pub fn validate_transaction(
        &self,
        at: &H256,
        source: qstack_runtime_primitives::TransactionSource,
        xt: &[u8],
    ) -> Result<qstack_runtime_primitives::TransactionValidity, ClientError> {
        let mut input = source.encode();
        input.extend_from_slice(xt);
        input.extend_from_slice(&at.encode());
        let out = self.call_at(at, "TaggedTransactionQueue_validate_transaction", &input)?;
        qstack_runtime_primitives::TransactionValidity::decode(&mut &out[..]).map_err(|e| {
            ClientError::BadReply {
                method: "TaggedTransactionQueue_validate_transaction",
                reason: e.to_string(),
            }
        })
    }
}

fn apply(
    exec: &Executor,
    rt: &CompiledRuntime,
    ext: &mut dyn qstack_io::Externalities,
    xt: &[u8],
) -> Result<ApplyExtrinsicResult, ClientError> {
    let out = exec.call_compiled(rt, ext, "BlockBuilder_apply_extrinsic", xt)?;
    ApplyExtrinsicResult::decode(&mut &out[..]).map_err(|e| ClientError::BadReply {
        method: "BlockBuilder_apply_extrinsic",
        reason: e.to_string(),
    })
}

/// Human-readable form of an encoded `Result<_, BlockError>` error.
fn describe_block_error(out: &[u8]) -> String {
    match out {
        [1, 0, rest @ ..] => {
            let index = rest
                .get(..4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .unwrap_or(0);
            format!(
                "extrinsic {index} is not includable (validity error 0x{})",
                hex_tail(rest.get(4..).unwrap_or_default())
            )
        }
        [1, 1, ..] => "the timestamp inherent is missing".into(),
        [1, 2, ..] => "state root mismatch".into(),
        [1, 3, ..] => "extrinsics root mismatch".into(),
        [1, 4, pallet, ..] => format!("pallet {pallet}'s on_finalize refused the block"),
        [1, 5, ..] => "the header's digest is not the one the block produces".into(),
        _ => format!("unexpected reply 0x{}", hex_tail(out)),
    }
}

fn hex_tail(b: &[u8]) -> String {
    b.iter().take(16).map(|x| format!("{x:02x}")).collect()
}

/// A block's execution: the runtime's reply, the new state root, the trie
/// nodes it wrote and, if the block changed `:code`, the new code (`None`
/// inside: deleted).
type Executed = (Vec<u8>, [u8; 32], MemoryDB, Option<Option<Vec<u8>>>);

fn root_and_changes(
    ext: &mut OverlayExt<'_, StateStore>,
    state: &TrieBackend<StateStore>,
) -> Result<([u8; 32], MemoryDB), ClientError> {
    ext.root_and_changes().ok_or_else(|| {
        ClientError::State(ext.take_error().unwrap_or(TrieError::MissingRoot {
            root: *state.root(),
        }))
    })
}

/// blake2-256 of an encoded extrinsic: its hash for RPC and the pool.
pub fn extrinsic_hash(xt: &[u8]) -> H256 {
    H256(blake2_256(xt))
}
