//! Opening an object directory: `objects/` and an empty `tmp/` are created
//! (a write interrupted by a crash leaves only a file in `tmp/`, removed
//! here), and the index is rebuilt from the headers of the files in
//! `objects/`, oldest first so the least recently used end starts with the
//! oldest objects. A file whose header cannot be read, or whose name is not
//! the hash of the key in its header, is removed with a warning: it could
//! never be served.

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lru::LruCache;
use parking_lot::Mutex;

use super::{FileStore, IndexEntry, handles};
use crate::clock::Clock;
use crate::error::TierError;
use crate::key::key_hash;
use crate::store::format::read_header;
use crate::store::resident::Access;
use crate::store::undeleted::Undeleted;
use handles::Handles;

impl FileStore {
    /// Open (creating if needed) the directory and rebuild the index.
    pub fn open(root: &Path, tier: &'static str, durable: bool, clock: Arc<dyn Clock>) -> Result<Self, TierError> {
        let io = |what: &str, e| TierError::io(tier, format!("{what} {}", root.display()), e);
        fs::create_dir_all(root.join("objects")).map_err(|e| io("cannot create", e))?;
        let tmp = root.join("tmp");
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| io("cannot empty tmp/ in", e))?;
        }
        fs::create_dir_all(&tmp).map_err(|e| io("cannot create tmp/ in", e))?;
        let store = FileStore {
            root: root.to_path_buf(),
            tier,
            durable,
            index: Mutex::new(LruCache::unbounded()),
            generations: AtomicU64::new(0),
            handles: Handles::new(handles::capacity()),
            bytes: AtomicU64::new(0),
            undeleted: Undeleted::default(),
            tmp_seq: AtomicU64::new(0),
            changes: Default::default(),
            clock,
        };
        store.rebuild_index().map_err(|e| io("cannot scan", e))?;
        Ok(store)
    }

    fn rebuild_index(&self) -> std::io::Result<()> {
        let mut found = Vec::new();
        for fan in fs::read_dir(self.root.join("objects"))? {
            let fan = fan?.path();
            if !fan.is_dir() {
                continue;
            }
            for file in fs::read_dir(&fan)? {
                let path = file?.path();
                match read_header(&path).map(|h| (h.meta, h.file_len)) {
                    Ok((meta, len)) if path.file_name().is_some_and(|n| *n == *key_hash(&meta.key)) => {
                        found.push((meta, len));
                    }
                    outcome => {
                        tracing::warn!(tier = self.tier, path = %path.display(), ?outcome, "unreadable object file; removing it");
                        let _ = fs::remove_file(&path);
                    }
                }
            }
        }
        found.sort_by_key(|(meta, _)| meta.created_ms);
        let mut index = self.index.lock();
        for (meta, file_len) in found {
            self.bytes.fetch_add(file_len, Ordering::Relaxed);
            let access = Access { last_ms: meta.created_ms, count: 0 };
            index.push(
                meta.key,
                IndexEntry {
                    generation: self.generations.fetch_add(1, Ordering::Relaxed),
                    file_len,
                    created_ms: meta.created_ms,
                    expires_ms: meta.expires_ms,
                    access,
                },
            );
        }
        Ok(())
    }
}
