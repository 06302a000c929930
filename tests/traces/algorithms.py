"""Replays every algorithm of the eviction algorithm library
(examples/policies/algorithms) on the 16 benchmark cases with
`tiered simulate --mode exact` and prints its miss ratio beside libCacheSim's.

    python tests/traces/algorithms.py TIERED_BINARY WASM_DIR [TRACE_DIR] [--real DIR] [--only a,b]

WASM_DIR holds the components (`tiered_algorithm_<name>.wasm`, as
`cargo build --release --target wasm32-wasip2 -p tiered-algorithm-<name>`
writes them). TRACE_DIR holds the Zipf traces and libCacheSim's figures of
`tests/traces/gen.sh bench` (default target/traces). `--real DIR` adds the
real traces of DIR at 1% and 10%, with libCacheSim 0.3.5's figures from its
refs.json; a figure refs.json lacks (CLOCK) is computed with libcachesim when
this runs in its virtualenv (the one gen.sh installs), else shown as `-`.

The cache holds what libCacheSim's holds: for unit-size traces exactly its
number of objects (the share is turned into footprint bytes); for traces of
varying sizes the share applies to the engine's footprints (object bytes
plus per-object metadata), so the two caches hold slightly different sets.

A cell is `ours / libCacheSim`; `✗` marks a difference above the target
(0.0005 for LRU, FIFO and CLOCK; 0.005 for the others).
"""

import json
import subprocess
import sys
from pathlib import Path

ZIPF = ["zipf-a0.8-unit", "zipf-a0.8-var", "zipf-a1.0-unit", "zipf-a1.0-var"]
# name in the library, name in refs.json, tolerance
ALGORITHMS = [
    ("lru", "LRU", 0.0005),
    ("fifo", "FIFO", 0.0005),
    ("clock", "CLOCK", 0.0005),
    ("sieve", "SIEVE", 0.005),
    ("arc", "ARC", 0.005),
    ("lirs", "LIRS", 0.005),
    ("wtinylfu", "W-TinyLFU", 0.005),
]
LIBCACHESIM = {"lru": "LRU", "fifo": "FIFO", "clock": "Clock", "sieve": "Sieve", "arc": "ARC", "lirs": "LIRS",
               "wtinylfu": "WTinyLFU"}


def simulate(binary, trace, hot, wasm):
    cmd = [binary, "simulate", "--trace", str(trace), "--format", "oracle-general", "--hot", hot,
           "--policy", str(wasm), "--mode", "exact", "--json", "--no-progress"]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def libcachesim_figure(algorithm, trace, cache_bytes):
    try:
        import libcachesim as lcs
    except ImportError:
        return None
    reader = lcs.TraceReader(str(trace), lcs.TraceType.ORACLE_GENERAL_TRACE)
    cache = getattr(lcs, LIBCACHESIM[algorithm])(cache_size=cache_bytes, consider_obj_metadata=False)
    return cache.process_trace(reader)[0]


def cases(traces, real):
    """(label, trace, share, unit sizes, libCacheSim's cache bytes, {algorithm: miss ratio or None})."""
    for name in ZIPF:
        expected = json.loads((traces / f"{name}.json").read_text())
        for share in (0.01, 0.1):
            runs = {r["algorithm"]: r for r in expected["runs"] if r["share"] == share}
            cache_bytes = runs["lru"]["cache_bytes"]
            refs = {a: runs[a]["miss_ratio"] if a in runs else None for a, _, _ in ALGORITHMS}
            yield name, traces / expected["trace"], share, expected["sizes"] == "unit", cache_bytes, refs
    if real:
        for file, entry in sorted(json.loads((real / "refs.json").read_text()).items()):
            for size, share in (("1%", 0.01), ("10%", 0.1)):
                figures = entry["sizes"][size]
                refs = {a: figures[r]["omr"] if r in figures else None for a, r, _ in ALGORITHMS}
                unit = entry["unique_bytes"] == entry["unique_objects"]
                label = file.removesuffix(".oracleGeneral.bin")
                yield label, real / file, share, unit, figures["cache_bytes"], refs


def main():
    flags = sys.argv[1:]
    args = []
    skip = False
    for i, a in enumerate(flags):
        if skip:
            skip = False
        elif a in ("--real", "--only"):
            skip = True
        else:
            args.append(a)
    if len(args) < 2:
        sys.exit(__doc__)
    binary, wasm_dir = args[0], Path(args[1])
    traces = Path(args[2]) if len(args) > 2 else Path("target/traces")
    real = Path(flags[flags.index("--real") + 1]) if "--real" in flags else None
    only = flags[flags.index("--only") + 1].split(",") if "--only" in flags else None
    algorithms = [a for a in ALGORITHMS if (only is None or a[0] in only)
                  and (wasm_dir / f"tiered_algorithm_{a[0]}.wasm").exists()]

    print("| trace | cache | " + " | ".join(f"{label} ours / libCacheSim" for _, label, _ in algorithms) + " |")
    print("|---|---|" + "---|" * len(algorithms))
    worst = {a: (0.0, None) for a, _, _ in algorithms}
    misses = {a: 0 for a, _, _ in algorithms}
    footprint = {}
    for label, trace, share, unit, cache_bytes, refs in cases(traces, real):
        cells = []
        for algorithm, _, tolerance in algorithms:
            wasm = wasm_dir / f"tiered_algorithm_{algorithm}.wasm"
            hot = f"{footprint[trace] * cache_bytes}" if unit and trace in footprint else f"{share * 100:g}%"
            report = simulate(binary, trace, hot, wasm)
            if unit and trace not in footprint:
                footprint[trace] = report["unique_bytes"] // report["unique_objects"]
                if report["hot_bytes"] != footprint[trace] * cache_bytes:
                    report = simulate(binary, trace, f"{footprint[trace] * cache_bytes}", wasm)
            ours = report["policy"]["miss_ratio"]
            theirs = refs.get(algorithm)
            if theirs is None:
                theirs = libcachesim_figure(algorithm, trace, cache_bytes)
            if theirs is None:
                cells.append(f"{ours:.4f} / -")
                continue
            delta = ours - theirs
            bad = abs(delta) > tolerance
            misses[algorithm] += bad
            if abs(delta) >= abs(worst[algorithm][0]):
                worst[algorithm] = (delta, f"{label} {share:.0%}")
            cells.append(f"{ours:.4f} / {theirs:.4f}{' ✗' if bad else ''}")
        print(f"| {label} | {share:.0%} | " + " | ".join(cells) + " |", flush=True)
    print()
    print("| algorithm | target | cases off target | largest difference (ours − libCacheSim) |")
    print("|---|---|---|---|")
    for algorithm, label, tolerance in algorithms:
        delta, where = worst[algorithm]
        print(f"| {label} | {tolerance} | {misses[algorithm]} | {delta:+.5f} ({where}) |")


if __name__ == "__main__":
    main()
