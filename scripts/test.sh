#!/usr/bin/env bash
# Runs every check CI runs: formatting, lints (warnings denied) and the whole
# test suite. The first run on a fresh machine builds wasmtime and the other
# heavy dependencies (see README for times); later runs are incremental.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# shellcheck source=scripts/build-env.sh
. ./scripts/build-env.sh

echo "== cargo fmt"
cargo fmt --all -- --check
echo "== build every target, clippy lints denied (clippy-driver wraps rustc)"
qstack_build_all
echo "== cargo test"
cargo test --workspace --locked
echo "== the upgrade tests' next runtime, natively (its migration and new call)"
cargo test --locked -p pallet-notary --features upgrade-demo
echo "== all checks passed"
