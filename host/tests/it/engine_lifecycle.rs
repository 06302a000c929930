//! Whole-store operations: restart, prefix invalidation, export/import,
//! bootstraps, compression, typed values, keys that look like paths.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tiered::engine::{Snapshot, SnapshotError};
use tiered::store::{CacheTier, DiskTier, LocalColdTier, Tier};
use tiered::{Codec, SetOptions, TierId, TierSet, TieredStore};

fn on_disk(root: &std::path::Path, hot: u64, warm: u64) -> anyhow::Result<(TieredStore, Arc<DiskTier>)> {
    let warm = Arc::new(DiskTier::open(root.join("warm"), warm)?);
    let store = TieredStore::builder()
        .hot_bytes(hot)
        .warm(warm.clone())
        .cold(Arc::new(LocalColdTier::open(root.join("cold"))?))
        .build()?;
    Ok((store, warm))
}

#[tokio::test]
async fn the_disk_tier_survives_a_restart() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let usage = {
        let warm = DiskTier::open(dir.path(), 1 << 20)?;
        for i in 0..50 {
            warm.put(crate::support::object(&format!("k{i}"), format!("value {i}").as_bytes(), i)).await?;
        }
        warm.usage()
    };
    let reopened = DiskTier::open(dir.path(), 1 << 20)?;
    assert_eq!(reopened.usage(), usage);
    for i in 0..50 {
        let o = reopened.get(&format!("k{i}")).await?.expect("survived");
        assert_eq!(o.data, format!("value {i}").as_bytes());
    }
    // A torn temporary file from a crash is cleaned up, not indexed.
    std::fs::write(dir.path().join("tmp").join("leftover"), b"partial")?;
    let again = DiskTier::open(dir.path(), 1 << 20)?;
    assert_eq!(again.usage(), usage);
    assert!(!dir.path().join("tmp").join("leftover").exists());
    Ok(())
}

#[tokio::test]
async fn prefix_invalidation_reaches_every_tier() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, warm) = on_disk(dir.path(), 1 << 20, 1 << 20)?;
    for key in ["user:1", "user:2", "user:3", "site:1"] {
        store.set(key, key, SetOptions::default()).await?;
    }
    assert_eq!(store.invalidate("user:").await?, 3);
    for key in ["user:1", "user:2", "user:3"] {
        assert_eq!(store.get(key).await?, None);
        assert!(warm.get(key).await?.is_none());
    }
    assert_eq!(store.get("site:1").await?.as_deref(), Some(&b"site:1"[..]));
    assert_eq!(store.keys("").await?, vec!["site:1".to_string()]);
    Ok(())
}

#[tokio::test]
async fn export_then_import_restores_expiries_over_the_same_cold_data() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, _) = on_disk(dir.path(), 1 << 20, 1 << 20)?;
    store.set("a", "1", SetOptions { ttl: Some(Duration::from_secs(3600)), ..Default::default() }).await?;
    store.set("b", "2", SetOptions::default()).await?;
    let snapshot = store.export().await?;
    assert_eq!(snapshot.entries.len(), 2);
    let json = snapshot.to_json();

    // Someone removes a's expiry and rewrites b; the snapshot still describes
    // a's old expiry and b's old bytes.
    store.touch("a", None).await?;
    store.set("b", "changed", SetOptions::default()).await?;
    let parsed = Snapshot::from_json(&json)?;
    let report = store.import(&parsed).await?;
    assert_eq!((report.applied, report.skipped), (2 - 1, 1), "b's bytes differ, so it is skipped");
    let a = store.get_with_metadata("a").await?.expect("a");
    assert_eq!(a.meta.expires_ms, snapshot.entries.iter().find(|e| e.meta.key == "a").unwrap().meta.expires_ms);

    let bad = br#"{"version": 2, "exported_ms": 0, "entries": []}"#;
    assert_eq!(Snapshot::from_json(bad), Err(SnapshotError::UnsupportedVersion { found: 2 }));
    assert!(Snapshot::from_json(b"not json").is_err());
    Ok(())
}

#[tokio::test]
async fn bootstraps_fill_warm_from_cold_and_hot_from_warm() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, warm) = on_disk(dir.path(), 1 << 20, 1 << 20)?;
    for i in 0..20 {
        store.set(&format!("k{i}"), vec![1u8; 100], SetOptions { skip: TierSet::ALL, ..Default::default() }).await?;
    }
    assert_eq!(warm.usage().objects, 0);
    assert_eq!(store.bootstrap_warm(15, None).await?, 15);
    assert_eq!(warm.usage().objects, 15);
    assert_eq!(store.bootstrap_hot(10).await?, 10);
    let hot = store.stats().tier(TierId::Hot).cloned().expect("hot");
    assert_eq!(hot.objects, 10);
    Ok(())
}

#[tokio::test]
async fn compression_is_recorded_per_object() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, _) = on_disk(dir.path(), 1 << 20, 1 << 20)?;
    let text = "compressible ".repeat(1000);
    let out = store.set("z", text.clone(), SetOptions { compress: Some(true), ..Default::default() }).await?;
    assert!(out.size < text.len() as u64 / 4);
    let hit = store.get_with_metadata("z").await?.expect("z");
    assert_eq!(hit.meta.codec, Codec::Gzip);
    assert_eq!(hit.data, text.as_bytes());
    // Bytes that happen to look like gzip are stored and returned as given.
    let gz_looking = [0x1f, 0x8b, 8, 0, 1, 2, 3];
    store.set("raw", gz_looking.to_vec(), SetOptions::default()).await?;
    assert_eq!(store.get("raw").await?.as_deref(), Some(&gz_looking[..]));
    Ok(())
}

#[tokio::test]
async fn typed_values_round_trip_as_json() -> anyhow::Result<()> {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct User {
        name: String,
        age: u32,
    }
    let dir = tempfile::tempdir()?;
    let (store, _) = on_disk(dir.path(), 1 << 20, 1 << 20)?;
    let alice = User { name: "Alice".into(), age: 30 };
    store.set_json("user:1", &alice, SetOptions::default()).await?;
    assert_eq!(store.get_json::<User>("user:1").await?, Some(alice));
    assert_eq!(store.get_json::<User>("user:2").await?, None);
    Ok(())
}

#[tokio::test]
async fn keys_that_look_like_paths_stay_inside_the_data_directories() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("data");
    let (store, _) = on_disk(&root, 1 << 20, 1 << 20)?;
    let keys = ["../../etc/passwd", "/abs", "a/../../b", "..\\..\\win", "./.", "%2e%2e/x"];
    for key in keys {
        store.set(key, key, SetOptions::default()).await?;
        assert_eq!(store.get(key).await?.as_deref(), Some(key.as_bytes()));
    }
    for path in crate::support::files_under(dir.path()) {
        assert!(path.starts_with(&root), "{path:?} is outside the data directory");
    }
    let mut listed = store.keys("").await?;
    listed.sort();
    let mut expected: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected);
    Ok(())
}
