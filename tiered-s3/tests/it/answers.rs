use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use tiered::TierErrorKind;
use tiered::store::{Conditional, Fetched, SourceTier, Tier};
use tiered_s3::failure::{Failure, Op};

use super::{config, object, rig};

pub async fn a_missing_key_is_a_miss_not_an_error() -> anyhow::Result<()> {
    let (tier, _) = rig(config());
    assert!(tier.get("absent").await?.is_none());
    assert!(tier.head("absent").await?.is_none());
    assert!(tier.get_stream("absent", 1 << 20).await?.is_none());
    assert!(matches!(tier.get_if_changed("absent", "abc", 1 << 20).await?, Conditional::Changed(None)));
    assert!(!tier.delete("absent").await?, "nothing was there to delete");
    assert!(tier.set_expiry("absent", Some(5)).await?.is_none());
    Ok(())
}

/// A 404 that names the bucket is an error, never a missing object.
pub async fn a_missing_bucket_is_an_error_not_a_miss() -> anyhow::Result<()> {
    let (tier, client) = rig(config());
    let no_bucket = || {
        Failure::Error(tiered_s3::client::ClientError::status(
            404,
            "NoSuchBucket",
            "The specified bucket does not exist",
        ))
    };
    client.fail_once(Op::GetObject, no_bucket());
    let err = tier.get("k").await.expect_err("the bucket is gone");
    assert!(err.to_string().contains("NoSuchBucket"), "{err}");
    assert_eq!(err.kind(), TierErrorKind::Rejected);
    client.fail_once(Op::GetObject, no_bucket());
    assert!(tier.get_stream("k", 1 << 20).await.is_err(), "streamed too");
    Ok(())
}

pub async fn a_stored_object_comes_back_with_its_metadata_under_the_prefix() -> anyhow::Result<()> {
    let (tier, bucket) = rig(config());
    let stored = tier.put(object("docs/a", "first version")).await?;
    assert!(stored.etag.as_deref().is_some_and(|e| !e.contains('"')), "the ETag is unquoted: {:?}", stored.etag);
    assert_eq!(bucket.inner().keys(), ["store/docs/a"], "the tier's prefix is applied");
    let got = tier.get("docs/a").await?.expect("stored");
    assert!(got.verify());
    assert_eq!((&got.data[..], got.meta.etag.clone()), (&b"first version"[..], stored.etag.clone()));
    assert_eq!(got.meta.metadata.get("owner").map(String::as_str), Some("tests"));
    let head = tier.head("docs/a").await?.expect("stored");
    assert_eq!((head.size, head.content_type.as_deref()), (13, Some("text/plain")));
    Ok(())
}

pub async fn an_unchanged_etag_is_not_modified_and_a_changed_one_returns_the_object() -> anyhow::Result<()> {
    let (tier, bucket) = rig(config());
    let stored = tier.put(object("k", "v1")).await?;
    let etag = stored.etag.clone().expect("an ETag");
    assert!(matches!(tier.get_if_changed("k", &etag, 1 << 20).await?, Conditional::NotModified));
    assert_eq!(bucket.inner().bytes_read(), 0, "a 304 sends no body");
    tier.put(object("k", "v2")).await?;
    match tier.get_if_changed("k", &etag, 1 << 20).await? {
        Conditional::Changed(Some(Fetched::Whole(o))) => assert_eq!(&o.data[..], b"v2"),
        other => panic!("a new version, whole: {other:?}"),
    }
    // Above the reader's buffer, the new version is streamed from the same
    // single conditional request.
    let before = bucket.inner().requests("get_object");
    match tier.get_if_changed("k", &etag, 1).await? {
        Conditional::Changed(Some(Fetched::Stream(stream))) => {
            let chunks: Vec<_> = stream.chunks.try_collect().await?;
            assert_eq!(chunks.concat(), b"v2");
        }
        other => panic!("a new version, streamed: {other:?}"),
    }
    assert_eq!(bucket.inner().requests("get_object") - before, 1, "one request");
    Ok(())
}

pub async fn a_304_to_an_unconditional_get_is_an_error_not_a_panic() -> anyhow::Result<()> {
    let (tier, client) = rig(config());
    tier.put(object("k", "v")).await?;
    let not_modified = tiered_s3::ClientError::status(304, "NotModified", "Not Modified");
    client.fail_once(Op::GetObject, Failure::Error(not_modified));
    let err = tier.get("k").await.expect_err("a broken server's answer");
    assert!(err.to_string().contains("GetObject") && err.to_string().contains("HTTP 304"), "{err}");
    Ok(())
}

pub async fn an_object_written_by_another_tool_is_served_as_it_is() -> anyhow::Result<()> {
    let (tier, bucket) = rig(config());
    bucket.inner().put_foreign("store/exports/users.csv", "id,name\n1,alice\n", Some("text/csv"));
    let got = tier.get("exports/users.csv").await?.expect("present");
    assert!(got.verify(), "its checksum is computed from the bytes read");
    assert_eq!((got.meta.size, got.meta.content_type.as_deref()), (16, Some("text/csv")));
    let listed: Vec<String> = tier.list("exports/").try_collect().await?;
    assert_eq!(listed, ["exports/users.csv"]);
    Ok(())
}

pub async fn a_body_ending_short_of_its_length_is_an_error_never_a_shorter_object() -> anyhow::Result<()> {
    let (tier, client) = rig(config());
    client.inner().put_foreign("store/foreign", vec![7u8; 100_000], None);
    // Every attempt (3, the default `max_attempts`) ends short.
    client.fail(Op::GetObject, 0, 3, Failure::BodyEndsShort(40_000));
    let err = tier.get("foreign").await.expect_err("40 000 of 100 000 bytes, three times");
    assert_eq!(err.kind(), TierErrorKind::Unavailable, "{err}");
    assert!(err.to_string().contains("40000 of 100000"), "{err}");
    assert_eq!(client.inner().requests("get_object"), 3);
    assert_eq!(tier.get("foreign").await?.map(|o| o.data.len()), Some(100_000), "the next read is whole");
    Ok(())
}

pub async fn a_body_that_breaks_off_is_asked_for_again_whole_or_from_where_it_broke() -> anyhow::Result<()> {
    let (tier, client) = rig(config());
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    tier.put(object("big", data.clone())).await?;
    let mock = client.inner();

    // Read whole: the whole object again.
    client.fail_once(Op::GetObject, Failure::BodyBreaks(70_000));
    assert_eq!(tier.get("big").await?.map(|o| o.data.to_vec()), Some(data.clone()), "the second answer is whole");
    assert_eq!(mock.requests("get_object"), 2);

    // Streamed: the rest, from byte 70 000, once in the middle and once
    // again in the rest.
    client.fail_once(Op::GetObject, Failure::BodyBreaks(70_000));
    client.fail_once(Op::GetObject, Failure::BodyEndsShort(100_000));
    let Some(Fetched::Stream(stream)) = tier.get_stream("big", 1_000).await? else { panic!("streamed above 1000 B") };
    let got: Vec<Bytes> = stream.chunks.try_collect().await?;
    assert_eq!(got.concat(), data, "70 000 + 100 000 + 130 000 bytes, verified");
    assert_eq!((mock.requests("get_object"), mock.requests("get_object_range")), (5, 2));

    // A range: the rest of the range.
    client.fail_once(Op::GetObject, Failure::BodyBreaks(50_000));
    let range = tiered::range::ByteRange::FromTo { first: 1_000, last: 200_999 };
    let read = tier.get_range("big", range).await?.expect("stored");
    let got: Vec<Bytes> = read.chunks.try_collect().await?;
    assert_eq!(got.concat(), data[1_000..201_000], "50 000 + 150 000 bytes");
    assert_eq!((mock.requests("get_object"), mock.requests("get_object_range")), (7, 4));

    // One break too many (`max_attempts` 3): an error, not a shorter object.
    client.fail(Op::GetObject, 0, 3, Failure::BodyBreaks(70_000));
    let Some(Fetched::Stream(stream)) = tier.get_stream("big", 1_000).await? else { panic!("streamed above 1000 B") };
    let err = stream.chunks.try_collect::<Vec<_>>().await.expect_err("the stream ends in an error");
    assert_eq!(err.kind(), TierErrorKind::Unavailable, "{err}");
    assert!(err.to_string().contains("connection reset") && err.to_string().contains("after 3 requests"), "{err}");
    client.fail(Op::GetObject, 0, 3, Failure::BodyBreaks(70_000));
    let err = tier.get("big").await.expect_err("three breaks");
    assert!(err.to_string().contains("connection reset"), "{err}");
    Ok(())
}

pub async fn a_stream_is_never_spliced_from_two_versions() -> anyhow::Result<()> {
    let (tier, client) = rig(config());
    // Written by another tool, so no checksum holds a chunk back: the first
    // chunk is passed on before the body breaks.
    client.inner().put_foreign("store/big", vec![3u8; 300_000], None);
    client.fail_once(Op::GetObject, Failure::BodyBreaks(64 << 10));
    let Some(Fetched::Stream(stream)) = tier.get_stream("big", 1_000).await? else { panic!("streamed above 1000 B") };
    let mut chunks = stream.chunks;
    assert_eq!(chunks.next().await.transpose()?.map(|c| c.len()), Some(64 << 10));
    // A writer replaces the object before the rest is asked for.
    client.inner().put_foreign("store/big", vec![4u8; 300_000], None);
    let err = chunks.next().await.expect("an answer").expect_err("the rest is another version");
    assert_eq!(err.kind(), TierErrorKind::Unavailable, "{err}");
    assert!(err.to_string().contains("the object changed"), "{err}");
    assert!(chunks.next().await.is_none(), "and nothing after");
    Ok(())
}

pub async fn an_object_over_the_size_limit_is_refused_before_its_body_is_read() -> anyhow::Result<()> {
    let (tier, bucket) = rig(tiered_s3::S3Config { max_object_bytes: 1_000, ..config() });
    bucket.inner().put_foreign("store/huge", vec![0u8; 5_000], None);
    let err = tier.get("huge").await.expect_err("too large to read whole");
    assert_eq!(err.kind(), TierErrorKind::Rejected, "{err}");
    assert!(err.to_string().contains("5000 bytes") && err.to_string().contains("1000"), "{err}");
    assert_eq!(bucket.inner().bytes_read(), 0, "refused from its Content-Length");
    Ok(())
}

pub async fn an_expiry_rewrite_never_overwrites_a_concurrent_writers_version() -> anyhow::Result<()> {
    let (tier, client) = rig(config());
    tier.put(object("k", "mine")).await?;
    let meta = tier.set_expiry("k", Some(99_000)).await?.expect("present");
    assert_eq!(meta.expires_ms, Some(99_000));
    assert_eq!(tier.head("k").await?.and_then(|m| m.expires_ms), Some(99_000));

    // Another writer's version lands between the HEAD and the copy.
    let conflict =
        tiered_s3::ClientError::status(412, "PreconditionFailed", "At least one of the pre-conditions failed.");
    client.fail_once(Op::ReplaceMetadata, Failure::Error(conflict));
    let err = tier.set_expiry("k", Some(5)).await.expect_err("the precondition failed");
    assert_eq!(err.kind(), TierErrorKind::Rejected, "{err}");
    assert!(err.to_string().contains("PreconditionFailed"), "{err}");
    Ok(())
}

pub async fn bytes_that_do_not_match_their_checksum_are_corrupt_whole_or_streamed() -> anyhow::Result<()> {
    let (tier, client) = rig(config());
    tier.put(object("small", "a value of some bytes")).await?;
    tier.put(object("large", vec![9u8; 200_000])).await?;
    client.inner().damage("store/small");
    client.inner().damage("store/large");
    let err = tier.get("small").await.expect_err("damaged");
    assert_eq!(err.kind(), TierErrorKind::Corrupt, "{err}");
    let err = tier.get_stream("small", 1 << 20).await.expect_err("damaged, read whole");
    assert_eq!(err.kind(), TierErrorKind::Corrupt, "{err}");
    let Some(Fetched::Stream(stream)) = tier.get_stream("large", 1_000).await? else { panic!("streamed") };
    let err = stream.chunks.try_collect::<Vec<_>>().await.expect_err("damaged, found at the end");
    assert_eq!(err.kind(), TierErrorKind::Corrupt, "{err}");
    Ok(())
}
