#!/usr/bin/env bash
# Load benchmark: the cost of the latency histograms on the hot GET path.
# One release build of `tiered serve`, started twice on loopback: with the
# default configuration (histograms on) and with `[metrics] histograms =
# false`; wrk drives each in turn, alternating, for `rounds` rounds.
#
#   host/benches/load/hot-get-histograms.sh [rounds] [seconds] [connections]
#
# Defaults: 5 rounds of 10 s, 64 connections, 2 wrk threads. Prints each
# round, the medians, and the median of the rounds' on/off ratios (each round
# runs both back to back, so its ratio is less exposed to the machine's
# drift than the ratio of the two medians). Installs wrk with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/../../.."

# shellcheck source=lib.sh
source host/benches/load/lib.sh "$@"

printf '[metrics]\nhistograms = false\n' >"$WORK/off.toml"
ON_PORT="$(free_port)"
start_tiered "$TIERED" "$ON_PORT" "$WORK/on"
OFF_PORT="$(free_port)"
start_tiered "$TIERED" "$OFF_PORT" "$WORK/off" "$WORK/off.toml"
curl -sf "http://127.0.0.1:$ON_PORT/metrics" | grep -q '^tiered_http_request_duration_seconds_bucket' ||
    { echo "the default server records no HTTP histogram" >&2; exit 1; }
if curl -sf "http://127.0.0.1:$OFF_PORT/metrics" | grep -q '_bucket'; then
    echo "the server with histograms off records one" >&2
    exit 1
fi

declare -a ON OFF RATIO
echo "round  on req/s  off req/s  on/off"
for i in $(seq "$ROUNDS"); do
    on="$(rps "http://127.0.0.1:$ON_PORT/v1/objects/bench/1k")"
    off="$(rps "http://127.0.0.1:$OFF_PORT/v1/objects/bench/1k")"
    ratio="$(echo "$on / $off" | bc -l)"
    ON+=("$on"); OFF+=("$off"); RATIO+=("$ratio")
    printf "%5d  %8.0f  %9.0f  %6.3f\n" "$i" "$on" "$off" "$ratio"
done
mon="$(median "${ON[@]}")"; moff="$(median "${OFF[@]}")"
printf "median on %.0f req/s, off %.0f req/s (ratio %.3f); median of the rounds' on/off %.3f\n" \
    "$mon" "$moff" "$(echo "$mon / $moff" | bc -l)" "$(median "${RATIO[@]}")"
