//! # tiered-lru-policy
//!
//! A pure least-recently-used policy component, the reference for
//! `tiered simulate`'s fidelity test against libCacheSim's LRU:
//!
//! - **place**: every cache tier, the writer's TTL unchanged;
//! - **promote**: every tier above the one that served the read;
//! - **score**: `-idle_ms`, so the least recently used candidate leaves
//!   first; never demotes.
//!
//! It ignores sizes and frequencies on purpose. Built for `wasm32-wasip2` by
//! `tests/guests/artifacts` (its build script); natively the crate is empty.

#[cfg(target_arch = "wasm32")]
mod component;
