//! Single-flight: concurrent misses on one key share one lower-tier read.
//!
//! The first caller for a key creates a cell and runs the read inside it;
//! callers arriving while it runs wait on the same cell and get a clone of its
//! result. If the running caller is cancelled, a waiting one takes over. A
//! write to the key [`forget`](Inflight::forget)s the cell once cold has the
//! new value, so a read that starts after the write was acknowledged never
//! joins a flight that began before it (and may have read the old value).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::OnceCell;

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
    pub(crate) async fn run<F, Fut>(&self, key: &str, read: F) -> T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let cell = self.flights.lock().entry(key.to_string()).or_insert_with(|| Arc::new(OnceCell::new())).clone();
        let value = cell.get_or_init(read).await.clone();
        let mut flights = self.flights.lock();
        if flights.get(key).is_some_and(|current| Arc::ptr_eq(current, &cell)) {
            flights.remove(key);
        }
        value
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
