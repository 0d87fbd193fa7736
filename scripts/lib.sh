# Shared by the scripts that run the product on the simulated cluster:
# a private work directory removed on exit, the sim, the daemon on it, and
# a tmux server of their own. Source it after `set -euo pipefail` and
# setting `bin` (target/release or target/debug).
#
#   work_dir NAME              $work: a 0700 directory, removed on exit with all started here
#   start_sim ARGS…            the sim with ARGS, its kubeconfig in $work/kubeconfig
#   start_daemon ARGS…         timoneirod on it; $daemon is its pid, TIMONEIRO_SOCKET exported
#   tmux_socket                $work/tmux (the scripts' own tmux server, killed on exit)

pids=()

cleanup() {
  tmux -S "$work/tmux" kill-server 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}

work_dir() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/timoneiro-$1.XXXXXX")
  chmod 700 "$work"
  tmux_socket="$work/tmux"
  trap cleanup EXIT INT TERM
}

start_sim() {
  "$bin/timoneiro-sim" "$@" --kubeconfig-out "$work/kubeconfig" \
    >"$work/sim.out" 2>"$work/sim.log" &
  pids+=($!)
  # The sim prints its "listening" line once the kubeconfig is written.
  until grep -q listening "$work/sim.out" 2>/dev/null; do
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/sim.log"; exit 1; }
    sleep 0.1
  done
}

start_daemon() {
  export TIMONEIRO_SOCKET="$work/run/timoneirod.sock"
  "$bin/timoneirod" --kubeconfig "$work/kubeconfig" "$@" 2>"$work/daemon.log" &
  daemon=$!
  pids+=($daemon)
  until grep -q "timoneirod listening" "$work/daemon.log" 2>/dev/null; do
    kill -0 "$daemon" 2>/dev/null || { cat "$work/daemon.log"; exit 1; }
    sleep 0.1
  done
}
