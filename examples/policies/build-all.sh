#!/usr/bin/env bash
# Builds every example policy (each build.sh installs its own toolchain when
# missing). Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")"
for script in */build.sh; do
    echo "== examples/policies/${script%/build.sh}"
    "./$script"
done
