//! Objects too large to hold in memory, read as a stream of chunks.
//!
//! [`Tier::get_stream`](super::Tier::get_stream) answers [`Fetched::Whole`]
//! for an object of at most the caller's `buffer_max` bytes (the ordinary,
//! verified [`Object`]) and [`Fetched::Stream`] above it. A stream verifies
//! itself: the tier hashes the chunks as they pass and, if the bytes do not
//! match the object's recorded hash or size, yields a final error of kind
//! `Corrupt` instead of ending cleanly. A consumer that forwards the chunks
//! (the HTTP service) therefore never completes a wrong body: it fails at the
//! end instead.
//!
//! [`Tier::get_range`](super::Tier::get_range) answers a [`RangeRead`]: some
//! bytes of an object, as a stream that is verified before a byte of it is
//! yielded (the file tiers check the chunks that cover the range; a tier that
//! verifies only whole objects cuts the range out of a verified stream with
//! [`cut`], which holds its last piece back until the check at the end passes).

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::BoxStream;

use crate::error::TierError;
use crate::object::{Object, ObjectMeta};
use crate::range::ByteRange;

/// Chunks of an object's stored bytes; a final `Err` means the transfer is
/// broken (I/O failure, or a `Corrupt` verification failure).
pub type ChunkStream = BoxStream<'static, Result<Bytes, TierError>>;

/// Read chunk size of the file tiers' streams.
pub const STREAM_CHUNK: usize = 256 * 1024;

/// An object being read as a stream.
pub struct ObjectStream {
    pub meta: Arc<ObjectMeta>,
    pub chunks: ChunkStream,
}

impl std::fmt::Debug for ObjectStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStream").field("meta", &self.meta).finish_non_exhaustive()
    }
}

/// What [`Tier::get_stream`](super::Tier::get_stream) found.
#[derive(Debug)]
pub enum Fetched {
    /// Small enough to read whole: verified as by `get`.
    Whole(Object),
    /// Larger: the bytes follow as a self-verifying stream.
    Stream(ObjectStream),
}

impl Fetched {
    /// The object's metadata, whole or streamed.
    pub fn meta(&self) -> &Arc<ObjectMeta> {
        match self {
            Fetched::Whole(object) => &object.meta,
            Fetched::Stream(stream) => &stream.meta,
        }
    }
}

/// Some bytes of an object, as [`Tier::get_range`](super::Tier::get_range)
/// reads them.
pub struct RangeRead {
    pub meta: Arc<ObjectMeta>,
    /// The stored bytes served (end exclusive), the request resolved against
    /// `meta.size`; `None` when it names none of them (nothing follows).
    pub range: Option<Range<u64>>,
    /// The bytes of `range`; a final `Err` means the transfer is broken.
    pub chunks: ChunkStream,
}

impl std::fmt::Debug for RangeRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RangeRead").field("meta", &self.meta).field("range", &self.range).finish_non_exhaustive()
    }
}

impl RangeRead {
    /// `range` of an object held whole (and verified).
    pub fn of_object(object: Object, range: ByteRange) -> RangeRead {
        use futures::StreamExt;
        let span = range.resolve(object.meta.size);
        let bytes = span.clone().map(|s| object.data.slice(s.start as usize..s.end as usize));
        RangeRead { meta: object.meta, range: span, chunks: futures::stream::iter(bytes.map(Ok)).boxed() }
    }

    /// A range that names no byte of `meta`'s object.
    pub fn unsatisfiable(meta: Arc<ObjectMeta>) -> RangeRead {
        use futures::StreamExt;
        RangeRead { meta, range: None, chunks: futures::stream::empty().boxed() }
    }
}

/// The bytes at positions `span` of the object `chunks` streams, from a
/// stream that verifies itself at its end ([`verify_at_end`]): every chunk is
/// read (so the check runs), the piece of the range in hand is held back until
/// the next one or the clean end, and an error ends the range instead.
pub fn cut(chunks: ChunkStream, span: Range<u64>) -> ChunkStream {
    use futures::StreamExt;
    struct State {
        chunks: ChunkStream,
        at: u64,
        held: Option<Bytes>,
        done: bool,
    }
    let state = State { chunks, at: 0, held: None, done: false };
    futures::stream::unfold(state, move |mut s| {
        let span = span.clone();
        async move {
            loop {
                if s.done {
                    return None;
                }
                match s.chunks.next().await {
                    Some(Ok(chunk)) => {
                        let (from, to) = (s.at, s.at + chunk.len() as u64);
                        s.at = to;
                        let (start, end) = (from.max(span.start), to.min(span.end));
                        if start < end {
                            let piece = chunk.slice((start - from) as usize..(end - from) as usize);
                            if let Some(previous) = s.held.replace(piece) {
                                return Some((Ok(previous), s));
                            }
                        }
                    }
                    Some(Err(err)) => {
                        (s.held, s.done) = (None, true);
                        return Some((Err(err), s));
                    }
                    None => {
                        s.done = true;
                        return s.held.take().map(|piece| (Ok(piece), s));
                    }
                }
            }
        }
    })
    .boxed()
}

/// Wrap `chunks` so that the total length and a hash computed over them are
/// checked at the end; `check(hasher)` says whether the hash matches. A
/// mismatch ends the stream with `Corrupt` from `tier`.
///
/// The last chunk is held back until the check passes: a consumer that stops
/// reading once it has the announced length (an HTTP server sending a
/// `content-length` body does) must never receive all of a wrong body. So one
/// chunk is buffered beyond the one in hand.
pub fn verify_at_end<H: Send + 'static>(
    tier: &'static str,
    key: String,
    expected_len: u64,
    chunks: ChunkStream,
    hasher: H,
    update: fn(&mut H, &[u8]),
    check: impl FnOnce(H) -> bool + Send + 'static,
) -> ChunkStream {
    use futures::StreamExt;
    struct State<H, C> {
        chunks: ChunkStream,
        hasher: Option<H>,
        check: Option<C>,
        held: Option<Bytes>,
        len: u64,
    }
    let state = State { chunks, hasher: Some(hasher), check: Some(check), held: None, len: 0 };
    futures::stream::unfold(state, move |mut s| {
        let key = key.clone();
        async move {
            loop {
                let Some(hasher) = s.hasher.as_mut() else {
                    // Verified (or failed): release the held chunk, then end.
                    return s.held.take().map(|chunk| (Ok(chunk), s));
                };
                match s.chunks.next().await {
                    Some(Ok(chunk)) => {
                        update(hasher, &chunk);
                        s.len += chunk.len() as u64;
                        if let Some(previous) = s.held.replace(chunk) {
                            return Some((Ok(previous), s));
                        }
                    }
                    Some(Err(err)) => {
                        (s.hasher, s.held) = (None, None);
                        return Some((Err(err), s));
                    }
                    None => {
                        let (hasher, check) = (s.hasher.take()?, s.check.take()?);
                        if s.len == expected_len && check(hasher) {
                            continue;
                        }
                        s.held = None;
                        let message = format!(
                            "object {key:?}: streamed {} of {expected_len} bytes; they do not match the recorded hash",
                            s.len
                        );
                        return Some((Err(TierError::corrupt(tier, message)), s));
                    }
                }
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    fn sum_check(data: &[&'static [u8]], expected: u64) -> Vec<Result<Bytes, TierError>> {
        let owned: Vec<_> = data.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        let chunks = futures::stream::iter(owned).boxed();
        let total: u64 = data.iter().map(|c| c.len() as u64).sum();
        let update: fn(&mut u64, &[u8]) = |h, b| *h += b.iter().map(|&x| u64::from(x)).sum::<u64>();
        let stream = verify_at_end("test", "k".into(), total, chunks, 0u64, update, move |h| h == expected);
        futures::executor::block_on(stream.collect())
    }

    #[test]
    fn a_matching_stream_passes_every_chunk_through() {
        let out = sum_check(&[b"\x01\x02", b"\x03"], 6);
        let bytes: Vec<u8> = out.into_iter().flat_map(|c| c.unwrap().to_vec()).collect();
        assert_eq!(bytes, [1, 2, 3]);
    }

    fn cut_of(chunks: Vec<Result<Bytes, TierError>>, span: Range<u64>) -> Vec<Result<Bytes, TierError>> {
        futures::executor::block_on(cut(futures::stream::iter(chunks).boxed(), span).collect())
    }

    #[test]
    fn a_cut_yields_the_range_and_holds_its_last_piece_until_the_end() {
        let chunks =
            || vec![Ok(Bytes::from_static(b"abcd")), Ok(Bytes::from_static(b"efgh")), Ok(Bytes::from_static(b"ij"))];
        let bytes = |out: Vec<Result<Bytes, TierError>>| -> Vec<u8> {
            out.into_iter().flat_map(|c| c.unwrap().to_vec()).collect()
        };
        assert_eq!(bytes(cut_of(chunks(), 2..7)), b"cdefg");
        assert_eq!(bytes(cut_of(chunks(), 0..10)), b"abcdefghij");
        assert_eq!(bytes(cut_of(chunks(), 9..10)), b"j");
        let mut failing = chunks();
        failing[2] = Err(TierError::corrupt("test", "mismatch"));
        let out = cut_of(failing, 2..7);
        assert_eq!(out.len(), 2, "the first piece, then the error, never the held piece: {out:?}");
        assert_eq!(&out[0].as_ref().unwrap()[..], b"cd");
        assert!(out[1].is_err());
    }

    #[test]
    fn a_mismatch_withholds_the_last_chunk_and_ends_with_corrupt() {
        let out = sum_check(&[b"\x01\x02", b"\x03"], 7);
        assert_eq!(out.len(), 2, "the first chunk, then the error: {out:?}");
        assert_eq!(&out[0].as_ref().unwrap()[..], [1, 2]);
        assert_eq!(out[1].as_ref().unwrap_err().kind(), crate::error::TierErrorKind::Corrupt);
    }
}
