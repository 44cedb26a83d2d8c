//! Blocks, finality, re-validation, bans and longevity.

use crate::*;
use qstack_runtime_primitives::{InvalidTransaction, UnknownTransaction};
use qstack_txpool::SubmitOutcome;

#[test]
fn included_transactions_are_in_block_then_finalized_once() {
    let mut n = Node::new(PoolConfig::default());
    let a0 = ToyTx::new(ALICE, 0, 1);
    let b0 = ToyTx::new(BOB, 0, 1);
    n.accept(&a0);
    n.accept(&b0);
    let events = n.block(&[&a0, &b0]);
    let at = n.best();
    assert_eq!(
        events,
        vec![
            (a0.hash(), TxEvent::InBlock(at)),
            (b0.hash(), TxEvent::InBlock(at))
        ]
    );
    assert_eq!(n.pool.status().ready, 0);

    let unknown = ToyTx::new(CAROL, 0, 1).hash();
    assert_eq!(
        n.pool.on_finalized(at, &[a0.hash(), b0.hash(), unknown]),
        vec![
            (a0.hash(), TxEvent::Finalized(at)),
            (b0.hash(), TxEvent::Finalized(at))
        ]
    );
    assert_eq!(n.pool.on_finalized(at, &[a0.hash()]), vec![]);
    assert_eq!(n.pool.in_block_len(), 0);
}

#[test]
fn revalidation_after_a_block_drops_stale_transactions_and_promotes_futures() {
    let mut n = Node::new(PoolConfig {
        revalidate_after_blocks: 0,
        ..PoolConfig::default()
    });
    let a0 = ToyTx::new(ALICE, 0, 1);
    let a1 = ToyTx::new(ALICE, 1, 1);
    let b3 = ToyTx::new(BOB, 3, 1);
    for tx in [&a0, &a1, &b3] {
        n.accept(tx);
    }
    assert_eq!(n.pool.status().future, 1);

    // A block authored elsewhere used Alice's nonce 0 (another transaction)
    // and took Bob to nonce 3.
    n.chain.set_nonce(ALICE, 1);
    n.chain.set_nonce(BOB, 3);
    let events = n.block_with(&[], &[]);
    assert_eq!(
        events,
        vec![
            (
                a0.hash(),
                TxEvent::Invalid(
                    "its nonce was already used (sign again with the account's current nonce)"
                        .into()
                )
            ),
            (b3.hash(), TxEvent::Ready),
        ],
        "a1 no longer needs a0: it stays ready without a transition"
    );
    assert_eq!(ids(&n.ready()), vec![(ALICE, 1), (BOB, 3)]);
    assert_eq!(
        n.submit(&a0),
        Err(PoolError::TemporarilyBanned),
        "a gossiped copy is not validated again"
    );
}

#[test]
fn revalidation_is_bounded_per_block_and_rotates_through_the_pool() {
    let config = PoolConfig {
        revalidate_per_block: 2,
        revalidate_after_blocks: 0,
        ..PoolConfig::default()
    };
    let mut n = Node::new(config);
    let txs: Vec<ToyTx> = (0..5).map(|s| ToyTx::new(s, 0, 1)).collect();
    for tx in &txs {
        n.accept(tx);
    }
    for s in 0..5 {
        n.chain.set_nonce(s, 1); // all stale now
    }
    let mut dropped = Vec::new();
    for expected_calls in [2, 2, 1] {
        let before = n.chain.calls();
        let events = n.block_with(&[], &[]);
        assert_eq!(n.chain.calls() - before, expected_calls);
        dropped.extend(events.into_iter().map(|(h, _)| h));
    }
    let all: Vec<TxHash> = txs.iter().map(|t| t.hash()).collect();
    assert_eq!(
        dropped, all,
        "oldest first, each once, within ceil(5 / 2) blocks"
    );
    assert_eq!(n.pool.status().ready, 0);
}

#[test]
fn a_rejected_transaction_leaves_with_its_reason_and_its_successors_wait() {
    let mut n = Node::new(PoolConfig::default());
    let a0 = ToyTx::new(ALICE, 0, 1);
    let a1 = ToyTx::new(ALICE, 1, 1);
    n.accept(&a0);
    n.accept(&a1);
    let events = n.block_with(&[], &[(a0.hash(), InvalidTransaction::Payment.into())]);
    assert_eq!(
        events,
        vec![
            (
                a0.hash(),
                TxEvent::Invalid("the sender cannot pay the fee".into())
            ),
            (a1.hash(), TxEvent::Future),
        ]
    );
    assert_eq!(n.submit(&a0), Err(PoolError::TemporarilyBanned));
}

#[test]
fn removed_as_invalid_by_the_node_is_banned_and_demotes_dependents() {
    let mut n = Node::new(PoolConfig::default());
    let a0 = ToyTx::new(ALICE, 0, 1);
    let a1 = ToyTx::new(ALICE, 1, 1);
    n.accept(&a0);
    n.accept(&a1);
    let events = n
        .pool
        .remove_invalid(&[a0.hash(), ToyTx::new(BOB, 0, 0).hash()]);
    n.pool.check_invariants().unwrap();
    assert_eq!(
        events,
        vec![
            (
                a0.hash(),
                TxEvent::Invalid("found invalid by the node".into())
            ),
            (a1.hash(), TxEvent::Future),
        ]
    );
    assert_eq!(n.submit(&a0), Err(PoolError::TemporarilyBanned));
}

#[test]
fn an_invalid_transaction_is_banned_for_a_while_without_revalidation() {
    let mut n = Node::new(small()); // ban_blocks 3
    let forged = ToyTx::new(ALICE, 0, 1).bad_proof();
    let err = n.submit(&forged).unwrap_err();
    assert_eq!(err, PoolError::Invalid(InvalidTransaction::BadProof));
    assert!(err.to_string().contains("signature does not verify"));
    let calls = n.chain.calls();
    for _ in 0..2 {
        n.block_with(&[], &[]);
        assert_eq!(n.submit(&forged), Err(PoolError::TemporarilyBanned));
    }
    assert_eq!(n.chain.calls(), calls, "banned: never validated again");
    n.block_with(&[], &[]);
    assert_eq!(
        n.submit(&forged),
        Err(PoolError::Invalid(InvalidTransaction::BadProof)),
        "the ban ended: validated (and banned) again"
    );
    assert_eq!(n.pool.banned_len(), 1);
}

#[test]
fn unknown_validity_is_refused_but_not_banned_and_kept_on_revalidation() {
    let mut n = Node::new(PoolConfig::default());
    let a0 = ToyTx::new(ALICE, 0, 1);
    n.chain.set_unknown(ALICE, true);
    assert_eq!(
        n.submit(&a0),
        Err(PoolError::Unknown(UnknownTransaction::CannotLookup))
    );
    n.chain.set_unknown(ALICE, false);
    n.accept(&a0);
    n.chain.set_unknown(ALICE, true);
    assert_eq!(n.block_with(&[], &[]), vec![]);
    assert!(n.pool.is_ready(&a0.hash()));
}

#[test]
fn a_transaction_expires_when_its_longevity_ends() {
    let config = PoolConfig {
        revalidate_per_block: 0, // longevity alone
        ..PoolConfig::default()
    };
    let mut n = Node::new(config);
    let mortal = ToyTx::new(ALICE, 0, 1).longevity(2);
    let immortal = ToyTx::new(BOB, 0, 1);
    n.accept(&mortal);
    n.accept(&immortal);
    assert_eq!(n.block_with(&[], &[]), vec![]);
    assert_eq!(n.block_with(&[], &[]), vec![]);
    assert_eq!(
        n.block_with(&[], &[]),
        vec![(
            mortal.hash(),
            TxEvent::Invalid(
                "not included within its validity period of 2 blocks (sign it again)".into()
            )
        )]
    );
    assert!(n.pool.contains(&immortal.hash()));
    assert_eq!(n.submit(&mortal), Err(PoolError::TemporarilyBanned));
}

#[test]
fn a_transaction_is_validated_again_only_once_its_validation_is_old_enough() {
    let config = PoolConfig {
        revalidate_after_blocks: 2,
        ..PoolConfig::default()
    };
    let mut n = Node::new(config);
    let a0 = ToyTx::new(ALICE, 0, 1);
    n.accept(&a0);
    let before = n.chain.calls();
    // The next block: too recent, not validated again (it stays, though stale).
    n.chain.set_nonce(ALICE, 1);
    assert_eq!(n.block_with(&[], &[]), vec![]);
    assert_eq!(n.chain.calls(), before, "validated one block ago: skipped");
    // The block after: old enough, validated again and dropped.
    let events = n.block_with(&[], &[]);
    assert_eq!(n.chain.calls(), before + 1);
    assert!(
        matches!(events.as_slice(), [(h, TxEvent::Invalid(_))] if *h == a0.hash()),
        "{events:?}"
    );
}

#[test]
fn revalidation_renews_longevity() {
    let mut n = Node::new(PoolConfig::default());
    let tx = ToyTx::new(ALICE, 0, 1).longevity(1);
    n.accept(&tx);
    for _ in 0..5 {
        assert_eq!(n.block_with(&[], &[]), vec![]);
    }
    assert_eq!(
        n.accept(&ToyTx::new(ALICE, 1, 1)).outcome,
        SubmitOutcome::Ready
    );
}
