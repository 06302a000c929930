#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time; fails if any finds a crash
# (a panic, a failed property assertion, a sanitizer report, a timeout).
#
#   fuzz/run.sh [seconds per target, default 30] [target...]
#
# Works on a fresh machine: installs the nightly toolchain (TIERED_FUZZ_TOOLCHAIN,
# default a pinned nightly, so a new nightly cannot break CI overnight) and cargo-fuzz (into $TIERED_TOOLS, default
# ~/.cache/tiered-tools) when missing. The targets depend only on the light
# `tiered-format` crate, so the sanitizer build takes about a minute.
#
# Build products go to $TIERED_FUZZ_TARGET_DIR (default ~/.cache/tiered-fuzz-target);
# each target's corpus grows in $TIERED_FUZZ_CORPUS/<target> (default
# ~/.cache/tiered-fuzz-corpus), seeded from the checked-in fuzz/seeds/<target>.
# A crashing input is saved under fuzz/artifacts/<target>/; replay it with
# `cargo +$TIERED_FUZZ_TOOLCHAIN fuzz run <target> fuzz/artifacts/<target>/<file>`
# (the pinned nightly below by default).
set -euo pipefail
cd "$(dirname "$0")"

secs="${1:-30}"
shift || true
toolchain="${TIERED_FUZZ_TOOLCHAIN:-nightly-2026-10-30}"
cargo_fuzz_version="0.13.2"
tools="${TIERED_TOOLS:-$HOME/.cache/tiered-tools}"
corpus_root="${TIERED_FUZZ_CORPUS:-$HOME/.cache/tiered-fuzz-corpus}"
export PATH="$tools/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
    echo "installing the $toolchain toolchain (cargo-fuzz needs nightly for sanitizers)"
    rustup toolchain install "$toolchain" --profile minimal
fi
if [[ "$(cargo-fuzz --version 2>/dev/null)" != "cargo-fuzz $cargo_fuzz_version" ]]; then
    echo "installing cargo-fuzz $cargo_fuzz_version into $tools"
    env -u CARGO_TARGET_DIR cargo install --locked --root "$tools" cargo-fuzz --version "$cargo_fuzz_version"
fi
export CARGO_TARGET_DIR="${TIERED_FUZZ_TARGET_DIR:-$HOME/.cache/tiered-fuzz-target}"

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    mapfile -t targets < <(cargo "+$toolchain" fuzz list)
fi

echo "building ${#targets[@]} fuzz targets ($(rustup run "$toolchain" rustc --version))"
cargo "+$toolchain" fuzz build

failed=()
for target in "${targets[@]}"; do
    corpus="$corpus_root/$target"
    seeds=()
    [[ -d "seeds/$target" ]] && seeds=("seeds/$target")
    mkdir -p "$corpus"
    log="$(mktemp)"
    echo "== fuzz $target: ${secs}s"
    if cargo "+$toolchain" fuzz run "$target" "$corpus" "${seeds[@]}" -- \
        -max_total_time="$secs" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
        execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
        cov="$(sed -n 's/.*DONE *cov: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)"
        units="$(find "$corpus" -type f | wc -l)"
        echo "fuzz $target: ${execs:-?} executions in ${secs}s, ${cov:-?} coverage points, corpus $units inputs, no crash"
    else
        tail -n 60 "$log"
        echo "fuzz $target: FAILED (input saved under fuzz/artifacts/$target/)"
        failed+=("$target")
    fi
    rm -f "$log"
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz targets that failed: ${failed[*]}"
    exit 1
fi
