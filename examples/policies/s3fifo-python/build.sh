#!/usr/bin/env bash
# Builds this policy as a WebAssembly component with componentize-py: writes
# policy.wasm next to this script. componentize-py is installed from PyPI into
# a virtual environment under build/ (ignored by git) when it is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
venv="$here/build/venv"
version=0.25.1

if ! "$venv/bin/componentize-py" --version 2>/dev/null | grep -q "$version"; then
    echo "installing componentize-py $version into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "componentize-py==$version"
fi
# World ordered-policy (decisions and the eviction order); --stub-wasi: no
# WASI imports at all (a policy has no clock, files or network).
"$venv/bin/componentize-py" -d "$root/wit" -w ordered-policy componentize --stub-wasi app \
    -p "$here" -o "$here/policy.wasm"
echo "wrote $here/policy.wasm ($(wc -c < "$here/policy.wasm") bytes)"
