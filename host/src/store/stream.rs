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

/// Wrap `chunks` so that the total length and a hash computed over them are
/// checked at the end; `check(hasher)` says whether the hash matches. A
/// mismatch ends the stream with `Corrupt` from `tier`.
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
        len: u64,
    }
    let state = State { chunks, hasher: Some(hasher), check: Some(check), len: 0 };
    futures::stream::unfold(state, move |mut s| {
        let key = key.clone();
        async move {
            let hasher = s.hasher.as_mut()?;
            match s.chunks.next().await {
                Some(Ok(chunk)) => {
                    update(hasher, &chunk);
                    s.len += chunk.len() as u64;
                    Some((Ok(chunk), s))
                }
                Some(Err(err)) => {
                    s.hasher = None;
                    Some((Err(err), s))
                }
                None => {
                    let (hasher, check) = (s.hasher.take()?, s.check.take()?);
                    if s.len == expected_len && check(hasher) {
                        return None;
                    }
                    let message = format!(
                        "object {key:?}: streamed {} of {expected_len} bytes; they do not match the recorded hash",
                        s.len
                    );
                    Some((Err(TierError::corrupt(tier, message)), s))
                }
            }
        }
    })
    .boxed()
}
