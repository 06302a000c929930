//! Multipart uploads through `aws-sdk-s3`: parts completed into one object
//! (readable through `/v1` too, with its metadata), an upload aborted half-way
//! leaving nothing visible and nothing on disk, and the refusals: parts out
//! of order, a wrong part ETag, an unknown upload id; `ListParts` and
//! `ListMultipartUploads`, with their pages; an upload left untouched past
//! `abort_incomplete_uploads_after_secs` is removed, parts and all.

use crate::s3_api_objects::failure;
use crate::support::large;
use crate::support::s3_api::{Auth, BUCKET, Endpoint};
use anyhow::Result;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use axum::http::StatusCode;
use sha2::{Digest, Sha256};

const CONFIG: &str = "max_body_bytes = \"1MiB\"\nstream_above_bytes = \"1MiB\"\nmax_object_bytes = \"256MiB\"\n";
const PART: usize = 5 << 20;

/// Files left under `dir` (recursively).
fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    crate::support::files_under(dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_complete_into_one_object_and_an_abort_leaves_nothing() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let api = Endpoint::start(&data, CONFIG, Auth::Keys).await?;
    let s3 = &api.s3;
    let key = "uploads/big file ü.bin";
    let whole = large::bytes(3 * PART + 12_345, 11);

    let created = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .content_type("application/x-test")
        .metadata("owner", "carol")
        .send()
        .await?;
    let id = created.upload_id().expect("an upload id").to_string();
    let mut completed = Vec::new();
    for (i, chunk) in whole.chunks(PART).enumerate() {
        let number = i as i32 + 1;
        let part = s3
            .upload_part()
            .bucket(BUCKET)
            .key(key)
            .upload_id(&id)
            .part_number(number)
            .body(ByteStream::from(chunk.to_vec()))
            .send()
            .await?;
        let etag = part.e_tag().expect("a part etag").to_string();
        assert_eq!(etag.trim_matches('"').len(), 32, "a part ETag is its MD5: {etag}");
        completed.push(CompletedPart::builder().part_number(number).e_tag(etag).build());
    }
    // Nothing is visible before completion.
    let before = s3.get_object().bucket(BUCKET).key(key).send().await.expect_err("not yet");
    assert_eq!(failure(&before).1, "NoSuchKey");

    // A wrong ETag or parts out of order are refused, and the upload stays.
    let mut wrong = completed.clone();
    wrong[1] = CompletedPart::builder().part_number(2).e_tag("\"00000000000000000000000000000000\"").build();
    let err = s3
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .upload_id(&id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(wrong)).build())
        .send()
        .await
        .expect_err("wrong etag");
    assert_eq!(failure(&err), (400, "InvalidPart".to_string()));
    let mut reversed = completed.clone();
    reversed.reverse();
    let err = s3
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .upload_id(&id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(reversed)).build())
        .send()
        .await
        .expect_err("out of order");
    assert_eq!(failure(&err), (400, "InvalidPartOrder".to_string()));

    let done = s3
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .upload_id(&id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(completed)).build())
        .send()
        .await?;
    let got = s3.get_object().bucket(BUCKET).key(key).send().await?;
    assert_eq!(got.e_tag(), done.e_tag());
    assert_eq!(got.content_type(), Some("application/x-test"));
    assert_eq!(got.metadata().and_then(|m| m.get("owner")).map(String::as_str), Some("carol"));
    assert_eq!(got.content_length(), Some(whole.len() as i64));
    assert_eq!(Sha256::digest(got.body.collect().await?.into_bytes()), Sha256::digest(&whole));
    let v1 = api.server.http.get("/v1/objects/uploads%2Fbig%20file%20%C3%BC.bin").await?;
    assert_eq!((v1.status, v1.body.len()), (StatusCode::OK, whole.len()));
    assert_eq!(v1.header("x-tiered-meta-owner"), Some("carol"));
    assert!(files(&data.join("s3-uploads")).is_empty(), "a completed upload leaves no parts");
    let again = s3.abort_multipart_upload().bucket(BUCKET).key(key).upload_id(&id).send().await.expect_err("gone");
    assert_eq!(failure(&again), (404, "NoSuchUpload".to_string()));

    // Aborted half-way: two parts of three, then abort.
    let half = "uploads/aborted";
    let created = s3.create_multipart_upload().bucket(BUCKET).key(half).send().await?;
    let id = created.upload_id().expect("an upload id").to_string();
    for number in 1..=2 {
        let body = ByteStream::from(whole.slice(0..PART));
        s3.upload_part().bucket(BUCKET).key(half).upload_id(&id).part_number(number).body(body).send().await?;
    }
    assert!(!files(&data.join("s3-uploads")).is_empty(), "the parts are on disk while the upload is open");
    s3.abort_multipart_upload().bucket(BUCKET).key(half).upload_id(&id).send().await?;
    let err = s3.get_object().bucket(BUCKET).key(half).send().await.expect_err("aborted");
    assert_eq!(failure(&err).1, "NoSuchKey");
    let listed = s3.list_objects_v2().bucket(BUCKET).prefix("uploads/").send().await?;
    assert_eq!(listed.contents().iter().filter_map(|o| o.key()).collect::<Vec<_>>(), vec![key]);
    assert!(files(&data.join("s3-uploads")).is_empty(), "nothing of the aborted upload stays on disk");
    assert!(files(&data.join("spool")).is_empty(), "no spool file stays behind");
    let late = s3
        .upload_part()
        .bucket(BUCKET)
        .key(half)
        .upload_id(&id)
        .part_number(3)
        .body(ByteStream::from_static(b"late"))
        .send()
        .await
        .expect_err("aborted");
    assert_eq!(failure(&late), (404, "NoSuchUpload".to_string()));
    let bogus = s3.upload_part().bucket(BUCKET).key(half).upload_id("../../etc").part_number(1);
    let err = bogus.body(ByteStream::from_static(b"x")).send().await.expect_err("no such upload");
    assert_eq!(failure(&err), (404, "NoSuchUpload".to_string()));
    api.server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_in_progress_and_their_parts_are_listed_a_page_at_a_time() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let api = Endpoint::start(&dir.path().join("data"), CONFIG, Auth::Keys).await?;
    let s3 = &api.s3;
    let mut ids = Vec::new();
    for key in ["logs/a", "logs/b", "logs/b", "photos/2026/x.jpg", "photos/2026/y.jpg", "top"] {
        let created = s3.create_multipart_upload().bucket(BUCKET).key(key).send().await?;
        ids.push((key.to_string(), created.upload_id().expect("an upload id").to_string()));
    }
    let (key, id) = ids[0].clone();
    let mut etags = Vec::new();
    for number in [3, 1, 2] {
        let body = ByteStream::from(vec![number as u8; 1000 * number as usize]);
        let part =
            s3.upload_part().bucket(BUCKET).key(&key).upload_id(&id).part_number(number).body(body).send().await?;
        etags.push((number, part.e_tag().unwrap_or_default().to_string()));
    }

    // Parts by number, with sizes and ETags; then a page of two and the rest.
    let parts = s3.list_parts().bucket(BUCKET).key(&key).upload_id(&id).send().await?;
    let listed: Vec<(i32, i64)> =
        parts.parts().iter().map(|p| (p.part_number().unwrap_or(0), p.size().unwrap_or(0))).collect();
    assert_eq!(listed, vec![(1, 1000), (2, 2000), (3, 3000)]);
    for part in parts.parts() {
        let uploaded = &etags.iter().find(|(n, _)| Some(*n) == part.part_number()).expect("uploaded").1;
        assert_eq!(part.e_tag(), Some(uploaded.as_str()), "a listed part's ETag is the one its upload answered");
        assert!(part.last_modified().is_some());
    }
    assert_eq!(parts.is_truncated(), Some(false));
    let first = s3.list_parts().bucket(BUCKET).key(&key).upload_id(&id).max_parts(2).send().await?;
    assert_eq!(
        (first.parts().len(), first.is_truncated(), first.next_part_number_marker()),
        (2, Some(true), Some("2"))
    );
    let rest = s3.list_parts().bucket(BUCKET).key(&key).upload_id(&id).part_number_marker("2").send().await?;
    assert_eq!(rest.parts().iter().map(|p| p.part_number().unwrap_or(0)).collect::<Vec<_>>(), vec![3]);
    let err = s3.list_parts().bucket(BUCKET).key("logs/other").upload_id(&id).send().await.expect_err("not its key");
    assert_eq!(failure(&err), (404, "NoSuchUpload".to_string()));

    // Uploads by key then id; prefix, delimiter and pages.
    let all = s3.list_multipart_uploads().bucket(BUCKET).send().await?;
    let mut expected = ids.clone();
    expected.sort();
    let listed: Vec<(String, String)> = all
        .uploads()
        .iter()
        .map(|u| (u.key().unwrap_or_default().to_string(), u.upload_id().unwrap_or_default().to_string()))
        .collect();
    assert_eq!(listed, expected);
    assert!(all.uploads().iter().all(|u| u.initiated().is_some()));
    let rolled = s3.list_multipart_uploads().bucket(BUCKET).delimiter("/").send().await?;
    let prefixes: Vec<&str> = rolled.common_prefixes().iter().filter_map(|p| p.prefix()).collect();
    assert_eq!(prefixes, vec!["logs/", "photos/"]);
    assert_eq!(rolled.uploads().iter().filter_map(|u| u.key()).collect::<Vec<_>>(), vec!["top"]);
    let photos = s3.list_multipart_uploads().bucket(BUCKET).prefix("photos/").delimiter("/").send().await?;
    assert_eq!(photos.common_prefixes().iter().filter_map(|p| p.prefix()).collect::<Vec<_>>(), vec!["photos/2026/"]);
    let mut paged = Vec::new();
    let (mut key_marker, mut id_marker) = (None::<String>, None::<String>);
    loop {
        let page = s3
            .list_multipart_uploads()
            .bucket(BUCKET)
            .max_uploads(2)
            .set_key_marker(key_marker.clone())
            .set_upload_id_marker(id_marker.clone())
            .send()
            .await?;
        assert!(page.uploads().len() <= 2);
        paged.extend(
            page.uploads()
                .iter()
                .map(|u| (u.key().unwrap_or_default().to_string(), u.upload_id().unwrap_or_default().to_string())),
        );
        if page.is_truncated() != Some(true) {
            break;
        }
        key_marker = page.next_key_marker().map(str::to_string);
        id_marker = page.next_upload_id_marker().map(str::to_string);
    }
    assert_eq!(paged, expected, "the pages together list every upload once, in order");

    // An aborted upload is no longer listed.
    s3.abort_multipart_upload().bucket(BUCKET).key(&key).upload_id(&id).send().await?;
    let after = s3.list_multipart_uploads().bucket(BUCKET).prefix("logs/a").send().await?;
    assert!(after.uploads().is_empty(), "{after:?}");
    api.server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_left_untouched_is_aborted_and_its_parts_removed() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let api = Endpoint::start_with(&data, CONFIG, Auth::Keys, "abort_incomplete_uploads_after_secs = 2").await?;
    let s3 = &api.s3;
    let created = s3.create_multipart_upload().bucket(BUCKET).key("left/behind").send().await?;
    let id = created.upload_id().expect("an upload id").to_string();
    let part = ByteStream::from(vec![7u8; 1000]);
    s3.upload_part().bucket(BUCKET).key("left/behind").upload_id(&id).part_number(1).body(part).send().await?;
    let uploads = data.join("s3-uploads");
    assert!(!files(&uploads).is_empty(), "the part is on disk");

    // Swept every second; untouched for 2 s, it goes within a few seconds.
    let mut listed = usize::MAX;
    for _ in 0..300 {
        listed = s3.list_multipart_uploads().bucket(BUCKET).send().await?.uploads().len();
        if listed == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(listed, 0, "the abandoned upload is no longer listed");
    assert!(files(&uploads).is_empty(), "nothing left on disk: {:?}", files(&uploads));
    let err = s3.list_parts().bucket(BUCKET).key("left/behind").upload_id(&id).send().await.unwrap_err();
    assert_eq!(failure(&err), (StatusCode::NOT_FOUND.as_u16(), "NoSuchUpload".to_string()), "{err:?}");
    api.server.stop().await?;
    Ok(())
}
