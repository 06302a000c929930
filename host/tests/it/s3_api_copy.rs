//! Server-side copies through `aws-sdk-s3`. `CopyObject`: a copy keeps the
//! source's content type and metadata (`COPY`) or takes the request's
//! (`REPLACE`), reads the same through `/v1`, copies a large object through
//! a spool file intact, and refuses a copy onto itself without `REPLACE`, a
//! missing source, another bucket and a failed source condition.
//! `UploadPartCopy`: ranges of an object become parts that complete into
//! the same bytes; malformed and out-of-range ranges are refused.

use crate::s3_api_objects::{failure, percent_encoded};
use crate::support::large;
use crate::support::s3_api::{Auth, BUCKET, Endpoint};
use anyhow::Result;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::MetadataDirective;
use axum::http::StatusCode;
use sha2::{Digest, Sha256};

/// `x-amz-copy-source` for `key` of the bucket, percent-encoded as S3
/// wants it (the SDK sends the value as given).
fn source(key: &str) -> String {
    format!("{BUCKET}/{}", percent_encoded(key, true))
}

const CONFIG: &str = "max_body_bytes = \"1MiB\"\nstream_above_bytes = \"1MiB\"\nmax_object_bytes = \"256MiB\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_keeps_or_replaces_metadata_and_refuses_what_s3_refuses() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let api = Endpoint::start(&dir.path().join("data"), CONFIG, Auth::Keys).await?;
    let s3 = &api.s3;
    let put = s3
        .put_object()
        .bucket(BUCKET)
        .key("src/ü one")
        .body(ByteStream::from_static(b"the source"))
        .content_type("text/plain")
        .metadata("owner", "alice")
        .send()
        .await?;
    let source_etag = put.e_tag().expect("an etag").to_string();

    // COPY (the default): content type and metadata come along.
    let copied = s3.copy_object().bucket(BUCKET).key("dst/kept").copy_source(source("src/ü one")).send().await?;
    let result = copied.copy_object_result().expect("a copy result");
    assert!(result.e_tag().is_some() && result.last_modified().is_some(), "{result:?}");
    let got = s3.get_object().bucket(BUCKET).key("dst/kept").send().await?;
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(got.metadata().and_then(|m| m.get("owner")).map(String::as_str), Some("alice"));
    assert_eq!(got.e_tag(), result.e_tag());
    assert_eq!(&got.body.collect().await?.into_bytes()[..], b"the source");
    let v1 = api.server.http.get("/v1/objects/dst%2Fkept").await?;
    assert_eq!((v1.status, v1.header("x-tiered-meta-owner")), (StatusCode::OK, Some("alice")), "{v1:?}");

    // REPLACE: the request's content type and metadata, none of the source's.
    s3.copy_object()
        .bucket(BUCKET)
        .key("dst/replaced")
        .copy_source(source("src/ü one"))
        .metadata_directive(MetadataDirective::Replace)
        .content_type("application/x-new")
        .metadata("team", "storage")
        .send()
        .await?;
    let head = s3.head_object().bucket(BUCKET).key("dst/replaced").send().await?;
    assert_eq!(head.content_type(), Some("application/x-new"));
    let metadata = head.metadata().cloned().unwrap_or_default();
    assert_eq!(metadata.get("team").map(String::as_str), Some("storage"));
    assert!(!metadata.contains_key("owner"), "{metadata:?}");

    // Onto itself: refused without REPLACE, a metadata change with it.
    let err = s3
        .copy_object()
        .bucket(BUCKET)
        .key("src/ü one")
        .copy_source(source("src/ü one"))
        .send()
        .await
        .expect_err("a copy onto itself");
    assert_eq!(failure(&err), (400, "InvalidRequest".to_string()));
    s3.copy_object()
        .bucket(BUCKET)
        .key("src/ü one")
        .copy_source(source("src/ü one"))
        .metadata_directive(MetadataDirective::Replace)
        .metadata("owner", "bob")
        .send()
        .await?;
    let head = s3.head_object().bucket(BUCKET).key("src/ü one").send().await?;
    assert_eq!(head.metadata().and_then(|m| m.get("owner")).map(String::as_str), Some("bob"));

    // A missing source, another bucket, a failed source condition.
    let err = s3.copy_object().bucket(BUCKET).key("x").copy_source(source("absent")).send().await;
    assert_eq!(failure(&err.expect_err("no source")), (404, "NoSuchKey".to_string()));
    let err = s3.copy_object().bucket(BUCKET).key("x").copy_source("other-bucket/src").send().await;
    assert_eq!(failure(&err.expect_err("another bucket")), (404, "NoSuchBucket".to_string()));
    let err = s3
        .copy_object()
        .bucket(BUCKET)
        .key("x")
        .copy_source(source("dst/kept"))
        .copy_source_if_match("\"00000000000000000000000000000000\"")
        .send()
        .await;
    assert_eq!(failure(&err.expect_err("if-match fails")), (412, "PreconditionFailed".to_string()));
    let err = s3
        .copy_object()
        .bucket(BUCKET)
        .key("x")
        .copy_source(source("dst/kept"))
        .copy_source_if_none_match(result.e_tag().unwrap_or_default())
        .send()
        .await;
    assert_eq!(failure(&err.expect_err("if-none-match matches")), (412, "PreconditionFailed".to_string()));
    let missing = s3.head_object().bucket(BUCKET).key("x").send().await;
    assert!(missing.is_err(), "no refused copy was written");
    assert_ne!(source_etag, "");
    api.server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_object_copies_intact() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let api = Endpoint::start(&dir.path().join("data"), CONFIG, Auth::Keys).await?;
    let s3 = &api.s3;
    // Above `stream_above_bytes`: read as a stream, spooled, stored from the file.
    let whole = large::bytes(9 << 20, 5);
    s3.put_object().bucket(BUCKET).key("big").body(ByteStream::from(whole.clone())).send().await?;
    s3.copy_object().bucket(BUCKET).key("big copy").copy_source(source("big")).send().await?;
    let got = s3.get_object().bucket(BUCKET).key("big copy").send().await?;
    assert_eq!(got.content_length(), Some(whole.len() as i64));
    let bytes = got.body.collect().await?.into_bytes();
    assert_eq!(Sha256::digest(&bytes), Sha256::digest(&whole), "the copy's bytes are the source's");
    api.server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_copied_from_ranges_of_an_object_complete_into_it_again() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let api = Endpoint::start(&dir.path().join("data"), CONFIG, Auth::Keys).await?;
    let s3 = &api.s3;
    let whole = large::bytes((12 << 20) + 777, 9);
    s3.put_object().bucket(BUCKET).key("src/big ü").body(ByteStream::from(whole.clone())).send().await?;
    let created = s3.create_multipart_upload().bucket(BUCKET).key("assembled").send().await?;
    let id = created.upload_id().expect("an upload id").to_string();
    let cut = 5 << 20;
    let mut parts = Vec::new();
    for (number, range) in [(1, format!("bytes=0-{}", cut - 1)), (2, format!("bytes={cut}-{}", whole.len() - 1))] {
        let copied = s3
            .upload_part_copy()
            .bucket(BUCKET)
            .key("assembled")
            .upload_id(&id)
            .part_number(number)
            .copy_source(source("src/big ü"))
            .copy_source_range(range)
            .send()
            .await?;
        let etag = copied.copy_part_result().and_then(|r| r.e_tag()).expect("a part etag").to_string();
        parts.push(aws_sdk_s3::types::CompletedPart::builder().part_number(number).e_tag(etag).build());
    }
    let listed = s3.list_parts().bucket(BUCKET).key("assembled").upload_id(&id).send().await?;
    let sizes: Vec<i64> = listed.parts().iter().map(|p| p.size().unwrap_or(0)).collect();
    assert_eq!(sizes, vec![cut as i64, (whole.len() - cut) as i64]);

    // A malformed range, and one past the source's end, are refused.
    let bad = s3
        .upload_part_copy()
        .bucket(BUCKET)
        .key("assembled")
        .upload_id(&id)
        .part_number(3)
        .copy_source(source("src/big ü"))
        .copy_source_range("bytes=9-2")
        .send()
        .await;
    assert_eq!(failure(&bad.expect_err("first after last")), (400, "InvalidArgument".to_string()));
    let past = s3
        .upload_part_copy()
        .bucket(BUCKET)
        .key("assembled")
        .upload_id(&id)
        .part_number(3)
        .copy_source(source("src/big ü"))
        .copy_source_range(format!("bytes={}-{}", whole.len() + 10, whole.len() + 20))
        .send()
        .await;
    assert_eq!(failure(&past.expect_err("past the end")), (416, "InvalidRange".to_string()));

    s3.complete_multipart_upload()
        .bucket(BUCKET)
        .key("assembled")
        .upload_id(&id)
        .multipart_upload(aws_sdk_s3::types::CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
        .send()
        .await?;
    let got = s3.get_object().bucket(BUCKET).key("assembled").send().await?;
    let bytes = got.body.collect().await?.into_bytes();
    assert_eq!(Sha256::digest(&bytes), Sha256::digest(&whole), "the parts put the source back together");
    api.server.stop().await?;
    Ok(())
}
