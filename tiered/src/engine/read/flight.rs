//! Single-flight: concurrent misses on one key share one lower-tier read,
//! and the hand-off of a stream that read opened.
//!
//! The first caller for a key creates a cell and runs the read inside it;
//! callers arriving while it runs wait on the same cell and get a clone of its
//! result ([`Flight`]). If the running caller is cancelled, a waiting one takes
//! over; when every caller has left (clients that hung up), the cell leaves
//! the map with the last of them. A write to the key [`forget`](Inflight::forget)s the cell once cold
//! has the new value, so a read that starts after the write was acknowledged
//! never joins a flight that began before it (and may have read the old value).
//!
//! A value can be shared; an open stream cannot. When the shared read finds
//! an object larger than its starter buffers, it ends in
//! [`FlightError::Large`] and leaves the stream it opened in a [`Handoff`]:
//! the first caller that would stream it takes it, every other caller of the
//! flight reads on its own.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::OnceCell;

use crate::engine::ordering::Ticket;
use crate::error::{Error, TierError};
use crate::object::Object;
use crate::policy::TierId;
use crate::store::ObjectStream;

/// In-flight reads by key.
#[derive(Debug)]
pub(crate) struct Inflight<T> {
    flights: Mutex<HashMap<String, Arc<OnceCell<T>>>>,
}

impl<T: Clone> Inflight<T> {
    pub(crate) fn new() -> Self {
        Inflight { flights: Mutex::new(HashMap::new()) }
    }

    /// Run `read` for `key`, or join the read already running for it.
    ///
    /// The cell leaves the map when its read ends, or when the last of its
    /// callers leaves before that (a client that hung up): a key whose
    /// callers all left holds no entry.
    pub(crate) async fn run<F, Fut>(&self, key: &str, read: F) -> T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let cell = self.flights.lock().entry(key.to_string()).or_insert_with(|| Arc::new(OnceCell::new())).clone();
        let caller = Caller { flights: &self.flights, key, cell: Some(cell) };
        let cell = caller.cell.as_ref().expect("set above");
        cell.get_or_init(read).await.clone()
    }

    /// Detach the flight for `key`, if any: later readers start afresh.
    pub(crate) fn forget(&self, key: &str) {
        self.flights.lock().remove(key);
    }

    /// Detach every flight.
    pub(crate) fn forget_all(&self) {
        self.flights.lock().clear();
    }
}

/// One caller of a flight; when it is done or dropped, the flight's cell
/// leaves the map if its read has ended or no other caller holds it.
struct Caller<'a, T> {
    flights: &'a Mutex<HashMap<String, Arc<OnceCell<T>>>>,
    key: &'a str,
    cell: Option<Arc<OnceCell<T>>>,
}

impl<T> Drop for Caller<'_, T> {
    fn drop(&mut self) {
        let Some(cell) = self.cell.take() else { return };
        let mut flights = self.flights.lock();
        let Some(current) = flights.get(self.key) else { return };
        if !Arc::ptr_eq(current, &cell) {
            return;
        }
        let ended = cell.initialized();
        // Dropped under the lock, where joiners take their clone: the last
        // caller to leave sees the map's reference alone.
        drop(cell);
        if ended || Arc::strong_count(current) == 1 {
            flights.remove(self.key);
        }
    }
}

/// What a shared lower-tier read produced: the value whole and the tier that
/// served it, `None` (absent or expired), or a failure.
pub(crate) type Flight = Result<Option<(Object, TierId)>, FlightError>;

/// A lower-tier read failure, cloneable for every caller of the flight.
#[derive(Clone, Debug)]
pub(crate) enum FlightError {
    Unavailable(TierError),
    Corrupt(String, TierError),
    /// The object is larger than the flight's starter buffers; the stream
    /// the flight opened waits in the handoff for one caller.
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

/// A stream a read opened, with the ticket taken before it was opened (for
/// the ordering check of a promotion) and the tier it comes from.
#[derive(Debug)]
pub(crate) struct Opened {
    pub(crate) ticket: Ticket,
    pub(crate) stream: ObjectStream,
    pub(crate) source: TierId,
}

/// The stream a shared read opened on a large object, for one of the
/// flight's callers to take.
#[derive(Clone)]
pub(crate) struct Handoff(Arc<Mutex<Option<Opened>>>);

impl Handoff {
    pub(crate) fn new(opened: Opened) -> Self {
        Handoff(Arc::new(Mutex::new(Some(opened))))
    }

    /// The stream, to the first caller that would stream it (the object is
    /// larger than its `buffer_max`); `None` to the others.
    pub(crate) fn take(&self, buffer_max: u64) -> Option<Opened> {
        let mut slot = self.0.lock();
        if slot.as_ref().is_some_and(|opened| opened.stream.meta.size > buffer_max) { slot.take() } else { None }
    }
}

impl std::fmt::Debug for Handoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handoff").field("waiting", &self.0.lock().is_some()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::pin;
    use std::task::{Context, Poll};

    impl<T> Inflight<T> {
        fn len(&self) -> usize {
            self.flights.lock().len()
        }
    }

    /// Polls `f` once.
    fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(std::task::Waker::noop()))
    }

    #[test]
    fn a_flight_whose_callers_all_left_leaves_no_entry() {
        let inflight = Inflight::<u32>::new();
        {
            let mut first = pin!(inflight.run("k", std::future::pending));
            let mut second = pin!(inflight.run("k", std::future::pending));
            assert!(poll_once(first.as_mut()).is_pending());
            assert!(poll_once(second.as_mut()).is_pending());
            assert_eq!(inflight.len(), 1, "both callers share one flight");
        }
        assert_eq!(inflight.len(), 0, "the entry left with its last caller");
    }

    #[test]
    fn a_caller_that_leaves_keeps_the_flight_for_those_still_waiting() {
        let inflight = Inflight::<u32>::new();
        let mut waiter = Box::pin(inflight.run("k", || async { 7 }));
        {
            let mut starter = pin!(inflight.run("k", std::future::pending));
            assert!(poll_once(starter.as_mut()).is_pending());
            assert!(poll_once(waiter.as_mut()).is_pending(), "waits for the starter's read");
        }
        assert_eq!(inflight.len(), 1, "the waiter still holds the flight");
        // The waiter takes over the read the starter abandoned.
        assert_eq!(poll_once(waiter.as_mut()), Poll::Ready(7));
        assert_eq!(inflight.len(), 0, "the ended flight left the map");
    }

    #[test]
    fn a_finished_flight_leaves_the_map_and_the_next_read_starts_afresh() {
        let inflight = Inflight::<u32>::new();
        assert_eq!(poll_once(pin!(inflight.run("k", || async { 1 }))), Poll::Ready(1));
        assert_eq!(inflight.len(), 0);
        assert_eq!(poll_once(pin!(inflight.run("k", || async { 2 }))), Poll::Ready(2), "not the first flight's value");
    }

    #[test]
    fn a_forgotten_flight_is_not_removed_for_its_successor() {
        let inflight = Inflight::<u32>::new();
        let mut old = Box::pin(inflight.run("k", std::future::pending));
        assert!(poll_once(old.as_mut()).is_pending());
        inflight.forget("k");
        let mut new = Box::pin(inflight.run("k", std::future::pending));
        assert!(poll_once(new.as_mut()).is_pending());
        drop(old);
        assert_eq!(inflight.len(), 1, "the old caller leaving does not remove the new flight");
        drop(new);
        assert_eq!(inflight.len(), 0);
    }
}
