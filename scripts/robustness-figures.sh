#!/usr/bin/env bash
# Issue 18 figures with release binaries: relists per hour with the watch
# forbidden (11 minutes), and black-hole to STALE at the default read timeout.
set -u
B="$(cd "$(dirname "$0")/.." && pwd)/target/release"   # cargo build --release --workspace first
W=$(mktemp -d); chmod 700 $W
$B/timoneiro-sim --pods 1000 --forbid-watch pods --kubeconfig-out $W/kc-a > $W/sim-a.log 2>&1 &
SA=$!
$B/timoneiro-sim --pods 1000 --kubeconfig-out $W/kc-b > $W/sim-b.log 2>&1 &
SB=$!
sleep 2
URL_A=$(grep -o 'https://[0-9.:]*' $W/sim-a.log | head -1)
URL_B=$(grep -o 'https://[0-9.:]*' $W/sim-b.log | head -1)
mkdir -m 700 $W/a $W/b
$B/timoneirod --kubeconfig $W/kc-a --socket $W/a/s.sock 2> $W/d-a.log &
DA=$!
$B/timoneirod --kubeconfig $W/kc-b --socket $W/b/s.sock 2> $W/d-b.log &
DB=$!
sleep 10
# Black hole at the default --api-read-timeout (5m).
curl -sk -X POST "$URL_B/sim/faults/freeze?seconds=420" > /dev/null
T0=$(date +%s.%N)
while true; do
  state=$($B/timoneiro --socket $W/b/s.sock --no-autostart status -o json 2>/dev/null | python3 -c 'import json,sys; print([k["state"] for k in json.load(sys.stdin)["kinds"] if k["kind"]=="pods"][0])')
  if [ "$state" = "STALE" ]; then break; fi
  sleep 1
done
T1=$(date +%s.%N)
echo "black-hole to STALE at the default read timeout: $(python3 -c "print(round($T1-$T0,1))") s"
# Relists with the watch forbidden: wait until 11 minutes after start.
sleep $(( 660 - $(python3 -c "print(int($T1-$T0))") ))
curl -sk "$URL_A/sim/requests" | python3 -c '
import json,sys
reqs=json.load(sys.stdin)["requests"]
lists=[r for r in reqs if r["uri"].startswith("/api/v1/pods?") and "watch=true" not in r["uri"]]
watches=[r for r in reqs if r["uri"].startswith("/api/v1/pods?") and "watch=true" in r["uri"]]
print(f"watch forbidden, 11 minutes: {len(lists)} pod LISTs, {len(watches)} refused watches")'
$B/timoneiro --socket $W/a/s.sock --no-autostart status | grep "^pods"
kill $DA $DB $SA $SB
