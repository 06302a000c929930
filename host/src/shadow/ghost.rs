//! The ghost tiers a shadow policy decides on: ids, sizes and metadata, no
//! data.
//!
//! - hot is the engine's own [`MemoryTier`] (the engine reads it on its hit
//!   path), holding values that are slices of one shared buffer of zeros
//!   ([`Zeros`]): a resident costs its metadata and a slice handle, and the
//!   tier counts exactly the bytes the live hot tier counts for the same
//!   object (value + metadata);
//! - [`GhostWarm`] counts each object as the disk tier counts its file
//!   (header + value + chunk table), so its budget fills as the live warm
//!   tier's does;
//! - [`GhostCold`] holds nothing: before each request the shadow tells it
//!   the live metadata of the object the request is about ([`GhostCold::expect`]),
//!   and a read answers with that metadata and zeros. An object is in cold
//!   whenever the live store served it, which is what matters to the
//!   shadow's counts.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::Mutex;

use tiered::clock::Clock;
use tiered::object::{Object, ObjectMeta};
use tiered::store::{Access, CacheTier, KeyStream, Resident, SourceTier, Tier, Usage};
use tiered::{TierError, TierErrorKind};

/// Largest value a ghost tier will hold: the zeros behind every ghost value
/// are one allocation of at most this many bytes (allocated lazily and never
/// written, so the kernel backs them with its shared zero page). A larger
/// object is left uncached by the shadow and counted as served by cold.
pub const MAX_GHOST_VALUE: u64 = 256 << 20;

/// One buffer of zeros that ghost values are slices of.
#[derive(Debug, Default)]
pub struct Zeros {
    buffer: Mutex<Bytes>,
}

impl Zeros {
    /// `len` zero bytes, sharing the buffer (grown to the next power of two).
    pub fn take(&self, len: u64) -> Bytes {
        let len = len.min(MAX_GHOST_VALUE) as usize;
        let mut buffer = self.buffer.lock();
        if buffer.len() < len {
            *buffer = Bytes::from(vec![0u8; len.next_power_of_two()]);
        }
        buffer.slice(..len)
    }
}

/// The bytes the disk tier's file for `meta` takes: header, value, chunk table.
pub fn file_len(meta: &ObjectMeta) -> u64 {
    let header = tiered::store::format::encode_header(meta, 0, 0).map_or(0, |h| h.len() as u64);
    header + meta.size + tiered::store::format::table_len(meta.size)
}

/// One ghost resident: the metadata the live tier would hold and how it was read.
#[derive(Debug)]
struct Ghost {
    meta: Arc<ObjectMeta>,
    footprint: u64,
    access: Access,
}

/// The warm tier of a shadow: the disk tier's accounting, no files.
#[derive(Debug)]
pub struct GhostWarm {
    capacity: u64,
    zeros: Arc<Zeros>,
    clock: Arc<dyn Clock>,
    state: Mutex<WarmState>,
}

#[derive(Debug, Default)]
struct WarmState {
    residents: HashMap<String, Ghost>,
    bytes: u64,
}

impl GhostWarm {
    pub fn new(capacity: u64, zeros: Arc<Zeros>, clock: Arc<dyn Clock>) -> GhostWarm {
        GhostWarm { capacity, zeros, clock, state: Mutex::default() }
    }

    fn read(&self, key: &str) -> Option<Arc<ObjectMeta>> {
        let now = self.clock.now_ms();
        let mut state = self.state.lock();
        let ghost = state.residents.get_mut(key)?;
        ghost.access.last_ms = now;
        ghost.access.count += 1;
        Some(ghost.meta.clone())
    }

    fn remove(state: &mut WarmState, key: &str) -> bool {
        match state.residents.remove(key) {
            Some(ghost) => {
                state.bytes -= ghost.footprint;
                true
            }
            None => false,
        }
    }
}

#[async_trait]
impl Tier for GhostWarm {
    fn name(&self) -> &'static str {
        "ghost-disk"
    }

    async fn get(&self, key: &str) -> Result<Option<Object>, TierError> {
        Ok(self.read(key).map(|meta| Object { data: self.zeros.take(meta.size), meta }))
    }

    async fn head(&self, key: &str) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        Ok(self.state.lock().residents.get(key).map(|g| g.meta.clone()))
    }

    async fn put(&self, object: Object) -> Result<Arc<ObjectMeta>, TierError> {
        // The disk tier's admission: the object alone within the budget.
        if object.footprint() > self.capacity || object.meta.size > MAX_GHOST_VALUE {
            let message = format!("object of {} bytes exceeds the ghost tier's budget", object.footprint());
            return Err(TierError::new(TierErrorKind::Rejected, self.name(), message));
        }
        let footprint = file_len(&object.meta);
        let access = Access { last_ms: self.clock.now_ms(), count: 0 };
        let mut state = self.state.lock();
        Self::remove(&mut state, &object.meta.key);
        state.bytes += footprint;
        let ghost = Ghost { meta: object.meta.clone(), footprint, access };
        state.residents.insert(object.meta.key.clone(), ghost);
        Ok(object.meta)
    }

    async fn delete(&self, key: &str) -> Result<bool, TierError> {
        Ok(Self::remove(&mut self.state.lock(), key))
    }

    async fn set_expiry(&self, key: &str, expires_ms: Option<u64>) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        let mut state = self.state.lock();
        let Some(ghost) = state.residents.get_mut(key) else { return Ok(None) };
        let meta = Arc::new(ObjectMeta { expires_ms, ..(*ghost.meta).clone() });
        let footprint = file_len(&meta);
        let before = std::mem::replace(&mut ghost.footprint, footprint);
        ghost.meta = meta.clone();
        state.bytes = state.bytes - before + footprint;
        Ok(Some(meta))
    }

    fn list(&self, prefix: &str) -> KeyStream {
        let keys: Vec<String> = self.state.lock().residents.keys().filter(|k| k.starts_with(prefix)).cloned().collect();
        Box::pin(futures::stream::iter(keys.into_iter().map(Ok)))
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64, TierError> {
        let mut state = self.state.lock();
        let keys: Vec<String> = state.residents.keys().filter(|k| k.starts_with(prefix)).cloned().collect();
        for key in &keys {
            Self::remove(&mut state, key);
        }
        Ok(keys.len() as u64)
    }
}

impl CacheTier for GhostWarm {
    fn usage(&self) -> Usage {
        let state = self.state.lock();
        Usage { bytes: state.bytes, objects: state.residents.len() as u64, capacity: Some(self.capacity) }
    }

    fn residents(&self) -> Vec<Resident> {
        let state = self.state.lock();
        let resident = |(key, g): (&String, &Ghost)| Resident {
            key: key.clone(),
            footprint: g.footprint,
            created_ms: g.meta.created_ms,
            expires_ms: g.meta.expires_ms,
            access: g.access,
        };
        state.residents.iter().map(resident).collect()
    }
}

/// The cold tier of a shadow: it answers for the object of the request being
/// replayed, with the live store's metadata for it.
#[derive(Debug)]
pub struct GhostCold {
    zeros: Arc<Zeros>,
    current: Mutex<Option<Arc<ObjectMeta>>>,
}

impl GhostCold {
    pub fn new(zeros: Arc<Zeros>) -> GhostCold {
        GhostCold { zeros, current: Mutex::new(None) }
    }

    /// The object the next request is about, as the live store has it.
    pub fn expect(&self, meta: Option<Arc<ObjectMeta>>) {
        *self.current.lock() = meta;
    }

    fn current(&self, key: &str) -> Option<Arc<ObjectMeta>> {
        self.current.lock().as_ref().filter(|m| m.key == key).cloned()
    }
}

#[async_trait]
impl Tier for GhostCold {
    fn name(&self) -> &'static str {
        "ghost-cold"
    }

    async fn get(&self, key: &str) -> Result<Option<Object>, TierError> {
        Ok(self.current(key).map(|meta| Object { data: self.zeros.take(meta.size), meta }))
    }

    async fn head(&self, key: &str) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        Ok(self.current(key))
    }

    /// Stores nothing; the ETag is the live one, so ghost metadata costs what
    /// the live copies' does.
    async fn put(&self, object: Object) -> Result<Arc<ObjectMeta>, TierError> {
        let etag = self.current(&object.meta.key).and_then(|m| m.etag.clone()).or(object.meta.etag.clone());
        Ok(Arc::new(ObjectMeta { etag, ..(*object.meta).clone() }))
    }

    async fn delete(&self, key: &str) -> Result<bool, TierError> {
        Ok(self.current(key).is_some())
    }

    async fn set_expiry(&self, key: &str, expires_ms: Option<u64>) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        Ok(self.current(key).map(|m| Arc::new(ObjectMeta { expires_ms, ..(*m).clone() })))
    }

    fn list(&self, _prefix: &str) -> KeyStream {
        Box::pin(futures::stream::empty())
    }

    async fn delete_prefix(&self, _prefix: &str) -> Result<u64, TierError> {
        Ok(0)
    }
}

impl SourceTier for GhostCold {}

/// Copies `metas` into the ghost `tier` (values of zeros); the count copied.
pub async fn seed(tier: &dyn Tier, metas: Vec<Arc<ObjectMeta>>, zeros: &Zeros) -> u64 {
    let mut copied = 0;
    for meta in metas.into_iter().filter(|m| m.size <= MAX_GHOST_VALUE) {
        if tier.put(Object { data: zeros.take(meta.size), meta }).await.is_ok() {
            copied += 1;
        }
    }
    copied
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiered::clock::ManualClock;

    fn meta(key: &str, size: u64) -> Arc<ObjectMeta> {
        Arc::new(ObjectMeta {
            key: key.into(),
            size,
            original_size: size,
            created_ms: 1,
            expires_ms: None,
            checksum: "0".repeat(64),
            codec: Default::default(),
            content_type: None,
            metadata: Default::default(),
            etag: Some("e".repeat(34)),
            validated_ms: None,
        })
    }

    #[tokio::test]
    async fn the_warm_ghost_counts_what_the_disk_tier_counts_and_holds_no_data() {
        let dir = tempfile::tempdir().unwrap();
        let disk = tiered::store::DiskTier::open(dir.path(), 1 << 30).unwrap();
        let zeros = Arc::new(Zeros::default());
        let ghost = GhostWarm::new(1 << 30, zeros.clone(), Arc::new(ManualClock::new(5)));
        for (i, size) in [0u64, 1, 4096, 300_000, 1 << 20].into_iter().enumerate() {
            let m = meta(&format!("k/{i}"), size);
            disk.put(Object { meta: m.clone(), data: Bytes::from(vec![7u8; size as usize]) }).await.unwrap();
            ghost.put(Object { meta: m, data: zeros.take(size) }).await.unwrap();
            assert_eq!(ghost.usage(), disk.usage(), "after {size} bytes");
        }
        assert!(ghost.delete("k/2").await.unwrap());
        assert!(disk.delete("k/2").await.unwrap());
        assert_eq!(ghost.usage(), disk.usage());
        let read = ghost.get("k/4").await.unwrap().unwrap();
        assert_eq!(read.data.len(), 1 << 20);
        assert_eq!(ghost.residents().iter().find(|r| r.key == "k/4").unwrap().access.count, 1);
    }

    #[tokio::test]
    async fn the_cold_ghost_answers_only_for_the_request_it_expects() {
        let cold = GhostCold::new(Arc::new(Zeros::default()));
        assert!(cold.get("a").await.unwrap().is_none());
        cold.expect(Some(meta("a", 10)));
        assert_eq!(cold.get("a").await.unwrap().unwrap().data.len(), 10);
        assert!(cold.get("b").await.unwrap().is_none());
        cold.expect(None);
        assert!(cold.head("a").await.unwrap().is_none());
    }
}
