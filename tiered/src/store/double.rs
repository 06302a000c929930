//! A test double: a tier that counts calls and fails on command.
//!
//! It wraps a real tier (by default an unbounded [`MemoryTier`]) so it stores
//! and serves objects faithfully, counts every call by operation, and can be
//! told to fail reads, writes or everything, to delay reads (so concurrent
//! callers pile up), to answer reads late with the value they found at once,
//! to carry out writes and lose their answers, to leave puts unanswered, or
//! to serve corrupted bytes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::Mutex;

use super::{CacheTier, Fetched, KeyStream, MemoryTier, Resident, SourceTier, Tier, Usage};
use crate::error::{TierError, TierErrorKind};
use crate::object::{Object, ObjectMeta};

/// What the double should do wrong.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    #[default]
    None,
    /// `get` and `head` fail as unavailable.
    FailReads,
    /// `put`, `delete`, `set_expiry` and `delete_prefix` fail as unavailable.
    FailWrites,
    /// Every call fails.
    FailAll,
    /// `get` (and `get_stream` of a small object) returns the object with its
    /// bytes flipped (checksum no longer matches).
    CorruptReads,
    /// `put`, `delete`, `set_expiry` and `delete_prefix` are carried out,
    /// then fail as unavailable: an answer lost after the server did it.
    WritesLandThenFail,
    /// The same writes are carried out, then never answered: the caller
    /// waits until it gives up and drops the call.
    WritesLandThenHang,
    /// `put` stores nothing and is never answered (a stalled disk); every
    /// other call behaves.
    PutsHang,
}

/// Call counts by operation.
#[derive(Debug, Default)]
pub struct Calls {
    pub get: AtomicU64,
    pub get_stream: AtomicU64,
    pub head: AtomicU64,
    pub put: AtomicU64,
    pub delete: AtomicU64,
    pub set_expiry: AtomicU64,
    pub list: AtomicU64,
    pub delete_prefix: AtomicU64,
}

/// A counting, fault-injecting tier over a real one (`T`): a cache tier when
/// `T` is one, a source of truth when `T` is one.
#[derive(Debug)]
pub struct TierDouble<T = MemoryTier> {
    inner: Arc<T>,
    fault: Mutex<Fault>,
    read_delay: Mutex<Option<Duration>>,
    late_answer: Mutex<Option<Duration>>,
    pub calls: Calls,
}

impl TierDouble {
    /// A double over an unbounded memory tier (a stand-in for cold).
    pub fn new() -> Self {
        Self::wrapping(Arc::new(MemoryTier::new(u64::MAX)))
    }
}

impl<T: Tier> TierDouble<T> {
    /// A double over any tier.
    pub fn wrapping(inner: Arc<T>) -> Self {
        TierDouble {
            inner,
            fault: Mutex::new(Fault::None),
            read_delay: Mutex::new(None),
            late_answer: Mutex::new(None),
            calls: Calls::default(),
        }
    }

    pub fn set_fault(&self, fault: Fault) {
        *self.fault.lock() = fault;
    }

    /// Delay every `get` by `delay` (use with paused tokio time).
    pub fn set_read_delay(&self, delay: Option<Duration>) {
        *self.read_delay.lock() = delay;
    }

    /// Answer every read (`get`, `get_stream`) `delay` after it found the
    /// value: the value is the one held when the call came (a slow answer on its way while a writer
    /// changes the object).
    pub fn set_late_answer(&self, delay: Option<Duration>) {
        *self.late_answer.lock() = delay;
    }

    /// Reads of an object: `get` and `get_stream` calls.
    pub fn gets(&self) -> u64 {
        self.calls.get.load(Ordering::SeqCst) + self.calls.get_stream.load(Ordering::SeqCst)
    }

    pub fn puts(&self) -> u64 {
        self.calls.put.load(Ordering::SeqCst)
    }

    /// The configured read delay, then the configured read fault.
    async fn before_read(&self) -> Result<(), TierError> {
        let delay = *self.read_delay.lock();
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        self.check(false)
    }

    /// The configured late answer's wait, after a read found its value.
    async fn answer_late(&self) {
        let late = *self.late_answer.lock();
        if let Some(delay) = late {
            tokio::time::sleep(delay).await;
        }
    }

    /// `object` as the double serves it. Under `CorruptReads` its bytes are
    /// flipped, as if they had rotted, and the double, keeping the contract,
    /// finds it out and answers `Corrupt`.
    fn as_read(&self, object: Object) -> Result<Object, TierError> {
        if *self.fault.lock() != Fault::CorruptReads {
            return Ok(object);
        }
        let mut flipped = object.data.to_vec();
        if let Some(b) = flipped.first_mut() {
            *b ^= 0xff;
        } else {
            flipped.push(0);
        }
        let rotted = Object { meta: object.meta, data: Bytes::from(flipped) };
        match rotted.verify() {
            true => Ok(rotted),
            false => Err(TierError::corrupt("double", format!("object {:?}: bytes do not match", rotted.meta.key))),
        }
    }

    fn check(&self, write: bool) -> Result<(), TierError> {
        let fail = match *self.fault.lock() {
            Fault::FailAll => true,
            Fault::FailReads => !write,
            Fault::FailWrites => write,
            Fault::None
            | Fault::CorruptReads
            | Fault::WritesLandThenFail
            | Fault::WritesLandThenHang
            | Fault::PutsHang => false,
        };
        if fail {
            return Err(TierError::new(TierErrorKind::Unavailable, "double", "injected fault"));
        }
        Ok(())
    }
}

impl<T> TierDouble<T> {
    /// The answer of a write carried out, as the configured fault lets it
    /// arrive.
    async fn after_write<R>(&self, done: Result<R, TierError>) -> Result<R, TierError> {
        let fault = *self.fault.lock();
        match fault {
            Fault::WritesLandThenFail => {
                done?;
                Err(TierError::new(TierErrorKind::Unavailable, "double", "injected fault: the answer was lost"))
            }
            Fault::WritesLandThenHang => futures::future::pending().await,
            _ => done,
        }
    }
}

impl Default for TierDouble {
    fn default() -> Self {
        Self::new()
    }
}

fn count(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::SeqCst);
}

#[async_trait]
impl<T: Tier> Tier for TierDouble<T> {
    fn name(&self) -> &'static str {
        "double"
    }

    async fn get(&self, key: &str) -> Result<Option<Object>, TierError> {
        count(&self.calls.get);
        self.before_read().await?;
        let object = self.inner.get(key).await?;
        self.answer_late().await;
        object.map(|o| self.as_read(o)).transpose()
    }

    /// Forwards to the wrapped tier, so a double over a file tier streams.
    async fn get_stream(&self, key: &str, buffer_max: u64) -> Result<Option<Fetched>, TierError> {
        count(&self.calls.get_stream);
        self.before_read().await?;
        let found = self.inner.get_stream(key, buffer_max).await?;
        self.answer_late().await;
        Ok(match found {
            Some(Fetched::Whole(o)) => Some(Fetched::Whole(self.as_read(o)?)),
            other => other,
        })
    }

    async fn head(&self, key: &str) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        count(&self.calls.head);
        self.check(false)?;
        self.inner.head(key).await
    }

    async fn put(&self, object: Object) -> Result<Arc<ObjectMeta>, TierError> {
        count(&self.calls.put);
        self.check(true)?;
        if *self.fault.lock() == Fault::PutsHang {
            return futures::future::pending().await;
        }
        let mut meta = (*object.meta).clone();
        meta.etag = Some(format!("double-{}", &meta.checksum[..16]));
        let stored = self.inner.put(Object::new(meta, object.data)).await;
        self.after_write(stored).await
    }

    async fn delete(&self, key: &str) -> Result<bool, TierError> {
        count(&self.calls.delete);
        self.check(true)?;
        let deleted = self.inner.delete(key).await;
        self.after_write(deleted).await
    }

    async fn set_expiry(&self, key: &str, expires_ms: Option<u64>) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        count(&self.calls.set_expiry);
        self.check(true)?;
        let updated = self.inner.set_expiry(key, expires_ms).await;
        self.after_write(updated).await
    }

    fn list(&self, prefix: &str) -> KeyStream {
        count(&self.calls.list);
        if let Err(e) = self.check(false) {
            return Box::pin(futures::stream::iter([Err(e)]));
        }
        self.inner.list(prefix)
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64, TierError> {
        count(&self.calls.delete_prefix);
        self.check(true)?;
        let deleted = self.inner.delete_prefix(prefix).await;
        self.after_write(deleted).await
    }
}

impl<T: CacheTier> CacheTier for TierDouble<T> {
    fn usage(&self) -> Usage {
        self.inner.usage()
    }

    fn residents(&self) -> Vec<Resident> {
        self.inner.residents()
    }
}

/// Conditional reads go through the double's own `get`, so its faults and
/// counts apply to them.
impl<T: SourceTier> SourceTier for TierDouble<T> {}

/// Over a memory tier, the double is the tests' stand-in for cold.
impl SourceTier for TierDouble<MemoryTier> {}
