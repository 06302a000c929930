//! Writing large objects into the file tiers (disk, local cold) without
//! holding them in memory; reading them back is `file_read.rs`.
//!
//! - [`FileStore::write_from_file`]: header, then the spool file's bytes
//!   copied by the kernel (`std::io::copy`: `copy_file_range` on Linux), then
//!   the chunk table, into `tmp/` → fsync → rename, the same discipline as
//!   [`FileStore::write`]. The header's data hash and the chunk table are
//!   those computed while spooling.
//! - [`FileStore::rewrite_expiry`]: a new header, the data copied from the
//!   old file in [`STREAM_CHUNK`]s and verified against its hash on the way
//!   (a damaged file is reported as corrupt, not rewritten), its chunk table
//!   computed on the way (so an older file becomes the current version), tmp →
//!   fsync → rename: `touch` on a large object holds one chunk. The copy is
//!   installed only in place of the file it was made from: if an older
//!   change of the key landed meanwhile, it is made again from what that
//!   change left (nothing, for a removal).
//!
//! All methods block: callers run them off the async executor.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use super::files::{Change, FileStore, Installed};
use super::format::{self, ChunkHasher, Header, table_len};
use super::stream::STREAM_CHUNK;
use crate::error::{TierError, TierErrorKind};
use crate::object::ObjectMeta;

/// Copies an expiry rewrite makes before it gives up on an object that
/// other changes keep replacing under it.
const REWRITE_ATTEMPTS: usize = 8;

impl FileStore {
    /// Store `meta`'s object from `source` (a [`Spooled`](super::Spooled)
    /// file whose xxh3 is `data_hash` and chunk table `chunk_table`), durably
    /// and atomically.
    pub fn write_from_file(
        &self,
        meta: &ObjectMeta,
        source: &Path,
        data_hash: u64,
        chunk_table: &[u8],
    ) -> Result<(), TierError> {
        self.write_from_file_as(&self.change(&meta.key), meta, source, data_hash, chunk_table)
    }

    /// [`write_from_file`](Self::write_from_file) as `change`: nothing is
    /// written if a later change of the key has landed already.
    pub fn write_from_file_as(
        &self,
        change: &Change,
        meta: &ObjectMeta,
        source: &Path,
        data_hash: u64,
        chunk_table: &[u8],
    ) -> Result<(), TierError> {
        let key = meta.key.as_str();
        let header = format::encode_header(meta, data_hash, 0).map_err(|e| self.unencodable("store", key, e))?;
        let file_len = header.len() as u64 + meta.size + chunk_table.len() as u64;
        self.write_via_tmp(change, "write", meta, file_len, None, |out| {
            copy_all(out, &header, source, meta.size)
                .and_then(|()| out.write_all(chunk_table))
                .map_err(|e| self.io_failed("write", key, e))
        })
        .map(drop)
    }

    /// Rewrite an object's expiry, copying its data through one chunk at a
    /// time; `Ok(None)` if the index does not have it.
    pub fn rewrite_expiry(&self, key: &str, expires_ms: Option<u64>) -> Result<Option<ObjectMeta>, TierError> {
        self.rewrite_expiry_as(&self.change(key), key, expires_ms)
    }

    /// [`rewrite_expiry`](Self::rewrite_expiry) as `change`: the file is
    /// left as it is if a later change of the key has landed already.
    pub fn rewrite_expiry_as(
        &self,
        change: &Change,
        key: &str,
        expires_ms: Option<u64>,
    ) -> Result<Option<ObjectMeta>, TierError> {
        // A change older than this one that lands while the copy is made
        // comes first: the copy is made again from what it left.
        for _ in 0..REWRITE_ATTEMPTS {
            let Some(generation) = self.rewrite_source(change, key) else { return Ok(None) };
            let Some((mut old, Header { mut meta, data_hash, .. })) = self.open_object("rewrite", key)? else {
                // Gone since: an older removal landed (looking again finds
                // nothing and records that as this rewrite's commit, or a
                // newer file to copy), or the file vanished behind the
                // index's back (nothing to rewrite).
                match self.rewrite_source(change, key) {
                    Some(now) if now != generation => continue,
                    _ => return Ok(None),
                }
            };
            let io = |e| self.io_failed("rewrite", key, e);
            meta.expires_ms = expires_ms;
            let header = format::encode_header(&meta, data_hash, 0).map_err(|e| self.unencodable("rewrite", key, e))?;
            let file_len = header.len() as u64 + meta.size + table_len(meta.size);
            let installed = self.write_via_tmp(change, "rewrite", &meta, file_len, Some(generation), |out| {
                match copy_verified(&mut old, out, &header, meta.size, data_hash) {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(self.corrupt(key, format::FormatError::HashMismatch)),
                    Err(e) => Err(io(e)),
                }
            })?;
            if installed != Installed::Moved {
                return Ok(Some(meta));
            }
        }
        Err(TierError::new(
            TierErrorKind::Unavailable,
            self.tier,
            format!("object {key:?} kept changing while its expiry was rewritten ({REWRITE_ATTEMPTS} attempts)"),
        ))
    }
}

/// Write `header` then all of `source` (`size` bytes, copied by the kernel)
/// to `out`.
fn copy_all(out: &mut File, header: &[u8], source: &Path, size: u64) -> std::io::Result<()> {
    out.write_all(header)?;
    let copied = std::io::copy(&mut File::open(source)?, out)?;
    if copied != size {
        let message = format!("copied {copied} bytes of {size}");
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, message));
    }
    Ok(())
}

/// Write `header`, the `size` bytes of `data` that follow its position and
/// their chunk table to `out`, in chunks; `false` if the data does not match
/// `data_hash`.
fn copy_verified(data: &mut File, out: &mut File, header: &[u8], size: u64, data_hash: u64) -> std::io::Result<bool> {
    use std::io::Read;
    out.write_all(header)?;
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut table = ChunkHasher::new();
    let mut buffer = vec![0u8; STREAM_CHUNK];
    let mut left = size;
    while left > 0 {
        let want = buffer.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = data.read(&mut buffer[..want])?;
        if n == 0 {
            return Ok(false);
        }
        hasher.update(&buffer[..n]);
        table.update(&buffer[..n]);
        out.write_all(&buffer[..n])?;
        left -= n as u64;
    }
    out.write_all(&table.finish())?;
    Ok(hasher.digest() == data_hash)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::SystemClock;
    use crate::store::contract::object;

    #[test]
    fn an_expiry_rewrite_copies_the_data_and_refuses_a_damaged_file() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = FileStore::open(dir.path(), "disk", false, Arc::new(SystemClock))?;
        let data: Vec<u8> = (0..(3 * STREAM_CHUNK + 17)).map(|i| (i % 253) as u8).collect();
        files.write(&object("big", &data, 1))?;
        let meta = files.rewrite_expiry("big", Some(42))?.ok_or("present")?;
        assert_eq!(meta.expires_ms, Some(42));
        let read = files.read("big")?.ok_or("present")?;
        assert_eq!((read.meta.expires_ms, &read.data[..]), (Some(42), &data[..]));
        assert!(files.rewrite_expiry("absent", None)?.is_none());

        let path = files.path("big");
        let mut raw = std::fs::read(&path)?;
        let last_data_byte = raw.len() - format::table_len(data.len() as u64) as usize - 1;
        raw[last_data_byte] ^= 1;
        std::fs::write(&path, raw)?;
        let err = files.rewrite_expiry("big", None).expect_err("a damaged file is not rewritten");
        assert_eq!(err.kind(), crate::error::TierErrorKind::Corrupt);
        assert_eq!(std::fs::read_dir(dir.path().join("tmp"))?.count(), 0, "no temporary file left");
        Ok(())
    }
}
