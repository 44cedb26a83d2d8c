//! Typed runtime API calls from RPC methods: the runtime's declared callers
//! (`qstack_runtime::apis::client`) over the backend at a block, with their
//! failures mapped to the JSON-RPC errors Substrate clients expect.

use crate::backend::{BackendError, RpcBackend};
use crate::error::{codes, err_data, runtime_error};
use jsonrpsee::types::ErrorObjectOwned;
use qstack_core::H256;
use qstack_support::apis::{OutputError, RuntimeCaller};

/// The backend's runtime at block `.1`.
pub(crate) struct At<'a>(pub &'a dyn RpcBackend, pub H256);

/// Why a typed runtime call failed.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The backend could not run the call.
    Backend(BackendError),
    /// The runtime's answer does not decode as the declared type.
    Output(OutputError),
}

impl From<OutputError> for CallError {
    fn from(e: OutputError) -> Self {
        CallError::Output(e)
    }
}

impl RuntimeCaller for At<'_> {
    type Error = CallError;
    fn call_runtime(&self, method: &str, args: &[u8]) -> Result<Vec<u8>, CallError> {
        self.0
            .call(self.1, method, args)
            .map_err(CallError::Backend)
    }
}

/// The answer, or the JSON-RPC error for its failure under `message`: an
/// unknown block as Substrate's state error, a failed call as a runtime
/// error, an undecodable answer as a decode error naming the method.
pub(crate) fn answer<T>(message: &str, r: Result<T, CallError>) -> Result<T, ErrorObjectOwned> {
    r.map_err(|e| match e {
        CallError::Backend(e) => runtime_error(message, e),
        CallError::Output(e) => err_data(codes::DECODE_ERROR, message, e.to_string()),
    })
}
