#!/usr/bin/env bash
# Load benchmark: the cost of trace capture and of a shadow policy on hot
# GETs. One `tiered serve` holding a 1 KiB object in hot; wrk (2 threads)
# drives it three ways each round: off; capture on (`POST /v1/trace/start`,
# defaults: oracleGeneral, every request); capture on and a shadow policy
# (`PUT /v1/policy/shadow?algorithm=$SHADOW`, default s3fifo, the library's)
# comparing every request. Which goes first rotates round to round. Runs
# `rounds` rounds (default 5) of `seconds` (default 10) with `connections`
# (default 64) connections; prints each round (with what the capture wrote
# and dropped, and the reads the shadow compared and dropped) and the
# medians of the per-round ratios to off.
#
#   host/benches/load/capture-and-shadow.sh [rounds] [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/../../.."

# shellcheck source=lib.sh
source host/benches/load/lib.sh "$@"
SHADOW="${SHADOW:-s3fifo}"

PORT="$(free_port)"
start_tiered "$TIERED" "$PORT" "$WORK/tiered"
BASE="http://127.0.0.1:$PORT"
URL="$BASE/v1/objects/bench/1k"

captured() {
    curl -sf -X POST "$BASE/v1/trace/start" -d '{}' >/dev/null
    rps "$URL"
    curl -sf -X POST "$BASE/v1/trace/stop" >"$WORK/status.json"
}
shadowed() {
    curl -sf -X PUT "$BASE/v1/policy/shadow?algorithm=$SHADOW" >/dev/null
    curl -sf -X POST "$BASE/v1/trace/start" -d '{}' >/dev/null
    rps "$URL"
    curl -sf -X POST "$BASE/v1/trace/stop" >/dev/null
    curl -sf -X DELETE "$BASE/v1/policy/shadow" >"$WORK/shadow.json"
}

declare -a C S
echo "round  off req/s  capture req/s  +shadow req/s  capture/off  +shadow/off  written  dropped  compared  dropped"
for i in $(seq "$ROUNDS"); do
    case $((i % 3)) in
        1) off="$(rps "$URL")"; on="$(captured)"; sh="$(shadowed)" ;;
        2) on="$(captured)"; sh="$(shadowed)"; off="$(rps "$URL")" ;;
        0) sh="$(shadowed)"; off="$(rps "$URL")"; on="$(captured)" ;;
    esac
    read -r written dropped < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["requests"], s["dropped"])' "$WORK/status.json")
    read -r compared sdropped < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["reads"], s["dropped"])' "$WORK/shadow.json")
    c="$(echo "$on / $off" | bc -l)"
    s="$(echo "$sh / $off" | bc -l)"
    C+=("$c")
    S+=("$s")
    printf "%5d  %9.0f  %13.0f  %13.0f  %11.3f  %11.3f  %7d  %7d  %8d  %7d\n" \
        "$i" "$off" "$on" "$sh" "$c" "$s" "$written" "$dropped" "$compared" "$sdropped"
done
printf "medians of the per-round ratios to off: capture %.3f, capture + shadow %.3f\n" "$(median "${C[@]}")" "$(median "${S[@]}")"
