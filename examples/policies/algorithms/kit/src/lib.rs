//! # tiered-order-kit
//!
//! What the eviction algorithms of `examples/policies/algorithms/` share, so
//! that each algorithm crate holds its algorithm and nothing else:
//!
//! - [`order`]: the [`Order`] trait, one cache tier's eviction order (hits,
//!   arrivals, removals in; victims out), and [`Algorithm`], how an order is
//!   built from the tier's [`Capacity`] and the `[policy_config]` table.
//! - [`events`]: the event columns of `wit/policy.wit` applied to an order.
//! - [`params`]: `[policy_config]` values read with defaults; a malformed
//!   value or a key no algorithm read rejects the configuration.
//! - [`queue`]: [`Queue`], a doubly linked list keyed by object id (O(1)
//!   push, remove, move to the front), the building block of every order.
//! - [`ids`]: [`IdMap`], a map with a fixed hasher (policies get no WASI
//!   random source, so `HashMap::new()` would trap).
//! - [`unit`]: [`SizeUnit`], libCacheSim's "one byte" in the host's sizes
//!   (one object's footprint in a unit-size trace).
//! - `component` (`wasm32` only): the wit-bindgen bindings of world
//!   `ordered-policy` and the component built around any [`Algorithm`]:
//!   every cache tier on a write with the writer's TTL and class 0, a copy
//!   in every tier above the one that served a read, one order per tier.
//!
//! An algorithm crate is a `cdylib` that implements [`Algorithm`] and, for
//! `wasm32` with its default feature `component`, calls
//! [`export_algorithm!`]. Natively only the order compiles, for unit tests;
//! without `component` it is an order another policy links (the default
//! policy's adaptive order does).

pub mod events;
pub mod ids;
pub mod order;
pub mod params;
pub mod queue;
pub mod unit;

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod component;

pub use events::{ARRIVAL, HIT, HOST_EVICTION, REMOVAL, apply};
pub use ids::IdMap;
pub use order::{Admission, Algorithm, Capacity, Order};
pub use params::Params;
pub use queue::Queue;
pub use unit::SizeUnit;

/// Exports `$algorithm` (a type implementing [`Algorithm`]) as the policy
/// component of the calling `cdylib` crate. `wasm32` only.
#[cfg(target_arch = "wasm32")]
#[macro_export]
macro_rules! export_algorithm {
    ($algorithm:ty) => {
        type TieredOrderComponent = $crate::component::Component<$algorithm>;
        $crate::component::bindings::export_ordered_policy!(TieredOrderComponent with_types_in $crate::component::bindings);
    };
}
