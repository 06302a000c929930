#!/usr/bin/env bash
# Load benchmark: 64 KiB range GETs of a 64 MiB object in the warm (disk)
# tier of `tiered serve`, side by side with nginx serving the same range of
# the same file, tuned for it: open_file_cache and sendfile. Not tcp_nopush:
# with it, nginx stalls on these 64 KiB loopback responses (measured on the
# 2-core machine: 1,640 req/s with it, 34,500 without; TCP_CORK meeting
# delayed ACKs), and a baseline that stalls is no baseline.
#
#   host/benches/load/range-vs-nginx.sh [rounds] [seconds] [connections]
#
# The range (bytes=33554000-33619535) is not aligned to the 64 KiB chunks of
# tiered's file format: it covers two of them, each read and checked against
# its xxh3 before it is sent. wrk drives each server in turn, alternating, for
# `rounds` rounds (default 5) of `seconds` (default 10) with `connections`
# (default 64) connections on 2 threads. Prints each round and the medians.
# Installs nginx and wrk with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/../../.."

NEED_NGINX=1
# shellcheck source=lib.sh
source host/benches/load/lib.sh "$@"
RANGE="bytes=33554000-33619535"

mkdir -p "$WORK/www"
head -c $((64 << 20)) /dev/urandom >"$WORK/www/64m"

TIERED_PORT="$(free_port)"
start_tiered "$TIERED" "$TIERED_PORT" "$WORK/tiered"
TIERED_URL="http://127.0.0.1:$TIERED_PORT/v1/objects/bench/64m"
curl -sf -X PUT --data-binary @"$WORK/www/64m" "$TIERED_URL" >/dev/null
source="$(curl -sf -D - -o /dev/null -H "Range: $RANGE" "$TIERED_URL" | tr -d '\r' | sed -n 's/^x-tiered-source: //p')"
[[ "$source" == "warm" ]] || { echo "expected the range from warm, got '$source'" >&2; exit 1; }

NGINX_PORT="$(free_port)"
start_nginx "$NGINX_PORT" 64m "open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s; sendfile on;"
NGINX_URL="http://127.0.0.1:$NGINX_PORT/64m"
# Both send the same 65,536 bytes.
cmp <(curl -sf -H "Range: $RANGE" "$TIERED_URL") <(curl -sf -H "Range: $RANGE" "$NGINX_URL")
[[ "$(curl -sf -H "Range: $RANGE" "$TIERED_URL" | wc -c)" == 65536 ]]

declare -a T N
echo "round  tiered req/s  nginx req/s  ratio   ($RANGE of a 64 MiB object)"
for i in $(seq "$ROUNDS"); do
    t="$(rps "$TIERED_URL" -H "Range: $RANGE")"
    n="$(rps "$NGINX_URL" -H "Range: $RANGE")"
    T+=("$t"); N+=("$n")
    printf "%5d  %12.0f  %11.0f  %5.2f\n" "$i" "$t" "$n" "$(echo "$t / $n" | bc -l)"
done
mt="$(median "${T[@]}")"; mn="$(median "${N[@]}")"
printf "median tiered %.0f req/s, nginx %.0f req/s, ratio %.2f\n" "$mt" "$mn" "$(echo "$mt / $mn" | bc -l)"
