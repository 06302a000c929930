//! Builds the default policy component (`guest-policy/`) for `wasm32-wasip2`;
//! `src/embedded.rs` embeds it as `DEFAULT_POLICY_WASM`.

// A build script speaks to cargo through stdout.
#![allow(clippy::print_stdout)]

use tiered_guest_build::{Guest, build};

/// The library crates the default policy links (its adaptive order's experts).
const LINKED: &[&str] = &[
    "../examples/policies/algorithms/kit",
    "../examples/policies/algorithms/lirs",
    "../examples/policies/algorithms/wtinylfu",
];

fn main() {
    for dir in LINKED {
        println!("cargo:rerun-if-changed={dir}");
    }
    build(&[Guest { package: "tiered-default-policy", dir: "guest-policy", env_var: "TIERED_DEFAULT_POLICY_WASM" }]);
}
