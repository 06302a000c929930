//! Staleness across hosts: revalidating cached copies against cold.
//!
//! Several hosts may share one bucket; a write through one host does not reach
//! the caches of the others. With [`StoreConfig::max_staleness_ms`] set, a
//! cached copy (hot or warm) last known to match cold longer ago than that is
//! revalidated before it is served: a conditional read of cold with the copy's
//! ETag (`If-None-Match` on S3).
//!
//! - *Not modified*: the copy is served and its validation time renewed: the
//!   hot copy in place; a warm copy only where the policy promotes it (the
//!   file on disk is not rewritten for a timestamp, so a warm copy the policy
//!   keeps out of hot is checked again on each read past the bound — one
//!   conditional request, no body).
//! - *Changed*: the stale copies are dropped and the new version is served and
//!   promoted like any cold hit. *Gone*: the copies are dropped, a miss.
//! - *Cold unreachable*: the stale copy is served (stale-if-error) and the
//!   failure logged and counted; reads of cached keys survive an outage.
//!
//! A copy about to be streamed is revalidated the same way: the conditional
//! read is bounded by the reader's buffer, so a changed large object comes
//! back as cold's stream, never held whole.
//!
//! Without the setting (`None`, the default) copies are never revalidated:
//! right for a single host owning its bucket.
//!
//! [`StoreConfig::max_staleness_ms`]: super::StoreConfig::max_staleness_ms

use std::sync::Arc;

use super::TieredStore;
use super::flight::{FlightError, Opened};
use super::{Found, settled};
use crate::engine::ordering::Ticket;
use crate::engine::stats::bump;
use crate::key_id::object_id;
use crate::object::{Object, ObjectMeta};
use crate::policy::TierId;
use crate::store::{Conditional, Fetched};

impl TieredStore {
    /// Whether a cached copy must be revalidated before it is served.
    pub(in crate::engine) fn is_stale(&self, meta: &ObjectMeta, now_ms: u64) -> bool {
        self.inner.config.max_staleness_ms.is_some_and(|max| meta.is_stale(now_ms, max))
    }

    /// [`is_stale`](Self::is_stale) now; the clock is read only when
    /// revalidation is on.
    pub(in crate::engine) fn is_stale_now(&self, meta: &ObjectMeta) -> bool {
        self.inner.config.max_staleness_ms.is_some_and(|max| meta.is_stale(self.inner.clock.now_ms(), max))
    }

    /// Record that `object`, just read from cold, is current as of now (only
    /// when revalidation is on; otherwise the field stays unused).
    pub(in crate::engine) fn stamp_validated(&self, object: Object) -> Object {
        if self.inner.config.max_staleness_ms.is_none() {
            return object;
        }
        let mut meta = (*object.meta).clone();
        meta.validated_ms = Some(self.inner.clock.now_ms());
        Object { meta: Arc::new(meta), data: object.data }
    }

    /// [`stamp_validated`](Self::stamp_validated) for metadata alone.
    pub(in crate::engine) fn stamp_validated_meta(&self, meta: Arc<ObjectMeta>) -> Arc<ObjectMeta> {
        if self.inner.config.max_staleness_ms.is_none() {
            return meta;
        }
        let mut meta = (*meta).clone();
        meta.validated_ms = Some(self.inner.clock.now_ms());
        Arc::new(meta)
    }

    /// Check a stale cached copy against cold and serve the current version:
    /// one conditional read, whole up to `buffer_max` bytes, else streamed.
    pub(super) async fn revalidate(
        &self,
        key: &str,
        cached: Fetched,
        source: TierId,
        ticket: Ticket,
        buffer_max: u64,
    ) -> Result<Option<Found>, FlightError> {
        let inner = &self.inner;
        bump(&inner.counters.tier(source).revalidations);
        let answer = match cached.meta().etag.as_deref() {
            Some(etag) => inner.cold.get_if_changed(key, etag, buffer_max).await,
            // A copy without a cold ETag cannot be compared: read cold in full.
            None => inner.cold.get_stream(key, buffer_max).await.map(Conditional::Changed),
        };
        match answer {
            Ok(Conditional::NotModified) => {
                count_cached_hit(self, key, source);
                Ok(Some(self.still_current(cached, source, ticket).await))
            }
            Ok(Conditional::Changed(found)) => {
                tracing::debug!(key, tier = %source, "cached copy is out of date; serving cold's version");
                if source == TierId::Warm {
                    bump(&inner.counters.warm.misses);
                }
                drop(cached);
                self.drop_copy(TierId::Hot, key).await;
                self.drop_copy(TierId::Warm, key).await;
                let read = settled(inner.cold.as_ref(), key, found).await;
                self.cold_outcome(key, read, ticket).await
            }
            Err(err) => {
                bump(&inner.counters.cold.errors);
                count_cached_hit(self, key, source);
                tracing::warn!(key, tier = %source, %err, "cannot revalidate against cold; serving the cached copy");
                Ok(Some(match cached {
                    Fetched::Whole(object) => Found::Whole(object, source),
                    Fetched::Stream(stream) => Found::Stream(Opened { ticket, stream, source }),
                }))
            }
        }
    }

    /// A stale copy cold confirmed (or could not answer for), served. A whole
    /// one has its validation time renewed: a hot copy in place, a warm copy
    /// where the policy promotes it (the file on disk is not rewritten for a
    /// timestamp). A streamed warm copy is served as it is.
    async fn still_current(&self, cached: Fetched, source: TierId, ticket: Ticket) -> Found {
        let Fetched::Whole(object) = cached else { return self.cached_hit(cached, source, ticket).await };
        let fresh = self.stamp_validated(object);
        if source != TierId::Hot {
            return self.cached_hit(Fetched::Whole(fresh), source, ticket).await;
        }
        if let Some(_guard) = self.inner.stripes.fill_guard(ticket).await {
            self.fill(TierId::Hot, fresh.clone()).await;
        }
        Found::Whole(fresh, source)
    }
}

/// A hot hit was already counted by the memory tier's shard; a warm one is
/// counted here.
fn count_cached_hit(store: &TieredStore, key: &str, source: TierId) {
    if source == TierId::Warm {
        bump(&store.inner.counters.warm.hits);
    }
    store.note_hit(source, object_id(key));
}
