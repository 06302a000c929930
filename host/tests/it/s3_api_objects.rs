//! The S3 endpoint's object operations through `aws-sdk-s3` against the real
//! `tiered serve`: put/get/head/delete with metadata and content type, the
//! same objects through `/v1`, keys with `/`, spaces and unicode, ranges and
//! `416`, conditional reads, unknown keys and buckets, a large object
//! streamed both ways, `DeleteObjects`.

use crate::support::large;
use crate::support::s3_api::{self, Auth, BUCKET, Endpoint, SECRET_KEY};
use crate::support::server;
use anyhow::Result;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use axum::http::{Method, StatusCode};
use bytes::Bytes;
use sha2::{Digest, Sha256};

const CONFIG: &str = "max_body_bytes = \"1MiB\"\nstream_above_bytes = \"1MiB\"\nmax_object_bytes = \"256MiB\"\n";

/// The HTTP status and S3 error code of a failed SDK call.
pub fn failure<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> (u16, String) {
    let status = err.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
    (status, err.code().unwrap_or_default().to_string())
}

/// `key` percent-encoded, every byte but the unreserved ones (and `/`
/// when `keep_slash`).
pub fn percent_encoded(key: &str, keep_slash: bool) -> String {
    key.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b'/' if keep_slash => "/".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `/v1` path of `key`, percent-encoded.
fn v1_path(key: &str) -> String {
    format!("/v1/objects/{}", percent_encoded(key, false))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_round_trip_with_metadata_through_both_apis() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let api = Endpoint::start(&dir.path().join("data"), CONFIG, Auth::Keys).await?;
    let s3 = &api.s3;
    for key in ["plain", "dir/sub/file.txt", "with space/and+plus", "unicodé/日本語/ключ.bin", "a//double"] {
        let body = format!("value of {key}");
        let put = s3
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(ByteStream::from(body.clone().into_bytes()))
            .content_type("text/plain; charset=utf-8")
            .metadata("owner", "alice")
            .metadata("team", "storage")
            .send()
            .await?;
        let etag = put.e_tag().expect("an etag").to_string();

        let got = s3.get_object().bucket(BUCKET).key(key).send().await?;
        assert_eq!(got.e_tag(), Some(etag.as_str()), "{key}");
        assert_eq!(got.content_type(), Some("text/plain; charset=utf-8"), "{key}");
        assert_eq!(got.metadata().and_then(|m| m.get("owner")).map(String::as_str), Some("alice"), "{key}");
        assert_eq!(got.accept_ranges(), Some("bytes"));
        assert!(got.last_modified().is_some());
        assert_eq!(got.body.collect().await?.into_bytes(), Bytes::from(body.clone()), "{key}");

        let head = s3.head_object().bucket(BUCKET).key(key).send().await?;
        assert_eq!(head.content_length(), Some(body.len() as i64), "{key}");
        assert_eq!(head.metadata().and_then(|m| m.get("team")).map(String::as_str), Some("storage"));

        // The same object through /v1: bytes, content type, custom metadata.
        let v1 = api.server.http.get(&v1_path(key)).await?;
        assert_eq!(v1.status, StatusCode::OK, "{key}: {v1:?}");
        assert_eq!(v1.body, Bytes::from(body.clone()));
        assert_eq!(v1.header("content-type"), Some("text/plain; charset=utf-8"));
        assert_eq!(v1.header("x-tiered-meta-owner"), Some("alice"));
        assert_eq!(v1.header("etag"), Some(etag.as_str()), "one ETag for both APIs");

        s3.delete_object().bucket(BUCKET).key(key).send().await?;
        let gone = s3.get_object().bucket(BUCKET).key(key).send().await.expect_err("deleted");
        assert_eq!(failure(&gone), (404, "NoSuchKey".to_string()), "{key}");
        assert_eq!(api.server.http.get(&v1_path(key)).await?.status, StatusCode::NOT_FOUND);
    }

    // Written through /v1, read through S3.
    let path = v1_path("from v1/ü");
    let put = api
        .server
        .http
        .send(
            Method::PUT,
            &path,
            &[("content-type", "application/json"), ("x-tiered-meta-owner", "bob")],
            Bytes::from_static(b"{\"a\":1}"),
        )
        .await?;
    assert_eq!(put.status, StatusCode::CREATED, "{put:?}");
    let got = s3.get_object().bucket(BUCKET).key("from v1/ü").send().await?;
    assert_eq!(got.content_type(), Some("application/json"));
    assert_eq!(got.metadata().and_then(|m| m.get("owner")).map(String::as_str), Some("bob"));
    assert_eq!(got.e_tag(), put.header("etag"));
    assert_eq!(&got.body.collect().await?.into_bytes()[..], b"{\"a\":1}");
    // Deleting an absent key succeeds, as on S3.
    s3.delete_object().bucket(BUCKET).key("never-written").send().await?;
    api.server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_conditions_and_unknown_names() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let api = Endpoint::start(&dir.path().join("data"), CONFIG, Auth::Keys).await?;
    let s3 = &api.s3;
    let value = large::bytes(100_000, 7);
    let put = s3.put_object().bucket(BUCKET).key("r/obj").body(ByteStream::from(value.clone())).send().await?;
    let etag = put.e_tag().expect("etag").to_string();

    for (range, expected) in [("bytes=0-9", 0..10), ("bytes=99990-", 99_990..100_000), ("bytes=-5", 99_995..100_000)] {
        let got = s3.get_object().bucket(BUCKET).key("r/obj").range(range).send().await?;
        let content_range = format!("bytes {}-{}/100000", expected.start, expected.end - 1);
        assert_eq!(got.content_range(), Some(content_range.as_str()), "{range}");
        assert_eq!(got.content_length(), Some((expected.end - expected.start) as i64));
        assert_eq!(got.body.collect().await?.into_bytes(), value.slice(expected), "{range}");
    }
    let past = s3.get_object().bucket(BUCKET).key("r/obj").range("bytes=100000-").send().await.expect_err("416");
    assert_eq!(failure(&past), (416, "InvalidRange".to_string()));

    // Conditional reads.
    let not_modified = s3.get_object().bucket(BUCKET).key("r/obj").if_none_match(&etag).send().await.expect_err("304");
    assert_eq!(failure(&not_modified).0, 304);
    let head_304 = s3.head_object().bucket(BUCKET).key("r/obj").if_none_match(&etag).send().await.expect_err("304");
    assert_eq!(failure(&head_304).0, 304);
    let changed = s3.get_object().bucket(BUCKET).key("r/obj").if_none_match("\"other\"").send().await?;
    assert_eq!(changed.content_length(), Some(100_000));
    let matched = s3.get_object().bucket(BUCKET).key("r/obj").if_match(&etag).send().await?;
    assert_eq!(matched.e_tag(), Some(etag.as_str()));
    let mismatch = s3.get_object().bucket(BUCKET).key("r/obj").if_match("\"other\"").send().await.expect_err("412");
    assert_eq!(failure(&mismatch), (412, "PreconditionFailed".to_string()));
    let future = aws_sdk_s3::primitives::DateTime::from_secs(4_000_000_000);
    let past_date = aws_sdk_s3::primitives::DateTime::from_secs(1_000_000_000);
    let unchanged =
        s3.get_object().bucket(BUCKET).key("r/obj").if_modified_since(future).send().await.expect_err("304");
    assert_eq!(failure(&unchanged).0, 304);
    let modified = s3.get_object().bucket(BUCKET).key("r/obj").if_modified_since(past_date).send().await?;
    assert_eq!(modified.content_length(), Some(100_000));
    let ranged_304 = s3
        .get_object()
        .bucket(BUCKET)
        .key("r/obj")
        .range("bytes=0-1")
        .if_none_match(&etag)
        .send()
        .await
        .expect_err("304");
    assert_eq!(failure(&ranged_304).0, 304);

    // Unknown keys and buckets.
    let missing = s3.get_object().bucket(BUCKET).key("r/absent").send().await.expect_err("404");
    assert_eq!(failure(&missing), (404, "NoSuchKey".to_string()));
    let missing_head = s3.head_object().bucket(BUCKET).key("r/absent").send().await.expect_err("404");
    assert_eq!(failure(&missing_head).0, 404);
    let bucket = s3.get_object().bucket("other-bucket").key("r/obj").send().await.expect_err("no bucket");
    assert_eq!(failure(&bucket), (404, "NoSuchBucket".to_string()));
    let bucket_put = s3.put_object().bucket("other-bucket").key("k").body(ByteStream::from_static(b"x")).send().await;
    assert_eq!(failure(&bucket_put.expect_err("no bucket")), (404, "NoSuchBucket".to_string()));
    let list = s3.list_objects_v2().bucket("other-bucket").send().await.expect_err("no bucket");
    assert_eq!(failure(&list), (404, "NoSuchBucket".to_string()));
    s3.head_bucket().bucket(BUCKET).send().await?;
    let buckets = s3.list_buckets().send().await?;
    assert_eq!(buckets.buckets().iter().filter_map(|b| b.name()).collect::<Vec<_>>(), vec![BUCKET]);
    let too_long = s3.get_object().bucket(BUCKET).key("k".repeat(1025)).send().await.expect_err("too long");
    assert_eq!(failure(&too_long).0, 400, "{too_long:?}");
    api.server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_object_streams_both_ways_and_delete_objects_reports_each_key() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let api = Endpoint::start(&dir.path().join("data"), CONFIG, Auth::Keys).await?;
    let s3 = &api.s3;
    let big = large::bytes(48 << 20, 3);
    s3.put_object().bucket(BUCKET).key("big/one").body(ByteStream::from(big.clone())).send().await?;
    let got = s3.get_object().bucket(BUCKET).key("big/one").send().await?;
    assert_eq!(got.content_length(), Some(big.len() as i64));
    let bytes = got.body.collect().await?.into_bytes();
    assert_eq!(Sha256::digest(&bytes), Sha256::digest(&big), "the bytes back");
    let tail = s3.get_object().bucket(BUCKET).key("big/one").range("bytes=-1000").send().await?;
    assert_eq!(tail.body.collect().await?.into_bytes(), big.slice(big.len() - 1000..));
    let v1 = api.server.http.get("/v1/objects/big%2Fone").await?;
    assert_eq!(v1.body.len(), big.len());

    for key in ["d/1", "d/2", "d/3"] {
        s3.put_object().bucket(BUCKET).key(key).body(ByteStream::from_static(b"x")).send().await?;
    }
    let ids: Vec<ObjectIdentifier> = ["d/1", "d/2", "d/absent"]
        .iter()
        .map(|k| ObjectIdentifier::builder().key(*k).build())
        .collect::<Result<_, _>>()?;
    let deleted =
        s3.delete_objects().bucket(BUCKET).delete(Delete::builder().set_objects(Some(ids)).build()?).send().await?;
    let mut keys: Vec<&str> = deleted.deleted().iter().filter_map(|d| d.key()).collect();
    keys.sort_unstable();
    assert_eq!(keys, vec!["d/1", "d/2", "d/absent"]);
    assert!(deleted.errors().is_empty());
    let left = s3.list_objects_v2().bucket(BUCKET).prefix("d/").send().await?;
    assert_eq!(left.contents().iter().filter_map(|o| o.key()).collect::<Vec<_>>(), vec!["d/3"]);
    api.server.stop().await?;
    Ok(())
}

/// 23 × "é" (46 bytes) as one RFC 2047 encoded word, as S3 clients send it
/// and as s3s writes it back.
const ACCENTS: &str = "=?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqQ==?=";

/// A read: method, target, headers, the status it gets.
type Case<'a> = (Method, &'a str, Vec<(&'a str, &'a str)>, u16);

/// A plain read without a body is answered by the endpoint's direct path;
/// the same read with a one-byte body goes through s3s. Both answer alike:
/// same status, headers (but `date`) and body, for whole reads, ranges,
/// conditional reads, `HeadObject`, unknown keys, virtual-host addressing
/// and metadata that is not ASCII.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_answer_alike_with_or_without_a_body() -> Result<()> {
    reads_answer_alike(Auth::Open).await
}

/// The same reads signed as the AWS SDKs sign them, on an endpoint with
/// keys: the direct path checks the signature itself. A wrong signature
/// and an unsigned read are refused alike both ways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_reads_answer_alike_with_or_without_a_body() -> Result<()> {
    reads_answer_alike(Auth::Keys).await
}

async fn reads_answer_alike(auth: Auth) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let api = Endpoint::start(&dir.path().join("data"), CONFIG, auth).await?;
    let host = api.addr.to_string();
    // `headers` with the signature headers when the endpoint has keys.
    let sign =
        |method: &Method, target: &str, headers: &[(&str, &str)], secret: &str| -> Result<Vec<(String, String)>> {
            match auth {
                Auth::Open => Ok(headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()),
                Auth::Keys => s3_api::signed(method.as_str(), &host, target, headers, secret),
            }
        };
    let path = format!("/{BUCKET}/alike/a%20b");
    let headers = [
        ("content-type", "text/plain"),
        ("x-amz-meta-owner", "alice"),
        // Zürich, as S3 clients send a value that is not ASCII.
        ("x-amz-meta-city", "=?UTF-8?B?WsO8cmljaA==?="),
        // 23 × "é", 46 bytes: one encoded word on the way back, as s3s writes it.
        ("x-amz-meta-accents", ACCENTS),
    ];
    let signed = sign(&Method::PUT, &path, &headers, SECRET_KEY)?;
    let put = api.raw.send(Method::PUT, &path, &pairs(&signed), "0123456789").await?;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    let etag = put.header("etag").unwrap_or_default().to_string();
    let streamed = format!("/{BUCKET}/alike/streamed");
    let signed = sign(&Method::PUT, &streamed, &[], SECRET_KEY)?;
    let put = api.raw.send(Method::PUT, &streamed, &pairs(&signed), vec![7u8; 3 << 20]).await?;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);

    let missing = format!("/{BUCKET}/alike/missing");
    let with_id = format!("{path}?x-id=GetObject");
    let hosted = "/alike/a%20b".to_string();
    let virtual_host = format!("{BUCKET}.localhost");
    let cases: Vec<Case<'_>> = vec![
        (Method::GET, &path, vec![], 200),
        (Method::HEAD, &path, vec![], 200),
        (Method::GET, &with_id, vec![], 200),
        (Method::GET, &path, vec![("x-amz-checksum-mode", "ENABLED")], 200),
        (Method::GET, &hosted, vec![("host", virtual_host.as_str())], 200),
        (Method::GET, &streamed, vec![], 200),
        (Method::GET, &streamed, vec![("range", "bytes=1000-1999")], 206),
        (Method::GET, &path, vec![("range", "bytes=2-4")], 206),
        (Method::GET, &path, vec![("range", "bytes=-3")], 206),
        (Method::GET, &path, vec![("range", "bytes=20-30")], 416),
        (Method::GET, &path, vec![("if-none-match", etag.as_str())], 304),
        (Method::HEAD, &path, vec![("if-none-match", etag.as_str())], 304),
        (Method::GET, &path, vec![("if-modified-since", "Fri, 01 Jan 2100 00:00:00 GMT")], 304),
        (Method::GET, &path, vec![("if-match", "\"other\"")], 412),
        (Method::GET, &path, vec![("if-unmodified-since", "Mon, 01 Jan 2001 00:00:00 GMT")], 412),
        (Method::GET, &path, vec![("if-match", etag.as_str()), ("range", "bytes=0-0")], 206),
        (Method::GET, &missing, vec![], 404),
        (Method::HEAD, &missing, vec![], 404),
    ];
    let before = (s3_api::responses(&api, "direct").await?, s3_api::responses(&api, "s3s").await?);
    for (method, target, headers, status) in &cases {
        let signed = sign(method, target, headers, SECRET_KEY)?;
        let (without, with) = api.raw.with_and_without_body(method, target, &pairs(&signed)).await?;
        server::assert_alike(&without, &with, &format!("{method} {target} {headers:?}"))?;
        assert_eq!(without.status.as_u16(), *status, "{method} {target} {headers:?}: {:?}", without.body);
    }
    // Every read without a body was answered directly, every one with a
    // body by s3s.
    let after = (s3_api::responses(&api, "direct").await?, s3_api::responses(&api, "s3s").await?);
    assert_eq!((after.0 - before.0, after.1 - before.1), (cases.len() as u64, cases.len() as u64));
    let read = api.raw.send(Method::GET, &path, &pairs(&sign(&Method::GET, &path, &[], SECRET_KEY)?), "").await?;
    assert_eq!(read.header("x-amz-meta-city"), Some("=?UTF-8?B?WsO8cmljaA==?="));
    assert_eq!(read.header("x-amz-meta-owner"), Some("alice"));
    assert_eq!(read.header("x-amz-meta-accents"), Some(ACCENTS));

    if let Auth::Keys = auth {
        let forged = sign(&Method::GET, &path, &[], "not the secret")?;
        let before = s3_api::responses(&api, "s3s").await?;
        let (without, with) = api.raw.with_and_without_body(&Method::GET, &path, &pairs(&forged)).await?;
        assert_eq!(s3_api::responses(&api, "s3s").await? - before, 2, "s3s refuses a wrong signature");
        server::assert_alike(&without, &with, "a wrong signature")?;
        assert_eq!((without.status.as_u16(), s3_api::error_code(&without.body)), (403, "SignatureDoesNotMatch".into()));
        let (without, with) = api.raw.with_and_without_body(&Method::GET, &path, &[]).await?;
        server::assert_alike(&without, &with, "an unsigned read")?;
        assert_eq!((without.status.as_u16(), s3_api::error_code(&without.body)), (403, "AccessDenied".into()));
        // Signed 16 minutes ago: s3s's 15 minutes of skew are past.
        let ago = std::time::SystemTime::now() - std::time::Duration::from_secs(16 * 60);
        let stale = s3_api::signed_at("GET", &host, &path, &[], SECRET_KEY, ago)?;
        let before = s3_api::responses(&api, "s3s").await?;
        let (without, with) = api.raw.with_and_without_body(&Method::GET, &path, &pairs(&stale)).await?;
        assert_eq!(s3_api::responses(&api, "s3s").await? - before, 2, "s3s refuses a stale signature");
        server::assert_alike(&without, &with, "a stale signature")?;
        assert_eq!((without.status.as_u16(), s3_api::error_code(&without.body)), (403, "RequestTimeTooSkewed".into()));
    }
    Ok(())
}

/// Owned header pairs as the client takes them.
fn pairs(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
}
