//! Block import through the real Wasm runtime: valid blocks, forks and the
//! best chain, and every rejection with its reason — with signatures checked
//! inline and in parallel (the outcome must not depend on the mode).

use codec::Encode;
use qstack_client::{Client, GenesisSource, ImportError, ImportOutcome};
use qstack_core::{Address, KeyScheme, Pair, H256};
use qstack_executor::{Executor, ExecutorConfig};
use qstack_runtime::signing::{sign, ChainContext, TxOptions};
use qstack_runtime::{tokens, RuntimeCall};
use qstack_runtime_primitives::{Digest, OpaqueBlock};
use qstack_storage::Store;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

fn executor() -> Arc<Executor> {
    static EXEC: OnceLock<Arc<Executor>> = OnceLock::new();
    EXEC.get_or_init(|| Arc::new(Executor::new(ExecutorConfig::default()).expect("executor")))
        .clone()
}

fn alice(scheme: KeyScheme) -> Pair {
    Pair::from_suri(scheme, "//Alice").expect("dev key")
}

fn genesis() -> GenesisSource {
    let funded: Vec<_> = KeyScheme::ALL
        .iter()
        .map(|s| {
            serde_json::json!([
                Address::from(alice(*s).account_id()).to_string(),
                "1000000000000000000"
            ])
        })
        .collect();
    GenesisSource::Runtime {
        code: qstack_runtime::WASM_BINARY.to_vec(),
        patch: serde_json::json!({ "balances": { "balances": funded } }),
    }
}

fn client() -> Client {
    Client::new(
        Arc::new(Store::in_memory().expect("store")),
        executor(),
        &genesis(),
    )
    .expect("client")
}

/// A signed transfer of `value` from Alice (of `scheme`) with `nonce`.
fn transfer(c: &Client, scheme: KeyScheme, nonce: u32, value: u128) -> Arc<Vec<u8>> {
    let ctx = ChainContext::new(c.info().expect("info").genesis_hash);
    let call = RuntimeCall::Tokens(tokens::Call::Transfer {
        dest: Pair::from_suri(KeyScheme::Sr25519, "//Bob")
            .expect("bob")
            .account_id(),
        value,
        dest_tag: None,
    });
    Arc::new(sign(&alice(scheme), call, &ctx, &TxOptions::nonce(nonce)).encode())
}

/// Builds and commits (finalised) a block on `parent`; returns it.
fn build(c: &Client, parent: H256, time: u64, txs: &[Arc<Vec<u8>>]) -> OpaqueBlock {
    build_with(c, parent, time, txs, true)
}

fn build_with(
    c: &Client,
    parent: H256,
    time: u64,
    txs: &[Arc<Vec<u8>>],
    finalize: bool,
) -> OpaqueBlock {
    let mut inherents = BTreeMap::new();
    inherents.insert(
        qstack_runtime::timestamp::INHERENT_IDENTIFIER,
        (1_700_000_000_000u64 + time * 1000).encode(),
    );
    let built = c
        .build_block(&parent, &inherents, Digest::default(), txs)
        .expect("build");
    assert_eq!(built.included.len(), txs.len(), "{:?}", built.rejected);
    let block = built.block.clone();
    c.commit_built(built, None, finalize).expect("commit");
    block
}

fn both_modes() -> [(&'static str, usize); 2] {
    [("inline", 0), ("parallel", 2)]
}

#[test]
fn imports_blocks_of_every_scheme_in_both_verification_modes() {
    let builder = client();
    let genesis = builder.info().unwrap().best_hash;
    let txs: Vec<_> = KeyScheme::ALL
        .iter()
        .flat_map(|s| (0..3).map(move |n| (*s, n)))
        .map(|(s, n)| transfer(&builder, s, n, 5_000))
        .collect();
    let b1 = build(&builder, genesis, 1, &txs);
    let b2 = build(&builder, b1.header.hash(), 2, &[]);
    for (mode, threads) in both_modes() {
        let mut importer = client();
        importer.set_verify_threads(threads);
        for b in [&b1, &b2] {
            assert_eq!(
                importer.import_block(b.clone(), None, true).expect(mode),
                ImportOutcome::Imported { best: true },
                "{mode}"
            );
        }
        assert_eq!(
            importer.import_block(b2.clone(), None, true).expect(mode),
            ImportOutcome::AlreadyKnown
        );
        let info = importer.info().unwrap();
        assert_eq!((info.best_number, info.best_hash), (2, b2.header.hash()));
        assert_eq!(info.finalized_hash, b2.header.hash());
    }
}

/// The byte offset of the first signature byte of extrinsic `xt` in `block`.
fn flip_signature_byte(block: &mut OpaqueBlock, xt: usize, scheme: KeyScheme) {
    let bytes = &mut block.extrinsics[xt].0;
    // Layout: compact length, version, MultiAddress::Key(tag + scheme + key), then
    // the signature (scheme tag + bytes): find it after the public key.
    let pk = alice(scheme).public().encode();
    let at = bytes
        .windows(pk.len())
        .position(|w| w == pk.as_slice())
        .expect("key in extrinsic")
        + pk.len()
        + 10;
    bytes[at] ^= 0x01;
}

#[test]
fn a_bad_signature_is_rejected_with_the_same_reason_in_both_modes() {
    for scheme in KeyScheme::ALL {
        let builder = client();
        let genesis = builder.info().unwrap().best_hash;
        let txs = [
            transfer(&builder, scheme, 0, 5_000),
            transfer(&builder, scheme, 1, 5_000),
        ];
        let mut bad = build(&builder, genesis, 1, &txs);
        flip_signature_byte(&mut bad, 1, scheme);
        let mut reasons = Vec::new();
        for (mode, threads) in both_modes() {
            let mut importer = client();
            importer.set_verify_threads(threads);
            match importer.import_block(bad.clone(), None, true) {
                Err(ImportError::Rejected(why)) => reasons.push(why),
                other => panic!("{scheme:?} {mode}: expected a rejection, got {other:?}"),
            }
            assert_eq!(importer.info().unwrap().best_number, 0, "nothing imported");
        }
        assert!(
            reasons[0].contains("extrinsic 1 is not includable"),
            "{reasons:?}"
        );
        assert_eq!(reasons[0], reasons[1], "{scheme:?}");
    }
}

#[test]
fn rejections_name_their_reason_and_change_nothing() {
    let builder = client();
    let genesis = builder.info().unwrap().best_hash;
    let b1 = build(
        &builder,
        genesis,
        1,
        &[transfer(&builder, KeyScheme::Sr25519, 0, 5_000)],
    );
    let importer = client();

    let mut orphan = b1.clone();
    orphan.header.parent_hash = H256([7; 32]);
    assert!(matches!(
        importer.import_block(orphan, None, true),
        Err(ImportError::UnknownParent(h)) if h == H256([7; 32])
    ));

    let mut skipped = b1.clone();
    skipped.header.number = 5;
    assert!(matches!(
        importer.import_block(skipped, None, true),
        Err(ImportError::BadNumber { parent: 0, got: 5 })
    ));

    let mut wrong_root = b1.clone();
    wrong_root.header.state_root = H256([1; 32]);
    match importer.import_block(wrong_root, None, true) {
        Err(ImportError::Rejected(why)) => assert!(why.contains("state root"), "{why}"),
        other => panic!("expected a state-root rejection, got {other:?}"),
    }

    let mut wrong_xt_root = b1.clone();
    wrong_xt_root.header.extrinsics_root = H256([2; 32]);
    match importer.import_block(wrong_xt_root, None, true) {
        Err(ImportError::Rejected(why)) => assert!(why.contains("extrinsics root"), "{why}"),
        other => panic!("expected an extrinsics-root rejection, got {other:?}"),
    }

    let mut replayed = b1.clone();
    replayed.extrinsics.push(replayed.extrinsics[1].clone());
    match importer.import_block(replayed, None, true) {
        Err(ImportError::Rejected(why)) => assert!(why.contains("extrinsic 2"), "{why}"),
        other => panic!("expected a stale-nonce rejection, got {other:?}"),
    }

    assert_eq!(importer.info().unwrap().best_number, 0);
    assert_eq!(
        importer.import_block(b1.clone(), None, true).unwrap(),
        ImportOutcome::Imported { best: true }
    );
}

#[test]
fn forks_are_kept_and_the_longer_chain_becomes_best() {
    let builder = client();
    let genesis = builder.info().unwrap().best_hash;
    let a1 = build_with(&builder, genesis, 1, &[], false);
    let b1 = build_with(&builder, genesis, 2, &[], false);
    let b2 = build_with(&builder, b1.header.hash(), 3, &[], false);
    assert_ne!(a1.header.hash(), b1.header.hash());

    let importer = client();
    assert_eq!(
        importer.import_block(a1.clone(), None, false).unwrap(),
        ImportOutcome::Imported { best: true }
    );
    // Same height: kept, not best.
    assert_eq!(
        importer.import_block(b1.clone(), None, false).unwrap(),
        ImportOutcome::Imported { best: false }
    );
    let mut children = importer.store().children(genesis).unwrap();
    children.sort();
    let mut expected = vec![a1.header.hash(), b1.header.hash()];
    expected.sort();
    assert_eq!(children, expected);
    assert_eq!(importer.info().unwrap().best_hash, a1.header.hash());
    assert_eq!(importer.hash_of(1).unwrap(), Some(a1.header.hash()));

    // The other fork grows longer: it becomes best and canonical.
    assert_eq!(
        importer.import_block(b2.clone(), None, false).unwrap(),
        ImportOutcome::Imported { best: true }
    );
    let info = importer.info().unwrap();
    assert_eq!((info.best_number, info.best_hash), (2, b2.header.hash()));
    assert_eq!(importer.hash_of(1).unwrap(), Some(b1.header.hash()));
    assert_eq!(importer.hash_of(2).unwrap(), Some(b2.header.hash()));
    // Both forks' states stay readable.
    let b2_hash = b2.header.hash();
    assert!(!importer.version_cached(&b2_hash));
    let first = importer.runtime_version(&a1.header.hash()).unwrap();
    let again = importer.runtime_version(&b2_hash).unwrap();
    // Computed once per block, then shared; an unknown block is an error
    // and is not remembered.
    assert!(importer.version_cached(&b2_hash));
    assert_eq!(importer.runtime_version(&b2_hash).unwrap(), again);
    assert_eq!(first, again);
    let unknown = qstack_core::H256([0xEE; 32]);
    assert!(importer.runtime_version(&unknown).is_err());
    assert!(!importer.version_cached(&unknown));

    // Once b2 is final, a block on the abandoned fork cannot win.
    let finalizer = client();
    for b in [&a1, &b1] {
        finalizer.import_block(b.clone(), None, false).unwrap();
    }
    finalizer.import_block(b2.clone(), None, true).unwrap();
    let a2 = build_with(&builder, a1.header.hash(), 4, &[], false);
    let a3 = build_with(&builder, a2.header.hash(), 5, &[], false);
    finalizer.import_block(a2, None, false).unwrap();
    assert!(finalizer.import_block(a3, None, false).is_err());
    assert_eq!(finalizer.info().unwrap().best_hash, b2.header.hash());
}

#[test]
fn an_engine_chooses_the_best_block_and_finalises_later() {
    let builder = client();
    let genesis = builder.info().unwrap().best_hash;
    let a1 = build_with(&builder, genesis, 1, &[], false);
    let b1 = build_with(&builder, genesis, 2, &[], false);
    let b2 = build_with(&builder, b1.header.hash(), 3, &[], false);
    let c = client();
    for b in [&a1, &b1] {
        c.import_block(b.clone(), None, false).unwrap();
    }
    assert_eq!(c.info().unwrap().best_hash, a1.header.hash());
    let mut best = c.subscribe_best();
    let mut finalized = c.subscribe_finalized();

    // A fork choice (PoW's heavier subtree): the other block of the same
    // height becomes best; subscribers hear of it.
    c.set_best(b1.header.hash()).unwrap();
    assert_eq!(c.info().unwrap().best_hash, b1.header.hash());
    assert_eq!(c.hash_of(1).unwrap(), Some(b1.header.hash()));
    assert_eq!(best.try_recv().unwrap().hash(), b1.header.hash());

    // Finality later, k deep, with a justification stored beside it.
    c.import_block(b2.clone(), None, false).unwrap();
    c.finalize(b1.header.hash(), Some(b"seal".to_vec()))
        .unwrap();
    assert_eq!(c.info().unwrap().finalized_hash, b1.header.hash());
    assert_eq!(finalized.try_recv().unwrap().hash(), b1.header.hash());
    assert_eq!(
        c.store().justification(b1.header.hash()).unwrap(),
        Some(b"seal".to_vec())
    );
    // Now no choice may leave the finalised chain, and a refusal changes nothing.
    assert!(c.set_best(a1.header.hash()).is_err());
    assert_eq!(c.info().unwrap().best_hash, b2.header.hash());
    assert!(c.set_best(H256([9; 32])).is_err());
}
