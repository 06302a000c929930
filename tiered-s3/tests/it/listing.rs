use futures::{StreamExt, TryStreamExt};
use tiered::store::Tier;
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
