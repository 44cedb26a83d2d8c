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
# The Python client test (node/cli/tests/it/python.rs) runs
# substrate-interface in a virtualenv (Debian's python3 lacks `venv` without
# python3-venv).
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_apt+=(python3-venv)
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

# Python packages of the substrate-interface test, exactly as pinned: a fresh
# virtualenv whenever requirements.txt changed since the last install (the
# stamp), so a package dropped from the list does not linger.
py="$root/tests/python"
venv="$py/.venv"
stamp="$venv/.requirements-installed"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$stamp" ] ||
  [ "$py/requirements.txt" -nt "$stamp" ]; then
  echo "setup: installing Python packages in tests/python/.venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --require-virtualenv -r "$py/requirements.txt"
  touch "$stamp"
fi

echo "setup: ok"
