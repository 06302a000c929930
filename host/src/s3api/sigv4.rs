//! SigV4 header signatures checked without s3s, for the reads [`direct`]
//! answers on an endpoint with access keys.
//!
//! [`Verifier::verifies`] says `true` only for a request s3s would accept:
//! an `Authorization: AWS4-HMAC-SHA256` header whose scope is `s3` and
//! today's `x-amz-date`, within s3s's 15 minutes of the clock, signed by a
//! configured key over the request's method, path, query, the headers it
//! names (`host` among them) and an unsigned or empty payload. Any other
//! request, a wrong signature included, is `false` and goes to s3s, which
//! checks it again and gives its error (`SignatureDoesNotMatch`,
//! `RequestTimeTooSkewed`, `InvalidAccessKeyId`...). A mistake here can
//! only send a valid request the slow way, never let an invalid one in:
//! the signature is an HMAC over what the request says, from a key derived
//! by AWS's own code ([`aws_sigv4::sign::v4`]), and the tests check it
//! against AWS's signer.
//!
//! The signing key of a day, region and access key is derived once, by
//! AWS's code, and kept (a handful of entries, cleared when they pile up)
//! as the two hash states HMAC starts from; the canonical request is hashed
//! as it is walked, never built.
//!
//! [`direct`]: super::direct

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, Request, header};
use parking_lot::Mutex;
use sha2::{Digest, Sha256};

use crate::config::s3_api::{AccessKey, Secret};

/// How far a request's `x-amz-date` may be from the clock, as in s3s.
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// The hash of an empty payload.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Signing keys kept at most; more are cleared and derived again.
const MAX_KEPT_KEYS: usize = 64;

/// The configured keys and the signing keys derived from them.
pub struct Verifier {
    secrets: HashMap<String, Secret>,
    /// `<access key>/<yyyymmdd>/<region>` → signing key.
    signing_keys: Mutex<HashMap<String, Arc<SigningKey>>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").field("ids", &self.secrets.keys().collect::<Vec<_>>()).finish()
    }
}

/// The parts of an `Authorization` header.
struct Authorization<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    /// `<access key>/<date>/<region>`: names the signing key.
    key_name: &'a str,
    /// `<date>/<region>/s3/aws4_request`.
    scope: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

impl Verifier {
    pub fn new(keys: &[AccessKey]) -> Verifier {
        Verifier {
            secrets: keys.iter().map(|k| (k.id.clone(), k.secret.clone())).collect(),
            signing_keys: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `request` (a `GET` or `HEAD` without a body whose path
    /// decodes to `decoded_path`) carries a valid SigV4 header signature of
    /// one of the keys, at `now`.
    pub fn verifies<B>(&self, request: &Request<B>, decoded_path: &str, now: SystemTime) -> bool {
        self.check(request, decoded_path, now).is_some()
    }

    fn check<B>(&self, request: &Request<B>, decoded_path: &str, now: SystemTime) -> Option<()> {
        let headers = request.headers();
        let auth = parse_authorization(single(headers, header::AUTHORIZATION.as_str())?)?;
        let amz_date = single(headers, "x-amz-date")?;
        let signed_at = parse_amz_date(amz_date)?;
        if auth.date != &amz_date[..8] || distance(signed_at, now) > MAX_SKEW {
            return None;
        }
        let payload = single(headers, "x-amz-content-sha256")?;
        if payload != "UNSIGNED-PAYLOAD" && payload != EMPTY_SHA256 {
            return None;
        }
        let signature = unhex(auth.signature)?;
        let key = self.signing_key(&auth, signed_at)?;
        let signs = |path: &str| -> Option<bool> {
            let digest = hex(&canonical_request_hash(request, path, &auth.signed_headers, payload)?);
            let parts: [&[u8]; 6] =
                [b"AWS4-HMAC-SHA256\n", amz_date.as_bytes(), b"\n", auth.scope.as_bytes(), b"\n", &digest];
            Some(equal_in_constant_time(&key.sign(&parts), &signature))
        };
        let mut encoded = String::with_capacity(decoded_path.len() * 3);
        uri_encode(&mut encoded, decoded_path);
        if signs(&encoded)? {
            return Some(());
        }
        // A client that left reserved characters (`+`, `!`...) unencoded in
        // its path signed the path as it sent it; s3s accepts that too.
        let raw = request.uri().path();
        let unencoded = raw.bytes().any(|b| !b.is_ascii_alphanumeric() && !b"-_.~/%".contains(&b));
        (unencoded && signs(raw)?).then_some(())
    }

    fn signing_key(&self, auth: &Authorization<'_>, signed_at: SystemTime) -> Option<Arc<SigningKey>> {
        if let Some(key) = self.signing_keys.lock().get(auth.key_name) {
            return Some(key.clone());
        }
        let secret = self.secrets.get(auth.access_key)?;
        let derived = aws_sigv4::sign::v4::generate_signing_key(secret.expose(), signed_at, auth.region, "s3");
        let key = Arc::new(SigningKey::new(derived.as_ref()));
        let mut kept = self.signing_keys.lock();
        if kept.len() >= MAX_KEPT_KEYS {
            kept.clear();
        }
        kept.insert(auth.key_name.to_string(), key.clone());
        Some(key)
    }
}

/// A day's signing key, as HMAC-SHA256 starts from it: the hash states
/// after its inner and outer padded blocks, so that a signature costs the
/// message's blocks and two more.
struct SigningKey {
    inner: Sha256,
    outer: Sha256,
}

impl SigningKey {
    fn new(key: &[u8]) -> SigningKey {
        // A derived key is 32 bytes, shorter than SHA-256's 64-byte block:
        // it is used as it is, padded with zeros (RFC 2104).
        let mut block = [0u8; 64];
        block[..key.len()].copy_from_slice(key);
        let pad = |byte: u8| Sha256::new_with_prefix(block.map(|b| b ^ byte));
        SigningKey { inner: pad(0x36), outer: pad(0x5c) }
    }

    /// HMAC-SHA256 of the concatenated `parts`.
    fn sign(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut inner = self.inner.clone();
        for part in parts {
            inner.update(part);
        }
        let mut outer = self.outer.clone();
        outer.update(inner.finalize());
        outer.finalize().into()
    }
}

fn hex(bytes: &[u8; 32]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (i, byte) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(byte >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(byte & 15)];
    }
    out
}

/// A signature's 64 lower-case hex digits as bytes.
fn unhex(text: &str) -> Option<[u8; 32]> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let bytes = text.as_bytes();
    (bytes.len() == 64).then_some(())?;
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// The one value of header `name`, as text.
fn single<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    values.next().is_none().then_some(())?;
    value.to_str().ok()
}

/// `AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/s3/aws4_request,
/// SignedHeaders=<a;b;c>, Signature=<hex>`.
fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (name, value) = part.trim().split_once('=')?;
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => return None,
        };
        if slot.replace(value).is_some() {
            return None;
        }
    }
    let credential = credential?;
    let mut parts = credential.split('/');
    let (access_key, date, region) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next()? != "s3" || parts.next()? != "aws4_request" || parts.next().is_some() {
        return None;
    }
    let key_name = &credential[..access_key.len() + 1 + date.len() + 1 + region.len()];
    let scope = &credential[access_key.len() + 1..];
    let mut signed_headers: Vec<&str> = signed?.split(';').collect();
    signed_headers.sort_unstable();
    let signature = signature?;
    let valid = date.len() == 8
        && signature.len() == 64
        && signed_headers.contains(&"host")
        && signed_headers.windows(2).all(|pair| pair[0] != pair[1])
        && signed_headers.iter().all(|name| !name.is_empty() && *name != "authorization");
    valid.then_some(Authorization { access_key, date, region, key_name, scope, signed_headers, signature })
}

/// `yyyymmddThhmmssZ` as a time.
fn parse_amz_date(value: &str) -> Option<SystemTime> {
    let bytes = value.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = value.get(range)?;
        digits.bytes().all(|b| b.is_ascii_digit()).then(|| digits.parse().ok())?
    };
    let month = time::Month::try_from(u8::try_from(number(4..6)?).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(i32::try_from(number(0..4)?).ok()?, month, u8::try_from(number(6..8)?).ok()?)
            .ok()?;
    let clock = time::Time::from_hms(
        u8::try_from(number(9..11)?).ok()?,
        u8::try_from(number(11..13)?).ok()?,
        u8::try_from(number(13..15)?).ok()?,
    )
    .ok()?;
    Some(time::PrimitiveDateTime::new(date, clock).assume_utc().into())
}

fn distance(a: SystemTime, b: SystemTime) -> Duration {
    a.duration_since(b).or_else(|_| b.duration_since(a)).unwrap_or_default()
}

/// The SHA-256 of SigV4's canonical request of a bodiless `request` whose
/// path is `path` (encoded): method, path, query, the signed headers
/// (values trimmed, inner spaces collapsed, repeated ones joined by commas),
/// their names and the payload hash, a line each. `None` when a signed
/// header is missing.
fn canonical_request_hash<B>(request: &Request<B>, path: &str, signed: &[&str], payload: &str) -> Option<[u8; 32]> {
    let mut hash = Sha256::new();
    for part in [request.method().as_str(), "\n", path, "\n"] {
        hash.update(part);
    }
    // The query is empty or `x-id=GetObject`, both canonical already.
    hash.update(request.uri().query().unwrap_or(""));
    hash.update("\n");
    for name in signed {
        hash.update(name);
        hash.update(":");
        let mut values = request.headers().get_all(*name).iter().peekable();
        values.peek()?;
        for (i, value) in values.enumerate() {
            if i > 0 {
                hash.update(",");
            }
            for (j, word) in value.to_str().ok()?.split_ascii_whitespace().enumerate() {
                if j > 0 {
                    hash.update(" ");
                }
                hash.update(word);
            }
        }
        hash.update("\n");
    }
    hash.update("\n");
    for (i, name) in signed.iter().enumerate() {
        if i > 0 {
            hash.update(";");
        }
        hash.update(name);
    }
    hash.update("\n");
    hash.update(payload);
    Some(hash.finalize().into())
}

/// `path` percent-encoded as SigV4 encodes an S3 path: every byte but the
/// unreserved ones and `/`, in upper-case hex.
fn uri_encode(out: &mut String, path: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(byte as char),
            _ => {
                out.push('%');
                out.push(HEX[usize::from(byte >> 4)] as char);
                out.push(HEX[usize::from(byte & 15)] as char);
            }
        }
    }
}

fn equal_in_constant_time(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4::SigningParams;
    use axum::http::Method;

    const ID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn verifier() -> Verifier {
        Verifier::new(&[AccessKey { id: ID.into(), secret: Secret::new(SECRET) }])
    }

    /// `GET uri` signed by AWS's signer at `at`, as an SDK signs it.
    fn signed(method: Method, uri: &str, extra: &[(&str, &str)], at: SystemTime, secret: &str) -> Request<()> {
        let mut builder = Request::builder().method(method).uri(uri).header("host", "127.0.0.1:7071");
        for (name, value) in extra {
            builder = builder.header(*name, *value);
        }
        let mut request = builder.header("x-amz-content-sha256", "UNSIGNED-PAYLOAD").body(()).unwrap();
        let identity = aws_credential_types::Credentials::new(ID, secret, None, None, "test").into();
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = aws_sigv4::http_request::PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = aws_sigv4::http_request::UriPathNormalizationMode::Disabled;
        let params = SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("s3")
            .time(at)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let headers: Vec<(&str, &str)> =
            request.headers().iter().map(|(n, v)| (n.as_str(), v.to_str().unwrap())).collect();
        let uri = request.uri().to_string();
        let signable =
            SignableRequest::new(request.method().as_str(), &uri, headers.into_iter(), SignableBody::UnsignedPayload)
                .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(&mut request);
        request
    }

    fn decoded(request: &Request<()>) -> String {
        percent_encoding::percent_decode_str(request.uri().path()).decode_utf8().unwrap().into_owned()
    }

    #[test]
    fn a_request_signed_by_aws_signer_verifies() {
        let now = SystemTime::now();
        let verifier = verifier();
        for uri in ["/bucket/key", "/bucket/a%20b/c%C3%A9+d", "/bucket/k?x-id=GetObject"] {
            let request = signed(Method::GET, uri, &[("range", "bytes=0-9")], now, SECRET);
            assert!(verifier.verifies(&request, &decoded(&request), now), "{uri}");
            assert!(verifier.verifies(&request, &decoded(&request), now), "{uri}: with the key kept");
        }
        let head = signed(Method::HEAD, "/bucket/key", &[], now, SECRET);
        assert!(verifier.verifies(&head, &decoded(&head), now));
    }

    #[test]
    fn anything_else_is_left_to_s3s() {
        let now = SystemTime::now();
        let verifier = verifier();
        let request = signed(Method::GET, "/bucket/key", &[], now, "another secret");
        assert!(!verifier.verifies(&request, &decoded(&request), now), "another secret");

        let request = signed(Method::GET, "/bucket/key", &[], now, SECRET);
        assert!(!verifier.verifies(&request, "/bucket/other", now), "another path");
        assert!(!verifier.verifies(&request, &decoded(&request), now + MAX_SKEW + Duration::from_secs(5)), "stale");
        assert!(!verifier.verifies(&request, &decoded(&request), now - MAX_SKEW - Duration::from_secs(5)), "future");
        let mut changed = request;
        *changed.method_mut() = Method::HEAD;
        assert!(!verifier.verifies(&changed, &decoded(&changed), now), "another method");
        changed.headers_mut().insert("host", "elsewhere:7071".parse().unwrap());
        *changed.method_mut() = Method::GET;
        assert!(!verifier.verifies(&changed, &decoded(&changed), now), "another signed header value");

        let request = signed(Method::GET, "/bucket/key", &[], now, SECRET);
        let mut unknown = request;
        let auth = unknown.headers()["authorization"].to_str().unwrap().replace(ID, "AKIDOTHER");
        unknown.headers_mut().insert("authorization", auth.parse().unwrap());
        assert!(!verifier.verifies(&unknown, &decoded(&unknown), now), "an unknown key");

        let mut payload = signed(Method::GET, "/bucket/key", &[], now, SECRET);
        payload.headers_mut().insert("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD".parse().unwrap());
        assert!(!verifier.verifies(&payload, &decoded(&payload), now), "a streamed payload");
    }

    #[test]
    fn malformed_headers_do_not_parse() {
        let good = "AWS4-HMAC-SHA256 Credential=AK/20261202/us-east-1/s3/aws4_request, \
                    SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000";
        assert!(parse_authorization(good).is_some());
        for bad in [
            good.replace("/s3/", "/sts/"),
            good.replace("aws4_request", "aws4_requests"),
            good.replace("SignedHeaders=host;", "SignedHeaders="),
            good.replace("host;x-amz-date", "host;host"),
            good.replace("Signature=0", "Signature="),
            good.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"),
            format!("{good}, Signature=1"),
        ] {
            assert!(parse_authorization(&bad).is_none(), "{bad}");
        }
        assert!(parse_amz_date("20261202T043000Z").is_some());
        for bad in ["20261302T043000Z", "2026120T043000Z", "20261202T043000", "2026-2-02T043000Z", "20261202T246000Z"] {
            assert!(parse_amz_date(bad).is_none(), "{bad}");
        }
    }
}
