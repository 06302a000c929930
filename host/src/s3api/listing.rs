//! `ListObjectsV2` and `ListObjects` (v1): keys from cold, the source of
//! truth ([`TieredStore::list_page`](tiered::TieredStore::list_page)), in
//! byte order, folded by a delimiter into common prefixes, a page at a time.
//!
//! A page is the first `max-keys` (default and most 1000) *entries* after
//! the position: an entry is a key, or a common prefix standing for every
//! key under it. The position is `start-after` or the continuation token in
//! v2, `marker` in v1; the continuation token is the page's last entry,
//! base64-encoded, so the next page starts strictly after it (a common
//! prefix is never listed twice). An S3 cold tier reads only the page from
//! the bucket's own ordered listing (one LIST request); a
//! local cold tier reads every key under the prefix and keeps the page.
//!
//! Each listed object's size, ETag and date come from
//! [`TieredStore::head`](tiered::TieredStore::head) (hot or warm when they
//! hold it, else one HEAD of cold), [`HEADS_IN_FLIGHT`] at a time: the
//! bucket's listing cannot say which objects are stored compressed (whose
//! stored size is not the size a GET returns) or expired (which a GET does
//! not return). A key deleted or expired between the listing and its HEAD
//! is left out.
//!
//! `encoding-type=url` (the AWS CLI and rclone ask for it) percent-encodes
//! keys, prefixes and the delimiter in the answer.

use base64::Engine as _;
use futures::{StreamExt, TryStreamExt};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use s3s::dto::{
    CommonPrefix, EncodingType, ListObjectsInput, ListObjectsOutput, ListObjectsV2Input, ListObjectsV2Output, Object,
};
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::{TieredS3, error, objects};
use tiered::store::listing::{Entry, PageRequest};

/// Entries per page when `max-keys` is absent, and the most a page holds.
pub const MAX_KEYS: usize = 1000;
/// HEADs of listed objects in flight at once: a page of 1000 uncached
/// objects is 16 rounds of HEADs.
pub const HEADS_IN_FLIGHT: usize = 64;

/// Left as they are by `encoding-type=url`: S3's unreserved characters and `/`.
const URL_SAFE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

/// One page of a listing, before it is shaped as v1 or v2.
#[derive(Debug, Default)]
struct Page {
    objects: Vec<Object>,
    prefixes: Vec<String>,
    /// The last entry, when more follow.
    next: Option<String>,
}

/// `ListObjectsV2`.
pub async fn list_v2(api: &TieredS3, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
    let input = req.input;
    api.bucket.check(&input.bucket)?;
    let after = match (&input.continuation_token, &input.start_after) {
        (Some(token), _) => Some(decode_token(token)?),
        (None, after) => after.clone().filter(|a| !a.is_empty()),
    };
    let max_keys = max_keys(input.max_keys)?;
    let prefix = input.prefix.clone().unwrap_or_default();
    let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());
    let page = page(api, &prefix, delimiter.as_deref(), after.as_deref(), max_keys).await?;
    let url = is_url(input.encoding_type.as_ref());
    let count = page.objects.len() + page.prefixes.len();
    let output = ListObjectsV2Output {
        name: Some(api.bucket.name.clone()),
        prefix: Some(encoded(url, &prefix)),
        delimiter: delimiter.map(|d| encoded(url, &d)),
        max_keys: Some(max_keys as i32),
        key_count: Some(count as i32),
        continuation_token: input.continuation_token,
        start_after: input.start_after.map(|a| encoded(url, &a)),
        is_truncated: Some(page.next.is_some()),
        next_continuation_token: page.next.as_deref().map(encode_token),
        encoding_type: input.encoding_type,
        contents: Some(encode_objects(url, page.objects)),
        common_prefixes: Some(common_prefixes(url, page.prefixes)),
        ..Default::default()
    };
    Ok(S3Response::new(output))
}

/// `ListObjects` (v1): `marker` for the position; `NextMarker` is sent when
/// a delimiter is given, as S3 does (without one, clients continue from the
/// last key).
pub async fn list_v1(api: &TieredS3, req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
    let input = req.input;
    api.bucket.check(&input.bucket)?;
    let max_keys = max_keys(input.max_keys)?;
    let prefix = input.prefix.clone().unwrap_or_default();
    let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());
    let marker = input.marker.clone().filter(|m| !m.is_empty());
    let page = page(api, &prefix, delimiter.as_deref(), marker.as_deref(), max_keys).await?;
    let url = is_url(input.encoding_type.as_ref());
    let output = ListObjectsOutput {
        name: Some(api.bucket.name.clone()),
        prefix: Some(encoded(url, &prefix)),
        marker: Some(input.marker.map(|m| encoded(url, &m)).unwrap_or_default()),
        next_marker: page.next.as_deref().filter(|_| delimiter.is_some()).map(|n| encoded(url, n)),
        delimiter: delimiter.map(|d| encoded(url, &d)),
        max_keys: Some(max_keys as i32),
        is_truncated: Some(page.next.is_some()),
        encoding_type: input.encoding_type,
        contents: Some(encode_objects(url, page.objects)),
        common_prefixes: Some(common_prefixes(url, page.prefixes)),
        ..Default::default()
    };
    Ok(S3Response::new(output))
}

/// The first `max_keys` entries under `prefix` strictly after `after`.
async fn page(
    api: &TieredS3,
    prefix: &str,
    delimiter: Option<&str>,
    after: Option<&str>,
    max_keys: usize,
) -> S3Result<Page> {
    let request = PageRequest {
        prefix: prefix.to_string(),
        delimiter: delimiter.map(str::to_string),
        after: after.map(str::to_string),
        max: max_keys,
    };
    let listed = api.state.store.list_page(&request).await.map_err(|e| error::from_store(prefix, e))?;
    let next = listed.next().map(str::to_string);
    let (mut keys, mut prefixes) = (Vec::new(), Vec::new());
    for entry in listed.entries {
        match entry {
            Entry::Key(key) => keys.push(key),
            Entry::Prefix(prefix) => prefixes.push(prefix),
        }
    }
    let store = &api.state.store;
    let objects: Vec<Option<Object>> = futures::stream::iter(keys.into_iter().map(|key| async move {
        match store.head(&key).await {
            Ok(Some((meta, _))) => Ok(Some(Object {
                key: Some(key),
                size: Some(meta.original_size as i64),
                e_tag: Some(s3s::dto::ETag::Strong(meta.client_etag())),
                last_modified: Some(objects::last_modified(&meta)),
                storage_class: Some(String::from("STANDARD").into()),
                ..Default::default()
            })),
            Ok(None) => Ok(None),
            Err(err) => Err(error::from_store(&key, err)),
        }
    }))
    .buffered(HEADS_IN_FLIGHT)
    .try_collect()
    .await?;
    Ok(Page { objects: objects.into_iter().flatten().collect(), prefixes, next })
}

fn max_keys(asked: Option<i32>) -> S3Result<usize> {
    match asked {
        None => Ok(MAX_KEYS),
        Some(n) if n < 0 => Err(S3Error::with_message(S3ErrorCode::InvalidArgument, "max-keys must not be negative.")),
        Some(n) => Ok((n as usize).min(MAX_KEYS)),
    }
}

fn is_url(encoding: Option<&EncodingType>) -> bool {
    encoding.is_some_and(|e| e.as_str().eq_ignore_ascii_case("url"))
}

fn encoded(url: bool, text: &str) -> String {
    if url { utf8_percent_encode(text, URL_SAFE).to_string() } else { text.to_string() }
}

fn encode_objects(url: bool, objects: Vec<Object>) -> Vec<Object> {
    objects.into_iter().map(|o| Object { key: o.key.as_deref().map(|k| encoded(url, k)), ..o }).collect()
}

fn common_prefixes(url: bool, prefixes: Vec<String>) -> Vec<CommonPrefix> {
    prefixes.into_iter().map(|p| CommonPrefix { prefix: Some(encoded(url, &p)) }).collect()
}

fn encode_token(last: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last)
}

fn decode_token(token: &str) -> S3Result<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            S3Error::with_message(S3ErrorCode::InvalidArgument, "The continuation token provided is incorrect.")
        })
}
