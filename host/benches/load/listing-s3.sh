#!/usr/bin/env bash
# Listing a bucket through `tiered serve` with S3 as cold: KEYS objects of
# 100 bytes under one prefix, written straight into the bucket (no cache
# holds them), then paged through in pages of 1000, through `/v1/objects`
# (keys only) and through the S3 endpoint (ListObjectsV2 with boto3's
# paginator: keys, sizes, ETags, dates). Prints, per binary and per round,
# the seconds each full listing takes and the ListObjectsV2 requests the
# service sent (its `/metrics`).
#
#   host/benches/load/listing-s3.sh [keys] [rounds] [BIN...]
#
# Defaults: 20000 keys, 3 rounds, the release build. Give two binaries (a
# build before a change and one after) to compare them, alternated round
# by round. Starts its own Garage (tests/s3/garage.sh) and the S3 clients'
# venv (tests/s3-clients/install.sh), installing them when missing.
set -euo pipefail
cd "$(dirname "$0")/../../.."

KEYS="${1:-20000}"
ROUNDS="${2:-3}"
shift $(( $# < 2 ? $# : 2 ))
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tiered-target}"
if [[ $# -eq 0 ]]; then
    cargo build --release --locked -p tiered-host --bin tiered >&2
    set -- "$CARGO_TARGET_DIR/release/tiered"
fi

eval "$(tests/s3-clients/install.sh)"
WORK="$(mktemp -d)"
export TIERED_GARAGE_STATE="$WORK/garage"
PID=""
cleanup() {
    if [[ -n "$PID" ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    tests/s3/garage.sh stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
eval "$(tests/s3/garage.sh start)"
export TIERED_S3_ENDPOINT TIERED_S3_REGION TIERED_S3_BUCKET AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The objects, under `listbench/many/` in the bucket.
"$TIERED_S3_CLIENTS_PYTHON" - "$KEYS" <<'PY'
import os, sys, concurrent.futures as cf
import boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=os.environ["TIERED_S3_ENDPOINT"], region_name=os.environ["TIERED_S3_REGION"],
                  config=Config(s3={"addressing_style": "path"}, max_pool_connections=32))
bucket = os.environ["TIERED_S3_BUCKET"]
def put(i):
    s3.put_object(Bucket=bucket, Key=f"listbench/many/{i:06d}", Body=b"x" * 100)
with cf.ThreadPoolExecutor(32) as pool:
    list(pool.map(put, range(int(sys.argv[1]))))
PY

# list BIN: one full listing through each API, on a fresh service.
list_once() {
    local bin="$1" port s3_port data
    port="$(free_port)"; s3_port="$(free_port)"; data="$(mktemp -d -p "$WORK")"
    cat >"$data/tiered.toml" <<TOML
[cold]
kind = "s3"
bucket = "$TIERED_S3_BUCKET"
prefix = "listbench/"
endpoint = "$TIERED_S3_ENDPOINT"
region = "$TIERED_S3_REGION"
path_style = true
[s3_api]
listen = "127.0.0.1:$s3_port"
bucket = "bench"
TOML
    RUST_LOG=warn "$bin" serve --listen "127.0.0.1:$port" --data-dir "$data/data" --config "$data/tiered.toml" \
        2>"$data/log" &
    PID=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && curl -s -o /dev/null "http://127.0.0.1:$s3_port/" && break
        sleep 0.1
    done
    "$TIERED_S3_CLIENTS_PYTHON" - "$port" "$s3_port" "$KEYS" <<'PY'
import json, sys, time, urllib.parse, urllib.request
import boto3
from botocore import UNSIGNED
from botocore.config import Config
port, s3_port, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
def lists():
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    return sum(float(l.split()[-1]) for l in text.splitlines()
               if l.startswith("tiered_s3_request_duration_seconds_count") and 'operation="list"' in l)
before, t, keys, after = lists(), time.perf_counter(), 0, None
while True:
    q = {"prefix": "many/", "limit": "1000", **({"after": after} if after else {})}
    page = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/objects?" + urllib.parse.urlencode(q)))
    keys += len(page["keys"])
    after = page["next"]
    if not after:
        break
v1 = (time.perf_counter() - t, lists() - before)
assert keys == expected, (keys, expected)
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{s3_port}", region_name="us-east-1",
                  config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"}))
before, t, keys = lists(), time.perf_counter(), 0
for page in s3.get_paginator("list_objects_v2").paginate(Bucket="bench", Prefix="many/"):
    keys += page["KeyCount"]
assert keys == expected, (keys, expected)
s3api = (time.perf_counter() - t, lists() - before)
print(f"/v1 {v1[0]:6.2f} s {v1[1]:5.0f} LIST   S3 endpoint {s3api[0]:6.2f} s {s3api[1]:5.0f} LIST")
PY
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}

echo "$KEYS keys, pages of 1000"
for round in $(seq "$ROUNDS"); do
    for bin in "$@"; do
        printf "round %d  %-40s " "$round" "$bin"
        list_once "$bin"
    done
done
