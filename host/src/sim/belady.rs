//! Belady's offline optimum for the hot tier: on a miss, the cached object
//! whose next request lies furthest in the future leaves (an object never
//! requested again is not admitted at all). With variable sizes this is the
//! classic Belady (libCacheSim's `Belady`), a bound in spirit rather than the
//! exact byte-aware optimum, which is NP-hard. Budgets count footprints
//! (value plus metadata), as the engine's tiers do.

use std::collections::BTreeSet;

use super::trace::{Op, Trace};

/// What the Belady baseline produced (hot tier, gets only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BeladyRun {
    pub gets: u64,
    pub hits: u64,
    pub get_bytes: u64,
    pub hit_bytes: u64,
}

/// Replays `trace` through a hot tier of `capacity` bytes managed by Belady's
/// rule. `next_uses` is [`Trace::next_uses`]; `overheads[k]` the metadata
/// footprint of key `k`.
pub fn run(trace: &Trace, capacity: u64, next_uses: &[u64], overheads: &[u64]) -> BeladyRun {
    // (next use, key) of every resident key, and each resident's entry.
    let mut order: BTreeSet<(u64, u32)> = BTreeSet::new();
    let mut resident: Vec<Option<(u64, u64)>> = vec![None; trace.keys.len()];
    let mut sizes = trace.first_sizes();
    let mut used = 0u64;
    let mut run = BeladyRun::default();
    for (i, r) in trace.requests.iter().enumerate() {
        let k = r.key as usize;
        let next = next_uses[i];
        if r.op == Op::Get {
            run.gets += 1;
            run.get_bytes += sizes[k];
            if let Some((old_next, footprint)) = resident[k] {
                run.hits += 1;
                run.hit_bytes += sizes[k];
                order.remove(&(old_next, r.key));
                order.insert((next, r.key));
                resident[k] = Some((next, footprint));
                continue;
            }
        }
        // A miss, a write or a delete: the key leaves, then (except for a
        // delete) comes back with its new size if it is worth keeping.
        if let Some((old_next, footprint)) = resident[k].take() {
            order.remove(&(old_next, r.key));
            used -= footprint;
        }
        if r.op != Op::Get {
            sizes[k] = r.size;
        }
        let footprint = overheads[k] + sizes[k];
        if r.op == Op::Delete || next == u64::MAX || footprint > capacity {
            continue;
        }
        order.insert((next, r.key));
        resident[k] = Some((next, footprint));
        used += footprint;
        while used > capacity {
            let Some((_, far_key)) = order.pop_last() else { break };
            if let Some((_, gone)) = resident[far_key as usize].take() {
                used -= gone;
            }
        }
    }
    run
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn belady(csv: &str, objects_room: u64) -> BeladyRun {
        let trace = Trace::parse_csv(Cursor::new(csv)).expect("valid trace");
        let overheads = vec![0; trace.keys.len()];
        run(&trace, objects_room, &trace.next_uses(), &overheads)
    }

    #[test]
    fn the_object_needed_furthest_ahead_leaves() {
        // Room for two: at `c`, a is needed next at 4, b at 5 and c never
        // again, so c is not admitted and both later gets hit.
        let r = belady("1,a,1\n2,b,1\n3,c,1\n4,a,1\n5,b,1\n", 2);
        assert_eq!((r.gets, r.hits), (5, 2));
    }

    #[test]
    fn sizes_count_against_the_budget_and_deletes_free_room() {
        let r = belady("1,a,3\n2,b,3\n3,a,3\n4,b,3\n", 4);
        assert_eq!(r.hits, 1, "only one of the two fits at a time");
        let r = belady("1,a,1\n2,a,0,delete\n3,a,1\n", 4);
        assert_eq!((r.gets, r.hits), (2, 0), "a deleted object is gone");
        let r = belady("1,a,9\n2,a,9\n", 4);
        assert_eq!(r.hits, 0, "larger than the whole tier: never cached");
    }
}
