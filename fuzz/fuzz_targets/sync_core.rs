//! The block-sync core driven by an arbitrary script of inputs: peers come,
//! go, claim bests and announce; requests are answered honestly, with forks,
//! broken links, wrong numbers, missing bodies, too many or too few blocks,
//! or fail; import batches are imported by a model chain (a block imports
//! only on a known parent; the script may fail any block); the local best
//! moves; time passes. Two chains are used: from genesis, and one ending at
//! `u32::MAX` (saturation at the top of the number range).
//!
//! Oracle: no panic; `current_block` never decreases; `queued_blocks` never
//! exceeds `max_blocks_ahead + blocks_per_request`; every `Import` batch is
//! non-empty, has bodies, is contiguous (consecutive numbers, linked parents)
//! and continues the previous batch of the same step, and the first starts
//! no later than just after the queue; every request asks for
//! 1..=`blocks_per_request` full blocks ascending by number.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use qstack_core::H256;
use qstack_network::protocol::{fields, BlockData, BlockRequest, Direction, FromBlock};
use qstack_network::sync::{ImportResult, SyncAction, SyncConfig, SyncCore, SyncInput};
use qstack_runtime_primitives::{Digest, Header, OpaqueExtrinsic};
use std::collections::{BTreeSet, VecDeque};
use std::sync::OnceLock;

const CHAIN_LEN: u32 = 160;
const MAX_OPS: usize = 400;
const PEERS: u8 = 5;

/// `CHAIN_LEN + 1` blocks numbered from `base`; block 0 is the same for every
/// `salt`, so chains of different salts fork right after it.
fn chain(base: u32, salt: u8) -> Vec<BlockData> {
    let mut out: Vec<BlockData> = Vec::new();
    let mut parent = H256([0; 32]);
    for i in 0..=CHAIN_LEN {
        let header = Header {
            parent_hash: parent,
            number: base + i,
            state_root: H256([if i == 0 { 0 } else { salt }; 32]),
            extrinsics_root: H256([1; 32]),
            digest: Digest::default(),
        };
        parent = header.hash();
        out.push(BlockData {
            header,
            body: Some(vec![OpaqueExtrinsic::from_encoded(vec![4, 1, 2, 3, 4])]),
            justification: None,
        });
    }
    out
}

struct Chains {
    main: Vec<BlockData>,
    fork: Vec<BlockData>,
    main_hashes: Vec<H256>,
    fork_hashes: Vec<H256>,
}

fn chains(high: bool) -> &'static Chains {
    static LOW: OnceLock<Chains> = OnceLock::new();
    static HIGH: OnceLock<Chains> = OnceLock::new();
    let (cell, base) = if high {
        (&HIGH, u32::MAX - CHAIN_LEN)
    } else {
        (&LOW, 0)
    };
    cell.get_or_init(|| {
        let (main, fork) = (chain(base, 0), chain(base, 7));
        let hashes = |c: &[BlockData]| c.iter().map(|b| b.header.hash()).collect();
        Chains {
            main_hashes: hashes(&main),
            fork_hashes: hashes(&fork),
            main,
            fork,
        }
    })
}

fn serve(c: &[BlockData], start: u32, max: u32) -> Vec<BlockData> {
    c.iter()
        .skip_while(|b| b.header.number < start)
        .take(max as usize)
        .cloned()
        .collect()
}

/// `SYNC_CORE_TRACE=1` prints each input and action (to read a crash).
fn tracing() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("SYNC_CORE_TRACE").is_some())
}

fn range(blocks: &[BlockData]) -> String {
    match (blocks.first(), blocks.last()) {
        (Some(f), Some(l)) => format!(
            "#{}..=#{} ({})",
            f.header.number,
            l.header.number,
            blocks.len()
        ),
        _ => "none".into(),
    }
}

fn brief(input: &SyncInput<u8>) -> String {
    match input {
        SyncInput::Response { id, blocks } => {
            format!("Response {{ id: {id}, blocks: {} }}", range(blocks))
        }
        SyncInput::Imported {
            generation,
            peer,
            results,
        } => format!(
            "Imported {{ generation: {generation}, peer: {peer}, results: {:?} }}",
            results
                .iter()
                .map(|(n, _, r)| (*n, r.clone()))
                .collect::<Vec<_>>()
        ),
        other => format!("{other:?}"),
    }
}

fn brief_action(a: &SyncAction<u8>) -> String {
    match a {
        SyncAction::Import {
            generation,
            peer,
            blocks,
        } => {
            format!(
                "Import {{ generation: {generation}, peer: {peer}, blocks: {} }}",
                range(blocks)
            )
        }
        other => format!("{other:?}"),
    }
}

struct Harness {
    c: &'static Chains,
    core: SyncCore<u8>,
    cfg: SyncConfig,
    now: u64,
    /// Hashes the model chain has imported.
    known: BTreeSet<H256>,
    requests: Vec<(u8, u64, BlockRequest)>,
    imports: VecDeque<(u64, u8, Vec<BlockData>)>,
    last_current: u32,
}

impl Harness {
    fn queued_end(&self) -> u32 {
        let st = self.core.status();
        st.current_block.saturating_add(st.queued_blocks)
    }

    fn step(&mut self, input: SyncInput<u8>) {
        let before_end = self.queued_end();
        let expect_start = match &input {
            SyncInput::LocalBest { number, .. } if *number > before_end => *number,
            _ => before_end,
        }
        .saturating_add(1);
        let trace = tracing();
        if trace {
            eprintln!("{} {:?} <- {}", self.now, self.core.status(), brief(&input));
        }
        let actions = self.core.handle(self.now, input);
        let st = self.core.status();
        if trace {
            for a in &actions {
                eprintln!("    -> {}", brief_action(a));
            }
        }
        assert!(
            st.current_block >= self.last_current,
            "current_block went back from {} to {}",
            self.last_current,
            st.current_block
        );
        self.last_current = st.current_block;
        let bound = self.cfg.max_blocks_ahead + self.cfg.blocks_per_request;
        assert!(
            st.queued_blocks <= bound,
            "queued_blocks {} > max_blocks_ahead + blocks_per_request = {bound}",
            st.queued_blocks
        );
        let mut next: Option<(u32, H256)> = None;
        let mut last_end = None;
        for a in actions {
            match a {
                SyncAction::Request { peer, id, request } => {
                    assert!(
                        request.max >= 1 && request.max <= self.cfg.blocks_per_request,
                        "request for {} blocks",
                        request.max
                    );
                    assert_eq!(request.fields, fields::FULL);
                    assert_eq!(request.direction, Direction::Ascending);
                    assert!(matches!(request.from, FromBlock::Number(n) if n >= 1));
                    if self.requests.len() >= 64 {
                        self.requests.remove(0);
                    }
                    self.requests.push((peer, id, request));
                }
                SyncAction::Import {
                    generation,
                    peer,
                    blocks,
                } => {
                    assert!(!blocks.is_empty(), "empty import batch");
                    let first = &blocks[0].header;
                    match next {
                        Some((n, h)) => {
                            assert_eq!(first.number, n, "batch does not continue the last one");
                            assert_eq!(first.parent_hash, h, "batch does not link to the last one");
                        }
                        // Normally exactly `expect_start`; earlier if a
                        // stale batch imported past the queue (then
                        // `current_block` is ahead of the queue's end).
                        None => assert!(
                            first.number <= expect_start,
                            "first batch #{} starts after #{expect_start}",
                            first.number
                        ),
                    }
                    for w in blocks.windows(2) {
                        assert_eq!(
                            w[1].header.number,
                            w[0].header.number.wrapping_add(1),
                            "import batch numbers not consecutive"
                        );
                        assert_eq!(
                            w[1].header.parent_hash,
                            w[0].header.hash(),
                            "import batch parents not linked"
                        );
                    }
                    assert!(
                        blocks.iter().all(|b| b.body.is_some()),
                        "import without body"
                    );
                    let last = &blocks[blocks.len() - 1].header;
                    next = Some((last.number.wrapping_add(1), last.hash()));
                    last_end = Some(last.number);
                    self.imports.push_back((generation, peer, blocks));
                }
                SyncAction::Report { .. } => {}
            }
        }
        if let Some(end) = last_end {
            assert!(
                self.queued_end() >= end,
                "status is behind the last batch #{end}"
            );
        }
    }

    /// A block of either chain: (its chain, its index).
    fn block(
        &self,
        u: &mut Unstructured,
    ) -> Result<(&'static [BlockData], &'static [H256], usize)> {
        let c: &'static Chains = self.c;
        let i = u.int_in_range(0..=CHAIN_LEN)? as usize;
        Ok(if u.ratio(1, 4)? {
            (&c.fork, &c.fork_hashes, i)
        } else {
            (&c.main, &c.main_hashes, i)
        })
    }

    fn number(&self, u: &mut Unstructured) -> Result<u32> {
        Ok(if u.ratio(1, 8)? {
            u.arbitrary()?
        } else {
            self.c.main[0].header.number + u.int_in_range(0..=CHAIN_LEN)?
        })
    }

    fn hash(&self, u: &mut Unstructured, number: u32) -> Result<H256> {
        let base = self.c.main[0].header.number;
        let i = number.wrapping_sub(base) as usize;
        Ok(match u.int_in_range(0..=2u8)? {
            0 => self.c.main_hashes.get(i).copied().unwrap_or_default(),
            1 => self.c.fork_hashes.get(i).copied().unwrap_or_default(),
            _ => H256(u.arbitrary()?),
        })
    }

    fn response(&self, u: &mut Unstructured, req: &BlockRequest) -> Result<Vec<BlockData>> {
        let FromBlock::Number(start) = req.from else {
            return Ok(vec![]);
        };
        let (main, fork) = (&self.c.main, &self.c.fork);
        let mut blocks = serve(main, start, req.max);
        let n = blocks.len();
        match u.int_in_range(0..=13u8)? {
            0..=3 => {}
            4 => blocks = serve(fork, start, req.max),
            5 => blocks.truncate(u.int_in_range(0..=n)?),
            6 => blocks.clear(),
            7 => blocks = serve(main, start, req.max.saturating_add(1)),
            8 if n > 0 => {
                // Switch to the fork part way.
                let i = u.choose_index(n)?;
                let rest = serve(fork, blocks[i].header.number, req.max);
                blocks.truncate(i);
                blocks.extend(rest.into_iter().take(n - i));
            }
            9 if n > 0 => {
                let i = u.choose_index(n)?;
                blocks[i].header.number = u.arbitrary()?;
            }
            10 if n > 0 => {
                let i = u.choose_index(n)?;
                blocks[i].body = None;
            }
            11 if n > 0 => {
                let (i, j) = (u.choose_index(n)?, u.choose_index(n)?);
                blocks[i] = blocks[j].clone();
            }
            12 => blocks = serve(main, start.saturating_add(1), req.max),
            13 if n > 0 => {
                let i = u.choose_index(n)?;
                blocks[i]
                    .header
                    .digest
                    .logs
                    .push(qstack_runtime_primitives::DigestItem::Other(vec![
                        u.arbitrary()?
                    ]));
            }
            _ => {}
        }
        Ok(blocks)
    }

    /// The model chain imports a batch: a block imports only on a known
    /// parent; the script may make any block bad or fail.
    fn import(
        &mut self,
        u: &mut Unstructured,
        blocks: &[BlockData],
    ) -> Result<Vec<(u32, H256, ImportResult)>> {
        let mut results = Vec::new();
        for b in blocks {
            let hash = b.header.hash();
            let result = match u.int_in_range(0..=15u8)? {
                _ if self.known.contains(&hash) => ImportResult::Imported,
                0 => ImportResult::Bad("fuzz: bad block".into()),
                1 => ImportResult::Failed("fuzz: database".into()),
                _ if self.known.contains(&b.header.parent_hash) => {
                    self.known.insert(hash);
                    ImportResult::Imported
                }
                _ => ImportResult::UnknownParent,
            };
            let stop = result != ImportResult::Imported;
            results.push((b.header.number, hash, result));
            if stop {
                break;
            }
        }
        Ok(results)
    }

    fn op(&mut self, u: &mut Unstructured) -> Result<()> {
        self.now = self.now.saturating_add(u64::from(u.arbitrary::<u8>()?));
        let peer = u.int_in_range(0..=PEERS - 1)?;
        let input = match u.int_in_range(0..=9u8)? {
            0 | 1 => {
                let best_number = self.number(u)?;
                let best_hash = self.hash(u, best_number)?;
                SyncInput::PeerStatus {
                    peer,
                    best_number,
                    best_hash,
                }
            }
            2 => {
                let number = self.number(u)?;
                let hash = self.hash(u, number)?;
                SyncInput::Announced { peer, number, hash }
            }
            3 => SyncInput::PeerGone(peer),
            4 | 5 => {
                if self.requests.is_empty() || u.ratio(1, 32)? {
                    SyncInput::Response {
                        id: u.arbitrary()?,
                        blocks: {
                            let (c, _, i) = self.block(u)?;
                            vec![c[i].clone()]
                        },
                    }
                } else {
                    let i = u.choose_index(self.requests.len())?;
                    let (_, id, req) = self.requests.remove(i);
                    let blocks = self.response(u, &req)?;
                    SyncInput::Response { id, blocks }
                }
            }
            6 => {
                let id = if self.requests.is_empty() || u.ratio(1, 16)? {
                    u.arbitrary()?
                } else {
                    let i = u.choose_index(self.requests.len())?;
                    self.requests.remove(i).1
                };
                SyncInput::RequestFailed { id }
            }
            7 => {
                // The shell imports batches in order.
                let Some((generation, peer, blocks)) = self.imports.pop_front() else {
                    return Ok(());
                };
                let results = self.import(u, &blocks)?;
                SyncInput::Imported {
                    generation,
                    peer,
                    results,
                }
            }
            8 => {
                // Authored locally or imported via an announcement (with its
                // ancestors).
                let (c, hashes, i) = self.block(u)?;
                self.known.extend(&hashes[..=i]);
                SyncInput::LocalBest {
                    number: c[i].header.number,
                    hash: hashes[i],
                }
            }
            _ => {
                self.now = self.now.saturating_add(u64::from(u.arbitrary::<u16>()?));
                SyncInput::Tick
            }
        };
        self.step(input);
        Ok(())
    }
}

fn run(u: &mut Unstructured) -> Result<()> {
    let cfg = SyncConfig {
        blocks_per_request: u.int_in_range(1..=16)?,
        max_blocks_ahead: u.int_in_range(1..=64)?,
        max_bytes_ahead: *u.choose(&[0usize, 300, 3_000, 30_000, usize::MAX])?,
        request_timeout: u.int_in_range(1..=2_000)?,
        major_sync_gap: u.int_in_range(0..=16)?,
    };
    let c = chains(u.ratio(1, 4)?);
    let start = u.int_in_range(0..=CHAIN_LEN)? as usize;
    let best = &c.main[start].header;
    let mut h = Harness {
        c,
        core: SyncCore::new(cfg.clone(), best.number, c.main_hashes[start]),
        cfg,
        now: 0,
        known: c.main_hashes[..=start].iter().copied().collect(),
        requests: Vec::new(),
        imports: VecDeque::new(),
        last_current: best.number,
    };
    for _ in 0..MAX_OPS {
        if u.is_empty() {
            break;
        }
        h.op(u)?;
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
