#!/usr/bin/env bash
# Builds this policy as a WebAssembly component with jco's QuickJS backend:
# writes policy.wasm next to this script. jco is installed from the npm
# registry into build/node_modules (ignored by git) when it is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
build="$here/build"
version=1.35.0
jco="$build/node_modules/.bin/jco"

if ! "$jco" --version 2>/dev/null | grep -qx "$version"; then
    echo "installing @bytecodealliance/jco $version into $build/node_modules"
    mkdir -p "$build"
    npm install --prefix "$build" --no-audit --no-fund --no-save --silent "@bytecodealliance/jco@$version"
fi
# QuickJS, WASI stubbed out (a policy has no clock, files or network),
# synchronous exports.
"$jco" componentize "$here/policy.js" --wit "$root/wit" --world-name policy \
    --backend quickjs --backend-qjs-stub-wasi --backend-qjs-disable-async \
    -o "$here/policy.wasm"
echo "wrote $here/policy.wasm ($(wc -c < "$here/policy.wasm") bytes)"
