//! Export / import of a versioned metadata snapshot.
//!
//! A [`Snapshot`] lists every object cold holds with its metadata, and which
//! cache tiers held a copy at export. Importing one into a store over the same
//! cold data restores what the bytes alone do not carry: expiries that changed
//! since, and the frequency estimate (cached residency counts as recent use), so
//! a new host's policy starts warm. Entries whose key cold no longer holds, or
//! holds with other bytes (checksum differs), are skipped and counted.
//! Data is never imported: cold is the source of truth.
//!
//! The format itself and its parser ([`Snapshot::from_json`]) live in
//! `tiered-format` (with the other parsers of untrusted bytes, for fuzzing)
//! and are re-exported here.

use serde::Serialize;

use super::TieredStore;
use crate::error::Error;
use crate::key;
use crate::policy::TierId;

pub use tiered_format::snapshot::{SNAPSHOT_VERSION, Snapshot, SnapshotEntry, SnapshotError};

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Entries matched to a cold object and applied.
    pub applied: u64,
    /// Entries whose key cold lacks or holds with different bytes.
    pub skipped: u64,
}

impl TieredStore {
    /// Snapshot the metadata of every object in cold.
    pub async fn export(&self) -> Result<Snapshot, Error> {
        let inner = &self.inner;
        let mut entries = Vec::new();
        for key in self.keys("").await? {
            let Some(meta) = inner.cold.head(&key).await.map_err(Error::ColdUnavailable)? else { continue };
            let mut cached_in = Vec::new();
            if inner.hot.as_ref().is_some_and(|h| h.peek(&key).is_some()) {
                cached_in.push(TierId::Hot);
            }
            if let Some(warm) = &inner.warm
                && matches!(warm.head(&key).await, Ok(Some(_)))
            {
                cached_in.push(TierId::Warm);
            }
            let frequency = self.frequency(&key);
            entries.push(SnapshotEntry { meta: (*meta).clone(), cached_in, frequency });
        }
        Ok(Snapshot { version: SNAPSHOT_VERSION, exported_ms: inner.clock.now_ms(), entries })
    }

    /// Apply a snapshot's expiries and frequencies to the objects cold holds.
    pub async fn import(&self, snapshot: &Snapshot) -> Result<ImportReport, Error> {
        if snapshot.version != SNAPSHOT_VERSION {
            return Err(SnapshotError::UnsupportedVersion { found: snapshot.version }.into());
        }
        let inner = &self.inner;
        let mut report = ImportReport::default();
        for entry in &snapshot.entries {
            let key = entry.meta.key.as_str();
            key::validate(key)?;
            let current = inner.cold.head(key).await.map_err(Error::ColdUnavailable)?;
            let Some(current) = current.filter(|m| m.checksum == entry.meta.checksum) else {
                report.skipped += 1;
                continue;
            };
            if current.expires_ms != entry.meta.expires_ms {
                let _guard = inner.stripes.lock(key).await;
                inner.inflight.forget(key);
                for tier in [TierId::Hot, TierId::Warm] {
                    self.drop_copy(tier, key).await;
                }
                let change = inner.stripes.changing(key);
                inner.cold.set_expiry(key, entry.meta.expires_ms).await.map_err(Error::ColdUnavailable)?;
                drop(change);
                inner.inflight.forget(key);
            }
            for _ in 0..entry.frequency.min(16) {
                inner.sketch.record(key);
            }
            report.applied += 1;
        }
        Ok(report)
    }
}
