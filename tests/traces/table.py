"""Runs `tiered simulate` on the benchmark traces of gen.py and prints the
hit-ratio table (markdown) beside libCacheSim's figures, and replay speeds.

    python tests/traces/table.py TIERED_BINARY [TRACE_DIR] [REPEATS]

TRACE_DIR defaults to target/traces (run `tests/traces/gen.sh bench` first).
Miss ratios are deterministic; replay speeds are the median of REPEATS runs
(default 3) with the default policy as a component (as the service runs it)
and linked natively (`--policy builtin`).
"""

import json
import statistics
import subprocess
import sys
from pathlib import Path

TRACES = ["zipf-a0.8-unit", "zipf-a0.8-var", "zipf-a1.0-unit", "zipf-a1.0-var"]
ONLINE = ["lru", "arc", "s3fifo", "wtinylfu", "sieve"]


def simulate(binary, trace, share, policy=None):
    cmd = [binary, "simulate", "--trace", str(trace), "--format", "oracle-general",
           "--hot", f"{share * 100:g}%", "--json", "--no-progress"]
    if policy:
        cmd += ["--policy", policy]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    traces = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("target/traces")
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    print("| trace | cache | default (obj / byte) | sim LRU | " + " | ".join(ONLINE) + " | Belady | best online |")
    print("|---|---|---|---|" + "---|" * len(ONLINE) + "---|---|")
    speeds = []
    for name in TRACES:
        expected = json.loads((traces / f"{name}.json").read_text())
        trace = traces / expected["trace"]
        for share in (0.01, 0.1):
            theirs = {r["algorithm"]: r for r in expected["runs"] if r["share"] == share}
            wasm = [simulate(binary, trace, share) for _ in range(repeats)]
            native = [simulate(binary, trace, share, "builtin") for _ in range(repeats)]
            ours = wasm[0]["policy"]
            cells = [f"{theirs[a]['miss_ratio']:.3f} / {theirs[a]['byte_miss_ratio']:.3f}" for a in ONLINE]
            best = min(ONLINE, key=lambda a: theirs[a]["miss_ratio"])
            print(f"| {name} | {share:.0%} | **{ours['miss_ratio']:.3f} / {ours['byte_miss_ratio']:.3f}** "
                  f"| {wasm[0]['lru']['miss_ratio']:.3f} | " + " | ".join(cells)
                  + f" | {theirs['belady']['miss_ratio']:.3f} / {theirs['belady']['byte_miss_ratio']:.3f}"
                  f" | {best} {theirs[best]['miss_ratio']:.3f} |")
            speeds.append((name, share,
                           statistics.median(r["policy"]["requests_per_sec"] for r in wasm),
                           statistics.median(r["policy"]["requests_per_sec"] for r in native),
                           ours["policy_ns"] / max(1, ours["policy_calls"])))
    print()
    print("| trace | cache | req/s, component | req/s, native | ratio native/component | ns per policy call (component) |")
    print("|---|---|---|---|---|---|")
    for name, share, wasm, native, per_call in speeds:
        print(f"| {name} | {share:.0%} | {wasm:,.0f} | {native:,.0f} | {native / wasm:.2f} | {per_call:,.0f} |")


if __name__ == "__main__":
    main()
