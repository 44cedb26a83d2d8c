//! A node fed garbage: a raw libp2p peer sends a producer malformed,
//! mistagged, truncated and oversized sync requests, garbage and oversized
//! gossip on every topic, a gossip flood, garbage answers to its own
//! requests, and raw non-noise bytes on its TCP port. The producer must stay
//! up, keep authoring and serving (capping what it serves), its follower
//! must keep importing, and the garbage peers must be punished.

use crate::common::*;
use codec::Encode;
use futures::StreamExt;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{
    gossipsub, noise, request_response, tcp, yamux, Multiaddr, PeerId, StreamProtocol, Swarm,
};
use qstack_core::H256;
use qstack_network::codec::FrameCodec;
use qstack_network::protocol::{
    decode_capped, fields, BlockRequest, Direction, FromBlock, Names, Refusal, Request, Response,
    Status, MAX_BLOCKS_PER_REQUEST, MAX_GOSSIP_BYTES, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES,
};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// xorshift64*: garbage needs no crate.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[derive(NetworkBehaviour)]
struct Garbage {
    gossip: gossipsub::Behaviour,
    sync: request_response::Behaviour<FrameCodec>,
}

/// One libp2p identity connected to the producer.
struct Peer {
    name: &'static str,
    swarm: Swarm<Garbage>,
    target: PeerId,
    names: Names,
    /// Answer the producer's own sync requests with garbage (else drop them).
    answer_garbage: bool,
    answered: usize,
    requests_from_target: usize,
    rng: Rng,
    connected: bool,
    closed: Vec<String>,
    subscribed: HashSet<gossipsub::TopicHash>,
    responses: HashMap<request_response::OutboundRequestId, Result<Vec<u8>, String>>,
}

impl Peer {
    async fn connect(
        name: &'static str,
        addr: &Multiaddr,
        names: &Names,
        answer_garbage: bool,
        seed: u64,
    ) -> Peer {
        let Some(Protocol::P2p(target)) = addr.iter().last() else {
            panic!("no peer id in {addr}")
        };
        let sync_protocol = names.sync.clone();
        let mut swarm = libp2p::SwarmBuilder::with_new_identity()
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                yamux::Config::default,
            )
            .expect("transport")
            .with_behaviour(move |key| {
                let cfg = gossipsub::ConfigBuilder::default()
                    // Ours must let the oversized message out.
                    .max_transmit_size(2 * MAX_GOSSIP_BYTES)
                    .validation_mode(gossipsub::ValidationMode::Strict)
                    .heartbeat_interval(Duration::from_millis(700))
                    .build()
                    .map_err(|e| e.to_string())?;
                let gossip = gossipsub::Behaviour::new(
                    gossipsub::MessageAuthenticity::Signed(key.clone()),
                    cfg,
                )?;
                let protocol =
                    StreamProtocol::try_from_owned(sync_protocol).map_err(|e| e.to_string())?;
                let sync = request_response::Behaviour::with_codec(
                    FrameCodec,
                    [(protocol, request_response::ProtocolSupport::Full)],
                    request_response::Config::default()
                        .with_request_timeout(Duration::from_secs(10)),
                );
                Ok(Garbage { gossip, sync })
            })
            .expect("behaviour")
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
            .build();
        for t in [&names.transactions, &names.blocks, &names.consensus] {
            swarm
                .behaviour_mut()
                .gossip
                .subscribe(&gossipsub::IdentTopic::new(t.clone()))
                .expect("subscribe");
        }
        swarm.dial(addr.clone()).expect("dial the producer");
        let mut peer = Peer {
            name,
            swarm,
            target,
            names: names.clone(),
            answer_garbage,
            answered: 0,
            requests_from_target: 0,
            rng: Rng::new(seed),
            connected: false,
            closed: Vec::new(),
            subscribed: HashSet::new(),
            responses: HashMap::new(),
        };
        let ready = peer
            .pump_until(Duration::from_secs(15), |p| {
                // Transactions and block announcements; a dev-engine node
                // does not take consensus messages, so it does not subscribe.
                p.connected && p.subscribed.len() >= 2
            })
            .await;
        assert!(
            ready,
            "{name}: not connected to the producer with its topics within 15 s \
             (connected: {}, topics: {}, closed: {:?})",
            peer.connected,
            peer.subscribed.len(),
            peer.closed
        );
        peer
    }

    fn id(&self) -> PeerId {
        *self.swarm.local_peer_id()
    }

    /// Drives the swarm until `done` or `dur`; whether `done` held.
    async fn pump_until(&mut self, dur: Duration, done: impl Fn(&Peer) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + dur;
        while !done(self) {
            match tokio::time::timeout_at(deadline, self.swarm.select_next_some()).await {
                Ok(ev) => self.on_event(ev),
                Err(_) => return false,
            }
        }
        true
    }

    async fn pump(&mut self, dur: Duration) {
        self.pump_until(dur, |_| false).await;
    }

    fn garbage_answer(&mut self) -> Vec<u8> {
        let k = self.answered;
        self.answered += 1;
        match k % 4 {
            0 => {
                let n = 1 + self.rng.below(300);
                self.rng.bytes(n)
            }
            // Well formed, but the wrong kind of answer.
            1 => Response::Blocks(Vec::new()).encode(),
            // Another chain.
            2 => Response::Status(Status {
                genesis: H256([0xee; 32]),
                best_number: 1_000_000,
                best_hash: H256([0xdd; 32]),
                finalized_number: 0,
                finalized_hash: H256([0xee; 32]),
            })
            .encode(),
            // Truncated.
            _ => {
                let mut s = Response::Status(Status {
                    genesis: H256([1; 32]),
                    best_number: 1,
                    best_hash: H256([2; 32]),
                    finalized_number: 0,
                    finalized_hash: H256([1; 32]),
                })
                .encode();
                s.truncate(s.len() / 2);
                s
            }
        }
    }

    fn on_event(&mut self, ev: SwarmEvent<GarbageEvent>) {
        use request_response::{Event, Message};
        match ev {
            SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == self.target => {
                self.connected = true;
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                cause,
                ..
            } if peer_id == self.target => {
                self.connected = false;
                self.closed.push(format!("{cause:?}"));
            }
            SwarmEvent::OutgoingConnectionError { error, .. } => {
                self.closed.push(format!("dial: {error}"));
            }
            SwarmEvent::Behaviour(GarbageEvent::Gossip(gossipsub::Event::Subscribed {
                peer_id,
                topic,
            })) if peer_id == self.target => {
                self.subscribed.insert(topic);
            }
            SwarmEvent::Behaviour(GarbageEvent::Sync(ev)) => match ev {
                Event::Message {
                    message:
                        Message::Response {
                            request_id,
                            response,
                        },
                    ..
                } => {
                    self.responses.insert(request_id, Ok(response));
                }
                Event::OutboundFailure {
                    request_id, error, ..
                } => {
                    self.responses.insert(request_id, Err(error.to_string()));
                }
                Event::Message {
                    peer,
                    message: Message::Request { channel, .. },
                    ..
                } if peer == self.target => {
                    self.requests_from_target += 1;
                    if self.answer_garbage {
                        let answer = self.garbage_answer();
                        let _ = self
                            .swarm
                            .behaviour_mut()
                            .sync
                            .send_response(channel, answer);
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// Sends one sync request; its raw answer, or why there was none.
    async fn request(&mut self, bytes: Vec<u8>) -> Result<Vec<u8>, String> {
        let target = self.target;
        let id = self.swarm.behaviour_mut().sync.send_request(&target, bytes);
        if !self
            .pump_until(Duration::from_secs(15), |p| p.responses.contains_key(&id))
            .await
        {
            return Err("no answer and no failure within 15 s".into());
        }
        self.responses.remove(&id).expect("just seen")
    }

    fn publish(&mut self, topic: &str, data: Vec<u8>) -> Result<(), String> {
        self.swarm
            .behaviour_mut()
            .gossip
            .publish(gossipsub::IdentTopic::new(topic), data)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Publishes `n` random messages on `topic`, driving the swarm as it
    /// goes; how many were accepted for sending, and the local errors.
    async fn flood(&mut self, topic: &str, n: usize) -> (usize, Vec<String>) {
        let (mut ok, mut errs) = (0, Vec::new());
        for i in 0..n {
            let len = 1 + self.rng.below(400);
            let data = self.rng.bytes(len);
            match self.publish(topic, data) {
                Ok(()) => ok += 1,
                Err(e) => errs.push(e),
            }
            if i % 20 == 19 {
                self.pump(Duration::from_millis(40)).await;
            }
        }
        errs.dedup();
        (ok, errs)
    }

    fn describe(&self) -> String {
        format!(
            "{} ({}): still connected: {}, disconnects: {:?}",
            self.name,
            self.id(),
            self.connected,
            self.closed
        )
    }
}

fn decode_response(bytes: &[u8]) -> Response {
    decode_capped::<Response>(bytes, MAX_RESPONSE_BYTES)
        .unwrap_or_else(|e| panic!("the producer's answer does not decode: {e}"))
}

fn blocks_request(from: FromBlock, direction: Direction, max: u32, fields: u8) -> Vec<u8> {
    Request::Blocks(BlockRequest {
        fields,
        from,
        direction,
        max,
    })
    .encode()
}

/// Malformed sync requests: random bytes, unknown enum tags, truncated and
/// over-long SCALE, an empty frame.
fn garbage_requests(rng: &mut Rng) -> Vec<(&'static str, Vec<u8>)> {
    let valid = blocks_request(FromBlock::Number(1), Direction::Ascending, 8, fields::FULL);
    let mut out = Vec::new();
    for _ in 0..3 {
        // Never 12 or 40 bytes, the only lengths a `Request::Blocks` can have.
        let n = 41 + rng.below(600);
        out.push(("random bytes", rng.bytes(n)));
    }
    out.push(("empty", Vec::new()));
    out.push(("unknown Request tag 2", vec![2]));
    out.push(("unknown Request tag 0xff", vec![0xff, 1, 2, 3, 4]));
    let mut bad_from = valid.clone();
    bad_from[2] = 9;
    out.push(("unknown FromBlock tag", bad_from));
    let mut bad_dir = valid.clone();
    bad_dir[7] = 5;
    out.push(("unknown Direction tag", bad_dir));
    out.push(("truncated by one byte", valid[..valid.len() - 1].to_vec()));
    out.push(("truncated to the tag", valid[..1].to_vec()));
    out.push(("truncated mid-number", valid[..4].to_vec()));
    let mut trailing = Request::Status.encode();
    trailing.push(0);
    out.push(("trailing byte", trailing));
    out
}

/// Raw TCP connections to the p2p port that never speak noise.
fn raw_tcp_garbage(port: u16, rng: &mut Rng) -> String {
    let (mut connections, mut bytes_sent) = (0, 0);
    for i in 0..9 {
        let mut s = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("the producer stopped accepting TCP connections: {e}"));
        connections += 1;
        let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
        let bytes = match i % 3 {
            0 => rng.bytes(64 * 1024),
            1 => {
                // A proper multistream-select header and a noise proposal,
                // then garbage where the noise handshake should be.
                let mut b = vec![19];
                b.extend_from_slice(b"/multistream/1.0.0\n");
                b.push(7);
                b.extend_from_slice(b"/noise\n");
                b.extend(rng.bytes(2048));
                b
            }
            _ => Vec::new(), // connect and hang up
        };
        if s.write_all(&bytes).is_ok() {
            bytes_sent += bytes.len();
        }
    }
    format!("raw TCP: {connections} connections, {bytes_sent} garbage bytes written")
}

/// Everything the garbage peers do; what they saw.
fn attack(
    p_addr: &str,
    names: &Names,
    genesis: H256,
    seed: u64,
    stop: &AtomicBool,
    ids: &Mutex<Vec<(&'static str, String)>>,
) -> Vec<String> {
    let addr: Multiaddr = p_addr.parse().expect("p2p address");
    let port = addr
        .iter()
        .find_map(|p| match p {
            Protocol::Tcp(port) => Some(port),
            _ => None,
        })
        .expect("tcp port");
    let mut rng = Rng::new(seed);
    let mut out = vec![raw_tcp_garbage(port, &mut rng)];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let register = |p: &Peer| ids.lock().unwrap().push((p.name, p.id().to_string()));

        // Gossip garbage on all three topics (the consensus one has no
        // subscriber on a dev chain, so nothing may even leave), and a flood.
        let mut g = Peer::connect("gossip-garbage", &addr, names, false, rng.next()).await;
        register(&g);
        let (consensus, errs_c) = g.flood(&names.consensus, 200).await;
        let (txs, errs_t) = g.flood(&names.transactions, 10).await;
        let (announces, errs_b) = g.flood(&names.blocks, 5).await;
        g.pump(Duration::from_millis(1500)).await;
        assert!(txs > 0 && announces > 0, "nothing published: {errs_c:?} {errs_t:?} {errs_b:?}");
        out.push(format!(
            "gossip: {consensus}/200 garbage on the consensus topic, {txs}/10 on transactions, \
             {announces}/5 on block announcements (local errors {errs_c:?} {errs_t:?} {errs_b:?}); {}",
            g.describe()
        ));
        if stop.load(Ordering::Relaxed) {
            return;
        }

        // An oversized gossip message (then a little garbage behind it).
        let mut o = Peer::connect("gossip-oversized", &addr, names, false, rng.next()).await;
        register(&o);
        let mut big = o.rng.bytes(64);
        big.resize(MAX_GOSSIP_BYTES + 64 * 1024, 0x5a);
        let big_len = big.len();
        let sent = o.publish(&o.names.transactions.clone(), big);
        assert!(sent.is_ok(), "the oversized message was not even sent: {sent:?}");
        o.pump(Duration::from_millis(1500)).await;
        let after_big = o.describe();
        let (behind, errs) = o.flood(&names.blocks, 3).await;
        o.pump(Duration::from_millis(1000)).await;
        out.push(format!(
            "gossip: one {big_len}-byte message (cap {MAX_GOSSIP_BYTES}) on transactions; after it: \
             {after_big}; then {behind}/3 garbage block announcements (local errors {errs:?}); {}",
            o.describe()
        ));
        if stop.load(Ordering::Relaxed) {
            return;
        }

        // A flood of garbage block announcements: the sender must be banned.
        let mut fl = Peer::connect("gossip-flood", &addr, names, false, rng.next()).await;
        register(&fl);
        let (flood, errs) = fl.flood(&names.blocks, 200).await;
        let dropped = fl
            .pump_until(Duration::from_secs(5), |p| !p.connected)
            .await;
        out.push(format!(
            "gossip: {flood}/200 garbage block announcements published (local errors {errs:?}); {}",
            fl.describe()
        ));
        assert!(dropped, "the producer kept a peer flooding garbage announcements: {}", fl.describe());
        if stop.load(Ordering::Relaxed) {
            return;
        }

        // Garbage answers to the producer's own status requests.
        let mut r = Peer::connect("bad-responder", &addr, names, true, rng.next()).await;
        register(&r);
        r.pump_until(Duration::from_secs(7), |p| p.answered >= 3).await;
        r.pump(Duration::from_millis(500)).await;
        assert!(r.answered >= 1, "the producer never asked the bad responder anything");
        out.push(format!(
            "sync: answered {} of the producer's requests with garbage (random, wrong kind, \
             other genesis, truncated); {}",
            r.answered,
            r.describe()
        ));
        if stop.load(Ordering::Relaxed) {
            return;
        }

        // Sync requests: valid ones first (they must be answered, capped),
        // then oversized and malformed ones (they must be refused).
        let mut s = Peer::connect("sync-garbage", &addr, names, false, rng.next()).await;
        register(&s);
        let started = Instant::now();
        let status = loop {
            let answer = s.request(Request::Status.encode()).await.expect("status answered");
            let Response::Status(st) = decode_response(&answer) else {
                panic!("status request answered with {:?}", decode_response(&answer))
            };
            assert_eq!(st.genesis, genesis, "the producer's status names another genesis");
            if st.best_number > MAX_BLOCKS_PER_REQUEST + 2 {
                break st;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the producer's chain stayed at #{} for 30 s",
                st.best_number
            );
            s.pump(Duration::from_millis(500)).await;
        };
        out.push(format!(
            "sync: status answered (genesis matches, best #{})",
            status.best_number
        ));

        let answer = s
            .request(blocks_request(FromBlock::Number(0), Direction::Ascending, u32::MAX, fields::FULL))
            .await
            .expect("capped block request answered");
        let Response::Blocks(up) = decode_response(&answer) else {
            panic!("block request answered with {:?}", decode_response(&answer))
        };
        assert!(
            !up.is_empty() && up.len() <= MAX_BLOCKS_PER_REQUEST as usize,
            "asked for u32::MAX blocks from #0 on a chain of {}: got {}",
            status.best_number,
            up.len()
        );
        for (i, b) in up.iter().enumerate() {
            assert_eq!(b.header.number as usize, i, "ascending blocks out of order");
        }
        let answer = s
            .request(blocks_request(
                FromBlock::Number(status.best_number),
                Direction::Descending,
                u32::MAX,
                fields::HEADER,
            ))
            .await
            .expect("descending block request answered");
        let Response::Blocks(down) = decode_response(&answer) else {
            panic!("block request answered with {:?}", decode_response(&answer))
        };
        assert!(
            !down.is_empty() && down.len() <= MAX_BLOCKS_PER_REQUEST as usize,
            "asked for u32::MAX blocks down from #{}: got {}",
            status.best_number,
            down.len()
        );
        for (i, b) in down.iter().enumerate() {
            assert_eq!(b.header.number, status.best_number - i as u32, "descending blocks out of order");
            assert!(b.body.is_none(), "a body nobody asked for");
        }
        out.push(format!(
            "sync: u32::MAX blocks asked for, {} served ascending, {} descending (cap {MAX_BLOCKS_PER_REQUEST})",
            up.len(),
            down.len()
        ));

        // Well formed but odd: no header field, unknown start blocks.
        let odd = [
            ("no header field", blocks_request(FromBlock::Number(0), Direction::Ascending, 4, fields::BODY)),
            ("unknown hash", blocks_request(FromBlock::Hash(H256([0x42; 32])), Direction::Ascending, 4, fields::FULL)),
            ("number u32::MAX", blocks_request(FromBlock::Number(u32::MAX), Direction::Descending, u32::MAX, fields::FULL)),
        ];
        for (what, req) in odd {
            let answer = s.request(req).await.unwrap_or_else(|e| panic!("{what}: no answer: {e}"));
            match decode_response(&answer) {
                Response::Refused(Refusal::BadRequest) if what == "no header field" => {}
                Response::Blocks(b) if what != "no header field" && b.is_empty() => {}
                other => panic!("{what}: answered with {other:?}"),
            }
        }
        out.push("sync: no-header, unknown-hash and u32::MAX-number requests refused or answered empty".into());

        // Oversized: a Status request padded past the cap must not be served.
        let mut big = Request::Status.encode();
        big.resize(MAX_REQUEST_BYTES * 2, 0);
        let outcome = s.request(big).await;
        match &outcome {
            Err(_) => {}
            Ok(bytes) => match decode_capped::<Response>(bytes, MAX_RESPONSE_BYTES) {
                Ok(Response::Refused(_)) | Err(_) => {}
                Ok(other) => panic!("an oversized request was served: {other:?}"),
            },
        }
        out.push(format!(
            "sync: {}-byte request (cap {MAX_REQUEST_BYTES}) not served: {:?}",
            MAX_REQUEST_BYTES * 2,
            outcome.map(|b| decode_capped::<Response>(&b, MAX_RESPONSE_BYTES))
        ));

        let (mut refused, mut failed) = (Vec::new(), Vec::new());
        for (what, req) in garbage_requests(&mut rng) {
            match s.request(req).await {
                Ok(bytes) => match decode_capped::<Response>(&bytes, MAX_RESPONSE_BYTES) {
                    Ok(Response::Refused(r)) => refused.push(format!("{what}: {r:?}")),
                    other => panic!("garbage request ({what}) answered with {other:?}"),
                },
                Err(e) => failed.push(format!("{what}: {e}")),
            }
        }
        assert!(
            refused.iter().any(|r| r.ends_with("BadRequest")),
            "no garbage request was refused as a bad request: refused {refused:?}, failed {failed:?}"
        );
        s.pump(Duration::from_millis(1000)).await;
        out.push(format!(
            "sync: garbage requests refused {refused:?}; failed (peer dropped) {failed:?}; {}",
            s.describe()
        ));
    });
    out
}

/// Prints the nodes' logs if the test fails.
struct LogsOnPanic(Vec<PathBuf>);

impl Drop for LogsOnPanic {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        for dir in &self.0 {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "log") {
                    let log = std::fs::read_to_string(&path).unwrap_or_default();
                    let lines: Vec<&str> = log.lines().collect();
                    eprintln!("===== {} (last 150 lines) =====", path.display());
                    for l in &lines[lines.len().saturating_sub(150)..] {
                        eprintln!("{l}");
                    }
                }
            }
        }
    }
}

/// Sets the flag when dropped (the monitor failed: stop the attack early).
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// What the monitor saw while the attack ran.
#[derive(Default)]
struct Observed {
    checks: usize,
    p_best: u64,
    f_best: u64,
    p_changed: Option<Instant>,
    f_changed: Option<Instant>,
    p_longest_stall: Duration,
    f_longest_stall: Duration,
    max_lag: u64,
    banned: u64,
    reputations: HashMap<String, i64>,
}

const MAX_STALL: Duration = Duration::from_secs(8);

impl Observed {
    fn check(&mut self, p: &mut Node, f: &mut Node, ids: &Mutex<Vec<(&'static str, String)>>) {
        let now = Instant::now();
        for (who, n) in [("producer", &mut *p), ("follower", &mut *f)] {
            assert!(
                n.child.try_wait().expect("try_wait").is_none(),
                "the {who} exited"
            );
        }
        let (pb, fb) = (p.best().0, f.best().0);
        if pb != self.p_best || self.p_changed.is_none() {
            self.p_best = pb;
            self.p_changed = Some(now);
        }
        if fb != self.f_best || self.f_changed.is_none() {
            self.f_best = fb;
            self.f_changed = Some(now);
        }
        let (ps, fs) = (
            now - self.p_changed.unwrap_or(now),
            now - self.f_changed.unwrap_or(now),
        );
        self.p_longest_stall = self.p_longest_stall.max(ps);
        self.f_longest_stall = self.f_longest_stall.max(fs);
        self.max_lag = self.max_lag.max(pb.saturating_sub(fb));
        assert!(ps < MAX_STALL, "the producer stopped authoring at #{pb}");
        assert!(
            fs < MAX_STALL,
            "the follower stopped importing at #{fb} (producer at #{pb})"
        );
        let state = p.rpc("system_networkState", json!([]));
        self.note_state(&state, ids);
        self.checks += 1;
    }

    fn note_state(&mut self, state: &Value, ids: &Mutex<Vec<(&'static str, String)>>) {
        self.banned = self.banned.max(state["bannedPeers"].as_u64().unwrap_or(0));
        for (name, id) in ids.lock().unwrap().iter() {
            if let Some(r) = state["connectedPeers"][id]["reputation"].as_i64() {
                let e = self.reputations.entry(format!("{name} {id}")).or_insert(0);
                *e = (*e).min(r);
            }
        }
    }
}

#[test]
fn garbage_and_oversized_messages_do_not_stop_a_node() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let spec = fast_local_spec(dir.path(), 100);
    let spec = spec.to_str().unwrap();
    let (pdir, fdir) = (dir.path().join("producer"), dir.path().join("follower"));
    std::fs::create_dir_all(&pdir).unwrap();
    std::fs::create_dir_all(&fdir).unwrap();
    let _logs = LogsOnPanic(vec![pdir.clone(), fdir.clone()]);

    let mut args = vec!["--chain", spec, "--validator"];
    args.extend(NET);
    let mut p = Node::start_with(&pdir, &args);
    let p_addr = p.p2p_addr();
    let p_id = p_addr.rsplit('/').next().unwrap().to_string();
    let mut args = vec!["--chain", spec];
    args.extend(NET);
    args.extend(["--bootnodes", p_addr.as_str()]);
    let mut f = Node::start_with(&fdir, &args);

    let genesis_hex = p.rpc("chain_getBlockHash", json!([0]));
    let genesis = H256(
        hex::decode(genesis_hex.as_str().unwrap().trim_start_matches("0x"))
            .unwrap()
            .try_into()
            .expect("32-byte genesis hash"),
    );
    let names = Names::for_genesis(&genesis);
    f.wait_until("the follower importing", Duration::from_secs(20), |n| {
        n.best().0 >= 3
    });

    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    println!("garbage seed {seed:#x}");
    let before = p.best().0;
    let attack_started = Instant::now();
    let stop = AtomicBool::new(false);
    let ids = Mutex::new(Vec::new());
    let mut seen = Observed::default();
    let report = std::thread::scope(|s| {
        let attacker = s.spawn(|| attack(&p_addr, &names, genesis, seed, &stop, &ids));
        let _stop = StopOnDrop(&stop);
        while !attacker.is_finished() {
            assert!(
                attack_started.elapsed() < Duration::from_secs(50),
                "the attack did not end within 50 s"
            );
            seen.check(&mut p, &mut f, &ids);
            std::thread::sleep(Duration::from_millis(250));
        }
        match attacker.join() {
            Ok(r) => r,
            Err(e) => std::panic::resume_unwind(e),
        }
    });
    let attack_took = attack_started.elapsed();
    seen.check(&mut p, &mut f, &ids);

    // The producer kept authoring: at least a block a second, on average.
    let after = p.best().0;
    assert!(
        after >= before + attack_took.as_secs(),
        "the producer authored {} blocks in {attack_took:?}",
        after - before
    );
    // The follower keeps importing and agrees with the producer.
    f.wait_until(
        "the follower to pass the producer's best",
        Duration::from_secs(20),
        |n| n.best().0 >= after + 3,
    );
    let (ph, fh) = (p.hash_at(after), f.hash_at(after));
    assert!(
        ph.is_some() && ph == fh,
        "#{after}: producer {ph:?}, follower {fh:?}"
    );
    let f_state = f.rpc("system_networkState", json!([]));
    assert!(
        f_state["connectedPeers"].get(&p_id).is_some(),
        "the follower lost the producer: {f_state}"
    );

    // The garbage peers were punished.
    let state = p.rpc("system_networkState", json!([]));
    seen.note_state(&state, &ids);
    assert!(
        seen.banned >= 1 || seen.reputations.values().any(|r| *r < 0),
        "no garbage peer was banned or lost reputation: {state}"
    );
    assert!(p.child.try_wait().unwrap().is_none(), "the producer exited");

    for line in &report {
        println!("{line}");
    }
    println!(
        "producer #{before} -> #{after} during the {attack_took:?} attack ({} checks; longest stall \
         {:?}); follower reached #{} with the same hash (longest stall {:?}, most lag {} blocks)",
        seen.checks,
        seen.p_longest_stall,
        f.best().0,
        seen.f_longest_stall,
        seen.max_lag
    );
    println!(
        "producer's view: bannedPeers up to {}, garbage peers' lowest reputations {:?}, \
         connected now: {}",
        seen.banned,
        seen.reputations,
        state["connectedPeers"]
            .as_object()
            .map(|m| m.len())
            .unwrap_or(0)
    );
    for (who, dir) in [("producer", &pdir), ("follower", &fdir)] {
        let log = node_log(dir);
        assert!(
            !log.contains("panicked"),
            "the {who} panicked (a task or thread died):\n{log}"
        );
        if who == "producer" {
            for (name, id) in ids.lock().unwrap().iter() {
                let n = log.lines().filter(|l| l.contains(id.as_str())).count();
                let banned = log
                    .lines()
                    .any(|l| l.contains("banning") && l.contains(id.as_str()));
                println!("producer log: {n} lines about {name}, banned: {banned}");
            }
        }
        println!("{who} log, warnings and reports by kind:");
        for (kind, n) in log_summary(&log) {
            println!("  {n:>4} x {kind}");
        }
    }
    println!("total {:?}", started.elapsed());
}

/// The log of the node whose base path is `dir`.
fn node_log(dir: &std::path::Path) -> String {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "log"))
        .and_then(|e| std::fs::read_to_string(e.path()).ok())
        .unwrap_or_default()
}

/// Warnings, errors and peer reports of a log, counted by message with
/// peer ids, numbers and details after a colon removed.
fn log_summary(log: &str) -> Vec<(String, usize)> {
    let mut kinds: HashMap<String, usize> = HashMap::new();
    for line in log.lines() {
        let plain: String = strip_ansi(line);
        let interesting = plain.contains(" WARN ")
            || plain.contains(" ERROR ")
            || (plain.contains("qstack::network") && plain.contains("peer 12D3"));
        if !interesting {
            continue;
        }
        let msg = plain.split_once("qstack").map_or(plain.as_str(), |x| x.1);
        let words: Vec<String> = msg
            .split_whitespace()
            .map(|w| {
                if w.starts_with("12D3") {
                    "<peer>".into()
                } else if w
                    .trim_start_matches('#')
                    .chars()
                    .all(|c| c.is_ascii_digit())
                {
                    "<n>".into()
                } else {
                    w.to_string()
                }
            })
            .collect();
        let kind: String = words.join(" ").chars().take(110).collect();
        *kinds.entry(kind).or_default() += 1;
    }
    let mut v: Vec<_> = kinds.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
