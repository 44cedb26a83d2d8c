//! `author_*`: submitting extrinsics, watching them, listing the pool.

use super::{blocking, inline, off_thread, reg, send, Ctx, Module, Res, LOG_TARGET};
use crate::backend::{RpcBackend, TxStatus};
use crate::error::RpcError;
use crate::error::{codes, err};
use crate::json;
use crate::params::Args;
use codec::{Compact, Decode};
use jsonrpsee::types::Params;
use jsonrpsee::PendingSubscriptionSink;
use qstack_runtime_primitives::OpaqueExtrinsic;
use serde_json::{json, Value};
use std::sync::Arc;

pub(super) fn register(m: &mut Module) -> Result<(), RpcError> {
    blocking(m, "author_submitExtrinsic", submit)?;
    inline(m, "author_pendingExtrinsics", |p, b| {
        Args::new(p, &[])?;
        let pending: Vec<Value> = b
            .pending_extrinsics()
            .iter()
            .map(|x| json!(json::hex(&x.0)))
            .collect();
        Ok(Value::Array(pending))
    })?;
    m.register_subscription(
        "author_submitAndWatchExtrinsic",
        "author_extrinsicUpdate",
        "author_unwatchExtrinsic",
        |p, pending, ctx, _| async move { submit_and_watch(p, pending, ctx).await },
    )
    .map_err(reg)?;
    Ok(())
}

/// Checks an extrinsic's framing: a compact length prefix equal to the
/// number of bytes that follow, and a non-empty body. What the bytes mean is
/// the runtime's business (the pool validates through it).
pub(crate) fn check_framing(bytes: &[u8]) -> Result<(), String> {
    let mut rest = bytes;
    let len = <Compact<u32>>::decode(&mut rest)
        .map_err(|_| "missing or malformed compact length prefix".to_owned())?
        .0;
    if len == 0 {
        return Err("empty extrinsic".to_owned());
    }
    if usize::try_from(len).ok() != Some(rest.len()) {
        return Err(format!(
            "length prefix says {len} bytes but {} follow",
            rest.len()
        ));
    }
    Ok(())
}

/// Reads and frames the extrinsic parameter; framing errors are 1001.
pub(super) fn extrinsic(args: &Args) -> Res<OpaqueExtrinsic> {
    let bytes = args.bytes(0)?;
    check_framing(&bytes).map_err(|e| {
        err(
            codes::BAD_FORMAT,
            format!("Extrinsic has invalid format: {e}"),
        )
    })?;
    Ok(OpaqueExtrinsic::from_encoded(bytes))
}

fn submit(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["extrinsic"])?;
    let xt = extrinsic(&args)?;
    let hash = b.submit_extrinsic(xt)?;
    Ok(json::hash(&hash))
}

/// Submits, then forwards statuses until a final one. A refused submission
/// rejects the subscription with the pool's error, as Substrate does.
async fn submit_and_watch(p: Params<'static>, pending: PendingSubscriptionSink, ctx: Arc<Ctx>) {
    let xt = match Args::new(&p, &["bytes"]).and_then(|a| extrinsic(&a)) {
        Ok(xt) => xt,
        Err(e) => return pending.reject(e).await,
    };
    let (hash, mut statuses) = match off_thread(&ctx, move |b| b.submit_and_watch(xt)).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return pending.reject(e).await,
        Err(e) => return pending.reject(e).await,
    };
    let Ok(sink) = pending.accept().await else {
        return;
    };
    loop {
        let status = tokio::select! {
            _ = sink.closed() => return,
            next = statuses.recv() => match next {
                Some(s) => s,
                None => return,
            },
        };
        match &status {
            TxStatus::Dropped(why) => {
                tracing::debug!(target: LOG_TARGET, "watched extrinsic {hash} dropped: {why}")
            }
            TxStatus::Invalid(why) => {
                tracing::debug!(target: LOG_TARGET, "watched extrinsic {hash} invalid: {why}")
            }
            _ => {}
        }
        let Ok(value) = serde_json::to_value(&status) else {
            return;
        };
        if !send(&sink, &value).await || status.is_final() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use codec::Encode;

    #[test]
    fn framing() {
        let mut good = Compact(3u32).encode();
        good.extend_from_slice(&[4, 0, 0]);
        assert_eq!(check_framing(&good), Ok(()));
        assert!(check_framing(&[]).is_err());
        assert!(check_framing(&[0]).unwrap_err().contains("empty"));
        assert!(check_framing(&good[..3]).unwrap_err().contains("3 bytes"));
        let mut long = good.clone();
        long.push(0);
        assert!(check_framing(&long).is_err());
        // A four-byte-mode prefix with nothing after it.
        assert!(check_framing(&[0b11]).is_err());
    }
}
