//! Peer reputation: a pure score book. Misbehaviour lowers a peer's score,
//! good service raises it a little, scores drift back towards zero over
//! time, and a score at or below [`BAN_THRESHOLD`] bans the peer for a while.
//! Time is an input.

use std::collections::HashMap;
use std::hash::Hash;

/// Milliseconds on the node's monotonic clock.
pub type Millis = u64;

/// A score at or below this bans the peer.
pub const BAN_THRESHOLD: i32 = -1000;
/// How long a ban lasts.
pub const BAN_MILLIS: Millis = 5 * 60 * 1000;
/// Score points recovered per second (towards zero, either way).
pub const DECAY_PER_SECOND: i32 = 5;

/// How much each kind of behaviour is worth.
pub mod change {
    /// A block that failed to import (bad signature, state root, …): two ban.
    pub const BAD_BLOCK: i32 = -600;
    /// A response that breaks the protocol (wrong numbers, broken links).
    pub const BAD_RESPONSE: i32 = -200;
    /// Bytes that do not decode, or over a size cap.
    pub const MALFORMED: i32 = -100;
    /// A transaction the runtime calls invalid.
    pub const INVALID_TRANSACTION: i32 = -20;
    /// A consensus message that failed the engine's check (forged or
    /// misattributed signature, unknown validator, wrong proposer, junk):
    /// honest peers forward only what passed their own check.
    pub const INVALID_CONSENSUS: i32 = -100;
    /// Too many requests.
    pub const RATE_LIMITED: i32 = -50;
    /// A request that failed or timed out.
    pub const REQUEST_FAILED: i32 = -30;
    /// A block or range that imported fine.
    pub const GOOD_BLOCKS: i32 = 10;
    /// Another chain (genesis differs): banned at once.
    pub const WRONG_CHAIN: i32 = -10_000;
}

/// What a report led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The peer stays.
    Keep,
    /// Ban the peer until this time (disconnect it, refuse it until then).
    Ban {
        /// When the ban ends.
        until: Millis,
    },
}

#[derive(Clone, Copy, Debug)]
struct Score {
    value: i32,
    at: Millis,
}

/// Scores and bans by peer.
#[derive(Debug)]
pub struct PeerBook<P> {
    scores: HashMap<P, Score>,
    banned: HashMap<P, Millis>,
}

impl<P> Default for PeerBook<P> {
    fn default() -> Self {
        PeerBook {
            scores: HashMap::new(),
            banned: HashMap::new(),
        }
    }
}

fn decayed(s: Score, now: Millis) -> i32 {
    let steps = (now.saturating_sub(s.at) / 1000).min(i32::MAX as u64) as i32;
    let d = steps.saturating_mul(DECAY_PER_SECOND);
    if s.value > 0 {
        (s.value - d).max(0)
    } else {
        (s.value + d).min(0)
    }
}

impl<P: Clone + Eq + Hash> PeerBook<P> {
    /// Changes `peer`'s score by `delta` at `now`.
    pub fn report(&mut self, peer: &P, delta: i32, now: Millis) -> Verdict {
        let s = self
            .scores
            .entry(peer.clone())
            .or_insert(Score { value: 0, at: now });
        let value = decayed(*s, now).saturating_add(delta).clamp(-20_000, 1_000);
        // Keep the decay clock's remainder so frequent reports do not freeze it.
        let whole = now.saturating_sub(s.at) / 1000 * 1000;
        *s = Score {
            value,
            at: s.at.saturating_add(whole),
        };
        if value <= BAN_THRESHOLD {
            let until = now.saturating_add(BAN_MILLIS);
            self.banned.insert(peer.clone(), until);
            self.scores.remove(peer);
            Verdict::Ban { until }
        } else {
            Verdict::Keep
        }
    }

    /// `peer`'s score now.
    pub fn score(&self, peer: &P, now: Millis) -> i32 {
        self.scores.get(peer).map(|s| decayed(*s, now)).unwrap_or(0)
    }

    /// Whether `peer` is banned at `now`.
    pub fn is_banned(&self, peer: &P, now: Millis) -> bool {
        self.banned.get(peer).is_some_and(|until| *until > now)
    }

    /// Forgets expired bans and scores back at zero (bounds memory).
    pub fn prune(&mut self, now: Millis) {
        self.banned.retain(|_, until| *until > now);
        self.scores.retain(|_, s| decayed(*s, now) != 0);
    }

    /// How many peers are banned now.
    pub fn banned_count(&self, now: Millis) -> usize {
        self.banned.values().filter(|u| **u > now).count()
    }
}

/// Per-peer token buckets: `rate` requests a second, bursts of twice that.
#[derive(Debug)]
pub struct RateLimiter<P> {
    rate: f64,
    buckets: HashMap<P, (f64, Millis)>,
}

impl<P: Clone + Eq + Hash> RateLimiter<P> {
    /// `per_second` requests a second per peer (at least one).
    pub fn new(per_second: u32) -> Self {
        RateLimiter {
            rate: f64::from(per_second.max(1)),
            buckets: HashMap::new(),
        }
    }

    /// Whether `peer` may make a request at `now` (and counts it).
    pub fn allow(&mut self, peer: &P, now: Millis) -> bool {
        let cap = self.rate * 2.0;
        let (tokens, at) = self.buckets.entry(peer.clone()).or_insert((cap, now));
        *tokens = (*tokens + (now.saturating_sub(*at) as f64) / 1000.0 * self.rate).min(cap);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Forgets a peer (it left).
    pub fn forget(&mut self, peer: &P) {
        self.buckets.remove(peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_allows_bursts_then_the_rate() {
        let mut rl = RateLimiter::new(10);
        // A burst of 20 at once, then refused.
        assert_eq!((0..25).filter(|_| rl.allow(&1u8, 0)).count(), 20);
        // Another peer has its own bucket.
        assert!(rl.allow(&2u8, 0));
        // 10 a second after that.
        assert_eq!((0..25).filter(|_| rl.allow(&1u8, 1000)).count(), 10);
        rl.forget(&1);
        assert!(rl.allow(&1u8, 1000));
    }

    #[test]
    fn one_bad_block_lowers_two_ban() {
        let mut book = PeerBook::default();
        assert_eq!(book.report(&1u8, change::BAD_BLOCK, 0), Verdict::Keep);
        assert_eq!(book.score(&1, 0), -600);
        assert_eq!(
            book.report(&1u8, change::BAD_BLOCK, 1000),
            Verdict::Ban {
                until: 1000 + BAN_MILLIS
            }
        );
        assert!(book.is_banned(&1, 2000));
        assert!(!book.is_banned(&1, 1000 + BAN_MILLIS));
        assert!(!book.is_banned(&2, 0));
    }

    #[test]
    fn scores_decay_towards_zero() {
        let mut book = PeerBook::default();
        book.report(&1u8, -100, 0);
        assert_eq!(book.score(&1, 10_000), -50);
        assert_eq!(book.score(&1, 100_000), 0);
        book.report(&2u8, 30, 0);
        assert_eq!(book.score(&2, 2_000), 20);
        book.prune(100_000);
        assert_eq!(book.score(&1, 100_000), 0);
    }

    #[test]
    fn slow_garbage_is_forgiven_fast_garbage_bans() {
        let mut book = PeerBook::default();
        // One malformed message every 30 s never reaches the threshold.
        for i in 0..100u64 {
            assert_eq!(
                book.report(&1u8, change::MALFORMED, i * 30_000),
                Verdict::Keep
            );
        }
        // Ten in a second do.
        let mut verdicts = (0..10u64).map(|i| book.report(&2u8, change::MALFORMED, i * 100));
        assert!(verdicts.any(|v| matches!(v, Verdict::Ban { .. })));
    }

    #[test]
    fn wrong_chain_bans_at_once() {
        let mut book = PeerBook::default();
        assert!(matches!(
            book.report(&1u8, change::WRONG_CHAIN, 5),
            Verdict::Ban { .. }
        ));
        assert_eq!(book.banned_count(6), 1);
    }
}
