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
source scripts/lib.sh
work_dir shot
start_sim --pods 3000 --namespaces 6
start_daemon
"$bin/timoneiro" get pods -A --timeout 60s >/dev/null

tmux_() { tmux -S "$tmux_socket" "$@"; }
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
