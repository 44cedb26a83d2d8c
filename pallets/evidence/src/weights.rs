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
    /// sr25519 double precommit (93.3–97.3 µs; the pure check alone,
    /// two verifications, 81.0–88.6 µs).
    pub const REPORT_SR25519: u64 = 98_000;
    /// Falcon-512 double precommit (33.6–38.8 µs; check 29.3–31.0 µs).
    pub const REPORT_FALCON512: u64 = 39_000;
    /// ML-DSA-44 double precommit (79.2–84.6 µs; check 71.5–76.8 µs).
    pub const REPORT_MLDSA44: u64 = 85_000;
    /// Hybrid double precommit (101.2–104.5 µs; check 91.1–94.6 µs).
    pub const REPORT_HYBRID: u64 = 105_000;
    /// A report's fixed part (origin, bounds, flag, count): already inside
    /// each figure above once, charged once more per report as margin.
    pub const REPORT_BASE: u64 = 5_000;
    /// The staking pallet's slash of the offender at its worst: 511
    /// unbondings and redelegations leaving it after the offence
    /// (2.79–3.19 ms, `cargo bench -p pallet-staking -- slash`).
    pub const SLASH_WORST: u64 = 3_200_000;
}

/// Declared weight (ps) of a measured native time (ns).
pub fn ps_of(ns: u64) -> u64 {
    ns.saturating_mul(1_000).saturating_mul(SAFETY_FACTOR)
}

/// Weight of checking and recording `evidence`, by its signatures' scheme
/// (the heavier of the two, so a mixed pair cannot under-pay), and of the
/// slash it leads to.
pub fn evidence_weight(evidence: &Evidence) -> u64 {
    let per = |s: KeyScheme| match s {
        KeyScheme::Sr25519 => measured_ns::REPORT_SR25519,
        KeyScheme::Falcon512 => measured_ns::REPORT_FALCON512,
        KeyScheme::MlDsa44 => measured_ns::REPORT_MLDSA44,
        KeyScheme::Hybrid => measured_ns::REPORT_HYBRID,
    };
    let [a, b] = evidence.signatures();
    ps_of(
        per(a.scheme())
            .max(per(b.scheme()))
            .saturating_add(measured_ns::SLASH_WORST),
    )
}

/// The weight of `call`.
pub fn call_weight(call: &Call) -> u64 {
    match call {
        Call::Report { evidence } => evidence
            .iter()
            .map(evidence_weight)
            .fold(ps_of(measured_ns::REPORT_BASE), u64::saturating_add),
    }
}
