#!/usr/bin/env bash
# Builds this policy as a WebAssembly component: writes policy.wasm next to
# this script. Installs the wasm32-wasip2 Rust target if it is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tiered-target}"

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi
# No debug info in the component (function names stay, for trap backtraces).
CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=debuginfo \
    cargo build --manifest-path "$root/Cargo.toml" --locked --release --target wasm32-wasip2 -p tiered-example-size-admission
cp "$CARGO_TARGET_DIR/wasm32-wasip2/release/tiered_example_size_admission.wasm" "$here/policy.wasm"
echo "wrote $here/policy.wasm ($(wc -c < "$here/policy.wasm") bytes)"
