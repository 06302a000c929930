//! A per-key history of writes and reads and the check every read must pass.
//!
//! Time is a logical clock shared by all tasks: an operation takes a stamp
//! when it starts and another when it ends. A write (a set, a delete, or a
//! prefix invalidation, which deletes) is *acknowledged* if the store said
//! so; an unacknowledged one may or may not have happened. The rule for a
//! read of `key` that started at `s` and ended at `e`:
//!
//! - it may return what write `w` wrote only if `w` started before `e`, and
//! - no acknowledged write `w2` to `key` both started after `w` ended and
//!   ended before `s` (then `w`'s value is older than an acknowledged write
//!   that finished before the read began: a lost or stale value).
//!
//! The initial state (absent) is a write at time 0. Values are identified by
//! write id ([`super::rng::value_for`]), absence by `None`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// One write: what it left (`None` = deleted), when, and whether acknowledged.
#[derive(Clone, Debug)]
pub struct Write {
    pub id: Option<u64>,
    pub start: u64,
    pub end: u64,
    pub acked: bool,
}

/// One read: what it saw (`None` = absent), when.
#[derive(Clone, Debug)]
pub struct Read {
    pub key: String,
    pub id: Option<u64>,
    pub start: u64,
    pub end: u64,
}

/// The shared clock and the log of every operation.
#[derive(Debug, Default)]
pub struct History {
    clock: AtomicU64,
    writes: Mutex<HashMap<String, Vec<Write>>>,
    reads: Mutex<Vec<Read>>,
}

impl History {
    /// A stamp (starts at 1; 0 is the initial state).
    pub fn now(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub fn write(&self, key: &str, write: Write) {
        self.writes.lock().entry(key.to_string()).or_default().push(write);
    }

    pub fn read(&self, read: Read) {
        self.reads.lock().push(read);
    }

    pub fn acked_writes(&self) -> usize {
        self.writes.lock().values().flatten().filter(|w| w.acked).count()
    }

    pub fn reads(&self) -> usize {
        self.reads.lock().len()
    }

    /// Every violation of the rule, described; empty when the history is valid.
    pub fn violations(&self) -> Vec<String> {
        let writes = self.writes.lock();
        let reads = self.reads.lock();
        reads.iter().filter_map(|r| check(writes.get(&r.key).map_or(&[][..], Vec::as_slice), r)).collect()
    }

    /// What a read of `key` starting after every logged operation may return.
    pub fn final_read(&self, key: &str, id: Option<u64>) -> Option<String> {
        let start = self.now();
        let read = Read { key: key.to_string(), id, start, end: start };
        check(self.writes.lock().get(key).map_or(&[][..], Vec::as_slice), &read)
    }

    /// Every key that was written.
    pub fn keys(&self) -> Vec<String> {
        self.writes.lock().keys().cloned().collect()
    }
}

fn check(writes: &[Write], r: &Read) -> Option<String> {
    let initial = Write { id: None, start: 0, end: 0, acked: true };
    let candidates: Vec<&Write> =
        std::iter::once(&initial).chain(writes).filter(|w| w.id == r.id && w.start < r.end).collect();
    if candidates.is_empty() {
        return Some(format!(
            "read of {:?} at [{}, {}] returned {:?}, which no write produced",
            r.key, r.start, r.end, r.id
        ));
    }
    let superseded = |w: &Write| writes.iter().any(|w2| w2.acked && w2.start > w.end && w2.end < r.start);
    if candidates.iter().all(|w| superseded(w)) {
        let newest = writes.iter().filter(|w| w.acked && w.end < r.start).max_by_key(|w| w.end);
        return Some(format!(
            "read of {:?} at [{}, {}] returned {:?}, older than acknowledged write {:?}",
            r.key, r.start, r.end, r.id, newest
        ));
    }
    None
}
