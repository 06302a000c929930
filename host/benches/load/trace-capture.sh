#!/usr/bin/env bash
# Load benchmark: the cost of trace capture on hot GETs. One `tiered serve`
# holding a 1 KiB object in hot; wrk (2 threads) drives it with capture off,
# and on (`POST /v1/trace/start`, defaults: oracleGeneral, every request),
# which goes first alternating round to round, for `rounds` rounds (default 5) of `seconds` (default 10) with
# `connections` (default 64) connections. Prints each round (with the
# requests the capture wrote and dropped) and the median of the per-round
# on/off ratios.
#
#   host/benches/load/trace-capture.sh [rounds] [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/../../.."

# shellcheck source=lib.sh
source host/benches/load/lib.sh "$@"

PORT="$(free_port)"
start_tiered "$TIERED" "$PORT" "$WORK/tiered"
URL="http://127.0.0.1:$PORT/v1/objects/bench/1k"

declare -a R
echo "round  off req/s  on req/s  on/off  written  dropped"
captured() {
    curl -sf -X POST "http://127.0.0.1:$PORT/v1/trace/start" -d '{}' >/dev/null
    rps "$URL"
    curl -sf -X POST "http://127.0.0.1:$PORT/v1/trace/stop" >"$WORK/status.json"
}
for i in $(seq "$ROUNDS"); do
    if ((i % 2)); then
        off="$(rps "$URL")"
        on="$(captured)"
    else
        on="$(captured)"
        off="$(rps "$URL")"
    fi
    status="$(cat "$WORK/status.json")"
    read -r written dropped < <(echo "$status" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["requests"], s["dropped"])')
    r="$(echo "$on / $off" | bc -l)"
    R+=("$r")
    printf "%5d  %9.0f  %8.0f  %6.3f  %7d  %7d\n" "$i" "$off" "$on" "$r" "$written" "$dropped"
done
printf "median of the per-round on/off ratios: %.3f\n" "$(median "${R[@]}")"
