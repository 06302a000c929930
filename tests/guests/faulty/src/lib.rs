//! # tiered-faulty-policy
//!
//! A test policy component that misbehaves on demand, to exercise the host's
//! sandbox and fallbacks. The `mode` key of its configuration chooses:
//!
//! | mode        | behaviour                                                      |
//! |-------------|----------------------------------------------------------------|
//! | `ok` (default) | a visible custom policy: place in warm only, never hot, with the requested TTL; promote to warm only; order: newest first (LIFO) per tier |
//! | `trap`      | every call panics (decisions and order)                        |
//! | `loop`      | every call loops forever                                       |
//! | `alloc`     | every call allocates without bound                             |
//! | `unknown-ids` | `admit`/`evict` name ids the tier never held                 |
//! | `twice`     | `admit`/`evict` name each victim twice                         |
//! | `other-tier` | places in hot and warm; `admit`/`evict` name the other tier's objects |
//! | `too-few`   | `admit`/`evict` name one victim whatever the need              |
//! | `refuse-all` | `admit` refuses every arrival                                 |
//! | `never-evict` | `admit` admits naming nothing, `evict` names nothing         |
//! | `evict-all` | `admit`/`evict` name every object of the tier                  |
//! | `grow`      | `observe`/`admit`/`evict` keep 1 MiB more each call, until the memory limit |
//! | `trap-in-observe` | `observe` panics half-way through a batch; the rest works |
//! | `loop-in-evict` | `evict` (and `admit` needing room) loops forever        |
//! | `lose-arrivals` | the order does not record every other object admitted or handed over, so its count of residents falls behind the host's |
//! | `reject`    | `configure` rejects the configuration                          |
//! | `configure-loop` | `configure` never returns                                 |
//! | `configure-trap` | `configure` panics                                        |
//! | `log-flood` | every decision logs one message of `amount` bytes (16 MiB)     |
//! | `log-lines` | every decision logs `amount` short lines (100,000)             |
//! | `log-forge` | every decision logs a message whose newlines forge host lines  |
//! | `leak`      | every decision leaks `amount` bytes, written (1 MiB)           |
//! | `slow`      | every decision spins `amount` iterations (10 million)          |
//!
//! `identity` and `configure` behave in every mode (except `reject` and the
//! `configure-*` ones), so the
//! policy loads and fails only when asked for decisions. Built for
//! `wasm32-wasip2` by `tests/guests/artifacts` (its build script); natively the crate
//! is empty.

#[cfg(target_arch = "wasm32")]
mod component;
