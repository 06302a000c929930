//! Object files a file tier could not delete (a read-only, full or failing
//! disk), remembered so they are deleted once the disk works again.
//!
//! The index forgets a key whose file could not be removed, so this process
//! never serves it; but the file is still on disk, and the index rebuilt at the
//! next open would pick it up and serve the value it held. [`Undeleted`] keeps
//! the paths and retries them after every successful write to the tier (the
//! disk evidently works again) and when the tier is dropped. What remains is a
//! restart while the disk is still failing: see RELIABILITY.md.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;

/// Paths of object files still to delete.
#[derive(Debug, Default)]
pub(super) struct Undeleted {
    paths: Mutex<Vec<PathBuf>>,
}

impl Undeleted {
    /// Remember `path`, whose deletion failed.
    pub(super) fn record(&self, path: PathBuf) {
        let mut paths = self.paths.lock();
        if !paths.contains(&path) {
            tracing::warn!(path = %path.display(), "object file could not be deleted; retrying after the next write");
            paths.push(path);
        }
    }

    /// Retry every remembered deletion, except of `installed`: a file just
    /// written there is a new, current object, not the stale one.
    pub(super) fn retry(&self, installed: Option<&Path>) {
        let mut paths = self.paths.lock();
        if paths.is_empty() {
            return;
        }
        paths.retain(|path| {
            if Some(path.as_path()) == installed {
                return false;
            }
            match fs::remove_file(path) {
                Ok(()) => false,
                Err(e) if e.kind() == ErrorKind::NotFound => false,
                Err(_) => true,
            }
        });
        if paths.is_empty() {
            tracing::info!("deleted the object files a disk fault had left behind");
        }
    }

    /// Paths still to delete.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.paths.lock().len()
    }
}

impl Drop for Undeleted {
    fn drop(&mut self) {
        self.retry(None);
        let left = self.paths.get_mut().len();
        if left > 0 {
            tracing::warn!(left, "object files a disk fault left behind are still on disk");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_delete_what_they_can_and_spare_a_rewritten_file() {
        let dir = tempfile::tempdir().unwrap();
        let (stale, rewritten, blocked) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c/d"));
        fs::write(&stale, b"old").unwrap();
        fs::write(&rewritten, b"new").unwrap();
        fs::write(dir.path().join("c"), b"a file where a directory should be").unwrap();
        let undeleted = Undeleted::default();
        for path in [&stale, &rewritten, &blocked, &stale] {
            undeleted.record(path.clone());
        }
        assert_eq!(undeleted.len(), 3, "a path is remembered once");

        undeleted.retry(Some(&rewritten));
        assert!(!stale.exists(), "the stale file is deleted");
        assert!(rewritten.exists(), "the file just written is spared");
        assert_eq!(undeleted.len(), 1, "the path that still cannot be deleted is kept");
    }
}
