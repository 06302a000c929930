//! Plain object reads answered without s3s: a `GetObject` or `HeadObject`
//! with nothing unusual about it is recognised here, read through the same
//! [`objects::find`] and [`objects::stat`] that s3s's operations call, and
//! answered with the headers s3s would write.
//!
//! s3s prepares every request the same way: it decodes the path, parses the
//! query, checks the signature, deserializes a 40-field input and serializes
//! a 50-field output through boxed futures. For a small hot `GetObject` that
//! is a fifth of the server's time (BENCHMARKS.md, "Service: 1 KiB hot GETs
//! vs nginx"). A read is taken here when:
//!
//! - it is a `GET` or `HEAD` without a body, and its query is empty (a `GET`
//!   may carry the `x-id=GetObject` the AWS SDKs add);
//! - it names an object of the served bucket, path-style or virtual-host
//!   style, resolved as s3s resolves it ([`s3s::path`], [`VirtualHosts`]);
//! - on an endpoint with access keys, its `Authorization` header is a SigV4
//!   signature [`Verifier`] finds valid (the checks s3s makes); on one
//!   without, it has no `Authorization` header (s3s refuses a signature it
//!   cannot check);
//! - its `x-amz-*` headers are among those a signed read carries
//!   (`x-amz-date`, `x-amz-content-sha256`, `x-amz-user-agent`) or the
//!   `x-amz-checksum-mode` SDKs add; an SSE-C key, a request payer, a
//!   session token... go to s3s;
//! - its `Range` and conditional headers parse, each given at most once.
//!
//! Every other request goes to s3s, which answers it or refuses it as
//! before; so does a read here that s3s would refuse before reading
//! (an unknown bucket, a malformed header). Once the store has been read,
//! the answer is given here, errors included, through
//! [`S3Error::to_http_response`], s3s's own error document: a read is
//! counted once. The black-box test
//! `s3_api_objects::reads_answer_alike_with_or_without_a_body` sends each
//! read both ways (a request with a body goes to s3s) and compares the
//! answers header by header.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Version, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use s3s::S3Error;
use s3s::dto::{ETag, ETagCondition, Range, Timestamp, TimestampFormat};
use tiered::object::ObjectMeta;
use tiered::policy::TierId;

use super::TieredS3;
use super::addressing::VirtualHosts;
use super::objects::{self, Conditions, Found, FoundBody};
use super::sigv4::Verifier;
use crate::config::s3_api::AccessKey;

/// Asked for by the SDKs on every `GetObject` (no checksum is stored to
/// send back, as through s3s).
const CHECKSUM_MODE: HeaderName = HeaderName::from_static("x-amz-checksum-mode");

/// The `x-amz-*` headers a read answered here may carry.
const READ_HEADERS: [&str; 4] = ["x-amz-date", "x-amz-content-sha256", "x-amz-user-agent", "x-amz-checksum-mode"];

/// Which reads the endpoint answers without s3s.
#[derive(Debug)]
pub struct Direct {
    bucket: String,
    hosts: VirtualHosts,
    /// With access keys configured, the check of a read's signature.
    verifier: Option<Verifier>,
}

/// A read recognised by [`Direct::recognise`].
#[derive(Debug)]
pub struct Read {
    head: bool,
    key: String,
    range: Option<Range>,
    if_match: Option<ETagCondition>,
    if_none_match: Option<ETagCondition>,
    if_modified_since: Option<Timestamp>,
    if_unmodified_since: Option<Timestamp>,
}

impl Direct {
    /// Reads of `bucket`, signed by one of `keys` when there are any.
    pub fn new(bucket: &str, hosts: VirtualHosts, keys: &[AccessKey]) -> Direct {
        let verifier = (!keys.is_empty()).then(|| Verifier::new(keys));
        Direct { bucket: bucket.to_string(), hosts, verifier }
    }

    /// The read `request` asks for, when it is one answered here; `None`
    /// sends it to s3s.
    pub fn recognise<B>(&self, request: &Request<B>) -> Option<Read> {
        let head = match *request.method() {
            Method::GET => false,
            Method::HEAD => true,
            _ => return None,
        };
        match request.uri().query() {
            None => {}
            Some("x-id=GetObject") if !head => {}
            Some(_) => return None,
        }
        // HTTP/2 names the host in the URI and may send a body without a
        // length: s3s handles both.
        if !matches!(request.version(), Version::HTTP_10 | Version::HTTP_11) {
            return None;
        }
        let headers = request.headers();
        let unusual = |name: &HeaderName| name.as_str().starts_with("x-amz-") && !READ_HEADERS.contains(&name.as_str());
        if headers.keys().any(unusual) || parsed(headers, &CHECKSUM_MODE, |v| v.to_str().ok().map(drop)).is_none() {
            return None;
        }
        let key = self.key_of(request)?;
        let read = Read {
            head,
            key,
            range: parsed(headers, &header::RANGE, |v| Range::parse(v.to_str().ok()?).ok())?,
            if_match: parsed(headers, &header::IF_MATCH, etag_condition)?,
            if_none_match: parsed(headers, &header::IF_NONE_MATCH, etag_condition)?,
            if_modified_since: parsed(headers, &header::IF_MODIFIED_SINCE, http_date)?,
            if_unmodified_since: parsed(headers, &header::IF_UNMODIFIED_SINCE, http_date)?,
        };
        let allowed = match &self.verifier {
            None => !headers.contains_key(header::AUTHORIZATION),
            Some(verifier) => verifier.verifies(request, SystemTime::now()),
        };
        allowed.then_some(read)
    }

    /// The key `request` names in the served bucket: its `Host` names the
    /// bucket (virtual-host style, never for an IP address) or its path's
    /// first segment does.
    fn key_of<B>(&self, request: &Request<B>) -> Option<String> {
        let bucket = match request.headers().get(header::HOST) {
            Some(host) => {
                let host = host.to_str().ok()?;
                let ip = host.parse::<SocketAddr>().is_ok() || host.parse::<IpAddr>().is_ok();
                if ip { None } else { self.hosts.bucket_of(host) }
            }
            // A request that names its host in the URI alone: s3s decides.
            None if request.uri().authority().is_some() => return None,
            None => None,
        };
        let path = percent_encoding::percent_decode_str(request.uri().path()).decode_utf8().ok()?;
        let resolved = s3s::path::parse_virtual_hosted_style(bucket, &path).ok()?;
        let (bucket, key) = resolved.as_object()?;
        (bucket == self.bucket).then(|| key.to_string())
    }
}

/// `Some(None)` when `name` is absent or empty, `Some(Some(v))` when it
/// parses, `None` (s3s answers) when it is given twice or does not parse.
#[allow(clippy::option_option)]
fn parsed<T>(headers: &HeaderMap, name: &HeaderName, parse: impl Fn(&HeaderValue) -> Option<T>) -> Option<Option<T>> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else { return Some(None) };
    if values.next().is_some() {
        return None;
    }
    if value.is_empty() {
        return Some(None);
    }
    parse(value).map(Some)
}

fn etag_condition(value: &HeaderValue) -> Option<ETagCondition> {
    ETagCondition::parse_http_header(value.as_bytes()).ok()
}

fn http_date(value: &HeaderValue) -> Option<Timestamp> {
    Timestamp::parse(TimestampFormat::HttpDate, value.to_str().ok()?).ok()
}

/// The answer to `read`, as s3s would give it.
pub async fn answer(api: &TieredS3, read: Read) -> Response {
    let conditions = Conditions {
        if_match: read.if_match.as_ref(),
        if_none_match: read.if_none_match.as_ref(),
        if_modified_since: read.if_modified_since.as_ref(),
        if_unmodified_since: read.if_unmodified_since.as_ref(),
    };
    let answered = if read.head {
        objects::stat(api, &read.key, &conditions).await.and_then(|(meta, source)| {
            let headers = described(&meta, source, meta.original_size, None)?;
            Ok(with_headers(StatusCode::OK, headers, Body::empty()))
        })
    } else {
        objects::find(api, &read.key, read.range, &conditions).await.and_then(found)
    };
    answered.unwrap_or_else(refused)
}

/// A `GetObject` answer: 200, or 206 for a range.
fn found(found: Found) -> Result<Response, S3Error> {
    let Found { meta, source, length, content_range, body } = found;
    let status = if content_range.is_some() { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
    let headers = described(&meta, source, length, content_range)?;
    let body = match body {
        FoundBody::Whole(data) => Body::from(data),
        FoundBody::Stream(stream) => Body::from_stream(stream),
    };
    Ok(with_headers(status, headers, body))
}

fn with_headers(status: StatusCode, headers: HeaderMap, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// The headers s3s writes for `meta`'s value, `length` bytes of it.
fn described(
    meta: &ObjectMeta,
    source: TierId,
    length: u64,
    content_range: Option<String>,
) -> Result<HeaderMap, S3Error> {
    let mut headers = HeaderMap::with_capacity(8 + meta.metadata.len());
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if let Some(range) = content_range {
        headers.insert(header::CONTENT_RANGE, HeaderValue::try_from(range).map_err(S3Error::internal_error)?);
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(objects::content_type(meta)).map_err(S3Error::internal_error)?,
    );
    let etag = ETag::Strong(meta.client_etag()).to_http_header().map_err(S3Error::internal_error)?;
    headers.insert(header::ETAG, etag);
    let modified = httpdate::fmt_http_date(objects::modified_at(meta));
    headers.insert(header::LAST_MODIFIED, HeaderValue::try_from(modified).map_err(S3Error::internal_error)?);
    for (name, value) in &meta.metadata {
        let name = HeaderName::try_from(format!("x-amz-meta-{name}")).map_err(S3Error::internal_error)?;
        let value = HeaderValue::try_from(encoded_word(value).as_ref()).map_err(S3Error::internal_error)?;
        headers.insert(name, value);
    }
    headers.insert(objects::SOURCE, HeaderValue::from_static(source.as_str()));
    Ok(headers)
}

/// A metadata value as a header carries it, as s3s writes it: as it is
/// when it is printable ASCII, else as RFC 2047 encoded words
/// (`=?UTF-8?B?...?=`): one when the value's base64 (padding aside) fits
/// in 75 characters with the delimiters, else words of at most 45 bytes,
/// split between characters.
fn encoded_word(value: &str) -> Cow<'_, str> {
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Cow::Borrowed(value);
    }
    if (value.len() * 4).div_ceil(3) + "=?UTF-8?B??=".len() <= 75 {
        let word = base64::engine::general_purpose::STANDARD.encode(value);
        return Cow::Owned(format!("=?UTF-8?B?{word}?="));
    }
    // 63 characters of base64 between `=?UTF-8?B?` and `?=`: 45 bytes.
    const MAX_BYTES: usize = 45;
    let mut words = String::with_capacity(value.len() * 2);
    let mut rest = value;
    while !rest.is_empty() {
        let mut end = rest.len().min(MAX_BYTES);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        if !words.is_empty() {
            words.push(' ');
        }
        words.push_str("=?UTF-8?B?");
        base64::engine::general_purpose::STANDARD.encode_string(&rest.as_bytes()[..end], &mut words);
        words.push_str("?=");
        rest = &rest[end..];
    }
    Cow::Owned(words)
}

/// An S3 error as s3s answers it.
fn refused(err: S3Error) -> Response {
    match err.to_http_response() {
        Ok(response) => response.map(Body::new),
        Err(err) => {
            tracing::warn!(?err, "S3 API: an error could not be written");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(keys: &[AccessKey]) -> Direct {
        Direct::new("photos", VirtualHosts::new(&["localhost".to_string()]), keys)
    }

    fn get(uri: &str, headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::builder().method(Method::GET).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn plain_reads_of_the_bucket_are_recognised() {
        let direct = direct(&[]);
        let read = direct.recognise(&get("/photos/a%20b/c%C3%A9", &[("host", "127.0.0.1:7071")])).unwrap();
        assert_eq!((read.head, read.key.as_str()), (false, "a b/cé"));
        let read = direct.recognise(&get("/x/y", &[("host", "photos.localhost:7071")])).unwrap();
        assert_eq!(read.key, "x/y", "virtual-host style");
        let read = direct.recognise(&get("/photos/k?x-id=GetObject", &[("range", "bytes=0-9")])).unwrap();
        assert!(matches!(read.range, Some(Range::Int { first: 0, last: Some(9) })));
        let read = direct.recognise(&get("/photos/k", &[("if-none-match", "\"e\""), ("range", "")])).unwrap();
        assert!(direct.recognise(&get("/photos/k", &[("x-amz-checksum-mode", "ENABLED")])).is_some());
        let mut h2 = get("/photos/k", &[]);
        *h2.version_mut() = Version::HTTP_2;
        assert!(direct.recognise(&h2).is_none(), "HTTP/2 goes to s3s");
        assert!(read.if_none_match.is_some() && read.range.is_none(), "an empty header is no header, as in s3s");
        let mut head = get("/photos/k", &[]);
        *head.method_mut() = Method::HEAD;
        assert!(direct.recognise(&head).unwrap().head);
    }

    #[test]
    fn every_other_request_goes_to_s3s() {
        let direct = direct(&[]);
        let not = |request: Request<()>, why: &str| assert!(direct.recognise(&request).is_none(), "{why}");
        not(get("/other/k", &[]), "another bucket: NoSuchBucket from s3s");
        not(get("/photos", &[]), "a listing");
        not(get("/photos/", &[]), "a listing");
        not(get("/photos/k?acl", &[]), "a sub-resource");
        not(get("/photos/k?partNumber=1", &[]), "a part");
        not(get("/photos/k?X-Amz-Signature=00", &[]), "a presigned URL");
        not(get("/photos/k", &[("authorization", "AWS4-HMAC-SHA256 ...")]), "a signed request");
        not(get("/photos/k", &[("x-amz-security-token", "t")]), "a session token");
        not(get("/photos/k", &[("x-amz-server-side-encryption-customer-key", "k")]), "an SSE-C key");
        let twice = [("x-amz-checksum-mode", "ENABLED"), ("x-amz-checksum-mode", "ENABLED")];
        not(get("/photos/k", &twice), "a header given twice");
        not(get("/photos/k", &[("range", "bytes=a-b")]), "a malformed range");
        not(get("/photos/k", &[("if-modified-since", "yesterday")]), "a malformed date");
        not(get("/photos/k", &[("range", "bytes=0-1"), ("range", "bytes=2-3")]), "a header given twice");
        not(get("/photos/%FF", &[]), "a path that is not UTF-8");
        let mut put = get("/photos/k", &[]);
        *put.method_mut() = Method::PUT;
        not(put, "a write");
        let mut head = get("/photos/k?x-id=GetObject", &[]);
        *head.method_mut() = Method::HEAD;
        not(head, "HeadObject takes no x-id=GetObject");
        let keys = [AccessKey { id: "AK".into(), secret: crate::config::s3_api::Secret::new("secret") }];
        let signed = self::direct(&keys);
        assert!(signed.recognise(&get("/photos/k", &[])).is_none(), "with keys, an unsigned read goes to s3s");
        let forged = [(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AK/20261202/us-east-1/s3/aws4_request, SignedHeaders=host, \
             Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        )];
        assert!(signed.recognise(&get("/photos/k", &forged)).is_none(), "a signature that does not verify goes to s3s");
    }

    #[test]
    fn metadata_values_are_sent_as_s3_sends_them() {
        assert_eq!(encoded_word("alice smith"), "alice smith");
        assert_eq!(encoded_word("café"), "=?UTF-8?B?Y2Fmw6k=?=");
        // 46 and 47 bytes: one word longer than 45 bytes, as s3s writes it.
        assert_eq!(encoded_word(&"é".repeat(23)).split(' ').count(), 1);
        assert_eq!(encoded_word(&format!("{}x", "é".repeat(23))).split(' ').count(), 1);
        let long = "é".repeat(30); // 60 bytes: 22 characters (44 bytes), then 8.
        let encoded = encoded_word(&long);
        let words: Vec<&str> = encoded.split(' ').collect();
        assert_eq!(words.len(), 2);
        assert!(words.iter().all(|w| w.len() <= 75 && w.starts_with("=?UTF-8?B?") && w.ends_with("?=")));
        let decoded: String = words
            .iter()
            .map(|w| {
                let b64 = &w["=?UTF-8?B?".len()..w.len() - 2];
                String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap()
            })
            .collect();
        assert_eq!(decoded, long);
    }
}
