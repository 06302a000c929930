use std::time::Duration;

use tiered::TierErrorKind;
use tiered::store::{SpoolWriter, Tier};
use tiered_s3::S3Config;
use tiered_s3::failure::{Failure, Op};

use super::{config, object, rig};

fn no_such_upload() -> tiered_s3::ClientError {
    tiered_s3::ClientError::status(404, "NoSuchUpload", "The specified upload does not exist.")
}

/// Parts of the smallest size S3 accepts.
fn multipart_config() -> S3Config {
    S3Config { multipart_threshold: 5 << 20, ..config() }
}

fn value(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

pub async fn a_large_object_goes_up_in_parts_and_reads_back_whole() -> anyhow::Result<()> {
    let (tier, client) = rig(multipart_config());
    let data = value(12 << 20);
    let stored = tier.put(object("big", data.clone())).await?;
    let mock = client.inner();
    assert_eq!((mock.requests("upload_part"), mock.requests("put_object")), (3, 0), "5 + 5 + 2 MiB");
    assert!(stored.etag.as_deref().is_some_and(|e| e.ends_with("-3")), "a multipart ETag: {:?}", stored.etag);
    assert_eq!(mock.open_uploads(), 0);
    let got = tier.get("big").await?.expect("stored");
    assert!(got.data == data && got.verify());
    Ok(())
}

pub async fn a_failed_part_aborts_the_upload_and_stores_nothing() -> anyhow::Result<()> {
    let (tier, client) = rig(multipart_config());
    client.fail(Op::UploadPart, 1, 1, Failure::slow_down());
    let err = tier.put(object("big", value(12 << 20))).await.expect_err("part 2 fails");
    assert_eq!(err.kind(), TierErrorKind::Unavailable, "{err}");
    assert!(err.to_string().contains("UploadPart"), "{err}");
    let mock = client.inner();
    assert_eq!(mock.requests("abort_multipart_upload"), 1);
    assert_eq!(mock.open_uploads(), 0, "no parts left behind");
    assert!(tier.get("big").await?.is_none());
    Ok(())
}

pub async fn a_failed_completion_aborts_too_and_a_failed_abort_keeps_the_first_error() -> anyhow::Result<()> {
    let (tier, client) = rig(multipart_config());
    client.fail_once(Op::CompleteMultipartUpload, Failure::slow_down());
    let err = tier.put(object("big", value(11 << 20))).await.expect_err("completion fails");
    assert!(err.to_string().contains("CompleteMultipartUpload"), "{err}");
    assert_eq!(client.inner().open_uploads(), 0);

    client.fail_once(Op::UploadPart, Failure::access_denied());
    client.fail_once(Op::AbortMultipartUpload, Failure::slow_down());
    let err = tier.put(object("big", value(11 << 20))).await.expect_err("a part fails, then the abort");
    assert!(err.to_string().contains("UploadPart") && err.to_string().contains("AccessDenied"), "{err}");
    assert_eq!(err.kind(), TierErrorKind::Rejected);
    assert_eq!(client.inner().open_uploads(), 1, "left for the bucket's lifecycle rule, and logged");
    Ok(())
}

/// Polls `done` for up to a second (a task spawned on drop has to run).
async fn eventually(done: impl Fn() -> bool) -> bool {
    for _ in 0..100 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    done()
}

pub async fn an_upload_dropped_half_way_is_aborted() -> anyhow::Result<()> {
    let (tier, client) = rig(multipart_config());
    let mock = client.inner();
    // Part 2, then (second round) the completion, is never answered: the
    // caller gives up on the put (a client that hung up drops it the same
    // way) while the upload is open.
    for (op, skip, parts) in [(Op::UploadPart, 1, 1), (Op::CompleteMultipartUpload, 0, 3)] {
        let aborts = mock.requests("abort_multipart_upload");
        let parts_before = mock.requests("upload_part");
        client.fail(op, skip, 1, Failure::Hang);
        let put = tier.put(object("big", value(12 << 20)));
        let gave_up = tokio::time::timeout(Duration::from_millis(50), put).await;
        assert!(gave_up.is_err(), "the put waits on {op:?} until it is dropped");
        assert_eq!(mock.requests("upload_part") - parts_before, parts, "parts answered before {op:?}");
        assert!(eventually(|| mock.open_uploads() == 0).await, "no parts left behind ({op:?})");
        assert_eq!(mock.requests("abort_multipart_upload") - aborts, 1);
        assert!(tier.get("big").await?.is_none());
    }

    // A put that completes, or fails and aborts, leaves nothing to abort.
    tier.put(object("done", value(11 << 20))).await?;
    client.fail_once(Op::UploadPart, Failure::slow_down());
    tier.put(object("failed", value(11 << 20))).await.expect_err("a part fails");
    assert!(!eventually(|| mock.requests("abort_multipart_upload") > 3).await, "one abort, for the failed put");
    assert_eq!(mock.requests("abort_multipart_upload"), 3);
    assert_eq!(mock.open_uploads(), 0);
    Ok(())
}

pub async fn a_completion_whose_answer_was_lost_is_confirmed_from_the_object() -> anyhow::Result<()> {
    let (tier, client) = rig(multipart_config());
    // The completion goes through, its answer is lost, and the SDK's retry
    // of it finds the upload gone: the write is stored all the same.
    client.fail_once(Op::CompleteMultipartUpload, Failure::AnswerLost(no_such_upload()));
    let data = value(11 << 20);
    let stored = tier.put(object("big", data.clone())).await?;
    let mock = client.inner();
    let head = tier.head("big").await?.expect("stored");
    assert_eq!(stored.etag, head.etag, "the stored object's ETag");
    assert_eq!(mock.requests("abort_multipart_upload"), 0);
    assert_eq!(tier.get("big").await?.map(|o| o.data == data), Some(true));

    // The same answer for an upload that did not go through (aborted by a
    // lifecycle rule, say): the object is another write's, so an error.
    client.fail_once(Op::CompleteMultipartUpload, Failure::Error(no_such_upload()));
    let err = tier.put(object("big", value(10 << 20))).await.expect_err("not stored");
    assert!(err.to_string().contains("NoSuchUpload"), "{err}");
    assert_eq!(tier.get("big").await?.map(|o| o.data == data), Some(true), "the earlier write stays");
    Ok(())
}

pub async fn a_spooled_file_goes_up_one_part_at_a_time() -> anyhow::Result<()> {
    let (tier, client) = rig(multipart_config());
    let dir = tempfile::tempdir()?;
    let data = value(11 << 20);
    let mut writer = SpoolWriter::create(dir.path()).await?;
    writer.write(&data).await?;
    let spooled = writer.finish().await?;
    let meta = object("from-file", data.clone()).meta;
    tier.put_file(meta, &spooled).await?;
    assert_eq!(client.inner().requests("upload_part"), 3);
    assert_eq!(tier.get("from-file").await?.map(|o| o.data == data), Some(true));
    Ok(())
}
