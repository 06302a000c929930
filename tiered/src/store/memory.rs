//! The hot tier: objects in memory, in maps split into shards so that
//! concurrent readers rarely meet on one lock.
//!
//! The byte budget counts key + value + metadata ([`Object::footprint`]) across
//! all shards. The tier never evicts on its own: the engine's eviction order
//! (the policy's, or the host's CLOCK) names what leaves.
//!
//! Entries are found by the key's object id ([`crate::key_id`]): its high
//! half picks the shard, the whole id is the shard table's hash, and the
//! key is compared on a match (two keys may share an id and both be held;
//! the id is computed again only when a table grows). A key of up to 22
//! bytes is held in its entry, so comparing it costs no memory access of
//! its own.
//! [`MemoryTier::get_at`] is the engine's hit path and takes the id the
//! engine already computed ([`HashedKey`]): no hash of its own, one shard
//! lock, a lookup that moves nothing (the order lives in the engine), the
//! access statistics updated, an expired entry dropped, no allocation
//! beyond two reference-count increments. It reads the exact time only for
//! an entry that can expire; the access statistics take the clock's
//! recent time ([`Clock::recent_ms`]). [`MemoryTier::value_at`] is the
//! same for a reader that wants the value alone: an entry keeps its expiry
//! and whether it is stored as is beside the object, so such a hit clones
//! the value's handle and never touches the metadata.
//!
//! **Recorded reads.** [`MemoryTier::value_recorded`] and
//! [`MemoryTier::get_recorded`] also push the hit's id onto its shard's
//! read buffer, under the lock the lookup holds anyway; a hit that fills
//! the buffer hands its [`READ_BATCH`] ids to the caller after the lock is
//! released, and [`MemoryTier::take_reads`] empties every buffer. The
//! engine feeds them to the frequency sketch and the eviction order, so a
//! hit takes one lock, not three.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry as Slot;
use parking_lot::Mutex;

use super::{Access, CacheTier, KeyStream, Resident, Tier, Usage};
use crate::clock::{Clock, SystemClock};
use crate::error::{TierError, TierErrorKind};
use crate::key_id::{HashedKey, object_id};
use crate::object::{Codec, Object, ObjectMeta};
use crate::policy::ObjectId;

const SHARDS: usize = 64;

/// Ids of recorded hits a shard holds before a hit hands them on.
pub const READ_BATCH: usize = 32;

/// What [`MemoryTier::get_at`] (`T`: the object) or
/// [`MemoryTier::value_at`] (`T`: [`HotValue`]) found.
#[derive(Debug)]
pub enum HotRead<T = Object> {
    Hit(T),
    Miss,
    /// The entry had expired: it was removed.
    Expired,
}

impl<T> HotRead<T> {
    /// What a hit took.
    pub fn hit(self) -> Option<T> {
        match self {
            HotRead::Hit(taken) => Some(taken),
            HotRead::Miss | HotRead::Expired => None,
        }
    }
}

/// The value of a hit, for a reader that wants it alone.
#[derive(Debug)]
pub enum HotValue {
    /// Stored as is ([`Codec::Identity`]): the bytes, the metadata untouched.
    Plain(Bytes),
    /// Stored encoded: the object, whose metadata says how to decode it.
    Encoded(Object),
}

/// The in-memory hot tier.
#[derive(Debug)]
pub struct MemoryTier {
    shards: Box<[Shard]>,
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
    /// Hashed by object id, matched by key; no order (the engine keeps it).
    map: HashTable<Entry>,
    hits: u64,
    misses: u64,
    /// Ids of recorded hits not yet handed on.
    reads: Reads,
}

/// A shard's read buffer.
#[derive(Debug)]
struct Reads {
    len: usize,
    ids: [ObjectId; READ_BATCH],
}

impl Reads {
    /// Record `id`; the whole batch when that filled the buffer (emptied).
    fn push(&mut self, id: ObjectId) -> Option<[ObjectId; READ_BATCH]> {
        self.ids[self.len] = id;
        self.len += 1;
        if self.len < READ_BATCH {
            return None;
        }
        self.len = 0;
        Some(self.ids)
    }
}

/// A held object, with what a hit needs of its metadata beside it: a hit
/// for the value alone reads this entry (and a long key's bytes), nothing
/// else.
#[derive(Debug)]
struct Entry {
    key: HeldKey,
    object: Object,
    /// `object.meta.expires_ms`, `u64::MAX` for none.
    expires_at: u64,
    /// `object.meta.codec` is identity: the stored bytes are the value.
    plain: bool,
    footprint: u64,
    access: Access,
}

impl Entry {
    fn new(key: HeldKey, object: Object, footprint: u64, now_ms: u64) -> Entry {
        let plain = object.meta.codec == Codec::Identity;
        let expires_at = object.meta.expires_ms.unwrap_or(u64::MAX);
        Entry { key, object, expires_at, plain, footprint, access: Access { last_ms: now_ms, count: 0 } }
    }

    /// [`ObjectMeta::is_expired`], from the copy kept in the entry.
    fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at <= now_ms
    }

    /// Whether this is the entry of `key`.
    fn is(&self, key: &HashedKey<'_>) -> bool {
        self.key.as_bytes() == key.key().as_bytes()
    }

    /// The entry's hash in its table, for a table that grows.
    fn id(&self) -> ObjectId {
        object_id(self.key.as_str())
    }
}

/// Bytes of a key held in its entry.
const INLINE: usize = 22;

/// A held key: up to [`INLINE`] bytes in the entry itself, so a hit
/// compares it without another memory access; a longer one on the heap.
#[derive(Debug, PartialEq, Eq)]
enum HeldKey {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl HeldKey {
    fn new(key: &str) -> HeldKey {
        let len = key.len();
        if len > INLINE {
            return HeldKey::Heap(key.into());
        }
        let mut bytes = [0; INLINE];
        bytes[..len].copy_from_slice(key.as_bytes());
        HeldKey::Inline { len: len as u8, bytes }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            HeldKey::Inline { len, bytes } => &bytes[..usize::from(*len)],
            HeldKey::Heap(key) => key.as_bytes(),
        }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).expect("a held key was a str")
    }
}

impl ShardMap {
    fn get_mut(&mut self, key: &HashedKey<'_>) -> Option<&mut Entry> {
        self.map.find_mut(key.id(), |e| e.is(key))
    }

    fn remove(&mut self, key: &HashedKey<'_>) -> Option<Entry> {
        self.map.find_entry(key.id(), |e| e.is(key)).ok().map(|found| found.remove().0)
    }
}

impl MemoryTier {
    /// A hot tier holding at most `capacity` bytes, on the system clock.
    pub fn new(capacity: u64) -> Self {
        Self::with_clock(capacity, Arc::new(SystemClock))
    }

    pub fn with_clock(capacity: u64, clock: Arc<dyn Clock>) -> Self {
        let shards = (0..SHARDS)
            .map(|_| {
                let reads = Reads { len: 0, ids: [0; READ_BATCH] };
                Shard(Mutex::new(ShardMap { map: HashTable::new(), hits: 0, misses: 0, reads }))
            })
            .collect();
        MemoryTier { shards, capacity, bytes: AtomicU64::new(0), objects: AtomicU64::new(0), clock }
    }

    /// The shard of `key`: the high half of its id picks it (the table in
    /// the shard uses the low bits and the top seven).
    fn shard(&self, key: &HashedKey<'_>) -> &Mutex<ShardMap> {
        self.shard_of(key.id())
    }

    fn shard_of(&self, id: ObjectId) -> &Mutex<ShardMap> {
        &self.shards[(id >> 32) as usize & (SHARDS - 1)].0
    }

    /// The hit path: the live object, its access statistics bumped. An expired
    /// entry (by `clock`, read only for an entry that can expire) is removed
    /// and reported as [`HotRead::Expired`].
    pub fn get_at(&self, key: &HashedKey<'_>, clock: &dyn Clock) -> HotRead {
        self.lookup(key, clock, |entry| entry.object.clone(), None::<fn(&[ObjectId])>)
    }

    /// [`get_at`](Self::get_at) that records a hit's id in its shard's read
    /// buffer; a hit that fills the buffer passes its ids to `full`, once
    /// the shard's lock is released.
    pub fn get_recorded(&self, key: &HashedKey<'_>, clock: &dyn Clock, full: impl FnOnce(&[ObjectId])) -> HotRead {
        self.lookup(key, clock, |entry| entry.object.clone(), Some(full))
    }

    /// [`get_at`](Self::get_at) for a reader that wants the value alone: a
    /// value stored as is comes without its metadata.
    pub fn value_at(&self, key: &HashedKey<'_>, clock: &dyn Clock) -> HotRead<HotValue> {
        self.lookup(key, clock, Self::value_of, None::<fn(&[ObjectId])>)
    }

    /// [`value_at`](Self::value_at) that records a hit's id, as
    /// [`get_recorded`](Self::get_recorded) does.
    pub fn value_recorded(
        &self,
        key: &HashedKey<'_>,
        clock: &dyn Clock,
        full: impl FnOnce(&[ObjectId]),
    ) -> HotRead<HotValue> {
        self.lookup(key, clock, Self::value_of, Some(full))
    }

    fn value_of(entry: &Entry) -> HotValue {
        if entry.plain { HotValue::Plain(entry.object.data.clone()) } else { HotValue::Encoded(entry.object.clone()) }
    }

    /// Empties every shard's read buffer, passing each one's ids to `each`
    /// (outside the shard's lock).
    pub fn take_reads(&self, mut each: impl FnMut(&[ObjectId])) {
        for shard in self.shards.iter() {
            Self::take_shard_reads(&shard.0, &mut each);
        }
    }

    /// Empties the read buffer of the shard of `id`, the one that holds
    /// every recorded hit of `id` not yet handed on.
    pub fn take_reads_of(&self, id: ObjectId, mut each: impl FnMut(&[ObjectId])) {
        Self::take_shard_reads(self.shard_of(id), &mut each);
    }

    fn take_shard_reads(shard: &Mutex<ShardMap>, each: &mut impl FnMut(&[ObjectId])) {
        let mut shard = shard.lock();
        let len = std::mem::take(&mut shard.reads.len);
        if len == 0 {
            return;
        }
        let ids = shard.reads.ids;
        drop(shard);
        each(&ids[..len]);
    }

    /// The live entry of `key`, its access counted (and its id recorded,
    /// with `full` for a full buffer) and `take`n from under the shard's
    /// lock; an expired entry is removed.
    fn lookup<T>(
        &self,
        key: &HashedKey<'_>,
        clock: &dyn Clock,
        take: impl FnOnce(&Entry) -> T,
        full: Option<impl FnOnce(&[ObjectId])>,
    ) -> HotRead<T> {
        let mut guard = self.shard(key).lock();
        let shard = &mut *guard;
        let Ok(mut found) = shard.map.find_entry(key.id(), |e| e.is(key)) else {
            shard.misses += 1;
            return HotRead::Miss;
        };
        let entry = found.get_mut();
        if entry.expires_at != u64::MAX && entry.is_expired(clock.now_ms()) {
            let footprint = entry.footprint;
            found.remove();
            shard.misses += 1;
            drop(guard);
            self.account_removed(footprint);
            return HotRead::Expired;
        }
        entry.access.read_at(clock.recent_ms());
        let taken = take(entry);
        shard.hits += 1;
        let batch = if full.is_some() { shard.reads.push(key.id()) } else { None };
        drop(guard);
        if let (Some(ids), Some(full)) = (batch, full) {
            full(&ids);
        }
        HotRead::Hit(taken)
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
        let key = HashedKey::new(key);
        self.shard(&key).lock().get_mut(&key).map(|e| e.object.clone())
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
        let key = HeldKey::new(&object.meta.key);
        let id = object_id(&object.meta.key);
        let shard = self.shard_of(id);
        let entry = Entry::new(key, object, footprint, now_ms);
        let old = match shard.lock().map.entry(id, |e| e.key == entry.key, Entry::id) {
            Slot::Occupied(mut found) => Some(std::mem::replace(found.get_mut(), entry)),
            Slot::Vacant(free) => {
                free.insert(entry);
                None
            }
        };
        self.bytes.fetch_add(footprint, Ordering::Relaxed);
        self.objects.fetch_add(1, Ordering::Relaxed);
        if let Some(old) = old {
            self.account_removed(old.footprint);
        }
        Ok(())
    }

    fn remove(&self, key: &str) -> bool {
        let key = HashedKey::new(key);
        let removed = self.shard(&key).lock().remove(&key);
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
            let shard = shard.0.lock();
            keys.extend(shard.map.iter().map(|e| e.key.as_str()).filter(|k| k.starts_with(prefix)).map(str::to_string));
        }
        keys
    }

    fn resident(entry: &Entry) -> Resident {
        Resident {
            key: entry.key.as_str().to_string(),
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
        let key = HashedKey::new(key);
        let mut shard = self.shard(&key).lock();
        Ok(shard.get_mut(&key).map(|entry| {
            entry.access.read_at(self.clock.recent_ms());
            entry.object.clone()
        }))
    }

    async fn head(&self, key: &str) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        let key = HashedKey::new(key);
        Ok(self.shard(&key).lock().get_mut(&key).map(|e| e.object.meta.clone()))
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
        let key = HashedKey::new(key);
        let mut shard = self.shard(&key).lock();
        Ok(shard.get_mut(&key).map(|entry| {
            let mut meta = (*entry.object.meta).clone();
            meta.expires_ms = expires_ms;
            entry.object.meta = Arc::new(meta);
            entry.expires_at = expires_ms.unwrap_or(u64::MAX);
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
            all.extend(shard.0.lock().map.iter().map(Self::resident));
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn object(key: &str, codec: Codec, expires_ms: Option<u64>) -> Object {
        let data = Bytes::from_static(b"value");
        let meta = ObjectMeta {
            key: key.into(),
            size: data.len() as u64,
            original_size: data.len() as u64,
            created_ms: 0,
            expires_ms,
            checksum: crate::object::checksum(&data),
            codec,
            content_type: None,
            metadata: Default::default(),
            etag: None,
            validated_ms: None,
        };
        Object::new(meta, data)
    }

    #[tokio::test]
    async fn a_value_read_takes_the_bytes_alone_unless_they_are_encoded() -> Result<(), TierError> {
        let tier = MemoryTier::with_clock(1 << 20, Arc::new(ManualClock::new(100)));
        tier.put(object("plain", Codec::Identity, None)).await?;
        tier.put(object("gzipped", Codec::Gzip, None)).await?;
        let at = ManualClock::new(100);
        let plain = tier.value_at(&HashedKey::new("plain"), &at).hit();
        assert!(matches!(plain, Some(HotValue::Plain(data)) if &data[..] == b"value"));
        let gzipped = tier.value_at(&HashedKey::new("gzipped"), &at).hit();
        assert!(matches!(gzipped, Some(HotValue::Encoded(o)) if o.meta.key == "gzipped"));
        assert!(matches!(tier.value_at(&HashedKey::new("absent"), &at), HotRead::Miss));
        assert_eq!(tier.hit_counts(), (2, 1));
        Ok(())
    }

    #[tokio::test]
    async fn short_keys_held_inline_and_long_ones_behave_alike() -> Result<(), TierError> {
        let tier = MemoryTier::new(1 << 20);
        let (short, long) = ("k/".to_string() + &"s".repeat(INLINE - 2), "k/".to_string() + &"l".repeat(INLINE - 1));
        for key in [&short, &long] {
            tier.put(object(key, Codec::Identity, None)).await?;
            assert_eq!(tier.get(key).await?.map(|o| o.meta.key.clone()).as_deref(), Some(key.as_str()));
        }
        assert!(tier.get(&short[..INLINE - 1]).await?.is_none(), "a prefix of a held key is another key");
        let mut listed: Vec<String> = tier.matching_keys("k/");
        listed.sort();
        assert_eq!(listed, [long.clone(), short.clone()]);
        assert_eq!(tier.delete_prefix("k/").await?, 2);
        assert_eq!(tier.usage().objects, 0);
        Ok(())
    }

    /// A clock that counts its exact readings.
    #[derive(Debug, Default)]
    struct Counting {
        exact: AtomicU64,
    }

    impl Clock for Counting {
        fn now_ms(&self) -> u64 {
            self.exact.fetch_add(1, Ordering::Relaxed);
            100
        }

        fn recent_ms(&self) -> u64 {
            99
        }
    }

    #[tokio::test]
    async fn a_hit_reads_the_exact_time_only_for_an_entry_that_can_expire() -> Result<(), TierError> {
        let tier = MemoryTier::with_clock(1 << 20, Arc::new(ManualClock::new(0)));
        tier.put(object("forever", Codec::Identity, None)).await?;
        tier.put(object("until", Codec::Identity, Some(1_000))).await?;
        let clock = Counting::default();
        assert!(matches!(tier.value_at(&HashedKey::new("forever"), &clock), HotRead::Hit(_)));
        assert!(matches!(tier.get_at(&HashedKey::new("forever"), &clock), HotRead::Hit(_)));
        assert_eq!(clock.exact.load(Ordering::Relaxed), 0);
        assert!(matches!(tier.value_at(&HashedKey::new("until"), &clock), HotRead::Hit(_)));
        assert_eq!(clock.exact.load(Ordering::Relaxed), 1);
        // The access statistics take the recent time.
        let last = tier.residents().into_iter().find(|r| r.key == "forever").map(|r| r.access);
        assert_eq!(last.map(|a| (a.last_ms, a.count)), Some((99, 2)));
        Ok(())
    }

    #[tokio::test]
    async fn recorded_hits_are_handed_on_in_full_batches_and_on_demand() -> Result<(), TierError> {
        let tier = MemoryTier::new(1 << 20);
        tier.put(object("k", Codec::Identity, None)).await?;
        let key = HashedKey::new("k");
        let mut batches = Vec::new();
        for _ in 0..READ_BATCH + 3 {
            let read = tier.value_recorded(&key, &SystemClock, |ids| batches.push(ids.to_vec()));
            assert!(matches!(read, HotRead::Hit(_)));
        }
        assert_eq!(batches, [vec![key.id(); READ_BATCH]], "the hit that fills the buffer hands it on");
        // A miss and an unrecorded hit record nothing.
        let absent = tier.value_recorded(&HashedKey::new("absent"), &SystemClock, |_| panic!("a miss is no read"));
        assert!(matches!(absent, HotRead::Miss));
        assert!(matches!(tier.get_at(&key, &SystemClock), HotRead::Hit(_)));
        // The high half picks the shard: this id is in the next one.
        tier.take_reads_of(key.id() ^ (1 << 32), |_| panic!("another shard"));
        let mut taken = Vec::new();
        tier.take_reads_of(key.id(), |ids| taken.extend_from_slice(ids));
        assert_eq!(taken, [key.id(); 3]);
        tier.value_recorded(&key, &SystemClock, |_| {});
        taken.clear();
        tier.take_reads(|ids| taken.extend_from_slice(ids));
        assert_eq!(taken, [key.id()]);
        tier.take_reads(|_| panic!("the buffers were emptied"));
        Ok(())
    }

    #[tokio::test]
    async fn a_hit_sees_the_expiry_as_last_set() -> Result<(), TierError> {
        let tier = MemoryTier::with_clock(1 << 20, Arc::new(ManualClock::new(100)));
        tier.put(object("k", Codec::Identity, Some(50))).await?;
        tier.set_expiry("k", None).await?;
        assert!(matches!(tier.value_at(&HashedKey::new("k"), &ManualClock::new(100)), HotRead::Hit(_)));
        tier.set_expiry("k", Some(150)).await?;
        assert!(matches!(tier.get_at(&HashedKey::new("k"), &ManualClock::new(149)), HotRead::Hit(_)));
        assert!(matches!(tier.value_at(&HashedKey::new("k"), &ManualClock::new(150)), HotRead::Expired));
        assert_eq!(tier.usage().objects, 0, "an expired entry is removed");
        Ok(())
    }
}
