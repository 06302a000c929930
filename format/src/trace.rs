//! Access traces: parsing CSV and libCacheSim's `oracleGeneral` binary format
//! into a [`Trace`] of interned keys.
//!
//! - **CSV**: `timestamp,key,size[,op]` per line; `timestamp` in seconds (a
//!   fraction is allowed), `op` one of `get` (default), `set`, `delete`. Blank
//!   lines, `#` comments and a header line starting with `timestamp` are
//!   skipped. Errors name the 1-based line.
//! - **oracleGeneral**: little-endian records of 24 bytes: `u32` timestamp
//!   (seconds), `u64` object id, `u32` size, `i64` next-access virtual time
//!   (ignored: [`Trace::next_uses`] recomputes it for every format). Every
//!   record is a get. Object ids become fixed-width keys (16 hex digits) so
//!   that every object of one size costs the same bytes in a tier. Errors name
//!   the 1-based record.
//!
//! Parse failures are [`TraceError`]s; `tiered simulate` wraps them in its
//! `SimError`.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use foldhash::fast::FixedState;

/// Why a trace could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TraceError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// A CSV line that does not parse (1-based line number).
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    /// An `oracleGeneral` record that does not parse (1-based record number).
    #[error("record {record}: {message}")]
    Record { record: u64, message: String },
    #[error("the trace holds no requests")]
    EmptyTrace,
}

/// What a request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Read; a miss in every tier is filled by writing the object (read-through).
    Get,
    /// Write (placement decided by the policy).
    Set,
    Delete,
}

/// One request of a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// Milliseconds since the trace's first timestamp origin (its zero).
    pub time_ms: u64,
    /// Index into [`Trace::keys`].
    pub key: u32,
    /// Object size in bytes.
    pub size: u64,
    pub op: Op,
}

/// A parsed trace: requests in order, keys interned once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    pub requests: Vec<Request>,
    /// Distinct keys, in order of first appearance.
    pub keys: Vec<String>,
}

/// The trace file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    Csv,
    #[cfg_attr(feature = "clap", value(name = "oracle-general"))]
    OracleGeneral,
}

/// Bytes of one `oracleGeneral` record.
pub const ORACLE_RECORD: usize = 24;

impl Trace {
    /// Reads a trace file.
    pub fn open(path: &Path, format: Format) -> Result<Trace, TraceError> {
        let io = |source| TraceError::Io { path: path.display().to_string(), source };
        match format {
            Format::Csv => Trace::parse_csv(std::io::BufReader::new(std::fs::File::open(path).map_err(io)?)),
            Format::OracleGeneral => Trace::parse_oracle(&std::fs::read(path).map_err(io)?),
        }
    }

    /// Parses CSV text (see the module documentation).
    pub fn parse_csv(reader: impl BufRead) -> Result<Trace, TraceError> {
        let mut builder = Builder::default();
        for (i, line) in reader.lines().enumerate() {
            let line_no = i + 1;
            let line = line.map_err(|e| TraceError::Line { line: line_no, message: e.to_string() })?;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || (i == 0 && line.starts_with("timestamp")) {
                continue;
            }
            let request = builder.csv_line(line).map_err(|message| TraceError::Line { line: line_no, message })?;
            builder.trace.requests.push(request);
        }
        builder.finish()
    }

    /// Parses `oracleGeneral` bytes (see the module documentation).
    pub fn parse_oracle(bytes: &[u8]) -> Result<Trace, TraceError> {
        let mut builder = Builder::default();
        let mut ids: HashMap<u64, u32, FixedState> = HashMap::default();
        let records = bytes.chunks(ORACLE_RECORD);
        builder.trace.requests.reserve(bytes.len() / ORACLE_RECORD);
        for (i, record) in records.enumerate() {
            if record.len() != ORACLE_RECORD {
                return Err(TraceError::Record {
                    record: i as u64 + 1,
                    message: format!("truncated: {} of {ORACLE_RECORD} bytes", record.len()),
                });
            }
            let timestamp = u32::from_le_bytes(record[0..4].try_into().expect("4 bytes"));
            let id = u64::from_le_bytes(record[4..12].try_into().expect("8 bytes"));
            let size = u32::from_le_bytes(record[12..16].try_into().expect("4 bytes"));
            let next = ids.len() as u32;
            let key = *ids.entry(id).or_insert_with(|| {
                builder.trace.keys.push(format!("{id:016x}"));
                next
            });
            let time_ms = u64::from(timestamp) * 1000;
            builder.trace.requests.push(Request { time_ms, key, size: u64::from(size), op: Op::Get });
        }
        builder.finish()
    }

    /// For each request, the index of the next request to the same key
    /// (`u64::MAX` when there is none): what Belady's optimum looks ahead at.
    pub fn next_uses(&self) -> Vec<u64> {
        let mut next = vec![u64::MAX; self.requests.len()];
        let mut seen = vec![u64::MAX; self.keys.len()];
        for (i, r) in self.requests.iter().enumerate().rev() {
            next[i] = seen[r.key as usize];
            seen[r.key as usize] = i as u64;
        }
        next
    }

    /// The first size each key was seen with.
    pub fn first_sizes(&self) -> Vec<u64> {
        let mut sizes = vec![None; self.keys.len()];
        for r in &self.requests {
            sizes[r.key as usize].get_or_insert(r.size);
        }
        sizes.into_iter().map(|s| s.unwrap_or(0)).collect()
    }
}

/// Interns keys while requests are parsed.
#[derive(Default)]
struct Builder {
    trace: Trace,
    index: HashMap<String, u32, FixedState>,
}

impl Builder {
    fn csv_line(&mut self, line: &str) -> Result<Request, String> {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if !(3..=4).contains(&fields.len()) {
            return Err(format!("expected `timestamp,key,size[,op]`, found {} fields", fields.len()));
        }
        let seconds: f64 = fields[0].parse().map_err(|_| format!("timestamp {:?} is not a number", fields[0]))?;
        if !seconds.is_finite() || seconds < 0.0 {
            return Err(format!("timestamp {:?} must be a non-negative number of seconds", fields[0]));
        }
        crate::key::validate(fields[1]).map_err(|e| format!("key {:?}: {e}", fields[1]))?;
        let size = fields[2].parse().map_err(|_| format!("size {:?} is not a whole number of bytes", fields[2]))?;
        let op = match fields.get(3).map(|s| s.to_ascii_lowercase()) {
            None => Op::Get,
            Some(op) => match op.as_str() {
                "get" | "" => Op::Get,
                "set" => Op::Set,
                "delete" => Op::Delete,
                _ => return Err(format!("op {:?} is not one of get, set, delete", fields[3])),
            },
        };
        let key = match self.index.get(fields[1]) {
            Some(&k) => k,
            None => {
                let k = self.trace.keys.len() as u32;
                self.trace.keys.push(fields[1].to_string());
                self.index.insert(fields[1].to_string(), k);
                k
            }
        };
        Ok(Request { time_ms: (seconds * 1000.0).round() as u64, key, size, op })
    }

    fn finish(self) -> Result<Trace, TraceError> {
        if self.trace.requests.is_empty() {
            return Err(TraceError::EmptyTrace);
        }
        Ok(self.trace)
    }
}
