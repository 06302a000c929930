//! The wit-bindgen exports of `wit/policy.wit` (world `policy`), misbehaving
//! according to the configured mode.

use std::sync::atomic::{AtomicU8, Ordering};

wit_bindgen::generate!({ path: "../../../wit", world: "policy" });

use exports::tiered::policy::decisions::{
    Candidates, Capacity, Guest, Placement, PolicyIdentity, ReadInfo, TierSet, Verdict, WriteInfo,
};
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
        Mode::Ok | Mode::WrongLen | Mode::Nan => {}
    }
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
            "reject" => return Err("rejected: mode = reject asks to be rejected".into()),
            other => return Err(format!("unknown mode `{other}`")),
        };
        MODE.store(mode as u8, Ordering::Relaxed);
        log(Level::Debug, &format!("configured: mode = {wanted}"));
        Ok(())
    }

    fn place(object: WriteInfo) -> Placement {
        misbehave();
        Placement { tiers: TierSet::WARM, ttl_ms: object.requested_ttl_ms }
    }

    fn promote(_read: ReadInfo) -> TierSet {
        misbehave();
        TierSet::WARM
    }

    fn score(_now_ms: u64, batch: Candidates) -> Vec<Verdict> {
        misbehave();
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
