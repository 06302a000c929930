//! # tiered-algorithms
//!
//! The eviction algorithm library (`examples/policies/algorithms/*`) as built
//! policy components, looked up by name: `tiered simulate --policy sieve`
//! loads [`get`]`("sieve")`, and the fidelity tests load each one.
//!
//! - [`ALL`]: every algorithm, in the order the docs list them, with its
//!   component's bytes and the path of the file they came from.
//! - [`get`]: one by name.
//!
//! The build script builds the crates for `wasm32-wasip2` (one nested
//! `cargo build`, see `tiered-guest-build`); a crate added to the library is
//! added to its list and to [`ALL`].

/// One algorithm of the library, built.
#[derive(Clone, Copy, Debug)]
pub struct Algorithm {
    /// Its name, as `--policy` takes it and as libCacheSim's figures name it
    /// in `tests/traces/gen.py`.
    pub name: &'static str,
    /// What it is, in a few words (for listings).
    pub summary: &'static str,
    /// The component.
    pub wasm: &'static [u8],
    /// The file the component was built to (for tools that take a path).
    pub path: &'static str,
}

macro_rules! algorithm {
    ($name:literal, $summary:literal, $var:literal) => {
        Algorithm { name: $name, summary: $summary, wasm: include_bytes!(env!($var)), path: env!($var) }
    };
}

/// Every algorithm of the library.
pub static ALL: &[Algorithm] = &[
    algorithm!("lru", "least recently used", "TIERED_ALGORITHM_LRU_WASM"),
    algorithm!("fifo", "first in, first out", "TIERED_ALGORITHM_FIFO_WASM"),
    algorithm!("clock", "CLOCK (second chance)", "TIERED_ALGORITHM_CLOCK_WASM"),
    algorithm!("sieve", "SIEVE (NSDI'24)", "TIERED_ALGORITHM_SIEVE_WASM"),
    algorithm!("arc", "ARC (FAST'03)", "TIERED_ALGORITHM_ARC_WASM"),
    algorithm!("lirs", "LIRS (SIGMETRICS'02)", "TIERED_ALGORITHM_LIRS_WASM"),
    algorithm!("gdsf", "GDSF (size-aware, 1998)", "TIERED_ALGORITHM_GDSF_WASM"),
    algorithm!("lhd", "LHD (NSDI'18)", "TIERED_ALGORITHM_LHD_WASM"),
    algorithm!("s3fifo", "S3-FIFO (SOSP'23)", "TIERED_ALGORITHM_S3FIFO_WASM"),
    algorithm!("wtinylfu", "W-TinyLFU (ACM ToS'17)", "TIERED_ALGORITHM_WTINYLFU_WASM"),
];

/// The algorithm called `name`, if the library has it.
pub fn get(name: &str) -> Option<&'static Algorithm> {
    ALL.iter().find(|a| a.name == name)
}

/// The names of every algorithm, comma-separated (for error messages).
pub fn names() -> String {
    ALL.iter().map(|a| a.name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_is_a_component_under_a_unique_name() {
        for (i, a) in ALL.iter().enumerate() {
            // The component binary format: `\0asm`, then a layer of 1.
            assert_eq!(&a.wasm[..4], b"\0asm", "{} is no wasm binary", a.name);
            assert_eq!(a.wasm[6..8], [1, 0], "{} is a core module, not a component", a.name);
            assert!(ALL[..i].iter().all(|b| b.name != a.name), "{} is listed twice", a.name);
            assert!(get(a.name).is_some_and(|b| std::ptr::eq(a, b)));
        }
        assert!(get("no-such-algorithm").is_none());
    }
}
