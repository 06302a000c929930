#!/usr/bin/env bash
# Load benchmark of the policy sandbox: `tiered serve` under a PUT load (every
# PUT asks the policy for a placement) with the default policy and with
# hostile ones (the test guest `tests/guests/faulty`), side by side:
#
#   default    the embedded default policy (the baseline)
#   log-flood  logs a 16 MiB message per call
#   log-lines  logs 100,000 short lines per call
#   leak       leaks 1 MiB per call (written), default limits
#   leak-64m   the same with total_memory_bytes = 64 MiB and no idle-growth
#              bound, so only the process-wide bound stops it
#
#   host/benches/load/hostile-policy.sh [seconds] [connections]
#
# Each server logs at `info` (so the policies' messages are recorded) to a
# file. For each: requests/s (wrk, 2 threads, `connections` (default 16)
# connections, `seconds` (default 10) s of 1 KiB PUTs over 1,000 keys), how
# much the log grew during the load, the policy's log and memory counters
# (/v1/stats), and the server's peak resident memory (VmHWM). Installs wrk
# with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/../../.."

SECONDS_PER_RUN="${1:-10}"
CONNECTIONS="${2:-16}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tiered-target}"

if ! command -v wrk >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

cargo build --release --locked -p tiered-host --bin tiered >&2
cargo build --release --locked -p tiered-faulty-policy --target wasm32-wasip2 >&2
TIERED="$CARGO_TARGET_DIR/release/tiered"
FAULTY="$CARGO_TARGET_DIR/wasm32-wasip2/release/tiered_faulty_policy.wasm"

WORK="$(mktemp -d)"
cleanup() {
    [[ -n "${PID:-}" ]] && kill "$PID" 2>/dev/null || true
    sleep 0.3
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

cat >"$WORK/put.lua" <<'EOF'
wrk.method = "PUT"
wrk.body = string.rep("x", 1024)
request = function()
    return wrk.format(nil, "/v1/objects/load/" .. math.random(1, 1000))
end
EOF

printf '%-10s %10s %12s %12s %10s %10s %10s %10s %12s\n' policy "req/s" "log bytes" "log B/s" written dropped \
    throttled refused "peak RSS"
for policy in default log-flood log-lines leak leak-64m; do
    port="$(free_port)"
    dir="$WORK/$policy"
    mkdir -p "$dir"
    args=(serve --listen "127.0.0.1:$port" --data-dir "$dir" --config "$dir/tiered.toml")
    : >"$dir/tiered.toml"
    if [[ "$policy" != default ]]; then
        args+=(--policy "$FAULTY")
        printf '[policy_config]\nmode = "%s"\n' "${policy%-64m}" >"$dir/tiered.toml"
    fi
    if [[ "$policy" == leak-64m ]]; then
        printf '[policy_limits]\ntotal_memory_bytes = %d\nidle_growth_bytes = %d\n' $((64 << 20)) $((1 << 30)) \
            >>"$dir/tiered.toml"
    fi
    RUST_LOG=info "$TIERED" "${args[@]}" 2>"$dir/log" &
    PID=$!
    for _ in $(seq 600); do
        curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
        sleep 0.1
    done
    before="$(stat -c %s "$dir/log")"
    rps="$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s "$WORK/put.lua" "http://127.0.0.1:$port" |
        sed -n 's/^Requests\/sec: *//p')"
    after="$(stat -c %s "$dir/log")"
    stats="$(curl -sf "http://127.0.0.1:$port/v1/stats")"
    hwm="$(sed -n 's/^VmHWM: *//p' "/proc/$PID/status")"
    kill "$PID"
    wait "$PID" 2>/dev/null || true
    PID=
    read -r written dropped throttled refused < <(python3 -c '
import json, sys
c = json.loads(sys.argv[1])["policy_counters"]
print(c["log_written"], c["log_dropped"], c["throttled"], c["memory_refusals"])' "$stats")
    grown=$((after - before))
    printf '%-10s %10s %12s %12s %10s %10s %10s %10s %12s\n' "$policy" "$rps" "$grown" "$((grown / SECONDS_PER_RUN))" \
        "$written" "$dropped" "$throttled" "$refused" "$hwm"
done
