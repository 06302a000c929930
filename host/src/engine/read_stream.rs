//! Reads that may stream: [`TieredStore::get_stream`] answers small objects
//! whole, through the ordinary read path ([`get_with_metadata`]: single-flight,
//! revalidation, promotion), and objects larger than the caller's
//! `buffer_max` as a stream of chunks, never held whole in memory.
//!
//! Order: hot (small by construction: a hit is served whole) → warm → cold.
//! A large warm copy is streamed from its file; a stale one is first checked
//! against cold's ETag with a HEAD. A cold read first runs as a shared flight
//! that answers small objects whole; when it finds a large object, it leaves
//! the stream it opened in a [`Handoff`]: the first caller to come for it
//! streams it, and any other caller of the same flight opens its own stream.
//!
//! **Verification.** Streams check their hash at the end ([`crate::store::stream`]).
//! A mismatch ends the body with an error, so a client sees a broken transfer,
//! never a complete wrong body; a corrupt warm copy is then dropped and
//! counted (the next read goes to cold), a corrupt cold copy is counted and
//! logged as an error.
//!
//! **Promotion.** A large object streamed from cold is teed into a spool file
//! and installed in warm once verified, when the policy asks for it
//! ([`super::promote_stream`]; needs the store's `spool_dir`). It never goes
//! to hot. Objects stored with a codec other than `identity` are read whole.
//!
//! [`get_with_metadata`]: TieredStore::get_with_metadata

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use parking_lot::Mutex;

use super::TieredStore;
use super::ordering::Ticket;
use super::read::{Flight, FlightError, Hit, finish, verified};
use super::stats::bump;
use crate::error::{Error, TierError, TierErrorKind};
use crate::key;
use crate::object::{Codec, ObjectMeta};
use crate::policy::TierId;
use crate::store::{ChunkStream, Fetched, ObjectStream};

/// What [`TieredStore::get_stream`] serves.
#[derive(Debug)]
pub enum Served {
    /// A value small enough to hold, decoded.
    Whole(Hit),
    /// A large value, as stored (codec `identity`), in chunks.
    Stream(StreamHit),
}

/// A large value being read.
pub struct StreamHit {
    pub meta: Arc<ObjectMeta>,
    /// The tier that serves it.
    pub source: TierId,
    /// The bytes; a final `Err` means the transfer is broken (I/O failure or
    /// a checksum mismatch found at the end).
    pub body: BoxStream<'static, Result<Bytes, Error>>,
}

impl std::fmt::Debug for StreamHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamHit").field("meta", &self.meta).field("source", &self.source).finish_non_exhaustive()
    }
}

/// The cold stream a shared read opened on a large object, with the ticket
/// taken before it was opened, for one of the flight's callers to take.
#[derive(Clone)]
pub(crate) struct Handoff(Arc<Mutex<Option<(Ticket, ObjectStream)>>>);

impl Handoff {
    fn new(ticket: Ticket, stream: ObjectStream) -> Self {
        Handoff(Arc::new(Mutex::new(Some((ticket, stream)))))
    }

    /// The stream, to the first caller that would stream it (the object is
    /// larger than its `buffer_max`); `None` to the others.
    fn take(&self, buffer_max: u64) -> Option<(Ticket, ObjectStream)> {
        let mut slot = self.0.lock();
        if slot.as_ref().is_some_and(|(_, stream)| stream.meta.size > buffer_max) { slot.take() } else { None }
    }
}

impl std::fmt::Debug for Handoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handoff").field("waiting", &self.0.lock().is_some()).finish()
    }
}

impl TieredStore {
    /// The value of `key`: whole if it is at most `buffer_max` stored bytes,
    /// else streamed. `None` when absent or expired.
    pub async fn get_stream(&self, key: &str, buffer_max: u64) -> Result<Option<Served>, Error> {
        key::validate(key)?;
        let inner = &self.inner;
        if inner.hot.as_ref().is_some_and(|h| h.peek(key).is_some()) {
            return self.whole(key).await;
        }
        if let Some(warm) = &inner.warm {
            let counters = &inner.counters.warm;
            match warm.get_stream(key, buffer_max).await {
                Ok(Some(Fetched::Whole(_))) => return self.whole(key).await,
                Ok(Some(Fetched::Stream(stream))) => {
                    let now = inner.clock.now_ms();
                    if stream.meta.codec != Codec::Identity {
                        return self.whole(key).await;
                    }
                    if stream.meta.is_expired(now) {
                        bump(&counters.expired);
                        bump(&counters.misses);
                        self.drop_copy(TierId::Warm, key).await;
                    } else if !self.is_stale(&stream.meta, now) || self.still_current(key, &stream.meta).await {
                        bump(&counters.hits);
                        inner.sketch.record(key);
                        return Ok(Some(Served::Stream(self.watched(key, TierId::Warm, stream))));
                    }
                }
                Ok(None) => bump(&counters.misses),
                Err(err) => self.warm_read_failed(key, err).await,
            }
        }
        inner.sketch.record(key);
        match inner.inflight.run(key, || self.cold_small(key, buffer_max)).await {
            Err(FlightError::Large(_, handoff)) => self.cold_stream(key, buffer_max, handoff.take(buffer_max)).await,
            flight => Ok(finish(flight)?.map(Served::Whole)),
        }
    }

    async fn whole(&self, key: &str) -> Result<Option<Served>, Error> {
        Ok(self.get_with_metadata(key).await?.map(Served::Whole))
    }

    /// A stale warm copy is current if cold still has its ETag (one HEAD); a
    /// changed one is dropped. If cold cannot answer, the copy is served.
    async fn still_current(&self, key: &str, meta: &ObjectMeta) -> bool {
        match self.inner.cold.head(key).await {
            Ok(Some(cold)) if cold.etag.is_some() && cold.etag == meta.etag => true,
            Ok(_) => {
                self.drop_copy(TierId::Warm, key).await;
                false
            }
            Err(err) => {
                tracing::warn!(key, %err, "cannot revalidate a stale warm copy; serving it");
                true
            }
        }
    }

    /// The shared cold read: small objects whole (and promoted), a large one
    /// reported as [`FlightError::Large`] with its stream left to a caller.
    async fn cold_small(&self, key: &str, buffer_max: u64) -> Flight {
        let cold = self.inner.cold.as_ref();
        let ticket = self.inner.stripes.ticket(key);
        let read = match cold.get_stream(key, buffer_max).await {
            Ok(Some(Fetched::Stream(stream))) => {
                return Err(FlightError::Large(key.to_string(), Handoff::new(ticket, stream)));
            }
            Ok(Some(Fetched::Whole(object))) => verified(cold, key, Some(object)),
            Ok(None) => Ok(None),
            Err(err) => Err(err),
        };
        self.cold_outcome(key, read, ticket).await
    }

    /// A large object streamed from cold: `opened` (the shared read's
    /// stream, if this caller took it), else a stream of its own.
    async fn cold_stream(
        &self,
        key: &str,
        buffer_max: u64,
        opened: Option<(Ticket, ObjectStream)>,
    ) -> Result<Option<Served>, Error> {
        if let Some((ticket, stream)) = opened {
            return self.serve_cold_stream(key, ticket, stream).await;
        }
        let cold = self.inner.cold.as_ref();
        let ticket = self.inner.stripes.ticket(key);
        let stream = match cold.get_stream(key, buffer_max).await {
            Ok(Some(Fetched::Stream(stream))) => stream,
            Ok(Some(Fetched::Whole(object))) => {
                let flight = self.cold_outcome(key, verified(cold, key, Some(object)), ticket).await;
                return Ok(finish(flight)?.map(Served::Whole));
            }
            other => {
                let read = other.map(|_| None);
                return Ok(finish(self.cold_outcome(key, read, ticket).await)?.map(Served::Whole));
            }
        };
        self.serve_cold_stream(key, ticket, stream).await
    }

    /// Serves a large object's cold stream, teed for promotion when the
    /// policy asks; `ticket` was taken before the stream was opened.
    async fn serve_cold_stream(
        &self,
        key: &str,
        ticket: Ticket,
        stream: ObjectStream,
    ) -> Result<Option<Served>, Error> {
        if stream.meta.codec != Codec::Identity {
            return self.whole(key).await;
        }
        if stream.meta.is_expired(self.inner.clock.now_ms()) {
            bump(&self.inner.counters.cold.expired);
            bump(&self.inner.counters.cold.misses);
            self.remove_expired(key, ticket).await;
            return Ok(None);
        }
        bump(&self.inner.counters.cold.hits);
        let ObjectStream { meta, chunks } = stream;
        let chunks = self.tee_for_promotion(&meta, ticket, chunks).await;
        Ok(Some(Served::Stream(self.watched(key, TierId::Cold, ObjectStream { meta, chunks }))))
    }

    /// The stream's chunks with its failures counted and mapped: a corrupt
    /// warm copy is dropped once the mismatch is found.
    fn watched(&self, key: &str, source: TierId, stream: ObjectStream) -> StreamHit {
        let (store, key) = (self.clone(), key.to_string());
        let ObjectStream { meta, chunks } = stream;
        let body = map_failures(chunks, move |err| store.stream_failed(&key, source, err));
        StreamHit { meta, source, body }
    }

    fn stream_failed(&self, key: &str, source: TierId, err: TierError) -> Error {
        let counters = self.inner.counters.tier(source);
        if err.kind() != TierErrorKind::Corrupt {
            bump(&counters.errors);
            tracing::warn!(key, tier = err.tier(), %err, "streamed read failed; the transfer is broken");
            return if source == TierId::Cold { Error::ColdUnavailable(err) } else { Error::Tier(err) };
        }
        bump(&counters.corrupt);
        if source == TierId::Cold {
            tracing::error!(key, tier = err.tier(), %err, "cold copy is corrupt; the transfer was broken off");
        } else {
            tracing::warn!(key, tier = err.tier(), %err, "corrupt cached copy streamed; breaking the transfer and dropping it");
            let (store, owned) = (self.clone(), key.to_string());
            tokio::spawn(async move { store.drop_copy(source, &owned).await });
        }
        Error::Corrupt { key: key.to_string(), tier: source, source: err }
    }
}

/// `chunks` with each error turned into an [`Error`] by `failed`.
fn map_failures(
    chunks: ChunkStream,
    failed: impl Fn(TierError) -> Error + Send + 'static,
) -> BoxStream<'static, Result<Bytes, Error>> {
    chunks.map(move |item| item.map_err(&failed)).boxed()
}
