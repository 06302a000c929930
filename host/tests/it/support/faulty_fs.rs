//! File-system faults for the disk tier: a small tmpfs (to fill up), remounted
//! read-only, or a directory swapped for a plain file.
//!
//! Tests run as root in CI, where `chmod` does not stop writes, so read-only
//! is made with a read-only remount of a tmpfs when `mount` is permitted, and
//! always also by replacing the tier's `objects/` directory with a file (every
//! open below it then fails with "not a directory").
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted for the test; unmounted when dropped.
#[derive(Debug)]
pub struct Tmpfs {
    pub path: PathBuf,
}

impl Tmpfs {
    /// Mount a tmpfs of `size` (e.g. `"512k"`) on `path`, or say why not.
    pub fn mount(path: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(path).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!("mount failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        Ok(Tmpfs { path: path.to_path_buf() })
    }

    /// Remount read-only (`true`) or read-write.
    pub fn set_read_only(&self, read_only: bool) -> anyhow::Result<()> {
        let opt = if read_only { "remount,ro" } else { "remount,rw" };
        let status = Command::new("mount").args(["-o", opt]).arg(&self.path).status()?;
        anyhow::ensure!(status.success(), "mount -o {opt} failed");
        Ok(())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// `dir` replaced by a plain file until [`restore`](Swapped::restore).
#[derive(Debug)]
pub struct Swapped {
    dir: PathBuf,
    away: PathBuf,
}

impl Swapped {
    pub fn swap(dir: &Path) -> anyhow::Result<Swapped> {
        let away = dir.with_extension("away");
        std::fs::rename(dir, &away)?;
        std::fs::write(dir, b"not a directory")?;
        Ok(Swapped { dir: dir.to_path_buf(), away })
    }

    pub fn restore(self) -> anyhow::Result<()> {
        std::fs::remove_file(&self.dir)?;
        std::fs::rename(&self.away, &self.dir)?;
        Ok(())
    }
}

/// Say loudly that a case could not run on this machine, and why; with
/// `TIERED_MOUNT_REQUIRED=1` (set by `tests/run-all`) fail instead, so a run
/// that should have mounted a file system cannot pass without doing so.
pub fn skipped(test: &str, why: &str) {
    let required = std::env::var("TIERED_MOUNT_REQUIRED").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "{test}: {why}. TIERED_MOUNT_REQUIRED=1 asks for the mount tests to run for real (as root); \
         set TIERED_MOUNT_REQUIRED=0 to let them skip"
    );
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}
