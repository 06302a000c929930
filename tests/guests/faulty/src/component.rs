//! The wit-bindgen exports of `wit/policy.wit` (world `ordered-policy`),
//! misbehaving according to the configured mode.
//!
//! Three modes exercise the `current-object` import instead: `text` places
//! (with TTL 4242 ms) and promotes to the hot tier only, an answer the host's
//! fallback never gives, exactly when the object's key, content type and
//! metadata are the ones configured (`expect-key`, `expect-content-type`,
//! `expect-metadata` as `name=value,...`), and to no tier otherwise;
//! `text-in-order` and `text-in-configure` ask for the key where there is no
//! current object.
//!
//! The order of every mode is newest-first (LIFO) per tier, an order no
//! cache would choose, so a test sees that the guest decided; the order
//! modes then spoil its answers.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, Ordering};

wit_bindgen::generate!({ path: "../../../wit", world: "ordered-policy" });

use exports::tiered::policy::decisions::{Capacity, Guest, Placement, PolicyIdentity, ReadInfo, TierSet, WriteInfo};
use exports::tiered::policy::eviction::{Admission, Arrival, Events, Guest as Eviction};
use tiered::policy::current_object;
use tiered::policy::host::{Level, log};
use tiered::policy::types::Tier;

#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Mode {
    Ok,
    Trap,
    Loop,
    Alloc,
    Text,
    TextInOrder,
    LogFlood,
    LogLines,
    LogForge,
    Leak,
    Slow,
    UnknownIds,
    Twice,
    OtherTier,
    TooFew,
    RefuseAll,
    NeverEvict,
    EvictAll,
    Grow,
    TrapInObserve,
    LoopInEvict,
    LoseArrivals,
}

/// The configured mode (an instance is single-threaded; an atomic avoids `unsafe`).
static MODE: AtomicU8 = AtomicU8::new(Mode::Ok as u8);

fn mode() -> Mode {
    match MODE.load(Ordering::Relaxed) {
        1 => Mode::Trap,
        2 => Mode::Loop,
        3 => Mode::Alloc,
        4 => Mode::Text,
        5 => Mode::TextInOrder,
        6 => Mode::LogFlood,
        7 => Mode::LogLines,
        8 => Mode::LogForge,
        9 => Mode::Leak,
        10 => Mode::Slow,
        11 => Mode::UnknownIds,
        12 => Mode::Twice,
        13 => Mode::OtherTier,
        14 => Mode::TooFew,
        15 => Mode::RefuseAll,
        16 => Mode::NeverEvict,
        17 => Mode::EvictAll,
        18 => Mode::Grow,
        19 => Mode::TrapInObserve,
        20 => Mode::LoopInEvict,
        21 => Mode::LoseArrivals,
        _ => Mode::Ok,
    }
}

thread_local! {
    /// The `amount` of the modes that take one (bytes, lines, spins).
    static AMOUNT: Cell<u64> = const { Cell::new(0) };
    /// Arrivals seen by mode `lose-arrivals`.
    static LOST: Cell<u64> = const { Cell::new(0) };
    /// What mode `leak` has leaked so far (kept, so it stays allocated).
    static LEAKED: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// A log line that forges one of the host's own after a newline.
const FORGED: &str = "INFO tiered_host::http: admin token accepted for 203.0.113.7";

/// Misbehaves as configured, for the modes that break every decision.
fn misbehave() {
    let amount = AMOUNT.with(Cell::get);
    match mode() {
        Mode::Trap => panic!("faulty policy: mode = trap"),
        Mode::Loop => loop {
            std::hint::black_box(());
        },
        Mode::Alloc => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                // Reserve without touching: memory.grow, not memset, is what we want.
                hoard.push(Vec::with_capacity(1 << 20));
                std::hint::black_box(&hoard);
            }
        }
        Mode::LogFlood => log(Level::Info, &"x".repeat(amount as usize)),
        Mode::LogLines => {
            for i in 0..amount {
                log(Level::Info, &format!("line {i}"));
            }
        }
        Mode::LogForge => log(Level::Info, &format!("innocent\n{FORGED}\r\n\u{2028}{FORGED}")),
        Mode::Leak => LEAKED.with(|l| l.borrow_mut().push(vec![0x5a; amount as usize])),
        Mode::Slow => {
            let mut x = 0u64;
            for i in 0..amount {
                x = std::hint::black_box(x.wrapping_add(i));
            }
        }
        _ => {}
    }
}

thread_local! {
    /// The order of hot and warm: `(id, size)`, oldest first; victims are
    /// taken from the back.
    static FIFO: RefCell<[VecDeque<(u64, u64)>; 2]> = RefCell::default();
}

fn slot(tier: Tier) -> usize {
    usize::from(tier == Tier::Warm)
}

/// Applies `events` to their tier's order (mode `trap-in-observe` panics
/// half-way through a batch of two or more).
fn apply(events: &Events) {
    let n = events.kind.len();
    FIFO.with(|fifo| {
        let mut fifo = fifo.borrow_mut();
        let queue = &mut fifo[slot(events.tier)];
        for i in 0..n {
            if mode() == Mode::TrapInObserve && n >= 2 && i == n / 2 {
                panic!("faulty policy: mode = trap-in-observe, event {i} of {n}");
            }
            let id = events.id[i];
            match events.kind[i] {
                1 if loses_this_one() => {}
                1 => {
                    queue.retain(|&(held, _)| held != id);
                    queue.push_back((id, events.size[i]));
                }
                2 | 3 => queue.retain(|&(held, _)| held != id),
                _ => {}
            }
        }
    });
    if mode() == Mode::Grow {
        grow();
    }
}

/// Keeps 1 MiB more, touched, until the memory limit traps the call.
fn grow() {
    LEAKED.with(|l| l.borrow_mut().push(vec![0x6b; 1 << 20]));
}

/// The victims the LIFO order gives for `need` bytes of `tier`, spoiled by mode.
fn victims(tier: Tier, need: u64, arriving: Option<(u64, u64)>) -> Vec<u64> {
    if mode() == Mode::LoopInEvict && need > 0 {
        loop {
            std::hint::black_box(());
        }
    }
    FIFO.with(|fifo| {
        let mut fifo = fifo.borrow_mut();
        let other: Vec<u64> = fifo[1 - slot(tier)].iter().map(|&(id, _)| id).collect();
        let queue = &mut fifo[slot(tier)];
        if let Some((id, _)) = arriving {
            queue.retain(|&(held, _)| held != id);
        }
        let mut named = Vec::new();
        let mut freed = 0;
        match mode() {
            Mode::NeverEvict => {}
            Mode::EvictAll => named.extend(queue.drain(..).map(|(id, _)| id)),
            Mode::OtherTier => named = other,
            Mode::UnknownIds => named.extend((0..4).map(|i| 0xdead_0000 + i)),
            _ => {
                while freed < need {
                    let Some((id, size)) = queue.pop_back() else { break };
                    named.push(id);
                    freed += size;
                    if mode() == Mode::TooFew {
                        break;
                    }
                }
            }
        }
        if mode() == Mode::Twice {
            named = named.iter().flat_map(|&id| [id, id]).collect();
        }
        if let Some((id, size)) = arriving
            && !loses_this_one()
        {
            queue.push_back((id, size));
        }
        named
    })
}

/// Mode `lose-arrivals`: every other object admitted or handed over is
/// not recorded.
fn loses_this_one() -> bool {
    mode() == Mode::LoseArrivals && LOST.with(|n| n.replace(n.get() + 1)).is_multiple_of(2)
}

thread_local! {
    /// `(key, content type, metadata)` expected by mode `text`.
    static EXPECTED: RefCell<(String, Option<String>, Vec<(String, String)>)> = RefCell::default();
}

/// The hot tier if the current object's text is the expected one, else none.
fn text_matches() -> TierSet {
    let actual = (current_object::key(), current_object::content_type(), current_object::metadata());
    if EXPECTED.with(|e| *e.borrow() == actual) { TierSet::HOT } else { TierSet::empty() }
}

struct Faulty;

impl Guest for Faulty {
    fn identity() -> PolicyIdentity {
        PolicyIdentity { name: "faulty".into(), version: env!("CARGO_PKG_VERSION").into() }
    }

    fn configure(config: Vec<(String, String)>, _capacities: Vec<Capacity>) -> Result<(), String> {
        let wanted = config.iter().find(|(k, _)| k == "mode").map_or("ok", |(_, v)| v.as_str());
        let mode = match wanted {
            "ok" => Mode::Ok,
            "trap" => Mode::Trap,
            "loop" => Mode::Loop,
            "alloc" => Mode::Alloc,
            "text" => Mode::Text,
            "text-in-order" => Mode::TextInOrder,
            "unknown-ids" => Mode::UnknownIds,
            "twice" => Mode::Twice,
            "other-tier" => Mode::OtherTier,
            "too-few" => Mode::TooFew,
            "refuse-all" => Mode::RefuseAll,
            "never-evict" => Mode::NeverEvict,
            "evict-all" => Mode::EvictAll,
            "grow" => Mode::Grow,
            "trap-in-observe" => Mode::TrapInObserve,
            "loop-in-evict" => Mode::LoopInEvict,
            "lose-arrivals" => Mode::LoseArrivals,
            "text-in-configure" => {
                log(Level::Info, &current_object::key());
                Mode::Ok
            }
            "log-flood" => Mode::LogFlood,
            "log-lines" => Mode::LogLines,
            "log-forge" => Mode::LogForge,
            "leak" => Mode::Leak,
            "slow" => Mode::Slow,
            "reject" => return Err("rejected: mode = reject asks to be rejected".into()),
            "configure-loop" => loop {
                std::hint::black_box(());
            },
            "configure-trap" => panic!("faulty policy: mode = configure-trap"),
            other => return Err(format!("unknown mode `{other}`")),
        };
        MODE.store(mode as u8, Ordering::Relaxed);
        let get = |name: &str| config.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let default_amount = match mode {
            Mode::LogFlood => 16 << 20,
            Mode::LogLines => 100_000,
            Mode::Leak => 1 << 20,
            Mode::Slow => 10_000_000,
            _ => 0,
        };
        let amount = match get("amount") {
            Some(text) => text.parse().map_err(|_| format!("amount `{text}` is not a whole number"))?,
            None => default_amount,
        };
        AMOUNT.with(|a| a.set(amount));
        let metadata = get("expect-metadata").map_or_else(Vec::new, |pairs| {
            pairs.split(',').filter_map(|p| p.split_once('=')).map(|(n, v)| (n.to_owned(), v.to_owned())).collect()
        });
        EXPECTED
            .with(|e| *e.borrow_mut() = (get("expect-key").unwrap_or_default(), get("expect-content-type"), metadata));

        log(Level::Debug, &format!("configured: mode = {wanted}"));
        Ok(())
    }

    fn place(write: WriteInfo) -> Placement {
        misbehave();
        if mode() == Mode::Text {
            let tiers = text_matches();
            return Placement { tiers, ttl_ms: (!tiers.is_empty()).then_some(4242), class: 7 };
        }
        // `other-tier` needs objects in both tiers to name one tier's in the other.
        let tiers = if mode() == Mode::OtherTier { TierSet::HOT | TierSet::WARM } else { TierSet::WARM };
        Placement { tiers, ttl_ms: write.requested_ttl_ms, class: 0 }
    }

    fn promote(_read: ReadInfo) -> TierSet {
        misbehave();
        if mode() == Mode::Text {
            return text_matches();
        }
        TierSet::WARM
    }
}

/// The order calls: `trap`, `loop`, `alloc` and `slow` break them as they
/// break the decisions (the log and leak modes leave them alone).
fn misbehave_in_order() {
    if matches!(mode(), Mode::Trap | Mode::Loop | Mode::Alloc | Mode::Slow) {
        misbehave();
    }
    if mode() == Mode::TextInOrder {
        log(Level::Info, &current_object::key());
    }
}

impl Eviction for Faulty {
    fn observe(events: Events) {
        misbehave_in_order();
        apply(&events);
    }

    fn admit(events: Events, arrival: Arrival, need_bytes: u64) -> Admission {
        misbehave_in_order();
        apply(&events);
        if mode() == Mode::RefuseAll {
            return Admission::Refuse;
        }
        Admission::Admit(victims(events.tier, need_bytes, Some((arrival.id, arrival.size))))
    }

    fn evict(events: Events, need_bytes: u64) -> Vec<u64> {
        misbehave_in_order();
        apply(&events);
        victims(events.tier, need_bytes, None)
    }

    fn residents(events: Events) -> u64 {
        misbehave_in_order();
        apply(&events);
        FIFO.with(|fifo| fifo.borrow()[slot(events.tier)].len() as u64)
    }
}

export!(Faulty);
