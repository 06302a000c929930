#!/usr/bin/env bash
# A real S3-compatible server for the live test suite: a single-node Garage
# (https://garagehq.deuxfleurs.fr) on loopback, with a fresh data directory.
#
#   tests/s3/garage.sh start   install Garage if missing, start it, create a
#                              bucket and a key, write the settings to
#                              $STATE/env and print them (source-able)
#   tests/s3/garage.sh stop    stop the server started by `start`
#   tests/s3/garage.sh env     print the settings of the running server
#   tests/s3/garage.sh halt    kill the server process, keeping its data
#   tests/s3/garage.sh resume  start it again on the same ports and data
#
# Settings printed: TIERED_S3_ENDPOINT, TIERED_S3_REGION, TIERED_S3_BUCKET,
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY. The live tests read exactly these,
# so the same tests run against MinIO or AWS by setting them by hand.
#
# Overrides: GARAGE_BIN (use this binary), TIERED_TOOLS (install root, default
# ~/.cache/tiered-tools), TIERED_GARAGE_STATE (state dir, default
# $TMPDIR/tiered-garage), TIERED_GARAGE_PORT (S3 port, default 3900 + a free one).
set -euo pipefail

TOOLS="${TIERED_TOOLS:-$HOME/.cache/tiered-tools}"
STATE="${TIERED_GARAGE_STATE:-${TMPDIR:-/tmp}/tiered-garage}"
GARAGE_VERSION="2.5.0"
BUCKET="tiered-test"
# A fixed test key: the server is loopback-only and its data is thrown away.
KEY_ID="GK0123456789abcdef01234567"
KEY_SECRET="0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
RPC_SECRET="fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

# SHA-256 of an empty body, for the signed HeadBucket of `wait_s3`.
EMPTY_SHA256="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

log() { echo "garage.sh: $*" >&2; }

garage_bin() {
    if [[ -n "${GARAGE_BIN:-}" ]]; then echo "$GARAGE_BIN"; return; fi
    if [[ -x "$TOOLS/bin/garage" ]] && "$TOOLS/bin/garage" --version 2>/dev/null | grep -q "$GARAGE_VERSION"; then
        echo "$TOOLS/bin/garage"; return
    fi
    log "installing garage $GARAGE_VERSION from crates.io into $TOOLS (10-20 minutes on 2 cores, once)"
    # Its own build directory, so the workspace's build cache is not disturbed.
    CARGO_TARGET_DIR="$TOOLS/garage-build" cargo install --locked garage --version "$GARAGE_VERSION" \
        --root "$TOOLS" >&2
    rm -rf "$TOOLS/garage-build"
    echo "$TOOLS/bin/garage"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

stop() {
    if [[ -f "$STATE/pid" ]]; then
        local pid
        pid="$(cat "$STATE/pid")"
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid"
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$STATE/pid"
        log "stopped"
    fi
}

launch() {
    RUST_LOG="${GARAGE_LOG:-warn}" nohup "$(garage_bin)" -c "$STATE/garage.toml" server >>"$STATE/server.log" 2>&1 &
    echo $! >"$STATE/pid"
}

# Wait until the bucket answers a signed HeadBucket with 200: any HTTP answer
# would not do, since a server still loading its layout refuses requests
# with 403 or 503 for a while.
wait_s3() {
    local endpoint region
    endpoint="$(sed -n 's/^export TIERED_S3_ENDPOINT=//p' "$STATE/env")"
    region="$(sed -n 's/^export TIERED_S3_REGION=//p' "$STATE/env")"
    local status="" started=$SECONDS
    while (( SECONDS - started < 30 )); do
        status="$(curl -s -o /dev/null -w '%{http_code}' --connect-timeout 1 -m 2 -I \
            --aws-sigv4 "aws:amz:$region:s3" --user "$KEY_ID:$KEY_SECRET" \
            -H "x-amz-content-sha256: $EMPTY_SHA256" "$endpoint/$BUCKET")" || true
        [[ "$status" == 200 ]] && return 0
        kill -0 "$(cat "$STATE/pid")" 2>/dev/null || { cat "$STATE/server.log" >&2; log "server exited"; return 1; }
        sleep 0.1
    done
    log "bucket $BUCKET at $endpoint did not answer HeadBucket with 200 within 30 s (last answer: ${status:-none})"
    return 1
}

resume() {
    [[ -f "$STATE/garage.toml" ]] || { log "nothing to resume: run start first"; exit 1; }
    launch
    wait_s3
    log "resumed"
}

start() {
    local bin
    bin="$(garage_bin)"
    stop
    rm -rf "$STATE"
    mkdir -p "$STATE/meta" "$STATE/data"
    local s3_port rpc_port admin_port
    s3_port="${TIERED_GARAGE_PORT:-$(free_port)}"
    rpc_port="$(free_port)"
    admin_port="$(free_port)"
    cat >"$STATE/garage.toml" <<EOF
metadata_dir = "$STATE/meta"
data_dir = "$STATE/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc_port"
rpc_public_addr = "127.0.0.1:$rpc_port"
rpc_secret = "$RPC_SECRET"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3_port"

[admin]
api_bind_addr = "127.0.0.1:$admin_port"
EOF
    chmod 600 "$STATE/garage.toml"
    local g=("$bin" -c "$STATE/garage.toml")
    GARAGE_BIN="$bin" launch
    local node=""
    for _ in $(seq 100); do
        node="$("${g[@]}" node id -q 2>/dev/null | cut -d@ -f1)" && [[ -n "$node" ]] && break
        kill -0 "$(cat "$STATE/pid")" 2>/dev/null || { cat "$STATE/server.log" >&2; log "server exited"; exit 1; }
        sleep 0.2
    done
    [[ -n "$node" ]] || { cat "$STATE/server.log" >&2; log "server did not answer"; exit 1; }
    # `node id` reads the key from disk; the first command that needs the
    # server's RPC port may run before it listens (a slow start on a busy
    # machine): retry it while the server is alive.
    local assigned=""
    for _ in $(seq 100); do
        "${g[@]}" layout assign -z dc1 -c 1G "$node" >/dev/null 2>"$STATE/cli.err" && { assigned=1; break; }
        kill -0 "$(cat "$STATE/pid")" 2>/dev/null || break
        sleep 0.2
    done
    [[ -n "$assigned" ]] || { cat "$STATE/cli.err" "$STATE/server.log" >&2; log "layout assign failed"; exit 1; }
    "${g[@]}" layout apply --version 1 >/dev/null
    "${g[@]}" bucket create "$BUCKET" >/dev/null
    "${g[@]}" key import --yes -n tiered-test "$KEY_ID" "$KEY_SECRET" >/dev/null
    "${g[@]}" bucket allow --read --write --owner "$BUCKET" --key tiered-test >/dev/null
    cat >"$STATE/env" <<EOF
export TIERED_S3_ENDPOINT=http://127.0.0.1:$s3_port
export TIERED_S3_REGION=garage
export TIERED_S3_BUCKET=$BUCKET
export AWS_ACCESS_KEY_ID=$KEY_ID
export AWS_SECRET_ACCESS_KEY=$KEY_SECRET
EOF
    wait_s3
    log "running on 127.0.0.1:$s3_port (state in $STATE)"
    cat "$STATE/env"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    halt) stop ;;
    resume) resume ;;
    env) cat "$STATE/env" ;;
    *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
