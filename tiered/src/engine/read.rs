//! Reads: hot → warm → cold.
//!
//! A hot hit costs one shard lock and a sketch update; it never calls the
//! policy. Below hot, concurrent misses on one key share one read
//! ([`super::inflight`]). A warm copy that fails verification is dropped,
//! counted and the read goes on to cold (self-heal); a failing warm tier is
//! logged and treated as a miss. A cold copy that fails verification is an
//! error, never served. Expired objects count as misses and are removed, by
//! one rule for every path, whole or streamed ([`TieredStore::expired`]). A
//! hit below hot asks the policy which upper tiers get a copy
//! ([`super::promote`]). Stale copies are revalidated ([`super::revalidate`]).
//!
//! # Streaming reads
//!
//! [`TieredStore::get_stream`] answers small objects
//! whole, through the ordinary read path ([`get_with_metadata`]: single-flight,
//! revalidation, promotion), and objects larger than the caller's
//! `buffer_max` as a stream of chunks, never held whole in memory.
//!
//! Order: hot (small by construction: a hit is served whole) → warm → cold.
//! A large warm copy is streamed from its file; a stale one is first checked
//! against cold's ETag with a HEAD ([`TieredStore::still_current`]). A cold read first runs as a shared flight
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
use super::stats::bump;
use crate::error::{Error, TierError, TierErrorKind};
use crate::key;
use crate::object::{Codec, Object, ObjectMeta};
use crate::policy::TierId;
use crate::store::{ChunkStream, Fetched, ObjectStream};

/// A value read from the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The value, decoded (decompressed).
    pub data: Bytes,
    pub meta: Arc<ObjectMeta>,
    /// The tier that served it.
    pub source: TierId,
}

/// What a shared lower-tier read produced.
pub(crate) type Flight = Result<Option<(Object, TierId)>, FlightError>;

/// A lower-tier read failure, cloneable for every caller of the flight.
#[derive(Clone, Debug)]
pub(crate) enum FlightError {
    Unavailable(TierError),
    Corrupt(String, TierError),
    /// The object is larger than a streaming reader buffers
    /// ([`TieredStore::get_stream`]); only such readers start these flights.
    /// The stream the flight opened waits in the handoff for one caller.
    Large(String, Handoff),
}

impl From<FlightError> for Error {
    fn from(e: FlightError) -> Self {
        match e {
            FlightError::Unavailable(e) => Error::ColdUnavailable(e),
            FlightError::Corrupt(key, source) => Error::Corrupt { key, tier: TierId::Cold, source },
            FlightError::Large(key, _) => Error::InvalidArgument(format!(
                "object {key:?} is too large to read whole here; read it with get_stream (a concurrent streaming read found it large)"
            )),
        }
    }
}

impl TieredStore {
    /// The value of `key`, or `None` when absent or expired.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, Error> {
        Ok(self.get_with_metadata(key).await?.map(|hit| hit.data))
    }

    /// The value with its metadata and the tier that served it.
    pub async fn get_with_metadata(&self, key: &str) -> Result<Option<Hit>, Error> {
        key::validate(key)?;
        if let Some(served) = self.begin_get(key).await {
            return served;
        }
        self.whole_below_hot(key).await
    }

    /// What every read does first, once: counts the get (a hot hit or miss,
    /// or a get without a hot tier), records the access in the sketch, and
    /// serves a hot hit (revalidated if stale). `None` when the read goes on
    /// below hot.
    async fn begin_get(&self, key: &str) -> Option<Result<Option<Hit>, Error>> {
        let inner = &self.inner;
        inner.sketch.record(key);
        let Some(hot) = &inner.hot else {
            bump(&inner.counters.gets_without_hot);
            return None;
        };
        let now = inner.clock.now_ms();
        let object = hot.get_at(key, now)?;
        if !self.is_stale(&object.meta, now) {
            return Some(decode_hit(object, TierId::Hot).map(Some));
        }
        let flight =
            inner.inflight.run(key, || self.revalidate(key, object, TierId::Hot, inner.stripes.ticket(key))).await;
        Some(finish(self.wanted_whole(key, flight).await))
    }

    /// The value read whole from warm or cold, through the shared flight;
    /// the get was counted already.
    async fn whole_below_hot(&self, key: &str) -> Result<Option<Hit>, Error> {
        let flight = self.inner.inflight.run(key, || self.read_below_hot(key)).await;
        finish(self.wanted_whole(key, flight).await)
    }

    /// `flight`, for a reader that wants the value whole. Concurrent reads of
    /// a key share one flight whoever started it; one started by a streaming
    /// reader ends in [`FlightError::Large`] when the object is too large for
    /// that reader's buffer, and this reader then reads it on its own.
    async fn wanted_whole(&self, key: &str, flight: Flight) -> Flight {
        match flight {
            Err(FlightError::Large(..)) => self.read_below_hot(key).await,
            other => other,
        }
    }

    /// A warm read that failed is a miss: a corrupt copy is dropped (and
    /// counted), any other failure counted and logged.
    pub(super) async fn warm_read_failed(&self, key: &str, err: TierError) {
        let counters = &self.inner.counters.warm;
        bump(&counters.misses);
        if err.kind() == TierErrorKind::Corrupt {
            bump(&counters.corrupt);
            tracing::warn!(key, tier = err.tier(), %err, "corrupt cached copy; dropping it and reading cold");
            self.drop_copy(TierId::Warm, key).await;
        } else {
            bump(&counters.errors);
            tracing::warn!(key, tier = err.tier(), %err, "read failed; treating as miss");
        }
    }

    async fn read_below_hot(&self, key: &str) -> Flight {
        let inner = &self.inner;
        let ticket = inner.stripes.ticket(key);
        if let Some(warm) = &inner.warm {
            let read = self.read_tier(warm.as_ref(), key).await;
            if let Some(flight) = self.warm_outcome(key, read, ticket).await {
                return flight;
            }
        }
        let read = self.read_tier(inner.cold.as_ref(), key).await;
        self.cold_outcome(key, read, ticket).await
    }

    /// Serve what warm returned (verified): a hit is promoted, a stale copy
    /// revalidated, an expired or failed one dropped. `None` when the read
    /// must go on to cold.
    async fn warm_outcome(&self, key: &str, read: Result<Option<Object>, TierError>, ticket: Ticket) -> Option<Flight> {
        let inner = &self.inner;
        let counters = &inner.counters.warm;
        match read {
            Ok(Some(object)) if self.expired(TierId::Warm, key, &object.meta, ticket).await => {}
            Ok(Some(object)) if self.is_stale(&object.meta, inner.clock.now_ms()) => {
                return Some(self.revalidate(key, object, TierId::Warm, ticket).await);
            }
            Ok(Some(object)) => {
                bump(&counters.hits);
                self.promote(&object, TierId::Warm, ticket).await;
                return Some(Ok(Some((object, TierId::Warm))));
            }
            Ok(None) => bump(&counters.misses),
            Err(err) => self.warm_read_failed(key, err).await,
        }
        None
    }

    /// Serve what cold returned: a hit is promoted, an expired object is
    /// removed, a corrupt one is an error.
    pub(super) async fn cold_outcome(
        &self,
        key: &str,
        read: Result<Option<Object>, TierError>,
        ticket: Ticket,
    ) -> Flight {
        let inner = &self.inner;
        let counters = &inner.counters.cold;
        match read {
            Ok(Some(object)) if self.expired(TierId::Cold, key, &object.meta, ticket).await => Ok(None),
            Ok(Some(object)) => {
                bump(&counters.hits);
                let object = self.stamp_validated(object);
                self.promote(&object, TierId::Cold, ticket).await;
                Ok(Some((object, TierId::Cold)))
            }
            Ok(None) => {
                bump(&counters.misses);
                Ok(None)
            }
            Err(err) if err.kind() == TierErrorKind::Corrupt => {
                bump(&counters.corrupt);
                tracing::error!(key, tier = inner.cold.name(), %err, "cold copy is corrupt; refusing to serve it");
                Err(FlightError::Corrupt(key.to_string(), err))
            }
            Err(err) => {
                bump(&counters.errors);
                tracing::warn!(key, tier = inner.cold.name(), %err, "cold read failed");
                Err(FlightError::Unavailable(err))
            }
        }
    }

    /// Read one tier and verify what it returns (unless the tier already did).
    async fn read_tier(&self, tier: &dyn crate::store::Tier, key: &str) -> Result<Option<Object>, TierError> {
        verified(tier, key, tier.get(key).await?)
    }

    /// Whether the copy of `key` met in `tier` has expired; if so it is
    /// counted (expired, and a miss) and removed: from warm alone when met
    /// there (cold may hold a newer version), everywhere when met in cold.
    /// Every read path asks this, once per copy it meets.
    pub(super) async fn expired(&self, tier: TierId, key: &str, meta: &ObjectMeta, ticket: Ticket) -> bool {
        if !meta.is_expired(self.inner.clock.now_ms()) {
            return false;
        }
        let counters = self.inner.counters.tier(tier);
        bump(&counters.expired);
        bump(&counters.misses);
        match tier {
            TierId::Cold => self.remove_expired(key, ticket).await,
            cache => self.drop_copy(cache, key).await,
        }
        true
    }

    /// Remove an expired object everywhere, unless a write replaced it meanwhile.
    async fn remove_expired(&self, key: &str, ticket: Ticket) {
        let Some(_guard) = self.inner.stripes.fill_guard(ticket).await else { return };
        for tier in [TierId::Hot, TierId::Warm] {
            self.drop_copy(tier, key).await;
        }
        if let Err(err) = self.inner.cold.delete(key).await {
            tracing::warn!(key, ?err, "could not remove an expired object from cold");
        }
        self.inner.stripes.bump(key);
    }
}

fn decode_hit(object: Object, source: TierId) -> Result<Hit, Error> {
    let data = super::codec::decode(&object.meta, object.data)?;
    Ok(Hit { data, meta: object.meta, source })
}

/// Check that what a tier returned is the object asked for (its bytes the
/// tier has verified: the [`Tier::get`](crate::store::Tier::get) contract).
pub(super) fn verified(
    tier: &dyn crate::store::Tier,
    key: &str,
    object: Option<Object>,
) -> Result<Option<Object>, TierError> {
    match object {
        Some(object) if object.meta.key != key => {
            Err(TierError::corrupt(tier.name(), format!("asked for {key:?}, got {:?}", object.meta.key)))
        }
        other => Ok(other),
    }
}

pub(super) fn finish(flight: Flight) -> Result<Option<Hit>, Error> {
    match flight.map_err(Error::from)? {
        Some((object, source)) => decode_hit(object, source).map(Some),
        None => Ok(None),
    }
}

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
        if let Some(served) = self.begin_get(key).await {
            return Ok(served?.map(Served::Whole));
        }
        if let Some(warm) = &inner.warm {
            let counters = &inner.counters.warm;
            let ticket = inner.stripes.ticket(key);
            match warm.get_stream(key, buffer_max).await {
                Ok(Some(Fetched::Whole(object))) => {
                    let read = verified(warm.as_ref(), key, Some(object));
                    if let Some(flight) = self.warm_outcome(key, read, ticket).await {
                        return Ok(finish(flight)?.map(Served::Whole));
                    }
                }
                Ok(Some(Fetched::Stream(stream))) => {
                    let now = inner.clock.now_ms();
                    if stream.meta.codec != Codec::Identity {
                        return self.whole(key).await;
                    }
                    if self.expired(TierId::Warm, key, &stream.meta, ticket).await {
                        // On to cold.
                    } else if !self.is_stale(&stream.meta, now) || self.still_current(key, &stream.meta).await {
                        bump(&counters.hits);
                        return Ok(Some(Served::Stream(self.watched(key, TierId::Warm, stream))));
                    }
                }
                Ok(None) => bump(&counters.misses),
                Err(err) => self.warm_read_failed(key, err).await,
            }
        }
        match inner.inflight.run(key, || self.cold_small(key, buffer_max)).await {
            Err(FlightError::Large(_, handoff)) => self.cold_stream(key, buffer_max, handoff.take(buffer_max)).await,
            flight => Ok(finish(flight)?.map(Served::Whole)),
        }
    }

    /// A value stored with a codec, read whole below hot instead of
    /// streamed (the get was counted already).
    async fn whole(&self, key: &str) -> Result<Option<Served>, Error> {
        Ok(self.whole_below_hot(key).await?.map(Served::Whole))
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
        if self.expired(TierId::Cold, key, &stream.meta, ticket).await {
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
