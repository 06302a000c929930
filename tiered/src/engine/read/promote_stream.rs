//! Promotion of a large object streamed from cold into warm, without holding
//! it in memory: the chunks sent to the reader are also written to a spool
//! file (the store's `spool_dir`), and once the last byte has passed the
//! stream's verification the file is installed in warm, as any promotion is,
//! under the ordering check of the ticket taken before the cold read
//! ([`crate::engine::ordering`]): if a write to the key finished meanwhile, the copy
//! is dropped.
//!
//! The verified stream releases its last chunk only after the hash matched
//! ([`crate::store::stream::verify_at_end`]), so a tee that has seen all
//! `size` bytes has seen a verified object; the spool's own sha256 is
//! compared with the checksum once more before installing. The install runs
//! on its own task: an HTTP server stops polling a body once it has sent the
//! announced length. A reader that goes away early drops the tee and its
//! spool file; nothing is promoted.

use std::sync::Arc;

use futures::StreamExt;

use super::TieredStore;
use crate::engine::ordering::Ticket;
use crate::engine::stats::bump;
use crate::object::ObjectMeta;
use crate::policy::TierId;
use crate::store::{ChunkStream, SpoolWriter, Spooled};

struct Tee {
    chunks: ChunkStream,
    writer: Option<SpoolWriter>,
    promotion: Option<(TieredStore, Arc<ObjectMeta>, Ticket)>,
}

impl TieredStore {
    /// `chunks` as they are, teed into a spool file if the policy wants a
    /// warm copy of this cold hit (and it fits); else untouched.
    pub(super) async fn tee_for_promotion(
        &self,
        meta: &Arc<ObjectMeta>,
        ticket: Ticket,
        chunks: ChunkStream,
    ) -> ChunkStream {
        let Some(dir) = self.inner.spool_dir.as_deref() else { return chunks };
        let footprint = meta.size + meta.footprint();
        if !self.promotion_targets(meta, TierId::Cold, footprint).contains(&TierId::Warm) {
            return chunks;
        }
        let writer = match SpoolWriter::create(dir).await {
            Ok(w) => w,
            Err(err) => {
                tracing::warn!(key = %meta.key, %err, "cannot tee a streamed read; not promoting it");
                return chunks;
            }
        };
        let promotion = Some((self.clone(), meta.clone(), ticket));
        let tee = Tee { chunks, writer: Some(writer), promotion };
        futures::stream::unfold(tee, |mut tee| async move {
            let item = tee.chunks.next().await?;
            match &item {
                Ok(chunk) => tee.copy(chunk).await,
                Err(_) => tee.writer = None,
            }
            Some((item, tee))
        })
        .boxed()
    }

    /// Install a complete, verified tee in warm, if the ticket still holds.
    async fn install_promotion(&self, meta: Arc<ObjectMeta>, ticket: Ticket, file: Spooled) {
        if file.size != meta.size || file.checksum != meta.checksum {
            tracing::warn!(key = %meta.key, "teed copy does not match the checksum; not promoting it");
            return;
        }
        let meta = self.stamp_validated_meta(meta);
        let Some(guard) = self.inner.stripes.fill_guard(ticket).await else {
            tracing::debug!(key = %meta.key, "a write finished during the read; not caching the value read");
            return;
        };
        if self.fill_file(TierId::Warm, meta, &file).await {
            bump(&self.inner.counters.warm.promotions);
        }
        drop(guard);
        self.enforce_budgets().await;
    }
}

impl Tee {
    /// Write `chunk` to the spool; at the object's last byte, hand the file
    /// to a task that installs it.
    async fn copy(&mut self, chunk: &[u8]) {
        let Some(writer) = self.writer.as_mut() else { return };
        if let Err(err) = writer.write(chunk).await {
            tracing::warn!(%err, "cannot tee a streamed read; not promoting it");
            self.writer = None;
            return;
        }
        let Some((_, meta, _)) = &self.promotion else { return };
        if writer.size() < meta.size {
            return;
        }
        let (Some(writer), Some((store, meta, ticket))) = (self.writer.take(), self.promotion.take()) else { return };
        tokio::spawn(async move {
            match writer.finish().await {
                Ok(file) => store.install_promotion(meta, ticket, file).await,
                Err(err) => tracing::warn!(key = %meta.key, %err, "cannot finish a teed copy; not promoting it"),
            }
        });
    }
}
