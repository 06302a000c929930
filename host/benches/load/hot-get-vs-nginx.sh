#!/usr/bin/env bash
# Load benchmark: 1 KiB hot GETs per second from `tiered serve`, through
# `/v1/objects` and through the S3 endpoint (a path-style GetObject:
# unsigned, as on loopback without access keys, and signed with SigV4 as
# the AWS SDKs sign it, on a second server with a key), side by side with nginx
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

# A second tiered whose S3 endpoint has an access key: every request signed.
SIGNED_PORT="$(free_port)"
SIGNED_S3_PORT="$(free_port)"
printf '[s3_api]\nlisten = "127.0.0.1:%s"\nbucket = "tiered"\n[[s3_api.access_keys]]\nid = "BENCHKEY"\nsecret = "bench-secret"\n' \
    "$SIGNED_S3_PORT" >"$WORK/signed.toml"
start_tiered "$TIERED" "$SIGNED_PORT" "$WORK/signed" "$WORK/signed.toml"
# sigv4_headers: wrk's -H arguments signing GET /tiered/bench/1k now (an
# unsigned payload, as the SDKs send a GetObject); valid 15 minutes.
sigv4_headers() {
    python3 - "127.0.0.1:$SIGNED_S3_PORT" <<'PY'
import datetime, hashlib, hmac, sys
host, path, key, secret, region = sys.argv[1], "/tiered/bench/1k", "BENCHKEY", "bench-secret", "us-east-1"
now = datetime.datetime.now(datetime.timezone.utc)
stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
headers = {"host": host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-amz-date": stamp}
names = ";".join(sorted(headers))
canonical = "\n".join(["GET", path, ""] + [f"{n}:{headers[n]}" for n in sorted(headers)] + ["", names, "UNSIGNED-PAYLOAD"])
scope = f"{day}/{region}/s3/aws4_request"
to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
k = ("AWS4" + secret).encode()
for part in (day, region, "s3", "aws4_request"):
    k = hmac.new(k, part.encode(), hashlib.sha256).digest()
signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
print(f"-H\nx-amz-content-sha256: UNSIGNED-PAYLOAD\n-H\nx-amz-date: {stamp}\n-H")
print(f"Authorization: AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={names}, Signature={signature}")
PY
}
mapfile -t SIGNED < <(sigv4_headers)
curl_signed=(curl -sf -H "${SIGNED[1]}" -H "${SIGNED[3]}" -H "${SIGNED[5]}")
cmp <("${curl_signed[@]}" "http://127.0.0.1:$SIGNED_S3_PORT/tiered/bench/1k") "$WORK/1k"
# The signed read takes the endpoint's direct path (not s3s's).
curl -sf "http://127.0.0.1:$SIGNED_PORT/metrics" | grep -q 'tiered_s3_api_responses_total{class="2xx",path="direct"} 1' ||
    { echo "the signed read did not take the direct path" >&2; exit 1; }

# nginx, static file handler, no access log, tuned.
NGINX_PORT="$(free_port)"
mkdir -p "$WORK/www"
cp "$WORK/1k" "$WORK/www/1k"
start_nginx "$NGINX_PORT" 1k \
    "open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s; sendfile on; tcp_nopush on;"
cmp <(curl -sf "http://127.0.0.1:$NGINX_PORT/1k") "$WORK/1k"

declare -a T S G N RT RS RG
echo "round  /v1 req/s  S3 req/s  S3 signed  nginx req/s  /v1 ratio  S3 ratio  signed ratio"
for i in $(seq "$ROUNDS"); do
    mapfile -t SIGNED < <(sigv4_headers)
    t="$(rps "http://127.0.0.1:$TIERED_PORT/v1/objects/bench/1k")"
    n="$(rps "http://127.0.0.1:$NGINX_PORT/1k")"
    s="$(rps "http://127.0.0.1:$S3_PORT/tiered/bench/1k")"
    g="$(rps "http://127.0.0.1:$SIGNED_S3_PORT/tiered/bench/1k" "${SIGNED[@]}")"
    rt="$(echo "$t / $n" | bc -l)"; rs="$(echo "$s / $n" | bc -l)"; rg="$(echo "$g / $n" | bc -l)"
    T+=("$t"); S+=("$s"); G+=("$g"); N+=("$n"); RT+=("$rt"); RS+=("$rs"); RG+=("$rg")
    printf "%5d  %9.0f  %8.0f  %9.0f  %11.0f  %9.2f  %8.2f  %12.2f\n" "$i" "$t" "$s" "$g" "$n" "$rt" "$rs" "$rg"
done
printf "median /v1 %.0f req/s, S3 %.0f, S3 signed %.0f, nginx %.0f; per-round ratios' medians: /v1 %.2f, S3 %.2f, signed %.2f\n" \
    "$(median "${T[@]}")" "$(median "${S[@]}")" "$(median "${G[@]}")" "$(median "${N[@]}")" \
    "$(median "${RT[@]}")" "$(median "${RS[@]}")" "$(median "${RG[@]}")"
# The signed server's responses by way and class: all should be 2xx, direct.
curl -sf "http://127.0.0.1:$SIGNED_PORT/metrics" | grep '^tiered_s3_api_responses_total' >&2 || true
