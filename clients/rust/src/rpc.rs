//! subxt's RPC client trait over the workspace's jsonrpsee WebSocket
//! client, built without TLS (subxt's own would bring jsonrpsee's TLS
//! transport).

use crate::Error;
use jsonrpsee::core::client::{ClientT, SubscriptionClientT, SubscriptionKind};
use jsonrpsee::core::traits::ToRpcParams;
use jsonrpsee::core::ClientError;
use jsonrpsee_ws_client::types::SubscriptionId;
use jsonrpsee_ws_client::{WsClient, WsClientBuilder};
use serde_json::value::RawValue;
use subxt::ext::futures::{StreamExt, TryStreamExt};
use subxt::rpcs::client::{RawRpcFuture, RawRpcSubscription, RpcClientT};
use subxt::rpcs::{Error as RpcError, UserError};

/// Notifications a subscription may hold before the reader takes them;
/// jsonrpsee closes a subscription whose buffer fills (subxt's value).
const SUBSCRIPTION_BUFFER: usize = 4096;

/// Largest response accepted: metadata and block bodies of post-quantum
/// signed transactions (kilobytes each) stay well below it.
const MAX_RESPONSE_BYTES: u32 = 64 * 1024 * 1024;

/// A WebSocket JSON-RPC connection that subxt drives through
/// [`RpcClientT`]; wrap it in [`subxt::rpcs::RpcClient::new`].
pub struct WsRpcClient(WsClient);

impl WsRpcClient {
    /// Connects to `url` (`ws://…`).
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let client = WsClientBuilder::default()
            .max_buffer_capacity_per_subscription(SUBSCRIPTION_BUFFER)
            .max_response_size(MAX_RESPONSE_BYTES)
            .build(url)
            .await
            .map_err(|source| Error::Connect {
                url: url.to_string(),
                source,
            })?;
        Ok(Self(client))
    }
}

/// Parameters subxt already serialised (a JSON array, or none).
struct Params(Option<Box<RawValue>>);

impl ToRpcParams for Params {
    fn to_rpc_params(self) -> Result<Option<Box<RawValue>>, serde_json::Error> {
        Ok(self.0)
    }
}

/// An error object from the node is the caller's fault (subxt tells it
/// apart, e.g. to try another backend); anything else is the connection's.
fn rpc_error(e: ClientError) -> RpcError {
    match e {
        ClientError::Call(call) => RpcError::User(UserError {
            code: call.code(),
            message: call.message().to_string(),
            data: call.data().map(|d| d.to_owned()),
        }),
        other => RpcError::Client(Box::new(other)),
    }
}

impl RpcClientT for WsRpcClient {
    fn request_raw<'a>(
        &'a self,
        method: &'a str,
        params: Option<Box<RawValue>>,
    ) -> RawRpcFuture<'a, Box<RawValue>> {
        Box::pin(async move {
            ClientT::request(&self.0, method, Params(params))
                .await
                .map_err(rpc_error)
        })
    }

    fn subscribe_raw<'a>(
        &'a self,
        sub: &'a str,
        params: Option<Box<RawValue>>,
        unsub: &'a str,
    ) -> RawRpcFuture<'a, RawRpcSubscription> {
        Box::pin(async move {
            let subscription = SubscriptionClientT::subscribe::<Box<RawValue>, _>(
                &self.0,
                sub,
                Params(params),
                unsub,
            )
            .await
            .map_err(rpc_error)?;
            let id = match subscription.kind() {
                SubscriptionKind::Subscription(SubscriptionId::Str(id)) => {
                    Some(id.clone().into_owned())
                }
                _ => None,
            };
            let stream = subscription
                .map_err(|e| RpcError::Client(Box::new(e)))
                .boxed();
            Ok(RawRpcSubscription { stream, id })
        })
    }
}
