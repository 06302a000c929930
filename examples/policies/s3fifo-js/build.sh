#!/usr/bin/env bash
# Builds this policy as a WebAssembly component with componentize-js (the
# StarlingMonkey engine, which passes WIT u64 values as BigInt): writes
# policy.wasm next to this script. componentize-js is installed from the npm
# registry into build/node_modules (ignored by git) when it is missing.
# Version 0.19.3: from 0.20 on, the generated bindings run every call through
# the component model's async task machinery, which costs about 0.3 ms a call
# in the interpreter (0.19.3: about 12 µs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
build="$here/build"
version=0.19.3
cjs="$build/node_modules/.bin/componentize-js"

if ! "$cjs" --version 2>/dev/null | grep -qx "$version"; then
    echo "installing @bytecodealliance/componentize-js $version into $build/node_modules"
    mkdir -p "$build"
    rm -rf "$build/node_modules"
    # Its bindings import preview2-shim without declaring it: installed beside.
    npm install --prefix "$build" --no-audit --no-fund --no-save --silent \
        "@bytecodealliance/componentize-js@$version" "@bytecodealliance/preview2-shim@0.25.0"
fi
# Every WASI feature of the engine disabled (a policy has no clock, random
# source, stdio or network): the component imports no WASI at all.
"$cjs" "$here/policy.js" --wit "$root/wit" --world-name ordered-policy \
    --disable stdio random clocks http fetch-event -o "$here/policy.wasm"
echo "wrote $here/policy.wasm ($(wc -c < "$here/policy.wasm") bytes)"
