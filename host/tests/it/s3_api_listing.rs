//! `ListObjectsV2` and `ListObjects` through `aws-sdk-s3`: prefixes,
//! delimiters folding keys into common prefixes, pages of `max-keys` joined
//! by continuation tokens (and `start-after`, `marker`), keys in byte order.

use crate::support::s3_api::{Auth, BUCKET, Endpoint};
use anyhow::Result;
use aws_sdk_s3::primitives::ByteStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_page_fold_and_order_keys() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let api = Endpoint::start(&dir.path().join("data"), "", Auth::Keys).await?;
    let s3 = &api.s3;
    let mut keys: Vec<String> = (0..23).map(|i| format!("logs/2026/{i:02}.txt")).collect();
    keys.extend(["logs/a/x", "logs/a/y", "logs/b/z", "logs/top.txt", "other/k", "logs/ünï code"].map(String::from));
    for key in &keys {
        s3.put_object().bucket(BUCKET).key(key).body(ByteStream::from(key.clone().into_bytes())).send().await?;
    }
    let mut under_logs: Vec<String> = keys.iter().filter(|k| k.starts_with("logs/")).cloned().collect();
    under_logs.sort();

    // Pages of 5, joined by continuation tokens, in byte order.
    let (mut seen, mut token, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .prefix("logs/")
            .max_keys(5)
            .set_continuation_token(token.clone())
            .send()
            .await?;
        pages += 1;
        assert!(page.key_count().unwrap_or_default() <= 5);
        for object in page.contents() {
            assert_eq!(object.size(), Some(object.key().unwrap_or_default().len() as i64));
            assert!(object.e_tag().is_some() && object.last_modified().is_some());
            seen.push(object.key().unwrap_or_default().to_string());
        }
        match page.next_continuation_token() {
            Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_string()),
            _ => break,
        }
    }
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
    api.server.stop().await?;
    Ok(())
}
