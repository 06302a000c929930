//! Input mutation for the stable-toolchain fuzz harness
//! (`reliability_fuzz.rs`): start from valid seeds, apply a few random edits
//! (flip, insert, delete, duplicate a slice, splice interesting values), and
//! run each target for a bounded time.
//!
//! The time per target is `TIERED_FUZZ_SECS` (default 3 s in CI); the seed is
//! `TIERED_SEED` (see [`super::rng`]).
#![allow(dead_code)]

use std::time::{Duration, Instant};

use super::rng::Rng;

/// Bytes worth splicing in: boundaries, encodings, JSON and format tokens.
const INTERESTING: &[&[u8]] = &[
    b"\0",
    b"\xff",
    b"\xc0\xaf",
    b"%",
    b"%00",
    b"%2F",
    b"%2e%2e",
    b"%FF",
    b"../",
    b"\\",
    b"\n",
    b"\x7f",
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"null",
    b"-1",
    b"18446744073709551615",
    b"4294967295",
    b"1e309",
    b"TIERED\0\x01",
    b"\xff\xff\xff\xff",
    b"\0\0\0\0",
];

/// One mutated copy of `seed`.
pub fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..rng.range(1, 4) {
        let at = rng.below(out.len() as u64 + 1) as usize;
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let n = rng.range(1, 8) as usize;
                out.splice(at..at, rng.bytes(n)).for_each(drop);
            }
            2 if at < out.len() => {
                let end = (at + rng.range(1, 16) as usize).min(out.len());
                out.drain(at..end);
            }
            3 if at < out.len() => {
                let end = (at + rng.range(1, 32) as usize).min(out.len());
                let slice = out[at..end].to_vec();
                out.splice(at..at, slice).for_each(drop);
            }
            4 => out.truncate(at),
            _ => out.splice(at..at, rng.pick(INTERESTING).iter().copied()).for_each(drop),
        }
    }
    out
}

/// Run `target` on mutations of `seeds` for the configured time, and at
/// least [`MIN_RUNS`] times however slow the machine; returns the number of
/// executions.
/// Executions a run makes at the least.
pub const MIN_RUNS: u64 = 1_000;

pub fn fuzz(name: &str, seeds: &[Vec<u8>], mut target: impl FnMut(&[u8])) -> u64 {
    let secs = std::env::var("TIERED_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let mut rng = Rng::from_env(name);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut runs = 0;
    for seed in seeds {
        target(seed);
        runs += 1;
    }
    while Instant::now() < deadline || runs <= MIN_RUNS {
        let mut input = rng.pick(seeds).clone();
        for _ in 0..rng.range(1, 3) {
            input = mutate(&input, &mut rng);
        }
        target(&input);
        runs += 1;
    }
    let _ = std::io::Write::write_fmt(&mut std::io::stderr(), format_args!("{name}: {runs} executions, 0 findings\n"));
    runs
}
