//! The component glue (`wasm32` only): the bindings of world
//! `ordered-policy` (`wit/policy.wit`), generated once here with a public
//! export macro, and [`Component`], the component of any [`Algorithm`].
//!
//! - `identity`: the algorithm's name, this crate's version.
//! - `configure`: one order per cache tier the host names, built from the
//!   tier's capacity and the `[policy_config]` table; a bad parameter or an
//!   unknown key rejects the configuration.
//! - `place`: every cache tier, the writer's TTL, class 0.
//! - `promote`: every tier above the one that served the read.
//! - `observe` / `admit` / `evict` / `residents`: the events applied to the
//!   tier's order, then its answer.
//!
//! The orders live in a thread-local: the host keeps one instance for the
//! eviction calls and calls it from one thread at a time.

use std::cell::RefCell;
use std::marker::PhantomData;

use crate::events::apply;
use crate::order::{Admission, Algorithm, Capacity, Order};
use crate::params::Params;

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../../../wit",
        world: "ordered-policy",
        pub_export_macro: true,
        export_macro_name: "export_ordered_policy",
        default_bindings_module: "tiered_order_kit::component::bindings",
    });
}

use bindings::exports::tiered::policy::decisions::{self, Placement, PolicyIdentity, ReadInfo, TierSet, WriteInfo};
use bindings::exports::tiered::policy::eviction::{self, Arrival, Events};
use bindings::tiered::policy::types::Tier;

thread_local! {
    /// Hot and warm; built by `configure`.
    static ORDERS: RefCell<[Option<Box<dyn Order>>; 2]> = RefCell::new([None, None]);
}

fn slot(tier: Tier) -> usize {
    usize::from(tier == Tier::Warm)
}

/// Applies `events` to their tier's order, then runs `f` on it. A tier the
/// host never configured gets an order with no budget.
fn with_order<A: Algorithm, R>(events: &Events, f: impl FnOnce(&mut dyn Order) -> R) -> R {
    ORDERS.with(|orders| {
        let mut orders = orders.borrow_mut();
        let order = orders[slot(events.tier)].get_or_insert_with(|| {
            let built = A::new(Capacity::default(), &mut Params::default());
            Box::new(built.expect("an algorithm builds with its defaults"))
        });
        apply(order.as_mut(), &events.kind, &events.id, &events.size);
        f(order.as_mut())
    })
}

/// The policy component of algorithm `A`.
#[derive(Debug)]
pub struct Component<A>(PhantomData<A>);

impl<A: Algorithm> decisions::Guest for Component<A> {
    fn identity() -> PolicyIdentity {
        PolicyIdentity { name: A::NAME.into(), version: env!("CARGO_PKG_VERSION").into() }
    }

    fn configure(config: Vec<(String, String)>, capacities: Vec<decisions::Capacity>) -> Result<(), String> {
        let mut params = Params::new(config)?;
        let mut built: [Option<Box<dyn Order>>; 2] = [None, None];
        for capacity in &capacities {
            let tier = Capacity { max_bytes: capacity.max_bytes, max_objects: capacity.max_objects };
            built[slot(capacity.tier)] = Some(Box::new(A::new(tier, &mut params)?));
        }
        if capacities.is_empty() {
            // No cache tier: still check the parameters.
            A::new(Capacity::default(), &mut params)?;
        }
        params.finish(A::NAME)?;
        ORDERS.with(|orders| *orders.borrow_mut() = built);
        Ok(())
    }

    fn place(write: WriteInfo) -> Placement {
        Placement { tiers: TierSet::HOT | TierSet::WARM, ttl_ms: write.requested_ttl_ms, class: 0 }
    }

    fn promote(read: ReadInfo) -> TierSet {
        match read.served_by {
            Tier::Cold => TierSet::HOT | TierSet::WARM,
            Tier::Warm => TierSet::HOT,
            Tier::Hot => TierSet::empty(),
        }
    }
}

impl<A: Algorithm> eviction::Guest for Component<A> {
    fn observe(events: Events) {
        with_order::<A, _>(&events, |_| ());
    }

    fn admit(events: Events, arrival: Arrival, need_bytes: u64) -> eviction::Admission {
        with_order::<A, _>(&events, |order| match order.admit(arrival.id, arrival.size, need_bytes) {
            Admission::Refuse => eviction::Admission::Refuse,
            Admission::Admit(victims) => eviction::Admission::Admit(victims),
        })
    }

    fn evict(events: Events, need_bytes: u64) -> Vec<u64> {
        with_order::<A, _>(&events, |order| order.evict(need_bytes))
    }

    fn residents(events: Events) -> u64 {
        with_order::<A, _>(&events, |order| order.len() as u64)
    }
}
