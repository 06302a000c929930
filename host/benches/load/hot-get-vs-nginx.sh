#!/usr/bin/env bash
# Load benchmark: 1 KiB hot GETs per second from `tiered serve`, side by side
# with nginx serving the same 1 KiB file from its static file handler.
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
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

WORK="$(mktemp -d)"
chmod 755 "$WORK"  # nginx workers run as an unprivileged user
TIERED_PIDS=()
cleanup() {
    for pid in "${TIERED_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    [[ -f "$WORK/nginx.pid" ]] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
    sleep 0.5
    rm -rf "$WORK"
}
trap cleanup EXIT

head -c 1024 /dev/urandom >"$WORK/1k"

# tiered, on its defaults.
TIERED_PORT="$(free_port)"
start_tiered "$TIERED" "$TIERED_PORT" "$WORK/tiered"

# nginx, static file handler, no access log.
NGINX_PORT="$(free_port)"
mkdir -p "$WORK/www" "$WORK/nginx-tmp"
cp "$WORK/1k" "$WORK/www/1k"
chmod 644 "$WORK/www/1k"
cat >"$WORK/nginx.conf" <<EOF
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx-tmp;
    proxy_temp_path $WORK/nginx-tmp;
    fastcgi_temp_path $WORK/nginx-tmp;
    uwsgi_temp_path $WORK/nginx-tmp;
    scgi_temp_path $WORK/nginx-tmp;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $WORK/www;
    }
}
EOF
"$NGINX" -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log"
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$NGINX_PORT/1k" >/dev/null && break; sleep 0.1; done
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
