#!/usr/bin/env bash
# Issue 21's "daemon RSS, all tiers 1-3 synced, settled" row: the daemon's
# resident memory 20 s after the last kind of tiers 1-3 synced, on a
# simulated cluster of 10,000 pods in 50 namespaces (24,165 objects), split
# into anonymous memory and the pages of files (the executable's code),
# over RUNS fresh starts. Release binaries.
#
#   cargo build --release --workspace && scripts/rss-figures.sh
#   DAEMON=/path/to/timoneirod scripts/rss-figures.sh   # another build of the daemon
#   PODS_ONLY=1 scripts/rss-figures.sh                  # pods only, every other kind on demand
#
# Each start has an empty snapshot directory, and the daemon's executable is
# first dropped from the page cache (dd iflag=nocache), so its code is read
# as after a reboot: how much of it is resident depends on how it entered
# the cache (Linux maps whole large folios of it).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
bin=target/release
daemon_bin=${DAEMON:-$bin/timoneirod}
source scripts/lib.sh
work_dir rss
start_sim --pods 10000 --namespaces 50

# The kinds the sim has that sync last; pods only: pods.
late=(secrets configmaps replicasets deployments services)
config="$work/config.toml"
: >"$config"
if [[ -n ${PODS_ONLY:-} ]]; then
  late=(pods)
  printf '[tiers]\n' >"$config"
  for kind in configmaps cronjobs daemonsets deployments events horizontalpodautoscalers \
    ingresses jobs namespaces nodes persistentvolumeclaims persistentvolumes replicasets \
    secrets serviceaccounts services statefulsets; do
    printf '%s = 4\n' "$kind" >>"$config"
  done
fi

kib() { awk -v key="$1:" '$1 == key {print int($2 / 1024)}' "/proc/$pid/status"; }

echo "| run | settled RSS | anonymous | files (code) |"
echo "|---|---|---|---|"
for run in $(seq 1 "$RUNS"); do
  export XDG_CACHE_HOME="$work/cache-$run"
  dd if="$daemon_bin" iflag=nocache count=0 status=none
  : >"$work/daemon-$run.log"
  TIMONEIRO_CONFIG="$config" "$daemon_bin" --kubeconfig "$work/kubeconfig" \
    --socket "$work/daemon-$run.sock" 2>"$work/daemon-$run.log" &
  pid=$!
  for kind in "${late[@]}"; do
    until grep -q "synced kind=$kind\b" "$work/daemon-$run.log"; do
      kill -0 "$pid" 2>/dev/null || { cat "$work/daemon-$run.log"; exit 1; }
      sleep 0.1
    done
  done
  sleep 20
  echo "| $run | $(kib VmRSS) MiB | $(kib RssAnon) MiB | $(kib RssFile) MiB |"
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
done
