//! Writing an object file: into `tmp/` under a fresh name, fsync'd, then
//! renamed into `objects/` while the index lock is held (and, with
//! `durable`, the directory entry fsync'd). A failure at any step removes
//! the temporary file: a reader never sees a torn file and no stray file is
//! left behind. A write that gives way at the rename (a later change of
//! the key landed first, `changes.rs`) removes its temporary file too. [`FileStore::write`] stores an object held in memory;
//! `file_copy.rs` writes large objects and rewrites expiries through
//! [`FileStore::write_via_tmp`] too.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use super::{Change, FileStore, IndexEntry};
use crate::error::{TierError, TierErrorKind};
use crate::key::key_hash;
use crate::object::{Object, ObjectMeta};
use crate::store::format::{self, FormatError};
use crate::store::resident::Access;

/// What [`FileStore::install`] did with a new file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::store) enum Installed {
    /// Renamed into place and indexed.
    Done,
    /// Dropped: a later change of the key landed first.
    GaveWay,
    /// Dropped: the file it was made from is no longer the key's (an older
    /// change landed meanwhile); the rewrite is made again.
    Moved,
}

impl FileStore {
    /// Write an object durably and atomically, replacing any previous version.
    pub fn write(&self, object: &Object) -> Result<(), TierError> {
        self.write_as(&self.change(&object.meta.key), object)
    }

    /// [`write`](Self::write) as `change`: nothing is written if a later
    /// change of the key has landed already.
    pub fn write_as(&self, change: &Change, object: &Object) -> Result<(), TierError> {
        let key = object.meta.key.as_str();
        let encoded = format::encode(object).map_err(|e| self.unencodable("store", key, e))?;
        self.write_via_tmp(change, "write", &object.meta, encoded.len() as u64, None, |file| {
            file.write_all(&encoded).map_err(|e| self.io_failed("write", key, e))
        })
        .map(drop)
    }

    /// Writes a new file for `meta` into `tmp/` with `fill`, fsyncs it and
    /// installs it ([`FileStore::install`]) as `file_len` bytes, in place
    /// of the file of generation `over` only, if given (a rewrite made from
    /// that file). The temporary file is removed when `fill`, the fsync or
    /// the install fails, or when nothing is installed; an I/O failure here
    /// is reported as "cannot `what` object".
    pub(in crate::store) fn write_via_tmp(
        &self,
        change: &Change,
        what: &str,
        meta: &ObjectMeta,
        file_len: u64,
        over: Option<u64>,
        fill: impl FnOnce(&mut File) -> Result<(), TierError>,
    ) -> Result<Installed, TierError> {
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
        self.install(change, &tmp, meta, file_len, over)
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
    /// and index it as `change`, in place of the file of generation `over`
    /// only, if given. The temporary file is removed on failure, when the
    /// change gives way to a later one that landed first, and when the file
    /// `over` names is no longer the key's. An install `over` a file is an
    /// expiry rewrite: its commit holds back older writes and rewrites, not
    /// older removals ([`Change::rewrote`]).
    fn install(
        &self,
        change: &Change,
        tmp: &Path,
        meta: &ObjectMeta,
        file_len: u64,
        over: Option<u64>,
    ) -> Result<Installed, TierError> {
        let key = meta.key.as_str();
        let io = |what: &str, e| TierError::io(self.tier, format!("{what} object {key:?}"), e);
        let dest = self.path(key);
        let parent = dest.parent().expect("object paths have a parent");
        let mut index = self.index.lock();
        let rewrite = over.is_some();
        if change.gives_way(key) {
            drop(index);
            let _ = fs::remove_file(tmp);
            tracing::debug!(tier = self.tier, key, "write gives way to a later change that landed first");
            return Ok(Installed::GaveWay);
        }
        if let Some(generation) = over
            && index.peek(key).map(|e| e.generation) != Some(generation)
        {
            drop(index);
            let _ = fs::remove_file(tmp);
            return Ok(Installed::Moved);
        }
        let renamed = fs::create_dir_all(parent).and_then(|()| fs::rename(tmp, &dest));
        if let Err(e) = renamed {
            drop(index);
            let _ = fs::remove_file(tmp);
            return Err(io("cannot store", e));
        }
        if rewrite {
            change.rewrote(key);
        } else {
            change.committed(key);
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
        Ok(Installed::Done)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::clock::SystemClock;
    use crate::store::contract::object;

    fn store(dir: &Path) -> Result<FileStore, TierError> {
        FileStore::open(dir, "local", true, Arc::new(SystemClock))
    }

    fn tmp_files(dir: &Path) -> std::io::Result<usize> {
        Ok(fs::read_dir(dir.join("tmp"))?.count())
    }

    /// The hazard: a write whose caller left lands after a later write was
    /// acknowledged. The later one stays, on disk as in the index.
    #[test]
    fn an_older_write_that_lands_late_leaves_the_newer_version() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = store(dir.path())?;
        let (older, newer) = (files.change("k"), files.change("k"));
        files.write_as(&newer, &object("k", b"newer", 2))?;
        files.write_as(&older, &object("k", b"older", 1))?;
        assert_eq!(files.read("k")?.ok_or("present")?.data, &b"newer"[..]);
        assert_eq!(tmp_files(dir.path())?, 0, "the older write's temporary file is removed");
        drop(files);
        let reopened = store(dir.path())?;
        assert_eq!(reopened.read("k")?.ok_or("present after a restart")?.data, &b"newer"[..]);
        Ok(())
    }

    #[test]
    fn a_write_that_lands_after_a_later_removal_does_not_bring_the_object_back()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = store(dir.path())?;
        files.write(&object("k", b"first", 1))?;
        let (write, removal) = (files.change("k"), files.change("k"));
        assert!(files.remove_as(&removal, "k")?);
        files.write_as(&write, &object("k", b"second", 2))?;
        assert_eq!(files.read("k")?, None);
        assert_eq!((files.objects(), files.bytes()), (0, 0));
        drop(files);
        assert_eq!(store(dir.path())?.read("k")?, None, "no file left to find at a restart");
        Ok(())
    }

    #[test]
    fn a_removal_or_rewrite_that_lands_after_a_later_write_leaves_it() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = store(dir.path())?;
        files.write(&object("k", b"first", 1))?;
        let (removal, rewrite, write) = (files.change("k"), files.change("k"), files.change("k"));
        files.write_as(&write, &object("k", b"second", 2))?;
        assert!(!files.remove_as(&removal, "k")?, "nothing removed");
        let rewritten = files.rewrite_expiry_as(&rewrite, "k", Some(42))?;
        assert_eq!(rewritten.map(|m| m.expires_ms), Some(Some(42)), "taken to have happened before the write");
        let kept = files.read("k")?.ok_or("present")?;
        assert_eq!((&kept.data[..], kept.meta.expires_ms), (&b"second"[..], None));
        Ok(())
    }

    /// An expiry rewrite holds back an older write or rewrite that lands
    /// after it (a late cache fill would bring the old expiry back), also
    /// when it found nothing to rewrite; an older removal still takes
    /// effect (no copy left outside the table).
    #[test]
    fn a_later_rewrite_holds_back_an_older_write_or_rewrite_not_an_older_removal()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = store(dir.path())?;
        for key in ["a", "b", "c"] {
            files.write(&object(key, b"first", 1))?;
        }
        let (removal, rewrite) = (files.change("a"), files.change("a"));
        assert!(files.rewrite_expiry_as(&rewrite, "a", Some(42))?.is_some());
        assert!(files.remove_as(&removal, "a")?, "the older removal still removes");
        assert_eq!(files.read("a")?, None);

        let (fill, rewrite) = (files.change("b"), files.change("b"));
        assert!(files.rewrite_expiry_as(&rewrite, "b", Some(42))?.is_some());
        files.write_as(&fill, &object("b", b"first", 1))?;
        let kept = files.read("b")?.ok_or("present")?;
        assert_eq!(kept.meta.expires_ms, Some(42), "the late write did not bring the old expiry back");

        let (older, later) = (files.change("c"), files.change("c"));
        assert!(files.rewrite_expiry_as(&later, "c", Some(7))?.is_some());
        assert!(files.rewrite_expiry_as(&older, "c", Some(5))?.is_some());
        let kept = files.read("c")?.ok_or("present")?;
        assert_eq!((&kept.data[..], kept.meta.expires_ms), (&b"first"[..], Some(7)), "the later rewrite's expiry");

        let (fill, rewrite) = (files.change("d"), files.change("d"));
        assert_eq!(files.rewrite_expiry_as(&rewrite, "d", Some(42))?, None, "nothing to rewrite");
        files.write_as(&fill, &object("d", b"first", 1))?;
        assert_eq!(files.read("d")?, None, "a rewrite that found nothing holds back an older write too");
        assert_eq!(tmp_files(dir.path())?, 0);
        Ok(())
    }

    #[test]
    fn changes_that_land_in_order_all_take_effect() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = store(dir.path())?;
        let (first, removal, last) = (files.change("k"), files.change("k"), files.change("k"));
        files.write_as(&first, &object("k", b"first", 1))?;
        assert!(files.remove_as(&removal, "k")?);
        files.write_as(&last, &object("k", b"last", 2))?;
        assert_eq!(files.read("k")?.ok_or("present")?.data, &b"last"[..]);
        Ok(())
    }

    /// A prefix removal's list is its commit for a key under the prefix it
    /// could not list (not stored yet): a write of it asked for before the
    /// removal gives way when it lands.
    #[test]
    fn a_write_landing_after_a_prefix_removal_listed_its_keys_gives_way() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = store(dir.path())?;
        files.write(&object("p/old", b"old", 1))?;
        let write = files.change("p/new");
        let removal = files.prefix_change("p/");
        let later = files.change("p/later");
        let listed = files.keys_as(&removal, "p/");
        assert_eq!(listed, vec!["p/old".to_string()]);
        files.write_as(&later, &object("p/later", b"later", 3))?;
        for key in &listed {
            assert!(files.remove_as(&removal, key)?);
        }
        files.write_as(&write, &object("p/new", b"new", 2))?;
        assert_eq!(files.keys(""), vec!["p/later".to_string()], "the late write gave way; the later one stays");
        assert_eq!(tmp_files(dir.path())?, 0);
        Ok(())
    }

    /// A key the prefix removal listed still holds its old file until the
    /// removal reaches it: an older delete or write of it landing meanwhile
    /// takes effect at once (giving way would leave the old value readable
    /// after the change was acknowledged), and the removal then removes
    /// what it left.
    #[test]
    fn an_older_change_of_a_listed_key_takes_effect_before_the_removal_reaches_it()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = store(dir.path())?;
        files.write(&object("p/a", b"old a", 1))?;
        files.write(&object("p/b", b"old b", 1))?;
        let (delete, write) = (files.change("p/a"), files.change("p/b"));
        let removal = files.prefix_change("p/");
        let mut listed = files.keys_as(&removal, "p/");
        listed.sort();
        assert_eq!(listed, vec!["p/a".to_string(), "p/b".to_string()]);
        assert!(files.remove_as(&delete, "p/a")?, "the delete removed the old value");
        assert_eq!(files.read("p/a")?, None);
        files.write_as(&write, &object("p/b", b"new b", 2))?;
        assert_eq!(files.read("p/b")?.ok_or("present")?.data, &b"new b"[..], "the write took effect");
        for key in &listed {
            files.remove_as(&removal, key)?;
        }
        assert_eq!(files.keys(""), Vec::<String>::new(), "the removal removed what they left");
        Ok(())
    }

    /// An expiry rewrite is made from one file; if that file is no longer
    /// the key's when the copy is done (an older change landed meanwhile),
    /// nothing is installed and the rewrite is made again from what is there.
    #[test]
    fn a_copy_made_from_a_file_since_replaced_or_removed_is_not_installed() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = store(dir.path())?;
        let first = object("k", b"first", 1);
        let encoded = format::encode(&first)?;
        let copy = |files: &FileStore, generation| {
            files.write_via_tmp(
                &files.change("k"),
                "rewrite",
                &first.meta,
                encoded.len() as u64,
                Some(generation),
                |f| f.write_all(&encoded).map_err(|e| files.io_failed("write", "k", e)),
            )
        };
        files.write(&first)?;
        let (_, generation) = files.indexed("k").ok_or("indexed")?;
        files.write(&object("k", b"second", 2))?;
        assert_eq!(copy(&files, generation)?, Installed::Moved);
        assert_eq!(files.read("k")?.ok_or("present")?.data, &b"second"[..], "the newer file stays");

        let (_, generation) = files.indexed("k").ok_or("indexed")?;
        assert!(files.remove("k")?);
        assert_eq!(copy(&files, generation)?, Installed::Moved);
        assert_eq!(files.read("k")?, None, "the removed object does not come back");
        assert_eq!(files.rewrite_expiry("k", Some(42))?, None, "made again: nothing to rewrite");

        files.write(&first)?;
        let (_, generation) = files.indexed("k").ok_or("indexed")?;
        assert_eq!(copy(&files, generation)?, Installed::Done, "the file it was made from is still the key's");
        assert_eq!(tmp_files(dir.path())?, 0);
        Ok(())
    }
}
