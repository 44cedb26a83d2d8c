//! Cost of multi-signed transactions: a 3-of-5 hybrid (Falcon-512 + ML-DSA-44)
//! multisig transfer, next to a single hybrid transfer — the bare signature
//! checks, and the whole `apply_extrinsic` (authorisation, three
//! verifications, fee, dispatch) on native state, which is what the declared
//! per-signature weight must cover.
//!
//! `cargo bench -p qstack-runtime --bench multisig`
#![allow(missing_docs)] // criterion's macros generate undocumented items

use codec::Encode;
use criterion::{criterion_group, criterion_main, Criterion};
use qstack_core::{Address, KeyScheme, Pair, H256};
use qstack_io::TestExternalities;
use qstack_runtime::signing::{
    multi_signed, payload, sign, signer_signature, ChainContext, SignForm, TxOptions,
};
use qstack_runtime::{accounts, executive, genesis, timestamp, tokens, Extrinsic, RuntimeCall};
use qstack_runtime_primitives::{Header, SignerEntry, SignerKey};

fn dev(scheme: KeyScheme, name: &str) -> Pair {
    Pair::from_suri(scheme, &format!("//{name}")).expect("dev key")
}

fn header(number: u32, parent: H256) -> Header {
    Header {
        parent_hash: parent,
        number,
        state_root: H256::zero(),
        extrinsics_root: H256::zero(),
        digest: Default::default(),
    }
}

fn start(ext: &mut TestExternalities, number: u32, parent: H256, now: u64) {
    ext.execute_with(|| {
        executive::initialize_block(&header(number, parent));
        let t = Extrinsic::new_unsigned(RuntimeCall::Timestamp(timestamp::Call::Set { now }));
        assert_eq!(executive::apply_extrinsic(&t.encode()), Ok(Ok(())));
    });
}

/// State after block 1: `m` (hybrid, endowed, key registered) has a signer
/// list of `signers` (weight 1 each) with `quorum`; `single` (hybrid) is
/// endowed and registered too. Returns the state and chain context, with
/// block 2 started.
fn setup(
    m: &Pair,
    single: &Pair,
    signers: &[Pair],
    quorum: u32,
) -> (TestExternalities, ChainContext) {
    let json = format!(
        r#"{{"balances":{{"balances":[["{}", "1000000000000000"], ["{}", "1000000000000000"]]}}}}"#,
        Address::from(m.account_id()),
        Address::from(single.account_id())
    );
    let mut ext = TestExternalities::new();
    ext.execute_with(|| genesis::build_state(json.as_bytes()))
        .expect("genesis");
    let root = ext.commit_all();
    let genesis_hash = Header::genesis(H256(root)).hash();
    let ctx = ChainContext::new(genesis_hash);
    start(&mut ext, 1, genesis_hash, 1_000);
    let set = RuntimeCall::Accounts(accounts::Call::SetSigners {
        quorum,
        signers: signers
            .iter()
            .map(|p| SignerEntry {
                account: p.account_id(),
                weight: 1,
            })
            .collect(),
    });
    let register = RuntimeCall::System(qstack_runtime::system::Call::Remark { remark: vec![] });
    ext.execute_with(|| {
        let xt = sign(m, set, &ctx, &TxOptions::nonce(0));
        assert_eq!(executive::apply_extrinsic(&xt.encode()), Ok(Ok(())));
        let xt = sign(single, register, &ctx, &TxOptions::nonce(0));
        assert_eq!(executive::apply_extrinsic(&xt.encode()), Ok(Ok(())));
    });
    let parent = ext
        .execute_with(executive::finalize_block)
        .expect("block 1")
        .hash();
    ext.commit_all();
    start(&mut ext, 2, parent, 3_000);
    (ext, ctx)
}

fn bench(c: &mut Criterion) {
    let m = dev(KeyScheme::Hybrid, "Multi");
    let single = dev(KeyScheme::Hybrid, "Single");
    let signers: Vec<Pair> = (0..5)
        .map(|i| dev(KeyScheme::Hybrid, &format!("Signer{i}")))
        .collect();
    let (mut ext, ctx) = setup(&m, &single, &signers, 3);
    let bob = dev(KeyScheme::Sr25519, "Bob").account_id();
    let call = RuntimeCall::Tokens(tokens::Call::Transfer {
        dest: bob,
        value: 1_000_000,
        dest_tag: None,
    });
    let opts = TxOptions {
        include_key: false,
        ..TxOptions::nonce(1)
    };
    // Signers 4, 0 and 2 (any order), their keys carried inline: the worst
    // case for size; registered keys would make the extrinsic smaller.
    let (extra, msg) = payload(&call, &ctx, &opts, m.account_id(), SignForm::Multi);
    let sigs: Vec<_> = [4usize, 0, 2]
        .iter()
        .map(|&i| signer_signature(&signers[i], SignerKey::Key(signers[i].public()), &msg))
        .collect();
    let checks: Vec<_> = sigs
        .iter()
        .map(|s| {
            let SignerKey::Key(pk) = &s.signer else {
                unreachable!()
            };
            (
                s.signature.clone(),
                msg.for_signer(&s.signer.account()),
                pk.clone(),
            )
        })
        .collect();
    let multi = multi_signed(m.account_id(), call.clone(), extra, sigs).encode();
    let single_xt = sign(
        &single,
        call.clone(),
        &ctx,
        &TxOptions {
            include_key: false,
            ..TxOptions::nonce(1)
        },
    )
    .encode();
    println!(
        "3-of-5 hybrid multisig transfer: {} bytes, weight {}, fee {}; single hybrid transfer: {} bytes, weight {}, fee {}",
        multi.len(),
        executive::query_info(&multi, multi.len() as u32).0,
        executive::query_info(&multi, multi.len() as u32).2,
        single_xt.len(),
        executive::query_info(&single_xt, single_xt.len() as u32).0,
        executive::query_info(&single_xt, single_xt.len() as u32).2,
    );

    let mut g = c.benchmark_group("multisig");
    g.sample_size(20);
    g.bench_function("verify 3 hybrid signatures", |b| {
        b.iter(|| {
            for (sig, msg, pk) in &checks {
                assert!(qstack_core::verify(sig, msg, pk));
            }
        })
    });
    g.bench_function("apply 3-of-5 hybrid multisig transfer", |b| {
        b.iter(|| {
            ext.execute_with(|| {
                qstack_io::storage::start_transaction();
                let r = executive::apply_extrinsic(&multi);
                qstack_io::storage::rollback_transaction();
                assert_eq!(r, Ok(Ok(())));
            })
        })
    });
    g.bench_function("apply single hybrid transfer", |b| {
        b.iter(|| {
            ext.execute_with(|| {
                qstack_io::storage::start_transaction();
                let r = executive::apply_extrinsic(&single_xt);
                qstack_io::storage::rollback_transaction();
                assert_eq!(r, Ok(Ok(())));
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
