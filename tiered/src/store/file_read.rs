//! Reading the data of the file tiers' objects as verified streams, whole
//! or a range, without holding them in memory.
//!
//! - [`FileStore::open_stream`]: the object whole up to the reader's buffer
//!   (as `read`), else its file opened once (a later replacement or eviction
//!   does not disturb a reader holding it) and streamed.
//! - [`FileStore::open_range`]: bytes of the object, read without the rest
//!   of it.
//!
//! A file of version 2 or later keeps the xxh3 of each [`CHUNK_LEN`] bytes of
//! its data in a table after the data ([`format`](super::format)). A stream of it, whole
//! or a range, reads the table entries of the chunks it covers first, then
//! the chunks, a few at a time (up to [`STREAM_CHUNK`] bytes), each checked
//! against its entry before any of its bytes is yielded: a damaged file ends
//! its stream with `Corrupt` before any byte of the damaged chunk, and the
//! engine drops the copy. A range that fits in one step is read inside the
//! call that opened the file; a longer one streams.
//!
//! A version 1 file has no table: its whole data is streamed and its xxh3
//! checked at the end ([`verify_at_end`], which holds the last chunk back
//! until the check passes); a range is cut out of that stream
//! ([`cut`](super::stream::cut)), its last piece held back the same way.
//! Rewriting the file (a `touch`) makes it the current version.
//!
//! All methods block: callers run them off the async executor.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use tokio::io::AsyncReadExt;

use super::files::FileStore;
use super::format::{CHUNK_LEN, Header, verify_chunks};
use super::stream::{ChunkStream, Fetched, ObjectStream, RangeRead, STREAM_CHUNK, cut, verify_at_end};
use crate::error::TierError;
use crate::range::ByteRange;

/// Chunks read (and checked) per step of a range's stream.
const CHUNKS_PER_STEP: u64 = STREAM_CHUNK as u64 / CHUNK_LEN;

impl FileStore {
    /// The object whole if its data is at most `buffer_max` bytes, else an
    /// open stream over it; `Ok(None)` if the index does not have it.
    pub fn open_stream(&self, key: &str, buffer_max: u64) -> Result<Option<Fetched>, TierError> {
        let Some(file_len) = self.file_len(key) else { return Ok(None) };
        if file_len <= buffer_max {
            return Ok(self.read(key)?.map(Fetched::Whole));
        }
        let Some((file, header)) = self.open_object("read", key)? else { return Ok(None) };
        if header.meta.size <= buffer_max {
            return Ok(self.read(key)?.map(Fetched::Whole));
        }
        let chunks = if header.chunked {
            checked_chunks(self.tier, key, file, &header, 0..header.meta.size)
        } else {
            verified_data(self.tier, key, file, &header)
        };
        let chunks = chunks.map_err(|e| self.io_failed("read", key, e))?;
        self.record_access(key);
        Ok(Some(Fetched::Stream(ObjectStream { meta: Arc::new(header.meta), chunks })))
    }

    /// Bytes `range` of the object's data, verified before they are yielded;
    /// `Ok(None)` if the index does not have it.
    pub fn open_range(&self, key: &str, range: ByteRange) -> Result<Option<RangeRead>, TierError> {
        let Some((mut file, header)) = self.open_object("read", key)? else { return Ok(None) };
        let io = |e| self.io_failed("read", key, e);
        let meta = Arc::new(header.meta.clone());
        let Some(span) = range.resolve(meta.size) else { return Ok(Some(RangeRead::unsatisfiable(meta))) };
        self.record_access(key);
        let chunks = if header.chunked {
            let mut reader = ChunkReader::open(self.tier, key, &mut file, &header, span.clone()).map_err(io)?;
            if reader.steps_left() == 1 {
                let piece = reader.step_blocking(&mut file)?;
                futures::stream::iter([Ok(piece)]).boxed()
            } else {
                reader.into_stream(file)
            }
        } else {
            // Version 1: the whole data checked at its end, the range cut out.
            cut(verified_data(self.tier, key, file, &header).map_err(io)?, span.clone())
        };
        Ok(Some(RangeRead { meta, range: Some(span), chunks }))
    }
}

/// Bytes `span` of the data of an open chunked file described by
/// `header`, as a stream of checked steps (a whole streamed read is the span
/// of all of it).
fn checked_chunks(
    tier: &'static str,
    key: &str,
    mut file: File,
    header: &Header,
    span: Range<u64>,
) -> std::io::Result<ChunkStream> {
    Ok(ChunkReader::open(tier, key, &mut file, header, span)?.into_stream(file))
}

/// The data of an open object file described by `header`, from its start, in
/// chunks, its xxh3 checked at the end ([`verify_at_end`]).
fn verified_data(tier: &'static str, key: &str, mut file: File, header: &Header) -> std::io::Result<ChunkStream> {
    file.seek(SeekFrom::Start(header.data_start as u64))?;
    let (size, hash) = (header.meta.size, header.data_hash);
    let data = chunks(tier, key.to_string(), tokio::fs::File::from_std(file), size);
    let xxh3 = Box::new(xxhash_rust::xxh3::Xxh3::new());
    let update: fn(&mut Box<xxhash_rust::xxh3::Xxh3>, &[u8]) = |h, b| h.update(b);
    Ok(verify_at_end(tier, key.to_string(), size, data, xxh3, update, move |h| h.digest() == hash))
}

/// The next `size` bytes of an open file, in chunks of at most
/// [`STREAM_CHUNK`] bytes (a short file ends the stream early: the check at
/// its end reports the length).
fn chunks(tier: &'static str, key: String, file: tokio::fs::File, size: u64) -> ChunkStream {
    futures::stream::unfold(Some((file, size)), move |state| {
        let key = key.clone();
        async move {
            let (mut file, left) = state?;
            if left == 0 {
                return None;
            }
            let mut buffer = vec![0u8; STREAM_CHUNK.min(usize::try_from(left).unwrap_or(usize::MAX))];
            match file.read(&mut buffer).await {
                Ok(0) => None,
                Ok(n) => {
                    buffer.truncate(n);
                    Some((Ok(bytes::Bytes::from(buffer)), Some((file, left - n as u64))))
                }
                Err(e) => Some((Err(TierError::io(tier, format!("cannot read object {key:?}"), e)), None)),
            }
        }
    })
    .boxed()
}

/// The chunks covering a range of a chunked file, read and checked in
/// steps: where the reading stands (the file is held beside it).
struct ChunkReader {
    tier: &'static str,
    key: String,
    /// Entries of the table for the chunks `first..end_chunk`.
    table: Vec<u8>,
    first: u64,
    /// The next chunk to read, and one past the last.
    next: u64,
    end_chunk: u64,
    size: u64,
    span: Range<u64>,
}

impl ChunkReader {
    /// Read the table entries of the chunks covering `span` and position the
    /// file at the first of them.
    fn open(
        tier: &'static str,
        key: &str,
        file: &mut File,
        header: &Header,
        span: Range<u64>,
    ) -> std::io::Result<Self> {
        let first = span.start / CHUNK_LEN;
        let end_chunk = span.end.div_ceil(CHUNK_LEN);
        let mut table = vec![0u8; 8 * (end_chunk - first) as usize];
        file.seek(SeekFrom::Start(header.table_start() + 8 * first))?;
        file.read_exact(&mut table)?;
        file.seek(SeekFrom::Start(header.data_start as u64 + first * CHUNK_LEN))?;
        let size = header.meta.size;
        Ok(ChunkReader { tier, key: key.to_string(), table, first, next: first, end_chunk, size, span })
    }

    fn steps_left(&self) -> u64 {
        (self.end_chunk - self.next).div_ceil(CHUNKS_PER_STEP)
    }

    /// The next step: where its bytes start in the object, how many chunks
    /// and bytes it reads.
    fn plan(&self) -> (u64, u64, usize) {
        let count = CHUNKS_PER_STEP.min(self.end_chunk - self.next);
        let from = self.next * CHUNK_LEN;
        let to = ((self.next + count) * CHUNK_LEN).min(self.size);
        (from, count, (to - from) as usize)
    }

    /// Check the step's `data` (read at object position `from`, `count`
    /// chunks) and cut the range's part out of it.
    fn checked(&mut self, from: u64, count: u64, data: Vec<u8>) -> Result<Bytes, TierError> {
        let at = (8 * (self.next - self.first)) as usize;
        let entries = &self.table[at..at + 8 * count as usize];
        verify_chunks(self.next, &data, entries)
            .map_err(|e| TierError::corrupt(self.tier, format!("object {:?}: {e}", self.key)))?;
        self.next += count;
        let to = from + data.len() as u64;
        let (start, end) = (from.max(self.span.start), to.min(self.span.end));
        Ok(Bytes::from(data).slice((start - from) as usize..(end - from) as usize))
    }

    /// One step, read with blocking I/O (into a buffer that is not zeroed
    /// first: `read_to_end` fills spare capacity).
    fn step_blocking(&mut self, file: &mut File) -> Result<Bytes, TierError> {
        let (from, count, len) = self.plan();
        let mut data = Vec::with_capacity(len);
        let read = file.take(len as u64).read_to_end(&mut data).map_err(|e| self.failed(e))?;
        if read < len {
            let short = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("{read} of {len} bytes"));
            return Err(self.failed(short));
        }
        self.checked(from, count, data)
    }

    fn failed(&self, err: std::io::Error) -> TierError {
        TierError::io(self.tier, format!("cannot read object {:?}", self.key), err)
    }

    /// The remaining steps as a stream, read with async I/O.
    fn into_stream(self, file: File) -> ChunkStream {
        let state = Some((self, tokio::fs::File::from_std(file)));
        futures::stream::unfold(state, |state| async move {
            let (mut reader, mut file) = state?;
            if reader.next == reader.end_chunk {
                return None;
            }
            let (from, count, len) = reader.plan();
            let mut data = vec![0u8; len];
            if let Err(e) = file.read_exact(&mut data).await {
                return Some((Err(reader.failed(e)), None));
            }
            match reader.checked(from, count, data) {
                Ok(piece) => Some((Ok(piece), Some((reader, file)))),
                Err(err) => Some((Err(err), None)),
            }
        })
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use futures::StreamExt;

    use super::*;
    use crate::clock::SystemClock;
    use crate::store::contract::object;
    use crate::store::format::decode_header;

    #[tokio::test]
    async fn a_whole_stream_stops_before_the_damaged_chunk() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let files = FileStore::open(dir.path(), "disk", false, Arc::new(SystemClock))?;
        let data: Vec<u8> = (0..(20 * CHUNK_LEN as usize + 9)).map(|i| (i % 251) as u8).collect();
        files.write(&object("big", &data, 1))?;
        let streamed = |files: &FileStore| -> Result<_, Box<dyn std::error::Error>> {
            match files.open_stream("big", 1024)? {
                Some(Fetched::Stream(stream)) => Ok(stream.chunks),
                other => Err(format!("expected a stream, got {other:?}").into()),
            }
        };
        let whole: Vec<_> = streamed(&files)?.collect().await;
        let bytes: Vec<u8> = whole.into_iter().map(|c| c.map(|c| c.to_vec())).collect::<Result<Vec<_>, _>>()?.concat();
        assert_eq!(bytes, data);

        let path = files.path("big");
        let mut raw = std::fs::read(&path)?;
        let start = decode_header(&raw)?.data_start;
        raw[start + 13 * CHUNK_LEN as usize + 7] ^= 1;
        std::fs::write(&path, raw)?;
        let items: Vec<_> = streamed(&files)?.collect().await;
        let sent: usize = items.iter().filter_map(|c| c.as_ref().ok()).map(|c| c.len()).sum();
        let last = items.last().ok_or("items")?.as_ref().expect_err("the stream ends with the mismatch");
        assert_eq!(last.kind(), crate::error::TierErrorKind::Corrupt);
        assert!(sent <= 13 * CHUNK_LEN as usize, "no byte of the damaged chunk was sent: {sent}");
        Ok(())
    }
}
