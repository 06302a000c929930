//! Writes from a spool file ([`TieredStore::set_file`]): the same cascade as
//! [`set`](TieredStore::set) ([`TieredStore::write_through`]: same stripe
//! lock, same order, same acknowledgement only after cold has the object),
//! with the bytes read from a file by each tier instead of held in memory.
//!
//! A [`Payload`] is what a write carries: an [`Object`] in memory, or a
//! [`Spooled`] file with the metadata that describes it. A file payload never
//! fills the hot (memory) tier: it is large by construction, and reading it
//! into memory is what spooling avoids. It fills warm when the policy places
//! it there and it fits the warm budget. No compression is applied (the
//! codec is `identity`): compressing would need the whole value or a second
//! pass over the file.

use std::sync::Arc;

use super::TieredStore;
use super::write::{SetOptions, SetOutcome};
use crate::error::{Error, TierError};
use crate::key;
use crate::object::{Codec, Object, ObjectMeta};
use crate::policy::TierId;
use crate::store::{Spooled, Tier};

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
        self.write_through(payload, placement.tiers, options.skip, now).await
    }

    /// Copy a written payload into a cache tier; a failure is logged and
    /// counted, never fatal. A file payload skips the hot tier.
    pub(super) async fn fill_payload(&self, tier: TierId, payload: &Payload<'_>) -> bool {
        match payload {
            Payload::Memory(object) => self.fill(tier, object.clone()).await,
            Payload::File { .. } if tier == TierId::Hot => false,
            Payload::File { meta, file } => self.fill_file(tier, meta.clone(), file).await,
        }
    }

    /// Copy a spooled object into a cache tier; a failure is logged and
    /// counted, never fatal.
    pub(super) async fn fill_file(&self, tier: TierId, meta: Arc<ObjectMeta>, file: &Spooled) -> bool {
        let Some(cache) = self.cache(tier) else { return false };
        match cache.put_file(meta, file).await {
            Ok(_) => true,
            Err(err) => {
                super::stats::bump(&self.inner.counters.tier(tier).errors);
                tracing::warn!(tier = cache.name(), %err, "could not fill cache tier from a file; continuing without it");
                false
            }
        }
    }
}
