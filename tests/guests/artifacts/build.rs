//! Builds the test guests and the eviction algorithm library
//! (`examples/policies/algorithms`) for `wasm32-wasip2`; `src/lib.rs`
//! exposes them.

// A build script speaks to cargo through stdout.
#![allow(clippy::print_stdout)]

use tiered_guest_build::{Guest, build};

/// The eviction algorithm library, built beside the test guests so the
/// fidelity tests can load each one.
const ALGORITHMS: &[Guest] = &[
    Guest {
        package: "tiered-algorithm-lru",
        dir: "examples/policies/algorithms/lru",
        env_var: "TIERED_ALGORITHM_LRU_WASM",
    },
    Guest {
        package: "tiered-algorithm-fifo",
        dir: "examples/policies/algorithms/fifo",
        env_var: "TIERED_ALGORITHM_FIFO_WASM",
    },
    Guest {
        package: "tiered-algorithm-clock",
        dir: "examples/policies/algorithms/clock",
        env_var: "TIERED_ALGORITHM_CLOCK_WASM",
    },
    Guest {
        package: "tiered-algorithm-sieve",
        dir: "examples/policies/algorithms/sieve",
        env_var: "TIERED_ALGORITHM_SIEVE_WASM",
    },
    Guest {
        package: "tiered-algorithm-arc",
        dir: "examples/policies/algorithms/arc",
        env_var: "TIERED_ALGORITHM_ARC_WASM",
    },
    Guest {
        package: "tiered-algorithm-lirs",
        dir: "examples/policies/algorithms/lirs",
        env_var: "TIERED_ALGORITHM_LIRS_WASM",
    },
];

fn main() {
    // The algorithms' shared crate is no guest of its own: watch it here.
    println!("cargo:rerun-if-changed=../../../examples/policies/algorithms/kit");
    let mut guests = vec![
        Guest { package: "tiered-faulty-policy", dir: "tests/guests/faulty", env_var: "TIERED_FAULTY_POLICY_WASM" },
        Guest { package: "tiered-lru-policy", dir: "tests/guests/lru", env_var: "TIERED_LRU_POLICY_WASM" },
        Guest {
            package: "tiered-old-contract-policy",
            dir: "tests/guests/old-contract",
            env_var: "TIERED_OLD_CONTRACT_POLICY_WASM",
        },
    ];
    guests.extend_from_slice(ALGORITHMS);
    build(&guests);
}
