#!/usr/bin/env bash
# Installs everything a fresh machine needs to build and test qstack.
# Idempotent: safe to run again; it only installs what is missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

need_apt=()
# RocksDB's bindgen needs libclang (node/storage); clang compiles its C++.
command -v clang >/dev/null 2>&1 || need_apt+=(clang)
dpkg -s libclang-dev >/dev/null 2>&1 || need_apt+=(libclang-dev)
# The polkadot.js compatibility test (node/cli/tests/it/polkadot_js.rs) runs
# @polkadot/api under Node.js (18 or later).
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# The README's five-minute tour reads JSON output with jq.
command -v jq >/dev/null 2>&1 || need_apt+=(jq)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

# The runtime is also built for Wasm.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "setup: adding the wasm32-unknown-unknown Rust target"
  rustup target add wasm32-unknown-unknown
fi

# npm packages of the polkadot.js test, exactly as locked; again when the lock
# changed since the last install (npm keeps a copy in node_modules).
pjs="$root/tests/polkadot-js"
if [ ! -f "$pjs/node_modules/.package-lock.json" ] ||
  [ "$pjs/package-lock.json" -nt "$pjs/node_modules/.package-lock.json" ]; then
  echo "setup: installing npm packages in tests/polkadot-js"
  (cd "$pjs" && npm ci --no-audit --no-fund)
fi

echo "setup: ok"
