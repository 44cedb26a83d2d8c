//! Random submit / author / import / finalize sequences against a model of
//! what watchers see: limits always hold, the ready order never puts a
//! transaction before the one it depends on, every transaction that leaves
//! the pool gets exactly one leaving event, watchers' view of ready/future
//! matches the pool, and the same sequence gives the same trace.

use crate::*;
use proptest::prelude::*;
use qstack_runtime_primitives::InvalidTransaction;
use qstack_txpool::SubmitOutcome;
use std::collections::{HashMap, HashSet, VecDeque};

#[derive(Clone, Debug)]
enum Op {
    Submit {
        sender: u8,
        nonce: u64,
        priority: u64,
        pad: usize,
        bad: bool,
        longevity: u64,
    },
    /// Build and import a block of at most `max` ready transactions, as a node would.
    Author { max: usize },
    /// Import a block authored elsewhere that moved `sender`'s nonce on.
    External { sender: u8, bump: u64 },
    /// Finalize the oldest unfinalized block authored here.
    Finalize,
    /// The node reports one held transaction invalid.
    RemoveInvalid { pick: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (
            0u8..4,
            0u64..6,
            0u64..5,
            0usize..80,
            prop::bool::weighted(0.1),
            prop_oneof![3 => Just(u64::MAX), 1 => 0u64..4],
        )
            .prop_map(|(sender, nonce, priority, pad, bad, longevity)| Op::Submit {
                sender,
                nonce,
                priority,
                pad,
                bad,
                longevity
            }),
        3 => (0usize..5).prop_map(|max| Op::Author { max }),
        1 => (0u8..4, 1u64..3).prop_map(|(sender, bump)| Op::External { sender, bump }),
        1 => Just(Op::Finalize),
        1 => any::<usize>().prop_map(|pick| Op::RemoveInvalid { pick }),
    ]
}

fn config() -> PoolConfig {
    PoolConfig {
        max_count: 8,
        max_bytes: 500,
        max_future_count: 3,
        max_future_bytes: 250,
        max_tx_bytes: 100,
        revalidate_per_block: 3,
        revalidate_after_blocks: 0,
        ban_blocks: 3,
        max_banned: 16,
        max_in_block_tracked: 64,
        recent_tags_blocks: 2,
    }
}

/// What watchers were told.
#[derive(Default)]
struct Model {
    /// Held transactions and whether they were last reported ready.
    live: HashMap<TxHash, bool>,
    /// Reported `InBlock`, not yet `Finalized`.
    in_block: HashSet<TxHash>,
    /// Blocks authored here, oldest first.
    unfinalized: VecDeque<(H256, Vec<TxHash>)>,
}

impl Model {
    fn apply(&mut self, events: &[(TxHash, TxEvent)]) -> Result<(), TestCaseError> {
        for (h, e) in events {
            match e {
                TxEvent::Ready | TxEvent::Future => {
                    let was = self.live.get(h).copied();
                    let now = *e == TxEvent::Ready;
                    prop_assert_eq!(was, Some(!now), "{:?} for {:?}", e, h);
                    self.live.insert(*h, now);
                }
                TxEvent::InBlock(_) => {
                    prop_assert!(self.live.remove(h).is_some(), "InBlock for {:?}", h);
                    self.in_block.insert(*h);
                }
                TxEvent::Usurped(by) => {
                    prop_assert!(self.live.remove(h).is_some(), "Usurped {:?}", h);
                    prop_assert_ne!(by, h);
                }
                TxEvent::Dropped(reason) | TxEvent::Invalid(reason) => {
                    prop_assert!(self.live.remove(h).is_some(), "{:?} for {:?}", e, h);
                    prop_assert!(!reason.is_empty());
                }
                TxEvent::Finalized(_) => {
                    prop_assert!(self.in_block.remove(h), "Finalized {:?}", h);
                }
            }
        }
        Ok(())
    }
}

fn check(node: &Node, model: &Model) -> Result<(), TestCaseError> {
    node.pool.check_invariants().map_err(TestCaseError::fail)?;
    let status = node.pool.status();
    let c = config();
    prop_assert!(status.ready + status.future <= c.max_count);
    prop_assert!(status.future <= c.max_future_count);
    prop_assert!(status.bytes <= c.max_bytes);
    prop_assert_eq!(status.ready + status.future, model.live.len());
    for (h, ready) in &model.live {
        prop_assert!(node.pool.contains(h));
        prop_assert_eq!(node.pool.is_ready(h), *ready);
    }
    let mut seen = HashSet::new();
    for tx in node.ready() {
        if tx.nonce > node.chain.nonce(tx.sender) {
            prop_assert!(
                seen.contains(&(tx.sender, tx.nonce - 1)),
                "{:?} ready before its predecessor",
                tx
            );
        }
        seen.insert((tx.sender, tx.nonce));
    }
    Ok(())
}

/// Runs `ops`, checking after each; returns the trace of everything reported.
fn run(ops: &[Op]) -> Result<Vec<String>, TestCaseError> {
    let mut node = Node::new(config());
    let mut model = Model::default();
    let mut trace = Vec::new();
    for op in ops {
        match op {
            Op::Submit {
                sender,
                nonce,
                priority,
                pad,
                bad,
                longevity,
            } => {
                let mut tx = ToyTx::new(*sender, *nonce, *priority)
                    .padded(*pad)
                    .longevity(*longevity);
                if *bad {
                    tx = tx.bad_proof();
                }
                let before = (node.pool.status(), node.pool.pending());
                match node.submit(&tx) {
                    Ok(s) => {
                        prop_assert!(!model.live.contains_key(&s.hash));
                        model.apply(&s.events)?;
                        model.live.insert(s.hash, s.outcome == SubmitOutcome::Ready);
                        trace.push(format!("{s:?}"));
                    }
                    Err(e) => {
                        prop_assert_eq!(
                            (node.pool.status(), node.pool.pending()),
                            before,
                            "a refusal changes nothing"
                        );
                        trace.push(format!("{e:?}"));
                    }
                }
            }
            Op::Author { max } => {
                let mut included = Vec::new();
                let mut rejected = Vec::new();
                let mut it = node.pool.ready_iter();
                while included.len() < *max {
                    let Some((h, xt)) = it.next() else { break };
                    match node.chain.apply(&xt) {
                        Ok(()) => included.push(h),
                        Err(e) => {
                            it.report_invalid(&h);
                            if e != InvalidTransaction::Future.into() {
                                rejected.push((h, e));
                            }
                        }
                    }
                }
                let events = node.block_with(&included, &rejected);
                for h in &included {
                    prop_assert!(events.contains(&(*h, TxEvent::InBlock(node.best()))));
                }
                model.apply(&events)?;
                model.unfinalized.push_back((node.best(), included));
                trace.push(format!("{events:?}"));
            }
            Op::External { sender, bump } => {
                let nonce = node.chain.nonce(*sender) + bump;
                node.chain.set_nonce(*sender, nonce);
                let events = node.block_with(&[], &[]);
                model.apply(&events)?;
                trace.push(format!("{events:?}"));
            }
            Op::Finalize => {
                let Some((at, included)) = model.unfinalized.pop_front() else {
                    continue;
                };
                let events = node.pool.on_finalized(at, &included);
                let expected: Vec<_> = included
                    .iter()
                    .filter(|h| model.in_block.contains(h))
                    .map(|h| (*h, TxEvent::Finalized(at)))
                    .collect();
                prop_assert_eq!(&events, &expected);
                model.apply(&events)?;
                trace.push(format!("{events:?}"));
            }
            Op::RemoveInvalid { pick } => {
                let mut held: Vec<TxHash> = model.live.keys().copied().collect();
                held.sort();
                let Some(h) = held.get(pick % held.len().max(1)).copied() else {
                    continue;
                };
                let events = node.pool.remove_invalid(&[h]);
                prop_assert_eq!(
                    events.first(),
                    Some(&(h, TxEvent::Invalid("found invalid by the node".into())))
                );
                model.apply(&events)?;
                trace.push(format!("{events:?}"));
            }
        }
        check(&node, &model)?;
    }
    Ok(trace)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_limits_order_and_one_leaving_event_each(
        ops in prop::collection::vec(op(), 1..80)
    ) {
        let first = run(&ops)?;
        let second = run(&ops)?;
        prop_assert_eq!(first, second, "same sequence, same trace");
    }
}
