//! The node's JSON-RPC server: Substrate-compatible methods and JSON shapes
//! over HTTP and WebSocket on one port, reading the node through [`RpcBackend`].
//!
//! Methods keep Substrate's names, aliases, parameter order and JSON so that
//! polkadot.js and subxt work unchanged; qstack's own typed methods
//! (`account_info`, `token_info`, `token_balances`, `token_allowance`) sit
//! beside them. Every parameter is checked: bad input is
//! a JSON-RPC error naming the parameter (codes in [`error::codes`]).
//!
//! The new JSON-RPC spec (paritytech/json-rpc-interface-spec) is served
//! beside the legacy methods: `chainHead_v1_*`, `chainSpec_v1_*`,
//! `transaction_v1_*`, `transactionWatch_v1_*`, and `archive_v1_*` on a
//! node that keeps every state ([`RpcBackend::keeps_all_state`]).

mod backend;
pub mod error;
pub mod guard;
mod json;
mod methods;
mod params;
mod runtime;
#[cfg(any(test, feature = "test-utils"))]
pub mod testing;
pub mod views;

pub use backend::{
    AccountInfo, BackendError, BlockData, ChainInfo, ChainType, Justification, PeerInfo,
    RpcBackend, SubmitError, SyncState, SystemInfo, TxStatus,
};
pub use error::RpcError;
pub use guard::{Cors, RpcMethods, UNSAFE_METHODS};

use jsonrpsee::server::{
    BatchRequestConfig, RandomStringIdProvider, Server, ServerConfig, ServerHandle,
};
use std::net::{Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

/// Most keys one `state_getKeysPaged` call returns (Substrate's limit); a
/// larger `count` is refused with [`error::codes::STATE_INVALID_COUNT`].
pub const MAX_KEYS_PAGED: u32 = 1000;

/// Most keys one `state_queryStorageAt`, `state_getReadProof` or
/// `state_subscribeStorage` call may name.
pub const MAX_KEYS_PER_CALL: usize = 1000;

/// Substrate's RPC port.
pub const DEFAULT_RPC_PORT: u16 = 9944;

const MIB: u32 = 1024 * 1024;

/// Server settings (`--rpc-port`, `--rpc-max-connections`, … in the CLI).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcConfig {
    /// Address to listen on for both HTTP and WebSocket; port 0 picks a free port.
    pub listen_addr: SocketAddr,
    /// Largest request accepted, in bytes: an HTTP body or a WebSocket message.
    /// Larger HTTP requests get status 413. 16 MiB holds a runtime-upgrade
    /// extrinsic (a few MB of Wasm, twice that as hex) with room to spare.
    pub max_request_size: NonZeroU32,
    /// Largest response sent, in bytes; a larger one is replaced by a JSON-RPC
    /// error (-32008). Must hold the metadata and `:code` as hex.
    pub max_response_size: NonZeroU32,
    /// Most simultaneous connections, HTTP and WebSocket together; more are refused.
    pub max_connections: NonZeroU32,
    /// Most subscriptions one WebSocket connection may hold at once.
    pub max_subscriptions_per_connection: NonZeroU32,
    /// Most calls in one JSON-RPC batch; `None` for no limit. Default
    /// [`DEFAULT_MAX_BATCH_LEN`]: one request cannot queue unbounded work.
    pub max_batch_len: Option<NonZeroU32>,
    /// Notifications buffered per connection before a slow subscriber makes
    /// the server wait (and head streams skip ahead).
    pub message_buffer_capacity: NonZeroU32,
    /// Which methods are served (`--rpc-methods`).
    pub methods: RpcMethods,
    /// Which browser origins may call (`--rpc-cors`).
    pub cors: Cors,
    /// Calls per minute one connection may make (`--rpc-rate-limit`);
    /// `None`: no limit (Substrate's default).
    pub rate_limit: Option<NonZeroU32>,
    /// Bounds on the new JSON-RPC spec's subscriptions and operations.
    pub spec_v2: SpecV2Limits,
}

/// Bounds on the work one client can hold open through the new JSON-RPC
/// spec (`chainHead_v1_*`, `transaction_v1_*`, `archive_v1_storage`). Each
/// default is at least the minimum the spec promises clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpecV2Limits {
    /// Most `chainHead_v1_follow` subscriptions one connection may hold;
    /// another is refused with [`error::codes::LIMIT_REACHED`]. The spec
    /// promises 2.
    pub max_follow_subscriptions: NonZeroU32,
    /// Most finalized or pruned blocks one follow subscription may keep
    /// pinned (blocks the client could have unpinned); past that the
    /// subscription ends with a `stop` event. Non-finalized blocks do not
    /// count, so a stall of finality does not stop subscriptions (the
    /// spec's advice).
    pub max_pinned_blocks: NonZeroU32,
    /// Most operations in progress per follow subscription (each
    /// `chainHead_v1_body` or `_call`, and each item of a `_storage`,
    /// counts one); more answer `{"result": "limitReached"}`. The spec
    /// promises 16.
    pub max_operations: NonZeroU32,
    /// Most items one `operationStorageItems` event carries; when more
    /// remain, the operation waits for `chainHead_v1_continue`.
    pub storage_items_per_page: NonZeroU32,
    /// Most `transaction_v1_broadcast` operations one connection may run at
    /// once; more answer `null`. The spec promises 4.
    pub max_broadcasts: NonZeroU32,
    /// Most `archive_v1_storage` queries one connection may run at once;
    /// more are refused with [`error::codes::LIMIT_REACHED`].
    pub max_archive_storage: NonZeroU32,
}

impl Default for SpecV2Limits {
    fn default() -> Self {
        SpecV2Limits {
            max_follow_subscriptions: nz(4),
            max_pinned_blocks: nz(512),
            max_operations: nz(16),
            storage_items_per_page: nz(64),
            max_broadcasts: nz(16),
            max_archive_storage: nz(4),
        }
    }
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            listen_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_RPC_PORT)),
            max_request_size: nz(16 * MIB),
            max_response_size: nz(16 * MIB),
            max_connections: nz(100),
            max_subscriptions_per_connection: nz(1024),
            max_batch_len: Some(nz(DEFAULT_MAX_BATCH_LEN)),
            message_buffer_capacity: nz(1024),
            methods: RpcMethods::Unsafe,
            cors: Cors::default(),
            rate_limit: None,
            spec_v2: SpecV2Limits::default(),
        }
    }
}

/// Default bound on a batch's length (larger batches get one error).
pub const DEFAULT_MAX_BATCH_LEN: u32 = 100;

const fn nz(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    }
}

/// A running server. Dropping it stops the server, as [`RpcHandle::stop`] does.
#[derive(Debug)]
pub struct RpcHandle {
    local_addr: SocketAddr,
    handle: ServerHandle,
}

impl RpcHandle {
    /// The address actually bound (the real port when the config said 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections and closes the open ones; idempotent.
    pub fn stop(&self) {
        let _already_stopped = self.handle.stop();
    }

    /// Waits until the server has stopped.
    pub async fn stopped(self) {
        self.handle.stopped().await
    }
}

/// Starts the server on `config.listen_addr`, answering from `backend`.
/// Must be called inside a tokio runtime (multi-threaded: slow methods run on
/// its blocking pool).
pub async fn start(config: RpcConfig, backend: Arc<dyn RpcBackend>) -> Result<RpcHandle, RpcError> {
    let health = guard::HealthLayer::new(backend.clone());
    let module = methods::build(backend, config.methods, config.spec_v2)?;
    let batch = match config.max_batch_len {
        Some(n) => BatchRequestConfig::Limit(n.get()),
        None => BatchRequestConfig::Unlimited,
    };
    let server_config = ServerConfig::builder()
        .max_request_body_size(config.max_request_size.get())
        .max_response_body_size(config.max_response_size.get())
        .max_connections(config.max_connections.get())
        .max_subscriptions_per_connection(config.max_subscriptions_per_connection.get())
        .set_batch_request_config(batch)
        .set_message_buffer_capacity(config.message_buffer_capacity.get())
        // Substrate's subscription ids: 16 random characters.
        .set_id_provider(RandomStringIdProvider::new(16))
        .build();
    let bind_err = |source| RpcError::Bind {
        addr: config.listen_addr,
        source,
    };
    let http = tower::ServiceBuilder::new()
        .layer(guard::CorsLayer::new(config.cors.clone()))
        .layer(health);
    let rpc = jsonrpsee::server::middleware::rpc::RpcServiceBuilder::new()
        .option_layer(config.rate_limit.map(guard::RateLimitLayer::new));
    let server = Server::builder()
        .set_config(server_config)
        .set_http_middleware(http)
        .set_rpc_middleware(rpc)
        .build(config.listen_addr)
        .await
        .map_err(bind_err)?;
    let local_addr = server.local_addr().map_err(bind_err)?;
    let handle = server.start(module);
    tracing::info!(
        target: methods::LOG_TARGET,
        "JSON-RPC server listening on {local_addr} (HTTP and WebSocket)"
    );
    Ok(RpcHandle { local_addr, handle })
}
