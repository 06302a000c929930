//! Spool files: a large request body written to a temporary file while its
//! checksums are computed, so no tier and no handler holds it whole in memory.
//!
//! [`SpoolWriter`] takes the body chunk by chunk (as it arrives from the
//! network), writes it through a small buffer ([`SPOOL_BUFFER`]) and hashes it
//! on the way: the sha256 that becomes the object's `checksum`, the xxh3 that
//! the file tiers keep in their header, and the xxh3 of each chunk they keep
//! in their chunk table. [`SpoolWriter::finish`]
//! flushes and returns a [`Spooled`] file, which tiers copy from
//! ([`Tier::put_file`](super::Tier::put_file)).
//!
//! The file is removed when the writer or the spooled file is dropped, on
//! every path: success, error, a client that disconnects (its handler is
//! dropped). A crash can leave a file behind; the service empties the spool
//! directory at start.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use tokio::io::{AsyncWriteExt, BufWriter};
use xxhash_rust::xxh3::Xxh3;

use super::format::ChunkHasher;

use crate::error::TierError;

/// Bytes buffered between the network and the spool file.
pub const SPOOL_BUFFER: usize = 1 << 20;

/// Distinguishes spool files of one process.
static SEQ: AtomicU64 = AtomicU64::new(0);

/// A path removed when dropped.
#[derive(Debug)]
struct Removed(PathBuf);

impl Drop for Removed {
    fn drop(&mut self) {
        if let Err(err) = std::fs::remove_file(&self.0)
            && err.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.0.display(), %err, "could not remove a spool file");
        }
    }
}

/// A body being written to a spool file.
pub struct SpoolWriter {
    file: BufWriter<tokio::fs::File>,
    path: Removed,
    sha256: Sha256,
    xxh3: Box<Xxh3>,
    chunks: ChunkHasher,
    size: u64,
}

/// A complete spool file and what is known about its bytes.
#[derive(Debug)]
pub struct Spooled {
    path: Removed,
    /// Bytes in the file.
    pub size: u64,
    /// Hex sha256 of the bytes (the object's `checksum`).
    pub checksum: String,
    /// xxh3-64 of the bytes (the file tiers' header hash).
    pub data_hash: u64,
    /// The file tiers' chunk table of the bytes.
    pub chunk_table: Vec<u8>,
}

impl std::fmt::Debug for SpoolWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpoolWriter").field("path", &self.path.0).field("size", &self.size).finish_non_exhaustive()
    }
}

impl SpoolWriter {
    /// Start a spool file in `dir` (created if needed).
    pub async fn create(dir: &Path) -> Result<SpoolWriter, TierError> {
        let io = |e| TierError::io("spool", format!("cannot create a spool file in {}", dir.display()), e);
        tokio::fs::create_dir_all(dir).await.map_err(io)?;
        let name = format!("{}.{}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed));
        let path = dir.join(name);
        let file = tokio::fs::File::create(&path).await.map_err(io)?;
        Ok(SpoolWriter {
            file: BufWriter::with_capacity(SPOOL_BUFFER, file),
            path: Removed(path),
            sha256: Sha256::new(),
            xxh3: Box::new(Xxh3::new()),
            chunks: ChunkHasher::new(),
            size: 0,
        })
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Append a chunk.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), TierError> {
        self.sha256.update(chunk);
        self.xxh3.update(chunk);
        self.chunks.update(chunk);
        self.size += chunk.len() as u64;
        self.file.write_all(chunk).await.map_err(|e| self.failed(e))
    }

    /// Flush and close: the file is complete.
    pub async fn finish(mut self) -> Result<Spooled, TierError> {
        // No fsync: the file is scratch; the tiers fsync their own copies.
        self.file.flush().await.map_err(|e| self.failed(e))?;
        Ok(Spooled {
            path: self.path,
            size: self.size,
            checksum: hex::encode(self.sha256.finalize()),
            data_hash: self.xxh3.digest(),
            chunk_table: self.chunks.finish(),
        })
    }

    fn failed(&self, err: std::io::Error) -> TierError {
        TierError::io("spool", format!("cannot write spool file {}", self.path.0.display()), err)
    }
}

impl Spooled {
    /// Where the bytes are (removed when `self` is dropped).
    pub fn path(&self) -> &Path {
        &self.path.0
    }
}

/// Remove whatever a previous process left in `dir` (spool files of a crash).
pub fn empty_dir(dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)
}
