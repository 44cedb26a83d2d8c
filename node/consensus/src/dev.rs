//! The dev engine: one node authors every block. `Instant` seals a block as
//! soon as transactions are ready; `Interval` seals one every period whether or
//! not there are transactions (the chain's clock keeps moving). A built block
//! is imported at once, without a proof, and is final as soon as it is
//! imported (there is no one to disagree).

use crate::{Action, Engine, Finality, Input, Millis};
use serde::{Deserialize, Serialize};

/// The `dev` engine's section of a chain spec (`"consensus": {"engine":
/// "dev", "blockTimeMs": 1000, "authorities": ["0x…"]}`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DevSpec {
    /// Milliseconds between blocks; 0 = a block as soon as transactions arrive.
    #[serde(default)]
    pub block_time_ms: u64,
    /// The keys that may author (seal) blocks: 0x-hex SCALE public keys of
    /// any scheme, as BFT validators' are written. Followers import only
    /// blocks sealed by one of them.
    #[serde(default)]
    pub authorities: Vec<String>,
}

/// The engine id of the dev engine's seal digest item.
pub const DEV_SEAL_ENGINE: [u8; 4] = *b"qsda";

/// What an authority signs to seal a block: a domain tag, the chain's
/// genesis hash and the hash of the header without its seal.
pub fn seal_payload(genesis: &qstack_core::H256, pre_seal_hash: &qstack_core::H256) -> Vec<u8> {
    use codec::Encode;
    (b"qstack/dev-seal/v1", genesis, pre_seal_hash).encode()
}

impl DevSpec {
    /// The authorities' keys, or which entry is wrong and why.
    pub fn authority_keys(&self) -> Result<Vec<qstack_core::PublicKey>, String> {
        if self.authorities.is_empty() {
            return Err("consensus.authorities: a dev-engine chain must name the key(s) that author its blocks (0x-hex public keys)".into());
        }
        self.authorities
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let raw = k.strip_prefix("0x").ok_or_else(|| {
                    format!("consensus.authorities[{i}]: expected 0x-prefixed hex")
                })?;
                let bytes = hex::decode(raw)
                    .map_err(|e| format!("consensus.authorities[{i}]: invalid hex ({e})"))?;
                <qstack_core::PublicKey as codec::DecodeAll>::decode_all(&mut &bytes[..])
                    .map_err(|e| format!("consensus.authorities[{i}]: not a public key: {e}"))
            })
            .collect()
    }

    /// The seal mode: `Interval(block_time_ms)`, or `Instant` for 0 or when
    /// `instant_seal` overrides it.
    pub fn seal_mode(&self, instant_seal: bool) -> SealMode {
        if self.block_time_ms > 0 && !instant_seal {
            SealMode::Interval(self.block_time_ms)
        } else {
            SealMode::Instant
        }
    }
}

/// When to author.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealMode {
    /// A block for each batch of ready transactions.
    Instant,
    /// A block every this many milliseconds.
    Interval(Millis),
}

/// The dev engine's state.
#[derive(Debug)]
pub struct DevEngine {
    mode: SealMode,
    next_seal: Option<Millis>,
    /// The build request not answered yet.
    building: Option<u64>,
    /// A built block not imported yet.
    importing: bool,
    next_request: u64,
}

impl DevEngine {
    /// A dev engine in `mode`.
    pub fn new(mode: SealMode) -> Self {
        Self {
            mode,
            next_seal: None,
            building: None,
            importing: false,
            next_request: 0,
        }
    }

    fn build(&mut self) -> Action {
        let request = self.next_request;
        self.next_request = self.next_request.wrapping_add(1);
        self.building = Some(request);
        Action::BuildBlock {
            request,
            parent: None,
            transactions: None,
            inherents: Vec::new(),
        }
    }

    fn busy(&self) -> bool {
        self.building.is_some() || self.importing
    }
}

impl Engine for DevEngine {
    fn start(&mut self, now: Millis) -> Vec<Action> {
        match self.mode {
            SealMode::Instant => Vec::new(),
            SealMode::Interval(_) => self.handle(now, Input::Tick),
        }
    }

    fn handle(&mut self, now: Millis, input: Input) -> Vec<Action> {
        match (self.mode, input) {
            (SealMode::Instant, Input::TransactionsReady { count }) if count > 0 => {
                if self.busy() {
                    Vec::new()
                } else {
                    vec![self.build()]
                }
            }
            (SealMode::Interval(period), Input::Tick) => {
                let due = *self.next_seal.get_or_insert(now);
                if now < due {
                    return vec![Action::WakeAt(due)];
                }
                let next = now.saturating_add(period);
                self.next_seal = Some(next);
                if self.busy() {
                    // The last block is still on its way: skip this slot.
                    vec![Action::WakeAt(next)]
                } else {
                    vec![self.build(), Action::WakeAt(next)]
                }
            }
            (_, Input::Built { request, hash, .. }) if self.building == Some(request) => {
                self.building = None;
                self.importing = true;
                vec![Action::ImportBlock {
                    hash,
                    justification: None,
                }]
            }
            (_, Input::BuildFailed { request }) if self.building == Some(request) => {
                self.building = None;
                Vec::new()
            }
            (
                _,
                Input::BlockImported {
                    hash,
                    best: true,
                    own,
                    ..
                },
            ) => {
                if own {
                    self.importing = false;
                }
                vec![Action::Finalize(hash)]
            }
            _ => Vec::new(),
        }
    }

    fn finality(&self) -> Finality {
        Finality::Instant
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qstack_core::H256;

    fn imported(hash: H256, best: bool, own: bool) -> Input {
        Input::BlockImported {
            hash,
            number: 1,
            parent: H256::zero(),
            best,
            own,
        }
    }

    fn build(request: u64) -> Action {
        Action::BuildBlock {
            request,
            parent: None,
            transactions: None,
            inherents: Vec::new(),
        }
    }

    fn built(request: u64, hash: H256) -> Input {
        Input::Built {
            request,
            hash,
            number: 1,
        }
    }

    #[test]
    fn interval_seals_on_schedule_imports_and_finalises() {
        let mut e = DevEngine::new(SealMode::Interval(1000));
        assert_eq!(e.start(0), vec![build(0), Action::WakeAt(1000)]);
        // Early wake-ups do not author.
        assert_eq!(e.handle(400, Input::Tick), vec![Action::WakeAt(1000)]);
        let h = H256([1; 32]);
        assert_eq!(
            e.handle(500, built(0, h)),
            vec![Action::ImportBlock {
                hash: h,
                justification: None
            }]
        );
        // An answer to no request is ignored.
        assert_eq!(e.handle(500, built(7, h)), vec![]);
        assert_eq!(
            e.handle(600, imported(h, true, true)),
            vec![Action::Finalize(h)]
        );
        assert_eq!(
            e.handle(1000, Input::Tick),
            vec![build(1), Action::WakeAt(2000)]
        );
        // Transactions do not trigger interval sealing.
        assert_eq!(
            e.handle(1100, Input::TransactionsReady { count: 3 }),
            vec![]
        );
        // A slot while the last block is still being built is skipped.
        assert_eq!(e.handle(2000, Input::Tick), vec![Action::WakeAt(3000)]);
        assert_eq!(e.handle(2100, Input::BuildFailed { request: 1 }), vec![]);
        assert_eq!(
            e.handle(3000, Input::Tick),
            vec![build(2), Action::WakeAt(4000)]
        );
        // Blocks that are not best are not finalised.
        assert_eq!(e.handle(3100, imported(h, false, false)), vec![]);
    }

    #[test]
    fn instant_seals_once_per_batch() {
        let mut e = DevEngine::new(SealMode::Instant);
        assert_eq!(e.start(0), vec![]);
        assert_eq!(e.handle(0, Input::Tick), vec![]);
        assert_eq!(e.handle(0, Input::TransactionsReady { count: 0 }), vec![]);
        assert_eq!(
            e.handle(1, Input::TransactionsReady { count: 2 }),
            vec![build(0)]
        );
        // Until that block is in, more transactions wait for the next one.
        assert_eq!(e.handle(2, Input::TransactionsReady { count: 5 }), vec![]);
        let h = H256([2; 32]);
        assert_eq!(
            e.handle(3, built(0, h)),
            vec![Action::ImportBlock {
                hash: h,
                justification: None
            }]
        );
        assert_eq!(e.handle(3, Input::TransactionsReady { count: 5 }), vec![]);
        assert_eq!(
            e.handle(4, imported(h, true, true)),
            vec![Action::Finalize(h)]
        );
        assert_eq!(
            e.handle(5, Input::TransactionsReady { count: 5 }),
            vec![build(1)]
        );
        // A failed build lets the next batch try again.
        assert_eq!(e.handle(6, Input::BuildFailed { request: 1 }), vec![]);
        assert_eq!(
            e.handle(7, Input::TransactionsReady { count: 5 }),
            vec![build(2)]
        );
    }
}
