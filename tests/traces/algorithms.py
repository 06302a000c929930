"""Replays every algorithm of the eviction algorithm library
(examples/policies/algorithms) on the 16 benchmark cases with
`tiered simulate --mode exact` and prints its miss ratio beside libCacheSim's.

    python tests/traces/algorithms.py TIERED_BINARY [TRACE_DIR] [--real DIR] [--only a,b]
        [--config KEY=VALUE ...]

The binary carries the library (`--policy <name>`); each case is one
`tiered simulate` run comparing every algorithm, whose requests/s are printed
in a second table. TRACE_DIR holds the Zipf traces and libCacheSim's figures of
`tests/traces/gen.sh bench` (default target/traces). `--real DIR` adds the
real traces of DIR at 1% and 10%, with libCacheSim 0.3.5's figures from its
refs.json; a figure refs.json lacks (CLOCK) is computed with libcachesim when
this runs in its virtualenv (the one gen.sh installs), else shown as `-`.
`--config KEY=VALUE` (repeatable) hands a `[policy_config]` pair to every
algorithm run (`--policy NAME:KEY=VALUE`), e.g. `--only wtinylfu --config
adaptive-window=true`; the libCacheSim column stays its default figure.

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
import threading
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
    ("gdsf", "GDSF", 0.005),
    ("lhd", "LHD", 0.005),
    ("s3fifo", "S3-FIFO", 0.005),
    ("wtinylfu", "W-TinyLFU", 0.005),
]
LIBCACHESIM = {"lru": "LRU", "fifo": "FIFO", "clock": "Clock", "sieve": "Sieve", "arc": "ARC", "lirs": "LIRS",
               "gdsf": "GDSF", "lhd": "LHD", "s3fifo": "S3FIFO", "wtinylfu": "WTinyLFU"}


def simulate(binary, trace, hot, algorithms, config=()):
    """One comparison run: {algorithm: report}."""
    cmd = [binary, "simulate", "--trace", str(trace), "--format", "oracle-general", "--hot", hot,
           "--mode", "exact", "--json", "--no-progress"]
    suffix = ":" + ",".join(config) if config else ""
    for algorithm in algorithms:
        cmd += ["--policy", algorithm + suffix]
    runs = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    if isinstance(runs, dict):  # one policy: one report, without a label
        runs = [dict(runs, label=algorithms[0] + suffix)]
    return {run["label"].removesuffix(suffix): run for run in runs}


def libcachesim_figure(algorithm, trace, cache_bytes):
    try:
        import libcachesim as lcs
    except ImportError:
        return None
    results = []

    def run():
        reader = lcs.TraceReader(str(trace), lcs.TraceType.ORACLE_GENERAL_TRACE)
        cache = getattr(lcs, LIBCACHESIM[algorithm])(cache_size=cache_bytes, consider_obj_metadata=False)
        results.append(cache.process_trace(reader)[0])

    # A thread of its own: libCacheSim's random generator is per thread, so
    # LHD's samples start from the same state in every run (as in gen.py).
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return results[0]


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
        elif a in ("--real", "--only", "--config"):
            skip = True
        else:
            args.append(a)
    if len(args) < 2:
        sys.exit(__doc__)
    binary = args[0]
    traces = Path(args[1]) if len(args) > 1 else Path("target/traces")
    real = Path(flags[flags.index("--real") + 1]) if "--real" in flags else None
    only = flags[flags.index("--only") + 1].split(",") if "--only" in flags else None
    config = [flags[i + 1] for i, a in enumerate(flags[:-1]) if a == "--config"]
    algorithms = [a for a in ALGORITHMS if only is None or a[0] in only]
    names = [a for a, _, _ in algorithms]

    print("| trace | cache | " + " | ".join(f"{label} ours / libCacheSim" for _, label, _ in algorithms) + " |")
    print("|---|---|" + "---|" * len(algorithms))
    worst = {a: (0.0, None) for a in names}
    misses = {a: 0 for a in names}
    speeds = []
    for label, trace, share, unit, cache_bytes, refs in cases(traces, real):
        hot = f"{share * 100:g}%"
        if unit:
            # Exactly libCacheSim's number of objects: footprint bytes each.
            probe = simulate(binary, trace, hot, ["fifo"])["fifo"]
            hot = str(probe["unique_bytes"] // probe["unique_objects"] * cache_bytes)
        reports = simulate(binary, trace, hot, names, config)
        cells = []
        for algorithm, _, tolerance in algorithms:
            report = reports[algorithm]
            ours = report["policy"]["miss_ratio"]
            fallbacks = report["policy"]["policy_fallbacks"]
            theirs = refs.get(algorithm)
            if theirs is None:
                theirs = libcachesim_figure(algorithm, trace, cache_bytes)
            note = f" ({fallbacks} fallbacks)" if fallbacks else ""
            if theirs is None:
                cells.append(f"{ours:.4f} / -{note}")
                continue
            delta = ours - theirs
            bad = abs(delta) > tolerance
            misses[algorithm] += bad
            if abs(delta) >= abs(worst[algorithm][0]):
                worst[algorithm] = (delta, f"{label} {share:.0%}")
            cells.append(f"{ours:.4f} / {theirs:.4f}{' ✗' if bad else ''}{note}")
        speeds.append((label, share, [reports[a]["policy"]["requests_per_sec"] for a in names]))
        print(f"| {label} | {share:.0%} | " + " | ".join(cells) + " |", flush=True)
    print()
    print("| algorithm | target | cases off target | largest difference (ours − libCacheSim) |")
    print("|---|---|---|---|")
    for algorithm, label, tolerance in algorithms:
        delta, where = worst[algorithm]
        print(f"| {label} | {tolerance} | {misses[algorithm]} | {delta:+.5f} ({where}) |")

    print()
    print("Replay speed, requests/s (one run per case; the policies one after the other):")
    print()
    print("| trace | cache | " + " | ".join(label for _, label, _ in algorithms) + " |")
    print("|---|---|" + "---:|" * len(algorithms))
    for label, share, rates in speeds:
        print(f"| {label} | {share:.0%} | " + " | ".join(f"{r / 1000:.0f}k" for r in rates) + " |")


if __name__ == "__main__":
    main()
