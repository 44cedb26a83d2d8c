//! The dev engine: one node authors every block. `Instant` seals a block as
//! soon as transactions are ready; `Interval` seals one every period whether or
//! not there are transactions (the chain's clock keeps moving). Blocks are
//! final as soon as they are imported (there is no one to disagree).

use crate::{Action, Engine, Input, Millis};

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
    pending: bool,
}

impl DevEngine {
    /// A dev engine in `mode`.
    pub fn new(mode: SealMode) -> Self {
        Self {
            mode,
            next_seal: None,
            pending: false,
        }
    }
}

impl Engine for DevEngine {
    fn handle(&mut self, now: Millis, input: Input) -> Vec<Action> {
        match (self.mode, input) {
            (SealMode::Instant, Input::TransactionsReady { count }) if count > 0 => {
                if self.pending {
                    Vec::new()
                } else {
                    self.pending = true;
                    vec![Action::AuthorBlock]
                }
            }
            (
                SealMode::Instant,
                Input::BlockImported {
                    hash, best: true, ..
                },
            ) => {
                self.pending = false;
                vec![Action::Finalize(hash)]
            }
            (SealMode::Interval(period), Input::Tick) => {
                let due = *self.next_seal.get_or_insert(now);
                if now >= due {
                    self.next_seal = Some(now.saturating_add(period));
                    vec![
                        Action::AuthorBlock,
                        Action::WakeAt(now.saturating_add(period)),
                    ]
                } else {
                    vec![Action::WakeAt(due)]
                }
            }
            (
                SealMode::Interval(_),
                Input::BlockImported {
                    hash, best: true, ..
                },
            ) => vec![Action::Finalize(hash)],
            _ => Vec::new(),
        }
    }

    fn instant_finality(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qstack_core::H256;

    #[test]
    fn interval_seals_on_schedule_and_finalises() {
        let mut e = DevEngine::new(SealMode::Interval(1000));
        assert_eq!(
            e.handle(0, Input::Tick),
            vec![Action::AuthorBlock, Action::WakeAt(1000)]
        );
        // Early wake-ups do not author.
        assert_eq!(e.handle(400, Input::Tick), vec![Action::WakeAt(1000)]);
        assert_eq!(
            e.handle(1000, Input::Tick),
            vec![Action::AuthorBlock, Action::WakeAt(2000)]
        );
        // Transactions do not trigger interval sealing.
        assert_eq!(
            e.handle(1100, Input::TransactionsReady { count: 3 }),
            vec![]
        );
        let h = H256([1; 32]);
        assert_eq!(
            e.handle(
                1200,
                Input::BlockImported {
                    hash: h,
                    number: 2,
                    best: true
                }
            ),
            vec![Action::Finalize(h)]
        );
        assert_eq!(
            e.handle(
                1200,
                Input::BlockImported {
                    hash: h,
                    number: 2,
                    best: false
                }
            ),
            vec![]
        );
    }

    #[test]
    fn instant_seals_once_per_batch() {
        let mut e = DevEngine::new(SealMode::Instant);
        assert_eq!(e.handle(0, Input::Tick), vec![]);
        assert_eq!(e.handle(0, Input::TransactionsReady { count: 0 }), vec![]);
        assert_eq!(
            e.handle(1, Input::TransactionsReady { count: 2 }),
            vec![Action::AuthorBlock]
        );
        // Until that block is in, more transactions wait for the next one.
        assert_eq!(e.handle(2, Input::TransactionsReady { count: 5 }), vec![]);
        let h = H256([2; 32]);
        assert_eq!(
            e.handle(
                3,
                Input::BlockImported {
                    hash: h,
                    number: 1,
                    best: true
                }
            ),
            vec![Action::Finalize(h)]
        );
        assert_eq!(
            e.handle(4, Input::TransactionsReady { count: 5 }),
            vec![Action::AuthorBlock]
        );
    }
}
