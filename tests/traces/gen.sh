#!/usr/bin/env bash
# Generates the Zipf traces and libCacheSim's miss ratios on them (gen.py), in
# a virtualenv with libcachesim installed from PyPI on first use.
#
#   tests/traces/gen.sh fidelity [OUT_DIR]   # default OUT_DIR: target/traces
#   tests/traces/gen.sh bench [OUT_DIR]
#
# The virtualenv lives under $TIERED_TOOLS (default ~/.cache/tiered-tools),
# outside the repository; the outputs go to an ignored folder. A run whose
# outputs already exist and are newer than gen.py does nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
what="${1:?usage: gen.sh fidelity|bench [OUT_DIR]}"
out="${2:-$root/target/traces}"
tools="${TIERED_TOOLS:-$HOME/.cache/tiered-tools}"
venv="$tools/libcachesim-venv"
version="0.3.5"

case "$what" in
    fidelity) marker="$out/zipf-fidelity.json" ;;
    bench) marker="$out/zipf-a1.0-var.json" ;;
    *) echo "gen.sh: unknown set '$what' (fidelity or bench)" >&2; exit 2 ;;
esac
fresh() { [[ -f "$marker" && "$marker" -nt "$here/gen.py" ]]; }
if fresh; then
    exit 0
fi

# Tests run in parallel and may all ask at once: one installs and generates
# while the others wait, then find the outputs made.
mkdir -p "$tools"
exec 9>"$tools/libcachesim.lock"
flock 9
if fresh; then
    exit 0
fi
if ! "$venv/bin/python" -c "import libcachesim" 2>/dev/null; then
    echo "installing libcachesim $version into $venv" >&2
    # What an interrupted install left is made again from nothing.
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "libcachesim==$version"
fi
"$venv/bin/python" "$here/gen.py" "$what" "$out"
