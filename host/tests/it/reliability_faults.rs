//! Outages and slowness: cold slow or cutting connections (a loopback proxy
//! in front of the S3 server), the disk tier read-only, the disk full.
//!
//! Promises: a cache-tier fault degrades to counted misses; a cold fault fails
//! writes cleanly (nothing acknowledged) and fails reads only when no cache
//! holds the object; recovery needs no restart. Cold stopped outright is
//! `s3_outage.rs` (its own test binary: it halts the shared S3 server).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::faulty_fs::{Swapped, Tmpfs, skipped};
use crate::support::proxy::{Mode, Proxy};
use tiered::store::{DiskTier, LocalColdTier};
use tiered::{Error, SetOptions, TierId, TierSet, TieredStore};
use tiered_s3::S3Tier;

fn tier_stats(store: &TieredStore, tier: TierId) -> tiered::engine::TierStats {
    store.stats().tiers.into_iter().find(|t| t.tier == tier).expect("configured tier")
}

/// The S3 tier, reached through a fault proxy.
async fn s3_behind_proxy(test: &str) -> anyhow::Result<(S3Tier, Proxy)> {
    let (mut config, proxy) = Proxy::before_s3(test).await?;
    // Timeouts a busy machine's S3 server still answers within in pass mode
    // (the set-up and recovery requests take this road too).
    config.operation_timeout_ms = 3_000;
    config.connect_timeout_ms = 2_000;
    config.max_attempts = 2;
    let tier = S3Tier::connect(config).await?;
    tier.check().await?;
    Ok((tier, proxy))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn slow_or_cut_cold_fails_writes_cleanly_and_recovers() -> anyhow::Result<()> {
    let (tier, proxy) = s3_behind_proxy("faults-proxy").await?;
    let dir = tempfile::tempdir()?;
    let store = TieredStore::builder()
        .hot_bytes(1 << 20)
        .warm(Arc::new(DiskTier::open(dir.path(), 8 << 20)?))
        .cold(Arc::new(tier))
        .policy(Arc::new(crate::support::Everywhere))
        .build()?;
    for mode in [Mode::Delay(8_000), Mode::Drop] {
        let tag = format!("{mode:?}");
        store.set("cached", "cached value", SetOptions::default()).await?;
        store
            .set(
                "warm-only",
                "warm value",
                SetOptions { skip: TierSet { hot: true, warm: false }, ..Default::default() },
            )
            .await?;
        store.set("cold-only", "cold value", SetOptions { skip: TierSet::ALL, ..Default::default() }).await?;
        proxy.set(mode);
        let errors_before = tier_stats(&store, TierId::Cold).errors;
        let started = Instant::now();
        assert_eq!(store.get("cached").await?.as_deref(), Some(&b"cached value"[..]), "{tag}: hot serves");
        let warm = store.get_with_metadata("warm-only").await?.expect("warm copy");
        assert_eq!((warm.source, &warm.data[..]), (TierId::Warm, &b"warm value"[..]), "{tag}: warm serves");
        // Below the 3 s a read that waited for cold would take at least.
        assert!(started.elapsed() < Duration::from_millis(2_500), "{tag}: cached reads do not wait for cold");
        let err = store.get("cold-only").await.expect_err("only cold has it");
        assert!(matches!(err, Error::ColdUnavailable(_)), "{tag}: {err}");
        let err =
            store.set(&format!("new-{tag}"), "never acknowledged", SetOptions::default()).await.expect_err("no ack");
        assert!(matches!(err, Error::ColdUnavailable(_)), "{tag}: {err}");
        assert!(tier_stats(&store, TierId::Cold).errors > errors_before, "{tag}: cold errors are counted");
        assert!(started.elapsed() < Duration::from_secs(40), "{tag}: failures are bounded by the timeouts");

        proxy.set(Mode::Pass);
        // Recovery without a restart. A write that timed out may still have
        // reached S3 (it was never acknowledged): it reads as absent or whole.
        assert_eq!(store.get("cold-only").await?.as_deref(), Some(&b"cold value"[..]), "{tag}: recovered");
        let maybe = store.get(&format!("new-{tag}")).await?;
        assert!(maybe.as_deref().is_none_or(|v| v == b"never acknowledged"), "{tag}: {maybe:?}");
        store.set("after", format!("after {tag}"), SetOptions::default()).await?;
        assert_eq!(store.get("after").await?.as_deref(), Some(format!("after {tag}").as_bytes()));
    }
    Ok(())
}

/// A request the server never answers is cut at the attempt's bound and
/// sent again, so the read succeeds within the operation's bound; without
/// that bound the same hang uses up the whole operation and fails it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn a_request_left_unanswered_is_cut_and_sent_again() -> anyhow::Result<()> {
    use tiered::store::Tier;
    let (config, proxy) = Proxy::before_s3("faults-hang").await?;
    let config = tiered_s3::S3Config { operation_timeout_ms: 30_000, max_attempts: 2, ..config };

    let bounded = S3Tier::connect(tiered_s3::S3Config { attempt_timeout_ms: 1_000, ..config.clone() }).await?;
    bounded.check().await?;
    let before = bounded.requests();
    proxy.stall_requests(1);
    let started = Instant::now();
    assert!(bounded.get("absent").await?.is_none(), "the second attempt is answered");
    assert!(started.elapsed() >= Duration::from_secs(1), "the first attempt ran to its bound");
    let after = bounded.requests();
    assert_eq!((after.get - before.get, after.retried - before.retried), (2, 1), "{before:?} -> {after:?}");

    let unbounded =
        S3Tier::connect(tiered_s3::S3Config { attempt_timeout_ms: 0, operation_timeout_ms: 2_000, ..config }).await?;
    unbounded.check().await?;
    proxy.stall_requests(1);
    let err = unbounded.get("absent").await.expect_err("the one attempt never ends");
    assert!(err.to_string().contains("Timeout"), "{err}");
    Ok(())
}

/// The request counts tell a retried attempt from an operation: a GET whose
/// connections are cut is sent twice (`max_attempts` 2) and counted as two
/// GETs of which one is a retry; once the connection is back, a GET is one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn a_retried_attempt_is_counted_apart_from_the_operation() -> anyhow::Result<()> {
    use tiered::store::Tier;
    let (tier, proxy) = s3_behind_proxy("faults-retry").await?;
    let before = tier.requests();
    proxy.set(Mode::Drop);
    assert!(tier.get("absent").await.is_err(), "every attempt is cut");
    let cut = tier.requests();
    assert_eq!((cut.get - before.get, cut.retried - before.retried), (2, 1), "{before:?} -> {cut:?}");
    proxy.set(Mode::Pass);
    assert!(tier.get("absent").await?.is_none());
    let after = tier.requests();
    assert_eq!((after.get - cut.get, after.retried - cut.retried), (1, 0), "{cut:?} -> {after:?}");
    Ok(())
}

/// A put dropped half-way through its multipart upload (the client that
/// sent it hung up) leaves no upload open in the bucket: the tier aborts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn a_multipart_upload_dropped_half_way_is_aborted() -> anyhow::Result<()> {
    use tiered::store::Tier;
    let (config, proxy) = Proxy::before_s3("faults-abandon").await?;
    let tier = S3Tier::connect(tiered_s3::S3Config { multipart_threshold: 5 << 20, ..config }).await?;
    tier.check().await?;
    // The bucket's uploads, seen past the proxy.
    let direct = crate::support::s3::tier("faults-abandon-direct").await?;
    let sdk = direct.sdk_client().expect("a live tier").clone();
    let s3_key = tier.object_key("big");
    let open_uploads = || {
        let (sdk, s3_key, bucket) = (sdk.clone(), s3_key.clone(), tier.config().bucket.clone());
        async move {
            let listed = sdk.list_multipart_uploads().bucket(bucket).prefix(&s3_key).send().await?;
            anyhow::Ok(listed.uploads().iter().filter(|u| u.key() == Some(s3_key.as_str())).count())
        }
    };

    // 64 KiB every 10 ms: a 5 MiB part takes about a second to go through.
    proxy.set(Mode::Delay(10));
    let before = tier.requests();
    let mut put = Box::pin(tier.put(crate::support::object("big", &vec![7u8; 12 << 20], 1)));
    // Open in the bucket, and its id known to the tier: a part was sent (the
    // bucket lists an upload before its creator has the answer).
    let opened = async {
        while open_uploads().await? == 0 || tier.requests().put == before.put {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::Ok(())
    };
    tokio::select! {
        done = &mut put => anyhow::bail!("the put ended before it could be dropped: {:?}", done.map(|_| ())),
        opened = tokio::time::timeout(Duration::from_secs(20), opened) => opened??,
    }
    assert!(tier.requests().multipart >= 1, "CreateMultipartUpload went through the proxy");
    drop(put);
    proxy.set(Mode::Pass);

    let started = Instant::now();
    while open_uploads().await? > 0 {
        assert!(started.elapsed() < Duration::from_secs(20), "the dropped upload is still open: {:?}", tier.requests());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(tier.head("big").await?.is_none(), "nothing was stored");
    Ok(())
}

/// A GET whose connection is cut half-way through the body goes on from
/// where it broke: a streamed one with a ranged GET of the rest (the bytes
/// already passed on are kept), one read whole with the whole object again.
/// Neither is the SDK's retry, which ends at the answer's headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn a_body_cut_half_way_is_read_on_from_where_it_broke() -> anyhow::Result<()> {
    use futures::TryStreamExt;
    use tiered::store::{Fetched, Tier};
    let (tier, proxy) = s3_behind_proxy("faults-body").await?;
    let data: Vec<u8> = (0..4u32 << 20).map(|i| (i % 251) as u8).collect();
    tier.put(crate::support::object("big", &data, 1)).await?;

    for buffer_max in [1 << 20, 8 << 20] {
        let before = tier.requests();
        // The answer's headers and 1 MiB of its body, then a reset.
        proxy.cut_next_answer(1 << 20);
        let got: Vec<u8> = match tier.get_stream("big", buffer_max).await? {
            Some(Fetched::Stream(stream)) => stream.chunks.try_collect::<Vec<_>>().await?.concat(),
            Some(Fetched::Whole(object)) => object.data.to_vec(),
            None => anyhow::bail!("stored"),
        };
        assert!(got == data, "all 4 MiB in order, {} bytes read (buffer_max {buffer_max})", got.len());
        let sent = tier.requests().since(&before);
        assert_eq!((sent.get, sent.retried), (2, 0), "a GET, then one for the rest: {sent:?}");
    }

    // A range: the rest of it.
    let before = tier.requests();
    proxy.cut_next_answer(1 << 20);
    let range = tiered::range::ByteRange::FromTo { first: 1000, last: 3_999_999 };
    let read = tier.get_range("big", range).await?.expect("stored");
    let got = read.chunks.try_collect::<Vec<_>>().await?.concat();
    assert!(got[..] == data[1000..4_000_000], "{} bytes of the range", got.len());
    assert_eq!(tier.requests().since(&before).get, 2);
    Ok(())
}

/// warm on `warm_dir`, local cold elsewhere, no hot tier.
fn disk_rig(warm_dir: &std::path::Path, cold_dir: &std::path::Path, budget: u64) -> anyhow::Result<TieredStore> {
    Ok(TieredStore::builder()
        .warm(Arc::new(DiskTier::open(warm_dir, budget)?))
        .cold(Arc::new(LocalColdTier::open(cold_dir)?))
        .policy(Arc::new(crate::support::Everywhere))
        .build()?)
}

/// Writes keep being acknowledged and reads stay right while warm refuses
/// writes; then it is back and caches again.
async fn read_only_warm(
    technique: &str,
    make_ro: impl FnOnce() -> anyhow::Result<Box<dyn FnOnce() -> anyhow::Result<()>>>,
    warm: &std::path::Path,
    cold: &std::path::Path,
) -> anyhow::Result<()> {
    let store = disk_rig(warm, cold, 64 << 20)?;
    for i in 0..20 {
        store.set(&format!("k{i}"), format!("v{i}"), SetOptions::default()).await?;
    }
    let restore = make_ro()?;
    let errors_before = tier_stats(&store, TierId::Warm).errors;
    for i in 0..20 {
        // Overwrites: the old copy in warm must never be served again.
        store.set(&format!("k{i}"), format!("w{i}"), SetOptions::default()).await?;
        store.set(&format!("new{i}"), format!("n{i}"), SetOptions::default()).await?;
    }
    for i in 0..20 {
        assert_eq!(
            store.get(&format!("k{i}")).await?.as_deref(),
            Some(format!("w{i}").as_bytes()),
            "{technique}: k{i}"
        );
        assert_eq!(store.get(&format!("new{i}")).await?.as_deref(), Some(format!("n{i}").as_bytes()), "{technique}");
    }
    assert!(tier_stats(&store, TierId::Warm).errors > errors_before, "{technique}: warm failures are counted");
    restore()?;
    store.set("back", "again", SetOptions::default()).await?;
    let hit = store.get_with_metadata("back").await?.expect("written");
    assert_eq!((hit.source, &hit.data[..]), (TierId::Warm, &b"again"[..]), "{technique}: warm caches again");
    // The old copies the fault kept on disk went with that first successful
    // write: a restart (the index rebuilt from the files) cannot bring them
    // back, even after a crash (forgotten, not dropped: nothing runs at exit).
    std::mem::forget(store);
    let restarted = disk_rig(warm, cold, 64 << 20)?;
    for i in 0..20 {
        assert_eq!(
            restarted.get(&format!("k{i}")).await?.as_deref(),
            Some(format!("w{i}").as_bytes()),
            "{technique}: k{i} after a restart"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_disk_tier_degrades_to_misses_objects_dir_replaced() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let objects = dir.path().join("warm").join("objects");
    let make_ro = || -> anyhow::Result<Box<dyn FnOnce() -> anyhow::Result<()>>> {
        let swapped = Swapped::swap(&objects)?;
        Ok(Box::new(move || swapped.restore()))
    };
    read_only_warm("objects/ replaced by a file", make_ro, &dir.path().join("warm"), &dir.path().join("cold")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_disk_tier_degrades_to_misses_read_only_mount() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mount = match Tmpfs::mount(&dir.path().join("warm"), "16m") {
        Ok(mount) => Arc::new(mount),
        Err(why) => {
            skipped("read-only mount", &format!("{why} (the objects/-replaced variant still runs)"));
            return Ok(());
        }
    };
    let m = mount.clone();
    let make_ro = move || -> anyhow::Result<Box<dyn FnOnce() -> anyhow::Result<()>>> {
        m.set_read_only(true)?;
        Ok(Box::new(move || m.set_read_only(false)))
    };
    read_only_warm("read-only remount", make_ro, &mount.path, &dir.path().join("cold")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_tier_degrades_to_misses() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let warm_dir = dir.path().join("warm");
    let _mount = match Tmpfs::mount(&warm_dir, "512k") {
        Ok(mount) => mount,
        Err(why) => {
            skipped("disk full", &format!("needs a small tmpfs: {why}"));
            return Ok(());
        }
    };
    // A budget far above the 512 KiB the file system holds.
    let store = disk_rig(&warm_dir, &dir.path().join("cold"), 64 << 20)?;
    let value = |i: usize| crate::support::rng::value_for(&format!("f{i}"), i as u64, 30_000);
    for i in 0..60 {
        store.set(&format!("f{i}"), value(i), SetOptions::default()).await?;
    }
    let warm = tier_stats(&store, TierId::Warm);
    assert!(warm.errors > 0, "the full disk was hit and counted: {warm:?}");
    assert!(warm.objects < 60, "not everything fit: {warm:?}");
    for i in 0..60 {
        assert_eq!(store.get(&format!("f{i}")).await?.as_deref(), Some(&value(i)[..]), "f{i}");
    }
    let files = crate::support::files_under(&warm_dir.join("objects"));
    let bytes: u64 = files.iter().map(|f| f.metadata().map(|m| m.len()).unwrap_or(0)).sum();
    let warm = tier_stats(&store, TierId::Warm);
    assert_eq!((warm.objects, warm.bytes), (files.len() as u64, bytes), "accounting matches the files");
    assert!(crate::support::files_under(&warm_dir.join("tmp")).is_empty(), "no partial file left behind");
    // Space freed: the tier caches again.
    store.invalidate("f").await?;
    store.set("later", value(0), SetOptions::default()).await?;
    assert_eq!(store.get_with_metadata("later").await?.expect("written").source, TierId::Warm);
    Ok(())
}
