//! What every handler shares: the store, the means to load a replacement
//! policy, the admin token, the body limits, the metrics exporter, the
//! access-trace capture and the shadow policy; and [`AppState::saw_get`] and
//! its siblings, through which the object routes (`/v1` and the S3
//! endpoint) tell the last two about each request they served.

use std::sync::Arc;

use crate::sim::Op;
use tiered::engine::TieredStore;
use tiered::object::ObjectMeta;
use tiered::policy::{Capacities, TierId};
use tiered::range::ByteRange;
use tiered_wasm::{PolicyEngine, PolicyLimits, PolicyLoadError, WasmPolicy};

/// The state behind the router (shared as `Arc<AppState>`).
#[derive(Debug)]
pub struct AppState {
    pub store: TieredStore,
    /// Loads `PUT /v1/policy` bodies exactly as start-up loaded the first one.
    pub policies: PolicyLoader,
    /// Required as `Authorization: Bearer <token>` on admin routes when set.
    pub admin_token: Option<String>,
    /// Largest buffered request body, in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Objects larger than this are spooled on PUT and streamed on GET.
    pub stream_above_bytes: u64,
    /// Largest object a PUT may store (413 beyond).
    pub max_object_bytes: u64,
    /// Where large PUT bodies are spooled.
    pub spool_dir: std::path::PathBuf,
    /// Longest pause allowed while a request body arrives (408 beyond).
    pub body_idle_timeout: std::time::Duration,
    /// The process's Prometheus recorder, for `/metrics`.
    pub metrics: &'static super::metrics::Exporter,
    /// Access-trace capture (`/v1/trace`), fed by the object routes.
    pub trace: crate::trace::Capture,
    /// The shadow policy (`/v1/policy/shadow`), fed by the object routes.
    pub shadows: crate::shadow::Shadows,
    /// Loads shadow policies: as [`AppState::policies`], on an engine of
    /// their own (their memory is not the live policy's).
    pub shadow_policies: PolicyLoader,
}

/// Everything needed to load a policy component the way the service does.
#[derive(Clone, Debug)]
pub struct PolicyLoader {
    pub engine: PolicyEngine,
    /// The `[policy_config]` pairs every policy is configured with.
    pub config: Vec<(String, String)>,
    pub capacities: Capacities,
    pub limits: PolicyLimits,
}

impl PolicyLoader {
    /// Compile (through the engine's cache), instantiate and configure `wasm`.
    /// Blocking: compiling a component takes up to seconds.
    pub fn load(&self, wasm: &[u8]) -> Result<WasmPolicy, PolicyLoadError> {
        WasmPolicy::load(&self.engine, wasm, &self.config, self.capacities, self.limits)
    }
}

impl AppState {
    /// A read (of `range` when one was asked) that `source` served.
    pub fn saw_get(&self, meta: &Arc<ObjectMeta>, source: TierId, range: Option<ByteRange>) {
        self.trace.record(&meta.key, meta.size, Op::Get);
        self.shadows.saw_get(meta, source, range);
    }

    /// A write, as stored.
    pub fn saw_set(&self, meta: &Arc<ObjectMeta>) {
        self.trace.record(&meta.key, meta.size, Op::Set);
        self.shadows.saw_set(meta);
    }

    pub fn saw_delete(&self, key: &str) {
        self.trace.record(key, 0, Op::Delete);
        self.shadows.saw_delete(key);
    }

    /// Whether `header` (the `Authorization` value) grants admin access.
    pub fn admits(&self, header: Option<&str>) -> bool {
        let Some(token) = &self.admin_token else { return true };
        let given = header.and_then(|h| h.strip_prefix("Bearer ")).map(str::trim);
        given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes()))
    }
}

/// Compares without an early exit on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }
}
