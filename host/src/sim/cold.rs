//! [`SimCold`]: the simulated bucket, in memory, counting S3 requests and bytes.
//!
//! The bucket is taken to hold every object of the trace before the replay
//! starts (at the size the key is first seen with): a get that reaches cold
//! is one S3 GET of the whole object, as behind a real cache. Objects are
//! materialised lazily on first touch. A `delete` removes the object; a later
//! get misses and the replay writes it again (one S3 PUT).
//!
//! Object bytes are slices of one shared zero buffer, so a replay costs no
//! memory per object beyond its metadata. Its reads are not hashed: its
//! objects are immutable in-memory values that cannot rot (a tier's `get`
//! verifies what could have changed, and nothing here can).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use foldhash::fast::FixedState;
use parking_lot::Mutex;

use tiered::error::TierError;
use tiered::object::{Codec, Object, ObjectMeta, checksum};
use tiered::store::{KeyStream, SourceTier, Tier};

/// S3 requests and bytes seen by the simulated bucket.
#[derive(Debug, Default)]
pub struct ColdCounts {
    pub gets: AtomicU64,
    pub get_bytes: AtomicU64,
    pub puts: AtomicU64,
    pub put_bytes: AtomicU64,
    pub heads: AtomicU64,
    pub deletes: AtomicU64,
}

/// One key of the bucket.
#[derive(Debug)]
enum Slot {
    /// In the bucket since before the trace, not touched yet: its size.
    Untouched(u64),
    Stored(Object),
    Deleted,
}

/// The simulated bucket.
#[derive(Debug)]
pub struct SimCold {
    /// Keyed by a fixed fast hasher: the bucket sits on every cold read.
    slots: Mutex<HashMap<String, Slot, FixedState>>,
    /// sha256 of `size` zero bytes, by size.
    checksums: Mutex<HashMap<u64, String>>,
    zeros: Bytes,
    versions: AtomicU64,
    pub counts: ColdCounts,
}

impl SimCold {
    /// A bucket holding `keys` at `sizes` (same order), whose bytes come from
    /// `zeros` (at least as long as the largest object the replay writes).
    pub fn new(keys: &[String], sizes: &[u64], zeros: Bytes) -> Self {
        let slots = keys.iter().zip(sizes).map(|(k, &s)| (k.clone(), Slot::Untouched(s))).collect();
        SimCold {
            slots: Mutex::new(slots),
            checksums: Mutex::new(HashMap::new()),
            zeros,
            versions: AtomicU64::new(0),
            counts: ColdCounts::default(),
        }
    }

    /// A zero-filled value of `size` bytes (shared, no copy).
    pub fn value(&self, size: u64) -> Bytes {
        self.zeros.slice(..size as usize)
    }

    /// The ETag of the next version: fixed width, so every object of one size
    /// costs a tier the same bytes.
    fn etag(&self) -> String {
        format!("\"{:016x}\"", self.versions.fetch_add(1, Ordering::Relaxed))
    }

    fn materialise(&self, key: &str, size: u64) -> Object {
        let sum = self.checksums.lock().entry(size).or_insert_with(|| checksum(&self.value(size))).clone();
        let meta = sim_meta(key, size, sum, self.etag());
        Object::new(meta, self.value(size))
    }

    /// The current object of `key`, materialising an untouched one.
    fn current(&self, key: &str) -> Option<Object> {
        let mut slots = self.slots.lock();
        let slot = slots.get_mut(key)?;
        match slot {
            Slot::Stored(object) => Some(object.clone()),
            Slot::Deleted => None,
            Slot::Untouched(size) => {
                let object = self.materialise(key, *size);
                *slot = Slot::Stored(object.clone());
                Some(object)
            }
        }
    }
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

#[async_trait]
impl Tier for SimCold {
    fn name(&self) -> &'static str {
        "sim-cold"
    }

    async fn get(&self, key: &str) -> Result<Option<Object>, TierError> {
        let object = self.current(key);
        bump(&self.counts.gets, 1);
        bump(&self.counts.get_bytes, object.as_ref().map_or(0, |o| o.data.len() as u64));
        Ok(object)
    }

    async fn head(&self, key: &str) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        bump(&self.counts.heads, 1);
        Ok(self.current(key).map(|o| o.meta))
    }

    async fn put(&self, object: Object) -> Result<Arc<ObjectMeta>, TierError> {
        bump(&self.counts.puts, 1);
        bump(&self.counts.put_bytes, object.data.len() as u64);
        let mut meta = (*object.meta).clone();
        meta.etag = Some(self.etag());
        let stored = Object::new(meta, object.data);
        let meta = stored.meta.clone();
        self.slots.lock().insert(meta.key.clone(), Slot::Stored(stored));
        Ok(meta)
    }

    async fn delete(&self, key: &str) -> Result<bool, TierError> {
        bump(&self.counts.deletes, 1);
        let mut slots = self.slots.lock();
        let existed = slots.get(key).is_some_and(|s| !matches!(s, Slot::Deleted));
        if existed {
            slots.insert(key.to_string(), Slot::Deleted);
        }
        Ok(existed)
    }

    async fn set_expiry(&self, key: &str, expires_ms: Option<u64>) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        let Some(object) = self.current(key) else { return Ok(None) };
        let mut meta = (*object.meta).clone();
        meta.expires_ms = expires_ms;
        let stored = Object::new(meta, object.data);
        let meta = stored.meta.clone();
        self.slots.lock().insert(key.to_string(), Slot::Stored(stored));
        Ok(Some(meta))
    }

    fn list(&self, prefix: &str) -> KeyStream {
        let slots = self.slots.lock();
        let keys: Vec<_> = slots
            .iter()
            .filter(|(k, s)| k.starts_with(prefix) && !matches!(s, Slot::Deleted))
            .map(|(k, _)| Ok(k.clone()))
            .collect();
        Box::pin(futures::stream::iter(keys))
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64, TierError> {
        let mut slots = self.slots.lock();
        let mut removed = 0;
        for (_, slot) in slots.iter_mut().filter(|(k, s)| k.starts_with(prefix) && !matches!(s, Slot::Deleted)) {
            *slot = Slot::Deleted;
            removed += 1;
        }
        Ok(removed)
    }
}

impl SourceTier for SimCold {}

/// Bytes an object of `size` under `key` costs a cache tier in a replay
/// (value + metadata, as [`Object::footprint`] counts it).
pub fn footprint(key: &str, size: u64) -> u64 {
    sim_meta(key, size, "0".repeat(64), format!("\"{:016x}\"", 0)).footprint() + size
}

/// The metadata of a bucket object that was there before the trace began.
fn sim_meta(key: &str, size: u64, checksum: String, etag: String) -> ObjectMeta {
    ObjectMeta {
        key: key.to_string(),
        size,
        original_size: size,
        created_ms: 0,
        expires_ms: None,
        checksum,
        codec: Codec::Identity,
        content_type: None,
        metadata: Default::default(),
        etag: Some(etag),
        validated_ms: None,
    }
}
