#!/usr/bin/env bash
# Issue 20's log figure: what following a pod that writes RATE lines a second
# costs the TUI and the daemon. Release binaries.
#
#   cargo build --release --workspace && scripts/logs-figures.sh
#   RATE=2000 SECONDS_MEASURED=30 scripts/logs-figures.sh
#
# The sim's containers write RATE lines a second each. The TUI (in tmux,
# 160x40) opens the log view (`l`) of one single-container pod and follows
# it; after a 5 s warm-up the CPU time (utime + stime from /proc) of the TUI
# and of the daemon is read over SECONDS_MEASURED seconds. The lines that
# arrived in the window are counted by the sim's own numbering (`seq=`).
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-2000}
MEASURE=${SECONDS_MEASURED:-30}
bin=${BIN:-target/release}
source scripts/lib.sh
work_dir logs
start_sim --pods 200 --namespaces 2 --log-rate "$RATE"
start_daemon
"$bin/timoneiro" get pods --timeout 120s >/dev/null

# A running pod with one container.
read -r namespace pod < <("$bin/timoneiro" get pods -o json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["items"]:
    statuses = p["status"].get("containerStatuses", [])
    if len(p["spec"]["containers"]) == 1 and statuses and "running" in statuses[0]["state"]:
        print(p["metadata"]["namespace"], p["metadata"]["name"]); break')

tmux -S "$tmux_socket" new-session -d -x 160 -y 40 \
  "exec env TIMONEIRO_SOCKET=$TIMONEIRO_SOCKET NO_COLOR=1 $bin/timoneiro-tui pods -n $namespace --log-file $work/tui.log"
tui=$(tmux -S "$tmux_socket" list-panes -F '#{pane_pid}')
sleep 2
tmux -S "$tmux_socket" send-keys "/" "^$pod\$" Enter
sleep 1
tmux -S "$tmux_socket" send-keys l
sleep 5

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
seq_on_screen() {
  tmux -S "$tmux_socket" capture-pane -p | grep -o 'seq=[0-9]*' | tail -1 | cut -d= -f2
}
tui0=$(cpu "$tui")
daemon0=$(cpu "$daemon")
seq0=$(seq_on_screen)
t0=$(date +%s.%N)
sleep "$MEASURE"
tui1=$(cpu "$tui")
daemon1=$(cpu "$daemon")
seq1=$(seq_on_screen)
t1=$(date +%s.%N)
elapsed=$(echo "$t1 - $t0" | bc)
echo "followed: pods/$pod, $RATE lines/s written by the sim"
echo "lines that reached the screen: $((seq1 - seq0)) in ${elapsed} s ($(echo "scale=0; ($seq1 - $seq0) / $elapsed" | bc)/s)"
echo "TUI CPU:    $(echo "scale=1; 100 * ($tui1 - $tui0) / $ticks / $elapsed" | bc) % of a core"
echo "daemon CPU: $(echo "scale=1; 100 * ($daemon1 - $daemon0) / $ticks / $elapsed" | bc) % of a core"
echo "TUI RSS:    $(awk '/VmRSS/ {print $2, $3}' "/proc/$tui/status")"
