//! `[trace]`: where `POST /v1/trace/start` writes access traces, and how
//! (see [`crate::trace`]). Not to be confused with `[tracing]`, the
//! OpenTelemetry spans of the service's own work.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ByteSize, ConfigError};

/// Access-trace capture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TraceConfig {
    /// Directory of the trace files; default `<data_dir>/traces`.
    pub dir: Option<PathBuf>,
    /// A trace file is closed and the next one opened before it would pass
    /// this size (each file holds whole records, at least one).
    pub rotate_bytes: ByteSize,
    /// Requests held between the request path and the writer; a request
    /// arriving when it is full is dropped and counted, never waited for.
    /// Memory: about 40 bytes per slot.
    pub queue: usize,
}

impl Default for TraceConfig {
    fn default() -> Self {
        TraceConfig { dir: None, rotate_bytes: ByteSize(1 << 30), queue: 65_536 }
    }
}

impl TraceConfig {
    /// The checks `Config::validate` makes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &'static str, message: &str| ConfigError::Invalid { key, message: message.into() };
        if self.rotate_bytes.0 == 0 {
            return Err(invalid("trace.rotate_bytes", "must be at least 1 byte (a file holds at least one record)"));
        }
        if self.queue == 0 {
            return Err(invalid("trace.queue", "must hold at least one request"));
        }
        Ok(())
    }
}
