//! # tiered-lru-policy
//!
//! A pure least-recently-used policy component (world `ordered-policy`), the
//! reference for `tiered simulate`'s fidelity test against libCacheSim's LRU:
//!
//! - **place**: every cache tier, the writer's TTL unchanged;
//! - **promote**: every tier above the one that served the read;
//! - **order**: per tier, the least recently used object leaves first; an
//!   arrival is always admitted, evicting from the LRU end until the bytes
//!   the host asks for are free.
//!
//! It ignores frequencies on purpose. Built for `wasm32-wasip2` by
//! `tests/guests/artifacts` (its build script); natively only the order
//! ([`Lru`]) is compiled, for its unit tests.

pub mod lru;

pub use lru::Lru;

#[cfg(target_arch = "wasm32")]
mod component;
