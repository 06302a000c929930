"""Generates Zipf traces with libCacheSim and its miss ratios on them.

Usage (normally through gen.sh, which provides a virtualenv with libcachesim):

    python gen.py fidelity OUT_DIR   # small traces + every algorithm below, for the fidelity tests
    python gen.py bench OUT_DIR      # the hit-ratio benchmark traces + every baseline

Traces are written in libCacheSim's oracleGeneral format (24-byte records:
u32 timestamp, u64 id, u32 size, i64 next-access vtime) and read back by
libCacheSim itself, so both simulators see the very same requests. Requests
come from libCacheSim's SyntheticReader (Zipf); timestamps are one second
apart. "Variable" sizes give each object a fixed size drawn from a
log-uniform distribution between 64 B and 64 KiB (seeded by the object id).

Each run writes NAME.oracleGeneral and NAME.json with the miss ratios, for
cache sizes given as a share of the trace's unique bytes. The fidelity set
also has a small trace of varying sizes, replayed by libCacheSim with each
object's engine footprint (FOOTPRINT) added to its size, as the engine's
tiers count it: the size-aware algorithms are compared on that footing.
"""

import json
import os
import random
import struct
import sys
import threading
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
    "gdsf": lcs.GDSF,
    "lhd": lcs.LHD,
    "s3fifo": lcs.S3FIFO,
    "wtinylfu": lcs.WTinyLFU,
    "belady": lcs.Belady,
}


# What the engine's tiers count for an object of an oracleGeneral trace
# besides its bytes: the metadata footprint of a 16-hex-digit key.
# host/tests/it/algorithms.rs checks it against the engine.
FOOTPRINT = 282
# The algorithms replayed on the small trace of varying sizes, beside
# libCacheSim given each object's footprint as its size.
FOOTPRINT_ALGORITHMS = ["lru", "gdsf", "lhd", "wtinylfu"]


def object_size(obj_id, variable):
    if not variable:
        return 1
    return int(64 * 1024 ** random.Random(obj_id).random())


def partial_of(path):
    """Where `path` is written before it is renamed into place: a name of
    this process's own, so two test processes generating the same file at
    once (they write the same bytes) never rename each other's file."""
    return path.with_name(f"{path.name}.{os.getpid()}.partial")


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
    partial = partial_of(path)
    with open(partial, "wb") as out:
        for i, obj_id in enumerate(ids):
            out.write(RECORD.pack(i, obj_id, sizes[obj_id], next_use[i]))
    partial.replace(path)  # atomic: a concurrent reader sees all or nothing
    return len(last), sum(sizes.values())


def miss_ratios(path, algorithm, cache_size):
    # Each run in a thread of its own: libCacheSim's random generator is per
    # thread, so a sampling algorithm (LHD) starts from the same state in every
    # run and its figures do not depend on what ran before.
    results = []

    def run():
        reader = lcs.TraceReader(str(path), lcs.TraceType.ORACLE_GENERAL_TRACE)
        cache = ALGORITHMS[algorithm](cache_size=cache_size, consider_obj_metadata=False)
        results.append(cache.process_trace(reader))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    miss, byte_miss = results[0]
    return {"miss_ratio": miss, "byte_miss_ratio": byte_miss}


def with_footprints(src, dst, footprint):
    """`src` with `footprint` added to every size: the bytes the engine counts."""
    data = src.read_bytes()
    partial = partial_of(dst)
    with open(partial, "wb") as out:
        for offset in range(0, len(data), RECORD.size):
            t, obj_id, size, next_use = RECORD.unpack_from(data, offset)
            out.write(RECORD.pack(t, obj_id, size + footprint, next_use))
    partial.replace(dst)


def generate(out, name, requests, objects, alpha, variable, shares, algorithms, seed=42, footprint=0):
    """With `footprint`, libCacheSim replays a copy of the trace whose sizes
    include it, at shares of the bytes so counted (as the engine's budget)."""
    trace = out / f"{name}.oracleGeneral"
    unique_objects, unique_bytes = write_trace(trace, requests, objects, alpha, variable, seed)
    replayed = trace
    if footprint:
        replayed = out / f"{name}-footprints.oracleGeneral"
        with_footprints(trace, replayed, footprint)
        unique_bytes += unique_objects * footprint
    results = {
        "trace": trace.name, "requests": requests, "alpha": alpha,
        "sizes": "variable" if variable else "unit", "unique_objects": unique_objects,
        "unique_bytes": unique_bytes, "libcachesim": lcs.__version__ if hasattr(lcs, "__version__") else "unknown",
        "footprint": footprint, "runs": [],
    }
    for share in shares:
        cache_size = max(1, round(unique_bytes * share))
        for algorithm in algorithms:
            run = {"share": share, "cache_bytes": cache_size, "algorithm": algorithm}
            run.update(miss_ratios(replayed, algorithm, cache_size))
            results["runs"].append(run)
    partial = partial_of(out / f"{name}.json")
    partial.write_text(json.dumps(results, indent=2) + "\n")
    partial.replace(out / f"{name}.json")
    print(f"{name}: {unique_objects} objects, {unique_bytes} bytes, {len(results['runs'])} runs")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("fidelity", "bench"):
        sys.exit(__doc__)
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    if sys.argv[1] == "fidelity":
        generate(out, "zipf-fidelity-var", 50_000, 5_000, 1.0, True, [0.01, 0.1], FOOTPRINT_ALGORITHMS,
                 footprint=FOOTPRINT)
        # Last: gen.sh takes this file as the sign that all are written.
        generate(out, "zipf-fidelity", 50_000, 5_000, 1.0, False, [0.01, 0.1], list(ALGORITHMS))
        return
    for alpha in (0.8, 1.0):
        for variable in (False, True):
            name = f"zipf-a{alpha}-{'var' if variable else 'unit'}"
            generate(out, name, 1_000_000, 100_000, alpha, variable, [0.01, 0.1], list(ALGORITHMS))


if __name__ == "__main__":
    main()
