//! Builds the test guests for `wasm32-wasip2`; `src/lib.rs` exposes them.

// A build script speaks to cargo through stdout.
#![allow(clippy::print_stdout)]

use tiered_guest_build::{Guest, build};

fn main() {
    build(&[
        Guest { package: "tiered-faulty-policy", dir: "tests/guests/faulty", env_var: "TIERED_FAULTY_POLICY_WASM" },
        Guest {
            package: "tiered-old-contract-policy",
            dir: "tests/guests/old-contract",
            env_var: "TIERED_OLD_CONTRACT_POLICY_WASM",
        },
        Guest {
            package: "tiered-early-order-policy",
            dir: "tests/guests/early-order",
            env_var: "TIERED_EARLY_ORDER_POLICY_WASM",
        },
    ]);
}
