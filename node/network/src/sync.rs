//! The block-sync core: a pure state machine. It learns peers' best blocks
//! (status exchanges, announcements), splits the missing numbers into ranges,
//! asks idle peers for them in parallel, checks every response (numbers,
//! hashes, parent links), hands contiguous blocks to import in order, and
//! reports peers whose responses or blocks are bad. It never touches a socket
//! or a clock: the shell feeds it [`SyncInput`]s and carries out its
//! [`SyncAction`]s.

use crate::protocol::{fields, BlockData, BlockRequest, Direction, FromBlock};
use crate::reputation::{change, Millis};
use qstack_core::H256;
use std::collections::BTreeMap;

/// How long a range that did not continue our chain waits before it is
/// asked again (ms).
const FORK_BACKOFF: Millis = 1000;

/// Tunables.
#[derive(Clone, Debug)]
pub struct SyncConfig {
    /// Blocks asked for per request.
    pub blocks_per_request: u32,
    /// Most blocks downloaded or importing ahead of the last imported one.
    pub max_blocks_ahead: u32,
    /// Most bytes downloaded and not yet imported.
    pub max_bytes_ahead: usize,
    /// A request unanswered this long is given up.
    pub request_timeout: Millis,
    /// Behind the highest peer by more than this counts as "major syncing".
    pub major_sync_gap: u32,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            blocks_per_request: 64,
            max_blocks_ahead: 1024,
            max_bytes_ahead: 256 * 1024 * 1024,
            request_timeout: 20_000,
            major_sync_gap: 8,
        }
    }
}

/// How one block of an import batch ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportResult {
    /// Imported (or already known).
    Imported,
    /// Its parent is unknown (our view of the chain was stale).
    UnknownParent,
    /// The block is invalid: the peer that sent it is at fault.
    Bad(String),
    /// Our side failed (database); nobody is at fault.
    Failed(String),
}

/// What the shell tells the core.
#[derive(Clone, Debug)]
pub enum SyncInput<P> {
    /// Time passed (check timeouts, assign work).
    Tick,
    /// A peer's status (after connecting, or refreshed).
    PeerStatus {
        /// The peer.
        peer: P,
        /// Its best number.
        best_number: u32,
        /// Its best hash.
        best_hash: H256,
    },
    /// A peer announced a block (its header's number and hash).
    Announced {
        /// The peer.
        peer: P,
        /// Block number.
        number: u32,
        /// Block hash.
        hash: H256,
    },
    /// A peer left.
    PeerGone(P),
    /// Blocks answered a request.
    Response {
        /// Request id from [`SyncAction::Request`].
        id: u64,
        /// The blocks.
        blocks: Vec<BlockData>,
    },
    /// A request failed (timeout, refused, closed, undecodable answer).
    RequestFailed {
        /// Request id.
        id: u64,
    },
    /// One batch of [`SyncAction::Import`] was processed.
    Imported {
        /// The batch's generation.
        generation: u64,
        /// The peer it came from.
        peer: P,
        /// Outcome per block, in order; processing stops at the first failure.
        results: Vec<(u32, H256, ImportResult)>,
    },
    /// The chain's best block changed outside sync (authored locally, or
    /// imported from an announcement path).
    LocalBest {
        /// Number.
        number: u32,
        /// Hash.
        hash: H256,
    },
}

/// What the core wants done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncAction<P> {
    /// Send a block request to a peer.
    Request {
        /// The peer.
        peer: P,
        /// Id echoed in the answer.
        id: u64,
        /// The request.
        request: BlockRequest,
    },
    /// Import these blocks in order, then answer with [`SyncInput::Imported`].
    Import {
        /// Echo back.
        generation: u64,
        /// Who sent them.
        peer: P,
        /// The blocks (each has a header and body).
        blocks: Vec<BlockData>,
    },
    /// Change a peer's reputation.
    Report {
        /// The peer.
        peer: P,
        /// Score change (see [`change`]).
        delta: i32,
        /// Why (for the log).
        reason: String,
    },
}

/// Numbers for `system_syncState`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncStatus {
    /// Best block when the node started.
    pub starting_block: u32,
    /// Best imported block.
    pub current_block: u32,
    /// Highest block any peer has (or ours).
    pub highest_block: u32,
    /// Far enough behind to count as major syncing.
    pub major_syncing: bool,
    /// Blocks downloaded or importing, not yet imported.
    pub queued_blocks: u32,
}

#[derive(Clone, Debug)]
struct PeerState {
    best_number: u32,
    best_hash: H256,
    busy: bool,
}

/// A range to ask again: not before `not_before`, and preferably not of the
/// peer that just failed it.
#[derive(Clone, Debug)]
struct Retry<P> {
    len: u32,
    not_before: Millis,
    avoid: Option<P>,
}

#[derive(Clone, Debug)]
struct InFlight<P> {
    peer: P,
    start: u32,
    len: u32,
    generation: u64,
    sent_at: Millis,
}

/// The sync state machine over peers of type `P`.
#[derive(Debug)]
pub struct SyncCore<P> {
    cfg: SyncConfig,
    peers: BTreeMap<P, PeerState>,
    /// Last block known imported.
    best: (u32, H256),
    starting: u32,
    /// Last block handed to import (>= best).
    queued: (u32, H256),
    /// Next number never asked for.
    cursor: u32,
    /// Ranges to ask again.
    retry: BTreeMap<u32, Retry<P>>,
    in_flight: BTreeMap<u64, InFlight<P>>,
    /// Downloaded ranges waiting for their turn (start → sender, blocks).
    downloaded: BTreeMap<u32, (P, Vec<BlockData>)>,
    downloaded_bytes: usize,
    /// Bumped whenever queued work is thrown away; stale answers are ignored.
    generation: u64,
    next_id: u64,
    now: Millis,
}

fn block_bytes(b: &BlockData) -> usize {
    b.body
        .as_ref()
        .map(|xs| xs.iter().map(|x| x.0.len()).sum::<usize>())
        .unwrap_or(0)
        + b.justification.as_ref().map(Vec::len).unwrap_or(0)
        + 256
}

impl<P: Clone + Ord + std::fmt::Debug> SyncCore<P> {
    /// A core whose chain's best block is `best`.
    pub fn new(cfg: SyncConfig, best_number: u32, best_hash: H256) -> Self {
        SyncCore {
            cfg,
            peers: BTreeMap::new(),
            best: (best_number, best_hash),
            starting: best_number,
            queued: (best_number, best_hash),
            cursor: best_number.saturating_add(1),
            retry: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            downloaded: BTreeMap::new(),
            downloaded_bytes: 0,
            generation: 0,
            next_id: 0,
            now: 0,
        }
    }

    /// Where sync stands.
    pub fn status(&self) -> SyncStatus {
        let highest = self
            .peers
            .values()
            .map(|p| p.best_number)
            .max()
            .unwrap_or(0)
            .max(self.best.0);
        SyncStatus {
            starting_block: self.starting,
            current_block: self.best.0,
            highest_block: highest,
            major_syncing: highest > self.best.0.saturating_add(self.cfg.major_sync_gap),
            queued_blocks: self.queued.0.saturating_sub(self.best.0),
        }
    }

    /// Peers and their best blocks.
    pub fn peer_bests(&self) -> Vec<(P, u32, H256)> {
        self.peers
            .iter()
            .map(|(p, s)| (p.clone(), s.best_number, s.best_hash))
            .collect()
    }

    /// Handles one input at `now`.
    pub fn handle(&mut self, now: Millis, input: SyncInput<P>) -> Vec<SyncAction<P>> {
        self.now = now;
        let mut out = Vec::new();
        match input {
            SyncInput::Tick => self.expire(&mut out),
            SyncInput::PeerStatus {
                peer,
                best_number,
                best_hash,
            } => {
                let p = self.peers.entry(peer).or_insert(PeerState {
                    best_number,
                    best_hash,
                    busy: false,
                });
                p.best_number = best_number;
                p.best_hash = best_hash;
            }
            SyncInput::Announced { peer, number, hash } => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    if number >= p.best_number {
                        p.best_number = number;
                        p.best_hash = hash;
                    }
                }
            }
            SyncInput::PeerGone(peer) => {
                self.peers.remove(&peer);
                let ids: Vec<u64> = self
                    .in_flight
                    .iter()
                    .filter(|(_, f)| f.peer == peer)
                    .map(|(id, _)| *id)
                    .collect();
                for id in ids {
                    self.give_up(id);
                }
            }
            SyncInput::Response { id, blocks } => self.on_response(id, blocks, &mut out),
            SyncInput::RequestFailed { id } => {
                if let Some(f) = self.give_up(id) {
                    out.push(SyncAction::Report {
                        peer: f.peer,
                        delta: change::REQUEST_FAILED,
                        reason: "block request failed".into(),
                    });
                }
            }
            SyncInput::Imported {
                generation,
                peer,
                results,
            } => self.on_imported(generation, peer, results, &mut out),
            SyncInput::LocalBest { number, hash } => {
                if number > self.best.0 {
                    self.best = (number, hash);
                }
                if number > self.queued.0 {
                    self.queued = (number, hash);
                    self.cursor = self.cursor.max(number.saturating_add(1));
                    self.retry
                        .retain(|s, r| s.saturating_add(r.len) > number.saturating_add(1));
                }
            }
        }
        self.drain(&mut out);
        self.assign(&mut out);
        out
    }

    fn expire(&mut self, out: &mut Vec<SyncAction<P>>) {
        let deadline = self.now.saturating_sub(self.cfg.request_timeout);
        let late: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, f)| f.sent_at < deadline)
            .map(|(id, _)| *id)
            .collect();
        for id in late {
            if let Some(f) = self.give_up(id) {
                out.push(SyncAction::Report {
                    peer: f.peer,
                    delta: change::REQUEST_FAILED,
                    reason: "block request timed out".into(),
                });
            }
        }
    }

    /// Forgets a request, putting its range back to be asked again.
    fn give_up(&mut self, id: u64) -> Option<InFlight<P>> {
        let f = self.in_flight.remove(&id)?;
        if let Some(p) = self.peers.get_mut(&f.peer) {
            p.busy = false;
        }
        if f.generation == self.generation {
            self.requeue(f.start, f.len, Some(f.peer.clone()), 0);
        }
        Some(f)
    }

    /// Puts a range back to be asked again, after `delay` ms and preferably
    /// of another peer than `avoid`.
    fn requeue(&mut self, start: u32, len: u32, avoid: Option<P>, delay: Millis) {
        if len > 0 && start.saturating_add(len) > self.queued.0.saturating_add(1) {
            let from = start.max(self.queued.0.saturating_add(1));
            let len = start.saturating_add(len).saturating_sub(from);
            if len > 0 {
                self.retry.insert(
                    from,
                    Retry {
                        len,
                        not_before: self.now.saturating_add(delay),
                        avoid,
                    },
                );
            }
        }
    }

    fn on_response(&mut self, id: u64, blocks: Vec<BlockData>, out: &mut Vec<SyncAction<P>>) {
        let Some(f) = self.in_flight.remove(&id) else {
            return; // Unknown or already given up.
        };
        if let Some(p) = self.peers.get_mut(&f.peer) {
            p.busy = false;
        }
        if f.generation != self.generation {
            return;
        }
        if blocks.is_empty() {
            // The peer does not have it (its best moved back, or it lied).
            if let Some(p) = self.peers.get_mut(&f.peer) {
                p.best_number = p.best_number.min(f.start.saturating_sub(1));
            }
            self.requeue(f.start, f.len, Some(f.peer.clone()), 0);
            return;
        }
        if let Err(why) = check_range(&blocks, f.start, f.len) {
            self.requeue(f.start, f.len, Some(f.peer.clone()), 0);
            out.push(SyncAction::Report {
                peer: f.peer,
                delta: change::BAD_RESPONSE,
                reason: why,
            });
            return;
        }
        let got = blocks.len() as u32;
        if got < f.len {
            self.requeue(f.start.saturating_add(got), f.len - got, None, 0);
        }
        if f.start.saturating_add(got) > self.queued.0.saturating_add(1) {
            self.downloaded_bytes = self
                .downloaded_bytes
                .saturating_add(blocks.iter().map(block_bytes).sum());
            self.downloaded.insert(f.start, (f.peer, blocks));
        }
    }

    /// Hands every range that continues the queued chain to import.
    fn drain(&mut self, out: &mut Vec<SyncAction<P>>) {
        while let Some(entry) = self.downloaded.first_entry() {
            let next = self.queued.0.saturating_add(1);
            let start = *entry.key();
            if start > next {
                break;
            }
            let (peer, mut blocks) = entry.remove();
            self.downloaded_bytes = self
                .downloaded_bytes
                .saturating_sub(blocks.iter().map(block_bytes).sum());
            if start < next {
                // Partly overtaken (the chain moved on): keep the rest.
                let skip = (next - start) as usize;
                if blocks.len() > skip {
                    let rest = blocks.split_off(skip);
                    self.downloaded_bytes = self
                        .downloaded_bytes
                        .saturating_add(rest.iter().map(block_bytes).sum());
                    self.downloaded.insert(next, (peer, rest));
                }
                continue;
            }
            let (Some(first), Some(last)) = (blocks.first(), blocks.last()) else {
                continue;
            };
            if first.header.parent_hash != self.queued.1 {
                // Another fork than ours (no fault by itself): ask someone
                // else, and not at once, so two forks never ping-pong.
                self.requeue(start, blocks.len() as u32, Some(peer), FORK_BACKOFF);
                break;
            }
            self.queued = (last.header.number, last.header.hash());
            out.push(SyncAction::Import {
                generation: self.generation,
                peer,
                blocks,
            });
        }
    }

    fn on_imported(
        &mut self,
        generation: u64,
        peer: P,
        results: Vec<(u32, H256, ImportResult)>,
        out: &mut Vec<SyncAction<P>>,
    ) {
        let mut good = 0;
        for (number, hash, result) in results {
            match result {
                ImportResult::Imported => {
                    good += 1;
                    if number > self.best.0 {
                        self.best = (number, hash);
                    }
                }
                failed => {
                    if generation != self.generation {
                        return;
                    }
                    if let ImportResult::Bad(why) = &failed {
                        out.push(SyncAction::Report {
                            peer: peer.clone(),
                            delta: change::BAD_BLOCK,
                            reason: format!("block #{number} ({hash}) is invalid: {why}"),
                        });
                    }
                    self.restart();
                    return;
                }
            }
        }
        if good > 0 {
            out.push(SyncAction::Report {
                peer,
                delta: change::GOOD_BLOCKS,
                reason: "blocks imported".into(),
            });
        }
    }

    /// Throws away everything queued above the last imported block.
    fn restart(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        self.queued = self.best;
        self.cursor = self.best.0.saturating_add(1);
        self.retry.clear();
        self.downloaded.clear();
        self.downloaded_bytes = 0;
    }

    /// Gives every idle peer a range it has.
    fn assign(&mut self, out: &mut Vec<SyncAction<P>>) {
        let idle: Vec<P> = self
            .peers
            .iter()
            .filter(|(_, s)| !s.busy)
            .map(|(p, _)| p.clone())
            .collect();
        for peer in idle {
            let Some(best) = self.peers.get(&peer).map(|s| s.best_number) else {
                continue;
            };
            let Some((start, len)) = self.next_range(&peer, best) else {
                continue;
            };
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            self.in_flight.insert(
                id,
                InFlight {
                    peer: peer.clone(),
                    start,
                    len,
                    generation: self.generation,
                    sent_at: self.now,
                },
            );
            if let Some(s) = self.peers.get_mut(&peer) {
                s.busy = true;
            }
            out.push(SyncAction::Request {
                peer,
                id,
                request: BlockRequest {
                    fields: fields::FULL,
                    from: FromBlock::Number(start),
                    direction: Direction::Ascending,
                    max: len,
                },
            });
        }
    }

    /// The lowest range to ask `peer`, whose best is `best`, if any.
    fn next_range(&mut self, peer: &P, best: u32) -> Option<(u32, u32)> {
        let limit = self.best.0.saturating_add(self.cfg.max_blocks_ahead);
        let alone = self.peers.len() <= 1;
        // Retries first: they block import. A peer that just failed a range
        // gets it again only if it is our only peer.
        let now = self.now;
        let retry = self
            .retry
            .iter()
            .find(|(s, r)| {
                **s <= best && r.not_before <= now && (alone || r.avoid.as_ref() != Some(peer))
            })
            .map(|(s, r)| (*s, r.len));
        if let Some((start, len)) = retry {
            self.retry.remove(&start);
            let take = len.min(best - start + 1).min(self.cfg.blocks_per_request);
            if take < len {
                self.retry.insert(
                    start + take,
                    Retry {
                        len: len - take,
                        not_before: now,
                        avoid: None,
                    },
                );
            }
            return Some((start, take));
        }
        if self.cursor > best
            || self.cursor > limit
            || self.downloaded_bytes > self.cfg.max_bytes_ahead
        {
            return None;
        }
        let start = self.cursor;
        let len = (best - start + 1)
            .min(self.cfg.blocks_per_request)
            .min(limit - start + 1);
        self.cursor = start.saturating_add(len);
        Some((start, len))
    }
}

/// Checks a range answer: at most `len` blocks numbered from `start`, each
/// with a body, each the parent of the next.
fn check_range(blocks: &[BlockData], start: u32, len: u32) -> Result<(), String> {
    if blocks.len() as u64 > u64::from(len) {
        return Err(format!("{} blocks for a request of {len}", blocks.len()));
    }
    let mut parent: Option<H256> = None;
    for (i, b) in blocks.iter().enumerate() {
        let want = start.saturating_add(i as u32);
        if b.header.number != want {
            return Err(format!("block #{} where #{want} was due", b.header.number));
        }
        if b.body.is_none() {
            return Err(format!("block #{want} without the body asked for"));
        }
        if let Some(p) = parent {
            if b.header.parent_hash != p {
                return Err(format!("block #{want} does not link to #{}", want - 1));
            }
        }
        parent = Some(b.header.hash());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
