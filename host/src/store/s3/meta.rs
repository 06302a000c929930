//! Object metadata as S3 user metadata.
//!
//! Everything but the key and the ETag travels in one user-metadata entry,
//! `x-amz-meta-tiered`: base64url of a small JSON record. One entry keeps the
//! encoding independent of S3's header rules (names are lowercased, values must
//! be ASCII) and lets a HEAD return the full metadata without the body. The
//! content type travels as the object's `Content-Type`. S3 limits user
//! metadata to 2 KiB; larger metadata is refused before any request is made.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::object::{Codec, ObjectMeta};

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
    user: Option<&std::collections::HashMap<String, String>>,
    content_type: Option<&str>,
    etag: Option<&str>,
) -> Result<ObjectMeta, String> {
    let value = user.and_then(|m| m.get(META_KEY)).ok_or("object has no tiered metadata (written by another tool?)")?;
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
        etag: etag.map(|e| e.trim_matches('"').to_string()),
        validated_ms: None,
    })
}
