#!/usr/bin/env bash
# Runs every check CI runs: formatting, lints (warnings denied) and the whole
# test suite. The first run on a fresh machine builds wasmtime and the other
# heavy dependencies (see README for times); later runs are incremental.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/qstack-target}"

echo "== cargo fmt"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
echo "== all checks passed"
