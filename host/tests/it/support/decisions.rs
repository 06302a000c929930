//! A recorded sequence of policy decisions for comparing implementations:
//! writes and lower-tier reads over keys under the prefixes
//! of the prefix-TTL rules (and near misses such as `logsx/`), with sizes and
//! TTLs at the boundaries the spec names (64 KiB, 60 s, 1 s, expired).
//!
//! The sequence is generated from a fixed seed by a xorshift generator, so it
//! is the same on every run and machine. Values stay below 2^53 where the
//! policy echoes them back (TTLs), the range every language represents exactly.
#![allow(dead_code)]

use std::collections::BTreeMap;

use tiered::policy::{Policy, ReadInfo, TierId, WriteInfo};

const NOW_MS: u64 = 1_700_000_000_000;
const PREFIXES: [&str; 8] = ["logs/", "logs/debug/", "tmp/", "static/", "logsx/", "log", "", "tmp"];
const SIZES: [u64; 10] = [0, 1, 1023, 4096, 65_535, 65_536, 65_537, 1 << 20, 1 << 40, (1 << 63) + 12_345];
const TTLS: [Option<u64>; 9] = [
    None,
    None,
    Some(1),
    Some(999),
    Some(30_000),
    Some(60_000),
    Some(60_001),
    Some(3_600_000),
    Some(1_000_000_000_000),
];
const EXPIRIES: [Option<u64>; 8] =
    [None, None, Some(0), Some(999), Some(1000), Some(59_999), Some(60_000), Some(86_400_000)];
const TIERS: [TierId; 3] = [TierId::Hot, TierId::Warm, TierId::Cold];

/// One call, with owned inputs.
#[derive(Debug)]
pub enum Decision {
    Place { key: String, size: u64, ttl: Option<u64> },
    Promote { key: String, size: u64, served_by: TierId, access_count: u64, expires_in_ms: Option<u64> },
}

impl Decision {
    /// Asks `policy`; the answer rendered exactly.
    pub fn ask(&self, policy: &dyn Policy) -> String {
        let metadata = BTreeMap::new();
        match self {
            Decision::Place { key, size, ttl } => format!(
                "{:?}",
                policy.place(&WriteInfo {
                    key,
                    size: *size,
                    content_type: None,
                    metadata: &metadata,
                    requested_ttl_ms: *ttl,
                    now_ms: NOW_MS,
                })
            ),
            Decision::Promote { key, size, served_by, access_count, expires_in_ms } => format!(
                "{:?}",
                policy.promote(&ReadInfo {
                    key,
                    size: *size,
                    content_type: None,
                    metadata: &metadata,
                    served_by: *served_by,
                    age_ms: 1000,
                    access_count: *access_count,
                    frequency: 1,
                    expires_in_ms: *expires_in_ms,
                    now_ms: NOW_MS,
                })
            ),
        }
    }
}

/// xorshift64*: small, fixed, good enough to spread choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn key(&mut self) -> String {
        format!("{}object-{}", self.pick(&PREFIXES), self.next() % 1000)
    }
}

/// `n` decisions; the first is a write.
pub fn sequence(n: usize) -> Vec<Decision> {
    let mut rng = Rng(0x7469_6572_6564_0001);
    (0..n)
        .map(|i| match if i == 0 { 0 } else { rng.next() % 2 } {
            0 => Decision::Place { key: rng.key(), size: rng.pick(&SIZES), ttl: rng.pick(&TTLS) },
            _ => Decision::Promote {
                key: rng.key(),
                size: rng.pick(&SIZES),
                served_by: rng.pick(&TIERS),
                access_count: rng.next() % 4,
                expires_in_ms: rng.pick(&EXPIRIES),
            },
        })
        .collect()
}

/// Asserts the reference answers exercise every branch worth comparing, so an
/// agreement between languages is not an agreement on trivia.
pub fn assert_meaningful(answers: &[String]) {
    for needle in [
        "hot: true",
        "hot: false",
        "warm: true",
        "warm: false",
        "ttl_ms: None",
        "ttl_ms: Some(30000)",
        "ttl_ms: Some(60000)",
        "ttl_ms: Some(3600000)",
        "ttl_ms: Some(86400000)",
    ] {
        assert!(answers.iter().any(|a| a.contains(needle)), "no answer of the sequence contains `{needle}`");
    }
}
