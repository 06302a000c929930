//! An object directory: one file per object, named by the sha256 of its key,
//! with an in-memory index rebuilt from the file headers at open.
//!
//! Layout under the root: `objects/<2 hex>/<64 hex>` for objects and `tmp/`
//! for writes in progress (emptied at open). A write goes to `tmp/`, is
//! fsync'd, and is renamed into `objects/` while the index lock is held, so the
//! index and the directory agree and no reader ever sees a torn file. With
//! `durable`, the directory entry is fsync'd too (the local cold tier).
//!
//! The index (an LRU map, most recent last touched) knows every object's file
//! size, creation, expiry and volatile access statistics; misses cost no I/O.
//! A file that cannot be deleted (a disk fault) leaves the index at once and
//! the disk after the next successful write ([`Undeleted`]).
//! All methods block: callers run them off the async executor.
//!
//! A change (write, removal, expiry rewrite) takes its place in the store's
//! order when it is asked for ([`FileStore::change`]) and gives way at its
//! commit to a later change of the same key that landed first: file work
//! whose caller left cannot put an older version back (`changes.rs`).
//!
//! Opening the directory and rebuilding the index: `open.rs`; writing a
//! file (tmp → fsync → rename → index): `write.rs`; reading one whole and
//! verified (one `open`, one `read`, no copy): `read.rs`; the open files
//! kept for the objects read last, so a read again skips the `open`:
//! `handles.rs`.

mod changes;
mod handles;
mod open;
mod read;
mod write;

use std::fs;
use std::io::ErrorKind;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lru::LruCache;
use parking_lot::Mutex;

use super::format::{FormatError, Header, HeaderError, read_header, read_open_header};
use super::listing::{Page, PageBuilder, PageRequest};
use super::undeleted::Undeleted;
use super::{Access, Resident};
use crate::clock::Clock;
use crate::error::TierError;
use crate::key::key_hash;
use crate::object::ObjectMeta;
pub use changes::Change;
use changes::ChangeOrder;
use handles::Handles;
pub(super) use write::Installed;

/// An object directory and its index.
#[derive(Debug)]
pub struct FileStore {
    root: PathBuf,
    pub(super) tier: &'static str,
    /// fsync directory entries after renames (the source of truth needs it).
    durable: bool,
    index: Mutex<LruCache<String, IndexEntry>>,
    /// Numbers the index entries: each file installed gets a new one.
    generations: AtomicU64,
    /// Open files of the objects read last, by key and generation.
    handles: Handles,
    bytes: AtomicU64,
    /// Files whose deletion failed, deleted once writes succeed again.
    undeleted: Undeleted,
    /// Distinguishes concurrent temporary files.
    tmp_seq: AtomicU64,
    /// The order changes were asked for in.
    changes: Arc<ChangeOrder>,
    clock: Arc<dyn Clock>,
}

#[derive(Clone, Copy, Debug)]
struct IndexEntry {
    /// Which file this is: a key written again gets a new generation.
    generation: u64,
    file_len: u64,
    created_ms: u64,
    expires_ms: Option<u64>,
    access: Access,
}

impl FileStore {
    /// A change of `key` asked for now, to pass to the `_as` methods: it
    /// takes effect after every change asked for before it, or not at all
    /// if a change of the key asked for after it has landed first. Ask for
    /// it when the change is asked for, before any work is handed to
    /// another thread.
    pub fn change(&self, key: &str) -> Change {
        self.changes.ask(key)
    }

    /// [`change`](Self::change) for the removal of every key under `prefix`.
    pub fn prefix_change(&self, prefix: &str) -> Change {
        self.changes.ask_prefix(prefix)
    }

    pub(super) fn path(&self, key: &str) -> PathBuf {
        let hash = key_hash(key);
        let mut path = PathBuf::with_capacity(self.root.as_os_str().len() + "/objects/xx/".len() + hash.len());
        path.extend([self.root.as_path(), "objects".as_ref(), hash[..2].as_ref(), hash.as_ref()]);
        path
    }

    pub(super) fn corrupt(&self, key: &str, err: FormatError) -> TierError {
        TierError::corrupt(self.tier, format!("object {key:?}: {err}"))
    }

    /// The file of `key` opened, its header read and checked to be that
    /// object's, positioned at the data; `Ok(None)` when the index or the
    /// directory does not have it. An I/O failure is "cannot `what` object".
    pub(in crate::store) fn open_object(&self, what: &str, key: &str) -> Result<Option<(fs::File, Header)>, TierError> {
        if !self.index.lock().contains(key) {
            return Ok(None);
        }
        let io = |e| self.io_failed(what, key, e);
        let mut file = match fs::File::open(self.path(key)) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let header = read_open_header(&mut file).map_err(|e| match e {
            HeaderError::Io(e) => io(e),
            HeaderError::Format(e) => self.corrupt(key, e),
        })?;
        if header.meta.key != key {
            return Err(TierError::corrupt(self.tier, format!("file for {key:?} holds key {:?}", header.meta.key)));
        }
        Ok(Some((file, header)))
    }

    /// The metadata alone, from the file header.
    pub fn read_meta(&self, key: &str) -> Result<Option<ObjectMeta>, TierError> {
        let Some((_, generation)) = self.indexed(key) else { return Ok(None) };
        match read_header(&self.path(key)).map(|h| (h.meta, h.file_len)) {
            Ok((meta, _)) if meta.key == key => Ok(Some(meta)),
            Ok((meta, _)) => Err(TierError::corrupt(self.tier, format!("file for {key:?} holds key {:?}", meta.key))),
            Err(HeaderError::Io(e)) if e.kind() == ErrorKind::NotFound => {
                self.forget(key, generation);
                Ok(None)
            }
            Err(HeaderError::Io(e)) => Err(TierError::io(self.tier, format!("cannot read object {key:?}"), e)),
            Err(HeaderError::Format(e)) => Err(self.corrupt(key, e)),
        }
    }

    /// Remove an object's file; `true` if the index had it.
    ///
    /// The index forgets the key even when the file cannot be deleted (a
    /// read-only or failing disk): the engine removes a copy because it is
    /// stale or unwanted, and a copy it could not delete must not be served.
    /// The file is deleted after the next successful write ([`Undeleted`]).
    pub fn remove(&self, key: &str) -> Result<bool, TierError> {
        self.remove_as(&self.change(key), key)
    }

    /// [`remove`](Self::remove) as `change`: nothing is removed (`false`)
    /// if a later write or removal of `key` has landed already (a later
    /// expiry rewrite does not hold it back).
    pub fn remove_as(&self, change: &Change, key: &str) -> Result<bool, TierError> {
        let mut index = self.index.lock();
        if change.removal_gives_way(key) {
            tracing::debug!(tier = self.tier, key, "removal gives way to a later change that landed first");
            return Ok(false);
        }
        let removed = index.pop(key);
        change.committed(key);
        let mut released = None;
        if let Some(entry) = &removed {
            self.bytes.fetch_sub(entry.file_len, Ordering::Relaxed);
            released = self.handles.drop_key(key);
        }
        let path = self.path(key);
        let outcome = match fs::remove_file(&path) {
            Ok(()) => Ok(removed.is_some()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(removed.is_some()),
            Err(e) => {
                self.undeleted.record(path);
                Err(TierError::io(self.tier, format!("cannot delete object {key:?}"), e))
            }
        };
        drop(index);
        drop(released);
        outcome
    }

    /// Drop a key from the index whose file of `generation` vanished
    /// behind our back, unless a write has put a new file in place since.
    fn forget(&self, key: &str, generation: u64) {
        let mut index = self.index.lock();
        if index.peek(key).is_none_or(|e| e.generation != generation) {
            return;
        }
        if let Some(entry) = index.pop(key) {
            self.bytes.fetch_sub(entry.file_len, Ordering::Relaxed);
            let released = self.handles.drop_key(key);
            drop(index);
            drop(released);
        }
    }

    pub(super) fn record_access(&self, key: &str) {
        let now = self.clock.now_ms();
        if let Some(entry) = self.index.lock().get_mut(key) {
            entry.access.read_at(now);
        }
    }

    /// Count a read of `key`'s file at `generation`, and keep the file it
    /// was read from (`opened`) if the index still has that generation.
    fn record_read(&self, key: &str, generation: u64, opened: Option<Arc<fs::File>>) {
        let now = self.clock.now_ms();
        let mut index = self.index.lock();
        let Some(entry) = index.get_mut(key) else { return };
        entry.access.read_at(now);
        // Whatever is not kept (a file displaced, or this one if a write has
        // installed another since) is closed after the lock is released.
        let closed = match opened {
            Some(file) if entry.generation == generation => self.handles.keep(key, generation, file),
            other => other,
        };
        drop(index);
        drop(closed);
    }

    /// One page of the listing, from the index: every key is looked at,
    /// only the page's names are copied.
    pub fn page(&self, request: &PageRequest) -> Page {
        let mut builder = PageBuilder::new(request);
        if request.max > 0 {
            for (key, _) in self.index.lock().iter() {
                builder.offer_key(key);
            }
        }
        builder.finish()
    }

    /// Keys starting with `prefix`, from the index.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        self.index.lock().iter().filter(|(k, _)| k.starts_with(prefix)).map(|(k, _)| k.clone()).collect()
    }

    /// [`keys`](Self::keys) for the prefix removal `change`
    /// ([`prefix_change`](Self::prefix_change)), which then removes each
    /// with [`remove_as`](Self::remove_as): for a key not listed (not
    /// stored), the list is taken as the removal's commit, so a write asked
    /// for before the removal gives way when it lands.
    pub fn keys_as(&self, change: &Change, prefix: &str) -> Vec<String> {
        let index = self.index.lock();
        change.listed(|key| index.peek(key).is_some());
        index.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(k, _)| k.clone()).collect()
    }

    /// Size of an object's file, if indexed.
    pub fn file_len(&self, key: &str) -> Option<u64> {
        self.index.lock().peek(key).map(|e| e.file_len)
    }

    /// The generation of `key`'s file, for the expiry rewrite `change`
    /// about to copy it. With no file there is nothing to rewrite, and that
    /// is the rewrite's commit (under the index lock): an older write
    /// landing later gives way to it, as to a copy installed.
    pub(in crate::store) fn rewrite_source(&self, change: &Change, key: &str) -> Option<u64> {
        let index = self.index.lock();
        let generation = index.peek(key).map(|e| e.generation);
        if generation.is_none() && !change.gives_way(key) {
            change.rewrote(key);
        }
        generation
    }

    /// The file's length and generation, as indexed.
    fn indexed(&self, key: &str) -> Option<(u64, u64)> {
        self.index.lock().peek(key).map(|e| (e.file_len, e.generation))
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    pub fn objects(&self) -> u64 {
        self.index.lock().len() as u64
    }

    pub fn residents(&self) -> Vec<Resident> {
        self.index.lock().iter().map(|(k, e)| resident(k, e)).collect()
    }
}

fn resident(key: &str, e: &IndexEntry) -> Resident {
    Resident {
        key: key.to_string(),
        footprint: e.file_len,
        created_ms: e.created_ms,
        expires_ms: e.expires_ms,
        access: e.access,
    }
}
