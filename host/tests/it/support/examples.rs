//! The example policies of `examples/policies/` as test inputs.
//!
//! Each `<name>/build.sh` writes `<name>/policy.wasm`; `tests/run-all` runs
//! `examples/policies/build-all.sh` first and sets `TIERED_REQUIRE_EXAMPLES=1`,
//! so there a missing component fails the test with the command that builds
//! it. Elsewhere (a plain `cargo test`) a missing component is skipped with a
//! visible `SKIPPED` line on stderr. `TIERED_EXAMPLE_POLICIES` points at
//! another folder of built examples.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;

/// The four versions of the prefix-TTL policy: `(folder, language)`.
pub const PREFIX_TTL: [(&str, &str); 4] =
    [("prefix-ttl-rust", "rust"), ("prefix-ttl-python", "python"), ("prefix-ttl-js", "js"), ("prefix-ttl-c", "c")];

/// The Python, JavaScript and C versions of S3-FIFO (the Rust one is the
/// algorithm library's): `(folder, language)`.
pub const S3FIFO: [(&str, &str); 3] = [("s3fifo-python", "python"), ("s3fifo-js", "js"), ("s3fifo-c", "c")];

/// Every example policy folder.
pub const ALL: [&str; 8] = [
    "prefix-ttl-rust",
    "prefix-ttl-python",
    "prefix-ttl-js",
    "prefix-ttl-c",
    "size-admission-rust",
    "s3fifo-python",
    "s3fifo-js",
    "s3fifo-c",
];

/// The folder holding the examples.
pub fn dir() -> PathBuf {
    match std::env::var_os("TIERED_EXAMPLE_POLICIES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/policies"),
    }
}

/// The path of an example's component.
pub fn wasm_path(name: &str) -> PathBuf {
    dir().join(name).join("policy.wasm")
}

/// Whether a missing example fails the test (`TIERED_REQUIRE_EXAMPLES=1`).
pub fn required() -> bool {
    std::env::var("TIERED_REQUIRE_EXAMPLES").is_ok_and(|v| v == "1")
}

/// The component of example `name`, or `None` (after saying so) when it has
/// not been built and examples are not required.
///
/// # Panics
/// When it is missing and `TIERED_REQUIRE_EXAMPLES=1`.
pub fn load(name: &str) -> Option<Vec<u8>> {
    let path = wasm_path(name);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(err) if required() => panic!(
            "example policy {} cannot be read ({err}); build it with examples/policies/{name}/build.sh \
             or examples/policies/build-all.sh (TIERED_REQUIRE_EXAMPLES=1 makes this a failure)",
            path.display()
        ),
        Err(_) => {
            // Written to the process's stderr directly: the test harness captures
            // `eprintln!` of passing tests, and a skip must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: example policy {} is not built; run examples/policies/build-all.sh \
                 (set TIERED_REQUIRE_EXAMPLES=1 to make this a failure)",
                path.display()
            );
            None
        }
    }
}
