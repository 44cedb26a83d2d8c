//! Executor benchmarks: cost of a runtime call (instantiation + call), and
//! import throughput of a block of signed transfers per key scheme, reported
//! beside the bare signature-verification rate measured in the same run.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use codec::{Decode, Encode};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use qstack_core::{Address, KeyScheme, Pair, H256};
use qstack_executor::{Executor, ExecutorConfig};
use qstack_io::{OverlayExt, OverlayedChanges, TestExternalities};
use qstack_runtime::executive::BlockError;
use qstack_runtime::signing::{sign, ChainContext, TxOptions};
use qstack_runtime::{tokens, Block, Extrinsic, RuntimeCall, WASM_BINARY};
use qstack_runtime_primitives::{ApplyExtrinsicResult, Header, SignedPayload};
use std::collections::BTreeMap;

const TXS: u32 = 200;

fn call(
    exec: &Executor,
    overlay: &mut OverlayedChanges,
    state: &TestExternalities,
    method: &str,
    input: &[u8],
) -> Vec<u8> {
    // The node's hot path: compiled once (cache), no code hashing per call.
    static RT: std::sync::OnceLock<std::sync::Arc<qstack_executor::CompiledRuntime>> =
        std::sync::OnceLock::new();
    let rt = RT.get_or_init(|| exec.prepare(WASM_BINARY).unwrap());
    let mut ext = OverlayExt::new(overlay, &state.backend);
    exec.call_compiled(rt, &mut ext, method, input)
        .expect(method)
}

fn setup(exec: &Executor, scheme: KeyScheme) -> (TestExternalities, Block) {
    let alice = Pair::from_suri(scheme, "//Alice").unwrap();
    let bob = Pair::from_suri(KeyScheme::Sr25519, "//Bob").unwrap();
    let json = format!(
        r#"{{"balances":{{"balances":[["{}", "1000000000000000000"]]}}}}"#,
        Address::from(alice.account_id())
    );
    let mut state = TestExternalities::new();
    let mut overlay = OverlayedChanges::default();
    overlay.set(b":code", Some(WASM_BINARY.to_vec()));
    call(
        exec,
        &mut overlay,
        &state,
        "GenesisBuilder_build_state",
        &json.into_bytes().encode(),
    );
    state.overlay = overlay;
    let genesis = Header::genesis(H256(state.commit_all())).hash();
    let ctx = ChainContext::new(genesis);
    let mut overlay = OverlayedChanges::default();
    let header = Header {
        parent_hash: genesis,
        number: 1,
        state_root: H256::zero(),
        extrinsics_root: H256::zero(),
        digest: Default::default(),
    };
    call(
        exec,
        &mut overlay,
        &state,
        "Core_initialize_block",
        &header.encode(),
    );
    let mut data = BTreeMap::new();
    data.insert(*b"timstap0", 1u64.encode());
    let mut xts = Vec::<Extrinsic>::decode(
        &mut &call(
            exec,
            &mut overlay,
            &state,
            "BlockBuilder_inherent_extrinsics",
            &data.encode(),
        )[..],
    )
    .unwrap();
    for n in 0..TXS {
        let c = RuntimeCall::Tokens(tokens::Call::Transfer {
            dest: bob.account_id(),
            value: 10_000,
            dest_tag: None,
        });
        xts.push(sign(&alice, c, &ctx, &TxOptions::nonce(n)));
    }
    for xt in &xts {
        let r = ApplyExtrinsicResult::decode(
            &mut &call(
                exec,
                &mut overlay,
                &state,
                "BlockBuilder_apply_extrinsic",
                &xt.encode(),
            )[..],
        )
        .unwrap();
        assert_eq!(r, Ok(Ok(())));
    }
    let header = Result::<Header, BlockError>::decode(
        &mut &call(
            exec,
            &mut overlay,
            &state,
            "BlockBuilder_finalize_block",
            &[],
        )[..],
    )
    .unwrap()
    .unwrap();
    (
        state,
        Block {
            header,
            extrinsics: xts,
        },
    )
}

fn bench(c: &mut Criterion) {
    let exec = Executor::new(ExecutorConfig::default()).unwrap();
    let empty = TestExternalities::new();
    c.bench_function("call/Core_version", |b| {
        b.iter(|| {
            let mut overlay = OverlayedChanges::default();
            call(&exec, &mut overlay, &empty, "Core_version", &[])
        })
    });
    // A trivial module: the engine's own per-call floor (store, instance, fuel).
    let tiny = wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "alloc") (param i32) (result i32) (i32.const 16))
        (func (export "f") (param i32 i32) (result i64) (i64.const 0x0000000100000010)))"#).unwrap();
    c.bench_function("call/trivial_module", |b| {
        b.iter(|| {
            let mut overlay = OverlayedChanges::default();
            let mut ext = OverlayExt::new(&mut overlay, &empty.backend);
            exec.call(&tiny, &mut ext, "f", &[]).unwrap()
        })
    });
    let mut g = c.benchmark_group("import_block");
    g.sample_size(10);
    g.throughput(Throughput::Elements(u64::from(TXS)));
    for scheme in KeyScheme::ALL {
        let (state, block) = setup(&exec, scheme);
        let encoded = block.encode();
        g.bench_with_input(
            BenchmarkId::new("transfers", scheme.name()),
            &encoded,
            |b, encoded| {
                b.iter(|| {
                    let mut overlay = OverlayedChanges::default();
                    let out = call(&exec, &mut overlay, &state, "Core_execute_block", encoded);
                    assert_eq!(
                        Result::<(), BlockError>::decode(&mut &out[..]).unwrap(),
                        Ok(())
                    );
                })
            },
        );
    }
    g.finish();
    let mut g = c.benchmark_group("verify");
    for scheme in KeyScheme::ALL {
        let pair = Pair::from_suri(scheme, "//Alice").unwrap();
        let payload = SignedPayload::new(
            &1u8,
            &qstack_runtime_primitives::SignedExtra {
                era: qstack_runtime_primitives::Era::Immortal,
                nonce: 0,
                ticket: None,
                tip: 0,
            },
            &qstack_runtime_primitives::extrinsic::AdditionalSigned {
                spec_version: 1,
                transaction_version: 1,
                genesis_hash: H256::zero(),
                birth_hash: H256::zero(),
                account: pair.account_id(),
                form: qstack_runtime_primitives::SignForm::Master,
            },
        );
        let sig = pair.sign(payload.as_bytes());
        let pk = pair.public();
        g.throughput(Throughput::Elements(1));
        g.bench_function(scheme.name(), |b| {
            b.iter(|| assert!(qstack_core::verify(&sig, payload.as_bytes(), &pk)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
