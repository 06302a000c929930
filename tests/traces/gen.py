"""Generates Zipf traces with libCacheSim and its miss ratios on them.

Usage (normally through gen.sh, which provides a virtualenv with libcachesim):

    python gen.py fidelity OUT_DIR   # small trace + every algorithm below, for the fidelity tests
    python gen.py bench OUT_DIR      # the hit-ratio benchmark traces + every baseline

Traces are written in libCacheSim's oracleGeneral format (24-byte records:
u32 timestamp, u64 id, u32 size, i64 next-access vtime) and read back by
libCacheSim itself, so both simulators see the very same requests. Requests
come from libCacheSim's SyntheticReader (Zipf); timestamps are one second
apart. "Variable" sizes give each object a fixed size drawn from a
log-uniform distribution between 64 B and 64 KiB (seeded by the object id).

Each run writes NAME.oracleGeneral and NAME.json with the miss ratios, for
cache sizes given as a share of the trace's unique bytes.
"""

import json
import random
import struct
import sys
from pathlib import Path

import libcachesim as lcs

RECORD = struct.Struct("<IQIq")
# libCacheSim's classes, default parameters, object bytes only (as refs.py of
# the real traces).
ALGORITHMS = {
    "lru": lcs.LRU,
    "fifo": lcs.FIFO,
    "clock": lcs.Clock,
    "sieve": lcs.Sieve,
    "arc": lcs.ARC,
    "lirs": lcs.LIRS,
    "s3fifo": lcs.S3FIFO,
    "wtinylfu": lcs.WTinyLFU,
    "belady": lcs.Belady,
}


def object_size(obj_id, variable):
    if not variable:
        return 1
    return int(64 * 1024 ** random.Random(obj_id).random())


def write_trace(path, requests, objects, alpha, variable, seed):
    reader = lcs.SyntheticReader(
        num_of_req=requests, obj_size=1, time_span=requests, alpha=alpha,
        dist="zipf", num_objects=objects, seed=seed,
    )
    ids = [req.obj_id for req in reader]
    next_use = [-1] * len(ids)
    last = {}
    for i in range(len(ids) - 1, -1, -1):
        next_use[i] = last.get(ids[i], -1)
        last[ids[i]] = i
    sizes = {obj_id: object_size(obj_id, variable) for obj_id in last}
    partial = path.with_suffix(".partial")
    with open(partial, "wb") as out:
        for i, obj_id in enumerate(ids):
            out.write(RECORD.pack(i, obj_id, sizes[obj_id], next_use[i]))
    partial.replace(path)  # atomic: a concurrent reader sees all or nothing
    return len(last), sum(sizes.values())


def miss_ratios(path, algorithm, cache_size):
    reader = lcs.TraceReader(str(path), lcs.TraceType.ORACLE_GENERAL_TRACE)
    cache = ALGORITHMS[algorithm](cache_size=cache_size, consider_obj_metadata=False)
    miss, byte_miss = cache.process_trace(reader)
    return {"miss_ratio": miss, "byte_miss_ratio": byte_miss}


def generate(out, name, requests, objects, alpha, variable, shares, algorithms, seed=42):
    trace = out / f"{name}.oracleGeneral"
    unique_objects, unique_bytes = write_trace(trace, requests, objects, alpha, variable, seed)
    results = {
        "trace": trace.name, "requests": requests, "alpha": alpha,
        "sizes": "variable" if variable else "unit", "unique_objects": unique_objects,
        "unique_bytes": unique_bytes, "libcachesim": lcs.__version__ if hasattr(lcs, "__version__") else "unknown",
        "runs": [],
    }
    for share in shares:
        cache_size = max(1, round(unique_bytes * share))
        for algorithm in algorithms:
            run = {"share": share, "cache_bytes": cache_size, "algorithm": algorithm}
            run.update(miss_ratios(trace, algorithm, cache_size))
            results["runs"].append(run)
    partial = out / f"{name}.json.partial"
    partial.write_text(json.dumps(results, indent=2) + "\n")
    partial.replace(out / f"{name}.json")
    print(f"{name}: {unique_objects} objects, {unique_bytes} bytes, {len(results['runs'])} runs")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("fidelity", "bench"):
        sys.exit(__doc__)
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    if sys.argv[1] == "fidelity":
        generate(out, "zipf-fidelity", 50_000, 5_000, 1.0, False, [0.01, 0.1], list(ALGORITHMS))
        return
    for alpha in (0.8, 1.0):
        for variable in (False, True):
            name = f"zipf-a{alpha}-{'var' if variable else 'unit'}"
            generate(out, name, 1_000_000, 100_000, alpha, variable, [0.01, 0.1], list(ALGORITHMS))


if __name__ == "__main__":
    main()
