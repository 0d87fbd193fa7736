#!/usr/bin/env bash
# The README's screenshots: the TUI on the simulated demo cluster, captured
# from tmux with its colours and drawn as SVG (tests/src/bin/ansi2svg.rs).
#
#   scripts/screenshot.sh            writes docs/screenshot-pods.svg and
#                                    docs/screenshot-describe.svg
#
# Run it again whenever the TUI's layout changes.
set -euo pipefail
cd "$(dirname "$0")/.."

COLUMNS=${COLUMNS:-170}
ROWS=${ROWS:-36}
cargo build --workspace --quiet
bin=target/debug
work=$(mktemp -d "${TMPDIR:-/tmp}/timoneiro-shot.XXXXXX")
chmod 700 "$work"
pids=()
cleanup() {
  tmux -S "$work/tmux.sock" kill-server 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$bin/timoneiro-sim" --pods 3000 --namespaces 6 --kubeconfig-out "$work/kubeconfig" \
  >"$work/sim.out" 2>"$work/sim.log" &
pids+=($!)
until grep -q listening "$work/sim.out" 2>/dev/null; do sleep 0.1; done
export TIMONEIRO_SOCKET="$work/run/timoneirod.sock"
"$bin/timoneirod" --kubeconfig "$work/kubeconfig" 2>"$work/daemon.log" &
pids+=($!)
until grep -q "timoneirod listening" "$work/daemon.log" 2>/dev/null; do sleep 0.1; done
"$bin/timoneiro" get pods -A --timeout 60s >/dev/null

tmux_() { tmux -S "$work/tmux.sock" "$@"; }
tmux_ new-session -d -s shot -x "$COLUMNS" -y "$ROWS" \
  "env TERM=xterm-256color TIMONEIRO_SOCKET=$TIMONEIRO_SOCKET $bin/timoneiro-tui -A"
capture() {
  tmux_ capture-pane -e -p -t shot >"$work/screen.ansi"
  "$bin/ansi2svg" "$COLUMNS" "$ROWS" <"$work/screen.ansi" >"$1"
  echo "wrote $1"
}
wait_for() {
  for _ in $(seq 1 300); do
    if tmux_ capture-pane -p -t shot | grep -q -- "$1"; then return 0; fi
    sleep 0.1
  done
  echo "the TUI never showed $1" >&2
  tmux_ capture-pane -p -t shot >&2
  exit 1
}
mkdir -p docs
# The pods view with metrics (the first answer arrives within a second).
wait_for "%CPU/R"
sleep 2
capture docs/screenshot-pods.svg
# A crashing pod described, its events at the end.
tmux_ send-keys -t shot / CrashLoopBackOff Enter
wait_for "filter: CrashLoopBackOff"
sleep 1
tmux_ send-keys -t shot d
wait_for "Describe pods/"
tmux_ send-keys -t shot G
wait_for "BackOff"
sleep 0.5
capture docs/screenshot-describe.svg
