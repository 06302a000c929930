//! Reads: hot → warm → cold, one path for every reader.
//!
//! A reader says how many bytes it takes in memory: [`get`] and
//! [`get_with_metadata`] take any size (`WHOLE`), [`get_stream`] at most its
//! `buffer_max`, and an object above that is served as a stream of chunks,
//! never held whole. Everything else is the same path, counted the same way:
//! every read is one get (a hot hit or miss, or a get without a hot tier), and
//! each tier read below hot counts one hit or miss in that tier, so the hit
//! ratio cannot exceed 1.
//!
//! - **Hot.** Hot holds small objects only: a hit is served whole, and it
//!   never calls the policy. What a hit costs: the key checked and hashed
//!   once ([`HashedKey`]: its object id picks the sketch's counters, the
//!   shard, the table slot and the hit event's id); one shard lock, a key
//!   comparison and the access statistics (the exact time is read only for
//!   an entry that can expire, the statistics take the clock's recent
//!   time); the id pushed onto the shard's read buffer under that lock. A
//!   full buffer goes to the sketch ([`sketch`](crate::engine::sketch)) and,
//!   as hit events, to the tier's stripes (`hot_reads`); a call of the
//!   policy about hot empties every buffer first. (In exact mode, or with
//!   revalidation on, a hit is counted in the sketch and noted as an event
//!   one by one instead.) [`get`] takes one handle on the value and none on the
//!   metadata when there is no staleness to check and the value is stored
//!   as is. The path below hot is boxed and the hot answer is taken apart
//!   before its await, so a hit's future is 64 bytes.
//! - **Below hot**, concurrent misses on one key share one read
//!   ([`flight`]): warm, then cold. A flight's leader looks in hot once
//!   more before it reads below: a reader paused between its miss and the
//!   flight may arrive after a concurrent read promoted the object and
//!   ended its flight; it is served that copy (still counted a hot miss).
//!   A tier answers whole up to the reader's buffer and with a
//!   self-verifying stream above it
//!   ([`Tier::get_stream`](crate::store::Tier::get_stream)); objects stored
//!   with a codec other than `identity` are always read whole. A stream
//!   cannot be shared: the flight hands it to one caller and the others read
//!   on their own ([`flight::Handoff`]).
//! - **Expiry**: an expired copy counts as a miss and is removed, by one rule
//!   for every path ([`TieredStore::expired`]).
//! - **Staleness**: a copy past `max_staleness_ms` is revalidated with one
//!   conditional read of cold ([`revalidate`]), whole or streamed alike.
//! - **Promotion**: a hit below hot asks the policy which upper tiers get a
//!   copy ([`promote`]); a large object streamed from cold is teed into a
//!   spool file and installed in warm once verified ([`promote_stream`];
//!   needs the store's `spool_dir`). It never goes to hot.
//! - **Verification and self-heal.** Tiers verify what they return; a stream
//!   checks its hash at the end ([`crate::store::stream`]), so a mismatch ends
//!   the body with an error and a client sees a broken transfer, never a
//!   complete wrong body. A corrupt or failing warm copy is dropped, counted
//!   and the read goes on to cold (a streamed one is dropped once the mismatch
//!   is found); a corrupt cold copy is an error, never served.
//! - **Ranges** ([`get_range`]) take the same tiers in the same order, read
//!   only the bytes asked for, and never promote ([`range`]).
//!
//! [`get`]: TieredStore::get
//! [`get_with_metadata`]: TieredStore::get_with_metadata
//! [`get_stream`]: TieredStore::get_stream
//! [`get_range`]: TieredStore::get_range

pub(super) mod flight;
mod promote;
mod promote_stream;
mod range;
mod revalidate;

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};

use super::TieredStore;
use super::ordering::Ticket;
use super::stats::bump;
use crate::error::{Error, TierError, TierErrorKind};
use crate::key;
use crate::key_id::{HashedKey, object_id};
use crate::object::{Codec, Object, ObjectMeta};
use crate::policy::TierId;
use crate::store::{ChunkStream, Fetched, HotRead, HotValue, ObjectStream, Tier};
use flight::{Flight, FlightError, Handoff, Opened};
pub use range::RangeHit;

/// The buffer of a reader that takes any value whole.
const WHOLE: u64 = u64::MAX;

/// A value read from the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The value, decoded (decompressed).
    pub data: Bytes,
    pub meta: Arc<ObjectMeta>,
    /// The tier that served it.
    pub source: TierId,
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

/// What a read below hot found: a value whole, or a stream it opened.
enum Found {
    Whole(Object, TierId),
    Stream(Opened),
}

/// [`Found`] as the flight shares it: an opened stream waits in a handoff.
fn shared(key: &str, found: Result<Option<Found>, FlightError>) -> Flight {
    match found? {
        Some(Found::Whole(object, source)) => Ok(Some((object, source))),
        Some(Found::Stream(opened)) => Err(FlightError::Large(key.to_string(), Handoff::new(opened))),
        None => Ok(None),
    }
}

/// What the hot tier answered a read.
pub(super) enum HotAnswer<T> {
    /// A live, current copy, served.
    Served(Result<T, Error>),
    /// The read goes on below hot, with what hot found (`None`: no hot tier).
    Next(Option<HotRead>),
}

impl TieredStore {
    /// The value of `key`, or `None` when absent or expired.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, Error> {
        let key = HashedKey::new(key);
        // The answer is taken apart before the await, so the future holds
        // none of it (a hot hit's future is moved by whoever polls it).
        let met = match self.begin_read(&key, Self::hot_value)? {
            HotAnswer::Served(data) => return data.map(Some),
            HotAnswer::Next(met) => met,
        };
        Ok(Box::pin(self.read_whole(key.key(), met)).await?.map(|hit| hit.data))
    }

    /// The value with its metadata and the tier that served it.
    pub async fn get_with_metadata(&self, key: &str) -> Result<Option<Hit>, Error> {
        let key = HashedKey::new(key);
        let met = match self.begin_read(&key, Self::hot_hit)? {
            HotAnswer::Served(hit) => return hit.map(Some),
            HotAnswer::Next(met) => met,
        };
        Box::pin(self.read_whole(key.key(), met)).await
    }

    /// The value of `key`: whole if it is at most `buffer_max` stored bytes,
    /// else streamed. `None` when absent or expired.
    pub async fn get_stream(&self, key: &str, buffer_max: u64) -> Result<Option<Served>, Error> {
        let key = HashedKey::new(key);
        let met = match self.begin_read(&key, Self::hot_hit)? {
            HotAnswer::Served(hit) => return hit.map(|hit| Some(Served::Whole(hit))),
            HotAnswer::Next(met) => met,
        };
        Box::pin(self.read_on(key.key(), met, buffer_max)).await
    }

    /// A read begins: `key` (hashed once: [`HashedKey`]'s id picks the
    /// sketch's counters, the shard, the table slot and the hit event's id)
    /// is looked up in hot by `lookup` and counted in the sketch. A key hot
    /// does not serve is checked before the read goes on; one it serves was
    /// checked when it was written, so a hit never checks it again.
    pub(super) fn begin_read<T>(
        &self,
        key: &HashedKey<'_>,
        lookup: impl FnOnce(&Self, &HashedKey<'_>) -> HotAnswer<T>,
    ) -> Result<HotAnswer<T>, Error> {
        let answer = lookup(self, key);
        match answer {
            HotAnswer::Next(_) => key::validate(key.key())?,
            // The hot tier recorded the hit: the sketch counts it with its
            // shard's batch.
            HotAnswer::Served(_) if self.records_hot_reads() => return Ok(answer),
            HotAnswer::Served(_) => {}
        }
        self.inner.sketch.record_id(key.id());
        Ok(answer)
    }

    /// The hot tier's answer: a live, current copy is served here, without
    /// the future of the path below hot (kilobytes; the callers box it).
    fn hot_hit(&self, key: &HashedKey<'_>) -> HotAnswer<Hit> {
        let inner = &self.inner;
        let Some(hot) = &inner.hot else { return HotAnswer::Next(None) };
        let recorded = self.records_hot_reads();
        let read = if recorded {
            hot.get_recorded(key, &*inner.clock, |ids| self.hot_reads(ids))
        } else {
            hot.get_at(key, &*inner.clock)
        };
        match read {
            HotRead::Hit(object) if !self.is_stale_now(&object.meta) => {
                if !recorded {
                    self.note_hit(TierId::Hot, key.id());
                }
                HotAnswer::Served(decode_hit(object, TierId::Hot))
            }
            read => HotAnswer::Next(Some(read)),
        }
    }

    /// [`hot_hit`](Self::hot_hit) for a reader that wants the value alone:
    /// when there is no staleness to check, a value stored as is comes
    /// without its metadata (one reference-count increment).
    fn hot_value(&self, key: &HashedKey<'_>) -> HotAnswer<Bytes> {
        let inner = &self.inner;
        let Some(hot) = inner.hot.as_ref().filter(|_| inner.config.max_staleness_ms.is_none()) else {
            return match self.hot_hit(key) {
                HotAnswer::Served(hit) => HotAnswer::Served(hit.map(|hit| hit.data)),
                HotAnswer::Next(met) => HotAnswer::Next(met),
            };
        };
        let recorded = self.records_hot_reads();
        let read = if recorded {
            hot.value_recorded(key, &*inner.clock, |ids| self.hot_reads(ids))
        } else {
            hot.value_at(key, &*inner.clock)
        };
        match read {
            HotRead::Hit(value) => {
                if !recorded {
                    self.note_hit(TierId::Hot, key.id());
                }
                HotAnswer::Served(match value {
                    HotValue::Plain(data) => Ok(data),
                    HotValue::Encoded(object) => decode_hit(object, TierId::Hot).map(|hit| hit.data),
                })
            }
            HotRead::Miss => HotAnswer::Next(Some(HotRead::Miss)),
            HotRead::Expired => HotAnswer::Next(Some(HotRead::Expired)),
        }
    }

    /// [`read_on`](Self::read_on) for a reader that takes the value whole.
    async fn read_whole(&self, key: &str, hot: Option<HotRead>) -> Result<Option<Hit>, Error> {
        match self.read_on(key, hot, WHOLE).await? {
            Some(served) => collected(served).await.map(Some),
            None => Ok(None),
        }
    }

    /// The read of `key` after hot answered `hot` (`None`: no hot tier): a
    /// stale hot copy revalidated, an expired one dropped, a miss read below
    /// hot.
    async fn read_on(&self, key: &str, hot: Option<HotRead>, buffer_max: u64) -> Result<Option<Served>, Error> {
        let inner = &self.inner;
        let flight = match hot {
            None => {
                bump(&inner.counters.gets_without_hot);
                inner.inflight.run(key, || self.below_hot(key, buffer_max)).await
            }
            Some(HotRead::Hit(object)) => {
                let ticket = inner.stripes.ticket(key);
                let cached = Fetched::Whole(object);
                let revalidate =
                    || async { shared(key, self.revalidate(key, cached, TierId::Hot, ticket, buffer_max).await) };
                inner.inflight.run(key, revalidate).await
            }
            Some(HotRead::Expired) => {
                self.forget_copy(TierId::Hot, key);
                inner.inflight.run(key, || self.below_hot(key, buffer_max)).await
            }
            Some(HotRead::Miss) => inner.inflight.run(key, || self.below_hot(key, buffer_max)).await,
        };
        match flight {
            Err(FlightError::Large(_, handoff)) => match handoff.take(buffer_max) {
                Some(opened) => Ok(Some(self.serve_stream(key, opened).await)),
                // Another caller streams the flight's copy, or this reader
                // wants more of it in memory than the starter: its own read.
                None => match self.read_below_hot(key, buffer_max).await? {
                    Some(Found::Stream(opened)) => Ok(Some(self.serve_stream(key, opened).await)),
                    Some(Found::Whole(object, source)) => decode_hit(object, source).map(|h| Some(Served::Whole(h))),
                    None => Ok(None),
                },
            },
            other => Ok(finish(other)?.map(Served::Whole)),
        }
    }

    /// The shared read below hot. Its leader looks in hot once more first:
    /// a reader that missed hot can reach the flight only after a
    /// concurrent read has promoted the object and ended its flight (the
    /// thread paused between the two), and would read below hot again.
    async fn below_hot(&self, key: &str, buffer_max: u64) -> Flight {
        if let Some(object) = self.promoted_meanwhile(key) {
            return Ok(Some((object, TierId::Hot)));
        }
        shared(key, self.read_below_hot(key, buffer_max).await)
    }

    /// The live, current copy of `key` hot holds now, without counting an
    /// access: the read was counted as a hot miss when it began.
    fn promoted_meanwhile(&self, key: &str) -> Option<Object> {
        let object = self.inner.hot.as_ref()?.peek(key)?;
        let live = !object.meta.is_expired(self.inner.clock.now_ms()) && !self.is_stale_now(&object.meta);
        live.then_some(object)
    }

    /// Warm, then cold: the first copy found that is live and current.
    async fn read_below_hot(&self, key: &str, buffer_max: u64) -> Result<Option<Found>, FlightError> {
        let inner = &self.inner;
        let ticket = inner.stripes.ticket(key);
        if let Some(warm) = &inner.warm {
            let read = fetch(warm.as_ref(), key, buffer_max).await;
            if let Some(found) = self.warm_outcome(key, read, ticket, buffer_max).await {
                return found;
            }
        }
        let read = fetch(inner.cold.as_ref(), key, buffer_max).await;
        self.cold_outcome(key, read, ticket).await
    }

    /// Serve what warm returned (verified): a hit is promoted, a stale copy
    /// revalidated, an expired or failed one dropped. `None` when the read
    /// must go on to cold.
    async fn warm_outcome(
        &self,
        key: &str,
        read: Result<Option<Fetched>, TierError>,
        ticket: Ticket,
        buffer_max: u64,
    ) -> Option<Result<Option<Found>, FlightError>> {
        let inner = &self.inner;
        let counters = &inner.counters.warm;
        match read {
            Ok(Some(found)) => {
                let meta = found.meta().clone();
                if self.expired(TierId::Warm, key, &meta, ticket).await {
                    return None;
                }
                if self.is_stale(&meta, inner.clock.now_ms()) {
                    return Some(self.revalidate(key, found, TierId::Warm, ticket, buffer_max).await);
                }
                bump(&counters.hits);
                self.note_hit(TierId::Warm, object_id(key));
                return Some(Ok(Some(self.cached_hit(found, TierId::Warm, ticket).await)));
            }
            Ok(None) => bump(&counters.misses),
            Err(err) => self.warm_read_failed(key, err).await,
        }
        None
    }

    /// A live, current cached copy, served: promoted when whole (a streamed
    /// warm copy is large, and large objects never go to hot).
    async fn cached_hit(&self, found: Fetched, source: TierId, ticket: Ticket) -> Found {
        match found {
            Fetched::Whole(object) => {
                self.promote(&object, source, ticket).await;
                Found::Whole(object, source)
            }
            Fetched::Stream(stream) => Found::Stream(Opened { ticket, stream, source }),
        }
    }

    /// A warm read that failed is a miss: a corrupt copy is dropped (and
    /// counted), any other failure counted and logged.
    async fn warm_read_failed(&self, key: &str, err: TierError) {
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

    /// Serve what cold returned: a hit is promoted (a stream when it is
    /// served, by the tee), an expired object is removed, a corrupt one is an
    /// error.
    async fn cold_outcome(
        &self,
        key: &str,
        read: Result<Option<Fetched>, TierError>,
        ticket: Ticket,
    ) -> Result<Option<Found>, FlightError> {
        let inner = &self.inner;
        let counters = &inner.counters.cold;
        let meta = match &read {
            Ok(Some(found)) => Some(found.meta().clone()),
            _ => None,
        };
        if let Some(meta) = meta
            && self.expired(TierId::Cold, key, &meta, ticket).await
        {
            return Ok(None);
        }
        match read {
            Ok(Some(Fetched::Whole(object))) => {
                bump(&counters.hits);
                let object = self.stamp_validated(object);
                self.promote(&object, TierId::Cold, ticket).await;
                Ok(Some(Found::Whole(object, TierId::Cold)))
            }
            Ok(Some(Fetched::Stream(stream))) => {
                bump(&counters.hits);
                Ok(Some(Found::Stream(Opened { ticket, stream, source: TierId::Cold })))
            }
            Ok(None) => {
                bump(&counters.misses);
                Ok(None)
            }
            Err(err) => Err(self.cold_read_failed(key, err)),
        }
    }

    /// A cold read that failed, counted and logged: a corrupt copy is an
    /// error and never served; any other failure means cold is unavailable.
    fn cold_read_failed(&self, key: &str, err: TierError) -> FlightError {
        let inner = &self.inner;
        let counters = &inner.counters.cold;
        if err.kind() == TierErrorKind::Corrupt {
            bump(&counters.corrupt);
            tracing::error!(key, tier = inner.cold.name(), %err, "cold copy is corrupt; refusing to serve it");
            FlightError::Corrupt(key.to_string(), err)
        } else {
            bump(&counters.errors);
            tracing::warn!(key, tier = inner.cold.name(), %err, "cold read failed");
            FlightError::Unavailable(err)
        }
    }

    /// A stream opened below hot, served: from cold, teed for promotion when
    /// the policy asks (`ticket` was taken before the stream was opened).
    async fn serve_stream(&self, key: &str, opened: Opened) -> Served {
        let Opened { ticket, stream: ObjectStream { meta, chunks }, source } = opened;
        let chunks = match source {
            TierId::Cold => self.tee_for_promotion(&meta, ticket, chunks).await,
            _ => chunks,
        };
        Served::Stream(self.watched(key, source, ObjectStream { meta, chunks }))
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
        let change = self.inner.stripes.changing(key);
        if let Err(err) = self.inner.cold.delete(key).await {
            tracing::warn!(key, ?err, "could not remove an expired object from cold");
        }
        drop(change);
    }
}

/// One tier's answer for `key`, whole up to `buffer_max` stored bytes, else a
/// stream; [`settled`].
async fn fetch(tier: &dyn Tier, key: &str, buffer_max: u64) -> Result<Option<Fetched>, TierError> {
    let found = tier.get_stream(key, buffer_max).await?;
    settled(tier, key, found).await
}

/// What a tier returned for `key`, checked to be that object (its bytes the
/// tier has verified: the [`Tier::get`] contract); an object stored with a
/// codec is read whole instead of streamed (it is decoded in memory).
async fn settled(tier: &dyn Tier, key: &str, found: Option<Fetched>) -> Result<Option<Fetched>, TierError> {
    let found = match found {
        Some(Fetched::Stream(stream)) if stream.meta.codec != Codec::Identity => {
            drop(stream);
            tier.get(key).await?.map(Fetched::Whole)
        }
        other => other,
    };
    match found {
        Some(found) => of_key(tier, key, found.meta()).map(|()| Some(found)),
        None => Ok(None),
    }
}

/// `Corrupt` unless `meta` is the metadata of `key` (a tier answered for
/// another object).
fn of_key(tier: &dyn Tier, key: &str, meta: &ObjectMeta) -> Result<(), TierError> {
    if meta.key == key {
        return Ok(());
    }
    Err(TierError::corrupt(tier.name(), format!("asked for {key:?}, got {:?}", meta.key)))
}

/// A value served whole: a stream read to its (verified) end. A tier may
/// stream a body whose length it does not know in advance.
async fn collected(served: Served) -> Result<Hit, Error> {
    match served {
        Served::Whole(hit) => Ok(hit),
        Served::Stream(stream) => {
            let data = stream.body.try_collect::<BytesMut>().await?.freeze();
            Ok(Hit { data, meta: stream.meta, source: stream.source })
        }
    }
}

fn decode_hit(object: Object, source: TierId) -> Result<Hit, Error> {
    let data = super::codec::decode(&object.meta, object.data)?;
    Ok(Hit { data, meta: object.meta, source })
}

fn finish(flight: Flight) -> Result<Option<Hit>, Error> {
    match flight.map_err(Error::from)? {
        Some((object, source)) => decode_hit(object, source).map(Some),
        None => Ok(None),
    }
}

impl TieredStore {
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::SetOptions;
    use crate::policy::TierSet;
    use crate::store::{MemoryTier, TierDouble};

    /// A reader paused between its hot miss and the flight, while another
    /// read runs from start to end (reads cold, promotes, ends its flight),
    /// is served the promoted copy: one cold read, not two.
    #[tokio::test]
    async fn a_reader_late_to_a_finished_flight_reads_the_promoted_copy() -> Result<(), Error> {
        let cold = Arc::new(TierDouble::new());
        let store = TieredStore::builder().hot(Arc::new(MemoryTier::new(1 << 20))).cold(cold.clone()).build()?;
        store.set("k", "v", SetOptions { skip: TierSet::ALL, ..Default::default() }).await?;
        let key = HashedKey::new("k");
        let HotAnswer::Next(met) = store.begin_read(&key, TieredStore::hot_value)? else {
            panic!("the object is in cold alone")
        };
        let hit = store.get_with_metadata("k").await?.expect("in cold");
        assert_eq!((hit.source, cold.gets()), (TierId::Cold, 1));
        let late = store.read_whole("k", met).await?.expect("promoted");
        assert_eq!((&late.data[..], late.source), (&b"v"[..], TierId::Hot));
        assert_eq!(cold.gets(), 1, "the late reader found the promoted copy");
        Ok(())
    }
}
