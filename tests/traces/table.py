"""Runs `tiered simulate` on the benchmark traces and prints, per trace and
cache size, the default policy's miss ratio beside libCacheSim's figures,
then replay speeds.

    python tests/traces/table.py TIERED_BINARY [TRACE_DIR] [REPEATS] [--real DIR] [--batched]

TRACE_DIR holds the Zipf traces of gen.py (`tests/traces/gen.sh bench`;
default target/traces). `--real DIR` adds the real traces of DIR, whose
refs.json holds libCacheSim 0.3.5's figures (`../shared/traces/real`).
`--batched` adds the miss ratio in `--mode batched` (the service's event
buffers) beside the exact one.

Miss ratios are deterministic. Replay speeds (Zipf traces only) are the
median of REPEATS runs (default 3) with the default policy as a component
(as the service runs it), linked natively (`--policy builtin`), and the
simulator's own LRU baseline from the same runs.

A row passes when the default is no worse than libCacheSim's LRU and within
1.0 point of the best online algorithm libCacheSim ran on that trace.
"""

import json
import statistics
import subprocess
import sys
from pathlib import Path

ZIPF = ["zipf-a0.8-unit", "zipf-a0.8-var", "zipf-a1.0-unit", "zipf-a1.0-var"]
# The online algorithms of each reference set (Belady is offline).
ZIPF_ONLINE = {"lru": "LRU", "arc": "ARC", "s3fifo": "S3-FIFO", "wtinylfu": "W-TinyLFU", "sieve": "SIEVE"}
REAL_ONLINE = ["LRU", "FIFO", "SIEVE", "S3-FIFO", "W-TinyLFU", "ARC", "LIRS"]


def simulate(binary, trace, share, policy=None, mode=None):
    cmd = [binary, "simulate", "--trace", str(trace), "--format", "oracle-general",
           "--hot", f"{share * 100:g}%", "--json", "--no-progress"]
    if policy:
        cmd += ["--policy", policy]
    if mode:
        cmd += ["--mode", mode]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def cases(traces, real):
    """(label, trace path, share, {algorithm: miss ratio}) per case."""
    for name in ZIPF:
        expected = json.loads((traces / f"{name}.json").read_text())
        for share in (0.01, 0.1):
            runs = {r["algorithm"]: r for r in expected["runs"] if r["share"] == share}
            refs = {ZIPF_ONLINE[a]: runs[a]["miss_ratio"] for a in ZIPF_ONLINE}
            refs["Belady"] = runs["belady"]["miss_ratio"]
            yield name, traces / expected["trace"], share, refs
    if real:
        refs_json = json.loads((real / "refs.json").read_text())
        for file, entry in sorted(refs_json.items()):
            for size, share in (("1%", 0.01), ("10%", 0.1)):
                figures = entry["sizes"][size]
                refs = {a: figures[a]["omr"] for a in REAL_ONLINE + ["Belady"]}
                yield file.removesuffix(".oracleGeneral.bin"), real / file, share, refs


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    flags = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    binary = args[0]
    traces = Path(args[1]) if len(args) > 1 else Path("target/traces")
    repeats = int(args[2]) if len(args) > 2 else 3
    real = Path(flags[flags.index("--real") + 1]) if "--real" in flags else None
    batched = "--batched" in flags

    print("| trace | cache | **default** | batched | sim LRU | LRU | S3-FIFO | best online | Belady | vs LRU | vs best |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    speeds = []
    misses = 0
    for name, trace, share, refs in cases(traces, real):
        zipf = name.startswith("zipf")
        runs = repeats if zipf else 1
        wasm = [simulate(binary, trace, share) for _ in range(runs)]
        ours = wasm[0]["policy"]["miss_ratio"]
        lru = wasm[0]["lru"]["miss_ratio"]
        batch = simulate(binary, trace, share, mode="batched")["policy"]["miss_ratio"] if batched else None
        online = {a: m for a, m in refs.items() if a != "Belady"}
        best = min(online, key=online.get)
        vs_lru = ours - refs["LRU"]
        vs_best = ours - online[best]
        ok = vs_lru <= 0.0005 and vs_best <= 0.01
        misses += not ok
        print(f"| {name} | {share:.0%} | **{ours:.4f}** | {'-' if batch is None else f'{batch:.4f}'} | {lru:.4f} "
              f"| {refs['LRU']:.4f} | {refs['S3-FIFO']:.4f} | {best} {online[best]:.4f} | {refs['Belady']:.4f} "
              f"| {vs_lru * 100:+.2f} | {vs_best * 100:+.2f}{'' if ok else ' ✗'} |")
        if zipf:
            native = [simulate(binary, trace, share, "builtin") for _ in range(runs)]
            speeds.append((name, share,
                           statistics.median(r["policy"]["requests_per_sec"] for r in wasm),
                           statistics.median(r["policy"]["requests_per_sec"] for r in native),
                           statistics.median(r["lru"]["requests_per_sec"] for r in wasm)
                           if "requests_per_sec" in wasm[0]["lru"] else None))
    print()
    print(f"{misses} case(s) miss the target (✗: worse than LRU, or more than 1.0 point behind the best online)")
    print()
    print("| trace | cache | req/s, component | req/s, native | native / component |")
    print("|---|---|---|---|---|")
    for name, share, wasm, native, _ in speeds:
        print(f"| {name} | {share:.0%} | {wasm:,.0f} | {native:,.0f} | {native / wasm:.2f} |")


if __name__ == "__main__":
    main()
