//! Metadata lookups: what a key holds, without reading its value. No access
//! is counted (the frequency sketch and the policy see nothing), nothing is
//! copied between tiers, and a value is never read: hot's entry is peeked, a
//! warm copy's header read, and cold asked with a HEAD (one `HeadObject` on
//! S3). A copy past `max_staleness_ms` is not trusted: the lookup goes on to
//! the tier below, as far as cold, whose answer is the truth.
//!
//! `HEAD /v1/objects/{key}` is [`TieredStore::head`].

use std::sync::Arc;

use super::TieredStore;
use crate::error::Error;
use crate::key;
use crate::object::ObjectMeta;
use crate::policy::TierId;

impl TieredStore {
    /// The metadata of `key`'s live value and the tier that answered;
    /// `None` when absent or expired.
    pub async fn head(&self, key: &str) -> Result<Option<(Arc<ObjectMeta>, TierId)>, Error> {
        key::validate(key)?;
        let now = self.inner.clock.now_ms();
        if let Some(object) = self.inner.hot.as_ref().and_then(|h| h.peek(key))
            && !self.is_stale(&object.meta, now)
        {
            return Ok((!object.meta.is_expired(now)).then_some((object.meta, TierId::Hot)));
        }
        if let Some(warm) = &self.inner.warm {
            match warm.head(key).await {
                Ok(Some(meta)) if !meta.is_expired(now) && !self.is_stale(&meta, now) => {
                    return Ok(Some((meta, TierId::Warm)));
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(key, tier = warm.name(), ?err, "head failed; asking cold"),
            }
        }
        let meta = self.inner.cold.head(key).await.map_err(Error::ColdUnavailable)?;
        Ok(meta.filter(|m| !m.is_expired(now)).map(|m| (m, TierId::Cold)))
    }

    /// Whether `key` holds a live value ([`TieredStore::head`]'s answer).
    pub async fn exists(&self, key: &str) -> Result<bool, Error> {
        Ok(self.head(key).await?.is_some())
    }
}
