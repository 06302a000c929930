//! Several hosts, one bucket: a write through one store becomes visible
//! through another within `max_staleness_ms`, and not before it is needed.

use std::sync::Arc;

use tiered::store::SourceTier;
use tiered::{ManualClock, SetOptions, StoreConfig, TierId, TieredStore};

use super::Everywhere;

pub const MAX_STALENESS_MS: u64 = 1_000;

/// A host: a hot tier over `cold`, revalidating after [`MAX_STALENESS_MS`].
pub fn host(cold: Arc<dyn SourceTier>, clock: &ManualClock) -> anyhow::Result<TieredStore> {
    let config = StoreConfig { max_staleness_ms: Some(MAX_STALENESS_MS), ..Default::default() };
    Ok(TieredStore::builder()
        .hot_bytes(1 << 20)
        .cold(cold)
        .config(config)
        .policy(Arc::new(Everywhere))
        .clock(Arc::new(clock.clone()))
        .build()?)
}

async fn read(store: &TieredStore, key: &str) -> anyhow::Result<Option<(String, TierId)>> {
    let hit = store.get_with_metadata(key).await?;
    Ok(hit.map(|h| (String::from_utf8_lossy(&h.data).into_owned(), h.source)))
}

fn seen(value: &str, source: TierId) -> Option<(String, TierId)> {
    Some((value.to_string(), source))
}

/// `a` and `b` are the same cold store (bucket + prefix) reached through two
/// independent handles, as two hosts would.
pub async fn two_hosts(a: Arc<dyn SourceTier>, b: Arc<dyn SourceTier>) -> anyhow::Result<()> {
    let clock = ManualClock::new(1_700_000_000_000);
    let (host_a, host_b) = (host(a, &clock)?, host(b, &clock)?);

    host_a.set("shared", "v1", SetOptions::default()).await?;
    assert_eq!(read(&host_b, "shared").await?, seen("v1", TierId::Cold));
    assert_eq!(read(&host_b, "shared").await?, seen("v1", TierId::Hot));

    // A write through A: B may serve its copy until the bound...
    host_a.set("shared", "v2", SetOptions::default()).await?;
    clock.advance_ms(MAX_STALENESS_MS);
    assert_eq!(read(&host_b, "shared").await?, seen("v1", TierId::Hot), "within the bound, the cached copy");
    // ...and past it B revalidates, finds the new version and caches it.
    clock.advance_ms(1);
    assert_eq!(read(&host_b, "shared").await?, seen("v2", TierId::Cold), "past the bound, the new version");
    assert_eq!(read(&host_b, "shared").await?, seen("v2", TierId::Hot));

    // An unchanged object is revalidated (not modified) and stays in hot.
    clock.advance_ms(MAX_STALENESS_MS + 1);
    assert_eq!(read(&host_b, "shared").await?, seen("v2", TierId::Hot), "not modified: served from hot");
    let hot = host_b.stats().tier(TierId::Hot).cloned().expect("hot tier");
    assert_eq!(hot.revalidations, 2, "one revalidation per expired bound: {hot:?}");

    // A delete through A reaches B past the bound too.
    host_a.delete("shared").await?;
    assert!(read(&host_b, "shared").await?.is_some(), "within the bound");
    clock.advance_ms(MAX_STALENESS_MS + 1);
    assert_eq!(read(&host_b, "shared").await?, None, "past the bound, the delete is seen");
    assert_eq!(read(&host_a, "shared").await?, None);
    Ok(())
}
