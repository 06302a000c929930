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

use std::cell::RefCell;
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
        _ => Mode::Ok,
    }
}

/// Misbehaves as configured, for the modes that break every decision.
fn misbehave() {
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
            "reject" => return Err("rejected: mode = reject asks to be rejected".into()),
            other => return Err(format!("unknown mode `{other}`")),
        };
        MODE.store(mode as u8, Ordering::Relaxed);
        let get = |name: &str| config.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
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
