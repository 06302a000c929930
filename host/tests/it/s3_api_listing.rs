//! `ListObjectsV2` and `ListObjects` through `aws-sdk-s3`: prefixes,
//! delimiters folding keys into common prefixes, pages of `max-keys` joined
//! by continuation tokens (and `start-after`, `marker`), keys in byte order;
//! with a local cold tier, and with S3 as cold, where a page is read from
//! the bucket's own listing (one LIST request a page, whatever the bucket
//! holds).

use crate::support::prometheus;
use crate::support::s3;
use crate::support::s3_api::{Auth, BUCKET, Endpoint};
use anyhow::Result;
use aws_sdk_s3::primitives::ByteStream;
use futures::{StreamExt, TryStreamExt};
use tiered::store::Tier;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_page_fold_and_order_keys() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let api = Endpoint::start(&dir.path().join("data"), "", Auth::Keys).await?;
    listings_page_fold_and_order(&api).await?;
    api.server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "live S3: needs TIERED_S3_BUCKET (tests/run-all starts a server and runs it)"]
async fn with_s3_as_cold_a_page_is_one_list_request_whatever_the_bucket_holds() -> Result<()> {
    let config = s3::config("s3-api-listing");
    let dir = tempfile::tempdir()?;
    let api = Endpoint::start(&dir.path().join("data"), &s3::cold_table(&config), Auth::Keys).await?;
    listings_page_fold_and_order(&api).await?;

    // 1,200 objects under one prefix, written straight into the bucket (as
    // another host of the same bucket would), so no cache holds them.
    let tier = tiered_s3::S3Tier::connect(config).await?;
    let keys: Vec<String> = (0..1_200).map(|i| format!("many/{i:05}")).collect();
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as u64;
    futures::stream::iter(keys.iter().map(|key| tier.put(crate::support::object(key, key.as_bytes(), now_ms))))
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await?;
    let lists = async || -> Result<f64> {
        let (scrape, _) = prometheus::scrape(&api.server).await?;
        Ok(prometheus::count(&scrape, "tiered_s3_request_duration_seconds", &[("operation", "list")]))
    };
    let before = lists().await?;
    let (seen, pages) = page_through(&api.s3, "many/", 500).await?;
    assert_eq!((seen, pages), (keys, 3), "every key once, in order, in pages of 500");
    let after = lists().await?;
    // Reading every key under the prefix for each page would take two
    // requests a page (1,000 + 200 keys).
    assert_eq!(after - before, 3.0, "one ListObjectsV2 request a page");
    api.server.stop().await?;
    Ok(())
}

/// Writes its keys through the endpoint, then lists them every way.
async fn listings_page_fold_and_order(api: &Endpoint) -> Result<()> {
    let s3 = &api.s3;
    let mut keys: Vec<String> = (0..23).map(|i| format!("logs/2026/{i:02}.txt")).collect();
    keys.extend(["logs/a/x", "logs/a/y", "logs/b/z", "logs/top.txt", "other/k", "logs/ünï code"].map(String::from));
    for key in &keys {
        s3.put_object().bucket(BUCKET).key(key).body(ByteStream::from(key.clone().into_bytes())).send().await?;
    }
    let mut under_logs: Vec<String> = keys.iter().filter(|k| k.starts_with("logs/")).cloned().collect();
    under_logs.sort();

    // Pages of 5, joined by continuation tokens, in byte order.
    let (seen, pages) = page_through(s3, "logs/", 5).await?;
    assert_eq!(seen, under_logs);
    assert_eq!(pages, under_logs.len().div_ceil(5));

    // A delimiter folds the keys below the next "/" into common prefixes.
    let folded = s3.list_objects_v2().bucket(BUCKET).prefix("logs/").delimiter("/").send().await?;
    let prefixes: Vec<&str> = folded.common_prefixes().iter().filter_map(|p| p.prefix()).collect();
    assert_eq!(prefixes, vec!["logs/2026/", "logs/a/", "logs/b/"]);
    let files: Vec<&str> = folded.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(files, vec!["logs/top.txt", "logs/ünï code"]);

    // Common prefixes count as entries and are never repeated across pages.
    let (mut entries, mut token) = (Vec::new(), None::<String>);
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .prefix("logs/")
            .delimiter("/")
            .max_keys(2)
            .set_continuation_token(token.clone())
            .send()
            .await?;
        entries.extend(page.common_prefixes().iter().filter_map(|p| p.prefix()).map(String::from));
        entries.extend(page.contents().iter().filter_map(|o| o.key()).map(String::from));
        match page.next_continuation_token() {
            Some(next) => token = Some(next.to_string()),
            None => break,
        }
    }
    entries.sort();
    assert_eq!(entries, vec!["logs/2026/", "logs/a/", "logs/b/", "logs/top.txt", "logs/ünï code"]);

    // start-after, and the whole bucket from the root.
    let after = s3.list_objects_v2().bucket(BUCKET).prefix("logs/").start_after("logs/b/z").send().await?;
    assert_eq!(
        after.contents().iter().filter_map(|o| o.key()).collect::<Vec<_>>(),
        vec!["logs/top.txt", "logs/ünï code"]
    );
    let root = s3.list_objects_v2().bucket(BUCKET).delimiter("/").send().await?;
    assert_eq!(root.common_prefixes().iter().filter_map(|p| p.prefix()).collect::<Vec<_>>(), vec!["logs/", "other/"]);
    let none = s3.list_objects_v2().bucket(BUCKET).prefix("nothing/").send().await?;
    assert_eq!((none.contents().len(), none.is_truncated()), (0, Some(false)));

    // ListObjects (v1) with a marker.
    let v1 = s3.list_objects().bucket(BUCKET).prefix("logs/a/").send().await?;
    assert_eq!(v1.contents().iter().filter_map(|o| o.key()).collect::<Vec<_>>(), vec!["logs/a/x", "logs/a/y"]);
    let v1 = s3.list_objects().bucket(BUCKET).prefix("logs/a/").marker("logs/a/x").send().await?;
    assert_eq!(v1.contents().iter().filter_map(|o| o.key()).collect::<Vec<_>>(), vec!["logs/a/y"]);
    Ok(())
}

/// Every key under `prefix`, in pages of `max_keys` joined by continuation
/// tokens, each listed with the size a GET returns (these tests store each
/// key as its own bytes), an ETag and a date; and the number of pages.
async fn page_through(s3: &aws_sdk_s3::Client, prefix: &str, max_keys: i32) -> Result<(Vec<String>, usize)> {
    let (mut seen, mut token, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .prefix(prefix)
            .max_keys(max_keys)
            .set_continuation_token(token.clone())
            .send()
            .await?;
        pages += 1;
        assert!(page.key_count().unwrap_or_default() <= max_keys);
        for object in page.contents() {
            let key = object.key().unwrap_or_default();
            assert_eq!(object.size(), Some(key.len() as i64), "{key}: the size a GET returns");
            assert!(object.e_tag().is_some() && object.last_modified().is_some(), "{key}");
            seen.push(key.to_string());
        }
        match page.next_continuation_token() {
            Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_string()),
            _ => break,
        }
    }
    Ok((seen, pages))
}
