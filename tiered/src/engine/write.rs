//! Writes: invalidate the caches → write cold (the only durable step) → fill
//! the cache tiers the policy chose. The call returns only after cold has the
//! object, so a crash leaves either the old value everywhere or the new value
//! in cold with no stale copy above it. Delete and touch follow the same
//! order under the key's stripe lock.
//!
//! Writes from a spool file ([`TieredStore::set_file`]) run the same cascade
//! ([`TieredStore::write_through`]: same stripe lock, same order, same
//! acknowledgement only after cold has the object), with the bytes read from
//! a file by each tier instead of held in memory. A [`Payload`] is what a
//! write carries: an [`Object`] in memory, or a [`Spooled`] file with the
//! metadata that describes it. A file payload never fills the hot (memory)
//! tier: it is large by construction, and reading it into memory is what
//! spooling avoids. It fills warm when the policy places it there and it fits
//! the warm budget. No compression is applied (the codec is `identity`):
//! compressing would need the whole value or a second pass over the file.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;

use super::TieredStore;
use super::codec;
use crate::error::{Error, TierError};
use crate::key;
use crate::object::{Codec, Object, ObjectMeta, checksum};
use crate::policy::{Placement, TierId, TierSet, WriteInfo};
use crate::store::{Spooled, Tier};

/// Options of a write.
#[derive(Clone, Debug, Default)]
pub struct SetOptions {
    /// Time to live; the policy may override it (the default policy keeps it).
    pub ttl: Option<Duration>,
    /// Custom metadata, stored with the object.
    pub metadata: BTreeMap<String, String>,
    pub content_type: Option<String>,
    /// Cache tiers that must not receive this write, whatever the policy says.
    pub skip: TierSet,
    /// Override the store's compression setting for this write.
    pub compress: Option<bool>,
}

/// What a write did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SetOutcome {
    pub key: String,
    /// Stored size in bytes.
    pub size: u64,
    /// The ETag clients see.
    pub etag: String,
    /// Tiers now holding the object, hot first, cold last.
    pub tiers: Vec<TierId>,
    /// Whether a live value was replaced.
    pub replaced: bool,
    #[serde(skip)]
    pub meta: Arc<ObjectMeta>,
}

impl TieredStore {
    /// The policy's placement of a write of `size` stored bytes.
    pub(super) fn place_write(&self, key: &str, size: u64, options: &SetOptions, now_ms: u64) -> Placement {
        self.policy().place(&WriteInfo {
            key,
            size,
            content_type: options.content_type.as_deref(),
            metadata: &options.metadata,
            requested_ttl_ms: options.ttl.map(|t| t.as_millis().min(u128::from(u64::MAX)) as u64),
            now_ms,
        })
    }

    /// Store `value` under `key`. Returns once cold has it.
    pub async fn set(&self, key: &str, value: impl Into<Bytes>, options: SetOptions) -> Result<SetOutcome, Error> {
        key::validate(key)?;
        let inner = &self.inner;
        let value: Bytes = value.into();
        let compress =
            options.compress.unwrap_or(inner.config.compression) && value.len() >= inner.config.compress_min_bytes;
        let (stored, codec) =
            if compress { (codec::compress(&value), Codec::Gzip) } else { (value.clone(), Codec::Identity) };
        let now = inner.clock.now_ms();
        let placement = self.place_write(key, stored.len() as u64, &options, now);
        let meta = ObjectMeta {
            key: key.to_string(),
            size: stored.len() as u64,
            original_size: value.len() as u64,
            created_ms: now,
            expires_ms: placement.ttl_ms.map(|t| now.saturating_add(t)),
            checksum: checksum(&stored),
            codec,
            content_type: options.content_type,
            metadata: options.metadata,
            etag: None,
            validated_ms: None,
        };
        let object = Object::new(meta, stored);
        self.write_through(Payload::Memory(object), placement, options.skip, now).await
    }

    /// The cascade of every write, whatever holds the bytes: under the key's
    /// stripe lock, drop the cached copies → write cold (the only durable
    /// step) → fill the cache tiers chosen (`placement` minus `skip`), unless
    /// an invalidation overlapped the cold write.
    pub(super) async fn write_through(
        &self,
        payload: Payload<'_>,
        placement: Placement,
        skip: TierSet,
        now: u64,
    ) -> Result<SetOutcome, Error> {
        let inner = &self.inner;
        let key = payload.key().to_string();
        let key = key.as_str();
        let guard = inner.stripes.lock(key).await;
        inner.inflight.forget(key);
        let replaced = self.live_somewhere(key, now).await?;
        self.drop_copy(TierId::Hot, key).await;
        self.drop_copy(TierId::Warm, key).await;
        let before_cold = inner.stripes.ticket(key);
        let change = inner.stripes.changing(key);
        let stored_meta = payload.put(inner.cold.as_ref()).await.map_err(Error::ColdUnavailable)?;
        drop(change);
        // Readers arriving from now on must not join a flight that began
        // before cold had the new value (it may return the old one).
        inner.inflight.forget(key);
        let payload = payload.stored_as(stored_meta);
        let mut tiers = Vec::with_capacity(3);
        // No fill if an invalidation ran during the cold write or runs now:
        // it may have deleted this value from cold.
        let gate = inner.stripes.writer_fill_gate(before_cold);
        for tier in [TierId::Hot, TierId::Warm] {
            let chosen = gate.is_some() && placement.tiers.contains(tier) && !skip.contains(tier);
            if chosen
                && self.fits_bytes(tier, payload.footprint())
                && self.fill_payload(tier, &payload, placement.class).await
            {
                tiers.push(tier);
            }
        }
        tiers.push(TierId::Cold);
        drop(gate);
        drop(guard);
        self.enforce_budgets().await;
        let meta = payload.meta();
        Ok(SetOutcome { key: key.to_string(), size: meta.size, etag: meta.client_etag(), tiers, replaced, meta })
    }

    /// Remove `key` from every tier; `true` if cold had it.
    pub async fn delete(&self, key: &str) -> Result<bool, Error> {
        key::validate(key)?;
        let inner = &self.inner;
        let _guard = inner.stripes.lock(key).await;
        inner.inflight.forget(key);
        self.drop_copy(TierId::Hot, key).await;
        self.drop_copy(TierId::Warm, key).await;
        let change = inner.stripes.changing(key);
        let existed = inner.cold.delete(key).await.map_err(Error::ColdUnavailable)?;
        drop(change);
        inner.inflight.forget(key);
        Ok(existed)
    }

    /// Renew the TTL of `key`: it now expires `ttl` from now (`None`: never).
    /// Returns `false` when the key is absent or expired.
    pub async fn touch(&self, key: &str, ttl: Option<Duration>) -> Result<bool, Error> {
        key::validate(key)?;
        let inner = &self.inner;
        let now = inner.clock.now_ms();
        let expires = ttl.map(|t| now.saturating_add(t.as_millis().min(u128::from(u64::MAX)) as u64));
        let _guard = inner.stripes.lock(key).await;
        inner.inflight.forget(key);
        let live = inner.cold.head(key).await.map_err(Error::ColdUnavailable)?.is_some_and(|m| !m.is_expired(now));
        if !live {
            return Ok(false);
        }
        // Caches first: a copy whose expiry cannot be rewritten is dropped, so
        // no cache outlives the new expiry in either direction.
        for tier in [TierId::Hot, TierId::Warm] {
            if let Some(cache) = self.cache(tier)
                && let Err(err) = cache.set_expiry(key, expires).await
            {
                tracing::warn!(key, tier = cache.name(), %err, "could not renew a cached copy; dropping it");
                self.drop_copy(tier, key).await;
            }
        }
        let change = inner.stripes.changing(key);
        let updated = inner.cold.set_expiry(key, expires).await.map_err(Error::ColdUnavailable)?;
        drop(change);
        inner.inflight.forget(key);
        Ok(updated.is_some())
    }

    /// Whether any tier holds a live value for `key` (cold is asked last).
    async fn live_somewhere(&self, key: &str, now: u64) -> Result<bool, Error> {
        if let Some(object) = self.inner.hot.as_ref().and_then(|h| h.peek(key)) {
            return Ok(!object.meta.is_expired(now));
        }
        match self.inner.cold.head(key).await {
            Ok(meta) => Ok(meta.is_some_and(|m| !m.is_expired(now))),
            // A damaged cold object must not block the write that replaces it.
            Err(err) if err.kind() == crate::error::TierErrorKind::Corrupt => {
                tracing::warn!(key, %err, "replacing a corrupt cold object");
                Ok(true)
            }
            Err(err) => Err(Error::ColdUnavailable(err)),
        }
    }

    /// Whether `object` fits in the cache tier at all (a value larger than a
    /// tier's whole budget skips it rather than evicting everything).
    pub(crate) fn fits(&self, tier: TierId, object: &Object) -> bool {
        self.fits_bytes(tier, object.footprint())
    }

    /// Whether `footprint` bytes fit in the cache tier's whole budget.
    pub(crate) fn fits_bytes(&self, tier: TierId, footprint: u64) -> bool {
        self.cache(tier).is_some_and(|t| t.usage().capacity.is_none_or(|cap| footprint <= cap))
    }

    /// Copy into a cache tier, if the eviction order makes room for it; a
    /// failure is logged and counted, never fatal.
    pub(crate) async fn fill(&self, tier: TierId, object: Object) -> bool {
        self.fill_class(tier, object, 0).await
    }

    /// [`fill`](Self::fill) with the class `place` gave the object.
    pub(crate) async fn fill_class(&self, tier: TierId, object: Object, class: u8) -> bool {
        let Some(cache) = self.cache(tier) else { return false };
        let key = object.meta.key.clone();
        let Some(_filling) = self.make_room(tier, cache.as_ref(), &key, object.footprint(), class).await else {
            return false;
        };
        match cache.put(object).await {
            Ok(_) => true,
            Err(err) => {
                self.forget_copy(tier, &key);
                super::stats::bump(&self.inner.counters.tier(tier).errors);
                tracing::warn!(tier = cache.name(), %err, "could not fill cache tier; continuing without it");
                false
            }
        }
    }

    /// Drop a cached copy; a failure is logged and counted.
    pub(crate) async fn drop_copy(&self, tier: TierId, key: &str) {
        let Some(cache) = self.cache(tier) else { return };
        self.forget_copy(tier, key);
        if let Err(err) = cache.delete(key).await {
            super::stats::bump(&self.inner.counters.tier(tier).errors);
            tracing::warn!(key, tier = cache.name(), %err, "could not drop cached copy");
        }
    }
}

/// The bytes a write stores and where they are.
#[derive(Debug)]
pub(super) enum Payload<'a> {
    Memory(Object),
    File { meta: Arc<ObjectMeta>, file: &'a Spooled },
}

impl Payload<'_> {
    pub(super) fn key(&self) -> &str {
        match self {
            Payload::Memory(object) => &object.meta.key,
            Payload::File { meta, .. } => &meta.key,
        }
    }

    pub(super) fn meta(&self) -> Arc<ObjectMeta> {
        match self {
            Payload::Memory(object) => object.meta.clone(),
            Payload::File { meta, .. } => meta.clone(),
        }
    }

    /// Bytes it costs in a byte-bounded tier.
    pub(super) fn footprint(&self) -> u64 {
        match self {
            Payload::Memory(object) => object.footprint(),
            Payload::File { meta, .. } => meta.size + meta.footprint(),
        }
    }

    /// Store it in `tier`.
    pub(super) async fn put(&self, tier: &dyn Tier) -> Result<Arc<ObjectMeta>, TierError> {
        match self {
            Payload::Memory(object) => tier.put(object.clone()).await,
            Payload::File { meta, file } => tier.put_file(meta.clone(), file).await,
        }
    }

    /// The same bytes with the metadata cold returned (its ETag).
    pub(super) fn stored_as(self, stored: Arc<ObjectMeta>) -> Self {
        match self {
            Payload::Memory(object) => Payload::Memory(Object { meta: stored, data: object.data }),
            Payload::File { file, .. } => Payload::File { meta: stored, file },
        }
    }
}

impl TieredStore {
    /// Store the bytes of `file` under `key`, as [`set`](TieredStore::set)
    /// stores a value: returns once cold has them. The file's size and
    /// checksums (computed while spooling) become the object's; nothing reads
    /// the whole file into memory unless a tier without a file path
    /// ([`Tier::put_file`]'s default) is configured as cold or warm.
    pub async fn set_file(&self, key: &str, file: &Spooled, options: SetOptions) -> Result<SetOutcome, Error> {
        key::validate(key)?;
        let now = self.inner.clock.now_ms();
        let placement = self.place_write(key, file.size, &options, now);
        let meta = ObjectMeta {
            key: key.to_string(),
            size: file.size,
            original_size: file.size,
            created_ms: now,
            expires_ms: placement.ttl_ms.map(|t| now.saturating_add(t)),
            checksum: file.checksum.clone(),
            codec: Codec::Identity,
            content_type: options.content_type,
            metadata: options.metadata,
            etag: None,
            validated_ms: None,
        };
        let payload = Payload::File { meta: Arc::new(meta), file };
        self.write_through(payload, placement, options.skip, now).await
    }

    /// Copy a written payload into a cache tier; a failure is logged and
    /// counted, never fatal. A file payload skips the hot tier.
    pub(super) async fn fill_payload(&self, tier: TierId, payload: &Payload<'_>, class: u8) -> bool {
        match payload {
            Payload::Memory(object) => self.fill_class(tier, object.clone(), class).await,
            Payload::File { .. } if tier == TierId::Hot => false,
            Payload::File { meta, file } => self.fill_file_class(tier, meta.clone(), file, class).await,
        }
    }

    /// Copy a spooled object into a cache tier; a failure is logged and
    /// counted, never fatal.
    pub(super) async fn fill_file(&self, tier: TierId, meta: Arc<ObjectMeta>, file: &Spooled) -> bool {
        self.fill_file_class(tier, meta, file, 0).await
    }

    async fn fill_file_class(&self, tier: TierId, meta: Arc<ObjectMeta>, file: &Spooled, class: u8) -> bool {
        let Some(cache) = self.cache(tier) else { return false };
        let key = meta.key.clone();
        let footprint = meta.size + meta.footprint();
        let Some(_filling) = self.make_room(tier, cache.as_ref(), &key, footprint, class).await else {
            return false;
        };
        match cache.put_file(meta, file).await {
            Ok(_) => true,
            Err(err) => {
                self.forget_copy(tier, &key);
                super::stats::bump(&self.inner.counters.tier(tier).errors);
                tracing::warn!(tier = cache.name(), %err, "could not fill cache tier from a file; continuing without it");
                false
            }
        }
    }
}
