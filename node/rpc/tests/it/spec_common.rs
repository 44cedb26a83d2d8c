//! Helpers of the new JSON-RPC spec's tests (`chain_head`, `spec_v2`).

use crate::common::within;
use jsonrpsee::core::client::{ClientT, Error as ClientError, Subscription, SubscriptionKind};
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::types::{ErrorObjectOwned, SubscriptionId};
use jsonrpsee_ws_client::WsClient;
use serde_json::Value;
use std::time::Duration;

/// The result of a call, or its JSON-RPC error.
pub async fn call(
    ws: &WsClient,
    method: &str,
    params: ArrayParams,
) -> Result<Value, ErrorObjectOwned> {
    match within(ws.request::<Value, _>(method, params)).await {
        Ok(v) => Ok(v),
        Err(ClientError::Call(e)) => Err(e),
        Err(e) => panic!("{method}: {e}"),
    }
}

/// The result of a call that must succeed.
pub async fn ok(ws: &WsClient, method: &str, params: ArrayParams) -> Value {
    call(ws, method, params)
        .await
        .unwrap_or_else(|e| panic!("{method} failed: {e:?}"))
}

/// The error code of a call that must fail.
pub async fn code(ws: &WsClient, method: &str, params: ArrayParams) -> i32 {
    match call(ws, method, params).await {
        Ok(v) => panic!("{method} should fail, answered {v}"),
        Err(e) => e.code(),
    }
}

/// The next notification of `sub`.
pub async fn next(sub: &mut Subscription<Value>) -> Value {
    within(sub.next())
        .await
        .expect("the subscription is open")
        .expect("a JSON notification")
}

/// Asserts nothing more arrives on `sub` for a moment.
pub async fn quiet(sub: &mut Subscription<Value>) {
    if let Ok(event) = tokio::time::timeout(Duration::from_millis(300), sub.next()).await {
        panic!("unexpected event {event:?}");
    }
}

/// The subscription id as the server sent it.
pub fn sub_id(sub: &Subscription<Value>) -> String {
    match sub.kind() {
        SubscriptionKind::Subscription(SubscriptionId::Str(s)) => s.to_string(),
        SubscriptionKind::Subscription(SubscriptionId::Num(n)) => n.to_string(),
        other => panic!("not a subscription: {other:?}"),
    }
}
