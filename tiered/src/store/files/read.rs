//! Reading an object file whole: the disk tier's hot path, kept as close to
//! the cost of the file's bytes as verification allows.
//!
//! - An object read lately is read through the file kept open for it
//!   ([`super::handles`]): one `fstat` (was it unlinked behind the store's
//!   back?) and one `pread`, no `open` or `close`.
//! - Otherwise one `open` and, for a file as long as the index says, one
//!   `pread`. No `fstat`, `lseek` or second `read` to find the end, which
//!   `std::fs::read` makes: on a virtual machine each system call costs a few
//!   hundred nanoseconds, as much as copying several KiB. A read of a
//!   regular file returns fewer bytes than asked only at its end, so reading
//!   exactly the expected length means the file ends there; a longer file
//!   fills the spare byte and is read to its end, a shorter (torn) one is
//!   read until a read returns 0, and decoding refuses either.
//! - Into a buffer allocated at that length plus one byte and not zeroed.
//! - On Linux, opened without access-time updates (`O_NOATIME`): the kernel
//!   then skips its atime check on the read, and a cache's files have no use
//!   for one (recency lives in the index).
//! - No copy: the object's data is a slice of the read buffer.
//! - Verified before it is served, every time: [`format::decode`] checks the
//!   header hash (version 3) and the xxh3 of the data; the index's recency is
//!   updated, and the file kept open, only for an object that passed.

use std::fs::File;
use std::io::{self, ErrorKind};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;

use super::FileStore;
use crate::error::TierError;
use crate::object::Object;
use crate::store::format;

impl FileStore {
    /// Read and verify an object; `Ok(None)` if the index does not have it.
    pub fn read(&self, key: &str) -> Result<Option<Object>, TierError> {
        let Some((file_len, generation)) = self.indexed(key) else { return Ok(None) };
        let kept = self.handles.get(key, generation);
        self.read_indexed(key, file_len, generation, kept)
    }

    /// [`read`](Self::read) of the file indexed for `key` at `generation`,
    /// `file_len` bytes long, through `kept` if the store has it open.
    fn read_indexed(
        &self,
        key: &str,
        file_len: u64,
        generation: u64,
        kept: Option<Arc<File>>,
    ) -> Result<Option<Object>, TierError> {
        if let Some(kept) = kept {
            // A kept file that lost its name (a write renamed a new one over
            // it since, or something behind the store's back deleted or
            // replaced it) or fails is let go, and the path read afresh.
            match unlinked(&kept).and_then(|gone| if gone { Ok(None) } else { read_whole(&kept, file_len).map(Some) }) {
                Ok(Some(bytes)) => return self.verified(key, generation, bytes, None),
                Ok(None) => {}
                Err(e) => tracing::debug!(tier = self.tier, key, %e, "a kept file failed; reading the path"),
            }
            drop(self.handles.release(key, generation));
        }
        let file = match open(&self.path(key)) {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                self.forget(key, generation);
                return Ok(None);
            }
            Err(e) => return Err(self.io_failed("read", key, e)),
        };
        let bytes = read_whole(&file, file_len).map_err(|e| self.io_failed("read", key, e))?;
        self.verified(key, generation, bytes, Some(Arc::new(file)))
    }

    /// The object in `bytes`, read from `key`'s file at `generation`, once
    /// verified; `opened` is kept if that file was opened for this read.
    fn verified(
        &self,
        key: &str,
        generation: u64,
        bytes: Bytes,
        opened: Option<Arc<File>>,
    ) -> Result<Option<Object>, TierError> {
        let object = format::decode(bytes).map_err(|e| self.corrupt(key, e))?;
        if object.meta.key != key {
            return Err(TierError::corrupt(self.tier, format!("file for {key:?} holds key {:?}", object.meta.key)));
        }
        self.record_read(key, generation, opened);
        Ok(Some(object))
    }
}

/// Whether the open `file` no longer has a name (deleted or renamed over).
#[cfg(unix)]
fn unlinked(file: &File) -> io::Result<bool> {
    Ok(rustix::fs::fstat(file)?.st_nlink == 0)
}

#[cfg(not(unix))]
fn unlinked(_file: &File) -> io::Result<bool> {
    Ok(false)
}

/// All the bytes of the open `file` from its start, expected to be
/// `expected` bytes long (see the module docs for what a different length
/// costs). Positional, so one file can serve concurrent readers.
#[cfg(unix)]
fn read_whole(file: &File, expected: u64) -> io::Result<Bytes> {
    let expected = usize::try_from(expected).map_err(|_| io::Error::from(ErrorKind::OutOfMemory))?;
    let mut buffer = Vec::with_capacity(expected.saturating_add(1));
    loop {
        if buffer.len() == buffer.capacity() {
            buffer.reserve(buffer.len().max(8192));
        }
        let at = buffer.len() as u64;
        match rustix::io::pread(file, rustix::buffer::spare_capacity(&mut buffer), at) {
            Ok(0) => break,
            Ok(_) if buffer.len() == expected => break,
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Bytes::from(buffer))
}

/// Elsewhere than Unix: a file freshly opened (none is kept), read to its
/// end.
#[cfg(not(unix))]
fn read_whole(mut file: &File, expected: u64) -> io::Result<Bytes> {
    let expected = usize::try_from(expected).map_err(|_| io::Error::from(ErrorKind::OutOfMemory))?;
    let mut buffer = Vec::with_capacity(expected.saturating_add(1));
    io::Read::read_to_end(&mut file, &mut buffer)?;
    Ok(Bytes::from(buffer))
}

/// `path` opened to read, without updating its access time. Only the file's
/// owner may ask that (`EPERM` otherwise): a file of another owner is opened
/// plainly.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn open(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let no_atime = rustix::fs::OFlags::NOATIME.bits() as i32;
    match File::options().read(true).custom_flags(no_atime).open(path) {
        Err(e) if e.kind() == ErrorKind::PermissionDenied => File::open(path),
        opened => opened,
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn open(path: &Path) -> io::Result<File> {
    File::open(path)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::SystemClock;
    use crate::error::TierErrorKind;
    use crate::store::contract::object;

    /// All the bytes of the file at `path`, read as [`FileStore::read`]
    /// reads a file it opens.
    fn read_file(path: &Path, expected: u64) -> io::Result<Bytes> {
        read_whole(&open(path)?, expected)
    }

    fn store(dir: &Path) -> Result<FileStore, TierError> {
        FileStore::open(dir, "disk", false, Arc::new(SystemClock))
    }

    #[test]
    fn reads_a_file_of_the_expected_length_and_any_other() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("f");
        let bytes: Vec<u8> = (0..70_000u32).map(|i| (i % 241) as u8).collect();
        std::fs::write(&path, &bytes)?;
        for expected in [70_000, 0, 1, 69_999, 70_001, 1 << 20] {
            assert_eq!(read_file(&path, expected)?, bytes, "expecting {expected} bytes");
        }
        std::fs::write(&path, b"")?;
        assert!(read_file(&path, 10)?.is_empty());
        assert_eq!(read_file(&dir.path().join("absent"), 1).map_err(|e| e.kind()), Err(ErrorKind::NotFound));
        Ok(())
    }

    #[test]
    fn an_object_read_again_is_read_through_its_kept_file_until_written_or_removed()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = store(dir.path())?;
        files.write(&object("k", b"first", 1))?;
        assert_eq!(files.handles.len(), 0, "nothing is kept before a read");
        for _ in 0..3 {
            assert_eq!(files.read("k")?.ok_or("present")?.data, &b"first"[..]);
            assert_eq!(files.handles.len(), 1);
        }
        files.write(&object("k", b"second", 2))?;
        assert_eq!(files.handles.len(), 0, "a write drops the old file's handle");
        assert_eq!(files.read("k")?.ok_or("present")?.data, &b"second"[..]);
        assert!(files.remove("k")?);
        assert_eq!(files.handles.len(), 0, "a removal releases the file");
        assert_eq!(files.read("k")?, None);
        Ok(())
    }

    /// A reader that opened the file of one generation and finishes after a
    /// write installed the next does not leave the old file kept.
    #[test]
    fn a_read_that_raced_a_write_keeps_nothing() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = store(dir.path())?;
        files.write(&object("k", b"old", 1))?;
        let (_, generation) = files.indexed("k").ok_or("indexed")?;
        let old_file = Arc::new(open(&files.path("k"))?);
        files.write(&object("k", b"new", 2))?;
        files.record_read("k", generation, Some(old_file));
        assert_eq!(files.handles.len(), 0);
        assert_eq!(files.read("k")?.ok_or("present")?.data, &b"new"[..]);
        Ok(())
    }

    /// Deleted or renamed over behind the store's back: a kept file is not
    /// served once it has no name; the path is read as without the cache
    /// (nothing there: the index forgets the object).
    #[test]
    fn a_kept_file_unlinked_behind_the_stores_back_is_let_go() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = store(dir.path())?;
        files.write(&object("deleted", b"kept", 1))?;
        assert!(files.read("deleted")?.is_some());
        assert_eq!(files.handles.len(), 1, "kept");
        std::fs::remove_file(files.path("deleted"))?;
        assert_eq!(files.read("deleted")?, None);
        assert_eq!(files.file_len("deleted"), None, "forgotten");
        assert_eq!((files.handles.len(), files.bytes()), (0, 0));

        // Renamed over by a copy of the same object: the path is read afresh.
        files.write(&object("replaced", b"kept", 1))?;
        assert!(files.read("replaced")?.is_some());
        let path = files.path("replaced");
        let other = dir.path().join("other");
        std::fs::copy(&path, &other)?;
        std::fs::rename(&other, &path)?;
        assert_eq!(files.read("replaced")?.ok_or("present")?.data, &b"kept"[..]);
        assert_eq!(files.handles.len(), 1, "the new file is kept in place of the old");
        Ok(())
    }

    /// A reader holding the kept file when a write renames a new one over
    /// it reads the new file: the object was there all along.
    #[test]
    fn a_read_through_a_kept_file_that_a_write_replaced_reads_the_new_one() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = store(dir.path())?;
        files.write(&object("k", b"old", 1))?;
        assert!(files.read("k")?.is_some());
        let (file_len, generation) = files.indexed("k").ok_or("indexed")?;
        let kept = files.handles.get("k", generation);
        assert!(kept.is_some(), "kept by the first read");
        files.write(&object("k", b"newer", 2))?;
        let read = files.read_indexed("k", file_len, generation, kept)?;
        assert_eq!(read.ok_or("present")?.data, &b"newer"[..]);
        assert!(files.file_len("k").is_some(), "still indexed");
        Ok(())
    }

    /// The index's length only sizes the buffer: a file grown or cut behind
    /// the store's back is read as it is and refused by decoding.
    #[test]
    fn a_file_longer_or_shorter_than_indexed_is_corrupt() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = store(dir.path())?;
        let data = vec![5u8; 65_536];
        files.write(&object("k", &data, 1))?;
        let path = files.path("k");
        let intact = std::fs::read(&path)?;
        assert_eq!(files.read("k")?.ok_or("present")?.data, data);

        let mut grown = intact.clone();
        grown.extend_from_slice(b"trailing");
        let cut = intact[..intact.len() - 1].to_vec();
        for damaged in [grown, cut] {
            std::fs::write(&path, &damaged)?;
            let err = files.read("k").expect_err("refused");
            assert_eq!(err.kind(), TierErrorKind::Corrupt, "{err}");
        }
        std::fs::write(&path, &intact)?;
        assert_eq!(files.read("k")?.ok_or("present")?.data, data);
        Ok(())
    }

    /// Files the previous release wrote (format version 2, JSON metadata) are
    /// read, reopened and served like version 3 ones.
    #[test]
    fn a_version_2_file_is_read_and_indexed() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = store(dir.path())?;
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 239) as u8).collect();
        let old = object("old", &data, 7);
        let mut v2 = format::encode_old_header(&old.meta, format::data_hash(&data), true);
        v2.extend_from_slice(&data);
        v2.extend_from_slice(&format::chunk_table(&data));
        let path = files.path("old");
        std::fs::create_dir_all(path.parent().ok_or("parent")?)?;
        std::fs::write(&path, &v2)?;
        drop(files);

        let files = store(dir.path())?;
        assert_eq!(files.file_len("old"), Some(v2.len() as u64));
        assert_eq!(files.read("old")?, Some(old.clone()));
        assert_eq!(files.read_meta("old")?.as_ref(), Some(&*old.meta));
        let last_data_byte = v2.len() - format::table_len(data.len() as u64) as usize - 1;
        v2[last_data_byte] ^= 0x10;
        std::fs::write(&path, &v2)?;
        assert_eq!(files.read("old").expect_err("flipped").kind(), TierErrorKind::Corrupt);
        Ok(())
    }

    #[test]
    fn a_flipped_byte_in_a_version_3_header_or_data_is_corrupt() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = store(dir.path())?;
        let data: Vec<u8> = (0..65_536u32).map(|i| (i * 31) as u8).collect();
        files.write(&object("k", &data, 1))?;
        let path = files.path("k");
        let intact = std::fs::read(&path)?;
        assert_eq!(&intact[..8], format::MAGIC);
        let header = format::decode_header(&intact)?;
        // Each header byte, and data bytes at both ends and in the middle.
        let data_bytes = [header.data_start, header.data_start + 32_768, header.table_start() as usize - 1];
        for at in (0..header.data_start).chain(data_bytes) {
            let mut damaged = intact.clone();
            damaged[at] ^= 0x04;
            std::fs::write(&path, &damaged)?;
            let err = files.read("k").expect_err("refused");
            assert_eq!(err.kind(), TierErrorKind::Corrupt, "byte {at}: {err}");
        }
        Ok(())
    }
}
