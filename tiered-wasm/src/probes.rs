//! The inputs of the conformance kit ([`super::conformance`]): ordinary
//! decisions, and the edge inputs every policy must survive (an empty batch,
//! a 1024-byte key, size 0, size 2^63, no metadata, extreme counters, a
//! batch of 1024 events). Each [`Probe`] owns its data and renders the
//! policy's answer as a string, so two answers compare exactly.
//!
//! The eviction order is state, so an order probe is a short scenario: it
//! first empties the tier's order (`evict` of everything), then feeds
//! events and asks. Each run uses ids no earlier run used (a ghost of a past
//! run must not change this one), and answers name ids by their place in
//! the scenario (`#3`), so two runs compare. A policy without an order
//! answers every order probe with "no order".

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use tiered::policy::order::{ARRIVAL, HIT, HOST_EVICTION, REMOVAL};
use tiered::policy::{Admission, Arrival, Events, Policy, ReadInfo, TierId, WriteInfo};

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
    Order(OrderProbe),
}

/// An eviction-order scenario in one tier: `residents` arrivals of `size`
/// bytes (every third one read twice), then the asks.
#[derive(Debug)]
pub(crate) struct OrderProbe {
    tier: TierId,
    residents: u64,
    size: u64,
    /// Extra events after the arrivals: removals of residents, removals and
    /// hits of ids never seen, host evictions.
    noise: bool,
    asks: Vec<Ask>,
}

/// One question of an order scenario.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ask {
    /// A new object of `size` bytes arrives, `need` bytes must be freed.
    Admit { size: u64, need: u64 },
    /// `need` bytes must be freed.
    Evict { need: u64 },
}

/// Ids never used by an earlier scenario run: each run takes a fresh range.
static NEXT_BASE: AtomicU64 = AtomicU64::new(1 << 40);

impl OrderProbe {
    fn run(&self, policy: &dyn Policy) -> String {
        if !policy.keeps_order() {
            return "no order (the host's CLOCK evicts)".into();
        }
        let base = NEXT_BASE.fetch_add(1 << 20, Ordering::Relaxed);
        let name = |id: u64| match id.checked_sub(base) {
            Some(i) if i < 1 << 20 => format!("#{i}"),
            _ => "foreign".into(),
        };
        policy.evict(&Events::new(self.tier), u64::MAX);
        let mut events = Events::new(self.tier);
        for i in 0..self.residents {
            events.push(ARRIVAL, base + i, self.size, (i % 4) as u8);
        }
        for i in (0..self.residents).step_by(3) {
            events.push(HIT, base + i, self.size, 0);
            events.push(HIT, base + i, self.size, 0);
        }
        if self.noise {
            events.push(REMOVAL, base + 1, self.size, 0);
            events.push(REMOVAL, base + (1 << 19), self.size, 0);
            events.push(HIT, base + (1 << 19) + 1, self.size, 0);
            events.push(HOST_EVICTION, base + 2, self.size, 0);
            events.push(REMOVAL, base + 1, self.size, 0);
        }
        let mut answers = Vec::with_capacity(self.asks.len());
        let mut next = self.residents;
        for (n, ask) in self.asks.iter().enumerate() {
            let pending =
                if n == 0 { std::mem::replace(&mut events, Events::new(self.tier)) } else { Events::new(self.tier) };
            let answer = match *ask {
                Ask::Admit { size, need } => {
                    next += 1;
                    match policy.admit(&pending, Arrival { id: base + next, size, class: 1 }, need) {
                        Admission::Refuse => "refuse".to_owned(),
                        Admission::Admit(victims) => {
                            format!("admit, evict [{}]", victims.into_iter().map(name).collect::<Vec<_>>().join(" "))
                        }
                    }
                }
                Ask::Evict { need } => {
                    let victims = policy.evict(&pending, need);
                    format!("evict [{}]", victims.into_iter().map(name).collect::<Vec<_>>().join(" "))
                }
            };
            answers.push(answer);
        }
        answers.join("; ")
    }
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
            Probe::Order(scenario) => scenario.run(policy),
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

fn order(tier: TierId, residents: u64, size: u64, asks: Vec<Ask>) -> Probe {
    Probe::Order(OrderProbe { tier, residents, size, noise: false, asks })
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
        ("order: admit with room", order(TierId::Hot, 64, 4096, vec![Ask::Admit { size: 4096, need: 0 }])),
        (
            "order: admit against 3 victims",
            order(TierId::Hot, 64, 4096, vec![Ask::Admit { size: 4096, need: 3 * 4096 }]),
        ),
        ("order: evict 16 KiB from warm", order(TierId::Warm, 64, 4096, vec![Ask::Evict { need: 4 * 4096 }])),
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
    let noisy = Probe::Order(OrderProbe {
        tier: TierId::Hot,
        residents: 16,
        size: 4096,
        noise: true,
        asks: vec![Ask::Evict { need: 4096 }, Ask::Admit { size: 4096, need: 4096 }],
    });
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
        ("order: an empty order asked to evict", order(TierId::Hot, 0, 4096, vec![Ask::Evict { need: u64::MAX }])),
        ("order: admit size 0", order(TierId::Hot, 4, 4096, vec![Ask::Admit { size: 0, need: 0 }])),
        ("order: admit size 2^63", order(TierId::Warm, 4, 4096, vec![Ask::Admit { size: HUGE, need: HUGE }])),
        ("order: unknown ids and removals", noisy),
        ("order: 1024 residents, evict all", order(TierId::Warm, 1024, 1024, vec![Ask::Evict { need: u64::MAX }])),
        ("order: zero-byte residents", order(TierId::Hot, 8, 0, vec![Ask::Evict { need: 1 }])),
    ]
}
