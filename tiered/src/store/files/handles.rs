//! Open files kept for the most recently read objects, so that reading one
//! again costs a `pread` and no `open`/`close` (the idea of nginx's
//! `open_file_cache`). On a virtual machine an `open` and its `close` cost
//! as much as reading 64 KiB from the page cache.
//!
//! A handle is kept with the *generation* of the index entry it was opened
//! for, and is used only while the entry still has that generation. The
//! store's own changes keep it right:
//! - a write renames its file into place and gives the key a new generation
//!   under the index lock, and drops the old handle;
//! - a handle is only added under the index lock, for an entry whose
//!   generation is the one read before the file was opened, so a reader that
//!   raced a write never leaves the old file's handle behind;
//! - a removal drops the handle with the entry, so a deleted object's disk
//!   space is released when its last reader is done.
//!
//! A kept file that lost its name is let go and the path opened afresh, as
//! a read without the cache would: a reader that raced a write reads the new
//! file, and changes behind the store's back are what they are without the
//! cache (a file deleted is a miss, one renamed over is read and verified).
//! The reader checks the link count with `fstat`, much cheaper than an
//! `open`. A file rewritten in place is read as it now is, and verified.
//! Not noticed: a change that leaves the kept file linked (a hard link made
//! to it, or the whole `objects/` directory moved away); the kept file is
//! then served while range and metadata reads, which open the path, see
//! what is there. Writes and removals through the store always drop the
//! key's file.
//!
//! Bounded: at most [`capacity`] handles per object directory, least
//! recently used dropped first, so a store never holds more than a
//! sixteenth of the process's descriptor limit.

use std::fs::File;
use std::num::NonZeroUsize;
use std::sync::Arc;

use lru::LruCache;
use parking_lot::Mutex;

/// Handles kept at most, whatever the descriptor limit.
const MAX_HANDLES: usize = 1024;

/// The most recently read objects' open files.
#[derive(Debug)]
pub(super) struct Handles {
    /// `None` when keeping none (a descriptor limit too low, or a platform
    /// without positional reads).
    open: Option<Mutex<LruCache<String, Handle>>>,
}

#[derive(Debug)]
struct Handle {
    generation: u64,
    file: Arc<File>,
}

impl Handles {
    pub(super) fn new(capacity: usize) -> Self {
        Handles { open: NonZeroUsize::new(capacity).map(|c| Mutex::new(LruCache::new(c))) }
    }

    /// The file kept for `key` at `generation`, if any.
    pub(super) fn get(&self, key: &str, generation: u64) -> Option<Arc<File>> {
        let mut open = self.open.as_ref()?.lock();
        match open.get(key) {
            Some(handle) if handle.generation == generation => Some(handle.file.clone()),
            _ => None,
        }
    }

    /// Keep `file`, opened for `key` at `generation`. Called under the index
    /// lock, with the entry checked to still be at `generation`. Returns the
    /// file this one displaces, for the caller to close once its locks are
    /// released.
    #[must_use = "a displaced file is closed when dropped: drop it outside the index lock"]
    pub(super) fn keep(&self, key: &str, generation: u64, file: Arc<File>) -> Option<Arc<File>> {
        let open = self.open.as_ref()?;
        open.lock().push(key.to_string(), Handle { generation, file }).map(|(_, displaced)| displaced.file)
    }

    /// Stop keeping the file of `key`, returned for the caller to close
    /// once its locks are released.
    #[must_use = "a released file is closed when dropped: drop it outside the index lock"]
    pub(super) fn drop_key(&self, key: &str) -> Option<Arc<File>> {
        Some(self.open.as_ref()?.lock().pop(key)?.file)
    }

    /// Stop keeping the file of `key` if it is the one of `generation`.
    #[must_use = "a released file is closed when dropped"]
    pub(super) fn release(&self, key: &str, generation: u64) -> Option<Arc<File>> {
        let mut open = self.open.as_ref()?.lock();
        if open.peek(key)?.generation != generation {
            return None;
        }
        Some(open.pop(key)?.file)
    }

    /// How many files are kept (tests).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.open.as_ref().map_or(0, |open| open.lock().len())
    }
}

/// How many handles an object directory keeps: a sixteenth of the soft
/// limit on open descriptors, at most [`MAX_HANDLES`]; none where reads
/// cannot be positional.
pub(super) fn capacity() -> usize {
    #[cfg(unix)]
    {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
        limit.map_or(MAX_HANDLES, |n| usize::try_from(n / 16).unwrap_or(MAX_HANDLES).min(MAX_HANDLES))
    }
    #[cfg(not(unix))]
    {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_serves_only_its_generation_and_the_oldest_goes_first() -> std::io::Result<()> {
        let file = Arc::new(tempfile::tempfile()?);
        let handles = Handles::new(2);
        assert!(handles.keep("a", 1, file.clone()).is_none());
        assert!(handles.get("a", 1).is_some());
        assert!(handles.get("a", 2).is_none(), "another generation is another file");
        assert!(handles.keep("a", 2, file.clone()).is_some(), "a new generation displaces the old");
        assert!(handles.keep("b", 1, file.clone()).is_none());
        assert!(handles.keep("c", 1, file.clone()).is_some(), "full: the oldest is displaced");
        assert_eq!(handles.len(), 2);
        assert!(handles.get("a", 2).is_none(), "the least recently used was dropped");
        assert!(handles.drop_key("b").is_some());
        assert!(handles.get("b", 1).is_none());
        assert!(handles.release("c", 2).is_none(), "another generation's file stays");
        assert!(handles.get("c", 1).is_some());
        assert!(handles.release("c", 1).is_some());
        assert!(handles.keep("c", 1, file.clone()).is_none());
        assert!(handles.get("c", 1).is_some());
        Ok(())
    }

    #[test]
    fn none_are_kept_at_capacity_zero() -> std::io::Result<()> {
        let handles = Handles::new(0);
        assert!(handles.keep("a", 1, Arc::new(tempfile::tempfile()?)).is_none());
        assert!(handles.get("a", 1).is_none());
        Ok(())
    }
}
