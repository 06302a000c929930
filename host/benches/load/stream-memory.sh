#!/usr/bin/env bash
# Peak memory of `tiered serve` moving one large object through HTTP: PUT it,
# GET it back from warm, restart without a warm tier and GET it from cold,
# then restart with an empty warm tier: GET from cold (promoted into warm as
# it streams), GET from warm. After each whole GET from warm and from cold,
# the same bytes as one range (`Range: bytes=0-`, a 206 streamed in steps).
# Prints the peak resident set (VmHWM, /proc/PID/status) after each step and
# checks the bytes that come back (sha256).
#
#   host/benches/load/stream-memory.sh streamed   # the defaults: objects > 8 MiB stream
#   host/benches/load/stream-memory.sh buffered   # baseline: stream_above_bytes = 2 GiB,
#                                            # the object is held whole (the old path)
#
# Env: TIERED_BIN (default target/release/tiered), SIZE_MIB (default 1024),
# COLD_TOML (a [cold] table, e.g. S3 settings; default the local directory).
set -euo pipefail

MODE="${1:-streamed}"
BIN="${TIERED_BIN:-target/release/tiered}"
SIZE_MIB="${SIZE_MIB:-1024}"
WORK="$(mktemp -d)"
PID=""
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

case "$MODE" in
    streamed) LIMITS='' ;;
    buffered) LIMITS='max_body_bytes = "2GiB"
stream_above_bytes = "2GiB"
max_object_bytes = "2GiB"' ;;
    *) echo "usage: $0 streamed|buffered" >&2; exit 2 ;;
esac

head -c "$((SIZE_MIB << 20))" /dev/urandom > "$WORK/object"
EXPECTED="$(sha256sum < "$WORK/object" | cut -d' ' -f1)"

start() { # $1: extra TOML
    printf '%s\n%s\n%s\n' "$LIMITS" "$1" "${COLD_TOML:-}" > "$WORK/tiered.toml"
    "$BIN" serve --config "$WORK/tiered.toml" --listen 127.0.0.1:0 --data-dir "$WORK/data" 2> "$WORK/log" &
    PID=$!
    for _ in $(seq 600); do
        ADDR="$(sed -n 's/.*listening addr=\([^ ]*\).*/\1/p' "$WORK/log" | head -1)"
        if [ -n "$ADDR" ] && curl -sf "http://$ADDR/healthz" > /dev/null; then return 0; fi
        sleep 0.1
    done
    cat "$WORK/log" >&2; exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }
hwm() { awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' "/proc/$PID/status"; }
get() { # $1: label
    local source
    source="$(curl -sS -D - -o "$WORK/back" "http://$ADDR/v1/objects/big" | tr -d '\r' | sed -n 's/^x-tiered-source: //p')" ||
        { cat "$WORK/log" >&2; exit 1; }
    [ "$(sha256sum < "$WORK/back" | cut -d' ' -f1)" = "$EXPECTED" ] || { echo "$1: bytes differ" >&2; exit 1; }
    rm -f "$WORK/back"
    echo "  after GET from $source: peak $(hwm) ($1 expected)"
}
ranged() { # $1: label; all of the object as one range (206, streamed in steps)
    local head status source
    head="$(curl -sS -D - -o "$WORK/back" -H 'Range: bytes=0-' "http://$ADDR/v1/objects/big" | tr -d '\r')" ||
        { cat "$WORK/log" >&2; exit 1; }
    status="$(echo "$head" | head -1 | cut -d' ' -f2)"
    source="$(echo "$head" | sed -n 's/^x-tiered-source: //p')"
    [ "$status" = 206 ] || { echo "$1: status $status, not 206" >&2; exit 1; }
    [ "$(sha256sum < "$WORK/back" | cut -d' ' -f1)" = "$EXPECTED" ] || { echo "$1: bytes differ" >&2; exit 1; }
    rm -f "$WORK/back"
    echo "  after range bytes=0- from $source: peak $(hwm) ($1 expected)"
}

echo "$MODE: one ${SIZE_MIB} MiB object"
# A warm budget whose eighth (the default policy's largest warm object) holds it.
start '[warm]
max_bytes = "16GiB"'
echo "  started:               peak $(hwm)"
curl -sS -f -T "$WORK/object" "http://$ADDR/v1/objects/big" > /dev/null
echo "  after PUT:             peak $(hwm)"
get warm
ranged warm
stop
start '[warm]
max_bytes = "0"'
echo "  restarted, no warm:    peak $(hwm)"
get cold
ranged cold
stop
rm -rf "$WORK/data/warm"
start '[warm]
max_bytes = "16GiB"'
echo "  restarted, warm empty: peak $(hwm)"
get cold
for _ in $(seq 600); do # the promotion is installed once the GET has ended
    [ -n "$(find "$WORK/data/warm/objects" -type f 2>/dev/null)" ] && break
    sleep 0.1
done
get "warm (promoted)"
stop
