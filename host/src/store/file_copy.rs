//! Large objects in the file tiers (disk, local cold), without holding them
//! in memory.
//!
//! - [`FileStore::write_from_file`]: header, then the spool file's bytes
//!   copied by the kernel (`std::io::copy`: `copy_file_range` on Linux), into
//!   `tmp/` → fsync → rename, the same discipline as [`FileStore::write`].
//!   The header's data hash is the one computed while spooling.
//! - [`FileStore::open_stream`]: the file opened once (a later replacement or
//!   eviction does not disturb a reader holding it) and read in
//!   [`STREAM_CHUNK`]s; the xxh3 of the data is checked at the end
//!   ([`verify_at_end`]), so a damaged file ends its stream with `Corrupt`.
//!
//! All methods block: callers run them off the async executor.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

use futures::StreamExt;
use tokio::io::AsyncReadExt;

use super::files::FileStore;
use super::format::{self, Header, HeaderError, read_open_header};
use super::stream::{ChunkStream, Fetched, ObjectStream, STREAM_CHUNK, verify_at_end};
use crate::error::TierError;
use crate::object::ObjectMeta;

impl FileStore {
    /// Store `meta`'s object from `source` (a [`Spooled`](super::Spooled)
    /// file whose xxh3 is `data_hash`), durably and atomically.
    pub fn write_from_file(&self, meta: &ObjectMeta, source: &Path, data_hash: u64) -> Result<(), TierError> {
        let key = meta.key.as_str();
        let header = format::encode_header(meta, data_hash, 0);
        let tmp = self.tmp_path(key);
        let written = (|| {
            let mut out = File::create(&tmp)?;
            out.write_all(&header)?;
            let copied = std::io::copy(&mut File::open(source)?, &mut out)?;
            if copied != meta.size {
                let message = format!("copied {copied} bytes of {}", meta.size);
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, message));
            }
            out.sync_all()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(TierError::io(self.tier, format!("cannot write object {key:?}"), e));
        }
        self.install(&tmp, meta, header.len() as u64 + meta.size)
    }

    /// The object whole if its data is at most `buffer_max` bytes, else an
    /// open stream over it; `Ok(None)` if the index does not have it.
    pub fn open_stream(&self, key: &str, buffer_max: u64) -> Result<Option<Fetched>, TierError> {
        let Some(file_len) = self.file_len(key) else { return Ok(None) };
        if file_len <= buffer_max {
            return Ok(self.read(key)?.map(Fetched::Whole));
        }
        let mut file = match File::open(self.path(key)) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(TierError::io(self.tier, format!("cannot read object {key:?}"), e)),
        };
        let Header { meta, data_hash: hash, data_start: start, .. } =
            read_open_header(&mut file).map_err(|e| match e {
                HeaderError::Io(e) => TierError::io(self.tier, format!("cannot read object {key:?}"), e),
                HeaderError::Format(e) => self.corrupt(key, e),
            })?;
        if meta.key != key {
            return Err(TierError::corrupt(self.tier, format!("file for {key:?} holds key {:?}", meta.key)));
        }
        if meta.size <= buffer_max {
            return Ok(self.read(key)?.map(Fetched::Whole));
        }
        file.seek(SeekFrom::Start(start as u64))
            .map_err(|e| TierError::io(self.tier, format!("cannot read object {key:?}"), e))?;
        self.record_access(key);
        let chunks = chunks(self.tier, key.to_string(), tokio::fs::File::from_std(file));
        let xxh3 = Box::new(xxhash_rust::xxh3::Xxh3::new());
        let update: fn(&mut Box<xxhash_rust::xxh3::Xxh3>, &[u8]) = |h, b| h.update(b);
        let chunks =
            verify_at_end(self.tier, key.to_string(), meta.size, chunks, xxh3, update, move |h| h.digest() == hash);
        Ok(Some(Fetched::Stream(ObjectStream { meta: Arc::new(meta), chunks })))
    }
}

/// The rest of an open file, in chunks of at most [`STREAM_CHUNK`] bytes.
fn chunks(tier: &'static str, key: String, file: tokio::fs::File) -> ChunkStream {
    futures::stream::unfold(Some(file), move |file| {
        let key = key.clone();
        async move {
            let mut file = file?;
            let mut buffer = vec![0u8; STREAM_CHUNK];
            match file.read(&mut buffer).await {
                Ok(0) => None,
                Ok(n) => {
                    buffer.truncate(n);
                    Some((Ok(bytes::Bytes::from(buffer)), Some(file)))
                }
                Err(e) => Some((Err(TierError::io(tier, format!("cannot read object {key:?}"), e)), None)),
            }
        }
    })
    .boxed()
}
