use futures::{StreamExt, TryStreamExt};
use tiered::store::listing::{Entry, PageRequest};
use tiered::store::{SourceTier, Tier};
use tiered_s3::failure::{Failure, Op};
use tiered_s3::mock::MockClient;

use super::{config, object, rig_with};

pub async fn a_listing_follows_continuation_tokens_page_by_page() -> anyhow::Result<()> {
    let (tier, client) = rig_with(config(), MockClient::with_page_size(2));
    for key in ["a/1", "a/2", "a/3", "a/4", "a/5", "b/1"] {
        tier.put(object(key, key.as_bytes().to_vec())).await?;
    }
    client.inner().put_foreign("elsewhere/a/9", "not under the tier's prefix", None);
    let keys: Vec<String> = tier.list("a/").try_collect().await?;
    assert_eq!(keys, ["a/1", "a/2", "a/3", "a/4", "a/5"]);
    assert_eq!(client.inner().requests("list_page"), 3, "pages of 2, 2 and 1");

    let mut lazy = tier.list("");
    assert_eq!(lazy.next().await.transpose()?.as_deref(), Some("a/1"));
    assert_eq!(client.inner().requests("list_page"), 4, "one page fetched for the first key");
    Ok(())
}

pub async fn a_failed_page_ends_the_listing_with_its_error() -> anyhow::Result<()> {
    let (tier, client) = rig_with(config(), MockClient::with_page_size(2));
    for i in 0..5 {
        tier.put(object(&format!("k{i}"), "v")).await?;
    }
    client.fail(Op::ListPage, 1, 1, Failure::slow_down());
    let results: Vec<_> = tier.list("").collect().await;
    assert_eq!(results.len(), 3, "two keys, then the error: {results:?}");
    let err = results[2].as_ref().expect_err("the second page failed");
    assert!(err.to_string().contains("ListObjectsV2") && err.to_string().contains("SlowDown"), "{err}");
    Ok(())
}

pub async fn a_prefix_is_deleted_in_batches_of_at_most_1000() -> anyhow::Result<()> {
    let (tier, client) = rig_with(config(), MockClient::new());
    for i in 0..2_500 {
        tier.put(object(&format!("logs/{i:05}"), "x")).await?;
    }
    tier.put(object("keep", "y")).await?;
    assert_eq!(tier.delete_prefix("logs/").await?, 2_500);
    assert_eq!(client.inner().requests("delete_objects"), 3, "1000 + 1000 + 500");
    assert_eq!(client.inner().keys(), ["store/keep"]);
    Ok(())
}

/// S3 answers a DeleteObjects with 200 and an error per key it could not
/// delete; a busy server's keys are asked again, only those.
pub async fn keys_a_busy_server_could_not_delete_are_asked_again() -> anyhow::Result<()> {
    let (tier, client) = rig_with(config(), MockClient::new());
    for i in 0..1_500 {
        tier.put(object(&format!("logs/{i:05}"), "x")).await?;
    }
    // The first batch: 39 keys busy, then 5 of them busy again.
    client.fail(Op::DeleteObjects, 0, 1, Failure::keys_fail(39, "ServiceUnavailable"));
    client.fail(Op::DeleteObjects, 0, 1, Failure::keys_fail(5, "InternalError"));
    assert_eq!(tier.delete_prefix("logs/").await?, 1_500, "every key confirmed once");
    assert_eq!(client.inner().requests("delete_objects"), 4, "1000, its 39, their 5, then 500");
    assert!(client.inner().keys().is_empty(), "{:?}", client.inner().keys());
    Ok(())
}

pub async fn a_key_refused_for_good_fails_the_delete_at_once() -> anyhow::Result<()> {
    let (tier, client) = rig_with(config(), MockClient::new());
    for i in 0..10 {
        tier.put(object(&format!("logs/{i}"), "x")).await?;
    }
    client.fail_once(Op::DeleteObjects, Failure::keys_fail(2, "AccessDenied"));
    let err = tier.delete_prefix("logs/").await.expect_err("two keys were refused");
    let text = err.to_string();
    assert!(text.contains("2 of 10 keys failed after 1 attempt,"), "{text}");
    assert!(text.contains("\"logs/0\": AccessDenied"), "the first key refused, by its store key: {text}");
    assert_eq!(err.kind(), tiered::error::TierErrorKind::Rejected, "a refusal is no outage");
    assert_eq!(client.inner().requests("delete_objects"), 1, "a refusal is not asked again");
    assert_eq!(client.inner().keys(), ["store/logs/0", "store/logs/1"], "only the refused keys are left");
    Ok(())
}

pub async fn keys_still_failing_after_the_last_attempt_fail_the_delete_by_name() -> anyhow::Result<()> {
    let config = tiered_s3::S3Config { max_attempts: 2, ..config() };
    let (tier, client) = rig_with(config, MockClient::new());
    for i in 0..10 {
        tier.put(object(&format!("logs/{i}"), "x")).await?;
    }
    client.fail(Op::DeleteObjects, 0, u64::MAX, Failure::keys_fail(3, "SlowDown"));
    let err = tier.delete_prefix("logs/").await.expect_err("three keys stay busy");
    let text = err.to_string();
    assert!(text.contains("3 of 10 keys failed after 2 attempts, first \"logs/0\": SlowDown"), "{text}");
    assert_eq!(err.kind(), tiered::error::TierErrorKind::Unavailable);
    assert_eq!(client.inner().requests("delete_objects"), 2, "max_attempts requests");
    assert_eq!(client.inner().keys(), ["store/logs/0", "store/logs/1", "store/logs/2"]);
    Ok(())
}

/// A page of the store's listing is read from the bucket's ordered listing
/// at its position: the requests follow the page, not the bucket.
pub async fn a_page_reads_only_its_own_entries_from_the_bucket() -> anyhow::Result<()> {
    let (tier, client) = rig_with(config(), MockClient::new());
    for i in 0..5_000 {
        tier.put(object(&format!("k/{i:05}"), "v")).await?;
    }
    client.inner().put_foreign("store/k/\u{fc}", "a key after every digit", None);
    let request = |after: Option<&str>, max| PageRequest {
        prefix: "k/".into(),
        delimiter: None,
        after: after.map(Into::into),
        max,
    };

    let first = tier.list_page(&request(None, 100)).await?;
    assert_eq!(first.entries.first(), Some(&Entry::Key("k/00000".into())));
    assert_eq!((first.entries.len(), first.next()), (100, Some("k/00099")));
    assert_eq!(client.inner().requests("list_page"), 1);

    let middle = tier.list_page(&request(Some("k/02999"), 1000)).await?;
    assert_eq!(middle.entries.first(), Some(&Entry::Key("k/03000".into())));
    assert_eq!(middle.next(), Some("k/03999"));
    assert_eq!(client.inner().requests("list_page"), 2, "a page of 1000: one request, S3 says more follow");

    let last = tier.list_page(&request(Some("k/04998"), 1000)).await?;
    assert_eq!(last.entries, [Entry::Key("k/04999".into()), Entry::Key("k/\u{fc}".into())]);
    assert!(!last.truncated);
    assert_eq!(client.inner().requests("list_page"), 3);
    Ok(())
}

/// With a delimiter the bucket folds the keys; a page that starts after a
/// common prefix does not list it again, and the tier's own prefix is
/// removed from keys and common prefixes alike.
pub async fn a_delimited_page_continues_after_a_common_prefix() -> anyhow::Result<()> {
    let (tier, client) = rig_with(config(), MockClient::with_page_size(2));
    for key in ["a/1", "a/2", "b", "c/x/1", "c/y", "d"] {
        tier.put(object(key, "v")).await?;
    }
    let request = |after: Option<&str>| PageRequest {
        prefix: String::new(),
        delimiter: Some("/".into()),
        after: after.map(Into::into),
        max: 2,
    };
    let first = tier.list_page(&request(None)).await?;
    assert_eq!(first.entries, [Entry::Prefix("a/".into()), Entry::Key("b".into())]);
    let second = tier.list_page(&request(first.next())).await?;
    assert_eq!(second.entries, [Entry::Prefix("c/".into()), Entry::Key("d".into())]);
    assert!(!second.truncated, "nothing follows d");
    assert_eq!(client.inner().requests("list_page"), 2, "one request a page");

    let under_c = PageRequest { prefix: "c/".into(), delimiter: Some("/".into()), after: None, max: 10 };
    let under_c = tier.list_page(&under_c).await?;
    assert_eq!(under_c.entries, [Entry::Prefix("c/x/".into()), Entry::Key("c/y".into())]);
    Ok(())
}

/// A failed LIST is the page's error, named.
pub async fn a_failed_list_request_fails_the_page() -> anyhow::Result<()> {
    let (tier, client) = rig_with(config(), MockClient::new());
    tier.put(object("k", "v")).await?;
    client.fail(Op::ListPage, 0, 1, Failure::slow_down());
    let request = PageRequest { prefix: String::new(), delimiter: None, after: None, max: 10 };
    let err = tier.list_page(&request).await.expect_err("the LIST failed");
    assert!(err.to_string().contains("ListObjectsV2") && err.to_string().contains("SlowDown"), "{err}");
    assert_eq!(tier.list_page(&request).await?.entries, [Entry::Key("k".into())]);
    Ok(())
}
