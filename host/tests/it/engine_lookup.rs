//! `TieredStore::head` (and `exists`, `HEAD /v1/objects/{key}`): the metadata
//! of a live value, from the highest tier that has a trusted copy, without
//! reading the value, counting an access or copying anything between tiers.

use std::time::Duration;

use crate::support::rig::{holds, rig};
use tiered::store::Tier;
use tiered::{SetOptions, TierId};

#[tokio::test]
async fn head_answers_from_the_highest_tier_holding_the_value() -> anyhow::Result<()> {
    let r = rig();
    r.store.set("k", "hello", SetOptions::default()).await?;
    let (meta, source) = r.store.head("k").await?.expect("written");
    assert_eq!((source, meta.original_size), (TierId::Hot, 5));

    r.hot.delete("k").await?;
    assert_eq!(r.store.head("k").await?.map(|(_, s)| s), Some(TierId::Warm));
    r.warm.delete("k").await?;
    let (meta, source) = r.store.head("k").await?.expect("cold has it");
    assert_eq!((source, meta.original_size), (TierId::Cold, 5));
    assert!(r.store.head("absent").await?.is_none());
    Ok(())
}

#[tokio::test]
async fn head_reads_no_value_and_copies_nothing() -> anyhow::Result<()> {
    let r = rig();
    r.store.set("k", "hello", SetOptions::default()).await?;
    r.hot.delete("k").await?;
    r.warm.delete("k").await?;
    let (cold_gets, warm_gets) = (r.cold.gets(), r.warm.gets());

    for _ in 0..3 {
        assert_eq!(r.store.head("k").await?.map(|(_, s)| s), Some(TierId::Cold));
        assert!(r.store.exists("k").await?);
    }
    assert_eq!((r.cold.gets(), r.warm.gets()), (cold_gets, warm_gets), "no value was read");
    assert!(!holds(r.hot.as_ref(), "k").await && !holds(r.warm.as_ref(), "k").await, "nothing was promoted");

    // A read, by contrast, reads the value once and promotes it.
    let hit = r.store.get_with_metadata("k").await?.expect("present");
    assert_eq!((hit.source, r.cold.gets()), (TierId::Cold, cold_gets + 1));
    assert!(holds(r.warm.as_ref(), "k").await);
    Ok(())
}

#[tokio::test]
async fn an_expired_value_has_no_head() -> anyhow::Result<()> {
    let r = rig();
    let options = SetOptions { ttl: Some(Duration::from_secs(10)), ..SetOptions::default() };
    r.store.set("k", "short-lived", options).await?;
    assert!(r.store.head("k").await?.is_some());
    r.clock.advance_ms(10_001);
    assert!(r.store.head("k").await?.is_none(), "expired in every tier");
    assert!(!r.store.exists("k").await?);
    Ok(())
}
