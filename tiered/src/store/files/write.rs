//! Writing an object file: into `tmp/` under a fresh name, fsync'd, then
//! renamed into `objects/` while the index lock is held (and, with
//! `durable`, the directory entry fsync'd). A failure at any step removes
//! the temporary file: a reader never sees a torn file and no stray file is
//! left behind. [`FileStore::write`] stores an object held in memory;
//! `file_copy.rs` writes large objects and rewrites expiries through
//! [`FileStore::write_via_tmp`] too.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use super::{FileStore, IndexEntry};
use crate::error::{TierError, TierErrorKind};
use crate::key::key_hash;
use crate::object::{Object, ObjectMeta};
use crate::store::format::{self, FormatError};
use crate::store::resident::Access;

impl FileStore {
    /// Write an object durably and atomically, replacing any previous version.
    pub fn write(&self, object: &Object) -> Result<(), TierError> {
        let key = object.meta.key.as_str();
        let encoded = format::encode(object).map_err(|e| self.unencodable("store", key, e))?;
        self.write_via_tmp("write", &object.meta, encoded.len() as u64, |file| {
            file.write_all(&encoded).map_err(|e| self.io_failed("write", key, e))
        })
    }

    /// Writes a new file for `meta` into `tmp/` with `fill`, fsyncs it and
    /// installs it ([`FileStore::install`]) as `file_len` bytes. The
    /// temporary file is removed when `fill`, the fsync or the install fails;
    /// an I/O failure here is reported as "cannot `what` object".
    pub(in crate::store) fn write_via_tmp(
        &self,
        what: &str,
        meta: &ObjectMeta,
        file_len: u64,
        fill: impl FnOnce(&mut File) -> Result<(), TierError>,
    ) -> Result<(), TierError> {
        let key = meta.key.as_str();
        let tmp = self.tmp_path(key);
        let written = File::create(&tmp).map_err(|e| self.io_failed(what, key, e)).and_then(|mut file| {
            fill(&mut file)?;
            file.sync_all().map_err(|e| self.io_failed(what, key, e))
        });
        if let Err(err) = written {
            let _ = fs::remove_file(&tmp);
            return Err(err);
        }
        self.install(&tmp, meta, file_len)
    }

    /// "cannot `what` object `key`", an I/O failure.
    pub(in crate::store) fn io_failed(&self, what: &str, key: &str, e: std::io::Error) -> TierError {
        TierError::io(self.tier, format!("cannot {what} object {key:?}"), e)
    }

    /// A write refused because its header cannot be encoded (metadata over
    /// the format's bound).
    pub(in crate::store) fn unencodable(&self, what: &str, key: &str, e: FormatError) -> TierError {
        TierError::new(TierErrorKind::Rejected, self.tier, format!("cannot {what} object {key:?}: {e}"))
    }

    /// A fresh temporary path for a write of `key`.
    pub(in crate::store) fn tmp_path(&self, key: &str) -> PathBuf {
        let seq = self.tmp_seq.fetch_add(1, Ordering::Relaxed);
        self.root.join("tmp").join(format!("{}.{seq}", key_hash(key)))
    }

    /// Rename a complete, fsync'd `tmp` file of `file_len` bytes into place
    /// and index it (the temporary file is removed on failure).
    pub(in crate::store) fn install(&self, tmp: &Path, meta: &ObjectMeta, file_len: u64) -> Result<(), TierError> {
        let key = meta.key.as_str();
        let io = |what: &str, e| TierError::io(self.tier, format!("{what} object {key:?}"), e);
        let dest = self.path(key);
        let parent = dest.parent().expect("object paths have a parent");
        let mut index = self.index.lock();
        let renamed = fs::create_dir_all(parent).and_then(|()| fs::rename(tmp, &dest));
        if let Err(e) = renamed {
            drop(index);
            let _ = fs::remove_file(tmp);
            return Err(io("cannot store", e));
        }
        let entry = IndexEntry {
            generation: self.generations.fetch_add(1, Ordering::Relaxed),
            file_len,
            created_ms: meta.created_ms,
            expires_ms: meta.expires_ms,
            access: Access { last_ms: self.clock.now_ms(), count: 0 },
        };
        self.bytes.fetch_add(entry.file_len, Ordering::Relaxed);
        let mut released = None;
        if let Some(old) = index.push(key.to_string(), entry).filter(|(k, _)| k == key) {
            self.bytes.fetch_sub(old.1.file_len, Ordering::Relaxed);
            released = self.handles.drop_key(key);
        }
        drop(index);
        drop(released);
        self.undeleted.retry(Some(&dest));
        if self.durable {
            File::open(parent).and_then(|d| d.sync_all()).map_err(|e| io("cannot sync directory of", e))?;
        }
        Ok(())
    }
}
