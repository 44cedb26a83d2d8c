# Sourced by test.sh and dev.sh so both build exactly the same units: one
# build of every dependency (RocksDB's C++ above all) serves the lints, the
# tests and the dev node.
#
# Lints run inside the test build: clippy-driver wraps rustc for workspace
# members only (dependencies are built as plain `cargo test` builds them),
# with warnings denied. A separate `cargo clippy` would check dependencies
# in check mode, whose build-script dependencies (bindgen's) are built with
# other profiles, so RocksDB's C++ (~20 minutes) would be compiled twice.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/qstack-target}"
RUSTC_WORKSPACE_WRAPPER="$(rustc --print sysroot)/bin/clippy-driver"
export RUSTC_WORKSPACE_WRAPPER
# clippy-driver's argument channel (what `cargo clippy -- -D warnings` sets).
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
# Every target of every member, in the test profile: what `cargo test
# --workspace` runs, plus benchmarks and examples, so they are linted too.
qstack_build_all() {
  cargo test --workspace --all-targets --locked --no-run "$@"
}
