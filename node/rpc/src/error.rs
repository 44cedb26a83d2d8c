//! Errors: the crate's own [`RpcError`], and the JSON-RPC error codes clients
//! see. Codes follow Substrate's (`sc-rpc-api`, the payment and system RPCs)
//! so existing clients show their usual messages.

use crate::backend::{BackendError, SubmitError};
use jsonrpsee::types::ErrorObjectOwned;
use std::net::SocketAddr;

/// JSON-RPC error codes.
pub mod codes {
    /// Malformed JSON (JSON-RPC standard).
    pub const PARSE_ERROR: i32 = -32700;
    /// Unknown method (JSON-RPC standard).
    pub const METHOD_NOT_FOUND: i32 = -32601;
    /// A parameter is missing, of the wrong type, badly encoded or of the wrong
    /// length (JSON-RPC standard). The message names the parameter.
    pub const INVALID_PARAMS: i32 = -32602;
    /// The server failed in a way the client cannot fix (JSON-RPC standard).
    pub const INTERNAL_ERROR: i32 = -32603;

    /// `payment_queryInfo`, `system_accountNextIndex`, `account_info`: the
    /// runtime or the backend failed (Substrate's payment/system `RuntimeError`).
    pub const RUNTIME_ERROR: i32 = 1;
    /// `payment_queryInfo`: the extrinsic or the runtime's answer does not
    /// decode (Substrate's payment `DecodeError`).
    pub const DECODE_ERROR: i32 = 2;

    /// `author_*`: the extrinsic's framing is wrong (empty, or its length
    /// prefix does not match its length).
    pub const BAD_FORMAT: i32 = 1001;
    /// `author_*`: the runtime failed while verifying the extrinsic.
    pub const VERIFICATION_ERROR: i32 = 1002;
    /// `author_*`: the pool rejected the transaction as invalid
    /// (message `"Invalid Transaction"`, reason in `data`).
    pub const POOL_INVALID_TX: i32 = 1010;
    /// `author_*`: the transaction's validity cannot be determined yet.
    pub const POOL_UNKNOWN_VALIDITY: i32 = 1011;
    /// `author_*`: the transaction is temporarily banned.
    pub const POOL_TEMPORARILY_BANNED: i32 = 1012;
    /// `author_*`: the transaction is already in the pool.
    pub const POOL_ALREADY_IMPORTED: i32 = 1013;
    /// `author_*`: too low priority to replace the pooled transaction with the same nonce.
    pub const POOL_TOO_LOW_PRIORITY: i32 = 1014;
    /// `author_*`: the pool is full.
    pub const POOL_IMMEDIATELY_DROPPED: i32 = 1016;
    /// `author_*`: any other pool failure.
    pub const AUTHOR_OTHER: i32 = 1040;

    /// `chain_*`: the backend failed (Substrate's chain `Client` error).
    pub const CHAIN_CLIENT: i32 = 3002;
    /// `chain_getBlockHash`: too many numbers in one list.
    pub const CHAIN_OTHER: i32 = 3001;

    /// `state_getKeysPaged`: `count` above [`crate::MAX_KEYS_PAGED`].
    pub const STATE_INVALID_COUNT: i32 = 4002;
    /// `state_*`: unknown block or pruned state, failed runtime call, or other
    /// backend failure (Substrate's state `Client` error).
    pub const STATE_CLIENT: i32 = 4003;

    /// The connection made more calls than `--rpc-rate-limit` allows
    /// (EIP-1474's "limit exceeded").
    pub const RATE_LIMITED: i32 = -32005;
    /// The node is busy with the runtime calls it allows RPC at once (import
    /// and consensus keep the rest): try again shortly.
    pub const BUSY: i32 = -32006;
    /// An unsafe method under `--rpc-methods safe` (Substrate's code and
    /// message).
    pub const UNSAFE_METHOD: i32 = -32601;

    /// `chainHead_v1_follow`: the connection holds as many follow
    /// subscriptions as allowed; `archive_v1_storage`: as many storage
    /// queries as allowed (the new JSON-RPC spec's code).
    pub const LIMIT_REACHED: i32 = -32800;
    /// `chainHead_v1_*`: the block was never reported by this follow
    /// subscription, or has been unpinned.
    pub const INVALID_BLOCK: i32 = -32801;
    /// `chainHead_v1_call` on a subscription followed with `withRuntime: false`.
    pub const NO_RUNTIME: i32 = -32802;
    /// `chainHead_v1_continue` on an operation that is not waiting for it.
    pub const INVALID_CONTINUE: i32 = -32803;
    /// `chainHead_v1_unpin`: a hash appears twice in the list.
    pub const DUPLICATE_HASHES: i32 = -32804;
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The listening socket could not be opened (port in use, no permission).
    #[error("cannot listen for JSON-RPC on {addr}: {source}")]
    Bind {
        /// The configured address.
        addr: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Two methods were registered under one name (a bug in this crate).
    #[error("JSON-RPC method table: {0}")]
    Methods(String),
}

/// An error object with no data.
pub(crate) fn err(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

/// An error object with a string in `data`.
pub(crate) fn err_data(code: i32, message: impl Into<String>, data: String) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, message.into(), Some(data))
}

/// `-32602` with `message`.
pub(crate) fn invalid_params(message: impl Into<String>) -> ErrorObjectOwned {
    err(codes::INVALID_PARAMS, message)
}

/// `-32603` with `message`.
pub(crate) fn internal(message: impl Into<String>) -> ErrorObjectOwned {
    err(codes::INTERNAL_ERROR, message)
}

/// A backend error as a `state_*` error (4003, as Substrate); busy is
/// [`codes::BUSY`] everywhere.
pub(crate) fn state_error(e: BackendError) -> ErrorObjectOwned {
    match e {
        BackendError::Busy(_) => err(codes::BUSY, e.to_string()),
        e => err(codes::STATE_CLIENT, e.to_string()),
    }
}

/// A backend error as a `chain_*` error.
pub(crate) fn chain_error(e: BackendError) -> ErrorObjectOwned {
    match e {
        BackendError::Busy(_) => err(codes::BUSY, e.to_string()),
        e => err(codes::CHAIN_CLIENT, e.to_string()),
    }
}

/// A backend error in the account and payment methods: an unknown block keeps
/// the state code, anything else is Substrate's `RuntimeError` (1).
pub(crate) fn runtime_error(message: &str, e: BackendError) -> ErrorObjectOwned {
    match e {
        BackendError::UnknownBlock(_) | BackendError::Busy(_) => state_error(e),
        e => err_data(codes::RUNTIME_ERROR, message, e.to_string()),
    }
}

impl From<SubmitError> for ErrorObjectOwned {
    fn from(e: SubmitError) -> Self {
        ErrorObjectOwned::owned(e.code, e.message, e.data)
    }
}
