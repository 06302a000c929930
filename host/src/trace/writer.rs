//! The trace writer: one thread per capture that owns the files.
//!
//! Requests arrive as [`Record`]s over a bounded channel (the request path
//! never waits: a full channel drops and counts, see
//! [`Capture`](super::Capture)). The thread encodes each record in the
//! capture's [`TraceFormat`] into a `BufWriter`, opens the next file before
//! one would pass `rotate_bytes`, flushes whenever it has emptied the
//! channel (then sleeps a tick: it polls, so senders never wake it), and ends
//! the session on the first of: a stop, the duration, the request cap, a
//! write error. A write error (a full disk) turns capture off, is logged and
//! reported in [`Progress`]; serving never notices.
//!
//! Files: `<dir>/trace-<UTC start>-<part>.oracleGeneral` or `.csv`, parts
//! numbered from 0000, each holding whole records (a CSV part starts with
//! its header line). Timestamps count from the capture's start, so rotated
//! parts concatenate into one trace.
//!
//! Encodings, exactly what [`crate::sim::Trace`] and libCacheSim read:
//! - **oracleGeneral**: 24 bytes little-endian, `u32` seconds, `u64` id,
//!   `u32` stored size (saturated at 4 GiB − 1), `i64` next access = -1 (not
//!   known online; libCacheSim reads -1 as "no reuse", `tiered simulate`
//!   recomputes it). Deletes are not written.
//! - **CSV**: `timestamp,key,size,op` with the timestamp in seconds to the
//!   millisecond, the key as the id in 16 hex digits (the key
//!   `tiered simulate` gives an oracleGeneral id, so both forms of a capture
//!   replay alike), `op` one of `get`, `set`, `delete`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::sim::Op;
use crate::sim::trace::ORACLE_RECORD;

/// How long the writer sleeps once it has emptied the channel. It polls
/// rather than blocks: a blocked receiver would make the request path wake
/// it (a futex call) on nearly every request; polling leaves `try_send` an
/// uncontended slot write. At the default queue of 65536 a 10 ms sleep
/// keeps up with 6.5 million requests per second.
const TICK: Duration = Duration::from_millis(10);
/// The CSV header line (`tiered simulate` skips it).
const CSV_HEADER: &[u8] = b"timestamp,key,size,op\n";

/// The file format of a capture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TraceFormat {
    /// libCacheSim's `oracleGeneral` binary records (the default).
    #[default]
    #[serde(rename = "oracle-general")]
    OracleGeneral,
    /// `tiered simulate --format csv`'s text, writes and deletes marked.
    #[serde(rename = "csv")]
    Csv,
}

impl TraceFormat {
    /// The file name extension.
    fn extension(self) -> &'static str {
        match self {
            TraceFormat::OracleGeneral => "oracleGeneral",
            TraceFormat::Csv => "csv",
        }
    }

    /// Whether requests of `op` are written in this format.
    pub fn writes(self, op: Op) -> bool {
        self == TraceFormat::Csv || op != Op::Delete
    }

    /// Appends `record` encoded to `out`.
    fn encode(self, record: &Record, out: &mut Vec<u8>) {
        match self {
            TraceFormat::OracleGeneral => {
                let seconds = u32::try_from(record.time_ms / 1000).unwrap_or(u32::MAX);
                let size = u32::try_from(record.size).unwrap_or(u32::MAX);
                out.extend_from_slice(&seconds.to_le_bytes());
                out.extend_from_slice(&record.id.to_le_bytes());
                out.extend_from_slice(&size.to_le_bytes());
                out.extend_from_slice(&(-1i64).to_le_bytes());
                debug_assert_eq!(out.len() % ORACLE_RECORD, 0);
            }
            TraceFormat::Csv => {
                let op = match record.op {
                    Op::Get => "get",
                    Op::Set => "set",
                    Op::Delete => "delete",
                };
                let line = format!(
                    "{}.{:03},{:016x},{},{op}\n",
                    record.time_ms / 1000,
                    record.time_ms % 1000,
                    record.id,
                    record.size
                );
                out.extend_from_slice(line.as_bytes());
            }
        }
    }
}

/// One request as the writer receives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// Milliseconds since the capture started.
    pub time_ms: u64,
    /// The key's [`key_id`](super::key_id).
    pub id: u64,
    /// Stored bytes.
    pub size: u64,
    pub op: Op,
}

/// What the request path sends the writer.
#[derive(Debug)]
pub enum Msg {
    Request(Record),
    /// End the capture for this reason, after the requests queued before.
    Stop(End),
}

/// Why a capture ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// `POST /v1/trace/stop`.
    Stopped,
    /// Its `duration_secs` passed.
    Duration,
    /// Its `max_requests` were taken.
    MaxRequests,
    /// The service shut down.
    Shutdown,
    /// A trace file could not be written (a full disk...): capture stopped,
    /// serving went on.
    Failed(String),
}

impl End {
    /// The word `GET /v1/trace` reports.
    pub fn reason(&self) -> &'static str {
        match self {
            End::Stopped => "stopped",
            End::Duration => "duration",
            End::MaxRequests => "max_requests",
            End::Shutdown => "shutdown",
            End::Failed(_) => "failed",
        }
    }
}

/// A capture's progress, shared by the writer, the request path and status.
#[derive(Debug, Default)]
pub struct Progress {
    /// Requests taken for the trace (written, queued or dropped); what
    /// `max_requests` caps.
    pub taken: AtomicU64,
    /// Records written.
    pub written: AtomicU64,
    /// Requests dropped because the queue was full.
    pub dropped: AtomicU64,
    /// Bytes written, over every file.
    pub bytes: AtomicU64,
    /// The files, oldest first; the last one is being written.
    pub files: Mutex<Vec<PathBuf>>,
    /// Set once, when the writer has finished (files flushed and closed).
    pub end: Mutex<Option<End>>,
}

/// When a capture ends by itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits {
    pub duration: Option<Duration>,
    pub max_requests: Option<u64>,
}

/// How a trace file is created: `File::create_new` in service, a failing
/// file in tests.
pub type Opener = fn(&Path) -> io::Result<File>;

/// The rotating files of one capture.
#[derive(Debug)]
pub struct Files {
    dir: PathBuf,
    /// `trace-<UTC start>`: what every part's name starts with.
    stem: String,
    format: TraceFormat,
    rotate_bytes: u64,
    open: Opener,
    part: u32,
    current: Option<BufWriter<File>>,
    /// Bytes in the current file, and records among them.
    current_bytes: u64,
    current_records: u64,
    /// Unflushed writes since the last flush.
    dirty: bool,
    scratch: Vec<u8>,
}

impl Files {
    /// Creates `dir` and the first file, named from `started` (UTC).
    pub fn create(
        dir: &Path,
        started: time::OffsetDateTime,
        format: TraceFormat,
        rotate_bytes: u64,
        open: Opener,
        progress: &Progress,
    ) -> io::Result<Files> {
        std::fs::create_dir_all(dir)?;
        let stem = format!(
            "trace-{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z",
            started.year(),
            u8::from(started.month()),
            started.day(),
            started.hour(),
            started.minute(),
            started.second(),
            started.millisecond()
        );
        let mut files = Files {
            dir: dir.to_path_buf(),
            stem,
            format,
            rotate_bytes,
            open,
            part: 0,
            current: None,
            current_bytes: 0,
            current_records: 0,
            dirty: false,
            scratch: Vec::with_capacity(64),
        };
        files.next_file(progress)?;
        Ok(files)
    }

    /// Closes the current file (if any) and opens the next part.
    fn next_file(&mut self, progress: &Progress) -> io::Result<()> {
        if let Some(mut file) = self.current.take() {
            file.flush()?;
            self.part += 1;
        }
        let path = self.dir.join(format!("{}-{:04}.{}", self.stem, self.part, self.format.extension()));
        let mut file = BufWriter::with_capacity(256 << 10, (self.open)(&path)?);
        self.current_bytes = 0;
        self.current_records = 0;
        if self.format == TraceFormat::Csv {
            file.write_all(CSV_HEADER)?;
            self.current_bytes = CSV_HEADER.len() as u64;
            progress.bytes.fetch_add(self.current_bytes, Ordering::Relaxed);
        }
        self.current = Some(file);
        self.dirty = true;
        tracing::debug!(file = %path.display(), "trace file opened");
        progress.files.lock().push(path);
        Ok(())
    }

    /// Writes one record, opening the next part first when this one would
    /// pass `rotate_bytes` (a part holds at least one record).
    fn write(&mut self, record: &Record, progress: &Progress) -> io::Result<()> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        self.format.encode(record, &mut scratch);
        let len = scratch.len() as u64;
        if self.current_records > 0 && self.current_bytes + len > self.rotate_bytes {
            self.next_file(progress)?;
        }
        let file = self.current.as_mut().ok_or_else(|| io::Error::other("the trace file is closed"))?;
        let written = file.write_all(&scratch);
        self.scratch = scratch;
        written?;
        self.current_bytes += len;
        self.current_records += 1;
        self.dirty = true;
        progress.bytes.fetch_add(len, Ordering::Relaxed);
        Ok(())
    }

    /// Pushes buffered bytes to the file, if any.
    fn flush(&mut self) -> io::Result<()> {
        if self.dirty
            && let Some(file) = self.current.as_mut()
        {
            file.flush()?;
            self.dirty = false;
        }
        Ok(())
    }

    /// Flushes and closes the current file.
    fn close(&mut self) -> io::Result<()> {
        self.flush()?;
        self.current = None;
        Ok(())
    }
}

/// The writer thread's state, given to it by [`Writer::spawn`].
#[derive(Debug)]
pub struct Writer {
    pub files: Files,
    pub rx: Receiver<Msg>,
    pub progress: Arc<Progress>,
    /// The capture's switch: turned off here before the session ends, so no
    /// request is taken after it.
    pub on: Arc<AtomicBool>,
    pub limits: Limits,
    pub started: Instant,
}

impl Writer {
    /// Starts the writer thread of a capture.
    pub fn spawn(self) -> io::Result<JoinHandle<()>> {
        std::thread::Builder::new().name("trace-writer".into()).spawn(move || self.run())
    }

    fn run(mut self) {
        let end = self.write_until_end();
        self.on.store(false, Ordering::Relaxed);
        let end = match end {
            End::Failed(_) => end,
            // Requests taken before the end (queued behind the last one read) still count.
            _ => match self.drain().and_then(|()| self.files.close()) {
                Ok(()) => end,
                Err(err) => self.failed(&err),
            },
        };
        let written = self.progress.written.load(Ordering::Relaxed);
        let dropped = self.progress.dropped.load(Ordering::Relaxed);
        let bytes = self.progress.bytes.load(Ordering::Relaxed);
        tracing::info!(reason = end.reason(), written, dropped, bytes, "trace capture ended");
        *self.progress.end.lock() = Some(end);
    }

    /// Writes requests until a stop, a limit or a write error.
    fn write_until_end(&mut self) -> End {
        let deadline = self.limits.duration.map(|d| self.started + d);
        loop {
            if let Some(max) = self.limits.max_requests {
                let done =
                    self.progress.written.load(Ordering::Relaxed) + self.progress.dropped.load(Ordering::Relaxed);
                if done >= max {
                    return End::MaxRequests;
                }
            }
            let wait = match deadline {
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left.min(TICK),
                    _ => return End::Duration,
                },
                None => TICK,
            };
            let result = match self.rx.try_recv() {
                Ok(Msg::Request(record)) => self.write(&record),
                Ok(Msg::Stop(end)) => return end,
                // Idle: what is buffered reaches the file, then a nap.
                Err(TryRecvError::Empty) => self.files.flush().map(|()| std::thread::sleep(wait)),
                Err(TryRecvError::Disconnected) => return End::Stopped,
            };
            if let Err(err) = result {
                return self.failed(&err);
            }
        }
    }

    fn write(&mut self, record: &Record) -> io::Result<()> {
        self.files.write(record, &self.progress)?;
        self.progress.written.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Writes what is already queued.
    fn drain(&mut self) -> io::Result<()> {
        while let Ok(msg) = self.rx.try_recv() {
            if let Msg::Request(record) = msg {
                self.write(&record)?;
            }
        }
        Ok(())
    }

    /// A write error: capture off (already), files abandoned, logged.
    fn failed(&mut self, err: &io::Error) -> End {
        self.on.store(false, Ordering::Relaxed);
        let file = self.progress.files.lock().last().map(|p| p.display().to_string()).unwrap_or_default();
        tracing::warn!(%file, %err, "cannot write the trace; capture stopped, serving goes on");
        // Dropping the buffer may try to flush again; its error is the same one.
        self.files.current = None;
        End::Failed(format!("cannot write {file}: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(time_ms: u64, id: u64, size: u64, op: Op) -> Record {
        Record { time_ms, id, size, op }
    }

    #[test]
    fn oracle_records_are_what_the_simulator_reads() {
        let mut bytes = Vec::new();
        TraceFormat::OracleGeneral.encode(&record(2_500, 0xabc, 42, Op::Get), &mut bytes);
        TraceFormat::OracleGeneral.encode(&record(3_000, 7, 5, Op::Set), &mut bytes);
        assert_eq!(bytes.len(), 2 * ORACLE_RECORD);
        assert_eq!(&bytes[16..24], &(-1i64).to_le_bytes());
        let trace = crate::sim::Trace::parse_oracle(&bytes).expect("parses");
        assert_eq!(trace.keys, ["0000000000000abc", "0000000000000007"]);
        let got: Vec<(u64, u64)> = trace.requests.iter().map(|r| (r.time_ms, r.size)).collect();
        assert_eq!(got, [(2_000, 42), (3_000, 5)]);
    }

    #[test]
    fn csv_lines_are_what_the_simulator_reads() {
        let mut text = CSV_HEADER.to_vec();
        for (t, op) in [(1_234, Op::Get), (1_500, Op::Set), (2_000, Op::Delete)] {
            TraceFormat::Csv.encode(&record(t, 0xabc, 9, op), &mut text);
        }
        let trace = crate::sim::Trace::parse_csv(std::io::Cursor::new(text)).expect("parses");
        assert_eq!(trace.keys, ["0000000000000abc"]);
        let got: Vec<(u64, Op)> = trace.requests.iter().map(|r| (r.time_ms, r.op)).collect();
        assert_eq!(got, [(1_234, Op::Get), (1_500, Op::Set), (2_000, Op::Delete)]);
    }

    /// A full disk: the writer ends the capture with the error, turns the
    /// switch off and reports it.
    #[test]
    fn a_full_disk_ends_the_capture_and_says_why() {
        let dir = tempfile::tempdir().expect("tempdir");
        let progress = Arc::new(Progress::default());
        let full: Opener = |_| std::fs::OpenOptions::new().write(true).open("/dev/full");
        if !Path::new("/dev/full").exists() {
            return;
        }
        let now = time::OffsetDateTime::now_utc();
        let files = Files::create(dir.path(), now, TraceFormat::OracleGeneral, 1 << 30, full, &progress).expect("open");
        let (tx, rx) = std::sync::mpsc::sync_channel(16);
        let on = Arc::new(AtomicBool::new(true));
        let writer = Writer {
            files,
            rx,
            progress: progress.clone(),
            on: on.clone(),
            limits: Limits::default(),
            started: Instant::now(),
        }
        .spawn()
        .expect("spawn");
        tx.send(Msg::Request(record(0, 1, 1, Op::Get))).expect("queued");
        // The write is buffered; the idle flush meets the full disk.
        writer.join().expect("the writer does not panic");
        assert!(!on.load(Ordering::Relaxed), "capture is off");
        let end = progress.end.lock().clone();
        assert!(matches!(&end, Some(End::Failed(message)) if message.contains("No space")), "{end:?}");
    }
}
