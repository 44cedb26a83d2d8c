//! Operators' view of a running node: Prometheus metrics on
//! `--prometheus-port` (default `127.0.0.1:9615`, `GET /metrics`, the
//! OpenMetrics text format) and a periodic status line in the log instead
//! of a line per imported block.
//!
//! Metrics (all prefixed `qstack_`): `block_height{status="best"|"finalized"}`,
//! `finality_lag` (best − finalised), `sync_peers`, `is_major_syncing`,
//! `txpool_ready`, `txpool_future`, `txpool_bytes`, the histograms
//! `block_import_seconds` (a block from a peer: checked, executed,
//! committed) and `block_build_seconds` (a block this node authors), and
//! on BFT chains `bft_height` and `bft_round`. Gauges are sampled once a
//! second; histograms are observed where the work happens.

use anyhow::{Context, Result};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Most bytes of a request the metrics server reads.
const MAX_REQUEST: usize = 8 * 1024;

/// The node's metrics.
pub struct Metrics {
    registry: Registry,
    height: Family<Vec<(String, String)>, Gauge>,
    finality_lag: Gauge,
    peers: Gauge,
    syncing: Gauge,
    ready: Gauge,
    future: Gauge,
    pool_bytes: Gauge,
    bft_height: Gauge,
    bft_round: Gauge,
    /// Import time of blocks from peers.
    pub import: Histogram,
    /// Build time of blocks this node authors.
    pub build: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric, registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("qstack");
        let height = Family::<Vec<(String, String)>, Gauge>::default();
        registry.register(
            "block_height",
            "Block height of the best and the finalized block",
            height.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let finality_lag = gauge(
            &mut registry,
            "finality_lag",
            "Best height minus finalized height",
        );
        let peers = gauge(&mut registry, "sync_peers", "Connected peers");
        let syncing = gauge(
            &mut registry,
            "is_major_syncing",
            "1 while the node is far behind its peers",
        );
        let ready = gauge(
            &mut registry,
            "txpool_ready",
            "Ready transactions in the pool",
        );
        let future = gauge(
            &mut registry,
            "txpool_future",
            "Transactions waiting for an earlier nonce",
        );
        let pool_bytes = gauge(&mut registry, "txpool_bytes", "Encoded bytes in the pool");
        let bft_height = gauge(&mut registry, "bft_height", "Height the BFT engine decides");
        let bft_round = gauge(&mut registry, "bft_round", "Round of that height");
        let histogram = |registry: &mut Registry, name: &str, help: &str| {
            let h = Histogram::new(exponential_buckets(0.000_5, 2.0, 16));
            registry.register(name, help, h.clone());
            h
        };
        let import = histogram(
            &mut registry,
            "block_import_seconds",
            "Time to check, execute and commit a block from a peer",
        );
        let build = histogram(
            &mut registry,
            "block_build_seconds",
            "Time to build a block this node authors",
        );
        Self {
            registry,
            height,
            finality_lag,
            peers,
            syncing,
            ready,
            future,
            pool_bytes,
            bft_height,
            bft_round,
            import,
            build,
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// Records one sample of the node's state.
    pub fn sample(&self, s: &Sample) {
        let set = |g: &Gauge, v: u64| {
            g.set(i64::try_from(v).unwrap_or(i64::MAX));
        };
        set(
            &self
                .height
                .get_or_create(&vec![("status".into(), "best".into())]),
            s.best,
        );
        set(
            &self
                .height
                .get_or_create(&vec![("status".into(), "finalized".into())]),
            s.finalized,
        );
        set(&self.finality_lag, s.best.saturating_sub(s.finalized));
        set(&self.peers, s.peers as u64);
        set(&self.syncing, u64::from(s.syncing));
        set(&self.ready, s.ready as u64);
        set(&self.future, s.future as u64);
        set(&self.pool_bytes, s.pool_bytes as u64);
        if let Some((h, r)) = s.bft {
            set(&self.bft_height, h);
            set(&self.bft_round, u64::from(r));
        }
    }
}

/// What the node looks like at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sample {
    /// Best block number.
    pub best: u64,
    /// Its hash.
    pub best_hash: qstack_core::H256,
    /// Finalised block number.
    pub finalized: u64,
    /// Its hash.
    pub finalized_hash: qstack_core::H256,
    /// Connected peers.
    pub peers: usize,
    /// Far behind the peers.
    pub syncing: bool,
    /// Ready transactions.
    pub ready: usize,
    /// Future transactions.
    pub future: usize,
    /// Pool bytes.
    pub pool_bytes: usize,
    /// BFT (height, round), on a BFT chain.
    pub bft: Option<(u64, u32)>,
}

/// The process's metrics, shared by the paths that observe histograms
/// (several nodes in one test process share it too).
pub fn global() -> &'static Arc<Metrics> {
    static METRICS: OnceLock<Arc<Metrics>> = OnceLock::new();
    METRICS.get_or_init(|| Arc::new(Metrics::new()))
}

/// The status line for `s`, with the blocks per second since the last one.
pub fn status_line(s: &Sample, blocks_per_sec: f64) -> String {
    let short = |h: &qstack_core::H256| {
        let full = h.to_string();
        full.get(..10).map_or(full.clone(), |p| format!("{p}…"))
    };
    format!(
        "{} ({} peers), best: #{} ({}), finalized #{} ({}), {blocks_per_sec:.1} blocks/s, pool {} ready{}",
        if s.syncing { "⚙ Syncing" } else { "💤 Idle" },
        s.peers,
        s.best,
        short(&s.best_hash),
        s.finalized,
        short(&s.finalized_hash),
        s.ready,
        s.bft
            .map(|(h, r)| format!(", BFT #{h} round {r}"))
            .unwrap_or_default()
    )
}

/// Samples `sample()` every second into the metrics, and logs a status
/// line every `status_every`, until the process ends.
pub async fn run_sampler(
    metrics: Arc<Metrics>,
    sample: impl Fn() -> Sample + Send + 'static,
    status_every: Duration,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_status = tokio::time::Instant::now();
    let mut last_best: Option<u64> = None;
    loop {
        tick.tick().await;
        let s = sample();
        metrics.sample(&s);
        let since = last_status.elapsed();
        if since >= status_every {
            let moved = last_best.map_or(0, |b| s.best.saturating_sub(b));
            let rate = moved as f64 / since.as_secs_f64().max(0.001);
            tracing::info!(target: "qstack::status", "{}", status_line(&s, rate));
            last_status = tokio::time::Instant::now();
            last_best = Some(s.best);
        }
    }
}

/// Serves `GET /metrics` on `addr` until the process ends; other paths get
/// 404, other methods 405. Returns the bound address.
pub async fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen for Prometheus on {addr}"))?;
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let mut buf = Vec::with_capacity(512);
                let mut chunk = [0u8; 1024];
                let read = tokio::time::timeout(Duration::from_secs(5), async {
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < MAX_REQUEST {
                        let n = stream.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
                    }
                })
                .await;
                if read.is_err() {
                    return;
                }
                let response = respond(&buf, &metrics);
                let _ = stream.write_all(&response).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    Ok(local)
}

/// The HTTP response to the request `raw`.
fn respond(raw: &[u8], metrics: &Metrics) -> Vec<u8> {
    let line = raw
        .split(|b| *b == b'\n')
        .next()
        .map(|l| String::from_utf8_lossy(l).trim().to_string())
        .unwrap_or_default();
    let mut parts = line.split(' ');
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, kind, body) = match (method, path.split('?').next().unwrap_or("")) {
        ("GET", "/metrics") => (
            "200 OK",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            metrics.render(),
        ),
        ("GET", _) => (
            "404 Not Found",
            "text/plain",
            "not found: try /metrics\n".into(),
        ),
        _ => ("405 Method Not Allowed", "text/plain", "only GET\n".into()),
    };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_renders_as_openmetrics_text() {
        let m = Metrics::new();
        m.sample(&Sample {
            best: 12,
            finalized: 10,
            peers: 3,
            ready: 4,
            bft: Some((13, 1)),
            ..Sample::default()
        });
        m.import.observe(0.003);
        let text = m.render();
        for line in [
            "qstack_block_height{status=\"best\"} 12",
            "qstack_block_height{status=\"finalized\"} 10",
            "qstack_finality_lag 2",
            "qstack_sync_peers 3",
            "qstack_txpool_ready 4",
            "qstack_bft_height 13",
            "qstack_bft_round 1",
            "qstack_block_import_seconds_count 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} not in:\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn only_get_metrics_is_served() {
        let m = Metrics::new();
        let ok = String::from_utf8(respond(b"GET /metrics HTTP/1.1\r\n\r\n", &m)).unwrap();
        assert!(
            ok.starts_with("HTTP/1.1 200 OK\r\n") && ok.contains("qstack_sync_peers"),
            "{ok}"
        );
        let missing = String::from_utf8(respond(b"GET /x HTTP/1.1\r\n\r\n", &m)).unwrap();
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
        let post = String::from_utf8(respond(b"POST /metrics HTTP/1.1\r\n\r\n", &m)).unwrap();
        assert!(post.starts_with("HTTP/1.1 405"), "{post}");
        let junk = String::from_utf8(respond(&[0xff, 0xfe, 0], &m)).unwrap();
        assert!(junk.starts_with("HTTP/1.1 405"), "{junk}");
    }

    #[test]
    fn the_status_line_says_idle_or_syncing_and_the_rate() {
        let s = Sample {
            best: 7,
            finalized: 6,
            peers: 2,
            ..Sample::default()
        };
        let line = status_line(&s, 1.5);
        assert!(line.starts_with("💤 Idle (2 peers), best: #7"), "{line}");
        assert!(
            line.contains("finalized #6") && line.contains("1.5 blocks/s"),
            "{line}"
        );
        let line = status_line(
            &Sample {
                syncing: true,
                bft: Some((8, 0)),
                ..s
            },
            0.0,
        );
        assert!(
            line.starts_with("⚙ Syncing") && line.ends_with("BFT #8 round 0"),
            "{line}"
        );
    }
}
