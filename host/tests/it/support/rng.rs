//! A small seeded pseudo-random generator for the reliability battery.
//!
//! Every randomized test takes its seed from `TIERED_SEED` when set (to replay
//! a failure) or from the clock, and prints it on failure paths, so a failing
//! run can be reproduced exactly. SplitMix64: tiny, fast, good enough for
//! choosing keys, sizes, delays and byte flips; not for cryptography.
#![allow(dead_code)]

use std::io::Write;

/// A SplitMix64 generator.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The run's seed: `TIERED_SEED` or the clock; written to stderr with the
    /// test's name so a failure can be replayed.
    pub fn from_env(test: &str) -> Self {
        let seed = std::env::var("TIERED_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos() as u64
        });
        let _ = writeln!(std::io::stderr(), "{test}: seed {seed} (replay with TIERED_SEED={seed})");
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A value in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// `true` with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A child generator with its own stream (one per task).
    pub fn fork(&mut self) -> Rng {
        Rng(self.next_u64())
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// A value that names its writer: `key`, a write id, and `len` bytes of filler
/// derived from both, so any read can be traced back to exactly one write (or
/// shown to be bytes nobody wrote for that key).
pub fn value_for(key: &str, id: u64, len: usize) -> Vec<u8> {
    let mut out = format!("{id:016x}|{key}|").into_bytes();
    let mut rng = Rng::new(id ^ xxhash(key.as_bytes()));
    while out.len() < len {
        out.push(b'a' + (rng.next_u64() % 26) as u8);
    }
    out
}

/// The write id a value names, if it is well formed for `key` and its filler
/// matches (a value of the right shape with altered bytes yields `None`).
pub fn id_of(key: &str, value: &[u8]) -> Option<u64> {
    let id = u64::from_str_radix(std::str::from_utf8(value.get(..16)?).ok()?, 16).ok()?;
    (value_for(key, id, value.len()) == value).then_some(id)
}

fn xxhash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}
