#!/usr/bin/env bash
# Issue 22's metrics figure: the daemon's CPU spent reading metrics.k8s.io,
# per minute, on a 10,000-pod simulated cluster. Release binaries.
#
#   cargo build --release --workspace && scripts/metrics-figures.sh
#
# The daemon's CPU time (utime + stime from /proc) is read over a minute with
# no client, then over a minute in which a client asks for the metrics every
# 15 s, as a TUI showing pods does (`timoneiro top pods -A`, which also makes
# the daemon read the whole cluster's PodMetrics and NodeMetrics).
set -euo pipefail
cd "$(dirname "$0")/.."
PODS=${PODS:-10000}
bin=target/release
source scripts/lib.sh
work_dir metrics
start_sim --pods "$PODS" --namespaces 20
start_daemon
"$bin/timoneiro" get pods -A --timeout 120s >/dev/null
sleep 20   # tiers 2 and 3 settle
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$daemon/stat"; }

start=$(cpu)
sleep 60
idle=$(( $(cpu) - start ))

start=$(cpu)
began=$(date +%s.%N)
for _ in 1 2 3 4; do
  t0=$(date +%s.%N)
  "$bin/timoneiro" top pods -A >/dev/null
  t1=$(date +%s.%N)
  echo "top pods -A: $(echo "($t1 - $t0) * 1000" | bc) ms"
  sleep 15
done
busy=$(( $(cpu) - start ))
elapsed=$(echo "$(date +%s.%N) - $began" | bc)
echo "pods: $PODS"
echo "daemon CPU, a minute without clients:         $(echo "scale=3; $idle / $ticks" | bc) s"
echo "daemon CPU, ${elapsed%.*} s with metrics every 15 s: $(echo "scale=3; $busy / $ticks" | bc) s"
