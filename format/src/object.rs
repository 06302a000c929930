//! The data model: an [`Object`] is stored bytes plus [`ObjectMeta`].
//!
//! Metadata travels with the bytes into every tier (a disk file header, S3 user
//! metadata). The checksum is the sha256 of the *stored* bytes and is verified
//! on every read from disk or cold. The codec is recorded per object, never
//! guessed from the bytes. Access statistics are not metadata: they are the
//! host's volatile state (`tiered::store::Access`).

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How the stored bytes are encoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    #[default]
    Identity,
    Gzip,
}

impl Codec {
    pub fn as_str(self) -> &'static str {
        match self {
            Codec::Identity => "identity",
            Codec::Gzip => "gzip",
        }
    }

    pub fn parse(s: &str) -> Option<Codec> {
        match s {
            "identity" => Some(Codec::Identity),
            "gzip" => Some(Codec::Gzip),
            _ => None,
        }
    }
}

/// Everything known about a stored object except its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    pub key: String,
    /// Stored size in bytes (after compression).
    pub size: u64,
    /// Size before compression.
    pub original_size: u64,
    /// When the object was written, ms since the Unix epoch.
    pub created_ms: u64,
    /// When it expires, ms since the Unix epoch; `None` = never.
    #[serde(default)]
    pub expires_ms: Option<u64>,
    /// Hex sha256 of the stored bytes.
    pub checksum: String,
    #[serde(default)]
    pub codec: Codec,
    #[serde(default)]
    pub content_type: Option<String>,
    /// Custom metadata given by the writer.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// The cold tier's ETag for this version (set by cold on write; copied into
    /// caches so copies can be revalidated).
    #[serde(default)]
    pub etag: Option<String>,
    /// When this cached copy was last known to match cold (ms since the Unix
    /// epoch); `None` = since `created_ms`. Kept by caches only, never sent to
    /// cold: it drives revalidation after `max_staleness`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validated_ms: Option<u64>,
}

impl ObjectMeta {
    /// Whether the object has expired at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_ms.is_some_and(|e| e <= now_ms)
    }

    /// Bytes this metadata costs in memory, for byte-bounded tiers.
    pub fn footprint(&self) -> u64 {
        let custom: usize = self.metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
        let strings = self.key.len()
            + self.checksum.len()
            + self.content_type.as_ref().map_or(0, String::len)
            + self.etag.as_ref().map_or(0, String::len);
        (std::mem::size_of::<ObjectMeta>() + strings + custom) as u64
    }

    /// Whether a cached copy needs revalidating against cold at `now_ms`.
    pub fn is_stale(&self, now_ms: u64, max_staleness_ms: u64) -> bool {
        now_ms.saturating_sub(self.validated_ms.unwrap_or(self.created_ms)) > max_staleness_ms
    }

    /// The ETag clients see: the cold ETag when known, else the checksum.
    pub fn client_etag(&self) -> String {
        match &self.etag {
            Some(e) => e.trim_matches('"').to_string(),
            None => self.checksum.clone(),
        }
    }
}

/// Stored bytes and their metadata. Cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    pub meta: Arc<ObjectMeta>,
    pub data: Bytes,
}

impl Object {
    pub fn new(meta: ObjectMeta, data: Bytes) -> Self {
        Object { meta: Arc::new(meta), data }
    }

    /// Whether the bytes match the recorded checksum and size.
    pub fn verify(&self) -> bool {
        self.data.len() as u64 == self.meta.size && checksum(&self.data) == self.meta.checksum
    }

    /// Bytes this object costs in a byte-bounded tier: key + value + metadata.
    pub fn footprint(&self) -> u64 {
        self.data.len() as u64 + self.meta.footprint()
    }
}

/// Hex sha256 of `data`.
pub fn checksum(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}
