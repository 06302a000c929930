//! Access-trace capture: the requests `tiered serve` serves, written as a
//! trace that `tiered simulate` and libCacheSim replay, so a policy can be
//! judged on the service's own traffic.
//!
//! - [`capture`]: [`Capture`], the switch the request path looks at (one
//!   relaxed atomic load when off), the session a `POST /v1/trace/start`
//!   opens (sampling, limits, the seed keys are hashed with) and its
//!   [`Status`].
//! - [`writer`]: the thread that owns the files: encodes records
//!   ([`TraceFormat`]), rotates by size, and ends the session on a stop, a
//!   limit or a write error (a full disk stops the capture, never serving).
//!
//! **What is written.** One record per object read that found the object
//! (`GET`, ranged or not, and a `304`) and per write (`PUT`); in the CSV
//! form deletes too. Sizes are the stored sizes (after compression), as the
//! tiers count them. A `GET` that finds nothing, a `HEAD` and a refused
//! request are not written: they move no object through the cache.
//! oracleGeneral has no operation field, so a write is a request like a read
//! (a write fills the cache as a read miss does); the CSV form marks it
//! `set`.
//!
//! **Keys never leave as text.** A key is written as [`key_id`]: the first 8
//! bytes of SHA-256 over a 64-bit seed and the key. The seed is drawn at
//! random per capture unless the start request gives one (to join two
//! captures), and is reported only by the admin routes, never written into
//! the trace: without it, a trace cannot be matched against guessed keys.
//! The engine's own ids (`tiered::engine::object_id`) are not used: their
//! seed is fixed and public, so anyone could hash a list of candidate keys
//! and recognise them in a trace.
//!
//! **Sampling keeps keys whole.** A rate `r` keeps the keys whose id is below
//! `r × 2⁶⁴`: a sampled key keeps every one of its requests, so reuse
//! distances within the sample are the real ones.

pub mod capture;
pub mod writer;

pub use capture::{Capture, CaptureError, StartParams, Status};
pub use writer::{End, TraceFormat};

use sha2::{Digest, Sha256};

/// The id a key is written as in a capture seeded with `seed`.
pub fn key_id(seed: u64, key: &str) -> u64 {
    let mut hash = Sha256::new();
    hash.update(seed.to_le_bytes());
    hash.update(key.as_bytes());
    let digest = hash.finalize();
    u64::from_le_bytes(digest[..8].try_into().expect("a SHA-256 digest has 32 bytes"))
}

/// The ids a sampling rate in (0, 1] keeps are those below this bound;
/// `None` keeps every id (rate 1).
pub fn sample_bound(rate: f64) -> Option<u64> {
    // 2^64 as f64 is exact; a product of 2^64 or more saturates to u64::MAX.
    (rate < 1.0).then_some((rate * 18_446_744_073_709_551_616.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_depend_on_the_seed_and_the_key_only() {
        assert_eq!(key_id(7, "a/b"), key_id(7, "a/b"));
        assert_ne!(key_id(7, "a/b"), key_id(8, "a/b"));
        assert_ne!(key_id(7, "a/b"), key_id(7, "a/c"));
    }

    #[test]
    fn a_rate_keeps_about_its_share_of_keys() {
        assert_eq!(sample_bound(1.0), None);
        let bound = sample_bound(0.25).expect("a bound below 1");
        let kept = (0..10_000).filter(|i| key_id(1, &format!("k{i}")) < bound).count();
        assert!((2_200..2_800).contains(&kept), "{kept} of 10000 kept at 0.25");
    }
}
