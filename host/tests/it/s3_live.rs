//! The live S3 suite: the S3 tier and the engine over a real S3-compatible
//! server (Garage in CI; MinIO or AWS by setting the variables described in
//! `support/s3.rs`). Every test is `#[ignore]`d: `tests/run-all` runs them
//! against the server it starts.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tiered::policy::Capacities;
use tiered::store::{DiskTier, Tier};
use tiered::{SetOptions, TierId, TieredStore};
use tiered_s3::S3Tier;
use tiered_wasm::DEFAULT_POLICY_WASM;
use tiered_wasm::{PolicyEngine, PolicyLimits, WasmPolicy};

fn store_over(cold: &S3Tier) -> anyhow::Result<TieredStore> {
    Ok(TieredStore::builder()
        .hot_bytes(64 << 20)
        .cold(Arc::new(cold.clone()))
        .policy(Arc::new(crate::support::Everywhere))
        .build()?)
}

/// The bytes of `key` read with a plain S3 call, not through the tier.
async fn plain_get(tier: &S3Tier, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
    let request =
        tier.sdk_client().expect("a live tier").get_object().bucket(&tier.config().bucket).key(tier.object_key(key));
    match request.send().await {
        Ok(r) => Ok(Some(r.body.collect().await?.into_bytes().to_vec())),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Keys under the tier's prefix, listed with plain S3 calls.
async fn plain_count(tier: &S3Tier, prefix: &str) -> anyhow::Result<usize> {
    let mut pages = tier
        .sdk_client()
        .expect("a live tier")
        .list_objects_v2()
        .bucket(&tier.config().bucket)
        .prefix(tier.object_key(prefix))
        .into_paginator()
        .send();
    let mut count = 0;
    while let Some(page) = pages.next().await {
        count += page?.contents().len();
    }
    Ok(count)
}

#[tokio::test]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn a_write_lands_in_the_bucket_with_its_metadata() -> anyhow::Result<()> {
    let tier = crate::support::s3::tier("write-through").await?;
    let warm_dir = tempfile::tempdir()?;
    let store = TieredStore::builder()
        .hot_bytes(1 << 20)
        .warm(Arc::new(DiskTier::open(warm_dir.path(), 16 << 20)?))
        .cold(Arc::new(tier.clone()))
        .build()?;
    let options = SetOptions {
        ttl: Some(Duration::from_secs(3600)),
        metadata: BTreeMap::from([("owner".to_string(), "alice".to_string())]),
        content_type: Some("text/plain".into()),
        ..Default::default()
    };
    let outcome = store.set("docs/readme.txt", "hello, bucket", options).await?;

    // Checked with plain S3 calls: the bytes, the content type, the ETag and
    // the metadata record are in the bucket under the prefix.
    assert_eq!(plain_get(&tier, "docs/readme.txt").await?.as_deref(), Some(&b"hello, bucket"[..]));
    let head = tier
        .sdk_client()
        .expect("a live tier")
        .head_object()
        .bucket(&tier.config().bucket)
        .key(tier.object_key("docs/readme.txt"));
    let head = head.send().await?;
    assert_eq!(head.content_type(), Some("text/plain"));
    assert_eq!(head.content_length(), Some(13));
    assert_eq!(head.e_tag().map(|e| e.trim_matches('"')), Some(outcome.etag.as_str()));
    let user: BTreeMap<String, String> = head.metadata().map(|m| m.clone().into_iter().collect()).unwrap_or_default();
    // Custom metadata is plain S3 user metadata (`aws s3api head-object` shows it).
    assert_eq!(user.get("owner").map(String::as_str), Some("alice"), "{user:?}");
    assert_eq!(head.content_encoding(), None, "stored uncompressed");
    let meta = tiered_s3::meta::decode("docs/readme.txt", &user, head.content_type(), head.e_tag())
        .map_err(anyhow::Error::msg)?;
    assert_eq!(meta.metadata.get("owner").map(String::as_str), Some("alice"));
    assert!(meta.expires_ms.is_some_and(|e| e > meta.created_ms), "the TTL travels with the object");

    // A compressed object says so, for other readers.
    let text = "compressible line\n".repeat(500);
    store.set("docs/text", text.clone(), SetOptions { compress: Some(true), ..Default::default() }).await?;
    let head = tier.sdk_client().expect("a live tier").head_object().bucket(&tier.config().bucket);
    let head = head.key(tier.object_key("docs/text")).send().await?;
    assert_eq!(head.content_encoding(), Some("gzip"));
    assert!(head.content_length().is_some_and(|l| l < text.len() as i64), "the bytes are the gzip stream");
    assert_eq!(store_over(&tier)?.get("docs/text").await?.as_deref(), Some(text.as_bytes()));
    store.delete("docs/text").await?;

    // Another host (its own client, no caches) reads it from the bucket.
    let other = store_over(&crate::support::s3::twin(&tier).await?)?;
    let hit = other.get_with_metadata("docs/readme.txt").await?.expect("readable through another host");
    assert_eq!((hit.source, &hit.data[..]), (TierId::Cold, &b"hello, bucket"[..]));
    assert_eq!(hit.meta.metadata.get("owner").map(String::as_str), Some("alice"));

    store.delete("docs/readme.txt").await?;
    assert_eq!(plain_get(&tier, "docs/readme.txt").await?, None, "a delete removes the bucket's object");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn concurrent_reads_of_a_key_only_s3_has_send_one_get() -> anyhow::Result<()> {
    let tier = crate::support::s3::tier("single-flight").await?;
    tier.put(crate::support::object("only-in-s3", &[7u8; 4096], 1)).await?;
    let store = store_over(&tier)?;
    let before = tier.requests();
    let barrier = Arc::new(tokio::sync::Barrier::new(100));
    let reads: Vec<_> = (0..100)
        .map(|_| {
            let (store, barrier) = (store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store.get("only-in-s3").await
            })
        })
        .collect();
    for read in reads {
        assert_eq!(read.await??.map(|b| b.len()), Some(4096));
    }
    let after = tier.requests();
    // A GET the S3 client had to retry is sent twice but is one read.
    let sent = after.since(&before);
    let reads = sent.get - sent.retried;
    assert_eq!(reads, 1, "S3 GETs for 100 concurrent reads: {before:?} -> {after:?}");
    Ok(())
}

#[tokio::test]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn a_placement_that_skips_the_caches_leaves_the_object_only_in_s3() -> anyhow::Result<()> {
    let tier = crate::support::s3::tier("placement").await?;
    let warm_dir = tempfile::tempdir()?;
    let warm = Arc::new(DiskTier::open(warm_dir.path(), 16 << 20)?);
    // The real default policy component, told that nothing above 1 KiB is cached.
    let config = [("hot_max_object_bytes", "1024"), ("warm_max_object_bytes", "1024")]
        .map(|(k, v)| (k.to_string(), v.to_string()));
    let capacities = Capacities { hot_bytes: 1 << 20, warm_bytes: 16 << 20 };
    // Its decisions are under test: a deadline and no throttle that a busy
    // machine cannot turn into fallback answers.
    let limits = PolicyLimits { deadline: std::time::Duration::from_secs(60), ..PolicyLimits::default() }.unthrottled();
    let policy = WasmPolicy::load(&PolicyEngine::new(None)?, DEFAULT_POLICY_WASM, &config, capacities, limits)?;
    let store = TieredStore::builder()
        .hot_bytes(1 << 20)
        .warm(warm.clone())
        .cold(Arc::new(tier.clone()))
        .policy(Arc::new(policy))
        .build()?;

    let outcome = store.set("big", vec![1u8; 8192], SetOptions::default()).await?;
    assert_eq!(outcome.tiers, vec![TierId::Cold], "the policy kept an 8 KiB object out of the caches");
    assert!(warm.get("big").await?.is_none());
    assert_eq!(plain_get(&tier, "big").await?.map(|b| b.len()), Some(8192));
    let small = store.set("small", vec![1u8; 100], SetOptions::default()).await?;
    assert!(small.tiers.contains(&TierId::Hot), "a small object is cached: {:?}", small.tiers);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn invalidating_a_prefix_of_2500_keys_deletes_in_batches_of_1000() -> anyhow::Result<()> {
    let tier = crate::support::s3::tier("invalidate").await?;
    let puts = futures::stream::iter(0..2500).map(|i| {
        let tier = tier.clone();
        async move { tier.put(crate::support::object(&format!("inv/{i:05}"), b"x", 1)).await }
    });
    let written: Vec<_> = puts.buffer_unordered(32).collect().await;
    for result in written {
        result?;
    }
    tier.put(crate::support::object("keep/me", b"y", 1)).await?;
    let store = store_over(&tier)?;
    assert!(store.get("inv/00042").await?.is_some(), "cached before the invalidation");

    let before = tier.requests();
    assert_eq!(store.invalidate("inv/").await?, 2500);
    let after = tier.requests();
    assert_eq!(after.delete - before.delete, 3, "DeleteObjects requests for 2,500 keys");
    assert_eq!(plain_count(&tier, "inv/").await?, 0);
    assert_eq!(plain_count(&tier, "keep/").await?, 1, "other prefixes are untouched");
    assert_eq!(store.get("inv/00042").await?, None, "no cached copy survives");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn a_50_mib_object_round_trips_through_multipart_upload() -> anyhow::Result<()> {
    let tier = crate::support::s3::tier("large").await?;
    // Not compressible, not uniform: a simple xorshift stream.
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let value: Vec<u8> = (0..50 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    // No hot tier: the object goes to S3 and comes back from S3.
    let store = TieredStore::builder().cold(Arc::new(tier.clone())).build()?;
    let before = tier.requests();
    store.set("large/blob", value.clone(), SetOptions::default()).await?;
    let after = tier.requests();
    assert_eq!(after.put - before.put, 7, "50 MiB in 8 MiB parts");
    assert_eq!(after.multipart - before.multipart, 2, "create + complete, no abort");
    let got = store.get("large/blob").await?.expect("stored");
    assert!(got.len() == value.len() && got[..] == value[..], "the bytes come back unchanged");

    let uploads = tier.sdk_client().expect("a live tier").list_multipart_uploads().bucket(&tier.config().bucket);
    let uploads = uploads.prefix(tier.object_key("large/")).send().await?;
    assert!(uploads.uploads().is_empty(), "no multipart upload left behind");
    Ok(())
}

#[tokio::test]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn a_write_through_one_host_reaches_another_within_max_staleness() -> anyhow::Result<()> {
    let tier = crate::support::s3::tier("staleness").await?;
    let twin = crate::support::s3::twin(&tier).await?;
    crate::support::staleness::two_hosts(Arc::new(tier.clone()), Arc::new(twin)).await?;
    Ok(())
}

#[tokio::test]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn touch_rewrites_the_expiry_with_a_server_side_copy() -> anyhow::Result<()> {
    let tier = crate::support::s3::tier("touch").await?;
    let store = store_over(&tier)?;
    let options = SetOptions { ttl: Some(Duration::from_secs(60)), ..Default::default() };
    store.set("t", vec![5u8; 1 << 20], options).await?;
    let before = tier.requests();
    assert!(store.touch("t", Some(Duration::from_secs(7200))).await?);
    let after = tier.requests();
    assert_eq!((after.copy - before.copy, after.put - before.put, after.get - before.get), (1, 0, 0));
    let head = tier.head("t").await?.expect("still there");
    assert!(head.expires_ms.is_some_and(|e| e > head.created_ms + 3_600_000), "new expiry: {head:?}");
    assert_eq!(plain_get(&tier, "t").await?.map(|b| b.len()), Some(1 << 20), "bytes untouched");
    Ok(())
}

#[tokio::test]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn objects_written_by_other_tools_are_served_as_they_are() -> anyhow::Result<()> {
    let tier = crate::support::s3::tier("foreign").await?;
    let body = aws_sdk_s3::primitives::ByteStream::from_static(b"id,name\n1,alice\n");
    let put = tier
        .sdk_client()
        .expect("a live tier")
        .put_object()
        .bucket(&tier.config().bucket)
        .key(tier.object_key("exports/users.csv"));
    put.content_type("text/csv").metadata("owner", "bob").body(body).send().await?;

    let store = store_over(&tier)?;
    let hit = store.get_with_metadata("exports/users.csv").await?.expect("a plain S3 object is readable");
    assert_eq!((hit.source, &hit.data[..]), (TierId::Cold, &b"id,name\n1,alice\n"[..]));
    assert_eq!(hit.meta.content_type.as_deref(), Some("text/csv"));
    assert_eq!(hit.meta.metadata.get("owner").map(String::as_str), Some("bob"), "its user metadata");
    assert!(hit.meta.created_ms > 0, "time from Last-Modified");
    assert!(store.exists("exports/users.csv").await?);

    // A touch rewrites it with a record; it stays readable and unchanged.
    assert!(store.touch("exports/users.csv", Some(Duration::from_secs(600))).await?);
    let fresh = store_over(&tier)?;
    let hit = fresh.get_with_metadata("exports/users.csv").await?.expect("still readable");
    assert_eq!(&hit.data[..], b"id,name\n1,alice\n");
    assert!(hit.meta.expires_ms.is_some(), "the new expiry is kept");
    Ok(())
}

#[tokio::test]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn an_object_in_the_version_1_layout_stays_readable() -> anyhow::Result<()> {
    use base64::Engine;
    let tier = crate::support::s3::tier("layout-v1").await?;
    // As earlier releases wrote it: every field, custom metadata included, in
    // the one `tiered` entry.
    let data = b"written by an earlier release";
    let record = serde_json::json!({
        "v": 1, "size": data.len(), "original_size": data.len(), "created_ms": 1_700_000_000_000u64,
        "checksum": tiered::object::checksum(data), "codec": "identity", "metadata": {"owner": "carol"}
    });
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&record)?);
    let put = tier.sdk_client().expect("a live tier").put_object().bucket(&tier.config().bucket);
    let put = put.key(tier.object_key("old/object")).metadata("tiered", encoded);
    put.body(aws_sdk_s3::primitives::ByteStream::from_static(data)).send().await?;

    let hit = store_over(&tier)?.get_with_metadata("old/object").await?.expect("readable");
    assert_eq!(&hit.data[..], data);
    assert_eq!(hit.meta.metadata.get("owner").map(String::as_str), Some("carol"));
    assert_eq!(hit.meta.created_ms, 1_700_000_000_000);
    Ok(())
}

#[tokio::test]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn an_object_too_large_to_hold_is_refused_by_name() -> anyhow::Result<()> {
    let mut config = crate::support::s3::config("too-large");
    config.max_object_bytes = 1000;
    let tier = S3Tier::connect(config).await?;
    tier.put(crate::support::object("big", &[1u8; 1001], 1)).await?;
    let err = tier.get("big").await.expect_err("over the limit");
    assert_eq!(err.kind(), tiered::TierErrorKind::Rejected);
    assert!(err.to_string().contains("1001 bytes") && err.to_string().contains("at most 1000"), "{err}");
    tier.put(crate::support::object("fits", &[1u8; 1000], 1)).await?;
    assert!(tier.get("fits").await?.is_some());
    Ok(())
}

/// A bucket that does not exist (deleted under a running store, or a typo
/// that skipped the start-up check) fails reads with S3's code: a GET is
/// never answered "no such object" for it.
#[tokio::test]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn a_bucket_that_does_not_exist_fails_reads_instead_of_missing() -> anyhow::Result<()> {
    let config = tiered_s3::S3Config {
        bucket: format!("tiered-absent-{:016x}", crate::support::s3::unique()),
        ..crate::support::s3::config("absent-bucket")
    };
    let tier = S3Tier::connect(config).await?;
    let err = tier.check().await.expect_err("no such bucket");
    assert!(err.to_string().contains("HeadBucket"), "{err}");
    let err = tier.get("k").await.expect_err("a read of a missing bucket is an error");
    assert!(err.to_string().contains("NoSuchBucket"), "{err}");
    Ok(())
}
