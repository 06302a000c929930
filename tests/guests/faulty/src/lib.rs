//! # tiered-faulty-policy
//!
//! A test policy component that misbehaves on demand, to exercise the host's
//! sandbox and fallbacks. The `mode` key of its configuration chooses:
//!
//! | mode        | behaviour                                                      |
//! |-------------|----------------------------------------------------------------|
//! | `ok` (default) | a visible custom policy: place in warm only, never hot, with the requested TTL; promote to warm only; score = minus the size (the largest object is evicted first) |
//! | `trap`      | every decision panics                                          |
//! | `loop`      | every decision loops forever                                   |
//! | `alloc`     | every decision allocates without bound                         |
//! | `wrong-len` | `score` returns one verdict too few                            |
//! | `nan`       | `score` returns NaN scores                                     |
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
