//! Signature verification cost per scheme: the CPU side of admitting a
//! transaction (DESIGN §4 compares these against length limits).

// `criterion_group!` generates an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use qstack_core::{verify, KeyScheme, Pair};

/// A transfer-sized payload: what a transaction signs.
const MSG: &[u8] = &[0x5a; 128];

fn bench_verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(1));
    for scheme in KeyScheme::ALL {
        let pair = Pair::from_seed(scheme, &[7u8; 32]);
        let public = pair.public();
        let sig = pair.sign(MSG);
        assert!(
            verify(&sig, MSG, &public),
            "{scheme:?} signature must verify"
        );
        group.bench_function(scheme.name(), |b| {
            b.iter(|| verify(black_box(&sig), black_box(MSG), black_box(&public)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_verify);
criterion_main!(benches);
