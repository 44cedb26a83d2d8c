//! What a forkless upgrade costs a node, from the block that sets the code
//! to the first block on it: vetting the new code (compile, export check,
//! `Core_version` dry run) when the setting block is built or checked, and
//! the first call of the new code afterwards. Cold: a fresh executor
//! compiles the code; warm: the vetting compilation is cached, as on a
//! node (the first block on the new code pays no compilation). The floor
//! is a call of the running runtime.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use qstack_executor::{Executor, ExecutorConfig};
use qstack_io::{OverlayExt, TestExternalities};
use qstack_runtime::{VERSION, WASM_BINARY};

fn version_call(exec: &Executor, code: &[u8]) {
    let mut ext = TestExternalities::new();
    let mut oe = OverlayExt::new(&mut ext.overlay, &ext.backend);
    exec.call(code, &mut oe, "Core_version", &[])
        .expect("Core_version");
}

fn bench(c: &mut Criterion) {
    let next = qstack_runtime_next::WASM_BINARY;
    assert!(!next.is_empty(), "the next runtime was built");
    let mut g = c.benchmark_group("upgrade");
    g.sample_size(10);
    g.bench_function("cold: vet (compile + dry run) then the first call", |b| {
        b.iter(|| {
            let exec = Executor::new(ExecutorConfig::default()).expect("engine");
            exec.vet_upgrade(next, &VERSION).expect("vetted");
            version_call(&exec, next);
        })
    });
    let exec = Executor::new(ExecutorConfig::default()).expect("engine");
    exec.vet_upgrade(next, &VERSION).expect("vetted");
    g.bench_function("warm: the first call after vetting (cached)", |b| {
        b.iter(|| version_call(&exec, next))
    });
    exec.prepare(WASM_BINARY).expect("running runtime");
    g.bench_function("floor: a call of the running runtime", |b| {
        b.iter(|| version_call(&exec, WASM_BINARY))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
