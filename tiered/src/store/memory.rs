//! The hot tier: objects in memory, in maps split into shards so that
//! concurrent readers rarely meet on one lock.
//!
//! The byte budget counts key + value + metadata ([`Object::footprint`]) across
//! all shards. The tier never evicts on its own: the engine's eviction order
//! (the policy's, or the host's CLOCK) names what leaves.
//!
//! [`MemoryTier::get_at`] is the engine's hit path: one shard lock, a lookup
//! that moves nothing (the order lives in the engine), the access statistics
//! updated, an expired entry dropped, no allocation beyond two
//! reference-count increments.

use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use parking_lot::Mutex;
use std::collections::HashMap;

use super::{Access, CacheTier, KeyStream, Resident, Tier, Usage};
use crate::clock::{Clock, SystemClock};
use crate::error::{TierError, TierErrorKind};
use crate::object::{Object, ObjectMeta};

const SHARDS: usize = 64;

/// What [`MemoryTier::get_at`] found.
#[derive(Debug)]
pub enum HotRead {
    Hit(Object),
    Miss,
    /// The entry had expired: it was removed.
    Expired,
}

impl HotRead {
    /// The object of a hit.
    pub fn hit(self) -> Option<Object> {
        match self {
            HotRead::Hit(object) => Some(object),
            HotRead::Miss | HotRead::Expired => None,
        }
    }
}

/// The in-memory hot tier.
#[derive(Debug)]
pub struct MemoryTier {
    shards: Box<[Shard]>,
    /// Picks a shard from a key; fixed so a key always lands in one shard.
    hasher: foldhash::fast::FixedState,
    capacity: u64,
    bytes: AtomicU64,
    objects: AtomicU64,
    clock: Arc<dyn Clock>,
}

/// One lock's worth of the map, padded to its own cache lines.
#[derive(Debug)]
#[repr(align(128))]
struct Shard(Mutex<ShardMap>);

/// A shard's map and its hit counters (counted under the shard's lock, so the
/// hit path touches no shared counter).
#[derive(Debug)]
struct ShardMap {
    /// Keyed by the object's key; no order (the engine keeps it).
    map: HashMap<String, Entry, foldhash::fast::RandomState>,
    hits: u64,
    misses: u64,
}

#[derive(Debug)]
struct Entry {
    object: Object,
    footprint: u64,
    access: Access,
}

impl MemoryTier {
    /// A hot tier holding at most `capacity` bytes, on the system clock.
    pub fn new(capacity: u64) -> Self {
        Self::with_clock(capacity, Arc::new(SystemClock))
    }

    pub fn with_clock(capacity: u64, clock: Arc<dyn Clock>) -> Self {
        let shards =
            (0..SHARDS).map(|_| Shard(Mutex::new(ShardMap { map: HashMap::default(), hits: 0, misses: 0 }))).collect();
        MemoryTier {
            shards,
            hasher: foldhash::fast::FixedState::with_seed(0x7469_6572_6564),
            capacity,
            bytes: AtomicU64::new(0),
            objects: AtomicU64::new(0),
            clock,
        }
    }

    fn shard(&self, key: &str) -> &Mutex<ShardMap> {
        let i = self.hasher.hash_one(key) as usize & (SHARDS - 1);
        &self.shards[i].0
    }

    /// The hit path: the live object, its access statistics bumped. An expired
    /// entry is removed and reported as [`HotRead::Expired`].
    pub fn get_at(&self, key: &str, now_ms: u64) -> HotRead {
        let mut guard = self.shard(key).lock();
        let shard = &mut *guard;
        let Some(entry) = shard.map.get_mut(key) else {
            shard.misses += 1;
            return HotRead::Miss;
        };
        if entry.object.meta.is_expired(now_ms) {
            let footprint = entry.footprint;
            shard.map.remove(key);
            shard.misses += 1;
            drop(guard);
            self.account_removed(footprint);
            return HotRead::Expired;
        }
        entry.access.last_ms = now_ms;
        entry.access.count += 1;
        let object = entry.object.clone();
        shard.hits += 1;
        HotRead::Hit(object)
    }

    /// Bytes left before the budget is reached.
    pub fn usage_bytes_free(&self) -> u64 {
        self.capacity.saturating_sub(self.bytes.load(Ordering::Relaxed))
    }

    /// Hits and misses counted by [`get_at`](Self::get_at).
    pub fn hit_counts(&self) -> (u64, u64) {
        self.shards.iter().fold((0, 0), |(h, m), s| {
            let s = s.0.lock();
            (h + s.hits, m + s.misses)
        })
    }

    /// The object without counting an access.
    pub fn peek(&self, key: &str) -> Option<Object> {
        self.shard(key).lock().map.get(key).map(|e| e.object.clone())
    }

    fn insert(&self, object: Object, now_ms: u64) -> Result<(), TierError> {
        let footprint = object.footprint();
        if footprint > self.capacity {
            return Err(TierError::new(
                TierErrorKind::Rejected,
                self.name(),
                format!("object of {footprint} bytes exceeds the tier's budget of {} bytes", self.capacity),
            ));
        }
        let key = object.meta.key.clone();
        let entry = Entry { object, footprint, access: Access { last_ms: now_ms, count: 0 } };
        let old = self.shard(&key).lock().map.insert(key, entry);
        self.bytes.fetch_add(footprint, Ordering::Relaxed);
        self.objects.fetch_add(1, Ordering::Relaxed);
        if let Some(old) = old {
            self.account_removed(old.footprint);
        }
        Ok(())
    }

    fn remove(&self, key: &str) -> bool {
        let removed = self.shard(key).lock().map.remove(key);
        match removed {
            Some(entry) => {
                self.account_removed(entry.footprint);
                true
            }
            None => false,
        }
    }

    fn account_removed(&self, footprint: u64) {
        self.bytes.fetch_sub(footprint, Ordering::Relaxed);
        self.objects.fetch_sub(1, Ordering::Relaxed);
    }

    fn matching_keys(&self, prefix: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for shard in self.shards.iter() {
            keys.extend(shard.0.lock().map.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(k, _)| k.clone()));
        }
        keys
    }

    fn resident(key: &str, entry: &Entry) -> Resident {
        Resident {
            key: key.to_string(),
            footprint: entry.footprint,
            created_ms: entry.object.meta.created_ms,
            expires_ms: entry.object.meta.expires_ms,
            access: entry.access,
        }
    }
}

#[async_trait]
impl Tier for MemoryTier {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn get(&self, key: &str) -> Result<Option<Object>, TierError> {
        let mut shard = self.shard(key).lock();
        Ok(shard.map.get_mut(key).map(|entry| {
            entry.access.last_ms = self.clock.now_ms();
            entry.access.count += 1;
            entry.object.clone()
        }))
    }

    async fn head(&self, key: &str) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        Ok(self.shard(key).lock().map.get(key).map(|e| e.object.meta.clone()))
    }

    async fn put(&self, object: Object) -> Result<Arc<ObjectMeta>, TierError> {
        let meta = object.meta.clone();
        self.insert(object, self.clock.now_ms())?;
        Ok(meta)
    }

    async fn delete(&self, key: &str) -> Result<bool, TierError> {
        Ok(self.remove(key))
    }

    async fn set_expiry(&self, key: &str, expires_ms: Option<u64>) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        let mut shard = self.shard(key).lock();
        Ok(shard.map.get_mut(key).map(|entry| {
            let mut meta = (*entry.object.meta).clone();
            meta.expires_ms = expires_ms;
            entry.object.meta = Arc::new(meta);
            entry.object.meta.clone()
        }))
    }

    fn list(&self, prefix: &str) -> KeyStream {
        Box::pin(futures::stream::iter(self.matching_keys(prefix).into_iter().map(Ok)))
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64, TierError> {
        let removed = self.matching_keys(prefix).iter().filter(|k| self.remove(k)).count();
        Ok(removed as u64)
    }
}

impl CacheTier for MemoryTier {
    fn usage(&self) -> Usage {
        Usage {
            bytes: self.bytes.load(Ordering::Relaxed),
            objects: self.objects.load(Ordering::Relaxed),
            capacity: Some(self.capacity),
        }
    }

    fn residents(&self) -> Vec<Resident> {
        let mut all = Vec::new();
        for shard in self.shards.iter() {
            all.extend(shard.0.lock().map.iter().map(|(k, e)| Self::resident(k, e)));
        }
        all
    }
}
