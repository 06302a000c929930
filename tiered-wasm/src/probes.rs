//! The inputs of the conformance kit ([`super::conformance`]): ordinary
//! decisions, and the edge inputs every policy must survive (an empty batch,
//! a 1024-byte key, size 0, size 2^63, no metadata, extreme counters, a
//! batch of 1024 candidates). Each [`Probe`] owns its data and renders the
//! policy's answer as a string, so two answers compare exactly (f64 `Debug`
//! round-trips).

use std::collections::BTreeMap;

use tiered::policy::{Candidate, Policy, ReadInfo, TierId, WriteInfo};

/// Host time of every probe.
const NOW_MS: u64 = 1_700_000_000_000;
/// The largest key the store accepts, in bytes.
pub(crate) const MAX_KEY_BYTES: usize = 1024;
/// Size 2^63: far past anything stored, yet a valid `u64`.
const HUGE: u64 = 1 << 63;

/// The metadata of a promoted object that has none.
static NO_METADATA: BTreeMap<String, String> = BTreeMap::new();

/// One decision asked of the policy.
#[derive(Debug)]
pub(crate) enum Probe {
    Place { key: String, size: u64, content_type: Option<String>, metadata: BTreeMap<String, String>, ttl: Option<u64> },
    Promote { key: String, size: u64, served_by: TierId, access_count: u64, frequency: u32, expires_in_ms: Option<u64> },
    Score(Vec<Candidate>),
}

impl Probe {
    /// Asks `policy` and renders its answer.
    pub(crate) fn ask(&self, policy: &dyn Policy) -> String {
        match self {
            Probe::Place { key, size, content_type, metadata, ttl } => {
                let write = WriteInfo {
                    key,
                    size: *size,
                    content_type: content_type.as_deref(),
                    metadata,
                    requested_ttl_ms: *ttl,
                    now_ms: NOW_MS,
                };
                format!("{:?}", policy.place(&write))
            }
            Probe::Promote { key, size, served_by, access_count, frequency, expires_in_ms } => {
                let read = ReadInfo {
                    key,
                    size: *size,
                    content_type: None,
                    metadata: &NO_METADATA,
                    served_by: *served_by,
                    age_ms: 60_000,
                    access_count: *access_count,
                    frequency: *frequency,
                    expires_in_ms: *expires_in_ms,
                    now_ms: NOW_MS,
                };
                format!("{:?}", policy.promote(&read))
            }
            Probe::Score(batch) => format!("{:?}", policy.score(NOW_MS, batch)),
        }
    }
}

/// A write with metadata, a content type and no requested TTL.
fn place(key: impl Into<String>, size: u64) -> Probe {
    let metadata = BTreeMap::from([("owner".to_owned(), "conformance".to_owned())]);
    Probe::Place { key: key.into(), size, content_type: Some("text/plain".into()), metadata, ttl: None }
}

fn promote(key: impl Into<String>, size: u64, served_by: TierId, count: u64) -> Probe {
    Probe::Promote {
        key: key.into(),
        size,
        served_by,
        access_count: count,
        frequency: u32::try_from(count).unwrap_or(u32::MAX),
        expires_in_ms: None,
    }
}

/// A candidate with ordinary statistics.
fn candidate(key: impl Into<String>, size: u64, tier: TierId) -> Candidate {
    Candidate {
        key: key.into(),
        size,
        tier,
        age_ms: 120_000,
        idle_ms: 30_000,
        access_count: 3,
        frequency: 3,
        expires_in_ms: None,
    }
}

/// A varied batch: sizes 1 KiB..4 MiB, idle 0..10 min, some expiring.
pub(crate) fn batch(n: u64) -> Vec<Candidate> {
    (0..n)
        .map(|i| Candidate {
            key: format!("conformance/candidate/{i:04}"),
            size: 1024 << (i % 13),
            tier: if i % 3 == 0 { TierId::Warm } else { TierId::Hot },
            age_ms: 1000 * (i * 37 % 600 + 1),
            idle_ms: 1000 * (i * 53 % 600),
            access_count: i % 7,
            frequency: (i % 11) as u32,
            expires_in_ms: match i % 5 {
                0 => Some(0),
                1 => Some(30_000),
                2 => Some(3_600_000),
                _ => None,
            },
        })
        .collect()
}

/// The decisions on ordinary inputs: `(name, probe)`.
pub(crate) fn ordinary() -> Vec<(&'static str, Probe)> {
    let with_ttl = Probe::Place {
        key: "logs/2024/app.log".into(),
        size: 4096,
        content_type: Some("text/plain".into()),
        metadata: BTreeMap::from([("owner".to_owned(), "conformance".to_owned())]),
        ttl: Some(60_000),
    };
    vec![
        ("place 4 KiB", place("conformance/small", 4096)),
        ("place 4 KiB, requested TTL 60 s", with_ttl),
        ("place 64 MiB", place("conformance/large", 64 << 20)),
        ("promote from warm, 3rd read", promote("conformance/small", 4096, TierId::Warm, 3)),
        ("promote from cold, 1st read", promote("conformance/small", 4096, TierId::Cold, 1)),
        ("score 64", Probe::Score(batch(64))),
    ]
}

/// The edge inputs no policy may trap on.
pub(crate) fn edges() -> Vec<(&'static str, Probe)> {
    let long_key = "k".repeat(MAX_KEY_BYTES);
    // 1024 bytes of 2- and 3-byte characters: offsets that are not char boundaries.
    let wide_key = format!("é{}", "€".repeat((MAX_KEY_BYTES - 2) / 3)) + &"k".repeat((MAX_KEY_BYTES - 2) % 3);
    let bare = Probe::Place {
        key: "conformance/bare".into(),
        size: 4096,
        content_type: None,
        metadata: BTreeMap::new(),
        ttl: None,
    };
    let mut extreme = candidate(long_key.clone(), HUGE, TierId::Hot);
    (extreme.age_ms, extreme.idle_ms, extreme.access_count, extreme.frequency) =
        (u64::MAX, u64::MAX, u64::MAX, u32::MAX);
    let edge_batch = vec![
        candidate("conformance/empty", 0, TierId::Hot),
        candidate("conformance/huge", HUGE, TierId::Warm),
        candidate(wide_key.clone(), 1024, TierId::Hot),
        Candidate { expires_in_ms: Some(0), ..candidate("conformance/expired", 10, TierId::Hot) },
        Candidate { idle_ms: 0, access_count: 0, frequency: 0, ..candidate("conformance/new", 10, TierId::Warm) },
        extreme,
    ];
    vec![
        ("place size 0", place("conformance/empty", 0)),
        ("place size 2^63", place("conformance/huge", HUGE)),
        ("place 1024-byte key", place(long_key.clone(), 4096)),
        ("place 1024-byte multibyte key", place(wide_key, 4096)),
        ("place without metadata", bare),
        ("promote size 0", promote("conformance/empty", 0, TierId::Cold, 2)),
        ("promote size 2^63", promote("conformance/huge", HUGE, TierId::Warm, 2)),
        ("promote 1024-byte key", promote(long_key, 4096, TierId::Cold, u64::MAX)),
        (
            "promote an expired object",
            Probe::Promote {
                key: "conformance/expired".into(),
                size: 10,
                served_by: TierId::Cold,
                access_count: 9,
                frequency: 9,
                expires_in_ms: Some(0),
            },
        ),
        ("score an empty batch", Probe::Score(Vec::new())),
        ("score edge candidates", Probe::Score(edge_batch)),
        ("score 1024 candidates", Probe::Score(batch(1024))),
    ]
}
