//! The events of one tier (`wit/policy.wit`, record `events`), applied to an
//! [`Order`] oldest first.
//!
//! | kind | event | applied as |
//! |---|---|---|
//! | [`HIT`] | read from the tier | [`Order::hit`] |
//! | [`ARRIVAL`] | entered without an `admit` | [`Order::arrive`] |
//! | [`REMOVAL`] | deleted, overwritten, expired | [`Order::remove`] |
//! | [`HOST_EVICTION`] | evicted by the host's own order | [`Order::host_evicted`] |
//!
//! An unknown kind (a later contract) is ignored rather than trapping.

use crate::order::Order;

pub const HIT: u8 = 0;
pub const ARRIVAL: u8 = 1;
pub const REMOVAL: u8 = 2;
pub const HOST_EVICTION: u8 = 3;

/// Applies the event columns (`kind[i]`, `id[i]`, `size[i]` is event `i`).
pub fn apply(order: &mut dyn Order, kind: &[u8], id: &[u64], size: &[u64]) {
    for ((&kind, &id), &size) in kind.iter().zip(id).zip(size) {
        match kind {
            HIT => order.hit(id),
            ARRIVAL => order.arrive(id, size),
            REMOVAL => order.remove(id),
            HOST_EVICTION => order.host_evicted(id),
            _ => {}
        }
    }
}
