//! Reads: hot → warm → cold.
//!
//! A hot hit costs one shard lock and a sketch update; it never calls the
//! policy. Below hot, concurrent misses on one key share one read
//! ([`super::inflight`]). A warm copy that fails verification is dropped,
//! counted and the read goes on to cold (self-heal); a failing warm tier is
//! logged and treated as a miss. A cold copy that fails verification is an
//! error, never served. Expired objects count as misses and are removed. A hit
//! below hot asks the policy which upper tiers get a copy ([`super::promote`]).

use std::sync::Arc;

use bytes::Bytes;

use super::TieredStore;
use super::stats::bump;
use crate::error::{Error, TierError, TierErrorKind};
use crate::key;
use crate::object::{Object, ObjectMeta};
use crate::policy::TierId;

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
    /// ([`super::read_stream`]); only such readers start these flights. The
    /// stream the flight opened waits in the handoff for one caller.
    Large(String, super::read_stream::Handoff),
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
        let inner = &self.inner;
        inner.sketch.record(key);
        if let Some(hot) = &inner.hot {
            let now = inner.clock.now_ms();
            if let Some(object) = hot.get_at(key, now) {
                if !self.is_stale(&object.meta, now) {
                    return decode_hit(object, TierId::Hot).map(Some);
                }
                let flight = inner
                    .inflight
                    .run(key, || self.revalidate(key, object, TierId::Hot, inner.stripes.ticket(key)))
                    .await;
                return finish(self.wanted_whole(key, flight).await);
            }
        } else {
            bump(&inner.counters.gets_without_hot);
        }
        let flight = inner.inflight.run(key, || self.read_below_hot(key)).await;
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
            let counters = &inner.counters.warm;
            match self.read_tier(warm.as_ref(), key).await {
                Ok(Some(object)) if object.meta.is_expired(inner.clock.now_ms()) => {
                    bump(&counters.expired);
                    bump(&counters.misses);
                    self.drop_copy(TierId::Warm, key).await;
                }
                Ok(Some(object)) if self.is_stale(&object.meta, inner.clock.now_ms()) => {
                    return self.revalidate(key, object, TierId::Warm, ticket).await;
                }
                Ok(Some(object)) => {
                    bump(&counters.hits);
                    self.promote(&object, TierId::Warm, ticket).await;
                    return Ok(Some((object, TierId::Warm)));
                }
                Ok(None) => bump(&counters.misses),
                Err(err) => self.warm_read_failed(key, err).await,
            }
        }
        let read = self.read_tier(inner.cold.as_ref(), key).await;
        self.cold_outcome(key, read, ticket).await
    }

    /// Serve what cold returned: a hit is promoted, an expired object is
    /// removed, a corrupt one is an error.
    pub(super) async fn cold_outcome(
        &self,
        key: &str,
        read: Result<Option<Object>, TierError>,
        ticket: super::ordering::Ticket,
    ) -> Flight {
        let inner = &self.inner;
        let counters = &inner.counters.cold;
        match read {
            Ok(Some(object)) if object.meta.is_expired(inner.clock.now_ms()) => {
                bump(&counters.expired);
                bump(&counters.misses);
                self.remove_expired(key, ticket).await;
                Ok(None)
            }
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

    /// Remove an expired object everywhere, unless a write replaced it meanwhile.
    pub(super) async fn remove_expired(&self, key: &str, ticket: super::ordering::Ticket) {
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

/// Check what a tier returned for `key` (unless the tier verifies its own reads).
pub(super) fn verified(
    tier: &dyn crate::store::Tier,
    key: &str,
    object: Option<Object>,
) -> Result<Option<Object>, TierError> {
    match object {
        Some(object) if !tier.verifies_reads() && !object.verify() => {
            Err(TierError::corrupt(tier.name(), format!("object {key:?}: bytes do not match the recorded checksum")))
        }
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
