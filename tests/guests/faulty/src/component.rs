//! The wit-bindgen exports of `wit/policy.wit` (world `policy`), misbehaving
//! according to the configured mode.
//!
//! Three modes exercise the `current-object` import instead: `text` places
//! (with TTL 4242 ms) and promotes to the hot tier only, an answer the host's
//! fallback never gives, exactly when the object's key, content type and
//! metadata are the ones configured (`expect-key`, `expect-content-type`,
//! `expect-metadata` as `name=value,...`), and to no tier otherwise;
//! `text-in-score` and `text-in-configure` ask for the key where there is no
//! current object.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU8, Ordering};

wit_bindgen::generate!({ path: "../../../wit", world: "policy" });

use exports::tiered::policy::decisions::{
    Candidates, Capacity, Guest, Placement, PolicyIdentity, ReadInfo, TierSet, Verdict, WriteInfo,
};
use tiered::policy::current_object;
use tiered::policy::host::{Level, log};

#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Mode {
    Ok,
    Trap,
    Loop,
    Alloc,
    WrongLen,
    Nan,
    Text,
    TextInScore,
    LogFlood,
    LogLines,
    LogForge,
    Leak,
    Slow,
}

/// The configured mode (an instance is single-threaded; an atomic avoids `unsafe`).
static MODE: AtomicU8 = AtomicU8::new(Mode::Ok as u8);

fn mode() -> Mode {
    match MODE.load(Ordering::Relaxed) {
        1 => Mode::Trap,
        2 => Mode::Loop,
        3 => Mode::Alloc,
        4 => Mode::WrongLen,
        5 => Mode::Nan,
        6 => Mode::Text,
        7 => Mode::TextInScore,
        8 => Mode::LogFlood,
        9 => Mode::LogLines,
        10 => Mode::LogForge,
        11 => Mode::Leak,
        12 => Mode::Slow,
        _ => Mode::Ok,
    }
}

thread_local! {
    /// The `amount` of the modes that take one (bytes, lines, spins).
    static AMOUNT: Cell<u64> = const { Cell::new(0) };
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
        Mode::Ok | Mode::WrongLen | Mode::Nan | Mode::Text | Mode::TextInScore => {}
    }
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
            "wrong-len" => Mode::WrongLen,
            "nan" => Mode::Nan,
            "text" => Mode::Text,
            "text-in-score" => Mode::TextInScore,
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
            return Placement { tiers, ttl_ms: (!tiers.is_empty()).then_some(4242) };
        }
        Placement { tiers: TierSet::WARM, ttl_ms: write.requested_ttl_ms }
    }

    fn promote(_read: ReadInfo) -> TierSet {
        misbehave();
        if mode() == Mode::Text {
            return text_matches();
        }
        TierSet::WARM
    }

    fn score(_now_ms: u64, batch: Candidates) -> Vec<Verdict> {
        misbehave();
        if mode() == Mode::TextInScore {
            log(Level::Info, &current_object::key());
        }
        let mut verdicts: Vec<Verdict> = batch
            .size
            .iter()
            .map(|&size| Verdict {
                score: match mode() {
                    Mode::Nan => f64::NAN,
                    _ => -(size as f64),
                },
                demote: false,
            })
            .collect();
        if mode() == Mode::WrongLen {
            verdicts.pop();
        }
        verdicts
    }
}

export!(Faulty);
