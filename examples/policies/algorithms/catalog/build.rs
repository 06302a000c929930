//! Builds every algorithm of the library (`examples/policies/algorithms/*`)
//! for `wasm32-wasip2`; `src/lib.rs` embeds them by name.

// A build script speaks to cargo through stdout.
#![allow(clippy::print_stdout)]

use tiered_guest_build::{Guest, build};

/// One entry per algorithm crate; `src/lib.rs` names each component.
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
    Guest {
        package: "tiered-algorithm-gdsf",
        dir: "examples/policies/algorithms/gdsf",
        env_var: "TIERED_ALGORITHM_GDSF_WASM",
    },
    Guest {
        package: "tiered-algorithm-lhd",
        dir: "examples/policies/algorithms/lhd",
        env_var: "TIERED_ALGORITHM_LHD_WASM",
    },
    Guest {
        package: "tiered-algorithm-s3fifo",
        dir: "examples/policies/algorithms/s3fifo",
        env_var: "TIERED_ALGORITHM_S3FIFO_WASM",
    },
    Guest {
        package: "tiered-algorithm-wtinylfu",
        dir: "examples/policies/algorithms/wtinylfu",
        env_var: "TIERED_ALGORITHM_WTINYLFU_WASM",
    },
];

fn main() {
    // The algorithms' shared crate is no guest of its own: watch it here.
    println!("cargo:rerun-if-changed=../kit");
    build(ALGORITHMS);
}
