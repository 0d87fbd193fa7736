#!/usr/bin/env bash
# Timoneiro on a simulated cluster: no Kubernetes needed.
#
# Builds release binaries (the speed a user gets; the first build takes a
# few minutes), starts timoneiro-sim with a seeded cluster under
# churn, starts timoneirod on it, shows `timoneiro status` and a filtered
# `timoneiro get pods -A`, then (in a terminal) opens timoneiro-tui on the
# live cluster. Quitting the TUI (q) stops everything.
#
#   scripts/demo.sh                     10,000 pods in 20 namespaces, 50 changes/s
#   PODS=100000 NAMESPACES=50 scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PODS=${PODS:-10000}
NAMESPACES=${NAMESPACES:-20}
CHURN=${CHURN:-50}

echo "==> building release binaries (cargo build --release --workspace; the first build takes a few minutes)"
cargo build --release --workspace --quiet
bin=target/release

work=$(mktemp -d "${TMPDIR:-/tmp}/timoneiro-demo.XXXXXX")
chmod 700 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "==> starting timoneiro-sim: $PODS pods in $NAMESPACES namespaces, $CHURN changes/s"
"$bin/timoneiro-sim" --pods "$PODS" --namespaces "$NAMESPACES" --churn-rate "$CHURN" \
  --crd widgets --kubeconfig-out "$work/kubeconfig" >"$work/sim.out" 2>"$work/sim.log" &
pids+=($!)
# Wait for the sim's "listening" line (it prints it once the kubeconfig is written).
until grep -q listening "$work/sim.out" 2>/dev/null; do
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/sim.log"; exit 1; }
  sleep 0.1
done
cat "$work/sim.out"

export TIMONEIRO_SOCKET="$work/run/timoneirod.sock"
echo "==> starting timoneirod (logs: $work/daemon.log)"
"$bin/timoneirod" --kubeconfig "$work/kubeconfig" 2>"$work/daemon.log" &
pids+=($!)
until grep -q "timoneirod listening" "$work/daemon.log" 2>/dev/null; do
  kill -0 "${pids[1]}" 2>/dev/null || { cat "$work/daemon.log"; exit 1; }
  sleep 0.1
done

echo
echo "\$ timoneiro get pods -A --filter 'web !analytics' --limit 15     # waits for pods to sync"
"$bin/timoneiro" get pods -A --filter 'web !analytics' --limit 15 --timeout 120s
echo
echo "\$ timoneiro get pods -A --filter CrashLoopBackOff -o wide --limit 5"
"$bin/timoneiro" get pods -A --filter CrashLoopBackOff -o wide --limit 5
echo
echo "\$ timoneiro get nodes -o wide --limit 3       # tier 4: loads on this first query"
"$bin/timoneiro" get nodes -o wide --limit 3
echo
echo "\$ timoneiro get wdg -A --limit 4                # a CRD found by discovery, its printer columns"
"$bin/timoneiro" get wdg -A --limit 4
echo
deploy=$("$bin/timoneiro" get deploy -n analytics -o name --limit 1)
echo "\$ timoneiro logs $deploy -n analytics --tail 2    # every pod of a workload, prefixed"
"$bin/timoneiro" logs "$deploy" -n analytics --tail 2 || true
echo
echo "\$ timoneiro exec $deploy -n analytics -- sh -c 'hostname; exit 3'; echo \"exit \$?\""
"$bin/timoneiro" exec "$deploy" -n analytics -- sh -c 'hostname; exit 3' && echo "exit 0" || echo "exit $?"
echo
echo "\$ timoneiro status"
"$bin/timoneiro" status
echo
echo "\$ timoneiro get pods -A | wc -l"
"$bin/timoneiro" get pods -A | wc -l
# The README's claim, measured here: whole processes, output to a pipe.
runs=()
for _ in 1 2 3 4 5 6 7; do
  start=$(date +%s%N)
  "$bin/timoneiro" get pods -A >/dev/null
  runs+=($((($(date +%s%N) - start) / 1000000)))
done
median=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 4p)
claim=$(grep -o 'prints in about [0-9,]* ms' README.md | head -1 | sed 's/prints in //')
echo "timoneiro get pods -A over $PODS pods: median $median ms of 7 runs (${runs[*]} ms)"
echo "the README says: $claim at 10,000 pods (BENCHMARKS.md, target/release/bench cli)"

if [ -t 0 ] && [ -t 1 ]; then
  echo
  echo "Opening timoneiro-tui on the simulated cluster in 3 s (? lists the keys, q quits)."
  echo "Other terminals can share the same cache: export TIMONEIRO_SOCKET=$TIMONEIRO_SOCKET"
  sleep 3
  "$bin/timoneiro-tui" -A --log-file "$work/tui.log"
fi
