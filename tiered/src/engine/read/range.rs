//! Range reads: some bytes of a value, from the fastest tier that holds it,
//! without reading the rest of it.
//!
//! - **Hot** serves a slice of the value it holds (decoded first when the
//!   object is stored compressed).
//! - **Warm** reads and checks only the chunks that cover the range
//!   ([`Tier::get_range`](crate::store::Tier::get_range)); a corrupt copy is
//!   dropped and counted, and the read goes on to cold, as for whole reads.
//! - **Cold** is asked for the range alone (S3: one `GetObject` with `Range`).
//!
//! Positions are those of the value as served: an object stored with a codec
//! is read whole through the ordinary path (decoded in memory, so it is
//! small) and sliced.
//!
//! **No promotion.** A range read never asks the policy to promote and never
//! fetches the whole object to cache it: ranged readers (a Parquet footer,
//! a video seek, a resumed download) read parts of large objects, and
//! fetching all of a 1 GiB object from S3 for a 64 KiB footer would multiply
//! the egress a cache exists to save. The whole-object reads of the same key
//! promote as usual, and a range is served from whichever tier they left a
//! copy in.
//!
//! Counting and expiry are the whole reads': a range read is one get, each
//! tier it tries counts one hit or miss, an expired copy is a miss and is
//! removed. A stale copy (past `max_staleness_ms`) is not served: the range
//! comes from cold, and the copy is revalidated by the next whole read.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;

use super::{Found, Hit, HotAnswer, TieredStore, WHOLE, collected, decode_hit, fetch, map_failures, of_key};
use crate::engine::ordering::Ticket;
use crate::engine::stats::bump;
use crate::error::{Error, TierError};
use crate::key_id::{HashedKey, object_id};
use crate::object::{Codec, ObjectMeta};
use crate::policy::TierId;
use crate::range::ByteRange;
use crate::store::{HotRead, RangeRead, Tier};

/// What [`TieredStore::get_range`] serves.
pub struct RangeHit {
    pub meta: Arc<ObjectMeta>,
    /// The tier that serves it.
    pub source: TierId,
    /// The length of the whole value (the complete length of a
    /// `Content-Range`).
    pub total: u64,
    /// The bytes served (end exclusive); `None` when the range names none of
    /// them (HTTP 416), and the body is empty.
    pub range: Option<Range<u64>>,
    /// The bytes of `range`; a final `Err` means the transfer is broken.
    pub body: BoxStream<'static, Result<Bytes, Error>>,
}

impl std::fmt::Debug for RangeHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RangeHit")
            .field("meta", &self.meta)
            .field("source", &self.source)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

impl RangeHit {
    /// `range` of a value held whole.
    fn of_value(hit: Hit, range: ByteRange) -> RangeHit {
        let total = hit.data.len() as u64;
        let span = range.resolve(total);
        let bytes = span.clone().map(|s| Ok(hit.data.slice(s.start as usize..s.end as usize)));
        RangeHit { meta: hit.meta, source: hit.source, total, range: span, body: futures::stream::iter(bytes).boxed() }
    }
}

impl TieredStore {
    /// Bytes `range` of the value of `key`, from the fastest tier that holds
    /// it; `None` when absent or expired. A range that names no byte of the
    /// value is answered with `range: None`.
    pub async fn get_range(&self, key: &str, range: ByteRange) -> Result<Option<RangeHit>, Error> {
        let inner = &self.inner;
        match self.begin_read(&HashedKey::new(key), Self::hot_hit)? {
            HotAnswer::Served(hit) => return Ok(Some(RangeHit::of_value(hit?, range))),
            HotAnswer::Next(None) => bump(&inner.counters.gets_without_hot),
            HotAnswer::Next(Some(HotRead::Expired)) => self.forget_copy(TierId::Hot, key),
            // A stale copy is passed over: the range is read below hot.
            HotAnswer::Next(Some(HotRead::Hit(_) | HotRead::Miss)) => {}
        }
        let ticket = inner.stripes.ticket(key);
        if let Some(warm) = &inner.warm
            && let Some(served) = self.warm_range(warm.as_ref(), key, range, ticket).await
        {
            return served;
        }
        self.cold_range(key, range, ticket).await
    }

    /// The range from warm; `None` when the read goes on to cold.
    async fn warm_range(
        &self,
        warm: &dyn Tier,
        key: &str,
        range: ByteRange,
        ticket: Ticket,
    ) -> Option<Result<Option<RangeHit>, Error>> {
        let counters = &self.inner.counters.warm;
        let read = match checked(warm, key, warm.get_range(key, range).await) {
            Ok(Some(read)) => read,
            Ok(None) => {
                bump(&counters.misses);
                return None;
            }
            Err(err) => {
                self.warm_read_failed(key, err).await;
                return None;
            }
        };
        if self.expired(TierId::Warm, key, &read.meta, ticket).await {
            return None;
        }
        if read.meta.codec != Codec::Identity {
            // Read whole through the ordinary path (which counts it), then sliced.
            drop(read);
            let whole = fetch(warm, key, WHOLE).await;
            let found = self.warm_outcome(key, whole, ticket, WHOLE).await?;
            return Some(self.sliced(key, found.map_err(Error::from), range).await);
        }
        if self.is_stale(&read.meta, self.inner.clock.now_ms()) {
            bump(&counters.misses);
            return None;
        }
        bump(&counters.hits);
        self.note_hit(TierId::Warm, object_id(key));
        Some(Ok(Some(self.range_hit(key, TierId::Warm, read))))
    }

    /// The range from cold.
    async fn cold_range(&self, key: &str, range: ByteRange, ticket: Ticket) -> Result<Option<RangeHit>, Error> {
        let inner = &self.inner;
        let counters = &inner.counters.cold;
        let cold = inner.cold.as_ref();
        let read = match checked(cold, key, cold.get_range(key, range).await) {
            Ok(Some(read)) => read,
            Ok(None) => {
                bump(&counters.misses);
                return Ok(None);
            }
            Err(err) => return Err(self.cold_read_failed(key, err).into()),
        };
        if self.expired(TierId::Cold, key, &read.meta, ticket).await {
            return Ok(None);
        }
        if read.meta.codec != Codec::Identity {
            drop(read);
            let whole = fetch(cold, key, WHOLE).await;
            let found = self.cold_outcome(key, whole, ticket).await.map_err(Error::from);
            return self.sliced(key, found, range).await;
        }
        bump(&counters.hits);
        Ok(Some(self.range_hit(key, TierId::Cold, read)))
    }

    /// A tier's range, its failures counted and mapped as a whole stream's.
    fn range_hit(&self, key: &str, source: TierId, read: RangeRead) -> RangeHit {
        let (store, owned) = (self.clone(), key.to_string());
        let body = map_failures(read.chunks, move |err| store.stream_failed(&owned, source, err));
        RangeHit { total: read.meta.size, meta: read.meta, source, range: read.range, body }
    }

    /// `range` of a value found whole by the ordinary path.
    async fn sliced(
        &self,
        key: &str,
        found: Result<Option<Found>, Error>,
        range: ByteRange,
    ) -> Result<Option<RangeHit>, Error> {
        let hit = match found? {
            Some(Found::Whole(object, source)) => decode_hit(object, source)?,
            Some(Found::Stream(opened)) => collected(self.serve_stream(key, opened).await).await?,
            None => return Ok(None),
        };
        Ok(Some(RangeHit::of_value(hit, range)))
    }
}

/// A tier's range of `key`, checked to be of that object.
fn checked(
    tier: &dyn Tier,
    key: &str,
    read: Result<Option<RangeRead>, TierError>,
) -> Result<Option<RangeRead>, TierError> {
    match read? {
        Some(read) => of_key(tier, key, &read.meta).map(|()| Some(read)),
        None => Ok(None),
    }
}
