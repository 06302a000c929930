//! Object metadata as S3 user metadata.
//!
//! Everything but the key and the ETag travels in one user-metadata entry,
//! `x-amz-meta-tiered`: base64url of a small JSON record. One entry keeps the
//! encoding independent of S3's header rules (names are lowercased, values must
//! be ASCII) and lets a HEAD return the full metadata without the body. The
//! content type travels as the object's `Content-Type`. S3 limits user
//! metadata to 2 KiB; larger metadata is refused before any request is made.
//!
//! Objects written by other tools (no `tiered` record) are served as they
//! are: [`describe`] builds their metadata from what S3 says (size, time,
//! content type, ETag) with an empty checksum, which the reader fills in from
//! the bytes it fetched.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use tiered::object::{Codec, ObjectMeta};

use crate::client::ObjectHead;

/// The user-metadata name (without `x-amz-meta-`).
pub const META_KEY: &str = "tiered";
/// S3's limit on user metadata, in bytes.
pub const MAX_USER_METADATA: usize = 2048;

#[derive(Serialize, Deserialize)]
struct Record {
    v: u32,
    size: u64,
    original_size: u64,
    created_ms: u64,
    #[serde(default)]
    expires_ms: Option<u64>,
    checksum: String,
    codec: Codec,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

/// Encode the metadata; an error names the limit when it is too large.
pub fn encode(meta: &ObjectMeta) -> Result<String, String> {
    let record = Record {
        v: 1,
        size: meta.size,
        original_size: meta.original_size,
        created_ms: meta.created_ms,
        expires_ms: meta.expires_ms,
        checksum: meta.checksum.clone(),
        codec: meta.codec,
        metadata: meta.metadata.clone(),
    };
    let json = serde_json::to_vec(&record).expect("records always serialize");
    let encoded = URL_SAFE_NO_PAD.encode(json);
    if encoded.len() + META_KEY.len() > MAX_USER_METADATA {
        return Err(format!(
            "object metadata takes {} bytes as S3 user metadata; S3 allows {MAX_USER_METADATA}",
            encoded.len() + META_KEY.len()
        ));
    }
    Ok(encoded)
}

/// Rebuild the metadata of `key` from what S3 returned.
pub fn decode(
    key: &str,
    user: &BTreeMap<String, String>,
    content_type: Option<&str>,
    etag: Option<&str>,
) -> Result<ObjectMeta, String> {
    let value = user.get(META_KEY).ok_or("object has no tiered metadata (written by another tool?)")?;
    let json = URL_SAFE_NO_PAD.decode(value).map_err(|e| format!("metadata is not base64: {e}"))?;
    let r: Record = serde_json::from_slice(&json).map_err(|e| format!("metadata does not parse: {e}"))?;
    if r.v != 1 {
        return Err(format!("metadata version {} is not supported", r.v));
    }
    Ok(ObjectMeta {
        key: key.to_string(),
        size: r.size,
        original_size: r.original_size,
        created_ms: r.created_ms,
        expires_ms: r.expires_ms,
        checksum: r.checksum,
        codec: r.codec,
        content_type: content_type.map(str::to_string),
        metadata: r.metadata,
        etag: etag.map(unquoted),
        validated_ms: None,
    })
}

/// An ETag as the tier keeps it: without S3's quotes.
pub(crate) fn unquoted(etag: &str) -> String {
    etag.trim_matches('"').to_string()
}

/// An ETag as S3 compares it in `If-None-Match` and `x-amz-copy-source-if-match`.
pub(crate) fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

/// The metadata of `key` from a GET or HEAD: its `tiered` record, or for an
/// object another tool wrote, what S3 reports (checksum left empty).
pub fn describe(key: &str, head: &ObjectHead) -> Result<ObjectMeta, String> {
    let (content_type, etag) = (head.content_type.as_deref(), head.etag.as_deref());
    if head.metadata.contains_key(META_KEY) {
        return decode(key, &head.metadata, content_type, etag);
    }
    let size = head.content_length.unwrap_or(0);
    Ok(ObjectMeta {
        key: key.to_string(),
        size,
        original_size: size,
        created_ms: head.last_modified_ms.unwrap_or(0),
        expires_ms: None,
        checksum: String::new(),
        codec: Codec::Identity,
        content_type: content_type.map(str::to_string),
        metadata: BTreeMap::new(),
        etag: etag.map(unquoted),
        validated_ms: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_without_a_record_is_described_from_s3s_headers() {
        let head = ObjectHead {
            content_type: Some("text/csv".into()),
            etag: Some("\"abc\"".into()),
            content_length: Some(12),
            last_modified_ms: Some(5_000),
            ..ObjectHead::default()
        };
        let meta = describe("k", &head).unwrap();
        assert_eq!((meta.size, meta.created_ms, meta.checksum.as_str()), (12, 5_000, ""));
        assert_eq!((meta.content_type.as_deref(), meta.etag.as_deref()), (Some("text/csv"), Some("abc")));
    }

    #[test]
    fn a_record_round_trips() {
        let mut head = ObjectHead { content_length: Some(3), last_modified_ms: Some(1), ..ObjectHead::default() };
        let mut meta = describe("k", &head).unwrap();
        meta.checksum = "ff".into();
        meta.metadata.insert("owner".into(), "alice".into());
        head.metadata = BTreeMap::from([(META_KEY.to_string(), encode(&meta).unwrap())]);
        let back = describe("k", &head).unwrap();
        assert_eq!(back, meta);
    }
}
