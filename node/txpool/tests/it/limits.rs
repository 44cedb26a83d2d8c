//! Replacement by priority, limits in count and bytes, eviction.

use crate::*;
use qstack_txpool::SubmitOutcome;

const EVICTED: &str = "pool full: evicted by higher priority";

#[test]
fn a_higher_priority_transaction_with_the_same_nonce_usurps_the_pending_one() {
    let mut n = Node::new(PoolConfig::default());
    let a0 = ToyTx::new(ALICE, 0, 5);
    let a1 = ToyTx::new(ALICE, 1, 5);
    n.accept(&a0);
    n.accept(&a1);

    let faster = ToyTx::new(ALICE, 0, 10).padded(1);
    let s = n.accept(&faster);
    assert_eq!(s.outcome, SubmitOutcome::Ready);
    assert_eq!(
        s.events,
        vec![(a0.hash(), TxEvent::Usurped(faster.hash()))],
        "a1 now follows the replacement: no transition for it"
    );
    assert!(!n.pool.contains(&a0.hash()));
    assert_eq!(
        n.ready().iter().map(|t| t.hash()).collect::<Vec<_>>(),
        vec![faster.hash(), a1.hash()]
    );
}

#[test]
fn a_replacement_without_a_higher_priority_is_refused_and_changes_nothing() {
    let mut n = Node::new(PoolConfig::default());
    let a0 = ToyTx::new(ALICE, 0, 5);
    n.accept(&a0);
    for priority in [5, 4] {
        let err = n
            .submit(&ToyTx::new(ALICE, 0, priority).padded(1))
            .unwrap_err();
        assert_eq!(
            err,
            PoolError::TooLowPriority {
                old: 5,
                new: priority
            }
        );
        assert!(err.to_string().contains("raise the tip"));
    }
    assert!(n.pool.is_ready(&a0.hash()));
    assert_eq!(n.pool.status().ready, 1);
}

#[test]
fn a_full_pool_evicts_the_lowest_priority_transaction_nothing_depends_on() {
    let mut n = Node::new(small()); // max_count 4
    let a0 = ToyTx::new(ALICE, 0, 1); // lowest, but a1 depends on it
    let a1 = ToyTx::new(ALICE, 1, 9);
    let b0 = ToyTx::new(BOB, 0, 2);
    let c0 = ToyTx::new(CAROL, 0, 3);
    for tx in [&a0, &a1, &b0, &c0] {
        n.accept(tx);
    }

    let d0 = ToyTx::new(DAVE, 0, 5);
    let s = n.accept(&d0);
    assert_eq!(
        s.events,
        vec![(b0.hash(), TxEvent::Dropped(EVICTED.into()))]
    );
    assert_eq!(n.pool.status().ready, 4);

    // Priority 3 ties with the weakest evictable one (c0): first come, first served.
    let e = ToyTx::new(DAVE, 1, 3);
    assert_eq!(n.submit(&e), Err(PoolError::PoolFull));
    assert!(n.pool.contains(&c0.hash()));
}

#[test]
fn a_full_pool_by_bytes_evicts_as_many_as_needed_or_none() {
    let small_tx = |s, p| ToyTx::new(s, 0, p).padded(100);
    let size = small_tx(0, 0).bytes().len();
    let mut config = small();
    config.max_count = 100;
    config.max_bytes = 3 * size;
    let mut n = Node::new(config);
    let (a, b, c) = (small_tx(ALICE, 1), small_tx(BOB, 2), small_tx(CAROL, 8));
    for tx in [&a, &b, &c] {
        n.accept(tx);
    }

    // Twice the size: needs both a and b gone, and both are below 5.
    let big = ToyTx::new(DAVE, 0, 5).padded(100 + size);
    let s = n.accept(&big);
    assert_eq!(
        s.events,
        vec![
            (a.hash(), TxEvent::Dropped(EVICTED.into())),
            (b.hash(), TxEvent::Dropped(EVICTED.into()))
        ]
    );
    assert!(n.pool.status().bytes <= 3 * size);

    // Three times the size: needs c gone too, whose priority (8) is higher:
    // refused, and nothing is evicted.
    let bigger = ToyTx::new(DAVE + 1, 0, 6).padded(100 + 2 * size);
    assert_eq!(n.submit(&bigger), Err(PoolError::PoolFull));
    assert!(n.pool.contains(&c.hash()) && n.pool.contains(&big.hash()));
}

#[test]
fn futures_have_their_own_limit() {
    let mut n = Node::new(small()); // max_future_count 2
    let a5 = ToyTx::new(ALICE, 5, 1);
    let b5 = ToyTx::new(BOB, 5, 4);
    n.accept(&a5);
    n.accept(&b5);

    assert_eq!(n.submit(&ToyTx::new(CAROL, 5, 1)), Err(PoolError::PoolFull));
    let c5 = ToyTx::new(CAROL, 5, 2);
    let s = n.accept(&c5);
    assert_eq!(s.outcome, SubmitOutcome::Future);
    assert_eq!(
        s.events,
        vec![(a5.hash(), TxEvent::Dropped(EVICTED.into()))]
    );

    // A ready transaction does not count against the future limit.
    let d0 = ToyTx::new(DAVE, 0, 0);
    assert_eq!(n.accept(&d0).outcome, SubmitOutcome::Ready);
    assert_eq!(n.pool.status().future, 2);
}

#[test]
fn a_future_newcomer_never_evicts_a_ready_transaction() {
    let mut config = small();
    config.max_count = 2;
    let mut n = Node::new(config);
    n.accept(&ToyTx::new(ALICE, 0, 1));
    n.accept(&ToyTx::new(BOB, 0, 1));
    assert_eq!(
        n.submit(&ToyTx::new(CAROL, 3, 100)),
        Err(PoolError::PoolFull)
    );
}

#[test]
fn an_oversized_transaction_is_refused_before_validation() {
    let mut n = Node::new(small()); // max_tx_bytes 1000
    let tx = ToyTx::new(ALICE, 0, 1).padded(1_000);
    let size = tx.bytes().len();
    let err = n.submit(&tx).unwrap_err();
    assert_eq!(err, PoolError::TooLarge { size, max: 1_000 });
    assert_eq!(n.chain.calls(), 0);
}

#[test]
fn the_same_bytes_twice_are_already_imported() {
    let mut n = Node::new(PoolConfig::default());
    let tx = ToyTx::new(ALICE, 0, 1);
    n.accept(&tx);
    assert_eq!(n.submit(&tx), Err(PoolError::AlreadyImported));
    assert_eq!(n.chain.calls(), 1, "no second validation");
}
