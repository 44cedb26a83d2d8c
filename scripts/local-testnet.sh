#!/usr/bin/env bash
# Runs a local multi-node testnet on loopback from chain-specs/local.json:
# node-0 authors (`--validator`, a block every 2 s), node-1 … node-(N-1) follow
# it with `--bootnodes`. Ctrl-C (or SIGTERM) stops every node cleanly.
#
#   ./scripts/local-testnet.sh [N] [--bft] [--purge] [-- EXTRA QSTACK ARGS…]
#
#   N         number of nodes, at least 1 (default 4)
#   --bft     run chain-specs/local-bft.json instead: nodes 0-3 are its four
#             BFT validators (keys //Alice hybrid, //Bob hybrid, //Charlie
#             sr25519, //Dave falcon512, stored with `qstack key insert`),
#             any further nodes follow; blocks are final when committed
#   --purge   delete the nodes' base paths (chains and network keys) first
#   -- ARGS   passed to every node, e.g. `-- --state-pruning archive`
#
# Node i: base path $QSTACK_TESTNET_DIR/node-i (default
# /tmp/qstack-local-testnet/node-i), log $QSTACK_TESTNET_DIR/node-i.log,
# RPC 127.0.0.1:$((QSTACK_TESTNET_RPC_BASE + i)) (default base 9944),
# p2p /ip4/127.0.0.1/tcp/$((QSTACK_TESTNET_P2P_BASE + i)) (default base 30333),
# network key $QSTACK_TESTNET_DIR/node-i/node-key (made by
# `qstack key generate-node-key`, so peer ids survive restarts).
#
# The node binary: $QSTACK_BIN if set, else scripts/setup.sh runs and the
# binary is built as scripts/dev.sh builds it.
set -euo pipefail

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
die() {
  echo "local-testnet: $*" >&2
  exit 1
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

nodes=4
purge=0
chain=local
bft_keys=("//Alice hybrid" "//Bob hybrid" "//Charlie sr25519" "//Dave falcon512")
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
  --purge) purge=1 ;;
  --bft) chain=local-bft ;;
  -h | --help)
    usage
    exit 0
    ;;
  --)
    shift
    extra=("$@")
    break
    ;;
  *[!0-9]* | '') die "unknown argument '$1' (usage: $0 [N] [--purge] [-- qstack args…])" ;;
  *) nodes=$((10#$1)) ;;
  esac
  shift
done
[ "$nodes" -ge 1 ] || die "N must be at least 1"

dir="${QSTACK_TESTNET_DIR:-/tmp/qstack-local-testnet}"
[ -n "$dir" ] || die "QSTACK_TESTNET_DIR is empty"
rpc_base="${QSTACK_TESTNET_RPC_BASE:-9944}"
p2p_base="${QSTACK_TESTNET_P2P_BASE:-30333}"
for v in "$rpc_base" "$p2p_base"; do
  case "$v" in *[!0-9]* | '') die "port bases must be numbers, got '$v'" ;; esac
done
[ $((rpc_base + nodes - 1)) -le 65535 ] && [ $((p2p_base + nodes - 1)) -le 65535 ] &&
  [ "$rpc_base" -ge 1 ] && [ "$p2p_base" -ge 1 ] || die "port ranges out of 1..65535"
if [ $((rpc_base + nodes)) -gt "$p2p_base" ] && [ $((p2p_base + nodes)) -gt "$rpc_base" ]; then
  die "RPC ports $rpc_base.. and p2p ports $p2p_base.. overlap"
fi

# The binary.
if [ -n "${QSTACK_BIN:-}" ]; then
  [ -f "$QSTACK_BIN" ] && [ -x "$QSTACK_BIN" ] || die "QSTACK_BIN=$QSTACK_BIN is not an executable file"
  bin="$QSTACK_BIN"
else
  "$root/scripts/setup.sh"
  # shellcheck source=scripts/build-env.sh
  . "$root/scripts/build-env.sh"
  (cd "$root" && qstack_build_all)
  bin="$CARGO_TARGET_DIR/debug/qstack"
fi

# One JSON-RPC call on 127.0.0.1:port; prints the response body.
rpc() {
  local port=$1 method=$2
  local body='{"jsonrpc":"2.0","id":1,"method":"'"$method"'","params":[]}'
  if command -v curl >/dev/null 2>&1; then
    curl -sf --max-time 5 -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$port"
  else
    (
      exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
      printf 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
        "${#body}" "$body" >&3
      timeout 5 cat <&3 | sed '1,/^\r$/d'
    )
  fi
}

# Whether something accepts connections on 127.0.0.1:port.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pids=()
names=()
stopping=0

alive() {
  local pid=$1 state
  kill -0 "$pid" 2>/dev/null || return 1
  # A zombie (exited, not yet reaped) answers kill -0 too.
  if [ -r "/proc/$pid/stat" ]; then
    state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ "$state" != Z ] || return 1
  fi
}

# Stops every node: SIGINT (as Ctrl-C), up to 20 s for all to exit, then SIGKILL.
stop_nodes() {
  local pid i left deadline
  [ ${#pids[@]} -gt 0 ] || return 0
  echo "local-testnet: stopping ${#pids[@]} node(s)…" >&2
  for pid in "${pids[@]}"; do
    kill -INT "$pid" 2>/dev/null || true
  done
  deadline=$((SECONDS + 20))
  while :; do
    left=0
    for pid in "${pids[@]}"; do
      if alive "$pid"; then left=$((left + 1)); fi
    done
    [ "$left" -gt 0 ] && [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.2
  done
  for i in "${!pids[@]}"; do
    if alive "${pids[$i]}"; then
      echo "local-testnet: ${names[$i]} did not stop on SIGINT; killing it" >&2
      kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  pids=()
  echo "local-testnet: all nodes stopped" >&2
}

cleanup() {
  local rc=$?
  trap '' INT TERM
  set +e
  stop_nodes
  exit "$rc"
}
trap cleanup EXIT
trap 'stopping=1; exit 0' INT TERM

mkdir -p "$dir"
if [ "$purge" -eq 1 ]; then
  echo "local-testnet: purging $dir/node-*"
  rm -rf -- "$dir"/node-[0-9]*
fi

for ((i = 0; i < nodes; i++)); do
  for port in $((rpc_base + i)) $((p2p_base + i)); do
    ! port_open "$port" || die "port $port on 127.0.0.1 is already in use (stop the other testnet, or set QSTACK_TESTNET_RPC_BASE / QSTACK_TESTNET_P2P_BASE)"
  done
done

# Network keys first, so every peer id (node-0's for --bootnodes) is known before start.
peer_ids=()
for ((i = 0; i < nodes; i++)); do
  key="$dir/node-$i/node-key"
  if [ ! -f "$key" ]; then
    "$bin" key generate-node-key --file "$key" 2>/dev/null
  fi
  peer_ids[i]=$("$bin" key inspect-node-key --file "$key") || die "cannot read the network key $key"
done
bootnode="/ip4/127.0.0.1/tcp/$p2p_base/p2p/${peer_ids[0]}"

# BFT: the validators' consensus keys in their keystores.
is_validator() { [ "$1" -eq 0 ] || { [ "$chain" = local-bft ] && [ "$1" -lt 4 ]; }; }
if [ "$chain" = local-bft ]; then
  for ((i = 0; i < nodes && i < 4; i++)); do
    if [ ! -f "$dir/node-$i/chains/local_bft/keystore/validator.json" ]; then
      read -r suri scheme <<<"${bft_keys[i]}"
      "$bin" key insert --chain local-bft -d "$dir/node-$i" --suri "$suri" --scheme "$scheme" >/dev/null ||
        die "cannot store the validator key of node-$i"
    fi
  done
fi

# Starts node i in the background.
start_node() {
  local i=$1
  local args=(
    --chain "$chain"
    -d "$dir/node-$i"
    --name "node-$i"
    --rpc-port $((rpc_base + i))
    --listen-addr "/ip4/127.0.0.1/tcp/$((p2p_base + i))"
    --node-key-file "$dir/node-$i/node-key"
    --no-mdns
  )
  if is_validator "$i"; then
    args+=(--validator)
  fi
  if [ "$i" -ne 0 ]; then
    args+=(--bootnodes "$bootnode")
  fi
  "$bin" "${args[@]}" ${extra[@]+"${extra[@]}"} </dev/null >"$dir/node-$i.log" 2>&1 &
  pids[i]=$!
  names[i]="node-$i"
}

# Waits until node i answers RPC (60 s at most).
wait_rpc() {
  local i=$1 deadline=$((SECONDS + 60))
  until rpc $((rpc_base + i)) system_health >/dev/null 2>&1; do
    alive "${pids[$i]}" || die "node-$i exited during start-up; see $dir/node-$i.log:
$(tail -n 20 "$dir/node-$i.log")"
    [ "$SECONDS" -lt "$deadline" ] || die "node-$i did not answer RPC within 60 s; see $dir/node-$i.log"
    sleep 0.2
  done
}

echo "local-testnet: starting $nodes node(s) of chain-specs/$chain.json in $dir"
start_node 0
wait_rpc 0
for ((i = 1; i < nodes; i++)); do start_node "$i"; done
for ((i = 1; i < nodes; i++)); do wait_rpc "$i"; done

echo
printf '%-8s %-10s %-24s %-54s %s\n' NAME ROLE RPC "PEER ID" LOG
for ((i = 0; i < nodes; i++)); do
  role=follower
  if is_validator "$i"; then role=validator; fi
  printf '%-8s %-10s %-24s %-54s %s\n' "node-$i" "$role" "http://127.0.0.1:$((rpc_base + i))" \
    "${peer_ids[i]}" "$dir/node-$i.log"
done
echo
echo "Bootnode: $bootnode"
echo "Join another node: $bin --chain $chain -d /tmp/extra --rpc-port <port> --port <p2p port> --bootnodes $bootnode"
echo "Press Ctrl-C to stop every node."

# Until a signal (trap above) or a node dies on its own.
while :; do
  rc=0
  wait -n || rc=$?
  [ "$stopping" -eq 0 ] || exit 0
  for i in "${!pids[@]}"; do
    if ! alive "${pids[$i]}"; then
      echo "local-testnet: node-$i exited unexpectedly (status $rc); last lines of $dir/node-$i.log:" >&2
      tail -n 20 "$dir/node-$i.log" >&2 || true
      exit 1
    fi
  done
done
