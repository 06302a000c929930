#!/usr/bin/env bash
# Load benchmark: 1 KiB hot GETs per second from `tiered serve`, through
# `/v1/objects` and through the S3 endpoint (an unsigned path-style
# GetObject, as on loopback without access keys), side by side with nginx
# serving the same 1 KiB file from its static file handler, tuned as it is
# deployed in front of static content (open_file_cache, sendfile,
# tcp_nopush).
#
#   host/benches/load/hot-get-vs-nginx.sh [rounds] [seconds] [connections]
#
# Both servers run on loopback with the machine's cores (tiered: its tokio
# runtime; nginx: `worker_processes auto`), and wrk drives each in turn,
# alternating, for `rounds` rounds (default 5) of `seconds` (default 10) with
# `connections` (default 64) connections on 2 threads. Prints each round and
# the medians; ratios are against nginx in the same round. Installs nginx and wrk with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/../../.."

NEED_NGINX=1
# shellcheck source=lib.sh
source host/benches/load/lib.sh "$@"

# tiered, on its defaults, with the S3 endpoint on (bucket `tiered`, no keys).
TIERED_PORT="$(free_port)"
S3_PORT="$(free_port)"
printf '[s3_api]\nlisten = "127.0.0.1:%s"\nbucket = "tiered"\n' "$S3_PORT" >"$WORK/tiered.toml"
start_tiered "$TIERED" "$TIERED_PORT" "$WORK/tiered" "$WORK/tiered.toml"
cmp <(curl -sf "http://127.0.0.1:$S3_PORT/tiered/bench/1k") "$WORK/1k"

# nginx, static file handler, no access log, tuned.
NGINX_PORT="$(free_port)"
mkdir -p "$WORK/www"
cp "$WORK/1k" "$WORK/www/1k"
start_nginx "$NGINX_PORT" 1k \
    "open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s; sendfile on; tcp_nopush on;"
cmp <(curl -sf "http://127.0.0.1:$NGINX_PORT/1k") "$WORK/1k"

declare -a T S N RT RS
echo "round  /v1 req/s  S3 req/s  nginx req/s  /v1 ratio  S3 ratio"
for i in $(seq "$ROUNDS"); do
    t="$(rps "http://127.0.0.1:$TIERED_PORT/v1/objects/bench/1k")"
    n="$(rps "http://127.0.0.1:$NGINX_PORT/1k")"
    s="$(rps "http://127.0.0.1:$S3_PORT/tiered/bench/1k")"
    rt="$(echo "$t / $n" | bc -l)"; rs="$(echo "$s / $n" | bc -l)"
    T+=("$t"); S+=("$s"); N+=("$n"); RT+=("$rt"); RS+=("$rs")
    printf "%5d  %9.0f  %8.0f  %11.0f  %9.2f  %8.2f\n" "$i" "$t" "$s" "$n" "$rt" "$rs"
done
printf "median /v1 %.0f req/s, S3 %.0f req/s, nginx %.0f req/s; per-round ratios' medians: /v1 %.2f, S3 %.2f\n" \
    "$(median "${T[@]}")" "$(median "${S[@]}")" "$(median "${N[@]}")" "$(median "${RT[@]}")" "$(median "${RS[@]}")"
