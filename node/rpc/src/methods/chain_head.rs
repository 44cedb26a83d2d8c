//! `chainHead_v1_*`: following the head of the chain (the new JSON-RPC
//! spec), and the header, body, call and storage operations on the blocks a
//! follow subscription reported.
//!
//! One task per `chainHead_v1_follow` subscription owns its sink and its
//! [`tree::Tree`]; it turns the backend's block streams into the spec's
//! events. Methods find the subscription in [`Follows`] (by id and
//! connection, as the spec ties them to the connection that followed), pin
//! and unpin there, and start operations whose events the follow task
//! forwards, so every event of a subscription leaves through one sink.
//!
//! Pinning is bookkeeping: a pinned block stays valid for these methods
//! until it is unpinned, but its state is kept only as long as the node's
//! pruning keeps it (an operation on a state gone since answers
//! `operationInaccessible`, as the spec allows).

mod tree;

use super::storage_query::{parse_items, Cursor};
use super::{
    connection, lock, off_thread, register_stoppable, send, sub_id_string, Ctx, Module, Res,
    Stoppable, LOG_TARGET,
};
use crate::backend::{BackendError, RpcBackend};
use crate::error::{codes, err, internal, RpcError};
use crate::json;
use crate::params::{kind, parse_hash, Args};
use crate::MAX_KEYS_PER_CALL;
use codec::Encode;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::{
    ConnectionId, Extensions, MethodResponseFuture, PendingSubscriptionSink, ResponsePayload,
    SubscriptionSink,
};
use qstack_core::{BlockNumber, H256};
use qstack_runtime_primitives::{Header, RuntimeVersion};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, Notify};
use tree::Tree;

/// The stop family of follow subscriptions (see [`super::Stoppers`]).
const FAMILY: &str = "chainHead_v1_follow";

/// Most non-finalized blocks one subscription tracks: past that (finality
/// stalled for this long, or a gap this deep) it ends with `stop` rather
/// than hold unbounded memory.
const MAX_LIVE_BLOCKS: usize = 4096;

/// Operation events queued for the follow task's sink.
const OPERATION_EVENTS: usize = 64;

pub(super) fn register(m: &mut Module) -> Result<(), RpcError> {
    register_stoppable(
        m,
        Stoppable {
            subscribe: "chainHead_v1_follow",
            notification: "chainHead_v1_followEvent",
            hidden: "chainHead_v1_follow_jsonrpsee_unsubscribe",
            stop: "chainHead_v1_unfollow",
            family: FAMILY,
        },
        // The spec: `null`, and no effect on an unknown or stopped subscription.
        |_| Ok(Value::Null),
        |p, pending, ctx| async move { follow(p, pending, ctx).await },
    )?;
    m.register_blocking_method("chainHead_v1_header", |p, ctx, ext| header(&p, &ctx, &ext))
        .map_err(super::reg)?;
    m.register_async_method("chainHead_v1_body", |p, ctx, ext| async move {
        answer(body(&p, &ctx, &ext))
    })
    .map_err(super::reg)?;
    m.register_async_method("chainHead_v1_call", |p, ctx, ext| async move {
        answer(call(&p, &ctx, &ext))
    })
    .map_err(super::reg)?;
    m.register_async_method("chainHead_v1_storage", |p, ctx, ext| async move {
        answer(storage(&p, &ctx, &ext))
    })
    .map_err(super::reg)?;
    m.register_method("chainHead_v1_unpin", |p, ctx, ext| unpin(&p, ctx, ext))
        .map_err(super::reg)?;
    m.register_method("chainHead_v1_continue", |p, ctx, ext| resume(&p, ctx, ext))
        .map_err(super::reg)?;
    m.register_method("chainHead_v1_stopOperation", |p, ctx, ext| {
        stop_operation(&p, ctx, ext)
    })
    .map_err(super::reg)?;
    Ok(())
}

// ---------------------------------------------------------------------------
// The registry of follow subscriptions.

/// The live follow subscriptions, by subscription id.
#[derive(Default)]
pub(crate) struct Follows(Mutex<HashMap<String, Arc<Follow>>>);

impl Follows {
    /// Registers subscription `id` on `conn` unless the connection already
    /// holds `max`; returns it and the receiver of its operation events.
    fn open(
        &self,
        id: &str,
        conn: ConnectionId,
        with_runtime: bool,
        max: usize,
    ) -> Option<(Arc<Follow>, mpsc::Receiver<Value>)> {
        let mut map = lock(&self.0);
        let held = map.values().filter(|f| f.conn == conn.0).count();
        if held >= max || map.contains_key(id) {
            return None;
        }
        let (events, rx) = mpsc::channel(OPERATION_EVENTS);
        let follow = Arc::new(Follow {
            conn: conn.0,
            with_runtime,
            state: Mutex::new(FollowState::default()),
            events,
        });
        map.insert(id.to_owned(), follow.clone());
        Some((follow, rx))
    }

    /// Subscription `id`, if it is live and was opened on `conn`.
    fn get(&self, id: &str, conn: Option<ConnectionId>) -> Option<Arc<Follow>> {
        let conn = conn?;
        lock(&self.0).get(id).filter(|f| f.conn == conn.0).cloned()
    }

    fn close(&self, id: &str) {
        lock(&self.0).remove(id);
    }
}

/// Removes a follow subscription from [`Follows`] when its task ends.
struct Registered {
    ctx: Arc<Ctx>,
    id: String,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.ctx.follows.close(&self.id);
    }
}

/// One follow subscription as the methods see it.
pub(crate) struct Follow {
    conn: usize,
    with_runtime: bool,
    state: Mutex<FollowState>,
    /// Operation events, to the follow task (which owns the sink). Closed
    /// once the subscription has ended, which ends its operations too.
    events: mpsc::Sender<Value>,
}

#[derive(Default)]
struct FollowState {
    /// Reported blocks not unpinned yet → whether still live (not
    /// finalized, not pruned): only dead ones count against the limit.
    pinned: HashMap<H256, bool>,
    operations: HashMap<String, Operation>,
    /// Operation slots in use (the sum of the operations' slots).
    slots: usize,
    next_operation: u64,
}

struct Operation {
    slots: usize,
    control: Arc<OpControl>,
}

/// How methods steer a running operation.
#[derive(Default)]
struct OpControl {
    /// Set by `chainHead_v1_stopOperation`: send nothing more.
    stopped: AtomicBool,
    stop: Notify,
    /// Set while the operation waits for `chainHead_v1_continue`.
    waiting: AtomicBool,
    resume: Notify,
}

impl Follow {
    fn pin(&self, hash: H256, live: bool) {
        lock(&self.state).pinned.insert(hash, live);
    }

    /// Marks pinned `hashes` as finalized or pruned.
    fn mark_dead(&self, hashes: &[H256]) {
        let mut st = lock(&self.state);
        for h in hashes {
            if let Some(live) = st.pinned.get_mut(h) {
                *live = false;
            }
        }
    }

    /// Pinned blocks that are finalized or pruned.
    fn dead_pinned(&self) -> usize {
        lock(&self.state)
            .pinned
            .values()
            .filter(|live| !**live)
            .count()
    }

    fn check_pinned(&self, hash: &H256) -> Res<()> {
        if lock(&self.state).pinned.contains_key(hash) {
            Ok(())
        } else {
            Err(invalid_block(hash))
        }
    }

    /// Unpins all of `hashes` or, if any is not pinned or repeated, none.
    fn unpin(&self, hashes: &[H256]) -> Res<()> {
        let mut seen = HashSet::new();
        if let Some(dup) = hashes.iter().find(|h| !seen.insert(**h)) {
            return Err(err(
                codes::DUPLICATE_HASHES,
                format!("block {} is listed twice", json::hex(dup.as_bytes())),
            ));
        }
        let mut st = lock(&self.state);
        if let Some(missing) = hashes.iter().find(|h| !st.pinned.contains_key(*h)) {
            return Err(invalid_block(missing));
        }
        for h in hashes {
            st.pinned.remove(h);
        }
        Ok(())
    }

    /// Starts an operation on pinned block `hash` wanting `wanted` slots:
    /// it gets as many as are free (all of them when `wanted` is 0).
    /// `Ok(None)` when none are free (the spec's `limitReached`).
    fn start(self: &Arc<Self>, hash: &H256, wanted: usize, max: usize) -> Res<Option<OpGuard>> {
        let mut st = lock(&self.state);
        if !st.pinned.contains_key(hash) {
            return Err(invalid_block(hash));
        }
        let granted = wanted.min(max.saturating_sub(st.slots));
        if wanted > 0 && granted == 0 {
            return Ok(None);
        }
        let id = st.next_operation.to_string();
        st.next_operation = st.next_operation.wrapping_add(1);
        st.slots = st.slots.saturating_add(granted);
        let control = Arc::new(OpControl::default());
        st.operations.insert(
            id.clone(),
            Operation {
                slots: granted,
                control: control.clone(),
            },
        );
        Ok(Some(OpGuard {
            follow: self.clone(),
            id,
            granted,
            control,
        }))
    }

    fn control(&self, id: &str) -> Option<Arc<OpControl>> {
        lock(&self.state)
            .operations
            .get(id)
            .map(|op| op.control.clone())
    }

    /// Ends operation `id`: it sends nothing more, and its slots are free.
    fn stop_operation(&self, id: &str) {
        let removed = {
            let mut st = lock(&self.state);
            let op = st.operations.remove(id);
            if let Some(op) = &op {
                st.slots = st.slots.saturating_sub(op.slots);
            }
            op
        };
        if let Some(op) = removed {
            op.control.stopped.store(true, Ordering::SeqCst);
            op.control.stop.notify_one();
        }
    }
}

/// A running operation; frees its slots when dropped.
struct OpGuard {
    follow: Arc<Follow>,
    id: String,
    granted: usize,
    control: Arc<OpControl>,
}

impl OpGuard {
    fn stopped(&self) -> bool {
        self.control.stopped.load(Ordering::SeqCst)
    }

    /// Queues `event` on the subscription; `false` once the operation was
    /// stopped or the subscription has ended.
    async fn send(&self, event: Value) -> bool {
        !self.stopped() && self.follow.events.send(event).await.is_ok()
    }

    fn event(&self, name: &str) -> Value {
        json!({ "event": name, "operationId": self.id })
    }

    async fn inaccessible(&self) {
        let _ = self.send(self.event("operationInaccessible")).await;
    }

    async fn error(&self, why: impl std::fmt::Display) {
        let mut ev = self.event("operationError");
        set(&mut ev, "error", json!(why.to_string()));
        let _ = self.send(ev).await;
    }

    /// What the spec says for a failed read: the data is gone (or the node
    /// too busy) and a retry may work, or the read itself failed.
    async fn failed(&self, e: BackendError) {
        match e {
            BackendError::UnknownBlock(_) | BackendError::Busy(_) => self.inaccessible().await,
            e => self.error(e).await,
        }
    }

    /// Sends `operationWaitingForContinue` and waits for
    /// `chainHead_v1_continue`; `false` if stopped or the subscription ended.
    async fn wait_for_continue(&self) -> bool {
        self.control.waiting.store(true, Ordering::SeqCst);
        if !self.send(self.event("operationWaitingForContinue")).await {
            return false;
        }
        tokio::select! {
            _ = self.control.resume.notified() => !self.stopped(),
            _ = self.control.stop.notified() => false,
            _ = self.follow.events.closed() => false,
        }
    }
}

impl Drop for OpGuard {
    fn drop(&mut self) {
        let mut st = lock(&self.follow.state);
        // Unless chainHead_v1_stopOperation freed it already.
        let ours = st
            .operations
            .get(&self.id)
            .is_some_and(|op| Arc::ptr_eq(&op.control, &self.control));
        if ours {
            st.operations.remove(&self.id);
            st.slots = st.slots.saturating_sub(self.granted);
        }
    }
}

fn invalid_block(hash: &H256) -> ErrorObjectOwned {
    err(
        codes::INVALID_BLOCK,
        format!(
            "block {} was not reported by this follow subscription, or has been unpinned",
            json::hex(hash.as_bytes())
        ),
    )
}

// ---------------------------------------------------------------------------
// The methods.

/// What an operation method did.
enum Started<J> {
    /// `{"result": "limitReached"}`.
    LimitReached,
    /// Started: the answer, and the job producing the operation's events.
    Op { answer: Value, job: J },
}

/// The method's response; a started job runs once that response has gone
/// out, because the spec promises clients the operation id before any of
/// the operation's events.
fn answer<J>(r: Res<Started<J>>) -> ResponsePayload<'static, Value>
where
    J: Future<Output = ()> + Send + 'static,
{
    match r {
        Err(e) => ResponsePayload::error(e),
        Ok(Started::LimitReached) => ResponsePayload::success(json!({ "result": "limitReached" })),
        Ok(Started::Op { answer, job }) => {
            let (payload, sent): (_, MethodResponseFuture) =
                ResponsePayload::success(answer).notify_on_completion();
            tokio::spawn(async move {
                // Sent, failed or dropped (in a batch): go ahead either way;
                // if the connection is gone the events have nowhere to go.
                let _ = sent.await;
                job.await
            });
            payload
        }
    }
}

fn started(op: &OpGuard) -> Value {
    json!({ "result": "started", "operationId": op.id })
}

/// A required hash parameter.
fn hash_param(args: &Args, i: usize) -> Res<H256> {
    args.opt_hash(i)?
        .ok_or_else(|| args.bad(i, "missing: expected a 0x-prefixed 32-byte hex string"))
}

fn header(p: &Params, ctx: &Ctx, ext: &Extensions) -> Res<Value> {
    let args = Args::new(p, &["followSubscription", "hash"])?;
    let sub = args.string(0)?;
    let hash = hash_param(&args, 1)?;
    let Some(follow) = ctx.follows.get(&sub, connection(ext)) else {
        return Ok(Value::Null);
    };
    follow.check_pinned(&hash)?;
    match ctx.backend.header(hash) {
        Ok(Some(h)) => Ok(json!(json::hex(&h.encode()))),
        Ok(None) => Err(internal(format!(
            "block {} was reported but the node no longer has its header",
            json::hex(hash.as_bytes())
        ))),
        Err(e) => Err(internal(e.to_string())),
    }
}

fn body(
    p: &Params,
    ctx: &Arc<Ctx>,
    ext: &Extensions,
) -> Res<Started<impl Future<Output = ()> + Send + 'static>> {
    let args = Args::new(p, &["followSubscription", "hash"])?;
    let sub = args.string(0)?;
    let hash = hash_param(&args, 1)?;
    let Some(follow) = ctx.follows.get(&sub, connection(ext)) else {
        return Ok(Started::LimitReached);
    };
    let Some(op) = follow.start(&hash, 1, max_ops(ctx))? else {
        return Ok(Started::LimitReached);
    };
    let answer = started(&op);
    let ctx = ctx.clone();
    let job = async move {
        match off_thread(&ctx, move |b| b.block(hash)).await {
            Ok(Ok(Some(block))) => {
                let mut ev = op.event("operationBodyDone");
                set(
                    &mut ev,
                    "value",
                    Value::Array(
                        block
                            .extrinsics
                            .iter()
                            .map(|x| json!(json::hex(&x.0)))
                            .collect(),
                    ),
                );
                let _ = op.send(ev).await;
            }
            Ok(Ok(None)) => op.inaccessible().await,
            Ok(Err(e)) => op.failed(e).await,
            Err(e) => op.error(e.message()).await,
        }
    };
    Ok(Started::Op { answer, job })
}

fn call(
    p: &Params,
    ctx: &Arc<Ctx>,
    ext: &Extensions,
) -> Res<Started<impl Future<Output = ()> + Send + 'static>> {
    let args = Args::new(
        p,
        &["followSubscription", "hash", "function", "callParameters"],
    )?;
    let sub = args.string(0)?;
    let hash = hash_param(&args, 1)?;
    // The same entry points state_call refuses, for the same reason.
    let function = super::state::read_only_function(&args, 2, "chainHead_v1_call")?;
    let input = args.bytes(3)?;
    let Some(follow) = ctx.follows.get(&sub, connection(ext)) else {
        return Ok(Started::LimitReached);
    };
    follow.check_pinned(&hash)?;
    if !follow.with_runtime {
        return Err(err(
            codes::NO_RUNTIME,
            "chainHead_v1_call needs a subscription followed with withRuntime: true",
        ));
    }
    let Some(op) = follow.start(&hash, 1, max_ops(ctx))? else {
        return Ok(Started::LimitReached);
    };
    let answer = started(&op);
    let ctx = ctx.clone();
    let job = async move {
        match off_thread(&ctx, move |b| b.call(hash, &function, &input)).await {
            Ok(Ok(out)) => {
                let mut ev = op.event("operationCallDone");
                set(&mut ev, "output", json!(json::hex(&out)));
                let _ = op.send(ev).await;
            }
            Ok(Err(e)) => op.failed(e).await,
            Err(e) => op.error(e.message()).await,
        }
    };
    Ok(Started::Op { answer, job })
}

fn storage(
    p: &Params,
    ctx: &Arc<Ctx>,
    ext: &Extensions,
) -> Res<Started<impl Future<Output = ()> + Send + 'static>> {
    let args = Args::new(p, &["followSubscription", "hash", "items", "childTrie"])?;
    let sub = args.string(0)?;
    let hash = hash_param(&args, 1)?;
    let mut items = parse_items(&args, 2, MAX_KEYS_PER_CALL, false)?;
    // qstack's state has no child tries: a child trie holds nothing.
    let child_trie = args.opt_bytes(3)?.is_some();
    let Some(follow) = ctx.follows.get(&sub, connection(ext)) else {
        return Ok(Started::LimitReached);
    };
    let Some(op) = follow.start(&hash, items.len(), max_ops(ctx))? else {
        return Ok(Started::LimitReached);
    };
    let discarded = items.len().saturating_sub(op.granted);
    items.truncate(op.granted);
    if child_trie {
        items.clear();
    }
    let mut answer = started(&op);
    set(&mut answer, "discardedItems", json!(discarded));
    let per_page = usize::try_from(ctx.limits.storage_items_per_page.get()).unwrap_or(1);
    let ctx = ctx.clone();
    let job = async move {
        let mut cursor = Cursor::new(items);
        loop {
            if op.stopped() {
                return;
            }
            let read = off_thread(&ctx, move |b| {
                let page = cursor.next_page(b, hash, per_page);
                (cursor, page)
            })
            .await;
            let page = match read {
                Ok((c, Ok(page))) => {
                    cursor = c;
                    page
                }
                Ok((_, Err(e))) => return op.failed(e).await,
                Err(e) => return op.error(e.message()).await,
            };
            if !page.is_empty() {
                let mut ev = op.event("operationStorageItems");
                let items = page.iter().map(|f| Value::Object(f.to_json())).collect();
                set(&mut ev, "items", Value::Array(items));
                if !op.send(ev).await {
                    return;
                }
            }
            if cursor.is_done() {
                let _ = op.send(op.event("operationStorageDone")).await;
                return;
            }
            if !op.wait_for_continue().await {
                return;
            }
        }
    };
    Ok(Started::Op { answer, job })
}

fn max_ops(ctx: &Ctx) -> usize {
    usize::try_from(ctx.limits.max_operations.get()).unwrap_or(usize::MAX)
}

fn unpin(p: &Params, ctx: &Ctx, ext: &Extensions) -> Res<Value> {
    let args = Args::new(p, &["followSubscription", "hashOrHashes"])?;
    let sub = args.string(0)?;
    let hashes = match args.get(1) {
        Some(Value::String(s)) => vec![parse_hash(s).map_err(|e| args.bad(1, e))?],
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(n, v)| match v {
                Value::String(s) => {
                    parse_hash(s).map_err(|e| args.bad(1, format!("entry {n}: {e}")))
                }
                other => Err(args.bad(
                    1,
                    format!("entry {n}: expected a hash, got {}", kind(other)),
                )),
            })
            .collect::<Res<Vec<_>>>()?,
        Some(other) => {
            return Err(args.bad(
                1,
                format!("expected a hash or an array of hashes, got {}", kind(other)),
            ))
        }
        None => return Err(args.bad(1, "missing: expected a hash or an array of hashes")),
    };
    // An unknown or stopped subscription: ignored, as the spec says.
    if let Some(follow) = ctx.follows.get(&sub, connection(ext)) {
        follow.unpin(&hashes)?;
    }
    Ok(Value::Null)
}

fn resume(p: &Params, ctx: &Ctx, ext: &Extensions) -> Res<Value> {
    let args = Args::new(p, &["followSubscription", "operationId"])?;
    let sub = args.string(0)?;
    let id = args.string(1)?;
    let Some(control) = ctx
        .follows
        .get(&sub, connection(ext))
        .and_then(|f| f.control(&id))
    else {
        return Ok(Value::Null);
    };
    if !control.waiting.swap(false, Ordering::SeqCst) {
        return Err(err(
            codes::INVALID_CONTINUE,
            format!("operation {id} is not waiting for chainHead_v1_continue"),
        ));
    }
    control.resume.notify_one();
    Ok(Value::Null)
}

fn stop_operation(p: &Params, ctx: &Ctx, ext: &Extensions) -> Res<Value> {
    let args = Args::new(p, &["followSubscription", "operationId"])?;
    let sub = args.string(0)?;
    let id = args.string(1)?;
    if let Some(follow) = ctx.follows.get(&sub, connection(ext)) {
        follow.stop_operation(&id);
    }
    Ok(Value::Null)
}

// ---------------------------------------------------------------------------
// The follow task.

/// The spec's runtime object: `{"type": "valid", "spec": {…}}` with `apis`
/// as an object from the hex API id to its version, or `{"type":
/// "invalid", "error": …}`.
pub(crate) fn runtime(version: Result<&RuntimeVersion, &str>) -> Value {
    match version {
        Ok(v) => {
            let apis: serde_json::Map<String, Value> = v
                .apis
                .iter()
                .map(|(id, version)| (json::hex(id), json!(version)))
                .collect();
            json!({
                "type": "valid",
                "spec": {
                    "specName": v.spec_name,
                    "implName": v.impl_name,
                    "specVersion": v.spec_version,
                    "implVersion": v.impl_version,
                    "transactionVersion": v.transaction_version,
                    "apis": apis,
                },
            })
        }
        Err(e) => json!({ "type": "invalid", "error": e }),
    }
}

type Version = Result<RuntimeVersion, String>;

fn version_at(b: &dyn RpcBackend, at: H256) -> Version {
    b.runtime_version(at).map_err(|e| e.to_string())
}

/// `newRuntime`: `null` unless the block's runtime differs from its parent's.
fn new_runtime(parent: &Version, child: &Version) -> Value {
    match (parent, child) {
        (Ok(p), Ok(c)) if p == c => Value::Null,
        (_, Ok(c)) => runtime(Ok(c)),
        // Still unreadable: nothing the client can learn changed.
        (Err(_), Err(_)) => Value::Null,
        (Ok(_), Err(e)) => runtime(Err(e.as_str())),
    }
}

/// A block to announce with `newBlock`.
struct NewBlock {
    hash: H256,
    parent: H256,
    number: BlockNumber,
    /// `newRuntime` (with `withRuntime` only).
    runtime: Option<Value>,
}

/// What `initialized` and the first events need, read in one go.
struct Snapshot {
    finalized: H256,
    finalized_number: BlockNumber,
    runtime: Option<Value>,
    /// The finalized block's descendants, each after its parent.
    blocks: Vec<NewBlock>,
    best: H256,
}

fn snapshot(b: &dyn RpcBackend, with_runtime: bool) -> Result<Snapshot, BackendError> {
    let info = b.chain_info();
    let finalized = info.finalized_hash;
    let finalized_number = b
        .header(finalized)?
        .map_or(info.finalized_number, |h| h.number);
    let mut versions: HashMap<H256, Version> = HashMap::new();
    let runtime = if with_runtime {
        let v = version_at(b, finalized);
        let json = runtime(v.as_ref().map_err(String::as_str));
        versions.insert(finalized, v);
        Some(json)
    } else {
        None
    };
    let mut blocks = Vec::new();
    let mut queue = VecDeque::from([finalized]);
    'walk: while let Some(parent) = queue.pop_front() {
        for child in b.block_children(parent)? {
            if blocks.len() >= MAX_LIVE_BLOCKS {
                break 'walk;
            }
            let Some(header) = b.header(child)? else {
                continue;
            };
            if header.parent_hash != parent {
                continue;
            }
            let runtime = if with_runtime {
                let v = version_at(b, child);
                let json = versions
                    .get(&parent)
                    .map_or(Value::Null, |pv| new_runtime(pv, &v));
                versions.insert(child, v);
                Some(json)
            } else {
                None
            };
            blocks.push(NewBlock {
                hash: child,
                parent,
                number: header.number,
                runtime,
            });
            queue.push_back(child);
        }
    }
    Ok(Snapshot {
        finalized,
        finalized_number,
        runtime,
        blocks,
        best: info.best_hash,
    })
}

/// Why a follow task ends.
enum End {
    /// The spec's `stop` event, then the end; the reason is logged.
    Stop(String),
    /// The client went away or unfollowed: end quietly.
    Gone,
}

type Step = Result<(), End>;

async fn follow(p: Params<'static>, pending: PendingSubscriptionSink, ctx: Arc<Ctx>) {
    let with_runtime = match Args::new(&p, &["withRuntime"]) {
        Ok(args) => match args.get(0) {
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return pending
                    .reject(args.bad(0, format!("expected a boolean, got {}", kind(other))))
                    .await
            }
            None => {
                return pending
                    .reject(args.bad(0, "missing: expected a boolean"))
                    .await
            }
        },
        Err(e) => return pending.reject(e).await,
    };
    let conn = pending.connection_id();
    let id = sub_id_string(&pending.subscription_id());
    let max = usize::try_from(ctx.limits.max_follow_subscriptions.get()).unwrap_or(usize::MAX);
    let Some((follow, ops)) = ctx.follows.open(&id, conn, with_runtime, max) else {
        return pending
            .reject(err(
                codes::LIMIT_REACHED,
                format!("at most {max} chainHead_v1_follow subscriptions per connection"),
            ))
            .await;
    };
    let registered = Registered {
        ctx: ctx.clone(),
        id: id.clone(),
    };
    let stop = ctx.stoppers.register(FAMILY, conn, id.clone());
    // Subscribed before the snapshot, so no block falls between the two.
    let streams = Streams {
        all: ctx.backend.subscribe_all_blocks(),
        best: ctx.backend.subscribe_new_heads(),
        finalized: ctx.backend.subscribe_finalized_heads(),
        ops,
    };
    let Ok(sink) = pending.accept().await else {
        return;
    };
    let max_pinned = usize::try_from(ctx.limits.max_pinned_blocks.get()).unwrap_or(usize::MAX);
    let mut follower = Follower {
        ctx,
        follow,
        sink,
        tree: Tree::new(H256::default(), 0),
        max_pinned,
    };
    let end = tokio::select! {
        end = async {
            match follower.initialize().await {
                Ok(()) => follower.run(streams).await,
                Err(end) => end,
            }
        } => end,
        _ = stop.stopped() => End::Gone,
    };
    // Gone from the registry before the client can hear of it: from the
    // `stop` event on, the methods treat this subscription as unknown.
    drop(registered);
    if let End::Stop(why) = end {
        tracing::debug!(target: LOG_TARGET, "chainHead_v1_follow {id} stopped: {why}");
        let _ = send(&follower.sink, &json!({ "event": "stop" })).await;
    }
}

struct Streams {
    all: tokio::sync::broadcast::Receiver<Header>,
    best: tokio::sync::broadcast::Receiver<Header>,
    finalized: tokio::sync::broadcast::Receiver<Header>,
    ops: mpsc::Receiver<Value>,
}

struct Follower {
    ctx: Arc<Ctx>,
    follow: Arc<Follow>,
    sink: SubscriptionSink,
    tree: Tree,
    max_pinned: usize,
}

impl Follower {
    async fn emit(&self, event: Value) -> Step {
        if send(&self.sink, &event).await {
            Ok(())
        } else {
            Err(End::Gone)
        }
    }

    async fn initialize(&mut self) -> Step {
        let with_runtime = self.follow.with_runtime;
        let snap = match off_thread(&self.ctx, move |b| snapshot(b, with_runtime)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(End::Stop(format!("cannot read the chain: {e}"))),
            Err(e) => return Err(End::Stop(e.message().to_owned())),
        };
        self.tree = Tree::new(snap.finalized, snap.finalized_number);
        self.follow.pin(snap.finalized, false);
        let mut init = json!({
            "event": "initialized",
            "finalizedBlockHashes": [json::hash(&snap.finalized)],
        });
        if let Some(runtime) = snap.runtime {
            set(&mut init, "finalizedBlockRuntime", runtime);
        }
        self.emit(init).await?;
        for block in snap.blocks {
            self.announce(block).await?;
        }
        let best = if self.tree.knows(&snap.best) {
            snap.best
        } else {
            snap.finalized
        };
        self.tree.set_best(best);
        self.emit(best_changed(&best)).await
    }

    async fn run(&mut self, mut s: Streams) -> End {
        loop {
            let step = tokio::select! {
                _ = self.sink.closed() => Err(End::Gone),
                event = s.ops.recv() => match event {
                    Some(event) => self.emit(event).await,
                    None => Err(End::Gone),
                },
                next = s.all.recv() => match next {
                    Ok(h) => self.report(h).await,
                    Err(RecvError::Lagged(_)) => self.resync().await,
                    Err(RecvError::Closed) => Err(End::Stop("the node stopped announcing blocks".into())),
                },
                next = s.best.recv() => match next {
                    Ok(h) => self.on_best(h).await,
                    Err(RecvError::Lagged(_)) => self.resync().await,
                    Err(RecvError::Closed) => Err(End::Stop("the node stopped announcing best blocks".into())),
                },
                next = s.finalized.recv() => match next {
                    Ok(h) => self.on_finalized(h).await,
                    Err(RecvError::Lagged(_)) => self.resync().await,
                    Err(RecvError::Closed) => Err(End::Stop("the node stopped announcing finality".into())),
                },
            };
            if let Err(end) = step {
                return end;
            }
        }
    }

    /// Pins and announces `block`, whose parent is known.
    async fn announce(&mut self, block: NewBlock) -> Step {
        if !self.tree.insert(block.hash, block.parent, block.number) {
            return Ok(());
        }
        if self.tree.len() > MAX_LIVE_BLOCKS {
            return Err(End::Stop(format!(
                "more than {MAX_LIVE_BLOCKS} non-finalized blocks"
            )));
        }
        self.follow.pin(block.hash, true);
        let mut ev = json!({
            "event": "newBlock",
            "blockHash": json::hash(&block.hash),
            "parentBlockHash": json::hash(&block.parent),
        });
        if self.follow.with_runtime {
            set(&mut ev, "newRuntime", block.runtime.unwrap_or(Value::Null));
        }
        self.emit(ev).await
    }

    /// Announces `header`'s block unless known, first announcing each of
    /// its ancestors never reported (read from the backend), so a parent
    /// always comes before its child. A block on a branch off below the
    /// finalized block can never be reported and is skipped.
    async fn report(&mut self, header: Header) -> Step {
        let hash = header.hash();
        if self.tree.knows(&hash) || header.number <= self.tree.finalized_number() {
            return Ok(());
        }
        let mut chain = vec![(hash, header)];
        loop {
            let Some((_, last)) = chain.last() else {
                return Ok(());
            };
            let parent = last.parent_hash;
            if self.tree.knows(&parent) {
                break;
            }
            if chain.len() >= MAX_LIVE_BLOCKS {
                return Err(End::Stop(format!(
                    "block {hash}: more than {MAX_LIVE_BLOCKS} unreported ancestors"
                )));
            }
            match off_thread(&self.ctx, move |b| b.header(parent)).await {
                Ok(Ok(Some(h))) if h.number > self.tree.finalized_number() => {
                    chain.push((parent, h))
                }
                // Branches off below finality, or its parent is not stored
                // (yet): nothing here can be reported.
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(e)) => return Err(End::Stop(format!("cannot read block {parent}: {e}"))),
                Err(e) => return Err(End::Stop(e.message().to_owned())),
            }
        }
        chain.reverse();
        let pairs: Vec<(H256, H256)> = chain.iter().map(|(h, hdr)| (*h, hdr.parent_hash)).collect();
        let runtimes: Vec<Option<Value>> = if self.follow.with_runtime {
            let read = off_thread(&self.ctx, move |b| {
                pairs
                    .iter()
                    .map(|(h, parent)| {
                        Some(new_runtime(&version_at(b, *parent), &version_at(b, *h)))
                    })
                    .collect::<Vec<_>>()
            })
            .await;
            match read {
                Ok(r) => r,
                Err(e) => return Err(End::Stop(e.message().to_owned())),
            }
        } else {
            Vec::new()
        };
        let mut runtimes = runtimes.into_iter();
        for (h, hdr) in chain {
            self.announce(NewBlock {
                hash: h,
                parent: hdr.parent_hash,
                number: hdr.number,
                runtime: runtimes.next().flatten(),
            })
            .await?;
        }
        Ok(())
    }

    async fn on_best(&mut self, header: Header) -> Step {
        let hash = header.hash();
        self.report(header).await?;
        if self.tree.best() != hash && self.tree.set_best(hash) {
            self.emit(best_changed(&hash)).await?;
        }
        Ok(())
    }

    async fn on_finalized(&mut self, header: Header) -> Step {
        if header.number <= self.tree.finalized_number() {
            return Ok(());
        }
        let hash = header.hash();
        self.report(header).await?;
        let Some(f) = self.tree.finalize(hash) else {
            return Err(End::Stop(format!(
                "finalized block {hash} does not descend from the reported finalized block"
            )));
        };
        self.follow.mark_dead(&f.finalized);
        self.follow.mark_dead(&f.pruned);
        let pinned = self.follow.dead_pinned();
        if pinned > self.max_pinned {
            return Err(End::Stop(format!(
                "{pinned} finalized or pruned blocks pinned, at most {} allowed",
                self.max_pinned
            )));
        }
        if f.best_moved {
            self.emit(best_changed(&self.tree.best())).await?;
        }
        let hashes = |v: &[H256]| Value::Array(v.iter().map(json::hash).collect());
        self.emit(json!({
            "event": "finalized",
            "finalizedBlockHashes": hashes(&f.finalized),
            "prunedBlockHashes": hashes(&f.pruned),
        }))
        .await
    }

    /// After a stream lagged: catch up with the node's finalized and best
    /// blocks (missed blocks in between are reported as their ancestors).
    async fn resync(&mut self) -> Step {
        let heads = off_thread(&self.ctx, |b| {
            let info = b.chain_info();
            (b.header(info.finalized_hash), b.header(info.best_hash))
        })
        .await;
        let (finalized, best) = match heads {
            Ok((Ok(f), Ok(b))) => (f, b),
            Ok((Err(e), _)) | Ok((_, Err(e))) => {
                return Err(End::Stop(format!("cannot read the chain: {e}")))
            }
            Err(e) => return Err(End::Stop(e.message().to_owned())),
        };
        if let Some(f) = finalized {
            self.on_finalized(f).await?;
        }
        if let Some(b) = best {
            self.on_best(b).await?;
        }
        Ok(())
    }
}

/// Sets field `key` of event object `ev`.
fn set(ev: &mut Value, key: &str, value: Value) {
    if let Some(obj) = ev.as_object_mut() {
        obj.insert(key.to_owned(), value);
    }
}

fn best_changed(hash: &H256) -> Value {
    json!({ "event": "bestBlockChanged", "bestBlockHash": json::hash(hash) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use qstack_runtime_primitives::version::apis;
    use std::borrow::Cow;

    fn version(spec: u32) -> RuntimeVersion {
        RuntimeVersion {
            spec_name: Cow::Borrowed("qstack"),
            impl_name: Cow::Borrowed("qstack-node"),
            authoring_version: 1,
            spec_version: spec,
            impl_version: 2,
            apis: Cow::Owned(apis(&[("Metadata", 2)])),
            transaction_version: 3,
            system_version: 1,
        }
    }

    #[test]
    fn runtime_object_has_the_spec_fields_and_apis_as_an_object() {
        let v = runtime(Ok(&version(7)));
        assert_eq!(
            v,
            json!({
                "type": "valid",
                "spec": {
                    "specName": "qstack",
                    "implName": "qstack-node",
                    "specVersion": 7,
                    "implVersion": 2,
                    "transactionVersion": 3,
                    // blake2-64("Metadata"), as the spec's example.
                    "apis": { "0x37e397fc7c91f5e4": 2 },
                },
            })
        );
        assert_eq!(
            runtime(Err("no :code")),
            json!({"type": "invalid", "error": "no :code"})
        );
    }

    #[test]
    fn new_runtime_only_when_it_changed() {
        let (a, b) = (Ok(version(1)), Ok(version(2)));
        assert_eq!(new_runtime(&a, &a), Value::Null);
        assert_eq!(new_runtime(&a, &b)["spec"]["specVersion"], 2);
        let bad: Version = Err("trap".into());
        assert_eq!(new_runtime(&a, &bad)["type"], "invalid");
        assert_eq!(new_runtime(&bad, &bad), Value::Null);
        assert_eq!(new_runtime(&bad, &a)["type"], "valid");
    }
}
