//! Promotion after a read served below hot: the policy is asked which upper
//! tiers get a copy of the object read (`promote`, with the object's text
//! lent through `current-object`), the tiers it names that are above the one
//! that served the read and have room receive it, and only if no write to the
//! key finished since the read began ([`crate::engine::ordering`]): a read that raced
//! a write must not cache the older value. Large objects streamed from cold
//! are promoted into warm only, by the same policy call, in
//! `promote_stream.rs`.

use super::TieredStore;
use crate::engine::ordering::Ticket;
use crate::engine::stats::bump;
use crate::object::{Object, ObjectMeta};
use crate::policy::{ReadInfo, TierId};

impl TieredStore {
    /// Ask the policy where a copy of a lower-tier hit goes, and make it.
    pub(in crate::engine) async fn promote(&self, object: &Object, served_by: TierId, ticket: Ticket) {
        let inner = &self.inner;
        let targets = self.promotion_targets(&object.meta, served_by, object.footprint());
        if targets.is_empty() {
            return;
        }
        let Some(_guard) = inner.stripes.fill_guard(ticket).await else {
            tracing::debug!(key = %object.meta.key, "a write finished during the read; not caching the value read");
            return;
        };
        for tier in targets {
            if self.fill(tier, object.clone()).await {
                bump(&inner.counters.tier(tier).promotions);
            }
        }
        drop(_guard);
        self.enforce_budgets().await;
    }

    /// The cache tiers above `served_by` the policy wants a copy in and
    /// `footprint` bytes fit.
    pub(super) fn promotion_targets(&self, meta: &ObjectMeta, served_by: TierId, footprint: u64) -> Vec<TierId> {
        let now = self.inner.clock.now_ms();
        let frequency = self.frequency(&meta.key);
        let info = ReadInfo {
            key: &meta.key,
            size: meta.size,
            content_type: meta.content_type.as_deref(),
            metadata: &meta.metadata,
            served_by,
            age_ms: now.saturating_sub(meta.created_ms),
            access_count: u64::from(frequency),
            frequency,
            expires_in_ms: meta.expires_ms.map(|e| e.saturating_sub(now)),
            now_ms: now,
        };
        let wanted = self.policy().promote(&info);
        [TierId::Hot, TierId::Warm]
            .into_iter()
            .filter(|&t| t < served_by && wanted.contains(t) && self.fits_bytes(t, footprint))
            .collect()
    }
}
