use tiered::TierErrorKind;
use tiered::store::Tier;
use tiered_s3::failure::{Failure, Op};

use super::{config, object, rig};

pub async fn throttling_and_timeouts_are_unavailable_and_name_s3s_code() -> anyhow::Result<()> {
    let (tier, client) = rig(config());
    client.fail_once(Op::PutObject, Failure::slow_down());
    let err = tier.put(object("k", "v")).await.expect_err("503 SlowDown");
    assert_eq!(err.kind(), TierErrorKind::Unavailable, "{err}");
    let text = err.to_string();
    assert!(text.contains("PutObject") && text.contains("SlowDown") && text.contains("HTTP 503"), "{text}");

    client.fail_once(Op::HeadObject, Failure::timeout());
    let err = tier.head("k").await.expect_err("no answer");
    assert_eq!(err.kind(), TierErrorKind::Unavailable, "{err}");
    assert!(err.to_string().contains("Timeout"), "{err}");

    assert!(tier.get("k").await?.is_none(), "the failed put stored nothing");
    tier.put(object("k", "v")).await?;
    assert!(tier.get("k").await?.is_some(), "and the tier works once S3 does");
    Ok(())
}

pub async fn refusals_are_rejected_not_retried_as_outages() -> anyhow::Result<()> {
    let (tier, client) = rig(config());
    client.fail_once(Op::GetObject, Failure::access_denied());
    let err = tier.get("k").await.expect_err("403");
    assert_eq!(err.kind(), TierErrorKind::Rejected, "{err}");
    assert!(err.to_string().contains("AccessDenied"), "{err}");

    client.fail_once(Op::HeadBucket, Failure::access_denied());
    let err = tier.check().await.expect_err("the bucket check fails");
    assert!(err.to_string().contains("HeadBucket \"mock\""), "the bucket is named: {err}");
    Ok(())
}

pub async fn a_failed_delete_reports_and_a_failed_head_before_it_deletes_nothing() -> anyhow::Result<()> {
    let (tier, client) = rig(config());
    tier.put(object("k", "v")).await?;
    client.fail_once(Op::DeleteObject, Failure::slow_down());
    assert!(tier.delete("k").await.is_err());
    assert!(tier.get("k").await?.is_some(), "still there");
    client.fail_once(Op::HeadObject, Failure::slow_down());
    assert!(tier.delete("k").await.is_err());
    assert_eq!(client.inner().requests("delete_object"), 0, "neither DeleteObject reached the bucket");
    assert!(tier.delete("k").await?, "deleted once S3 answers");
    Ok(())
}
