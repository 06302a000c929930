#!/usr/bin/env bash
# Load benchmark: 1 KiB hot GETs per second from `tiered serve`, side by side
# with nginx serving the same 1 KiB file from its static file handler, tuned
# as it is deployed in front of static content (open_file_cache, sendfile,
# tcp_nopush).
#
#   host/benches/load/hot-get-vs-nginx.sh [rounds] [seconds] [connections]
#
# Both servers run on loopback with the machine's cores (tiered: its tokio
# runtime; nginx: `worker_processes auto`), and wrk drives each in turn,
# alternating, for `rounds` rounds (default 5) of `seconds` (default 10) with
# `connections` (default 64) connections on 2 threads. Prints each round and
# the medians. Installs nginx and wrk with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/../../.."

NEED_NGINX=1
# shellcheck source=lib.sh
source host/benches/load/lib.sh "$@"

# tiered, on its defaults.
TIERED_PORT="$(free_port)"
start_tiered "$TIERED" "$TIERED_PORT" "$WORK/tiered"

# nginx, static file handler, no access log, tuned.
NGINX_PORT="$(free_port)"
mkdir -p "$WORK/www"
cp "$WORK/1k" "$WORK/www/1k"
start_nginx "$NGINX_PORT" 1k \
    "open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s; sendfile on; tcp_nopush on;"
cmp <(curl -sf "http://127.0.0.1:$NGINX_PORT/1k") "$WORK/1k"

declare -a T N
echo "round  tiered req/s  nginx req/s  ratio"
for i in $(seq "$ROUNDS"); do
    t="$(rps "http://127.0.0.1:$TIERED_PORT/v1/objects/bench/1k")"
    n="$(rps "http://127.0.0.1:$NGINX_PORT/1k")"
    T+=("$t"); N+=("$n")
    printf "%5d  %12.0f  %11.0f  %5.2f\n" "$i" "$t" "$n" "$(echo "$t / $n" | bc -l)"
done
mt="$(median "${T[@]}")"; mn="$(median "${N[@]}")"
printf "median tiered %.0f req/s, nginx %.0f req/s, ratio %.2f\n" "$mt" "$mn" "$(echo "$mt / $mn" | bc -l)"
