//! [`IdMap`]: maps keyed by object id with a fixed hasher.
//!
//! `HashMap::new()` seeds its hasher from the system's random source; a
//! policy component is given none (WASI's random call traps), and an order
//! must be deterministic anyway. The host's ids are already hashes, and a
//! trace's are often small integers, so one multiply and a rotation spread
//! them well enough.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map from object id to `V`.
pub type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// Fibonacci hashing of a `u64` id (bytes are folded in for other keys).
#[derive(Clone, Copy, Debug, Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(26);
    }
}
