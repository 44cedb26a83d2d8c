//! The Wasm executor: a deterministic wasmtime engine, the host functions of
//! `qstack-io` backed by the node's state, a compiled-module cache keyed by
//! code hash, and pooled, copy-on-write instantiation so a call pays neither
//! compilation nor much for instantiation. It owns execution only; it must not
//! know about blocks, storage backends or networking.

mod host;
pub mod sigcache;

use codec::Decode;
use parking_lot::Mutex;
use qstack_core::hashing::blake2_256;
use qstack_io::{unpack_ptr_len, Externalities, NONE_SENTINEL};
use qstack_runtime_primitives::code::read_code_info;
use qstack_runtime_primitives::RuntimeVersion;
use std::sync::Arc;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module, OptLevel,
    PoolingAllocationConfig, Store, Trap,
};

pub use host::HostState;
pub use sigcache::{BatchVerifier, CachedVerifyExt, DeferredVerifyExt, SignatureCache};

/// Executor settings.
#[derive(Clone, Debug)]
pub struct ExecutorConfig {
    /// Fuel per call: a hard, deterministic cap on executed instructions.
    pub fuel_per_call: u64,
    /// Largest linear memory a runtime may grow to, in bytes.
    pub max_memory_bytes: usize,
    /// Wasm stack limit in bytes.
    pub max_wasm_stack: usize,
    /// Instances that may run at once (pool size).
    pub max_instances: u32,
    /// Compiled runtimes kept in the cache.
    pub cache_size: usize,
    /// Bytes of each pooled linear memory kept mapped between calls and reset
    /// in place (only the pages a call dirtied, where the kernel reports them)
    /// instead of being handed back with `madvise`: a node makes thousands of
    /// short calls a second (pool validation, block execution), and giving
    /// the pages back costs a page fault per touched page on the next call
    /// plus a TLB shootdown across every core running the node's threads.
    pub keep_resident_bytes: usize,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        Self {
            fuel_per_call: 50_000_000_000,
            max_memory_bytes: 512 << 20,
            max_wasm_stack: 1 << 20,
            max_instances: 64,
            cache_size: 8,
            keep_resident_bytes: 16 << 20,
        }
    }
}

/// Why a runtime call failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ExecutorError {
    /// The code is not valid Wasm or does not compile.
    #[error("invalid runtime code: {0}")]
    InvalidCode(String),
    /// The code imports a host function this node does not provide.
    #[error(
        "runtime imports `{module}::{name}`, which this node does not provide (upgrade the node)"
    )]
    MissingHostFunction {
        /// Import module.
        module: String,
        /// Import name.
        name: String,
    },
    /// The runtime lacks an export this node needs.
    #[error("runtime does not export `{0}`")]
    MissingExport(String),
    /// The runtime trapped (a bug in the runtime, or a host-function misuse).
    #[error("runtime trapped in `{method}`: {reason}")]
    Trap {
        /// Entry point.
        method: String,
        /// Trap description.
        reason: String,
    },
    /// The call used all its fuel.
    #[error("runtime call `{method}` ran out of fuel ({fuel} units)")]
    OutOfFuel {
        /// Entry point.
        method: String,
        /// The cap.
        fuel: u64,
    },
    /// The runtime returned a pointer/length outside its memory, or a reply
    /// that does not decode.
    #[error("runtime returned bad output from `{method}`: {reason}")]
    BadOutput {
        /// Entry point.
        method: String,
        /// What was wrong.
        reason: String,
    },
    /// The runtime could not decode the call's arguments.
    #[error("runtime rejected the input of `{0}` (does not decode as its arguments)")]
    BadInput(String),
    /// The state backend failed (missing trie node: corrupt or pruned database).
    #[error("state backend error during `{method}`: {reason}")]
    Backend {
        /// Entry point.
        method: String,
        /// The backend's error.
        reason: String,
    },
    /// The engine could not start (resource limits).
    #[error("executor resources exhausted: {0}")]
    Resources(String),
    /// New runtime code failed the node's checks (DESIGN §6).
    #[error("runtime upgrade refused: {0}")]
    UpgradeRefused(String),
}

/// The entry points a runtime must export for this node to run a chain on
/// it (building, importing, the pool, metadata and versioning).
pub const REQUIRED_EXPORTS: &[&str] = &[
    "memory",
    "alloc",
    "Core_version",
    "Core_initialize_block",
    "Core_execute_block",
    "BlockBuilder_apply_extrinsic",
    "BlockBuilder_finalize_block",
    "BlockBuilder_inherent_extrinsics",
    "TaggedTransactionQueue_validate_transaction",
    "Metadata_metadata",
];

/// A compiled runtime, ready to instantiate.
pub struct CompiledRuntime {
    pre: InstancePre<HostState>,
    version: Option<RuntimeVersion>,
    code_hash: [u8; 32],
}

impl CompiledRuntime {
    /// The version from the code's custom section, if present.
    pub fn version(&self) -> Option<&RuntimeVersion> {
        self.version.as_ref()
    }
    /// blake2-256 of the code.
    pub fn code_hash(&self) -> [u8; 32] {
        self.code_hash
    }
}

/// Executes runtime calls.
pub struct Executor {
    engine: Engine,
    linker: Linker<HostState>,
    config: ExecutorConfig,
    cache: Mutex<Vec<([u8; 32], Arc<CompiledRuntime>)>>,
}

impl Executor {
    /// An executor with the determinism settings of DESIGN §2.
    pub fn new(config: ExecutorConfig) -> Result<Self, ExecutorError> {
        let mut c = Config::new();
        // Determinism: canonical NaNs, no threads, no SIMD, fuel (not time) as the limit.
        c.cranelift_nan_canonicalization(true);
        // Threads are compiled out (wasmtime's `threads` feature is off).
        c.wasm_relaxed_simd(false);
        c.wasm_simd(false);
        c.wasm_multi_memory(false);
        c.consume_fuel(true);
        c.max_wasm_stack(config.max_wasm_stack);
        c.cranelift_opt_level(OptLevel::Speed);
        c.parallel_compilation(true);
        // Pooled instance slots with copy-on-write memory images: instantiation
        // is a slot reuse plus an mmap, not a copy of the data segments.
        c.memory_init_cow(true);
        let mut pool = PoolingAllocationConfig::new();
        pool.total_core_instances(config.max_instances)
            .total_memories(config.max_instances)
            .total_tables(config.max_instances)
            .max_memory_size(config.max_memory_bytes)
            .max_memories_per_module(1)
            .max_tables_per_module(1)
            .linear_memory_keep_resident(config.keep_resident_bytes)
            .table_keep_resident(64 << 10);
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&c).map_err(|e| ExecutorError::Resources(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        host::define(&mut linker).map_err(|e| ExecutorError::Resources(e.to_string()))?;
        Ok(Self {
            engine,
            linker,
            config,
            cache: Mutex::new(Vec::new()),
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &ExecutorConfig {
        &self.config
    }

    /// Compiles `code` (or returns the cached compilation for its hash).
    pub fn prepare(&self, code: &[u8]) -> Result<Arc<CompiledRuntime>, ExecutorError> {
        let code_hash = blake2_256(code);
        {
            let cache = self.cache.lock();
            if let Some((_, rt)) = cache.iter().find(|(h, _)| *h == code_hash) {
                return Ok(rt.clone());
            }
        }
        let module = Module::new(&self.engine, code)
            .map_err(|e| ExecutorError::InvalidCode(format!("{e:#}")))?;
        for import in module.imports() {
            let known =
                import.module() == "env" && qstack_io::HOST_FUNCTIONS.contains(&import.name());
            if !known {
                return Err(ExecutorError::MissingHostFunction {
                    module: import.module().to_string(),
                    name: import.name().to_string(),
                });
            }
        }
        for export in ["memory", "alloc"] {
            if module.get_export(export).is_none() {
                return Err(ExecutorError::MissingExport(export.to_string()));
            }
        }
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|e| ExecutorError::InvalidCode(format!("{e:#}")))?;
        let version = read_code_info(code).ok().map(|i| i.version);
        let rt = Arc::new(CompiledRuntime {
            pre,
            version,
            code_hash,
        });
        let mut cache = self.cache.lock();
        if !cache.iter().any(|(h, _)| *h == code_hash) {
            if cache.len() >= self.config.cache_size.max(1) {
                cache.remove(0);
            }
            cache.push((code_hash, rt.clone()));
        }
        Ok(rt)
    }

    /// Calls `method` of `code` with SCALE `input`, against `ext`.
    ///
    /// Convenience for one-off calls: it hashes `code` (about 0.4 ms for a
    /// 0.5 MB runtime) to find the compilation. Hot paths (block import, the
    /// pool) call [`Executor::prepare`] once per code change and then
    /// [`Executor::call_compiled`].
    pub fn call(
        &self,
        code: &[u8],
        ext: &mut dyn Externalities,
        method: &str,
        input: &[u8],
    ) -> Result<Vec<u8>, ExecutorError> {
        let rt = self.prepare(code)?;
        self.call_compiled(&rt, ext, method, input)
    }

    /// Calls `method` of an already compiled runtime.
    pub fn call_compiled(
        &self,
        rt: &CompiledRuntime,
        ext: &mut dyn Externalities,
        method: &str,
        input: &[u8],
    ) -> Result<Vec<u8>, ExecutorError> {
        self.call_compiled_with_fuel(rt, ext, method, input, self.config.fuel_per_call)
    }

    /// [`Executor::call_compiled`] with at most `fuel` units (never more
    /// than the configured `fuel_per_call`): RPC queries run on a smaller
    /// budget than block execution.
    pub fn call_compiled_with_fuel(
        &self,
        rt: &CompiledRuntime,
        ext: &mut dyn Externalities,
        method: &str,
        input: &[u8],
        fuel: u64,
    ) -> Result<Vec<u8>, ExecutorError> {
        let _span = tracing::trace_span!(target: "qstack::executor", "execute", method).entered();
        let fuel = fuel.min(self.config.fuel_per_call);
        let mut store = Store::new(&self.engine, HostState::new(ext));
        store
            .set_fuel(fuel)
            .map_err(|e| ExecutorError::Resources(e.to_string()))?;
        let trap = |e: wasmtime::Error, store: &mut Store<HostState>| -> ExecutorError {
            if let Some(err) = store.data_mut().take_host_error() {
                return err.into_executor_error(method);
            }
            match e.downcast_ref::<Trap>() {
                Some(Trap::OutOfFuel) => ExecutorError::OutOfFuel {
                    method: method.to_string(),
                    fuel,
                },
                _ => ExecutorError::Trap {
                    method: method.to_string(),
                    reason: format!("{e:#}"),
                },
            }
        };
        let instance = rt
            .pre
            .instantiate(&mut store)
            .map_err(|e| ExecutorError::Resources(format!("{e:#}")))?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| ExecutorError::MissingExport("memory".into()))?;
        let alloc = instance
            .get_typed_func::<u32, u32>(&mut store, "alloc")
            .map_err(|_| ExecutorError::MissingExport("alloc".into()))?;
        let func = instance
            .get_typed_func::<(u32, u32), u64>(&mut store, method)
            .map_err(|_| ExecutorError::MissingExport(method.into()))?;
        store.data_mut().attach(memory, alloc.clone());
        let len = u32::try_from(input.len()).map_err(|_| ExecutorError::BadInput(method.into()))?;
        let ptr = alloc
            .call(&mut store, len)
            .map_err(|e| trap(e, &mut store))?;
        memory
            .write(&mut store, ptr as usize, input)
            .map_err(|_| ExecutorError::BadOutput {
                method: method.into(),
                reason: "alloc returned a buffer outside memory".into(),
            })?;
        let packed = func
            .call(&mut store, (ptr, len))
            .map_err(|e| trap(e, &mut store))?;
        if let Some(err) = store.data_mut().take_host_error() {
            return Err(err.into_executor_error(method));
        }
        let output = if packed == NONE_SENTINEL {
            Err(ExecutorError::BadInput(method.into()))
        } else {
            let (out_ptr, out_len) = unpack_ptr_len(packed);
            let data = memory.data(&store);
            let start = out_ptr as usize;
            match start
                .checked_add(out_len as usize)
                .and_then(|end| data.get(start..end))
            {
                Some(out) => Ok(out.to_vec()),
                None => Err(ExecutorError::BadOutput {
                    method: method.into(),
                    reason: format!("({out_ptr}, {out_len}) is outside memory"),
                }),
            }
        };
        // The store (and its pointer to `ext`) ends here, before `ext` is used again.
        drop(store);
        if let Some(reason) = ext.take_backend_error() {
            return Err(ExecutorError::Backend {
                method: method.into(),
                reason,
            });
        }
        output
    }

    /// Calls and decodes the reply as `R`.
    pub fn call_decode<R: Decode>(
        &self,
        code: &[u8],
        ext: &mut dyn Externalities,
        method: &str,
        input: &[u8],
    ) -> Result<R, ExecutorError> {
        let out = self.call(code, ext, method, input)?;
        R::decode(&mut &out[..]).map_err(|e| ExecutorError::BadOutput {
            method: method.into(),
            reason: e.to_string(),
        })
    }

    /// The runtime version of `code`: from its custom section, or else by
    /// calling `Core_version` (with empty state).
    pub fn runtime_version(&self, code: &[u8]) -> Result<RuntimeVersion, ExecutorError> {
        if let Some(v) = self.prepare(code)?.version.clone() {
            return Ok(v);
        }
        let mut ext = qstack_io::TestExternalities::new();
        let mut oe = qstack_io::OverlayExt::new(&mut ext.overlay, &ext.backend);
        self.call_decode(code, &mut oe, "Core_version", &[])
    }

    /// Vets `code` as the successor of a runtime at `running` before a
    /// block that sets it is built or accepted (DESIGN §6): it must compile
    /// (the compilation stays cached, so the block after the upgrade does
    /// not pay for it), import only host functions this node provides,
    /// export every entry point in [`REQUIRED_EXPORTS`], answer
    /// `Core_version` in a dry run with the version its custom section
    /// declares, keep `spec_name` and raise `spec_version`. Returns the new
    /// version.
    pub fn vet_upgrade(
        &self,
        code: &[u8],
        running: &RuntimeVersion,
    ) -> Result<RuntimeVersion, ExecutorError> {
        let refuse = |why: String| Err(ExecutorError::UpgradeRefused(why));
        let rt = match self.prepare(code) {
            Ok(rt) => rt,
            Err(e) => return refuse(e.to_string()),
        };
        let module = rt.pre.module();
        for export in REQUIRED_EXPORTS {
            if module.get_export(export).is_none() {
                return refuse(format!("the code does not export `{export}`"));
            }
        }
        let mut ext = qstack_io::TestExternalities::new();
        let mut oe = qstack_io::OverlayExt::new(&mut ext.overlay, &ext.backend);
        let answered = self
            .call_compiled(&rt, &mut oe, "Core_version", &[])
            .map_err(|e| ExecutorError::UpgradeRefused(format!("dry run of Core_version: {e}")))?;
        let version = RuntimeVersion::decode(&mut &answered[..]).map_err(|e| {
            ExecutorError::UpgradeRefused(format!("Core_version's reply does not decode: {e}"))
        })?;
        match rt.version() {
            Some(declared) if *declared == version => {}
            Some(_) => {
                return refuse(
                    "Core_version answers another version than the code's version section".into(),
                )
            }
            None => return refuse("the code has no version section".into()),
        }
        if version.spec_name != running.spec_name {
            return refuse(format!(
                "spec_name `{}` differs from the running `{}`",
                version.spec_name, running.spec_name
            ));
        }
        if version.spec_version <= running.spec_version {
            return refuse(format!(
                "spec_version {} does not increase on the running {}",
                version.spec_version, running.spec_version
            ));
        }
        Ok(version)
    }

    /// Number of cached compiled runtimes.
    pub fn cached_runtimes(&self) -> usize {
        self.cache.lock().len()
    }
}

/// Hash the cache uses for a code blob.
pub fn code_hash(code: &[u8]) -> [u8; 32] {
    blake2_256(code)
}
