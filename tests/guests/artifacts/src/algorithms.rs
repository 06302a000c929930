//! The eviction algorithm library (`examples/policies/algorithms/*`), one
//! policy component per algorithm, named as libCacheSim's figures name them
//! (`tests/traces/gen.py`).

/// `(name, path of the component)` of every algorithm built.
pub const ALL: &[(&str, &str)] = &[
    ("lru", env!("TIERED_ALGORITHM_LRU_WASM")),
    ("fifo", env!("TIERED_ALGORITHM_FIFO_WASM")),
    ("clock", env!("TIERED_ALGORITHM_CLOCK_WASM")),
    ("sieve", env!("TIERED_ALGORITHM_SIEVE_WASM")),
    ("arc", env!("TIERED_ALGORITHM_ARC_WASM")),
    ("lirs", env!("TIERED_ALGORITHM_LIRS_WASM")),
];

/// The path of algorithm `name`'s component, if it is built.
pub fn path(name: &str) -> Option<&'static str> {
    ALL.iter().find(|(n, _)| *n == name).map(|&(_, path)| path)
}
