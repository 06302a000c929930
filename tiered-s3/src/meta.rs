//! Object metadata as S3 user metadata, so the bucket stays a plain S3
//! bucket for every other tool that reads it.
//!
//! - **Custom metadata** (`x-tiered-meta-<name>` on `/v1`) travels as S3 user
//!   metadata of its own, `x-amz-meta-<name>`: `aws s3api head-object` shows
//!   it, and an object another tool wrote with `x-amz-meta-*` is served with
//!   that metadata. An entry S3 could not carry as it is (a name other than
//!   lowercase letters, digits, `-`, `_` and `.`; a value other than printable
//!   ASCII without surrounding or repeated spaces; the name `tiered`) stays
//!   in the record below instead, so nothing is lost or altered.
//! - **The store's own fields** (sizes, times, expiry, checksum, codec) travel
//!   in one entry, `x-amz-meta-tiered`: base64url of a small JSON record
//!   (version 2). Records of version 1, which also held all the custom
//!   metadata, stay readable.
//! - The content type is the object's `Content-Type`; an object stored
//!   compressed carries `Content-Encoding: gzip`, so other readers can decode
//!   it.
//!
//! S3 limits user metadata to 2 KiB (names and values); larger metadata is
//! refused before any request is made.
//!
//! Objects written by other tools (no `tiered` record) are served as they
//! are: [`describe`] builds their metadata from what S3 says (size, time,
//! content type, ETag, user metadata) with an empty checksum, which the
//! reader fills in from the bytes it fetched.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use tiered::object::{Codec, ObjectMeta};

use crate::client::ObjectHead;

/// The user-metadata name (without `x-amz-meta-`) of the store's record.
pub const META_KEY: &str = "tiered";
/// S3's limit on user metadata, in bytes.
pub const MAX_USER_METADATA: usize = 2048;
/// The record version written.
const RECORD_VERSION: u32 = 2;

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
    /// Version 1: all the custom metadata. Version 2: the entries that
    /// cannot travel as S3 user metadata of their own.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    metadata: BTreeMap<String, String>,
}

/// Whether a custom metadata entry travels as `x-amz-meta-<name>` unchanged
/// (S3 lowercases names and trims values, and HTTP carries ASCII).
fn travels_as_itself(name: &str, value: &str) -> bool {
    let name_ok = !name.is_empty()
        && name != META_KEY
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'));
    // Signatures fold runs of spaces; a value with one is kept in the record.
    let value_ok = value.bytes().all(|b| (0x20..0x7f).contains(&b)) && value.trim() == value && !value.contains("  ");
    name_ok && value_ok
}

/// The user metadata an object is stored with: its custom entries and the
/// store's record; an error names the limit when it is too large.
pub fn encode(meta: &ObjectMeta) -> Result<BTreeMap<String, String>, String> {
    let (mut user, kept): (BTreeMap<String, String>, BTreeMap<String, String>) =
        meta.metadata.clone().into_iter().partition(|(name, value)| travels_as_itself(name, value));
    let record = Record {
        v: RECORD_VERSION,
        size: meta.size,
        original_size: meta.original_size,
        created_ms: meta.created_ms,
        expires_ms: meta.expires_ms,
        checksum: meta.checksum.clone(),
        codec: meta.codec,
        metadata: kept,
    };
    let json = serde_json::to_vec(&record).expect("records always serialize");
    user.insert(META_KEY.to_string(), URL_SAFE_NO_PAD.encode(json));
    let total: usize = user.iter().map(|(name, value)| name.len() + value.len()).sum();
    if total > MAX_USER_METADATA {
        return Err(format!("object metadata takes {total} bytes as S3 user metadata; S3 allows {MAX_USER_METADATA}"));
    }
    Ok(user)
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
    let metadata = match r.v {
        1 => r.metadata,
        2 => {
            let mut metadata = custom(user);
            metadata.extend(r.metadata);
            metadata
        }
        v => return Err(format!("metadata version {v} is not supported")),
    };
    Ok(ObjectMeta {
        key: key.to_string(),
        size: r.size,
        original_size: r.original_size,
        created_ms: r.created_ms,
        expires_ms: r.expires_ms,
        checksum: r.checksum,
        codec: r.codec,
        content_type: content_type.map(str::to_string),
        metadata,
        etag: etag.map(unquoted),
        validated_ms: None,
    })
}

/// The user metadata that is not the store's record.
fn custom(user: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    user.iter().filter(|(name, _)| *name != META_KEY).map(|(n, v)| (n.clone(), v.clone())).collect()
}

/// `Content-Encoding` of an object stored with `codec`.
pub fn content_encoding(codec: Codec) -> Option<String> {
    match codec {
        Codec::Identity => None,
        Codec::Gzip => Some("gzip".to_string()),
    }
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
        metadata: custom(&head.metadata),
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
            metadata: BTreeMap::from([("owner".to_string(), "bob".to_string())]),
        };
        let meta = describe("k", &head).unwrap();
        assert_eq!((meta.size, meta.created_ms, meta.checksum.as_str()), (12, 5_000, ""));
        assert_eq!((meta.content_type.as_deref(), meta.etag.as_deref()), (Some("text/csv"), Some("abc")));
        assert_eq!(meta.metadata.get("owner").map(String::as_str), Some("bob"), "another tool's user metadata");
    }

    #[test]
    fn custom_metadata_travels_as_s3_user_metadata_and_round_trips() {
        let mut head = ObjectHead { content_length: Some(3), last_modified_ms: Some(1), ..ObjectHead::default() };
        let mut meta = describe("k", &head).unwrap();
        meta.checksum = "ff".into();
        meta.codec = Codec::Gzip;
        let entries = [
            ("owner", "alice"),
            ("Mixed-Case", "kept in the record"),
            ("team", "café"),
            ("padded", " x "),
            ("spaced", "a  b"),
            ("tiered", "a clash with the record's name"),
        ];
        for (name, value) in entries {
            meta.metadata.insert(name.into(), value.into());
        }
        head.metadata = encode(&meta).unwrap();
        let names: Vec<&str> = head.metadata.keys().map(String::as_str).collect();
        assert_eq!(names, ["owner", "tiered"], "only what S3 carries unchanged travels on its own");
        assert_eq!(head.metadata["owner"], "alice");
        assert_eq!(describe("k", &head).unwrap(), meta, "every entry comes back as written");
        assert_eq!(content_encoding(meta.codec).as_deref(), Some("gzip"));
    }

    #[test]
    fn a_version_1_record_stays_readable() {
        let record = serde_json::json!({
            "v": 1, "size": 3, "original_size": 3, "created_ms": 7, "checksum": "ff", "codec": "identity",
            "metadata": {"owner": "alice"}
        });
        let encoded = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&record).unwrap());
        let head = ObjectHead {
            metadata: BTreeMap::from([(META_KEY.to_string(), encoded)]),
            etag: Some("\"e\"".into()),
            ..ObjectHead::default()
        };
        let meta = describe("k", &head).unwrap();
        assert_eq!((meta.size, meta.created_ms, meta.checksum.as_str()), (3, 7, "ff"));
        assert_eq!(meta.metadata, BTreeMap::from([("owner".to_string(), "alice".to_string())]));
    }

    #[test]
    fn metadata_over_s3s_limit_is_refused() {
        let head = ObjectHead { content_length: Some(3), ..ObjectHead::default() };
        let mut meta = describe("k", &head).unwrap();
        meta.metadata.insert("big".into(), "x".repeat(MAX_USER_METADATA));
        assert!(encode(&meta).unwrap_err().contains("2048"));
    }
}
