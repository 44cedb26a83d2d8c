//! What stands between the open port and the methods: which methods are
//! served ([`RpcMethods`], Substrate's `--rpc-methods`), which browser
//! origins may call ([`Cors`], `--rpc-cors`), and how many calls a
//! connection may make ([`RateLimitLayer`], `--rpc-rate-limit`).

use crate::error::codes;
use jsonrpsee::core::middleware::{Batch, BatchEntry, BatchEntryErr, Notification};
use jsonrpsee::core::BoxError;
use jsonrpsee::server::middleware::rpc::{ResponseFuture, RpcServiceT};
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use jsonrpsee::types::{ErrorObject, Request};
use jsonrpsee::MethodResponse;
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

/// Which methods the server answers (Substrate's `--rpc-methods`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RpcMethods {
    /// Every method.
    #[default]
    Unsafe,
    /// All but [`UNSAFE_METHODS`], which answer "RPC call is unsafe to be
    /// called externally" (as Substrate's do).
    Safe,
}

/// Methods that expose the node's operator-only view (its peers' addresses
/// and the network's internals): refused under [`RpcMethods::Safe`].
pub const UNSAFE_METHODS: &[&str] = &["system_peers", "system_networkState"];

/// Which browser origins may call (Substrate's `--rpc-cors`): a request
/// that carries an `Origin` header not on the list is refused with HTTP 403,
/// over HTTP and for the WebSocket handshake alike; requests without one
/// (curl, node clients) are never affected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cors {
    /// Any origin (`--rpc-cors all`).
    All,
    /// Exactly these origins (`scheme://host[:port]`); a `*` port matches
    /// any port, as in Substrate's defaults `http://localhost:*`.
    List(Vec<String>),
}

impl Default for Cors {
    /// Localhost origins only, and polkadot.js apps (Substrate's default).
    fn default() -> Self {
        Cors::List(
            [
                "http://localhost:*",
                "http://127.0.0.1:*",
                "https://localhost:*",
                "https://127.0.0.1:*",
                "https://polkadot.js.org",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        )
    }
}

impl Cors {
    /// Whether `origin` may call.
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            Cors::All => true,
            Cors::List(list) => list.iter().any(|pattern| origin_matches(pattern, origin)),
        }
    }
}

fn origin_matches(pattern: &str, origin: &str) -> bool {
    if pattern == origin {
        return true;
    }
    let Some(base) = pattern.strip_suffix(":*") else {
        return false;
    };
    // `base` itself (default port) or `base:<digits>`.
    match origin.strip_prefix(base) {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix(':')
            .is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())),
        None => false,
    }
}

/// The HTTP layer enforcing [`Cors`] (also on the WebSocket upgrade).
#[derive(Clone, Debug)]
pub struct CorsLayer {
    cors: Arc<Cors>,
}

impl CorsLayer {
    /// A layer for `cors`.
    pub fn new(cors: Cors) -> Self {
        Self {
            cors: Arc::new(cors),
        }
    }
}

impl<S> tower::Layer<S> for CorsLayer {
    type Service = CorsService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        CorsService {
            inner,
            cors: self.cors.clone(),
        }
    }
}

/// See [`CorsLayer`].
#[derive(Clone, Debug)]
pub struct CorsService<S> {
    inner: S,
    cors: Arc<Cors>,
}

fn forbidden(origin: &str) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::from(format!(
        "Origin {origin} is not allowed (see --rpc-cors)\n"
    )));
    *response.status_mut() = http::StatusCode::FORBIDDEN;
    response
}

impl<S, B> tower::Service<HttpRequest<B>> for CorsService<S>
where
    S: tower::Service<HttpRequest<B>, Response = HttpResponse>,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: HttpRequest<B>) -> Self::Future {
        let origin = request
            .headers()
            .get(http::header::ORIGIN)
            .map(|o| o.to_str().map(str::to_owned));
        let allowed = match origin {
            None => None,
            Some(Ok(o)) if self.cors.allows(&o) => http::HeaderValue::from_str(&o).ok(),
            Some(Ok(o)) => {
                tracing::debug!(target: crate::methods::LOG_TARGET, "refused a request from origin {o}");
                return Box::pin(std::future::ready(Ok(forbidden(&o))));
            }
            Some(Err(_)) => return Box::pin(std::future::ready(Ok(forbidden("(not text)")))),
        };
        // A browser's preflight: answer it here.
        if request.method() == http::Method::OPTIONS {
            let mut response = HttpResponse::new(HttpBody::from(""));
            if let Some(o) = allowed {
                let h = response.headers_mut();
                h.insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
                h.insert(
                    http::header::ACCESS_CONTROL_ALLOW_METHODS,
                    http::HeaderValue::from_static("POST, GET, OPTIONS"),
                );
                h.insert(
                    http::header::ACCESS_CONTROL_ALLOW_HEADERS,
                    http::HeaderValue::from_static("content-type"),
                );
            }
            return Box::pin(std::future::ready(Ok(response)));
        }
        let call = self.inner.call(request);
        Box::pin(async move {
            let mut response = call.await.map_err(Into::into)?;
            if let Some(o) = allowed {
                response
                    .headers_mut()
                    .insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
            }
            Ok(response)
        })
    }
}

/// A per-connection limit on calls (Substrate's `--rpc-rate-limit`: calls
/// per minute). Each connection has a bucket of `per_minute` calls that
/// refills continuously; a call (or batch entry) finding it empty is
/// answered with error [`codes::RATE_LIMITED`] without running.
#[derive(Clone, Copy, Debug)]
pub struct RateLimitLayer {
    per_minute: NonZeroU32,
}

impl RateLimitLayer {
    /// A limit of `per_minute` calls per connection.
    pub fn new(per_minute: NonZeroU32) -> Self {
        Self { per_minute }
    }
}

impl<S> tower::Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;
    fn layer(&self, service: S) -> Self::Service {
        let full = f64::from(self.per_minute.get());
        RateLimit {
            service,
            per_minute: full,
            bucket: Arc::new(Mutex::new((full, Instant::now()))),
        }
    }
}

/// See [`RateLimitLayer`]; one per connection.
#[derive(Clone, Debug)]
pub struct RateLimit<S> {
    service: S,
    per_minute: f64,
    /// Calls left, and when it was last refilled.
    bucket: Arc<Mutex<(f64, Instant)>>,
}

impl<S> RateLimit<S> {
    /// Takes one call from the bucket, if there is one.
    fn take(&self) -> bool {
        let mut bucket = match self.bucket.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        let now = Instant::now();
        let (left, at) = *bucket;
        let refilled = (left + now.duration_since(at).as_secs_f64() * self.per_minute / 60.0)
            .min(self.per_minute);
        if refilled >= 1.0 {
            *bucket = (refilled - 1.0, now);
            true
        } else {
            *bucket = (refilled, now);
            false
        }
    }
}

fn limited() -> ErrorObject<'static> {
    ErrorObject::owned(
        codes::RATE_LIMITED,
        "RPC rate limit exceeded: too many calls on this connection (see --rpc-rate-limit)",
        None::<()>,
    )
}

impl<S> RpcServiceT for RateLimit<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Send
        + Sync
        + Clone
        + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(&self, request: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        if self.take() {
            ResponseFuture::future(self.service.call(request))
        } else {
            ResponseFuture::ready(MethodResponse::error(request.id, limited()))
        }
    }

    fn batch<'a>(&self, mut batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        // Each call in a batch costs one; those past the limit answer with
        // the error, the rest run.
        for entry in batch.iter_mut() {
            if let Ok(BatchEntry::Call(request)) = entry {
                if !self.take() {
                    let id = request.id.clone().into_owned();
                    *entry = Err(BatchEntryErr::new(id, limited()));
                }
            }
        }
        self.service.batch(batch)
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = MethodResponse> + Send + 'a {
        self.service.notification(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Any Origin header text: an answer, never a panic; and an origin
        /// the default list allows is a localhost one or polkadot.js apps.
        #[test]
        fn any_origin_gets_an_answer(origin in ".{0,64}") {
            if Cors::default().allows(&origin) {
                proptest::prop_assert!(
                    origin.starts_with("http://localhost")
                        || origin.starts_with("http://127.0.0.1")
                        || origin.starts_with("https://localhost")
                        || origin.starts_with("https://127.0.0.1")
                        || origin == "https://polkadot.js.org"
                );
            }
        }
    }

    #[test]
    fn origins_match_exactly_or_by_any_port() {
        let cors = Cors::default();
        for ok in [
            "http://localhost:3000",
            "http://localhost",
            "https://127.0.0.1:9944",
            "https://polkadot.js.org",
        ] {
            assert!(cors.allows(ok), "{ok}");
        }
        for bad in [
            "https://evil.example",
            "http://localhost.evil.example",
            "http://localhost:",
            "http://localhost:80x",
            "https://polkadot.js.org.evil",
            "null",
        ] {
            assert!(!cors.allows(bad), "{bad}");
        }
        assert!(Cors::All.allows("https://evil.example"));
        let list = Cors::List(vec!["https://app.example".into()]);
        assert!(list.allows("https://app.example"));
        assert!(!list.allows("https://app.example:8443"));
    }
}

/// `GET /health` and `GET /health/readiness` on the RPC port, as Substrate
/// serves them for load balancers and orchestrators: `/health` answers
/// `system_health`'s JSON (`{"peers", "isSyncing", "shouldHavePeers"}`);
/// `/health/readiness` is 200 when the node is not syncing and has peers
/// (or needs none, as a dev chain), 500 otherwise. Everything else goes on
/// to the JSON-RPC server.
#[derive(Clone)]
pub struct HealthLayer {
    backend: Arc<dyn crate::backend::RpcBackend>,
}

impl HealthLayer {
    /// Health answered from `backend`'s in-memory system info.
    pub fn new(backend: Arc<dyn crate::backend::RpcBackend>) -> Self {
        Self { backend }
    }
}

impl<S> tower::Layer<S> for HealthLayer {
    type Service = HealthService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        HealthService {
            inner,
            backend: self.backend.clone(),
        }
    }
}

/// See [`HealthLayer`].
#[derive(Clone)]
pub struct HealthService<S> {
    inner: S,
    backend: Arc<dyn crate::backend::RpcBackend>,
}

fn health_response(status: http::StatusCode, body: String) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

impl<S, B> tower::Service<HttpRequest<B>> for HealthService<S>
where
    S: tower::Service<HttpRequest<B>, Response = HttpResponse>,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: HttpRequest<B>) -> Self::Future {
        if request.method() == http::Method::GET {
            let path = request.uri().path();
            if path == "/health" || path == "/health/readiness" {
                let info = self.backend.system_info();
                let body = serde_json::json!({
                    "peers": info.peers,
                    "isSyncing": info.is_syncing,
                    "shouldHavePeers": info.should_have_peers,
                })
                .to_string();
                let ready = !info.is_syncing && (info.peers > 0 || !info.should_have_peers);
                let status = if path == "/health" || ready {
                    http::StatusCode::OK
                } else {
                    http::StatusCode::INTERNAL_SERVER_ERROR
                };
                return Box::pin(std::future::ready(Ok(health_response(status, body))));
            }
        }
        let call = self.inner.call(request);
        Box::pin(async move { call.await.map_err(Into::into) })
    }
}
