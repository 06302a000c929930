//! [`Capture`]: whether requests are being traced, and the session that
//! traces them.
//!
//! **Off costs one relaxed atomic load.** [`Capture::record`] reads the
//! switch and returns; nothing else is touched. On, a request is hashed
//! ([`key_id`]), sampled, counted against `max_requests`, and offered to the
//! writer's bounded channel with `try_send`: a full channel drops the request
//! from the trace and counts it (`dropped`), a request is never delayed.
//! Memory is bounded by `[trace] queue` records plus the writer's buffer.
//!
//! **One capture at a time.** [`Capture::start`] refuses while one runs
//! ([`CaptureError::Running`], a 409); start and stop are serialised. The
//! writer thread ends a session on its own (duration, request cap, write
//! error) by turning the switch off first, so a new session never shares its
//! switch with the end of the last one.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use super::writer::{self, End, Files, Limits, Msg, Opener, Progress, Record, TraceFormat};
use super::{key_id, sample_bound};
use crate::sim::Op;

/// Why a capture could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    #[error("a capture is already running (started {started_at}, writing {file}); stop it first (POST /v1/trace/stop)")]
    Running { started_at: String, file: String },
    /// A start parameter out of its range.
    #[error("{0}")]
    Invalid(String),
    #[error("cannot write the trace under {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The body of `POST /v1/trace/start`; every field optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartParams {
    /// Stop after this many seconds (a fraction allowed).
    pub duration_secs: Option<f64>,
    /// Stop after this many requests are taken (written or dropped).
    pub max_requests: Option<u64>,
    /// Share of keys traced, in (0, 1]; 1 by default.
    pub sample: Option<f64>,
    pub format: Option<TraceFormat>,
    /// The key-hash seed, 16 hex digits; random by default.
    pub seed: Option<String>,
}

/// `GET /v1/trace`: the running capture, or the last one.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Status {
    pub running: bool,
    pub format: Option<TraceFormat>,
    /// The file being written (running) or written last.
    pub file: Option<PathBuf>,
    /// Every file of the capture, oldest first.
    pub files: Vec<PathBuf>,
    /// Records written.
    pub requests: u64,
    /// Requests left out because the writer's queue was full.
    pub dropped: u64,
    pub bytes: u64,
    pub sample: Option<f64>,
    pub max_requests: Option<u64>,
    pub duration_secs: Option<f64>,
    /// The key-hash seed, 16 hex digits.
    pub seed: Option<String>,
    /// UTC, RFC 3339.
    pub started_at: Option<String>,
    pub elapsed_secs: Option<f64>,
    /// Why the capture ended: `stopped`, `duration`, `max_requests`,
    /// `shutdown` or `failed`.
    pub ended: Option<&'static str>,
    /// What failed, when `ended` is `failed`.
    pub error: Option<String>,
}

/// The capture switch and its session (one per service).
#[derive(Debug)]
pub struct Capture {
    /// The only thing the request path reads when capture is off.
    on: Arc<AtomicBool>,
    /// The running session, or the last one (kept for its status).
    session: RwLock<Option<Arc<Session>>>,
    /// Serialises start and stop.
    control: Mutex<()>,
    dir: PathBuf,
    rotate_bytes: u64,
    queue: usize,
    open: Opener,
}

/// One capture, from start to its end.
#[derive(Debug)]
struct Session {
    format: TraceFormat,
    seed: u64,
    sample: f64,
    /// Ids below this are traced; `None`: all.
    bound: Option<u64>,
    max_requests: Option<u64>,
    duration_secs: Option<f64>,
    started: Instant,
    started_at: String,
    tx: SyncSender<Msg>,
    progress: Arc<Progress>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl Capture {
    /// Capture into `dir`, files rotated before `rotate_bytes`, `queue`
    /// requests held for the writer.
    pub fn new(dir: PathBuf, rotate_bytes: u64, queue: usize) -> Capture {
        Capture::with_opener(dir, rotate_bytes, queue, |path| std::fs::File::create_new(path))
    }

    /// [`Capture::new`] creating files with `open` (tests inject failures).
    pub fn with_opener(dir: PathBuf, rotate_bytes: u64, queue: usize, open: Opener) -> Capture {
        Capture {
            on: Arc::new(AtomicBool::new(false)),
            session: RwLock::new(None),
            control: Mutex::new(()),
            dir,
            rotate_bytes,
            queue,
            open,
        }
    }

    /// Traces one request, if a capture is on: `size` stored bytes of `key`.
    #[inline]
    pub fn record(&self, key: &str, size: u64, op: Op) {
        if self.on.load(Ordering::Relaxed) {
            self.offer(key, size, op);
        }
    }

    #[inline(never)]
    fn offer(&self, key: &str, size: u64, op: Op) {
        let guard = self.session.read();
        let Some(session) = guard.as_ref() else { return };
        if !session.format.writes(op) {
            return;
        }
        let id = key_id(session.seed, key);
        if session.bound.is_some_and(|bound| id >= bound) {
            return;
        }
        let progress = &session.progress;
        if let Some(max) = session.max_requests {
            let taken = progress.taken.fetch_add(1, Ordering::Relaxed);
            if taken >= max {
                self.on.store(false, Ordering::Relaxed);
                return;
            }
        }
        let time_ms = session.started.elapsed().as_millis() as u64;
        match session.tx.try_send(Msg::Request(Record { time_ms, id, size, op })) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                progress.dropped.fetch_add(1, Ordering::Relaxed);
            }
            // The writer has ended (a write error): the switch is off already.
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Starts a capture; refused while one runs. Creates the first file, so
    /// a directory that cannot be written is refused here. Blocking (file
    /// creation).
    pub fn start(&self, params: StartParams) -> Result<Status, CaptureError> {
        let _control = self.control.lock();
        if let Some(session) = self.session.read().as_ref()
            && session.progress.end.lock().is_none()
        {
            let file = session.progress.files.lock().last().map(|p| p.display().to_string()).unwrap_or_default();
            return Err(CaptureError::Running { started_at: session.started_at.clone(), file });
        }
        if let Some(last) = self.session.read().as_ref() {
            last.join();
        }
        let valid = Valid::check(&params)?;
        let now = time::OffsetDateTime::now_utc();
        let started_at = rfc3339(now);
        let progress = Arc::new(Progress::default());
        let io = |source| CaptureError::Io { path: self.dir.clone(), source };
        let files = Files::create(&self.dir, now, valid.format, self.rotate_bytes, self.open, &progress).map_err(io)?;
        let (tx, rx) = sync_channel(self.queue);
        let started = Instant::now();
        let limits = Limits { duration: valid.duration, max_requests: params.max_requests };
        let writer = writer::Writer { files, rx, progress: progress.clone(), on: self.on.clone(), limits, started }
            .spawn()
            .map_err(io)?;
        let session = Arc::new(Session {
            format: valid.format,
            seed: valid.seed,
            sample: valid.sample,
            bound: sample_bound(valid.sample),
            max_requests: params.max_requests,
            duration_secs: params.duration_secs,
            started,
            started_at,
            tx,
            progress,
            writer: Mutex::new(Some(writer)),
        });
        *self.session.write() = Some(session.clone());
        self.on.store(true, Ordering::Relaxed);
        let status = session.status();
        tracing::info!(
            format = ?valid.format,
            sample = valid.sample,
            max_requests = ?params.max_requests,
            duration_secs = ?params.duration_secs,
            file = ?status.file,
            "trace capture started"
        );
        Ok(status)
    }

    /// Stops the running capture (its queued requests are written, its files
    /// flushed and closed) and answers its final status; without one, the
    /// last status. Blocking (waits for the writer).
    pub fn stop(&self) -> Status {
        self.end(End::Stopped)
    }

    /// Stops a running capture because the service is shutting down.
    pub fn shutdown(&self) {
        self.end(End::Shutdown);
    }

    fn end(&self, why: End) -> Status {
        let _control = self.control.lock();
        let Some(session) = self.session.read().clone() else { return Status::default() };
        if session.progress.end.lock().is_none() {
            self.on.store(false, Ordering::Relaxed);
            // Behind every request already queued; fails only if the writer has ended.
            let _ = session.tx.send(Msg::Stop(why));
        }
        session.join();
        session.status()
    }

    /// The running capture's status, or the last one's.
    pub fn status(&self) -> Status {
        self.session.read().as_ref().map(|s| s.status()).unwrap_or_default()
    }
}

impl Session {
    /// Waits for the writer thread, once.
    fn join(&self) {
        if let Some(writer) = self.writer.lock().take()
            && writer.join().is_err()
        {
            tracing::error!("the trace writer panicked");
            self.progress.end.lock().get_or_insert(End::Failed("the trace writer panicked".into()));
        }
    }

    fn status(&self) -> Status {
        let end = self.progress.end.lock().clone();
        let files = self.progress.files.lock().clone();
        Status {
            running: end.is_none(),
            format: Some(self.format),
            file: files.last().cloned(),
            files,
            requests: self.progress.written.load(Ordering::Relaxed),
            dropped: self.progress.dropped.load(Ordering::Relaxed),
            bytes: self.progress.bytes.load(Ordering::Relaxed),
            sample: Some(self.sample),
            max_requests: self.max_requests,
            duration_secs: self.duration_secs,
            seed: Some(format!("{:016x}", self.seed)),
            started_at: Some(self.started_at.clone()),
            elapsed_secs: Some(self.started.elapsed().as_secs_f64()),
            ended: end.as_ref().map(End::reason),
            error: match end {
                Some(End::Failed(message)) => Some(message),
                _ => None,
            },
        }
    }
}

/// Start parameters, checked.
struct Valid {
    format: TraceFormat,
    seed: u64,
    sample: f64,
    duration: Option<Duration>,
}

impl Valid {
    fn check(params: &StartParams) -> Result<Valid, CaptureError> {
        let invalid = |m: String| Err(CaptureError::Invalid(m));
        let sample = params.sample.unwrap_or(1.0);
        if !(sample > 0.0 && sample <= 1.0) {
            return invalid(format!("sample must be a rate in (0, 1], e.g. 0.1 for a tenth of the keys; got {sample}"));
        }
        if params.max_requests == Some(0) {
            return invalid("max_requests must be at least 1 (leave it out for no cap)".into());
        }
        let duration = match params.duration_secs {
            None => None,
            Some(secs) if secs.is_finite() && secs > 0.0 && secs <= 1e9 => Some(Duration::from_secs_f64(secs)),
            Some(secs) => return invalid(format!("duration_secs must be a positive number of seconds; got {secs}")),
        };
        let seed = match &params.seed {
            None => random_seed(),
            Some(text) => match u64::from_str_radix(text, 16) {
                Ok(seed) if text.len() == 16 => seed,
                _ => return invalid(format!("seed must be 16 hex digits (as GET /v1/trace reports it); got {text:?}")),
            },
        };
        Ok(Valid { format: params.format.unwrap_or_default(), seed, sample, duration })
    }
}

/// 64 random bits from the operating system (through std's hash keys).
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::hash::RandomState::new().build_hasher();
    hasher
        .write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    hasher.finish()
}

/// `2026-12-01T16:34:07.123Z`.
fn rfc3339(t: time::OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A full disk ends the capture, reported in the status; requests after
    /// it are not taken, and recording never fails the caller.
    #[test]
    fn a_failed_write_stops_the_capture_and_is_reported() {
        if !std::path::Path::new("/dev/full").exists() {
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let full: Opener = |_| std::fs::OpenOptions::new().write(true).open("/dev/full");
        let capture = Capture::with_opener(dir.path().to_path_buf(), 1 << 30, 8, full);
        capture.start(StartParams::default()).expect("starts");
        for i in 0..100 {
            capture.record(&format!("k{i}"), 10, Op::Get);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while capture.status().running {
            assert!(Instant::now() < deadline, "the capture did not end");
            std::thread::sleep(Duration::from_millis(10));
        }
        let status = capture.status();
        assert_eq!(status.ended, Some("failed"));
        assert!(status.error.as_deref().is_some_and(|e| e.contains("No space")), "{status:?}");
        capture.record("later", 10, Op::Get);
        assert!(!capture.on.load(Ordering::Relaxed));
        // A new capture may start after a failed one.
        let again = Capture::new(dir.path().join("ok"), 1 << 30, 8);
        again.start(StartParams::default()).expect("starts");
        again.record("k", 1, Op::Get);
        assert_eq!(again.stop().requests, 1);
    }

    #[test]
    fn parameters_out_of_range_are_refused_with_the_reason() {
        let refused = |p: StartParams| match Valid::check(&p) {
            Err(CaptureError::Invalid(message)) => message,
            other => panic!("{p:?} accepted: {:?}", other.map(|v| v.sample)),
        };
        assert!(refused(StartParams { sample: Some(0.0), ..Default::default() }).contains("sample"));
        assert!(refused(StartParams { sample: Some(f64::NAN), ..Default::default() }).contains("sample"));
        assert!(refused(StartParams { duration_secs: Some(0.0), ..Default::default() }).contains("duration_secs"));
        assert!(refused(StartParams { seed: Some("12".into()), ..Default::default() }).contains("seed"));
        assert!(Valid::check(&StartParams { seed: Some("00000000000000ff".into()), ..Default::default() }).is_ok());
    }
}
