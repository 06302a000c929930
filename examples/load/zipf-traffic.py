#!/usr/bin/env python3
"""Drive a `tiered serve` with skewed traffic: GETs of keys drawn from a Zipf
distribution over `--objects` keys, a 404 filled by a PUT of the key's size
(as an application filling a cache miss would), over one keep-alive
connection. For trying capture, shadow policies and promotion by hand
(docs/choosing-a-policy.md); not a load benchmark.

    examples/load/zipf-traffic.py --url http://127.0.0.1:7070 --requests 50000
"""

import argparse
import http.client
import random
import sys
import urllib.parse


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:7070")
    p.add_argument("--requests", type=int, default=50_000)
    p.add_argument("--objects", type=int, default=5_000)
    p.add_argument("--alpha", type=float, default=0.9, help="Zipf skew")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--prefix", default="zipf/")
    args = p.parse_args()

    url = urllib.parse.urlsplit(args.url)
    if url.scheme != "http" or not url.netloc:
        print(f"--url must be http://host:port, not {args.url!r}", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    weights = [1.0 / (rank**args.alpha) for rank in range(1, args.objects + 1)]
    # Popularity is not key order: shuffle which key gets which rank.
    keys = list(range(args.objects))
    rng.shuffle(keys)
    conn = http.client.HTTPConnection(url.netloc, timeout=30)
    hits = misses = 0
    batch = 10_000
    done = 0
    while done < args.requests:
        for key in rng.choices(keys, weights, k=min(batch, args.requests - done)):
            path = f"/v1/objects/{args.prefix}{key}"
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                hits += 1
                continue
            if response.status != 404:
                print(f"GET {path}: {response.status}", file=sys.stderr)
                return 1
            misses += 1
            size = 512 + (key * 7919) % 16_384
            conn.request("PUT", path, body=b"\0" * size)
            put = conn.getresponse()
            put.read()
            if put.status not in (200, 201):
                print(f"PUT {path}: {put.status}", file=sys.stderr)
                return 1
        done += min(batch, args.requests - done)
    print(f"{done} GETs: {hits} found, {misses} written after a 404")
    return 0


if __name__ == "__main__":
    sys.exit(main())
