#!/usr/bin/env bash
# Issue 20's action figure: from `timoneiro delete pod P` to P's row changed
# on the screen of a running TUI (Terminating, or gone). Release binaries.
#
#   cargo build --release --workspace && scripts/actions-figures.sh
#   PODS=10000 COUNT=20 scripts/actions-figures.sh
#
# The TUI (tmux, 200x60) shows one namespace's pods, newest first; the
# COUNT newest pods of it are deleted one after another with the CLI, and
# for each the pane is captured every few milliseconds until its row says
# Terminating or is gone. The time includes the CLI process, the API
# server, the daemon's watch, the TUI's WatchList (at most one answer per
# 100 ms) and the frame; capture-pane polling adds a few ms.
set -euo pipefail
cd "$(dirname "$0")/.."
PODS=${PODS:-2000}
COUNT=${COUNT:-20}
bin=${BIN:-target/release}
source scripts/lib.sh
work_dir actions
start_sim --pods "$PODS" --namespaces 4
start_daemon
"$bin/timoneiro" get pods --timeout 120s >/dev/null
namespace=$("$bin/timoneiro" get pods -o json --limit 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["metadata"]["namespace"])')

tmux -S "$tmux_socket" new-session -d -x 200 -y 60 \
  "exec env TIMONEIRO_SOCKET=$TIMONEIRO_SOCKET NO_COLOR=1 $bin/timoneiro-tui pods -n $namespace --log-file $work/tui.log"
sleep 3

changed() { # the pane no longer shows $1 as it was: Terminating, or gone
  local screen
  screen=$(tmux -S "$tmux_socket" capture-pane -p)
  ! grep -q " $1 " <<<"$screen" || grep " $1 " <<<"$screen" | grep -q Terminating
}

: >"$work/times"
for pod in $("$bin/timoneiro" get pods -n "$namespace" -o name --limit "$COUNT" | sed 's|^pod/||'); do
  sleep 1.2   # the previous pod is gone and the list has settled
  # Only a row that is on screen, Running, can change on screen.
  if ! tmux -S "$tmux_socket" capture-pane -p | grep " $pod " | grep -qv Terminating; then
    echo "skipped $pod: not on screen" >&2
    continue
  fi
  t0=$(date +%s%N)
  "$bin/timoneiro" delete pod "$pod" -n "$namespace" >/dev/null
  until changed "$pod"; do sleep 0.002; done
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 )) >>"$work/times"
done
sort -n "$work/times" | awk '{a[NR]=$1} END {
  printf "delete → row changed on screen, %d pods: p50 %d ms, p90 %d ms, max %d ms\n",
    NR, a[int(NR*0.5)+1], a[int(NR*0.9)+ (NR*0.9 == int(NR*0.9) ? 0 : 1)], a[NR] }'
