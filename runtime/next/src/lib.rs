//! The forkless-upgrade tests' second runtime: the qstack runtime built
//! with the `upgrade-demo` feature (notary storage version 1 with a
//! multi-block migration, and a new `Notary.revoke` call) and
//! `spec_version` 2. Test-only; never shipped.

/// The Wasm blob (empty when built with `QSTACK_SKIP_WASM_BUILD=1`).
pub const WASM_BINARY: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/qstack_runtime_next.wasm"));

/// Its spec_version.
pub const SPEC_VERSION: u32 = 2;

/// The same with a deliberately broken storage migration (one owner's note
/// count drops by one), `spec_version` 3: what `qstack try-upgrade` must
/// report before anyone votes for it.
pub const BROKEN_WASM_BINARY: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/qstack_runtime_broken.wasm"));
