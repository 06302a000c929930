//! [`DefaultOrder`]: the eviction order of the default policy (WIT
//! `interface eviction`), one [`Adaptive`] per cache tier, fed with the
//! host's events.
//!
//! Unlike the decisions, the order is state: one value per component
//! instance, changed by every call. The host rebuilds it from its residents
//! (as arrivals) whenever it is lost.

use tiered_order_kit::Capacity;

use crate::adaptive::Adaptive;
use crate::config::PolicyConfig;
use crate::expert::Expert;
use crate::types::Tier;

/// Event kinds, as the WIT `events` record numbers them.
pub mod kind {
    pub const HIT: u8 = 0;
    pub const ARRIVAL: u8 = 1;
    pub const REMOVAL: u8 = 2;
    pub const HOST_EVICTION: u8 = 3;
}

/// Events of one tier, as columns (WIT `events`).
#[derive(Clone, Copy, Debug)]
pub struct EventColumns<'a> {
    pub tier: Tier,
    pub kind: &'a [u8],
    pub id: &'a [u64],
    pub size: &'a [u64],
}

/// Residents an order's id tables are sized for at most, up front: 2^20
/// ids cost 8 MiB of table for the residents and 8 MiB for the ghost; a
/// tier that holds more grows them.
pub const RESERVE_MAX: u64 = 1 << 20;

/// The orders of the memory and disk tiers.
#[derive(Debug)]
pub struct DefaultOrder {
    hot: Adaptive,
    warm: Adaptive,
}

impl DefaultOrder {
    /// Empty orders sized from `cfg`'s budgets, their tables for the most
    /// objects each tier can hold (`max_objects`: hot, warm; capped at
    /// [`RESERVE_MAX`]).
    pub fn new(cfg: &PolicyConfig, max_objects: (u64, u64)) -> DefaultOrder {
        let tier = |max_bytes: u64, max_objects: u64| {
            let capacity = Capacity { max_bytes, max_objects };
            Adaptive::new(cfg.eviction.experts(), capacity, max_objects.min(RESERVE_MAX) as usize, cfg.order)
        };
        DefaultOrder { hot: tier(cfg.hot_bytes, max_objects.0), warm: tier(cfg.warm_bytes, max_objects.1) }
    }

    fn tier(&mut self, tier: Tier) -> Option<&mut Adaptive> {
        match tier {
            Tier::Hot => Some(&mut self.hot),
            Tier::Warm => Some(&mut self.warm),
            Tier::Cold => None,
        }
    }

    /// Objects held in `tier`.
    pub fn len(&self, tier: Tier) -> usize {
        match tier {
            Tier::Hot => self.hot.len(),
            Tier::Warm => self.warm.len(),
            Tier::Cold => 0,
        }
    }

    /// Each tier that switched its order since the last call, with the
    /// expert it follows now and how many switches it has made.
    pub fn take_switches(&mut self) -> Vec<(Tier, Expert, u64)> {
        [(Tier::Hot, &mut self.hot), (Tier::Warm, &mut self.warm)]
            .into_iter()
            .filter_map(|(tier, order)| order.take_switch().map(|expert| (tier, expert, order.switches())))
            .collect()
    }

    /// Apply events in order. Columns shorter than `kind` end the batch
    /// (the host always sends equal lengths).
    pub fn observe(&mut self, events: EventColumns<'_>) {
        let Some(order) = self.tier(events.tier) else { return };
        let n = events.kind.len().min(events.id.len()).min(events.size.len());
        for i in 0..n {
            let id = events.id[i];
            match events.kind[i] {
                kind::HIT => order.hit(id, events.size[i]),
                kind::ARRIVAL => order.arrived(id, events.size[i]),
                kind::REMOVAL | kind::HOST_EVICTION => order.remove(id),
                _ => {}
            }
        }
    }

    /// Apply events, then decide on an arrival: `None` refuses it.
    pub fn admit(&mut self, events: EventColumns<'_>, id: u64, size: u64, need: u64) -> Option<Vec<u64>> {
        self.observe(events);
        self.tier(events.tier)?.admit(id, size, need)
    }

    /// Apply events, then name victims freeing `need` bytes.
    pub fn evict(&mut self, events: EventColumns<'_>, need: u64) -> Vec<u64> {
        self.observe(events);
        self.tier(events.tier).map(|o| o.evict(need)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_reach_the_tier_they_name() {
        let cfg = crate::config::test_config(&[], 100, 1000);
        let mut order = DefaultOrder::new(&cfg, (10, 10));
        let cols =
            |tier, kind: &'static [u8], id: &'static [u64], size: &'static [u64]| EventColumns { tier, kind, id, size };
        order.observe(cols(Tier::Warm, &[kind::ARRIVAL, kind::ARRIVAL], &[1, 2], &[5, 5]));
        assert_eq!((order.len(Tier::Hot), order.len(Tier::Warm)), (0, 2));
        order.observe(cols(Tier::Warm, &[kind::REMOVAL, kind::HIT, kind::HOST_EVICTION], &[1, 2, 9], &[5, 5, 5]));
        assert_eq!(order.len(Tier::Warm), 1);
        let empty = cols(Tier::Hot, &[], &[], &[]);
        assert_eq!(order.admit(empty, 7, 5, 0), Some(vec![]));
        assert_eq!(order.len(Tier::Hot), 1);
        assert_eq!(order.evict(cols(Tier::Cold, &[], &[], &[]), 1), Vec::<u64>::new());
    }
}
