//! Ready/future state by nonce chains, and the block-building order.

use crate::*;
use qstack_txpool::{PoolStatus, SubmitOutcome};

#[test]
fn nonce_gaps_wait_as_future_until_filled_for_each_sender() {
    let mut n = Node::new(PoolConfig::default());
    let a2 = ToyTx::new(ALICE, 2, 1);
    let a1 = ToyTx::new(ALICE, 1, 1);
    let a0 = ToyTx::new(ALICE, 0, 1);
    let b1 = ToyTx::new(BOB, 1, 1);
    let b0 = ToyTx::new(BOB, 0, 1);

    assert_eq!(n.accept(&a2).outcome, SubmitOutcome::Future);
    assert_eq!(n.accept(&a1).outcome, SubmitOutcome::Future);
    assert_eq!(n.accept(&b1).outcome, SubmitOutcome::Future);
    assert_eq!(
        n.pool.status(),
        PoolStatus {
            ready: 0,
            future: 3,
            bytes: a2.bytes().len() + a1.bytes().len() + b1.bytes().len()
        }
    );

    // Alice's nonce 0 unlocks her whole chain, and only hers.
    let s = n.accept(&a0);
    assert_eq!(s.outcome, SubmitOutcome::Ready);
    assert_eq!(
        s.events,
        vec![(a2.hash(), TxEvent::Ready), (a1.hash(), TxEvent::Ready)],
        "one Ready per unlocked transaction, in arrival order"
    );
    assert!(!n.pool.is_ready(&b1.hash()));

    let s = n.accept(&b0);
    assert_eq!(s.events, vec![(b1.hash(), TxEvent::Ready)]);
    assert_eq!(n.pool.status().ready, 5);
    assert_eq!(n.pool.status().future, 0);
}

#[test]
fn a_nonce_already_reached_on_chain_is_ready_at_once() {
    let mut n = Node::new(PoolConfig::default());
    n.chain.set_nonce(ALICE, 7);
    assert_eq!(
        n.accept(&ToyTx::new(ALICE, 7, 0)).outcome,
        SubmitOutcome::Ready
    );
    assert_eq!(
        n.submit(&ToyTx::new(ALICE, 6, 0)),
        Err(PoolError::Invalid(
            qstack_runtime_primitives::InvalidTransaction::Stale
        ))
    );
}

#[test]
fn ready_order_is_dependencies_first_then_priority_then_arrival() {
    let mut n = Node::new(PoolConfig::default());
    let a0 = ToyTx::new(ALICE, 0, 1);
    let a1 = ToyTx::new(ALICE, 1, 100);
    let b0 = ToyTx::new(BOB, 0, 50);
    let c0 = ToyTx::new(CAROL, 0, 50);
    let d0 = ToyTx::new(DAVE, 0, 70);
    // Arrival: a1 (future), b0, c0, a0 (unlocks a1), d0.
    for tx in [&a1, &b0, &c0, &a0, &d0] {
        n.accept(tx);
    }
    assert_eq!(
        ids(&n.ready()),
        vec![(DAVE, 0), (BOB, 0), (CAROL, 0), (ALICE, 0), (ALICE, 1)],
        "a1's priority 100 cannot put it before a0; b0 and c0 tie on priority, b0 came first"
    );
}

#[test]
fn a_released_dependent_competes_by_priority_with_the_rest() {
    let mut n = Node::new(PoolConfig::default());
    let a0 = ToyTx::new(ALICE, 0, 90);
    let a1 = ToyTx::new(ALICE, 1, 80);
    let b0 = ToyTx::new(BOB, 0, 85);
    let c0 = ToyTx::new(CAROL, 0, 10);
    for tx in [&c0, &b0, &a1, &a0] {
        n.accept(tx);
    }
    assert_eq!(
        ids(&n.ready()),
        vec![(ALICE, 0), (BOB, 0), (ALICE, 1), (CAROL, 0)]
    );
}

#[test]
fn ready_iter_skips_everything_depending_on_a_transaction_reported_invalid() {
    let mut n = Node::new(PoolConfig::default());
    let a = [0, 1, 2].map(|i| ToyTx::new(ALICE, i, 10));
    let b0 = ToyTx::new(BOB, 0, 1);
    for tx in a.iter().chain([&b0]) {
        n.accept(tx);
    }
    let mut it = n.pool.ready_iter();
    let (first, _) = it.next().unwrap();
    assert_eq!(first, a[0].hash());
    it.report_invalid(&first);
    let rest: Vec<TxHash> = it.map(|(h, _)| h).collect();
    assert_eq!(rest, vec![b0.hash()], "Alice's 1 and 2 need her 0");
}

#[test]
fn an_included_transaction_leaves_its_successors_ready_without_events() {
    let mut n = Node::new(PoolConfig::default());
    let a0 = ToyTx::new(ALICE, 0, 1);
    let a1 = ToyTx::new(ALICE, 1, 1);
    let a2 = ToyTx::new(ALICE, 2, 1);
    for tx in [&a0, &a1, &a2] {
        n.accept(tx);
    }
    let events = n.block(&[&a0]);
    assert_eq!(events, vec![(a0.hash(), TxEvent::InBlock(n.best()))]);
    assert_eq!(ids(&n.ready()), vec![(ALICE, 1), (ALICE, 2)]);

    // A copy of a1 validated against the previous block still requires
    // Alice's nonce 0: the pool knows the chain provides it.
    let mut n2 = Node::new(PoolConfig::default());
    n2.accept(&a0);
    n2.block(&[&a0]);
    n2.chain.set_nonce(ALICE, 0); // the validator lags one block behind
    assert_eq!(n2.accept(&a1).outcome, SubmitOutcome::Ready);
}

#[test]
fn a_future_transaction_included_by_another_author_unlocks_its_successors() {
    let config = PoolConfig {
        revalidate_per_block: 0, // the tags alone must do it
        ..PoolConfig::default()
    };
    let mut m = Node::new(config);
    let a1 = ToyTx::new(ALICE, 1, 1);
    let a2 = ToyTx::new(ALICE, 2, 1);
    m.accept(&a1);
    m.accept(&a2);
    assert_eq!(
        m.pool.status().future,
        2,
        "Alice's nonce 0 never reached us"
    );

    // Another node's block carries her nonce 0 (unknown here) and our a1.
    m.chain.set_nonce(ALICE, 2);
    let events = m.block_with(&[a1.hash()], &[]);
    assert_eq!(
        events,
        vec![
            (a1.hash(), TxEvent::InBlock(m.best())),
            (a2.hash(), TxEvent::Ready)
        ]
    );
}
