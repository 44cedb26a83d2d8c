#!/usr/bin/env bash
# Runs a development chain: installs what a fresh machine lacks, builds the
# node, and starts `qstack --dev` (RocksDB under ~/.local/share/qstack, blocks
# every second, JSON-RPC on 127.0.0.1:9944). Extra arguments go to qstack,
# e.g. `./scripts/dev.sh --instant-seal` or `./scripts/dev.sh -d /tmp/chain`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# shellcheck source=scripts/build-env.sh
. ./scripts/build-env.sh
# The same build as ./scripts/test.sh (so one after the other builds
# nothing twice); the node binary is one of its outputs.
qstack_build_all
exec "$CARGO_TARGET_DIR/debug/qstack" --dev "$@"
