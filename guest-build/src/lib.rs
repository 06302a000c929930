//! Builds policy components for build scripts: a nested
//! `cargo build --release --target wasm32-wasip2` of guest crates of this
//! workspace, each component handed to the calling crate as an environment
//! variable holding its path. Used by `tiered-wasm` (the default policy it
//! embeds) and by `tests/guests/artifacts` (the test guests), so the library
//! never builds test components.
//!
//! - [`Guest`] names a guest crate and the variable that receives its path.
//! - The nested build has a target directory of its own next to the outer
//!   build's (`<profile>/guest-target/<checkout>`): reusing the outer target
//!   directory would deadlock on cargo's lock. Variables of the outer build
//!   that would leak into the nested one (wrappers such as clippy-driver, flags
//!   for the host target, jobserver, profile overrides) are removed first.
//! - Each component is copied into `OUT_DIR` (so concurrent outer builds never
//!   read a file being rewritten) and exposed as `cargo:rustc-env=<VAR>=<path>`,
//!   for `include_bytes!(env!("<VAR>"))` or for tests to load.
//! - Debug info is stripped from the components (function names are kept for
//!   trap backtraces): the default policy shrinks from ~2.7 MB to ~160 KB.

// A build script speaks to cargo through stdout.
#![allow(clippy::print_stdout)]

use std::env;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A guest crate to build. The component's file name is the package name
/// with `-` replaced by `_` (the default lib name).
#[derive(Clone, Copy, Debug)]
pub struct Guest {
    /// The package name.
    pub package: &'static str,
    /// Its manifest directory, relative to the workspace root.
    pub dir: &'static str,
    /// The variable receiving the absolute path of its `.wasm`.
    pub env_var: &'static str,
}

/// The component target every guest is built for.
const WASM_TARGET: &str = "wasm32-wasip2";

/// Variables of the outer build removed from the nested build's environment.
const STRIPPED_VARS: &[&str] = &[
    "RUSTC",
    "RUSTDOC",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_ENCODED_RUSTDOCFLAGS",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_RUSTC",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_MAKEFLAGS",
    "MAKEFLAGS",
    "MFLAGS",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_INCREMENTAL",
    "CLIPPY_ARGS",
    "CLIPPY_CONF_DIR",
    "__CARGO_FIX_PLZ",
];

/// Prefixes of removed variables (profile overrides aimed at the host build).
const STRIPPED_PREFIXES: &[&str] = &["CARGO_PROFILE_"];

/// Builds `guests` and exports their paths; call from a build script.
pub fn build(guests: &[Guest]) {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = workspace_root(&manifest_dir);
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));

    println!("cargo:rerun-if-changed={}", root.join("wit").display());
    println!("cargo:rerun-if-changed={}", root.join("Cargo.lock").display());
    for guest in guests {
        // The whole crate directory: sources, Cargo.toml, any build script.
        println!("cargo:rerun-if-changed={}", root.join(guest.dir).display());
    }

    check_target_installed();
    let guest_target = guest_target_dir(&out_dir, &root);
    build_guests(&root, &guest_target, guests);

    for &Guest { package, env_var: var, .. } in guests {
        let file = format!("{}.wasm", package.replace('-', "_"));
        let built = guest_target.join(WASM_TARGET).join("release").join(&file);
        let copy = out_dir.join(&file);
        std::fs::copy(&built, &copy)
            .unwrap_or_else(|e| panic!("copying the {package} component {} failed: {e}", built.display()));
        println!("cargo:rustc-env={var}={}", copy.display());
    }
}

/// The nearest ancestor of `manifest_dir` whose `Cargo.toml` declares the
/// workspace.
fn workspace_root(manifest_dir: &Path) -> PathBuf {
    manifest_dir
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|manifest| manifest.contains("[workspace]"))
        })
        .expect("the guest crates are built from inside the workspace")
        .to_path_buf()
}

/// `<profile dir>/guest-target/<checkout>`: shared by every build of this
/// profile (check, clippy, build), never the outer target directory itself.
/// `<checkout>` is a hash of the workspace root, so two checkouts sharing one
/// `CARGO_TARGET_DIR` never overwrite each other's components (the `.wasm`
/// file names do not depend on where the sources live).
fn guest_target_dir(out_dir: &Path, root: &Path) -> PathBuf {
    let mut hasher = std::hash::DefaultHasher::new();
    root.hash(&mut hasher);
    let checkout = format!("{:016x}", hasher.finish());
    // OUT_DIR is <target>/[<triple>/]<profile>/build/<crate>-<hash>/out.
    match out_dir.ancestors().nth(3) {
        Some(profile_dir) => profile_dir.join("guest-target").join(checkout),
        None => out_dir.join("guest-target"),
    }
}

/// Fails early, naming the fix, when the toolchain lacks the wasm target.
fn check_target_installed() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(output) = Command::new(&rustc).args(["--print", "sysroot"]).output() else {
        return; // Let the nested build report what is wrong.
    };
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if output.status.success() && !Path::new(&sysroot).join("lib/rustlib").join(WASM_TARGET).is_dir() {
        panic!(
            "the Rust target `{WASM_TARGET}` is not installed in {sysroot}; tiered builds \
             policy components for it. Install it with:\n\n    rustup target add {WASM_TARGET}\n"
        );
    }
}

/// One nested `cargo build` for every guest.
fn build_guests(root: &Path, guest_target: &Path, guests: &[Guest]) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .arg("build")
        .arg("--release")
        .args(["--target", WASM_TARGET])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(guest_target);
    for guest in guests {
        cmd.args(["-p", guest.package]);
    }
    for (name, _) in env::vars_os() {
        let name = name.to_string_lossy();
        if STRIPPED_VARS.contains(&name.as_ref()) || STRIPPED_PREFIXES.iter().any(|p| name.starts_with(p)) {
            cmd.env_remove(name.as_ref());
        }
    }
    cmd.env("CARGO_PROFILE_RELEASE_DEBUG", "false").env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo");

    let output = cmd.output().unwrap_or_else(|e| panic!("running the nested cargo build ({cmd:?}) failed: {e}"));
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let hint = if stderr.contains("may not be installed") || stderr.contains("can't find crate for `core`") {
            format!(
                "\nThe Rust target `{WASM_TARGET}` is missing. Install it with:\n\n    rustup target add {WASM_TARGET}\n"
            )
        } else {
            String::new()
        };
        panic!("building the guest policies for {WASM_TARGET} failed ({cmd:?}):\n{stderr}{hint}");
    }
}
