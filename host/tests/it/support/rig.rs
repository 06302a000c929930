//! The engine on test doubles, as most engine tests want it: hot (memory) +
//! warm (a counting double over memory) + cold (a counting double), on a
//! manual clock.

use std::sync::Arc;

use tiered::store::{MemoryTier, Tier, TierDouble};
use tiered::{ManualClock, TieredStore};

pub struct Rig {
    pub store: TieredStore,
    pub hot: Arc<MemoryTier>,
    pub warm: Arc<TierDouble>,
    pub cold: Arc<TierDouble>,
    pub clock: ManualClock,
}

/// A store over fresh doubles: hot 1 MiB, warm 8 MiB, cold unbounded.
pub fn rig() -> Rig {
    let clock = ManualClock::new(1_000_000);
    let hot = Arc::new(MemoryTier::with_clock(1 << 20, Arc::new(clock.clone())));
    let warm = Arc::new(TierDouble::wrapping(Arc::new(MemoryTier::with_clock(8 << 20, Arc::new(clock.clone())))));
    let cold = Arc::new(TierDouble::new());
    let store = TieredStore::builder()
        .hot(hot.clone())
        .warm(warm.clone())
        .cold(cold.clone())
        .clock(Arc::new(clock.clone()))
        .build()
        .expect("store builds");
    Rig { store, hot, warm, cold, clock }
}

/// Whether `tier` serves `key` (a failing read counts as no).
pub async fn holds(tier: &dyn Tier, key: &str) -> bool {
    tier.get(key).await.ok().flatten().is_some()
}
