//! A range of an object in the file tiers, read without the rest of it.
//!
//! A version 2 file keeps the xxh3 of each [`CHUNK_LEN`] bytes of its data in
//! a table after the data ([`format`](super::format)). A range is served from
//! the chunks that cover it: their table entries are read first, then the
//! chunks, a few at a time (up to [`STREAM_CHUNK`] bytes), each checked
//! against its entry before any of its bytes is yielded. A mismatch ends the
//! stream with `Corrupt`, and the engine drops the copy. A range that fits in
//! one step is read inside the blocking call that opened the file; a larger
//! one streams.
//!
//! A version 1 file has no table: its whole data is streamed and checked
//! against the header's hash, and the range is cut out of it
//! ([`cut`](super::stream::cut)), its last piece held back until the check
//! passes. Rewriting the file (a `touch`) makes it version 2.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use tokio::io::AsyncReadExt;

use super::file_copy::verified_data;
use super::files::FileStore;
use super::format::{CHUNK_LEN, Header, verify_chunks};
use super::stream::{ChunkStream, RangeRead, STREAM_CHUNK, cut};
use crate::error::TierError;
use crate::range::ByteRange;

/// Chunks read (and checked) per step of a range's stream.
const CHUNKS_PER_STEP: u64 = STREAM_CHUNK as u64 / CHUNK_LEN;

impl FileStore {
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

/// The chunks covering a range of a version 2 file, read and checked in
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
