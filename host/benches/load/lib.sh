# Shared by the load benchmarks, sourced with the script's arguments
# ([rounds] [seconds] [connections]): wrk, the release build of `tiered`
# ($TIERED), a scratch directory ($WORK) cleaned up at exit, ports, a tiered
# server holding one 1 KiB object in hot, nginx, requests per second, medians.

ROUNDS="${1:-5}"
SECONDS_PER_RUN="${2:-10}"
CONNECTIONS="${3:-64}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tiered-target}"

if ! command -v wrk >/dev/null || { [[ -n "${NEED_NGINX:-}" ]] && ! command -v nginx >/dev/null; }; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null
fi

cargo build --release --locked -p tiered-host --bin tiered >&2
TIERED="$CARGO_TARGET_DIR/release/tiered"

# A scratch directory holding the 1 KiB object ($WORK/1k) and the servers'
# data, removed at exit with the servers.
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

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_tiered BIN PORT DATA_DIR [CONFIG_FILE]: `tiered serve` in the
# background with request logs off, `bench/1k` (the file $WORK/1k) stored
# and checked to be served from hot. Sets TIERED_PIDS.
start_tiered() {
    local bin="$1" port="$2" data="$3" config="${4:-}"
    local args=(serve --listen "127.0.0.1:$port" --data-dir "$data")
    [[ -n "$config" ]] && args+=(--config "$config")
    RUST_LOG=warn "$bin" "${args[@]}" 2>"$data.log" &
    TIERED_PIDS+=("$!")
    for _ in $(seq 600); do
        curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
        sleep 0.1
    done
    curl -sf -X PUT --data-binary @"$WORK/1k" "http://127.0.0.1:$port/v1/objects/bench/1k" >/dev/null
    local source
    source="$(curl -sf -D - -o /dev/null "http://127.0.0.1:$port/v1/objects/bench/1k" | tr -d '\r' |
        sed -n 's/^x-tiered-source: //p')"
    [[ "$source" == "hot" ]] || { echo "expected a hot hit, got '$source'" >&2; exit 1; }
    cmp <(curl -sf "http://127.0.0.1:$port/v1/objects/bench/1k") "$WORK/1k"
}

# rps URL [WRK_ARGS...]: requests per second of wrk, 2 threads.
rps() {
    local url="$1"
    shift
    wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" "$@" "$url" | awk '/Requests\/sec/ {print $2}'
}

median() { printf "%s\n" "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# start_nginx PORT FILE [DIRECTIVES]: nginx's static file handler on
# loopback serving $WORK/www (where FILE must be), no access log, with
# DIRECTIVES added to its http block; returns once FILE is served.
start_nginx() {
    local port="$1" file="$2" directives="${3:-}"
    local nginx
    nginx="$(command -v nginx || echo /usr/sbin/nginx)"
    mkdir -p "$WORK/nginx-tmp"
    chmod -R a+rX "$WORK/www"
    cat >"$WORK/nginx.conf" <<CONF
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
    $directives
    server {
        listen 127.0.0.1:$port;
        root $WORK/www;
    }
}
CONF
    "$nginx" -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log"
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/$file" -o /dev/null && break; sleep 0.1; done
}
