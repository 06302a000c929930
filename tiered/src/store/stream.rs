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

use std::sync::Arc;

use bytes::Bytes;
use futures::stream::BoxStream;

use crate::error::TierError;
use crate::object::{Object, ObjectMeta};

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

    #[test]
    fn a_mismatch_withholds_the_last_chunk_and_ends_with_corrupt() {
        let out = sum_check(&[b"\x01\x02", b"\x03"], 7);
        assert_eq!(out.len(), 2, "the first chunk, then the error: {out:?}");
        assert_eq!(&out[0].as_ref().unwrap()[..], [1, 2]);
        assert_eq!(out[1].as_ref().unwrap_err().kind(), crate::error::TierErrorKind::Corrupt);
    }
}
