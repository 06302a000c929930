//! What a policy writes through the `log` import, and the budget that keeps a
//! hostile or careless policy from flooding or forging the host's log.
//!
//! - **One line, never raw.** A message is written as a quoted, escaped field
//!   (`text="..."`) of a line the host writes (`policy log policy=<name>`):
//!   newlines, carriage returns, escape sequences and Unicode line
//!   separators come out as `\n`, `\r`, `\u{1b}`, `\u{2028}`, so no message
//!   can start a log line or pass for one of the host's own.
//! - **Bounded length.** A message longer than [`PolicyLimits::log_line_bytes`]
//!   is cut at a character boundary and marked with its full length.
//! - **Bounded rate.** Every policy has a token bucket of
//!   [`PolicyLimits::log_bytes_per_second`] (a second's worth of burst),
//!   shared by all its instances. A line costs its text plus
//!   the policy's name and [`LINE_OVERHEAD`] for what the host adds (time,
//!   level, target), so a flood of short lines is bounded as well as a few
//!   huge ones. A
//!   message over budget is dropped and counted; the host says so itself at
//!   most once every [`NOTICE_EVERY`].
//! - **Free when filtered.** A message at a level the subscriber does not
//!   record costs nothing and takes no budget.
//!
//! Time spent here counts against the call's deadline: the `log` import
//! checks it before and after (see `state.rs`).
//!
//! [`PolicyLimits::log_line_bytes`]: super::PolicyLimits::log_line_bytes
//! [`PolicyLimits::log_bytes_per_second`]: super::PolicyLimits::log_bytes_per_second

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::bindings::Level;

/// The `tracing` target of policy messages.
pub(crate) const TARGET: &str = "tiered::policy::guest";

/// Bytes a line costs beyond its (escaped) text and the policy's name: what
/// the host writes around them (time, level, target, field names).
pub(crate) const LINE_OVERHEAD: usize = 96;

/// How often, at most, the host says that a policy's messages are dropped.
pub(crate) const NOTICE_EVERY: Duration = Duration::from_secs(10);

/// The log budget of one policy, shared by its instances. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct GuestLog {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Longest message text written whole.
    line_bytes: usize,
    /// Refill rate of the bucket, in bytes per second.
    per_second: f64,
    /// Size of the bucket: a second's worth, and always room for one whole line.
    capacity: f64,
    bucket: Mutex<Bucket>,
    written: AtomicU64,
    dropped: AtomicU64,
    truncated: AtomicU64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
    /// When the host last said messages were dropped.
    noticed: Option<Instant>,
}

/// What the budget decided for one message.
#[derive(Debug, PartialEq, Eq)]
enum Admit {
    Write,
    /// Dropped; `true` when the host should say so now.
    Drop {
        notice: bool,
    },
}

/// Counts of a policy's messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LogCounts {
    pub(crate) written: u64,
    pub(crate) dropped: u64,
    pub(crate) truncated: u64,
}

impl GuestLog {
    /// A budget of `per_second` bytes a second for messages of at most
    /// `line_bytes` bytes each.
    pub(crate) fn new(line_bytes: usize, per_second: u64) -> Self {
        let per_second = per_second as f64;
        let capacity = per_second.max((line_bytes + LINE_OVERHEAD) as f64);
        GuestLog {
            inner: Arc::new(Inner {
                line_bytes,
                per_second,
                capacity,
                bucket: Mutex::new(Bucket { tokens: capacity, refilled: Instant::now(), noticed: None }),
                written: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                truncated: AtomicU64::new(0),
            }),
        }
    }

    pub(crate) fn counts(&self) -> LogCounts {
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        let i = &self.inner;
        LogCounts { written: get(&i.written), dropped: get(&i.dropped), truncated: get(&i.truncated) }
    }

    /// Writes `message` of `policy` at `level`, within the budget.
    pub(crate) fn write(&self, policy: &str, level: Level, message: &str) {
        let recorded = match level {
            Level::Trace => tracing::enabled!(target: TARGET, tracing::Level::TRACE),
            Level::Debug => tracing::enabled!(target: TARGET, tracing::Level::DEBUG),
            Level::Info => tracing::enabled!(target: TARGET, tracing::Level::INFO),
            Level::Warn => tracing::enabled!(target: TARGET, tracing::Level::WARN),
            Level::Error => tracing::enabled!(target: TARGET, tracing::Level::ERROR),
        };
        if !recorded {
            return;
        }
        let (text, cut) = render(message, self.inner.line_bytes);
        match self.admit(Instant::now(), text.len() + policy.len() + LINE_OVERHEAD) {
            Admit::Write => {}
            Admit::Drop { notice } => {
                let dropped = self.inner.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if notice {
                    tracing::warn!(
                        policy = %policy,
                        dropped,
                        bytes_per_second = self.inner.per_second,
                        "the policy logs more than its budget; its messages are dropped \
                         ([policy_limits] log_bytes_per_second)"
                    );
                }
                return;
            }
        }
        self.inner.written.fetch_add(1, Ordering::Relaxed);
        if cut {
            self.inner.truncated.fetch_add(1, Ordering::Relaxed);
        }
        match level {
            Level::Trace => tracing::trace!(target: TARGET, policy = %policy, text = %text, "policy log"),
            Level::Debug => tracing::debug!(target: TARGET, policy = %policy, text = %text, "policy log"),
            Level::Info => tracing::info!(target: TARGET, policy = %policy, text = %text, "policy log"),
            Level::Warn => tracing::warn!(target: TARGET, policy = %policy, text = %text, "policy log"),
            Level::Error => tracing::error!(target: TARGET, policy = %policy, text = %text, "policy log"),
        }
    }

    /// Takes `cost` bytes from the bucket at time `now`.
    fn admit(&self, now: Instant, cost: usize) -> Admit {
        let per_second = self.inner.per_second;
        let mut b = self.inner.bucket.lock();
        let elapsed = now.saturating_duration_since(b.refilled).as_secs_f64();
        b.tokens = (b.tokens + elapsed * per_second).min(self.inner.capacity);
        b.refilled = now;
        if b.tokens >= cost as f64 {
            b.tokens -= cost as f64;
            return Admit::Write;
        }
        let notice = b.noticed.is_none_or(|at| now.saturating_duration_since(at) >= NOTICE_EVERY);
        if notice {
            b.noticed = Some(now);
        }
        Admit::Drop { notice }
    }
}

/// A message as written: at most `line_bytes` of it, escaped and in quotes
/// (`str`'s `Debug`: every control character, line or paragraph separator and
/// other non-printable character escaped), with its full length when it was
/// cut.
fn render(message: &str, line_bytes: usize) -> (String, bool) {
    let mut end = line_bytes.min(message.len());
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let shown = &message[..end];
    let mut text = format!("{shown:?}");
    let cut = end < message.len();
    if cut {
        text.push_str(&format!(" [truncated: {end} of {} bytes]", message.len()));
    }
    (text, cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_message_can_break_its_line() {
        let hostile =
            "ok\nINFO tiered::http: admin token accepted\r\n\u{1b}[2K\u{85}x\u{2028}y\u{2029}z\u{0}\u{7f}\u{202e}";
        let (written, cut) = render(hostile, 4096);
        assert!(!cut);
        assert!(written.lines().count() == 1, "{written}");
        for c in written.chars() {
            assert!(!c.is_control(), "control character {c:?} in {written}");
            assert!(!matches!(c, '\u{2028}' | '\u{2029}' | '\u{202e}'), "{c:?} in {written}");
        }
        assert!(written.starts_with("\"ok\\nINFO tiered::http"), "{written}");
    }

    #[test]
    fn long_messages_are_cut_at_a_character_boundary_and_marked() {
        // Two bytes a character: five bytes hold two of them.
        assert_eq!(render("ééééé", 5), ("\"éé\" [truncated: 4 of 10 bytes]".to_string(), true));
        assert_eq!(render("short", 5), ("\"short\"".to_string(), false));
    }

    #[test]
    fn the_bucket_refills_at_its_rate_and_holds_a_seconds_burst() {
        let log = GuestLog::new(1000, 10_000);
        let t0 = Instant::now();
        log.inner.bucket.lock().refilled = t0;
        let line = 1000 - LINE_OVERHEAD; // costs 1000 bytes with the overhead
        assert!((0..10).all(|_| log.admit(t0, line + LINE_OVERHEAD) == Admit::Write), "a full bucket holds a second");
        assert_eq!(log.admit(t0, 1000), Admit::Drop { notice: true }, "the first drop is said");
        assert_eq!(log.admit(t0, 1000), Admit::Drop { notice: false }, "and not the next");
        // 0.25 s later, 2,500 bytes came back: two lines.
        let later = t0 + Duration::from_millis(250);
        let written = (0..5).filter(|_| log.admit(later, 1000) == Admit::Write).count();
        assert_eq!(written, 2);
        // An idle minute refills one second's worth, no more.
        let idle = later + Duration::from_secs(60);
        let written = (0..20).filter(|_| log.admit(idle, 1000) == Admit::Write).count();
        assert_eq!(written, 10);
    }

    #[test]
    fn drops_are_noticed_at_most_once_per_period() {
        let log = GuestLog::new(100, 100);
        let t0 = Instant::now();
        log.inner.bucket.lock().refilled = t0;
        assert_eq!(log.admit(t0, 196), Admit::Write, "a whole line always fits a full bucket");
        assert_eq!(log.admit(t0, 196), Admit::Drop { notice: true });
        assert_eq!(log.admit(t0 + Duration::from_secs(1), 196), Admit::Drop { notice: false });
        let t1 = t0 + NOTICE_EVERY;
        assert_eq!(log.admit(t1, 196), Admit::Write, "refilled");
        assert_eq!(log.admit(t1, 196), Admit::Drop { notice: true }, "a period later, said again");
    }
}
