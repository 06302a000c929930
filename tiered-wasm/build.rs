//! Builds the default policy component (`guest-policy/`) for `wasm32-wasip2`;
//! `src/embedded.rs` embeds it as `DEFAULT_POLICY_WASM`.

use tiered_guest_build::{Guest, build};

fn main() {
    build(&[Guest { package: "tiered-default-policy", dir: "guest-policy", env_var: "TIERED_DEFAULT_POLICY_WASM" }]);
}
