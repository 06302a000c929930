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
//! A stale warm copy about to be *streamed* ([`still_current`]) is checked
//! with a HEAD instead: a conditional GET that found it changed would bring
//! the new version's whole body, and a large object is never held whole. A
//! changed copy is dropped and the read goes on to cold's stream.
//!
//! [`still_current`]: TieredStore::still_current
//!
//! Without the setting (`None`, the default) copies are never revalidated:
//! right for a single host owning its bucket.
//!
//! [`StoreConfig::max_staleness_ms`]: super::StoreConfig::max_staleness_ms

use std::sync::Arc;

use super::TieredStore;
use super::ordering::Ticket;
use super::read::{Flight, verified};
use super::stats::bump;
use crate::object::{Object, ObjectMeta};
use crate::policy::TierId;
use crate::store::Conditional;

impl TieredStore {
    /// Whether a cached copy must be revalidated before it is served.
    pub(super) fn is_stale(&self, meta: &ObjectMeta, now_ms: u64) -> bool {
        self.inner.config.max_staleness_ms.is_some_and(|max| meta.is_stale(now_ms, max))
    }

    /// Record that `object`, just read from cold, is current as of now (only
    /// when revalidation is on; otherwise the field stays unused).
    pub(super) fn stamp_validated(&self, object: Object) -> Object {
        if self.inner.config.max_staleness_ms.is_none() {
            return object;
        }
        let mut meta = (*object.meta).clone();
        meta.validated_ms = Some(self.inner.clock.now_ms());
        Object { meta: Arc::new(meta), data: object.data }
    }

    /// [`stamp_validated`](Self::stamp_validated) for metadata alone.
    pub(super) fn stamp_validated_meta(&self, meta: Arc<ObjectMeta>) -> Arc<ObjectMeta> {
        if self.inner.config.max_staleness_ms.is_none() {
            return meta;
        }
        let mut meta = (*meta).clone();
        meta.validated_ms = Some(self.inner.clock.now_ms());
        Arc::new(meta)
    }

    /// Check a stale cached copy against cold and serve the current version.
    pub(super) async fn revalidate(&self, key: &str, cached: Object, source: TierId, ticket: Ticket) -> Flight {
        let inner = &self.inner;
        bump(&inner.counters.tier(source).revalidations);
        let answer = match cached.meta.etag.as_deref() {
            Some(etag) => inner.cold.get_if_changed(key, etag).await,
            // A copy without a cold ETag cannot be compared: read cold in full.
            None => inner.cold.get(key).await.map(Conditional::Changed),
        };
        match answer {
            Ok(Conditional::NotModified) => {
                count_cached_hit(self, source);
                let fresh = self.stamp_validated(cached);
                match source {
                    TierId::Hot => {
                        if let Some(_guard) = inner.stripes.fill_guard(ticket).await {
                            self.fill(TierId::Hot, fresh.clone()).await;
                        }
                    }
                    _ => self.promote(&fresh, source, ticket).await,
                }
                Ok(Some((fresh, source)))
            }
            Ok(Conditional::Changed(found)) => {
                tracing::debug!(key, tier = %source, "cached copy is out of date; serving cold's version");
                if source == TierId::Warm {
                    bump(&inner.counters.warm.misses);
                }
                self.drop_copy(TierId::Hot, key).await;
                self.drop_copy(TierId::Warm, key).await;
                let read = verified(inner.cold.as_ref(), key, found);
                self.cold_outcome(key, read, ticket).await
            }
            Err(err) => {
                bump(&inner.counters.cold.errors);
                count_cached_hit(self, source);
                tracing::warn!(key, tier = %source, %err, "cannot revalidate against cold; serving the cached copy");
                Ok(Some((cached, source)))
            }
        }
    }
}

impl TieredStore {
    /// A stale warm copy about to be streamed is current if cold still has
    /// its ETag (one HEAD); a changed one is dropped. If cold cannot answer,
    /// the copy is served.
    pub(super) async fn still_current(&self, key: &str, meta: &ObjectMeta) -> bool {
        bump(&self.inner.counters.warm.revalidations);
        match self.inner.cold.head(key).await {
            Ok(Some(cold)) if cold.etag.is_some() && cold.etag == meta.etag => true,
            Ok(_) => {
                self.drop_copy(TierId::Warm, key).await;
                false
            }
            Err(err) => {
                bump(&self.inner.counters.cold.errors);
                tracing::warn!(key, %err, "cannot revalidate a stale warm copy; serving it");
                true
            }
        }
    }
}

/// A hot hit was already counted by the memory tier's shard; a warm one is
/// counted here.
fn count_cached_hit(store: &TieredStore, source: TierId) {
    if source == TierId::Warm {
        bump(&store.inner.counters.warm.hits);
    }
}
