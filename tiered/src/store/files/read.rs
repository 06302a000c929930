//! Reading an object file whole: the disk tier's hot path, kept as close to
//! the cost of the file's bytes as verification allows.
//!
//! - One `open` and, for a file as long as the index says, one `read`, into a
//!   buffer allocated once at that length plus one byte and not zeroed. No
//!   `fstat`, `lseek` or second `read` to find the end, which `std::fs::read`
//!   makes: on a virtual machine each system call costs a few hundred
//!   nanoseconds, as much as copying several KiB. A `read` of a regular file
//!   returns fewer bytes than asked only at its end, so reading exactly the
//!   expected length means the file ends there; a longer file fills the
//!   spare byte and is read to its end, a shorter (torn) one is read until
//!   `read` returns 0, and decoding refuses either.
//! - On Linux, opened without access-time updates (`O_NOATIME`): the kernel
//!   then skips its atime check on the read, and a cache's files have no use
//!   for one (recency lives in the index).
//! - No copy: the object's data is a slice of the read buffer.
//! - Verified before it is served: [`format::decode`] checks the header hash
//!   (version 3) and the xxh3 of the data; the index's recency is updated
//!   only for an object that passed.

use std::fs::File;
use std::io::{self, ErrorKind};
use std::path::Path;

use bytes::Bytes;

use super::FileStore;
use crate::error::TierError;
use crate::object::Object;
use crate::store::format;

impl FileStore {
    /// Read and verify an object; `Ok(None)` if the index does not have it.
    pub fn read(&self, key: &str) -> Result<Option<Object>, TierError> {
        let Some(file_len) = self.file_len(key) else { return Ok(None) };
        let bytes = match read_file(&self.path(key), file_len) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                self.forget(key);
                return Ok(None);
            }
            Err(e) => return Err(self.io_failed("read", key, e)),
        };
        let object = format::decode(bytes).map_err(|e| self.corrupt(key, e))?;
        if object.meta.key != key {
            return Err(TierError::corrupt(self.tier, format!("file for {key:?} holds key {:?}", object.meta.key)));
        }
        self.record_access(key);
        Ok(Some(object))
    }
}

/// All the bytes of the file at `path`, expected to be `expected` bytes long
/// (see the module docs for what a different length costs).
fn read_file(path: &Path, expected: u64) -> io::Result<Bytes> {
    let mut file = open(path)?;
    let expected = usize::try_from(expected).map_err(|_| io::Error::from(ErrorKind::OutOfMemory))?;
    let mut buffer = Vec::with_capacity(expected.saturating_add(1));
    loop {
        match read_into_spare(&file, &mut buffer) {
            Ok(0) => break,
            Ok(_) if buffer.len() == expected => break,
            Ok(_) if buffer.len() == buffer.capacity() => {
                io::Read::read_to_end(&mut file, &mut buffer)?;
                break;
            }
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
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

/// One `read` into the spare capacity of `buffer` (which has some), the
/// bytes read appended; how many.
#[cfg(unix)]
fn read_into_spare(file: &File, buffer: &mut Vec<u8>) -> io::Result<usize> {
    Ok(rustix::io::read(file, rustix::buffer::spare_capacity(buffer))?)
}

/// Reads into the spare capacity of `buffer` (which has some), the bytes
/// read appended; how many. Elsewhere than Unix: until it is full or the
/// file ends.
#[cfg(not(unix))]
fn read_into_spare(file: &File, buffer: &mut Vec<u8>) -> io::Result<usize> {
    let spare = (buffer.capacity() - buffer.len()) as u64;
    io::Read::read_to_end(&mut io::Read::take(file, spare), buffer)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::SystemClock;
    use crate::error::TierErrorKind;
    use crate::store::contract::object;

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
