//! The cache tiers of a store, assembled from byte budgets in one place for
//! the service (`http::service`), `simulate` (`sim::replay`) and the policy
//! test kit (`testkit::kit`): a budget of 0 means the tier is absent, never a
//! tier that can hold nothing. Each caller says only how its warm tier is
//! opened (a disk directory, or a memory tier standing in for one).

use std::sync::Arc;

use tiered::clock::Clock;
use tiered::engine::StoreBuilder;
use tiered::policy::Capacities;
use tiered::store::{CacheTier, MemoryTier};

/// The cache tiers built from byte budgets ([`Capacities`]), kept as their own types so a
/// caller can inspect them (the test kit reads the warm directory).
#[derive(Debug)]
pub struct CacheTiers<W> {
    pub hot: Option<Arc<MemoryTier>>,
    pub warm: Option<Arc<W>>,
}

impl<W: CacheTier> CacheTiers<W> {
    /// Builds each tier whose budget is not 0: hot in memory on `clock`, warm
    /// by `open_warm(budget)` (not called when warm is disabled).
    pub fn build<E>(
        budgets: Capacities,
        clock: Arc<dyn Clock>,
        open_warm: impl FnOnce(u64) -> Result<W, E>,
    ) -> Result<Self, E> {
        let hot = (budgets.hot_bytes > 0).then(|| Arc::new(MemoryTier::with_clock(budgets.hot_bytes, clock)));
        let warm = match budgets.warm_bytes {
            0 => None,
            budget => Some(Arc::new(open_warm(budget)?)),
        };
        Ok(CacheTiers { hot, warm })
    }

    /// Hands the tiers to `builder`.
    pub fn install(&self, mut builder: StoreBuilder) -> StoreBuilder {
        if let Some(hot) = &self.hot {
            builder = builder.hot(hot.clone());
        }
        if let Some(warm) = &self.warm {
            builder = builder.warm(warm.clone());
        }
        builder
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiered::clock::SystemClock;

    #[test]
    fn a_zero_budget_builds_no_tier_and_never_opens_warm() {
        let none = Capacities { hot_bytes: 0, warm_bytes: 0 };
        let open = |_| -> Result<MemoryTier, ()> { panic!("warm opened with a budget of 0") };
        let tiers = CacheTiers::build(none, Arc::new(SystemClock), open).unwrap();
        assert!(tiers.hot.is_none() && tiers.warm.is_none());

        let both = Capacities { hot_bytes: 1 << 20, warm_bytes: 4 << 20 };
        let open = |budget| Ok::<_, ()>(MemoryTier::new(budget));
        let tiers = CacheTiers::build(both, Arc::new(SystemClock), open).unwrap();
        assert_eq!(tiers.hot.as_ref().and_then(|h| h.usage().capacity), Some(1 << 20));
        assert_eq!(tiers.warm.as_ref().and_then(|w| w.usage().capacity), Some(4 << 20));
    }
}
